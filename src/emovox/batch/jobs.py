"""Batch jobs: the entry points :func:`predict` and :func:`features`, and the job loop they share.

A job checks its folder (:mod:`emovox.batch.store`: identity, lock, what is done), plans partitions of
the inputs that have no row yet, runs them on an engine (:mod:`emovox.batch.engines`), counts what each
partition did, and writes the summary, also when it is interrupted (Ctrl-C, or SIGTERM, which ends the
job like Ctrl-C by raising :class:`Terminated`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmovoxError, ModelError, ParameterError
from ..inputs import expand_inputs
from ..paths import display_path, output_problem, stored_path
from .engines import check_scheduler, dask_client, run_dask, run_local
from .store import (
    DEFAULT_BATCH_SIZE,
    EMBED_DIR,
    BatchSummary,
    PathLike,
    check_job,
    done_rows,
    file_key,
    folder_lock,
    part_paths,
    partition_counts,
    read_results,
    read_summary,
    write_summary,
)
from .worker import PART_PREFIX, TMP_PREFIX, run_partition, warm

__all__ = ["BatchSummary", "dask_client", "features", "file_key", "predict", "read_results", "read_summary"]

ENGINES = ("local", "dask")


def _unique_abs(paths: Iterable[PathLike]) -> list[str]:
    seen: dict[str, None] = {}
    for p in paths:
        seen.setdefault(os.path.abspath(os.fspath(p)), None)
    return list(seen)


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


def _job_folder(output_dir: PathLike) -> Path:
    """A batch job's output folder, made (absolute); one line when it cannot be."""
    out = Path(output_dir).absolute()
    if problem := output_problem(output_dir, "folder"):
        raise EmovoxError(f"{problem} (the output folder of a batch job)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmovoxError(f"{output_dir}: cannot make the output folder ({exc.strerror or exc})") from None
    return out


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
        raise ParameterError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    t_start = time.perf_counter()
    n_workers = int(n_workers or os.environ.get("EMOVOX_DASK_WORKERS", 2))
    batch_size = batch_size or os.environ.get("EMOVOX_BATCH_SIZE")
    if n_workers < 1 or (batch_size is not None and int(batch_size) < 1):
        raise ParameterError("n_workers and batch_size must be at least 1")
    if engine == "dask" and address:  # before the folder is made: a wrong address leaves nothing behind
        check_scheduler(address)
    out = _job_folder(output_dir)
    with folder_lock(out), _sigterm_raises():
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
    check_job(out, identity, overwrite)
    for stale in out.glob(f"{TMP_PREFIX}*"):  # partitions of an interrupted run that never completed
        stale.unlink(missing_ok=True)

    skipped_entries: list[str] = []
    items = [(p, file_key(p)) for p in _unique_abs(expand_inputs(paths, skipped_entries))]
    done = done_rows(out)
    rows = [(stored_path(p), k) for p, k in items]  # how each input's row names it
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
    counted: set[int] = set()  # partitions whose result this process has taken in
    try:
        with contextlib.ExitStack() as stack:
            if engine == "dask" and calls:
                client = stack.enter_context(dask_client(address, n_workers, threads_per_worker, probe=False))
                nthreads = client.nthreads()
                s.workers, s.threads_per_worker = len(nthreads), max(nthreads.values(), default=0)
                try:  # every worker loads the model now, once: fails fast if it cannot see it
                    client.run(warm, task)
                except Exception as exc:
                    raise EmovoxError(
                        f"the Dask workers cannot load the {kind} task: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:300]}"
                    ) from None
                results = run_dask(client, run_partition, calls, [f"emovox-{kind}-{n[:-8]}" for n in names])
            else:
                results = run_local(run_partition, calls)
            t_compute = time.perf_counter()
            for i, res in results:
                part = parts[i]
                counted.add(i)
                if isinstance(res, ModelError):  # e.g. a worker that joined after the check, and a model
                    # changed since: every partition would fail alike, one line per file
                    raise EmovoxError(
                        f"a Dask worker cannot load the {kind} task: {' '.join(str(res).split())[:300]}"
                    )
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
        # partitions that workers finished and wrote while the client stopped: on disk, so in the summary
        for i, name in enumerate(names):
            if i not in counted and (row := partition_counts(out / name)) is not None:
                s.n_partitions += 1
                s.n_computed += row["n"]
                s.n_ok += row["n_ok"]
                s.n_failed += len(row["failures"])
                s.failures.extend((display_path(p), e) for p, e in row["failures"])  # as workers name them
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
        write_summary(out, s)
    return s


def predict(
    paths: Iterable[PathLike] | PathLike,
    model: PathLike | Any | None = None,
    *,
    engine: str = "dask",
    address: str | None = None,
    output_dir: PathLike = "emovox-predictions",
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    batch_size: int | None = None,
    progress: bool = False,
    retry_failed: bool = False,
    overwrite: bool = False,
    emotions: Sequence[str] | str | None = None,
    same_speaker: bool = False,
    same_channel: bool = False,
) -> BatchSummary:
    """Emotion probabilities of many files, written as partitioned Parquet, resumably.

    Parameters
    ----------
    paths : path or iterable of paths
        Audio files, folders (every audio file under them) and manifest CSVs (their ``path`` column).
    model : path, str or EmotionModel, optional
        Model directory or bundled model name (default: the bundled default), or a loaded model (its
        directory, and the emotions it was narrowed to). Workers load it from this path, so on a real
        cluster it must be on storage every worker sees.
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
    emotions : list of str or str, optional
        Predict over these emotions only (``"angry,happy,neutral,sad"``), renormalised, as
        :meth:`emovox.inference.EmotionModel.restrict`; the rows then hold only their ``prob_`` columns.
    same_speaker, same_channel : bool
        The files are one speaker's (or share one recording channel): scored together, adapted, as
        :meth:`~emovox.inference.EmotionModel.predict_files` scores them. The workers embed the files
        (resumably, in ``output_dir/_embeddings``); this process then scores them all together and writes the
        rows, every run (the answers depend on every file), holding every embedding in memory (8 KB each).

    Returns
    -------
    BatchSummary
        Counts, failures, timings; also saved as ``output_dir/_summary.json``. Read the rows with
        :func:`read_results`.

    Raises
    ------
    EmovoxError
        When the folder holds another job's results or is locked by a running job, or the engine cannot
        start (no Dask, no scheduler at ``address``).
    ModelError
        When the model cannot be loaded.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> s = batch.predict(["a.wav"], engine="local", output_dir="predict-demo")
    >>> s.n_ok, s.n_failed
    (1, 0)
    >>> batch.read_results("predict-demo")[["label", "speech"]]  # music: no speech, so no emotion
      label  speech
    0   NaN   False
    """
    from ..adaptation import session_kind
    from ..inference import chosen_emotions, resolve_model_path
    from ..models.store import model_digest, read_model_dir

    adapt = session_kind(same_speaker, same_channel)  # before the model is read: a call to mend
    if hasattr(model, "all_labels") and hasattr(model, "path"):  # a loaded model: its directory, as narrowed
        if emotions is None and list(model.labels) != list(model.all_labels):
            emotions = list(model.labels)
        model = model.path
    mdir = resolve_model_path(model).absolute()
    meta = read_model_dir(mdir)  # checks every graph once, here, before any worker starts
    labels = list(meta["labels"]) if emotions is None else chosen_emotions(emotions, meta["labels"])
    # (the metadata too: a temperature or threshold edited and resealed answers differently)
    identity = {"kind": "predict", "model": str(mdir), "labels": labels, "model_digest": model_digest(meta)}
    paths = [paths] if isinstance(paths, str | os.PathLike) else paths
    task = {"kind": "predict", "model": str(mdir)}
    if emotions is not None:
        task["emotions"] = labels
    options = {
        "engine": engine,
        "address": address,
        "n_workers": n_workers,
        "threads_per_worker": threads_per_worker,
        "batch_size": batch_size,
        "progress": progress,
        "retry_failed": retry_failed,
        "overwrite": overwrite,
    }
    if adapt is not None:
        return _adapted(task, {**identity, "adapt": adapt}, list(paths), adapt, Path(output_dir), options)
    return _run_job("predict", task, identity, paths, output_dir=output_dir, **options)


def _given(x: Any) -> bool:
    """A cell of :func:`read_results` that holds a value (pandas reads a null as None or NaN)."""
    return x is not None and not (isinstance(x, float) and np.isnan(x))


#: Rows per Parquet part an adapted job writes.
ADAPTED_PART_ROWS = 4096


def _adapted(
    task: dict[str, Any],
    identity: dict[str, Any],
    paths: list[PathLike],
    adapt: str,
    output_dir: Path,
    options: dict[str, Any],
) -> BatchSummary:
    """:func:`predict` with ``same_speaker`` / ``same_channel``: the workers embed every file (a job of its
    own in ``output_dir/_embeddings``, resumable), then this process scores them all together and writes
    their rows (:meth:`~emovox.inference.EmotionModel.score_session`). An earlier run's part files are removed
    once every row they hold is written again; rows of files this run was not given stay, as in a job
    without adaptation (:func:`read_results` gives each file's newest)."""
    from ..inference import EmotionModel, Prediction, SessionInput
    from .worker import prediction_table, write_atomic

    if options["engine"] == "dask" and options["address"]:  # before the folder is made, as _run_job does
        check_scheduler(options["address"])
    model = EmotionModel(task["model"], emotions=task.get("emotions"))
    if model.metadata.get("kind") == "ensemble":
        raise EmovoxError(
            f"{task['model']}: an adapted batch job takes one model, not an ensemble (its members embed "
            "differently); adapt it on one machine: emovox predict --same-channel / --same-speaker, no --engine"
        )
    model.require_adaptation()
    out = _job_folder(output_dir)
    with folder_lock(out):
        check_job(out, identity, options["overwrite"])  # a folder of another job: refused before any work
    # embeddings depend on the model and its front end only, not on the session's kind or the emotions kept
    embed_identity = {"kind": "embed", "model": identity["model"], "model_digest": identity["model_digest"]}
    try:
        s = _run_job(
            "embed", {**task, "kind": "embed"}, embed_identity, paths, output_dir=out / EMBED_DIR, **options
        )
    except KeyboardInterrupt:  # this folder's summary says so too, not only the embeddings'
        with contextlib.suppress(EmovoxError, OSError, ValueError):
            inner = read_summary(out / EMBED_DIR)
            outer = {**inner, "kind": "predict", "output_dir": str(out), "adapt": adapt}
            write_summary(out, BatchSummary.from_dict(outer))
        raise
    t0 = time.perf_counter()
    with folder_lock(out), _sigterm_raises():
        items = [(p, file_key(p)) for p in _unique_abs(expand_inputs(paths, []))]
        rows = read_results(out / EMBED_DIR)
        found = {(r.path, r.key): r for r in rows.itertuples(index=False)}
        seen_paths = {path for path, _ in found}  # (under some key: a file changed since has another)
        lost = dict(s.failures)  # (a partition that failed as a whole: its error, for each of its files)
        inputs: list[Prediction | SessionInput] = []
        for p, k in items:
            r = found.get((stored_path(p), k))
            if r is None:
                changed = "changed while the job ran; a re-run embeds it"
                error = (
                    lost.get(display_path(p))
                    or f"{p}: {changed if stored_path(p) in seen_paths else 'not embedded'}"
                )
                inputs.append(Prediction(p, error=error))
            elif _given(r.error):
                inputs.append(Prediction(p, error=r.error))
            elif not (_given(r.speech) and bool(r.speech)):
                inputs.append(Prediction(p, speech=False, reason=r.reason if _given(r.reason) else None))
            else:
                embedded = [np.asarray(e, np.float32) for e in r.embeddings]
                seconds = float(r.seconds) if _given(r.seconds) else None
                inputs.append(SessionInput(p, list(r.weights), embedded, seconds))
        preds = list(model.score_session(inputs, channel=adapt == "channel"))
        written = {stored_path(p) for p, _ in items}
        old = sorted(out.glob(f"{PART_PREFIX}*.parquet"))
        run = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        for i in range(0, len(items), ADAPTED_PART_ROWS):
            table, _ = prediction_table(
                items[i : i + ADAPTED_PART_ROWS],
                preds[i : i + ADAPTED_PART_ROWS],
                model.labels,
                left_out=bool(task.get("emotions")),
            )
            write_atomic(table, out / f"{PART_PREFIX}{run}-{i // ADAPTED_PART_ROWS:06d}.parquet")
        for p in old:  # every answer depends on every file: a part whose rows were all written again goes
            held = part_paths(p)
            if held is not None and held <= written:
                p.unlink(missing_ok=True)
        failed = [
            (display_path(str(p)), display_path(r.error))
            for (p, _), r in zip(items, preds, strict=True)
            if not r.ok
        ]
        # n_computed / n_skipped are the embeddings'; n_ok / n_failed / failures, of every row written now
        s.kind, s.output_dir, s.adapt, s.n_failed_before = "predict", str(out), adapt, 0
        s.n_ok, s.n_failed, s.failures = len(items) - len(failed), len(failed), failed
        s.n_partitions = -(-len(items) // ADAPTED_PART_ROWS)
        s.wall_s += time.perf_counter() - t0
        write_summary(out, s)
    return s


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
    progress: bool = False,
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

    Raises
    ------
    EmovoxError
        When ``config`` gives no named feature columns, the folder holds another job's results or is
        locked by a running job, or the engine cannot start.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox import batch
    >>> from emovox.audio.synthetic import music, tone
    >>> sf.write("a.wav", music(seconds=1.0), 16000)
    >>> sf.write("b.wav", tone(seconds=1.0), 16000)
    >>> s = batch.features(["a.wav", "b.wav", "missing.wav"], "tutorial", engine="local", output_dir="features-demo")
    >>> s.n_ok, s.n_failed, s.failures
    (2, 1, [('.../missing.wav', '.../missing.wav: no such file')])
    >>> again = batch.features(["a.wav", "b.wav"], "tutorial", engine="local", output_dir="features-demo")
    >>> again.n_skipped, again.n_computed  # resumed: nothing recomputed
    (2, 0)
    """
    from ..extractors import from_name
    from ..extractors.runner import EXTRACTOR_VERSION

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
