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
computes (and caches as ``.npy``) the features of a manifest, optionally with augmented copies.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..features import spectral

FRAMES_VERSION = 1


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
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def fingerprint(self) -> str:
        """Hash of everything that changes the (unnormalised) features, for the cache."""
        d = {k: v for k, v in self.to_dict().items() if k not in ("mean", "std", "norm", "max_frames")}
        d["version"] = FRAMES_VERSION
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------------------
def raw_features(y: np.ndarray, cfg: FrameConfig) -> np.ndarray:
    """Unnormalised features of one mono signal at ``cfg.sample_rate``: ``(frames, bins)`` or a vector."""
    y = np.asarray(y, dtype=np.float32)
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
    """Per-bin mean and standard deviation over every frame (or vector) of ``items``."""
    X = np.concatenate([np.atleast_2d(x) for x in items], axis=0).astype(np.float64)
    return X.mean(axis=0).astype(np.float32), np.maximum(X.std(axis=0), 1e-5).astype(np.float32)


def normalize(X: np.ndarray, cfg: FrameConfig) -> np.ndarray:
    """Apply ``cfg.norm`` to one feature matrix or vector."""
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
    """Centre-crop or zero-pad (at the end) a ``(frames, bins)`` matrix to ``n`` frames."""
    if n is None or X.ndim != 2 or X.shape[0] == n:
        return X
    if X.shape[0] > n:
        s = (X.shape[0] - n) // 2
        return X[s : s + n]
    return np.pad(X, ((0, n - X.shape[0]), (0, 0)))


class FrameExtractor:
    """Deep models' input (an :class:`emovox.extractors.Extractor`): ``(1, frames, bins)`` for matrix
    models, ``(n,)`` for vector models, normalised as the model was trained.

    The leading 1 is the image channel; :meth:`emovox.inference.EmotionModel.proba_from_embeddings` adds
    the batch axis, so the ONNX head sees ``[1, 1, frames, bins]`` (or ``[1, n]``).
    """

    def __init__(self, spec: dict[str, Any], model_dir: Path | None = None):
        self.config = FrameConfig.from_dict(spec["config"])
        self.sample_rate = self.config.sample_rate
        self.model_dir = model_dir

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> FrameExtractor:
        return cls(spec, model_dir)

    @classmethod
    def from_config(cls, config: FrameConfig) -> FrameExtractor:
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
        if sr is not None and int(sr) != self.sample_rate:
            from ..audio import resample

            y = resample(np.asarray(y, np.float32), int(sr), self.sample_rate)
        X = normalize(raw_features(y, self.config), self.config)
        if self.config.is_vector:
            return X.astype(np.float32)
        return fix_frames(X, self.config.max_frames)[None].astype(np.float32)

    __call__ = process_signal

    def process_stream(self, chunks) -> np.ndarray:
        # A deep model sees at most max_frames frames, so a long recording is read whole (its first
        # max_frames are what the model uses); models are trained on utterances.
        return self.process_signal(np.concatenate([np.asarray(c, np.float32) for c in chunks()]))

    def process_file(self, path) -> np.ndarray:
        from ..extraction import process_file

        return process_file(self, path)

    def process_files(self, paths, *, n_jobs: int | None = 1, cache_dir=None, progress: bool = True):
        from ..extraction import process_files

        return process_files(
            self, paths, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress, desc="frames"
        )


# ------------------------------------------------------------------------------------------------------------
@dataclass
class FrameTable:
    """Unnormalised features of the manifest rows that could be read, and augmented copies of them."""

    X: list[np.ndarray]
    manifest: Any
    config: FrameConfig
    failures: list[tuple[str, str]]
    copies: list[list[np.ndarray]] = field(default_factory=list)  # per row, its augmented versions


def _file_key(path: str) -> str:
    from ..extraction import file_hash

    return file_hash(path)  # by content: augmented copies (seeded from it) are the same on every machine


def _cached(cache: Path | None, key: str, compute):
    if cache is None:
        return compute()
    f = cache / (hashlib.sha1(key.encode()).hexdigest() + ".npy")
    if f.is_file():
        try:
            return np.load(f, allow_pickle=False)
        except (OSError, ValueError):
            pass
    X = compute()
    tmp = f.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, X, allow_pickle=False)
    os.replace(tmp, f)
    return X


def frame_table(
    manifest,
    cfg: FrameConfig,
    *,
    cache_dir: str | Path | None = None,
    copies: int = 0,
    augment=None,
    seed: int = 0,
    progress: bool = True,
) -> FrameTable:
    """Features of every manifest row (``.npy`` cache per file and configuration); failures are listed.

    Parameters
    ----------
    copies : int
        Also compute this many augmented versions of each file with ``augment`` (a
        :class:`emovox.augment.WaveAugment`); each copy's random seed derives from the file, the copy
        number and ``seed``, so copies are reproducible and cached too.
    """
    from tqdm import tqdm

    from ..audio import load_audio
    from ..errors import EmovoxError

    if cache_dir is None:
        from ..tables import default_cache_dir

        cache_dir = default_cache_dir()
    cache = Path(cache_dir) / "frames" / cfg.fingerprint() if cache_dir else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    aug_id = (
        hashlib.sha1(json.dumps(augment.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:12]
        if copies and augment is not None
        else ""
    )
    keep, X, extra, failures = [], [], [], []
    paths = list(manifest["path"].astype(str))
    for i, path in enumerate(
        tqdm(paths, desc="frame features", unit="file", disable=not progress, leave=False)
    ):
        try:
            key = _file_key(path)
            signal: list[np.ndarray] = []

            def load(path=path, signal=signal):
                if not signal:
                    signal.append(load_audio(path, cfg.sample_rate))
                return signal[0]

            x = _cached(cache, key, lambda load=load: raw_features(load(), cfg))
            versions = []
            for k in range(copies):
                s = int.from_bytes(hashlib.sha1(f"{key}|{k}|{seed}".encode()).digest()[:4], "little")

                def make(load=load, s=s):
                    y, _ = augment(load(), cfg.sample_rate, np.random.default_rng(s))
                    return raw_features(y, cfg)

                versions.append(_cached(cache, f"{key}|aug:{aug_id}|{k}|{seed}", make))
            X.append(x)
            extra.append(versions)
            keep.append(i)
        except (EmovoxError, OSError) as exc:
            failures.append((path, str(exc)))
    kept = manifest.iloc[keep].reset_index(drop=True)
    return FrameTable(X, kept, cfg, failures, extra if copies else [])
