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

from ..paths import display_path

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


def cached_model(path: str):
    """The :class:`~emovox.inference.EmotionModel` at ``path``, loaded once per process.

    Keyed by the directory and the mtime of its ``metadata.json``, so a retrained model in place is reloaded.
    """
    from ..inference import EmotionModel

    key = (os.path.abspath(path), os.stat(Path(path) / "metadata.json").st_mtime_ns)
    return _once(_MODELS, key, lambda: EmotionModel(path), f"model:{key[0]}")


def cached_extractor(spec: dict[str, Any], model_dir: str | None = None):
    """The extractor of a ``to_dict()`` (:func:`emovox.extractors.from_dict`; ``model_dir``: the model
    directory its files are in, if any), built once per process."""
    import json

    from ..extractors import from_dict

    key = json.dumps([spec, model_dir], sort_keys=True)
    return _once(_EXTRACTORS, key, lambda: from_dict(spec, model_dir), f"features:{spec.get('type')}")


def warm(task: dict[str, Any]) -> int:
    """Load the task's model / extractor in this process (run on every worker when a job starts)."""
    if task["kind"] == "predict":
        cached_model(task["model"])
    else:
        cached_extractor(task["extractor"], task.get("model_dir"))
    return os.getpid()


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _predict_table(task: dict[str, Any], items: Sequence[tuple[str, str]]):
    """Rows of a prediction partition: path, key, label, confidence, speech, uncertain, ``prob_<label>`` ...,
    error (``speech`` False: no speech found, no label; the reason is in ``error``'s place, ``reason``)."""
    import pyarrow as pa

    model = cached_model(task["model"])
    labels = model.labels
    n = len(items)
    probs = np.full((n, len(labels)), np.nan)
    label: list[str | None] = [None] * n
    conf = np.full(n, np.nan)
    errors: list[str | None] = [None] * n
    speech: list[bool | None] = [None] * n
    uncertain: list[bool | None] = [None] * n
    reason: list[str | None] = [None] * n
    # the very code of the single-process path, one file at a time so that rows stay aligned
    for i, (path, _) in enumerate(items):
        try:
            (pred,) = model.predict_files([path])
        except Exception as exc:  # noqa: BLE001 - one file's row, never the whole partition
            errors[i] = display_path(f"{path}: {type(exc).__name__}: {_one_line(str(exc))}")
            continue
        if pred.ok and not pred.speech:
            speech[i], reason[i] = False, display_path(pred.reason) if pred.reason else pred.reason
        elif pred.ok:
            probs[i] = [pred.probabilities[lab] for lab in labels]
            label[i], conf[i] = pred.label, pred.confidence
            speech[i], uncertain[i] = True, pred.uncertain
        else:
            errors[i] = display_path(_one_line(pred.error or "failed"))
    cols: dict[str, Any] = {
        "path": pa.array([display_path(p) for p, _ in items], pa.string()),
        "key": pa.array([k for _, k in items], pa.string()),
        "label": pa.array(label, pa.string()),
        "confidence": pa.array(conf, pa.float64(), mask=np.isnan(conf)),
        "speech": pa.array(speech, pa.bool_()),
        "uncertain": pa.array(uncertain, pa.bool_()),
        "reason": pa.array(reason, pa.string()),
    }
    for j, lab in enumerate(labels):
        cols[f"prob_{lab}"] = pa.array(probs[:, j], pa.float64(), mask=np.isnan(probs[:, j]))
    cols["error"] = pa.array(errors, pa.string())
    return pa.table(cols), errors


def _features_table(task: dict[str, Any], items: Sequence[tuple[str, str]]):
    """Rows of a feature partition: path, key, error, then one float32 column per feature (NaN if failed)."""
    import pyarrow as pa

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
        "path": pa.array([display_path(p) for p, _ in items], pa.string()),
        "key": pa.array([k for _, k in items], pa.string()),
        "error": pa.array(errors, pa.string()),
    }
    for j, name in enumerate(names):
        cols[name] = pa.array(X[:, j], pa.float32())
    return pa.table(cols), errors


def write_atomic(table, target: Path) -> None:
    """Write a Parquet file under a temporary name in the same folder, then rename it into place."""
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
    make = _predict_table if task["kind"] == "predict" else _features_table
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
