"""Worker side of a batch job: one partition of files in, one Parquet file out.

:func:`run_partition` is what the engines run, in this process (``engine="local"``) or on a Dask worker.
The model (or feature extractor) lives in a per-process cache, so each worker process loads it once for
the whole job, not once per file or per partition. Rows are written by the worker itself, atomically
(temporary name, then :func:`os.replace`), so a partition on disk is always complete.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..paths import display_path, stored_path

#: Columns every partition has besides the results.
KEY_COLUMNS = ("path", "key", "error")
PART_PREFIX = "part-"
TMP_PREFIX = ".tmp-"

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int], Any] = {}
_EXTRACTORS: dict[str, Any] = {}
_LOADS: list[str] = []  # what this process has loaded, for tests and diagnostics


def load_count() -> int:
    """How many models / extractors this process has loaded (1 per worker in a normal job)."""
    return len(_LOADS)


def _once(store: dict, key, make, label: str):
    """``store[key]``, made by ``make()`` the first time (under the lock, so threads share one)."""
    with _LOCK:
        if key not in store:
            store[key] = make()
            _LOADS.append(label)
        return store[key]


def cached_model(path: str, emotions: Sequence[str] | None = None):
    """The :class:`~emovox.inference.EmotionModel` at ``path`` (restricted to ``emotions``), loaded once per
    process.

    Keyed by the directory, the mtime of its ``metadata.json`` (so a retrained model in place is reloaded)
    and the emotions.

    Parameters
    ----------
    path : str
        A model directory (with its ``metadata.json``).
    emotions : list of str, optional
        Restrict the model to these (:meth:`~emovox.inference.EmotionModel.restrict`); None (default): all.

    Returns
    -------
    EmotionModel
        Shared by every thread of the process: not to be changed.

    Raises
    ------
    ModelError
        When the directory holds no valid model (no ``metadata.json`` at all: :class:`OSError`).
    """
    from ..inference import EmotionModel

    key = (os.path.abspath(path), os.stat(Path(path) / "metadata.json").st_mtime_ns, tuple(emotions or ()))
    label = f"model:{key[0]}" + (f" ({','.join(emotions)})" if emotions else "")
    return _once(_MODELS, key, lambda: EmotionModel(path, emotions=emotions), label)


def cached_extractor(spec: dict[str, Any], model_dir: str | None = None):
    """The extractor of a ``to_dict()`` (:func:`emovox.extractors.from_dict`; ``model_dir``: the model
    directory its files are in, if any), built once per process.

    Parameters
    ----------
    spec : dict
        An extractor's ``to_dict()``.
    model_dir : str, optional
        The model directory the extractor's files are in; None (default): none.

    Returns
    -------
    Extractor
        Shared by every thread of the process.
    """
    import json

    from ..extractors import from_dict

    key = json.dumps([spec, model_dir], sort_keys=True)
    return _once(_EXTRACTORS, key, lambda: from_dict(spec, model_dir), f"features:{spec.get('type')}")


def warm(task: dict[str, Any]) -> int:
    """Load the task's model / extractor in this process (run on every worker when a job starts).

    Parameters
    ----------
    task : dict
        The job's task: ``kind`` (``predict`` and ``embed`` load ``model``, with ``emotions``; other kinds
        load ``extractor``, with ``model_dir``).

    Returns
    -------
    int
        This process's id.
    """
    if task["kind"] in ("predict", "embed"):
        cached_model(task["model"], task.get("emotions"))
    else:
        cached_extractor(task["extractor"], task.get("model_dir"))
    return os.getpid()


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Arrow columns built from their buffers: pa.array() imports pandas (~45 MB in a worker that never uses it)
# to check whether its input is a pandas object; a worker streaming an hour of audio is measured on its peak.
def _bitmap(valid) -> Any:
    import pyarrow as pa

    return pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little").tobytes())


def _strings(values: Sequence[str | None]) -> Any:
    """A UTF-8 string column (None: null)."""
    import pyarrow as pa

    data = [(v or "").encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(d) for d in data])
    buffers = [
        _bitmap([v is not None for v in values]),
        pa.py_buffer(offsets.tobytes()),
        pa.py_buffer(b"".join(data)),
    ]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _numbers(x: np.ndarray, dtype: str, null_nan: bool = True) -> Any:
    """A float column (``dtype`` float64 / float32); NaN is null when ``null_nan``."""
    import pyarrow as pa

    x = np.ascontiguousarray(x, dtype=dtype)
    valid = _bitmap(~np.isnan(x)) if null_nan else None
    return pa.Array.from_buffers(pa.from_numpy_dtype(x.dtype), len(x), [valid, pa.py_buffer(x.tobytes())])


def _bools(values: Sequence[bool | None]) -> Any:
    """A boolean column (None: null)."""
    import pyarrow as pa

    buffers = [_bitmap([v is not None for v in values]), _bitmap([bool(v) for v in values])]
    return pa.Array.from_buffers(pa.bool_(), len(values), buffers)


def _table(cols: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.Table.from_arrays(list(cols.values()), names=list(cols))


def _predict_table(task: dict[str, Any], items: Sequence[tuple[str, str]]):
    """Rows of a prediction partition (:func:`prediction_table`), each file predicted alone."""
    from ..inference import Prediction

    model = cached_model(task["model"], task.get("emotions"))
    preds = []
    # the very code of the single-process path, one file at a time so that rows stay aligned
    for path, _ in items:
        try:
            (pred,) = model.predict_files([path])
        except Exception as exc:  # noqa: BLE001 - one file's row, never the whole partition
            pred = Prediction(path, error=f"{path}: {type(exc).__name__}: {_one_line(str(exc))}")
        preds.append(pred)
    return prediction_table(items, preds, model.labels, left_out=bool(task.get("emotions")))


def prediction_table(
    items: Sequence[tuple[str, str]], preds: Sequence[Any], labels: Sequence[str], *, left_out: bool = False
):
    """Rows of a prediction partition: path, key, label, confidence, speech, uncertain, reason,
    ``prob_<label>`` ..., error (``speech`` False: no speech found, no label, ``reason`` says what was heard),
    one per ``(path, key)`` of ``items`` from its :class:`~emovox.inference.Prediction`; and each row's error.
    ``left_out`` (a job over some emotions only): a ``prob_left_out`` column before ``error``, the
    probability the model gives the emotions left out (:attr:`~emovox.inference.Prediction.left_out`).

    Parameters
    ----------
    items : sequence of (str, str)
        Each input's path and resume key (:func:`~emovox.batch.store.file_key`).
    preds : sequence of Prediction
        One per item, in the same order.
    labels : sequence of str
        The ``prob_<label>`` columns, in order (every speech prediction must have them all).
    left_out : bool
        Add the ``prob_left_out`` column (default False).

    Returns
    -------
    table : pyarrow.Table
    errors : list of str or None
        Each row's error (one line), None where it succeeded.
    """
    n = len(items)
    probs = np.full((n, len(labels)), np.nan)
    outside = np.full(n, np.nan)
    label: list[str | None] = [None] * n
    conf = np.full(n, np.nan)
    errors: list[str | None] = [None] * n
    speech: list[bool | None] = [None] * n
    uncertain: list[bool | None] = [None] * n
    reason: list[str | None] = [None] * n
    for i, pred in enumerate(preds):
        if pred.ok and not pred.speech:
            speech[i], reason[i] = False, display_path(pred.reason) if pred.reason else pred.reason
        elif pred.ok:
            probs[i] = [pred.probabilities[lab] for lab in labels]
            outside[i] = sum(pred.left_out.values()) if pred.left_out else np.nan
            label[i], conf[i] = pred.label, pred.confidence
            speech[i], uncertain[i] = True, pred.uncertain
        else:
            errors[i] = display_path(_one_line(pred.error or "failed"))
    cols: dict[str, Any] = {
        "path": _strings([stored_path(p) for p, _ in items]),
        "key": _strings([k for _, k in items]),
        "label": _strings(label),
        "confidence": _numbers(conf, "float64"),
        "speech": _bools(speech),
        "uncertain": _bools(uncertain),
        "reason": _strings(reason),
    }
    for j, lab in enumerate(labels):
        cols[f"prob_{lab}"] = _numbers(probs[:, j], "float64")
    if left_out:
        cols["prob_left_out"] = _numbers(outside, "float64")
    cols["error"] = _strings(errors)
    return _table(cols), errors


def _embed_table(task: dict[str, Any], items: Sequence[tuple[str, str]]):
    """Rows of an adapted job's first step (:func:`emovox.batch.predict` with ``same_speaker`` /
    ``same_channel``): path, key, speech, reason, seconds, weights and embeddings (one per speech segment of a
    long recording; :meth:`~emovox.inference.EmotionModel.session_input`), error."""
    import pyarrow as pa

    from ..inference import SessionInput

    model = cached_model(task["model"], task.get("emotions"))
    errors: list[str | None] = []
    speech: list[bool | None] = []
    reason: list[str | None] = []
    seconds, weights, embeddings = [], [], []
    for path, _ in items:
        r = model.session_input(path)
        ok = isinstance(r, SessionInput)
        errors.append(None if ok or r.ok else display_path(_one_line(r.error or "failed")))
        speech.append(True if ok else None if not r.ok else False)
        reason.append(None if ok or not r.reason else display_path(r.reason))
        seconds.append(np.nan if not ok or r.seconds is None else r.seconds)
        weights.append([float(w) for w in r.weights] if ok else [])
        embeddings.append([np.asarray(e, np.float32).tolist() for e in r.embeddings] if ok else [])
    cols: dict[str, Any] = {
        "path": _strings([stored_path(p) for p, _ in items]),
        "key": _strings([k for _, k in items]),
        "speech": _bools(speech),
        "reason": _strings(reason),
        "seconds": _numbers(np.asarray(seconds, dtype=np.float64), "float64"),
        "weights": pa.array(weights, type=pa.list_(pa.float64())),
        "embeddings": pa.array(embeddings, type=pa.list_(pa.list_(pa.float32()))),
        "error": _strings(errors),
    }
    return _table(cols), errors


def _features_table(task: dict[str, Any], items: Sequence[tuple[str, str]]):
    """Rows of a feature partition: path, key, error, then one float32 column per feature (NaN if failed)."""

    ex = cached_extractor(task["extractor"], task.get("model_dir"))
    names = ex.feature_names
    X = np.full((len(items), len(names)), np.nan, dtype=np.float32)
    errors: list[str | None] = [None] * len(items)
    for i, (path, _) in enumerate(items):
        try:
            X[i] = ex.process_file(path)
        except Exception as exc:  # noqa: BLE001 - a bad file is a row with an error, never a failed job
            msg = _one_line(str(exc)) or type(exc).__name__
            errors[i] = display_path(msg if path in msg else f"{path}: {type(exc).__name__}: {msg}")
    cols: dict[str, Any] = {
        "path": _strings([stored_path(p) for p, _ in items]),
        "key": _strings([k for _, k in items]),
        "error": _strings(errors),
    }
    for j, name in enumerate(names):
        cols[name] = _numbers(X[:, j], "float32", null_nan=False)
    return _table(cols), errors


def write_atomic(table, target: Path) -> None:
    """Write a Parquet file under a temporary name in the same folder, then rename it into place.

    Parameters
    ----------
    table : pyarrow.Table
        What to write (zstd-compressed).
    target : pathlib.Path
        The file to write; a reader never sees it half-written, and the temporary file is removed when
        writing fails.
    """
    import pyarrow.parquet as pq

    tmp = target.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{target.name}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run_partition(task: dict[str, Any], items: Sequence[tuple[str, str]], output_dir: str, name: str) -> dict:
    """Process one partition and write ``output_dir/name``.

    Parameters
    ----------
    task : dict
        ``{"kind": "predict", "model": DIR}`` or ``{"kind": "features", "extractor": an extractor's to_dict()}``.
    items : sequence of (path, key)
        The files of the partition and their resume keys (stored in the rows). A path that is not valid
        UTF-8 is opened as given and stored as :func:`~emovox.paths.display_path` (``\\xNN`` for its bytes).
    output_dir : str
        Where the partition goes (must be visible to the worker: a local or shared folder).
    name : str
        File name of the partition.

    Returns
    -------
    dict
        ``{"name", "n", "n_ok", "failures": [(path, error)], "seconds", "worker"}``: small, for the client.
    """
    t0 = time.perf_counter()
    make = {"predict": _predict_table, "embed": _embed_table, "features": _features_table}[task["kind"]]
    table, errors = make(task, items)
    write_atomic(table, Path(output_dir) / name)
    failures = [(display_path(p), e) for (p, _), e in zip(items, errors, strict=True) if e is not None]
    return {
        "name": name,
        "n": len(items),
        "n_ok": len(items) - len(failures),
        "failures": failures,
        "seconds": time.perf_counter() - t0,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
