"""Speech checks and cutting for a loaded model: is there speech, and which part of a signal to judge
(:class:`SpeechCutting`, a part of :class:`~emovox.inference.EmotionModel`): the signal check, the speech
head, the edges and gaps without speech, and the check of a long recording block by block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .prediction import Prediction
from .recordings import SEGMENTS_AFTER_SECONDS, Chunks

if TYPE_CHECKING:
    from ..speech import SpeechCheck


#: Long recordings get the speech check block by block (see EmotionModel.speech_stream).
SPEECH_BLOCK_SECONDS = 180.0

#: A recording the speech head rejects as a whole is searched for a voice in windows this long (half
#: overlapping), over its first VOICE_SEARCH_SECONDS (see EmotionModel.voice_embedding).
VOICE_WINDOW_SECONDS = 3.0

VOICE_SEARCH_SECONDS = 600.0

#: Seconds kept beside the speech where a stretch without it is cut off (its unvoiced onsets and endings).
#: A model without a speech head keeps less: the signal check it is left with calls speech beside 0.3 s of
#: a tone "steady pitch" (4 of 20 EMO-DB sentences between 2 s of a tone; 0 at 0.2 s).
KEEP_SECONDS, KEEP_SECONDS_WITHOUT_HEAD = 0.3, 0.2


class SpeechCutting:
    """The speech checks of :class:`~emovox.inference.EmotionModel` (its ``check_speech``, ``speech_head``,
    ``sample_rate`` and :meth:`embed`): what holds speech, and which part of it to judge."""

    def speech(self, y: np.ndarray) -> SpeechCheck:
        """The speech check of one signal at :attr:`sample_rate` (:class:`emovox.speech.SpeechCheck`).

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at :attr:`sample_rate`.

        Returns
        -------
        SpeechCheck
            :func:`emovox.speech.detect_speech` of ``y``.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> check = emovox.load_model().speech(synthetic.tone(220.0, 2.0))
        >>> check.speech, check.reason
        (False, 'no voiced speech: steady pitch (tone / hum / music)')
        """
        from ..speech import detect_speech

        return detect_speech(y, self.sample_rate)

    def embed_speech(
        self, y: np.ndarray, source: str = "<array>", check: SpeechCheck | None = None
    ) -> tuple[Prediction | None, np.ndarray | list | None]:
        """One mono signal through both speech checks: ``(no_speech, None)``, the ``speech=False``
        :class:`Prediction`, when there is no speech, else ``(None, embedding)``, the :meth:`embed` output
        to score (:meth:`voice_embedding`). The signal check (:meth:`speech`) decides alone without a
        speech head; with one, only on silence and sound without voicing (:attr:`SpeechCheck.final`).
        With a speech head, a loud edge without speech (a tone, noise or music before or after it) is cut
        off first (:meth:`speech_span`). ``check``: :meth:`speech` of ``y`` when the caller has it.

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at :attr:`sample_rate`.
        source : str
            How a ``speech=False`` prediction names the input (default ``"<array>"``).
        check : SpeechCheck, optional
            :meth:`speech` of ``y``; None (default): computed here (unused with :attr:`check_speech` off).

        Returns
        -------
        no_speech : Prediction or None
        embedding : numpy.ndarray, list or None
            Exactly one of the two is None.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> tone = synthetic.tone(220.0, 2.0)
        >>> no_speech, e = emovox.load_model().embed_speech(tone, "tone.wav")
        >>> no_speech.reason, e
        ("no voice in the model's features (speech probability 0.00)", None)
        >>> emovox.load_model(check_speech=False).embed_speech(tone)[1].shape   # no check: embedded
        (2048,)
        """
        if self.check_speech and check is None:
            check = self.speech(y)
        elif not self.check_speech:
            check = None
        if check is not None:
            lo, hi = self.speech_span(y, check)
            if (lo, hi) != (0, len(y)):
                y = y[lo:hi]
                check = self.speech(y)
        if no_speech := self._verdict(check, source):
            return no_speech, None
        e, reason = self.voice_embedding(self.embed(y), check, lambda: iter([y]))
        if reason:
            return Prediction(source, speech=False, reason=reason), None
        return None, e

    def speech_span(self, y: np.ndarray, check: SpeechCheck | None = None) -> tuple[int, int]:
        """``y[lo:hi]``, the part of one signal to judge: without a loud edge of a second or more that holds
        no speech-like voicing (:func:`emovox.speech.speech_bounds`: a tone, noise or music beside the
        speech) *and* in which the speech head is sure there is no voice (:meth:`_voiceless`). The head's
        word is needed: quiet, breathy or creaky speech (the end of many sad sentences) has little voicing
        the signal check counts, and cutting it changed answers. ``(0, len(y))`` with :attr:`check_speech`
        off (nothing is cut).

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at :attr:`sample_rate`.
        check : SpeechCheck, optional
            :meth:`speech` of ``y`` when the caller has it; None (default): computed where needed.

        Returns
        -------
        lo, hi : int
            Sample indices of the part to judge.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> emovox.load_model().speech_span(synthetic.tone(220.0, 2.0))   # nothing to cut: all of it
        (0, 32000)
        """
        if not self.check_speech:
            return 0, len(y)
        from ..speech import speech_bounds

        lo, hi = speech_bounds(y, self.sample_rate, check, keep_seconds=self._keep_seconds)
        lo = lo if lo and self._voiceless(y[:lo]) else 0
        hi = hi if hi < len(y) and self._voiceless(y[hi:]) else len(y)
        return lo, hi

    def speech_parts(self, y: np.ndarray, check: SpeechCheck | None = None) -> list[tuple[int, int]]:
        """The parts of one signal that hold its utterances: :meth:`speech_span`, cut again where a loud
        stretch of a second or more between two utterances holds no speech-like voicing
        (:func:`emovox.speech.speech_gaps`: a tone or noise the voice detector joined to the sentences on both
        sides) and the speech head is sure it holds no voice. ``[(0, len(y))]`` with :attr:`check_speech`
        off.

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at :attr:`sample_rate`.
        check : SpeechCheck, optional
            :meth:`speech` of ``y`` when the caller has it; None (default): computed where needed.

        Returns
        -------
        list of (int, int)
            ``(lo, hi)`` sample ranges, in order, at least one.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> emovox.load_model().speech_parts(synthetic.tone(220.0, 2.0))
        [(0, 32000)]
        """
        lo, hi = self.speech_span(y, check)
        parts = []
        for a, b in self._voiceless_gaps(y, check):  # between utterances: inside the span's edges
            parts.append((lo, a))
            lo = b
        return [*parts, (lo, hi)]

    def _voiceless_gaps(self, y: np.ndarray, check: SpeechCheck | None) -> Iterator[tuple[int, int]]:
        """Lazily, the stretches between utterances that :meth:`speech_parts` cuts out (none with
        :attr:`check_speech` off)."""
        if not self.check_speech:
            return
        from ..speech import speech_gaps

        for a, b in speech_gaps(y, self.sample_rate, check, keep_seconds=self._keep_seconds):
            if self._voiceless(y[a:b]):
                yield a, b

    @property
    def _keep_seconds(self) -> float:
        return KEEP_SECONDS if self.speech_head is not None else KEEP_SECONDS_WITHOUT_HEAD

    def _voiceless(self, part: np.ndarray) -> bool:
        """The speech head is sure there is no voice in ``part``; without one, the signal check finds a
        steady pitch or a pure tone in it (:attr:`emovox.speech.SpeechCheck.tonal`): room tone and noise
        stay, as in the recordings hand-crafted features are trained on (cutting a RAVDESS recording's
        second of room tone changed a model's answer)."""
        if self.speech_head is None:
            return self.speech(part).tonal
        p = self.speech_head.probability(self._head_embedding(part))
        return bool(p[0] < self.speech_head.sure_below)

    def _verdict(self, check: SpeechCheck | None, source: str) -> Prediction | None:
        """The signal check's ``speech=False`` Prediction where it decides alone (see :meth:`embed_speech`)."""
        if check is None or check.speech or (self.speech_head is not None and not check.final):
            return None
        return Prediction(source, speech=False, reason=check.reason)

    def no_voice(self, embedding: np.ndarray | list, check: SpeechCheck | None = None) -> str | None:
        """Why the speech head, with the signal's ``check`` (:meth:`speech`), finds no voice in an
        :meth:`embed` output (a ``Prediction.reason``), or None: when it does, when the model has no head,
        or with :attr:`check_speech` off.

        Parameters
        ----------
        embedding : numpy.ndarray or list
            An :meth:`embed` output.
        check : SpeechCheck, optional
            The signal's :meth:`speech`, which the head's verdict may take into account.

        Returns
        -------
        str or None
            The reason there is no voice, or None.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model, tone = emovox.load_model(), synthetic.tone(220.0, 2.0)
        >>> model.no_voice(model.embed(tone), model.speech(tone))
        "no voice in the model's features (speech probability 0.00)"
        >>> classical = emovox.load_model("classical")          # no speech head: None
        >>> classical.no_voice(classical.embed(tone)) is None
        True
        """
        if not self.check_speech or self.speech_head is None:
            return None
        return self.speech_head.reason(self._head_input(embedding), check)

    def _head_input(self, embedding: np.ndarray | list) -> np.ndarray:
        return embedding

    def _head_embedding(self, y: np.ndarray) -> np.ndarray:
        """What the speech head scores for a signal (an ensemble runs only its head member's front end)."""
        return self.embed(y)

    def voice_embedding(
        self, embedding: np.ndarray | list, check: SpeechCheck | None, chunks: Chunks | None
    ) -> tuple[np.ndarray | list | None, str | None]:
        """What to score: ``(embedding, None)``, or ``(None, reason)`` when there is no speech.

        ``embedding`` (of the whole recording) is scored when :meth:`no_voice` finds a voice in it. When it
        does not, the recording (``chunks()``: a callable returning a fresh iterator of mono chunks) is
        searched in windows of :data:`VOICE_WINDOW_SECONDS` (the first one shorter), hop half that, over
        its first :data:`VOICE_SEARCH_SECONDS` (an encoder run per hop: a longer recording is better cut
        with ``--timeline``): speech after a long stretch of music is music in the pooled features but a
        voice in its own windows. The mean embedding of the windows the head is sure of
        (:attr:`~emovox.speech_head.SpeechHead.sure_voice`) is scored instead; with none, the recording is
        "no speech". Ensembles score the whole recording only.

        Parameters
        ----------
        embedding : numpy.ndarray or list
            :meth:`embed` of the whole recording.
        check : SpeechCheck or None
            The recording's :meth:`speech` (or :meth:`speech_stream`).
        chunks : callable or None
            Returns a fresh iterator of the recording's mono chunks at :attr:`sample_rate`; None: no window
            search.

        Returns
        -------
        embedding : numpy.ndarray, list or None
        reason : str or None
            Exactly one of the two is None.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model, tone = emovox.load_model(), synthetic.tone(220.0, 2.0)
        >>> model.voice_embedding(model.embed(tone), model.speech(tone), lambda: iter([tone]))
        (None, "no voice in the model's features (speech probability 0.00)")
        """
        reason = self.no_voice(embedding, check)
        if reason is None:
            return embedding, None
        if isinstance(embedding, list) or chunks is None:
            return None, reason
        from ..audio import context_windows

        hop = int(VOICE_WINDOW_SECONDS * self.sample_rate / 2)
        head, voice = self.speech_head, []
        for k, seg, lo, total in context_windows(chunks(), hop, hop // 2):
            if total is not None and (lo + hop >= total if k else seg.size >= total):
                break  # the rest was in the last window (the first: it is the whole, already rejected)
            if lo >= VOICE_SEARCH_SECONDS * self.sample_rate:
                break
            e = self.embed(seg)
            if head.probability(e)[0] >= head.sure_voice:
                voice.append(np.asarray(e))
        if not voice:
            return None, reason
        return np.mean(voice, axis=0), None

    def _seconds(self, y: np.ndarray, check: SpeechCheck | None) -> float:
        """Seconds of sound in a signal judged whole: its check's, without the quiet before and after it
        (:attr:`~emovox.speech.SpeechCheck.sound_seconds`), else its duration."""
        return y.size / self.sample_rate if check is None else check.sound_seconds

    def _whole_check(self, y: np.ndarray) -> SpeechCheck | None:
        """:meth:`speech` of a signal short enough to be judged whole (None when the model checks nothing)."""
        if not self.check_speech or y.size > SEGMENTS_AFTER_SECONDS * self.sample_rate:
            return None
        return self.speech(y)

    def speech_stream(
        self, chunks: Chunks, block_seconds: float = SPEECH_BLOCK_SECONDS
    ) -> SpeechCheck | None:
        """The speech check of a long recording, block by block (``block_seconds`` each): the first block
        that holds speech decides (the rest is not read); when none does, the verdict of the first block
        with voiced sound (not :attr:`~emovox.speech.SpeechCheck.final`: a speech head may still hear a
        voice in it), else the first block's. Memory stays bounded; a recording up to one block long is
        checked exactly as :meth:`speech` checks it.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of the recording's mono chunks at :attr:`sample_rate` (read once).
        block_seconds : float
            Seconds per block (default :data:`SPEECH_BLOCK_SECONDS`).

        Returns
        -------
        SpeechCheck or None
            The deciding block's check; None for a recording without samples.

        Raises
        ------
        Cancelled
            When this thread's work was cancelled (:func:`emovox.audio.cancellable`), checked after each block.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model, tone = emovox.load_model(), synthetic.tone(220.0, 2.0)
        >>> model.speech_stream(lambda: iter([tone[:16000], tone[16000:]])).reason
        'no voiced speech: steady pitch (tone / hum / music)'
        >>> model.speech_stream(lambda: iter([])) is None
        True
        """
        from ..audio import check_cancelled

        def keep(check):  # the verdict to return when no block holds speech
            return check if first is None or (first.final and not check.final) else first

        first, parts, have = None, [], 0
        n = int(block_seconds * self.sample_rate)
        for c in chunks():
            parts.append(np.asarray(c, np.float32))
            have += c.size
            while have >= n:
                y = np.concatenate(parts)
                block, rest = y[:n], y[n:]
                parts, have = [rest], rest.size
                check = self.speech(block)
                if check.speech:
                    return check
                first = keep(check)
                check_cancelled()
        if have and (first is None or have >= self.sample_rate):
            check = self.speech(np.concatenate(parts))
            if check.speech:
                return check
            first = keep(check)
        return first
