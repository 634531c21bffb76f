"""Streaming: long audio read in bounded memory. :func:`stream_audio` yields a file as consecutive chunks
at the wanted rate (block reads from :mod:`emovox.audio.decode`, resampled on the fly, with the same
checks as :func:`emovox.audio.load_audio` applied as the stream goes), and :func:`context_windows` turns
such a stream into overlapping windows with context on either side, checking for cancellation between
them."""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import AudioError, ParameterError
from .cancel import check_cancelled
from .decode import DEFAULT_SR, NotSndfile, checked_source, ffmpeg_fallback, read_blocks, source_head
from .signal import MIN_SAMPLE_RATE, check_rate, full_scale_gain, to_mono
from .sniff import sniff_format

#: Containers that hold float samples, which may be on another scale (``_integer_scale``).
FLOAT_CONTAINERS = ("wav", "w64", "aiff", "caf", "au")

#: Longer files are processed window by window (predict, features, convert, the API), never held whole.
STREAM_AFTER_SECONDS = 120.0


def context_windows(
    chunks: Iterable[np.ndarray], win: int, ctx: int
) -> Iterator[tuple[int, np.ndarray, int, int | None]]:
    """Window ``k`` of a stream of mono chunks, with ``ctx`` samples of context on either side, holding only
    about one window in memory: yields ``(k, segment, lo, n_total)`` where ``segment`` holds samples
    ``[lo, (k + 1) * win + ctx)`` of the stream (``lo = max(0, k * win - ctx)``; shorter at its end) and
    ``n_total`` is the stream's length once its end has been read, else None. The caller stops when the
    window it needs starts past the end; cancellation (:func:`emovox.audio.cancel.cancellable`) is checked between windows.

    Parameters
    ----------
    chunks : iterable of numpy.ndarray
        Mono chunks of any length.
    win : int
        Window length (the step) in samples.
    ctx : int
        Context on either side in samples.

    Yields
    ------
    tuple
        ``(k, segment, lo, n_total)`` as described above; the generator never ends by itself.

    Examples
    --------
    >>> from itertools import islice
    >>> [(k, seg.tolist(), lo, n) for k, seg, lo, n in islice(context_windows([np.arange(6.0)], 4, 1), 2)]
    [(0, [0.0, 1.0, 2.0, 3.0, 4.0], 0, None), (1, [3.0, 4.0, 5.0], 3, 6)]
    """
    buf, buf_start, it, done = np.zeros(0, np.float32), 0, iter(chunks), False
    k = 0
    while True:
        need = (k + 1) * win + ctx
        while not done and buf_start + buf.size < need:
            c = next(it, None)
            if c is None:
                done = True
            else:
                buf = np.concatenate([buf, np.asarray(c, np.float32)])
        lo = max(0, k * win - ctx)
        yield k, buf[lo - buf_start : need - buf_start], lo, (buf_start + buf.size if done else None)
        drop = max(0, (k + 1) * win - ctx - buf_start)
        buf, buf_start = buf[drop:], buf_start + drop
        k += 1
        check_cancelled()


def stream_audio(
    path: str | os.PathLike | bytes,
    sr: int = DEFAULT_SR,
    *,
    chunk_seconds: float = 30.0,
    max_seconds: float | None = None,
    min_duration: float = 0.0,
    mono: bool = True,
    name: str | None = None,
    full_scale: bool = True,
) -> Iterator[np.ndarray]:
    """Yield a long file as consecutive float32 chunks at ``sr`` Hz, keeping memory bounded.

    ``path`` may also be the bytes of an encoded file. Chunks are about ``chunk_seconds`` long (the last
    one shorter); concatenated they equal the resampled file. Mono by default; ``mono=False`` yields
    ``(frames, channels)`` chunks. The same checks as :func:`~emovox.audio.load_audio` apply, as the stream goes: the
    header first (rate, ``max_seconds``), then a file that ends before its header says, holds zero
    samples or less than ``min_duration`` seconds raises :class:`emovox.AudioError` (after the chunks
    read so far). Files libsndfile cannot open are decoded by ffmpeg, chunk by chunk as well. A float file
    on the integer scale is brought to a peak of 1 as ``load_audio`` brings it (its peak read ahead) unless
    ``full_scale`` is false (``emovox convert`` writes its samples, scaled by its own rule).

    Parameters
    ----------
    path : str, PathLike or bytes
        A file, or the bytes of an encoded file.
    sr : int
        Output rate in Hz (default ``DEFAULT_SR``, 16000).
    chunk_seconds : float
        Length of a chunk in seconds (default 30.0).
    max_seconds : float, optional
        Longest audio accepted (default None: no limit).
    min_duration : float
        Shortest audio accepted in seconds (default 0.0).
    mono : bool
        Mix channels down (default True). A format only ffmpeg reads (m4a, webm...) is mixed down by the
        decoder whatever this says: with ``mono=False`` its chunks are ``(n, 1)``.
    name : str, optional
        The input as errors name it (default None: the path, or ``"<bytes>"``).
    full_scale : bool
        Bring a float file on the integer scale to a peak of 1 (default True).

    Yields
    ------
    numpy.ndarray
        float32 chunks at ``sr``: ``(n,)``, or ``(n, channels)`` with ``mono=False`` (``(n, 1)`` through
        ffmpeg).

    Examples
    --------
    >>> import io, soundfile
    >>> buf = io.BytesIO()
    >>> soundfile.write(buf, np.zeros(8000, np.float32), 8000, format="WAV", subtype="PCM_16")
    >>> [c.shape for c in stream_audio(buf.getvalue(), 8000, chunk_seconds=0.25)]
    [(2000,), (2000,), (2000,), (2000,)]
    >>> sum(c.size for c in stream_audio(buf.getvalue(), 16000))
    16000
    """
    is_bytes = isinstance(path, bytes | bytearray | memoryview)
    name = name or ("<bytes>" if is_bytes else str(path))
    sr = check_rate(sr, name, "sr")
    if not chunk_seconds > 0:
        raise ParameterError(f"{name}: chunk_seconds must be > 0, got {chunk_seconds!r}")
    source = checked_source(path, name)
    import soxr

    state: dict = {}

    def opened(rate: int, channels: int, declared: int) -> None:
        state.update(rate=rate, channels=channels)

    scale = _integer_scale(source, name, max_seconds) if full_scale else 1.0
    total = 0
    blocks = read_blocks(
        source,
        name,
        max_seconds=max_seconds,
        min_rate=MIN_SAMPLE_RATE,
        block_seconds=chunk_seconds,
        on_open=opened,
    )
    rs = None
    try:
        pending = next(blocks, None)
        while pending is not None:
            nxt = next(blocks, None)
            x = to_mono(pending).astype(np.float32) if mono else pending
            if scale != 1.0:
                x = x * np.float32(scale)
            if rs is None and state["rate"] != sr:
                rs = soxr.ResampleStream(
                    state["rate"], sr, 1 if mono else state["channels"], dtype="float32", quality="HQ"
                )
            out = rs.resample_chunk(x, last=nxt is None) if rs is not None else x
            if len(out):
                total += len(out)
                yield out
            pending = nxt
    except NotSndfile as refused:
        for y in ffmpeg_fallback(refused, source, sr, name, max_seconds, max(1, int(chunk_seconds * sr))):
            total += len(y)
            yield y if mono else y[:, None]
    if total == 0:
        raise AudioError(f"{name}: zero samples (no audio after the header)")
    if total < min_duration * sr:
        raise AudioError(f"{name}: too short ({total / sr:.3f} s < minimum {min_duration:g} s)")


def whole_if_short(chunks: Callable[[], Iterator[np.ndarray]], max_samples: int) -> np.ndarray | None:
    """The whole of a stream (``chunks()``, as :func:`stream_audio` yields it) when it ends within
    ``max_samples``; None, having read no further, when it is longer. For sources whose header declares no
    length (m4a and other formats only ffmpeg reads), so that a short one is handled as a short file is.

    Parameters
    ----------
    chunks : callable
        Returns a fresh iterator of chunks (closed once read, when it has ``close``).
    max_samples : int
        The longest stream returned whole.

    Returns
    -------
    numpy.ndarray or None
        The concatenated chunks (an empty float32 array for none), or None when longer.

    Examples
    --------
    >>> import numpy as np
    >>> whole_if_short(lambda: iter([np.ones(3), np.ones(2)]), 10)
    array([1., 1., 1., 1., 1.])
    >>> whole_if_short(lambda: iter([np.ones(8), np.ones(8)]), 10) is None
    True
    """
    head, n = [], 0
    stream = chunks()
    try:
        for chunk in stream:
            head.append(chunk)
            n += len(chunk)
            if n > max_samples:
                return None
    finally:
        getattr(stream, "close", lambda: None)()  # a generator's decoder (ffmpeg) stops here
    return np.concatenate(head) if head else np.zeros(0, np.float32)


def _integer_scale(source: os.PathLike | bytes, name: str, max_seconds: float | None) -> float:
    """1, or what brings a float file on the integer scale (int16 values stored as floats) to a peak of 1,
    as :func:`~emovox.audio.load_audio` brings it: its whole peak, read ahead (float files only)."""
    import soundfile as sf

    if sniff_format(source_head(source)) not in FLOAT_CONTAINERS:  # nor probe an MP3: libmpg123 chatters
        return 1.0
    try:
        subtype = sf.info(io.BytesIO(source) if isinstance(source, bytes) else os.fsencode(source)).subtype
    except Exception:  # noqa: BLE001 - the decoder reports a bad file properly
        return 1.0
    if subtype not in ("FLOAT", "DOUBLE"):
        return 1.0
    try:
        if isinstance(source, bytes):
            return _peak_gain(source, name, max_seconds)
        st = os.stat(source)  # a long recording is streamed several times (speech check, gain, segments)
        return _file_peak_gain(os.fspath(source), st.st_size, st.st_mtime_ns, name, max_seconds)
    except NotSndfile:  # ffmpeg's to read (a header without sizes): its output is on the float scale
        return 1.0


@functools.lru_cache(maxsize=8)
def _file_peak_gain(path: str, size: int, mtime_ns: int, name: str, max_seconds: float | None) -> float:
    """:func:`_peak_gain` of a file as it was at ``size`` and ``mtime_ns`` (read once, not once a pass)."""
    return _peak_gain(Path(path), name, max_seconds)


def _peak_gain(source: Path | bytes, name: str, max_seconds: float | None) -> float:
    peak = 0.0
    for b in read_blocks(source, name, max_seconds=max_seconds, min_rate=MIN_SAMPLE_RATE):
        peak = max(peak, float(np.max(np.abs(to_mono(b)))))
    return full_scale_gain(peak)
