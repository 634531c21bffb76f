"""One interface for everything that turns audio into a model's input.

Hand-crafted and openSMILE feature sets (:class:`emovox.features.FeatureExtractor`), Whisper encoder
features (:class:`emovox.encoders.frontend.WhisperExtractor`) and deep-model frames
(:class:`emovox.deep.frames.FrameExtractor`) all implement :class:`Extractor`, as audinterface's
processors share ``process_signal`` / ``process_file`` / ``process_files``. A model directory's
``frontend`` entry is its extractor's :meth:`~Extractor.to_dict`, and :func:`from_dict` rebuilds it, so
batch jobs, training and prediction compute exactly the same thing, through one runner and one cache
(:func:`emovox.extractors.runner.process_files`; Whisper training features and their augmented variants too, see
:func:`emovox.encoders.frontend.encoder_features`).

Examples
--------
>>> import numpy as np
>>> from emovox.extractors import from_dict
>>> from emovox.features import FeatureExtractor
>>> ex = FeatureExtractor("tutorial")
>>> again = from_dict(ex.to_dict())
>>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
>>> bool(np.array_equal(ex.process_signal(y), again.process_signal(y)))
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ModelError

if TYPE_CHECKING:
    from .runner import ExtractionResult

from .files import RunnerFiles

__all__ = ["Extractor", "RunnerFiles", "from_dict", "from_name"]


@runtime_checkable
class Extractor(Protocol):
    """What every front end offers: one signal, one file, a long recording, many files, a serialisable
    configuration and its fingerprint.

    Attributes
    ----------
    sample_rate : int
        The rate the extractor works at; signals at another rate are resampled.
    fingerprint : str
        Changes whenever the numbers the extractor produces would change (part of every cache key).
    """

    sample_rate: int
    fingerprint: str

    def process_signal(self, y: np.ndarray, sr: int | None = None) -> np.ndarray:
        """The model input of one mono signal (``sr``: its rate, default :attr:`sample_rate`).

        Parameters
        ----------
        y : numpy.ndarray
            Mono samples.
        sr : int, optional
            Rate of ``y``; None (default): :attr:`sample_rate`.

        Returns
        -------
        numpy.ndarray
            The extractor's output for ``y``.
        """

    def process_file(self, path: str | os.PathLike) -> np.ndarray:
        """The model input of one audio file (long files are read window by window).

        Parameters
        ----------
        path : str or path
            The audio file.

        Returns
        -------
        numpy.ndarray
        """

    def process_stream(self, chunks: Callable[[], Iterator[np.ndarray]]) -> np.ndarray:
        """The model input of a long recording given as a callable returning fresh chunk iterators.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono chunks at :attr:`sample_rate`.

        Returns
        -------
        numpy.ndarray
        """

    def process_files(
        self,
        paths: str | os.PathLike | Iterable[str | os.PathLike],
        *,
        n_jobs: int | None = 1,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = False,
    ) -> ExtractionResult:
        """Many files, cached on disk; failures are reported in the result, never raised.

        Parameters
        ----------
        paths : path or iterable of paths
            Audio files (one path: that file).
        n_jobs : int or None
            Worker processes; None or -1: all CPUs; 1 (default): in this process.
        cache_dir : str or path, optional
            Directory of cached results; None (default): no cache.
        progress : bool
            Show a progress bar (default False).

        Returns
        -------
        ExtractionResult
        """

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON values, with a ``type`` key: what a model directory stores."""


def from_dict(
    spec: dict[str, Any],
    model_dir: str | os.PathLike | None = None,
    *,
    read: Callable[[str], bytes] | None = None,
) -> Extractor:
    """The extractor a :meth:`Extractor.to_dict` describes (``model_dir``: where a model directory's files,
    such as its ONNX encoder, are; ``read``: how the loaded model reads them, each checked against the
    metadata it verified: :meth:`emovox.inference.EmotionModel`'s own reader).

    Parameters
    ----------
    spec : dict
        A ``to_dict()``; its ``type`` (``handcrafted``, ``whisper``, ``frames``, or a training view's
        ``augmented`` / ``frames-augmented``) picks the class.
    model_dir : str or path, optional
        The model directory; None (default): none.
    read : callable, optional
        ``read(name) -> bytes`` for a Whisper front end's encoder file; None (default): read through the
        directory's seal.

    Returns
    -------
    Extractor

    Raises
    ------
    ModelError
        An unknown ``type`` (a model made by a newer emovox), or a configuration that does not match its
        fingerprint.
    """
    kind = spec.get("type")
    where = Path(model_dir) if model_dir is not None else None
    if kind == "handcrafted":
        from ..features.extract import FeatureExtractor

        return FeatureExtractor.from_dict(spec, where)
    if kind == "whisper":
        from ..encoders.frontend import WhisperExtractor

        return WhisperExtractor(spec, where, read=read)
    if kind == "frames":
        from ..deep.frames import FrameExtractor

        return FrameExtractor(spec, where)
    if kind == "augmented":  # the training-only views, as worker processes rebuild them
        from ..encoders.frontend import AugmentedExtractor

        return AugmentedExtractor.from_dict(spec, where)
    if kind == "frames-augmented":
        from ..deep.frames import AugmentedFrames

        return AugmentedFrames.from_dict(spec, where)
    raise ModelError(f"{where or 'front end'}: unknown front end {kind!r} (made by a newer emovox?)")


def from_name(name: Any, cache_dir: str | os.PathLike | None = None) -> Extractor:
    """The extractor a user names: a hand-crafted preset (``tutorial``, ``emovox``, ``egemaps``,
    ``compare``), a :class:`~emovox.features.FeatureConfig` or its dict, ``whisper[:CHECKPOINT]``
    (every layer's mean and standard deviation, as ``--features whisper`` trains on; the checkpoint is
    exported to ONNX once, into ``cache_dir``, which needs torch the first time), an extractor's
    ``to_dict()``, or an extractor (returned as it is).

    Parameters
    ----------
    name : str, dict, FeatureConfig or Extractor
        What the user named.
    cache_dir : str or path, optional
        Where a Whisper checkpoint's ONNX export is kept; None (default): emovox's cache directory.

    Returns
    -------
    Extractor

    Raises
    ------
    FeatureError, ModelError
        An unknown preset, or a checkpoint that cannot be found or exported.

    Examples
    --------
    >>> from_name("tutorial").config.name
    'tutorial'
    """
    if isinstance(name, Extractor) and not isinstance(name, str | dict):
        return name
    if isinstance(name, dict) and "type" in name:
        return from_dict(name)
    if isinstance(name, str) and name.split(":")[0] in ("whisper", "encoder"):
        from ..encoders.frontend import WhisperExtractor, ensure_onnx_encoder, whisper_spec
        from ..tables import default_cache_dir

        _, _, checkpoint = name.partition(":")
        onnx_path = ensure_onnx_encoder(
            checkpoint or None, Path(cache_dir) if cache_dir else default_cache_dir()
        )
        return WhisperExtractor(whisper_spec(onnx_path, checkpoint or None))
    from ..features.extract import FeatureExtractor

    return FeatureExtractor(name)
