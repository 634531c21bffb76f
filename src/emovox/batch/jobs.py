"""Batch jobs: plan partitions, skip what is done, run them on an engine, summarise.

An output directory holds one job's results::

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
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import EmovoxError
from ..inputs import expand_inputs
from ..paths import display_path
from .worker import PART_PREFIX, TMP_PREFIX, run_partition, warm

__all__ = ["BatchSummary", "dask_client", "features", "file_key", "predict", "read_results", "read_summary"]

PathLike = str | os.PathLike
ENGINES = ("local", "dask")
DEFAULT_BATCH_SIZE = 64
MAX_LISTED_FAILURES = 1000
JOB_FILE, SUMMARY_FILE = "_job.json", "_summary.json"
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
    workers : int
        Workers (processes) the engine had, ``threads_per_worker`` each.
    status : str
        ``"complete"``, ``"interrupted"`` (Ctrl-C), ``"terminated"`` (SIGTERM) or ``"failed"``.
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failures"] = [{"path": p, "error": e} for p, e in self.failures]
        return d

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


def _unique_abs(paths: Iterable[PathLike]) -> list[str]:
    seen: dict[str, None] = {}
    for p in paths:
        seen.setdefault(os.path.abspath(os.fspath(p)), None)
    return list(seen)


def _part_files(out: Path) -> list[Path]:
    return sorted(p for p in out.glob(f"{PART_PREFIX}*.parquet") if p.is_file())


def _check_job(out: Path, identity: dict[str, Any], overwrite: bool) -> None:
    """Refuse to mix results of different models / feature configurations in one folder."""
    job, old_job = out / JOB_FILE, out / OLD_JOB_FILE
    if overwrite:
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
                f"{out}: holds the results of another job ({_describe(old)}); "
                "use another --output-dir, or overwrite=True"
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


def _write_json(target: Path, obj: Any) -> None:
    tmp = target.with_name(f"{TMP_PREFIX}{target.name}")
    tmp.write_text(json.dumps(obj, indent=2, default=str))
    os.replace(tmp, target)


def _done(out: Path) -> dict[tuple[str, str], bool]:
    """(path, key) of every row already written -> whether its newest row succeeded (paths as stored:
    :func:`~emovox.paths.display_path`)."""
    import pyarrow.parquet as pq

    done: dict[tuple[str, str], bool] = {}
    for part in _part_files(out):  # oldest run first: the newest row of a file wins
        try:
            t = pq.read_table(part, columns=["path", "key", "error"]).to_pydict()
        except Exception:  # noqa: BLE001 - an unreadable partition is recomputed, not fatal
            logging.getLogger(__name__).warning("%s: unreadable partition, its files are recomputed", part)
            continue
        for p, k, e in zip(t["path"], t["key"], t["error"], strict=True):
            done[(p, k)] = e is None
    return done


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` (``flock``, released by the kernel if this process dies) while a run writes here.

    The file holds ``pid@host`` of the holder, for the message a second run gets; finding another pid in
    a lock that is free means that run died: it is taken over, with a warning.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock
        yield
        return
    path = out / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a batch job: raised in the main thread, so that the job ends like Ctrl-C (its
    ``_summary.json`` written, the Dask cluster stopped)."""


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def read_results(output_dir: PathLike, columns: Sequence[str] | None = None, *, latest: bool = True):
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
        ``path, key, label, confidence, prob_<label>..., error`` for predictions; ``path, key, error`` and
        one float32 column per feature for features. ``error`` is None where the file succeeded.
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
        return pd.DataFrame(columns=cols or ["path", "key", "error"])
    table = pa.concat_tables([pq.read_table(p, columns=cols) for p in parts], promote_options="default")
    df = table.to_pandas()
    if latest:
        df = df.drop_duplicates("path", keep="last")
    return df.reset_index(drop=True)


def read_summary(output_dir: PathLike) -> dict[str, Any]:
    """The ``_summary.json`` of a job's last run (``summary.json`` in a folder of an older emovox)."""
    out = Path(output_dir)
    path = out / SUMMARY_FILE
    if not path.is_file() and (out / OLD_SUMMARY_FILE).is_file():
        path = out / OLD_SUMMARY_FILE
    return json.loads(path.read_text())


# -- engines -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(
    address: str | None = None, n_workers: int = 2, threads_per_worker: int = 1, **cluster_kw: Any
) -> Iterator[Any]:
    """A :class:`distributed.Client`: to the scheduler at ``address``, or to a new LocalCluster.

    Parameters
    ----------
    address : str, optional
        ``tcp://host:8786`` of a running scheduler. When None, a LocalCluster of ``n_workers`` processes
        with ``threads_per_worker`` threads each is started here and stopped on exit.
    n_workers, threads_per_worker : int
        Size of the LocalCluster (ignored with ``address``).
    **cluster_kw
        More :class:`distributed.LocalCluster` arguments.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise EmovoxError(
            f"engine 'dask' needs Dask distributed: pip install 'dask[distributed]' ({exc})"
        ) from None
    if address:
        with Client(address, timeout="30s") as client:
            yield client
        return
    kw = {"dashboard_address": None, "silence_logs": logging.ERROR, **cluster_kw}
    # Worker processes inherit the environment: their ONNX Runtime sessions then use as many threads as
    # the worker has, instead of every core each (2 workers x 2 threads on 2 cores ran slower than 1 process).
    previous = os.environ.get("EMOVOX_THREADS")
    os.environ["EMOVOX_THREADS"] = str(threads_per_worker)
    try:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, **kw
        )
    finally:
        if previous is None:
            os.environ.pop("EMOVOX_THREADS", None)
        else:
            os.environ["EMOVOX_THREADS"] = previous
    with cluster, Client(cluster) as client:
        yield client


Result = dict[str, Any] | BaseException


def _run_local(fn: Callable, calls: list[tuple]) -> Iterator[tuple[int, Result]]:
    for i, args in enumerate(calls):
        try:
            yield i, fn(*args)
        except Exception as exc:  # noqa: BLE001 - the partition fails, the job goes on
            yield i, exc


def _run_dask(client, fn: Callable, calls: list[tuple], keys: list[str]) -> Iterator[tuple[int, Result]]:
    from distributed import as_completed

    futures = [
        client.submit(fn, *args, key=k, pure=False, retries=1) for args, k in zip(calls, keys, strict=True)
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for fut in as_completed(futures):
            try:
                res: Result = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this partition only
                res = exc
            yield index[fut.key], res
            fut.release()
    finally:
        client.cancel([f for f in futures if not f.done()])


# -- the job -----------------------------------------------------------------------------------------


def _run_job(
    kind: str,
    task: dict[str, Any],
    identity: dict[str, Any],
    paths: Iterable[PathLike],
    *,
    engine: str,
    address: str | None,
    output_dir: PathLike,
    n_workers: int | None,
    threads_per_worker: int,
    batch_size: int | None,
    progress: bool,
    retry_failed: bool,
    overwrite: bool,
) -> BatchSummary:
    if engine not in ENGINES:
        raise EmovoxError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    t_start = time.perf_counter()
    n_workers = int(n_workers or os.environ.get("EMOVOX_DASK_WORKERS", 2))
    batch_size = batch_size or os.environ.get("EMOVOX_BATCH_SIZE")
    if n_workers < 1 or (batch_size is not None and int(batch_size) < 1):
        raise EmovoxError("n_workers and batch_size must be at least 1")
    out = Path(output_dir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    with _folder_lock(out), _sigterm_raises():
        return _locked_job(
            kind,
            task,
            identity,
            paths,
            engine=engine,
            address=address,
            out=out,
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            batch_size=batch_size,
            progress=progress,
            retry_failed=retry_failed,
            overwrite=overwrite,
            t_start=t_start,
        )


def _locked_job(
    kind: str,
    task: dict[str, Any],
    identity: dict[str, Any],
    paths: Iterable[PathLike],
    *,
    engine: str,
    address: str | None,
    out: Path,
    n_workers: int,
    threads_per_worker: int,
    batch_size: Any,
    progress: bool,
    retry_failed: bool,
    overwrite: bool,
    t_start: float,
) -> BatchSummary:
    _check_job(out, identity, overwrite)
    for stale in out.glob(f"{TMP_PREFIX}*"):  # partitions of an interrupted run that never completed
        stale.unlink(missing_ok=True)

    skipped_entries: list[str] = []
    items = [(p, file_key(p)) for p in _unique_abs(expand_inputs(paths, skipped_entries))]
    done = _done(out)
    rows = [(display_path(p), k) for p, k in items]  # how each input's row names it
    failed_before = sum(1 for r in rows if done.get(r) is False)
    pending = [
        it for it, r in zip(items, rows, strict=True) if r not in done or (retry_failed and done[r] is False)
    ]
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    # default: 64 files, fewer for small jobs so that every worker gets about four partitions
    batch_size = int(batch_size or min(DEFAULT_BATCH_SIZE, max(1, -(-len(pending) // (4 * n_workers)))))
    parts = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    names = [f"{PART_PREFIX}{run}-{i:06d}.parquet" for i in range(len(parts))]
    calls = [(task, part, str(out), name) for part, name in zip(parts, names, strict=True)]
    s = BatchSummary(
        kind,
        engine,
        str(out),
        n_inputs=len(items),
        n_skipped=len(items) - len(pending),
        batch_size=batch_size,
        address=address,
        started=run,
        workers=1 if engine == "local" else n_workers,
        threads_per_worker=1 if engine == "local" else threads_per_worker,
        n_failed_before=0 if retry_failed else failed_before,
        skipped_entries=skipped_entries,
    )

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(pending),
        desc=f"{kind} ({engine})",
        unit="file",
        disable=not progress or not pending,
        dynamic_ncols=True,
    )
    t_compute = t_stop = None
    try:
        with contextlib.ExitStack() as stack:
            if engine == "dask" and calls:
                client = stack.enter_context(dask_client(address, n_workers, threads_per_worker))
                nthreads = client.nthreads()
                s.workers, s.threads_per_worker = len(nthreads), max(nthreads.values(), default=0)
                try:  # every worker loads the model now, once: fails fast if it cannot see it
                    client.run(warm, task)
                except Exception as exc:
                    raise EmovoxError(
                        f"the Dask workers cannot load the {kind} task: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:300]}"
                    ) from None
                results = _run_dask(client, run_partition, calls, [f"emovox-{kind}-{n[:-8]}" for n in names])
            else:
                results = _run_local(run_partition, calls)
            t_compute = time.perf_counter()
            for i, res in results:
                part = parts[i]
                if isinstance(res, BaseException):
                    msg = f"partition failed: {type(res).__name__}: {' '.join(str(res).split())[:300]}"
                    s.n_lost += len(part)
                    s.n_failed += len(part)
                    s.failures.extend((p, f"{p}: {msg}") for p, _ in part)
                else:
                    s.n_partitions += 1
                    s.n_computed += res["n"]
                    s.n_ok += res["n_ok"]
                    s.n_failed += len(res["failures"])
                    s.failures.extend(tuple(f) for f in res["failures"])
                bar.update(len(part))
                if s.n_failed:
                    bar.set_postfix(failed=s.n_failed, refresh=False)
            t_stop = time.perf_counter()
    except KeyboardInterrupt as exc:
        s.status = "terminated" if isinstance(exc, Terminated) else "interrupted"
        raise
    except BaseException:
        s.status = "failed"
        raise
    finally:
        bar.close()
        end = time.perf_counter()
        s.wall_s = end - t_start
        if t_compute is not None:
            s.compute_s = (t_stop or end) - t_compute
            s.startup_s = max(0.0, s.wall_s - s.compute_s)
        s.files_per_s = s.n_computed / s.compute_s if s.compute_s > 0 else 0.0
        listed = s.failures[:MAX_LISTED_FAILURES]
        full, s.failures = s.failures, listed
        _write_json(out / SUMMARY_FILE, s.to_dict())
        s.failures = full
    return s


def predict(
    paths: Iterable[PathLike] | PathLike,
    model: PathLike | None = None,
    *,
    engine: str = "dask",
    address: str | None = None,
    output_dir: PathLike = "emovox-predictions",
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    batch_size: int | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    overwrite: bool = False,
) -> BatchSummary:
    """Emotion probabilities of many files, written as partitioned Parquet, resumably.

    Parameters
    ----------
    paths : path or iterable of paths
        Audio files, folders (every audio file under them) and manifest CSVs (their ``path`` column).
    model : path or str, optional
        Model directory or bundled model name (default: the bundled default). Workers load it from this
        path, so on a real cluster it must be on storage every worker sees.
    engine : {"dask", "local"}
        ``"dask"``: partitions run on a Dask cluster; ``"local"``: one by one in this process.
    address : str, optional
        Scheduler of a running cluster (``tcp://host:8786``); default: start a LocalCluster and stop it after.
    output_dir : path
        Job folder (``part-*.parquet``, ``_job.json``, ``_summary.json``: one Parquet dataset, which
        ``pandas.read_parquet`` reads whole); workers write into it directly.
    n_workers : int, optional
        LocalCluster worker processes (default 2, or ``$EMOVOX_DASK_WORKERS``).
    threads_per_worker : int
        Threads per LocalCluster worker (1: the processes are the parallelism).
    batch_size : int, optional
        Files per partition (default ``$EMOVOX_BATCH_SIZE``, else 64, or fewer for a small job so that each
        worker gets about four): the unit of work, of durability and of the progress bar.
    progress : bool
        Show a progress bar over the whole job.
    retry_failed : bool
        Recompute files whose earlier row is an error (default: an error row counts as done).
    overwrite : bool
        Delete the folder's earlier results first (also allows a folder of another model).

    Returns
    -------
    BatchSummary
        Counts, failures, timings; also saved as ``output_dir/_summary.json``. Read the rows with
        :func:`read_results`.
    """
    from ..inference import resolve_model_path
    from ..models.store import read_model_dir

    mdir = resolve_model_path(model).absolute()
    meta = read_model_dir(mdir)  # checks every graph once, here, before any worker starts
    identity = {"kind": "predict", "model": str(mdir), "labels": list(meta["labels"]), "files": meta["files"]}
    paths = [paths] if isinstance(paths, str | os.PathLike) else paths
    return _run_job(
        "predict",
        {"kind": "predict", "model": str(mdir)},
        identity,
        paths,
        engine=engine,
        address=address,
        output_dir=output_dir,
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        batch_size=batch_size,
        progress=progress,
        retry_failed=retry_failed,
        overwrite=overwrite,
    )


def features(
    paths: Iterable[PathLike] | PathLike,
    config: str | dict[str, Any] | Any = "emovox",
    *,
    engine: str = "dask",
    address: str | None = None,
    output_dir: PathLike = "emovox-features",
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    batch_size: int | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    overwrite: bool = False,
) -> BatchSummary:
    """Hand-crafted feature vectors of many files, written as partitioned Parquet, resumably.

    Parameters
    ----------
    paths : path or iterable of paths
        Audio files, folders and manifest CSVs, as for :func:`predict`.
    config : str, dict or FeatureConfig
        Feature set: ``"tutorial"``, ``"emovox"``, ``"egemaps"``, ``"compare"``, a configuration, or
        ``"whisper[:CHECKPOINT]"`` (Whisper encoder features; see :func:`emovox.extractors.from_name`).
    engine, address, output_dir, n_workers, threads_per_worker, batch_size, progress, retry_failed, overwrite
        As for :func:`predict`.

    Returns
    -------
    BatchSummary
        Rows (``path, key, error`` and one float32 column per feature, NaN where the file failed) are read
        with :func:`read_results`; the columns are the extractor's ``feature_names``.
    """
    from ..extraction import EXTRACTOR_VERSION
    from ..extractors import from_name

    ex = from_name(config)
    if not hasattr(ex, "feature_names"):
        raise EmovoxError(
            f"{type(ex).__name__} gives no feature vector with named columns; batch features take hand-crafted "
            "sets or Whisper features"
        )
    model_dir = getattr(ex, "model_dir", None)
    identity = {
        "kind": "features",
        "name": getattr(getattr(ex, "config", None), "name", None) or ex.to_dict().get("encoder_source"),
        "fingerprint": ex.fingerprint,
        "extractor_version": EXTRACTOR_VERSION,
    }
    paths = [paths] if isinstance(paths, str | os.PathLike) else paths
    return _run_job(
        "features",
        {
            "kind": "features",
            "extractor": ex.to_dict(),
            "model_dir": None if model_dir is None else str(model_dir),
        },
        identity,
        paths,
        engine=engine,
        address=address,
        output_dir=output_dir,
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        batch_size=batch_size,
        progress=progress,
        retry_failed=retry_failed,
        overwrite=overwrite,
    )
