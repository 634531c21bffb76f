"""Frame-level inputs of the deep models, in numpy only (inference never imports torch).

:class:`FrameConfig` describes the input: log-mel spectrogram or MFCC matrix (window, hop, FFT size,
bins), optional silence trimming, normalisation (per utterance, or global statistics of the training
set stored in the config), and the shape handed to the network:

* ``pool="none"``: a ``(frames, bins)`` matrix, variable length (batched with masks) or padded / cropped
  to ``max_frames``;
* ``pool="mean"``: the mean over time, one vector (the 1-D CNN tutorial's 50 mean MFCCs);
* ``features="tutorial5"``: the other tutorial's utterance vector, means of ZCR (1), chroma (12),
  MFCC (20), RMS (1) and mel (128) = 162 values.

:class:`FrameExtractor` is the ``"frames"`` front end of a model directory; :func:`frame_table`
computes the features of a manifest, optionally with augmented copies (:class:`AugmentedFrames`), through
the one runner and cache of every front end (:func:`emovox.extractors.runner.process_files`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..augment import AugmentedView, WaveAugment
from ..errors import FeatureError, ParameterError
from ..extractors.files import RunnerFiles
from ..features import spectral

FRAMES_VERSION = 1

log = logging.getLogger(__name__)


@dataclass
class FrameConfig:
    """How a signal becomes the network's input (see the module docstring).

    Parameters
    ----------
    features : str
        ``logmel``, ``mfcc`` or ``tutorial5``.
    sample_rate, n_fft, win_length, hop_length, window
        Analysis parameters (``win_length`` ``None`` means ``n_fft``).
    n_mels, n_mfcc, fmin, fmax, top_db
        Mel and MFCC parameters (log-mels are ``power_to_db`` with ``top_db`` floor).
    trim_db : float, optional
        Cut leading and trailing frames more than ``trim_db`` below the loudest frame.
    offset, duration : float
        Seconds skipped at the start, and the longest span kept (``None``: all), as the tutorials load.
    norm : str
        ``utterance`` (zero mean, unit variance per bin over the clip's frames), ``global`` (the training
        set's per-bin ``mean`` / ``std``, filled in by training), or ``none``.
    pool : str
        ``none`` (a frame matrix) or ``mean`` (a vector).
    max_frames : int, optional
        Pad (zeros) or centre-crop every matrix to this many frames; ``None`` keeps the length.
    mean, std : list of float, optional
        Per-bin training-set mean and standard deviation used by ``norm='global'`` (set by training;
        default ``None``).
    """

    features: str = "logmel"
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int | None = 400
    hop_length: int = 160
    window: str = "hann"
    n_mels: int = 64
    n_mfcc: int = 40
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float | None = 80.0
    trim_db: float | None = 30.0
    offset: float = 0.0
    duration: float | None = None
    norm: str = "global"
    pool: str = "none"
    max_frames: int | None = None
    mean: list[float] | None = field(default=None, repr=False)
    std: list[float] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.features not in ("logmel", "mfcc", "tutorial5"):
            raise ParameterError(f"unknown frame features {self.features!r} (logmel, mfcc, tutorial5)")
        if self.norm not in ("utterance", "global", "none"):
            raise ParameterError(f"unknown normalisation {self.norm!r} (utterance, global, none)")
        if self.pool not in ("none", "mean"):
            raise ParameterError(f"unknown pooling {self.pool!r} (none, mean)")

    @property
    def n_features(self) -> int:
        """Size of one frame (``pool='none'``) or of the vector."""
        if self.features == "tutorial5":
            return 1 + 12 + 20 + 1 + self.n_mels
        return self.n_mels if self.features == "logmel" else self.n_mfcc

    @property
    def is_vector(self) -> bool:
        return self.pool == "mean" or self.features == "tutorial5"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrameConfig:
        """The configuration that :meth:`to_dict` describes.

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` gives it; keys that are not fields are ignored.

        Returns
        -------
        FrameConfig

        Raises
        ------
        ParameterError
            For unknown ``features``, ``norm`` or ``pool`` values.
        """
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def fingerprint(self) -> str:
        """Hash of everything that changes the (unnormalised) features, for the cache."""
        d = {k: v for k, v in self.to_dict().items() if k not in ("mean", "std", "norm", "max_frames")}
        d["version"] = FRAMES_VERSION
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------------------
def raw_features(y: np.ndarray, cfg: FrameConfig) -> np.ndarray:
    """Unnormalised features of one mono signal at ``cfg.sample_rate``: ``(frames, bins)`` or a vector.

    Parameters
    ----------
    y : numpy.ndarray
        One mono signal at ``cfg.sample_rate`` Hz.
    cfg : FrameConfig
        Features, analysis parameters, ``offset`` / ``duration``, ``trim_db`` and ``pool`` (its ``norm`` and
        ``max_frames`` are not applied here).

    Returns
    -------
    numpy.ndarray
        float32, ``(frames, cfg.n_features)``, or ``(cfg.n_features,)`` for ``pool="mean"`` and ``tutorial5``.

    Raises
    ------
    FeatureError
        For an empty signal (as every extractor: zeros would make a prediction of nothing).

    Examples
    --------
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> raw_features(y, FrameConfig()).shape, raw_features(y, FrameConfig(pool="mean")).shape
    ((101, 64), (64,))
    """
    y = np.asarray(y, dtype=np.float32)
    if not y.size:
        raise FeatureError("cannot compute features of an empty signal")
    sr = cfg.sample_rate
    if cfg.offset:
        y = y[int(cfg.offset * sr) :] if y.size > int(cfg.offset * sr) + cfg.n_fft else y
    if cfg.duration:
        y = y[: int(cfg.duration * sr)]
    if cfg.trim_db is not None:
        y = spectral.trim_silence(y, cfg.trim_db)
    if cfg.features == "tutorial5":
        return _tutorial5(y, cfg)
    P = spectral.spectrogram(
        y, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length, window=cfg.window, power=2.0
    )
    M = spectral.power_to_db(
        spectral.apply_mel(P, sr=sr, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax), top_db=cfg.top_db
    )
    X = M if cfg.features == "logmel" else spectral.mfcc(S=M, n_mfcc=cfg.n_mfcc)
    X = np.ascontiguousarray(X.T, dtype=np.float32)  # (frames, bins)
    return X.mean(axis=0) if cfg.pool == "mean" else X


def _tutorial5(y: np.ndarray, cfg: FrameConfig) -> np.ndarray:
    """Means of ZCR, chroma, MFCC (20), RMS and mel, as the 1-D CNN tutorial computes them."""
    kw = {"hop_length": cfg.hop_length}
    sr = cfg.sample_rate
    frames = spectral.frame(y, frame_length=cfg.n_fft, hop_length=cfg.hop_length)
    zcr = spectral.zero_crossing_rate(frames=frames).mean(keepdims=True)
    P = spectral.spectrogram(y, n_fft=cfg.n_fft, window=cfg.window, frames=frames, **kw)
    chroma = spectral.chroma_stft(S=np.sqrt(P), sr=sr).mean(axis=1)  # the tutorial passes |STFT|
    mel = spectral.apply_mel(P, sr=sr, n_mels=cfg.n_mels)
    mfcc = spectral.mfcc(S=spectral.power_to_db(mel, top_db=cfg.top_db), n_mfcc=20).mean(axis=1)
    rms = spectral.rms(frames=frames).mean(keepdims=True)
    return np.concatenate([zcr, chroma, mfcc, rms, mel.mean(axis=1)]).astype(np.float32)


def global_stats(items: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and standard deviation over every frame (or vector) of ``items``.

    Parameters
    ----------
    items : sequence of numpy.ndarray
        Feature matrices ``(frames, bins)`` or vectors ``(bins,)``, all with the same number of bins.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        float32 mean and standard deviation per bin (the deviation at least 1e-5).
    """
    X = np.concatenate([np.atleast_2d(x) for x in items], axis=0).astype(np.float64)
    return X.mean(axis=0).astype(np.float32), np.maximum(X.std(axis=0), 1e-5).astype(np.float32)


def normalize(X: np.ndarray, cfg: FrameConfig) -> np.ndarray:
    """Apply ``cfg.norm`` to one feature matrix or vector.

    Parameters
    ----------
    X : numpy.ndarray
        A ``(frames, bins)`` matrix or a vector.
    cfg : FrameConfig
        Its ``norm`` (and, for ``"global"``, ``mean`` and ``std``, else :class:`ParameterError`).

    Returns
    -------
    numpy.ndarray
        float32, the shape of ``X``.

    Examples
    --------
    >>> normalize(np.array([[1.0, 2.0], [3.0, 4.0]]), FrameConfig(norm="utterance")).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    X = np.asarray(X, dtype=np.float32)
    if cfg.norm == "global":
        if cfg.mean is None or cfg.std is None:
            raise ParameterError(
                "global normalisation needs the training set's mean and std (FrameConfig.mean/std)"
            )
        return (X - np.asarray(cfg.mean, dtype=np.float32)) / np.asarray(cfg.std, dtype=np.float32)
    if cfg.norm == "utterance":
        axis = 0 if X.ndim == 2 else None
        return (X - X.mean(axis=axis)) / np.maximum(X.std(axis=axis), 1e-5)
    return X


def fix_frames(X: np.ndarray, n: int | None) -> np.ndarray:
    """Centre-crop or zero-pad (at the end) a ``(frames, bins)`` matrix to ``n`` frames.

    Parameters
    ----------
    X : numpy.ndarray
        A ``(frames, bins)`` matrix (anything else is returned as it is).
    n : int or None
        Frames wanted; None keeps ``X``.

    Returns
    -------
    numpy.ndarray
        ``(n, bins)``, or ``X`` itself when there is nothing to change.

    Examples
    --------
    >>> fix_frames(np.ones((5, 2)), 3).shape, fix_frames(np.ones((2, 2)), 4).shape
    ((3, 2), (4, 2))
    >>> fix_frames(np.ones((2, 2)), 4)[:, 0].tolist()
    [1.0, 1.0, 0.0, 0.0]
    """
    if n is None or X.ndim != 2 or X.shape[0] == n:
        return X
    if X.shape[0] > n:
        s = (X.shape[0] - n) // 2
        return X[s : s + n]
    return np.pad(X, ((0, n - X.shape[0]), (0, 0)))


class FrameExtractor(RunnerFiles):
    """Deep models' input (an :class:`emovox.extractors.Extractor`): ``(1, frames, bins)`` for matrix
    models, ``(n,)`` for vector models, normalised as the model was trained.

    The leading 1 is the image channel; :meth:`emovox.inference.EmotionModel.proba_from_embeddings` adds
    the batch axis, so the ONNX head sees ``[1, 1, frames, bins]`` (or ``[1, n]``).
    """

    desc = "frames"  # (the progress bar of process_files)

    def __init__(self, spec: dict[str, Any], model_dir: Path | None = None):
        self.config = FrameConfig.from_dict(spec["config"])
        if self.config.norm == "global" and (self.config.mean is None or self.config.std is None):
            raise ParameterError(  # (said here, not at every file: process_files would fail each one)
                "frames: norm='global' needs the training set's mean and std (FrameConfig.mean/std, which a "
                "trained model stores); use norm='utterance' or 'none' to extract features alone"
            )
        self.sample_rate = self.config.sample_rate
        self.model_dir = model_dir

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> FrameExtractor:
        """The extractor that :meth:`to_dict` describes.

        Parameters
        ----------
        spec : dict
            As :meth:`to_dict` gives it (``config``: a :class:`FrameConfig`'s dict).
        model_dir : Path, optional
            The model directory it belongs to (default None).

        Returns
        -------
        FrameExtractor
        """
        return cls(spec, model_dir)

    @classmethod
    def from_config(cls, config: FrameConfig) -> FrameExtractor:
        """The extractor of a frame configuration.

        Parameters
        ----------
        config : FrameConfig
            The frames, normalisation and frame count.

        Returns
        -------
        FrameExtractor
        """
        return cls({"type": "frames", "config": config.to_dict()})

    def to_dict(self) -> dict[str, Any]:
        return {"type": "frames", "config": self.config.to_dict()}

    @property
    def fingerprint(self) -> str:
        """The whole configuration, normalisation statistics and frame count included (they change what
        :meth:`process_signal` returns; :meth:`FrameConfig.fingerprint` covers only the raw frames)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=float)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def process_signal(self, y: np.ndarray, sr: int | None = None) -> np.ndarray:
        """The model input of one mono signal, normalised as :attr:`config` says.

        Parameters
        ----------
        y : numpy.ndarray
            Mono samples.
        sr : int, optional
            Rate of ``y``; None (default): :attr:`sample_rate`.

        Returns
        -------
        numpy.ndarray
            float32: ``(1, frames, bins)`` (``max_frames`` frames when set) for matrix models, ``(n,)``
            for vector models.
        """
        from ..audio import signal_at

        y = signal_at(y, sr, self.sample_rate)
        X = normalize(raw_features(y, self.config), self.config)
        if self.config.is_vector:
            return X.astype(np.float32)
        return fix_frames(X, self.config.max_frames)[None].astype(np.float32)

    __call__ = process_signal

    def process_stream(self, chunks) -> np.ndarray:
        """:meth:`process_signal` of a recording given as chunks, joined whole first.

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono chunks at :attr:`sample_rate`.

        Returns
        -------
        numpy.ndarray
            As :meth:`process_signal` gives it.
        """
        # A deep model sees at most max_frames frames, so a long recording is read whole (its central
        # max_frames are what the model uses: fix_frames); models are trained on utterances.
        return self.process_signal(np.concatenate([np.asarray(c, np.float32) for c in chunks()]))

    def process_file(self, path) -> np.ndarray:
        """The model input of one audio file (:func:`emovox.extractors.runner.process_file`).

        Parameters
        ----------
        path : str or path
            The audio file.

        Returns
        -------
        numpy.ndarray
            As :meth:`process_signal` gives it.

        Raises
        ------
        AudioError
            When the file cannot be decoded.
        """
        from ..extractors.runner import process_file

        return process_file(self, path)


# ------------------------------------------------------------------------------------------------------------
@dataclass
class FrameTable:
    """Unnormalised features of the manifest rows that could be read, and augmented copies of them."""

    X: list[np.ndarray]
    manifest: Any
    config: FrameConfig
    failures: list[tuple[str, str]]
    copies: list[list[np.ndarray]] = field(default_factory=list)  # per row, its augmented versions


def raw_config(cfg: FrameConfig) -> FrameConfig:
    """``cfg`` without normalisation and frame count: the configuration of the unnormalised features that
    :func:`frame_table` computes and caches (one cache entry serves every ``norm`` / ``max_frames``).

    Parameters
    ----------
    cfg : FrameConfig
        A frame configuration.

    Returns
    -------
    FrameConfig
        A copy with ``norm="none"`` and no ``max_frames``, ``mean`` or ``std``.

    Examples
    --------
    >>> raw_config(FrameConfig(norm="utterance", max_frames=100)).norm
    'none'
    """
    return replace(cfg, norm="none", max_frames=None, mean=None, std=None)


def copy_seed(content_hash: str, copy: int, seed: int = 0) -> int:
    """The random seed of augmented copy ``copy`` of a file: derived from the file's content hash
    (:func:`emovox.extractors.runner.file_hash`, which also keys the cache), the copy number and ``seed``, so a
    copy is the same on every machine and a cache entry always holds what recomputing it gives.

    Parameters
    ----------
    content_hash : str
        The file's content hash.
    copy : int
        The augmented copy's number.
    seed : int
        The run's augmentation seed (default 0).

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.

    Examples
    --------
    >>> copy_seed("ab" * 20, 0) == copy_seed("ab" * 20, 0) != copy_seed("ab" * 20, 1)
    True
    """
    digest = hashlib.sha1(f"{content_hash}|{copy}|{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class AugmentedFrames(AugmentedView):
    """Augmented copy number ``copy`` of the unnormalised frames (training only): each file is decoded at
    ``config.sample_rate``, changed by ``augment`` with the random seed :func:`copy_seed` of its content,
    ``copy`` and ``seed``, and turned into :func:`raw_features`.

    An :class:`emovox.extractors.Extractor` (an :class:`emovox.augment.AugmentedView`) whose :meth:`to_dict` and
    :attr:`fingerprint` include the augmentation, the copy number and the seed, so :meth:`process_files` runs
    through the one runner and cache (:func:`emovox.extractors.runner.process_files`), in entries of its own; worker
    processes rebuild it with :meth:`from_dict`. The sibling of
    :class:`emovox.encoders.frontend.AugmentedExtractor`, whose seed and augmentations are those of the Whisper
    and hand-crafted front ends.

    Parameters
    ----------
    config : FrameConfig
        The frames (normalisation and frame count are ignored: see :func:`raw_config`).
    augment : WaveAugment
        The waveform augmentation (:class:`emovox.augment.WaveAugment`).
    copy : int
        Which copy (0, 1, ...): each has its own seed.
    seed : int
        Mixed into every copy's seed.

    Examples
    --------
    >>> from emovox.augment import WaveAugment
    >>> view = AugmentedFrames(FrameConfig(features="mfcc", pool="mean"), WaveAugment(), copy=1)
    >>> again = AugmentedFrames.from_dict(view.to_dict())
    >>> again.fingerprint == view.fingerprint != AugmentedFrames(view.config, WaveAugment(), copy=0).fingerprint
    True
    >>> y = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32) * 0.1
    >>> view.process_signal(y, seed=3).shape
    (40,)
    """

    def __init__(self, config: FrameConfig, augment: WaveAugment, copy: int, seed: int = 0) -> None:
        if not isinstance(augment, WaveAugment):  # a spec string is the encoders' AugmentedExtractor's
            raise ParameterError(
                f"augment: expected an emovox.augment.WaveAugment, e.g. WaveAugment(snr=(5.0, 20.0)), "
                f"got {augment!r}"
            )
        self.config = raw_config(config)
        self.sample_rate = self.config.sample_rate
        self.augment = augment
        self.copy = int(copy)
        self.seed = int(seed)
        self.desc = f"augmented frames {self.copy + 1}"
        self.model_dir = None

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> AugmentedFrames:
        """The view that :meth:`to_dict` describes (``model_dir`` is not used).

        Parameters
        ----------
        spec : dict
            As :meth:`to_dict` gives it: ``config``, ``augment``, ``copy`` and ``seed``.
        model_dir : Path, optional
            Not used (default None).

        Returns
        -------
        AugmentedFrames
        """
        return cls(
            FrameConfig.from_dict(spec["config"]),
            WaveAugment.from_dict(spec["augment"]),
            spec["copy"],
            spec["seed"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "frames-augmented",
            "config": self.config.to_dict(),
            "augment": self.augment.to_dict(),
            "copy": self.copy,
            "seed": self.seed,
        }

    @property
    def fingerprint(self) -> str:
        """The frames, the augmentation, the copy number and the seed."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def augmented(self, y: np.ndarray, seed: int) -> np.ndarray:
        """:func:`raw_features` of ``y`` (at :attr:`sample_rate`) after the augmentation, seeded by ``seed``.

        Parameters
        ----------
        y : numpy.ndarray
            Mono samples at :attr:`sample_rate`.
        seed : int
            Random seed of the augmentation.

        Returns
        -------
        numpy.ndarray
            Unnormalised ``(frames, bins)`` features, or a vector.
        """
        y, _ = self.augment(y, self.sample_rate, np.random.default_rng(seed))
        return raw_features(y, self.config)

    def file_seed(self, content_hash: str) -> int:
        """:func:`copy_seed` of the file's content hash, this copy's number and :attr:`seed`.

        Parameters
        ----------
        content_hash : str
            The file's content hash.

        Returns
        -------
        int
        """
        return copy_seed(content_hash, self.copy, self.seed)


def frame_table(
    manifest,
    cfg: FrameConfig,
    *,
    cache_dir: str | Path | None = None,
    copies: int = 0,
    augment: Any = None,
    seed: int = 0,
    n_jobs: int | None = 1,
    progress: bool = False,
) -> FrameTable:
    """Unnormalised features of every manifest row, and augmented copies of them, through the one runner
    and cache every front end uses (:func:`emovox.extractors.runner.process_files`).

    The clean frames are a :class:`FrameExtractor` of :func:`raw_config` ``(cfg)``, the copies an
    :class:`AugmentedFrames` view per copy number; each file's result is cached as
    ``<cache_dir>/<fingerprint>-v<EXTRACTOR_VERSION>/<content hash>.npy``, so a second call computes
    nothing. A file that fails (the original or one of its copies) is listed in ``failures``, never raised,
    and its row left out.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column.
    cfg : FrameConfig
        The frames (their normalisation is applied later, by training and prediction).
    cache_dir : path, optional
        The feature cache (default ``<default_cache_dir>/features``, as for every front end); a false value
        other than ``None`` (``""``) computes without caching.
    copies : int
        Also compute this many augmented versions of each file with ``augment`` (a
        :class:`emovox.augment.WaveAugment`); each copy's random seed derives from the file's content, the
        copy number and ``seed`` (:func:`copy_seed`), so copies are reproducible and cached too.
    augment : WaveAugment, optional
        Needed when ``copies`` > 0.
    seed : int
        Mixed into every copy's seed.
    n_jobs : int or None
        Worker processes (default 1: in this process; ``None`` or -1: every core).
    progress : bool
        Show progress bars.

    Returns
    -------
    FrameTable
        ``X``: one ``(frames, bins)`` matrix or vector per kept row; ``manifest``: the kept rows;
        ``copies``: per kept row, its ``copies`` augmented versions (empty when ``copies`` is 0).

    Raises
    ------
    ParameterError
        ``copies`` > 0 without ``augment``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = frame_table(pd.DataFrame({"path": ["/nonexistent.wav"]}), FrameConfig(), cache_dir="", progress=False)
    >>> len(t.X), len(t.failures)
    (0, 1)
    """
    if copies and augment is None:
        raise ParameterError(f"{copies} augmented copies need an augmentation (augment=WaveAugment(...))")
    if cache_dir is None:
        from ..tables import default_cache_dir

        cache_dir = default_cache_dir() / "features"
    cache = Path(cache_dir) if cache_dir else None
    raw = raw_config(cfg)
    paths = list(manifest["path"].astype(str))
    res = FrameExtractor.from_config(raw).process_files(
        paths, n_jobs=n_jobs, cache_dir=cache, progress=progress
    )
    log.debug("frames: %d of %d files from the cache", res.n_cached, len(paths))
    rows = np.flatnonzero(res.mask)  # manifest row of each result
    X = [x if raw.is_vector else x[0] for x in res.features]  # without FrameExtractor's channel axis
    failed = {int(i): msg for i, (_, msg) in zip(np.flatnonzero(~res.mask), res.failures, strict=True)}
    versions: list[list[np.ndarray]] = [[] for _ in X]
    for k in range(copies):
        extra = AugmentedFrames(raw, augment, k, seed).process_files(
            res.paths, n_jobs=n_jobs, cache_dir=cache, progress=progress
        )
        done = iter(extra.features)
        for j, ok in enumerate(extra.mask):
            if ok:
                versions[j].append(next(done))
        for j, (_, msg) in zip(np.flatnonzero(~extra.mask), extra.failures, strict=True):
            failed.setdefault(int(rows[j]), msg)
    good = [j for j in range(len(X)) if len(versions[j]) == copies]  # the original and every copy
    kept = manifest.iloc[rows[good]].reset_index(drop=True)
    failures = [(paths[i], failed[i]) for i in sorted(failed)]
    return FrameTable(
        [X[j] for j in good], kept, cfg, failures, [versions[j] for j in good] if copies else []
    )
