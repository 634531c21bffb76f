"""The ffmpeg fallback: formats libsndfile does not read (m4a, webm from a browser, ...) are decoded by an
``ffmpeg`` subprocess to mono float32 at the wanted rate, under a time limit that grows with the input's
size (:func:`ffmpeg_timeout`) and an optional cap on the seconds of audio it may produce."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from ..errors import AudioError, AudioLimitError
from .signal import to_mono

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


def file_size(src: str) -> int:
    """Bytes in the file ``src``; 0 when it cannot be stat'ed."""
    try:
        return os.stat(src).st_size
    except OSError:
        return 0


def _unreadable(src: str, data: bytes | None) -> str:
    """Why libsndfile could not read a file and ffmpeg, not installed, was not tried: its first bytes
    tell whether installing ffmpeg would help."""
    from .sniff import FFMPEG_ONLY, SNIFF_BYTES, file_head, sniff_format

    head = data[:SNIFF_BYTES] if data is not None else file_head(src) or b""
    kind = sniff_format(head)
    if kind is None:
        return f"not audio, or a format emovox does not know (first bytes {head[:8]!r})"
    if kind not in FFMPEG_ONLY:
        return f"corrupt or unsupported {kind.upper()} data: the decoder could not read it"
    return f"{kind} audio needs ffmpeg, which is not installed (e.g. 'apt-get install ffmpeg')"


def decode_ffmpeg(
    src: str, data: bytes | None, sr: int, name: str, max_seconds: float | None = None
) -> np.ndarray:
    """Decode the file ``src`` (or the encoded bytes ``data``) whole through ffmpeg to mono float32 at
    ``sr``; every failure (no ffmpeg, a timeout, ffmpeg's error, more than ``max_seconds``) raises
    :class:`emovox.AudioError` naming ``name``."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(f"{name}: {_unreadable(src, data)}")
    cmd = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-i",
        "pipe:0" if data is not None else src,
        "-f",
        "f32le",
        "-ac",  # two channels, mixed here: ffmpeg's own mono mix cancels channels in reverse phase
        "2",
        "-ar",
        str(sr),
    ]
    if max_seconds is not None:  # the length of these formats is unknown before decoding: cap the output
        cmd += ["-t", f"{max_seconds + 1:g}"]
    cmd.append("pipe:1")
    timeout = ffmpeg_timeout(len(data) if data is not None else file_size(src))
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # run() has killed ffmpeg already
        raise AudioError(
            f"{name}: ffmpeg did not finish decoding within {timeout:.0f} s (the limit grows with "
            "the file size); the file is malformed or far longer than it looks"
        ) from None
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"{name}: not audio or corrupt (ffmpeg: {msg[-1] if msg else 'failed'})")
    frames = np.frombuffer(proc.stdout[: len(proc.stdout) // 8 * 8], dtype=np.float32).reshape(-1, 2)
    y = np.ascontiguousarray(to_mono(frames))
    if max_seconds is not None and y.size > max_seconds * sr:
        raise AudioLimitError(f"{name}: more than the limit of {max_seconds:g} s of audio")
    return y
