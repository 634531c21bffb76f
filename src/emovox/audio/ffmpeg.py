"""The ffmpeg fallback: formats libsndfile does not read (m4a, webm from a browser, ...) are decoded by an
``ffmpeg`` subprocess to mono float32 at the wanted rate, under a time limit that grows with the input's
size (:func:`ffmpeg_timeout`) and an optional cap on the seconds of audio it may produce."""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import numpy as np

from ..errors import AudioError, AudioLimitError
from .cancel import check_cancelled
from .signal import to_mono

#: ffmpeg time limit: FFMPEG_TIMEOUT_MIN s, plus 1 s per FFMPEG_BYTES_PER_S input bytes, at most FFMPEG_TIMEOUT_MAX s
FFMPEG_TIMEOUT_MIN = 60.0
FFMPEG_TIMEOUT_MAX = 3600.0
FFMPEG_BYTES_PER_S = 256 * 1024


#: ffmpeg's warning that it guessed the container from a few bytes (a text file read as lrc subtitles)
_LOW_SCORE = re.compile(r"Format (\S+) detected only with low score")
_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*")  # "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55e9...] "
#: ffmpeg's words for a cut file, which it decodes as far as it goes with exit status 0
TRUNCATED = ("partial file", "ended prematurely", "Truncating packet")
#: Words of ffmpeg's warnings about damage it decoded past (a corrupt WebM: "Error parsing frame sizes."):
#: the audio may be incomplete, which is said rather than passed over.
DAMAGED = ("error", "invalid", "corrupt", "damaged")
#: ffmpeg's closing lines after a failure, which say nothing of its cause.
GENERIC = (
    "Error marking filters as finished",
    "Conversion failed",
    "Error opening output file",
    "Consider increasing",
)

log = logging.getLogger(__name__)


def ffmpeg_timeout(n_bytes: int) -> float:
    """Seconds ffmpeg may take to decode ``n_bytes`` of input (a floor, then proportional, capped).

    Parameters
    ----------
    n_bytes : int
        Size of the input (negative counts as 0).

    Returns
    -------
    float
        :data:`FFMPEG_TIMEOUT_MIN` plus a second per :data:`FFMPEG_BYTES_PER_S` bytes, at most
        :data:`FFMPEG_TIMEOUT_MAX`.

    Examples
    --------
    >>> ffmpeg_timeout(0), ffmpeg_timeout(100 * 2**20), ffmpeg_timeout(10 * 2**30)
    (60.0, 460.0, 3600.0)
    """
    return float(min(FFMPEG_TIMEOUT_MAX, FFMPEG_TIMEOUT_MIN + max(0, n_bytes) / FFMPEG_BYTES_PER_S))


def file_size(src: str) -> int:
    """Bytes in the file ``src``; 0 when it cannot be stat'ed.

    Parameters
    ----------
    src : str
        A path.

    Returns
    -------
    int
    """
    try:
        return os.stat(src).st_size
    except OSError:
        return 0


def _unreadable(src: str, data: bytes | None) -> str:
    """Why libsndfile could not read a file and ffmpeg, not installed, was not tried: its first bytes
    tell whether installing ffmpeg would help."""
    from .sniff import FFMPEG_ONLY, SNIFF_BYTES, file_head, shown_head, sniff_format

    head = data[:SNIFF_BYTES] if data is not None else file_head(src) or b""
    kind = sniff_format(head)
    if kind is None:
        return f"not audio, or a format emovox does not know (first bytes {shown_head(head)})"
    if kind not in FFMPEG_ONLY:
        return f"corrupt or unsupported {kind.upper()} data: the decoder could not read it"
    return f"{kind} audio needs ffmpeg, which is not installed (e.g. 'apt-get install ffmpeg')"


def stream_ffmpeg(
    src: str,
    data: bytes | None,
    sr: int,
    name: str,
    max_seconds: float | None = None,
    chunk_samples: int = 30 * 16000,
    damage_known: bool = False,
) -> Iterator[np.ndarray]:
    """Decode the file ``src`` (or the encoded bytes ``data``) through ffmpeg to mono float32 at ``sr``,
    chunk by chunk (``chunk_samples`` each, the last shorter), so an hour of m4a holds one chunk in memory,
    not the hour. Every failure (no ffmpeg, a timeout, ffmpeg's error, a cut file, more than
    ``max_seconds``) raises :class:`emovox.AudioError` naming ``name``, after the chunks yielded so far.
    The time limit counts the waits for ffmpeg's output, not the consumer's work between chunks.

    Parameters
    ----------
    src : str
        The file (ignored when ``data`` is given; ``""`` then).
    data : bytes or None
        Encoded bytes, fed to ffmpeg (None: read ``src``).
    sr : int
        Output rate in Hz.
    name : str
        The input as errors name it.
    max_seconds : float, optional
        Longest audio accepted (default None: no limit).
    chunk_samples : int
        Samples per chunk (default ``30 * 16000``).
    damage_known : bool
        The header is already known to be broken: ffmpeg's damage warning is not logged (default False).

    Yields
    ------
    numpy.ndarray
        Mono float32 chunks at ``sr``.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AudioError(f"{name}: {_unreadable(src, data)}")
    if data is not None and data[4:8] == b"ftyp":
        # an MP4 / m4a keeps its index (moov) where it likes, often at the end: ffmpeg must seek, so the
        # bytes go to a temporary file (through a pipe it decoded nothing: "partial file")
        with tempfile.TemporaryDirectory(prefix="emovox-ffmpeg-") as tmp:
            path = os.path.join(tmp, "input.m4a")
            with open(path, "wb") as fh:
                fh.write(data)
            yield from stream_ffmpeg(path, None, sr, name, max_seconds, chunk_samples, damage_known)
        return
    # a file's name is a path, never a protocol ("concat:a.m4a|b.m4a" named a file would read a.m4a and
    # b.m4a), and nothing it holds opens anything else (a playlist naming URLs or other files)
    source = "pipe:0" if data is not None else "file:" + os.path.abspath(src)
    protocol = "pipe" if data is not None else "file"
    cmd = [ffmpeg, "-nostdin", "-v", "warning", "-protocol_whitelist", protocol, "-i", source]
    # two channels, mixed here: ffmpeg's own mono mix cancels channels in reverse phase. More than two are
    # mixed down by ffmpeg; one is copied to both at full level (``-ac 2`` took mono 3 dB down, so phones'
    # mono m4a and webm were quieter than the same samples in a WAV)
    cmd += ["-af", "aformat=channel_layouts=mono|stereo,pan=stereo|FL<FL+FC|FR<FR+FC"]
    cmd += ["-f", "f32le", "-ar", str(sr)]
    if max_seconds is not None:  # the length of these formats is unknown before decoding: cap the output
        cmd += ["-t", f"{max_seconds + 1:g}"]
    cmd.append("pipe:1")
    timeout = ffmpeg_timeout(len(data) if data is not None else file_size(src))
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    errors, pieces, stop = bytearray(), queue.Queue(maxsize=8), threading.Event()
    threads = [
        threading.Thread(target=_drain, args=(proc.stderr, errors), daemon=True),
        threading.Thread(target=_pump, args=(proc.stdout, pieces, stop), daemon=True),
    ]
    if data is not None:
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True))
    for t in threads:
        t.start()
    late = AudioError(
        f"{name}: ffmpeg did not finish decoding within {timeout:.0f} s (the limit grows with the file "
        "size); the file is malformed or far longer than it looks"
    )
    frame = 8  # bytes of one stereo float32 frame
    need, buf, waited, total = chunk_samples * frame, bytearray(), 0.0, 0
    limit = None if max_seconds is None else max_seconds * sr
    try:
        while True:
            t0 = time.monotonic()
            while True:  # in slices, so that a request whose time ran out stops ffmpeg (finally) at once
                check_cancelled()
                try:
                    piece = pieces.get(
                        timeout=min(0.25, max(0.0, timeout - waited - (time.monotonic() - t0)))
                    )
                    break
                except queue.Empty:
                    if time.monotonic() - t0 >= timeout - waited:
                        raise late from None
            waited += time.monotonic() - t0
            buf += piece
            while len(buf) >= need or (not piece and len(buf) >= frame):
                take = min(need, len(buf) // frame * frame)
                y = np.ascontiguousarray(to_mono(np.frombuffer(bytes(buf[:take]), np.float32).reshape(-1, 2)))
                del buf[:take]
                total += y.size
                if limit is not None and total > limit:
                    raise AudioLimitError(f"{name}: more than the limit of {max_seconds:g} s of audio")
                yield y
            if not piece:
                break
        try:
            failed = proc.wait(timeout=max(1.0, timeout - waited)) != 0
        except subprocess.TimeoutExpired:
            raise late from None
        threads[0].join(timeout=5)  # all of ffmpeg's error lines
        # undecodable bytes as the path's own (surrogates), so that it matches; the input (a path, which may
        # hold a newline, or the pipe of bytes) is replaced by a mark before the lines are split, then named
        text = bytes(errors).decode("utf-8", "surrogateescape").replace(source, "\0")
        msg = [
            _PREFIX.sub("", line).replace("\0", name).removeprefix(f"{name}: ")  # (named once)
            for line in text.splitlines()
        ]
        msg = [line for line in msg if line.strip()]
        if failed and any("does not contain any stream" in line for line in msg):
            # a text file (a JSON, a TOML) that ffmpeg took, with a low score, for subtitles: not a soundless video
            guess = next((m for line in msg if (m := _LOW_SCORE.search(line))), None)
            if guess is not None:
                raise AudioError(
                    f"{name}: not audio or corrupt (ffmpeg could only guess a format, {guess[1]}, with no sound)"
                )
            raise AudioError(f"{name}: holds no audio track (a video without sound, a picture...)")
        if failed:  # ffmpeg's last words are often a generic trailer; the line before says what went wrong
            why = [line for line in msg if not line.strip().startswith(GENERIC)] or msg or ["failed"]
            raise AudioError(f"{name}: not audio or corrupt (ffmpeg: {why[-1].strip()})")
        # ffmpeg decodes what a cut file holds and exits 0, saying so only in these words
        cut = next((line for line in msg if any(word in line for word in TRUNCATED)), None)
        if cut is not None:
            raise AudioError(f"{name}: truncated (ffmpeg: {cut.strip()})")
        damage = next((line for line in msg if any(word in line.lower() for word in DAMAGED)), None)
        if damage is not None and not damage_known:  # (a header already known broken: no news)
            log.warning("%s: damaged (ffmpeg: %s); what was decoded may be incomplete", name, damage.strip())
    finally:
        stop.set()  # a consumer that stopped early: the pump must not wait on a full queue
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _pump(pipe, pieces: queue.Queue, stop: threading.Event) -> None:
    """Move ffmpeg's output into ``pieces`` as it comes (b"" at its end), a few pieces ahead of the reader:
    a queue's timed get is the portable way to wait for a pipe."""
    with pipe:
        while not stop.is_set():
            try:
                piece = pipe.read1(1 << 20)
            except (OSError, ValueError):
                piece = b""
            while not stop.is_set():
                try:
                    pieces.put(piece, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if not piece:
                return


def _drain(pipe, into: bytearray) -> None:
    """Keep ffmpeg's error output (its last 8 KB): a full pipe would stall it."""
    with pipe:
        for line in pipe:
            into += line
            del into[:-8192]


def _feed(pipe, data: bytes) -> None:
    try:
        with pipe:
            pipe.write(data)
    except (BrokenPipeError, OSError):  # ffmpeg stopped reading: its exit status says why
        pass
