"""Recordings beyond one utterance for a loaded model (:class:`Recordings`, a part of
:class:`~emovox.inference.EmotionModel`): cut into speech segments and averaged, read window by window in
bounded memory, and many files at once, alone or adapted together."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..audio import load_audio
from ..errors import EmovoxError, ParameterError, naming
from ..inputs import Unreadable, each_input
from .prediction import Prediction, chosen_emotions

if TYPE_CHECKING:
    from ..live import Segment
    from ..speech import SpeechCheck

#: A recording read again and again in bounded memory: a callable returning a fresh iterator of mono chunks.
Chunks = Callable[[], Iterator[np.ndarray]]


#: A recording longer than this gets the emotion of its speech segments (EmotionModel.timeline_prediction):
#: a few sentences, with pauses and whatever sounds between them.
SEGMENTS_AFTER_SECONDS = 10.0

#: So does a shorter one whose sounds are apart by a pause at least this long: several utterances, which a
#: mean of features would blend into an emotion none of them has (no corpus recording holds such a pause:
#: 0 of 995 sampled, 3 at 1 s).
UTTERANCE_PAUSE_SECONDS = 1.5


class Recordings:
    """Long recordings and batches of files for :class:`~emovox.inference.EmotionModel` (its speech checks,
    :meth:`embed` and probabilities)."""

    def by_segments(self, y: np.ndarray, check: SpeechCheck | None = None) -> bool:
        """Whether a mono signal at :attr:`sample_rate` is scored by its speech segments rather than as one
        utterance: longer than :data:`SEGMENTS_AFTER_SECONDS`, or utterances apart by a pause of
        :data:`UTTERANCE_PAUSE_SECONDS` or more, or (given ``check``, its :meth:`speech`) by a tone or noise
        without speech (:meth:`speech_parts`).

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at :attr:`sample_rate`.
        check : SpeechCheck, optional
            :meth:`speech` of ``y``; None (default): tones and noise between utterances are not looked for.

        Returns
        -------
        bool
            True when ``y`` is scored by its speech segments.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model = emovox.load_model()
        >>> model.by_segments(synthetic.white_noise(2.0)), model.by_segments(synthetic.white_noise(12.0))
        (False, True)
        """
        if y.size > SEGMENTS_AFTER_SECONDS * self.sample_rate:
            return True
        if y.size > UTTERANCE_PAUSE_SECONDS * self.sample_rate:
            from ..vad import segment

            if len(segment(y, self.sample_rate, min_silence=UTTERANCE_PAUSE_SECONDS, keep_samples=False)) > 1:
                return True
        # (the gaps alone: the span's edges, which speech_parts also cuts, decide nothing here)
        return check is not None and next(self._voiceless_gaps(y, check), None) is not None

    def _speech_segments(self, chunks, check: SpeechCheck | None, keep_embeddings: bool = False) -> list:
        """The classified segments of a recording given as ``chunks()``, brought up first when it is quiet
        (:func:`emovox.segments.segment_gain`, read again only when ``check``, the speech check of the
        whole or of one block, leaves it quiet): what the whole recording's emotion is averaged from, by
        every path."""
        from ..segments import classified_segments, segment_gain

        gain = segment_gain(chunks(), None if check is None else check.peak_db)
        return list(classified_segments(chunks(), self, keep_embeddings=keep_embeddings, gain=gain))

    def timeline_prediction(
        self, chunks: Chunks, source: str = "<array>", emotions: Sequence[str] | str | None = None
    ) -> tuple[Prediction, list]:
        """A recording's timeline, and the emotion of the whole recording from it.

        The whole recording's emotion is its speech segments' probabilities averaged by duration
        (:func:`emovox.segments.segments_proba`): pauses and noise between the sentences count for
        nothing, and sentences of different emotions give one of theirs. The emotion of a recording
        longer than :data:`SEGMENTS_AFTER_SECONDS`, or of several utterances (:meth:`by_segments`), is
        computed this way by every prediction method (in the
        adapted batches of :meth:`predict_files`, from the segments' adapted probabilities).

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of consecutive mono chunks at :attr:`sample_rate` (e.g.
            ``lambda: emovox.audio.stream_audio(path)``, or ``lambda: iter([y])``); read twice with
            :attr:`check_speech` (the whole recording's signal check, whose final verdict stands).
        source : str
            How the prediction names the recording.
        emotions : str or list of str, optional
            The whole recording's answer over these of :attr:`labels` only: the mean of its segments'
            probabilities of every emotion, renormalised over these (the model's own order among them; the
            segments returned keep every emotion).

        Returns
        -------
        prediction : Prediction
        segments : list of emovox.live.Segment
            Every segment, with and without speech (empty when the whole recording holds none).

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> y = synthetic.white_noise(12.0)
        >>> pred, segments = emovox.load_model().timeline_prediction(lambda: iter([y]), "noise.wav")
        >>> pred.speech, pred.reason, segments
        (False, 'no voiced sound (noise, clicks or whispering)', [])
        >>> pred, segments = emovox.load_model(check_speech=False).timeline_prediction(lambda: iter([y]))
        >>> pred.label is not None, [(s.start, s.end) for s in segments]
        (True, [(0.0, 9.99), (9.0, 12.0)])
        """
        from ..segments import no_speech_reason, segments_unrestricted, sound_seconds

        check = self.speech_stream(chunks) if self.check_speech else None
        if result := self._whole_verdict(check, source):
            return result, []
        segments = self._speech_segments(chunks, check)
        if not any(s.speech for s in segments) and (whole := self.whole_segment(chunks, check)) is not None:
            segments = [whole]  # short, and each utterance holds too little voicing: scored whole
        chosen = None if emotions is None else chosen_emotions(emotions, self.labels)
        # every emotion's probability averaged over the segments, then narrowed: the model's own order
        # among the emotions kept (narrowing each segment first let one it heard as disgust count fully)
        p, seconds = segments_unrestricted(self, segments), sound_seconds(segments)
        if p is None and not self.check_speech:  # an emotion for any audio, as asked: the whole of it
            p, seconds = self.proba_from_embeddings(self.embed_stream(chunks), restricted=False)[0], None
        if p is None:
            return Prediction(source, speech=False, reason=no_speech_reason(segments, check)), segments
        return self.make_prediction(source, p, chosen, seconds), segments

    def _whole_verdict(self, check: SpeechCheck | None, source: str) -> Prediction | None:
        """The whole recording's "no speech" (:meth:`_verdict`) where it decides a recording cut into
        segments: with a speech head always; without, unless the check found speech-like voicing somewhere
        (a tone or music joined to the speech decides the whole, not the segments it is cut from)."""
        result = self._verdict(check, source)
        return result if result and (self.speech_head is not None or not check.speech_spans) else None

    def whole_segment(
        self, chunks: Chunks, check: SpeechCheck | None, keep_embedding: bool = False
    ) -> Segment | None:
        """The one :class:`~emovox.live.Segment` of a recording whose segments hold no speech: one of at most
        :data:`SEGMENTS_AFTER_SECONDS` that passes the speech check whole (``check``: its
        :meth:`speech_stream`) while each of its utterances, apart by a pause, holds too little voicing to
        pass it alone (a breathy, sad voice). It is scored whole, as a recording of one utterance is, by every path that
        cuts segments; None for any other recording (``chunks()``: a fresh iterator of its mono chunks).

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of the recording's mono chunks at :attr:`sample_rate`.
        check : SpeechCheck or None
            The whole recording's :meth:`speech_stream`; None (no speech check): no segment.
        keep_embedding : bool
            Keep the embedding on the segment (default False).

        Returns
        -------
        Segment or None
            From 0 to the recording's duration, with its probabilities set; None when the recording is
            longer, fails the check, or its speech head hears no voice.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model, tone = emovox.load_model(), synthetic.tone(220.0, 2.0)
        >>> model.whole_segment(lambda: iter([tone]), model.speech(tone)) is None     # no speech
        True
        """
        if check is None or not check.speech or check.duration > SEGMENTS_AFTER_SECONDS:
            return None
        _, e = self.embed_speech(np.concatenate(list(chunks())), check=check)
        if e is None:
            return None
        from ..segments import Segment, set_probabilities

        whole = Segment(0.0, check.duration, embedding=e if keep_embedding else None)
        set_probabilities(
            self, whole, self.proba_from_embeddings(e, restricted=False)[0], check.sound_seconds
        )
        return whole

    def embed_stream(self, chunks: Chunks) -> np.ndarray | list:
        """:meth:`embed` of a long recording given as ``chunks()`` (a callable returning a fresh iterator of
        mono chunks at :attr:`sample_rate`), in bounded memory where the front end can (Whisper, hand-crafted
        features); deep frame models need the whole signal and read it whole.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono chunks at :attr:`sample_rate`.

        Returns
        -------
        numpy.ndarray or list
            As :meth:`embed` gives for the whole signal.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model, y = emovox.load_model(), synthetic.white_noise(2.0)
        >>> e = model.embed_stream(lambda: iter([y[:16000], y[16000:]]))
        >>> e.shape, bool(np.allclose(e, model.embed(y), atol=1e-4))
        ((2048,), True)
        """
        return self.frontend.process_stream(chunks)

    def predict_stream(
        self,
        source: str | os.PathLike | bytes,
        name: str | None = None,
        emotions: Sequence[str] | None = None,
        max_seconds: float | None = None,
    ) -> Prediction:
        """The :class:`Prediction` of a file (or encoded bytes): one longer than two minutes read chunk by chunk
        in bounded memory (:meth:`timeline_prediction`), a shorter one read whole and predicted as
        :meth:`predict_signal` does (the same answer). Errors raise :class:`EmovoxError`.

        Parameters
        ----------
        source : str, path or bytes
            An audio file, or its encoded bytes.
        name : str, optional
            How the prediction and errors name it; None (default): the path (``<bytes>`` for bytes).
        emotions : list of str, optional
            The answer over these of :attr:`labels` only; None (default): all of them.
        max_seconds : float, optional
            Read at most this many seconds; None (default): all.

        Returns
        -------
        Prediction

        Raises
        ------
        EmovoxError
            When the input cannot be read or decoded (an :class:`~emovox.errors.AudioError`), or ``emotions``
            is not valid.

        Examples
        --------
        >>> import emovox, soundfile
        >>> from emovox.audio import synthetic
        >>> soundfile.write("tone.wav", synthetic.tone(220.0, 2.0), 16000)
        >>> emovox.load_model().predict_stream("tone.wav").describe()
        "no speech (no voice in the model's features (speech probability 0.00))"
        """
        name = name or _source_name(source)
        src = self._whole_or_chunks(source, name, max_seconds)
        if isinstance(src, np.ndarray):
            return self._predict(src, name, emotions)
        return self.timeline_prediction(src, name, emotions)[0]

    def proba_stream(self, source: str | os.PathLike | bytes, name: str | None = None) -> np.ndarray:
        """:meth:`proba_signal` of a file (or encoded bytes), a long one read chunk by chunk in bounded memory
        (its speech segments' probabilities averaged, or with none, its embedding read window by window).

        Parameters
        ----------
        source : str, path or bytes
            An audio file, or its encoded bytes.
        name : str, optional
            How errors name it; None (default): the path (``<bytes>`` for bytes).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(labels),)``, summing to 1.

        Raises
        ------
        EmovoxError
            When the input cannot be read or decoded.

        Examples
        --------
        >>> import emovox, soundfile
        >>> from emovox.audio import synthetic
        >>> soundfile.write("noise.wav", synthetic.white_noise(2.0), 16000)
        >>> p = emovox.load_model().proba_stream("noise.wav")
        >>> p.shape, round(float(p.sum()), 6)
        ((7,), 1.0)
        """
        from ..segments import segments_proba

        src = self._whole_or_chunks(source, name or _source_name(source))
        if isinstance(src, np.ndarray):
            return self.proba_signal(src)
        p, _ = segments_proba(self, self._speech_segments(src, None))
        return p if p is not None else self.proba_from_embeddings(self.embed_stream(src))[0]

    def _whole_or_chunks(self, source, name: str, max_seconds: float | None = None):
        """A file or encoded bytes as mono samples at :attr:`sample_rate` when it lasts two minutes
        (:data:`~emovox.audio.STREAM_AFTER_SECONDS`) or less, else a callable returning fresh iterators of its
        chunks: a long one is never held whole. A format that declares no length (m4a through ffmpeg) is as
        short as it turns out to be."""
        if not isinstance(source, str | os.PathLike | bytes | bytearray | memoryview):
            raise ParameterError(
                f"{name}: a stream is a file or encoded bytes, got {type(source).__name__}; give samples to "
                "predict_signal(y, sr=...) or emovox.live.timeline(y, sr=...)"
            )
        if max_seconds is not None and not (
            isinstance(max_seconds, numbers.Real)
            and not isinstance(max_seconds, bool)
            and math.isfinite(max_seconds)
            and max_seconds > 0
        ):
            raise ParameterError(f"max_seconds: expected a number of seconds above 0, got {max_seconds!r}")
        from ..audio import (
            DEFAULT_MIN_DURATION,
            STREAM_AFTER_SECONDS,
            audio_duration,
            stream_audio,
            whole_if_short,
        )

        duration = audio_duration(source)
        if duration is not None and duration <= STREAM_AFTER_SECONDS:
            return load_audio(source, self.sample_rate, name=name, max_seconds=max_seconds)

        def chunks():
            return stream_audio(
                source,
                self.sample_rate,
                max_seconds=max_seconds,
                min_duration=DEFAULT_MIN_DURATION,
                name=name,
            )

        if duration is None:
            y = whole_if_short(chunks, int(STREAM_AFTER_SECONDS * self.sample_rate))
            if y is not None:
                return y
        return chunks

    def predict_files(
        self, paths: Iterable[str | os.PathLike], same_speaker: bool = False, same_channel: bool = False
    ) -> Iterator[Prediction]:
        """Lazily predict each file; a file that fails yields a :class:`Prediction` with ``error`` set,
        and the others are still predicted.

        Parameters
        ----------
        paths : path, bytes, or iterable of them
            Files (or encoded bytes); a folder stands for every audio file under it, as at the command
            line. A file longer than two minutes is read window by window (:meth:`predict_stream`).
        same_speaker : bool
            The files are recordings of one speaker: every file is embedded first, then all are scored
            together with speaker adaptation (:meth:`proba_session`).
        same_channel : bool
            They share a recording channel: the same, with the channel's offset removed only as far as
            the batch's predictions spread over the emotions (safe on a batch of one emotion).

        Yields
        ------
        Prediction
            One per file, in order.

        Examples
        --------
        >>> import emovox, os, soundfile
        >>> from emovox.audio import synthetic
        >>> os.makedirs("recordings", exist_ok=True)
        >>> soundfile.write("recordings/tone.wav", synthetic.tone(220.0, 2.0), 16000)
        >>> for pred in emovox.load_model().predict_files(["recordings/", "missing.wav"]):
        ...     print(pred.source, "|", pred.describe())
        recordings/tone.wav | no speech (no voice in the model's features (speech probability 0.00))
        missing.wav | missing.wav: no such file
        """
        from ..adaptation import session_kind

        kind = session_kind(same_speaker, same_channel)
        channel, together = kind == "channel", kind is not None  # (together: scored as one session)
        if together:
            self.require_adaptation()
        done: list[Prediction | SessionInput] = []
        if isinstance(paths, np.ndarray):
            raise ParameterError(
                "predict_files takes paths or bytes; score samples with predict_signal(y, sr=...)"
            )
        for path in each_input(paths):
            if isinstance(path, Unreadable):
                result: Prediction | SessionInput = Prediction(path.name, error=path.why)
            elif together:  # (a long one window by window, never held whole)
                result = self.session_input(path)
            else:
                result = _failed_as_prediction(self.predict_stream, path)
            if together:
                done.append(result)
            else:
                yield result
        yield from self.score_session(done, channel)

    def session_input(self, path: str | os.PathLike | bytes) -> Prediction | SessionInput:
        """What one recording adds to an adapted batch (:meth:`score_session`): its embeddings, or its
        :class:`Prediction` when it adds nothing (no speech, or it failed: ``error`` set, never raised).
        A long recording is read window by window, as :meth:`predict_files` reads it.

        Parameters
        ----------
        path : str, path or bytes
            An audio file, or its encoded bytes.

        Returns
        -------
        SessionInput or Prediction
            Its speech's embeddings and their weights, or its final ``speech=False`` or failed prediction.

        Examples
        --------
        >>> import emovox, soundfile
        >>> from emovox.audio import synthetic
        >>> soundfile.write("noise.wav", synthetic.white_noise(2.0), 16000)
        >>> model = emovox.load_model(check_speech=False)     # (noise holds no speech)
        >>> s = model.session_input("noise.wav")
        >>> s.source, s.weights, len(s.embeddings), s.seconds
        ('noise.wav', [2.0], 1, 2.0)
        >>> model.session_input("missing.wav").error
        'missing.wav: no such file'
        """
        return _failed_as_prediction(
            lambda p, name: self._session_input(self._whole_or_chunks(p, name), name), path
        )

    def score_session(
        self, inputs: Sequence[Prediction | SessionInput], channel: bool = False
    ) -> Iterator[Prediction]:
        """The predictions of a batch of :meth:`session_input` results scored together as one session of
        a speaker (``channel``: of a recording channel, gated; :meth:`proba_session`), one per input in
        order: a recording of several segments gets their adapted probabilities averaged by duration.
        What :meth:`predict_files` does with ``same_speaker`` / ``same_channel``, in two steps, so that the
        first can run where the files are (:func:`emovox.batch.predict`).

        Parameters
        ----------
        inputs : sequence of Prediction or SessionInput
            :meth:`session_input` results; a :class:`Prediction` among them is yielded as it is.
        channel : bool
            Adapt to a recording channel rather than a speaker (default False).

        Returns
        -------
        iterator of Prediction
            One per input, in order.

        Examples
        --------
        >>> import emovox, soundfile
        >>> from emovox.audio import synthetic
        >>> for i in range(2):
        ...     soundfile.write(f"{i}.wav", synthetic.white_noise(2.0, seed=i), 16000)
        >>> model = emovox.load_model(check_speech=False)
        >>> inputs = [model.session_input(f) for f in ["0.wav", "1.wav", "missing.wav"]]
        >>> [p.ok for p in model.score_session(inputs)]
        [True, True, False]
        """
        pieces = [r for r in inputs if isinstance(r, SessionInput)]
        embedded = [e for r in pieces for e in r.embeddings]
        rows = iter(
            self.proba_session(embedded, channel, recordings=len(pieces), restricted=False) if pieces else []
        )
        for r in inputs:
            if isinstance(r, Prediction):
                yield r
                continue
            P, w = np.array([next(rows) for _ in r.embeddings]), np.asarray(r.weights, dtype=np.float64)
            # every emotion's, averaged over the segments, narrowed after (as a recording's answer is)
            yield self.make_prediction(r.source, w @ P / w.sum(), seconds=r.seconds)

    def _session_input(self, src, source: str) -> Prediction | SessionInput:
        """What one recording adds to an adapted batch (:meth:`predict_files` with ``same_speaker`` or
        ``same_channel``): its embedding; beyond :data:`SEGMENTS_AFTER_SECONDS` (or of several utterances:
        :meth:`by_segments`), its speech segments' embeddings, each adapted with the batch and averaged by
        duration as :meth:`timeline_prediction` averages them; or its ``speech=False`` :class:`Prediction`.
        ``src``: the samples, or for a long file a callable returning fresh iterators of its chunks
        (:meth:`_whole_or_chunks`), never held whole."""
        if isinstance(src, np.ndarray):
            y = src
            check = self._whole_check(y)
            if not self.by_segments(y, check):
                no_speech, e = self.embed_speech(y, source, check)
                seconds = self._seconds(y, check)
                return (
                    no_speech
                    if no_speech is not None
                    else SessionInput(source, [max(seconds, 1e-3)], [e], seconds)
                )
            if check is None and self.check_speech:
                check = self.speech(y)
            chunks = lambda: iter([y])  # noqa: E731
        else:
            y, chunks, check = None, src, self.speech_stream(src) if self.check_speech else None
        if result := self._whole_verdict(check, source):
            return result
        from ..segments import no_speech_reason, segment_weights, sound_seconds

        segments = self._speech_segments(chunks, check, keep_embeddings=True)
        speech = [s for s in segments if s.speech and s.embedding is not None]
        if not speech and (whole := self.whole_segment(chunks, check, True)) is not None:
            speech = [whole]  # short, and each utterance holds too little voicing: scored whole
        if speech:
            return SessionInput(
                source, list(segment_weights(speech)), [s.embedding for s in speech], sound_seconds(speech)
            )
        if not self.check_speech:  # an emotion for any audio, as asked: the whole of it
            if y is not None:
                return SessionInput(source, [1.0], [self.embed(y)], y.size / self.sample_rate)
            return SessionInput(source, [1.0], [self.embed_stream(chunks)], None)
        return Prediction(source, speech=False, reason=no_speech_reason(segments, check))


class SessionInput(NamedTuple):
    """A recording in an adapted batch (:meth:`Recordings.session_input`): its name, its embeddings (one, or
    its speech segments'), their weights (seconds), and its seconds of sound (for
    :func:`emovox.calibration.is_uncertain`).

    Attributes
    ----------
    source : str
        How the recording is named.
    weights : list of float
        One weight per embedding: its seconds of sound (1.0 for a long stream scored whole).
    embeddings : list
        :meth:`~emovox.inference.EmotionModel.embed` outputs: the whole recording's, or its speech segments'.
    seconds : float or None
        Seconds of sound; None: not counted (a long stream scored whole with ``check_speech=False``, where
        no speech segment was found).

    Examples
    --------
    >>> s = SessionInput("a.wav", [2.0], [np.zeros(4)], 2.0)
    >>> s.source, s.seconds
    ('a.wav', 2.0)
    """

    source: str
    weights: list[float]
    embeddings: list
    seconds: float | None  # None: a long stream scored whole (check_speech=False, no segment found)


def _failed_as_prediction(fn, path) -> Any:
    """``fn(path, name)``, or a :class:`Prediction` with ``error`` naming the input: one bad input must not
    stop a batch."""
    name = _source_name(path)
    try:
        return fn(path, name)
    except EmovoxError as exc:
        return Prediction(name, error=naming(exc, name))
    except Exception as exc:  # noqa: BLE001
        return Prediction(name, error=f"{name}: {type(exc).__name__}: {exc}")


def _source_name(x) -> str:
    """How an input is named in results and errors (never the repr of its bytes or samples)."""
    if isinstance(x, bytes | bytearray | memoryview):
        return "<bytes>"
    return "<array>" if isinstance(x, np.ndarray) else str(x)
