"""Prediction: audio in, emotion probabilities out, through ONNX Runtime only.

A model is a directory (see :mod:`emovox.models.store`) whose ``frontend`` turns audio into the input
of its ONNX classifier. Neither torch nor scikit-learn is imported here, so a fresh process predicts fast.

One module per concern:

- :mod:`~emovox.inference.model`: :class:`EmotionModel` (loading a model directory, probabilities, the
  predict methods) and :func:`load_model`;
- :mod:`~emovox.inference.speech_cut`: the speech checks, and which part of a signal to judge;
- :mod:`~emovox.inference.recordings`: long recordings (speech segments, bounded memory) and batches of files;
- :mod:`~emovox.inference.prediction`: :class:`Prediction` and the emotions a user asks for;
- :mod:`~emovox.inference.ensemble`: :class:`EnsembleModel`.

>>> import numpy as np, emovox
>>> model = emovox.load_model()                      # the bundled default
>>> model.predict_proba(np.zeros(16000), sr=16000).shape
(1, 7)
"""

from .ensemble import EnsembleModel
from .model import BUNDLED_DIR, DEFAULT_MODEL, EmotionModel, bundled_models, load_model, resolve_model_path
from .prediction import Prediction, chosen_emotions, write_predictions
from .recordings import SEGMENTS_AFTER_SECONDS, UTTERANCE_PAUSE_SECONDS, SessionInput
from .speech_cut import (
    KEEP_SECONDS,
    KEEP_SECONDS_WITHOUT_HEAD,
    SPEECH_BLOCK_SECONDS,
    VOICE_SEARCH_SECONDS,
    VOICE_WINDOW_SECONDS,
)

__all__ = [
    "BUNDLED_DIR",
    "DEFAULT_MODEL",
    "KEEP_SECONDS",
    "KEEP_SECONDS_WITHOUT_HEAD",
    "SEGMENTS_AFTER_SECONDS",
    "SPEECH_BLOCK_SECONDS",
    "UTTERANCE_PAUSE_SECONDS",
    "VOICE_SEARCH_SECONDS",
    "VOICE_WINDOW_SECONDS",
    "EmotionModel",
    "EnsembleModel",
    "Prediction",
    "SessionInput",
    "bundled_models",
    "chosen_emotions",
    "load_model",
    "resolve_model_path",
    "write_predictions",
]
