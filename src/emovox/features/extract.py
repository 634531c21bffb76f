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

import os
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FeatureError, ModelError
from ..extractors.runner import (
    EXTRACTOR_VERSION,
    ExtractionResult,
    cache_path,
    file_hash,
    process_file,
    process_files,
)
from . import spectral as sp
from .config import FeatureConfig, as_config
from .pitch import f0_to_semitones, yin
from .stats import delta, functional_names, functional_values

__all__ = ["EXTRACTOR_VERSION", "ExtractionResult", "FeatureExtractor", "file_hash"]

PathLike = str | os.PathLike


@lru_cache(maxsize=4)
def _smile(feature_set: str):
    try:
        import opensmile
    except ImportError as exc:  # pragma: no cover - opensmile is a declared dependency
        raise FeatureError(f"openSMILE features need the 'opensmile' package ({exc})") from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[feature_set], feature_level=opensmile.FeatureLevel.Functionals
    )


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

    @property
    def sample_rate(self) -> int:
        """Rate in Hz the extractor works at (``config.sample_rate``)."""
        return self.config.sample_rate

    def to_dict(self) -> dict[str, Any]:
        """The model-directory front end (:func:`emovox.extractors.from_dict` rebuilds the extractor from it).

        Returns
        -------
        dict
            ``{"type": "handcrafted", "config": config.to_dict(), "fingerprint": fingerprint}``, JSON-safe.

        Examples
        --------
        >>> ex = FeatureExtractor("tutorial")
        >>> ex.to_dict()["type"], ex.to_dict()["fingerprint"] == ex.fingerprint
        ('handcrafted', True)
        """
        return {"type": "handcrafted", "config": self.config.to_dict(), "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, spec: dict[str, Any], model_dir: Path | None = None) -> FeatureExtractor:
        """The extractor of a :meth:`to_dict`; refuses a configuration that no longer matches its
        fingerprint (edited, or computed differently by this emovox version).

        Parameters
        ----------
        spec : dict
            A :meth:`to_dict`: its ``config``, and optionally its ``fingerprint`` (checked when given).
        model_dir : pathlib.Path, optional
            The model directory the spec comes from, named in errors; None (default): none.

        Returns
        -------
        FeatureExtractor

        Raises
        ------
        ModelError
            When the fingerprint does not match the configuration.
        FeatureError
            When the configuration is not valid.

        Examples
        --------
        >>> FeatureExtractor.from_dict(FeatureExtractor("tutorial").to_dict())
        FeatureExtractor('tutorial', n_features=180, fingerprint=7412051a2987)
        """
        ext = cls(spec["config"])
        if spec.get("fingerprint") and spec["fingerprint"] != ext.fingerprint:
            raise ModelError(
                f"{model_dir or 'front end'}: feature configuration does not match its fingerprint"
            )
        return ext

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.config.name!r}, n_features={self.n_features}, fingerprint={self.fingerprint[:12]})"

    # -- names -----------------------------------------------------------------------------------------

    def family_rows(self, family: str) -> list[str]:
        """Names of the frame-level rows one family contributes (before statistics).

        Parameters
        ----------
        family : str
            A feature family (``mfcc``, ``chroma``, ``pitch``...).

        Returns
        -------
        list of str
            One name per row; a single-row family's is the family's name.

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

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at ``config.sample_rate``.

        Returns
        -------
        list of (str, numpy.ndarray, list of str)
            One entry per family of ``config.families``, in order: the family, its float32 rows
            ``(n_rows, n_frames)`` and their names (:meth:`family_rows`); empty without families.

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

        Parameters
        ----------
        y : numpy.ndarray
            Mono float samples at ``config.sample_rate``; the configuration needs at least one family.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_rows, n_frames)``, the families in ``config.families`` order.

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
            Samples as :func:`emovox.audio.float_mono` reads them (float in [-1, 1], or integer PCM;
            channels are averaged).
        sr : int, optional
            Rate of ``y``; resampled to ``config.sample_rate`` when different (default: already at it).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(len(feature_names),)``.

        Raises
        ------
        AudioError
            Non-finite samples, a shape that is not a signal, a bad ``sr``.
        FeatureError
            An empty signal, or non-finite features.

        Examples
        --------
        >>> from emovox.audio.synthetic import music
        >>> v = FeatureExtractor("tutorial").process_signal(music(seconds=1.0), 16000)
        >>> v.shape, v.dtype
        ((180,), dtype('float32'))
        """
        from ..audio import signal_at

        c = self.config
        y = signal_at(y, sr, c.sample_rate)
        if y.size == 0:
            raise FeatureError("cannot compute features of an empty signal")
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

    def process_stream(
        self, chunks: Callable[[], Iterable[np.ndarray]], window_seconds: float = 60.0
    ) -> np.ndarray:
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

        Parameters
        ----------
        chunks : callable
            Returns a fresh iterator of mono float chunks at ``config.sample_rate``.
        window_seconds : float
            Seconds of frames computed at a time (default 60.0).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(len(feature_names),)``.

        Raises
        ------
        FeatureError
            When the recording is empty, holds non-finite samples, or gives non-finite features.

        Examples
        --------
        >>> import numpy as np
        >>> from emovox.audio.synthetic import music
        >>> y = music(seconds=2.0)
        >>> ex = FeatureExtractor("tutorial")
        >>> ex.process_stream(lambda: iter(np.array_split(y, 4)), window_seconds=0.5).shape
        (180,)
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

        A long file is read window by window (:meth:`process_stream`), a short one decoded whole.

        Parameters
        ----------
        path : str or path
            The audio file.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(len(feature_names),)``.

        Raises
        ------
        emovox.AudioError
            The file cannot be decoded.
        FeatureError
            Features cannot be computed.

        Examples
        --------
        >>> import soundfile as sf
        >>> from emovox.audio.synthetic import music
        >>> sf.write("music.wav", music(seconds=1.0), 16000)
        >>> FeatureExtractor("tutorial").process_file("music.wav").shape
        (180,)
        """
        try:  # a long file window by window (bounded memory), a short one decoded whole
            return process_file(self, path)
        except FeatureError as exc:
            raise FeatureError(f"{path}: {exc}") from None

    # -- corpus scale ------------------------------------------------------------------------------------

    def cache_path(self, cache_dir: PathLike, content_hash: str) -> Path:
        """Where the cached vector of a file with this content hash lives (:func:`emovox.extractors.runner.cache_path`).

        Parameters
        ----------
        cache_dir : str or path
            The cache directory.
        content_hash : str
            The file's content hash (:func:`emovox.extractors.runner.file_hash`).

        Returns
        -------
        pathlib.Path
            ``cache_dir/<fingerprint>-v<EXTRACTOR_VERSION>/<content_hash>.npy`` (not created).

        Examples
        --------
        >>> FeatureExtractor("tutorial").cache_path("cache", "abc").as_posix()
        'cache/7412051a2987d42b4817b2396bcf4847-v1/abc.npy'
        """
        return cache_path(self, cache_dir, content_hash)

    def process_files(
        self,
        paths: Iterable[PathLike],
        *,
        n_jobs: int | None = 1,
        cache_dir: PathLike | None = None,
        progress: bool = False,
        chunksize: int | None = None,
        mp_context: str | None = None,
    ) -> ExtractionResult:
        """Features of many files, in parallel, with a disk cache; failures are reported, never raised
        (:func:`emovox.extractors.runner.process_files`, the runner every extractor shares).

        Parameters
        ----------
        paths : iterable of path
            Audio files.
        n_jobs : int or None
            Worker processes; None or -1: all CPUs; 1 (default): in this process.
        cache_dir : path, optional
            Directory of cached ``.npy`` results; None (default): no cache.
        progress : bool
            Show a progress bar (default False).
        chunksize : int, optional
            Files per task sent to a worker; None (default): a few tasks per worker, at most 32 files.
        mp_context : str, optional
            ``multiprocessing`` start method ("fork", "spawn", "forkserver"); None (default): the runner's.

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
        return process_files(
            self,
            paths,
            n_jobs=n_jobs,
            cache_dir=cache_dir,
            progress=progress,
            chunksize=chunksize,
            mp_context=mp_context,
            desc=f"features ({self.config.name})",
        )
