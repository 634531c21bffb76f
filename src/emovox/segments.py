"""Classified speech segments of a stream, for a loaded model: the core of emotion timelines
(:mod:`emovox.live.timeline`, which also loads models by name) and of the emotion of a long recording
(:meth:`emovox.inference.EmotionModel.timeline_prediction`, which is why this module loads no model).
The stream is cut by :mod:`emovox.vad` and read from :mod:`emovox.audio.sources`; prediction and the live
path both build on these three, so neither depends on the other."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import check_cancelled
from .audio.signal import FULL_SCALE_LIMIT, within_full_scale
from .audio.sources import open_source
from .errors import ParameterError
from .vad import Segment, Segmenter, VADOptions

if TYPE_CHECKING:
    from .inference import EmotionModel
    from .speech import SpeechCheck

logger = logging.getLogger(__name__)


def speech_pieces(model: EmotionModel, seg: Segment) -> list[tuple[Segment, Any]]:
    """A segment that holds its samples, cut to its utterances
    (:meth:`emovox.inference.EmotionModel.speech_parts`): the voice detector joins
    a tone, noise or music to the speech beside it, and the emotion (or the speech check) would be decided
    over both. A loud stretch without speech at an edge or between two utterances becomes a segment of its
    own, without speech. Each piece comes with the speech check of its samples (None for those without
    speech, and when the model checks nothing), for the classifier not to run it again.

    Parameters
    ----------
    model : EmotionModel
        The loaded model (its ``check_speech``, ``sample_rate`` and speech checks).
    seg : Segment
        A segment from :class:`~emovox.vad.Segmenter`; without ``samples`` it is returned as it is.

    Returns
    -------
    list of (Segment, SpeechCheck or None)
        The pieces in time order: ``[(seg, check)]`` when there is nothing to cut, else new segments
        (those without speech have ``speech=False``, a ``reason`` and no samples).
    """
    if not getattr(model, "check_speech", False) or seg.samples is None:
        return [(seg, None)]
    y, t0, sr = seg.samples, seg.start, int(model.sample_rate)
    check = model.speech(y)
    parts = model.speech_parts(y, check)
    if parts == [(0, y.size)]:
        return [(seg, check)]

    def without_speech(lo: int, hi: int) -> tuple[Segment, None]:
        gap = model.speech(y[lo:hi])
        why = "no voice beside the speech" if gap.speech else gap.reason
        return Segment(t0 + lo / sr, t0 + hi / sr, part=seg.part, speech=False, reason=why), None

    pieces = [without_speech(0, parts[0][0])] if parts[0][0] else []
    for k, (lo, hi) in enumerate(parts):
        if k:  # the stretch between two utterances
            pieces.append(without_speech(parts[k - 1][1], lo))
        piece = Segment(t0 + lo / sr, t0 + hi / sr, samples=y[lo:hi], part=seg.part)
        pieces.append((piece, check if (lo, hi) == (0, y.size) else model.speech(piece.samples)))
    if parts[-1][1] < y.size:
        pieces.append(without_speech(parts[-1][1], y.size))
    return pieces


def trim_to_speech(model: EmotionModel, seg: Segment):
    """Cut a loud edge without speech from a segment that holds its samples
    (:meth:`emovox.inference.EmotionModel.speech_span`). Returns the speech check
    of what is left (None when the model checks nothing), for the classifier not to run it again.

    Parameters
    ----------
    model : EmotionModel
        The loaded model.
    seg : Segment
        Changed in place: its ``samples``, ``start`` and ``end`` cut to the speech.

    Returns
    -------
    SpeechCheck or None
        The speech check of what is left; None when the model checks nothing or ``seg`` has no samples.
    """
    if not getattr(model, "check_speech", False) or seg.samples is None:
        return None
    check = model.speech(seg.samples)
    lo, hi = model.speech_span(seg.samples, check)
    if (lo, hi) == (0, seg.samples.size):
        return check
    sr = int(model.sample_rate)
    seg.samples = seg.samples[lo:hi]
    seg.start, seg.end = seg.start + lo / sr, seg.start + hi / sr
    return model.speech(seg.samples)


def classify(model: EmotionModel, seg: Segment, keep_embedding: bool = False, check: Any = None) -> Segment:
    """Fill in ``emotion``, ``confidence`` and ``probabilities`` of a segment that holds its samples; a
    segment that fails the model's speech check (or its speech head) gets ``speech=False`` and no emotion.
    ``check``: the speech check of its samples, from :func:`speech_pieces`; without it, long edges without
    speech are cut off first (:func:`trim_to_speech`).

    Parameters
    ----------
    model : EmotionModel
        The loaded model.
    seg : Segment
        Changed in place; must hold its ``samples`` at ``model.sample_rate``.
    keep_embedding : bool
        Keep the model's embedding in ``seg.embedding`` (default False).
    check : SpeechCheck, optional
        The speech check of ``seg.samples``; None (default): computed, after :func:`trim_to_speech`.

    Returns
    -------
    Segment
        ``seg``.

    Examples
    --------
    >>> import emovox
    >>> from emovox.audio.synthetic import tone
    >>> model = emovox.load_model()
    >>> s = classify(model, Segment(0.0, 1.0, samples=tone(seconds=1.0)))
    >>> s.speech, s.reason, s.emotion  # a tone fails the speech check
    (False, "no voice in the model's features ...", None)
    >>> s = classify(emovox.load_model(check_speech=False), Segment(0.0, 1.0, samples=tone(seconds=1.0)))
    >>> s.emotion in model.labels, round(sum(s.probabilities.values()), 6)
    (True, 1.0)
    """
    if check is None:
        check = trim_to_speech(model, seg)
    # past full scale (a gain, a float stream): scaled as the model would, without a note per segment
    # (the stream's is said once: _classified)
    no_speech, e = model.embed_speech(within_full_scale(seg.samples, None), check=check)
    if no_speech is not None:
        seg.speech, seg.reason = False, no_speech.reason
        return seg
    if keep_embedding:
        seg.embedding = e
    seconds = None if check is None else check.sound_seconds
    set_probabilities(model, seg, model.proba_from_embeddings(e, restricted=False)[0], seconds)
    return seg


def set_probabilities(model: EmotionModel, seg: Segment, p: np.ndarray, seconds: float | None = None) -> None:
    """Set a segment's emotion, confidence, ``uncertain`` flag (:func:`emovox.calibration.is_uncertain`: under
    a second of sound is; ``seconds``: its sound's, without quiet edges, else the segment's) and
    probabilities from ``p`` (over ``model.labels``, or over every emotion it knows: then those
    :meth:`~emovox.inference.EmotionModel.restrict` left out become ``left_out``).

    Parameters
    ----------
    model : EmotionModel
        Gives ``labels`` and ``uncertain_below``.
    seg : Segment
        Changed in place (also its ``sound_seconds``).
    p : numpy.ndarray
        Probabilities, shape ``(len(model.labels),)``, or ``(len(model.all_labels),)``
        (``proba_from_embeddings(..., restricted=False)``).
    seconds : float, optional
        Seconds of sound in the segment; None (default): its duration.
    """
    from .calibration import is_uncertain, restrict

    p = np.asarray(p, dtype=np.float64)
    if len(p) != len(model.labels):  # over every emotion: keep the model's, say what is left out
        every = list(model.all_labels)
        seg.left_out = {lab: float(v) for lab, v in zip(every, p, strict=True) if lab not in model.labels}
        p = restrict(p, every, list(model.labels))
    i = int(np.argmax(p))
    seg.emotion, seg.confidence = model.labels[i], float(p[i])
    seconds = seg.sound_seconds = seg.duration if seconds is None else seconds
    seg.uncertain = is_uncertain(float(p[i]), getattr(model, "uncertain_below", 0.0), seconds)
    seg.probabilities = {lab: float(v) for lab, v in zip(model.labels, p, strict=True)}


class RunningAdaptation:
    """Adapt a stream's segments as they come (a microphone, ``emovox listen --same-speaker`` /
    ``--same-channel``): each speech segment is scored together with the ``window`` speech segments before it,
    as one session of a speaker (or, ``channel``, of a recording channel) (:meth:`EmotionModel.proba_session
    <emovox.inference.EmotionModel.proba_session>`), so its emotion is final when it is shown.

    The first segments have little to compare with, and a session's offset is removed only as far as its
    predictions spread over the emotions (the channel's gate always; a speaker's where the model's metadata
    says so), so a stream of one emotion is scored about as it would be one segment at a time.
    :func:`emovox.live.adapt_timeline` re-scores a whole recording afterwards instead, every segment with all
    of them. Call it on each segment in order; it needs their embeddings (``keep_embeddings=True``) and
    releases them.

    >>> import emovox
    >>> from emovox.vad import Segment
    >>> model = emovox.load_model(check_speech=False)
    >>> adapt = RunningAdaptation(model, channel=True)
    >>> segs = [Segment(0.0, 2.0, embedding=model.embed(np.sin(np.arange(32000) * f)), speech=True) for f in (0.05, 0.1)]
    >>> [adapt(s).emotion in model.labels and s.embedding is None for s in segs]
    [True, True]
    """

    def __init__(self, model, channel: bool = False, window: int = 200) -> None:
        from collections import deque

        model.require_adaptation()
        if not (isinstance(window, int) and window >= 2):
            raise ParameterError(f"window: expected a whole number of segments >= 2, got {window!r}")
        self.model, self.channel = model, channel
        self._seen: deque = deque(maxlen=window)

    def __call__(self, seg: Segment) -> Segment:
        if not seg.speech or seg.embedding is None:  # nothing to adapt (no speech, or not embedded)
            return seg
        self._seen.append(seg.embedding)
        p = self.model.proba_session(list(self._seen), self.channel, report=False, restricted=False)[-1]
        set_probabilities(self.model, seg, p, seg.sound_seconds)
        seg.embedding = None
        return seg


#: A recording whose peak is under this is brought up to AUDIBLE_PEAK_DB before it is cut into segments:
#: the voice-activity detector takes frames under -65 dBFS for silence, and a quiet recording of sentences
#: lost them (a RAVDESS recording 20 dB down: "fearful (uncertain)" from scraps, where it is "sad").
QUIET_PEAK_DB = -30.0
AUDIBLE_PEAK_DB = -20.0


def audible_gain(peak: float) -> float:
    """The gain that brings a recording whose peak (linear, of the whole recording: nothing clips) is under
    :data:`QUIET_PEAK_DB` up to :data:`AUDIBLE_PEAK_DB`; 1 for any other (and for digital silence).

    Parameters
    ----------
    peak : float
        The recording's peak absolute sample value (1.0: full scale).

    Returns
    -------
    float
        The linear gain, at least 1.

    Examples
    --------
    >>> round(audible_gain(0.001), 1), audible_gain(0.5), audible_gain(0.0)
    (100.0, 1.0, 1.0)
    """
    if not 0.0 < peak < 10 ** (QUIET_PEAK_DB / 20):
        return 1.0
    return 10 ** (AUDIBLE_PEAK_DB / 20) / peak


class _Loudness:
    """A recording's peak and its speech-check level (the 20th-loudest frame, as
    :func:`emovox.speech.detect_speech` measures it), accumulated over chunks."""

    def __init__(self) -> None:
        self.peak, self._loud = 0.0, np.zeros(0)

    def feed(self, chunk: np.ndarray) -> None:
        from .speech import loud_frames_db

        self.peak = max(self.peak, float(np.max(np.abs(chunk))))
        self._loud = np.sort(np.concatenate([self._loud, loud_frames_db(chunk)]))[-20:]

    @property
    def silent(self) -> bool:
        """Silence to the speech check (level under :data:`~emovox.speech.MIN_LEVEL_DB`)."""
        from .speech import MIN_LEVEL_DB

        return not self._loud.size or self._loud[0] < MIN_LEVEL_DB


def segment_gain(chunks: Iterable[np.ndarray], peak_db: float | None = None) -> float:
    """:func:`audible_gain` of a recording given as chunks (mono, at 16 kHz or near it), from its whole peak.
    ``peak_db``: the peak of a part of it already measured (a lower bound): at :data:`QUIET_PEAK_DB` or
    more, nothing is read. Reading stops at the first chunk that is not quiet, so a loud recording costs one
    chunk. A recording the speech check calls silence (its loud-frame level under
    :data:`~emovox.speech.MIN_LEVEL_DB`) is not brought up: its segments would be speech in a file that has
    none (and a peak of 1e-40 made the gain overflow).

    Parameters
    ----------
    chunks : iterable of numpy.ndarray
        The recording's mono chunks; closed (when it has ``close``) once read.
    peak_db : float, optional
        The peak (dBFS) of a part already measured; None (default): not known.

    Returns
    -------
    float
        The linear gain, at least 1.
    """
    if peak_db is not None and peak_db >= QUIET_PEAK_DB:
        return 1.0
    level = _Loudness()
    try:
        for c in chunks:
            if not c.size:
                continue
            level.feed(c)
            if level.peak >= 10 ** (QUIET_PEAK_DB / 20):
                return 1.0
    finally:
        if close := getattr(chunks, "close", None):  # a decoder stopped early lets its file go now
            close()
    return 1.0 if level.silent else audible_gain(level.peak)


class QuietInput:
    """Watches a stream (a microphone) that cannot be brought up ahead, as a whole recording is
    (:func:`segment_gain`), for input too quiet to be cut into speech: fed each chunk (after ``gain_db``,
    the gain already applied), it gives one message, once, when ``after_s`` seconds of it peaked under
    :data:`QUIET_PEAK_DB` but were not silence, with the gain that would bring them up. Seconds of silence
    (a microphone nobody speaks into yet) start the count again; a loud chunk ends the watch.

    >>> watch = QuietInput(16000, after_s=1.0)
    >>> quiet = (0.003 * np.sin(np.arange(16000) * 0.1)).astype(np.float32)  # a tone peaking at -50 dBFS
    >>> watch.feed(quiet[:8000]) is None, watch.feed(quiet[8000:])[:31]
    (True, 'the input is quiet: its peak is')
    """

    def __init__(self, sample_rate: int, after_s: float = 10.0, gain_db: float = 0.0) -> None:
        self.sample_rate = sample_rate
        self.after_s = after_s
        self.gain_db = gain_db
        self._seen, self._level, self._done = 0, _Loudness(), False

    def feed(self, chunk: np.ndarray) -> str | None:
        """Watch the next chunk.

        Parameters
        ----------
        chunk : numpy.ndarray
            The next mono float chunk, at :attr:`sample_rate`, with the gain already applied.

        Returns
        -------
        str or None
            The message, once, when the input has been quiet (not silent) for ``after_s`` seconds; else None.
        """
        from .speech import MIN_LEVEL_DB

        if self._done or not chunk.size:
            return None
        self._seen += chunk.size
        self._level.feed(chunk)
        if self._level.peak >= 10 ** (QUIET_PEAK_DB / 20):
            self._done = True  # loud enough: nothing to say, ever
            return None
        if self._seen < self.after_s * self.sample_rate:
            return None
        if self._level.silent:  # nothing to bring up yet: watch the next seconds
            self._seen, self._level = 0, _Loudness()
            return None
        self._done = True
        peak_db = 20 * np.log10(self._level.peak)
        total = self.gain_db + AUDIBLE_PEAK_DB - peak_db
        return (
            f"the input is quiet: its peak is {peak_db:.0f} dBFS over {self.after_s:g} s, and speech under "
            f"{MIN_LEVEL_DB:.0f} dBFS is taken for silence; raise the input level, or apply a gain of "
            f"{total:+.0f} dB" + (f" in all (it is {self.gain_db:+.0f} dB now)" if self.gain_db else "")
        )


def segment_weights(segments: list[Segment]) -> np.ndarray:
    """Each segment's seconds: a long stretch of speech is cut into overlapping windows, and the seconds two
    neighbours (in time) share count half to each, so that every second counts once.

    Parameters
    ----------
    segments : list of Segment
        Segments in any order (at least one).

    Returns
    -------
    numpy.ndarray
        One weight per segment, in the order given, each at least 0.001.

    Examples
    --------
    >>> segment_weights([Segment(0.0, 2.0), Segment(1.5, 3.5)])
    array([1.75, 1.75])
    """
    starts = np.array([s.start for s in segments], dtype=np.float64)
    ends = np.array([s.end for s in segments], dtype=np.float64)
    order = np.argsort(starts, kind="stable")
    st, en = starts[order], ends[order]
    overlap = np.maximum(np.minimum(en[:-1], en[1:]) - st[1:], 0.0)
    w = en - st - np.concatenate(([0.0], overlap)) / 2 - np.concatenate((overlap, [0.0])) / 2
    out = np.empty_like(w)
    out[order] = np.maximum(w, 1e-3)
    return out


def sound_seconds(segments: Iterable[Segment]) -> float:
    """The seconds of sound a recording's speech segments hold, each without its quiet edges
    (:attr:`Segment.sound_seconds`): a word padded by the voice detector is still a word, for
    :func:`emovox.calibration.is_uncertain`.

    Parameters
    ----------
    segments : iterable of Segment
        A recording's segments; only classified speech segments count.

    Returns
    -------
    float
        The sum of their ``sound_seconds`` (their duration where unset); 0 without speech.
    """
    return sum(
        s.duration if s.sound_seconds is None else s.sound_seconds
        for s in segments
        if s.speech and s.probabilities
    )


def no_speech_reason(segments: Iterable[Segment], check: SpeechCheck | None = None) -> str:
    """Why a recording whose segments hold no speech has none: their most frequent reason (the first seen
    on a tie); without one, the whole recording's speech check's, so that a long tone is called what the
    timeline calls it.

    Parameters
    ----------
    segments : iterable of Segment
        A recording's segments.
    check : SpeechCheck, optional
        The whole recording's speech check, whose reason stands where no segment gives one and it found
        no speech (default None).

    Returns
    -------
    str
        Their most frequent ``reason``; else the check's; else that the voice-activity detector found no
        speech.

    Examples
    --------
    >>> no_speech_reason([Segment(0.0, 1.0, speech=False, reason="a pure tone")])
    'a pure tone'
    >>> no_speech_reason([])
    'the voice-activity detector found no speech'
    """
    reasons = Counter(s.reason for s in segments if s.reason)
    if reasons:
        return reasons.most_common(1)[0][0]
    if check is not None and not check.speech and check.reason:
        return check.reason
    return "the voice-activity detector found no speech"


def segments_proba(
    model: EmotionModel, segments: Iterable[Segment], emotions: list[str] | None = None
) -> tuple[np.ndarray | None, float]:
    """The emotion of a recording from its timeline: the speech segments' probabilities (over
    ``model.labels``; with ``emotions``, each renormalised over those first, zero elsewhere) averaged by
    duration, and the seconds of speech they cover; ``(None, 0.0)`` without a speech segment.

    An average of probabilities, not of features or log-probabilities: a recording whose sentences are
    angry, sad and neutral gets one of those, where pooled features (under a linear head, roughly a
    geometric mean of the sentences' probabilities) can name an emotion none of them has.

    Parameters
    ----------
    model : EmotionModel
        Gives ``labels``, the order of the probabilities.
    segments : iterable of Segment
        The recording's segments; classified speech segments count, weighted by :func:`segment_weights`.
    emotions : list of str, optional
        Some of ``model.labels``; None (default): all.

    Returns
    -------
    p : numpy.ndarray or None
        Shape ``(len(model.labels),)``, summing to 1; None without a speech segment (or, with
        ``emotions``, none that gives them any probability).
    seconds : float
        The segments' total weight in seconds (0.0 with ``p`` None).

    Raises
    ------
    ParameterError
        When ``emotions`` is a string, or names an emotion not in ``model.labels``.
    """
    if emotions is not None and (isinstance(emotions, str) or not set(emotions) <= set(model.labels)):
        raise ParameterError(f"emotions: expected a list of the model's labels ({', '.join(model.labels)})")
    speech = [s for s in segments if s.speech and s.probabilities]
    P = np.array([[s.probabilities[lab] for lab in model.labels] for s in speech], dtype=np.float64)
    if emotions is not None and speech:  # each segment over these only, as a restricted timeline shows it
        P = np.where(np.isin(model.labels, list(emotions)), P, 0.0)
        mass = P.sum(axis=1)
        speech, P = (
            [s for s, m in zip(speech, mass, strict=True) if m > 0],
            P[mass > 0] / mass[mass > 0, None],
        )
    if not speech:
        return None, 0.0
    w = segment_weights(speech)
    return (w[:, None] * P).sum(axis=0) / w.sum(), float(w.sum())


def unrestricted(seg: Segment) -> dict[str, float]:
    """A classified segment's probability of every emotion the model knows, before its restriction
    (:meth:`~emovox.inference.EmotionModel.restrict`): its kept emotions' scaled back, and its ``left_out``.

    Parameters
    ----------
    seg : Segment
        A segment with probabilities.

    Returns
    -------
    dict
        Emotion -> probability, summing to 1.

    Examples
    --------
    >>> every = unrestricted(Segment(0, 1, probabilities={"angry": 0.75, "sad": 0.25}, left_out={"disgust": 0.2}))
    >>> {k: round(v, 3) for k, v in every.items()}
    {'angry': 0.6, 'sad': 0.2, 'disgust': 0.2}
    """
    scale = 1.0 - sum(seg.left_out.values())
    return {lab: v * scale for lab, v in seg.probabilities.items()} | seg.left_out


def segments_unrestricted(model: EmotionModel, segments: Iterable[Segment]) -> dict[str, float] | None:
    """The probability of every emotion the model knows, before any restriction, of a recording scored
    by its segments: each speech segment's (:func:`unrestricted`), averaged as :func:`segments_proba`
    averages them; what its answer leaves out is said from it
    (:meth:`~emovox.inference.EmotionModel.make_prediction`).

    Parameters
    ----------
    model : EmotionModel
        Gives ``all_labels``, the order.
    segments : iterable of Segment
        The recording's segments, as :func:`segments_proba` takes them.

    Returns
    -------
    dict or None
        Emotion -> probability, in ``model.all_labels`` order; None without a speech segment.
    """
    speech = [s for s in segments if s.speech and s.probabilities]
    if not speech:
        return None
    w = segment_weights(speech)
    rows = [unrestricted(s) for s in speech]
    return {
        lab: float(sum(wi * r.get(lab, 0.0) for wi, r in zip(w, rows, strict=True)) / w.sum())
        for lab in getattr(model, "all_labels", model.labels)
    }


class _Resampler:
    """Chunk-by-chunk resampling, for sources whose rate is not the model's."""

    def __init__(self, orig: int, target: int):
        import soxr

        self.rs = soxr.ResampleStream(orig, target, 1, dtype="float32", quality="HQ")

    def __call__(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for c in chunks:
            out = self.rs.resample_chunk(c)
            if out.size:
                yield out
        tail = self.rs.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        if tail.size:
            yield tail


#: Stretches without speech at most this far apart (seconds) are one timeline row: the voice detector cuts a
#: long noise into overlapping windows, and noise bursts into a segment each.
NO_SPEECH_GAP = 1.0


def merged_no_speech(segments: Iterable[Segment], max_gap: float = NO_SPEECH_GAP) -> Iterator[Segment]:
    """``segments`` with consecutive ones without speech (overlapping, or at most ``max_gap`` seconds apart)
    joined into one, which keeps the first one's reason and no samples. A segment without speech is held back
    until the next one (or the end) shows where its stretch ends.

    Parameters
    ----------
    segments : iterable of Segment
        Segments in time order.
    max_gap : float
        Seconds between two segments without speech that still join them (default :data:`NO_SPEECH_GAP`).

    Returns
    -------
    iterator of Segment
        Lazily; a segment held back is still given when reading ``segments`` raises (or is interrupted).

    Examples
    --------
    >>> segs = [Segment(0.0, 1.0, speech=False, reason="noise"), Segment(1.5, 2.0, speech=False)]
    >>> [(s.start, s.end, s.reason) for s in merged_no_speech(segs)]
    [(0.0, 2.0, 'noise')]
    """
    held: Segment | None = None
    try:
        for s in segments:
            if held is not None and not s.speech and s.start - held.end <= max_gap:
                held.end, held.samples, held.part = max(held.end, s.end), None, 0
                continue
            if held is not None:
                yield held
                held = None
            if s.speech:
                yield s
            else:
                held = s
    except (Exception, KeyboardInterrupt):  # Ctrl-C, a read error: what was heard is still given
        if held is not None:
            yield held
        raise
    if held is not None:
        yield held


def classified_segments(
    source,
    model: EmotionModel,
    *,
    options: VADOptions | None = None,
    keep_samples: bool = False,
    on_chunk: Callable[[np.ndarray, float], None] | None = None,
    keep_embeddings: bool = False,
    gain: float = 1.0,
    **vad_opts,
) -> Iterator[Segment]:
    """:func:`emovox.live.timeline.iter_timeline` for a loaded ``model`` (the arguments are the same);
    ``gain`` multiplies the samples first (:func:`audible_gain`). Stretches without speech close together
    come as one segment (:func:`merged_no_speech`).

    Parameters
    ----------
    source : path, iterable of arrays, or AudioSource
        What :func:`emovox.audio.sources.open_source` opens; resampled to ``model.sample_rate`` if needed.
    model : EmotionModel
        A loaded model.
    options : VADOptions, optional
        Segmentation settings; ``**vad_opts`` override single fields.
    keep_samples : bool
        Keep each segment's audio (default False).
    on_chunk : callable, optional
        Called as ``on_chunk(chunk, seconds_so_far)`` as each chunk arrives.
    keep_embeddings : bool
        Keep each segment's embedding (default False).
    gain : float
        Multiplies the samples before they are cut (default 1.0).

    Returns
    -------
    iterator of Segment
        Lazily, each as soon as it is finished; Ctrl-C scores the speech under way, then raises.
    """
    return merged_no_speech(
        _classified(source, model, options, keep_samples, on_chunk, keep_embeddings, gain, vad_opts)
    )


def _classified(source, model, options, keep_samples, on_chunk, keep_embeddings, gain, vad_opts):
    sr = int(model.sample_rate)
    src = open_source(source, sr)
    chunks: Iterable[np.ndarray] = src
    if src.sample_rate != sr:
        chunks = _Resampler(src.sample_rate, sr)(src)
    if gain != 1.0:
        chunks = (c * np.float32(gain) for c in chunks)
    chunks = _said_past_full_scale(chunks, src.name, gain)
    seg = Segmenter(sr, options, keep_samples=True, **vad_opts)
    pieces = _Pieces(model, seg.step_seconds, keep_samples, keep_embeddings)
    seen, interrupted = 0, False
    try:
        try:
            for chunk in chunks:
                seen += chunk.size
                # before feeding: the chunk's arrival time is what latency counts from
                if on_chunk is not None:
                    on_chunk(chunk, seen / sr)
                for s in seg.feed(chunk):
                    check_cancelled()  # a server request past its time limit stops between segments
                    yield from pieces.of(s)
        except KeyboardInterrupt:  # Ctrl-C while listening: the speech under way is scored, then it stops
            interrupted = True
        for s in seg.flush():
            yield from pieces.of(s)
        yield from pieces.rest()
        if interrupted:
            raise KeyboardInterrupt
    finally:
        src.close()


def _said_past_full_scale(chunks: Iterable[np.ndarray], name: str, gain: float) -> Iterator[np.ndarray]:
    """The chunks, and one note the first time they pass full scale (each segment is then brought to a
    peak of 1 as it is classified, as a recording is)."""
    said = False
    for c in chunks:
        if not said and c.size and (peak := float(np.max(np.abs(c)))) > FULL_SCALE_LIMIT:
            said = True
            after = f" after a gain of {20 * np.log10(gain):+.1f} dB" if gain > 0 and gain != 1.0 else ""
            logger.info(
                "%s: samples peak at %.3g%s, past full scale: each segment is scaled to a peak of 1",
                name,
                peak,
                after,
            )
        yield c


class _Pieces:
    """Each segment's pieces (:func:`speech_pieces`), classified, in time order. A window of long speech
    overlaps the next by ``max_length - step`` seconds, so that no change of emotion falls between two;
    a piece of it that starts where the next window does is held until that window comes, and dropped
    if it does (it would be a row after its successor's start, and the same speech scored twice)."""

    def __init__(self, model, step: float, keep: bool, keep_embedding: bool) -> None:
        self.model, self.step, self.keep, self.keep_embedding = model, step, keep, keep_embedding
        self.held: list[tuple[Segment, Any]] = []
        self.held_part = 0

    def of(self, s: Segment) -> Iterator[Segment]:
        if self.held and not (s.part == self.held_part + 1 and s.start <= self.held[0][0].start):
            yield from self.rest()  # no window after it: what the last one held is its own
        self.held = []
        cut = speech_pieces(self.model, s)
        if s.part:  # a window of long speech, which the next one may continue
            after = s.start + self.step
            self.held, self.held_part = [pc for pc in cut if pc[0].start >= after], s.part
            cut = [pc for pc in cut if pc[0].start < after]
        yield from self._classified(cut)

    def rest(self) -> Iterator[Segment]:
        held, self.held = self.held, []
        yield from self._classified(held)

    def _classified(self, cut: list[tuple[Segment, Any]]) -> Iterator[Segment]:
        for piece, check in cut:
            if piece.speech:
                classify(self.model, piece, self.keep_embedding, check)
            if not self.keep:
                piece.samples = None
            yield piece
