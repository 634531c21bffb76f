"""Whisper's log-mel front end in numpy (no torch).

The computation matches openai-whisper's ``log_mel_spectrogram`` and Hugging Face's
``WhisperFeatureExtractor``: a 400-point STFT (25 ms) with a periodic Hann window and a 160-sample hop
(10 ms) at 16 kHz, ``center=True`` with reflect padding, power spectrum, the last STFT frame dropped,
80 Slaney-normalised mel filters on the Slaney mel scale (``librosa.filters.mel(sr=16000, n_fft=400,
n_mels=80)``), ``log10(max(x, 1e-10))``, a floor at ``max - 8`` and ``(x + 4) / 4``.

The framing, window, STFT and filter bank are those of :mod:`emovox.features.spectrum`, in float64.

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

import numpy as np

from ..features.spectrum import frame, mel_filterbank, sparse_mel_filterbank, stft

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_SECONDS = 30
N_SAMPLES = CHUNK_SECONDS * SAMPLE_RATE  # 480 000 samples in a 30 s window
N_FRAMES = N_SAMPLES // HOP_LENGTH  # 3000 mel frames in a 30 s window


def mel_filters(n_mels: int = 80, sr: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Slaney-normalised triangular mel filter bank, ``[n_mels, n_fft // 2 + 1]`` float32.

    Equivalent to ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)`` (fmin 0, fmax sr/2,
    Slaney scale and area normalisation), which is what Whisper ships as ``mel_filters.npz``: it is
    :func:`emovox.features.spectrum.mel_filterbank` with its defaults. Cached; the returned array is
    read-only.

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

    Examples
    --------
    >>> mel_filters(80).shape
    (80, 201)
    """
    return mel_filterbank(sr, n_fft, n_mels)


def sparse_mel_filters(n_mels: int):
    """:func:`mel_filters` as a cached float64 ``csr_array``, for a float64 power spectrogram.

    Parameters
    ----------
    n_mels : int
        Mel bands (80 or 128 for Whisper).

    Returns
    -------
    scipy.sparse.csr_array
        Shape ``(n_mels, N_FFT // 2 + 1)``.

    Examples
    --------
    >>> sparse_mel_filters(80).shape
    (80, 201)
    """
    return sparse_mel_filterbank(SAMPLE_RATE, N_FFT, n_mels, dtype=np.float64)


def power_spectrogram(audio: np.ndarray, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH) -> np.ndarray:
    """Centred, reflect-padded STFT power, ``[n_fft // 2 + 1, len(audio) // hop_length]``, float64.

    The last STFT frame is dropped as in Whisper, so the frame count is ``len(audio) // hop_length``.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono samples, more than ``n_fft // 2``.
    n_fft : int
        FFT size (default :data:`N_FFT`, 400).
    hop_length : int
        Samples between frames (default :data:`HOP_LENGTH`, 160).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_fft // 2 + 1, len(audio) // hop_length)``.

    Raises
    ------
    ValueError
        When ``audio`` has ``n_fft // 2`` samples or fewer.

    Examples
    --------
    >>> power_spectrogram(np.ones(1600, dtype=np.float32)).shape
    (201, 10)
    """
    y = np.asarray(audio, dtype=np.float64)
    pad = n_fft // 2
    if len(y) <= pad:
        # np.pad's reflect mode needs more samples than the pad width; Whisper would fail here too.
        raise ValueError(f"audio too short for the log-mel front end: {len(y)} samples (need > {pad})")
    # float64 throughout: the log floor sits 80 dB under the peak, where float32 rounding would show.
    frames = frame(y, frame_length=n_fft, hop_length=hop_length, pad_mode="reflect", dtype=np.float64)
    spec = stft(None, n_fft=n_fft, frames=frames[:, :-1], dtype=np.float64)  # whisper: stft[..., :-1]
    # re**2 + im**2 rather than spectrogram()'s abs()**2: the two differ in the last bit, and the models
    # trained on this front end saw this one.
    return spec.real**2 + spec.imag**2


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
    mel = sparse_mel_filters(n_mels) @ power_spectrogram(y)
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32, copy=False)
