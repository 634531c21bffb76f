"""What a batch job leaves on disk: its folder's layout, resume keys, job identity, lock and summary.

This module owns everything a job's output folder holds and every read or write of it that is not a
worker writing a partition: the :class:`BatchSummary` and its ``_summary.json``, each file's resume key
(:func:`file_key`) and the keys of the rows already written (:func:`done_rows`), the check that a folder
holds this job's results and no other's (:func:`check_job`), the folder lock (:func:`folder_lock`), and
reading the results back (:func:`read_results`, :func:`read_summary`). An output directory holds one
job's results::

    _job.json                what the rows are (predictions of model M / features of config C)
    part-<run>-<i>.parquet   one file per partition of ``batch_size`` files, one row per file
    _summary.json            the last run: counts, failures, wall time, files/s (also after SIGTERM / Ctrl-C)
    .lock                    held (``flock``) by the run writing here: a second run into the folder is refused

Side files start with ``_`` or ``.``, which Parquet readers skip, so the folder is one Parquet dataset:
``pandas.read_parquet(output_dir)`` reads every row (:func:`read_results` keeps the newest row of each
file). Folders written by emovox before this layout (``job.json``, ``summary.json``) are still resumed:
their side files are renamed on the next run.

Every row stores its file's resume key (size and mtime), so a re-run computes only the files that have
no row with the same path and key: partitions lost to an interruption, and files added or changed since.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EmovoxError

if TYPE_CHECKING:
    import pandas as pd
from .worker import PART_PREFIX, TMP_PREFIX

__all__ = [
    "BatchSummary",
    "check_job",
    "done_rows",
    "file_key",
    "folder_lock",
    "read_results",
    "read_summary",
    "write_summary",
]

PathLike = str | os.PathLike
DEFAULT_BATCH_SIZE = 64
MAX_LISTED_FAILURES = 1000
JOB_FILE, SUMMARY_FILE = "_job.json", "_summary.json"
#: Where an adapted prediction job keeps its first step's rows, the embeddings, inside its folder.
EMBED_DIR = "_embeddings"
OLD_JOB_FILE, OLD_SUMMARY_FILE = "job.json", "summary.json"  # older folders: not skipped by Parquet readers


@dataclass
class BatchSummary:
    """What one run of a batch job did (also written to ``output_dir/_summary.json``).

    Attributes
    ----------
    kind, engine : str
        ``"predict"`` or ``"features"``; ``"local"`` or ``"dask"``.
    output_dir : str
        The job's folder.
    n_inputs : int
        Distinct input files.
    n_skipped : int
        Inputs that already had a row with the same key (not recomputed).
    n_computed : int
        Rows written by this run (``n_ok`` + failed rows).
    n_ok, n_failed : int
        Files of this run that succeeded / failed (failed: an error row, or a partition whose task died).
    n_lost : int
        Files of partitions whose task failed as a whole (no rows written; a re-run retries them).
    n_partitions : int
        Partitions written by this run.
    n_failed_before : int
        Inputs not recomputed because an earlier run left an error row for them (``retry_failed=True``
        recomputes them); the CLI exits 1 when this is not 0.
    failures : list of (path, error)
        This run's failed files (at most 1,000 listed).
    skipped_entries : list of str
        Entries found in the input folders that are not regular files (FIFOs, sockets, devices, broken links,
        link loops), one ``"<path>: <why>"`` line each; they get no row.
    wall_s, startup_s, compute_s : float
        Whole run; the rest (planning, engine start with every worker loading the model, engine stop);
        submitting the partitions to the last result.
    files_per_s : float
        ``n_computed / compute_s``.
    workers, threads_per_worker : int
        Workers (processes) the engine had, and the threads each ran.
    address : str or None
        The scheduler of an external cluster; None for one started on this machine.
    batch_size : int
        Files per partition.
    status : str
        ``"complete"``, ``"interrupted"`` (Ctrl-C), ``"terminated"`` (SIGTERM) or ``"failed"``.
    started : str
        When the run started, UTC (``20261207T211500123456``: also its partitions' name).
    adapt : str or None
        ``"speaker"`` / ``"channel"``: the files were scored together, adapted (:func:`emovox.batch.predict`
        with ``same_speaker`` / ``same_channel``). ``n_computed`` / ``n_skipped`` are then the first step's
        (files embedded now / before), ``n_ok`` / ``n_failed`` / ``failures`` of every row this run wrote.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> s = batch.features(["a.wav", "missing.wav"], "tutorial", engine="local", output_dir="summary-demo")
    >>> s.n_inputs, s.n_ok, s.n_failed, s.status
    (2, 1, 1, 'complete')
    >>> print(s)
    features: 2 files computed (1 failed), 0 already done, ... s (... files/s on 1 workers) -> .../summary-demo
    """

    kind: str
    engine: str
    output_dir: str
    n_inputs: int = 0
    n_skipped: int = 0
    n_computed: int = 0
    n_ok: int = 0
    n_failed: int = 0
    n_lost: int = 0
    n_partitions: int = 0
    n_failed_before: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped_entries: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    startup_s: float = 0.0
    compute_s: float = 0.0
    files_per_s: float = 0.0
    workers: int = 1
    threads_per_worker: int = 1
    address: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    status: str = "complete"
    started: str = ""
    adapt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The summary as ``--json`` prints it and ``_summary.json`` holds it (failures as
        ``{path, error}``).

        Returns
        -------
        dict
            Every field by name; JSON-safe.

        Examples
        --------
        >>> s = BatchSummary("predict", "local", "out", n_failed=1, failures=[("a.wav", "a.wav: no such file")])
        >>> d = s.to_dict()
        >>> d["n_failed"], d["failures"]
        (1, [{'path': 'a.wav', 'error': 'a.wav: no such file'}])
        """
        d = asdict(self)
        d["failures"] = [{"path": p, "error": e} for p, e in self.failures]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BatchSummary:
        """The summary :meth:`to_dict` wrote (keys this emovox does not know are left out).

        Parameters
        ----------
        d : dict
            A :meth:`to_dict` (as read back from ``_summary.json``).

        Returns
        -------
        BatchSummary

        Examples
        --------
        >>> d = {"kind": "predict", "engine": "local", "output_dir": "out", "new": 1,
        ...      "failures": [{"path": "a.wav", "error": "a.wav: no such file"}]}
        >>> BatchSummary.from_dict(d).failures
        [('a.wav', 'a.wav: no such file')]
        """
        known = {f.name for f in fields(cls)}
        out = cls(**{k: v for k, v in d.items() if k in known and k != "failures"})
        out.failures = [(f["path"], f["error"]) for f in d.get("failures", [])]
        return out

    def __str__(self) -> str:
        before = f" ({self.n_failed_before} with error rows)" if self.n_failed_before else ""
        status = "" if self.status == "complete" else f" [{self.status}]"
        return (
            f"{self.kind}: {self.n_computed} files computed ({self.n_failed} failed), {self.n_skipped} already "
            f"done{before}, {self.wall_s:.1f} s ({self.files_per_s:.1f} files/s on {self.workers} workers) "
            f"-> {self.output_dir}{status}"
        )


# -- keys, job identity, existing results ------------------------------------------------------------


def file_key(path: PathLike) -> str:
    """Resume key of a file: ``"<size>:<mtime_ns>"``, or ``"missing"`` when it cannot be stat-ed.

    Parameters
    ----------
    path : str or path
        The input file.

    Returns
    -------
    str

    Examples
    --------
    >>> file_key("/nonexistent.wav")
    'missing'
    """
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def _part_files(out: Path) -> list[Path]:
    return sorted(p for p in out.glob(f"{PART_PREFIX}*.parquet") if p.is_file())


def check_job(out: Path, identity: dict[str, Any], overwrite: bool) -> None:
    """Refuse to mix results of different models / feature configurations in one folder.

    The folder's ``_job.json`` must equal ``identity``; a folder without one gets it written (a folder
    of an older emovox has its ``job.json`` and ``summary.json`` renamed).

    Parameters
    ----------
    out : pathlib.Path
        The job's output folder (existing).
    identity : dict
        What the job computes (model, features, options), as JSON.
    overwrite : bool
        Delete the folder's earlier results (partitions, embeddings, job and summary files) first.

    Raises
    ------
    EmovoxError
        When the folder holds another job's results, or Parquet partitions without a job file.
    """
    job, old_job = out / JOB_FILE, out / OLD_JOB_FILE
    if overwrite:
        shutil.rmtree(out / EMBED_DIR, ignore_errors=True)  # an adapted job's embeddings
        for p in [
            *_part_files(out),
            *out.glob(f"{TMP_PREFIX}*"),
            job,
            out / SUMMARY_FILE,
            old_job,
            out / OLD_SUMMARY_FILE,
        ]:
            p.unlink(missing_ok=True)
    if not job.is_file() and old_job.is_file():
        job = old_job  # a folder of an older emovox: renamed below once it is known to be this job's
    if job.is_file():
        try:
            old = json.loads(job.read_text())
        except ValueError:
            old = None
        if old != identity:
            raise EmovoxError(
                f"{out}: holds the results of another job ({_describe(old)}{_differences(old, identity)}); "
                "use another --output-dir, or --overwrite (overwrite=True in Python) to replace them"
            )
        if job == old_job:  # the side files get the names Parquet readers skip
            os.replace(old_job, out / JOB_FILE)
            if (out / OLD_SUMMARY_FILE).is_file():
                os.replace(out / OLD_SUMMARY_FILE, out / SUMMARY_FILE)
    elif _part_files(out):
        raise EmovoxError(f"{out}: holds Parquet partitions but no {JOB_FILE}; use another --output-dir")
    else:
        _write_json(out / JOB_FILE, identity)


def _describe(identity: dict | None) -> str:
    if not isinstance(identity, dict):
        return f"unreadable {JOB_FILE}"
    if identity.get("kind") == "predict":
        return f"predictions of {identity.get('model')}"
    return f"{identity.get('kind')} {identity.get('name', '')}".strip()


def _differences(old: dict | None, new: dict) -> str:
    """What sets this job apart from the folder's (``--emotions``, a feature option...), for the refusal."""
    if not isinstance(old, dict):
        return ""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "; this one differs in " + ", ".join(
        f"{k} ({old.get(k)!r} there, {new.get(k)!r} now)" for k in keys[:3]
    )


def _write_json(target: Path, obj: Any) -> None:
    tmp = target.with_name(f"{TMP_PREFIX}{target.name}")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, target)


def partition_counts(part: Path) -> dict[str, Any] | None:
    """``{"n", "n_ok", "failures": [(path, error)]}`` of one written partition file (None when it is not
    there, or unreadable: its files are recomputed on resume).

    Parameters
    ----------
    part : pathlib.Path
        A partition's Parquet file.

    Returns
    -------
    dict or None
    """
    import pyarrow.parquet as pq

    try:
        t = pq.read_table(part, columns=["path", "error"]).to_pydict()
    except Exception:  # noqa: BLE001
        return None
    failures = [(p, e) for p, e in zip(t["path"], t["error"], strict=True) if e is not None]
    return {"n": len(t["path"]), "n_ok": len(t["path"]) - len(failures), "failures": failures}


def part_paths(part: Path) -> set[str] | None:
    """The paths of one written partition's rows (None when it cannot be read).

    Parameters
    ----------
    part : pathlib.Path
        A partition's Parquet file.

    Returns
    -------
    set of str or None
        Paths as stored (:func:`~emovox.paths.stored_path`).
    """
    import pyarrow.parquet as pq

    try:
        return set(pq.read_table(part, columns=["path"]).column("path").to_pylist())
    except Exception:  # noqa: BLE001
        return None


def done_rows(out: Path) -> dict[tuple[str, str], bool]:
    """(path, key) of each file's newest row -> whether it succeeded (paths as stored:
    :func:`~emovox.paths.stored_path`). Only the newest: a file put back to an earlier version (the same
    key as an older row) is computed again, as :func:`read_results` would give the newest row.

    Parameters
    ----------
    out : pathlib.Path
        The job's output folder; an unreadable partition is skipped with a warning.

    Returns
    -------
    dict of (str, str) to bool
    """
    import pyarrow.parquet as pq

    newest: dict[str, tuple[str, bool]] = {}
    for part in _part_files(out):  # oldest run first: the newest row of a file wins
        try:
            t = pq.read_table(part, columns=["path", "key", "error"]).to_pydict()
        except Exception:  # noqa: BLE001 - an unreadable partition is recomputed, not fatal
            logging.getLogger(__name__).warning("%s: unreadable partition, its files are recomputed", part)
            continue
        for p, k, e in zip(t["path"], t["key"], t["error"], strict=True):
            newest[p] = (k, e is None)
    return {(p, k): ok for p, (k, ok) in newest.items()}


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` (``flock``, released by the kernel if this process dies) while a run writes here.

    The file holds ``pid@host`` of the holder, for the message a second run gets; finding another pid in
    a lock that is free means that run died: it is taken over, with a warning.

    Parameters
    ----------
    out : pathlib.Path
        The output folder (existing). Without ``flock`` (Windows) nothing is locked.

    Raises
    ------
    EmovoxError
        When the lock file cannot be written, or another run holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock
        yield
        return
    path = out / ".lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EmovoxError(f"{out}: cannot write into the output folder ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise EmovoxError(
                f"{out}: another emovox run is writing into this folder ({holder}); wait for it "
                "to finish or use another --output-dir"
            ) from None
        me = f"pid {os.getpid()} on {socket.gethostname()}"
        old = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if old and old != me:
            logging.getLogger(__name__).warning(
                "%s: taking over the lock of %s, which is no longer running", out, old
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{me}, since {datetime.now(UTC).isoformat(timespec='seconds')}\n".encode()[:200], 0)
        try:
            yield
        finally:
            os.ftruncate(
                fd, 0
            )  # an empty lock file: nobody holds it (it stays, so that flock stays race-free)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def write_summary(out: Path, summary: BatchSummary) -> None:
    """Write ``out/_summary.json`` (at most ``MAX_LISTED_FAILURES`` failures listed; ``summary`` keeps all).

    Parameters
    ----------
    out : pathlib.Path
        The job's output folder.
    summary : BatchSummary
        The run's summary (left as it was).
    """
    listed = summary.failures[:MAX_LISTED_FAILURES]
    full, summary.failures = summary.failures, listed
    _write_json(out / SUMMARY_FILE, summary.to_dict())
    summary.failures = full


def feature_results(output_dir: PathLike, manifest: pd.DataFrame) -> pd.DataFrame:
    """A features job's rows as the local path's feature table (:func:`emovox.tables.feature_frame`): one
    row per ``manifest`` row that has features, in its order, with its metadata columns; the rows that
    failed (an ``error``) or that the job has none for are left out (the caller counts them).

    Parameters
    ----------
    output_dir : path
        The job's folder (:func:`emovox.batch.features`'s ``output_dir``).
    manifest : pandas.DataFrame
        The rows the job was given (``path`` and any labels).

    Returns
    -------
    pandas.DataFrame
        ``path``, the manifest's other columns, then one column per feature.

    Examples
    --------
    >>> import pandas as pd, soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music, tone
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> sf.write("b.wav", tone(seconds=1.0), 16000)
    >>> manifest = pd.DataFrame({"path": ["a.wav", "b.wav", "missing.wav"], "emotion": ["happy", "sad", "angry"]})
    >>> _ = batch.features(manifest["path"], "tutorial", engine="local", output_dir="table-demo")
    >>> table = feature_results("table-demo", manifest)  # the missing file has no features: left out
    >>> table.shape, list(table.columns[:3])
    ((2, 182), ['path', 'emotion', 'mfcc_0_mean'])
    """
    import os

    from ..paths import stored_path
    from ..tables import feature_frame

    df = read_results(output_dir)
    df = df[df["error"].isna()].set_index("path")
    names = manifest["path"].astype(str).to_numpy()
    wanted = [stored_path(os.path.abspath(p)) for p in names]  # as the job's rows name them
    keep = [p in df.index for p in wanted]
    rows = df.loc[[p for p, k in zip(wanted, keep, strict=True) if k]].drop(columns=["key", "error"])
    return feature_frame([stored_path(p) for p in names[keep]], rows, manifest[keep])


def read_results(
    output_dir: PathLike, columns: Sequence[str] | None = None, *, latest: bool = True
) -> pd.DataFrame:
    """The rows of a batch job as one :class:`pandas.DataFrame` (one row per file).

    Parameters
    ----------
    output_dir : path
        The job's folder.
    columns : sequence of str, optional
        Read only these columns (``path`` is always read).
    latest : bool
        When a file has rows from several runs (it changed, or ``retry_failed``), keep only the newest.

    Returns
    -------
    pandas.DataFrame
        ``path, key, label, confidence, speech, uncertain, reason, prob_<label>..., error`` for predictions
        (``speech`` False: no speech, ``reason`` says what was heard); ``path, key, error`` and one float32
        column per feature for features. ``error`` is null (None or NaN) where the file succeeded.

    Raises
    ------
    EmovoxError
        When ``output_dir`` is not a batch job's folder, or ``columns`` names a column the rows lack.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> _ = batch.features(["a.wav", "missing.wav"], "tutorial", engine="local", output_dir="results-demo")
    >>> df = read_results("results-demo")
    >>> df.shape, list(df.columns[:4])
    ((2, 183), ['path', 'key', 'error', 'mfcc_0_mean'])
    >>> df["error"].tolist()
    [nan, '.../missing.wav: no such file']
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(output_dir)
    if not out.is_dir():
        raise EmovoxError(f"{out}: no such results folder")
    cols = None if columns is None else list(dict.fromkeys(["path", *columns]))
    parts = _part_files(out)  # names sort by run, then partition: newest last
    if not parts:
        if not (out / JOB_FILE).is_file() and not (out / OLD_JOB_FILE).is_file():
            raise EmovoxError(f"{out}: not the folder of a batch job (it has no {JOB_FILE})")
        return pd.DataFrame(columns=cols or ["path", "key", "error"])
    try:
        table = pa.concat_tables([pq.read_table(p, columns=cols) for p in parts], promote_options="default")
    except (KeyError, pa.ArrowInvalid):
        if cols is None:
            raise
        have = pq.read_schema(parts[-1]).names
        unknown = [c for c in cols if c not in have]
        raise EmovoxError(
            f"{out}: no column {', '.join(unknown)} in these results; they have {', '.join(have)}"
        ) from None
    df = table.to_pandas()
    if latest:
        df = df.drop_duplicates("path", keep="last")
    return df.reset_index(drop=True)


def read_summary(output_dir: PathLike) -> dict[str, Any]:
    """The ``_summary.json`` of a job's last run (``summary.json`` in a folder of an older emovox).

    Parameters
    ----------
    output_dir : str or path
        The job's output folder.

    Returns
    -------
    dict
        As :meth:`BatchSummary.to_dict` wrote it (:meth:`BatchSummary.from_dict` reads it back).

    Raises
    ------
    FileNotFoundError
        When the folder holds no summary.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> _ = batch.features(["a.wav"], "tutorial", engine="local", output_dir="read-summary-demo")
    >>> d = read_summary("read-summary-demo")
    >>> d["kind"], d["n_ok"], d["status"]
    ('features', 1, 'complete')
    """
    out = Path(output_dir)
    path = out / SUMMARY_FILE
    if not path.is_file() and (out / OLD_SUMMARY_FILE).is_file():
        path = out / OLD_SUMMARY_FILE
    return json.loads(path.read_text())
