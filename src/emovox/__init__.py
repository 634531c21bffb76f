"""emovox: speech emotion recognition with honest evaluation and a model that runs on a CPU."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._version import __version__
from .audio import load_audio, stream_audio
from .errors import AudioError, CorpusError, EmovoxError, FeatureError, ModelError, ParameterError

if TYPE_CHECKING:
    from .inference import EmotionModel

__all__ = [
    "AudioError",
    "CorpusError",
    "EmovoxError",
    "FeatureError",
    "ModelError",
    "ParameterError",
    "__version__",
    "load_audio",
    "load_model",
    "stream_audio",
]


def load_model(
    model: str | os.PathLike | None = None,
    *,
    check_speech: bool = True,
    emotions: str | Sequence[str] | None = None,
) -> EmotionModel:
    """Load a model: a model directory, a bundled model by name, or the bundled default.

    Parameters
    ----------
    model : str or path, optional
        A model directory (``emovox train -o DIR``), or a bundled model's name (``"default"``,
        ``"classical"``); the bundled default when None.
    check_speech : bool
        Check that the audio holds speech before giving it an emotion (default); False gives an emotion
        to any audio.
    emotions : str or list of str, optional
        Predict over these emotions only (``"angry,happy,neutral,sad"``, ``"four"``...), probabilities
        renormalised over them.

    Returns
    -------
    emovox.inference.EmotionModel

    Examples
    --------
    >>> import emovox
    >>> model = emovox.load_model()
    >>> model.labels
    ['angry', 'disgust', 'fearful', 'happy', 'neutral', 'sad', 'surprised']
    >>> emovox.load_model("classical", emotions="four").labels
    ['angry', 'happy', 'neutral', 'sad']
    """
    from .inference import load_model as _load

    return _load(model, check_speech=check_speech, emotions=emotions)


def __getattr__(name: str):
    """``emovox.live``, ``emovox.batch``... after ``import emovox`` alone, imported when first used (so that
    ``import emovox`` stays fast and needs none of their dependencies)."""
    import importlib
    import importlib.util

    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ImportError as exc:  # an optional extra not installed: hasattr() must still answer
            raise AttributeError(f"emovox.{name} needs what is not installed: {exc}") from exc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
