"""Frame-level spectral descriptors and MFCC, in numpy, in the style of ``librosa.feature``.

Every function takes either the signal ``y`` or a precomputed spectrogram ``S`` (shape
``(1 + n_fft // 2, n_frames)``, frequency on the first axis as in librosa), so one STFT can feed all
of them.

Defaults follow librosa (Hann window, ``center=True`` with zero padding, Slaney mel filters, MFCC as an
orthonormal DCT-II of the power mel spectrogram in dB with an 80 dB floor), so that the numbers agree
with ``librosa.feature`` to float32 precision while running several times faster: the FFT is
``scipy.fft.rfft`` in float32 and filterbanks are cached per parameter set.

The building blocks live in :mod:`~emovox.features.spectrum` (framing, windows, STFT, mel scale and
filterbanks), pitch-class features in :mod:`~emovox.features.chroma` and time-domain frame features in
:mod:`~emovox.features.temporal`; all of them can still be imported from here.

Examples
--------
>>> import numpy as np
>>> from emovox.features import spectral
>>> sr = 16000
>>> y = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
>>> S = spectral.spectrogram(y, n_fft=1024, hop_length=256, power=1.0)
>>> round(float(np.median(spectral.spectral_centroid(S=S, sr=sr, n_fft=1024))))
1000
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# This module held everything below before the split; callers import these names from here.
from .chroma import PITCH_CLASSES as PITCH_CLASSES
from .chroma import chroma_deviation, chroma_filterbank, chroma_stft, estimate_tuning, tonnetz
from .spectrum import (
    EPS,
    apply_mel,
    fft_frequencies,
    frame,
    hz_to_mel,
    infer_n_fft,
    magnitude,
    mel_filterbank,
    mel_frequencies,
    mel_to_hz,
    melspectrogram,
    power_to_db,
    readonly,
    spectrogram,
    stft,
    window_function,
)
from .spectrum import sparse_mel_filterbank as sparse_mel_filterbank
from .temporal import energy_entropy, rms, zero_crossing_rate
from .temporal import trim_silence as trim_silence

__all__ = [
    "apply_mel",
    "chroma_deviation",
    "chroma_filterbank",
    "chroma_stft",
    "dct_matrix",
    "energy_entropy",
    "estimate_tuning",
    "fft_frequencies",
    "frame",
    "hz_to_mel",
    "log_power_spectrum",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "melspectrogram",
    "mfcc",
    "power_to_db",
    "rms",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_entropy",
    "spectral_flatness",
    "spectral_flux",
    "spectral_rolloff",
    "spectral_spread",
    "spectrogram",
    "stft",
    "tonnetz",
    "window_function",
    "zero_crossing_rate",
]


# ---------------------------------------------------------------------------------------------------------
# MFCC
# ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n_out, n_in)`` (rows of ``scipy.fft.dct(..., norm='ortho')``), float32.

    Parameters
    ----------
    n_out : int
        Number of coefficients (rows), e.g. ``n_mfcc``.
    n_in : int
        Input length (columns), e.g. ``n_mels``.

    Returns
    -------
    np.ndarray, float32, shape (n_out, n_in)
        ``M @ x`` is ``scipy.fft.dct(x, norm="ortho")[:n_out]``; read-only and shared between calls (cached).

    Examples
    --------
    >>> import numpy as np
    >>> M = dct_matrix(8, 8)
    >>> bool(np.allclose(M @ M.T, np.eye(8), atol=1e-6))
    True
    """
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    M = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    M[0] /= np.sqrt(2.0)
    return readonly(M.astype(np.float32))


def mfcc(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_mfcc: int = 40,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """MFCC ``(n_mfcc, n_frames)``: orthonormal DCT-II of the log-power mel spectrogram (as librosa).

    Parameters
    ----------
    y : np.ndarray, optional
        Signal.
    sr : float
        Sample rate of ``y`` (Hz; default 16000).
    S : np.ndarray, optional
        Log-power mel spectrogram in dB (``power_to_db(melspectrogram(...))``), shape ``(n_mels, n_frames)``.
    n_mfcc : int
        Number of coefficients returned (default 40).
    n_fft, hop_length : int
        FFT size and step in samples of the spectrogram of ``y`` (default 2048 and 512).
    n_mels : int
        Mel bands of the spectrogram of ``y`` (default 128).
    top_db : float, optional
        Floor of the log-mel spectrogram of ``y``, in dB below its maximum (default 80; ``None``: no floor).
        ``sr``, ``n_fft``, ``hop_length``, ``n_mels`` and ``top_db`` are ignored when ``S`` is given.

    Returns
    -------
    np.ndarray, float32, shape (n_mfcc, n_frames)
        Cepstral coefficients in dB units (coefficient 0 follows the overall level);
        ``n_frames = 1 + len(y) // hop_length``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> mfcc(y, sr=16000, n_mfcc=13).shape
    (13, 32)
    """
    if S is None:
        if y is None:
            raise ValueError("one of y or S is required")
        S = power_to_db(
            melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels), top_db=top_db
        )
    S = np.asarray(S, dtype=np.float32)
    return dct_matrix(n_mfcc, S.shape[0]) @ S


# ---------------------------------------------------------------------------------------------------------
# Spectral shape
# ---------------------------------------------------------------------------------------------------------


def spectral_centroid(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> np.ndarray:
    """Magnitude-weighted mean frequency (Hz) per frame ``(n_frames,)``; 0 for silent frames.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given (``n_fft`` is read from its rows).
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Centroid in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 2000 * np.arange(16000) / 16000).astype(np.float32)
    >>> round(float(np.median(spectral_centroid(y, sr=16000))))
    2000
    """
    S = magnitude(y, S, n_fft, hop_length)
    freqs = fft_frequencies(sr, infer_n_fft(S)).astype(np.float32)
    total = S.sum(axis=0)
    return (freqs @ S) / np.where(total < EPS, 1.0, total)


def spectral_bandwidth(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    centroid: np.ndarray | None = None,
) -> np.ndarray:
    """Magnitude-weighted standard deviation of frequency around the centroid (Hz), like librosa (p=2).

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    centroid : np.ndarray, optional
        :func:`spectral_centroid` of the same frames (Hz), to share it; computed when None.

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Bandwidth in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 2000 * np.arange(16000) / 16000).astype(np.float32)
    >>> float(np.median(spectral_bandwidth(y, sr=16000))) < 100
    True
    """
    S = magnitude(y, S, n_fft, hop_length)
    return _moment_spread(S, sr, centroid)


def _moment_spread(W: np.ndarray, sr: float, centroid: np.ndarray | None) -> np.ndarray:
    freqs = fft_frequencies(sr, infer_n_fft(W)).astype(np.float32)
    total = W.sum(axis=0)
    total = np.where(total < EPS, 1.0, total)
    if centroid is None:
        centroid = (freqs @ W) / total
    # E[f^2] - E[f]^2, avoiding an (F, T) temporary
    var = (np.square(freqs) @ W) / total - np.square(centroid)
    return np.sqrt(np.maximum(var, 0.0))


def spectral_spread(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> np.ndarray:
    """Power-weighted standard deviation of frequency (Hz) per frame, from a power spectrogram ``S``.

    Unlike :func:`spectral_bandwidth` (magnitude weights) the weights are ``|X|**2``, as openSMILE's
    spectral variance.

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

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Spread in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> 2000 < float(np.median(spectral_spread(y, sr=16000))) < 2800
    True
    """
    P = magnitude(y, S, n_fft, hop_length, power=2.0)
    return _moment_spread(P, sr, None)


def spectral_rolloff(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    roll_percent: float = 0.85,
) -> np.ndarray:
    """Lowest frequency below which ``roll_percent`` of the magnitude lies, per frame (Hz), like librosa.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    roll_percent : float
        Fraction (0..1) of the frame's magnitude below the roll-off (default 0.85).

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Roll-off in Hz (the centre frequency of an FFT bin).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    >>> abs(float(np.median(spectral_rolloff(y, sr=16000))) - 1000) < 20
    True
    """
    S = magnitude(y, S, n_fft, hop_length)
    freqs = fft_frequencies(sr, infer_n_fft(S))
    cum = np.cumsum(S, axis=0)
    idx = np.argmax(cum >= roll_percent * cum[-1:], axis=0)
    return freqs[idx].astype(np.float32)


def spectral_flatness(
    y: np.ndarray | None = None,
    *,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    amin: float = 1e-10,
    power: float = 2.0,
    log_power: np.ndarray | None = None,
) -> np.ndarray:
    """Geometric over arithmetic mean of ``S**power`` per frame (librosa: ``S`` magnitude, power 2).

    Near 1 for white noise, near 0 for a pure tone. ``log_power`` (``log(max(amin, S**power))``, see
    :func:`log_power_spectrum`) may be passed to share the logarithm with :func:`spectral_entropy`.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    amin : float
        Floor of ``S**power`` (default 1e-10).
    power : float
        Exponent applied to ``S`` (default 2: power).
    log_power : np.ndarray, optional
        ``log(max(amin, S**power))``, shape of ``S``; computed when None.

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Flatness, 0..1 (dimensionless).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> float(spectral_flatness(y).mean()) > 0.5
    True
    """
    S = magnitude(y, S, n_fft, hop_length)
    P = np.maximum(amin, S**power if power != 1.0 else S)
    L = np.log(P) if log_power is None else log_power
    return np.exp(L.mean(axis=0)) / P.mean(axis=0)


def log_power_spectrum(P: np.ndarray, amin: float = 1e-10) -> np.ndarray:
    """``log(max(amin, P))`` (natural log) of a power spectrogram, to share between features.

    Parameters
    ----------
    P : np.ndarray
        Power spectrogram.
    amin : float
        Floor of ``P`` before the logarithm (default 1e-10).

    Returns
    -------
    np.ndarray, shape of ``P``
        Natural logarithm of the floored power.

    Examples
    --------
    >>> import numpy as np
    >>> float(log_power_spectrum(np.array([0.0]))[0]) < -20
    True
    """
    return np.log(np.maximum(P, np.float32(amin)))


def spectral_entropy(
    y: np.ndarray | None = None,
    *,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    amin: float = 1e-10,
    log_power: np.ndarray | None = None,
) -> np.ndarray:
    """Shannon entropy of each frame's normalised power spectrum, divided by ``log(n_bins)`` (0..1).

    ``S`` is a power spectrogram; ``log_power`` as in :func:`spectral_flatness`.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    S : np.ndarray, optional
        Power spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    amin : float
        Floor of the power (default 1e-10).
    log_power : np.ndarray, optional
        ``log(max(amin, S))`` (:func:`log_power_spectrum`), shape of ``S``; computed when None.

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Normalised entropy, 0 (one bin) to 1 (flat spectrum).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> float(spectral_entropy(y).mean()) > 0.9
    True
    """
    P = np.maximum(magnitude(y, S, n_fft, hop_length, power=2.0), np.float32(amin))
    L = log_power_spectrum(P, amin) if log_power is None else log_power
    total = P.sum(axis=0)
    # H = -sum p log p with p = P / total  =  log(total) - sum(P log P) / total
    h = np.log(total) - np.einsum("ft,ft->t", P, L) / total
    return np.clip(h / np.log(P.shape[0]), 0.0, 1.0).astype(np.float32)


def spectral_flux(
    y: np.ndarray | None = None,
    *,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> np.ndarray:
    """Euclidean distance between consecutive sum-normalised magnitude spectra (first frame 0).

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Flux (dimensionless, 0..sqrt(2)); 0 for the first frame.

    Examples
    --------
    >>> import numpy as np
    >>> spectral_flux(S=np.ones((5, 4), dtype=np.float32)).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    S = magnitude(y, S, n_fft, hop_length)
    total = S.sum(axis=0, keepdims=True)
    N = S / np.where(total < EPS, 1.0, total)
    out = np.zeros(S.shape[1], dtype=np.float32)
    if S.shape[1] > 1:
        out[1:] = np.sqrt(np.square(np.diff(N, axis=1)).sum(axis=0))
    return out


def spectral_contrast(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    fmin: float = 200.0,
    n_bands: int = 6,
    quantile: float = 0.02,
) -> np.ndarray:
    """Octave-band spectral contrast ``(n_bands + 1, n_frames)`` in dB, as ``librosa.feature.spectral_contrast``.

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Magnitude spectrogram ``(1 + n_fft // 2, n_frames)``, used as given.
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    fmin : float
        Upper edge of the lowest band in Hz (default 200); each further band is an octave, the last one
        reaches Nyquist. ``ValueError`` when a band edge reaches ``sr / 2``.
    n_bands : int
        Number of octave bands above the lowest (default 6).
    quantile : float
        Fraction of each band's bins averaged as its peak and its valley (default 0.02).

    Returns
    -------
    np.ndarray, float32, shape (n_bands + 1, n_frames)
        Peak minus valley level per band, in dB.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> spectral_contrast(y, sr=16000).shape
    (7, 32)
    """
    S = magnitude(y, S, n_fft, hop_length)
    freq = fft_frequencies(sr, infer_n_fft(S))
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    if np.any(octa[:-1] >= 0.5 * sr):
        raise ValueError(f"spectral contrast: band {octa[-2]:g} Hz exceeds Nyquist; reduce fmin or n_bands")
    valley = np.zeros((n_bands + 1, S.shape[1]), dtype=np.float32)
    peak = np.zeros_like(valley)
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:], strict=True)):
        band = (freq >= f_low) & (freq <= f_high)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == n_bands:
            band[idx[-1] + 1 :] = True
        lo = int(np.flatnonzero(band)[0])
        hi = int(np.flatnonzero(band)[-1]) + 1
        sub = S[lo:hi] if k == n_bands else S[lo : hi - 1]
        q = int(max(np.rint(quantile * np.sum(band)), 1))
        n = sub.shape[0]
        if q >= n:
            srt = np.sort(sub, axis=0)
            valley[k] = srt[:q].mean(axis=0)
            peak[k] = srt[-q:].mean(axis=0)
        else:
            valley[k] = np.partition(sub, q - 1, axis=0)[:q].mean(axis=0)
            peak[k] = np.partition(sub, n - q, axis=0)[n - q :].mean(axis=0)
    return power_to_db(peak) - power_to_db(valley)
