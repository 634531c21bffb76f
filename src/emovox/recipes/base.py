"""The recipe protocol, and the hand-crafted / encoder and deep recipes under it.

A recipe's specification stays where it was (:class:`emovox.training.Recipe`,
:class:`emovox.deep.recipes.Recipe`); :class:`FeatureRecipe` and :class:`DeepRecipe` hold one with its name
and give it the protocol's methods, each a call of the existing training and evaluation functions.
(The specifications cannot carry the methods themselves: the deep trainer imports its recipes, so the
recipes importing the trainer would be an import cycle.) The composite recipe is
:class:`emovox.models.ensemble.EnsembleRecipe`; :func:`emovox.recipes.get_recipe` finds any of them.

>>> from emovox.recipes.base import single_recipe
>>> r = single_recipe("compare-logreg")
>>> (r.name, r.kind, r.spec.classifier)
('compare-logreg', 'features', 'logreg')
>>> single_recipe("rescnn").kind
'deep'
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..deep.recipes import RECIPES as DEEP_RECIPES
from ..deep.recipes import Recipe as DeepSpec
from ..deep.recipes import TrainConfig
from ..deep.recipes import get_recipe as deep_recipe
from ..errors import ParameterError
from ..training import RECIPES as FEATURE_RECIPES
from ..training import Recipe as FeatureSpec
from ..training import compute_features, evaluate_recipe, fit_classical, resolve_recipe

if TYPE_CHECKING:
    import pandas as pd

    from ..deep.train import DeepResult
    from ..evaluation import Evaluation
    from ..tables import FeatureTable
    from ..training import FittedClassical

__all__ = [
    "DeepRecipe",
    "FeatureRecipe",
    "FittedModel",
    "RecipeProtocol",
    "known_recipes",
    "single_recipe",
]

#: The front-end overrides a hand-crafted or encoder recipe takes (see :func:`emovox.training.resolve_recipe`).
FRONT_END_OPTIONS = ("features", "trim_db", "encoder")


@runtime_checkable
class FittedModel(Protocol):
    """What a recipe's :meth:`~RecipeProtocol.fit` returns: a model that gives probabilities and saves
    itself (:class:`emovox.training.FittedClassical`, :class:`emovox.deep.train.DeepResult`,
    :class:`emovox.models.ensemble.FittedEnsemble`).

    Attributes
    ----------
    labels : list of str
        The emotions: the columns of :meth:`predict_proba`.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
    >>> fitted = single_recipe("svm").fit(manifest, cache_dir="cache", n_jobs=1)
    >>> isinstance(fitted, FittedModel), fitted.labels
    (True, ['happy', 'sad'])
    """

    labels: list[str]

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """Probabilities ``(n_inputs, len(labels))`` of audio files (paths or a manifest) or features.

        Parameters
        ----------
        inputs : path, list of paths, pandas.DataFrame or numpy.ndarray
            Audio files (paths, or a manifest with a ``path`` column) or the model's features.

        Returns
        -------
        numpy.ndarray
            ``(n_inputs, len(labels))``, rows summing to 1.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> fitted = single_recipe("logreg").fit(manifest, cache_dir="cache", n_jobs=1)
        >>> fitted.predict_proba(["0.wav", "1.wav"]).round(1)  # 0.wav is sad, 1.wav happy
        array([[0., 1.],
               [1., 0.]], dtype=float32)
        """
        ...

    def save(self, output: str | Path, *, evaluation: Any = None, extra: dict | None = None) -> Path:
        """Write the model directory (loadable with :func:`emovox.load_model`); with ``evaluation``, its
        figures go into the metadata and ``evaluation.json`` / ``confusion.png`` beside it.

        Parameters
        ----------
        output : str or Path
            The model directory to write.
        evaluation : Evaluation, optional
            The recipe's cross-validation (default None).
        extra : dict, optional
            More metadata entries (default None).

        Returns
        -------
        pathlib.Path
            The model directory.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> fitted = single_recipe("logreg").fit(manifest, cache_dir="cache", n_jobs=1)
        >>> fitted.save("models/logreg").name
        'logreg'
        >>> import emovox
        >>> emovox.load_model("models/logreg").labels
        ['happy', 'sad']
        """
        ...


@runtime_checkable
class RecipeProtocol(Protocol):
    """A named way to build a model from a manifest: features, then an estimator.

    ``compute_features`` gives the table that ``evaluate`` and ``fit`` take (computed by them when not
    given; its ``failures`` are the files that could not be used); ``evaluate`` cross-validates under a
    protocol; ``fit`` trains on every row and returns a :class:`FittedModel`. ``seed`` (of the splits and
    of training) None means the defaults: splits with seed 0 (the tutorials' 7 for ``random``), training
    with a deep recipe's ``train.seed``, 0 for the others.

    Attributes
    ----------
    name : str
        What ``--model`` calls the recipe.
    kind : str
        ``"features"``, ``"deep"`` or ``"ensemble"``.

    Examples
    --------
    >>> from emovox.recipes import get_recipe
    >>> [(r.kind, isinstance(r, RecipeProtocol)) for r in map(get_recipe, ("svm", "rescnn", "svm+rescnn"))]
    [('features', True), ('deep', True), ('ensemble', True)]
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str:
        """``"features"`` (hand-crafted or encoder), ``"deep"`` or ``"ensemble"``."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The recipe as JSON values, with its ``kind`` (:func:`emovox.recipes.recipe_from_dict` reads it).

        Returns
        -------
        dict
            ``kind``, ``name`` and the recipe's own fields.

        Examples
        --------
        >>> from emovox.recipes import get_recipe, recipe_from_dict
        >>> d = get_recipe("svm+rescnn").to_dict()
        >>> d["kind"], [m["kind"] for m in d["members"]]
        ('ensemble', ['features', 'deep'])
        >>> recipe_from_dict(d).name
        'svm+rescnn'
        """
        ...

    def compute_features(
        self,
        manifest: pd.DataFrame,
        *,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> Any:
        """The recipe's features of every row of ``manifest``, computed once for :meth:`evaluate` and
        :meth:`fit`.

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with a ``path`` column.
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        progress : bool
            Show a progress bar (default False).

        Returns
        -------
        object
            What :meth:`evaluate` and :meth:`fit` take as ``table``; its ``failures``: the files that
            could not be used.

        Examples
        --------
        >>> import pandas as pd
        >>> from pathlib import Path
        >>> from emovox.recipes import get_recipe
        >>> _ = Path("broken.wav").write_text("not audio")
        >>> for name in ("svm", "cnn1d", "svm+cnn1d"):
        ...     table = get_recipe(name).compute_features(pd.DataFrame({"path": ["broken.wav"]}), cache_dir="c", n_jobs=1)
        ...     print(name, type(table).__name__, table.failures)
        svm FeatureTable [('broken.wav', 'broken.wav: not audio or corrupt ...')]
        cnn1d FrameTable [('broken.wav', 'broken.wav: not audio or corrupt ...')]
        svm+cnn1d MemberTables [('broken.wav', 'broken.wav: not audio or corrupt ...')]
        """
        ...

    def evaluate(
        self,
        manifest: pd.DataFrame,
        protocol: str = "kfold",
        *,
        table: Any = None,
        seed: int | None = None,
        progress: bool = False,
        **options: Any,
    ) -> Evaluation:
        """Cross-validate the recipe on ``manifest`` under ``protocol``.

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with ``path``, ``emotion``, ``speaker`` (and the columns ``protocol`` needs).
        protocol : str
            A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
        table : object, optional
            The recipe's features of ``manifest`` (:meth:`compute_features`; default None: computed).
        seed : int, optional
            Random state of the splits and of training (default None).
        progress : bool
            Show progress bars (default False).
        **options
            The recipe's own options (``cache_dir``, ``n_jobs``, ``log``...).

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> from emovox.recipes import get_recipe
        >>> ev = get_recipe("svm+logreg").evaluate(manifest, "kfold:2", cache_dir="cache", n_jobs=1)
        >>> ev.summary["n_folds"], ev.summary["ua"], sorted(ev.members)
        (2, 1.0, ['logreg', 'svm'])
        """
        ...

    def fit(
        self,
        manifest: pd.DataFrame,
        *,
        table: Any = None,
        seed: int | None = None,
        progress: bool = False,
        **options: Any,
    ) -> FittedModel:
        """Fit the recipe on every row of ``manifest``.

        Parameters
        ----------
        manifest : pandas.DataFrame
            The training rows (``path``, ``emotion``, ``speaker``).
        table : object, optional
            The recipe's features of ``manifest`` (:meth:`compute_features`; default None: computed).
        seed : int, optional
            Random state of training (default None).
        progress : bool
            Show progress bars (default False).
        **options
            The recipe's own options (``cache_dir``, ``n_jobs``...).

        Returns
        -------
        FittedModel

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> from emovox.recipes import get_recipe
        >>> fitted = get_recipe("cnn1d", epochs=1).fit(manifest, cache_dir="cache", n_jobs=1)
        >>> isinstance(fitted, FittedModel), fitted.labels
        (True, ['happy', 'sad'])
        """
        ...


@dataclass(frozen=True)
class FeatureRecipe:
    """A hand-crafted or encoder recipe, or a plain classifier on the ``emovox`` features, by name.

    Parameters
    ----------
    name : str
        What ``--model`` calls it (``svm``, ``compare-logreg``, ``whisper-robust``...).
    spec : emovox.training.Recipe
        Its features, classifier and options.

    Examples
    --------
    >>> r = single_recipe("compare-logreg", trim_db=20.0)
    >>> r.spec.features, r.spec.classifier, r.spec.feature_options
    ('compare', 'logreg', {'trim_db': 20.0})
    >>> FeatureRecipe.from_dict(r.to_dict()) == r
    True
    """

    name: str
    spec: FeatureSpec

    @property
    def kind(self) -> str:
        return "features"

    def to_dict(self) -> dict[str, Any]:
        """The name and the specification's fields, as JSON values (see :meth:`from_dict`).

        Returns
        -------
        dict
            ``kind`` (``"features"``), ``name`` and the :class:`~emovox.training.Recipe` fields.

        Examples
        --------
        >>> single_recipe("svm").to_dict()
        {'kind': 'features', 'name': 'svm', 'features': 'emovox', 'classifier': 'svm', 'params': {},
         'feature_options': {}, 'augment': [], 'align': None, 'balance': None, 'speaker_gate': None}
        """
        d = asdict(self.spec)
        d["augment"] = list(d["augment"])
        if d.get("speaker_gate") is not None:
            d["speaker_gate"] = list(d["speaker_gate"])
        return {"kind": self.kind, "name": self.name, **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureRecipe:
        """The recipe :meth:`to_dict` describes.

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` gives it (``name`` and the :class:`~emovox.training.Recipe` fields).

        Returns
        -------
        FeatureRecipe

        Examples
        --------
        >>> import json
        >>> r = single_recipe("compare-logreg")
        >>> FeatureRecipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        True
        """
        spec = {f.name: d[f.name] for f in fields(FeatureSpec) if f.name in d}
        spec["augment"] = tuple(spec.get("augment", ()))
        if spec.get("speaker_gate") is not None:
            spec["speaker_gate"] = tuple(spec["speaker_gate"])
        return cls(d["name"], FeatureSpec(**spec))

    def compute_features(
        self,
        manifest: pd.DataFrame,
        *,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> FeatureTable:
        """The recipe's features of every row (:func:`emovox.training.compute_features`).

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with a ``path`` column.
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        progress : bool
            Show a progress bar (default False).

        Returns
        -------
        FeatureTable
            The features (``failures``: the files that could not be used).

        Examples
        --------
        >>> import pandas as pd, soundfile as sf
        >>> from emovox.audio.synthetic import SR, tone
        >>> sf.write("a.wav", tone(220.0, 1.0), SR)
        >>> table = single_recipe("svm").compute_features(pd.DataFrame({"path": ["a.wav"]}), cache_dir="cache", n_jobs=1)
        >>> table.X.shape, table.names[:3], table.failures
        ((1, 702), ['mfcc_0_mean', 'mfcc_1_mean', 'mfcc_2_mean'], [])
        """
        return compute_features(manifest, self.spec, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)

    def evaluate(
        self,
        manifest: pd.DataFrame,
        protocol: str = "kfold",
        *,
        table: FeatureTable | None = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        log: bool = False,
        scale: bool = True,
        adapt: bool | str = False,
        calibrate: bool = False,
        folds_dir: str | Path | None = None,
    ) -> Evaluation:
        """Cross-validate under ``protocol`` (:func:`emovox.training.evaluate_recipe`: ``scale``,
        ``adapt``, ``calibrate`` and ``folds_dir`` as there). ``log`` is accepted for a uniform call; a
        feature recipe's folds log nothing.

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with ``path``, ``emotion``, ``speaker`` (and the columns ``protocol`` needs).
        protocol : str
            A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
        table : FeatureTable, optional
            The recipe's features of ``manifest`` (default None: computed).
        seed : int, optional
            Random state of the splits and of the classifier (default None).
        progress : bool
            Show progress bars (default False).
        cache_dir : str or Path, optional
            Feature cache used when computing ``table`` (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        log : bool
            Ignored (default False).
        scale : bool
            Standardise features before the classifier (default True).
        adapt : bool or str
            Speaker adaptation: False (default), True by speaker, or a manifest column whose groups are the
            sessions.
        calibrate : bool
            Temperature-scale each fold's probabilities (default False).
        folds_dir : str or Path, optional
            Where ``emobox`` finds its folds (default None: :func:`emovox.splits.default_folds_dir`).

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> ev = single_recipe("logreg").evaluate(manifest, "kfold", cache_dir="cache", n_jobs=1)
        >>> ev.summary["protocol"], ev.summary["ua"]
        ('kfold(5)', 1.0)
        """
        if table is None:
            table = self.compute_features(manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
        return evaluate_recipe(
            table,
            self.spec,
            protocol,
            scale=scale,
            seed=seed,
            progress=progress,
            folds_dir=folds_dir,
            adapt=adapt,
            calibrate=calibrate,
        )

    def fit(
        self,
        manifest: pd.DataFrame,
        *,
        table: FeatureTable | None = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        scale: bool = True,
        calibrate: bool = False,
    ) -> FittedClassical:
        """Fit on every row (:func:`emovox.training.fit_classical`); ``calibrate`` fits a temperature on
        out-of-corpus predictions.

        Parameters
        ----------
        manifest : pandas.DataFrame
            The training rows (``path``, ``emotion``).
        table : FeatureTable, optional
            The recipe's features of ``manifest`` (default None: computed).
        seed : int, optional
            Random state of the classifier (default None: 0).
        progress : bool
            Show a progress bar while computing features (default False).
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder); kept on the result.
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        scale : bool
            Standardise features before the classifier (default True).
        calibrate : bool
            Fit a temperature (default False).

        Returns
        -------
        FittedClassical

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> fitted = single_recipe("svm").fit(manifest, cache_dir="cache", n_jobs=1)
        >>> fitted.labels, fitted.labels[fitted.predict_proba(["0.wav"]).argmax()]
        (['happy', 'sad'], 'sad')
        """
        if table is None:
            table = self.compute_features(manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
        return fit_classical(
            table,
            self.spec,
            scale=scale,
            seed=0 if seed is None else seed,
            calibration=calibrate or None,
            name=self.name,
            cache_dir=cache_dir,
        )


def _tuples(value: Any) -> Any:
    """``value`` with every list, however nested, a tuple again (JSON reads tuples back as lists)."""
    if isinstance(value, list | tuple):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


@dataclass
class DeepRecipe:
    """A deep model's recipe (front end, network, training settings) under the recipe protocol.

    Parameters
    ----------
    spec : emovox.deep.recipes.Recipe
        The recipe (:func:`emovox.deep.recipes.get_recipe`).

    Examples
    --------
    >>> r = single_recipe("rescnn", epochs=5)
    >>> r.name, r.kind, r.spec.arch, r.spec.train.epochs
    ('rescnn', 'deep', 'rescnn', 5)
    >>> DeepRecipe.from_dict(r.to_dict()) == r
    True
    """

    spec: DeepSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return "deep"

    def to_dict(self) -> dict[str, Any]:
        """The recipe's own :meth:`~emovox.deep.recipes.Recipe.to_dict` with its front end (see
        :meth:`from_dict`).

        Returns
        -------
        dict
            ``kind`` (``"deep"``), the recipe's fields (``name``, ``arch``, ``train``...) and ``frontend``.

        Examples
        --------
        >>> d = single_recipe("cnn1d").to_dict()
        >>> d["kind"], d["name"], d["arch"], d["frontend"]["features"], d["train"]["epochs"]
        ('deep', 'cnn1d', 'cnn1d', 'mfcc', 300)
        """
        return {"kind": self.kind, **self.spec.to_dict(), "frontend": self.spec.frontend.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeepRecipe:
        """The recipe :meth:`to_dict` describes (lists read back from JSON become the tuples they were,
        ``arch_params``' included).

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` gives it: the recipe's fields with ``frontend`` (a
            :class:`~emovox.deep.frames.FrameConfig`'s dict).

        Returns
        -------
        DeepRecipe

        Examples
        --------
        >>> import json
        >>> r = single_recipe("cnn1d")
        >>> DeepRecipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        True
        """
        from ..augment import WaveAugment
        from ..deep.frames import FrameConfig

        augment = d.get("augment")
        if augment is not None:
            augment = WaveAugment.from_dict(augment)  # (keys of a later version ignored, as elsewhere)
        spec = DeepSpec(
            d["name"],
            FrameConfig.from_dict(d["frontend"]),
            d["arch"],
            # JSON reads a tuple (rescnn's channels) back as a list: tuples again, so the recipe compares equal
            {k: _tuples(v) for k, v in (d.get("arch_params") or {}).items()},
            TrainConfig(**d.get("train", {})),
            augment,
            d.get("description", ""),
        )
        return cls(spec)

    def _seeded(self, seed: int | None) -> DeepSpec:
        if seed is None or seed == self.spec.train.seed:
            return self.spec
        spec = copy.deepcopy(self.spec)
        spec.train.seed = seed
        return spec

    def compute_features(
        self,
        manifest: pd.DataFrame,
        *,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> Any:
        """The recipe's frame features (and augmented copies) of every row, as a
        :class:`~emovox.deep.frames.FrameTable` (:func:`emovox.deep.train.deep_features`, ``n_jobs``
        worker processes).

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with a ``path`` column.
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        progress : bool
            Show a progress bar (default False).

        Returns
        -------
        FrameTable
            Unnormalised features of the rows that could be read, their augmented copies and the failures.

        Examples
        --------
        >>> import pandas as pd, soundfile as sf
        >>> from emovox.audio.synthetic import SR, tone
        >>> sf.write("a.wav", tone(220.0, 1.0), SR)
        >>> table = single_recipe("rescnn").compute_features(pd.DataFrame({"path": ["a.wav"]}), cache_dir="cache", n_jobs=1)
        >>> table.X[0].shape, len(table.copies[0]), table.failures  # (frames, mel bands), augmented copies
        ((101, 64), 2, [])
        """
        from ..deep.train import deep_features

        return deep_features(manifest, self.spec, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)

    def evaluate(
        self,
        manifest: pd.DataFrame,
        protocol: str = "kfold",
        *,
        table: Any = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        log: bool = False,
        **options: Any,
    ) -> Evaluation:
        """Cross-validate under ``protocol``, each fold trained from scratch
        (:func:`emovox.deep.train.evaluate_deep`; ``options``: ``folds_dir``, ``max_folds``,
        ``only_folds``).

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with ``path``, ``emotion``, ``speaker`` (and the columns ``protocol`` needs).
        protocol : str
            A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
        table : FrameTable, optional
            The recipe's features of ``manifest`` (default None: computed).
        seed : int, optional
            Random state of the splits, and the training seed (default None: the recipe's own).
        progress : bool
            Show progress bars (default False).
        cache_dir : str or Path, optional
            Feature cache used when computing ``table`` (default None).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        log : bool
            Log one line per epoch and per fold (default False).
        **options
            ``folds_dir``, ``max_folds``, ``only_folds`` of :func:`emovox.deep.train.evaluate_deep`.

        Returns
        -------
        Evaluation

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> ev = single_recipe("cnn1d", epochs=1).evaluate(manifest, "kfold:2", cache_dir="cache", n_jobs=1)
        >>> ev.summary["protocol"], len(ev.predictions)
        ('kfold(2)', 10)
        """
        from ..deep.train import evaluate_deep

        return evaluate_deep(
            manifest,
            self._seeded(seed),
            protocol,
            seed=seed,
            table=table,
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
            log=log,
            **options,
        )

    def fit(
        self,
        manifest: pd.DataFrame,
        *,
        table: Any = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        log: bool = False,
        checkpoint_dir: str | Path | None = None,
    ) -> DeepResult:
        """Train on every row, a few speakers validating (:func:`emovox.deep.train.fit_deep`).

        Parameters
        ----------
        manifest : pandas.DataFrame
            The training rows (``path``, ``emotion``, ``speaker``).
        table : FrameTable, optional
            The recipe's features of ``manifest`` (default None: computed).
        seed : int, optional
            The training seed (default None: the recipe's own).
        progress : bool
            Show progress bars (default False).
        cache_dir : str or Path, optional
            Feature cache used when computing ``table`` (default None: ``<default_cache_dir>/features``).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        log : bool
            Also log one line per epoch (default False).
        checkpoint_dir : str or Path, optional
            Where the best and last weights and the history go after each epoch (default None: none are
            written).

        Returns
        -------
        DeepResult
            The network, its front end and training record, with the training rows.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> result = single_recipe("cnn1d", epochs=1).fit(manifest, cache_dir="cache", n_jobs=1)
        >>> result.labels, result.predict_proba(["0.wav"]).shape
        (['happy', 'sad'], (1, 2))
        """
        from ..deep.train import fit_deep

        return fit_deep(
            manifest,
            self._seeded(seed),
            table=table,
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
            log=log,
            checkpoint_dir=checkpoint_dir,
        )


def known_recipes() -> list[str]:
    """Every name :func:`single_recipe` knows: plain classifiers, hand-crafted and encoder recipes, deep
    models (an ensemble joins several with ``+``).

    Returns
    -------
    list of str
        The names, sorted.

    Examples
    --------
    >>> known_recipes()
    ['cnn1d', 'cnn1d-frames', 'cnn1d-tutorial', 'cnn2d', 'compare-logreg', 'gb', 'logreg', 'mlp', 'rescnn',
     'rf', 'svm', 'whisper-active', 'whisper-probe', 'whisper-robust']
    """
    from ..models.classical import CLASSICAL

    return sorted({*CLASSICAL, *FEATURE_RECIPES, *DEEP_RECIPES})


def single_recipe(name: str, **options: Any) -> FeatureRecipe | DeepRecipe:
    """The recipe of one model (not an ensemble) by name.

    Parameters
    ----------
    name : str
        A plain classifier, a hand-crafted or encoder recipe, or a deep model.
    **options
        ``features``, ``trim_db``, ``encoder`` for hand-crafted and encoder recipes
        (:func:`emovox.training.resolve_recipe`); :class:`~emovox.deep.recipes.TrainConfig` fields for deep
        ones. Options left None are ignored.

    Returns
    -------
    FeatureRecipe or DeepRecipe

    Raises
    ------
    ParameterError
        For an unknown name (the message lists the known ones) or an option the recipe does not take.

    Examples
    --------
    >>> single_recipe("svm").kind, single_recipe("rescnn", epochs=3).spec.train.epochs
    ('features', 3)
    """
    options = {k: v for k, v in options.items() if v is not None}
    if name in DEEP_RECIPES:
        return DeepRecipe(deep_recipe(name, **options))
    if name in known_recipes():
        unknown = sorted(set(options) - set(FRONT_END_OPTIONS))
        if unknown:
            raise ParameterError(
                f"{name}: unknown option {', '.join(unknown)}; a feature recipe takes {', '.join(FRONT_END_OPTIONS)}"
            )
        return FeatureRecipe(name, resolve_recipe(name, **options))
    raise ParameterError(
        f"unknown recipe {name!r}; known recipes: {', '.join(known_recipes())} (or several joined with +)"
    )
