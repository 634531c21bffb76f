"""Figures emovox saves: one implementation per picture, shared by the CLI, the API and the notebooks.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so it is headless and
needs no display or GUI backend); :func:`save` writes a figure to PNG and closes it.

Audio pictures (:mod:`emovox.plots.audio`) take a file path or a mono array (with its rate ``sr``) and
use emovox's own numpy features (:mod:`emovox.features`), never librosa:

=====================  ============================================================================
:func:`waveform`       amplitude over time
:func:`spectrogram`    linear-frequency power spectrogram in dB
:func:`mel_spectrogram`  mel power spectrogram in dB, frequency axis labelled in Hz on the mel scale
:func:`mfcc`           MFCC matrix
:func:`chromagram`     energy per pitch class (C ... B)
:func:`pitch_contour`  YIN F0 drawn over a narrow-band spectrogram
:func:`overview`       all of the above, stacked on one time axis
=====================  ============================================================================

The ``*_data`` helpers return the array each picture draws (a :class:`FeatureImage`), so that code and
tests can check what is shown. Corpus pictures (:mod:`emovox.plots.corpus`): :func:`emotion_counts`.
Model pictures (:mod:`emovox.plots.evaluation`): :func:`confusion_matrix`, :func:`reliability_diagram`,
:func:`per_class_recall`, :func:`training_curves`. Over time (:mod:`emovox.plots.timeline`):
:func:`emotion_timeline`. For teaching: :func:`mel_scale`. Shared set-up (:mod:`emovox.plots.base`):
:func:`save`, :func:`emotion_color`, :func:`pyplot`.

Examples
--------
>>> import numpy as np
>>> from emovox import plots
>>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
>>> fig = plots.overview(y, sr=16000, title="A4")
>>> len(fig.axes) >= 6
True
"""

from __future__ import annotations

from .audio import (
    AUDIO_PLOTS,
    PITCH_CLASSES,
    AudioInput,
    FeatureImage,
    chroma_data,
    chromagram,
    mel_data,
    mel_scale,
    mel_spectrogram,
    mfcc,
    mfcc_data,
    overview,
    pitch_contour,
    pitch_data,
    spectrogram,
    spectrogram_data,
    waveform,
)
from .base import EMOTION_COLORS, emotion_color, pyplot, save
from .corpus import emotion_counts
from .evaluation import confusion_matrix, per_class_recall, reliability_diagram, training_curves
from .timeline import NO_SPEECH_COLOR, emotion_timeline

__all__ = [
    "AUDIO_PLOTS",
    "EMOTION_COLORS",
    "NO_SPEECH_COLOR",
    "PITCH_CLASSES",
    "AudioInput",
    "FeatureImage",
    "chroma_data",
    "chromagram",
    "confusion_matrix",
    "emotion_color",
    "emotion_counts",
    "emotion_timeline",
    "mel_data",
    "mel_scale",
    "mel_spectrogram",
    "mfcc",
    "mfcc_data",
    "overview",
    "per_class_recall",
    "pitch_contour",
    "pitch_data",
    "pyplot",
    "reliability_diagram",
    "save",
    "spectrogram",
    "spectrogram_data",
    "training_curves",
    "waveform",
]
