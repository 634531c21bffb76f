"""Time-domain frame features in numpy: zero-crossing rate, RMS, energy entropy; silence trimming.

Each feature takes the signal ``y`` or precomputed ``frames`` (shape ``(frame_length, n_frames)``, see
:func:`~emovox.features.spectrum.frame`), so the framing can be shared with the STFT.

Examples
--------
>>> import numpy as np
>>> from emovox.features import temporal
>>> y = np.sin(2 * np.pi * 500 * np.arange(16000) / 16000 + 0.1).astype(np.float32)
>>> round(float(np.median(temporal.rms(y))), 3)
0.707
"""

from __future__ import annotations

import numpy as np

from .spectrum import EPS, frame

__all__ = ["energy_entropy", "rms", "trim_silence", "zero_crossing_rate"]


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

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``frames`` is None.
    frames : np.ndarray, optional
        Precomputed frames ``(frame_length, n_frames)``, used as given.
    frame_length, hop_length : int
        Frame size and step in samples for ``y`` (default 2048 and 512).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (default True).

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Crossings per adjacent sample pair, 0..1.

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

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``frames`` is None.
    frames : np.ndarray, optional
        Precomputed frames ``(frame_length, n_frames)``, used as given.
    frame_length, hop_length : int
        Frame size and step in samples for ``y`` (default 2048 and 512).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (default True).

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        RMS in units of the signal (0.707 for a full-scale sine).

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

    Parameters
    ----------
    y : np.ndarray, optional
        Mono signal, used when ``frames`` is None.
    frames : np.ndarray, optional
        Precomputed frames ``(frame_length, n_frames)``, used as given.
    frame_length, hop_length : int
        Frame size and step in samples for ``y`` (default 2048 and 512).
    center : bool
        Centre frame ``t`` on sample ``t * hop_length`` (default True).
    n_sub : int
        Sub-frames per frame (default 10); the last ``frame_length % n_sub`` samples are left out.

    Returns
    -------
    np.ndarray, float32, shape (n_frames,)
        Entropy in bits, 0..log2(n_sub).

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
    p = sub / np.where(total < EPS, 1.0, total)
    return (-(p * np.log2(p + EPS)).sum(axis=0)).astype(np.float32)


def trim_silence(y: np.ndarray, top_db: float, frame_length: int = 1024, hop_length: int = 256) -> np.ndarray:
    """``y`` without the leading and trailing frames quieter than ``top_db`` below its loudest frame.

    Corpus clips carry a second or more of silence around the speech; utterance-level statistics
    computed over it are diluted by it.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    top_db : float
        Frames more than this many dB below the loudest frame's RMS count as silence.
    frame_length, hop_length : int
        Frame size and step in samples of the RMS (default 1024 and 256).

    Returns
    -------
    np.ndarray, shape (m,), m <= n
        A slice of ``y``; ``y`` itself when it is shorter than ``frame_length`` or the trimmed part would be.

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
