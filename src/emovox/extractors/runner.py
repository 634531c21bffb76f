"""The one parallel runner and disk cache behind every extractor's ``process_files``.

An extractor (see :mod:`emovox.extractors`) gives ``process_file``, ``to_dict``, ``from_dict`` and a
``fingerprint``; :func:`process_files` runs it over many files, in worker processes that rebuild it from
its ``to_dict()``, with a progress bar, and caches each file's result as ``.npy`` under
``<cache_dir>/<fingerprint>-v<EXTRACTOR_VERSION>/<file content hash>.npy``: a second run over the same
corpus computes nothing, and a moved or copied file keeps its entry. One failing file is reported in the
result, never raised.

Examples
--------
>>> from emovox.features import FeatureExtractor
>>> from emovox.extractors.runner import process_files
>>> res = process_files(FeatureExtractor("tutorial"), ["/nonexistent.wav"], progress=False)
>>> res.features.shape, len(res.failures)
((0, 180), 1)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import json
import logging
import math
import multiprocessing
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "EXTRACTOR_VERSION",
    "ExtractionResult",
    "cache_path",
    "content_fingerprint",
    "content_fingerprints",
    "file_hash",
    "process_file",
    "process_files",
]

#: Bump when the numbers a given config produces change; part of every cache key.
EXTRACTOR_VERSION = "1"

PathLike = str | os.PathLike


class ExtractionResult(NamedTuple):
    """What :func:`process_files` (and every extractor's ``process_files``) returns.

    Attributes
    ----------
    features : np.ndarray, float32, shape (n_ok, ...)
        One row per successfully processed file; row ``i`` belongs to ``paths[i]`` (an object array of
        per-file arrays when their shapes differ, as a deep model's frame matrices do).
    paths : list of str
        The successfully processed inputs, in input order.
    failures : list of (str, str)
        ``(path, one-line message naming the file)`` for each input that failed, in input order.
    mask : np.ndarray, bool, shape (n_inputs,)
        ``True`` where the input at that position succeeded (``features`` = rows of the ``True`` positions).
    n_cached : int
        How many rows came from the disk cache rather than being computed.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import music
    >>> from emovox.features import FeatureExtractor
    >>> sf.write("music.wav", music(seconds=1.0), 16000)
    >>> res = FeatureExtractor("tutorial").process_files(["music.wav", "missing.wav"])
    >>> res.features.shape, res.paths, res.mask.tolist(), res.n_cached
    ((1, 180), ['music.wav'], [True, False], 0)
    >>> res.failures
    [('missing.wav', 'missing.wav: no such file')]
    """

    features: np.ndarray
    paths: list[str]
    failures: list[tuple[str, str]]
    mask: np.ndarray
    n_cached: int = 0


def file_hash(*paths: PathLike | None, digest_size: int = 20, chunk: int = 1 << 20) -> str:
    """blake2b hex digest of the bytes of one or more files (``None`` skipped): the content part of a
    cache key, so a copied, moved or re-downloaded file keeps its cache entries.

    Parameters
    ----------
    *paths : path or None
        The files, hashed one after the other.
    digest_size : int
        Bytes of digest (default 20: 40 hex digits).
    chunk : int
        Bytes read at a time (default 1 MiB).

    Returns
    -------
    str
        The hex digest.

    Raises
    ------
    OSError
        When a file cannot be read, or is not a regular file (a named pipe, a device).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> len(file_hash(f.name)); os.unlink(f.name)
    40
    """
    from ..paths import not_a_file

    h = hashlib.blake2b(digest_size=digest_size)
    for path in filter(None, paths):
        if why := not_a_file(path):  # opening a named pipe would wait for ever; /dev/zero never ends
            raise OSError(errno.EINVAL, why.removesuffix("; skipped"))
        with open(path, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(chunk), b""):
                h.update(block)
    return h.hexdigest()


def content_fingerprints(paths) -> np.ndarray:
    """Sorted unique uint64 fingerprints of the files' bytes (the first 8 bytes of their blake2b; the same
    file under another name or speaker gives the same one). Files that cannot be read are left out.

    Parameters
    ----------
    paths : iterable of path
        The files.

    Returns
    -------
    numpy.ndarray
        uint64, sorted, each value once.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> fp = content_fingerprints([f.name, f.name, "/no/such/file"]); os.unlink(f.name)
    >>> fp.dtype, fp.shape
    (dtype('uint64'), (1,))
    """
    prints = {p for p in map(content_fingerprint, paths) if p is not None}
    return np.array(sorted(prints), dtype=np.uint64)


def content_fingerprint(path) -> int | None:
    """One file's :func:`content_fingerprints` entry (None when it cannot be read).

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    int or None

    Examples
    --------
    >>> content_fingerprint("/no/such/file") is None
    True
    """
    try:
        return int(file_hash(path, digest_size=8), 16)
    except OSError:
        return None


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 300 else text[:297] + "..."


def process_file(extractor: Any, path: PathLike) -> np.ndarray:
    """:meth:`emovox.extractors.Extractor.process_file` for extractors that need nothing file-specific: a long file through
    :meth:`~emovox.extractors.Extractor.process_stream` (bounded memory), a short one decoded whole (one
    whose header declares no length, such as an m4a, is read up to that length first).

    Parameters
    ----------
    extractor : Extractor
        Gives ``sample_rate``, ``process_signal`` and ``process_stream``.
    path : path
        The audio file.

    Returns
    -------
    numpy.ndarray
        The extractor's output.

    Raises
    ------
    AudioError
        When the file cannot be decoded.
    """
    from ..audio import (
        DEFAULT_MIN_DURATION,
        STREAM_AFTER_SECONDS,
        audio_duration,
        load_audio,
        stream_audio,
        whole_if_short,
    )

    sr = extractor.sample_rate

    def chunks():
        return stream_audio(path, sr, min_duration=DEFAULT_MIN_DURATION)

    duration = audio_duration(path)
    if duration is None and (y := whole_if_short(chunks, int(STREAM_AFTER_SECONDS * sr))) is not None:
        return extractor.process_signal(y)
    if duration is None or duration > STREAM_AFTER_SECONDS:
        return extractor.process_stream(chunks)
    return extractor.process_signal(load_audio(path, sr))


def cache_path(extractor: Any, cache_dir: PathLike, content_hash: str) -> Path:
    """Where the cached result of a file with this content hash lives for this extractor.

    Parameters
    ----------
    extractor : Extractor
        Gives ``fingerprint``.
    cache_dir : path
        The cache directory.
    content_hash : str
        The file's :func:`file_hash`.

    Returns
    -------
    pathlib.Path
        ``cache_dir/<fingerprint>-v<EXTRACTOR_VERSION>/<content_hash>.npy`` (not created).
    """
    return Path(cache_dir) / f"{extractor.fingerprint}-v{EXTRACTOR_VERSION}" / f"{content_hash}.npy"


def _lookup(extractor: Any, path: str, cache_dir: str) -> tuple[np.ndarray | None, Path | None]:
    """The cached result of ``path`` (None when there is none, or it is unreadable) and where it lives
    (None: the file does not exist, which the extractor then says in the decoder's words)."""
    try:
        key = file_hash(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        from ..errors import FeatureError

        raise FeatureError(f"{path}: cannot read ({exc.strerror or exc})") from None
    target = cache_path(extractor, cache_dir, key)
    if target.is_file():
        expected = getattr(extractor, "n_features", None)
        try:
            v = np.load(target, allow_pickle=False)
            if v.dtype == np.float32 and (expected is None or v.shape == (expected,)):
                return v, target
        except (OSError, ValueError):
            pass  # unreadable cache entry: recompute and overwrite
    return None, target


def _cached(extractor: Any, path: str, cache_dir: str | None) -> tuple[np.ndarray, bool]:
    if cache_dir is None:
        return extractor.process_file(path), False
    v, target = _lookup(extractor, path, cache_dir)
    if v is not None:
        return v, True
    if target is None:  # missing: the same error as without a cache ("no such file", a broken link)
        return extractor.process_file(path), False
    v = np.asarray(extractor.process_file(path), dtype=np.float32)
    try:
        _atomic_save(target, v, extractor.to_dict())
    except OSError as exc:  # a full or read-only cache costs speed, not the file's features
        _cache_unwritable(cache_dir, exc)
    return v, False


_UNWRITABLE: set[tuple[str, int | None]] = set()
#: in a worker process: the cache failures met, sent back with the chunk's results (a worker's log goes nowhere)
_WORKER_NOTES: list[tuple[str, int | None, str]] | None = None


def _cache_unwritable(cache_dir: str, exc: OSError) -> None:
    """Warn once per cache folder and cause that features are computed but not cached (from a worker: through
    the process that started it, so that one line shows however many workers met it)."""
    if _WORKER_NOTES is not None:
        _WORKER_NOTES.append((cache_dir, exc.errno, exc.strerror or str(exc)))
    elif (cache_dir, exc.errno) not in _UNWRITABLE:
        _UNWRITABLE.add((cache_dir, exc.errno))
        log.warning(
            "feature cache %s cannot be written (%s): features are computed, not cached",
            cache_dir,
            exc.strerror or exc,
        )


def _process_item(
    extractor: Any, path: str, cache_dir: str | None
) -> tuple[np.ndarray | None, str | None, bool]:
    try:
        v, cached = _cached(extractor, path, cache_dir)
        return v, None, cached
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none aborts the run
        msg = _one_line(str(exc)) or type(exc).__name__
        if path not in msg:
            msg = f"{path}: {type(exc).__name__}: {msg}"
        return None, msg, False


def _start_method() -> str | None:
    """Fork (fast: a worker needs no imports) where the process runs one thread, or where a fork server
    would run the user's script again (a script run as a file: its top level, without a
    ``__main__`` guard, would start the extraction again in each worker); else a fork server. A process
    forked while another thread holds a lock keeps that lock held for ever: a worker of the test suite hung
    in ``tempfile.mkstemp`` after progress bars' and a Dask client's threads had started. None: the
    platform's own (spawn, where there is no fork)."""
    import sys
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" not in methods:
        return None
    main = sys.modules.get("__main__")
    script = getattr(main, "__spec__", None) is None and getattr(main, "__file__", None) is not None
    if threading.active_count() == 1 or script or "forkserver" not in methods:
        return "fork"
    return "forkserver"


def process_files(
    extractor: Any,
    paths: Iterable[PathLike],
    *,
    n_jobs: int | None = 1,
    cache_dir: PathLike | None = None,
    progress: bool = False,
    chunksize: int | None = None,
    mp_context: str | None = None,
    desc: str = "features",
) -> ExtractionResult:
    """Run ``extractor.process_file`` over many files, in parallel, with a disk cache.

    Parameters
    ----------
    extractor : Extractor
        Any :class:`emovox.extractors.Extractor`; worker processes rebuild it with its class's
        ``from_dict(extractor.to_dict(), extractor.model_dir)``.
    paths : path or iterable of paths
        Audio files (one path: that file).
    n_jobs : int or None
        Worker processes; ``None`` or ``-1`` = all CPUs; 1 = in this process.
    cache_dir : path, optional
        Directory of cached ``.npy`` results (created as needed). A file whose bytes, extractor
        fingerprint and :data:`EXTRACTOR_VERSION` match a cached entry is not decoded again.
    progress : bool
        Show a tqdm progress bar with ETA (``desc`` names it).
    chunksize : int, optional
        Files per task sent to a worker (default: a few tasks per worker, at most 32 files).
    mp_context : str, optional
        ``multiprocessing`` start method ("fork", "spawn", "forkserver"); default :func:`_start_method`.
    desc : str
        Label of the progress bar (default ``"features"``).

    Returns
    -------
    ExtractionResult
        ``(features, paths, failures, mask, n_cached)``; ``features[i]`` belongs to ``paths[i]``.
    """
    from tqdm.auto import tqdm

    items = [str(paths)] if isinstance(paths, str | os.PathLike) else [str(p) for p in paths]  # one: itself
    n = len(items)
    cdir = None if cache_dir is None else str(cache_dir)
    if cdir is not None:
        try:
            Path(cdir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # as a full cache: the features are still computed
            _cache_unwritable(cdir, exc)
            cdir = None
    if n_jobs is None or n_jobs < 1:
        n_jobs = os.cpu_count() or 1
    n_jobs = max(1, min(n_jobs, n))
    results: list[tuple[np.ndarray | None, str | None, bool]] = [(None, None, False)] * n
    bar = tqdm(total=n, desc=desc, unit="file", disable=not progress, dynamic_ncols=True)
    n_failed = 0
    try:
        if n_jobs == 1:
            for i, p in enumerate(items):
                results[i] = _process_item(extractor, p, cdir)
                n_failed += results[i][1] is not None
                bar.update(1)
                if n_failed:
                    bar.set_postfix(failed=n_failed, refresh=False)
        else:
            todo = list(range(n))
            if cdir is not None:  # what is cached is read here: no worker starts (and loads a model) for it
                todo = []
                for i, p in enumerate(items):
                    try:
                        v, _ = _lookup(extractor, p, cdir)
                    except Exception:  # noqa: BLE001 - a worker reports the file's error
                        v = None
                    if v is None:
                        todo.append(i)
                    else:
                        results[i] = (v, None, True)
                        bar.update(1)
            size = chunksize or max(1, min(32, math.ceil(len(todo) / (4 * n_jobs))))
            chunks = [todo[s : s + size] for s in range(0, len(todo), size)]
            ctx = multiprocessing.get_context(mp_context or _start_method())
            cls = type(extractor)
            n_workers = min(n_jobs, len(chunks))
            threads = max(1, (os.cpu_count() or 1) // max(1, n_workers))  # onnxruntime's share per worker
            recipe = (cls.__module__, cls.__qualname__, extractor.to_dict(), _model_dir(extractor), threads)
            if chunks:
                with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
                    futs = {
                        pool.submit(_run_chunk, recipe, [items[i] for i in ch], cdir): ch for ch in chunks
                    }
                    for fut in as_completed(futs):
                        ch = futs[fut]
                        try:
                            res, notes = fut.result()
                        except Exception as exc:  # noqa: BLE001 - a dead worker fails its chunk only
                            why = _one_line(str(exc)) or type(exc).__name__
                            res, notes = [(None, f"{items[i]}: worker failed: {why}", False) for i in ch], []
                        for where, code, why in notes:
                            _cache_unwritable(where, OSError(code, why))
                        for i, r in zip(ch, res, strict=True):
                            results[i] = r
                            n_failed += r[1] is not None
                        bar.update(len(ch))
                        if n_failed:
                            bar.set_postfix(failed=n_failed, refresh=False)
    finally:
        bar.close()
    mask = np.array([r[0] is not None for r in results], dtype=bool)
    ok = [r[0] for r in results if r[0] is not None]
    if not ok:
        X = np.zeros((0, getattr(extractor, "n_features", 0)), np.float32)
    elif len({r.shape for r in ok}) == 1:
        X = np.stack(ok).astype(np.float32, copy=False)
    else:  # results of different shapes (a deep model's frame matrices): one object per file
        X = np.empty(len(ok), dtype=object)
        X[:] = ok
    return ExtractionResult(
        features=X,
        paths=[p for p, m in zip(items, mask, strict=True) if m],
        failures=[(p, r[1] or "") for p, r in zip(items, results, strict=True) if r[0] is None],
        mask=mask,
        n_cached=sum(1 for r in results if r[2]),
    )


def _model_dir(extractor: Any) -> str | None:
    d = getattr(extractor, "model_dir", None)
    return None if d is None else str(d)


def _atomic_save(target: Path, v: np.ndarray, spec: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = target.parent / "config.json"
    if not meta.exists():  # what made these entries, for a person looking at the cache
        text = json.dumps(
            {"extractor_version": EXTRACTOR_VERSION, "extractor": spec}, indent=1, sort_keys=True
        )
        _atomic_write_bytes(meta, text.encode())
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.ascontiguousarray(v, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:  # (a full disk: no half-written file left in the cache)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_WORKER_EXTRACTORS: dict[str, Any] = {}


def _single_threaded_blas() -> None:
    """In a worker process: one BLAS thread (the processes are the parallelism; threads would oversubscribe)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(limits=1)


def _run_chunk(recipe: tuple, paths: Sequence[str], cache_dir: str | None):
    """Worker-side: process a chunk of files with a per-process extractor rebuilt from its ``to_dict()``."""
    module, qualname, spec, model_dir, threads = recipe
    os.environ.setdefault("EMOVOX_THREADS", str(threads))
    key = json.dumps([module, qualname, spec, model_dir], sort_keys=True)
    ex = _WORKER_EXTRACTORS.get(key)
    if ex is None:
        if not _WORKER_EXTRACTORS:
            _single_threaded_blas()
        cls = importlib.import_module(module)
        for name in qualname.split("."):
            cls = getattr(cls, name)
        ex = _WORKER_EXTRACTORS[key] = cls.from_dict(spec, None if model_dir is None else Path(model_dir))
    global _WORKER_NOTES
    _WORKER_NOTES = []
    return [_process_item(ex, p, cache_dir) for p in paths], _WORKER_NOTES
