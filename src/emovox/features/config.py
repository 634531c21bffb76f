"""Feature configuration: which families, their parameters, which statistics; presets; compatibility.

A :class:`FeatureConfig` fully determines the feature vector. It serialises to a JSON-safe dict
(:meth:`FeatureConfig.to_dict` / :meth:`FeatureConfig.from_dict`) and has a stable
:meth:`FeatureConfig.fingerprint` (a hash of everything that changes the numbers; the ``name`` label is
left out). A model stores the config it was trained with and refuses other features through
:func:`check_compatible`.

Presets (:func:`preset`):

``"tutorial"``
    The 180 values of the common tutorials: time means of 40 MFCC, 12 chroma (``chroma_stft`` on
    ``|STFT|``) and 128 mel bands (power), librosa defaults (``n_fft=2048``, ``hop_length=512``).
``"emovox"``
    All spectral families plus pitch, with mean/std/percentiles and delta statistics.
``"egemaps"`` / ``"compare"``
    openSMILE eGeMAPSv02 (88) / ComParE_2016 (6373) functionals through the ``opensmile`` package.

Examples
--------
>>> from emovox.features.config import FeatureConfig, preset
>>> cfg = preset("tutorial")
>>> FeatureConfig.from_dict(cfg.to_dict()) == cfg
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..errors import FeatureError
from .stats import STATISTICS

__all__ = ["FAMILIES", "OPENSMILE_SETS", "PRESETS", "FeatureConfig", "check_compatible", "preset"]

#: Frame-level feature families, with the number of rows each contributes (``None``: from a parameter).
FAMILIES: dict[str, int | None] = {
    "mfcc": None,  # n_mfcc
    "mel": None,  # n_mels
    "chroma": None,  # n_chroma
    "contrast": None,  # contrast_bands + 1
    "tonnetz": 6,
    "centroid": 1,
    "bandwidth": 1,
    "rolloff": 1,
    "flatness": 1,
    "spread": 1,
    "entropy": 1,
    "flux": 1,
    "chroma_deviation": 1,
    "zcr": 1,
    "rms": 1,
    "energy_entropy": 1,
    "pitch": 2,  # f0 (semitones re 27.5 Hz, voiced frames only) and voicing probability
}

_FLOAT_FIELDS = (
    "fmin",
    "fmax",
    "mfcc_top_db",
    "chroma_power",
    "tuning",
    "contrast_fmin",
    "rolloff_percent",
    "pitch_fmin",
    "pitch_fmax",
    "trim_db",
)
_INT_FIELDS = (
    "sample_rate",
    "n_fft",
    "hop_length",
    "win_length",
    "n_mels",
    "n_mfcc",
    "n_chroma",
    "contrast_bands",
    "pitch_frame_length",
    "delta_width",
)

OPENSMILE_SETS = ("eGeMAPSv02", "ComParE_2016", "GeMAPSv01b", "eGeMAPSv01b", "emobase")


@dataclass(frozen=True)
class FeatureConfig:
    """Everything that determines a feature vector (frozen; validated on construction).

    Attributes
    ----------
    name : str
        Label only (not part of the fingerprint).
    sample_rate : int
        Audio is loaded/resampled to this rate.
    families : tuple of str
        Frame-level families from :data:`FAMILIES`, in output order.
    n_fft, hop_length, win_length, window, center
        The one STFT every spectral family shares (``win_length`` None = ``n_fft``).
    n_mels, fmin, fmax, n_mfcc, mfcc_top_db
        Mel filterbank and MFCC (DCT-II of the mel power in dB floored ``mfcc_top_db`` below its maximum).
    mel_db : bool
        The "mel" family in dB (``True``) or power (``False``, as the tutorials).
    n_chroma, chroma_power, tuning
        Chroma from ``|STFT| ** chroma_power`` (1 = magnitude, as the tutorials; 2 = librosa's default on
        a signal); ``tuning`` None = estimated per file as librosa does.
    contrast_fmin, contrast_bands, rolloff_percent
        Spectral contrast and roll-off parameters.
    pitch_fmin, pitch_fmax, pitch_frame_length
        YIN search range and frame (hop = ``hop_length``).
    statistics, percentiles
        Functionals over frames (see :mod:`emovox.features.stats`).
    deltas, delta_statistics, delta_percentiles, delta_width
        Delta orders (e.g. ``(1, 2)``) and the functionals applied to each delta contour.
    opensmile_set : str or None
        An openSMILE functionals set appended after the frame-level families.
    trim_db : float or None
        Cut leading and trailing audio more than ``trim_db`` below the loudest frame before any feature
        (the silence around a corpus utterance dilutes its statistics); ``None`` keeps the whole signal.

    Raises
    ------
    FeatureError
        When a field is invalid (unknown family or statistic, ``n_mfcc > n_mels``, ...).

    Examples
    --------
    >>> cfg = FeatureConfig(name="small", families=("mfcc", "rms"), n_mfcc=13, statistics=("mean",))
    >>> cfg.families, cfg.n_mfcc
    (('mfcc', 'rms'), 13)
    >>> FeatureConfig(families=("loudness",))
    Traceback (most recent call last):
    ...
    emovox.errors.FeatureError: feature config: unknown family ['loudness']; choose from [...]
    """

    name: str = "custom"
    sample_rate: int = 16000
    families: tuple[str, ...] = ("mfcc",)
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int | None = None
    window: str = "hann"
    center: bool = True
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    n_mfcc: int = 40
    mfcc_top_db: float | None = 80.0
    mel_db: bool = False
    n_chroma: int = 12
    chroma_power: float = 2.0
    tuning: float | None = None
    contrast_fmin: float = 200.0
    contrast_bands: int = 6
    rolloff_percent: float = 0.85
    pitch_fmin: float = 50.0
    pitch_fmax: float = 600.0
    pitch_frame_length: int = 1024
    statistics: tuple[str, ...] = ("mean", "std")
    percentiles: tuple[float, ...] = ()
    deltas: tuple[int, ...] = ()
    delta_statistics: tuple[str, ...] = ("mean", "std")
    delta_percentiles: tuple[float, ...] = ()
    delta_width: int = 9
    opensmile_set: str | None = None
    trim_db: float | None = None

    def __post_init__(self) -> None:
        for f in ("families", "statistics", "percentiles", "deltas", "delta_statistics", "delta_percentiles"):
            v = getattr(self, f)
            if isinstance(v, str) or not hasattr(v, "__iter__"):
                raise FeatureError(f"feature config: {f} must be a list, got {v!r}")
            object.__setattr__(self, f, tuple(v))
        object.__setattr__(self, "percentiles", tuple(float(p) for p in self.percentiles))
        object.__setattr__(self, "delta_percentiles", tuple(float(p) for p in self.delta_percentiles))
        object.__setattr__(self, "deltas", tuple(int(d) for d in self.deltas))
        try:  # canonical numeric types, so 0 and 0.0 give the same fingerprint
            for f in _FLOAT_FIELDS:
                v = getattr(self, f)
                if v is not None:
                    object.__setattr__(self, f, float(v))
            for f in _INT_FIELDS:
                v = getattr(self, f)
                if v is not None:
                    object.__setattr__(self, f, int(v))
        except (TypeError, ValueError) as exc:
            raise FeatureError(f"feature config: bad numeric value ({exc})") from None
        bad = [f for f in self.families if f not in FAMILIES]
        if bad:
            raise FeatureError(
                f"feature config: unknown famil{'y' if len(bad) == 1 else 'ies'} {bad}; "
                f"choose from {sorted(FAMILIES)}"
            )
        if len(set(self.families)) != len(self.families):
            raise FeatureError(f"feature config: repeated family in {list(self.families)}")
        for s in (*self.statistics, *self.delta_statistics):
            if s not in STATISTICS:
                raise FeatureError(f"feature config: unknown statistic {s!r}; choose from {list(STATISTICS)}")
        if any(not 0 <= p <= 100 for p in (*self.percentiles, *self.delta_percentiles)):
            raise FeatureError("feature config: percentiles must lie in [0, 100]")
        if any(d < 1 for d in self.deltas):
            raise FeatureError(f"feature config: delta orders must be >= 1, got {list(self.deltas)}")
        if self.delta_width < 3 or self.delta_width % 2 == 0:
            raise FeatureError(f"feature config: delta_width must be odd and >= 3, got {self.delta_width}")
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop_length <= 0:
            raise FeatureError("feature config: sample_rate, n_fft and hop_length must be positive")
        if self.win_length is not None and not 0 < self.win_length <= self.n_fft:
            raise FeatureError(f"feature config: win_length {self.win_length} must be in (0, n_fft]")
        if self.n_mfcc > self.n_mels:
            raise FeatureError(f"feature config: n_mfcc {self.n_mfcc} exceeds n_mels {self.n_mels}")
        if self.opensmile_set is not None and self.opensmile_set not in OPENSMILE_SETS:
            raise FeatureError(
                f"feature config: unknown openSMILE set {self.opensmile_set!r}; "
                f"choose from {list(OPENSMILE_SETS)}"
            )
        if not self.families and self.opensmile_set is None:
            raise FeatureError("feature config: no feature family and no openSMILE set selected")
        if (
            "contrast" in self.families
            and self.contrast_fmin * 2 ** (self.contrast_bands - 1) >= self.sample_rate / 2
        ):
            raise FeatureError(
                "feature config: spectral contrast bands exceed Nyquist; lower contrast_fmin "
                "or contrast_bands"
            )
        if self.trim_db is not None and self.trim_db <= 0:
            raise FeatureError(
                f"feature config: trim_db must be positive (dB below the loudest frame), got {self.trim_db}"
            )
        if not self.statistics and not self.percentiles:
            raise FeatureError("feature config: no statistic selected")

    # -- serialisation -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field (tuples become lists).

        Returns
        -------
        dict
            Field name to value; :meth:`from_dict` rebuilds the configuration from it.

        Examples
        --------
        >>> FeatureConfig().to_dict()["n_mfcc"]
        40
        """
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        """Build from :meth:`to_dict` output (or parsed JSON); unknown keys raise FeatureError.

        Parameters
        ----------
        d : dict
            Field values; missing fields keep their defaults.

        Returns
        -------
        FeatureConfig

        Raises
        ------
        FeatureError
            When ``d`` is not a dict, has unknown keys, or holds invalid values.

        Examples
        --------
        >>> FeatureConfig.from_dict({"families": ["rms"]}).families
        ('rms',)
        """
        if not isinstance(d, dict):
            raise FeatureError(f"feature config: expected a dict, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise FeatureError(f"feature config: unknown field(s) {unknown}")
        return cls(**d)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) of :meth:`to_dict`.

        Returns
        -------
        str
            One line of JSON; :meth:`from_json` reads it back.

        Examples
        --------
        >>> FeatureConfig(families=("rms",)).to_json()
        '{"center": true, "chroma_power": 2.0, ..., "families": ["rms"], ..., "window": "hann"}'
        """
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FeatureConfig:
        """Inverse of :meth:`to_json`.

        Parameters
        ----------
        text : str
            JSON of a :meth:`to_dict`.

        Returns
        -------
        FeatureConfig

        Raises
        ------
        FeatureError
            When ``text`` is not valid JSON, or not a valid configuration (:meth:`from_dict`).

        Examples
        --------
        >>> FeatureConfig.from_json(FeatureConfig().to_json()) == FeatureConfig()
        True
        """
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FeatureError(f"feature config: invalid JSON ({exc})") from None
        return cls.from_dict(d)

    def fingerprint(self) -> str:
        """Stable 32-hex-digit hash of every field that changes the numbers (``name`` excluded).

        Returns
        -------
        str
            32 lowercase hex digits (blake2b of the canonical JSON); models and caches are keyed by it.

        Examples
        --------
        >>> preset("tutorial").fingerprint() == preset("tutorial").fingerprint()
        True
        """
        d = self.to_dict()
        d.pop("name")
        if d["trim_db"] is None:  # added later: configs without it keep their fingerprints (and models)
            d.pop("trim_db")
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()

    def replace(self, **changes: Any) -> FeatureConfig:
        """Copy with some fields changed (validated).

        Parameters
        ----------
        **changes
            Field names and their new values.

        Returns
        -------
        FeatureConfig
            A new configuration; this one is unchanged.

        Raises
        ------
        FeatureError
            When the new values are invalid.
        TypeError
            When a name is not a field.

        Examples
        --------
        >>> preset("emovox").replace(n_mfcc=13).n_mfcc
        13
        """
        return dataclasses.replace(self, **changes)


def _presets() -> dict[str, FeatureConfig]:
    return {
        "tutorial": FeatureConfig(
            name="tutorial",
            families=("mfcc", "chroma", "mel"),
            n_fft=2048,
            hop_length=512,
            n_mels=128,
            n_mfcc=40,
            chroma_power=1.0,
            tuning=None,
            mel_db=False,
            statistics=("mean",),
        ),
        "emovox": FeatureConfig(
            name="emovox",
            families=(
                "mfcc",
                "chroma",
                "contrast",
                "tonnetz",
                "centroid",
                "bandwidth",
                "rolloff",
                "flatness",
                "spread",
                "entropy",
                "flux",
                "chroma_deviation",
                "zcr",
                "rms",
                "energy_entropy",
                "pitch",
            ),
            n_fft=1024,
            hop_length=256,
            n_mels=128,
            n_mfcc=40,
            chroma_power=2.0,
            tuning=0.0,
            statistics=("mean", "std"),
            percentiles=(10.0, 50.0, 90.0),
            deltas=(1, 2),
            delta_statistics=("mean", "std"),
        ),
        "egemaps": FeatureConfig(
            name="egemaps", families=(), opensmile_set="eGeMAPSv02", statistics=("mean",)
        ),
        "compare": FeatureConfig(
            name="compare", families=(), opensmile_set="ComParE_2016", statistics=("mean",)
        ),
    }


#: Names of the presets :func:`preset` knows.
PRESETS = ("tutorial", "emovox", "egemaps", "compare")


def preset(name: str) -> FeatureConfig:
    """A named configuration: "tutorial", "emovox", "egemaps" or "compare".

    Parameters
    ----------
    name : str
        One of :data:`PRESETS`.

    Returns
    -------
    FeatureConfig

    Raises
    ------
    FeatureError
        When ``name`` is not a preset.

    Examples
    --------
    >>> preset("egemaps").opensmile_set
    'eGeMAPSv02'
    """
    table = _presets()
    if name not in table:
        from ..errors import did_you_mean

        raise FeatureError(
            f"unknown feature set {name!r}{did_you_mean(str(name), PRESETS)}; choose one of {', '.join(PRESETS)} "
            "(hand-crafted), or whisper[:CHECKPOINT] (Whisper encoder)"
        )
    return table[name]


def as_config(c: FeatureConfig | dict[str, Any] | str) -> FeatureConfig:
    """A :class:`FeatureConfig` from a config (returned as it is), its :meth:`~FeatureConfig.to_dict`, or a
    preset name.

    Parameters
    ----------
    c : FeatureConfig, dict or str
        What to turn into a configuration.

    Returns
    -------
    FeatureConfig

    Raises
    ------
    FeatureError
        When ``c`` is none of those, or not a valid dict or preset name.

    Examples
    --------
    >>> as_config({"families": ["rms"]}) == FeatureConfig(families=("rms",))
    True
    """
    if isinstance(c, FeatureConfig):
        return c
    if isinstance(c, dict):
        return FeatureConfig.from_dict(c)
    if isinstance(c, str):
        return preset(c)
    raise FeatureError(f"expected a FeatureConfig, dict or preset name, got {type(c).__name__}")


def check_compatible(
    expected: FeatureConfig | dict[str, Any] | str,
    actual: FeatureConfig | dict[str, Any] | str,
) -> None:
    """Raise :class:`~emovox.errors.FeatureError` unless both configs give the same features.

    Parameters
    ----------
    expected : FeatureConfig, dict or preset name
        E.g. the configuration a model was trained with.
    actual : FeatureConfig, dict or preset name
        The configuration the offered features were made with.

    Examples
    --------
    >>> check_compatible("tutorial", preset("tutorial").replace(name="renamed"))  # same numbers: fine
    >>> try:
    ...     check_compatible("tutorial", "emovox")
    ... except Exception as e:
    ...     print(type(e).__name__)
    FeatureError
    """
    a, b = as_config(expected), as_config(actual)
    if a.fingerprint() == b.fingerprint():
        return
    da, db = a.to_dict(), b.to_dict()
    diffs = [f"{k}: {da[k]!r} != {db[k]!r}" for k in da if k != "name" and da[k] != db[k]]
    shown = "; ".join(diffs[:6]) + (f"; ... ({len(diffs) - 6} more)" if len(diffs) > 6 else "")
    raise FeatureError(
        f"feature configuration mismatch: expected '{a.name}' (fingerprint {a.fingerprint()[:12]}), "
        f"got '{b.name}' (fingerprint {b.fingerprint()[:12]}); differing fields: {shown}"
    )
