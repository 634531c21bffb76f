"""Prediction: audio in, emotion probabilities out, through ONNX Runtime only.

A model is a directory (see :mod:`emovox.models.store`) whose ``frontend`` turns audio into the input
of its ONNX classifier. Neither torch nor scikit-learn is imported here, so a fresh process predicts fast.

>>> import numpy as np, emovox
>>> model = emovox.load_model()                      # the bundled default    # doctest: +SKIP
>>> model.predict_proba(np.zeros(16000), sr=16000).shape                     # doctest: +SKIP
(1, 7)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .audio import DEFAULT_SR, float_mono, load_audio, resample
from .calibration import UNCERTAIN_BELOW
from .encoders.runtime import cpu_session
from .errors import AudioError, EmovoxError, ModelError, ParameterError
from .extractors import from_dict
from .models.store import read_model_dir

if TYPE_CHECKING:
    from .speech import SpeechCheck
    from .speech_head import SpeechHead

#: Models that ship inside the package, by name.
BUNDLED_DIR = Path(__file__).parent / "models_data"
DEFAULT_MODEL = "default"
#: A recording longer than this gets the emotion of its speech segments (EmotionModel.timeline_prediction):
#: a few sentences, with pauses and whatever sounds between them.
SEGMENTS_AFTER_SECONDS = 10.0
#: So does a shorter one whose sounds are apart by a pause at least this long: several utterances, which a
#: mean of features would blend into an emotion none of them has (no corpus recording holds such a pause:
#: 0 of 995 sampled, 3 at 1 s).
UTTERANCE_PAUSE_SECONDS = 1.5
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


def bundled_models() -> list[str]:
    return (
        sorted(p.name for p in BUNDLED_DIR.iterdir() if (p / "metadata.json").is_file())
        if BUNDLED_DIR.is_dir()
        else []
    )


def resolve_model_path(model: str | os.PathLike | None) -> Path:
    """A model directory from a path, a bundled model's name, or None for the default."""
    if model is None:
        model = os.environ.get("EMOVOX_MODEL", DEFAULT_MODEL)
    path = Path(model)
    if path.exists():
        return path
    if (BUNDLED_DIR / str(model)).is_dir():
        return BUNDLED_DIR / str(model)
    names = bundled_models()
    raise ModelError(
        f"{model}: no such model directory or bundled model (bundled: {', '.join(names) or 'none'})"
    )


def chosen_emotions(
    emotions: Sequence[str] | str, labels: Sequence[str], option: str = "emotions"
) -> list[str]:
    """The model's names of ``emotions`` (a list, or a comma-separated string; aliases such as ``anger``
    allowed; and named sets: ``four`` for angry, happy, neutral, sad, ``seven``, ``all`` for every one of
    ``labels``), in the order given, checked against ``labels``: at least two, all known. An error
    (:class:`ParameterError`) names ``option`` (as the user gave it: the CLI's option, the API's parameter).

    >>> chosen_emotions("anger, sad", ["angry", "happy", "sad"])
    ['angry', 'sad']
    """
    from .labels import canonical, with_sets

    if not isinstance(emotions, str) and not (
        isinstance(emotions, Sequence) and all(isinstance(e, str) for e in emotions)
    ):
        raise ParameterError(
            f"{option}: expected emotion names (a list, or one comma-separated string), got {emotions!r}"
        )
    wanted = []
    for e in with_sets(emotions, labels):
        try:
            wanted.append(canonical(e.strip()))
        except EmovoxError:
            wanted.append(e.strip())
    unknown = [e for e in wanted if e not in labels]
    if unknown or len(set(wanted)) < 2:
        twice = "" if unknown or len(wanted) < 2 else f" ({', '.join(dict.fromkeys(wanted))} named twice)"
        raise ParameterError(
            f"{option}: expected at least two different emotions of {', '.join(labels)}{twice}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return list(dict.fromkeys(wanted))


@dataclass
class Prediction:
    """The emotion of one input, or why it could not be predicted.

    ``speech`` is False when the input holds no speech (silence, noise, hum, tones, music...): then
    ``label`` is None and ``reason`` says what was found; None when the input failed (``error``).
    ``uncertain`` marks a prediction whose calibrated confidence is low.
    """

    source: str
    label: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    speech: bool | None = True
    uncertain: bool = False
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.error is not None:  # nothing was heard: neither speech nor its absence
            self.speech = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def emotion(self) -> str | None:
        """:attr:`label`, under the name every JSON output gives it."""
        return self.label

    def top(self, k: int) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:k]

    def describe(self) -> str:
        """One line for people: the emotion and its confidence, ``uncertain``, or ``no speech (why)``."""
        if self.error:
            return self.error
        if not self.speech:
            return f"no speech ({self.reason})" if self.reason else "no speech"
        return f"{self.label} {self.confidence:.3f}" + (" (uncertain)" if self.uncertain else "")

    def to_dict(self) -> dict[str, Any]:
        if self.error:
            return {"source": self.source, "error": self.error}
        if not self.speech:
            return {"source": self.source, "speech": False, "emotion": None, "reason": self.reason}
        return {
            "source": self.source,
            "speech": True,
            "emotion": self.label,
            "confidence": self.confidence,
            "uncertain": self.uncertain,
            "probabilities": self.probabilities,
        }


class EmotionModel:
    """A loaded emotion model: ``predict`` / ``predict_proba`` for paths, arrays or a manifest.

    Probabilities are calibrated with the temperature stored in the model directory (when it has one).
    ``check_speech``: every prediction (:meth:`predict`, :meth:`predict_signal`, :meth:`predict_files`,
    :meth:`predict_stream`, timelines) first checks that the audio holds speech: the signal check
    (:func:`emovox.speech.detect_speech`) alone, or, where the model has a speech head
    (:mod:`emovox.speech_head`), the two together (:meth:`embed_speech`); no emotion is given to what
    fails. A recording longer than :data:`SEGMENTS_AFTER_SECONDS`, or of several utterances
    (:meth:`by_segments`), gets the emotion of its speech segments (:meth:`timeline_prediction`).
    ``emotions``: predict over these emotions only (probabilities renormalised over them).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        check_speech: bool = True,
        emotions: Sequence[str] | str | None = None,
    ):
        if not isinstance(check_speech, bool):
            raise ParameterError(f"check_speech: expected True or False, got {check_speech!r}")
        self.path = Path(path)
        read = self.__dict__.pop("_read", None)  # what __new__ read and verified, once
        self.metadata = read[1] if read is not None and read[0] == self.path else read_model_dir(self.path)
        self.labels: list[str] = list(self.metadata["labels"])
        self.check_speech = check_speech
        calibration = self.metadata.get("calibration") or {}
        self.temperature = float(calibration.get("temperature", 1.0))
        if not self.temperature > 0:
            raise ModelError(f"{self.path}: calibration temperature must be > 0, got {self.temperature}")
        self.uncertain_below = float(calibration.get("uncertain_below", UNCERTAIN_BELOW))
        self.all_labels = list(self.labels)
        self._keep: list[int] | None = None
        if emotions is not None:
            self.restrict(emotions)
        self._load_parts()

    def __new__(cls, path: str | os.PathLike | None = None, **kwargs: Any) -> EmotionModel:
        # EmotionModel(dir) gives the right class for what the directory holds: one model or an ensemble.
        # The metadata is read and verified here, once, and handed to __init__ (no path: copy.copy rebuilds
        # an instance of the class it already has; pickle cannot, an ONNX session does not pickle)
        if path is None:
            return super().__new__(cls)
        meta = read_model_dir(Path(path))
        if cls is EmotionModel and meta.get("kind") == "ensemble":
            cls = EnsembleModel
        obj = super().__new__(cls)
        obj._read = (Path(path), meta)
        return obj

    def _load_parts(self) -> None:
        """The front end and the ONNX head (an ensemble loads its members instead)."""
        try:
            self.frontend = from_dict(self.metadata["frontend"], self.path)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{self.path}: malformed front end in metadata.json ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:160]}); retrain the model"
            ) from None
        self.sample_rate: int = int(getattr(self.frontend, "sample_rate", DEFAULT_SR))
        head = self.metadata.get("head", "model.onnx")
        self.session = cpu_session(self.path / head)
        first = self.session.get_inputs()[0]
        self._input = first.name
        width, expected = (first.shape or [None])[-1], getattr(self.frontend, "n_features", None)
        if (
            len(first.shape or ()) == 2
            and isinstance(width, int)
            and isinstance(expected, int)
            and width != expected
        ):
            raise ModelError(
                f"{self.path}: the head {head} takes {width} features but the front end in metadata.json "
                f"gives {expected}; retrain the model (or update emovox, if it was saved by a newer one)"
            )
        outs = {o.name: o for o in self.session.get_outputs()}
        self._prob_output = "probabilities" if "probabilities" in outs else list(outs)[-1]
        shape = outs[self._prob_output].shape or [None]
        if isinstance(shape[-1], int) and shape[-1] > 0 and shape[-1] != len(self.all_labels):
            raise ModelError(
                f"{self.path}: the head {head} gives {shape[-1]} probabilities but metadata.json "
                f"lists {len(self.all_labels)} labels; retrain the model"
            )
        self.class_means = self._class_means()
        self.speech_head = self._speech_head()

    def _speech_head(self) -> SpeechHead | None:
        entry = self.metadata.get("speech_head")
        if not entry:
            return None
        from .speech_head import SURE_BELOW, THRESHOLD, SpeechHead

        n = getattr(self.frontend, "n_features", None)
        return SpeechHead.load(
            self.path / entry["file"],
            n if isinstance(n, int) else None,
            entry.get("threshold", THRESHOLD),
            entry.get("sure_below", SURE_BELOW),
        )

    def training_files(self) -> np.ndarray:
        """Fingerprints of the recordings the model was trained on
        (:func:`emovox.extraction.content_fingerprints`; empty for models saved without them)."""
        name = (self.metadata.get("training") or {}).get("fingerprints")
        if not name:
            return np.zeros(0, np.uint64)
        try:
            prints = np.load(self.path / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{self.path / name}: unreadable training fingerprints ({exc})") from None
        if prints.ndim != 1 or prints.dtype != np.uint64:
            raise ModelError(f"{self.path / name}: training fingerprints must be a 1-D uint64 array")
        return prints

    def _class_means(self) -> np.ndarray | None:
        name = (self.metadata.get("adaptation") or {}).get("class_means")
        if not name:
            return None
        try:
            means = np.load(self.path / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{self.path / name}: unreadable class means ({exc})") from None
        if means.ndim != 2 or len(means) != len(self.all_labels):
            raise ModelError(
                f"{self.path / name}: class means of shape {means.shape} do not fit "
                f"{len(self.all_labels)} labels"
            )
        return means.astype(np.float64)

    @property
    def can_adapt(self) -> bool:
        """Whether :meth:`proba_session` can adapt to a speaker (the model, or a member, has class means)."""
        return self.class_means is not None

    def require_adaptation(self) -> None:
        """Raise :class:`ModelError` unless :attr:`can_adapt` (what ``same_speaker`` / ``same_channel`` need)."""
        if not self.can_adapt:
            raise ModelError(
                f"{self.path}: this model stores no class means, so it cannot adapt to a speaker or channel "
                "(deep models have none, and a model is saved without them where adaptation lowered its "
                "accuracy, as the bundled classical is); score the files one by one, or use another model"
            )

    def __repr__(self) -> str:
        return f"EmotionModel({str(self.path)!r}, labels={self.labels})"

    def restrict(self, emotions: Sequence[str] | str | None, option: str = "emotions") -> EmotionModel:
        """Predict over ``emotions`` only (as :func:`chosen_emotions` takes them; None: every emotion the
        model knows). Probabilities are renormalised over the kept emotions; :attr:`labels` becomes them.
        An error names ``option``."""
        if emotions is None:
            self.labels, self._keep = list(self.all_labels), None
            return self
        self.labels = chosen_emotions(emotions, self.all_labels, option)
        self._keep = [self.all_labels.index(e) for e in self.labels]
        return self

    def _finish(self, p: np.ndarray) -> np.ndarray:
        """Calibrate raw probabilities (rows over :attr:`all_labels`) and keep the chosen emotions."""
        if self.temperature != 1.0:
            from .calibration import apply_temperature

            p = apply_temperature(p, self.temperature)
        if self._keep is not None:
            p = p[:, self._keep]
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return p

    def speech(self, y: np.ndarray):
        """The speech check of one signal at :attr:`sample_rate` (:class:`emovox.speech.SpeechCheck`)."""
        from .speech import detect_speech

        return detect_speech(y, self.sample_rate)

    def embed_speech(
        self, y: np.ndarray, source: str = "<array>", check: SpeechCheck | None = None
    ) -> tuple[Prediction | None, np.ndarray | list | None]:
        """One mono signal through both speech checks: ``(no_speech, None)``, the ``speech=False``
        :class:`Prediction`, when there is no speech, else ``(None, embedding)``, the :meth:`embed` output
        to score (:meth:`voice_embedding`). The signal check (:meth:`speech`) decides alone without a
        speech head; with one, only on silence and sound without voicing (:attr:`SpeechCheck.final`).
        With a speech head, a loud edge without speech (a tone, noise or music before or after it) is cut
        off first (:meth:`speech_span`). ``check``: :meth:`speech` of ``y`` when the caller has it."""
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
        off (nothing is cut)."""
        if not self.check_speech:
            return 0, len(y)
        from .speech import speech_bounds

        lo, hi = speech_bounds(y, self.sample_rate, check, keep_seconds=self._keep_seconds)
        lo = lo if lo and self._voiceless(y[:lo]) else 0
        hi = hi if hi < len(y) and self._voiceless(y[hi:]) else len(y)
        return lo, hi

    def speech_parts(self, y: np.ndarray, check: SpeechCheck | None = None) -> list[tuple[int, int]]:
        """The parts of one signal that hold its utterances: :meth:`speech_span`, cut again where a loud
        stretch of a second or more between two utterances holds no speech-like voicing
        (:func:`emovox.speech.speech_gaps`: a tone or noise the voice detector joined to the sentences on both
        sides) and the speech head is sure it holds no voice. ``[(0, len(y))]`` with :attr:`check_speech`
        off."""
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
        from .speech import speech_gaps

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
        or with :attr:`check_speech` off."""
        if not self.check_speech or self.speech_head is None:
            return None
        return self.speech_head.reason(self._head_input(embedding), check)

    def _head_input(self, embedding: np.ndarray | list) -> np.ndarray:
        return embedding

    def _head_embedding(self, y: np.ndarray) -> np.ndarray:
        """What the speech head scores for a signal (an ensemble runs only its head member's front end)."""
        return self.embed(y)

    def voice_embedding(
        self, embedding: np.ndarray | list, check: SpeechCheck | None, chunks
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
        """
        reason = self.no_voice(embedding, check)
        if reason is None:
            return embedding, None
        if isinstance(embedding, list) or chunks is None:
            return None, reason
        from .audio import context_windows

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

    # ------------------------------------------------------------------------------------------------
    def embed(self, y: np.ndarray) -> np.ndarray | list:
        """The front end's representation of one signal at :attr:`sample_rate` (an ensemble: a list with
        each member's); integer samples are scaled and channels averaged (:func:`emovox.audio.float_mono`)."""
        return self.frontend.process_signal(float_mono(y))

    def proba_from_embeddings(self, X: np.ndarray | list) -> np.ndarray:
        """Calibrated probabilities (columns :attr:`labels`) of :meth:`embed` outputs (one, or stacked)."""
        return self._finish(self._raw_proba(X))

    def _raw_proba(self, X: np.ndarray | list) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim in (1, 3):  # one utterance: a feature vector, or a deep model's [1, frames, bins] matrix
            X = X[None]
        width = getattr(self.frontend, "n_features", None)
        if X.ndim == 2 and isinstance(width, int) and X.shape[1] != width:
            raise ParameterError(
                f"{self.path}: the model takes {width} features per recording, got {X.shape[1]}"
            )
        X = np.ascontiguousarray(X)
        (p,) = self.session.run([self._prob_output], {self._input: X})
        p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)

    def proba_session(self, embeddings: Sequence, channel: bool = False) -> np.ndarray:
        """Probabilities for several recordings of **one speaker** (or, ``channel``, of one recording
        channel), adapted to it.

        ``embeddings`` are :meth:`embed` outputs. The speaker's offset is estimated from all of them and
        removed (:mod:`emovox.adaptation`); a channel's only as far as the batch's predictions spread over
        the emotions (:func:`~emovox.adaptation.adaptation_weight`). A model (or ensemble member) without
        class means, or a single recording, is scored as it is.
        """
        if not len(embeddings):
            return np.zeros((0, len(self.labels)))
        if self.class_means is None:
            return self._finish(np.vstack([self._raw_proba(e) for e in embeddings]))
        from .adaptation import GATE, adapt_proba

        X = np.stack([np.asarray(e, dtype=np.float32) for e in embeddings])
        gate = GATE if channel else None  # a channel's spread is judged over the emotions kept (--emotions)
        return self._finish(adapt_proba(X, self._raw_proba, self.class_means, gate=gate, keep=self._keep))

    def proba_signal(self, y: np.ndarray) -> np.ndarray:
        """Probabilities (in :attr:`labels` order) for one signal at :attr:`sample_rate` (integer samples
        scaled, channels averaged: :func:`emovox.audio.float_mono`). Beyond :data:`SEGMENTS_AFTER_SECONDS`
        (or of several utterances: :meth:`by_segments`), its speech segments'
        (:meth:`timeline_prediction`), so that :meth:`predict` is their argmax; the
        whole signal's when no segment holds speech."""
        y = float_mono(y)
        if self.by_segments(y, self._whole_check(y)):
            from .live.segments import segments_proba

            p, _ = segments_proba(self, self._speech_segments(lambda: iter([y]), None))
            if p is not None:
                return p
        return self.proba_from_embeddings(self.embed(y))[0]

    def by_segments(self, y: np.ndarray, check: SpeechCheck | None = None) -> bool:
        """Whether a mono signal at :attr:`sample_rate` is scored by its speech segments rather than as one
        utterance: longer than :data:`SEGMENTS_AFTER_SECONDS`, or utterances apart by a pause of
        :data:`UTTERANCE_PAUSE_SECONDS` or more, or (given ``check``, its :meth:`speech`) by a tone or noise
        without speech (:meth:`speech_parts`)."""
        if y.size > SEGMENTS_AFTER_SECONDS * self.sample_rate:
            return True
        if y.size > UTTERANCE_PAUSE_SECONDS * self.sample_rate:
            from .live.vad import segment

            if len(segment(y, self.sample_rate, min_silence=UTTERANCE_PAUSE_SECONDS, keep_samples=False)) > 1:
                return True
        # (the gaps alone: the span's edges, which speech_parts also cuts, decide nothing here)
        return check is not None and next(self._voiceless_gaps(y, check), None) is not None

    def _seconds(self, y: np.ndarray, check: SpeechCheck | None) -> float:
        """Seconds of sound in a signal judged whole: its check's, without the quiet before and after it
        (:attr:`~emovox.speech.SpeechCheck.sound_seconds`), else its duration."""
        return y.size / self.sample_rate if check is None else check.sound_seconds

    def _whole_check(self, y: np.ndarray) -> SpeechCheck | None:
        """:meth:`speech` of a signal short enough to be judged whole (None when the model checks nothing)."""
        if not self.check_speech or y.size > SEGMENTS_AFTER_SECONDS * self.sample_rate:
            return None
        return self.speech(y)

    def _speech_segments(self, chunks, check: SpeechCheck | None, keep_embeddings: bool = False) -> list:
        """The classified segments of a recording given as ``chunks()``, brought up first when it is quiet
        (:func:`emovox.live.segments.segment_gain`, read again only when ``check``, the speech check of the
        whole or of one block, leaves it quiet): what the whole recording's emotion is averaged from, by
        every path."""
        from .live.segments import classified_segments, segment_gain

        gain = segment_gain(chunks(), None if check is None else check.peak_db)
        return list(classified_segments(chunks(), self, keep_embeddings=keep_embeddings, gain=gain))

    def _load(self, item, sr: int | None) -> np.ndarray:
        if isinstance(item, np.ndarray):
            if sr is None:
                raise AudioError("<array>: pass sr= (the array's sample rate) with audio given as an array")
            return load_audio(item, self.sample_rate, input_sr=sr)
        return load_audio(item, self.sample_rate)

    def predict_proba(self, inputs, sr: int | None = None) -> np.ndarray:
        """Calibrated probabilities of each input, always 2-D as scikit-learn's.

        Like scikit-learn's, it scores whatever it is given: there is no speech check here, so silence
        gets probabilities too; :meth:`predict`, :meth:`predict_signal` and :meth:`predict_files` check
        for speech first. A recording longer than :data:`SEGMENTS_AFTER_SECONDS` (or of several
        utterances: :meth:`by_segments`) is scored by its speech segments, as :meth:`predict` scores it
        (:meth:`proba_signal`). Errors raise; use :meth:`predict_files` to carry on past bad files.

        Parameters
        ----------
        inputs : path, bytes, array, or list of them
            A file path, an encoded file's bytes, or an array of samples: one recording, 1-D or with
            channels (``(n, channels)`` or ``(channels, n)``, as :func:`emovox.audio.float_mono` reads
            it). Several recordings are a list.
        sr : int, optional
            The sample rate of arrays (required for them; files carry their own).

        Returns
        -------
        ndarray, shape (n_inputs, len(labels))
            Rows sum to 1; columns in :attr:`labels` order (one row for a single input).

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> model = emovox.load_model()
        >>> noise = synthetic.white_noise(2.0)
        >>> p = model.predict_proba(noise, sr=16000)
        >>> p.shape, round(float(p.sum()), 6)
        ((1, 7), 1.0)
        """
        items = [inputs] if _is_single(inputs) else _as_list(inputs)
        rows = [self.proba_signal(self._load(x, sr)) for x in items]
        return np.stack(rows) if rows else np.zeros((0, len(self.labels)))

    def predict(self, inputs, sr: int | None = None):
        """The most probable emotion of each input, after the speech check.

        Parameters
        ----------
        inputs : path, bytes, array, or list of them
            As :meth:`predict_proba` takes them.
        sr : int, optional
            The sample rate of arrays.

        Returns
        -------
        str or None, or list of them
            One label for a single input, a list for several; None for an input without speech (see
            :meth:`predict_signal` for the reason and the probabilities).

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> emovox.load_model().predict([synthetic.white_noise(2.0), synthetic.silence(1.0)], sr=16000)
        [None, None]
        """
        if _is_single(inputs):
            return self.predict_signal(self._load(inputs, sr)).label
        return [self.predict_signal(self._load(x, sr)).label for x in _as_list(inputs)]

    def predict_signal(
        self,
        y: np.ndarray,
        source: str = "<array>",
        emotions: Sequence[str] | str | None = None,
        sr: int | None = None,
    ) -> Prediction:
        """The :class:`Prediction` of one signal: the speech check first (when :attr:`check_speech`), then
        calibrated probabilities and the ``uncertain`` flag.

        Parameters
        ----------
        y : ndarray
            The samples, float or integer (scaled), 1-D or with channels (averaged; see
            :func:`emovox.audio.float_mono`). A signal shorter than 0.1 s raises, as
            :func:`emovox.audio.load_audio` does.
        source : str
            How the prediction names the signal.
        emotions : str or list of str, optional
            Over these of :attr:`labels` only, for this call (as :meth:`restrict` takes them).
        sr : int, optional
            The sample rate of ``y`` (default :attr:`sample_rate`).

        Returns
        -------
        Prediction
            ``speech`` False with a ``reason`` and no emotion when the signal holds no speech.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> pred = emovox.load_model().predict_signal(synthetic.tone(220.0, 2.0), "tone.wav")
        >>> pred.speech, pred.label
        (False, None)
        """
        rate = self.sample_rate if sr is None else sr
        return self._predict(
            load_audio(np.asarray(y), self.sample_rate, input_sr=rate, name=source), source, emotions
        )

    def _predict(self, y: np.ndarray, source: str, emotions: Sequence[str] | str | None = None) -> Prediction:
        """:meth:`predict_signal` of a mono signal at :attr:`sample_rate`."""
        check = self._whole_check(y)
        if self.by_segments(y, check):
            return self.timeline_prediction(lambda: iter([y]), source, emotions)[0]
        no_speech, e = self.embed_speech(y, source, check)
        if no_speech is not None:
            return no_speech
        return self.make_prediction(
            source, self.proba_from_embeddings(e)[0], emotions, self._seconds(y, check)
        )

    def timeline_prediction(
        self, chunks, source: str = "<array>", emotions: Sequence[str] | str | None = None
    ) -> tuple[Prediction, list]:
        """A recording's timeline, and the emotion of the whole recording from it.

        The whole recording's emotion is its speech segments' probabilities averaged by duration
        (:func:`emovox.live.segments.segments_proba`): pauses and noise between the sentences count for
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
            probabilities restricted to them, as a restricted timeline shows them (the segments returned
            keep every emotion).

        Returns
        -------
        prediction : Prediction
        segments : list of emovox.live.Segment
            Every segment, with and without speech (empty when the whole recording holds none).
        """
        from .live.segments import no_speech_reason, segments_proba, sound_seconds

        check = self.speech_stream(chunks) if self.check_speech else None
        # without a speech head, the whole's verdict stands unless it found speech-like voicing somewhere:
        # a tone or music joined to the speech decides the whole, not the segments it is cut from
        if (result := self._verdict(check, source)) and (
            self.speech_head is not None or not check.speech_spans
        ):
            return result, []
        segments = self._speech_segments(chunks, check)
        chosen = None if emotions is None else chosen_emotions(emotions, self.labels)
        p, _ = segments_proba(self, segments, chosen)
        seconds = sound_seconds(segments)
        if p is None and not self.check_speech:  # an emotion for any audio, as asked: the whole of it
            p, seconds = self.proba_from_embeddings(self.embed_stream(chunks))[0], None
        if p is None and (whole := self.whole_segment(chunks, check)) is not None:
            p, seconds, segments = np.array(list(whole.probabilities.values())), whole.sound_seconds, [whole]
        if p is None:
            return Prediction(source, speech=False, reason=no_speech_reason(segments)), segments
        return self.make_prediction(source, p, chosen, seconds), segments

    def whole_segment(self, chunks, check: SpeechCheck | None, keep_embedding: bool = False):
        """The one :class:`~emovox.live.Segment` of a recording whose segments hold no speech: one of at most
        :data:`SEGMENTS_AFTER_SECONDS` that passes the speech check whole (``check``: its
        :meth:`speech_stream`) while each of its utterances, apart by a pause, holds too little voicing to
        (a breathy, sad voice). It is scored whole, as a recording of one utterance is, by every path that
        cuts segments; None for any other recording (``chunks()``: a fresh iterator of its mono chunks)."""
        if check is None or not check.speech or check.duration > SEGMENTS_AFTER_SECONDS:
            return None
        _, e = self.embed_speech(np.concatenate(list(chunks())), check=check)
        if e is None:
            return None
        from .live.segments import Segment, set_probabilities

        whole = Segment(0.0, check.duration, embedding=e if keep_embedding else None)
        set_probabilities(self, whole, self.proba_from_embeddings(e)[0], check.sound_seconds)
        return whole

    # ------------------------------------------------------------------------------------ long recordings
    def embed_stream(self, chunks) -> np.ndarray | list:
        """:meth:`embed` of a long recording given as ``chunks()`` (a callable returning a fresh iterator of
        mono chunks at :attr:`sample_rate`), in bounded memory where the front end can (Whisper, hand-crafted
        features); deep frame models need the whole signal and read it whole."""
        return self.frontend.process_stream(chunks)

    def speech_stream(self, chunks, block_seconds: float = SPEECH_BLOCK_SECONDS):
        """The speech check of a long recording, block by block (``block_seconds`` each): the first block
        that holds speech decides (the rest is not read); when none does, the verdict of the first block
        with voiced sound (not :attr:`~emovox.speech.SpeechCheck.final`: a speech head may still hear a
        voice in it), else the first block's. Memory stays bounded; a recording up to one block long is
        checked exactly as :meth:`speech` checks it."""
        from .audio import check_cancelled

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

    def predict_stream(
        self,
        source,
        name: str | None = None,
        emotions: Sequence[str] | None = None,
        max_seconds: float | None = None,
    ) -> Prediction:
        """The :class:`Prediction` of a long file (or encoded bytes), read chunk by chunk in bounded memory
        (:meth:`timeline_prediction`); one up to :data:`SEGMENTS_AFTER_SECONDS` long is read whole and
        predicted as :meth:`predict_signal` does. Errors raise :class:`EmovoxError`."""
        from .audio import DEFAULT_MIN_DURATION, audio_duration, stream_audio, whole_if_short

        name = name or _source_name(source)
        duration = audio_duration(source)
        if duration is not None and duration <= SEGMENTS_AFTER_SECONDS:
            y = load_audio(source, self.sample_rate, name=name, max_seconds=max_seconds)
            return self._predict(y, name, emotions)

        def chunks():
            return stream_audio(
                source,
                self.sample_rate,
                max_seconds=max_seconds,
                min_duration=DEFAULT_MIN_DURATION,
                name=name,
            )

        if duration is None:  # a format that declares no length (m4a through ffmpeg): short is as short does
            y = whole_if_short(chunks, int(SEGMENTS_AFTER_SECONDS * self.sample_rate))
            if y is not None:
                return self._predict(y, name, emotions)
        return self.timeline_prediction(chunks, name, emotions)[0]

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
        >>> import emovox
        >>> for pred in emovox.load_model().predict_files(["recordings/"]):  # doctest: +SKIP
        ...     print(pred.source, pred.label if pred.ok else pred.error)
        """
        channel = same_channel and not same_speaker
        together = same_speaker or same_channel  # scored as one session
        if together:
            self.require_adaptation()
        done: list[tuple[str, Any]] = []
        from .audio import STREAM_AFTER_SECONDS, audio_duration

        if isinstance(paths, np.ndarray):
            raise ParameterError(
                "predict_files takes paths or bytes; score samples with predict_signal(y, sr=...)"
            )
        for path in _each_input(paths):
            name = _source_name(path)
            try:
                if isinstance(path, _Unreadable):
                    name, result = path.name, Prediction(path.name, error=path.why)
                elif not together and (audio_duration(path) or np.inf) > STREAM_AFTER_SECONDS:
                    # long, or of no declared length (m4a): window by window, never held whole
                    result = self.predict_stream(path, name)
                elif not together:
                    result = self._predict(load_audio(path, self.sample_rate, name=name), name)
                else:
                    result = self._session_input(load_audio(path, self.sample_rate, name=name), name)
            except EmovoxError as exc:
                result = Prediction(name, error=str(exc))
            except Exception as exc:  # one bad input must not stop a batch
                result = Prediction(name, error=f"{name}: {type(exc).__name__}: {exc}")
            if together:
                done.append((name, result))
            else:
                yield result
        pieces = [r for _, r in done if isinstance(r, _Pieces)]
        rows = iter(self.proba_session([e for r in pieces for e in r.embeddings], channel) if pieces else [])
        for src, r in done:
            if isinstance(r, Prediction):
                yield r
                continue
            P, w = np.array([next(rows) for _ in r.embeddings]), np.asarray(r.weights, dtype=np.float64)
            yield self.make_prediction(src, w @ P / w.sum(), seconds=r.seconds)

    def _session_input(self, y: np.ndarray, source: str) -> Prediction | _Pieces:
        """What one recording adds to an adapted batch (:meth:`predict_files` with ``same_speaker`` or
        ``same_channel``): its embedding; beyond :data:`SEGMENTS_AFTER_SECONDS` (or of several utterances:
        :meth:`by_segments`), its speech segments' embeddings, each adapted with the batch and averaged by duration as :meth:`timeline_prediction`
        averages them; or its ``speech=False`` :class:`Prediction`."""
        check = self._whole_check(y)
        if not self.by_segments(y, check):
            no_speech, e = self.embed_speech(y, source, check)
            seconds = self._seconds(y, check)
            return no_speech if no_speech is not None else _Pieces([max(seconds, 1e-3)], [e], seconds)
        from .live.segments import no_speech_reason, segment_weights, sound_seconds

        if check is None and self.check_speech:
            check = self.speech(y)
        if result := self._verdict(check, source):
            return result
        segments = self._speech_segments(lambda: iter([y]), check, keep_embeddings=True)
        speech = [s for s in segments if s.speech and s.embedding is not None]
        if not speech and (whole := self.whole_segment(lambda: iter([y]), check, True)) is not None:
            return _Pieces([max(whole.sound_seconds, 1e-3)], [whole.embedding], whole.sound_seconds)
        if speech:
            return _Pieces(
                list(segment_weights(speech)), [s.embedding for s in speech], sound_seconds(speech)
            )
        if not self.check_speech:  # an emotion for any audio, as asked: the whole of it
            seconds = y.size / self.sample_rate
            return _Pieces([seconds], [self.embed(y)], seconds)
        return Prediction(source, speech=False, reason=no_speech_reason(segments))

    def make_prediction(
        self, source: str, p: np.ndarray, emotions: Sequence[str] | None = None, seconds: float | None = None
    ) -> Prediction:
        """A :class:`Prediction` from probabilities over :attr:`labels` (``emotions``: over those only), of
        ``seconds`` of audio when known (under :data:`~emovox.calibration.SHORT_SECONDS`: ``uncertain``)."""
        from .calibration import is_uncertain

        labels = list(self.labels)
        if emotions is not None:
            from .calibration import restrict

            chosen = chosen_emotions(emotions, labels, option="emotions")
            labels, p = chosen, restrict(p, labels, chosen)
        i = int(np.argmax(p))
        return Prediction(
            source,
            labels[i],
            float(p[i]),
            {lab: float(v) for lab, v in zip(labels, p, strict=True)},
            uncertain=is_uncertain(float(p[i]), self.uncertain_below, seconds),
        )


class EnsembleModel(EmotionModel):
    """An ensemble model directory (:mod:`emovox.models.ensemble`): member models in sub-directories, their
    probabilities averaged with weights over the union of their labels. Same interface as
    :class:`EmotionModel` (``EmotionModel(dir)`` returns one when the directory holds an ensemble); an
    embedding is the list of each member's."""

    def _load_parts(self) -> None:
        self.members: list[tuple[EmotionModel, float, list[int]]] = []
        for m in self.metadata["members"]:
            member = EmotionModel(self.path / m["path"], check_speech=False)
            unknown = set(member.labels) - set(self.all_labels)
            if unknown:
                raise ModelError(
                    f"{self.path}: member {m['path']} predicts {sorted(unknown)}, not in the ensemble's labels"
                )
            self.members.append(
                (member, float(m.get("weight", 1.0)), [self.all_labels.index(lab) for lab in member.labels])
            )
        self.sample_rate = self.members[0][0].sample_rate
        self.class_means = None
        # the first member's speech head that has one decides, on that member's embedding
        self._head_member, self.speech_head = next(
            ((i, m.speech_head) for i, (m, _, _) in enumerate(self.members) if m.speech_head is not None),
            (None, None),
        )

    def _head_input(self, embedding: np.ndarray | list) -> np.ndarray:
        return embedding[self._head_member]

    def training_files(self) -> np.ndarray:
        return np.unique(np.concatenate([m.training_files() for m, _, _ in self.members]))

    def _head_embedding(self, y: np.ndarray) -> np.ndarray:
        member = self.members[self._head_member][0]
        return member.embed(resample(float_mono(y), self.sample_rate, member.sample_rate))

    @property
    def can_adapt(self) -> bool:
        return any(m.can_adapt for m, _, _ in self.members)

    def _average(self, parts) -> np.ndarray:
        """Weighted mean of the members' probabilities, each placed in its columns of :attr:`all_labels`."""
        total = 0.0
        for (_, w, cols), p in zip(self.members, parts, strict=True):
            full = np.zeros((len(p), len(self.all_labels)))
            full[:, cols] = p
            total = total + w * full
        return total / sum(w for _, w, _ in self.members)

    def embed(self, y: np.ndarray) -> list:
        y = float_mono(y)
        return [m.embed(resample(y, self.sample_rate, m.sample_rate)) for m, _, _ in self.members]

    def _raw_proba(self, X: list) -> np.ndarray:
        return self._average(
            [m.proba_from_embeddings(Xm) for (m, _, _), Xm in zip(self.members, X, strict=True)]
        )

    def proba_session(self, embeddings: Sequence, channel: bool = False) -> np.ndarray:
        if not len(embeddings):
            return np.zeros((0, len(self.labels)))
        parts = [
            m.proba_session([e[k] for e in embeddings], channel) for k, (m, _, _) in enumerate(self.members)
        ]
        return self._finish(self._average(parts))

    def embed_stream(self, chunks) -> list:
        return [
            m.embed_stream(chunks)
            if m.sample_rate == self.sample_rate
            else m.embed(resample(np.concatenate(list(chunks())), self.sample_rate, m.sample_rate))
            for m, _, _ in self.members
        ]


class _Pieces(NamedTuple):
    """A recording in an adapted batch: embeddings (one, or its speech segments'), their weights (seconds),
    and its seconds of sound (for :func:`emovox.calibration.is_uncertain`)."""

    weights: list[float]
    embeddings: list
    seconds: float


class _Unreadable(NamedTuple):
    """What a folder given to :meth:`EmotionModel.predict_files` holds that cannot be read."""

    name: str
    why: str


def _each_input(paths) -> Iterator[Any]:
    """Each input of ``predict_files``, a folder's audio files in its place (as the CLI expands them:
    :func:`emovox.inputs.expand_inputs`)."""
    from .inputs import expand_inputs

    for path in [paths] if _is_single(paths) else paths:
        if not isinstance(path, str | os.PathLike) or not os.path.isdir(path):
            yield path
            continue
        problems: list[str] = []
        found = expand_inputs([path], problems)
        yield from (_Unreadable(msg.split(": ", 1)[0], msg) for msg in problems)
        yield from found


def _is_single(x) -> bool:
    """One input: a path, bytes, or an array of samples (one recording, channels and all)."""
    return isinstance(x, np.ndarray | str | os.PathLike | bytes | bytearray | memoryview)


def _source_name(x) -> str:
    """How an input is named in results and errors (never the repr of its bytes or samples)."""
    if isinstance(x, bytes | bytearray | memoryview):
        return "<bytes>"
    return "<array>" if isinstance(x, np.ndarray) else str(x)


def _as_list(inputs) -> Sequence:
    if hasattr(inputs, "columns") and "path" in inputs.columns:  # a manifest DataFrame
        return list(inputs["path"])
    try:
        items = list(inputs)
    except TypeError:
        raise AudioError(
            f"expected a path, bytes, an array or a list of them, got {type(inputs).__name__}"
        ) from None
    if items and isinstance(items[0], int | float | np.number):
        raise ParameterError(
            "a list of numbers is not a list of recordings: give one recording's samples as an array "
            "(np.asarray(samples)), several as a list of arrays"
        )
    return items


def load_model(
    model: str | os.PathLike | None = None,
    *,
    check_speech: bool = True,
    emotions: Sequence[str] | str | None = None,
) -> EmotionModel:
    """Load a model directory, a bundled model by name (``default``, ``classical``), or the default.

    ``check_speech=False`` gives an emotion to any audio (no speech check); ``emotions`` restricts the
    output to those emotions (see :meth:`EmotionModel.restrict`).
    """
    if model is not None and not isinstance(model, str | os.PathLike):
        raise ParameterError(f"model: expected a model directory or a bundled model's name, got {model!r}")
    if model is not None and not os.fspath(model).strip():  # Path("") would be the current folder
        raise ParameterError("model '': an empty name; give a model directory or a bundled model's name")
    return EmotionModel(resolve_model_path(model), check_speech=check_speech, emotions=emotions)
