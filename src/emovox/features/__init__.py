"""Hand-crafted speech features: librosa-style numpy functions and one processing interface.

Modules
-------
:mod:`~emovox.features.spectral`
    STFT, mel, MFCC, chroma, contrast, tonnetz, spectral shape, ZCR, RMS, energy entropy.
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

from . import pitch, spectral, stats
from .config import FAMILIES, OPENSMILE_SETS, PRESETS, FeatureConfig, check_compatible, preset
from .extract import EXTRACTOR_VERSION, ExtractionResult, FeatureExtractor, file_hash
from .pitch import f0_to_semitones, yin
from .spectral import (
    chroma_stft,
    estimate_tuning,
    mel_filterbank,
    melspectrogram,
    mfcc,
    power_to_db,
    rms,
    spectral_centroid,
    spectral_contrast,
    spectral_flatness,
    spectrogram,
    stft,
    tonnetz,
    zero_crossing_rate,
)
from .stats import delta, functionals

__all__ = [
    "EXTRACTOR_VERSION",
    "FAMILIES",
    "OPENSMILE_SETS",
    "PRESETS",
    "ExtractionResult",
    "FeatureConfig",
    "FeatureExtractor",
    "check_compatible",
    "chroma_stft",
    "delta",
    "estimate_tuning",
    "extract_features",
    "f0_to_semitones",
    "file_hash",
    "functionals",
    "mel_filterbank",
    "melspectrogram",
    "mfcc",
    "pitch",
    "power_to_db",
    "preset",
    "rms",
    "spectral",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_flatness",
    "spectrogram",
    "stats",
    "stft",
    "tonnetz",
    "yin",
    "zero_crossing_rate",
]


def extract_features(y, sr: int = 16000, config: FeatureConfig | str = "emovox"):
    """Shortcut: ``FeatureExtractor(config).process_signal(y, sr)``.

    Examples
    --------
    >>> import numpy as np
    >>> extract_features(np.zeros(8000, dtype=np.float32), 16000, "tutorial").shape
    (180,)
    """
    return FeatureExtractor(config).process_signal(y, sr)
