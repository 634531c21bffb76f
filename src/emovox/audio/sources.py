"""Audio sources: where live audio comes from.

A source is an iterable of mono float32 chunks at :attr:`sample_rate`. Four kinds cover the uses:

* :class:`MicrophoneSource` -- a sound card input through PortAudio (``sounddevice``);
* :class:`FileSource` with ``realtime=True`` -- a file played at the speed of a microphone;
* :class:`FileSource` -- a file as fast as it can be read, in bounded memory;
* :class:`ArraySource` -- an array or any iterator of arrays.

Everything downstream (the live view, the timeline, the picture session) takes any of them, which is how
they are tested without a microphone.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import AudioError, EmovoxError
from . import DEFAULT_MIN_DURATION, DEFAULT_SR, float_mono, stream_audio


class DeviceError(EmovoxError):
    """No usable audio input: PortAudio missing, no input device, or the device refused to open."""


class AudioSource:
    """Base class: iterate to get chunks. ``realtime`` says whether chunks arrive at the speed of sound.

    A subclass defines ``__iter__`` (mono float32 chunks at ``sample_rate``) and, when it holds a device,
    :meth:`close` (a file is opened and closed by its iterator).

    Attributes
    ----------
    sample_rate : int
        Rate of the chunks in Hz (default 16000).
    realtime : bool
        True when chunks arrive no faster than they would be heard (a microphone).
    name : str
        How the source is named in messages and errors.

    Examples
    --------
    >>> class Ones(AudioSource):
    ...     def __iter__(self):
    ...         yield np.ones(160, np.float32)
    >>> src = Ones()
    >>> src.sample_rate, src.realtime, [c.size for c in src]
    (16000, False, [160])
    """

    sample_rate: int = DEFAULT_SR
    realtime: bool = False
    name: str = "<source>"

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file (iteration also releases it when it ends).

        Calling it again, or on a source that holds nothing (an array), does nothing.

        Examples
        --------
        >>> src = ArraySource(np.zeros(1600, np.float32))
        >>> src.close()
        """


class ArraySource(AudioSource):
    """An array, or an iterator of arrays, as a source.

    Parameters
    ----------
    data : numpy.ndarray or iterable of numpy.ndarray
        One signal (cut into ``block_seconds`` chunks) or chunks as they come.
    sample_rate : int
        Rate of the samples.
    realtime : bool
        Pace the chunks to their duration, like a microphone would.
    block_seconds : float
        Chunk length when ``data`` is one array.
    name : str
        How the source is named in messages and errors (default ``"<array>"``).

    Notes
    -----
    Chunks come as mono float32 (:func:`~emovox.audio.signal.float_mono`): integer samples scaled to
    [-1, 1), channels mixed; one whole array peaking above :data:`~emovox.audio.signal.FULL_SCALE_LIMIT`
    (2.0: float samples on the integer scale) is brought to a peak of 1 (the chunks of an iterable are taken
    at their own scale).

    Examples
    --------
    >>> src = ArraySource(np.zeros(16000, np.float32), block_seconds=0.25)
    >>> [c.size for c in src]
    [4000, 4000, 4000, 4000]
    >>> [c.dtype for c in ArraySource([np.zeros(100), np.zeros(50)])]
    [dtype('float32'), dtype('float32')]
    """

    def __init__(
        self,
        data: np.ndarray | Iterable[np.ndarray],
        sample_rate: int = DEFAULT_SR,
        *,
        realtime: bool = False,
        block_seconds: float = 0.5,
        name: str = "<array>",
    ):
        self.data, self.sample_rate, self.realtime, self.name = data, int(sample_rate), realtime, name
        self.block = max(1, int(block_seconds * sample_rate))

    def _chunks(self) -> Iterator[np.ndarray]:
        # integer samples scaled, channels averaged (float_mono): never read as floats or interleaved
        if isinstance(self.data, np.ndarray):
            y = float_mono(self.data, self.name)
            for i in range(0, y.size, self.block):
                yield y[i : i + self.block]
        else:
            for c in self.data:  # one chunk's peak cannot tell the stream's scale: taken as given
                yield float_mono(c, self.name, full_scale=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        chunks = self._chunks()
        yield from (_paced(chunks, self.sample_rate) if self.realtime else chunks)


class FileSource(AudioSource):
    """A file as a source, read in chunks (memory bounded whatever the file's length).

    Parameters
    ----------
    path : path
        Any file :func:`emovox.stream_audio` reads.
    sample_rate : int
        Rate the file is resampled to.
    realtime : bool
        Deliver the audio no faster than it would be heard, in ``block_seconds`` blocks (a microphone
        stand-in); otherwise as fast as possible in large chunks.
    speed : float
        With ``realtime``, play this many times faster than real time (tests, demos).
    block_seconds : float
        Block length in real-time mode (a sound card's period).
    chunk_seconds : float
        Length of the chunks the file is decoded in (and delivered in, without ``realtime``; default 30).
    duration : float, optional
        Stop after this many seconds of audio.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import tone
    >>> sf.write("tone.wav", tone(seconds=1.0), 16000)
    >>> [c.size for c in FileSource("tone.wav")]
    [16000]
    >>> [c.size for c in FileSource("tone.wav", realtime=True, speed=100, block_seconds=0.25)]
    [4000, 4000, 4000, 4000]
    >>> [c.size for c in FileSource("tone.wav", duration=0.5)]
    [8000]
    """

    def __init__(
        self,
        path: str | os.PathLike,
        sample_rate: int = DEFAULT_SR,
        *,
        realtime: bool = False,
        speed: float = 1.0,
        block_seconds: float = 0.03,
        chunk_seconds: float = 30.0,
        duration: float | None = None,
    ):
        self.path, self.sample_rate, self.realtime = Path(path), int(sample_rate), realtime
        self.speed, self.name = float(speed), str(path)
        self.block = max(1, int(block_seconds * sample_rate))
        self.chunk_seconds, self.duration = chunk_seconds, duration

    def __iter__(self) -> Iterator[np.ndarray]:
        chunks = stream_audio(
            self.path, self.sample_rate, chunk_seconds=self.chunk_seconds, min_duration=DEFAULT_MIN_DURATION
        )
        if self.duration is not None:
            chunks = _limit(chunks, int(round(self.duration * self.sample_rate)))
        if not self.realtime:
            yield from chunks
            return
        blocks = (c[i : i + self.block] for c in chunks for i in range(0, c.size, self.block))
        yield from _paced(blocks, self.sample_rate, self.speed)


def _limit(chunks: Iterable[np.ndarray], n: int) -> Iterator[np.ndarray]:
    for c in chunks:
        if n <= 0:
            return
        yield c[:n]
        n -= c.size


def _paced(chunks: Iterable[np.ndarray], sr: int, speed: float = 1.0) -> Iterator[np.ndarray]:
    """Yield each chunk once the clock has reached its end, as a sound card delivers a full period."""
    t0 = time.perf_counter()
    done = 0
    for c in chunks:
        done += c.size
        wait = t0 + done / (sr * speed) - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        yield c


# ---------------------------------------------------------------------------------------------- microphone
def sounddevice():
    """The ``sounddevice`` module, or :class:`DeviceError` saying why audio input is unavailable."""
    try:
        import sounddevice as sd
    except ImportError:
        raise DeviceError("audio input needs the sounddevice module (pip install sounddevice)") from None
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not installed
        raise DeviceError(
            f"audio input unavailable: {exc} (install PortAudio, e.g. "
            "'apt-get install libportaudio2' or 'brew install portaudio')"
        ) from None
    return sd


def input_devices() -> list[dict]:
    """Every device with input channels: ``index``, ``name``, ``channels``, ``default_samplerate``, ``default``.

    Returns
    -------
    list of dict
        One per input device, in PortAudio's order: ``index`` (int), ``name`` (str), ``channels`` (int, input
        channels), ``default_samplerate`` (float, Hz) and ``default`` (bool: the system's default input).
        Empty when PortAudio sees no input device.

    Raises
    ------
    DeviceError
        When ``sounddevice`` or PortAudio is missing, or the devices cannot be listed.

    Examples
    --------
    >>> [d["name"] for d in input_devices()]  # doctest: +SKIP
    ['HDA Intel PCH: ALC3246 Analog (hw:0,0)', 'pulse', 'default']
    """
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device is not None else -1
    except Exception as exc:
        raise DeviceError(f"cannot list audio devices ({exc})") from None
    if isinstance(devices, dict):  # one device comes back as a dict, not a list
        devices = [devices]
    out = []
    for i, d in enumerate(devices):
        if int(d.get("max_input_channels", 0)) > 0:
            out.append(
                {
                    "index": int(d.get("index", i)),
                    "name": d.get("name", f"device {i}"),
                    "channels": int(d["max_input_channels"]),
                    "default_samplerate": float(d.get("default_samplerate", 0) or 0),
                    "default": int(d.get("index", i)) == default_in,
                }
            )
    return out


def resolve_device(device: int | str | None) -> int | None:
    """The index of the requested input device (None: the default), or :class:`DeviceError`.

    Parameters
    ----------
    device : int, str or None
        A device index (an int, or a string of digits), part of a device's name (case-insensitive, the
        first match), or None / ``""`` for the default input.

    Returns
    -------
    int or None
        The device's index; None for PortAudio's default input (the first input device when none is
        set as default).

    Raises
    ------
    DeviceError
        When there is no input device, or none with that index or name.

    Examples
    --------
    >>> resolve_device(None), resolve_device("usb")  # doctest: +SKIP
    (None, 2)
    """
    devices = input_devices()
    if not devices:
        raise DeviceError(
            "no audio input device found (is a microphone connected? "
            "'emovox listen --list-devices' shows what PortAudio sees)"
        )
    if device is None or device == "":
        if any(d["default"] for d in devices):
            return None
        return devices[0]["index"]  # no default set (common on Linux servers): take the first input
    if isinstance(device, int) or str(device).isdigit():
        idx = int(device)
        if any(d["index"] == idx for d in devices):
            return idx
        raise DeviceError(
            f"input device {idx} does not exist or has no input channels (see 'emovox listen --list-devices')"
        )
    matches = [d for d in devices if str(device).lower() in d["name"].lower()]
    if not matches:
        raise DeviceError(f"no input device matches {device!r} (see 'emovox listen --list-devices')")
    return matches[0]["index"]


class MicrophoneSource(AudioSource):
    """The default (or a chosen) microphone through PortAudio, mono at ``sample_rate``.

    Parameters
    ----------
    device : int or str, optional
        Device index or part of its name; the system default when omitted.
    sample_rate : int
        Recording rate (16 kHz: what the models and the VAD want; PortAudio resamples when the card
        runs at another rate).
    block_seconds : float
        Period of the sound card callback, which bounds the delay before audio reaches the detector.
    duration : float, optional
        Stop after this many seconds (endless otherwise; Ctrl-C ends it too).

    Attributes
    ----------
    device : int or None
        The resolved device index (None: PortAudio's default input).
    overflows : int
        How many times the card's buffer overflowed (audio lost because chunks were not read in time).

    Raises
    ------
    DeviceError
        At construction when there is no such input device; while iterating when the device cannot be
        opened at ``sample_rate`` or stops delivering audio.

    Examples
    --------
    >>> mic = MicrophoneSource(duration=2.0)  # doctest: +SKIP
    >>> sum(c.size for c in mic) / mic.sample_rate  # doctest: +SKIP
    2.0
    """

    realtime = True

    def __init__(
        self,
        device: int | str | None = None,
        sample_rate: int = DEFAULT_SR,
        *,
        block_seconds: float = 0.03,
        duration: float | None = None,
    ):
        self.sample_rate, self.duration = int(sample_rate), duration
        self.block = max(1, int(block_seconds * sample_rate))
        self.device = resolve_device(device)  # fails here, before anything is shown, when there is none
        self.name = f"microphone {self.device if self.device is not None else '(default)'}"
        self.overflows = 0
        self._stream = None

    def __iter__(self) -> Iterator[np.ndarray]:
        sd = sounddevice()
        q: queue.Queue[np.ndarray] = queue.Queue()

        def callback(indata, frames, time_info, status):  # runs on PortAudio's thread: copy and leave
            if status.input_overflow:
                self.overflows += 1
            q.put(indata[:, 0].copy())

        try:
            self._stream = sd.InputStream(
                samplerate=self.sample_rate,
                blocksize=self.block,
                device=self.device,
                channels=1,
                dtype="float32",
                callback=callback,
            )
            self._stream.start()
        except Exception as exc:
            raise DeviceError(f"cannot open {self.name} at {self.sample_rate} Hz ({exc})") from None
        limit = int(self.duration * self.sample_rate) if self.duration else None
        got = 0
        try:
            while limit is None or got < limit:
                try:
                    c = q.get(timeout=2.0)
                except queue.Empty:
                    raise DeviceError(f"{self.name} stopped delivering audio") from None
                if limit is not None:
                    c = c[: limit - got]
                got += c.size
                yield c
        finally:
            self.close()

    def close(self) -> None:
        """Stop and release the input device (again: nothing).

        Iteration calls it when it ends (or is stopped); call it to stop a stream read only in part.

        Examples
        --------
        >>> mic = MicrophoneSource()  # doctest: +SKIP
        >>> first = next(iter(mic))  # doctest: +SKIP
        >>> mic.close()  # doctest: +SKIP
        """
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None


def open_source(
    source: AudioSource | str | os.PathLike | np.ndarray | Iterable[np.ndarray], sample_rate: int = DEFAULT_SR
) -> AudioSource:
    """Turn a path, an array (at ``sample_rate``), an iterator of arrays, or a source into a source.

    Parameters
    ----------
    source : AudioSource, str, PathLike, numpy.ndarray or iterable of numpy.ndarray
        What to read; a source is returned as it is.
    sample_rate : int
        The rate a file is read at, or an array's rate (default ``DEFAULT_SR``, 16000).

    Returns
    -------
    AudioSource
        A :class:`FileSource` or :class:`ArraySource` (anything else raises :class:`EmovoxError`).

    Examples
    --------
    >>> src = open_source(np.zeros(16000, np.float32))
    >>> type(src).__name__, src.sample_rate, [c.size for c in src]
    ('ArraySource', 16000, [8000, 8000])
    """
    if isinstance(source, AudioSource):
        return source
    if isinstance(source, str | os.PathLike):
        return FileSource(source, sample_rate)
    if isinstance(source, np.ndarray) or isinstance(source, Iterable):
        return ArraySource(source, sample_rate)
    raise EmovoxError(f"not an audio source: {type(source).__name__}")


class Recorder(AudioSource):
    """Tee a source into a WAV file while passing its chunks on (``listen --save``).

    Parameters
    ----------
    source : AudioSource
        The source recorded; ``sample_rate``, ``realtime`` and ``name`` are its own.
    path : str or PathLike
        The WAV file written (16-bit PCM, mono, at the source's rate; its folder is made). It is written as
        the chunks are read, and complete once iteration ends or :meth:`close` is called.

    Examples
    --------
    >>> import soundfile as sf
    >>> rec = Recorder(ArraySource(np.zeros(16000, np.float32)), "rec/heard.wav")
    >>> sum(c.size for c in rec)
    16000
    >>> sf.info("rec/heard.wav").duration
    1.0
    """

    def __init__(self, source: AudioSource, path: str | os.PathLike):
        self.source, self.path = source, Path(path)
        self.sample_rate, self.realtime, self.name = source.sample_rate, source.realtime, source.name

    def __iter__(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        from ..paths import display_path, write_failure

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with sf.SoundFile(self.path, "w", samplerate=self.sample_rate, channels=1, subtype="PCM_16") as f:
                for c in self.source:
                    f.write(c)
                    yield c
        except sf.SoundFileError as exc:  # (its "System error." hides a full disk or a file-size limit)
            raise AudioError(
                f"{display_path(self.path)}: not written ({write_failure(self.path, exc)})"
            ) from None

    def close(self) -> None:
        """Close the source, and with it the WAV being written (complete once closed).

        Examples
        --------
        >>> rec = Recorder(ArraySource(np.zeros(1600, np.float32)), "part.wav")
        >>> first = next(iter(rec))
        >>> rec.close()
        """
        self.source.close()


def take(chunks: Iterator[np.ndarray], n: int, carry: list[np.ndarray]) -> np.ndarray:
    """Exactly ``n`` samples from ``chunks`` (fewer at the end), keeping the excess in ``carry``.

    Parameters
    ----------
    chunks : iterator of numpy.ndarray
        The stream, read only as far as needed.
    n : int
        Samples wanted.
    carry : list of numpy.ndarray
        What an earlier call left over, used first; replaced by this call's excess (by everything read,
        when Ctrl-C stops the reading: a caller that stops there keeps what was read).

    Returns
    -------
    numpy.ndarray
        ``n`` samples, or fewer when the stream ends.

    Examples
    --------
    >>> carry = []
    >>> take(iter([np.arange(3.0), np.arange(3.0)]), 4, carry), carry
    (array([0., 1., 2., 0.]), [array([1., 2.])])
    >>> take(iter([]), 4, carry), carry
    (array([1., 2.]), [])
    """
    parts, have = list(carry), sum(c.size for c in carry)
    carry.clear()
    try:
        while have < n:
            c = next(chunks, None)
            if c is None:
                break
            parts.append(c)
            have += c.size
    except KeyboardInterrupt:
        carry[:] = parts
        raise
    y = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    if y.size > n:
        carry.append(y[n:])
        y = y[:n]
    return y
