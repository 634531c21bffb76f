"""Framing, windows, STFT, power spectra, the mel scale and mel filterbanks, in numpy, like librosa.

The building blocks the frame-level features (:mod:`~emovox.features.spectral`,
:mod:`~emovox.features.chroma`, :mod:`~emovox.features.temporal`) and Whisper's log-mel front end
(:mod:`emovox.encoders.mel`) share. Spectrograms are ``(1 + n_fft // 2, n_frames)``, frequency on the
first axis as in librosa; frames are ``(frame_length, n_frames)``.

Defaults follow librosa (periodic Hann window, ``center=True`` with zero padding, Slaney mel scale and
filter normalisation) and compute in float32, with the FFT from ``scipy.fft``; ``dtype=np.float64``
gives the double-precision variant Whisper's front end needs. Filterbanks are cached per parameter set.

Examples
--------
>>> import numpy as np
>>> from emovox.features import spectrum
>>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
>>> P = spectrum.spectrogram(y, n_fft=512, hop_length=160)
>>> P.shape, spectrum.apply_mel(P, sr=16000, n_mels=40).shape
((257, 101), (40, 101))
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "apply_mel",
    "fft_frequencies",
    "frame",
    "hz_to_mel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_to_hz",
    "melspectrogram",
    "power_to_db",
    "sparse_mel_filterbank",
    "spectrogram",
    "stft",
    "window_function",
]

# Floor of the per-frame totals the feature modules divide by, so that silent frames give 0, not NaN.
EPS = np.finfo(np.float32).tiny


def readonly(a: np.ndarray) -> np.ndarray:
    """Mark an array read-only (for cached arrays that callers share).

    Parameters
    ----------
    a : numpy.ndarray
        Changed in place.

    Returns
    -------
    numpy.ndarray
        ``a``.
    """
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
    dtype: type = np.float32,
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
        ``numpy.pad`` mode used when ``center`` ("constant" = zeros, librosa's default; Whisper uses
        "reflect").
    dtype : type
        Sample type of the frames (``np.float32`` by default, ``np.float64`` for Whisper's front end).

    Returns
    -------
    np.ndarray, shape (frame_length, n_frames)
        Read-only view; frame ``t`` is column ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> frame(np.arange(10, dtype=np.float32), frame_length=4, hop_length=2, center=False).shape
    (4, 4)
    >>> frame(np.arange(10), frame_length=4, hop_length=2, pad_mode="reflect")[:, 0].tolist()
    [2.0, 1.0, 0.0, 1.0]
    """
    y = np.asarray(y, dtype=dtype)
    if y.ndim != 1:
        raise ValueError(f"expected a 1-D signal, got shape {y.shape}")
    if center:
        y = np.pad(y, frame_length // 2, mode=pad_mode)
    if y.size < frame_length:
        y = np.pad(y, (0, frame_length - y.size))
    view = np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]
    return view.T


@lru_cache(maxsize=32)
def window_function(name: str, n: int, dtype: type = np.float32) -> np.ndarray:
    """Periodic (FFT) window of length ``n``: "hann", "hamming" or "ones"; cached and read-only.

    Periodic (DFT-even) as ``scipy.signal.get_window`` and ``torch.hann_window``. Computed in float64
    and returned as ``dtype`` (float32 by default).

    Parameters
    ----------
    name : str
        "hann", "hamming" or "ones" (also "boxcar" or "rect").
    n : int
        Window length in samples.
    dtype : type
        Type of the values (default ``np.float32``).

    Returns
    -------
    np.ndarray, shape (n,)
        The window, read-only and shared between calls (cached).

    Examples
    --------
    >>> float(window_function("hann", 4)[2])
    1.0
    >>> window_function("hann", 400, np.float64).dtype
    dtype('float64')
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
    return readonly(w.astype(dtype))


def windowed_frames(
    frames: np.ndarray, n_fft: int, win_length: int | None, window: str, dtype: type = np.float32
) -> np.ndarray:
    """Frames times the analysis window, one frame per row, ready for the FFT (the step of :func:`stft`).

    Parameters
    ----------
    frames : np.ndarray, shape (n_fft, n_frames)
        Output of :func:`frame` with ``frame_length=n_fft``.
    n_fft : int
        FFT size in samples (the frame length).
    win_length : int or None
        Window length in samples, centred in the frame and zero-padded to ``n_fft``; None: ``n_fft``.
    window : str
        Window name, as :func:`window_function`.
    dtype : type
        Type of the window (default ``np.float32``).

    Returns
    -------
    np.ndarray, shape (n_frames, n_fft)
        Windowed frames, a C-contiguous copy.

    Examples
    --------
    >>> import numpy as np
    >>> windowed_frames(np.ones((4, 3), np.float32), 4, None, "hann")[0].tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    win_length = n_fft if win_length is None else win_length
    w = window_function(window, win_length, dtype)
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
    dtype: type = np.float32,
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
    dtype : type
        Precision of the framing and the window: ``np.float32`` (default, complex64 result) or
        ``np.float64`` (complex128 result). Frames passed in keep their own type.

    Returns
    -------
    np.ndarray, complex, shape (1 + n_fft // 2, n_frames)
        Complex spectrum per frame (complex64 for float32 frames, complex128 for float64); with ``center``,
        ``n_frames = 1 + len(y) // hop_length``.

    Examples
    --------
    >>> import numpy as np
    >>> stft(np.zeros(16000, dtype=np.float32), n_fft=512, hop_length=128).shape
    (257, 126)
    >>> stft(np.zeros(16000), n_fft=400, hop_length=160, pad_mode="reflect", dtype=np.float64).dtype
    dtype('complex128')
    """
    if frames is None:
        frames = frame(
            y, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode, dtype=dtype
        )
    import scipy.fft  # here, not at import: the prediction path should not pay for it before it runs

    return scipy.fft.rfft(windowed_frames(frames, n_fft, win_length, window, dtype), axis=-1).T


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

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal (ignored when ``frames`` is given).
    n_fft, hop_length : int
        FFT size and step in samples (default 2048 and 512).
    power : float
        Exponent of the magnitude: 1 magnitude, 2 power (default).
    win_length, window, center, pad_mode, frames
        As :func:`stft` (defaults ``n_fft``, "hann", True, "constant", None).

    Returns
    -------
    np.ndarray, shape (1 + n_fft // 2, n_frames)
        ``|STFT| ** power`` in units of the signal (squared for ``power=2``); float32 (float64 for float64
        ``frames``).

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


def magnitude(
    y: np.ndarray | None, S: np.ndarray | None, n_fft: int, hop_length: int, power: float = 1.0
) -> np.ndarray:
    """``S`` as float32 when given, else the spectrogram of ``y``: how the spectral features take their input.

    Parameters
    ----------
    y : np.ndarray or None
        Mono signal, used when ``S`` is None.
    S : np.ndarray or None
        Precomputed spectrogram ``(1 + n_fft // 2, n_frames)``, returned as it is (as float32).
    n_fft, hop_length : int
        FFT size and step in samples for ``y``.
    power : float
        1 for a magnitude (default), 2 for a power spectrogram of ``y``.

    Returns
    -------
    np.ndarray, float32, shape (1 + n_fft // 2, n_frames)
        Raises ``ValueError`` when both ``y`` and ``S`` are None.

    Examples
    --------
    >>> import numpy as np
    >>> magnitude(np.zeros(1000, np.float32), None, 256, 128).shape
    (129, 8)
    >>> magnitude(None, np.ones((3, 2)), 4, 2).dtype
    dtype('float32')
    """
    if S is not None:
        return np.asarray(S, dtype=np.float32)
    if y is None:
        raise ValueError("one of y or S is required")
    return spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=power)


def infer_n_fft(S: np.ndarray) -> int:
    """The FFT size of a one-sided spectrum: ``2 * (n_bins - 1)``.

    Parameters
    ----------
    S : numpy.ndarray
        Spectrum, shape ``(n_bins, ...)``.

    Returns
    -------
    int

    Examples
    --------
    >>> infer_n_fft(np.zeros((257, 3)))
    512
    """
    return 2 * (S.shape[0] - 1)


def fft_frequencies(sr: float = 16000, n_fft: int = 2048) -> np.ndarray:
    """Centre frequency of each rfft bin, ``(1 + n_fft // 2,)``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 16000).
    n_fft : int
        FFT size in samples (default 2048).

    Returns
    -------
    np.ndarray, float64, shape (1 + n_fft // 2,)
        Frequencies in Hz, 0 to ``sr / 2`` in steps of ``sr / n_fft``.

    Examples
    --------
    >>> fft_frequencies(16000, 8).tolist()
    [0.0, 2000.0, 4000.0, 6000.0, 8000.0]
    """
    return np.fft.rfftfreq(n_fft, 1.0 / sr)


# ---------------------------------------------------------------------------------------------------------
# Mel scale and filterbanks
# ---------------------------------------------------------------------------------------------------------

F_SP = 200.0 / 3
MIN_LOG_HZ = 1000.0
MIN_LOG_MEL = MIN_LOG_HZ / F_SP
LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Hz to mel (Slaney's auditory toolbox scale by default, HTK with ``htk=True``).

    Parameters
    ----------
    f : float or np.ndarray
        Frequency in Hz.
    htk : bool
        HTK formula ``2595 log10(1 + f / 700)`` instead of Slaney's (linear below 1 kHz, logarithmic
        above; default False).

    Returns
    -------
    np.ndarray, float64, shape of ``f``
        Mels (a 0-d array for a scalar).

    Examples
    --------
    >>> round(float(hz_to_mel(1000.0)), 6)
    15.0
    """
    f = np.asanyarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    mels = f / F_SP
    log_t = f >= MIN_LOG_HZ
    return np.where(log_t, MIN_LOG_MEL + np.log(np.maximum(f, MIN_LOG_HZ) / MIN_LOG_HZ) / LOGSTEP, mels)


def mel_to_hz(m: np.ndarray | float, htk: bool = False) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`.

    Parameters
    ----------
    m : float or np.ndarray
        Mels.
    htk : bool
        HTK formula instead of Slaney's (default False), as :func:`hz_to_mel`.

    Returns
    -------
    np.ndarray, float64, shape of ``m``
        Frequency in Hz (a 0-d array for a scalar).

    Examples
    --------
    >>> round(float(mel_to_hz(15.0)), 6)
    1000.0
    """
    m = np.asanyarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    return np.where(m >= MIN_LOG_MEL, MIN_LOG_HZ * np.exp(LOGSTEP * (m - MIN_LOG_MEL)), F_SP * m)


def mel_frequencies(
    n_mels: int = 128, fmin: float = 0.0, fmax: float = 8000.0, htk: bool = False
) -> np.ndarray:
    """``n_mels`` frequencies evenly spaced on the mel scale from ``fmin`` to ``fmax`` (Hz).

    Parameters
    ----------
    n_mels : int
        Number of frequencies (default 128).
    fmin, fmax : float
        First and last frequency in Hz (default 0 and 8000).
    htk : bool
        HTK mel formula instead of Slaney's (default False).

    Returns
    -------
    np.ndarray, float64, shape (n_mels,)
        Increasing frequencies in Hz.

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

    Parameters
    ----------
    sr : float
        Sample rate in Hz (default 16000).
    n_fft : int
        FFT size in samples (default 2048).
    n_mels : int
        Number of filters (default 128).
    fmin, fmax : float
        Lowest and highest filter edge in Hz (default 0 and ``sr / 2``).
    htk : bool
        HTK mel formula instead of Slaney's (default False).
    norm : str or None
        "slaney" (default): each triangle scaled by ``2 / bandwidth`` (Hz), equal area; anything else:
        peaks of 1.

    Returns
    -------
    np.ndarray, float32, shape (n_mels, 1 + n_fft // 2)
        Filter weights per FFT bin, read-only and shared between calls (cached).

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
    return readonly(weights.astype(np.float32))


@lru_cache(maxsize=32)
def sparse_mel_filterbank(
    sr: float = 16000,
    n_fft: int = 2048,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    dtype: type = np.float32,
):
    """:func:`mel_filterbank` (Slaney) as a cached ``scipy.sparse.csr_array`` of ``dtype``.

    Each FFT bin feeds at most two filters, so the sparse product is about twice as fast as the dense
    one; ``dtype=np.float64`` keeps a float64 power spectrogram in float64 through the product.

    Parameters
    ----------
    sr, n_fft, n_mels, fmin, fmax
        As :func:`mel_filterbank` (defaults 16000 Hz, 2048, 128, 0 Hz, ``sr / 2``).
    dtype : type
        Type of the weights (default ``np.float32``).

    Returns
    -------
    scipy.sparse.csr_array, shape (n_mels, 1 + n_fft // 2)
        Filter weights, shared between calls (cached).

    Examples
    --------
    >>> M = sparse_mel_filterbank(16000, 400, 80, dtype=np.float64)
    >>> M.shape, M.dtype
    ((80, 201), dtype('float64'))
    """
    import scipy.sparse

    return scipy.sparse.csr_array(mel_filterbank(sr, n_fft, n_mels, fmin, fmax).astype(dtype, copy=False))


def apply_mel(
    P: np.ndarray, *, sr: float = 16000, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Mel filterbank applied to a power spectrogram ``P`` ``(1 + n_fft // 2, n_frames)``.

    Uses :func:`sparse_mel_filterbank` (float32).

    Parameters
    ----------
    P : np.ndarray, shape (1 + n_fft // 2, n_frames)
        Power spectrogram; ``n_fft`` is read from its rows.
    sr : float
        Sample rate in Hz (default 16000).
    n_mels : int
        Number of mel bands (default 128).
    fmin, fmax : float
        Frequency range of the filters in Hz (default 0 and ``sr / 2``).

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_frames)
        Power per mel band.

    Examples
    --------
    >>> import numpy as np
    >>> apply_mel(np.ones((513, 3), dtype=np.float32), n_mels=40).shape
    (40, 3)
    """
    P = np.asarray(P, dtype=np.float32)
    out = sparse_mel_filterbank(float(sr), infer_n_fft(P), n_mels, fmin, fmax) @ P
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

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``S`` is None.
    sr : float
        Sample rate in Hz (default 16000).
    S : np.ndarray, optional
        Power spectrogram ``(1 + n_fft // 2, n_frames)``, used as given (``n_fft`` and ``hop_length``
        ignored).
    n_fft, hop_length : int
        FFT size and step in samples for ``y`` (default 2048 and 512).
    n_mels : int
        Number of mel bands (default 128).
    fmin, fmax : float
        Frequency range of the filters in Hz (default 0 and ``sr / 2``).

    Returns
    -------
    np.ndarray, float32, shape (n_mels, n_frames)
        Power per mel band; ``n_frames = 1 + len(y) // hop_length``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> melspectrogram(y, sr=16000, n_fft=512, hop_length=160, n_mels=40).shape
    (40, 101)
    """
    P = magnitude(y, S, n_fft, hop_length, power=2.0)
    return apply_mel(P, sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax)


def power_to_db(
    S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> np.ndarray:
    """``10 * log10(S / ref)`` with a floor of ``amin`` and, if set, ``top_db`` below the maximum.

    Parameters
    ----------
    S : np.ndarray
        Power values (e.g. a power spectrogram).
    ref : float
        Power given 0 dB (default 1.0).
    amin : float
        Floor of ``S`` and ``ref`` before the logarithm (default 1e-10, i.e. -100 dB).
    top_db : float or None
        Clip the output to this many dB below its maximum (default 80; None: no clipping).

    Returns
    -------
    np.ndarray, shape of ``S``
        Level in dB re ``ref``.

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
