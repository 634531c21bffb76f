"""emovox: speech emotion recognition with honest evaluation and a model that runs on a CPU."""

from __future__ import annotations

from ._version import __version__
from .audio import load_audio, stream_audio
from .errors import AudioError, CorpusError, EmovoxError, FeatureError, ModelError

__all__ = [
    "AudioError",
    "CorpusError",
    "EmovoxError",
    "FeatureError",
    "ModelError",
    "__version__",
    "load_audio",
    "load_model",
    "stream_audio",
]


def load_model(path=None, *, check_speech=True, emotions=None):
    """Load a model directory, or the bundled default model when ``path`` is None (see :mod:`emovox.inference`:
    ``check_speech``, ``emotions``)."""
    from .inference import load_model as _load

    return _load(path, check_speech=check_speech, emotions=emotions)


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
