"""Ensembles: several emovox models trained on the same data, their probabilities averaged.

``--model rescnn+compare-logreg`` names one. Models that see the audio differently make different
errors: the residual CNN reads the log-mel image, compare-logreg reads utterance functionals, and their
mean probability is more accurate than either (RAVDESS, EmoBox folds: see BENCHMARKS.md).

Cross-validation runs every member on the same folds and averages each test row's probabilities, so
the ensemble's figures are as speaker-independent as its members'. The model directory of an ensemble
holds one model directory per member beside a ``metadata.json`` that lists them (with the SHA-256 of
each member's metadata, which holds the hashes of its graphs); :class:`emovox.inference.EmotionModel`
loads it like any other model.

An ensemble is a composite recipe (:class:`EnsembleRecipe`, under :class:`emovox.recipes.RecipeProtocol`):
its members are recipes, and :func:`evaluate_ensemble` / :func:`train_ensemble` are its ``evaluate`` and
its ``fit`` then ``save``.

>>> from emovox.corpora import shared_corpus                                            # doctest: +SKIP
>>> ev = evaluate_ensemble(shared_corpus("ravdess"), "rescnn+compare-logreg", "emobox")  # doctest: +SKIP
>>> train_ensemble(shared_corpus("ravdess"), "rescnn+compare-logreg", "models/fusion")    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import CorpusError, ModelError

if TYPE_CHECKING:
    import pandas as pd

    from ..evaluation import Evaluation

logger = logging.getLogger(__name__)

SEP = "+"


def is_ensemble(model: str | None) -> bool:
    """Whether a ``--model`` name joins several models with ``+``.

    Parameters
    ----------
    model : str or None
        A ``--model`` name.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_ensemble("rescnn+compare-logreg"), is_ensemble("rescnn"), is_ensemble(None)
    (True, False, False)
    """
    return bool(model) and SEP in str(model)


def member_names(model: str) -> list[str]:
    """The members of ``"a+b[+c...]"``, each checked to be a model ``emovox train`` knows.

    Parameters
    ----------
    model : str
        Model names joined by ``+``.

    Returns
    -------
    list of str
        The member names, stripped, in the order given.

    Raises
    ------
    ModelError
        For an unknown member, fewer than two members, or a member named twice.

    Examples
    --------
    >>> member_names("rescnn + compare-logreg")
    ['rescnn', 'compare-logreg']
    >>> member_names("svm+svm")
    Traceback (most recent call last):
    ...
    emovox.errors.ModelError: ensemble 'svm+svm': name two or more different models joined by '+'
    """
    from ..deep import DEEP_MODELS
    from ..models.classical import CLASSICAL
    from ..training import RECIPES

    names = [n.strip() for n in model.split(SEP)]
    known = set(DEEP_MODELS) | set(RECIPES) | set(CLASSICAL)
    for n in names:
        if n not in known:
            raise ModelError(
                f"ensemble {model!r}: unknown member {n!r} (choose from {', '.join(sorted(known))})"
            )
    if len(names) < 2 or len(set(names)) != len(names):
        raise ModelError(f"ensemble {model!r}: name two or more different models joined by '+'")
    return names


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    w = [1.0] * n if weights is None else [float(x) for x in weights]
    if len(w) != n or min(w) < 0 or sum(w) <= 0:
        raise ModelError(f"ensemble weights must be {n} non-negative numbers, not all zero; got {w}")
    return w


def _label_order(label_lists) -> list[str]:
    """Every member's labels, in emovox's canonical emotion order."""
    from ..labels import label_order

    return label_order(np.array(sorted(set().union(*map(set, label_lists)))))


def combine(
    evaluations: Sequence[Evaluation], weights: Sequence[float] | None = None, name: str = ""
) -> Evaluation:
    """The :class:`~emovox.evaluation.Evaluation` of the weighted mean of members' test probabilities.

    Every member must have been evaluated on the same folds. A test row one member could not read (its
    file failed that member's features) is scored on the members that read it (equally weighted where
    only members of weight 0 did).

    Parameters
    ----------
    evaluations : sequence of Evaluation
        One per member, with per-fold probabilities (``fold_proba``) on the same folds.
    weights : sequence of float, optional
        One non-negative weight per member, not all zero (default None: equal).
    name : str
        The ensemble's name, recorded in the result's ``recipe`` (default ``""``).

    Returns
    -------
    Evaluation
        The ensemble's scores, probabilities and predictions, on the union of the members' labels.

    Raises
    ------
    ModelError
        When the members' folds differ (or one gives no probabilities), or for invalid ``weights``.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
    >>> from emovox.recipes import get_recipe
    >>> evs = [get_recipe(n).evaluate(manifest, "kfold:2", cache_dir="cache", n_jobs=1) for n in ("svm", "logreg")]
    >>> ev = combine(evs, [2, 1], name="svm+logreg")
    >>> ev.summary["n_folds"], ev.summary["ua"], ev.recipe["weights"]
    (2, 1.0, [2.0, 1.0])
    """
    from ..evaluation import Evaluation, FoldProba, add_calibration, prediction_row, scores

    weights = np.array(_weights(weights, len(evaluations)))
    labels = _label_order(ev.labels for ev in evaluations)
    fold_names = [[f.name for f in ev.fold_proba] for ev in evaluations]
    if not fold_names[0] or any(names != fold_names[0] for names in fold_names):
        raise ModelError(
            "ensemble members were not evaluated on the same folds (or one gives no probabilities)"
        )
    folds, fold_proba, all_true, all_pred, predictions = [], [], [], [], []
    for k, fold_name in enumerate(fold_names[0]):
        total: dict[str, np.ndarray] = {}
        plain: dict[str, np.ndarray] = {}  # unweighted, for a row only members of weight 0 read
        weight: dict[str, float] = {}
        truth: dict[str, str] = {}
        for ev, w in zip(evaluations, weights, strict=True):
            fp = ev.fold_proba[k]
            cols = [labels.index(lab) for lab in ev.labels]
            for path, t, p in zip(fp.paths, fp.y_true, fp.proba, strict=True):
                row = total.setdefault(path, np.zeros(len(labels)))
                row[cols] += w * p
                plain.setdefault(path, np.zeros(len(labels)))[cols] += p
                weight[path] = weight.get(path, 0.0) + w
                truth[path] = t
        paths = list(total)
        proba = np.stack(
            [total[p] / weight[p] if weight[p] > 0 else plain[p] / plain[p].sum() for p in paths]
        )
        y_true = [truth[p] for p in paths]
        pred = [labels[i] for i in proba.argmax(axis=1)]
        s = scores(y_true, pred, labels)
        s.update(fold=fold_name, shared_speakers=evaluations[0].folds[k].get("shared_speakers", 0))
        folds.append(s)
        fold_proba.append(FoldProba(fold_name, paths, y_true, proba))
        all_true += y_true
        all_pred += pred
        predictions += [
            prediction_row(fold_name, path, t, y, labels, row)
            for path, t, y, row in zip(paths, y_true, pred, proba, strict=True)
        ]
    notes = sorted({ev.note for ev in evaluations if ev.note})
    ev = Evaluation(
        evaluations[0].protocol,
        all(e.speaker_independent for e in evaluations),
        labels,
        folds,
        scores(all_true, all_pred, labels),
        "; ".join(notes),
        fold_proba=fold_proba,
        predictions=predictions,
        cross_corpus=evaluations[0].cross_corpus,  # loco / cross: a figure per held-out corpus, as a member's
    )
    add_calibration(ev)  # the averaged probabilities are calibrated or not as the members' are: say which
    ev.recipe = {
        "ensemble": name,
        "weights": weights.tolist(),
        "members": [{**e.recipe, "ua": e.summary["ua"]} for e in evaluations],
    }
    return ev


class MemberTables(dict):
    """Each member's features (member name -> its table), and the inputs any member could not use.

    What :meth:`EnsembleRecipe.compute_features` returns: a dict, with a ``failures`` property like a
    single recipe's table.

    Examples
    --------
    >>> import pandas as pd, soundfile as sf
    >>> from pathlib import Path
    >>> from emovox.audio.synthetic import SR, tone
    >>> sf.write("a.wav", tone(220.0, 1.0), SR)
    >>> _ = Path("broken.wav").write_text("not audio")
    >>> tables = EnsembleRecipe.from_name("svm+logreg").compute_features(
    ...     pd.DataFrame({"path": ["a.wav", "broken.wav"]}), cache_dir="cache", n_jobs=1)
    >>> type(tables).__name__, list(tables), tables.failures
    ('MemberTables', ['svm', 'logreg'], [('broken.wav', 'broken.wav: not audio or corrupt ...')])
    """

    @property
    def failures(self) -> list[tuple[str, str]]:
        """``(path, message)`` of every file some member could not use, each once."""
        seen: dict[str, str] = {}
        for table in self.values():
            for path, msg in table.failures:
                seen.setdefault(path, msg)
        return list(seen.items())


@dataclass(frozen=True)
class EnsembleRecipe:
    """A composite recipe: its member recipes trained on the same data, their probabilities averaged.

    Satisfies :class:`emovox.recipes.RecipeProtocol` as its members do: features are each member's,
    cross-validation runs every member on the same folds and :func:`combine` s them, fitting fits every
    member, and the fitted ensemble saves one model directory per member beside the ensemble's metadata.

    Parameters
    ----------
    members : tuple of recipes
        Two or more recipes with different names, none an ensemble.
    weights : tuple of float, optional
        Weights of the members' probabilities (default equal).

    Raises
    ------
    ModelError
        For fewer than two members, two with the same name, an ensemble as a member, or invalid weights.

    Examples
    --------
    >>> from emovox.recipes import get_recipe
    >>> r = EnsembleRecipe((get_recipe("svm"), get_recipe("rescnn")), weights=(1, 3))
    >>> r.name, r.kind, r.weights
    ('svm+rescnn', 'ensemble', (1.0, 3.0))
    >>> r == EnsembleRecipe.from_name("svm+rescnn", [1, 3])
    True
    """

    members: tuple[Any, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        names = [m.name for m in self.members]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ModelError(f"ensemble {self.name!r}: name two or more different models joined by '+'")
        if any(m.kind == "ensemble" for m in self.members):
            raise ModelError(f"ensemble {self.name!r}: an ensemble cannot be a member of another ensemble")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(_weights(self.weights, len(names))))

    @property
    def name(self) -> str:
        return SEP.join(m.name for m in self.members)

    @property
    def kind(self) -> str:
        return "ensemble"

    @classmethod
    def from_name(cls, model: str, weights: Sequence[float] | None = None) -> EnsembleRecipe:
        """The ensemble ``"a+b[+c...]"`` names (each member checked by :func:`member_names`).

        Parameters
        ----------
        model : str
            Two or more different models joined by ``+``.
        weights : sequence of float, optional
            One weight per member (default None: equal weights).

        Returns
        -------
        EnsembleRecipe

        Raises
        ------
        ModelError
            For a name that is not a valid ensemble (:func:`member_names`).

        Examples
        --------
        >>> r = EnsembleRecipe.from_name("rescnn+compare-logreg")
        >>> [(m.name, m.kind) for m in r.members], r.weights
        ([('rescnn', 'deep'), ('compare-logreg', 'features')], None)
        """
        from ..recipes.base import single_recipe

        return cls(tuple(single_recipe(n) for n in member_names(model)), weights)

    def to_dict(self) -> dict[str, Any]:
        """The members' own dictionaries and the weights (see :meth:`from_dict`).

        Returns
        -------
        dict
            ``kind`` (``"ensemble"``), ``name``, ``members`` (each member's ``to_dict()``) and ``weights``
            (a list, or None for equal weights).

        Examples
        --------
        >>> d = EnsembleRecipe.from_name("svm+logreg", [1, 2]).to_dict()
        >>> d["kind"], d["name"], [m["name"] for m in d["members"]], d["weights"]
        ('ensemble', 'svm+logreg', ['svm', 'logreg'], [1.0, 2.0])
        """
        return {
            "kind": self.kind,
            "name": self.name,
            "members": [m.to_dict() for m in self.members],
            "weights": list(self.weights) if self.weights is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnsembleRecipe:
        """The ensemble :meth:`to_dict` describes.

        Parameters
        ----------
        d : dict
            As :meth:`to_dict` gives it: ``members`` (each a recipe's dict with its ``kind``) and ``weights``.

        Returns
        -------
        EnsembleRecipe

        Raises
        ------
        ModelError
            For a member whose ``kind`` is neither ``features`` nor ``deep``.

        Examples
        --------
        >>> import json
        >>> r = EnsembleRecipe.from_name("cnn1d+svm", [1, 2])
        >>> EnsembleRecipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r
        True
        """
        from ..recipes.base import DeepRecipe, FeatureRecipe

        kinds = {"features": FeatureRecipe, "deep": DeepRecipe}
        members = []
        for m in d["members"]:
            if m.get("kind") not in kinds:
                raise ModelError(f"ensemble member of kind {m.get('kind')!r}: expected features or deep")
            members.append(kinds[m["kind"]].from_dict(m))
        return cls(tuple(members), d.get("weights"))

    def compute_features(
        self,
        manifest: pd.DataFrame,
        *,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        progress: bool = False,
        tables: dict[str, Any] | None = None,
    ) -> MemberTables:
        """Every member's features of the manifest (member name -> table; its ``failures`` are every
        member's). ``tables``: members' features already computed, reused and filled in (and returned).

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with a ``path`` column.
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        progress : bool
            Show progress bars (default False).
        tables : dict, optional
            Member name -> its features, already computed (default None: none).

        Returns
        -------
        MemberTables
            Member name -> the member's features of ``manifest``.

        Examples
        --------
        >>> import pandas as pd, soundfile as sf
        >>> from emovox.audio.synthetic import SR, tone
        >>> sf.write("a.wav", tone(220.0, 1.0), SR)
        >>> recipe, manifest = EnsembleRecipe.from_name("svm+cnn1d"), pd.DataFrame({"path": ["a.wav"]})
        >>> tables = recipe.compute_features(manifest, cache_dir="cache", n_jobs=1)
        >>> {name: type(t).__name__ for name, t in tables.items()}
        {'svm': 'FeatureTable', 'cnn1d': 'FrameTable'}
        >>> more = EnsembleRecipe.from_name("svm+logreg").compute_features(manifest, cache_dir="cache", tables=tables)
        >>> more is tables
        True
        >>> list(tables)  # svm's reused, logreg's added
        ['svm', 'cnn1d', 'logreg']
        """
        tables = MemberTables() if tables is None else tables
        for m in self.members:
            if m.name not in tables:
                tables[m.name] = m.compute_features(
                    manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress
                )
        return tables

    def evaluate(
        self,
        manifest: pd.DataFrame,
        protocol: str = "kfold",
        *,
        table: dict[str, Any] | None = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
        log: bool = False,
    ) -> Evaluation:
        """Cross-validate each member on the same folds of ``protocol`` and :func:`combine` them.

        Returns the ensemble's :class:`~emovox.evaluation.Evaluation`; each member's own is in its
        ``members`` attribute (name -> Evaluation), and its UA is logged. ``table``: as
        :meth:`compute_features` gives (filled in where a member's is missing); ``log``: a line per
        deep-member fold.

        Parameters
        ----------
        manifest : pandas.DataFrame
            Rows with ``path``, ``emotion``, ``speaker`` (and the columns ``protocol`` needs).
        protocol : str
            A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
        table : dict, optional
            Members' features already computed (default None: computed).
        seed : int, optional
            Random state of the splits and of each member's training (default None).
        progress : bool
            Show progress bars (default False); each member's UA is logged at INFO.
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).
        log : bool
            Log one line per deep-member fold (default False).

        Returns
        -------
        Evaluation
            The ensemble's scores, with ``members``.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> ev = EnsembleRecipe.from_name("svm+logreg").evaluate(manifest, "kfold:2", cache_dir="cache", n_jobs=1)
        >>> ev.summary["ua"], {name: e.summary["ua"] for name, e in ev.members.items()}
        (1.0, {'svm': 1.0, 'logreg': 1.0})
        """
        tables = self.compute_features(
            manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress, tables=table
        )
        members = {}
        for m in self.members:
            members[m.name] = m.evaluate(
                manifest, protocol, table=tables[m.name], seed=seed, progress=progress, log=log
            )
            logger.info("[%s] %s: UA %.1f %%", self.name, m.name, 100 * members[m.name].summary["ua"])
        ev = combine(list(members.values()), self.weights, name=self.name)
        ev.members = members
        return ev

    def fit(
        self,
        manifest: pd.DataFrame,
        *,
        table: dict[str, Any] | None = None,
        seed: int | None = None,
        progress: bool = False,
        cache_dir: str | Path | None = None,
        n_jobs: int | None = None,
    ) -> FittedEnsemble:
        """Fit every member on all of ``manifest`` (``table`` as in :meth:`evaluate`).

        Parameters
        ----------
        manifest : pandas.DataFrame
            The training rows (``path``, ``emotion``, ``speaker``).
        table : dict, optional
            Members' features already computed (default None: computed).
        seed : int, optional
            Random state of each member's training (default None: each recipe's default).
        progress : bool
            Show progress bars (default False).
        cache_dir : str or Path, optional
            Feature cache (default None: emovox's default cache folder).
        n_jobs : int or None
            Worker processes computing the features (default None: every core).

        Returns
        -------
        FittedEnsemble
            The fitted members, with the rows every member could read.

        Raises
        ------
        CorpusError
            When ``manifest`` is empty.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> fitted = EnsembleRecipe.from_name("svm+logreg").fit(manifest, cache_dir="cache", n_jobs=1)
        >>> type(fitted).__name__, list(fitted.members), len(fitted.manifest)
        ('FittedEnsemble', ['svm', 'logreg'], 10)
        """
        if len(manifest) == 0:
            raise CorpusError("no training data: every file failed or the manifest is empty")
        tables = self.compute_features(
            manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress, tables=table
        )
        fitted = {
            m.name: m.fit(manifest, table=tables[m.name], seed=seed, progress=progress, cache_dir=cache_dir)
            for m in self.members
        }
        read_by_all = set.intersection(
            *(set(tables[m.name].manifest["path"].astype(str)) for m in self.members)
        )
        return FittedEnsemble(self, fitted, manifest[manifest["path"].astype(str).isin(read_by_all)])


@dataclass(eq=False)
class FittedEnsemble:
    """Fitted members of an :class:`EnsembleRecipe` (what its :meth:`~EnsembleRecipe.fit` returns): their
    probabilities averaged, saved as one model directory.

    Attributes
    ----------
    recipe : EnsembleRecipe
        The ensemble (its members' names and weights).
    members : dict
        Member name -> its fitted model (:class:`emovox.recipes.FittedModel`), in the recipe's order.
    manifest : pandas.DataFrame, optional
        The training rows every member could read (default None), summarised in the saved metadata.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
    >>> fitted = EnsembleRecipe.from_name("svm+cnn1d").fit(manifest, cache_dir="cache", n_jobs=1)
    >>> fitted.labels, fitted.predict_proba(["0.wav", "1.wav"]).shape
    (['happy', 'sad'], (2, 2))
    """

    recipe: EnsembleRecipe
    members: dict[str, Any]
    manifest: Any = None

    @property
    def labels(self) -> list[str]:
        """Every member's labels, in emovox's canonical emotion order: the columns of :meth:`predict_proba`."""
        return _label_order(m.labels for m in self.members.values())

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """The weighted mean of the members' probabilities, one row per input, columns in :attr:`labels`.

        Parameters
        ----------
        inputs
            Audio files (a path, a list of paths, a manifest), which every member reads its own way, or
            features as a dictionary member name -> that member's features (an array, or the feature table
            :meth:`EnsembleRecipe.compute_features` gave).

        Returns
        -------
        numpy.ndarray
            ``(n_inputs, n_labels)``, rows summing to 1.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> recipe = EnsembleRecipe.from_name("svm+logreg", [3, 1])
        >>> tables = recipe.compute_features(manifest, cache_dir="cache", n_jobs=1)
        >>> fitted = recipe.fit(manifest, table=tables, cache_dir="cache")
        >>> fitted.predict_proba(["0.wav", "1.wav"]).round(2)  # 0.wav is sad, 1.wav happy
        array([[0.07, 0.93],
               [0.91, 0.09]])
        >>> fitted.predict_proba(tables).shape  # each member's features
        (10, 2)
        """
        labels = self.labels
        weights = _weights(self.recipe.weights, len(self.members))
        total = 0.0
        for (name, m), w in zip(self.members.items(), weights, strict=True):
            x = inputs[name] if isinstance(inputs, dict) else inputs
            p = m.predict_proba(getattr(x, "X", x))  # (a feature table from compute_features: its matrix)
            full = np.zeros((len(p), len(labels)))
            full[:, [labels.index(lab) for lab in m.labels]] = p
            total = total + w * full
        return np.asarray(total) / sum(weights)

    def save(
        self, output: str | Path, *, evaluation: Evaluation | None = None, extra: dict | None = None
    ) -> Path:
        """Save every member into ``output/<member>`` and write the ensemble's metadata
        (:func:`save_ensemble`); with ``evaluation`` (as :meth:`EnsembleRecipe.evaluate` gives), its
        figures go into the metadata (each member's into the member's), and ``evaluation.json`` and
        ``confusion.png`` beside it.

        Parameters
        ----------
        output : str or Path
            The ensemble's model directory: a new or empty folder, or a model directory (its files replaced).
        evaluation : Evaluation, optional
            The ensemble's cross-validation, with its ``members`` (default None).
        extra : dict, optional
            More metadata entries (default None).

        Returns
        -------
        pathlib.Path
            The ensemble's model directory.

        Examples
        --------
        >>> from emovox.audio.synthetic import toy_corpus
        >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
        >>> fitted = EnsembleRecipe.from_name("svm+logreg").fit(manifest, cache_dir="cache", n_jobs=1)
        >>> out = fitted.save("models/fusion")
        >>> sorted(p.name for p in out.iterdir())  # a model directory per member
        ['logreg', 'metadata.json', 'svm']
        >>> import emovox
        >>> emovox.load_model(out).labels
        ['happy', 'sad']
        """
        from ..evaluation import evaluation_metadata, save_evaluation_files
        from ..training import training_summary
        from .store import prepare_output, seal_artefacts

        output = prepare_output(output, clear=True)
        member_ev = getattr(evaluation, "members", None) or {}
        dirs = {n: m.save(output / n, evaluation=member_ev.get(n)) for n, m in self.members.items()}
        save_ensemble(
            output,
            dirs,
            self.recipe.weights,
            {
                "recipe": self.recipe.name,
                "training": training_summary(self.manifest),
                **evaluation_metadata(evaluation),
                "member_metrics": {n: e.summary for n, e in member_ev.items()}
                if evaluation is not None
                else None,
                **(extra or {}),
            },
        )
        if evaluation is not None:
            save_evaluation_files(evaluation, output)
        return seal_artefacts(output)


def evaluate_ensemble(
    manifest: pd.DataFrame,
    model: str,
    protocol: str = "kfold",
    *,
    seed: int = 0,
    weights: Sequence[float] | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    tables: dict[str, Any] | None = None,
    log: bool = False,
) -> Evaluation:
    """Cross-validate each member of ``model`` on the same folds of ``protocol`` and combine them
    (:meth:`EnsembleRecipe.evaluate`).

    Returns the ensemble's :class:`~emovox.evaluation.Evaluation`; each member's own evaluation is in
    its ``members`` attribute (name -> Evaluation). ``log`` logs a line per deep-member fold.
    ``tables`` (member name -> features) is reused, and filled in as features are computed.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion``, ``speaker`` (and the columns ``protocol`` needs).
    model : str
        Members joined by ``+`` (see :func:`member_names`).
    protocol : str
        A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
    seed : int
        Random state of the splits and of the members' fits (default 0).
    weights : sequence of float, optional
        One weight per member (default None: equal).
    cache_dir : str or Path, optional
        Feature cache (default None).
    n_jobs : int, optional
        Worker processes computing features (default None).
    progress : bool
        Show progress bars (default False).
    tables : dict, optional
        Member name -> features, reused and filled in (default None).
    log : bool
        Log a line per deep-member fold (default False).

    Returns
    -------
    Evaluation
        The ensemble's, with ``members`` (name -> Evaluation).

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
    >>> ev = evaluate_ensemble(manifest, "svm+logreg", "kfold:2", cache_dir="cache", n_jobs=1)
    >>> ev.summary["protocol"], ev.summary["ua"], list(ev.members)
    ('kfold(2)', 1.0, ['svm', 'logreg'])
    """
    recipe = EnsembleRecipe.from_name(model, weights)
    return recipe.evaluate(
        manifest,
        protocol,
        table=tables,
        seed=seed,
        progress=progress,
        cache_dir=cache_dir,
        n_jobs=n_jobs,
        log=log,
    )


def train_ensemble(
    manifest: pd.DataFrame,
    model: str,
    output: str | Path,
    *,
    protocol: str = "none",
    seed: int = 0,
    weights: Sequence[float] | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    tables: dict[str, Any] | None = None,
) -> tuple[Path, Evaluation | None]:
    """Train every member on all of ``manifest`` into ``output/<member>`` and write the ensemble's metadata.

    With a ``protocol`` other than ``"none"`` the ensemble is cross-validated first; the figures go into
    its metadata (and each member's own into the member's). Returns ``(output, evaluation or None)``.
    ``tables`` (member name -> features) is filled in as they are computed, their ``failures`` included.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker``.
    model : str
        Members joined by ``+`` (see :func:`member_names`).
    output : str or Path
        The ensemble's model directory.
    protocol : str
        Cross-validate first under this protocol (default ``"none"``: no evaluation).
    seed : int
        Random state of the splits and of the members' fits (default 0).
    weights : sequence of float, optional
        One weight per member (default None: equal).
    cache_dir : str or Path, optional
        Feature cache (default None).
    n_jobs : int, optional
        Worker processes computing features (default None).
    progress : bool
        Show progress bars (default False).
    tables : dict, optional
        Member name -> features, reused and filled in (default None).

    Returns
    -------
    tuple
        The model directory (Path) and the ensemble's Evaluation (None with ``protocol="none"``).

    Raises
    ------
    ModelError
        For a name that is not a valid ensemble (:func:`member_names`) or invalid ``weights``.
    CorpusError
        When ``manifest`` is empty.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> manifest = toy_corpus()  # 0.wav ... 9.wav: 1 s tones, sad and happy (higher) in turn; 5 speakers
    >>> out, ev = train_ensemble(manifest, "svm+logreg", "models/fusion", weights=[2, 1], cache_dir="cache", n_jobs=1)
    >>> out.name, ev  # no protocol: no evaluation
    ('fusion', None)
    >>> import emovox
    >>> emovox.load_model(out).labels
    ['happy', 'sad']
    """
    recipe = EnsembleRecipe.from_name(model, weights)
    if len(manifest) == 0:
        raise CorpusError("no training data: every file failed or the manifest is empty")
    tables = recipe.compute_features(
        manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress, tables=tables
    )
    ev = None
    if protocol != "none":
        ev = recipe.evaluate(manifest, protocol, table=tables, seed=seed, progress=progress)
    fitted = recipe.fit(manifest, table=tables, seed=seed, progress=progress)
    return fitted.save(output, evaluation=ev), ev


def save_ensemble(
    output: str | Path,
    members: dict[str, str | Path],
    weights: Sequence[float] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an ensemble model directory from trained model directories (name -> directory).

    Members outside ``output`` are copied into ``output/<name>``; ``weights`` (default equal) weight
    their probabilities. The result loads with :func:`emovox.load_model` like any model.

    Parameters
    ----------
    output : str or Path
        The ensemble's model directory.
    members : dict of str to str or Path
        Member name (a plain folder name) -> a trained model directory (not an ensemble).
    weights : sequence of float, optional
        One non-negative weight per member, not all zero (default None: equal).
    extra : dict, optional
        More metadata keys (default None).

    Returns
    -------
    Path
        ``output``.

    Examples
    --------
    >>> save_ensemble("models/fusion", {"cnn": "models/rescnn", "functionals": "models/compare"})  # doctest: +SKIP
    """
    import shutil

    from .store import read_model_dir, save_model_dir

    output = Path(output)
    w = _weights(weights, len(members))
    labels = []
    for name, path in members.items():
        if not name or Path(name).name != name or name.startswith("."):
            raise ModelError(f"ensemble member name {name!r} must be a plain folder name")
        path = Path(path)
        meta = read_model_dir(path)
        if meta.get("kind") == "ensemble":
            raise ModelError(f"{path}: an ensemble cannot be a member of another ensemble")
        target = output / name
        if path.resolve() != target.resolve():
            shutil.copytree(path, target, dirs_exist_ok=True)
        labels.append(meta["labels"])
    meta = {
        "kind": "ensemble",
        "labels": _label_order(labels),
        "frontend": {"type": "ensemble"},
        "members": [{"name": n, "path": n, "weight": wi} for n, wi in zip(members, w, strict=True)],
        **(extra or {}),
    }
    return save_model_dir(output, {f"{n}/metadata.json": output / n / "metadata.json" for n in members}, meta)
