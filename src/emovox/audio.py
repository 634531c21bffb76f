"""Audio input: any file, bytes or array in, mono float32 at a chosen rate out.

Files that libsndfile reads (wav, flac, ogg/vorbis, ogg/opus, mp3, aiff, ...) are decoded in-process
through ``soundfile``; anything else (m4a, webm from a browser, ...) goes through ``ffmpeg`` when it is on
the PATH. Resampling uses ``soxr``. Every failure raises :class:`emovox.AudioError` with one line that
names the input and the cause.

Examples
--------
>>> import numpy as np, emovox
>>> y = emovox.load_audio(np.zeros((2, 8000), dtype=np.float32) + 0.1, input_sr=8000)
>>> y.shape, y.dtype
((16000,), dtype('float32'))
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import AudioError

DEFAULT_SR = 16000
DEFAULT_MIN_DURATION = 0.1
# Extensions emovox looks for when it walks a directory; decoding is decided by content, not name.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif", ".au", ".m4a", ".webm", ".aac")

AudioSource = str | os.PathLike | bytes | bytearray | np.ndarray
_HEAP_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def find_audio(root: str | os.PathLike, problems: list[str] | None = None) -> list[Path]:
    """Every file under ``root`` with an audio extension emovox reads, sorted; hidden files excluded.

    Each real file is listed once: folders reached again through symbolic links (``ln -s . again``) are
    not re-entered, and a file linked twice is listed once. Entries that are not regular files (FIFOs,
    sockets, devices, broken links, link loops) are skipped with one ``"<path>: <why>"`` line each, appended
    to ``problems`` when given, else logged as a warning. Names that are not valid UTF-8 are kept as
    surrogate-escaped text (:func:`os.fsdecode`), so they open; print them with
    :func:`emovox.paths.display_path`.
    """
    from .paths import walk_files

    exts = set(AUDIO_EXTENSIONS)
    found = walk_files(root, lambda fn: os.path.splitext(fn)[1].lower() in exts, problems=problems)
    return sorted(Path(p) for p in found)


def _sf():
    import soundfile

    return soundfile


def _to_mono(y: np.ndarray) -> np.ndarray:
    """Downmix (frames, channels) to mono by averaging channels."""
    if y.ndim == 2:
        y = y.mean(axis=1)
    return y


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float signal with soxr (high quality); a no-op when the rates match."""
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(y.astype(np.float32, copy=False), orig_sr, target_sr, quality="HQ").astype(np.float32)


def _check_wav_truncation(path: Path, data: bytes | None = None) -> str | None:
    """Return a reason when a RIFF/WAVE file's data chunk is shorter than its header declares.

    libsndfile quietly reads what is there; a user is better told the file is cut short.
    """
    try:
        if data is None:
            with open(path, "rb") as fh:
                head = fh.read(4096)
            size = path.stat().st_size
        else:
            head, size = data[:4096], len(data)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, clen = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if cid == b"data":
            if clen != 0xFFFFFFFF and pos + 8 + clen > size:
                return f"truncated: header declares {clen} data bytes, file holds {size - pos - 8}"
            return None
        pos += 8 + clen + (clen & 1)
    return None


#: ffmpeg time limit: FFMPEG_TIMEOUT_MIN s, plus 1 s per FFMPEG_BYTES_PER_S input bytes, at most FFMPEG_TIMEOUT_MAX s
FFMPEG_TIMEOUT_MIN = 60.0
FFMPEG_TIMEOUT_MAX = 3600.0
FFMPEG_BYTES_PER_S = 256 * 1024


def ffmpeg_timeout(n_bytes: int) -> float:
    """Seconds ffmpeg may take to decode ``n_bytes`` of input (a floor, then proportional, capped).

    >>> ffmpeg_timeout(0), ffmpeg_timeout(100 * 2**20), ffmpeg_timeout(10 * 2**30)
    (60.0, 460.0, 3600.0)
    """
    return float(min(FFMPEG_TIMEOUT_MAX, FFMPEG_TIMEOUT_MIN + max(0, n_bytes) / FFMPEG_BYTES_PER_S))


def _size(src: str) -> int:
    try:
        return os.stat(src).st_size
    except OSError:
        return 0


def _decode_ffmpeg(src: str, data: bytes | None, sr: int, name: str) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(
            f"{name}: format not readable by libsndfile and ffmpeg is not installed "
            "(install ffmpeg, e.g. 'apt-get install ffmpeg', to read it)"
        )
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", "pipe:0" if data is not None else src,
           "-f", "f32le", "-ac", "1", "-ar", str(sr), "pipe:1"]
    timeout = ffmpeg_timeout(len(data) if data is not None else _size(src))
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # run() has killed ffmpeg already
        raise AudioError(f"{name}: ffmpeg did not finish decoding within {timeout:.0f} s (the limit grows with "
                         "the file size); the file is malformed or far longer than it looks") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"{name}: not audio or corrupt (ffmpeg: {msg[-1] if msg else 'failed'})")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def _validate(y: np.ndarray, sr: int, name: str, min_duration: float) -> np.ndarray:
    if y.size == 0:
        raise AudioError(f"{name}: zero samples")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
    if y.size < min_duration * sr:
        raise AudioError(f"{name}: too short ({y.size / sr:.3f} s < minimum {min_duration:g} s)")
    return y


def _check_path(path: Path, name: str) -> None:
    if not path.exists():
        if path.is_symlink():  # name the link, say what is wrong with its target
            try:
                os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise AudioError(f"{name}: symbolic link loop") from None
            raise AudioError(f"{name}: broken symbolic link (its target {os.readlink(path)} does not exist)")
        raise AudioError(f"{name}: no such file")
    if path.is_dir():
        raise AudioError(f"{name}: is a directory, not an audio file")


def _read_file(path: Path, sr: int, name: str) -> np.ndarray:
    _check_path(path, name)
    if not os.access(path, os.R_OK):
        raise AudioError(f"{name}: unreadable (permission denied)")
    sf = _sf()
    try:
        with sf.SoundFile(os.fsencode(path)) as f:  # bytes: names that are not UTF-8 open too
            native_sr, declared = f.samplerate, f.frames
            y = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        if path.stat().st_size == 0:
            raise AudioError(f"{name}: empty file (zero bytes)") from None
        if "unknown format" in str(exc).lower() or "format not recognised" in str(exc).lower():
            return _decode_ffmpeg(str(path), None, sr, name)
        raise AudioError(f"{name}: not audio or corrupt ({_short(exc)})") from None
    except (RuntimeError, ValueError) as exc:
        raise AudioError(f"{name}: corrupt or truncated ({_short(exc)})") from None
    reason = _check_wav_truncation(path)
    if reason is None and 0 < declared and y.shape[0] < declared:
        reason = f"truncated: read {y.shape[0]} of {declared} frames"
    if reason:
        raise AudioError(f"{name}: {reason}")
    return resample(_to_mono(y), native_sr, sr)


def _read_bytes(data: bytes, sr: int, name: str) -> np.ndarray:
    if len(data) == 0:
        raise AudioError(f"{name}: empty input (zero bytes)")
    sf = _sf()
    try:
        y, native_sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        if "unknown format" in str(exc).lower() or "format not recognised" in str(exc).lower():
            return _decode_ffmpeg("", bytes(data), sr, name)
        raise AudioError(f"{name}: not audio or corrupt ({_short(exc)})") from None
    except (RuntimeError, ValueError) as exc:
        raise AudioError(f"{name}: corrupt or truncated ({_short(exc)})") from None
    reason = _check_wav_truncation(Path(), bytes(data))
    if reason:
        raise AudioError(f"{name}: {reason}")
    return resample(_to_mono(y), native_sr, sr)


def _short(exc: BaseException) -> str:
    # libsndfile's own words, without soundfile's "Error opening <_io.BytesIO object at 0x...>: " prefix
    text = exc.error_string if getattr(exc, "code", 0) and hasattr(exc, "error_string") else str(exc)
    text = " ".join(_HEAP_REPR.sub("the input", text).split())
    return text if len(text) < 160 else text[:157] + "..."


def load_audio(
    source: AudioSource,
    sr: int = DEFAULT_SR,
    *,
    input_sr: int | None = None,
    min_duration: float = DEFAULT_MIN_DURATION,
    name: str | None = None,
) -> np.ndarray:
    """Load audio as mono float32 at ``sr`` Hz.

    Parameters
    ----------
    source : path, bytes or numpy array
        A file path, the bytes of an encoded file, or samples shaped ``(n,)``, ``(n, channels)`` or
        ``(channels, n)`` (the shorter axis is taken as channels). Integer arrays are scaled to [-1, 1).
    sr : int
        Rate of the returned signal.
    input_sr : int, optional
        Rate of an array ``source`` (required for arrays, ignored otherwise).
    min_duration : float
        Shortest accepted signal in seconds; shorter input raises :class:`AudioError`.
    name : str, optional
        How the input is named in error messages (defaults to the path, or ``<bytes>`` / ``<array>``).

    Returns
    -------
    numpy.ndarray
        1-D float32 samples.

    Examples
    --------
    >>> import numpy as np
    >>> from emovox.audio import load_audio
    >>> load_audio(np.ones(1600, dtype=np.int16), input_sr=16000).max() < 1e-3
    True
    """
    if isinstance(source, np.ndarray):
        name = name or "<array>"
        if input_sr is None:
            raise AudioError(f"{name}: input_sr is required when passing an array")
        y = source
        if y.ndim == 2:
            y = y.T if y.shape[0] < y.shape[1] else y
        elif y.ndim != 1:
            raise AudioError(f"{name}: expected a 1-D or 2-D array, got shape {source.shape}")
        if int(input_sr) <= 0:
            raise AudioError(f"{name}: input_sr must be a positive rate in Hz, got {input_sr}")
        if np.issubdtype(y.dtype, np.unsignedinteger):  # offset binary: the midpoint is silence
            half = float(2 ** (8 * y.dtype.itemsize - 1))
            y = (y.astype(np.float64) - half) / half
        elif np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.float32) / float(2 ** (8 * y.dtype.itemsize - 1))
        y = _to_mono(np.asarray(y, dtype=np.float32))
        if y.size and not np.all(np.isfinite(y)):
            raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
        y = resample(y, int(input_sr), sr) if y.size else y
    elif isinstance(source, bytes | bytearray | memoryview):
        name = name or "<bytes>"
        y = _read_bytes(bytes(source), sr, name)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = name or str(path)
        y = _read_file(path, sr, name)
    else:
        raise AudioError(f"{name or '<input>'}: unsupported input type {type(source).__name__}")
    return _validate(np.ascontiguousarray(y, dtype=np.float32), sr, name, min_duration)


def audio_info(path: str | os.PathLike) -> dict:
    """Header facts of a file without decoding it: ``duration``, ``sample_rate``, ``channels``, ``frames``."""
    name = str(path)
    p = Path(path)
    _check_path(p, name)
    sf = _sf()
    try:
        info = sf.info(os.fsencode(p))
    except Exception:
        # Formats libsndfile can't read: decode once to learn the length.
        y = load_audio(p, DEFAULT_SR, min_duration=0.0)
        return {"duration": y.size / DEFAULT_SR, "sample_rate": None, "channels": None, "frames": None}
    return {
        "duration": info.frames / info.samplerate if info.samplerate else 0.0,
        "sample_rate": info.samplerate,
        "channels": info.channels,
        "frames": info.frames,
    }


def stream_audio(
    path: str | os.PathLike, sr: int = DEFAULT_SR, *, chunk_seconds: float = 30.0
) -> Iterator[np.ndarray]:
    """Yield a long file as consecutive mono float32 chunks at ``sr`` Hz, keeping memory bounded.

    Chunks are about ``chunk_seconds`` long (the last one shorter); concatenated they equal the resampled
    file. Files libsndfile cannot open are decoded whole through ffmpeg and then chunked.
    """
    p = Path(path)
    name = str(path)
    _check_path(p, name)
    sf = _sf()
    try:
        f = sf.SoundFile(os.fsencode(p))
    except sf.LibsndfileError:
        y = load_audio(p, sr, min_duration=0.0)
        step = int(chunk_seconds * sr)
        for i in range(0, y.size, step):
            yield y[i : i + step]
        return
    import soxr

    with f:
        native_sr = f.samplerate
        block = max(1, int(chunk_seconds * native_sr))
        rs = soxr.ResampleStream(native_sr, sr, 1, dtype="float32", quality="HQ") if native_sr != sr else None
        while True:
            try:
                data = f.read(block, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                raise AudioError(f"{name}: corrupt or truncated ({_short(exc)})") from None
            last = data.shape[0] < block
            mono = _to_mono(data).astype(np.float32)
            if not np.all(np.isfinite(mono)):
                raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
            out = rs.resample_chunk(mono, last=last) if rs is not None else mono
            if out.size:
                yield out
            if last:
                break
