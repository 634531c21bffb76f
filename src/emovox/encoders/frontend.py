"""Whisper encoder features: audio -> ONNX encoder (onnxruntime) -> pooled vectors for a head.

:class:`WhisperExtractor` computes them, at prediction time from the model directory's encoder and at
training time (:func:`encoder_features`) from the checkpoint's export, through the one runner and cache
every extractor uses (:func:`emovox.extractors.runner.process_files`: one float32 vector per file and extractor
fingerprint, keyed by the file's content). Training and prediction therefore see the same numbers, long
files included (pooled window by window over the whole file). Training augmentations
(:func:`augment_signal`) are an :class:`AugmentedExtractor` over the same extractor, cached alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..augment import AugmentedView
from ..errors import ModelError
from ..extractors.files import RunnerFiles

if TYPE_CHECKING:
    import pandas as pd

    from ..tables import FeatureTable

DEFAULT_ENCODER_DIR = "encoders/whisper-base"
log = logging.getLogger(__name__)


def file_digest(*paths: str | os.PathLike | None) -> str:
    from ..extractors.runner import file_hash

    return file_hash(*paths, digest_size=16)


def default_encoder_checkpoint() -> Path:
    """The Whisper-base checkpoint in ``$EMOVOX_SHARED`` / ``../shared`` (used by recipes and tests)."""
    from ..corpora import shared_dir

    return shared_dir() / DEFAULT_ENCODER_DIR


def ensure_onnx_encoder(
    checkpoint: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    quantize: bool = False,
) -> Path:
    """An ONNX export of ``checkpoint`` (a directory or hub id), made once and kept in the cache.

    Exporting needs torch; an ``.onnx`` file given directly is used as it is.

    Parameters
    ----------
    checkpoint : str or path, optional
        A Whisper checkpoint directory, a hub id, or an ``.onnx`` file; None (default): the default
        encoder checkpoint.
    cache_dir : str or path, optional
        Where exports are kept (in ``onnx-encoders/``); None (default): emovox's cache directory.
    quantize : bool
        Export (or reuse) the int8-quantised graph (default False).

    Returns
    -------
    pathlib.Path
        The ONNX file, named by the checkpoint and a digest of its weights and config.

    Raises
    ------
    ModelError
        When the checkpoint holds no weights, or an export is needed and torch is missing.
    """
    from ..tables import default_cache_dir
    from .checkpoint import resolve_encoder

    if checkpoint is not None and str(checkpoint).endswith(".onnx"):
        return Path(checkpoint)
    ckpt = resolve_encoder(checkpoint or default_encoder_checkpoint())
    weights = next((p for p in (ckpt / "model.safetensors", ckpt / "pytorch_model.bin") if p.is_file()), None)
    if weights is None:
        raise ModelError(f"{ckpt}: no model.safetensors or pytorch_model.bin")
    # keyed by content: the same weights copied elsewhere or fetched again reuse the export (and, since
    # exports are deterministic, every encoder output cached from it)
    config = ckpt / "config.json"
    key = file_digest(weights, config if config.is_file() else None)[:16]
    out_dir = Path(cache_dir or default_cache_dir()) / "onnx-encoders"
    name = f"{ckpt.name}-{key}"
    target = out_dir / (f"{name}.int8.onnx" if quantize else f"{name}.onnx")
    if not target.is_file():
        try:
            from .export import export_encoder_onnx
        except ImportError as exc:
            raise ModelError(
                f"exporting {ckpt} to ONNX needs torch (pip install 'emovox[torch]'): {exc}"
            ) from None
        export_encoder_onnx(ckpt, out_dir / f"{name}.onnx", quantize=quantize)
    return target


# ------------------------------------------------------------------------------------- augmentations
def augment_signal(y: np.ndarray, spec: str, seed: int) -> np.ndarray:
    """A label-preserving variant of ``y`` for training: ``speed:F`` (tempo and pitch by F, as tape speed
    does), ``noise:SNR`` (white noise at SNR dB), ``channel`` (a random microphone, room, line, noise and
    gain: :func:`emovox.augment.random_channel`) or ``channel:codec`` (the same copy, then half the time an
    MP3 round trip at 20-60 kbit/s: :func:`emovox.augment.codec_roundtrip`).

    Parameters
    ----------
    y : numpy.ndarray
        Mono float samples at 16 kHz.
    spec : str
        The augmentation, as above.
    seed : int
        The random seed (the same seed gives the same variant).

    Returns
    -------
    numpy.ndarray
        The variant, at 16 kHz (``speed`` changes its length).

    Raises
    ------
    ModelError
        When ``spec`` is none of those.
    """
    from ..augment import add_noise, codec_roundtrip, random_channel, speed_change

    kind, _, arg = spec.partition(":")
    if kind == "channel" and arg in ("", "codec"):
        out = random_channel(y, 16000, np.random.default_rng(seed))
        codec = np.random.default_rng([seed, 7])  # drawn apart, so the channel is the plain copy's
        if arg and codec.random() < 0.5:
            out = codec_roundtrip(out, 16000, "mp3", float(codec.uniform(0.6, 0.95)))
        return out
    # A whole-Hz source rate, and the raw draw scaled in float32, as these variants have always been made
    # (the encoder amplifies even last-bit differences; the seed is the caller's).
    if kind == "speed":
        return speed_change(y, float(arg), 16000, whole_hz=True)
    if kind == "noise":
        draw = np.random.default_rng(seed).standard_normal(len(y)).astype(np.float32)
        return add_noise(y, float(arg), noise=draw, dtype=np.float32)
    raise ModelError(f"unknown augmentation {spec!r}; expected speed:F, noise:SNR, channel or channel:codec")


def content_seed(path: str | os.PathLike) -> int:
    """The random seed of a file's augmented variant: the first 32 bits of its content hash (the hash that
    keys the feature cache), so a copied or moved file gets the same variant, and a cache entry always
    holds what recomputing it would give.

    Parameters
    ----------
    path : str or path
        The audio file.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.
    """
    from ..extractors.runner import file_hash

    return _hash_seed(file_hash(path))


def _hash_seed(content_hash: str) -> int:
    return int(content_hash[:8], 16)


class AugmentedExtractor(AugmentedView):
    """An augmented view of an extractor, for training: each file is decoded at 16 kHz, changed by
    :func:`augment_signal` (``augment``: ``speed:F``, ``noise:SNR`` or ``channel``; the seed is the file's
    :func:`content_seed`) and given to ``base.process_signal``.

    It is an :class:`emovox.extractors.Extractor` (an :class:`emovox.augment.AugmentedView`) whose
    :meth:`to_dict` and :attr:`fingerprint` include the augmentation, so :meth:`process_files` runs through
    the same runner and cache as every extractor (:func:`emovox.extractors.runner.process_files`), in entries of
    their own. Training only: a model directory
    stores its base extractor, never this.

    Parameters
    ----------
    base : Extractor
        The extractor of the original audio (a :class:`WhisperExtractor`).
    augment : str
        The augmentation, as :func:`augment_signal` takes it (checked here).

    Examples
    --------
    >>> import numpy as np
    >>> from emovox.features import FeatureExtractor
    >>> base = FeatureExtractor("tutorial")
    >>> noisy = AugmentedExtractor(base, "noise:10")
    >>> noisy.fingerprint != base.fingerprint
    True
    >>> y = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32) * 0.1
    >>> bool(np.array_equal(noisy.process_signal(y, seed=1), base.process_signal(augment_signal(y, "noise:10", 1))))
    True
    """

    sample_rate = 16000

    def __init__(self, base: Any, augment: str) -> None:
        augment_signal(np.zeros(1600, np.float32), augment, 0)  # an unknown augmentation fails here
        self.base = base
        self.augment = augment
        self.desc = f"encoder {augment}"
        self.model_dir = getattr(base, "model_dir", None)
        self._fingerprint: str | None = None

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> AugmentedExtractor:
        """The view that :meth:`to_dict` describes (``model_dir``: the base extractor's).

        The base is rebuilt by its own class's ``from_dict``, named in ``base_class`` (an emovox class), as
        the runner's worker processes rebuild extractors.

        Parameters
        ----------
        spec : dict
            A :meth:`to_dict`: ``base_class`` (``module:qualname``), ``base`` and ``augment``.
        model_dir : pathlib.Path, optional
            The base extractor's model directory; None (default): none.

        Returns
        -------
        AugmentedExtractor

        Raises
        ------
        ModelError
            When ``base_class`` is not an emovox class.
        """
        import importlib

        module, _, qualname = str(spec.get("base_class", "")).partition(":")
        if module != "emovox" and not module.startswith("emovox."):
            raise ModelError(
                f"an augmented extractor needs an emovox base class, got {spec.get('base_class')!r}"
            )
        base_cls: Any = importlib.import_module(module)
        for name in qualname.split("."):
            base_cls = getattr(base_cls, name)
        return cls(base_cls.from_dict(spec["base"], model_dir), spec["augment"])

    def to_dict(self) -> dict[str, Any]:
        base = type(self.base)
        return {
            "type": "augmented",
            "augment": self.augment,
            "seed": "content",
            "base_class": f"{base.__module__}:{base.__qualname__}",
            "base": self.base.to_dict(),
        }

    @property
    def fingerprint(self) -> str:
        """The base extractor's fingerprint, the augmentation and how its seed is chosen."""
        if self._fingerprint is None:
            text = json.dumps([self.base.fingerprint, self.augment, "seed=content"])
            self._fingerprint = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return self._fingerprint

    @property
    def feature_names(self) -> list[str]:
        return list(self.base.feature_names)

    @property
    def n_features(self) -> int:
        return int(self.base.n_features)

    def augmented(self, y: np.ndarray, seed: int) -> np.ndarray:
        """The base extractor's vector of :func:`augment_signal` of ``y`` (16 kHz).

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at 16 kHz.
        seed : int
            The variant's seed (:func:`content_seed` for a file).

        Returns
        -------
        numpy.ndarray
            The base extractor's feature vector.
        """
        return self.base.process_signal(augment_signal(y, self.augment, seed), self.sample_rate)

    def file_seed(self, content_hash: str) -> int:
        """:func:`content_seed`: the first 32 bits of the content hash.

        Parameters
        ----------
        content_hash : str
            A file's content hash (hex).

        Returns
        -------
        int
        """
        return _hash_seed(content_hash)


def encoder_id(onnx_path: str | os.PathLike) -> str:
    """Identity of an encoder file for the cache: its content, so a moved or re-made copy keeps its cache.

    Parameters
    ----------
    onnx_path : str or path
        The encoder's ONNX file.

    Returns
    -------
    str
        16 hex digits of its content digest.
    """
    return file_digest(onnx_path)[:16]


ENCODER_HOP = 320  # samples per encoder frame (two 10 ms mel frames)
#: The statistics over time a pooled vector can hold, in their order within each layer.
STATISTICS = ("mean", "std")
#: Seconds of audio the encoder sees at once. Heads are trained on utterances of 1-14 s (99 % under 7 s), and
#: the states of one long window drift from those of its utterances: recordings of 20 s of one speaker's
#: clips of one emotion were named right 61 % of the time in one 30 s window, 86 % in 10 s windows and 94 % in
#: 5 s windows, where leave-one-corpus-out on the corpora's own utterances is the same (60.0 % UA against
#: 59.9; benchmarks/bench_long.py, BENCHMARKS.md "Long recordings"). Front ends saved before this existed
#: (no ``window_s``) keep Whisper's 30 s.
WINDOW_S = 5.0
LEGACY_WINDOW_S = 30.0


def check_statistics(statistics: Sequence[str]) -> None:
    """Check the statistics a pooled vector holds.

    Parameters
    ----------
    statistics : sequence of str
        ``["mean", "std"]`` or ``["mean"]`` (a non-empty subset of :data:`STATISTICS`, in its order).

    Raises
    ------
    ParameterError
        One line naming what was given, otherwise.

    Examples
    --------
    >>> check_statistics(["mean"])
    >>> check_statistics("mean")
    Traceback (most recent call last):
    ...
    emovox.errors.ParameterError: pooled statistics must be 'mean', 'std' or both in that order (a list), got 'mean'
    """
    from ..errors import ParameterError

    chosen = [] if isinstance(statistics, str) else list(statistics)
    if (
        not chosen
        or any(s not in STATISTICS for s in chosen)
        or chosen != sorted(set(chosen), key=STATISTICS.index)
    ):
        raise ParameterError(
            f"pooled statistics must be 'mean', 'std' or both in that order (a list), got {statistics!r}"
        )


def active_frames(y: np.ndarray, n_frames: int, threshold_db: float = 30.0) -> np.ndarray:
    """Encoder frames whose energy is within ``threshold_db`` of the loudest one.

    Corpus clips (and live segments) carry silence before and after the speech; pooling over it dilutes
    the emotional part, so the pooled statistics skip it. At least one frame is always kept.

    Parameters
    ----------
    y : numpy.ndarray
        The 16 kHz signal the frames come from (cut or zero-padded to ``n_frames`` frames of
        :data:`ENCODER_HOP` samples).
    n_frames : int
        Encoder frames.
    threshold_db : float
        How far under the loudest frame a frame is still kept (default 30.0).

    Returns
    -------
    numpy.ndarray
        Boolean mask, shape ``(n_frames,)``.

    Examples
    --------
    >>> y = np.concatenate([np.zeros(320, np.float32), np.ones(320, np.float32)])
    >>> active_frames(y, 2).tolist()
    [False, True]
    """
    n = n_frames * ENCODER_HOP
    y = np.pad(np.asarray(y, np.float32)[:n], (0, max(0, n - len(y))))
    db = 10 * np.log10(np.mean(y.reshape(n_frames, ENCODER_HOP) ** 2, axis=1) + 1e-12)
    return db >= db.max() - threshold_db


def pool(
    hidden: np.ndarray,
    y: np.ndarray | None,
    layers,
    pooling: str,
    threshold_db: float = 30.0,
    statistics: Sequence[str] = STATISTICS,
) -> np.ndarray:
    """Pooled vector of hidden states ``[L+1, T, D]``: ``mean_std`` over all frames, ``active`` over voiced ones;
    for each chosen layer the ``statistics`` over time (mean, standard deviation or both).

    Parameters
    ----------
    hidden : numpy.ndarray
        Hidden states ``[n_states, frames, d_model]``.
    y : numpy.ndarray or None
        The 16 kHz signal, needed by ``active`` pooling (:func:`active_frames`).
    layers : sequence of int or None
        Indices into the first axis of ``hidden``; None: all.
    pooling : str
        ``"mean_std"`` or ``"active"``.
    threshold_db : float
        ``active`` pooling's threshold (default 30.0).
    statistics : sequence of str
        ``("mean", "std")`` (default) or ``("mean",)``.

    Returns
    -------
    numpy.ndarray
        float32, for each layer its statistics in order, ``d_model`` values each.

    Raises
    ------
    ModelError
        When ``pooling`` is unknown, or ``active`` without ``y``.
    ParameterError
        When ``statistics`` is not valid (:func:`check_statistics`).

    Examples
    --------
    >>> hidden = np.arange(8, dtype=np.float32).reshape(2, 2, 2)  # two states, two frames, width 2
    >>> pool(hidden, None, [1], "mean_std").tolist()
    [5.0, 6.0, 1.0, 1.0]
    """
    from .runtime import pool_mean_std

    if pooling == "active":
        if y is None:
            raise ModelError("active pooling needs the audio signal")
        hidden = hidden[:, active_frames(y, hidden.shape[1], threshold_db)]
    elif pooling != "mean_std":
        raise ModelError(f"unknown pooling {pooling!r}; expected mean_std or active")
    check_statistics(statistics)
    stats = pool_mean_std(hidden, layers).reshape(-1, 2, hidden.shape[-1])
    return stats[:, [STATISTICS.index(s) for s in statistics]].reshape(-1)


def whisper_extractor(
    spec: str = "whisper",
    *,
    cache_dir: str | os.PathLike | None = None,
    layers: Sequence[int] | None = None,
    pooling: str = "mean_std",
    threshold_db: float = 30.0,
    quantize: bool = False,
    statistics: Sequence[str] = STATISTICS,
    window_s: float = WINDOW_S,
) -> WhisperExtractor:
    """The :class:`WhisperExtractor` of a recipe's Whisper features.

    Parameters
    ----------
    spec : str
        ``whisper`` (the shared Whisper-base checkpoint) or ``whisper:CHECKPOINT_DIR_OR_HUB_ID``.
    cache_dir : path, optional
        Where the checkpoint's ONNX export is kept (``onnx-encoders/``; default :func:`default_cache_dir`).
    layers, pooling, threshold_db
        The pooled layers (``None``: all), ``mean_std`` or ``active`` pooling, and ``active``'s threshold.
    statistics : sequence of str
        ``("mean", "std")`` (each layer's mean and standard deviation over time) or ``("mean",)``.
    quantize : bool
        Run the int8 export of the encoder.
    window_s : float
        Seconds of audio the encoder sees at once (:data:`WINDOW_S`).

    Returns
    -------
    WhisperExtractor
        Over the exported encoder (``onnx_path`` in its ``to_dict()``).
    """
    from ..tables import default_cache_dir

    _, _, ckpt = spec.partition(":")
    onnx_path = ensure_onnx_encoder(
        ckpt or None, Path(cache_dir) if cache_dir else default_cache_dir(), quantize
    )
    chosen = None if layers is None else [int(i) for i in layers]
    return WhisperExtractor(
        whisper_spec(
            onnx_path,
            ckpt or None,
            layers=chosen,
            pooling=pooling,
            threshold_db=threshold_db,
            quantized=quantize,
            statistics=statistics,
            window_s=window_s,
        )
    )


def encoder_features(
    manifest: pd.DataFrame,
    spec: str = "whisper",
    *,
    n_jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    layers: Sequence[int] | None = None,
    pooling: str = "mean_std",
    threshold_db: float = 30.0,
    quantize: bool = False,
    statistics: Sequence[str] = STATISTICS,
    augmentations: Sequence[str] = (),
    window_s: float = WINDOW_S,
) -> FeatureTable:
    """Pooled encoder features of a manifest (each layer's mean, and std unless ``statistics`` says otherwise,
    over time): a probe's input.

    The vectors are :meth:`WhisperExtractor.process_file`'s, as prediction computes them (every file whole),
    through the one runner and cache every extractor uses (:func:`emovox.extractors.runner.process_files`); a file
    that fails is listed in the table's ``failures``, not raised.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column.
    spec : str
        ``whisper`` (the shared Whisper-base checkpoint) or ``whisper:CHECKPOINT_DIR_OR_HUB_ID``.
    n_jobs : int, optional
        Worker processes (``None``: every core); each runs onnxruntime on its share of the cores.
    cache_dir : path, optional
        The feature cache (default ``<default_cache_dir>/features``, as for hand-crafted features); the
        encoder's ONNX export is kept beside it, in ``<cache_dir or default_cache_dir>/onnx-encoders``.
    progress : bool
        Show progress bars.
    layers, pooling, threshold_db, quantize, statistics, window_s
        See :func:`whisper_extractor`.
    augmentations : sequence of str
        Training variants (:class:`AugmentedExtractor`) of the rows that succeeded, in the table's
        ``augmented``.

    Returns
    -------
    FeatureTable
        Its ``frontend`` is the extractor's ``to_dict()`` with the chosen layers listed.

    Raises
    ------
    ModelError
        The checkpoint cannot be exported, or an augmentation fails on a file the original succeeded on.
    """
    from ..tables import FeatureTable, default_cache_dir

    ex = whisper_extractor(
        spec,
        cache_dir=cache_dir,
        layers=layers,
        pooling=pooling,
        threshold_db=threshold_db,
        quantize=quantize,
        statistics=statistics,
        window_s=window_s,
    )
    features_dir = Path(cache_dir) if cache_dir else default_cache_dir() / "features"
    paths = list(manifest["path"].astype(str))
    res = ex.process_files(paths, n_jobs=n_jobs, cache_dir=features_dir, progress=progress)
    log.debug("%s: %d of %d files from the cache", spec, res.n_cached, len(paths))
    chosen = list(range(ex.encoder.n_layers + 1)) if ex.layers is None else list(ex.layers)
    table = FeatureTable(
        np.asarray(res.features, np.float32),
        manifest[np.asarray(res.mask, dtype=bool)].reset_index(drop=True),
        pooled_names(chosen, ex.encoder.d_model, ex.statistics),
        # (the fingerprint, as a hand-crafted front end's: an evaluation says which features it scored)
        {**ex.to_dict(), "layers": chosen, "fingerprint": ex.fingerprint},
        res.failures,
    )
    for aug in augmentations:
        extra = AugmentedExtractor(ex, aug).process_files(
            res.paths, n_jobs=n_jobs, cache_dir=features_dir, progress=progress
        )
        if extra.failures:
            raise ModelError(
                f"augmentation {aug} failed on {len(extra.failures)} files (first: {extra.failures[0][1]})"
            )
        table.augmented[aug] = np.asarray(extra.features, np.float32)
    return table


def whisper_spec(
    onnx_path: str | os.PathLike,
    checkpoint: str | None = None,
    *,
    layers=None,
    pooling: str = "mean_std",
    threshold_db: float = 30.0,
    quantized: bool = False,
    statistics: Sequence[str] = STATISTICS,
    window_s: float = WINDOW_S,
    remove_dc: bool = True,
) -> dict[str, Any]:
    """The front end of Whisper features over the encoder file ``onnx_path`` (a :class:`WhisperExtractor`'s
    ``to_dict()``; a model directory stores it with ``onnx_path`` replaced by its copy ``encoder``).
    ``statistics`` is stored only when it is not both, ``window_s`` only when it is not 30 s, ``remove_dc``
    (take each recording's DC offset out first, :func:`emovox.audio.signal.without_dc_offset`) only when true (so front ends
    saved before they existed still match, and keep computing what their models were trained on).

    Parameters
    ----------
    onnx_path : str or path
        The encoder's ONNX file.
    checkpoint : str, optional
        The checkpoint it was exported from, stored as ``encoder_source``; None (default): ``whisper-base``.
    layers : sequence of int, optional
        The hidden states pooled; None (default): all.
    pooling : str
        ``"mean_std"`` (default) or ``"active"``.
    threshold_db : float
        ``active`` pooling's threshold (default 30.0).
    quantized : bool
        Whether the encoder is int8-quantised (default False).
    statistics : sequence of str
        ``("mean", "std")`` (default) or ``("mean",)``.
    window_s : float
        Seconds the encoder sees at once, 1-30 (default :data:`WINDOW_S`).
    remove_dc : bool
        Take each recording's DC offset out first (default True).

    Returns
    -------
    dict

    Raises
    ------
    ParameterError
        When ``statistics`` is not valid.
    ModelError
        When ``window_s`` is outside 1-30 s.
    """
    check_statistics(statistics)
    window_frames(window_s)
    return {
        "type": "whisper",
        "encoder": "encoder.onnx",
        "encoder_source": str(checkpoint or "whisper-base"),
        "quantized": quantized,
        "pooling": pooling,
        "threshold_db": threshold_db,
        "layers": layers,
        **({} if tuple(statistics) == STATISTICS else {"statistics": list(statistics)}),
        **({} if float(window_s) == LEGACY_WINDOW_S else {"window_s": float(window_s)}),
        **({"remove_dc": True} if remove_dc else {}),
        "onnx_path": str(onnx_path),
    }


def window_frames(window_s: float) -> int:
    """Log-mel frames (10 ms, an even number: the encoder halves them) of an encoder window of ``window_s``
    seconds, 1-30.

    Parameters
    ----------
    window_s : float
        Seconds.

    Returns
    -------
    int

    Raises
    ------
    ModelError
        When ``window_s`` is outside 1-30.

    Examples
    --------
    >>> window_frames(5.0), window_frames(30)
    (500, 3000)
    """
    if not 1.0 <= float(window_s) <= LEGACY_WINDOW_S:
        raise ModelError(f"window_s must be within 1-30 seconds, got {window_s}")
    return 2 * round(float(window_s) * 50)


def pooled_names(layers, d_model: int, statistics: Sequence[str] = STATISTICS) -> list[str]:
    """``L<layer>_mean<i>`` then ``L<layer>_std<i>`` for each layer (the ``statistics`` chosen): the columns
    of pooled Whisper features.

    Parameters
    ----------
    layers : iterable of int
        The pooled layers, in order.
    d_model : int
        The encoder's width.
    statistics : sequence of str
        ``("mean", "std")`` (default) or ``("mean",)``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> pooled_names([2], 2)
    ['L2_mean0', 'L2_mean1', 'L2_std0', 'L2_std1']
    """
    return [f"L{layer}_{stat}{i}" for layer in layers for stat in statistics for i in range(d_model)]


class WhisperExtractor(RunnerFiles):
    """Whisper encoder features (an :class:`emovox.extractors.Extractor`): audio -> ONNX encoder -> the
    mean (and standard deviation, unless ``statistics`` leaves it out) over time of the chosen layers' hidden
    states.

    ``spec`` is what a model directory stores as its front end: ``encoder`` (the ONNX file, relative to
    ``model_dir``; or ``onnx_path``, absolute, when there is no model directory), ``layers``, ``pooling``
    (``mean_std`` over every frame, or ``active``: the frames within ``threshold_db`` of the loudest) and
    ``statistics`` (``["mean", "std"]`` when absent, or ``["mean"]``) and ``window_s`` (the seconds the
    encoder sees at once, :data:`WINDOW_S`; 30 when absent). A longer recording is pooled over consecutive
    windows.
    """

    desc = "encoder"  # (the progress bar of process_files)
    sample_rate = 16000

    def __init__(
        self, spec: dict[str, Any], model_dir: Path | None = None, read: Callable[[str], bytes] | None = None
    ):
        from .runtime import WhisperEncoderONNX

        self.spec = dict(spec)
        self.model_dir = None if model_dir is None else Path(model_dir)
        data = None
        if self.model_dir is not None:
            name = spec.get("encoder", "encoder.onnx")
            path = self.model_dir / name
            if read is None:  # (a worker process rebuilding the front end: the directory's seal, read again)
                from ..models.store import read_model_dir, read_sealed

                meta = read_model_dir(self.model_dir, verify=False)
                read = lambda n: read_sealed(self.model_dir, meta, n)  # noqa: E731
            # through the seal the model verified, as every model file: onnxruntime parses those bytes
            data = read(name)
        elif spec.get("onnx_path"):
            path = Path(spec["onnx_path"])
        else:
            raise ModelError("a Whisper front end needs its model directory or an 'onnx_path'")
        self.encoder = WhisperEncoderONNX(path, data=data)
        self.layers = spec.get("layers")
        self.pooling = spec.get("pooling", "mean_std")
        self.threshold_db = float(spec.get("threshold_db", 30.0))
        check_statistics(spec.get("statistics", STATISTICS))
        self.statistics = tuple(spec.get("statistics", STATISTICS))
        self.window = min(window_frames(spec.get("window_s", LEGACY_WINDOW_S)), self.encoder.max_frames)
        self.remove_dc = bool(spec.get("remove_dc", False))
        self._fingerprint: str | None = None

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> WhisperExtractor:
        """The extractor of a :meth:`to_dict` (``WhisperExtractor(spec, model_dir)``).

        Parameters
        ----------
        spec : dict
            The front end (:func:`whisper_spec`).
        model_dir : pathlib.Path, optional
            The model directory its ``encoder`` is in; None (default): ``spec`` names an ``onnx_path``.

        Returns
        -------
        WhisperExtractor

        Raises
        ------
        ModelError
            When there is neither a model directory nor an ``onnx_path``, or the encoder cannot be loaded.
        """
        return cls(spec, model_dir)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)

    @property
    def fingerprint(self) -> str:
        """The pooling choices and the encoder file's content (hashed on first use, not at load)."""
        if self._fingerprint is None:
            choice = {k: self.spec.get(k) for k in ("layers", "pooling", "threshold_db")}
            if self.statistics != STATISTICS:  # absent before it existed: earlier cache entries stay valid
                choice["statistics"] = list(self.statistics)
            if "window_s" in self.spec:
                choice["window_s"] = float(self.spec["window_s"])
            if self.remove_dc:
                choice["remove_dc"] = True
            text = json.dumps(choice, sort_keys=True) + encoder_id(self.encoder.path)
            self._fingerprint = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return self._fingerprint

    @property
    def feature_names(self) -> list[str]:
        """:func:`pooled_names` of the chosen layers, as training names them."""
        chosen = range(self.encoder.n_layers + 1) if self.layers is None else self.layers
        return pooled_names(chosen, self.encoder.d_model, self.statistics)

    @property
    def n_features(self) -> int:
        n_layers = self.encoder.n_layers + 1 if self.layers is None else len(self.layers)
        return len(self.statistics) * n_layers * self.encoder.d_model

    def process_signal(self, y: np.ndarray, sr: int | None = None) -> np.ndarray:
        """The pooled vector of one mono signal (resampled to 16 kHz when ``sr`` differs).

        Parameters
        ----------
        y : numpy.ndarray
            Samples, as :func:`emovox.audio.signal_at` takes them.
        sr : int, optional
            Rate of ``y``; None (default): already 16 kHz.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_features,)``.
        """
        from ..audio import signal_at

        return self(signal_at(y, sr, self.sample_rate))

    def process_file(self, path: str | os.PathLike) -> np.ndarray:
        """The pooled vector of an audio file (:func:`emovox.extractors.runner.process_file`: a long file
        window by window, a short one decoded whole).

        Parameters
        ----------
        path : str or path
            The audio file.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_features,)``.

        Raises
        ------
        AudioError
            When the file cannot be decoded.
        """
        from ..extractors.runner import process_file

        return process_file(self, path)

    def process_stream(self, chunks: Callable[[], Iterator[np.ndarray]]) -> np.ndarray:
        """:meth:`embed_stream`: the pooled vector of a recording given as a callable returning chunks.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono 16 kHz chunks.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_features,)``.
        """
        return self.embed_stream(chunks)

    def __call__(self, y: np.ndarray) -> np.ndarray:
        enc = self.encoder
        if self.remove_dc:
            from ..audio.signal import without_dc_offset

            y = without_dc_offset(y)
        if len(y) <= self.window * 160:  # one encoder window
            return pool(
                enc.hidden_states(y), y, self.layers, self.pooling, self.threshold_db, self.statistics
            )
        # A longer recording: pool window by window, so only one window's states are in memory
        # (an hour's states for every layer would take gigabytes). Same result as pooling them all.
        mel = enc.log_mel(y)
        n_frames = mel.shape[1] // 2
        keep = (
            active_frames(y, n_frames, self.threshold_db)
            if self.pooling == "active"
            else np.ones(n_frames, dtype=bool)
        )
        stats = _WindowStats(self.layers, self.statistics)
        for start in range(0, mel.shape[1], self.window):
            window = mel[:, start : start + self.window]
            if window.shape[1] < 2:
                continue
            stats.add(enc.hidden_states_from_mel(window), keep[start // 2 : start // 2 + self.window // 2])
        return stats.pooled()

    def embed_stream(self, chunks: Callable[[], Iterator[np.ndarray]]) -> np.ndarray:
        """The same vector as ``self(y)`` for a long recording given as ``chunks()``, a callable returning a
        fresh iterator of consecutive mono 16 kHz chunks (e.g. ``lambda: emovox.audio.stream_audio(path)``).

        Two passes (three with ``remove_dc``: the first finds the recording's mean), each window by window,
        so memory stays bounded whatever the length: the first finds
        what Whisper's log-mel and ``active`` pooling take from the whole recording (the loudest log-mel
        value, each encoder frame's energy), the second runs the encoder on each window, its log-mel
        computed with a little context on either side so that it equals the whole recording's.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono 16 kHz chunks (called two or three times).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_features,)``.

        Raises
        ------
        ModelError
            When the recording holds no audio to embed.
        Cancelled
            When this thread's work was cancelled (:func:`emovox.audio.cancellable`), checked after each window.
        """
        from ..audio import check_cancelled, context_windows
        from .mel import power_spectrogram, sparse_mel_filters

        enc = self.encoder
        if self.remove_dc:  # one more pass, for the whole recording's mean
            total = count = 0.0
            for c in chunks():
                total, count = total + float(np.sum(c, dtype=np.float64)), count + c.size
            offset, raw = np.float32(total / max(count, 1.0)), chunks
            chunks = lambda: (c - offset for c in raw())  # noqa: E731
        filters = sparse_mel_filters(enc.n_mels)
        win = self.window * 160  # samples per encoder window
        ctx = 480  # > n_fft / 2: frames near a window's edge see the same samples as in the whole signal

        def windows():
            """(k, segment, lo, log10 mel of the window's frames) for each window, from the stream."""
            for k, seg, lo, n_total in context_windows(chunks(), win, ctx):
                first = (k * win - lo) // 160
                n_frames_here = self.window
                if n_total is not None:
                    n_frames_here = min(n_frames_here, n_total // 160 - k * self.window)
                if n_frames_here <= 0 or seg.size <= 200:
                    return
                mel = filters @ power_spectrogram(seg)
                yield k, seg, lo, np.log10(np.maximum(mel[:, first : first + n_frames_here], 1e-10))

        # pass 1: the loudest log-mel value, and (active pooling) the energy of every encoder frame
        top, powers = -np.inf, []
        for k, seg, lo, logmel in windows():
            top = max(top, float(logmel.max()))
            if self.pooling == "active":
                n = logmel.shape[1] // 2
                start = k * win - lo
                part = seg[start : start + n * ENCODER_HOP]
                part = np.pad(part, (0, n * ENCODER_HOP - part.size))
                powers.append(np.mean(part.reshape(n, ENCODER_HOP) ** 2, axis=1))
        if not np.isfinite(top):
            raise ModelError("no audio to embed")
        keep = None
        if self.pooling == "active":
            db = 10 * np.log10(np.concatenate(powers) + 1e-12)
            keep = db >= db.max() - self.threshold_db
        # pass 2: the encoder, window by window
        stats = _WindowStats(self.layers, self.statistics)
        for k, _, _, logmel in windows():
            if logmel.shape[1] < 2:
                continue
            mel = ((np.maximum(logmel, top - 8.0) + 4.0) / 4.0).astype(np.float32, copy=False)
            first = k * self.window // 2
            stats.add(
                enc.hidden_states_from_mel(mel),
                None if keep is None else keep[first : first + self.window // 2],
            )
            check_cancelled()
        return stats.pooled()


class _WindowStats:
    """Running mean and standard deviation over time of the chosen layers, window by window: what
    :func:`pool` gives for the whole recording, holding one window's states at a time (one layer at a time
    in float64, not all of them, to keep the peak memory of long recordings low)."""

    def __init__(self, layers, statistics: Sequence[str] = STATISTICS) -> None:
        self.layers = layers
        self.statistics = tuple(statistics)
        self.total = self.total_sq = None
        self.count = 0

    def add(self, hidden: np.ndarray, keep: np.ndarray | None) -> None:
        picked = range(hidden.shape[0]) if self.layers is None else self.layers
        if self.total is None:
            self.total = np.zeros((len(picked), hidden.shape[2]))
            self.total_sq = np.zeros_like(self.total)
        for i, layer in enumerate(picked):
            h = hidden[layer] if keep is None else hidden[layer][keep[: hidden.shape[1]]]
            h = h.astype(np.float64)
            self.total[i] += h.sum(axis=0)
            self.total_sq[i] += np.einsum("td,td->d", h, h)
        self.count += hidden.shape[1] if keep is None else int(keep[: hidden.shape[1]].sum())

    def pooled(self) -> np.ndarray:
        mean = self.total / self.count
        std = np.sqrt(np.maximum(self.total_sq / self.count - mean**2, 0.0))
        parts = {"mean": mean, "std": std}
        return np.concatenate([parts[s] for s in self.statistics], axis=1).reshape(-1).astype(np.float32)
