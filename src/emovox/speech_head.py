"""A learned "no speech" check on a model's own features: is this a voice, or music / noise / a tone?

:func:`emovox.speech.detect_speech` decides from pitch and spectrum, before any model runs; a melody
played with vibrato moves its pitch like a voice and passes it. Speech encoders such as Whisper's know a
voice from an instrument far better, and an encoder model computes those features anyway, so a linear
head on them costs one dot product per prediction. It runs on the same features as the emotion head,
and decides with the signal check: silence and sound without any voicing stop at the signal check; after
that, a speech probability under ``sure_below`` means "no speech" whatever the signal check said, one
under ``threshold`` when the signal check agrees, and one under :attr:`SpeechHead.sure_voice` when the
signal check found (almost) no speech-like voicing at all (:data:`NO_VOICING_SECONDS`: a harmonic tone
with vibrato scores up to 0.89, and speech under noise or music keeps some voicing). A recording it rejects as a whole is searched in 3 s
windows for a voice it is sure of (:attr:`SpeechHead.sure_voice`;
:meth:`emovox.inference.EmotionModel.voice_embedding`). So speech under or after music, which the signal
check often rejects, is kept, and music that moves its pitch like a voice, which it lets through, is not.

The head is fitted (:func:`fit_speech_head`) on the training recordings (speech, with their augmented
copies) against generated non-speech (:mod:`emovox.audio.synthetic`: noise, hum, tones, sweeps, clicks,
synthetic music, chords, drums), and stored in the model directory (:func:`attach_speech_head`) as a
plain array, hashed like every other file. ``benchmarks/bench_speech_head.py`` measures it on what it was not
fitted on: each corpus left out in turn, speech under music and noise, and real instruments (General
MIDI pieces rendered by FluidSynth).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> speech, other = rng.normal(1.0, 1.0, (200, 8)), rng.normal(-1.0, 1.0, (200, 8))
>>> head = fit_speech_head(speech, other)
>>> head.probability(np.vstack([np.ones(8), -np.ones(8)])).round(2)
array([0.87, 0.14])
>>> head.reason(np.ones(8)) is None, head.reason(-np.ones(8))      # 0.14: over sure_below, so speech
(True, None)
>>> head.reason(-3 * np.ones(8))
"no voice in the model's features (speech probability 0.00)"
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ModelError, ParameterError

if TYPE_CHECKING:
    from .speech import SpeechCheck

log = logging.getLogger(__name__)

#: The file of a model directory that holds the head: the weights, then the bias (float32).
SPEECH_HEAD = "speech_head.npy"
#: Speech probability under which a prediction is "no speech" when the signal check agrees.
THRESHOLD = 0.5
#: Speech probability under which a prediction is "no speech" whatever the signal check says.
SURE_BELOW = 0.1
#: Less speech-like voicing (seconds) than this, and the head must be sure of a voice (``sure_voice``).
NO_VOICING_SECONDS = 0.05
#: A head that keeps less of its own training speech than this is not stored (features that cannot tell).
MIN_KEPT = 0.995


@dataclass
class SpeechHead:
    """A logistic speech / non-speech score on feature vectors: ``sigmoid(X @ weights + bias)``, and the
    two thresholds it decides with (see the module's docstring).

    Attributes
    ----------
    weights : numpy.ndarray
        Shape ``(n_features,)``, on the features as the front end gives them.
    bias : float
        The intercept.
    threshold : float
        Speech probability under which a vector is "no speech" when the signal check agrees (default
        :data:`THRESHOLD`; where that check heard almost no voicing, the higher ``1 - sure_below``).
    sure_below : float
        Speech probability under which a vector is "no speech" whatever the signal check says (default
        :data:`SURE_BELOW`).

    Examples
    --------
    >>> head = SpeechHead(np.array([1.0, -1.0]), 0.0)
    >>> head.n_features, head.sure_voice
    (2, 0.9)
    """

    weights: np.ndarray
    bias: float
    threshold: float = THRESHOLD
    sure_below: float = SURE_BELOW

    @property
    def sure_voice(self) -> float:
        """Speech probability from which a window of a rejected recording is surely a voice
        (``1 - sure_below``: as sure of the voice as ``sure_below`` is of its absence; never under
        ``threshold``)."""
        return max(1.0 - self.sure_below, self.threshold)

    @property
    def n_features(self) -> int:
        """The width of the feature vectors it scores."""
        return int(self.weights.size)

    def probability(self, X: np.ndarray) -> np.ndarray:
        """The probability that each row of ``X`` (or the one vector ``X``) is speech, shape ``(n,)``.

        Parameters
        ----------
        X : numpy.ndarray
            Feature vectors ``(n, n_features)``, or one vector ``(n_features,)``.

        Returns
        -------
        numpy.ndarray
            Speech probabilities, shape ``(n,)``.

        Raises
        ------
        ParameterError
            When the vectors are not :attr:`n_features` wide.

        Examples
        --------
        >>> head = SpeechHead(np.array([1.0, -1.0]), 0.0)
        >>> head.probability(np.array([[2.0, 0.0], [0.0, 2.0]])).round(3)
        array([0.881, 0.119])
        """
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self.n_features:
            raise ParameterError(f"the speech head takes {self.n_features} features, got {X.shape[1]}")
        z = np.clip(X @ self.weights + self.bias, -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-z))

    def reason(self, x: np.ndarray, check: SpeechCheck | None = None) -> str | None:
        """Why one feature vector is not speech (a ``Prediction.reason``), or None when it is; ``check``:
        the signal's :class:`~emovox.speech.SpeechCheck` (None: none was made).

        Parameters
        ----------
        x : numpy.ndarray
            One feature vector (the model's features of the signal).
        check : SpeechCheck, optional
            The signal check of the same signal (default None: the head decides alone).

        Returns
        -------
        str or None
            The reason, or None when the vector is speech.

        Examples
        --------
        >>> from emovox.speech import SpeechCheck
        >>> head = SpeechHead(np.array([1.0, -1.0]), 0.0)
        >>> head.reason(np.array([-3.0, 0.0]))
        "no voice in the model's features (speech probability 0.05)"
        >>> head.reason(np.array([0.0, 0.5])) is None                    # 0.38: the head alone keeps it
        True
        >>> head.reason(np.array([0.0, 0.5]), SpeechCheck(False, "no voiced speech: pure tone"))
        "no voiced speech: pure tone; no voice in the model's features (speech probability 0.38)"
        """
        p = float(self.probability(x)[0])
        heard = f"no voice in the model's features (speech probability {p:.2f})"
        if p < self.sure_below:
            return heard
        if check is not None and not check.speech:
            doubt = self.sure_voice if check.voiced_seconds < NO_VOICING_SECONDS else self.threshold
            if p < doubt:
                return f"{check.reason}; {heard}"
        return None

    def to_array(self) -> np.ndarray:
        """What :data:`SPEECH_HEAD` holds: the weights, then the bias, float32.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_features + 1,)``, float32.

        Examples
        --------
        >>> SpeechHead(np.array([1.0, -1.0]), 0.5).to_array()
        array([ 1. , -1. ,  0.5], dtype=float32)
        """
        return np.append(self.weights, self.bias).astype(np.float32)

    @classmethod
    def load(
        cls,
        path: Path,
        n_features: int | None,
        threshold: float = THRESHOLD,
        sure_below: float = SURE_BELOW,
        data: bytes | None = None,
    ) -> SpeechHead:
        """The head stored at ``path`` (``allow_pickle=False``; ``data``: its bytes, already read and
        verified, ``path`` then only names it); ``n_features``: what the front end gives.

        Parameters
        ----------
        path : Path
            The head's file (``speech_head.npy``), named in errors.
        n_features : int or None
            The width of the front end's feature vectors, checked against the head's; None: not checked.
        threshold : float
            Speech probability under which a prediction is "no speech" when the signal check agrees (default
            :data:`THRESHOLD`).
        sure_below : float
            Speech probability under which a prediction is "no speech" whatever the signal check says (default
            :data:`SURE_BELOW`).
        data : bytes, optional
            The file's bytes, already read and verified (default None: ``path`` is read).

        Returns
        -------
        SpeechHead

        Raises
        ------
        ModelError
            When the file cannot be read, is not a finite 1-D float array, does not fit ``n_features``, or the
            thresholds are not ``0 < sure_below <= threshold < 1``.

        Examples
        --------
        >>> np.save("head.npy", SpeechHead(np.array([1.0, -1.0]), 0.5).to_array())
        >>> SpeechHead.load(Path("head.npy"), 2, threshold=0.4)
        SpeechHead(weights=array([ 1., -1.]), bias=0.5, threshold=0.4, sure_below=0.1)
        """
        from .models.store import load_npy

        try:
            a = load_npy(path if data is None else data)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: unreadable speech head ({exc})") from None
        if a.dtype.kind != "f" or a.ndim != 1 or a.size < 2 or not np.isfinite(a).all():
            raise ModelError(
                f"{path}: a speech head is a finite 1-D array (weights, then bias), got {a.shape}"
            )
        if n_features is not None and a.size - 1 != n_features:
            raise ModelError(
                f"{path}: the speech head takes {a.size - 1} features, the front end gives {n_features}"
            )
        if not 0.0 < sure_below <= threshold < 1.0:
            raise ModelError(
                f"{path}: speech head thresholds must satisfy 0 < sure_below <= threshold < 1, "
                f"got {sure_below} and {threshold}"
            )
        return cls(a[:-1].astype(np.float64), float(a[-1]), float(threshold), float(sure_below))


def fit_speech_head(
    speech: np.ndarray,
    other: np.ndarray,
    *,
    C: float = 0.01,
    threshold: float = THRESHOLD,
    sure_below: float = SURE_BELOW,
) -> SpeechHead:
    """A logistic regression of speech (rows of ``speech``) against non-speech (rows of ``other``), each
    side weighing the same, on standardised features; the scaling is folded into the weights.

    Parameters
    ----------
    speech : numpy.ndarray
        Speech feature vectors, shape ``(n_speech, n_features)`` (one vector: one row).
    other : numpy.ndarray
        Non-speech feature vectors, shape ``(n_other, n_features)``.
    C : float
        Inverse regularisation strength of the logistic regression (default 0.01).
    threshold : float
        The head's ``threshold`` (default :data:`THRESHOLD`, 0.5).
    sure_below : float
        The head's ``sure_below`` (default :data:`SURE_BELOW`, 0.1).

    Returns
    -------
    SpeechHead
        Weights of shape ``(n_features,)`` and a bias, on the features as given (not standardised).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> head = fit_speech_head(rng.normal(1.0, 1.0, (50, 3)), rng.normal(-1.0, 1.0, (50, 3)))
    >>> head.n_features, head.threshold, (head.probability(np.array([[2.0] * 3, [-2.0] * 3])) > 0.5).tolist()
    (3, 0.5, [True, False])
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if not 0.0 < sure_below <= threshold < 1.0:  # what SpeechHead.load refuses, refused before the fit
        raise ParameterError(
            f"thresholds must satisfy 0 < sure_below <= threshold < 1, got {sure_below} and {threshold}"
        )
    speech, other = np.atleast_2d(speech), np.atleast_2d(other)
    if speech.shape[1] != other.shape[1] or not len(speech) or not len(other):
        raise ParameterError(
            f"need speech and non-speech rows of one width, got {speech.shape} and {other.shape}"
        )
    X = np.vstack([speech, other]).astype(np.float64)
    y = np.r_[np.ones(len(speech)), np.zeros(len(other))]
    w = np.r_[np.full(len(speech), 0.5 / len(speech)), np.full(len(other), 0.5 / len(other))] * len(y)
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=5000).fit(scaler.transform(X), y, sample_weight=w)
    coef = lr.coef_[0] / scaler.scale_
    return SpeechHead(coef, float(lr.intercept_[0] - scaler.mean_ @ coef), threshold, sure_below)


def non_speech_signals(per_kind: int = 40, seed: int = 1000) -> list[tuple[str, np.ndarray]]:
    """Generated non-speech clips (kind, signal at 16 kHz): ``per_kind`` of every kind of
    :data:`emovox.audio.synthetic.NON_SPEECH`, 1.5-6 s long, seeds from ``seed`` on (the tests and the
    benchmark use seeds under 1000).

    Parameters
    ----------
    per_kind : int
        Clips of each kind (default 40).
    seed : int
        First seed; the lengths are drawn from it too (default 1000).

    Returns
    -------
    list of (str, numpy.ndarray)
        ``len(NON_SPEECH) * per_kind`` pairs, kind by kind: the kind's name and a float32 signal at 16 kHz,
        1.5-6 s long (scaled to a peak of 1 only where it passed
        :data:`emovox.audio.signal.FULL_SCALE_LIMIT`; peaks a little over 1 stay).

    Examples
    --------
    >>> clips = non_speech_signals(per_kind=1)
    >>> len(clips), clips[0][0], all(1.5 * 16000 <= len(y) <= 6 * 16000 for _, y in clips)
    (14, 'silence', True)
    """
    from .audio.signal import within_full_scale
    from .audio.synthetic import NON_SPEECH, non_speech

    rng = np.random.default_rng(seed)
    # a mix that passes full scale (chords, drums under noise) is brought back as every signal is, here,
    # without a log line for each of the hundreds of clips
    return [
        (kind, within_full_scale(non_speech(kind, seed + i, seconds=float(rng.uniform(1.5, 6.0))), None))
        for kind in NON_SPEECH
        for i in range(per_kind)
    ]


def attach_speech_head(
    model_dir: str | Path,
    speech: np.ndarray,
    *,
    per_kind: int = 40,
    C: float = 0.01,
    threshold: float = THRESHOLD,
    sure_below: float = SURE_BELOW,
) -> dict | None:
    """Fit a speech head for the model at ``model_dir`` and store it there (re-sealing the metadata).

    Parameters
    ----------
    model_dir : str or Path
        A single (not ensemble) model directory; a head stored before is replaced.
    speech : numpy.ndarray
        The model's training features, one row per recording (augmented copies included). The non-speech
        side is :func:`non_speech_signals` through the model's own front end.
    per_kind, C, threshold, sure_below
        See :func:`non_speech_signals` and :func:`fit_speech_head`.

    Returns
    -------
    dict or None
        The metadata entry (``speech_head``), with ``speech_kept`` and ``non_speech_rejected``: the shares
        of its own training rows that the head alone (``sure_below``) keeps and rejects. None, with a
        warning, when it alone would reject more than 0.5 % of the training speech: nothing is stored and
        the model keeps the signal check alone.

    Raises
    ------
    ModelError
        When ``model_dir`` holds an ensemble.

    Examples
    --------
    >>> import shutil
    >>> from emovox.inference import BUNDLED_DIR, load_model
    >>> model_dir = shutil.copytree(BUNDLED_DIR / "classical", "mine")
    >>> speech = np.random.default_rng(0).normal(5.0, 1.0, (60, 702))  # stand-ins for its training features
    >>> entry = attach_speech_head(model_dir, speech, per_kind=1)
    >>> entry["file"], entry["speech_kept"], load_model(model_dir).speech_head.n_features
    ('speech_head.npy', 1.0, 702)
    """
    from .audio import resample
    from .extractors import from_dict
    from .models.store import SEAL_KEY, npy_bytes, read_model_dir, save_model_dir

    path = Path(model_dir)
    meta = read_model_dir(path)
    if meta.get("kind") == "ensemble":
        raise ModelError(f"{path}: an ensemble takes its members' speech heads; attach one to a member")
    frontend = from_dict(meta["frontend"], path)  # the model's own front end, as prediction builds it
    rate = int(getattr(frontend, "sample_rate", 16000))
    clips = non_speech_signals(per_kind)
    other = np.stack(
        [
            np.asarray(frontend.process_signal(resample(y, 16000, rate)), dtype=np.float64).ravel()
            for _, y in clips
        ]
    )
    head = fit_speech_head(speech, other, C=C, threshold=threshold, sure_below=sure_below)
    entry = {
        "file": SPEECH_HEAD,
        "threshold": threshold,
        "sure_below": sure_below,
        "fitted_on": f"{len(speech)} training recordings (with augmented copies) against {len(other)} generated "
        "non-speech clips (noise, hum, tones, tones under noise, sweeps, clicks, synthetic music, chords, drums)",
        "speech_kept": round(float((head.probability(speech) >= sure_below).mean()), 5),
        "non_speech_rejected": round(float((head.probability(other) < sure_below).mean()), 5),
    }
    if entry["speech_kept"] < MIN_KEPT:
        log.warning(
            "%s: no speech head stored: it would call %.1f %% of the training recordings non-speech",
            model_dir,
            100 * (1 - entry["speech_kept"]),
        )
        return None
    before = (meta.get("speech_head") or {}).get("file")
    graphs: dict = {name: path / name for name in meta.get("files", {}) if name != before}
    graphs[SPEECH_HEAD] = npy_bytes(head.to_array())
    for key in ("files", SEAL_KEY):  # the version that saved the model stays its version
        meta.pop(key, None)
    meta["speech_head"] = entry
    save_model_dir(path, graphs, meta)
    log.info(
        "speech head stored: keeps %.1f %% of the training speech, rejects %.1f %% of %d generated non-speech clips",
        100 * entry["speech_kept"],
        100 * entry["non_speech_rejected"],
        len(other),
    )
    return entry
