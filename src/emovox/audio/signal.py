"""Signal conditioning: downmixing to mono and resampling with ``soxr``. Pure array-in, array-out helpers,
with no file or decoder in sight, shared by the decoders (:mod:`emovox.audio.decode`), the stream
(:mod:`emovox.audio.stream`) and callers that hold samples already."""

from __future__ import annotations

import logging

import numpy as np

from ..errors import AudioError

log = logging.getLogger(__name__)

#: Float samples peaking above this are on another scale (int16 values stored as floats peak near 32767):
#: they are brought to a peak of 1. An encoder fed them heard an angry sentence as "disgust" at 0.997.
#: Overs up to it (a lossy decoder's, a mix's) are left as they are. A float file read as a stream is
#: scaled by its whole peak, read ahead (:func:`emovox.audio.stream_audio`); chunks given one by one are not.
FULL_SCALE_LIMIT = 2.0

#: Columns of a 2-D array read as channels (frames x channels), however few the frames.
MAX_CHANNELS = 8
#: Lower rates are refused as not speech audio (and as a resampling bomb: 1 Hz read as 16 kHz is x16000).
MIN_SAMPLE_RATE = 4000
#: Higher rates are refused as not audio emovox can mean.
MAX_SAMPLE_RATE = 768_000


def check_rate(rate: object, name: str = "<array>", what: str = "sample rate") -> int:
    """``rate`` as an int: a whole number of Hz from :data:`MIN_SAMPLE_RATE` to :data:`MAX_SAMPLE_RATE`,
    else :class:`emovox.errors.AudioError` naming ``name`` and ``what`` (the parameter).

    Parameters
    ----------
    rate : object
        The rate to check, in Hz (int or float).
    name : str
        What the samples are, for the error message (default "<array>").
    what : str
        The parameter's name, for the error message (default "sample rate").

    Returns
    -------
    int
        The rate in Hz.

    Examples
    --------
    >>> check_rate(16000.0)
    16000
    """
    whole = isinstance(rate, int | np.integer | float | np.floating) and not isinstance(rate, bool)
    if not whole or not float(rate).is_integer():
        raise AudioError(f"{name}: {what} must be a whole number of Hz, got {rate!r}")
    if not MIN_SAMPLE_RATE <= int(rate) <= MAX_SAMPLE_RATE:
        raise AudioError(f"{name}: {what} must be {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz, got {int(rate)}")
    return int(rate)


def signal_at(y: np.ndarray, sr: object, target: int, name: str = "<array>") -> np.ndarray:
    """:func:`float_mono` of ``y`` resampled from ``sr`` (checked: :func:`check_rate`; None: already at
    ``target``) to ``target`` Hz: how every extractor and model takes an array.

    Parameters
    ----------
    y : np.ndarray
        Samples, as :func:`float_mono` takes them.
    sr : int or None
        Rate of ``y`` in Hz; None: already at ``target``.
    target : int
        Rate wanted, in Hz.
    name : str
        What the samples are, for error messages (default "<array>").

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Mono samples at ``target`` Hz.

    Examples
    --------
    >>> import numpy as np
    >>> signal_at(np.zeros((8000, 2), np.int16), 8000, 16000).shape   # stereo 8 kHz int16
    (16000,)
    """
    y = float_mono(y, name)
    return y if sr is None else resample(y, check_rate(sr, name), target)


def float_mono(y: np.ndarray, name: str = "<array>", full_scale: bool = True) -> np.ndarray:
    """Samples as a model reads them: mono float32 in [-1, 1].

    ``y`` is shaped ``(n,)``, ``(n, channels)`` or ``(channels, n)``: up to 8 columns are channels
    (as soundfile reads a file, however few its frames), else the shorter axis is; channels are mixed by :func:`to_mono`.
    Integer samples are scaled to [-1, 1) (unsigned ones are offset binary, their
    midpoint silence), as a WAV reader scales them; floats on another scale are brought to a peak of 1
    (:func:`within_full_scale`) unless ``full_scale`` is false (one chunk of many, whose scale its peak
    cannot tell). NaN or Inf raises :class:`emovox.errors.AudioError` naming ``name``, as does any other
    shape.

    Parameters
    ----------
    y : np.ndarray
        Samples, shape ``(n,)``, ``(n, channels)`` or ``(channels, n)``; float or integer PCM.
    name : str
        What the samples are, for error messages (default "<array>").
    full_scale : bool
        Bring floats peaking above :data:`FULL_SCALE_LIMIT` to a peak of 1 (default True).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Mono samples.

    Examples
    --------
    >>> import numpy as np
    >>> float_mono(np.array([[16384, -16384], [16384, 16384], [0, 0]], dtype=np.int16))  # 3 frames, 2 channels
    array([0. , 0.5, 0. ], dtype=float32)
    >>> float_mono(np.zeros((2, 16000))).shape  # 2 channels of a second: the shorter axis
    (16000,)
    >>> float_mono(np.array([0, 32767], dtype=np.int16)).round(3)
    array([0., 1.], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim == 2:
        y = y if y.shape[1] <= MAX_CHANNELS or y.shape[0] >= y.shape[1] else y.T
    elif y.ndim != 1:
        raise AudioError(f"{name}: expected a 1-D or 2-D array of samples, got shape {y.shape}")
    if np.issubdtype(y.dtype, np.unsignedinteger):  # offset binary: the midpoint is silence
        half = float(2 ** (8 * y.dtype.itemsize - 1))
        y = (y.astype(np.float64) - half) / half
    elif np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.float32) / float(2 ** (8 * y.dtype.itemsize - 1))
    elif not np.issubdtype(y.dtype, np.floating):
        raise AudioError(f"{name}: expected samples as numbers, got an array of {y.dtype}")
    if y.size == 0:
        return np.zeros(0, np.float32)
    y = to_mono(np.asarray(y, dtype=np.float32))
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: contains non-finite samples (NaN or Inf)")
    return within_full_scale(y, name) if full_scale else y


def within_full_scale(y: np.ndarray, name: str | None = "<array>") -> np.ndarray:
    """``y`` scaled to a peak of 1 when its peak exceeds :data:`FULL_SCALE_LIMIT` (logged, naming ``name``;
    None: not logged), else itself.

    Parameters
    ----------
    y : np.ndarray
        Float samples.
    name : str or None
        What the samples are, for the log message (default "<array>").

    Returns
    -------
    np.ndarray, shape of ``y``
        ``y`` itself, or ``y / peak`` as float32.

    Examples
    --------
    >>> within_full_scale(np.array([0.5, -1.5], np.float32)).tolist()
    [0.5, -1.5]
    >>> within_full_scale(np.array([16384.0, -32767.0], np.float32)).round(2).tolist()
    [0.5, -1.0]
    """
    gain = full_scale_gain(float(np.max(np.abs(y))) if y.size else 0.0, name)
    return y if gain == 1.0 else (y * np.float32(gain)).astype(np.float32, copy=False)


def full_scale_gain(peak: float, name: str | None = None) -> float:
    """The gain :func:`within_full_scale` applies to a signal peaking at ``peak``: ``1 / peak`` beyond
    :data:`FULL_SCALE_LIMIT` (logged when ``name`` is given: a stream, read several times, is not), else 1.

    Parameters
    ----------
    peak : float
        Largest absolute sample value.
    name : str or None
        What the samples are, for the log message (default None: no message).

    Returns
    -------
    float
        The gain, 1.0 or ``1 / peak``.

    Examples
    --------
    >>> full_scale_gain(1.5), full_scale_gain(4.0)
    (1.0, 0.25)
    """
    if peak <= FULL_SCALE_LIMIT:
        return 1.0
    if name is not None:
        log.info("%s: samples peak at %.4g, far outside [-1, 1]: scaled to a peak of 1", name, peak)
    return 1.0 / peak


def without_dc_offset(y: np.ndarray) -> np.ndarray:
    """``y`` less its mean: a DC offset is no sound, but it fills the lowest band of a spectrum and the
    level of every pause (an offset of 0.005 turned a neutral EMO-DB sentence sad).

    Parameters
    ----------
    y : numpy.ndarray
        Float samples (the mean is taken over all of them, in float64).

    Returns
    -------
    numpy.ndarray
        A new array of ``y``'s shape; ``y`` itself when empty.

    Examples
    --------
    >>> np.allclose(without_dc_offset(np.array([0.3, 0.1], np.float32)), [0.1, -0.1])
    True
    """
    return y - np.float32(np.mean(y, dtype=np.float64)) if len(y) else y


#: A mix of two channels with less than this share of their mean energy means they cancel (one is wired in
#: reverse phase): independent channels keep half, correlated ones more. Of N channels, independent ones
#: keep 1/N: the bar is scaled by 2/N.
CANCELLING_MIX = 0.25


def to_mono(y: np.ndarray) -> np.ndarray:
    """Downmix (frames, channels) to mono by averaging channels, or take the loudest channel where the
    average cancels (:data:`CANCELLING_MIX`): a stereo file with one channel's phase inverted mixes to silence.

    Parameters
    ----------
    y : numpy.ndarray
        Samples, shape ``(frames,)`` (returned as it is) or ``(frames, channels)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(frames,)``; the mix keeps a float ``y``'s dtype (an integer ``y`` mixes to float64).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.sin(np.arange(4) + 1.0).astype(np.float32)
    >>> np.allclose(to_mono(np.stack([s, 0.5 * s], axis=1)), 0.75 * s)
    True
    >>> np.allclose(to_mono(np.stack([s, -0.9 * s], axis=1)), s)  # reverse phase: the louder channel
    True
    """
    if y.ndim != 2:
        return y
    if y.shape[1] == 1:
        return y[:, 0]
    mix = y.mean(axis=1, dtype=np.float64)  # float32 sums of samples near its largest value overflowed
    energy = np.einsum("ij,ij->j", y, y, dtype=np.float64)
    if float(np.dot(mix, mix)) < CANCELLING_MIX * 2 / y.shape[1] * float(energy.mean()):
        return y[:, int(np.argmax(energy))]
    return mix.astype(y.dtype) if y.dtype.kind == "f" else mix


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float signal with soxr (high quality); a no-op when the rates match.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono float samples.
    orig_sr : int
        Rate of ``y`` in Hz.
    target_sr : int
        Rate wanted, in Hz.

    Returns
    -------
    np.ndarray, float32, shape (about n * target_sr / orig_sr,)
        The resampled signal (``y`` itself as float32 when the rates match).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> z = resample(y, 16000, 8000)
    >>> z.shape, int(np.argmax(np.abs(np.fft.rfft(z))))   # 1 Hz bins: still 440 Hz
    ((8000,), 440)
    """
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(y.astype(np.float32, copy=False), orig_sr, target_sr, quality="HQ").astype(
        np.float32
    )
