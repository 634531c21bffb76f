"""Label-preserving data augmentation in numpy, applied on the fly to training data only.

Waveform level: :func:`add_noise` (white, coloured or given noise at a chosen SNR), :func:`time_shift`,
:func:`speed_change` (duration and pitch change together, like tape speed), :func:`time_stretch` (duration
only, phase vocoder) and :func:`pitch_shift` (pitch only). Channel level, for microphones and rooms a
corpus never had: :func:`band_limit` (telephone band), :func:`random_eq` (microphone colouring),
:func:`reverb` (a synthetic room) and :func:`random_channel`, a random chain of them with noise and gain. :class:`WaveAugment` draws a random chain of
them per call. Feature level: :func:`spec_augment` (time and frequency masking of a ``(frames, bins)``
matrix) and :func:`mixup` (convex combinations of a batch and its soft labels).

None of this imports torch; every random choice comes from the ``numpy.random.Generator`` passed in.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
>>> noisy = add_noise(y, 10.0, rng=rng)
>>> round(snr_db(y, noisy - y))
10
>>> speed_change(y, 2.0, 16000).size
8000
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import FeatureError, ParameterError
from .extractors.files import RunnerFiles

if TYPE_CHECKING:
    pass

#: Spectral exponent of each named noise colour: power spectral density proportional to 1 / f**exponent.
NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0, "violet": -2.0}


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio in dB of ``signal`` over ``noise`` (mean powers).

    Parameters
    ----------
    signal, noise : np.ndarray
        Samples of each (any shapes); powers are floored at 1e-20.

    Returns
    -------
    float
        ``10 log10(P_signal / P_noise)`` in dB.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(snr_db(np.ones(100), 0.1 * np.ones(100))), 6)
    20.0
    """
    ps = float(np.mean(np.square(signal, dtype=np.float64)))
    pn = float(np.mean(np.square(noise, dtype=np.float64)))
    return 10.0 * np.log10(max(ps, 1e-20) / max(pn, 1e-20))


def coloured_noise(
    n: int, colour: str | float = "white", rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Unit-power noise of ``n`` samples whose power spectral density falls as ``1 / f**exponent``.

    Parameters
    ----------
    n : int
        Number of samples.
    colour : str or float
        ``white`` (0), ``pink`` (1), ``brown`` (2), ``blue`` (-1), ``violet`` (-2), or the exponent itself.
    rng : numpy.random.Generator or int, optional
        Source of randomness.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Zero-mean noise with a power (mean square) of 1.

    Examples
    --------
    >>> import numpy as np
    >>> z = coloured_noise(16000, "pink", rng=0)
    >>> z.shape, z.dtype, round(float(np.mean(z.astype(np.float64) ** 2)), 3)
    ((16000,), dtype('float32'), 1.0)
    """
    exponent = NOISE_COLOURS[colour] if isinstance(colour, str) else float(colour)
    g = _rng(rng)
    white = g.standard_normal(n)
    if exponent != 0.0 and n > 1:
        spec = np.fft.rfft(white)
        f = np.fft.rfftfreq(n)
        f[0] = f[1]  # no infinite gain at DC
        spec *= f ** (-exponent / 2.0)
        white = np.fft.irfft(spec, n)
    white -= white.mean()
    return (white / max(float(np.sqrt(np.mean(white**2))), 1e-12)).astype(np.float32)


def add_noise(
    y: np.ndarray,
    snr: float,
    *,
    colour: str | float = "white",
    rng: np.random.Generator | int | None = None,
    noise: np.ndarray | None = None,
    dtype: type = np.float64,
) -> np.ndarray:
    """``y`` plus noise scaled so that the signal-to-noise ratio is exactly ``snr`` dB.

    Parameters
    ----------
    y : np.ndarray
        Signal, taken as float32.
    snr : float
        Signal-to-noise ratio in dB.
    colour, rng
        The noise drawn when ``noise`` is not given: :func:`coloured_noise` (unit power).
    noise : np.ndarray, optional
        The noise to add instead (a recording, say), as long as ``y``; its power is measured.
    dtype : type
        Precision of the power and gain arithmetic: ``np.float64`` (default) or ``np.float32``.

    Returns
    -------
    np.ndarray, float32, shape of ``y``
        The noisy signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.ones(1000, dtype=np.float32)
    >>> round(float(snr_db(y, add_noise(y, 20.0, colour="pink", rng=1) - y)), 6)
    20.0
    >>> hum = np.sin(np.arange(1000) * 0.3).astype(np.float32)
    >>> round(float(snr_db(y, add_noise(y, 6.0, noise=hum) - y)), 4)
    6.0
    """
    y = np.asarray(y, dtype=np.float32)
    if noise is None:
        noise = coloured_noise(y.size, colour, rng)
        p_noise = 1.0
    else:
        noise = np.asarray(noise, dtype=np.float32)
        if noise.shape != y.shape:
            raise ValueError(f"noise of shape {noise.shape} for a signal of shape {y.shape}")
        p_noise = np.mean(np.square(noise, dtype=dtype)) if noise.size else 1.0
        if not p_noise > 0:  # silence cannot be scaled to any SNR
            raise ValueError("noise of zero power (all zeros) cannot be added at a signal-to-noise ratio")
    p_signal = np.mean(np.square(y, dtype=dtype))
    scale = np.sqrt(p_signal / (p_noise * 10.0 ** (snr / 10.0)))
    return (y + scale * noise).astype(np.float32)


def time_shift(y: np.ndarray, shift: int, *, mode: str = "zeros") -> np.ndarray:
    """Move the signal by ``shift`` samples (positive: later), zero-filling (``zeros``) or wrapping (``roll``).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    shift : int
        Samples to move by; positive later, negative earlier.
    mode : str
        "zeros" (default): fill the vacated samples with 0; "roll": wrap around.

    Returns
    -------
    np.ndarray, shape and type of ``y``
        The shifted signal.

    Examples
    --------
    >>> time_shift(np.arange(1, 5.0), 1).tolist()
    [0.0, 1.0, 2.0, 3.0]
    >>> time_shift(np.arange(1, 5.0), -1, mode="roll").tolist()
    [2.0, 3.0, 4.0, 1.0]
    >>> time_shift(np.arange(1, 5.0), -9).tolist()  # past either end: nothing is left
    [0.0, 0.0, 0.0, 0.0]
    """
    y = np.asarray(y)
    if mode == "roll":
        return np.roll(y, shift)
    out = np.zeros_like(y)
    if abs(shift) >= y.size:
        return out
    if shift >= 0:
        out[shift:] = y[: y.size - shift]
    else:
        out[: y.size + shift] = y[-shift:]
    return out


def speed_change(y: np.ndarray, factor: float, sr: int = 16000, *, whole_hz: bool = False) -> np.ndarray:
    """Play ``y`` ``factor`` times faster: duration divided by ``factor``, every frequency multiplied by it.

    The signal is resampled (soxr, "HQ") as if it had been recorded at ``sr * factor`` Hz. ``whole_hz``
    truncates that rate to whole Hz, so ``factor`` takes effect only to ``1 / sr`` (the encoder front
    end's ``speed:F`` augmentation has always done so, and the features it caches depend on it).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    factor : float
        Speed factor: 2 is twice as fast (half the length, an octave up).
    sr : int
        Sample rate in Hz (default 16000).
    whole_hz : bool
        Truncate ``sr * factor`` to whole Hz (default False).

    Returns
    -------
    np.ndarray, float32, shape (about n / factor,)
        The signal at the same rate ``sr``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(16000, dtype=np.float32)
    >>> speed_change(y, 1.25, 16000).size, speed_change(y, 1.23456, 16000, whole_hz=True).size
    (12800, 12961)
    """
    import soxr

    if factor == 1.0:
        return np.asarray(y, dtype=np.float32).copy()
    in_rate = int(sr * factor) if whole_hz else sr * factor
    return soxr.resample(np.asarray(y, dtype=np.float32), in_rate, sr, quality="HQ").astype(np.float32)


def band_limit(y: np.ndarray, sr: int = 16000, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """Keep ``low``-``high`` Hz (4th-order Butterworth band-pass), as a telephone line does.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    sr : int
        Sample rate in Hz (default 16000).
    low, high : float
        Pass band in Hz (default 300-3400); ``high`` is capped at ``0.45 * sr``.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The filtered signal (causal filter, so slightly delayed).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> bool(np.std(band_limit(np.sin(2 * np.pi * 100 * t))) < 0.05)   # 100 Hz is cut (from 0.71)
    True
    """
    from scipy.signal import butter, sosfilt

    sos = butter(4, [low, min(high, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    return sosfilt(sos, np.asarray(y, dtype=np.float64)).astype(np.float32)


def random_eq(
    y: np.ndarray, sr: int = 16000, rng: np.random.Generator | int | None = None, max_db: float = 9.0
) -> np.ndarray:
    """A microphone's colouring: a random spectral tilt and two random peaks or dips of up to ``max_db``.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    sr : int
        Sample rate in Hz (default 16000).
    rng : numpy.random.Generator, int or None
        Generator, or seed of a new one (default None: fresh entropy).
    max_db : float
        Largest gain of a peak or dip in dB; the tilt is at most ``max_db / 4`` dB per octave around 1 kHz
        (default 9).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The equalised signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> z = random_eq(y, 16000, rng=0)
    >>> z.shape, z.dtype
    ((16000,), dtype('float32'))
    >>> np.array_equal(z, random_eq(y, 16000, rng=0))  # the same seed, the same microphone
    True
    """
    g = _rng(rng)
    spec = np.fft.rfft(np.asarray(y, dtype=np.float64))
    f = np.fft.rfftfreq(len(y), 1.0 / sr)
    octaves = np.log2(np.maximum(f, 50.0) / 1000.0)
    gain_db = g.uniform(-max_db, max_db) / 4.0 * octaves  # tilt in dB per octave around 1 kHz
    for _ in range(2):
        centre = np.log2(g.uniform(150.0, 0.4 * sr) / 1000.0)
        gain_db += g.uniform(-max_db, max_db) * np.exp(-0.5 * ((octaves - centre) / g.uniform(0.3, 1.0)) ** 2)
    out = np.fft.irfft(spec * 10.0 ** (gain_db / 20.0), len(y))
    return out.astype(np.float32)


def reverb(
    y: np.ndarray,
    sr: int = 16000,
    rt60: float = 0.4,
    rng: np.random.Generator | int | None = None,
    wet: float = 0.5,
) -> np.ndarray:
    """A synthetic room: ``y`` convolved with exponentially decaying noise (reverberation time ``rt60`` s),
    mixed ``wet`` with the direct sound, at the input's RMS level.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal.
    sr : int
        Sample rate in Hz (default 16000).
    rt60 : float
        Reverberation time in seconds: the impulse response decays by 60 dB over it (default 0.4).
    rng : numpy.random.Generator, int or None
        Generator, or seed of a new one (default None: fresh entropy).
    wet : float
        Share of the reverberant sound in the mix, 0..1 (default 0.5).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The reverberant signal (the tail past ``n`` is cut), at the RMS of ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> z = reverb(y, 16000, rt60=0.3, rng=0)
    >>> z.shape, bool(np.isclose(np.std(z), np.std(y), rtol=1e-3))
    ((16000,), True)
    """
    from scipy.signal import fftconvolve

    g = _rng(rng)
    n = max(1, int(rt60 * sr))
    ir = g.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at rt60
    ir /= np.sqrt(np.sum(ir**2))
    y = np.asarray(y, dtype=np.float64)
    out = (1 - wet) * y + wet * fftconvolve(y, ir)[: len(y)]
    return (out * np.sqrt(np.mean(y**2) / max(np.mean(out**2), 1e-20))).astype(np.float32)


#: Codecs of :func:`codec_roundtrip`: libsndfile's format and subtype, and the compression levels it takes.
CODECS = {"mp3": ("MP3", "MPEG_LAYER_III", 0.95), "opus": ("OGG", "OPUS", 1.0)}


def codec_roundtrip(y: np.ndarray, sr: int = 16000, codec: str = "mp3", level: float = 0.8) -> np.ndarray:
    """``y`` encoded with a lossy codec and decoded again, as an upload or a voice message would be.

    ``codec`` is ``mp3`` (constant-bitrate LAME; ``level`` 0-0.95: at 16 kHz about 170 kbit/s at 0, 85 at
    0.5, 25 at 0.9) or ``opus`` (Ogg Opus; ``level`` 0-1, about 12 kbit/s at 1). Both come with
    libsndfile >= 1.1. The length is kept (cut or zero-padded at the end).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    codec : str
        "mp3" (default) or "opus".
    level : float
        Compression level: 0-0.95 for mp3, 0-1 for opus (default 0.8); higher is a lower bit rate.

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The decoded signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> z = codec_roundtrip(y, 16000, "mp3", 0.9)
    >>> z.shape == y.shape and z.dtype == np.float32
    True
    """
    import io

    import soundfile as sf

    if codec not in CODECS:
        raise ParameterError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    fmt, subtype, top = CODECS[codec]
    if not 0.0 <= level <= top:
        raise ParameterError(f"{codec} level must be within 0-{top}, got {level}")
    y = np.asarray(y, dtype=np.float32)
    extra = {"bitrate_mode": "CONSTANT"} if codec == "mp3" else {}
    buf = io.BytesIO()
    try:
        sf.write(buf, y, sr, format=fmt, subtype=subtype, compression_level=level, **extra)
    except (sf.LibsndfileError, ValueError, TypeError) as e:  # an old libsndfile without the codec
        raise ParameterError(f"{codec} encoding needs libsndfile >= 1.1 with {codec} support: {e}") from None
    buf.seek(0)
    z = sf.read(buf, dtype="float32")[0]
    return _fix_length(z, len(y))


def random_channel(
    y: np.ndarray, sr: int = 16000, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """``y`` as another microphone, room and line might have recorded it: a random EQ, then each with
    probability 1/2 a room (RT60 0.2-0.8 s) and a telephone band, noise of a random colour at 10-30 dB SNR,
    and a gain of -20 to +6 dB (peaks kept below full scale).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    rng : numpy.random.Generator, int or None
        Generator, or seed of a new one (default None: fresh entropy).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The signal through the drawn channel, peaks at most 0.99 when they would exceed it.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
    >>> out = random_channel(y, 16000, rng=0)
    >>> out.shape == y.shape and out.dtype == np.float32 and bool(np.abs(out).max() <= 1.0)
    True
    """
    g = _rng(rng)
    y = random_eq(y, sr, g)
    if g.random() < 0.5:
        y = reverb(y, sr, g.uniform(0.2, 0.8), g, wet=g.uniform(0.2, 0.7))
    if g.random() < 0.5:
        y = band_limit(y, sr)
    y = add_noise(y, g.uniform(10.0, 30.0), colour=str(g.choice(["white", "pink", "brown"])), rng=g)
    y = y * 10.0 ** (g.uniform(-20.0, 6.0) / 20.0)
    peak = float(np.abs(y).max()) if y.size else 0.0
    return (y / peak * 0.99 if peak > 0.99 else y).astype(np.float32)


def time_stretch(y: np.ndarray, rate: float, *, n_fft: int = 512, hop_length: int = 128) -> np.ndarray:
    """Phase-vocoder time stretch: ``rate`` > 1 is faster (length ``len(y) / rate``), pitch unchanged.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    rate : float
        Speed factor: 2 is twice as fast (half the length).
    n_fft, hop_length : int
        FFT size and step in samples of the phase vocoder (default 512 and 128).

    Returns
    -------
    np.ndarray, float32, shape (round(n / rate),)
        The stretched signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> z = time_stretch(y, 1.25)
    >>> z.size, round(float(np.argmax(np.abs(np.fft.rfft(z)))) * 16000 / z.size)  # shorter, same pitch
    (12800, 440)
    """
    from .features.spectral import stft, window_function

    y = np.asarray(y, dtype=np.float32)
    if rate == 1.0:
        return y.copy()
    D = stft(y, n_fft=n_fft, hop_length=hop_length)  # (bins, frames), centred
    steps = np.arange(0, D.shape[1], rate)
    padded = np.pad(D, ((0, 0), (0, 2)))
    omega = 2 * np.pi * hop_length * np.arange(D.shape[0]) / n_fft  # expected phase advance per hop
    phase = np.angle(D[:, 0])
    out = np.empty((D.shape[0], steps.size), dtype=np.complex64)
    for t, step in enumerate(steps):
        i = int(step)
        frac = step - i
        c0, c1 = padded[:, i], padded[:, i + 1]
        mag = (1 - frac) * np.abs(c0) + frac * np.abs(c1)
        out[:, t] = mag * np.exp(1j * phase)
        dphi = np.angle(c1) - np.angle(c0) - omega
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        phase = phase + omega + dphi
    # inverse STFT by weighted overlap-add
    win = window_function("hann", n_fft)
    frames = np.fft.irfft(out, n=n_fft, axis=0) * win[:, None]
    n_out = n_fft + hop_length * (steps.size - 1)
    signal = np.zeros(n_out, dtype=np.float64)
    norm = np.zeros(n_out, dtype=np.float64)
    for t in range(steps.size):
        s = t * hop_length
        signal[s : s + n_fft] += frames[:, t]
        norm[s : s + n_fft] += win**2
    signal /= np.where(norm > 1e-8, norm, 1.0)
    signal = signal[n_fft // 2 :]
    length = int(round(y.size / rate))
    return _fix_length(signal.astype(np.float32), length)


def _fix_length(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if y.size >= n else np.pad(y, (0, n - y.size))


def pitch_shift(
    y: np.ndarray, sr: int, n_steps: float, *, n_fft: int = 512, hop_length: int = 128
) -> np.ndarray:
    """Shift the pitch by ``n_steps`` semitones (frequencies times ``2 ** (n_steps / 12)``), same duration.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz.
    n_steps : float
        Shift in semitones (12: an octave up; negative: down).
    n_fft, hop_length : int
        FFT size and step in samples of the phase vocoder (default 512 and 128).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The shifted signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    >>> z = pitch_shift(y, 16000, 12)
    >>> z.size, round(float(np.argmax(np.abs(np.fft.rfft(z)))) * 16000 / z.size)
    (16000, 880)
    """
    ratio = 2.0 ** (n_steps / 12.0)
    if n_steps == 0:
        return np.asarray(y, dtype=np.float32).copy()
    stretched = time_stretch(y, 1.0 / ratio, n_fft=n_fft, hop_length=hop_length)
    return _fix_length(speed_change(stretched, ratio, sr), np.asarray(y).size)


def mask_bands(
    S: np.ndarray,
    freq_bands: list[tuple[int, int]] = (),
    time_bands: list[tuple[int, int]] = (),
    fill: float | str = 0.0,
) -> np.ndarray:
    """Copy of ``S`` ``(frames, bins)`` with the given ``[start, stop)`` bin and frame ranges set to ``fill``.

    ``fill`` is a number or ``"mean"`` (the matrix's mean).

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
        Feature matrix, frames on the first axis.
    freq_bands : list of (int, int)
        ``[start, stop)`` column (bin) ranges to mask (default none).
    time_bands : list of (int, int)
        ``[start, stop)`` row (frame) ranges to mask (default none).
    fill : float or str
        Value of the masked cells, or "mean" (default 0.0).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, n_bins)
        The masked copy.

    Examples
    --------
    >>> import numpy as np
    >>> mask_bands(np.ones((3, 4)), [(1, 2)], [(0, 1)]).tolist()
    [[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0]]
    """
    out = np.array(S, dtype=np.float32, copy=True)
    value = float(out.mean()) if fill == "mean" else float(fill)
    for a, b in freq_bands:
        out[:, a:b] = value
    for a, b in time_bands:
        out[a:b, :] = value
    return out


def spec_augment(
    S: np.ndarray,
    rng: np.random.Generator | int | None = None,
    *,
    n_freq_masks: int = 2,
    max_freq_width: int = 8,
    n_time_masks: int = 2,
    max_time_width: int = 20,
    max_time_fraction: float = 0.2,
    fill: float | str = 0.0,
    return_bands: bool = False,
):
    """SpecAugment (Park et al. 2019) without warping: random frequency and time masks on ``(frames, bins)``.

    Each mask's width is drawn uniformly from ``[0, max_width]`` (time widths also at most
    ``max_time_fraction`` of the frames); ``return_bands`` also returns the ``(freq_bands, time_bands)`` used.

    Parameters
    ----------
    S : np.ndarray, shape (n_frames, n_bins)
        Feature matrix, frames on the first axis.
    rng : numpy.random.Generator, int or None
        Generator, or seed of a new one (default None: fresh entropy).
    n_freq_masks, n_time_masks : int
        Number of frequency and time masks (default 2 each).
    max_freq_width, max_time_width : int
        Largest mask width in bins and in frames (default 8 and 20).
    max_time_fraction : float
        Largest time mask width as a fraction of the frames (default 0.2).
    fill : float or str
        Value of the masked cells, or "mean" (default 0.0).
    return_bands : bool
        Also return the masked ranges (default False).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, n_bins)
        The masked copy; with ``return_bands``, ``(masked, (freq_bands, time_bands))``, lists of
        ``(start, stop)``.

    Examples
    --------
    >>> import numpy as np
    >>> S, (fb, tb) = spec_augment(np.ones((100, 40)), 0, n_freq_masks=1, n_time_masks=0, return_bands=True)
    >>> int((S[0] == 0).sum()) == fb[0][1] - fb[0][0]
    True
    """
    g = _rng(rng)
    T, F = S.shape
    freq_bands, time_bands = [], []
    for _ in range(n_freq_masks):
        w = int(g.integers(0, min(max_freq_width, F) + 1))
        a = int(g.integers(0, F - w + 1))
        freq_bands.append((a, a + w))
    t_max = min(max_time_width, int(max_time_fraction * T))
    for _ in range(n_time_masks):
        w = int(g.integers(0, max(t_max, 0) + 1))
        a = int(g.integers(0, T - w + 1))
        time_bands.append((a, a + w))
    out = mask_bands(S, freq_bands, time_bands, fill)
    return (out, (freq_bands, time_bands)) if return_bands else out


def mixup(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = 0.2,
    rng: np.random.Generator | int | None = None,
    lam: float | None = None,
):
    """Mixup (Zhang et al. 2018) of a batch with a permutation of itself.

    Parameters
    ----------
    x : np.ndarray
        Batch of inputs, first axis the batch.
    y : np.ndarray
        One-hot or soft labels ``(batch, n_classes)``.
    alpha : float
        ``lam ~ Beta(alpha, alpha)`` unless ``lam`` is given.
    rng : numpy.random.Generator, int or None
        Generator (or seed for a new one) drawing ``lam`` and the permutation.
    lam : float, optional
        Fixed mixing weight; ``None`` (default) draws it from the Beta distribution.

    Returns
    -------
    (x_mixed, y_mixed, lam, perm)
        ``x_mixed = lam * x + (1 - lam) * x[perm]`` and the same for the labels.
    """
    g = _rng(rng)
    lam = float(g.beta(alpha, alpha)) if lam is None else float(lam)
    perm = g.permutation(len(x))
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], lam, perm


@dataclass
class WaveAugment:
    """A random chain of waveform augmentations, each applied with its own probability.

    Ranges are uniform; ``pitch`` is in semitones, ``speed`` and ``stretch`` are factors, ``shift`` is a
    fraction of the signal's length (either direction), ``snr`` in dB. The defaults follow the classic
    tutorials (noise, stretch, shift, pitch) with milder ranges than theirs.
    """

    p_noise: float = 0.5
    snr: tuple[float, float] = (10.0, 30.0)
    colours: tuple[str, ...] = ("white", "pink", "brown")
    p_shift: float = 0.3
    shift: float = 0.1
    p_speed: float = 0.3
    speed: tuple[float, float] = (0.9, 1.1)
    p_stretch: float = 0.0
    stretch: tuple[float, float] = (0.8, 1.25)
    p_pitch: float = 0.3
    pitch: tuple[float, float] = (-2.0, 2.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WaveAugment:
        """The augmentation that :meth:`to_dict` describes (lists, as JSON gives them, become tuples).

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` gives it (or as read back from JSON); keys that are not fields are ignored.

        Returns
        -------
        WaveAugment

        Examples
        --------
        >>> WaveAugment.from_dict(WaveAugment(snr=(5.0, 20.0)).to_dict()) == WaveAugment(snr=(5.0, 20.0))
        True
        """
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})

    def __call__(self, y: np.ndarray, sr: int, rng: np.random.Generator | int | None = None, label=None):
        """Return ``(augmented signal, label)``: the label is passed through unchanged."""
        g = _rng(rng)
        y = np.asarray(y, dtype=np.float32)
        if g.random() < self.p_stretch:
            y = time_stretch(y, float(g.uniform(*self.stretch)))
        if g.random() < self.p_pitch:
            y = pitch_shift(y, sr, float(g.uniform(*self.pitch)))
        if g.random() < self.p_speed:
            y = speed_change(y, float(g.uniform(*self.speed)), sr)
        if g.random() < self.p_shift:
            limit = int(self.shift * y.size)
            y = time_shift(y, int(g.integers(-limit, limit + 1)))
        if g.random() < self.p_noise:
            y = add_noise(y, float(g.uniform(*self.snr)), colour=str(g.choice(self.colours)), rng=g)
        return y, label


#: The classic 1-D CNN tutorial's augmentations: noise, stretch + pitch (its two extra copies), and shift.
TUTORIAL_AUGMENT = WaveAugment(
    p_noise=0.5,
    snr=(15.0, 25.0),
    colours=("white",),
    p_shift=0.5,
    shift=0.1,
    p_speed=0.0,
    p_stretch=0.5,
    stretch=(0.8, 0.8),
    p_pitch=0.5,
    pitch=(0.7, 0.7),
)

__all__ = [
    "NOISE_COLOURS",
    "TUTORIAL_AUGMENT",
    "AugmentedView",
    "WaveAugment",
    "add_noise",
    "band_limit",
    "codec_roundtrip",
    "coloured_noise",
    "mask_bands",
    "mixup",
    "pitch_shift",
    "random_channel",
    "random_eq",
    "reverb",
    "snr_db",
    "spec_augment",
    "speed_change",
    "time_shift",
    "time_stretch",
]


class AugmentedView(RunnerFiles):
    """What every training-only augmented view of an extractor shares (subclasses:
    :class:`emovox.encoders.frontend.AugmentedExtractor`, :class:`emovox.deep.frames.AugmentedFrames`).

    A file is decoded whole at :attr:`sample_rate`, and :meth:`augmented` turns it into the vector of its
    augmented variant, with a random seed that :meth:`file_seed` derives from the file's content hash
    (:func:`emovox.extractors.runner.file_hash`, the hash that keys the cache), so a copied or moved file gets the
    same variant and a cache entry always holds what recomputing it gives. :meth:`process_files` runs
    through :func:`emovox.extractors.runner.process_files` like any extractor's. Subclasses give ``sample_rate``, ``to_dict``, ``from_dict``, ``fingerprint``, :meth:`augmented`,
    :meth:`file_seed` and ``desc`` (the progress bar's name).
    """

    sample_rate: int
    desc = "augmented"

    def augmented(self, y: np.ndarray, seed: int) -> np.ndarray:
        """The vector of ``y`` (at :attr:`sample_rate`) augmented with random seed ``seed``.

        Parameters
        ----------
        y : numpy.ndarray
            Mono samples at :attr:`sample_rate`.
        seed : int
            Random seed of the augmentation.

        Returns
        -------
        numpy.ndarray
            The vector of the augmented signal.
        """
        raise NotImplementedError

    def file_seed(self, content_hash: str) -> int:
        """The augmentation's random seed for a file with this content hash.

        Parameters
        ----------
        content_hash : str
            The file's content hash (:func:`emovox.extractors.runner.file_hash`).

        Returns
        -------
        int
        """
        raise NotImplementedError

    def process_signal(self, y: np.ndarray, sr: int | None = None, *, seed: int = 0) -> np.ndarray:
        """:meth:`augmented` of ``y``, resampled to :attr:`sample_rate` first when ``sr`` differs.

        Parameters
        ----------
        y : numpy.ndarray
            Mono samples.
        sr : int, optional
            Rate of ``y``; None (default): :attr:`sample_rate`.
        seed : int
            Random seed of the augmentation (default 0).

        Returns
        -------
        numpy.ndarray
            The vector of the augmented signal.
        """
        from .audio import signal_at

        y = signal_at(y, sr, self.sample_rate)
        if not y.size:  # refused as the plain extractors refuse it, before the augmentation warns of it
            raise FeatureError("cannot compute features of an empty signal")
        return self.augmented(y, seed)

    __call__ = process_signal

    def process_file(self, path: str | os.PathLike) -> np.ndarray:
        """The vector of the file's augmented variant (decoded whole; seed: :meth:`file_seed`).

        Parameters
        ----------
        path : str or path
            The audio file.

        Returns
        -------
        numpy.ndarray
            The vector of its augmented variant.
        """
        from .audio import load_audio
        from .extractors.runner import file_hash

        return self.process_signal(load_audio(path, self.sample_rate), seed=self.file_seed(file_hash(path)))

    def process_stream(self, chunks: Callable[[], Iterator[np.ndarray]], *, seed: int = 0) -> np.ndarray:
        """:meth:`process_signal` of the whole stream (augmentations need the whole signal).

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono chunks at :attr:`sample_rate`.
        seed : int
            Random seed of the augmentation (default 0).

        Returns
        -------
        numpy.ndarray
            The vector of the augmented signal.
        """
        return self.process_signal(np.concatenate([np.asarray(c, np.float32) for c in chunks()]), seed=seed)
