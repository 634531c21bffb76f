"""Streaming voice-activity segmentation with WebRTC's VAD.

Audio goes in as chunks of any size (:meth:`Segmenter.feed`); finished speech segments come out as soon
as the silence that ends them has been heard. The detector works on fixed frames (10, 20 or 30 ms), so
the result does not depend on how the input was chunked: a file read in 30 s blocks and the same file
played in 30 ms blocks give identical segments.

>>> import numpy as np
>>> from emovox.vad import Segmenter
>>> seg = Segmenter(sample_rate=16000)
>>> seg.feed(np.zeros(16000, dtype=np.float32)) + seg.flush()
[]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import EmovoxError, ParameterError, did_you_mean

#: Rates WebRTC's detector accepts.
VAD_RATES = (8000, 16000, 32000, 48000)


@dataclass
class Segment:
    """One stretch of speech, and once classified, its emotion.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the stream (padding included).
    samples : numpy.ndarray or None
        The segment's audio at the stream's rate; dropped once classified unless asked to keep it.
    part : int
        0 for a whole utterance; 1, 2, ... for the overlapping windows of speech longer than the maximum.
    emotion, confidence, probabilities
        Filled in by the classifier (:func:`emovox.live.iter_timeline`).
    speech, reason, uncertain
        ``speech`` False: the voice-activity detector fired on sound that the speech check
        (:mod:`emovox.speech`) found not to be speech, so there is no emotion; ``reason`` says what it found
        (as :attr:`emovox.inference.Prediction.reason`). ``uncertain``: low calibrated confidence.
    embedding : numpy.ndarray or None
        The model's representation of the segment, kept only for :func:`emovox.live.adapt_timeline`.
    sound_seconds : float or None
        Once classified, the seconds of sound its ``uncertain`` flag counted (without quiet edges): what a
        whole recording's answer adds up from its segments.
    left_out : dict
        Where the model predicts over some emotions only (:meth:`emovox.inference.EmotionModel.restrict`),
        the probability it gives each one left out, before renormalising (as
        :attr:`emovox.inference.Prediction.left_out`); empty otherwise.

    Examples
    --------
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> s.duration, s.label, s.speech
    (1.5, 'angry', True)
    """

    start: float
    end: float
    samples: np.ndarray | None = field(default=None, repr=False, compare=False)
    part: int = 0
    emotion: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    embedding: object = field(default=None, repr=False, compare=False)
    speech: bool = True
    uncertain: bool = False
    reason: str | None = None
    sound_seconds: float | None = field(default=None, repr=False, compare=False)
    left_out: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def first_left_out(self) -> tuple[str, float] | None:
        """The emotion the model would have given this segment, with its probability, where ``left_out``
        holds it (more probable than every emotion kept, before renormalising); None otherwise.

        Examples
        --------
        >>> s = Segment(0, 1, emotion="angry", confidence=0.75, probabilities={"angry": 0.75, "sad": 0.25})
        >>> s.left_out = {"disgust": 0.6}
        >>> s.first_left_out  # angry was 0.75 of the other 0.4: 0.3
        ('disgust', 0.6)
        """
        if not self.left_out or self.confidence is None:
            return None
        emotion, p = max(self.left_out.items(), key=lambda kv: kv[1])
        return (emotion, p) if p > self.confidence * (1.0 - sum(self.left_out.values())) else None

    @property
    def label(self) -> str | None:
        """The emotion, under the name :class:`emovox.inference.Prediction` and the plots use."""
        return self.emotion

    def to_dict(self, top_k: int | None = None) -> dict:
        """Plain values for CSV / JSON (no audio).

        Parameters
        ----------
        top_k : int, optional
            Keep only the ``top_k`` most probable emotions, most probable first; None (default): all of
            them, in the model's order.

        Returns
        -------
        dict
            ``start``, ``end``, ``part``, ``emotion``, ``confidence``, ``speech``, ``uncertain``, ``reason``,
            ``probabilities`` and, for an answer over some emotions, ``left_out`` and ``first_left_out``.

        Examples
        --------
        >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"sad": 0.3, "angry": 0.7})
        >>> s.to_dict(1)["probabilities"]
        {'angry': 0.7}
        """
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "part": self.part,
            "emotion": self.emotion,
            "confidence": self.confidence,
            "speech": self.speech,
            "uncertain": self.uncertain,
            "reason": self.reason,
            "probabilities": top_probabilities(self.probabilities, top_k),
        } | (
            {"left_out": dict(self.left_out), "first_left_out": _choice(self.first_left_out)}
            if self.left_out
            else {}
        )


def top_probabilities(probabilities: dict[str, float], k: int | None = None) -> dict[str, float]:
    """The ``k`` most probable emotions, most probable first (all of them when ``k`` is None).

    Parameters
    ----------
    probabilities : dict of str to float
        Emotion -> probability.
    k : int, optional
        How many to keep (default None; 0 too: all, in their order).

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> top_probabilities({"sad": 0.2, "angry": 0.7, "happy": 0.1}, 2)
    {'angry': 0.7, 'sad': 0.2}
    """
    if not k:
        return dict(probabilities)
    return dict(sorted(probabilities.items(), key=lambda kv: -kv[1])[:k])


def _choice(first: tuple[str, float] | None) -> dict | None:
    return None if first is None else {"emotion": first[0], "probability": first[1]}


@dataclass(frozen=True)
class VADOptions:
    """How speech is cut into segments.

    Parameters
    ----------
    aggressiveness : int
        WebRTC mode 0-3; higher rejects more non-speech (and more quiet speech).
    frame_ms : int
        Detector frame: 10, 20 or 30 ms.
    min_length : float
        Speech shorter than this (seconds, padding not counted) is dropped as a click or a cough.
    max_length : float
        Longer speech is cut into windows of this length (padding included)...
    overlap : float
        ...that overlap by this many seconds, so no emotion change falls between two windows.
    padding : float
        Seconds of context added before and after the detected speech.
    min_silence : float
        A pause at least this long ends a segment; shorter pauses stay inside it.
    energy_floor_db : float
        Frames quieter than this RMS level (dBFS) count as silence whatever WebRTC says: its low modes
        flag faint hiss as speech.

    Examples
    --------
    >>> opts = VADOptions(aggressiveness=3, max_length=5.0)
    >>> opts.min_length, opts.max_length
    (0.3, 5.0)
    >>> Segmenter(16000, opts).options == opts
    True
    """

    aggressiveness: int = 2
    frame_ms: int = 30
    min_length: float = 0.3
    max_length: float = 10.0
    overlap: float = 1.0
    padding: float = 0.2
    min_silence: float = 0.25
    energy_floor_db: float = -65.0

    def check(self) -> VADOptions:
        """These options, when every one can work; else a :class:`~emovox.errors.ParameterError` naming
        the first that cannot (an aggressiveness outside 0-3, a negative length, a minimum above the
        maximum...).

        Returns
        -------
        VADOptions
            ``self``.

        Examples
        --------
        >>> VADOptions(min_length=0.5).check().min_length
        0.5
        """
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ParameterError(f"VAD aggressiveness must be 0-3, got {self.aggressiveness}")
        if self.frame_ms not in (10, 20, 30):
            raise ParameterError(f"VAD frame must be 10, 20 or 30 ms, got {self.frame_ms}")
        lengths = {n: getattr(self, n) for n in ("min_length", "padding", "overlap", "min_silence")}
        if negative := [f"{n} ({v:g} s)" for n, v in lengths.items() if v < 0]:
            raise ParameterError(f"VAD lengths must not be negative: {', '.join(negative)}")
        if self.min_length > self.max_length:
            raise ParameterError(
                f"VAD min_length ({self.min_length:g} s) must not exceed max_length ({self.max_length:g} s)"
            )
        if self.max_length <= self.overlap or self.max_length <= 2 * self.padding:
            raise ParameterError(
                f"VAD max_length ({self.max_length:g} s) must exceed the overlap "
                f"({self.overlap:g} s) and twice the padding ({self.padding:g} s)"
            )
        return self


def _webrtcvad():
    try:
        import webrtcvad
    except ImportError:
        raise EmovoxError(
            "voice-activity detection needs the webrtcvad module (pip install webrtcvad-wheels)"
        ) from None
    return webrtcvad


class Segmenter:
    """Streaming speech segmenter: :meth:`feed` chunks, get finished :class:`Segment` objects.

    Parameters
    ----------
    sample_rate : int
        Rate of the fed audio, at least 8 kHz. WebRTC's detector takes 8, 16, 32 or 48 kHz; at any other
        rate (a deep model's 22.05 kHz) each frame is interpolated to the next of those up for the decision
        alone, and segments keep the fed samples.
    options : VADOptions, optional
        Segmentation settings; keyword arguments override single fields.
    keep_samples : bool
        Attach each segment's audio (``Segment.samples``), which a classifier needs (default True).
    **overrides
        Single :class:`VADOptions` fields over ``options`` (``min_silence=0.5``); an unknown name raises
        :class:`~emovox.errors.ParameterError`, naming the fields.

    Raises
    ------
    EmovoxError
        For a rate under 8 kHz (or not an integer), or when ``webrtcvad`` is not installed;
        :class:`~emovox.errors.ParameterError` (a subclass) for options that cannot work
        (:meth:`VADOptions.check`).

    Notes
    -----
    Memory stays bounded: during silence only ``padding`` seconds are kept, during speech at most
    ``max_length`` seconds.

    Examples
    --------
    A second of tone between two seconds of silence, fed in two chunks:

    >>> from emovox.audio.synthetic import silence, tone
    >>> y = np.concatenate([silence(1.0), tone(seconds=1.0), silence(1.0)])
    >>> seg = Segmenter(16000)
    >>> seg.feed(y[:32000])  # the tone has not ended yet
    []
    >>> [(s.start, s.end, s.part) for s in seg.feed(y[32000:])]
    [(0.78, 2.22, 0)]
    >>> seg.flush(), seg.position
    ([], 3.0)
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        options: VADOptions | None = None,
        *,
        keep_samples: bool = True,
        **overrides: float,
    ):
        if not isinstance(sample_rate, int | np.integer) or sample_rate < min(VAD_RATES):
            raise EmovoxError(
                f"voice-activity detection needs a rate of at least {min(VAD_RATES)} Hz, got {sample_rate}"
            )
        opts = options or VADOptions()
        if overrides:
            fields = list(VADOptions.__dataclass_fields__)
            if unknown := [k for k in overrides if k not in fields]:  # (a TypeError named neither)
                if unknown[0] in ("same_speaker", "same_channel"):  # predict_files' names, not listen's
                    raise ParameterError(
                        f"{unknown[0]}: a live stream adapts with adapt="
                        f"{unknown[0].removeprefix('same_')!r} (as listen --{unknown[0].replace('_', '-')})"
                    )
                raise ParameterError(
                    f"unknown segmentation option {unknown[0]!r}{did_you_mean(unknown[0], fields)}"
                    f"; expected {', '.join(fields)}"
                )
            opts = VADOptions(**{**opts.__dict__, **overrides})
        self.options = opts.check()
        self.sample_rate = int(sample_rate)
        self.keep_samples = keep_samples
        self._vad = _webrtcvad().Vad(opts.aggressiveness)
        # the next rate up the detector takes: interpolated up, a frame gains no alias (48 kHz above it)
        self._vad_rate = min((r for r in VAD_RATES if r >= self.sample_rate), default=max(VAD_RATES))
        self._flen = sample_rate * opts.frame_ms // 1000
        sr, fl = sample_rate, self._flen
        frames = lambda s: int(round(s * sr / fl))  # noqa: E731
        self._pad = frames(opts.padding)
        self._min_speech = max(1, frames(opts.min_length))
        self._max = max(1, int(opts.max_length * sr // fl))  # floor: a window never exceeds max_length
        self._step = max(1, self._max - frames(opts.overlap))
        # Waiting max(min_silence, padding) lets the trailing padding be real audio, not a guess.
        self._hang = max(1, frames(opts.min_silence), self._pad)
        self._floor = float(10 ** (opts.energy_floor_db / 20)) if opts.energy_floor_db > -200 else 0.0
        self.reset()

    def reset(self) -> None:
        """Forget everything fed so far; the next sample is time 0 again.

        Examples
        --------
        >>> seg = Segmenter(16000)
        >>> seg.feed(np.zeros(8000, np.float32)), seg.position
        ([], 0.5)
        >>> seg.reset()
        >>> seg.position
        0.0
        """
        self._rest = np.zeros(0, dtype=np.float32)
        self._seen = 0  # samples fed
        self._frames: deque[np.ndarray] = deque()  # kept audio, one array per frame
        self._first = 0  # frame index of self._frames[0]
        self._n = 0  # frames seen
        self._speech_start: int | None = None  # first voiced frame of the open segment
        self._win_start = 0  # frame where the open window starts (padding included)
        self._last_voiced = -1
        self._part = 0
        self._last_end = 0  # frame where the previous segment ended: the next may not start before it

    # ------------------------------------------------------------------------------------------------
    def is_speech(self, frame: np.ndarray) -> bool:
        """WebRTC's decision for one frame of float samples, gated by the energy floor.

        Parameters
        ----------
        frame : numpy.ndarray
            One frame (``options.frame_ms``) of mono float samples at :attr:`sample_rate`; interpolated to
            the detector's rate when it differs.

        Returns
        -------
        bool
            False for a frame under the energy floor, else WebRTC's decision.

        Examples
        --------
        >>> from emovox.audio.synthetic import tone
        >>> seg = Segmenter(16000)  # 30 ms frames: 480 samples
        >>> seg.is_speech(tone(seconds=0.03)), seg.is_speech(np.zeros(480, np.float32))
        (True, False)
        """
        if self._floor and float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) < self._floor:
            return False
        if self._vad_rate != self.sample_rate:
            n = self._vad_rate * self.options.frame_ms // 1000
            frame = np.interp(np.linspace(0, frame.size - 1, n), np.arange(frame.size), frame)
        pcm = (np.clip(frame, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        return self._vad.is_speech(pcm, self._vad_rate)

    def feed(self, chunk: np.ndarray) -> list[Segment]:
        """Push mono float samples of any length; return the segments this chunk completed (often none).

        Parameters
        ----------
        chunk : numpy.ndarray
            The next samples at :attr:`sample_rate` (flattened, as float32); a partial frame waits for the next
            chunk.

        Returns
        -------
        list of Segment
            The segments finished by this chunk, in time order (:meth:`flush` gives the last).

        Examples
        --------
        >>> from emovox.audio.synthetic import silence, tone
        >>> seg = Segmenter(16000)
        >>> seg.feed(np.concatenate([tone(seconds=1.0), silence(0.5)]))
        [Segment(start=0.0, end=1.23, part=0, ...)]
        """
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self._seen += chunk.size
        buf = np.concatenate([self._rest, chunk]) if self._rest.size else chunk
        n_full = buf.size // self._flen
        out: list[Segment] = []
        for i in range(n_full):
            out.extend(self._frame(buf[i * self._flen : (i + 1) * self._flen]))
        self._rest = buf[n_full * self._flen :].copy()
        return out

    def flush(self) -> list[Segment]:
        """End of stream: close the open segment, if any (its trailing padding is what audio there is).

        The segmenter can be fed again afterwards; its clock goes on (:meth:`reset` restarts it).

        Returns
        -------
        list of Segment
            The segments still open (none, or the last one), in time order.

        Examples
        --------
        >>> from emovox.audio.synthetic import silence, tone
        >>> seg = Segmenter(16000)
        >>> seg.feed(np.concatenate([silence(1.0), tone(seconds=1.0)]))  # the tone runs to the end
        []
        >>> seg.flush()
        [Segment(start=0.78, end=2.0, part=0, ...)]
        """
        out: list[Segment] = []
        if self._rest.size:
            # A partial last frame is padded with zeros for the detector but its real length is kept.
            tail = np.zeros(self._flen, dtype=np.float32)
            tail[: self._rest.size] = self._rest
            self._rest = np.zeros(0, dtype=np.float32)
            out.extend(self._frame(tail))
        if self._speech_start is not None:
            seg = self._close(min(self._n, self._last_voiced + 1 + self._pad))
            if seg is not None:
                out.append(seg)
        return out

    @property
    def position(self) -> float:
        """Seconds of audio fed so far."""
        return self._seen / self.sample_rate

    @property
    def step_seconds(self) -> float:
        """How far the next window of a long utterance starts after the start of the one before it: a
        window (``part`` 1, 2, ...) and the next overlap by ``max_length - step_seconds``."""
        return self._step * self._flen / self.sample_rate

    # ------------------------------------------------------------------------------------------------
    def _frame(self, frame: np.ndarray) -> Iterator[Segment]:
        idx = self._n
        self._n += 1
        self._frames.append(frame.copy() if self.keep_samples else frame[:0])
        voiced = self.is_speech(frame)
        if self._speech_start is None:
            if voiced:
                self._speech_start = idx
                self._win_start = max(idx - self._pad, self._first, self._last_end)
                self._last_voiced = idx
                self._part = 0
            else:
                self._trim(idx + 1 - self._pad)
            return
        if voiced:
            self._last_voiced = idx
        if idx - self._last_voiced >= self._hang:
            seg = self._close(self._last_voiced + 1 + self._pad)
            if seg is not None:
                yield seg
            self._trim(idx + 1 - self._pad)
            return
        if idx + 1 - self._win_start >= self._max:
            # Long speech: emit a full window now (bounded latency and memory), continue overlapped.
            self._part += 1
            yield self._make(self._win_start, idx + 1, self._part)
            self._win_start += self._step
            self._trim(self._win_start)

    def _close(self, end: int) -> Segment | None:
        start_speech, part = self._speech_start, self._part
        self._speech_start = None
        self._last_end = end
        if part:
            # Tail of a split utterance: emit it only if it holds speech the last window did not.
            if self._last_voiced + 1 <= self._win_start + (self._max - self._step):
                return None
            return self._make(self._win_start, end, part + 1)
        if self._last_voiced + 1 - start_speech < self._min_speech:
            return None
        return self._make(self._win_start, end, 0)

    def _make(self, start: int, end: int, part: int) -> Segment:
        samples = None
        if self.keep_samples:
            lo, hi = start - self._first, end - self._first
            samples = np.concatenate([self._frames[i] for i in range(lo, hi)])
        fl, sr = self._flen, self.sample_rate
        end_sample = min(end * fl, self._seen)  # a zero-padded last frame is not real audio
        if samples is not None:
            samples = samples[: end_sample - start * fl]
        return Segment(start * fl / sr, end_sample / sr, samples, part)

    def _trim(self, keep_from: int) -> None:
        while self._frames and self._first < keep_from:
            self._frames.popleft()
            self._first += 1


def segment(
    y: np.ndarray, sample_rate: int = 16000, options: VADOptions | None = None, **overrides: Any
) -> list[Segment]:
    """Speech segments of a whole signal (a convenience over :class:`Segmenter`).

    Parameters
    ----------
    y : numpy.ndarray
        The whole signal, mono.
    sample_rate : int
        Its rate in Hz, at least 8000 (default 16000).
    options : VADOptions, optional
        Segmentation settings; None (default): :class:`VADOptions` defaults.
    **overrides
        Single fields of :class:`VADOptions` (``aggressiveness=3``), or ``keep_samples`` of
        :class:`Segmenter`.

    Returns
    -------
    list of Segment
        The speech segments, in time order; empty when there is no speech.

    Examples
    --------
    >>> segment(np.zeros(16000, dtype=np.float32), aggressiveness=3)
    []
    >>> from emovox.audio.synthetic import silence, tone
    >>> y = np.concatenate([silence(1.0), tone(seconds=5.0), silence(1.0)])
    >>> [(s.start, s.end, s.part) for s in segment(y, max_length=3.0)]  # long: overlapping windows
    [(0.78, 3.78, 1), (2.79, 5.79, 2), (4.8, 6.21, 3)]
    """
    seg = Segmenter(sample_rate, options, **overrides)
    return seg.feed(y) + seg.flush()
