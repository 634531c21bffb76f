"""Calibrated probabilities: temperature scaling, expected calibration error, reliability bins.

A classifier's confidence is calibrated when, of all the predictions it makes at 80 % confidence, about
80 % are right. Models trained on a few acted corpora are over-confident on voices and microphones they
never heard, so emovox fits one temperature on *out-of-corpus* predictions (each training corpus
predicted by a model trained on the others) and stores it with the model.

>>> import numpy as np
>>> p = np.array([[0.99, 0.01], [0.98, 0.02], [0.97, 0.03], [0.02, 0.98]])
>>> y = np.array([0, 1, 0, 1])                       # one confident mistake in four
>>> t = fit_temperature(p, y)
>>> t > 1                                            # soften
True
>>> bool(ece(apply_temperature(p, t), y) < ece(p, y))
True
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError

#: Bins of the expected calibration error (equal width over the top-class confidence), as is usual.
N_BINS = 15
#: Calibrated confidence under which a prediction is called ``uncertain`` (a model's metadata may set its own).
UNCERTAIN_BELOW = 0.4
#: Under this many seconds of audio a prediction is ``uncertain`` whatever its confidence: calibrated on whole
#: utterances, the default model is as confident of 0.3 s of a sentence as of the whole (80 corpus clips, the
#: loudest part of each: accuracy 91 / 60 / 46 / 40 % for the whole, 1, 0.5 and 0.3 s; mean confidence 0.67 /
#: 0.59 / 0.62 / 0.63).
SHORT_SECONDS = 1.0


def is_uncertain(confidence: float, below: float = UNCERTAIN_BELOW, seconds: float | None = None) -> bool:
    """Whether a prediction is called ``uncertain``: its confidence under ``below``, or (given) ``seconds``
    of audio under :data:`SHORT_SECONDS`.

    Parameters
    ----------
    confidence : float
        Calibrated probability (0-1) of the predicted emotion.
    below : float
        Confidence under which a prediction is uncertain (default :data:`UNCERTAIN_BELOW`, 0.4).
    seconds : float, optional
        Seconds of audio the prediction was made on; None (default): length not considered.

    Returns
    -------
    bool
        True when the prediction is uncertain.

    Examples
    --------
    >>> is_uncertain(0.9), is_uncertain(0.3), is_uncertain(0.9, seconds=0.5)
    (False, True, True)
    """
    return bool(confidence < below or (seconds is not None and seconds < SHORT_SECONDS))


#: Temperatures searched by :func:`fit_temperature`.
T_RANGE = (0.05, 20.0)


def _as_proba(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ParameterError(f"expected probabilities of shape (n, n_classes >= 2), got {p.shape}")
    return p


def apply_temperature(p: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature-scaled probabilities: ``softmax(log p / T)`` row by row.

    For a softmax classifier this equals scaling its logits by ``1/T``. ``T > 1`` softens, ``T < 1``
    sharpens, the argmax never changes, and a probability of exactly 0 stays 0.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(..., n_classes)``, each row summing to 1 (negative entries count as 0).
    temperature : float
        The temperature ``T``; must be > 0 (1: unchanged).

    Returns
    -------
    numpy.ndarray
        float64 probabilities of ``p``'s shape, each row summing to 1 (a row with no positive entry
        stays all 0, as :func:`restrict` leaves one).

    Examples
    --------
    >>> p = np.array([[0.8, 0.2]])
    >>> apply_temperature(p, 1.0).round(3)
    array([[0.8, 0.2]])
    >>> apply_temperature(p, 2.0).round(3)  # sqrt(0.8) : sqrt(0.2) = 2 : 1
    array([[0.667, 0.333]])
    """
    if not temperature > 0:
        raise ParameterError(f"temperature must be > 0, got {temperature}")
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):  # a class given 0 (left out, e.g. by restrict) stays at 0
        logits = np.log(np.clip(p, 0.0, None)) / float(temperature)
    top = logits.max(axis=-1, keepdims=True)
    empty = np.isneginf(top)  # a row with no positive entry: -inf - -inf would be NaN; it stays all 0
    e = np.exp(logits - np.where(empty, 0.0, top))
    return e / np.where(empty, 1.0, e.sum(axis=-1, keepdims=True))


def nll(p: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean (``weights``: weighted mean) negative log-likelihood of the true classes ``y`` (column indices).

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(n, n_classes)`` with ``n_classes >= 2``.
    y : array-like of int
        Shape ``(n,)``: the column of ``p`` of each row's true class.
    weights : array-like, optional
        Shape ``(n,)``: row weights (e.g. :func:`group_weights`); None (default): every row the same.

    Returns
    -------
    float
        In nats; each probability is clipped at 1e-12, so a row adds at most about 27.6.

    Examples
    --------
    >>> round(nll(np.array([[0.5, 0.5], [0.25, 0.75]]), [0, 1]), 3)  # -(ln 0.5 + ln 0.75) / 2
    0.49
    """
    p = _as_proba(p)
    logp = np.log(np.clip(p[np.arange(len(p)), np.asarray(y, dtype=int)], 1e-12, None))
    return float(-np.average(logp, weights=weights))


def group_weights(groups) -> np.ndarray:
    """Row weights that give every group (e.g. corpus) the same total weight.

    Parameters
    ----------
    groups : array-like
        One group label per row (compared as strings).

    Returns
    -------
    numpy.ndarray
        One weight per row: 1 / the size of its group (each group's weights sum to 1).
    """
    groups = np.asarray(groups, dtype=object)
    _, inverse, counts = np.unique(groups.astype(str), return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def fit_temperature(p: np.ndarray, y: np.ndarray, groups=None) -> float:
    """The temperature that minimises the NLL of held-out probabilities ``p`` for true classes ``y``;
    ``groups`` (e.g. each row's corpus): every group weighs the same, so that one large corpus does not
    set the temperature for all.

    Parameters
    ----------
    p : numpy.ndarray
        Held-out probabilities, shape ``(n, n_classes)`` with ``n_classes >= 2``.
    y : array-like of int
        Shape ``(n,)``: the column of ``p`` of each row's true class.
    groups : array-like, optional
        Shape ``(n,)``: each row's group (compared as strings); None (default): every row weighs the same.

    Returns
    -------
    float
        The temperature, within :data:`T_RANGE` (0.05 to 20): over 1 softens, under 1 sharpens.

    Examples
    --------
    >>> right = np.array([[0.6, 0.4], [0.4, 0.6]])  # always right, never sure: sharpen as far as allowed
    >>> round(fit_temperature(right, [0, 1]), 2)
    0.05
    """
    from scipy.optimize import minimize_scalar

    p = _as_proba(p)
    y = np.asarray(y, dtype=int)
    if len(p) != len(y) or not len(p):
        raise ParameterError(f"got {len(p)} probability rows for {len(y)} labels")
    w = group_weights(groups) if groups is not None else None
    res = minimize_scalar(
        lambda logt: nll(apply_temperature(p, np.exp(logt)), y, w),
        bounds=np.log(T_RANGE),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(res.x))


def reliability(p: np.ndarray, y: np.ndarray, n_bins: int = N_BINS) -> dict[str, np.ndarray]:
    """Per confidence bin: mean confidence, accuracy and count of the top-class predictions.

    Empty bins have NaN confidence and accuracy and a count of 0.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(n, n_classes)`` with ``n_classes >= 2``.
    y : array-like of int
        Shape ``(n,)``: the column of ``p`` of each row's true class.
    n_bins : int
        Equal-width confidence bins over 0-1 (default :data:`N_BINS`, 15).

    Returns
    -------
    dict of str to numpy.ndarray
        ``edges``: shape ``(n_bins + 1,)``, the bin edges (0 to 1); ``confidence``: shape ``(n_bins,)``, the
        mean top-class probability per bin; ``accuracy``: shape ``(n_bins,)``, the share (0-1) of the bin's
        predictions that are right; ``count``: shape ``(n_bins,)``, int, the predictions per bin.

    Examples
    --------
    >>> r = reliability(np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]), [0, 1, 1], n_bins=2)
    >>> r["edges"].tolist(), r["count"].tolist(), round(float(r["accuracy"][1]), 3)
    ([0.0, 0.5, 1.0], [0, 3], 0.667)
    """
    p = _as_proba(p)
    y = np.asarray(y, dtype=int)
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, conf, n_bins) / count
        acc = np.bincount(which, right, n_bins) / count
    return {"edges": edges, "confidence": mean_conf, "accuracy": acc, "count": count}


def ece(p: np.ndarray, y: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error: the count-weighted mean |accuracy - confidence| over the bins.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(n, n_classes)`` with ``n_classes >= 2``.
    y : array-like of int
        Shape ``(n,)``: the column of ``p`` of each row's true class.
    n_bins : int
        Equal-width confidence bins (default :data:`N_BINS`, 15).

    Returns
    -------
    float
        The error, 0 (calibrated) to 1.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])  # mean confidence 0.8, two right of three
    >>> round(ece(p, [0, 1, 1], n_bins=2), 3)
    0.133
    """
    r = reliability(p, y, n_bins)
    used = r["count"] > 0
    gap = np.abs(r["accuracy"][used] - r["confidence"][used])
    return float((gap * r["count"][used]).sum() / max(r["count"].sum(), 1))


def restrict(p: np.ndarray, labels: list[str], keep: list[str]) -> np.ndarray:
    """Probabilities over ``keep`` only (columns in ``keep`` order), renormalised to sum to 1.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(..., len(labels))``.
    labels : list of str
        The emotion of each column of ``p``.
    keep : list of str
        The emotions kept, at least two different ones, each among ``labels``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(..., len(keep))``, each row summing to 1 (0 where the kept columns were all 0).

    Examples
    --------
    >>> restrict(np.array([[0.5, 0.3, 0.2]]), ["a", "b", "c"], ["c", "a"]).round(3)
    array([[0.286, 0.714]])
    """
    unknown = [k for k in keep if k not in labels]
    if unknown:
        raise ParameterError(f"unknown emotion(s) {unknown}; the model predicts {', '.join(labels)}")
    if len(set(keep)) < 2:
        raise ParameterError(f"keep at least two different emotions, got {keep}")
    p = np.asarray(p, dtype=np.float64)
    sub = p[..., [labels.index(k) for k in keep]]
    return sub / np.maximum(sub.sum(axis=-1, keepdims=True), 1e-12)
