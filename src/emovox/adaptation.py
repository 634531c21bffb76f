"""Speaker adaptation: take one voice's offset out of its recordings' features before classifying them.

The utterance features of one speaker sit around an offset of their own (voice, microphone, room), and a
classifier trained on other speakers reads part of that offset as emotion. Given several recordings of
the same speaker, the offset can be estimated without labels and removed. Plain per-speaker mean
subtraction does that only when the recordings span the emotions evenly: a session of angry recordings
would have its anger subtracted. Here each recording's *expected* emotion is taken out first, by EM:

    d = mean_i (x_i - sum_c p_ic(x_i - d) mu_c)

where ``mu_c`` are the training class means and ``p_i`` the classifier's probabilities for the corrected
features. A few iterations converge. One recording alone is left as it is: it has nothing to compare with.

On a corpus the classifier never heard it is right only about half the time, and then it cannot tell a batch
of angry recordings from a batch whose microphone makes everything sound angry: removing the whole estimate
cost 24 points UA on single-emotion batches of unseen corpora. So :func:`adapt_proba` removes only as much of
the offset as the batch's own predictions allow (:func:`adaptation_weight`): all of it when they spread over
the emotions as a mixed batch does, none when they pile onto one or two (``gate=GATE``, what
``--same-channel`` uses; ``--same-speaker`` removes all, measured safe on unseen speakers of known corpora
with the earlier recipes, except for a model whose metadata stores ``adaptation.gate``: the bundled default,
where the whole offset took the emotion out of sessions of one emotion, on RAVDESS angry sessions 174 -> 104
of 192 right, sad 174 -> 71, while mixed sessions gain as much gated as whole).

>>> import numpy as np
>>> means = np.array([[0.0, 0.0], [4.0, 0.0]])             # two emotions, 2-D features
>>> def proba(X):                                           # nearest class mean, softly
...     d = -((X[:, None, :] - means[None]) ** 2).sum(-1)
...     e = np.exp(d - d.max(1, keepdims=True))
...     return e / e.sum(1, keepdims=True)
>>> X = means[[0, 0, 0, 1]] + np.array([1.5, 3.0])           # one speaker, offset by (1.5, 3)
>>> np.round(speaker_offset(X, proba, means), 2)
array([1.5, 3. ])
>>> adapt_proba(X, proba, means).argmax(1)
array([0, 0, 0, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .errors import ParameterError

#: EM iterations; on the RAVDESS folds the offset stops moving after two or three.
N_ITER = 3
#: Spread of a batch's mean prediction (normalised entropy) from which some, and all, of its offset is removed
#: (:func:`adaptation_weight`); chosen on leave-one-corpus-out sessions (BENCHMARKS.md, issue 17).
GATE = (0.8, 0.9)


def session_kind(same_speaker: bool, same_channel: bool, option: str = "same_speaker") -> str | None:
    """What a batch is scored as: one speaker's session (``"speaker"``), one channel's (``"channel"``), or
    each recording on its own (None). Both at once is refused: every entry point takes this answer.

    Parameters
    ----------
    same_speaker, same_channel : bool
        The two session options.
    option : str
        The name the first option has where it was given, for the error (default ``"same_speaker"``).

    Returns
    -------
    str or None

    Raises
    ------
    ParameterError
        When both are set.

    Examples
    --------
    >>> session_kind(False, True), session_kind(False, False)
    ('channel', None)
    """
    if same_speaker and same_channel:
        raise ParameterError(f"{option} and same_channel: choose one kind of session")
    return "speaker" if same_speaker else "channel" if same_channel else None


def class_means(X: np.ndarray, y: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Mean feature vector of each label (rows in ``labels`` order), the ``mu_c`` of the update above.

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Training features.
    y : sequence of str
        Label of each row.
    labels : sequence of str
        Labels to average, in output order; ``ParameterError`` when one has no rows.

    Returns
    -------
    np.ndarray, float64, shape (len(labels), n_features)
        Mean feature vector per label.

    Examples
    --------
    >>> class_means([[0.0, 0.0], [2.0, 0.0], [4.0, 4.0]], ["a", "a", "b"], ["b", "a"]).tolist()
    [[4.0, 4.0], [1.0, 0.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    missing = [lab for lab in labels if not (y == lab).any()]
    if missing:
        raise ParameterError(f"no training rows for {missing}: cannot compute their class means")
    return np.stack([X[y == lab].mean(axis=0) for lab in labels])


def speaker_offset(
    X: np.ndarray, proba: Callable[[np.ndarray], np.ndarray], means: np.ndarray, n_iter: int = N_ITER
) -> np.ndarray:
    """The offset of one speaker's recordings ``X`` (rows), estimated without labels.

    ``proba`` maps feature rows to class probabilities in the row order of ``means``. Returns zeros for
    fewer than two recordings.

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Utterance features of one speaker (or channel), one recording per row.
    proba : callable
        Maps feature rows ``(n, n_features)`` to class probabilities ``(n, n_classes)``, classes in the row
        order of ``means``.
    means : np.ndarray, shape (n_classes, n_features)
        Training class means (:func:`class_means`).
    n_iter : int
        EM iterations (default :data:`N_ITER`, 3).

    Returns
    -------
    np.ndarray, float64, shape (n_features,)
        The offset, in feature units (zeros for fewer than two rows).

    Examples
    --------
    >>> import numpy as np
    >>> def flat(X):                                  # a classifier that cannot tell
    ...     return np.full((len(X), 2), 0.5)
    >>> speaker_offset(np.array([[1.0, 2.0], [3.0, 2.0]]), flat, np.zeros((2, 2))).tolist()
    [2.0, 2.0]
    >>> speaker_offset(np.array([[1.0, 2.0]]), flat, np.zeros((2, 2))).tolist()   # one recording
    [0.0, 0.0]
    """
    X = np.asarray(X, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    if X.ndim != 2 or means.ndim != 2 or X.shape[1] != means.shape[1]:
        raise ParameterError(f"features {X.shape} and class means {means.shape} do not match")
    d = np.zeros(X.shape[1])
    if len(X) < 2:
        return d
    for _ in range(n_iter):
        d = (X - proba(X - d) @ means).mean(axis=0)
    return d


def adaptation_weight(
    p: np.ndarray, gate: tuple[float, float] | None = GATE, keep: np.ndarray | None = None
) -> float:
    """How much of a batch's estimated offset to remove (0 .. 1), from its unadapted probabilities ``p``.

    The spread of the batch's mean prediction (its entropy over ``log`` of the class count) must reach
    ``gate[0]`` for any of the offset to be removed and ``gate[1]`` for all of it, linearly between; ``gate``
    None always removes all. ``keep``: the classes predicted over (``--emotions``; indices or a boolean
    mask), the others left out of the spread. Batches that span the emotions spread their predictions (0.78-0.98 on
    the four shared corpora); batches of one emotion mostly do not (median 0.66). So does a batch of only
    three or four of seven emotions (at most 0.56 / 0.71): it is scored as it is.

    Parameters
    ----------
    p : np.ndarray, shape (n, n_classes)
        Unadapted class probabilities of the batch.
    gate : tuple of (float, float), optional
        Low and high spread, ``0 <= low < high <= 1`` (default :data:`GATE`); None: always 1.
    keep : np.ndarray, optional
        Classes predicted over, indices or a boolean mask (default: all).

    Returns
    -------
    float
        Share of the offset to remove, 0..1 (1 for fewer than two classes or no rows).

    Examples
    --------
    >>> adaptation_weight(np.array([[0.5, 0.5], [0.6, 0.4]])), adaptation_weight(np.array([[0.95, 0.05]] * 3))
    (1.0, 0.0)
    """
    if gate is None:
        return 1.0
    lo, hi = gate
    if not 0.0 <= lo < hi <= 1.0:
        raise ParameterError(f"gate must be two spreads 0 <= low < high <= 1, got {gate!r}")
    p = np.asarray(p, dtype=np.float64)
    if keep is not None:
        p = p[:, np.asarray(keep)]
    if p.ndim != 2 or p.shape[1] < 2 or not len(p):
        return 1.0
    pbar = p.mean(axis=0)
    pbar = np.clip(pbar / max(pbar.sum(), 1e-12), 1e-12, None)
    spread = float(-(pbar * np.log(pbar)).sum() / np.log(p.shape[1]))
    return float(np.clip((spread - lo) / (hi - lo), 0.0, 1.0))


def adapt_proba(
    X: np.ndarray,
    proba: Callable[[np.ndarray], np.ndarray],
    means: np.ndarray,
    n_iter: int = N_ITER,
    gate: tuple[float, float] | None = None,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Class probabilities of one speaker's (or channel's) recordings after removing their offset, as much of
    it as :func:`adaptation_weight` allows (``gate`` None: all of it; ``keep``: the classes predicted over).

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Utterance features of one speaker (or channel), one recording per row.
    proba : callable
        Maps feature rows ``(n, n_features)`` to class probabilities ``(n, n_classes)``, classes in the row
        order of ``means``.
    means : np.ndarray, shape (n_classes, n_features)
        Training class means (:func:`class_means`).
    n_iter : int
        EM iterations (default :data:`N_ITER`, 3).
    gate : tuple of (float, float), optional
        Spreads from which some and all of the offset is removed (:func:`adaptation_weight`); None
        (default): all of it.
    keep : np.ndarray, optional
        Classes predicted over, indices or a boolean mask (default: all).

    Returns
    -------
    np.ndarray, shape (n, n_classes)
        ``proba`` of the adapted features (of ``X`` unchanged for a single row or a weight of 0).

    Examples
    --------
    >>> means = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> def proba(X):                                       # the nearer class mean, softly
    ...     d = -((X[:, None, :] - means[None]) ** 2).sum(-1)
    ...     return np.exp(d) / np.exp(d).sum(1, keepdims=True)
    >>> X = means[[0, 0, 1, 1]] + [2.2, 0.0]                # one speaker, offset by (2.2, 0)
    >>> proba(X).argmax(1), adapt_proba(X, proba, means).argmax(1)
    (array([1, 1, 1, 1]), array([0, 0, 1, 1]))
    """
    return adapt_session(X, proba, means, n_iter, gate, keep)[0]


def adapt_session(
    X: np.ndarray,
    proba: Callable[[np.ndarray], np.ndarray],
    means: np.ndarray,
    n_iter: int = N_ITER,
    gate: tuple[float, float] | None = None,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """:func:`adapt_proba`'s probabilities, and the share of the estimated offset it removed (0 for a single
    recording, which is scored as it is): what a caller reports of the adaptation.

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Utterance features of one speaker (or channel), one recording per row.
    proba : callable
        Maps feature rows ``(n, n_features)`` to class probabilities ``(n, n_classes)``, classes in the row
        order of ``means``.
    means : np.ndarray, shape (n_classes, n_features)
        Training class means (:func:`class_means`).
    n_iter : int
        EM iterations (default :data:`N_ITER`, 3).
    gate : tuple of (float, float), optional
        Spreads from which some and all of the offset is removed (:func:`adaptation_weight`); None
        (default): all of it.
    keep : np.ndarray, optional
        Classes predicted over, indices or a boolean mask (default: all).

    Returns
    -------
    proba : np.ndarray, shape (n, n_classes)
        As :func:`adapt_proba`.
    weight : float
        Share of the offset removed, 0..1.

    Examples
    --------
    >>> import numpy as np
    >>> def flat(X):                                  # a classifier that cannot tell
    ...     return np.full((len(X), 2), 0.5)
    >>> adapt_session(np.array([[1.0, 2.0], [3.0, 2.0]]), flat, np.zeros((2, 2)))[1]
    1.0
    >>> adapt_session(np.array([[1.0, 2.0]]), flat, np.zeros((2, 2)))[1]   # one recording
    0.0
    """
    X = np.asarray(X, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    if X.ndim != 2 or means.ndim != 2 or X.shape[1] != means.shape[1]:
        raise ParameterError(f"features {X.shape} and class means {means.shape} do not match")
    p = proba(X)
    w = adaptation_weight(p, gate, keep)
    if w == 0.0 or len(X) < 2:
        return p, 0.0
    return proba(X - w * speaker_offset(X, proba, means, n_iter)), w


def adapt_by_speaker(
    X: np.ndarray,
    speakers: Sequence,
    proba: Callable[[np.ndarray], np.ndarray],
    means: np.ndarray,
    gate: tuple[float, float] | None = None,
) -> np.ndarray:
    """:func:`adapt_proba` on each speaker's (or channel's) rows of ``X`` separately; probabilities in row order.

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Utterance features, one recording per row.
    speakers : sequence
        Speaker (or channel) of each row.
    proba : callable
        Maps feature rows ``(n, n_features)`` to class probabilities ``(n, n_classes)``, classes in the row
        order of ``means``.
    means : np.ndarray, shape (n_classes, n_features)
        Training class means (:func:`class_means`).
    gate : tuple of (float, float), optional
        Spreads from which some and all of the offset is removed (:func:`adaptation_weight`); None
        (default): all of it.

    Returns
    -------
    np.ndarray, float64, shape (n, n_classes)
        Adapted class probabilities, in the row order of ``X``.

    Examples
    --------
    >>> means = np.array([[0.0, 0.0], [4.0, 0.0]])
    >>> def proba(X):                                       # the nearer class mean, softly
    ...     d = -((X[:, None, :] - means[None]) ** 2).sum(-1)
    ...     return np.exp(d) / np.exp(d).sum(1, keepdims=True)
    >>> X = np.vstack([means[[0, 0, 1, 1]] + [2.2, 0.0], means[[0, 0, 1, 1]] - [2.2, 0.0]])
    >>> proba(X).argmax(1)                                  # each speaker's offset read as emotion
    array([1, 1, 1, 1, 0, 0, 0, 0])
    >>> adapt_by_speaker(X, ["a"] * 4 + ["b"] * 4, proba, means).argmax(1)
    array([0, 0, 1, 1, 0, 0, 1, 1])
    """
    speakers = np.asarray(speakers, dtype=object)
    out = np.zeros((len(X), len(means)))
    for s in dict.fromkeys(speakers):
        rows = np.flatnonzero(speakers == s)
        out[rows] = adapt_proba(X[rows], proba, means, gate=gate)
    return out


def align_domains(X: np.ndarray, domains: Sequence) -> np.ndarray:
    """Each domain's rows standardised, then mapped onto the average domain (mean of the domains' means and
    standard deviations): training corpora recorded with different voices, languages and microphones are
    put on one footing, so that a classifier learns emotion rather than which corpus a recording is from.

    A model trained on aligned features takes raw features at prediction time (they are compared with
    the average domain), so nothing changes for one file at a time.

    Parameters
    ----------
    X : np.ndarray, shape (n, n_features)
        Features, one recording per row.
    domains : sequence
        Domain (corpus) of each row.

    Returns
    -------
    np.ndarray, float64, shape (n, n_features)
        Aligned features.

    Examples
    --------
    >>> X = np.array([[0.0], [2.0], [10.0], [14.0]])
    >>> align_domains(X, ["a", "a", "b", "b"]).ravel().tolist()
    [5.0, 8.0, 5.0, 8.0]
    """
    X = np.asarray(X, dtype=np.float64)
    domains = np.asarray(domains, dtype=object)
    names = list(dict.fromkeys(domains))
    mus = np.stack([X[domains == d].mean(axis=0) for d in names])
    sds = np.stack([X[domains == d].std(axis=0) for d in names])
    mu, sd = mus.mean(axis=0), sds.mean(axis=0)
    out = np.empty_like(X)
    for d, m, s in zip(names, mus, sds, strict=True):
        rows = domains == d
        out[rows] = (X[rows] - m) / np.maximum(s, 1e-6) * sd + mu
    return out
