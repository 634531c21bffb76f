"""Model directories: ONNX graphs plus ``metadata.json``, never pickle.

A model directory holds::

    metadata.json      labels, front end (feature configuration or encoder), training data and protocol,
                       cross-validated metrics, emovox version, and the SHA-256 of every graph file
    *.onnx             the graphs (classifier head; for encoder models the encoder too)
    class_means.npy    feature-vector models: training class means, for speaker adaptation
                       (a plain array, read with ``allow_pickle=False``)

Loading checks that every file is there and that its hash matches, so a tampered or truncated file is
refused before onnxruntime sees it. ONNX is a data format: loading it executes no Python code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import ModelError

FORMAT_VERSION = 1


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model_dir(path: str | Path, graphs: dict[str, bytes | Path], metadata: dict[str, Any]) -> Path:
    """Write ``graphs`` (file name -> ONNX or .npy bytes, or a file to copy) and the metadata into ``path``."""
    from .. import __version__

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in graphs.items():
        target = path / name
        if isinstance(data, Path | str):
            import shutil

            if Path(data).resolve() != target.resolve():
                shutil.copyfile(data, target)
        else:
            target.write_bytes(data)
        files[name] = sha256(target)
    meta = {"format": "emovox-model", "format_version": FORMAT_VERSION, "emovox_version": __version__,
            **metadata, "files": files}
    tmp = path / "metadata.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=False, default=_json_default))
    os.replace(tmp, path / "metadata.json")
    return path


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.integer | np.floating):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def read_model_dir(path: str | Path, verify: bool = True) -> dict[str, Any]:
    """Read and check ``metadata.json`` of a model directory; return the metadata."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model directory")
    if not path.is_dir():
        raise ModelError(f"{path}: a model is a directory holding metadata.json and .onnx files")
    meta_path = path / "metadata.json"
    if not meta_path.is_file():
        raise ModelError(f"{path}: not a model directory (metadata.json is missing)")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_path}: unreadable metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != "emovox-model":
        raise ModelError(f"{meta_path}: not emovox model metadata")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {meta.get('format_version')} is newer than this emovox supports "
            f"({FORMAT_VERSION}); upgrade emovox"
        )
    for key in ("labels", "frontend", "files"):
        if key not in meta:
            raise ModelError(f"{meta_path}: metadata has no {key!r}")
    if verify:
        for name, digest in meta["files"].items():
            f = path / name
            if not f.is_file():
                raise ModelError(f"{path}: model file {name} is missing")
            if sha256(f) != digest:
                raise ModelError(f"{f}: checksum mismatch, the file was modified or damaged; refusing to load it")
    return meta
