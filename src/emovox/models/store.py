"""Model directories: ONNX graphs plus ``metadata.json``, never pickle.

A model directory holds::

    metadata.json      labels, front end (feature configuration or encoder), training data and protocol,
                       cross-validated metrics, emovox version, the SHA-256 of every graph file (``files``)
                       and its size in bytes (``file_sizes``), and the SHA-256 of the metadata itself
                       (``metadata_sha256``)
    *.onnx             the graphs (classifier head; for encoder models the encoder too)
    class_means.npy    feature-vector models: training class means, for speaker adaptation
                       (a plain array, read with ``allow_pickle=False``)
    speech_head.npy    encoder models: the learned "no speech" check (:mod:`emovox.speech_head`; a plain array)
    training_files.npy fingerprints of the training recordings' bytes, so that ``evaluate --trained`` finds
                       them under any name (a plain array)

Loading refuses, in one :class:`~emovox.errors.ModelError` line, a directory whose metadata was edited
(``metadata_sha256`` is the hash of the canonical JSON of every other key: sorted keys, no spaces, UTF-8),
whose metadata is malformed (labels, format version, calibration, ensemble members), that names a file
it does not list with a hash in ``files``, or whose listed file is missing or modified (a file whose size is
not the one sealed is refused before it is read). So every file the
loader opens (head, encoder, class means, speech head, ensemble members' ``metadata.json``, which hold their own hashes)
is checked before onnxruntime or numpy sees it, and what they parse is the bytes that were checked
(:func:`read_sealed`: read once, hashed, then handed over; never opened again by name, so a file swapped
after its check is not loaded). The reports saved beside the model (``evaluation.json``, ``confusion.png``,
``training_curves.png``, ``history.json``) are listed in ``files`` too (:func:`seal_artefacts`), so they are
checked at load like the rest. Files in the directory that the metadata does not name are never opened; loading
names them in a warning (:func:`unsealed_files`); a graph that keeps its weights in another file (ONNX external data) is
refused (:func:`emovox.encoders.runtime.cpu_session`). ONNX is a data format: loading it executes no Python
code.

This guards against accidental and naive edits, not against someone who recomputes the hashes: keep
models you did not make in a place only you can write.

A model directory saved before the metadata was sealed is refused; if you trust it, seal it with
``emovox reseal DIR`` (:func:`reseal`: its files must still match their hashes),
or retrain it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import stat
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ModelError

FORMAT_VERSION = 1
#: The key of ``metadata.json`` that holds the SHA-256 of the rest of the metadata.
SEAL_KEY = "metadata_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIX = "retrain the model, or copy it again from where it came from"


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read a MiB at a time.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def npy_bytes(a) -> bytes:
    """A numpy array as the bytes of a ``.npy`` file (no pickle), for :func:`save_model_dir`.

    Parameters
    ----------
    a : array-like
        The array (an object array cannot be written).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import numpy as np
    >>> load_npy(npy_bytes(np.arange(3))).tolist()
    [0, 1, 2]
    """
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def load_npy(source: Path | bytes):
    """A plain ``.npy`` array of a model directory (``allow_pickle=False``; ``source``: its path, or its bytes
    as :func:`read_sealed` gives them), its header checked against the data's size first: a forged shape would
    have numpy allocate what it claims (745 GiB from a 192-byte file). Raises ``ValueError`` or ``OSError``
    for a file that is not one.

    Parameters
    ----------
    source : pathlib.Path or bytes
        The ``.npy`` file, or its bytes.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        When the data is not a ``.npy`` array of format 1.0 or 2.0 whose header fits its size (or an
        object array).
    OSError
        When the file cannot be read.
    """
    import io

    import numpy as np

    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            raise ValueError(f".npy format version {version} is not one emovox writes")
        shape, _, dtype = readers[version](fh)
        size = len(source) if isinstance(source, bytes) else os.fstat(fh.fileno()).st_size
        data = size - fh.tell()
        if dtype.hasobject or math.prod(shape) * dtype.itemsize != data:
            raise ValueError(f"its header claims {shape} {dtype}, which {data} bytes of data do not hold")
        fh.seek(0)
        return np.load(fh, allow_pickle=False)


def metadata_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``meta`` without its :data:`SEAL_KEY`.

    Parameters
    ----------
    meta : dict
        A model's metadata (JSON-serialisable, ASCII once dumped).

    Returns
    -------
    str
        The hex digest, the same whatever the key order.

    Examples
    --------
    >>> metadata_digest({"a": 1, "b": 2}) == metadata_digest({"b": 2, "a": 1, SEAL_KEY: "x"})
    True
    """
    body = {k: v for k, v in meta.items() if k != SEAL_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def model_digest(meta: dict[str, Any]) -> str:
    """SHA-256 of what decides a model's answers: its metadata (calibration, thresholds, front end...) and,
    through ``files``, every model file, but not the reports beside it (:data:`ARTEFACTS`), so that
    sealing or deleting a report leaves the same model. What a batch job checks before it resumes.

    Parameters
    ----------
    meta : dict
        A model's metadata.

    Returns
    -------
    str
        The hex digest.

    Examples
    --------
    >>> m = {"labels": ["a", "b"], "files": {"model.onnx": "1"}}
    >>> model_digest(m) == model_digest({**m, "files": {"model.onnx": "1", "confusion.png": "2"}})
    True
    """
    reports = set(ARTEFACTS)
    body = {
        k: ({n: h for n, h in v.items() if n not in reports} if k in ("files", "file_sizes") else v)
        for k, v in meta.items()
    }
    return metadata_digest(body)


#: Files a trained model directory may hold besides those its metadata lists.
ARTEFACTS = ("metadata.json", "evaluation.json", "confusion.png", "training_curves.png", "history.json")


def prepare_output(path: str | Path, clear: bool = False) -> Path:
    """Check that ``path`` can take a new model directory: a new or empty folder, or a model directory
    (retrained). ``clear`` also deletes the files of the model there (those its metadata lists, and
    :data:`ARTEFACTS`), so none of them (an old ``evaluation.json``...) stays beside the new one.

    Raises :class:`~emovox.errors.ModelError` for a file, or a folder of other files (nothing is written
    among a user's own files).

    Parameters
    ----------
    path : str or Path
        The folder the model is to be written to (it is not created here).
    clear : bool
        Delete the files of the model already there (default False).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> prepare_output(d) == d
    True
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelError(f"{path}: exists and is not a folder; choose a new folder for the model")
    if not path.is_dir() or not any(path.iterdir()):
        return path
    if not (path / "metadata.json").is_file():
        raise ModelError(f"{path}: holds files that are not an emovox model; choose a new or empty folder")
    if clear:
        try:
            listed = list(json.loads((path / "metadata.json").read_text()).get("files", {}))
        except (OSError, ValueError, AttributeError):
            listed = []
        for name in [*listed, *ARTEFACTS]:
            target = (path / name).resolve()
            if not target.is_relative_to(path.resolve()):
                continue
            if target.name == "metadata.json" and target.parent != path.resolve():
                prepare_output(target.parent, clear=True)  # an ensemble's member: its own files too
            elif target.is_file():
                target.unlink()
        for sub in sorted((p for p in path.rglob("*") if p.is_dir()), reverse=True):
            if not any(sub.iterdir()):  # an ensemble member's folder, now empty
                sub.rmdir()
    return path


def save_model_dir(path: str | Path, graphs: dict[str, bytes | Path], metadata: dict[str, Any]) -> Path:
    """Write ``graphs`` (file name -> ONNX or .npy bytes, or a file to copy) and the sealed metadata into
    ``path``. The metadata is checked as loading checks it, so a model that saves also loads.

    Parameters
    ----------
    path : str or Path
        The model directory (created when missing).
    graphs : dict of str to bytes or Path
        File name inside ``path`` -> its bytes, or a file copied there; all are hashed into ``files``.
    metadata : dict
        ``labels``, ``frontend`` and the rest; ``format``, ``files``, ``file_sizes`` and the seal are added.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> meta = {"labels": ["calm", "angry"], "frontend": {"type": "features"}}
    >>> d = save_model_dir(tempfile.mkdtemp(), {"model.onnx": b"graph bytes"}, meta)
    >>> read_model_dir(d)["labels"]
    ['calm', 'angry']
    """
    from .. import __version__

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    files, sizes = {}, {}
    for name, data in graphs.items():
        target = path / name
        if isinstance(data, Path | str):
            import shutil

            if Path(data).resolve() != target.resolve():
                shutil.copyfile(data, target)
        else:
            target.write_bytes(data)
        files[name] = sha256(target)
        sizes[name] = target.stat().st_size
    meta = {
        "format": "emovox-model",
        "format_version": FORMAT_VERSION,
        "emovox_version": __version__,
        **metadata,
        "files": files,
        "file_sizes": sizes,
    }
    # what is sealed is what a reader will parse: numpy scalars and tuples as JSON has them
    meta = json.loads(json.dumps(meta, default=_json_default))
    meta.pop(SEAL_KEY, None)
    check_metadata(path, meta)
    _write_sealed(path, meta)
    return path


def seal_artefacts(path: str | Path) -> Path:
    """Add the reports written beside a saved model (:data:`ARTEFACTS`: ``evaluation.json``,
    ``confusion.png``...) to its sealed ``files``, so that they cannot be edited unseen either: they are
    what a person reads to judge the model. Called by every save, once the reports are written.

    Parameters
    ----------
    path : str or Path
        A model directory just saved (its metadata sealed, its files matching).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    meta = _load_json(path)
    meta.pop(SEAL_KEY, None)
    if _add_artefacts(path, meta):
        _write_sealed(path, meta)
    return path


def _add_artefacts(path: Path, meta: dict[str, Any]) -> bool:
    """List the reports beside the model in ``meta``'s ``files`` / ``file_sizes``; whether any was added."""
    added = False
    for name in ARTEFACTS[1:]:
        target = path / name
        if name not in meta["files"] and target.is_file() and not target.is_symlink():
            meta["files"][name] = sha256(target)
            meta.setdefault("file_sizes", {})[name] = target.stat().st_size
            added = True
    return added


def missing_reports(path: str | Path, meta: dict[str, Any]) -> list[str]:
    """The reports (:data:`ARTEFACTS`) the seal lists that are no longer in the directory: a model does
    not need them, so their absence is named rather than refused (:func:`reseal` forgets them).

    Parameters
    ----------
    path : str or Path
        The model directory.
    meta : dict
        Its metadata.

    Returns
    -------
    list of str
        Their names, in :data:`ARTEFACTS` order.
    """
    path = Path(path)
    return [n for n in ARTEFACTS[1:] if n in meta.get("files", {}) and not os.path.lexists(path / n)]


def unsealed_files(path: str | Path, meta: dict[str, Any]) -> list[str]:
    """The files beside a model's ``metadata.json`` that its seal does not cover (added, or left by an
    emovox before reports were sealed): never read, but named where a model is loaded.

    Parameters
    ----------
    path : str or Path
        The model directory.
    meta : dict
        Its metadata.

    Returns
    -------
    list of str
        Their names, sorted (folders, such as an ensemble's members, and dot files are not listed).
    """
    path = Path(path)
    listed = {str(PurePosixPath(n)) for n in meta.get("files", {})}
    try:
        entries = list(os.scandir(path))
    except OSError:
        return []
    return sorted(  # (dot files: a file manager's .DS_Store is no one's edit)
        e.name
        for e in entries
        if e.name != "metadata.json"
        and e.name not in listed
        and not e.name.startswith(".")
        and not e.is_dir()
    )


def _write_sealed(path: Path, meta: dict[str, Any]) -> None:
    meta = {k: v for k, v in meta.items() if k != SEAL_KEY}
    meta[SEAL_KEY] = metadata_digest(meta)
    tmp = path / "metadata.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, path / "metadata.json")


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.integer | np.floating):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


#: metadata.json is a few kB; one far larger is refused before it is read.
MAX_METADATA_BYTES = 16 * 2**20


def _load_json(path: Path, data: bytes | None = None) -> dict[str, Any]:
    meta_path = path / "metadata.json"
    if data is not None:  # (read and verified by the caller)
        return _parse_json(path, data)
    if not path.exists():
        raise ModelError(f"{path}: no such model directory")
    if not path.is_dir():
        raise ModelError(f"{path}: a model is a directory holding metadata.json and .onnx files")
    if not meta_path.is_file():
        what = "is not a regular file" if os.path.lexists(meta_path) else "is missing"
        raise ModelError(f"{path}: not a model directory (metadata.json {what})")
    if (size := meta_path.stat().st_size) > MAX_METADATA_BYTES:  # read whole and parsed: memory in proportion
        raise ModelError(
            f"{meta_path}: {size / 2**20:.0f} MiB, not model metadata "
            f"(at most {MAX_METADATA_BYTES // 2**20} MiB); {_FIX}"
        )
    try:
        data = meta_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{meta_path}: unreadable metadata ({exc.strerror or exc}); {_FIX}") from None
    return _parse_json(path, data)


def _parse_json(path: Path, data: bytes) -> dict[str, Any]:
    meta_path = path / "metadata.json"
    try:
        meta = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ModelError(
            f"{meta_path}: unreadable metadata ({' '.join(str(exc).split())[:160]}); {_FIX}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "emovox-model":
        raise ModelError(f"{meta_path}: not emovox model metadata")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelError(f"{path}: format_version must be a whole number >= 1, got {version!r}; {_FIX}")
    if version > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {version} is newer than this emovox supports ({FORMAT_VERSION}); upgrade emovox"
        )
    return meta


def read_model_dir(path: str | Path, verify: bool = True, data: bytes | None = None) -> dict[str, Any]:
    """Read and check a model directory; return its metadata.

    Checks the seal of ``metadata.json``, its structure (:func:`check_metadata`) and, with ``verify``, the
    SHA-256 of every listed file. Every failure is one :class:`ModelError` line naming the directory.
    ``data``: the bytes of its ``metadata.json``, already read (an ensemble's member, verified by the
    ensemble's seal).

    Parameters
    ----------
    path : str or Path
        The model directory.
    verify : bool
        Also check every listed file's size and SHA-256 (default True).
    data : bytes, optional
        The bytes of its ``metadata.json`` (default None: read from ``path``).

    Returns
    -------
    dict
        The metadata.
    """
    path = Path(path)
    meta = _load_json(path, data)
    seal = meta.get(SEAL_KEY)
    if seal is None:
        raise ModelError(
            f"{path}: metadata.json is not sealed (no {SEAL_KEY}: saved by an older emovox, or "
            f"edited); retrain the model or, if you trust it, seal it with "
            f"'emovox reseal {path}'"
        )
    if seal != metadata_digest(meta):
        raise ModelError(
            f"{path}: metadata.json was modified or damaged (its SHA-256 does not match the one "
            f"it was saved with); refusing to load it; {_FIX} (or, if you edited it on purpose, "
            f"seal it again with 'emovox reseal {path}')"
        )
    check_metadata(path, meta)
    if verify:
        verify_files(path, meta)
    return meta


def verify_files(path: Path, meta: dict[str, Any], skip: Collection[str] = ()) -> None:
    """Every file listed in ``meta["files"]`` (but those in ``skip``) is there, has its sealed size
    (``file_sizes``, where the model has them: checked first, so that a file grown to gigabytes is refused
    at once) and matches its SHA-256.

    Parameters
    ----------
    path : Path
        The model directory.
    meta : dict
        Its metadata (with ``files`` and, where present, ``file_sizes``).
    skip : collection of str
        File names not checked (default ``()``: every file is checked).

    Returns
    -------
    None
        Raises :class:`ModelError` for the first file that fails.
    """
    for name in meta["files"]:
        if name not in skip:
            _check_sealed(path, meta, name)


#: ONNX graphs are protobuf, which cannot exceed 2 GiB: no model file read whole is larger.
MAX_MODEL_FILE_BYTES = 2 * 2**30


def read_sealed(path: Path, meta: dict[str, Any], name: str) -> bytes:
    """The bytes of the model file ``name``, read once and checked as :func:`verify_files` checks it.

    Whatever parses a model file parses these bytes: a file swapped between a check by name and a second
    open would be loaded unchecked.

    Parameters
    ----------
    path : Path
        The model directory.
    meta : dict
        Its metadata.
    name : str
        A file listed in ``meta["files"]``.

    Returns
    -------
    bytes
        The file's checked bytes.

    Examples
    --------
    >>> import tempfile
    >>> meta = {"labels": ["calm", "angry"], "frontend": {"type": "features"}}
    >>> d = save_model_dir(tempfile.mkdtemp(), {"model.onnx": b"graph bytes"}, meta)
    >>> read_sealed(d, read_model_dir(d), "model.onnx")
    b'graph bytes'
    """
    return _check_sealed(Path(path), meta, name, keep=True) or b""


def _check_sealed(path: Path, meta: dict[str, Any], name: str, keep: bool = False) -> bytes | None:
    """Open ``name`` once, refuse what is not a regular file or not its sealed size, then hash it as it is
    read (its bytes returned with ``keep``)."""
    digest = meta["files"].get(name)
    if digest is None:
        raise ModelError(f"{path}: {name} is not among the files metadata.json seals; {_FIX}")
    f = path / name
    try:  # what is not a regular file is refused unopened (a pipe's writer, a device's side effects)
        before = os.stat(f)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            missing = exc.errno == errno.ENOENT and not os.path.lexists(f)
            raise ModelError(
                f"{path}: model file {name} {'is missing' if missing else 'is not a regular file'}; {_FIX}"
            ) from None
        raise ModelError(f"{f}: unreadable ({exc.strerror or exc})") from None
    if not stat.S_ISREG(before.st_mode):
        raise ModelError(f"{path}: model file {name} is not a regular file; {_FIX}")
    try:  # (non-blocking, no controlling terminal: whatever was swapped in since the stat is refused below)
        fd = os.open(f, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ModelError(f"{f}: unreadable ({exc.strerror or exc})") from None
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ModelError(f"{f}: changed while it was opened; refusing to load it; {_FIX}")
    with open(fd, "rb") as fh:
        sealed = (meta.get("file_sizes") or {}).get(name)
        if sealed is not None and st.st_size != sealed:
            raise ModelError(
                f"{f}: size mismatch ({st.st_size} bytes, sealed with {sealed}), the file was modified or "
                f"damaged; refusing to load it; {_FIX}"
            )
        if keep and st.st_size > MAX_MODEL_FILE_BYTES:  # (a model without sealed sizes: none is near this)
            raise ModelError(f"{f}: {st.st_size / 2**30:.1f} GiB, larger than any model file; {_FIX}")
        h, parts, n = hashlib.sha256(), [], 0
        try:  # no further than its size at the open: a file still growing is refused, not read forever
            while block := fh.read(min(1 << 20, st.st_size + 1 - n)):
                n += len(block)
                if n > st.st_size:
                    raise ModelError(f"{f}: changed while it was read; refusing to load it; {_FIX}")
                h.update(block)
                if keep:
                    parts.append(block)
        except OSError as exc:
            raise ModelError(f"{f}: unreadable ({exc.strerror or exc})") from None
    if h.hexdigest() != digest:
        raise ModelError(
            f"{f}: checksum mismatch, the file was modified or damaged; refusing to load it; {_FIX}"
        )
    return b"".join(parts) if keep else None


def referenced_files(meta: dict[str, Any]) -> dict[str, str]:
    """Every file the loader opens, as ``{name inside the directory: what it is}``.

    Keep this in step with :class:`emovox.inference.EmotionModel`: each of these must be listed, with its
    hash, in ``files``.

    Parameters
    ----------
    meta : dict
        A model's metadata (a single model needs its ``frontend``; an ensemble its ``members``).

    Returns
    -------
    dict of str to str
        For an ensemble, each member's ``metadata.json``.

    Examples
    --------
    >>> referenced_files({"frontend": {"type": "handcrafted"}})
    {'model.onnx': 'head'}
    """
    if meta.get("kind") == "ensemble":
        return {f"{m['path']}/metadata.json": f"member {m['path']!r}" for m in meta["members"]}
    refs = {meta.get("head", "model.onnx"): "head"}
    frontend = meta["frontend"]
    if frontend.get("type") == "whisper":
        refs[frontend.get("encoder", "encoder.onnx")] = "encoder"
    class_means = (meta.get("adaptation") or {}).get("class_means")
    if class_means:
        refs[class_means] = "class means"
    speech_head = (meta.get("speech_head") or {}).get("file")
    if speech_head:
        refs[speech_head] = "speech head"
    fingerprints = (meta.get("training") or {}).get("fingerprints")
    if fingerprints:
        refs[fingerprints] = "training fingerprints"
    return refs


def _plain_name(name: Any, allow_sub: bool = False) -> bool:
    """A relative name inside the directory: no absolute path, no ``..``, no backslash."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")):
        return False
    return allow_sub or len(p.parts) == 1


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_metadata(path: Path, meta: dict[str, Any]) -> None:
    """The structure of model metadata, one :class:`ModelError` line for the first fault found.

    Parameters
    ----------
    path : Path
        The model directory, named in the error.
    meta : dict
        The metadata (its seal is not checked here).

    Returns
    -------
    None

    Examples
    --------
    >>> check_metadata(Path("m"), {"labels": ["calm"], "frontend": {"type": "features"}, "files": {}})
    Traceback (most recent call last):
    ...
    emovox.errors.ModelError: m: malformed metadata.json (labels must be a list of at least two names); ...
    """

    def bad(why: str) -> ModelError:
        return ModelError(f"{path}: malformed metadata.json ({why}); {_FIX}")

    labels = meta.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels):
        raise bad("labels must be a list of at least two names")
    if len(set(labels)) != len(labels):
        raise bad(f"labels repeat a name: {labels}")
    frontend = meta.get("frontend")
    if not isinstance(frontend, dict) or not isinstance(frontend.get("type"), str):
        raise bad("frontend must be an object with a 'type'")
    files = meta.get("files")
    if not isinstance(files, dict):
        raise bad("files must map file names to SHA-256 digests")
    for name, digest in files.items():
        if not _plain_name(name, allow_sub=True):
            raise bad(f"file name {name!r} is not a plain name inside the model directory")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise bad(f"the digest of {name} is not a SHA-256")
    sizes = meta.get("file_sizes", {})  # absent in models saved before stop 36
    if not isinstance(sizes, dict):
        raise bad("file_sizes must map file names to sizes in bytes")
    for name, size in sizes.items():  # (a size for a file that files does not list is never used)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise bad(f"the size of {name} is not a number of bytes: {size!r}")
    calibration = meta.get("calibration")
    if calibration is not None:
        if not isinstance(calibration, dict):
            raise bad("calibration must be an object")
        t = calibration.get("temperature", 1.0)
        if not _number(t) or t <= 0:
            raise bad(f"calibration temperature must be a positive number, got {t!r}")
        u = calibration.get("uncertain_below", 0.0)
        if not _number(u) or not 0 <= u <= 1:
            raise bad(f"calibration uncertain_below must be a number in [0, 1], got {u!r}")
    if meta.get("kind") == "ensemble":
        members = meta.get("members")
        if not isinstance(members, list) or not members:
            raise bad("an ensemble must list its members")
        for m in members:
            if not isinstance(m, dict) or not _plain_name(m.get("path")):
                raise bad(f"ensemble member {m!r} must have a 'path' that is a folder name")
            w = m.get("weight", 1.0)
            if not _number(w) or w < 0:
                raise bad(f"ensemble member {m['path']!r} has weight {w!r}, not a non-negative number")
        if sum(m.get("weight", 1.0) for m in members) <= 0:
            raise bad("ensemble weights are all zero")
    else:
        head = meta.get("head", "model.onnx")
        if not _plain_name(head):
            raise bad(f"head {head!r} is not a file name")
        adaptation = meta.get("adaptation")
        if adaptation is not None and not isinstance(adaptation, dict):
            raise bad("adaptation must be an object")
        class_means = (adaptation or {}).get("class_means")
        if class_means is not None and not _plain_name(class_means):
            raise bad(f"class means {class_means!r} is not a file name")
        gate = (adaptation or {}).get("gate")
        if gate is not None and not (
            isinstance(gate, list)
            and len(gate) == 2
            and all(map(_number, gate))
            and 0 <= gate[0] < gate[1] <= 1
        ):
            raise bad(f"adaptation gate {gate!r} is not two spreads 0 <= low < high <= 1")
        speech_head = meta.get("speech_head")  # defaults: emovox.speech_head.THRESHOLD and SURE_BELOW
        if speech_head is not None and (
            not isinstance(speech_head, dict)
            or not _plain_name(speech_head.get("file"))
            or not _number(speech_head.get("threshold", 0.5))
            or not _number(speech_head.get("sure_below", 0.1))
            or not 0 < speech_head.get("sure_below", 0.1) <= speech_head.get("threshold", 0.5) < 1
        ):
            raise bad(
                "speech_head must be an object with a 'file' name and thresholds 0 < sure_below <= threshold < 1"
            )
        if frontend["type"] == "whisper" and not _plain_name(frontend.get("encoder", "encoder.onnx")):
            raise bad(f"encoder {frontend.get('encoder')!r} is not a file name")
    for name, what in referenced_files(meta).items():
        if name not in files:
            raise ModelError(
                f"{path}: the {what} {name} is not listed with its SHA-256 in metadata.json's files, "
                f"so it cannot be verified; refusing to load it; {_FIX}"
            )


def reseal(path: str | Path, check: Callable[[Path], object] | None = None) -> Path:
    """Seal ``metadata.json`` of a model directory as it is now (see the module docstring).

    For models saved before the seal existed, or metadata changed on purpose. The listed files must still
    match their hashes and the metadata must be well-formed; the metadata's content is trusted as it is,
    so reseal only a model you trust. The files' sizes are stored (``file_sizes``) where they were not.
    ``check`` (e.g. :func:`emovox.load_model`) is then called on the directory: if it raises, the earlier
    ``metadata.json`` is put back and the error raised, so a model that cannot load is never sealed.

    Parameters
    ----------
    path : str or Path
        The model directory.
    check : callable, optional
        Called with the directory once sealed; if it raises, the earlier metadata is restored (default None).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    before: dict[Path, bytes] = {}  # every metadata.json rewritten, put back if the check fails
    _reseal(path, before)
    if check is not None:
        try:
            check(path)
        except BaseException:
            for where, data in before.items():
                where.write_bytes(data)
            raise
    return path


def _reseal(path: Path, before: dict[Path, bytes]) -> None:
    meta = _load_json(path)
    before[path / "metadata.json"] = (path / "metadata.json").read_bytes()
    meta.pop(SEAL_KEY, None)
    check_metadata(path, meta)
    for name in missing_reports(path, meta):  # a report deleted (a model needs none): forgotten
        meta["files"].pop(name)
        meta.get("file_sizes", {}).pop(name, None)
    verify_files(path, meta)
    if meta.get("kind") == "ensemble":  # each member's reports sealed too, then its new metadata hashed here
        for m in meta["members"]:
            _reseal(path / m["path"], before)
            meta["files"][f"{m['path']}/metadata.json"] = sha256(path / m["path"] / "metadata.json")
    meta["file_sizes"] = {name: (path / name).stat().st_size for name in meta["files"]}
    _add_artefacts(path, meta)  # its reports too (a model saved before they were sealed)
    _write_sealed(path, meta)
