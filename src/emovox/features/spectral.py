"""Frame-level spectral and time-domain features, in numpy, in the style of librosa.

Every spectral function takes either the signal ``y`` or a precomputed spectrogram ``S`` (shape
``(1 + n_fft // 2, n_frames)``, frequency on the first axis as in librosa), so one STFT can feed all
of them. Time-domain frame features (:func:`zero_crossing_rate`, :func:`rms`, :func:`energy_entropy`)
take ``y`` or precomputed ``frames`` (shape ``(frame_length, n_frames)``, see :func:`frame`).

Defaults follow librosa (Hann window, ``center=True`` with zero padding, Slaney mel filters, MFCC as an
orthonormal DCT-II of the power mel spectrogram in dB with an 80 dB floor), so that the numbers agree
with ``librosa.feature`` to float32 precision while running several times faster: the FFT is
``scipy.fft.rfft`` in float32 and filterbanks are cached per parameter set.

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
import scipy.fft

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

_EPS = np.finfo(np.float32).tiny
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# ---------------------------------------------------------------------------------------------------------
# Framing and STFT
# ---------------------------------------------------------------------------------------------------------


def frame(
    y: np.ndarray,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Slice a signal into overlapping frames (a strided view, no copy of the samples).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    frame_length, hop_length : int
        Frame size and step in samples.
    center : bool
        Pad ``frame_length // 2`` samples on both sides so frame ``t`` is centred on ``t * hop_length``
        (as librosa does).
    pad_mode : str
        ``numpy.pad`` mode used when ``center`` ("constant" = zeros, librosa's default).

    Returns
    -------
    np.ndarray, shape (frame_length, n_frames)
        Read-only view; frame ``t`` is column ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> frame(np.arange(10, dtype=np.float32), frame_length=4, hop_length=2, center=False).shape
    (4, 4)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected a 1-D signal, got shape {y.shape}")
    if center:
        y = np.pad(y, frame_length // 2, mode=pad_mode)
    if y.size < frame_length:
        y = np.pad(y, (0, frame_length - y.size))
    view = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]
    return view.T


@lru_cache(maxsize=32)
def window_function(name: str, n: int) -> np.ndarray:
    """Periodic (FFT) window of length ``n``: "hann", "hamming" or "ones"; cached and read-only.

    Examples
    --------
    >>> float(window_function("hann", 4)[2])
    1.0
    """
    k = np.arange(n, dtype=np.float64)
    if name == "hann":
        w = 0.5 - 0.5 * np.cos(2 * np.pi * k / n)
    elif name == "hamming":
        w = 0.54 - 0.46 * np.cos(2 * np.pi * k / n)
    elif name in ("ones", "boxcar", "rect"):
        w = np.ones(n)
    else:
        raise ValueError(f"unknown window {name!r} (use 'hann', 'hamming' or 'ones')")
    return _readonly(w.astype(np.float32))


def _windowed_frames(frames: np.ndarray, n_fft: int, win_length: int | None, window: str) -> np.ndarray:
    win_length = n_fft if win_length is None else win_length
    w = window_function(window, win_length)
    if win_length < n_fft:  # centre the window in the frame, as librosa does
        lpad = (n_fft - win_length) // 2
        w = np.pad(w, (lpad, n_fft - win_length - lpad))
    return frames.T * w  # (n_frames, n_fft), C-contiguous copy


def stft(
    y: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    frames: np.ndarray | None = None,
) -> np.ndarray:
    """Short-time Fourier transform (complex64, shape ``(1 + n_fft // 2, n_frames)``).

    Parameters
    ----------
    y : np.ndarray
        Mono signal (ignored when ``frames`` is given).
    n_fft, hop_length, win_length, window, center, pad_mode
        As in ``librosa.stft`` (``win_length`` defaults to ``n_fft``).
    frames : np.ndarray, optional
        Precomputed ``frame(y, frame_length=n_fft, ...)`` output, to share framing with time-domain features.

    Examples
    --------
    >>> import numpy as np
    >>> stft(np.zeros(16000, dtype=np.float32), n_fft=512, hop_length=128).shape
    (257, 126)
    """
    if frames is None:
        frames = frame(y, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    return scipy.fft.rfft(_windowed_frames(frames, n_fft, win_length, window), axis=-1).T


def spectrogram(
    y: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    power: float = 2.0,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    frames: np.ndarray | None = None,
) -> np.ndarray:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram, float32 ``(1 + n_fft // 2, n_frames)``.

    Examples
    --------
    >>> import numpy as np
    >>> spectrogram(np.ones(4096, dtype=np.float32), n_fft=1024, hop_length=256).dtype
    dtype('float32')
    """
    D = stft(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        frames=frames,
    )
    S = np.abs(D)
    if power == 2.0:
        return np.square(S, out=S)
    if power != 1.0:
        S **= power
    return S


def _mag(
    y: np.ndarray | None, S: np.ndarray | None, n_fft: int, hop_length: int, power: float = 1.0
) -> np.ndarray:
    if S is not None:
        return np.asarray(S, dtype=np.float32)
    if y is None:
        raise ValueError("one of y or S is required")
    return spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=power)


def _infer_n_fft(S: np.ndarray) -> int:
    return 2 * (S.shape[0] - 1)


def fft_frequencies(sr: float = 16000, n_fft: int = 2048) -> np.ndarray:
    """Centre frequency of each rfft bin, ``(1 + n_fft // 2,)``.

    Examples
    --------
    >>> fft_frequencies(16000, 8).tolist()
    [0.0, 2000.0, 4000.0, 6000.0, 8000.0]
    """
    return np.fft.rfftfreq(n_fft, 1.0 / sr)


# ---------------------------------------------------------------------------------------------------------
# Mel and MFCC
# ---------------------------------------------------------------------------------------------------------

_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Hz to mel (Slaney's auditory toolbox scale by default, HTK with ``htk=True``).

    Examples
    --------
    >>> round(float(hz_to_mel(1000.0)), 6)
    15.0
    """
    f = np.asanyarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    mels = f / _F_SP
    log_t = f >= _MIN_LOG_HZ
    return np.where(log_t, _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP, mels)


def mel_to_hz(m: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> round(float(mel_to_hz(15.0)), 6)
    1000.0
    """
    m = np.asanyarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    return np.where(m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), _F_SP * m)


def mel_frequencies(
    n_mels: int = 128, fmin: float = 0.0, fmax: float = 8000.0, htk: bool = False
) -> np.ndarray:
    """``n_mels`` frequencies evenly spaced on the mel scale from ``fmin`` to ``fmax`` (Hz).

    Examples
    --------
    >>> mel_frequencies(3, 0.0, 8000.0)[[0, -1]].round(6).tolist()
    [0.0, 8000.0]
    """
    mels = np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels)
    return mel_to_hz(mels, htk)


@lru_cache(maxsize=32)
def mel_filterbank(
    sr: float = 16000,
    n_fft: int = 2048,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
) -> np.ndarray:
    """Triangular mel filterbank ``(n_mels, 1 + n_fft // 2)``, float32, cached and read-only.

    Same construction as ``librosa.filters.mel`` (Slaney scale and area normalisation by default).

    Examples
    --------
    >>> mel_filterbank(16000, 512, 40).shape
    (40, 257)
    """
    fmax = sr / 2.0 if fmax is None else fmax
    fftfreqs = fft_frequencies(sr, n_fft)
    mel_f = mel_frequencies(n_mels + 2, fmin, fmax, htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return _readonly(weights.astype(np.float32))


@lru_cache(maxsize=32)
def _mel_sparse(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float | None):
    import scipy.sparse

    return scipy.sparse.csr_array(mel_filterbank(sr, n_fft, n_mels, fmin, fmax))


def apply_mel(
    P: np.ndarray, *, sr: float = 16000, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Mel filterbank applied to a power spectrogram ``P`` ``(1 + n_fft // 2, n_frames)``.

    Uses a cached sparse copy of :func:`mel_filterbank` (each FFT bin feeds at most two filters), about
    twice as fast as the dense product.

    Examples
    --------
    >>> import numpy as np
    >>> apply_mel(np.ones((513, 3), dtype=np.float32), n_mels=40).shape
    (40, 3)
    """
    P = np.asarray(P, dtype=np.float32)
    out = _mel_sparse(float(sr), _infer_n_fft(P), n_mels, fmin, fmax) @ P
    return np.asarray(out, dtype=np.float32)


def melspectrogram(
    y: np.ndarray | None = None,
    *,
    sr: float = 16000,
    S: np.ndarray | None = None,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> np.ndarray:
    """Mel spectrogram ``(n_mels, n_frames)`` from ``y`` or a power spectrogram ``S``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> melspectrogram(y, sr=16000, n_fft=512, hop_length=160, n_mels=40).shape
    (40, 101)
    """
    P = _mag(y, S, n_fft, hop_length, power=2.0)
    return apply_mel(P, sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax)


def power_to_db(
    S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> np.ndarray:
    """``10 * log10(S / ref)`` with a floor of ``amin`` and, if set, ``top_db`` below the maximum.

    Examples
    --------
    >>> import numpy as np
    >>> power_to_db(np.array([1.0, 1e-12])).tolist()
    [0.0, -80.0]
    """
    S = np.asarray(S)
    log_spec = 10.0 * np.log10(np.maximum(S, amin))
    if ref != 1.0:
        log_spec -= 10.0 * np.log10(max(amin, ref))
    if top_db is not None and log_spec.size:
        np.maximum(log_spec, log_spec.max() - top_db, out=log_spec)
    return log_spec


@lru_cache(maxsize=32)
def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n_out, n_in)`` (rows of ``scipy.fft.dct(..., norm='ortho')``), float32.

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
    return _readonly(M.astype(np.float32))


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
    S : np.ndarray, optional
        Log-power mel spectrogram in dB (``power_to_db(melspectrogram(...))``), shape ``(n_mels, n_frames)``.

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
# Chroma, tuning, tonnetz
# ---------------------------------------------------------------------------------------------------------


def _hz_to_octs(f: np.ndarray, tuning: float = 0.0, bins_per_octave: int = 12) -> np.ndarray:
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

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 440 * 2 ** (0.25 / 12) * np.arange(sr) / sr).astype(np.float32)
    >>> abs(estimate_tuning(y, sr=sr) - 0.25) < 0.015  # histogram resolution: one cent
    True
    """
    S = _mag(y, S, n_fft, hop_length)
    n_fft = _infer_n_fft(S)
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

    Examples
    --------
    >>> chroma_filterbank(16000, 2048).shape
    (12, 1025)
    """
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * _hz_to_octs(frequencies, tuning, n_chroma)
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
    return _readonly(np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=np.float32))


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

    Examples
    --------
    >>> import numpy as np
    >>> sr = 16000
    >>> y = np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    >>> PITCH_CLASSES[int(np.argmax(chroma_stft(y, sr=sr).mean(axis=1)))]
    'A'
    """
    S = _mag(y, S, n_fft, hop_length, power=2.0)
    n_fft = _infer_n_fft(S)
    if tuning is None:
        tuning = estimate_tuning(S=S, sr=sr, bins_per_octave=n_chroma)
    raw = chroma_filterbank(float(sr), n_fft, n_chroma, round(float(tuning), 6)) @ S
    peak = raw.max(axis=0, keepdims=True)
    return raw / np.where(peak < _EPS, 1.0, peak)


@lru_cache(maxsize=8)
def _tonnetz_matrix(n_chroma: int) -> np.ndarray:
    dim_map = np.linspace(0, 12, num=n_chroma, endpoint=False)
    scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
    V = np.multiply.outer(scale, dim_map)
    V[::2] -= 0.5
    R = np.array([1, 1, 1, 1, 0.5, 0.5])
    return _readonly((R[:, None] * np.cos(np.pi * V)).astype(np.float32))


def tonnetz(chroma: np.ndarray) -> np.ndarray:
    """Tonal centroid features ``(6, n_frames)`` from a chromagram (Harte et al. 2006, as librosa).

    Examples
    --------
    >>> import numpy as np
    >>> tonnetz(np.eye(12, dtype=np.float32)).shape
    (6, 12)
    """
    chroma = np.asarray(chroma, dtype=np.float32)
    total = np.abs(chroma).sum(axis=0, keepdims=True)
    return _tonnetz_matrix(chroma.shape[0]) @ (chroma / np.where(total < _EPS, 1.0, total))


def chroma_deviation(chroma: np.ndarray) -> np.ndarray:
    """Standard deviation of the chroma vector across pitch classes, per frame ``(n_frames,)``.

    Examples
    --------
    >>> import numpy as np
    >>> float(chroma_deviation(np.ones((12, 3)))[0])
    0.0
    """
    return np.asarray(chroma, dtype=np.float32).std(axis=0)


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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 2000 * np.arange(16000) / 16000).astype(np.float32)
    >>> round(float(np.median(spectral_centroid(y, sr=16000))))
    2000
    """
    S = _mag(y, S, n_fft, hop_length)
    freqs = fft_frequencies(sr, _infer_n_fft(S)).astype(np.float32)
    total = S.sum(axis=0)
    return (freqs @ S) / np.where(total < _EPS, 1.0, total)


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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 2000 * np.arange(16000) / 16000).astype(np.float32)
    >>> float(np.median(spectral_bandwidth(y, sr=16000))) < 100
    True
    """
    S = _mag(y, S, n_fft, hop_length)
    return _moment_spread(S, sr, centroid)


def _moment_spread(W: np.ndarray, sr: float, centroid: np.ndarray | None) -> np.ndarray:
    freqs = fft_frequencies(sr, _infer_n_fft(W)).astype(np.float32)
    total = W.sum(axis=0)
    total = np.where(total < _EPS, 1.0, total)
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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> 2000 < float(np.median(spectral_spread(y, sr=16000))) < 2800
    True
    """
    P = _mag(y, S, n_fft, hop_length, power=2.0)
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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    >>> abs(float(np.median(spectral_rolloff(y, sr=16000))) - 1000) < 20
    True
    """
    S = _mag(y, S, n_fft, hop_length)
    freqs = fft_frequencies(sr, _infer_n_fft(S))
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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> float(spectral_flatness(y).mean()) > 0.5
    True
    """
    S = _mag(y, S, n_fft, hop_length)
    P = np.maximum(amin, S**power if power != 1.0 else S)
    L = np.log(P) if log_power is None else log_power
    return np.exp(L.mean(axis=0)) / P.mean(axis=0)


def log_power_spectrum(P: np.ndarray, amin: float = 1e-10) -> np.ndarray:
    """``log(max(amin, P))`` (natural log) of a power spectrogram, to share between features.

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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> float(spectral_entropy(y).mean()) > 0.9
    True
    """
    P = np.maximum(_mag(y, S, n_fft, hop_length, power=2.0), np.float32(amin))
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

    Examples
    --------
    >>> import numpy as np
    >>> spectral_flux(S=np.ones((5, 4), dtype=np.float32)).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    S = _mag(y, S, n_fft, hop_length)
    total = S.sum(axis=0, keepdims=True)
    N = S / np.where(total < _EPS, 1.0, total)
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

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> spectral_contrast(y, sr=16000).shape
    (7, 32)
    """
    S = _mag(y, S, n_fft, hop_length)
    freq = fft_frequencies(sr, _infer_n_fft(S))
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


# ---------------------------------------------------------------------------------------------------------
# Time-domain frame features
# ---------------------------------------------------------------------------------------------------------


def _frames(
    y: np.ndarray | None, frames: np.ndarray | None, frame_length: int, hop_length: int, center: bool
) -> np.ndarray:
    if frames is not None:
        return frames
    if y is None:
        raise ValueError("one of y or frames is required")
    return frame(y, frame_length=frame_length, hop_length=hop_length, center=center)


def zero_crossing_rate(
    y: np.ndarray | None = None,
    *,
    frames: np.ndarray | None = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
) -> np.ndarray:
    """Fraction of adjacent sample pairs whose sign differs, per frame ``(n_frames,)``.

    A tone of frequency ``f`` gives about ``2 f / sr``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 500 * np.arange(16000) / 16000 + 0.1).astype(np.float32)
    >>> round(float(np.median(zero_crossing_rate(y))), 3)
    0.062
    """
    F = _frames(y, frames, frame_length, hop_length, center)
    sb = np.signbit(F)
    return (sb[1:] != sb[:-1]).mean(axis=0, dtype=np.float32)


def rms(
    y: np.ndarray | None = None,
    *,
    frames: np.ndarray | None = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
) -> np.ndarray:
    """Root-mean-square amplitude per frame ``(n_frames,)``.

    Examples
    --------
    >>> import numpy as np
    >>> float(rms(np.zeros(8000, dtype=np.float32)).max())
    0.0
    """
    F = _frames(y, frames, frame_length, hop_length, center)
    return np.sqrt(np.einsum("ft,ft->t", F, F) / F.shape[0]).astype(np.float32)


def energy_entropy(
    y: np.ndarray | None = None,
    *,
    frames: np.ndarray | None = None,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    n_sub: int = 10,
) -> np.ndarray:
    """Entropy (bits) of the energy distribution over ``n_sub`` sub-frames of each frame.

    High for steady sound, low for an abrupt burst; 0 for silence.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> float(np.median(energy_entropy(y))) > 3.0
    True
    """
    F = _frames(y, frames, frame_length, hop_length, center)
    L = (F.shape[0] // n_sub) * n_sub
    sub = np.square(F[:L]).reshape(n_sub, L // n_sub, F.shape[1]).sum(axis=1)
    total = sub.sum(axis=0, keepdims=True)
    p = sub / np.where(total < _EPS, 1.0, total)
    return (-(p * np.log2(p + _EPS)).sum(axis=0)).astype(np.float32)


def trim_silence(y: np.ndarray, top_db: float, frame_length: int = 1024, hop_length: int = 256) -> np.ndarray:
    """``y`` without the leading and trailing frames quieter than ``top_db`` below its loudest frame.

    Corpus clips carry a second or more of silence around the speech; utterance-level statistics
    computed over it are diluted by it.

    Examples
    --------
    >>> y = np.concatenate([np.zeros(16000), np.sin(np.arange(8000) * 0.1), np.zeros(16000)])
    >>> len(trim_silence(y, 30.0)) < 10000
    True
    """
    if y.size < frame_length:
        return y
    r = rms(y, frame_length=frame_length, hop_length=hop_length, center=True)
    db = 20 * np.log10(np.maximum(r, 1e-10))
    loud = np.flatnonzero(db > db.max() - top_db)
    if loud.size == 0:
        return y
    start = max(0, int(loud[0]) * hop_length - frame_length // 2)
    stop = min(y.size, int(loud[-1]) * hop_length + frame_length // 2)
    return y[start:stop] if stop - start >= frame_length else y
