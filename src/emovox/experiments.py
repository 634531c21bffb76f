"""Evaluate or train any model by name, under any protocol: the one front door over every kind of recipe.

A ``model`` is a hand-crafted or encoder recipe (``svm``, ``compare-logreg``, ``whisper-robust``... see
:data:`emovox.training.RECIPES`), a plain classifier, a deep model (:data:`emovox.deep.DEEP_MODELS`), or an
ensemble of any of them joined with ``+`` (:mod:`emovox.models.ensemble`). :func:`evaluate` cross-validates
it under a named protocol (speaker-independent unless the protocol says otherwise); :func:`train` fits it
on every row and writes a model directory (optionally evaluating first, the figures stored with it). Both
return the inputs that could not be used, so a caller can report them: one bad file never stops a run.

Examples
--------
>>> from emovox.corpora import shared_corpus                          # doctest: +SKIP
>>> from emovox.experiments import evaluate, train
>>> df = shared_corpus("emodb")                                        # doctest: +SKIP
>>> ev, failed = evaluate(df, "compare-logreg", "loso")                # doctest: +SKIP
>>> print(ev.table())                                                  # doctest: +SKIP
>>> out, ev, failed = train(df, "whisper-robust", "my-model", protocol="kfold")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["evaluate", "model_kind", "train"]

Failures = list[tuple[str, str]]


def model_kind(model: str) -> str:
    """``"ensemble"`` (``a+b``), ``"deep"`` (a deep model) or ``"features"`` (a hand-crafted or encoder
    recipe, or a plain classifier): which training machinery a model name goes to."""
    from .deep import DEEP_MODELS
    from .models.ensemble import is_ensemble

    if is_ensemble(model):
        return "ensemble"
    return "deep" if model in DEEP_MODELS else "features"


#: Options each kind of model cannot honour (deep models only warn about --features: their front end is theirs).
_UNSUPPORTED = {
    "ensemble": ("features", "trim_db", "encoder", "no_scale", "speaker_adapt", "calibrate"),
    "deep": ("trim_db", "encoder", "speaker_adapt", "calibrate"),
    "features": (),
}


def _refuse(model: str, kind: str, **options: Any) -> None:
    """Options a kind of model cannot honour are refused, not silently dropped."""
    given = [
        name.replace("_", "-")
        for name, value in options.items()
        if name in _UNSUPPORTED[kind] and value is not None and value is not False
    ]
    if given:
        raise ParameterError(
            f"{model}: {', '.join('--' + g for g in given)} cannot be used with {kind} models"
        )


def _ensemble_failures(tables: dict[str, Any]) -> Failures:
    seen: dict[str, str] = {}
    for t in tables.values():
        for path, msg in t.failures:
            seen.setdefault(path, msg)
    return list(seen.items())


def _features_table(manifest, model: str, features, trim_db, encoder, n_jobs, cache_dir, progress):
    from .training import compute_features, resolve_recipe

    recipe = resolve_recipe(model, features, trim_db, encoder)
    return recipe, compute_features(manifest, recipe, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress)


def _deep_table(manifest, model: str, features, seed, cache_dir, progress):
    from .deep.recipes import get_recipe
    from .deep.train import deep_features

    if features:
        log.warning("--features is ignored for %s: deep models define their own front end", model)
    recipe = get_recipe(model, seed=seed)
    return recipe, deep_features(manifest, recipe, cache_dir=cache_dir, progress=progress)


def evaluate(
    manifest,
    model: str = "svm",
    protocol: str = "kfold",
    *,
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    scale: bool = True,
    speaker_adapt: bool = False,
    calibrate: bool = False,
):
    """Cross-validate ``model`` on ``manifest`` under ``protocol``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion``, ``speaker`` (and ``corpus`` for ``loco`` / ``cross:``).
    model : str
        A recipe, classifier, deep model or ``a+b`` ensemble.
    protocol : str
        ``kfold[:K]``, ``loso``, ``loco``, ``cross:a,b->c``, ``speakers:...``, ``emobox[:N]``, ``random``.
    features, trim_db, encoder
        Overrides of the recipe's front end (hand-crafted and encoder recipes only).
    speaker_adapt, calibrate
        Score each test speaker as one adapted session; fit a temperature out of corpus
        (hand-crafted and encoder recipes only).

    Returns
    -------
    (Evaluation, list of (path, message))
        The evaluation, and the files that could not be used.
    """
    kind = model_kind(model)
    _refuse(
        model,
        kind,
        features=features,
        trim_db=trim_db,
        encoder=encoder,
        no_scale=not scale,
        speaker_adapt=speaker_adapt,
        calibrate=calibrate,
    )
    if kind == "ensemble":
        from .models.ensemble import evaluate_ensemble

        tables: dict = {}
        ev = evaluate_ensemble(
            manifest,
            model,
            protocol,
            seed=seed,
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
            tables=tables,
        )
        return ev, _ensemble_failures(tables)
    if kind == "deep":
        from .deep.train import evaluate_deep

        recipe, table = _deep_table(manifest, model, features, seed, cache_dir, progress)
        ev = evaluate_deep(manifest, recipe, protocol, seed=seed, table=table, progress=progress)
        return ev, list(table.failures)
    from .training import evaluate_recipe

    recipe, table = _features_table(manifest, model, features, trim_db, encoder, n_jobs, cache_dir, progress)
    ev = evaluate_recipe(
        table,
        recipe,
        protocol,
        seed=seed,
        progress=progress,
        scale=scale,
        adapt=speaker_adapt,
        calibrate=calibrate,
    )
    return ev, list(table.failures)


def train(
    manifest,
    model: str,
    output: str | Path,
    *,
    protocol: str = "none",
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    scale: bool = True,
    calibrate: bool = False,
):
    """Fit ``model`` on every row of ``manifest`` and write its model directory at ``output``.

    With a ``protocol`` other than ``"none"`` the model is first cross-validated under it; the figures go
    into the model's metadata (with ``evaluation.json`` and ``confusion.png`` beside it). ``calibrate``
    fits the temperature on out-of-corpus predictions (hand-crafted and encoder recipes).

    Returns
    -------
    (pathlib.Path, Evaluation or None, list of (path, message))
        The model directory, the evaluation (None without a protocol), the files that could not be used.
    """
    kind = model_kind(model)
    _refuse(
        model,
        kind,
        features=features,
        trim_db=trim_db,
        encoder=encoder,
        no_scale=not scale,
        calibrate=calibrate,
    )
    if kind == "ensemble":
        from .models.ensemble import train_ensemble

        tables: dict = {}
        out, ev = train_ensemble(
            manifest,
            model,
            output,
            protocol=protocol,
            seed=seed,
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
            tables=tables,
        )
        return out, ev, _ensemble_failures(tables)
    if kind == "deep":
        from .deep.train import evaluate_deep, train_deep

        recipe, table = _deep_table(manifest, model, features, seed, cache_dir, progress)
        ev = None
        if protocol != "none":
            ev = evaluate_deep(manifest, recipe, protocol, seed=seed, table=table, progress=progress)
        out, res = train_deep(manifest, recipe, output, table=table, evaluation=ev, progress=progress)
        log.info(
            "trained %d epochs (%.1f s/epoch), best epoch %d, validation UA %.1f %%",
            res.summary()["epochs"],
            res.seconds_per_epoch,
            res.best_epoch,
            100 * res.val_scores["ua"],
        )
        return out, ev, list(table.failures)
    from .training import evaluate_recipe, train_classical

    recipe, table = _features_table(manifest, model, features, trim_db, encoder, n_jobs, cache_dir, progress)
    ev = None
    if protocol != "none":
        ev = evaluate_recipe(table, recipe, protocol, seed=seed, progress=progress, scale=scale)
    out = train_classical(
        table,
        output,
        recipe.classifier,
        params=recipe.params,
        seed=seed,
        evaluation=ev,
        scale=scale,
        extra={"recipe": model},
        calibration=calibrate or None,
        align=recipe.align,
        balance=recipe.balance,
    )
    if ev is not None:
        from .evaluation import save_evaluation_files

        save_evaluation_files(ev, out)
    return out, ev, list(table.failures)
