"""Fundamental frequency (F0) with a voicing decision: a vectorised YIN in numpy.

YIN (de Cheveigné & Kawahara 2002): the cumulative-mean-normalised difference function of each frame
is computed from FFT cross-correlations; the period is the first dip below ``threshold`` (else the
global minimum), refined by parabolic interpolation. A frame is voiced when that dip is below
``voicing_threshold`` and the frame is not silent (RMS at least ``silence_db`` below the loudest frame
and above an absolute floor). ``voiced_prob`` is ``1 - dip`` clipped to [0, 1] (0 for silent frames).

Examples
--------
>>> import numpy as np
>>> from emovox.features.pitch import yin
>>> sr = 16000
>>> y = np.sin(2 * np.pi * 220 * np.arange(sr) / sr).astype(np.float32)
>>> f0, voiced, prob = yin(y, sr=sr)
>>> round(float(np.median(f0[voiced])))
220
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .spectral import frame

__all__ = ["f0_to_semitones", "yin"]


def yin(
    y: np.ndarray,
    *,
    sr: float = 16000,
    fmin: float = 50.0,
    fmax: float = 600.0,
    frame_length: int = 1024,
    hop_length: int = 256,
    threshold: float = 0.1,
    voicing_threshold: float = 0.4,
    silence_db: float = 45.0,
    abs_floor: float = 1e-4,
    center: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate F0 per frame.

    Parameters
    ----------
    y : np.ndarray
        Mono float signal.
    sr : float
        Sample rate (Hz).
    fmin, fmax : float
        Search range (Hz). ``frame_length`` must exceed ``2 * sr / fmin`` roughly.
    frame_length, hop_length : int
        Analysis frame and step in samples (centred with ``center``, as in :func:`~emovox.features.spectral.frame`).
    threshold : float
        YIN absolute threshold for the first acceptable dip.
    voicing_threshold : float
        Largest dip value still called voiced.
    silence_db : float
        Frames quieter than the loudest frame by more than this are unvoiced.
    abs_floor : float
        Frames with RMS below this are unvoiced.
    center : bool
        Pad ``frame_length // 2`` samples on both sides so frame ``t`` is centred on ``t * hop_length``
        (default True); ``False`` starts the first frame at sample 0.

    Returns
    -------
    f0 : np.ndarray, float32 (n_frames,)
        F0 in Hz; NaN where unvoiced.
    voiced : np.ndarray, bool (n_frames,)
    voiced_prob : np.ndarray, float32 (n_frames,)

    Examples
    --------
    >>> import numpy as np
    >>> f0, voiced, prob = yin(np.zeros(16000, dtype=np.float32))
    >>> bool(voiced.any()), float(prob.max())
    (False, 0.0)
    """
    y = np.asarray(y, dtype=np.float32)
    min_lag = max(1, int(np.floor(sr / fmax)))
    max_lag = int(np.ceil(sr / fmin))
    w = frame_length - max_lag
    if w < max_lag // 2 or max_lag + 2 > frame_length:
        raise ValueError(f"frame_length {frame_length} too short for fmin {fmin:g} Hz at {sr:g} Hz")
    F = frame(y, frame_length=frame_length, hop_length=hop_length, center=center).T  # (T, L) view
    T = F.shape[0]
    # E(tau) = sum_{j=tau}^{tau+w-1} x[j]^2 from one cumulative sum over the (padded) signal
    yp = np.pad(y, frame_length // 2) if center else y
    if yp.size < frame_length:
        yp = np.pad(yp, (0, frame_length - yp.size))
    csum = np.concatenate(([0.0], np.cumsum(np.square(yp, dtype=np.float64))))
    C = np.lib.stride_tricks.sliding_window_view(csum, frame_length + 1)[::hop_length][:T]
    f0, dip, e0 = np.empty(T, np.float32), np.empty(T, np.float32), np.empty(T, np.float32)
    for s in range(0, T, _BLOCK):  # frames are independent: a block at a time bounds the FFT buffers
        f0[s : s + _BLOCK], dip[s : s + _BLOCK], e0[s : s + _BLOCK] = _yin_frames(
            F[s : s + _BLOCK], C[s : s + _BLOCK], sr, min_lag, max_lag, w, threshold
        )
    frame_rms = np.sqrt(e0 / w)
    loud = frame_rms >= max(abs_floor, float(frame_rms.max(initial=0.0)) * 10 ** (-silence_db / 20))
    voiced = loud & (dip < voicing_threshold) & (f0 >= fmin) & (f0 <= fmax)
    prob = np.where(loud, np.clip(1.0 - dip, 0.0, 1.0), 0.0).astype(np.float32)
    f0[~voiced] = np.nan
    return f0, voiced, prob


_BLOCK = 1024  # frames per block in :func:`yin` (about 4 MB of FFT buffers each with the defaults)


def _yin_frames(F, C, sr, min_lag, max_lag, w, threshold):
    """F0, dip and lag-0 energy of frames ``F`` (T, L) given their cumulative-energy windows ``C``."""
    n = scipy.fft.next_fast_len(F.shape[1], real=True)
    A = scipy.fft.rfft(F[:, :w], n, axis=-1)
    B = scipy.fft.rfft(F, n, axis=-1)
    A.imag *= -1
    acf = scipy.fft.irfft(A * B, n, axis=-1)[:, : max_lag + 1]  # r(tau) = sum_j x[j] x[j + tau], j < w
    energy = (C[:, w : w + max_lag + 1] - C[:, : max_lag + 1]).astype(np.float32)
    d = energy[:, :1] + energy - 2.0 * acf
    np.maximum(d, 0.0, out=d)
    d[:, 0] = 0.0
    cm = np.cumsum(d[:, 1:], axis=1) / np.arange(1, max_lag + 1, dtype=np.float32)
    e0 = energy[:, 0]
    tiny = 1e-7 * np.maximum(e0, 1e-20)[:, None]
    cmnd = np.where(cm > tiny, d[:, 1:] / np.maximum(cm, tiny), 1.0)  # cmnd[:, k] is lag k + 1
    c = cmnd[:, min_lag - 1 : max_lag]  # lags min_lag..max_lag
    # first local minimum below threshold, else the global minimum
    inner = (c[:, 1:-1] < c[:, :-2]) & (c[:, 1:-1] <= c[:, 2:]) & (c[:, 1:-1] < threshold)
    has = inner.any(axis=1)
    first = np.argmax(inner, axis=1) + 1
    best = np.where(has, first, np.argmin(c, axis=1))
    rows = np.arange(len(F))
    dip = c[rows, best]
    # parabolic refinement (interior points only)
    k = np.clip(best, 1, c.shape[1] - 2)
    a, b0, b1 = c[rows, k - 1], c[rows, k], c[rows, k + 1]
    den = a - 2 * b0 + b1
    interior = (best == k) & (np.abs(den) > 1e-12)
    shift = np.where(interior, 0.5 * (a - b1) / np.where(interior, den, 1.0), 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    period = best + min_lag + shift
    return sr / period, dip, e0


def f0_to_semitones(f0: np.ndarray, ref: float = 27.5) -> np.ndarray:
    """F0 in semitones above ``ref`` Hz (27.5 Hz as eGeMAPS); NaN stays NaN.

    Parameters
    ----------
    f0 : np.ndarray
        F0 in Hz (NaN: unvoiced).
    ref : float
        Reference frequency in Hz, 0 semitones (default 27.5).

    Returns
    -------
    np.ndarray, float32, shape of ``f0``
        Semitones above ``ref``; NaN where ``f0`` is NaN, -inf where it is 0.

    Examples
    --------
    >>> import numpy as np
    >>> f0_to_semitones(np.array([55.0, np.nan])).tolist()[0]
    12.0
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return (12.0 * np.log2(np.asarray(f0, dtype=np.float64) / ref)).astype(np.float32)
