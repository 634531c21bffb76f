"""Ensembles: several emovox models trained on the same data, their probabilities averaged.

``--model rescnn+compare-logreg`` names one. Models that see the audio differently make different
errors: the residual CNN reads the log-mel image, compare-logreg reads utterance functionals, and their
mean probability is more accurate than either (RAVDESS, EmoBox folds: see BENCHMARKS.md).

Cross-validation runs every member on the same folds and averages each test row's probabilities, so
the ensemble's figures are as speaker-independent as its members'. The model directory of an ensemble
holds one model directory per member beside a ``metadata.json`` that lists them (with the SHA-256 of
each member's metadata, which holds the hashes of its graphs); :class:`emovox.inference.EmotionModel`
loads it like any other model.

>>> from emovox.corpora import shared_corpus                                            # doctest: +SKIP
>>> ev = evaluate_ensemble(shared_corpus("ravdess"), "rescnn+compare-logreg", "emobox")  # doctest: +SKIP
>>> train_ensemble(shared_corpus("ravdess"), "rescnn+compare-logreg", "models/fusion")    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorpusError, ModelError

logger = logging.getLogger(__name__)

SEP = "+"


def is_ensemble(model: str | None) -> bool:
    """Whether a ``--model`` name joins several models with ``+``."""
    return bool(model) and SEP in str(model)


def member_names(model: str) -> list[str]:
    """The members of ``"a+b[+c...]"``, each checked to be a model ``emovox train`` knows."""
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


def _is_deep(name: str) -> bool:
    from ..deep import DEEP_MODELS

    return name in DEEP_MODELS


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    w = [1.0] * n if weights is None else [float(x) for x in weights]
    if len(w) != n or min(w) < 0 or sum(w) <= 0:
        raise ModelError(f"ensemble weights must be {n} non-negative numbers, not all zero; got {w}")
    return w


def _label_order(label_lists) -> list[str]:
    """Every member's labels, in emovox's canonical emotion order."""
    from ..labels import label_order

    return label_order(np.array(sorted(set().union(*map(set, label_lists)))))


def combine(evaluations: Sequence, weights: Sequence[float] | None = None, name: str = ""):
    """The :class:`~emovox.evaluation.Evaluation` of the weighted mean of members' test probabilities.

    Every member must have been evaluated on the same folds. A test row one member could not read (its
    file failed that member's features) is scored on the members that read it.
    """
    from ..evaluation import Evaluation, FoldProba, scores

    weights = np.array(_weights(weights, len(evaluations)))
    labels = _label_order(ev.labels for ev in evaluations)
    fold_names = [[f.name for f in ev.fold_proba] for ev in evaluations]
    if not fold_names[0] or any(names != fold_names[0] for names in fold_names):
        raise ModelError(
            "ensemble members were not evaluated on the same folds (or one gives no probabilities)"
        )
    folds, fold_proba, all_true, all_pred = [], [], [], []
    for k, fold_name in enumerate(fold_names[0]):
        total: dict[str, np.ndarray] = {}
        weight: dict[str, float] = {}
        truth: dict[str, str] = {}
        for ev, w in zip(evaluations, weights, strict=True):
            fp = ev.fold_proba[k]
            cols = [labels.index(lab) for lab in ev.labels]
            for path, t, p in zip(fp.paths, fp.y_true, fp.proba, strict=True):
                row = total.setdefault(path, np.zeros(len(labels)))
                row[cols] += w * p
                weight[path] = weight.get(path, 0.0) + w
                truth[path] = t
        paths = list(total)
        proba = np.stack([total[p] / weight[p] for p in paths])
        y_true = [truth[p] for p in paths]
        pred = [labels[i] for i in proba.argmax(axis=1)]
        s = scores(y_true, pred, labels)
        s.update(fold=fold_name, shared_speakers=evaluations[0].folds[k].get("shared_speakers", 0))
        folds.append(s)
        fold_proba.append(FoldProba(fold_name, paths, y_true, proba))
        all_true += y_true
        all_pred += pred
    notes = sorted({ev.note for ev in evaluations if ev.note})
    ev = Evaluation(
        evaluations[0].protocol,
        all(e.speaker_independent for e in evaluations),
        labels,
        folds,
        scores(all_true, all_pred, labels),
        "; ".join(notes),
        fold_proba=fold_proba,
    )
    ev.recipe = {
        "ensemble": name,
        "weights": weights.tolist(),
        "members": [{**e.recipe, "ua": e.summary["ua"]} for e in evaluations],
    }
    return ev


def _member_table(manifest, name: str, *, cache_dir, n_jobs: int | None, progress: bool):
    """The features a member trains on: a deep frame table, or a hand-crafted / encoder feature table."""
    if _is_deep(name):
        from ..deep.train import deep_features

        table = deep_features(manifest, name, cache_dir=cache_dir, progress=progress)
    else:
        from ..training import compute_features, resolve_recipe

        table = compute_features(
            manifest, resolve_recipe(name), n_jobs=n_jobs, cache_dir=cache_dir, progress=progress
        )
    return table  # its failures are reported once, by the caller, for every member together


def _evaluate_member(
    manifest, name: str, table, protocol: str, *, seed: int, progress: bool, log: bool = False
):
    if _is_deep(name):
        from ..deep.train import evaluate_deep

        return evaluate_deep(manifest, name, protocol, seed=seed, table=table, progress=progress, log=log)
    from ..training import evaluate_recipe, resolve_recipe

    return evaluate_recipe(table, resolve_recipe(name), protocol, seed=seed, progress=progress)


def evaluate_ensemble(
    manifest,
    model: str,
    protocol: str = "kfold",
    *,
    seed: int = 0,
    weights=None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    tables: dict[str, Any] | None = None,
    log: bool = False,
):
    """Cross-validate each member of ``model`` on the same folds of ``protocol`` and combine them.

    Returns the ensemble's :class:`~emovox.evaluation.Evaluation`; each member's own evaluation is in
    its ``members`` attribute (name -> Evaluation). ``log`` prints a line per deep-member fold.
    ``tables`` (member name -> features) is reused, and filled in as features are computed.
    """
    names = member_names(model)
    tables = tables if tables is not None else {}
    members = {}
    for name in names:
        if name not in tables:
            tables[name] = _member_table(
                manifest, name, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress
            )
        members[name] = _evaluate_member(
            manifest, name, tables[name], protocol, seed=seed, progress=progress, log=log
        )
        if progress or log:
            logger.info("[%s] %s: UA %.1f %%", model, name, 100 * members[name].summary["ua"])
    ev = combine(list(members.values()), weights, name=model)
    ev.members = members
    return ev


def train_ensemble(
    manifest,
    model: str,
    output: str | Path,
    *,
    protocol: str = "none",
    seed: int = 0,
    weights=None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    tables: dict[str, Any] | None = None,
):
    """Train every member on all of ``manifest`` into ``output/<member>`` and write the ensemble's metadata.

    With a ``protocol`` other than ``"none"`` the ensemble is cross-validated first; the figures go into
    its metadata (and each member's own into the member's). Returns ``(output, evaluation or None)``.
    ``tables`` (member name -> features) is filled in as they are computed, their ``failures`` included.
    """
    from ..training import training_summary

    names = member_names(model)
    if len(manifest) == 0:
        raise CorpusError("no training data: every file failed or the manifest is empty")
    output = Path(output)
    tables = tables if tables is not None else {}
    for n in names:
        if n not in tables:
            tables[n] = _member_table(manifest, n, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    ev = None
    if protocol != "none":
        ev = evaluate_ensemble(
            manifest, model, protocol, seed=seed, weights=weights, progress=progress, tables=tables
        )
    members = {}
    for name in names:
        member_ev = ev.members[name] if ev is not None else None
        if _is_deep(name):
            from ..deep.train import train_deep

            members[name], _ = train_deep(
                manifest,
                name,
                output / name,
                seed=seed,
                evaluation=member_ev,
                table=tables[name],
                progress=progress,
            )
        else:
            from ..training import resolve_recipe, train_classical

            r = resolve_recipe(name)
            members[name] = train_classical(
                tables[name],
                output / name,
                r.classifier,
                params=r.params,
                seed=seed,
                evaluation=member_ev,
                extra={"recipe": name},
                align=r.align,
                balance=r.balance,
            )
    from ..evaluation import evaluation_metadata, save_evaluation_files

    read_by_all = set.intersection(*(set(t.manifest["path"].astype(str)) for t in tables.values()))
    save_ensemble(
        output,
        members,
        weights,
        {
            "recipe": model,
            "training": training_summary(manifest[manifest["path"].astype(str).isin(read_by_all)]),
            **evaluation_metadata(ev),
            "member_metrics": {n: e.summary for n, e in ev.members.items()} if ev is not None else None,
        },
    )
    if ev is not None:
        save_evaluation_files(ev, output)
    return output, ev


def save_ensemble(
    output: str | Path,
    members: dict[str, str | Path],
    weights: Sequence[float] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an ensemble model directory from trained model directories (name -> directory).

    Members outside ``output`` are copied into ``output/<name>``; ``weights`` (default equal) weight
    their probabilities. The result loads with :func:`emovox.load_model` like any model.

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
