"""Decoding: a file, encoded bytes or an array in, mono float32 at a chosen rate out (:func:`load_audio`),
plus header facts without decoding (:func:`audio_info`, :func:`audio_duration`). libsndfile (through
``soundfile``) reads what it knows block by block; the header is checked before anything is allocated
from its claims (:func:`check_header`: too-low rates, forged lengths) and the data against the header
(cut or forged files); MP3 stream sniffing and libmpg123's chatter are handled here; other formats fall
back to :mod:`emovox.audio.ffmpeg`. Every failure raises :class:`emovox.AudioError` naming the input."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import shutil
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AudioError, AudioLimitError
from . import containers
from .cancel import check_cancelled
from .ffmpeg import file_size, stream_ffmpeg
from .signal import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    check_rate,
    float_mono,
    resample,
    to_mono,
    within_full_scale,
)
from .sniff import SNIFF_BYTES, file_head, sniff_format

DEFAULT_SR = 16000
DEFAULT_MIN_DURATION = 0.1
#: More samples a second (channels x rate) than this is not a speech recording but a decoding bomb: 255
#: channels of Ogg Vorbis at 192 kHz fit 100 s in 636 KB and would decode 4.9 billion samples.
MAX_SAMPLES_PER_SECOND = 64 * 48000
#: The most samples (frames x channels) one decoded block holds: 11.5 MB of float32, whatever the channels.
BLOCK_SAMPLES = 30 * 48000 * 2

AudioSource = str | os.PathLike | bytes | bytearray | np.ndarray
_HEAP_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def _sf():
    import soundfile

    return soundfile


_W64_RIFF = bytes.fromhex("726966662e91cf11a5d628db04c10000")
_W64_DATA = bytes.fromhex("64617461f3acd3118cd100c04f8edb8a")


def _check_truncation(path: Path, data: bytes | None = None) -> str | None:
    """Return a reason when a WAV, RF64, Wave64, AIFF or AU file's sample data is shorter than its header
    declares, wherever the chunk sits (field recorders put kilobytes of metadata before it).

    libsndfile quietly reads what is there; a user is better told the file is cut short.
    """
    try:
        fh = open(path, "rb") if data is None else None  # noqa: SIM115 (closed below)
    except OSError:
        return None
    try:
        size = len(data) if data is not None else os.fstat(fh.fileno()).st_size

        def at(pos: int, n: int) -> bytes:
            if data is not None:
                return data[pos : pos + n]
            fh.seek(pos)
            return fh.read(n)

        return _sample_chunk_shortfall(at, size)
    except OSError:
        return None
    finally:
        if fh is not None:
            fh.close()


def _sample_chunk_shortfall(at, size: int) -> str | None:
    head = at(0, 40)
    if head[:4] in (b".snd", b"dns."):  # Sun AU (either byte order): header size, then the data size
        if len(head) < 12:  # (libsndfile's own words say what is wrong with so short a file)
            return None
        fmt = ">I" if head[:4] == b".snd" else "<I"
        offset, clen = struct.unpack(fmt, head[4:8])[0], struct.unpack(fmt, head[8:12])[0]
        if clen not in (0xFFFFFFFF, 0) and offset + clen > size:
            return f"truncated: header declares {clen} data bytes, file holds {max(0, size - offset)}"
        return None
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        fmt, pos, ids, data_id = "<I", 12, 4, b"data"
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        fmt, pos, ids, data_id = ">I", 12, 4, b"SSND"
    elif head[:16] == _W64_RIFF:
        fmt, pos, ids, data_id = "<Q", 40, 16, _W64_DATA
    else:
        return None
    width = struct.calcsize(fmt)
    ds64 = None  # RF64: the data size lives in the ds64 chunk, the data chunk says 0xFFFFFFFF
    for _ in range(256):  # a bounded walk: a forged file cannot make it loop
        header = at(pos, ids + width)
        if len(header) < ids + width:
            return None
        cid, clen = header[:ids], struct.unpack(fmt, header[ids:])[0]
        body = pos + ids + width
        if ids == 16:  # Wave64 sizes count the chunk's own 24-byte header
            clen -= ids + width
        if cid == b"ds64":
            ds64 = struct.unpack("<Q", at(body + 8, 8).ljust(8, b"\0"))[0]
        if cid == data_id:
            if clen == 0xFFFFFFFF and ds64 is not None:
                clen = ds64
            if clen not in (0xFFFFFFFF, 0) and body + clen > size:
                return f"truncated: header declares {clen} data bytes, file holds {max(0, size - body)}"
            return None
        if clen < 0:
            return None
        pos = body + clen + ((-clen) % 8 if ids == 16 else clen & 1)
        if pos >= size:
            return None
    return None


def _validate(y: np.ndarray, sr: int, name: str, min_duration: float) -> np.ndarray:
    if y.size == 0:
        raise AudioError(f"{name}: zero samples")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
    if y.size < min_duration * sr:
        raise AudioError(f"{name}: too short ({y.size / sr:.3f} s < minimum {min_duration:g} s)")
    return within_full_scale(y, name)


def _check_path(path: Path, name: str) -> None:
    try:
        exists = path.exists()
    except OSError as exc:  # (Python 3.11: a name too long for the file system raises here)
        raise AudioError(f"{name}: unreadable ({(exc.strerror or str(exc)).lower()})") from None
    if not exists:
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


def _looks_mp3(head: bytes, name: str) -> bool:
    return (
        name.lower().endswith(".mp3")
        or head[:3] == b"ID3"
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    )


def _may_chatter(head: bytes, name: str) -> bool:
    """Whether libsndfile may hand ``head``'s input to libmpg123, which writes "Note: ..." lines to stderr
    itself: an MP3, or bytes no container claims (libsndfile's last guess is an MP3 stream)."""
    return _looks_mp3(head, name) or sniff_format(head) is None


def source_head(source: str | os.PathLike | bytes) -> bytes:
    r"""The first bytes of a file or of encoded bytes, what :func:`~emovox.audio.sniff.sniff_format` reads
    (empty when the file cannot be read).

    Parameters
    ----------
    source : str, path or bytes
        A file, or encoded bytes (any bytes-like object).

    Returns
    -------
    bytes
        At most :data:`~emovox.audio.sniff.SNIFF_BYTES` bytes.

    Examples
    --------
    >>> source_head(b"RIFF\x00\x00\x00\x00WAVEfmt data")
    b'RIFF\x00\x00\x00\x00WAVE'
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:SNIFF_BYTES])
    return file_head(source) or b""


@contextlib.contextmanager
def _quiet_stderr(active: bool):
    """Send file descriptor 2 to /dev/null for a while: libmpg123 writes "Note: ..." lines there itself.

    Only used where libsndfile may hand the input to libmpg123 (:func:`_may_chatter`: an MP3, or bytes no
    container claims); the redirection is process-wide, so another thread's stderr line written in that
    instant is lost too.
    """
    if not active:
        yield
        return
    try:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# --------------------------------------------------------------------------- header checks, block reads
def _declared_frames(f) -> int:
    """Frames the header declares; 0 when unknown (libsndfile reports SF_COUNT_MAX for unknown lengths)."""
    n = int(f.frames)
    return n if 0 < n < 2**62 else 0


def check_header(
    name: str,
    sample_rate: int,
    frames: int,
    *,
    max_seconds: float | None = None,
    min_rate: int = MIN_SAMPLE_RATE,
    channels: int = 1,
) -> None:
    """Refuse, before decoding, audio whose header makes it unusable or a decompression bomb.

    A rate below ``min_rate`` is not speech audio (an 8 Hz or 1 Hz header turns 50 KB into an hour of
    audio once resampled), nor is a rate above :data:`MAX_SAMPLE_RATE` or more than
    :data:`MAX_SAMPLES_PER_SECOND` samples a second (channels x rate); more than ``max_seconds`` of
    declared audio raises :class:`emovox.errors.AudioLimitError`.

    Parameters
    ----------
    name : str
        The input as errors name it.
    sample_rate : int
        The header's rate in Hz.
    frames : int
        The frames the header declares (0: unknown, not checked against ``max_seconds``).
    max_seconds : float, optional
        Longest audio accepted (default None: no limit).
    min_rate : int
        Lowest rate accepted in Hz (default :data:`MIN_SAMPLE_RATE`, 4000).
    channels : int
        The header's channel count (default 1).

    Returns
    -------
    None
        Raises :class:`~emovox.errors.AudioError` (:class:`~emovox.errors.AudioLimitError` for the length).

    Examples
    --------
    >>> check_header("a.wav", 16000, 32000, max_seconds=10)
    >>> check_header("a.wav", 8, 100)
    Traceback (most recent call last):
    ...
    emovox.errors.AudioError: a.wav: sample rate of 8 Hz is below 4000 Hz: not speech audio (a forged or broken header?)
    >>> check_header("a.wav", 16000, 20 * 16000, max_seconds=10)
    Traceback (most recent call last):
    ...
    emovox.errors.AudioLimitError: a.wav: the header declares 20 s of audio, more than the limit of 10 s
    """
    if sample_rate < min_rate:
        raise AudioError(
            f"{name}: sample rate of {sample_rate} Hz is below {min_rate} Hz: not speech audio "
            "(a forged or broken header?)"
        )
    if sample_rate > MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name}: sample rate of {sample_rate} Hz is above {MAX_SAMPLE_RATE} Hz: not a speech recording "
            "(a forged or broken header?)"
        )
    if channels * sample_rate > MAX_SAMPLES_PER_SECOND:
        raise AudioError(
            f"{name}: {channels} channels at {sample_rate} Hz are more than emovox decodes "
            f"({MAX_SAMPLES_PER_SECOND // 48000} channels at 48 kHz): not a speech recording"
        )
    if max_seconds is not None and frames and frames / sample_rate > max_seconds:
        raise AudioLimitError(
            f"{name}: the header declares {_seconds(frames / sample_rate, max_seconds)} s of audio, more than "
            f"the limit of {max_seconds:g} s"
        )


def _seconds(seconds: float, limit: float) -> str:
    """``seconds`` rounded only as far as keeps it above ``limit`` (1.9 s, not "2 s", against 1.5 s)."""
    for digits in (1, 2, 3):
        if (shown := round(seconds, digits)) > limit:
            return f"{shown:g}"
    return f"{seconds:g}"


# ------------------------------------------------------------------ the container's own length, at its ends
def _ends(source: Path | bytes, size: int) -> tuple[bytes, int, bytes]:
    """The first :data:`~emovox.audio.containers.END_BYTES` of a file or of encoded bytes after an ID3v2
    tag, that tag's size, and the last bytes; empty when the file cannot be read (the decoder says why)."""
    n = containers.END_BYTES
    if isinstance(source, bytes):
        skip = containers.id3v2_size(source[:10])
        return source[skip : skip + n], skip, source[max(0, size - n) :]
    try:
        with open(source, "rb") as fh:
            head = fh.read(n)
            if skip := containers.id3v2_size(head):
                fh.seek(skip)
                head = fh.read(n)
            fh.seek(max(0, size - n))
            return head, skip, fh.read(n)
    except OSError:
        return b"", 0, b""


class _OggEnd:
    """What an Ogg file's last page says its first stream holds (``frames`` at the decoder's rate, within
    ``slack``), and whether a damaged or cut page follows it: checked once libsndfile has stopped."""

    def __init__(self, frames: int, slack: int, damaged_end: bool) -> None:
        self.frames, self.slack, self.damaged_end = frames, slack, damaged_end

    def check(self, total: int, sr: int, name: str) -> None:
        if total + self.slack < self.frames:
            raise AudioError(
                f"{name}: corrupt: decoding stopped at {total / sr:.2f} s of the {self.frames / sr:.2f} s its "
                "last Ogg page declares (a damaged page)"
            )
        if self.damaged_end:
            raise AudioError(
                f"{name}: corrupt: its last Ogg page is damaged or cut short (decoding stopped at "
                f"{total / sr:.2f} s)"
            )


def _container_end(f, source: Path | bytes, size: int, name: str) -> _OggEnd | None:
    """Compare what libsndfile was told of a file's length with what the container's own tail says, before
    a block is read: a FLAC whose STREAMINFO, or an MP3 whose Xing/Info tag, understates its length (which
    libsndfile decodes only so far, silently) or a chained Ogg file (whose first stream only it reads)
    raises ``NotSndfile`` for ffmpeg to read it whole. An Ogg stream gives what its last page declares, for
    :meth:`_OggEnd.check` once decoding stopped (a damaged page stops libsndfile, silently too).

    Reads at most :data:`~emovox.audio.containers.END_BYTES` at each end; a file it cannot make sense of
    is left to the decoder (None).
    """
    fmt, sr, declared = str(f.format), int(f.samplerate), _declared_frames(f)
    if fmt not in ("OGG", "FLAC", "MP3") or size <= 0:
        return None
    head, skip, tail = _ends(source, size)
    whole = size <= containers.END_BYTES  # the tail is the whole file
    if fmt == "OGG":
        first, last = containers.ogg_head(head), containers.ogg_tail(tail, at_start=whole)
        if first is None or last is None:
            return None
        if last.bos_at or last.last.serial != first.serial:
            raise NotSndfile(
                f"{name}: a chained Ogg file (several streams one after another), of which only the first "
                "is read without ffmpeg: install ffmpeg",
                damage_known=True,
            )
        frames = containers.ogg_frames(first, last, sr)
        # a page or so of slack: the first audio page's granule bounds both a page's worth of audio and a
        # stream whose granules do not start at zero (one cut from a broadcast)
        start = first.first_granule if first.first_granule > 0 else 0
        slack = max(start * sr // 48000 if first.codec == "opus" else start, sr // 10)
        return _OggEnd(frames, slack, last.damaged_end)
    if fmt == "FLAC" and declared:
        info = containers.flac_streaminfo(head)
        end = containers.flac_end(tail, info) if info is not None and info.rate == sr else None
        if end is not None and end > declared:
            raise NotSndfile(
                f"{name}: corrupt FLAC header: its STREAMINFO declares {declared / sr:.2f} s but its frames run "
                f"on to {end / sr:.2f} s, which only ffmpeg reads whole here: install ffmpeg",
                damage_known=True,
            )
    if fmt == "MP3" and declared:
        runs_on = _mp3_runs_on(head, skip, tail, size)
        if runs_on is not None:
            raise NotSndfile(
                f"{name}: its Xing/Info tag declares {declared / sr:.2f} s but the MPEG stream runs on "
                f"{runs_on}, which only ffmpeg reads whole here: install ffmpeg",
                damage_known=True,
            )
    return None


def _flac_frames(source: Path | bytes, fmt: str, sr: int, frames: int) -> int:
    """``frames`` as libsndfile reports them, or, for a FLAC whose STREAMINFO understates them, the end of
    its last frame (what ffmpeg decodes): the length :func:`audio_info` and :func:`audio_duration` report."""
    if fmt != "FLAC" or not 0 < frames < 2**62:
        return frames
    size = len(source) if isinstance(source, bytes) else file_size(str(source))
    head, _, tail = _ends(source, size)
    info = containers.flac_streaminfo(head)
    end = containers.flac_end(tail, info) if info is not None and info.rate == sr else None
    return max(frames, end or 0)


def _mp3_runs_on(head: bytes, skip: int, tail: bytes, size: int) -> str | None:
    """How far past its Xing/Info tag's length an MP3's frames go ("to about 12 s"), or None when they do
    not (or it cannot tell): libmpg123 trusts the tag's frame count and stops there. Two tells: more bytes
    of frames than the tag's byte count (two MP3 files joined), and, for a constant bit rate (an Info tag,
    whose frames all have one length), more frames than it declares. ``skip``: the ID3v2 tag's bytes before
    ``head``."""
    tag = containers.xing_tag(head)
    if tag is None or tag.frames is None:
        return None
    found = containers.mp3_stream_end(tail, size, tag.frame)
    if found is None:
        return None
    # the tag's own frame holds no audio, and its bit rate may be its own (LAME takes one the tag fits in)
    end, frame = found[0] - skip, found[1]
    start = tag.frame.length
    if tag.bytes is not None and end - tag.bytes > max(8 * frame.length, tag.bytes // 50):
        seconds = tag.frames * frame.samples / frame.rate * (end - start) / max(1, tag.bytes - start)
        return f"to about {seconds:.1f} s ({end - tag.bytes} bytes more than the tag counts)"
    if tag.cbr:
        frames = (end - start) * 8 * frame.rate / (frame.samples * frame.bitrate)
        if frames - tag.frames > max(8, tag.frames / 50):
            return f"to about {frames * frame.samples / frame.rate:.1f} s ({frames - tag.frames:.0f} frames more)"
    return None


def _open(source: Path | bytes, name: str, mp3: bool, quiet: bool):
    """An open ``soundfile.SoundFile``; None when libsndfile does not know the format (try ffmpeg).
    ``quiet``: libmpg123 may speak (an MP3, or bytes no container claims, which libsndfile probes as MP3)."""
    sf = _sf()
    try:
        with _quiet_stderr(quiet):
            return sf.SoundFile(io.BytesIO(source) if isinstance(source, bytes) else os.fsencode(source))
    except sf.LibsndfileError as exc:
        # (a file's first bytes, not its size: /proc and other virtual files say 0 and hold text)
        if not (source if isinstance(source, bytes) else file_head(source)):
            raise AudioError(f"{name}: empty file (zero bytes)") from None
        text = str(exc).lower()
        if "unknown format" in text or "format not recognised" in text:
            return None
        if mp3:
            raise NotSndfile(f"{name}: not audio or corrupt (no valid MP3 stream)") from None
        if "does not exist" in text:  # libsndfile's words when its last guess, an MP3 stream, fails too
            raise NotSndfile(f"{name}: not audio or corrupt (no audio stream found in it)") from None
        raise NotSndfile(f"{name}: not audio or corrupt ({_short(exc)})") from None
    except (RuntimeError, ValueError) as exc:
        raise AudioError(f"{name}: corrupt or truncated ({_short(exc)})") from None


def read_blocks(
    source: Path | bytes,
    name: str,
    *,
    max_seconds: float | None,
    min_rate: int,
    block_seconds: float = 30.0,
    on_open=None,
) -> Iterator[np.ndarray]:
    """Raw ``(frames, channels)`` float32 blocks of a libsndfile-readable input, checked on the way:
    ``block_seconds`` each, or fewer frames where many channels would pass :data:`BLOCK_SAMPLES`.

    The header is checked first (:func:`check_header`), nothing is allocated from its claims, and the
    end is checked against them: fewer frames than declared (a cut file, or a forged STREAMINFO claiming
    2^36 samples) raises, except for MP3, whose declared length is an estimate. ``on_open(samplerate,
    channels, declared)`` is called once opened. Raises ``NotSndfile`` when libsndfile does not know the
    format (the caller tries ffmpeg).

    Parameters
    ----------
    source : Path or bytes
        A file, or the bytes of an encoded file (:func:`checked_source`).
    name : str
        The input as errors name it.
    max_seconds : float or None
        Longest audio accepted (None: no limit).
    min_rate : int
        Lowest sample rate accepted in Hz.
    block_seconds : float
        Length of a block in seconds (default 30.0).
    on_open : callable, optional
        ``on_open(samplerate, channels, declared)``, called once the header is checked (default None).

    Yields
    ------
    numpy.ndarray
        float32 blocks ``(frames, channels)`` at the file's own rate, none empty.

    Examples
    --------
    >>> import io, soundfile
    >>> buf = io.BytesIO()
    >>> soundfile.write(buf, np.zeros(8000, np.float32), 8000, format="WAV", subtype="PCM_16")
    >>> [b.shape for b in read_blocks(buf.getvalue(), "a.wav", max_seconds=None, min_rate=4000, block_seconds=0.4)]
    [(3200, 1), (3200, 1), (1600, 1)]
    """
    data = source if isinstance(source, bytes) else None
    if data is None:
        try:
            with open(source, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise AudioError(f"{name}: unreadable ({exc.strerror or exc})") from None
    else:
        head = data[:16]
    mp3 = _looks_mp3(head, name)
    quiet = _may_chatter(head, name)
    f = _open(source, name, mp3, quiet)
    if f is None:
        raise NotSndfile
    sf = _sf()
    # an MPEG stream's frame count is an estimate (from its bit rate or a Xing/LAME tag), in a WAV too: it
    # may promise a few frames more than the stream holds, which is not a cut file
    mp3 = mp3 or str(f.subtype).startswith("MPEG_LAYER")
    quiet = quiet or mp3
    with f:
        sr, declared = int(f.samplerate), _declared_frames(f)
        channels = int(f.channels)
        check_header(name, sr, declared, max_seconds=max_seconds, min_rate=min_rate, channels=channels)
        if not declared and str(f.format) == "FLAC":  # written to a pipe: libsndfile fails mid-file
            raise NotSndfile(
                f"{name}: a FLAC stream of unknown length (written through a pipe), which only ffmpeg "
                "reads here: install ffmpeg",
                damage_known=True,
            )
        size = len(data) if data is not None else file_size(str(source))
        if int(f.frames) == 0 and str(f.format) in ("WAV", "WAVEX") and size > 4096:  # libsndfile reads none
            raise NotSndfile(
                f"{name}: its header declares no samples though {size} bytes follow (a recording stopped "
                "before its header was written), which only ffmpeg reads here: install ffmpeg",
                damage_known=True,
            )
        reason = _check_truncation(Path(source) if data is None else Path(), data)
        if reason:
            raise AudioError(f"{name}: {reason}")
        ogg_end = _container_end(f, source, size, name)
        if on_open is not None:
            on_open(sr, channels, declared)
        block = max(1, min(int(block_seconds * sr), BLOCK_SAMPLES // channels))
        limit = None if max_seconds is None else int(max_seconds * sr) + 1
        total = 0
        while True:
            check_cancelled()
            try:
                with _quiet_stderr(quiet):
                    y = f.read(block, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                raise AudioError(f"{name}: corrupt or truncated ({_short(exc)})") from None
            total += y.shape[0]
            if limit is not None and total > limit:
                raise AudioLimitError(f"{name}: more than the limit of {max_seconds:g} s of audio")
            if not np.all(np.isfinite(y)):
                raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
            if y.shape[0]:
                yield y
            if y.shape[0] < block:
                break
        if ogg_end is not None:  # a damaged Ogg page: libsndfile stopped there and said nothing
            ogg_end.check(total, sr, name)
        # an MPEG stream's declared length is an estimate, good to a few frames: a tenth short is a cut file
        if declared and total < declared * (0.9 if mp3 else 1.0):
            raise AudioError(
                f"{name}: truncated or forged header: it declares {declared} frames "
                f"({declared / sr:.0f} s), the file holds {total}"
            )


class NotSndfile(Exception):
    """Raised by :func:`read_blocks` when libsndfile does not read the input (the caller tries ffmpeg:
    :func:`ffmpeg_fallback`); never escapes :mod:`emovox.audio`. ``reason``: libsndfile's own complaint
    about a container it knows (a codec it lacks, such as Speex or G.722, or a corrupt header)."""

    def __init__(self, reason: str | None = None, *, damage_known: bool = False) -> None:
        super().__init__(reason)
        #: ``damage_known``: a file libsndfile knows but cannot read to its end (a FLAC of unknown length, a WAV
        #: header without sizes), ffmpeg's to read: its ``reason`` stands only when ffmpeg is missing, and
        #: ffmpeg's complaints about the broken header are not passed on
        self.reason, self.damage_known = reason, damage_known


def ffmpeg_fallback(
    refused: NotSndfile,
    source: Path | bytes,
    sr: int,
    name: str,
    max_seconds: float | None,
    chunk_samples: int = 30 * DEFAULT_SR,
) -> Iterator[np.ndarray]:
    """:func:`~emovox.audio.ffmpeg.stream_ffmpeg` of an input libsndfile did not read. Where libsndfile
    knew the container, its complaint stands when ffmpeg is missing or fails too (a corrupt FLAC is not an
    ffmpeg matter).

    Parameters
    ----------
    refused : NotSndfile
        libsndfile's refusal (its ``reason`` and ``damage_known``).
    source : Path or bytes
        A file, or the bytes of an encoded file.
    sr : int
        Output rate in Hz.
    name : str
        The input as errors name it.
    max_seconds : float or None
        Longest audio accepted (None: no limit).
    chunk_samples : int
        Samples per chunk (default ``30 * DEFAULT_SR``: 30 s at 16 kHz).

    Yields
    ------
    numpy.ndarray
        Mono float32 chunks at ``sr``.
    """
    data = source if isinstance(source, bytes) else None
    if refused.reason is not None and shutil.which("ffmpeg") is None:
        raise AudioError(refused.reason)
    reason = _check_truncation(Path(source) if data is None else Path(), data)  # ffmpeg reads a cut file too
    if reason:
        raise AudioError(f"{name}: {reason}")
    try:
        yield from stream_ffmpeg(
            str(source) if data is None else "",
            data,
            sr,
            name,
            max_seconds,
            chunk_samples,
            refused.damage_known,
        )
    except AudioLimitError:
        raise
    except AudioError:
        if refused.reason is None or refused.damage_known:
            raise
        raise AudioError(refused.reason) from None


def _read(source: Path | bytes, sr: int, name: str, max_seconds: float | None, min_rate: int) -> np.ndarray:
    """Decode a whole input (block by block, never trusting the header's length) to mono at ``sr``, each
    block resampled as it comes (the same samples as resampling the whole): memory follows ``sr``, not a
    header's rate (ten minutes at 600 kHz, a 664 KB FLAC of silence, held 1.4 GB before resampling)."""
    import soxr

    rate = [0]
    parts: list[np.ndarray] = []
    stream = None
    try:
        for block in read_blocks(
            source,
            name,
            max_seconds=max_seconds,
            min_rate=min_rate,
            on_open=lambda r, c, n: rate.__setitem__(0, r),
        ):
            x = to_mono(block).astype(np.float32, copy=False)
            if rate[0] != sr:
                stream = stream or soxr.ResampleStream(rate[0], sr, 1, dtype="float32", quality="HQ")
                x = stream.resample_chunk(x)
            parts.append(x)
        if stream is not None:  # what the filter still holds
            parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    except NotSndfile as refused:  # ffmpeg's chunks come at ``sr`` already
        parts = list(ffmpeg_fallback(refused, source, sr, name, max_seconds))
    y = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, np.float32))
    return y.astype(np.float32, copy=False)


def checked_source(source: str | os.PathLike | bytes, name: str) -> Path | bytes:
    """A path that exists, is a readable regular file, or non-empty bytes: what :func:`load_audio` and
    :func:`stream_audio` decode; anything else raises :class:`AudioError` naming ``name``.

    Parameters
    ----------
    source : str, PathLike or bytes
        A path, or encoded bytes (``bytearray`` and ``memoryview`` too).
    name : str
        The input as errors name it.

    Returns
    -------
    Path or bytes

    Examples
    --------
    >>> checked_source(bytearray(b"RIFF"), "a.wav")
    b'RIFF'
    >>> checked_source(b"", "a.wav")
    Traceback (most recent call last):
    ...
    emovox.errors.AudioError: a.wav: empty input (zero bytes)
    """
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise AudioError(f"{name}: empty input (zero bytes)")
        return bytes(source)
    if os.fspath(source) == "":  # Path("") is the current folder
        raise AudioError("'': an empty name, not a file")
    path = Path(source)
    _check_path(path, name)
    if not os.access(path, os.R_OK):
        raise AudioError(f"{name}: unreadable (permission denied)")
    if not path.is_file():
        from ..paths import not_a_file

        why = (not_a_file(path) or "not a regular file").removesuffix("; skipped")
        raise AudioError(f"{name}: {why}")
    return path


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
    max_seconds: float | None = None,
) -> np.ndarray:
    """Load audio as mono float32 at ``sr`` Hz.

    Files are read block by block: a header's claimed length is never allocated up front, and fewer
    frames than it declares (a cut file, a forged header) is an error. Files with a sample rate under
    :data:`MIN_SAMPLE_RATE` are refused as not speech audio.

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
    max_seconds : float, optional
        Refuse (:class:`emovox.errors.AudioLimitError`) a file or bytes holding more audio than this,
        from the header before decoding where it tells, else as soon as decoding passes it.

    Returns
    -------
    numpy.ndarray
        1-D float32 samples.

    Examples
    --------
    >>> import numpy as np
    >>> from emovox.audio import load_audio
    >>> bool(load_audio(np.ones(1600, dtype=np.int16), input_sr=16000).max() < 1e-3)
    True
    """
    if isinstance(source, np.ndarray):
        name = name or "<array>"
        sr = check_rate(sr, name, "sr")
        if input_sr is None:
            raise AudioError(f"{name}: input_sr is required when passing an array")
        input_sr = check_rate(input_sr, name, "input_sr")
        y = float_mono(source, name)
        y = resample(y, input_sr, sr) if y.size else y
    elif isinstance(source, bytes | bytearray | memoryview):
        name = name or "<bytes>"
        sr = check_rate(sr, name, "sr")
        y = _read(checked_source(source, name), sr, name, max_seconds, MIN_SAMPLE_RATE)
    elif isinstance(source, str | os.PathLike):
        name = name or str(Path(source))
        sr = check_rate(sr, name, "sr")
        y = _read(checked_source(source, name), sr, name, max_seconds, MIN_SAMPLE_RATE)
    else:
        raise AudioError(f"{name or '<input>'}: unsupported input type {type(source).__name__}")
    return _validate(np.ascontiguousarray(y, dtype=np.float32), sr, name, min_duration)


def audio_info(path: str | os.PathLike) -> dict:
    """Header facts of a file without decoding it: ``duration``, ``sample_rate``, ``channels``, ``frames``.

    A format libsndfile cannot read is decoded once, chunk by chunk, to learn its duration; its other facts
    are then None. A FLAC whose STREAMINFO understates its length reports its last frame's end (what the
    decoder reads, through ffmpeg).

    Parameters
    ----------
    path : str or path
        The audio file.

    Returns
    -------
    dict
        ``duration`` (float, seconds), ``sample_rate``, ``channels`` and ``frames`` (int or None).

    Raises
    ------
    AudioError
        When the file does not exist, is a directory, or cannot be decoded.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import tone
    >>> sf.write("tone.wav", tone(seconds=1.5), 16000)
    >>> audio_info("tone.wav")
    {'duration': 1.5, 'sample_rate': 16000, 'channels': 1, 'frames': 24000}
    """
    name = str(path)
    p = Path(path)
    _check_path(p, name)
    sf = _sf()
    try:
        with _quiet_stderr(_may_chatter(source_head(p), name)):
            info = sf.info(os.fsencode(p))
    except Exception:
        # Formats libsndfile can't read: decode once, block by block (bounded memory), to learn the length.
        return {"duration": _decoded_seconds(p, name), "sample_rate": None, "channels": None, "frames": None}
    frames = _flac_frames(p, info.format, info.samplerate, info.frames)
    return {
        "duration": frames / info.samplerate if info.samplerate else 0.0,
        "sample_rate": info.samplerate,
        "channels": info.channels,
        "frames": frames,
    }


def _decoded_seconds(path: Path, name: str) -> float:
    """Seconds of audio in a file, counted as it decodes (never held whole: an hour of m4a held 230 MB)."""
    rate, n = [0], 0
    source = checked_source(path, name)
    try:
        for block in read_blocks(
            source,
            name,
            max_seconds=None,
            min_rate=MIN_SAMPLE_RATE,
            on_open=lambda r, c, f: rate.__setitem__(0, r),
        ):
            n += len(block)
        return n / rate[0] if rate[0] else 0.0
    except NotSndfile as refused:  # ffmpeg's chunks come at DEFAULT_SR
        return sum(len(c) for c in ffmpeg_fallback(refused, source, DEFAULT_SR, name, None)) / DEFAULT_SR


def audio_duration(source: str | os.PathLike | bytes) -> float | None:
    """Seconds of audio the header of a file (or encoded bytes) declares; None when it does not tell
    (ffmpeg-only formats, unreadable files: the decoder then explains).

    Parameters
    ----------
    source : str, path or bytes
        A file, or encoded bytes; anything but a regular file (a named pipe) gives None unread.

    Returns
    -------
    float or None
        The declared duration in seconds; never raises.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import tone
    >>> sf.write("tone.wav", tone(seconds=1.5), 16000)
    >>> audio_duration("tone.wav")
    1.5
    >>> audio_duration(open("tone.wav", "rb").read())
    1.5
    >>> audio_duration(b"not audio") is None
    True
    """
    sf = _sf()
    is_bytes = isinstance(source, bytes | bytearray | memoryview)
    if not is_bytes and not os.path.isfile(source):  # a named pipe would block the header read forever
        return None
    try:
        with _quiet_stderr(_may_chatter(source_head(source), "" if is_bytes else str(source))):
            with sf.SoundFile(io.BytesIO(bytes(source)) if is_bytes else os.fsencode(Path(source))) as f:
                sr, n = f.samplerate, _declared_frames(f)
                n = _flac_frames(bytes(source) if is_bytes else Path(source), str(f.format), sr, n)
    except Exception:  # noqa: BLE001 - any failure: the decoder reports it properly
        return None
    return n / sr if sr > 0 and n else None
