"""Whisper's log-mel front end in numpy (no torch).

The computation matches openai-whisper's ``log_mel_spectrogram`` and Hugging Face's
``WhisperFeatureExtractor``: a 400-point STFT (25 ms) with a periodic Hann window and a 160-sample hop
(10 ms) at 16 kHz, ``center=True`` with reflect padding, power spectrum, the last STFT frame dropped,
80 Slaney-normalised mel filters on the Slaney mel scale (``librosa.filters.mel(sr=16000, n_fft=400,
n_mels=80)``), ``log10(max(x, 1e-10))``, a floor at ``max - 8`` and ``(x + 4) / 4``.

A clip of ``n`` samples gives ``n // 160`` frames. ``pad_to_30s=True`` first pads (with zeros) or trims
the clip to 480 000 samples, which gives the 3000 frames Whisper was trained on.

Examples
--------
>>> import numpy as np
>>> from emovox.encoders.mel import log_mel_spectrogram
>>> log_mel_spectrogram(np.zeros(16000, dtype=np.float32)).shape
(80, 100)
>>> log_mel_spectrogram(np.zeros(16000, dtype=np.float32), pad_to_30s=True).shape
(80, 3000)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_SECONDS = 30
N_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE  # 480 000 samples in a 30 s window
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames in a 30 s window


def _hz_to_mel_slaney(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as ``librosa.hz_to_mel(htk=False)``."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    log_region = f >= min_log_hz
    mels[log_region] = min_log_mel + np.log(f[log_region] / min_log_hz) / logstep
    return mels


def _mel_to_hz_slaney(m: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel_slaney`, as ``librosa.mel_to_hz(htk=False)``."""
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    freqs = f_sp * m
    log_region = m >= min_log_mel
    freqs[log_region] = min_log_hz * np.exp(logstep * (m[log_region] - min_log_mel))
    return freqs


@lru_cache(maxsize=8)
def mel_filters(n_mels: int = 80, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-normalised triangular mel filter bank, ``[n_mels, n_fft // 2 + 1]`` float32.

    Equivalent to ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)`` (fmin 0, fmax sr/2,
    Slaney scale and area normalisation), which is what Whisper ships as ``mel_filters.npz``. Cached; the
    returned array is read-only.

    Parameters
    ----------
    n_mels : int
        Number of mel bands (80 for Whisper up to large-v2, 128 for large-v3).
    sr : int
        Sample rate in Hz.
    n_fft : int
        FFT size.

    Returns
    -------
    np.ndarray
        Filter weights, shape ``[n_mels, n_fft // 2 + 1]``.
    """
    fftfreqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    mel_pts = _mel_to_hz_slaney(
        np.linspace(
            _hz_to_mel_slaney(np.array([0.0]))[0], _hz_to_mel_slaney(np.array([sr / 2.0]))[0], n_mels + 2
        )
    )
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2:] - mel_pts[:-2]))[:, None]  # Slaney norm: equal area per band
    out = weights.astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def _sparse_mel_filters(n_mels: int):
    from scipy.sparse import csr_array

    return csr_array(mel_filters(n_mels).astype(np.float64))


@lru_cache(maxsize=4)
def _hann_periodic(n: int) -> np.ndarray:
    # Periodic (DFT-even) Hann, as torch.hann_window(n) and librosa's get_window("hann", n).
    w = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float64)
    w.setflags(write=False)
    return w


def power_spectrogram(audio: np.ndarray, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Centred, reflect-padded STFT power, ``[n_fft // 2 + 1, len(audio) // hop_length]``, float64.

    The last STFT frame is dropped as in Whisper, so the frame count is ``len(audio) // hop_length``.
    """
    y = np.asarray(audio, dtype=np.float64)
    pad = n_fft // 2
    if len(y) <= pad:
        # np.pad's reflect mode needs more samples than the pad width; Whisper would fail here too.
        raise ValueError(f"audio too short for the log-mel front end: {len(y)} samples (need > {pad})")
    y = np.pad(y, pad, mode="reflect")
    n_frames = 1 + (len(y) - n_fft) // hop_length - 1  # drop the last frame (whisper: stft[..., :-1])
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length][:n_frames]
    # float64 FFT: the log floor sits 80 dB under the peak, where float32 rounding would show.
    spec = np.fft.rfft(frames * _hann_periodic(n_fft), axis=-1)
    return (spec.real**2 + spec.imag**2).T


def log_mel_spectrogram(audio: np.ndarray, n_mels: int = 80, *, pad_to_30s: bool = False) -> np.ndarray:
    """Whisper log-mel spectrogram of 16 kHz mono audio.

    Parameters
    ----------
    audio : np.ndarray
        1-D float waveform at 16 kHz (float32 or float64, roughly in [-1, 1]).
    n_mels : int
        Number of mel bins (80 for Whisper tiny..large-v2, 128 for large-v3).
    pad_to_30s : bool
        When True, zero-pad or trim the clip to 30 s (480 000 samples) first, giving 3000 frames,
        as openai-whisper and ``WhisperFeatureExtractor`` do. When False (default) the clip keeps its own
        length and gives ``len(audio) // 160`` frames.

    Returns
    -------
    np.ndarray
        float32 array ``[n_mels, frames]``, values roughly in [-1, 1.5].

    Raises
    ------
    ValueError
        If ``audio`` is not 1-D or has 200 samples or fewer.
    """
    y = np.asarray(audio)
    if y.ndim != 1:
        raise ValueError(f"expected 1-D mono audio, got shape {y.shape}")
    if pad_to_30s:
        y = y[:N_SAMPLES] if len(y) >= N_SAMPLES else np.pad(y, (0, N_SAMPLES - len(y)))
    # Sparse product (each filter spans a few bins): faster than dense, and it keeps numpy's BLAS thread
    # pool idle; BLAS threads left spinning after a dense matmul halve onnxruntime's speed on 2 cores.
    mel = _sparse_mel_filters(n_mels) @ power_spectrogram(y)
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32, copy=False)
