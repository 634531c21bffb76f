"""Utterance-level functionals over frame-level features, and delta (derivative) contours.

Frame features are arrays shaped ``(n_rows, n_frames)``. NaN marks a frame without a value (e.g. F0 of
an unvoiced frame): functionals skip NaNs, and a row with no value at all gives 0.

Examples
--------
>>> import numpy as np
>>> from emovox.features.stats import functionals
>>> X = np.array([[1.0, 2.0, 3.0, 4.0]])
>>> values, names = functionals(X, ["x"], statistics=("mean", "std"), percentiles=(50,))
>>> names, [round(float(v), 3) for v in values]
(['x_mean', 'x_std', 'x_p50'], [2.5, 1.118, 2.5])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["STATISTICS", "delta", "functional_names", "functional_values", "functionals"]

#: Statistics understood by :func:`functionals` (percentiles are given separately).
STATISTICS = ("mean", "std", "min", "max", "range", "skew", "kurtosis")


def delta(X: np.ndarray, *, order: int = 1, width: int = 9) -> np.ndarray:
    """Regression delta of each row over time (HTK formula), applied ``order`` times.

    ``d[t] = sum_{n=1..N} n (x[t+n] - x[t-n]) / (2 sum n^2)`` with ``N = width // 2`` and edge frames
    repeated. NaN inputs give NaN where they enter the window.

    Parameters
    ----------
    X : np.ndarray, shape (n_rows, n_frames)
    order : int
        1 for velocity, 2 for acceleration, ...
    width : int
        Odd window length, >= 3.

    Returns
    -------
    np.ndarray, float32, shape (n_rows, n_frames)
        Delta contour, in units of ``X`` per frame (per frame squared for ``order=2``).

    Examples
    --------
    >>> import numpy as np
    >>> delta(np.arange(10, dtype=np.float32)[None, :]).tolist()[0][4]
    1.0
    """
    if width < 3 or width % 2 == 0:
        raise ParameterError(f"delta width must be odd and >= 3, got {width}")
    X = np.asarray(X, dtype=np.float32)
    N = width // 2
    denom = 2.0 * sum(n * n for n in range(1, N + 1))
    for _ in range(order):
        T = X.shape[-1]
        if T == 0:
            return X.copy()
        P = np.pad(X, ((0, 0), (N, N)), mode="edge")
        D = np.zeros_like(X)
        for n in range(1, N + 1):
            D += n * (P[:, N + n : N + n + T] - P[:, N - n : N - n + T])
        X = D / denom
    return X


def functional_names(
    rows: Sequence[str],
    statistics: Sequence[str] = ("mean", "std"),
    percentiles: Sequence[float] = (),
) -> list[str]:
    """Names :func:`functionals` gives its values: statistic-major, ``f"{row}_{stat}"``.

    Parameters
    ----------
    rows : sequence of str
        Row names.
    statistics : sequence of str
        Statistics, in output order (default ``("mean", "std")``).
    percentiles : sequence of float
        Percentiles (0..100), named ``p90``, ``p2_5`` (default none).

    Returns
    -------
    list of str
        ``len(rows) * (len(statistics) + len(percentiles))`` names.

    Examples
    --------
    >>> functional_names(["a", "b"], ("mean",), (90,))
    ['a_mean', 'b_mean', 'a_p90', 'b_p90']
    """
    out = [f"{r}_{s}" for s in statistics for r in rows]
    out += [f"{r}_p{_pct_label(p)}" for p in percentiles for r in rows]
    return out


def _pct_label(p: float) -> str:
    return f"{p:g}".replace(".", "_")


def functionals(
    X: np.ndarray,
    rows: Sequence[str] | None = None,
    *,
    statistics: Sequence[str] = ("mean", "std"),
    percentiles: Sequence[float] = (),
) -> tuple[np.ndarray, list[str]]:
    """Summarise each row of ``X`` over time.

    Parameters
    ----------
    X : np.ndarray, shape (n_rows, n_frames)
        Frame-level features; NaN = no value.
    rows : sequence of str, optional
        Row names (default ``"f0"``, ``"f1"``, ...).
    statistics : sequence of str
        Any of :data:`STATISTICS`, in output order.
    percentiles : sequence of float
        Percentiles (0..100) appended after the statistics.

    Returns
    -------
    values : np.ndarray, float32, shape (n_rows * (len(statistics) + len(percentiles)),)
        Statistic-major: all rows' first statistic, then all rows' second, ...
    names : list of str

    Examples
    --------
    >>> import numpy as np
    >>> v, n = functionals(np.array([[np.nan, 1.0, 3.0]]), ["f0"], statistics=("mean", "max"))
    >>> v.tolist(), n
    ([2.0, 3.0], ['f0_mean', 'f0_max'])
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X[None, :]
    rows = [f"f{i}" for i in range(X.shape[0])] if rows is None else list(rows)
    if len(rows) != X.shape[0]:
        raise ParameterError(f"{len(rows)} row names for {X.shape[0]} rows")
    return functional_values(X, statistics=statistics, percentiles=percentiles), functional_names(
        rows, statistics, percentiles
    )


def functional_values(
    X: np.ndarray,
    *,
    statistics: Sequence[str] = ("mean", "std"),
    percentiles: Sequence[float] = (),
) -> np.ndarray:
    """The values of :func:`functionals` without the names (the fast path).

    Parameters
    ----------
    X : np.ndarray, shape (n_rows, n_frames) or (n_frames,)
        Frame-level features; NaN = no value.
    statistics : sequence of str
        Any of :data:`STATISTICS`, in output order (default ``("mean", "std")``).
    percentiles : sequence of float
        Percentiles (0..100) appended after the statistics (default none).

    Returns
    -------
    np.ndarray, float32, shape (n_rows * (len(statistics) + len(percentiles)),)
        Statistic-major, as :func:`functionals`; 0 for a row without values.

    Examples
    --------
    >>> import numpy as np
    >>> functional_values(np.array([[1.0, 3.0]]), statistics=("mean",)).tolist()
    [2.0]
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X[None, :]
    for s in statistics:
        if s not in STATISTICS:
            raise ParameterError(f"unknown statistic {s!r}; choose from {STATISTICS}")
    nan_rows = np.isnan(X).any(axis=1) if X.shape[1] else np.ones(X.shape[0], bool)
    if not nan_rows.any():
        return _functionals_dense(X, statistics, percentiles)
    out = np.zeros((len(statistics) + len(percentiles), X.shape[0]), dtype=np.float32)
    if (~nan_rows).any():
        out[:, ~nan_rows] = _functionals_dense(X[~nan_rows], statistics, percentiles).reshape(
            out.shape[0], -1
        )
    for i in np.flatnonzero(nan_rows):
        x = X[i][~np.isnan(X[i])]
        if x.size:
            out[:, i] = _functionals_dense(x[None, :], statistics, percentiles)
    return out.reshape(-1)


def _functionals_dense(X: np.ndarray, statistics: Sequence[str], percentiles: Sequence[float]) -> np.ndarray:
    parts: list[np.ndarray] = []
    mean = X.mean(axis=1, dtype=np.float64) if statistics else None
    std = None
    for s in statistics:
        if s == "mean":
            parts.append(mean)
        elif s == "std":
            std = X.std(axis=1, dtype=np.float64) if std is None else std
            parts.append(std)
        elif s == "min":
            parts.append(X.min(axis=1))
        elif s == "max":
            parts.append(X.max(axis=1))
        elif s == "range":
            parts.append(X.max(axis=1) - X.min(axis=1))
        elif s in ("skew", "kurtosis"):
            std = X.std(axis=1, dtype=np.float64) if std is None else std
            z = (X - mean[:, None]) / np.where(std > 0, std, 1.0)[:, None]
            m = (z**3).mean(axis=1) if s == "skew" else (z**4).mean(axis=1) - 3.0
            parts.append(np.where(std > 0, m, 0.0))
    if percentiles:
        parts.extend(np.percentile(X, list(percentiles), axis=1))
    if not parts:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([np.asarray(p, dtype=np.float32).reshape(-1) for p in parts])
