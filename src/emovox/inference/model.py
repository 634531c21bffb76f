"""A loaded emotion model: :class:`EmotionModel` (a model directory's front end, ONNX head, calibration and
speech head) and :func:`load_model`."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import DEFAULT_SR, float_mono, load_audio
from ..calibration import UNCERTAIN_BELOW
from ..encoders.runtime import classifier_labels, cpu_session
from ..errors import AudioError, ModelError, ParameterError
from ..extractors import from_dict
from ..inputs import single_input
from ..models.store import (
    load_npy,
    missing_reports,
    read_model_dir,
    read_sealed,
    unsealed_files,
    verify_files,
)
from .prediction import Prediction, chosen_emotions
from .recordings import Recordings
from .speech_cut import SpeechCutting

log = logging.getLogger(__name__)

#: One input of :meth:`EmotionModel.predict` / :meth:`~EmotionModel.predict_proba`: a file, its bytes, or samples.
Input = str | os.PathLike | bytes | np.ndarray

if TYPE_CHECKING:
    from ..speech_head import SpeechHead


#: Models that ship inside the package, by name.
BUNDLED_DIR = Path(__file__).parent.parent / "models_data"
DEFAULT_MODEL = "default"
#: The class of each model directory ``kind`` other than a single model (see EmotionModel.__init_subclass__).
_KINDS: dict[str, type] = {}


def bundled_models() -> list[str]:
    """The names of the models that ship in the package, for ``load_model(name)`` and ``--model NAME``.

    Returns
    -------
    list of str
        Sorted.

    Examples
    --------
    >>> bundled_models()
    ['classical', 'default']
    """
    return (
        sorted(p.name for p in BUNDLED_DIR.iterdir() if (p / "metadata.json").is_file())
        if BUNDLED_DIR.is_dir()
        else []
    )


_FIX_LABELS = "retrain the model, or copy it again from where it came from"


def resolve_model_path(model: str | os.PathLike | None) -> Path:
    """A model directory from a path, a bundled model's name, or None for the default.

    Parameters
    ----------
    model : str, path or None
        A model directory, or the name of a bundled model (:func:`bundled_models`); a bare name that is
        both a model folder here and a bundled model means the folder (with a warning). None: the
        ``EMOVOX_MODEL`` environment variable, else :data:`DEFAULT_MODEL`.

    Returns
    -------
    pathlib.Path
        The model directory (not checked to hold a model, except to tell a folder here from a bundled one).

    Raises
    ------
    ModelError
        When ``model`` is neither an existing path nor a bundled model.

    Examples
    --------
    >>> resolve_model_path("classical") == BUNDLED_DIR / "classical"
    True
    >>> resolve_model_path("nowhere")
    Traceback (most recent call last):
        ...
    emovox.errors.ModelError: nowhere: no such model directory or bundled model...; bundled: classical, default
    """
    if model is None:
        model = os.environ.get("EMOVOX_MODEL", DEFAULT_MODEL)
    path = Path(model)
    bundled = BUNDLED_DIR / str(model)
    # a bare name (a str: a Path is a path) that is a folder here and a bundled model: say which is used
    if isinstance(model, str) and path.exists() and model in bundled_models():
        if not (path / "metadata.json").is_file():
            log.warning(
                "%s: a file or folder here that is not a model; using the bundled model %s", model, model
            )
            return bundled
        log.warning(
            "%s: the model folder here, not the bundled model of that name (give ./%s/ to mean it)",
            model,
            model,
        )
        return path
    if path.exists():
        return path
    if bundled.is_dir():
        return bundled
    from ..errors import did_you_mean

    names = bundled_models()
    raise ModelError(
        f"{model}: no such model directory or bundled model{did_you_mean(str(model), names)}; "
        f"bundled: {', '.join(names) or 'none'}"
    )


class EmotionModel(SpeechCutting, Recordings):
    """A loaded emotion model: ``predict`` / ``predict_proba`` for paths, arrays or a manifest.

    Probabilities are calibrated with the temperature stored in the model directory (when it has one).
    ``check_speech``: every prediction (:meth:`predict`, :meth:`predict_signal`, :meth:`predict_files`,
    :meth:`predict_stream`, timelines) first checks that the audio holds speech: the signal check
    (:func:`emovox.speech.detect_speech`) alone, or, where the model has a speech head
    (:mod:`emovox.speech_head`), the two together (:meth:`embed_speech`); no emotion is given to what
    fails. A recording longer than :data:`SEGMENTS_AFTER_SECONDS`, or of several utterances
    (:meth:`by_segments`), gets the emotion of its speech segments (:meth:`timeline_prediction`).
    ``emotions``: predict over these emotions only (probabilities renormalised over them).

    Parameters
    ----------
    path : str or path
        A model directory (:func:`load_model` also takes a bundled model's name).
    check_speech : bool
        Check each input for speech first (default True); False: an emotion for any audio.
    emotions : str, list of str or None
        Predict over these emotions only (:meth:`restrict`); None (default): every emotion it knows.

    Examples
    --------
    >>> model = EmotionModel(BUNDLED_DIR / "default", emotions="four")
    >>> model.labels, model.all_labels[:2]
    (['angry', 'happy', 'neutral', 'sad'], ['angry', 'disgust'])
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
        read = self.__dict__.pop("_metadata_read", None)  # what __new__ read and checked, once
        member = self.__dict__.pop("_member", False)  # an ensemble's: its folder is the ensemble's to report
        # the seal and structure are checked here; each file as it is read (:meth:`_read`), and the others
        # once the parts are loaded
        self.metadata = (
            read[1] if read is not None and read[0] == self.path else read_model_dir(self.path, verify=False)
        )
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
        self._verified: set[str] = set()
        self._load_parts()
        missing = missing_reports(self.path, self.metadata)
        verify_files(self.path, self.metadata, skip=self._verified | set(missing))  # what no part has read
        if not member:
            _say_unsealed(self.path, self.metadata, missing)

    def _read(self, name: str) -> bytes:
        """A file of the model directory, read once and verified (:func:`~emovox.models.store.read_sealed`)."""
        self._verified.add(name)
        return read_sealed(self.path, self.metadata, name)

    def __new__(cls, path: str | os.PathLike | None = None, **kwargs: Any) -> EmotionModel:
        # EmotionModel(dir) gives the right class for what the directory holds: one model, or the subclass
        # declared for its kind (class EnsembleModel(EmotionModel, kind="ensemble"), which the package imports).
        # The metadata is read and its seal checked here, once, and handed to __init__ (no path: copy.copy rebuilds
        # an instance of the class it already has; pickle cannot, an ONNX session does not pickle)
        if path is None:
            return super().__new__(cls)
        meta = read_model_dir(Path(path), verify=False)  # each file is verified as __init__ loads it
        if cls is EmotionModel:
            cls = _KINDS.get(meta.get("kind"), cls)
        obj = super().__new__(cls)
        obj._metadata_read = (Path(path), meta)
        return obj

    @classmethod
    def _with_metadata(cls, path: Path, metadata: dict[str, Any], **kwargs: Any) -> EmotionModel:
        """The model at ``path`` whose metadata was already read and checked (an ensemble's member), of the
        class its kind declares."""
        if cls is EmotionModel:
            cls = _KINDS.get(metadata.get("kind"), cls)
        obj = super().__new__(cls)
        obj._metadata_read, obj._member = (Path(path), metadata), True
        obj.__init__(path, **kwargs)
        return obj

    def __init_subclass__(cls, kind: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind is not None:  # the class EmotionModel(dir) gives for a directory of this kind
            _KINDS[kind] = cls

    def _load_parts(self) -> None:
        """The front end and the ONNX head (an ensemble loads its members instead)."""
        try:
            self.frontend = from_dict(self.metadata["frontend"], self.path, read=self._read)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{self.path}: malformed front end in metadata.json ({type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:160]}); retrain the model"
            ) from None
        self.sample_rate: int = int(getattr(self.frontend, "sample_rate", DEFAULT_SR))
        head = self.metadata.get("head", "model.onnx")
        graph = self._read(head)
        self.session = cpu_session(graph, name=self.path / head)
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
        own = classifier_labels(graph)
        if own is not None and own != self.all_labels:
            raise ModelError(
                f"{self.path}: metadata.json lists the labels {self.all_labels} but the head {head} was trained "
                f"on {own}, in that order: its probabilities would be named wrongly; {_FIX_LABELS}"
            )
        self.class_means = self._class_means()
        gate = (self.metadata.get("adaptation") or {}).get("gate")
        #: how far a speaker's offset is removed (None: all of it; see :meth:`proba_session`)
        self.adapt_gate: tuple[float, float] | None = (
            None if gate is None else (float(gate[0]), float(gate[1]))
        )
        self.speech_head = self._speech_head()

    def _speech_head(self) -> SpeechHead | None:
        entry = self.metadata.get("speech_head")
        if not entry:
            return None
        from ..speech_head import SURE_BELOW, THRESHOLD, SpeechHead

        n = getattr(self.frontend, "n_features", None)
        return SpeechHead.load(
            self.path / entry["file"],
            n if isinstance(n, int) else None,
            entry.get("threshold", THRESHOLD),
            entry.get("sure_below", SURE_BELOW),
            data=self._read(entry["file"]),
        )

    def training_files(self) -> np.ndarray:
        """Fingerprints of the recordings the model was trained on
        (:func:`emovox.extractors.runner.content_fingerprints`; empty for models saved without them).

        Returns
        -------
        numpy.ndarray
            1-D, ``uint64``: one fingerprint per training recording.

        Raises
        ------
        ModelError
            When the fingerprints file is unreadable or not a 1-D ``uint64`` array.

        Examples
        --------
        >>> prints = load_model().training_files()
        >>> prints.dtype, prints.ndim
        (dtype('uint64'), 1)
        """
        name = (self.metadata.get("training") or {}).get("fingerprints")
        if not name:
            return np.zeros(0, np.uint64)
        try:
            prints = load_npy(self._read(name))
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
            means = load_npy(self._read(name))
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
        """Raise :class:`ModelError` unless :attr:`can_adapt` (what ``same_speaker`` / ``same_channel`` need).

        Raises
        ------
        ModelError
            When neither the model nor any ensemble member stores class means.

        Examples
        --------
        >>> load_model().require_adaptation()                  # the bundled default can adapt
        >>> load_model("classical").require_adaptation()
        Traceback (most recent call last):
            ...
        emovox.errors.ModelError: classical: this model stores no class means, so it cannot adapt ...
        """
        if not self.can_adapt:
            raise ModelError(
                f"{self.path.name if self.path.parent == BUNDLED_DIR else self.path}: this model stores no "
                "class means, so it cannot adapt to a speaker or channel "
                "(deep models have none, and a model is saved without them where adaptation lowered its "
                "accuracy, as the bundled classical is); score the files one by one, or use another model"
            )

    def __repr__(self) -> str:
        return f"EmotionModel({str(self.path)!r}, labels={self.labels})"

    def info(self) -> dict[str, Any]:
        """What the model is and how well it was measured: its metadata's figures (``headline``: leave one
        corpus out, the figure that predicts what a user will see; ``metrics``: in-domain), calibration,
        training data, licences and front end, as ``emovox model --json`` and ``GET /v1/model`` give them.

        Returns
        -------
        dict
            ``name``, ``kind``, ``labels``, ``sample_rate``, ``version`` (the emovox that wrote it),
            ``emovox_version`` (this one), ``headline``, ``metrics``, ``metrics_channel_adapted``,
            ``calibration``, ``licences``, ``licence_note``, ``per_class_recall``, ``training``, ``recipe``,
            ``recipe_name``, ``frontend`` and ``files`` (each sealed file's digest); None where the metadata
            has no such entry.

        Examples
        --------
        >>> info = load_model("default").info()
        >>> info["labels"][:3], info["headline"]["protocol"].startswith("leave one corpus out")
        (['angry', 'disgust', 'fearful'], True)
        """
        from .. import __version__

        meta = self.metadata
        front = meta.get("frontend", {})
        return {
            "name": self.path.name,
            "kind": meta.get("kind"),
            "labels": list(self.labels),
            "sample_rate": int(self.sample_rate),
            "version": meta.get("version") or meta.get("emovox_version"),
            "emovox_version": __version__,
            "headline": meta.get("headline"),
            "metrics": meta.get("metrics"),
            "metrics_channel_adapted": meta.get("metrics_channel_adapted"),
            "calibration": meta.get("calibration"),
            "licences": meta.get("licences"),
            "licence_note": meta.get("licence_note"),
            "per_class_recall": meta.get("per_class_recall"),
            "training": meta.get("training"),
            "recipe": meta.get("model"),
            "recipe_name": meta.get("recipe") if isinstance(meta.get("recipe"), str) else None,
            "frontend": {
                "type": front.get("type"),
                "name": (front.get("config") or {}).get("name", front.get("encoder")),
                "encoder_source": front.get("encoder_source"),  # its origin (whisper-base), not its file
                "quantized": front.get("quantized"),
            },
            "files": dict(meta.get("files", {})),
        }

    def restrict(self, emotions: Sequence[str] | str | None, option: str = "emotions") -> EmotionModel:
        """Predict over ``emotions`` only (as :func:`chosen_emotions` takes them; None: every emotion the
        model knows). Probabilities are renormalised over the kept emotions; :attr:`labels` becomes them.
        An error names ``option``.

        Parameters
        ----------
        emotions : str, list of str or None
            Emotion names, a comma-separated string, or a named set (``four``, ``seven``, ``all``); None:
            every emotion of :attr:`all_labels`.
        option : str
            The option or parameter name errors give (default ``"emotions"``).

        Returns
        -------
        EmotionModel
            This model, changed in place.

        Raises
        ------
        ParameterError
            When ``emotions`` names fewer than two different emotions, or one the model does not know.

        Examples
        --------
        >>> model = load_model()
        >>> model.restrict("anger, sad, happy").labels
        ['angry', 'sad', 'happy']
        >>> len(model.restrict(None).labels)
        7
        """
        if emotions is None:
            self.labels, self._keep = list(self.all_labels), None
            return self
        self.labels = chosen_emotions(emotions, self.all_labels, option)
        self._keep = [self.all_labels.index(e) for e in self.labels]
        return self

    def _finish(self, p: np.ndarray, restricted: bool = True) -> np.ndarray:
        """Calibrate raw probabilities (rows over :attr:`all_labels`) and keep the chosen emotions (not
        ``restricted``: all, in :attr:`labels`' order where it holds them all)."""
        if self.temperature != 1.0:
            from ..calibration import apply_temperature

            p = apply_temperature(p, self.temperature)
        if self._keep is not None and (restricted or len(self._keep) == len(self.all_labels)):
            p = p[:, self._keep]
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return p

    def embed(self, y: np.ndarray) -> np.ndarray | list:
        """The front end's representation of one signal at :attr:`sample_rate` (an ensemble: a list with
        each member's); integer samples are scaled and channels averaged (:func:`emovox.audio.float_mono`).

        Parameters
        ----------
        y : numpy.ndarray
            Samples at :attr:`sample_rate`, mono or with channels.

        Returns
        -------
        numpy.ndarray or list
            The embedding (an ensemble: a list with one per member), input to :meth:`proba_from_embeddings`.

        Examples
        --------
        >>> from emovox.audio import synthetic
        >>> e = load_model().embed(synthetic.white_noise(2.0))
        >>> e.shape, e.dtype
        ((2048,), dtype('float32'))
        """
        return self.frontend.process_signal(float_mono(y))

    def proba_from_embeddings(self, X: np.ndarray | list, *, restricted: bool = True) -> np.ndarray:
        """Calibrated probabilities (columns :attr:`labels`) of :meth:`embed` outputs (one, or stacked).

        Parameters
        ----------
        X : numpy.ndarray or list
            One :meth:`embed` output, or several stacked (an ensemble: the list of each member's).
        restricted : bool
            Over :attr:`labels` (default); False: over every emotion the model knows, whatever
            :meth:`restrict` left out (in :attr:`all_labels` order; in :attr:`labels` order where that holds
            them all), what :meth:`make_prediction` takes to say what an answer leaves out.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(labels))`` (``restricted`` False: ``len(all_labels)``), each row summing to 1
            (one row for a single embedding).

        Examples
        --------
        >>> from emovox.audio import synthetic
        >>> model = load_model(emotions="four")
        >>> e = model.embed(synthetic.white_noise(2.0))
        >>> model.proba_from_embeddings(e).shape, model.proba_from_embeddings(e, restricted=False).shape
        ((1, 4), (1, 7))
        >>> model.proba_from_embeddings(np.stack([e, e])).shape
        (2, 4)
        """
        return self._finish(self._raw_proba(X), restricted)

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

    def proba_session(
        self,
        embeddings: Sequence,
        channel: bool = False,
        *,
        report: bool = True,
        recordings: int | None = None,
        restricted: bool = True,
    ) -> np.ndarray:
        """Probabilities for several recordings of **one speaker** (or, ``channel``, of one recording
        channel), adapted to it (``report``: log how much of the offset was removed, at INFO, naming
        ``recordings``, how many the embeddings come from, where some are a recording's speech segments).

        ``embeddings`` are :meth:`embed` outputs. The speaker's offset is estimated from all of them and
        removed (:mod:`emovox.adaptation`); a channel's only as far as the batch's predictions spread over
        the emotions (:func:`~emovox.adaptation.adaptation_weight`), and so is a speaker's where the model
        says so (``adaptation.gate`` in its metadata, :attr:`adapt_gate`: the bundled default, where the
        whole offset took the emotion out of a session of one emotion). A model (or ensemble member)
        without class means, or a single recording, is scored as it is.

        Parameters
        ----------
        embeddings : sequence
            :meth:`embed` outputs, one per recording or speech segment.
        channel : bool
            Adapt to a recording channel (always gated) rather than a speaker (default False).
        report : bool
            Log, at INFO, how much of the offset was removed (default True), or that one embedding has
            nothing to adapt to.
        recordings : int, optional
            How many recordings the embeddings come from, for that log line; None (default): one each.
        restricted : bool
            Over :attr:`labels` (default); False: over :attr:`all_labels` (as :meth:`proba_from_embeddings`).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(embeddings), len(labels))``, one row per embedding in order (``(0, len(labels))``
            for none; ``restricted`` False: ``len(all_labels)`` columns).

        Examples
        --------
        >>> from emovox.audio import synthetic
        >>> model = load_model()
        >>> X = [model.embed(synthetic.white_noise(2.0, seed=s)) for s in range(3)]
        >>> model.proba_session(X, report=False).shape
        (3, 7)
        """
        if not len(embeddings):
            return np.zeros((0, len(self.labels if restricted else self.all_labels)))
        if self.class_means is None:
            return self._finish(np.vstack([self._raw_proba(e) for e in embeddings]), restricted)
        from ..adaptation import GATE, adapt_session

        X = np.stack([np.asarray(e, dtype=np.float32) for e in embeddings])
        gate = (
            GATE if channel else self.adapt_gate
        )  # (the spread is judged over the emotions kept: --emotions)
        p, w = adapt_session(X, self._raw_proba, self.class_means, gate=gate, keep=self._keep)
        if report and len(X) == 1:  # asked for and not done: said, not silent
            log.info(
                "nothing to adapt to: one %s; adapting to a %s needs several of its recordings",
                "recording" if recordings in (None, 1) else "speech segment",
                "channel" if channel else "speaker",
            )
        elif report:  # how much was done to the answers is said, as the protocol's name says it
            n = recordings or len(X)
            log.info(
                "adapted to the %s of %s: %.0f %% of its estimated offset removed%s",
                "channel" if channel else "speaker",
                f"{n} recordings" + (f" ({len(X)} speech segments)" if n != len(X) else ""),
                100 * w,
                ""
                if w == 1
                else " (their predictions spread over too few of the emotions, as one emotion's would; "
                "a small batch cannot look mixed)"
                if w == 0
                else " (as far as their predictions spread over the emotions)",
            )
        return self._finish(p, restricted)

    def proba_signal(self, y: np.ndarray) -> np.ndarray:
        """Probabilities (in :attr:`labels` order) for one signal at :attr:`sample_rate` (integer samples
        scaled, channels averaged: :func:`emovox.audio.float_mono`). Beyond :data:`SEGMENTS_AFTER_SECONDS`
        (or of several utterances: :meth:`by_segments`), its speech segments'
        (:meth:`timeline_prediction`), so that :meth:`predict` is their argmax; the
        whole signal's when no segment holds speech.

        Parameters
        ----------
        y : numpy.ndarray
            Samples at :attr:`sample_rate`, mono or with channels.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(labels),)``, summing to 1. No speech check decides here: a signal without speech
            gets probabilities too.

        Examples
        --------
        >>> from emovox.audio import synthetic
        >>> p = load_model().proba_signal(synthetic.white_noise(2.0))
        >>> p.shape, round(float(p.sum()), 6)
        ((7,), 1.0)
        """
        y = float_mono(y)
        if self.by_segments(y, self._whole_check(y)):
            from ..segments import segments_proba

            p, _ = segments_proba(self, self._speech_segments(lambda: iter([y]), None))
            if p is not None:
                return p
        return self.proba_from_embeddings(self.embed(y))[0]

    def _load(self, item, sr: int | None) -> np.ndarray:
        if isinstance(item, np.ndarray):
            if sr is None:  # (a ParameterError, as predict_signal's: a call to mend, not audio to mend)
                raise ParameterError(
                    "<array>: pass sr= (the array's sample rate) with audio given as an array"
                )
            return load_audio(item, self.sample_rate, input_sr=_sr(sr, "<array>"))
        return load_audio(item, self.sample_rate)

    @staticmethod
    def _one_file(x):
        """``x`` itself, unless it names a folder: predict and predict_proba take recordings, one each."""
        if isinstance(x, str | os.PathLike) and os.path.isdir(x):
            raise AudioError(
                f"{x}: a folder, not an audio file; predict_files([...]) takes folders (every audio file "
                "under them), as the command line does"
            )
        return x

    def predict_proba(self, inputs: Input | Sequence[Input], sr: int | None = None) -> np.ndarray:
        """Calibrated probabilities of each input, always 2-D as scikit-learn's.

        Like scikit-learn's, it scores whatever it is given: there is no speech check here, so silence
        gets probabilities too; :meth:`predict`, :meth:`predict_signal` and :meth:`predict_files` check
        for speech first. A recording longer than :data:`SEGMENTS_AFTER_SECONDS` (or of several
        utterances: :meth:`by_segments`) is scored by its speech segments, as :meth:`predict` scores it
        (:meth:`proba_signal`); a file longer than two minutes is read window by window, never held whole
        (:meth:`proba_stream`). Errors raise; use :meth:`predict_files` to carry on past bad files.

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
        items = [inputs] if single_input(inputs) else _as_list(inputs)
        # (a file or bytes: a long one read window by window, never held whole)
        rows = [
            self.proba_signal(self._load(x, sr)) if _samples(x) else self.proba_stream(self._one_file(x))
            for x in items
        ]
        return np.stack(rows) if rows else np.zeros((0, len(self.labels)))

    def predict(
        self, inputs: Input | Sequence[Input], sr: int | None = None
    ) -> str | None | list[str | None]:
        """The most probable emotion of each input, after the speech check.

        Parameters
        ----------
        inputs : path, bytes, array, or list of them
            As :meth:`predict_proba` takes them (a long file is read window by window:
            :meth:`predict_stream`).
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

        def label(x):  # (a file or bytes: a long one read window by window, never held whole)
            return (
                self._predict(self._load(x, sr), "<array>")
                if _samples(x)
                else self.predict_stream(self._one_file(x))
            ).label

        return label(inputs) if single_input(inputs) else [label(x) for x in _as_list(inputs)]

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
        sr : int
            The sample rate of ``y`` (required: a signal's rate is never guessed; resampled to
            :attr:`sample_rate` when it differs).

        Returns
        -------
        Prediction
            ``speech`` False with a ``reason`` and no emotion when the signal holds no speech.

        Examples
        --------
        >>> import emovox
        >>> from emovox.audio import synthetic
        >>> pred = emovox.load_model().predict_signal(synthetic.tone(220.0, 2.0), "tone.wav", sr=16000)
        >>> pred.speech, pred.label
        (False, None)
        """
        if not isinstance(source, str):  # predict_signal(y, 16000): a rate where the name goes
            raise ParameterError(
                f"predict_signal: source is the input's name, got {source!r}; pass the rate as sr={source!r}"
            )
        if sr is None:
            raise ParameterError(
                f"{source}: pass sr= (the sample rate of the samples, e.g. sr={self.sample_rate}); "
                "it is never guessed"
            )
        return self._predict(
            load_audio(np.asarray(y), self.sample_rate, input_sr=_sr(sr, source), name=source),
            source,
            emotions,
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
            source, self.proba_from_embeddings(e, restricted=False)[0], emotions, self._seconds(y, check)
        )

    def make_prediction(
        self,
        source: str,
        p: np.ndarray | dict[str, float],
        emotions: Sequence[str] | None = None,
        seconds: float | None = None,
    ) -> Prediction:
        """A :class:`Prediction` from probabilities over :attr:`labels`, or over every emotion the model
        knows, over ``emotions`` only when given (renormalised: the model's own order among them), of
        ``seconds`` of audio when known (under :data:`~emovox.calibration.SHORT_SECONDS`: ``uncertain``),
        saying what it leaves out of every emotion (:func:`~emovox.inference.prediction.left_out_of`).

        Parameters
        ----------
        source : str
            How the prediction names its input.
        p : numpy.ndarray or dict
            Probabilities: shape ``(len(labels),)``; or over every emotion the model knows, before
            :meth:`restrict` (shape ``(len(all_labels),)``: :meth:`proba_from_embeddings` with
            ``restricted=False``; or emotion -> probability, as
            :func:`emovox.segments.segments_unrestricted` averages a recording's segments).
        emotions : list of str, optional
            Restrict the answer to these of :attr:`labels` (as :func:`chosen_emotions` takes them),
            renormalised; None (default): every one of :attr:`labels`.
        seconds : float, optional
            Seconds of audio the probabilities come from; None (default): not considered.

        Returns
        -------
        Prediction
            With ``speech=True``, the argmax as :attr:`~Prediction.label`, ``uncertain`` set by
            :func:`~emovox.calibration.is_uncertain` with :attr:`uncertain_below`, and ``left_out`` /
            ``first_left_out`` where ``p`` is over every emotion and some are left out.

        Raises
        ------
        ParameterError
            When ``emotions`` names fewer than two different emotions, or one not in :attr:`labels`.

        Examples
        --------
        >>> model = load_model()
        >>> p = np.array([0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1])     # over model.labels
        >>> model.make_prediction("a.wav", p).describe()
        'happy 0.500'
        >>> pred = model.make_prediction("a.wav", p, ["happy", "sad"])
        >>> pred.describe(), pred.left_out["angry"]
        ('happy 0.833', 0.1)
        """
        from ..calibration import is_uncertain, restrict
        from .prediction import left_out_of

        if isinstance(p, dict):
            labels, p = list(p), np.array(list(p.values()), dtype=np.float64)
        else:
            p = np.asarray(p, dtype=np.float64)
            labels = list(self.labels if len(p) == len(self.labels) else self.all_labels)
        kept = list(self.labels) if emotions is None else chosen_emotions(emotions, self.labels, "emotions")
        # (over fewer than every emotion, p is renormalised already: it cannot say what is left out)
        every = dict(zip(labels, p.tolist(), strict=True)) if len(labels) == len(self.all_labels) else None
        if kept != labels:
            p = restrict(p, labels, kept)
        left_out, first = left_out_of(every, kept) if every else (None, None)
        i = int(np.argmax(p))
        return Prediction(
            source,
            kept[i],
            float(p[i]),
            {lab: float(v) for lab, v in zip(kept, p, strict=True)},
            uncertain=is_uncertain(float(p[i]), self.uncertain_below, seconds),
            left_out=left_out,
            first_left_out=first,
        )


def _say_unsealed(path: Path, metadata: dict[str, Any], missing: list[str]) -> None:
    """Warn of what the seal does not cover: reports saved before reports were sealed (``reseal`` seals
    them), other files (never read), and reports deleted (the model needs none; ``reseal`` forgets them)."""
    from ..models.store import ARTEFACTS

    extra = unsealed_files(path, metadata)
    reports = [n for n in extra if n in ARTEFACTS]
    others = [n for n in extra if n not in ARTEFACTS]

    def named(names: list[str]) -> tuple[str, str, str, str]:  # "a.png", "is", "it", "it is" (or plural)
        one = len(names) == 1
        return (
            ", ".join(names),
            "is" if one else "are",
            "it" if one else "them",
            "it is" if one else "they are",
        )

    if reports:
        names, be, it, _ = named(reports)
        log.warning(
            "%s: the report%s %s %s not sealed with the model (saved before reports were); if you trust %s, "
            "`emovox reseal %s` seals %s",
            *(path, "" if len(reports) == 1 else "s", names, be, it, path, it),
        )
    if others:
        names, be, it, it_is = named(others)
        log.warning(
            "%s: %s %s not part of the model and never read; move %s out of the folder if %s not meant to be there",
            *(path, names, be, it, it_is),
        )
    if missing:
        names, be, it, _ = named(missing)
        log.warning(
            "%s: %s, sealed with the model, %s missing (a report: the model works without it); "
            "`emovox reseal %s` forgets %s",
            *(path, names, be, path, it),
        )


def _sr(sr: object, name: str) -> int:
    """``sr=`` checked under the name this API gives it (load_audio's own error names its ``input_sr``)."""
    from ..audio.signal import check_rate

    return check_rate(sr, name, "sr")


def _samples(x) -> bool:
    """An input that is samples (an array), not a file or encoded bytes."""
    return isinstance(x, np.ndarray)


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

    Parameters
    ----------
    model : str, path or None
        A model directory or a bundled model's name; None (default): ``EMOVOX_MODEL``, else the bundled
        ``default`` (:func:`resolve_model_path`).
    check_speech : bool
        Check inputs for speech first (default True); False: an emotion for any audio.
    emotions : str, list of str or None
        Predict over these emotions only (:meth:`EmotionModel.restrict`); None (default): all the model's.

    Returns
    -------
    EmotionModel
        An :class:`EmotionModel`, or the subclass for the directory's kind (an ensemble).

    Raises
    ------
    ParameterError
        When ``model`` is neither a path nor a string, or empty, or ``emotions`` is not valid.
    ModelError
        When no such model exists, or its directory cannot be read or verified.

    Examples
    --------
    >>> import emovox
    >>> emovox.load_model(emotions="four").labels
    ['angry', 'happy', 'neutral', 'sad']
    """
    if model is not None and not isinstance(model, str | os.PathLike):
        raise ParameterError(f"model: expected a model directory or a bundled model's name, got {model!r}")
    if model is not None and not os.fspath(model).strip():  # Path("") would be the current folder
        raise ParameterError("model '': an empty name; give a model directory or a bundled model's name")
    return EmotionModel(resolve_model_path(model), check_speech=check_speech, emotions=emotions)
