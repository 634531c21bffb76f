"""The processing interface: one :class:`FeatureExtractor` per configuration, from a signal, a file or a corpus.

All spectral families of a file come from one STFT (framed once; the frames also feed the time-domain
families), filterbanks are cached, and :meth:`FeatureExtractor.process_files` runs over processes with a
progress bar and an on-disk cache of ``.npy`` files keyed by (file content hash, config fingerprint,
:data:`EXTRACTOR_VERSION`), so a second run over the same corpus computes nothing.

Examples
--------
>>> import numpy as np
>>> from emovox.features import FeatureExtractor
>>> ex = FeatureExtractor("tutorial")
>>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
>>> v = ex.process_signal(y, 16000)
>>> v.shape, v.dtype, len(ex.feature_names)
((180,), dtype('float32'), 180)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import multiprocessing
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import FeatureError
from . import spectral as sp
from .config import FeatureConfig, as_config
from .pitch import f0_to_semitones, yin
from .stats import delta, functional_names, functional_values

__all__ = ["EXTRACTOR_VERSION", "ExtractionResult", "FeatureExtractor", "file_hash"]

#: Bump when the numbers a given config produces change; part of every cache key.
EXTRACTOR_VERSION = "1"

PathLike = str | os.PathLike


class ExtractionResult(NamedTuple):
    """What :meth:`FeatureExtractor.process_files` returns.

    Attributes
    ----------
    features : np.ndarray, float32, shape (n_ok, n_features)
        One row per successfully processed file; row ``i`` belongs to ``paths[i]``.
    paths : list of str
        The successfully processed inputs, in input order.
    failures : list of (str, str)
        ``(path, one-line message naming the file)`` for each input that failed, in input order.
    mask : np.ndarray, bool, shape (n_inputs,)
        ``True`` where the input at that position succeeded (``features`` = rows of the ``True`` positions).
    n_cached : int
        How many rows came from the disk cache rather than being computed.
    """

    features: np.ndarray
    paths: list[str]
    failures: list[tuple[str, str]]
    mask: np.ndarray
    n_cached: int = 0


def file_hash(*paths: PathLike | None, digest_size: int = 20, chunk: int = 1 << 20) -> str:
    """blake2b hex digest of the bytes of one or more files (``None`` skipped): the content part of a
    cache key, so a copied, moved or re-downloaded file keeps its cache entries.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> len(file_hash(f.name)); os.unlink(f.name)
    40
    """
    h = hashlib.blake2b(digest_size=digest_size)
    for path in filter(None, paths):
        with open(path, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(chunk), b""):
                h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=4)
def _smile(feature_set: str):
    try:
        import opensmile
    except ImportError as exc:  # pragma: no cover - opensmile is a declared dependency
        raise FeatureError(f"openSMILE features need the 'opensmile' package ({exc})") from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set], feature_level=opensmile.FeatureLevel.Functionals
    )


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 300 else text[:297] + "..."


class FeatureExtractor:
    """Hand-crafted utterance features for one :class:`~emovox.features.config.FeatureConfig`.

    Parameters
    ----------
    config : FeatureConfig, dict or str
        A config, its :meth:`~FeatureConfig.to_dict`, or a preset name ("tutorial", "emovox", "egemaps",
        "compare").

    Examples
    --------
    >>> import numpy as np
    >>> ex = FeatureExtractor("emovox")
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> ex.process_signal(y, 16000).shape == (len(ex.feature_names),)
    True
    """

    def __init__(self, config: FeatureConfig | dict[str, Any] | str = "emovox") -> None:
        self.config: FeatureConfig = as_config(config)
        self.fingerprint: str = self.config.fingerprint()
        self._names: list[str] | None = None

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.config.name!r}, n_features={self.n_features}, fingerprint={self.fingerprint[:12]})"

    # -- names -----------------------------------------------------------------------------------------

    def family_rows(self, family: str) -> list[str]:
        """Names of the frame-level rows one family contributes (before statistics).

        Examples
        --------
        >>> FeatureExtractor("tutorial").family_rows("chroma")[9]
        'chroma_A'
        """
        c = self.config
        if family == "mfcc":
            return [f"mfcc_{i}" for i in range(c.n_mfcc)]
        if family == "mel":
            return [f"mel_{i}" for i in range(c.n_mels)]
        if family == "chroma":
            if c.n_chroma == 12:
                return [f"chroma_{p}" for p in sp.PITCH_CLASSES]
            return [f"chroma_{i}" for i in range(c.n_chroma)]
        if family == "contrast":
            return [f"contrast_{i}" for i in range(c.contrast_bands + 1)]
        if family == "tonnetz":
            return [f"tonnetz_{i}" for i in range(6)]
        if family == "pitch":
            return ["f0_semitones", "voicing_prob"]
        return [family]

    @property
    def frame_rows(self) -> list[str]:
        """Names of the rows of :meth:`frame_matrix` (all families, in config order)."""
        return [r for fam in self.config.families for r in self.family_rows(fam)]

    @property
    def feature_names(self) -> list[str]:
        """Name of every value of the vector, in order.

        Statistic-major over all frame rows (``f"{row}_{stat}"``, then ``f"{row}_p{q}"``), then for each
        delta order ``k`` the delta statistics (``f"{row}_d{k}_{stat}"``), then openSMILE's own names.
        """
        if self._names is None:
            c = self.config
            rows = self.frame_rows
            names: list[str] = []
            if rows:
                names += functional_names(rows, c.statistics, c.percentiles)
                for d in c.deltas:
                    names += functional_names(
                        [f"{r}_d{d}" for r in rows], c.delta_statistics, c.delta_percentiles
                    )
            if c.opensmile_set is not None:
                names += list(_smile(c.opensmile_set).feature_names)
            self._names = names
        return list(self._names)

    @property
    def n_features(self) -> int:
        """Length of the feature vector."""
        return len(self.feature_names)

    # -- computation -----------------------------------------------------------------------------------

    def frame_features(self, y: np.ndarray) -> list[tuple[str, np.ndarray, list[str]]]:
        """Frame-level features of a signal at ``config.sample_rate``: ``[(family, X (rows, frames), row names)]``.

        One framing and one STFT feed every family. F0 is NaN in unvoiced frames.

        Examples
        --------
        >>> import numpy as np
        >>> fam, X, rows = FeatureExtractor("tutorial").frame_features(np.ones(16000, np.float32) * 0.1)[0]
        >>> fam, X.shape
        ('mfcc', (40, 32))
        """
        c = self.config
        fams = c.families
        sr = c.sample_rate
        out: list[tuple[str, np.ndarray, list[str]]] = []
        if not fams:
            return out
        frames = sp.frame(y, frame_length=c.n_fft, hop_length=c.hop_length, center=c.center)
        spectral_fams = set(fams) - {"zcr", "rms", "energy_entropy", "pitch"}
        M = P = mel = chroma = centroid = None
        if spectral_fams:
            D = sp.stft(y, n_fft=c.n_fft, win_length=c.win_length, window=c.window, frames=frames)
            M = np.abs(D)  # magnitude, float32, (F, T)
            if spectral_fams & {"mfcc", "mel", "spread", "entropy", "flatness"} or (
                spectral_fams & {"chroma", "tonnetz", "chroma_deviation"} and c.chroma_power == 2.0
            ):
                P = np.square(M)
        logP = None
        if {"flatness", "entropy"} <= spectral_fams:
            logP = sp.log_power_spectrum(P if P is not None else np.square(M))
        if {"mfcc", "mel"} & spectral_fams:
            mel = sp.apply_mel(P, sr=sr, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)
        if {"chroma", "tonnetz", "chroma_deviation"} & spectral_fams:
            C = P if c.chroma_power == 2.0 else (M if c.chroma_power == 1.0 else M**c.chroma_power)
            chroma = sp.chroma_stft(S=C, sr=sr, n_chroma=c.n_chroma, tuning=c.tuning)
        for fam in fams:
            if fam == "mfcc":
                X = sp.mfcc(S=sp.power_to_db(mel, top_db=c.mfcc_top_db), n_mfcc=c.n_mfcc)
            elif fam == "mel":
                X = sp.power_to_db(mel, top_db=None) if c.mel_db else mel
            elif fam == "chroma":
                X = chroma
            elif fam == "contrast":
                X = sp.spectral_contrast(S=M, sr=sr, fmin=c.contrast_fmin, n_bands=c.contrast_bands)
            elif fam == "tonnetz":
                X = sp.tonnetz(chroma)
            elif fam == "centroid":
                centroid = sp.spectral_centroid(S=M, sr=sr)
                X = centroid
            elif fam == "bandwidth":
                X = sp.spectral_bandwidth(S=M, sr=sr, centroid=centroid)
            elif fam == "rolloff":
                X = sp.spectral_rolloff(S=M, sr=sr, roll_percent=c.rolloff_percent)
            elif fam == "flatness":
                X = sp.spectral_flatness(S=M, log_power=logP)
            elif fam == "spread":
                X = sp.spectral_spread(S=P, sr=sr)
            elif fam == "entropy":
                X = sp.spectral_entropy(S=P, log_power=logP)
            elif fam == "flux":
                X = sp.spectral_flux(S=M)
            elif fam == "chroma_deviation":
                X = sp.chroma_deviation(chroma)
            elif fam == "zcr":
                X = sp.zero_crossing_rate(frames=frames)
            elif fam == "rms":
                X = sp.rms(frames=frames)
            elif fam == "energy_entropy":
                X = sp.energy_entropy(frames=frames)
            elif fam == "pitch":
                f0, _, prob = yin(
                    y,
                    sr=sr,
                    fmin=c.pitch_fmin,
                    fmax=c.pitch_fmax,
                    frame_length=c.pitch_frame_length,
                    hop_length=c.hop_length,
                    center=c.center,
                )
                X = np.stack([f0_to_semitones(f0), prob])
            else:  # pragma: no cover - config validation rejects unknown families
                raise FeatureError(f"unknown feature family {fam!r}")
            X = np.asarray(X, dtype=np.float32)
            out.append((fam, X.reshape(-1, X.shape[-1]), self.family_rows(fam)))
        return out

    def frame_matrix(self, y: np.ndarray) -> np.ndarray:
        """All frame-level rows stacked, float32 ``(len(frame_rows), n_frames)`` (NaN = no value, e.g. F0).

        Examples
        --------
        >>> import numpy as np
        >>> FeatureExtractor("tutorial").frame_matrix(np.ones(16000, np.float32) * 0.1).shape
        (180, 32)
        """
        fams = self.frame_features(y)
        T = fams[0][1].shape[1]
        blocks = []
        for _, X, _ in fams:
            if X.shape[1] != T:  # different framing (should not happen with centred frames): align
                X = (
                    X[:, :T]
                    if X.shape[1] > T
                    else np.pad(X, ((0, 0), (0, T - X.shape[1])), constant_values=np.nan)
                )
            blocks.append(X)
        return np.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]

    def process_signal(self, y: np.ndarray, sr: int | None = None) -> np.ndarray:
        """Feature vector (float32, ``(n_features,)``) of a mono signal.

        Parameters
        ----------
        y : np.ndarray
            Mono samples (float, roughly in [-1, 1]).
        sr : int, optional
            Rate of ``y``; resampled to ``config.sample_rate`` when different (default: already at it).

        Raises
        ------
        FeatureError
            Empty, non-1-D or non-finite input.
        """
        c = self.config
        y = np.asarray(y)
        if y.ndim != 1:
            raise FeatureError(f"expected a 1-D mono signal, got shape {y.shape}")
        if y.size == 0:
            raise FeatureError("cannot compute features of an empty signal")
        y = y.astype(np.float32, copy=False)
        if not np.isfinite(y).all():
            raise FeatureError("signal contains non-finite samples (NaN or Inf)")
        if sr is not None and int(sr) != c.sample_rate:
            from ..audio import resample

            y = resample(y, int(sr), c.sample_rate)
        if c.trim_db is not None:
            y = sp.trim_silence(y, c.trim_db)
        parts: list[np.ndarray] = []
        if c.families:
            X = self.frame_matrix(y)
            parts.append(functional_values(X, statistics=c.statistics, percentiles=c.percentiles))
            for d in c.deltas:
                dX = delta(X, order=d, width=c.delta_width)
                parts.append(
                    functional_values(dX, statistics=c.delta_statistics, percentiles=c.delta_percentiles)
                )
        if c.opensmile_set is not None:
            df = _smile(c.opensmile_set).process_signal(y, c.sample_rate)
            parts.append(df.to_numpy(dtype=np.float32).reshape(-1))
        v = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
        if not np.isfinite(v).all():
            raise FeatureError("features contain non-finite values")
        return v

    def process_stream(self, chunks, window_seconds: float = 60.0) -> np.ndarray:
        """Feature vector of a long recording given as ``chunks()``, a callable returning a fresh iterator of
        consecutive mono chunks at ``config.sample_rate`` (e.g. ``lambda: emovox.audio.stream_audio(path)``).

        Frame-level rows are computed window by window (``window_seconds``, with context on both sides so
        that each frame sees the samples it sees in the whole signal) and kept as float32 (about 70 MB for
        an hour with the ``emovox`` preset, never copied whole); the statistics and deltas then run over a
        few rows at a time.
        Not bit-identical to :meth:`process_signal` on the whole signal: two frame-level families take one
        value from their whole input, here from each window: the MFCC floor (``mfcc_top_db`` below the
        loudest mel value) and YIN's loudness gate (frames ``silence_db`` below the loudest). Frames of
        speech are unaffected; frames of near-silence can differ, so the vector is close, not equal
        (tests/test_streaming.py bounds the difference). ``trim_db`` and openSMILE configurations need the
        whole signal and read it whole.
        """
        from ..audio import context_windows

        c = self.config
        if c.trim_db is not None or c.opensmile_set is not None or not c.families:
            return self.process_signal(np.concatenate([np.asarray(x, np.float32) for x in chunks()]))
        hop = c.hop_length
        ctx = hop * (max(c.n_fft, c.pitch_frame_length) // hop + 4)
        win = max(1, int(window_seconds * c.sample_rate) // hop) * hop
        blocks = []
        per_window = win // hop
        for k, seg, lo, n_total in context_windows(chunks(), win, ctx):
            n_here = per_window
            if n_total is not None:
                n_here = min(
                    per_window,
                    (1 + n_total // hop if c.center else 1 + (n_total - c.n_fft) // hop) - k * per_window,
                )
            if n_here <= 0:
                break
            if not np.isfinite(seg).all():
                raise FeatureError("signal contains non-finite samples (NaN or Inf)")
            first = (k * win - lo) // hop
            blocks.append(np.ascontiguousarray(self.frame_matrix(seg)[:, first : first + n_here]))
        if not blocks:
            raise FeatureError("cannot compute features of an empty signal")
        step = 8  # rows at a time: statistics and deltas are per row, so the blocks are never joined whole
        stats, deltas = [], {d: [] for d in c.deltas}
        for r in range(0, blocks[0].shape[0], step):
            rows = np.concatenate([b[r : r + step] for b in blocks], axis=1)
            stats.append(
                functional_values(rows, statistics=c.statistics, percentiles=c.percentiles).reshape(
                    -1, rows.shape[0]
                )
            )
            for d in c.deltas:
                dX = delta(rows, order=d, width=c.delta_width)
                deltas[d].append(
                    functional_values(
                        dX, statistics=c.delta_statistics, percentiles=c.delta_percentiles
                    ).reshape(-1, rows.shape[0])
                )
        parts = [np.concatenate(stats, axis=1).reshape(-1)]
        parts += [np.concatenate(deltas[d], axis=1).reshape(-1) for d in c.deltas]
        v = np.concatenate(parts).astype(np.float32, copy=False)
        if not np.isfinite(v).all():
            raise FeatureError("features contain non-finite values")
        return v

    def process_file(self, path: PathLike) -> np.ndarray:
        """Feature vector of an audio file (decoded and resampled by :func:`emovox.load_audio`).

        Raises
        ------
        emovox.AudioError
            The file cannot be decoded.
        FeatureError
            Features cannot be computed.
        """
        from ..audio import (
            DEFAULT_MIN_DURATION,
            STREAM_AFTER_SECONDS,
            audio_duration,
            load_audio,
            stream_audio,
        )

        sr = self.config.sample_rate
        if (audio_duration(path) or 0.0) > STREAM_AFTER_SECONDS:  # long: window by window, bounded memory
            try:
                return self.process_stream(lambda: stream_audio(path, sr, min_duration=DEFAULT_MIN_DURATION))
            except FeatureError as exc:
                raise FeatureError(f"{path}: {exc}") from None
        y = load_audio(path, sr=sr)
        try:
            return self.process_signal(y)
        except FeatureError as exc:
            raise FeatureError(f"{path}: {exc}") from None

    # -- corpus scale ------------------------------------------------------------------------------------

    def cache_path(self, cache_dir: PathLike, content_hash: str) -> Path:
        """Where the cached vector of a file with this content hash lives."""
        return Path(cache_dir) / f"{self.fingerprint}-v{EXTRACTOR_VERSION}" / f"{content_hash}.npy"

    def _process_cached(self, path: str, cache_dir: str | None) -> tuple[np.ndarray, bool]:
        if cache_dir is None:
            return self.process_file(path), False
        try:
            key = file_hash(path)
        except OSError as exc:
            raise FeatureError(f"{path}: cannot read ({exc.strerror or exc})") from None
        target = self.cache_path(cache_dir, key)
        if target.is_file():
            try:
                v = np.load(target, allow_pickle=False)
                if v.shape == (self.n_features,) and v.dtype == np.float32:
                    return v, True
            except (OSError, ValueError):
                pass  # unreadable cache entry: recompute and overwrite
        v = self.process_file(path)
        _atomic_save(target, v, self.config)
        return v, False

    def _process_item(self, path: str, cache_dir: str | None) -> tuple[np.ndarray | None, str | None, bool]:
        try:
            v, cached = self._process_cached(path, cache_dir)
            return v, None, cached
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none aborts the run
            msg = _one_line(str(exc)) or type(exc).__name__
            if path not in msg:
                msg = f"{path}: {type(exc).__name__}: {msg}"
            return None, msg, False

    def process_files(
        self,
        paths: Iterable[PathLike],
        *,
        n_jobs: int | None = 1,
        cache_dir: PathLike | None = None,
        progress: bool = True,
        chunksize: int | None = None,
        mp_context: str | None = None,
    ) -> ExtractionResult:
        """Features of many files, in parallel, with a disk cache; failures are reported, never raised.

        Parameters
        ----------
        paths : iterable of path
            Audio files.
        n_jobs : int or None
            Worker processes; ``None`` or ``-1`` = all CPUs; 1 = in this process.
        cache_dir : path, optional
            Directory of cached ``.npy`` vectors (created as needed). A file whose bytes, config fingerprint
            and :data:`EXTRACTOR_VERSION` match a cached entry is not decoded again.
        progress : bool
            Show a tqdm progress bar with ETA.
        chunksize : int, optional
            Files per task sent to a worker (default: a few tasks per worker, at most 32 files).
        mp_context : str, optional
            ``multiprocessing`` start method ("fork", "spawn", "forkserver"); default: the platform's.

        Returns
        -------
        ExtractionResult
            ``(features, paths, failures, mask, n_cached)``; ``features[i]`` belongs to ``paths[i]``.

        Examples
        --------
        >>> ex = FeatureExtractor("tutorial")
        >>> res = ex.process_files(["/nonexistent.wav"], progress=False)
        >>> res.features.shape, len(res.failures)
        ((0, 180), 1)
        """
        from tqdm.auto import tqdm

        items = [str(p) for p in paths]
        n = len(items)
        cdir = None if cache_dir is None else str(cache_dir)
        if cdir is not None:
            Path(cdir).mkdir(parents=True, exist_ok=True)
        if n_jobs is None or n_jobs < 1:
            n_jobs = os.cpu_count() or 1
        n_jobs = max(1, min(n_jobs, n))
        results: list[tuple[np.ndarray | None, str | None, bool]] = [(None, None, False)] * n
        bar = tqdm(
            total=n,
            desc=f"features ({self.config.name})",
            unit="file",
            disable=not progress,
            dynamic_ncols=True,
        )
        n_failed = 0
        try:
            if n_jobs == 1:
                for i, p in enumerate(items):
                    results[i] = self._process_item(p, cdir)
                    n_failed += results[i][1] is not None
                    bar.update(1)
                    if n_failed:
                        bar.set_postfix(failed=n_failed, refresh=False)
            else:
                size = chunksize or max(1, min(32, math.ceil(n / (4 * n_jobs))))
                chunks = [list(range(s, min(n, s + size))) for s in range(0, n, size)]
                ctx = multiprocessing.get_context(mp_context) if mp_context else None
                cfg = self.config.to_dict()
                with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
                    futs = {pool.submit(_run_chunk, cfg, [items[i] for i in ch], cdir): ch for ch in chunks}
                    for fut in as_completed(futs):
                        ch = futs[fut]
                        try:
                            res = fut.result()
                        except Exception as exc:  # noqa: BLE001 - a dead worker fails its chunk only
                            res = [
                                (
                                    None,
                                    f"{items[i]}: worker failed: {_one_line(str(exc)) or type(exc).__name__}",
                                    False,
                                )
                                for i in ch
                            ]
                        for i, r in zip(ch, res, strict=True):
                            results[i] = r
                            n_failed += r[1] is not None
                        bar.update(len(ch))
                        if n_failed:
                            bar.set_postfix(failed=n_failed, refresh=False)
        finally:
            bar.close()
        mask = np.array([r[0] is not None for r in results], dtype=bool)
        ok = [r[0] for r in results if r[0] is not None]
        X = np.stack(ok).astype(np.float32, copy=False) if ok else np.zeros((0, self.n_features), np.float32)
        return ExtractionResult(
            features=X,
            paths=[p for p, m in zip(items, mask, strict=True) if m],
            failures=[(p, r[1] or "") for p, r in zip(items, results, strict=True) if r[0] is None],
            mask=mask,
            n_cached=sum(1 for r in results if r[2]),
        )


def _atomic_save(target: Path, v: np.ndarray, config: FeatureConfig) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = target.parent / "config.json"
    if not meta.exists():
        _atomic_write_bytes(
            meta,
            json.dumps(
                {"extractor_version": EXTRACTOR_VERSION, "config": config.to_dict()}, indent=1, sort_keys=True
            ).encode(),
        )
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.ascontiguousarray(v, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)


_WORKER_EXTRACTORS: dict[str, FeatureExtractor] = {}


def _single_threaded_blas() -> None:
    """In a worker process: one BLAS thread (the processes are the parallelism; threads would oversubscribe)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(limits=1)


def _run_chunk(config: dict[str, Any], paths: Sequence[str], cache_dir: str | None):
    """Worker-side: process a chunk of files with a per-process extractor."""
    cfg = FeatureConfig.from_dict(config)
    fp = cfg.fingerprint()
    ex = _WORKER_EXTRACTORS.get(fp)
    if ex is None:
        if not _WORKER_EXTRACTORS:
            _single_threaded_blas()
        ex = _WORKER_EXTRACTORS[fp] = FeatureExtractor(cfg)
    return [ex._process_item(p, cache_dir) for p in paths]
