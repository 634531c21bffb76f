"""Hand-crafted speech features: librosa-style numpy functions and one processing interface.

Modules
-------
:mod:`~emovox.features.spectrum`
    Framing, windows, STFT, power spectrogram, mel scale and filterbanks, dB conversion.
:mod:`~emovox.features.spectral`
    MFCC, spectral shape (centroid, bandwidth, spread, rolloff, flatness, entropy, flux), contrast;
    re-exports the other frame-level modules' functions.
:mod:`~emovox.features.chroma`
    Tuning estimate, chroma filterbank and chromagram, tonnetz.
:mod:`~emovox.features.temporal`
    Time-domain frame features: ZCR, RMS, energy entropy; silence trimming.
:mod:`~emovox.features.pitch`
    F0 and voicing (vectorised YIN).
:mod:`~emovox.features.stats`
    Utterance-level functionals and deltas.
:mod:`~emovox.features.config`
    :class:`FeatureConfig`, presets, :func:`check_compatible`.
:mod:`~emovox.features.extract`
    :class:`FeatureExtractor` (signal, file, corpus with processes and a disk cache).

Examples
--------
>>> import numpy as np
>>> from emovox.features import FeatureExtractor, preset
>>> ex = FeatureExtractor(preset("tutorial"))
>>> ex.process_signal(np.zeros(16000, dtype=np.float32), 16000).shape
(180,)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names are imported on first use (PEP 562): the Whisper front end needs only `spectrum`, and importing
# every feature module (scipy.fft with it) would slow `emovox predict`'s start.
_WHERE = {
    "EXTRACTOR_VERSION": "extract",
    "ExtractionResult": "extract",
    "FeatureExtractor": "extract",
    "file_hash": "extract",
    "FAMILIES": "config",
    "OPENSMILE_SETS": "config",
    "PRESETS": "config",
    "FeatureConfig": "config",
    "check_compatible": "config",
    "preset": "config",
    "f0_to_semitones": "pitch",
    "yin": "pitch",
    "delta": "stats",
    "functionals": "stats",
    "chroma_stft": "chroma",
    "estimate_tuning": "chroma",
    "tonnetz": "chroma",
    "mel_filterbank": "spectrum",
    "melspectrogram": "spectrum",
    "power_to_db": "spectrum",
    "spectrogram": "spectrum",
    "stft": "spectrum",
    "mfcc": "spectral",
    "spectral_centroid": "spectral",
    "spectral_contrast": "spectral",
    "spectral_flatness": "spectral",
    "rms": "temporal",
    "zero_crossing_rate": "temporal",
}
_MODULES = ("pitch", "spectral", "stats")

__all__ = sorted([*_WHERE, *_MODULES, "extract_features"])

if TYPE_CHECKING:
    import numpy as np

    from .config import FeatureConfig


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


def extract_features(
    y: np.ndarray, sr: int = 16000, config: FeatureConfig | str | dict = "emovox"
) -> np.ndarray:
    """Shortcut: ``FeatureExtractor(config).process_signal(y, sr)``.

    Parameters
    ----------
    y : np.ndarray
        Mono samples (float in [-1, 1] or integer PCM).
    sr : int
        Sample rate of ``y`` in Hz (default 16000); resampled to the configuration's rate when different.
    config : FeatureConfig, str or dict
        Configuration or preset name (default "emovox").

    Returns
    -------
    np.ndarray, float32, shape (n_features,)
        One utterance-level feature vector.

    Examples
    --------
    >>> import numpy as np
    >>> extract_features(np.zeros(8000, dtype=np.float32), 16000, "tutorial").shape
    (180,)
    """
    from .extract import FeatureExtractor

    return FeatureExtractor(config).process_signal(y, sr)
