"""One recipe interface for every kind of model: hand-crafted, encoder, deep and ensemble.

A recipe (:class:`RecipeProtocol`) has a ``name``, a ``kind`` and ``to_dict()``; ``compute_features``
gives its features of a manifest, ``evaluate`` cross-validates it under a protocol, and ``fit`` trains
it on every row, returning a fitted model (:class:`FittedModel`) whose ``predict_proba`` takes audio files
or features and whose ``save`` writes a model directory. :func:`get_recipe` finds any recipe by the name
``--model`` takes; :func:`emovox.experiments.evaluate` and :func:`~emovox.experiments.train` go through it.

=====================  ==========================================  =========================================
kind                   recipe                                      fitted model
=====================  ==========================================  =========================================
``features``           :class:`FeatureRecipe` (svm, compare-logreg, :class:`emovox.training.FittedClassical`
                       whisper-robust...)
``deep``               :class:`DeepRecipe` (cnn1d, rescnn...)       :class:`emovox.deep.train.DeepResult`
``ensemble``           :class:`EnsembleRecipe` (``a+b``)            :class:`emovox.models.ensemble.FittedEnsemble`
=====================  ==========================================  =========================================

Examples
--------
>>> from emovox.recipes import RecipeProtocol, get_recipe, recipe_from_dict
>>> r = get_recipe("compare-logreg+rescnn")
>>> r.kind, [m.kind for m in r.members]
('ensemble', ['features', 'deep'])
>>> isinstance(r, RecipeProtocol) and recipe_from_dict(r.to_dict()) == r
True
>>> fitted = get_recipe("svm").fit(manifest, cache_dir="cache")             # doctest: +SKIP
>>> fitted.predict_proba(["clip.wav"])                                        # doctest: +SKIP
>>> fitted.save("models/svm")                                                 # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..errors import ParameterError
from ..models.ensemble import EnsembleRecipe, is_ensemble
from .base import DeepRecipe, FeatureRecipe, FittedModel, RecipeProtocol, known_recipes, single_recipe

__all__ = [
    "DeepRecipe",
    "EnsembleRecipe",
    "FeatureRecipe",
    "FittedModel",
    "RecipeProtocol",
    "get_recipe",
    "known_recipes",
    "recipe_from_dict",
]


def get_recipe(name: str, **options: Any) -> RecipeProtocol:
    """The recipe ``--model NAME`` trains: a plain classifier, a hand-crafted or encoder recipe, a deep
    model, or an ensemble of them joined with ``+``.

    Parameters
    ----------
    name : str
        The model's name (see :func:`known_recipes`).
    **options
        ``features``, ``trim_db``, ``encoder`` for hand-crafted and encoder recipes; fields of
        :class:`~emovox.deep.recipes.TrainConfig` for deep ones; none for an ensemble (each member is its
        named recipe). Options left None are ignored.

    Returns
    -------
    RecipeProtocol
        A :class:`FeatureRecipe`, :class:`DeepRecipe` or :class:`EnsembleRecipe`.

    Raises
    ------
    ParameterError
        For an unknown name, or an unknown member of an ensemble (one line listing the known names), or
        an option the recipe does not take.

    Examples
    --------
    >>> [(r.name, r.kind) for r in (get_recipe("svm"), get_recipe("rescnn"), get_recipe("svm+rescnn"))]
    [('svm', 'features'), ('rescnn', 'deep'), ('svm+rescnn', 'ensemble')]
    >>> get_recipe("rescnn", epochs=5, lr=None).spec.train.epochs  # options left None are ignored
    5
    >>> get_recipe("svm", epochs=5)
    Traceback (most recent call last):
    ...
    emovox.errors.ParameterError: svm: unknown option epochs; a feature recipe takes features, trim_db, encoder
    """
    options = {k: v for k, v in options.items() if v is not None}
    if not is_ensemble(name):
        return single_recipe(name, **options)
    if options:
        raise ParameterError(
            f"{name}: an ensemble takes no options ({', '.join(options)}); each member is its named recipe"
        )
    known = known_recipes()
    for member in (m.strip() for m in name.split("+")):
        if member not in known:
            raise ParameterError(
                f"ensemble {name!r}: unknown recipe {member!r}; known recipes: {', '.join(known)}"
            )
    return EnsembleRecipe.from_name(name)


def recipe_from_dict(d: dict[str, Any]) -> RecipeProtocol:
    """The recipe a recipe's ``to_dict()`` describes (its ``kind`` says which class).

    Parameters
    ----------
    d : dict
        As ``to_dict()`` gives it (or read back from JSON).

    Returns
    -------
    RecipeProtocol
        A :class:`FeatureRecipe`, :class:`DeepRecipe` or :class:`EnsembleRecipe`, as ``kind`` says.

    Raises
    ------
    ParameterError
        When ``kind`` is not ``features``, ``deep`` or ``ensemble``.

    Examples
    --------
    >>> import json
    >>> r = get_recipe("compare-logreg+cnn1d")
    >>> recipe_from_dict(json.loads(json.dumps(r.to_dict()))) == r
    True
    """
    kinds = {"features": FeatureRecipe, "deep": DeepRecipe, "ensemble": EnsembleRecipe}
    kind = d.get("kind")
    if kind not in kinds:
        raise ParameterError(f"a recipe's kind must be one of {', '.join(kinds)}, got {kind!r}")
    return kinds[kind].from_dict(d)
