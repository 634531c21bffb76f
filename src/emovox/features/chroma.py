"""Pitch-class features in numpy, as librosa: tuning estimate, chroma filterbank, chromagram, tonnetz.

Like the spectral descriptors, :func:`chroma_stft` and :func:`estimate_tuning` take the signal ``y`` or
a precomputed spectrogram ``S`` ``(1 + n_fft // 2, n_frames)``, so one STFT can feed all of them.

Examples
--------
>>> import numpy as np
>>> from emovox.features import chroma
>>> sr = 16000
>>> y = np.sin(2 * np.pi * 261.63 * np.arange(sr) / sr).astype(np.float32)
>>> chroma.PITCH_CLASSES[int(np.argmax(chroma.chroma_stft(y, sr=sr).mean(axis=1)))]
'C'
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .spectrum import EPS, fft_frequencies, infer_n_fft, magnitude, readonly

__all__ = [
    "PITCH_CLASSES",
    "chroma_deviation",
    "chroma_filterbank",
    "chroma_stft",
    "estimate_tuning",
    "tonnetz",
]

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def hz_to_octs(f: np.ndarray, tuning: float = 0.0, bins_per_octave: int = 12) -> np.ndarray:
    """Octave number of ``f`` Hz, ``log2(f / (A440 / 16))`` (4.0 for 440 Hz), as ``librosa.hz_to_octs``.

    Parameters
    ----------
    f : np.ndarray
        Frequency in Hz.
    tuning : float
        Tuning offset of A440 in fractions of a bin (default 0).
    bins_per_octave : int
        Bins per octave ``tuning`` counts in (default 12).

    Returns
    -------
    np.ndarray, float64, shape of ``f``
        Octaves above A0 (27.5 Hz at ``tuning=0``).

    Examples
    --------
    >>> import numpy as np
    >>> hz_to_octs(np.array([27.5, 440.0])).tolist()
    [0.0, 4.0]
    """
    a440 = 440.0 * 2.0 ** (tuning / bins_per_octave)
    return np.log2(f / (a440 / 16.0))


def estimate_tuning(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    bins_per_octave: int = 12,
    fmin: float = 150.0,
    fmax: float = 4000.0,
    threshold: float = 0.1,
    resolution: float = 0.01,
) -> float:
    """Tuning offset in fractions of a chroma bin, as ``librosa.estimate_tuning`` (piptrack peaks).

    Works on the magnitude spectrogram ``S``: parabolic-interpolated spectral peaks above
    ``threshold * max`` of their frame, between ``fmin`` and ``fmax``, the stronger half of them, then
    the histogram peak of their deviation from the equal-tempered grid.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given (``n_fft`` read from its rows).
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    bins_per_octave : int
        Bins per octave of the grid (default 12).
    fmin, fmax : float
        Frequency range of the peaks in Hz (default 150 and 4000, at most ``sr / 2``).
    threshold : float
        Peaks below this fraction of their frame's maximum are ignored (default 0.1).
    resolution : float
        Histogram bin width in fractions of a bin (default 0.01).

    Returns
    -------
    float
        Tuning offset in fractions of a bin, in [-0.5, 0.5); 0.0 when no peak is found.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 440 * 2 ** (0.25 / 12) * np.arange(sr) / sr).astype(np.float32)
    >>> abs(estimate_tuning(y, sr=sr) - 0.25) < 0.015  # histogram resolution: one cent
    True
    """
    S = magnitude(y, S, n_fft, hop_length)
    n_fft = infer_n_fft(S)
    freqs = fft_frequencies(sr, n_fft)
    fmin, fmax = max(fmin, 0.0), min(fmax, sr / 2.0)
    band = np.flatnonzero((freqs >= fmin) & (freqs < fmax))
    if band.size == 0 or S.shape[1] == 0:
        return 0.0
    lo, hi = max(int(band[0]), 1), min(int(band[-1]) + 1, S.shape[0] - 1)  # interior bins only
    if hi <= lo:
        return 0.0
    ref = threshold * S.max(axis=0)
    # work frame-major: (n_frames, band + 2) C-contiguous, one bin of context on each side
    B = np.ascontiguousarray(S[lo - 1 : hi + 1].T)
    Z = B * (B > ref[:, None])
    zc = Z[:, 1:-1]
    flat = np.flatnonzero((zc > Z[:, :-2]) & (zc >= Z[:, 2:]))
    if flat.size == 0:
        return 0.0
    width = hi - lo
    tb, kb = np.divmod(flat, width)
    pos = flat + 2 * tb + 1  # index of the peak in B.ravel()
    Bf = B.ravel()
    cv, pv, nv = Bf[pos], Bf[pos - 1], Bf[pos + 1]
    a = nv + pv - 2 * cv
    b = (nv - pv) / 2
    ok = np.abs(b) < np.abs(a)
    shift = np.where(ok, -b / np.where(ok, a, 1), 0).astype(np.float32)
    pitch = ((kb + lo).astype(np.float32) + shift) * np.float32(float(sr) / n_fft)  # float32 as librosa
    mag = cv + 0.5 * b * shift
    keep = pitch > 0
    pitch, mag = pitch[keep], mag[keep]
    if pitch.size == 0:
        return 0.0
    pitch = pitch[mag >= np.median(mag)]
    residual = np.mod(bins_per_octave * np.log2(pitch / np.float32(440.0 / 16)), 1.0)
    residual[residual >= 0.5] -= 1.0
    bins = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts, edges = np.histogram(residual, bins)
    return float(edges[np.argmax(counts)])


@lru_cache(maxsize=256)
def chroma_filterbank(
    sr: float = 16000,
    n_fft: int = 2048,
    n_chroma: int = 12,
    tuning: float = 0.0,
    ctroct: float = 5.0,
    octwidth: float | None = 2.0,
    base_c: bool = True,
) -> np.ndarray:
    """Chroma filterbank ``(n_chroma, 1 + n_fft // 2)`` as ``librosa.filters.chroma``; cached, read-only.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 16000).
    n_fft : int
        FFT size in samples (default 2048).
    n_chroma : int
        Number of pitch classes (default 12).
    tuning : float
        Tuning offset in fractions of a chroma bin (default 0).
    ctroct, octwidth : float
        Centre (octaves above A0, default 5) and width (octaves, default 2) of the Gaussian octave
        weighting; ``octwidth=None``: no weighting.
    base_c : bool
        Rows start at C (default True), else at A.

    Returns
    -------
    np.ndarray, float32, shape (n_chroma, 1 + n_fft // 2)
        Filter weights per FFT bin, read-only and shared between calls (cached).

    Examples
    --------
    >>> chroma_filterbank(16000, 2048).shape
    (12, 1025)
    """
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * hz_to_octs(frequencies, tuning, n_chroma)
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    n_chroma2 = np.round(float(n_chroma) / 2)
    D = np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
    wts = np.exp(-0.5 * (2 * D / binwidthbins[None, :]) ** 2)
    norms = np.sqrt(np.sum(wts**2, axis=0, keepdims=True))
    wts = wts / np.where(norms < np.finfo(np.float64).tiny, 1.0, norms)
    if octwidth is not None:
        wts *= np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2))[None, :]
    if base_c:
        wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return readonly(np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32))


def chroma_stft(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_chroma: int = 12,
    tuning: float | None = None,
) -> np.ndarray:
    """Chromagram ``(n_chroma, n_frames)`` from ``y`` (power STFT) or ``S`` used as given, like librosa.

    Each frame is scaled so its largest pitch class is 1; ``tuning=None`` estimates the tuning offset
    (:func:`estimate_tuning`, on ``S`` as given). Pitch classes start at C.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Power spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    n_chroma : int
        Number of pitch classes (default 12).
    tuning : float, optional
        Tuning offset in fractions of a chroma bin; None (default): estimated.

    Returns
    -------
    np.ndarray, float32, shape (n_chroma, n_frames)
        Relative energy per pitch class, 0..1 (a silent frame is all 0).

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    >>> PITCH_CLASSES[int(np.argmax(chroma_stft(y, sr=sr).mean(axis=1)))]
    'A'
    """
    S = magnitude(y, S, n_fft, hop_length, power=2.0)
    n_fft = infer_n_fft(S)
    if tuning is None:
        tuning = estimate_tuning(S=S, sr=sr, bins_per_octave=n_chroma)
    raw = chroma_filterbank(float(sr), n_fft, n_chroma, round(float(tuning), 6)) @ S
    peak = raw.max(axis=0, keepdims=True)
    return raw / np.where(peak < EPS, 1.0, peak)


@lru_cache(maxsize=8)
def tonnetz_matrix(n_chroma: int) -> np.ndarray:
    """The projection of a chromagram onto the six tonal-centroid dimensions (fifths, minor and major thirds,
    as librosa's ``tonnetz``), cached per size.

    Parameters
    ----------
    n_chroma : int
        Pitch classes per octave of the chromagram.

    Returns
    -------
    numpy.ndarray
        Read-only float32, shape ``(6, n_chroma)``.

    Examples
    --------
    >>> tonnetz_matrix(12).shape
    (6, 12)
    """
    dim_map = np.linspace(0, 12, num=n_chroma, endpoint=False)
    scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
    V = np.multiply.outer(scale, dim_map)
    V[::2] -= 0.5
    R = np.array([1, 1, 1, 1, 0.5, 0.5])
    return readonly((R[:, None] * np.cos(np.pi * V)).astype(np.float32))


def tonnetz(chroma: np.ndarray) -> np.ndarray:
    """Tonal centroid features ``(6, n_frames)`` from a chromagram (Harte et al. 2006, as librosa).

    Parameters
    ----------
    chroma : numpy.ndarray
        Chromagram, shape ``(n_chroma, n_frames)``; each frame is normalised by its L1 norm first (an
        all-zero frame stays zero).

    Returns
    -------
    numpy.ndarray
        float32, shape ``(6, n_frames)``.

    Examples
    --------
    >>> import numpy as np
    >>> tonnetz(np.eye(12, dtype=np.float32)).shape
    (6, 12)
    """
    chroma = np.asarray(chroma, dtype=np.float32)
    total = np.abs(chroma).sum(axis=0, keepdims=True)
    return tonnetz_matrix(chroma.shape[0]) @ (chroma / np.where(total < EPS, 1.0, total))


def chroma_deviation(chroma: np.ndarray) -> np.ndarray:
    """Standard deviation of the chroma vector across pitch classes, per frame ``(n_frames,)``.

    Parameters
    ----------
    chroma : numpy.ndarray
        Chromagram, shape ``(n_chroma, n_frames)``.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n_frames,)``.

    Examples
    --------
    >>> import numpy as np
    >>> float(chroma_deviation(np.ones((12, 3)))[0])
    0.0
    """
    return np.asarray(chroma, dtype=np.float32).std(axis=0)
