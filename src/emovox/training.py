"""Recipes: features for a manifest, cross-validation under a protocol, the final fit, the model directory.

The same functions back ``emovox features``, ``evaluate``, ``train`` and ``tune``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .adaptation import GATE
from .errors import CorpusError, ModelError, ParameterError
from .labels import label_order
from .tables import FeatureTable, default_cache_dir, speaker_ids

if TYPE_CHECKING:
    from .evaluation import Evaluation

# also importable from here, where they used to live
__all__ = ["FeatureTable", "default_cache_dir", "speaker_ids"]
log = logging.getLogger(__name__)


def handcrafted_features(
    manifest: pd.DataFrame,
    features: str | dict = "emovox",
    *,
    n_jobs: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> FeatureTable:
    """Hand-crafted features of every manifest row (cached, parallel); failed files are reported, not fatal.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column; the other columns are kept on the rows that could be read.
    features : str or dict
        A hand-crafted feature preset name or configuration (:class:`emovox.features.FeatureExtractor`;
        default ``"emovox"``).
    n_jobs : int, optional
        Worker processes (default None: every core).
    cache_dir : str or Path, optional
        Feature cache (default None: ``default_cache_dir() / "features"``).
    progress : bool
        Show a progress bar (default False).

    Returns
    -------
    FeatureTable
        The float32 features of the rows that could be read, those rows (index reset), the feature names, the
        extractor's configuration and the ``(path, message)`` failures.
    """
    from .features import FeatureExtractor

    ext = FeatureExtractor(features)
    paths = list(manifest["path"].astype(str))
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "features"
    res = ext.process_files(paths, n_jobs=n_jobs, cache_dir=cache, progress=progress)
    kept = manifest[np.asarray(res.mask, dtype=bool)].reset_index(drop=True)
    return FeatureTable(
        np.asarray(res.features, dtype=np.float32), kept, list(ext.feature_names), ext.to_dict(), res.failures
    )


@dataclass(frozen=True)
class Recipe:
    """A named way to build a model: features (with options), classifier, training augmentations,
    ``align``: a manifest column (``corpus``) whose groups are aligned before fitting
    (:func:`emovox.adaptation.align_domains`), and ``balance``: a manifest column whose groups weigh the
    same in the fit, and within each group every emotion the same (sample weights; without it the
    classifier balances emotions over all rows, so the largest corpus decides what an emotion sounds like).
    ``speaker_gate``: a speaker's session is adapted only as far as its predictions spread over the emotions,
    as a channel's (:func:`emovox.adaptation.adaptation_weight`), in evaluation (``adapt``) and in the model
    saved (``adaptation.gate``); None removes a speaker's whole offset."""

    features: str
    classifier: str
    params: dict = field(default_factory=dict)
    feature_options: dict = field(default_factory=dict)
    augment: tuple[str, ...] = ()
    align: str | None = None
    balance: str | None = None
    speaker_gate: tuple[float, float] | None = None


#: Recipes ``--model`` accepts besides the plain classifiers (which use the "emovox" features).
RECIPES: dict[str, Recipe] = {
    # emovox's best hand-crafted recipe: openSMILE's ComParE_2016 functionals over the utterance itself
    # (leading and trailing silence cut at 30 dB below the loudest frame), standardised logistic regression.
    "compare-logreg": Recipe("compare", "logreg", {"C": 0.1}, {"trim_db": 30.0}),
    # EmoBox-style probe: mean and std over time of every encoder layer, standardised logistic regression.
    "whisper-probe": Recipe("whisper", "logreg", {"C": 0.1}),
    # emovox's encoder model: the middle layers (which carry the most emotion) pooled over the voiced
    # frames only, trained on speed- and noise-perturbed copies too, for voices and rooms it has not heard.
    "whisper-active": Recipe(
        "whisper",
        "logreg",
        {"C": 0.1},
        {"layers": [2, 3, 4, 5], "pooling": "active", "threshold_db": 30.0},
        ("speed:0.9", "speed:1.1", "noise:15"),
    ),
    # the default model's recipe, chosen by leave-one-corpus-out UA (BENCHMARKS.md), on the held-out corpora
    # as recorded and degraded (noise, telephone, codec, room): whisper-active's layers and frames, their
    # mean only (the spread over time carries more of the voice and the room than of the emotion), a copy of
    # every recording through a random microphone, room, line and noise (a little lower on studio
    # recordings, clearly higher on degraded ones), each training corpus aligned onto the average one (so
    # that the head learns emotion, not which corpus a recording comes from), every corpus weighing the
    # same in the fit (else nEMO's 4,481 recordings decide what an emotion sounds like), and one strongly
    # regularised head per layer, averaged (no one layer's corpus-specific directions decide).
    "whisper-robust": Recipe(
        "whisper",
        "blocklogreg",
        {"C": 0.01, "blocks": 4},
        {"layers": [2, 3, 4, 5], "pooling": "active", "threshold_db": 30.0, "statistics": ["mean"]},
        ("channel",),
        align="corpus",
        balance="corpus",
        # removed whole, a speaker's offset took the emotion out of sessions of one emotion (RAVDESS actors'
        # 8 angry recordings: 174 -> 104 of 192 right); gated, mixed sessions gain as much (BENCHMARKS.md)
        speaker_gate=GATE,
    ),
}


def resolve_recipe(
    model: str, features: str | None = None, trim_db: float | None = None, encoder: str | None = None
) -> Recipe:
    """The recipe behind ``--model`` (a named recipe or a plain classifier), with the ``--features``,
    ``--trim-db`` and ``--encoder`` overrides.

    ``encoder`` names the Whisper checkpoint of the features however they were chosen (a whisper-* model,
    ``features="whisper"``, or ``encoder`` alone, which means Whisper features).

    Parameters
    ----------
    model : str
        A key of :data:`RECIPES`, or a classifier name (``svm``, ``logreg``, ``mlp``, ``rf``, ``gb``).
    features : str, optional
        Feature override (default None: the recipe's, or ``"emovox"`` for a plain classifier).
    trim_db : float, optional
        Silence trimming in dB for hand-crafted features (default None: the recipe's own, if any).
    encoder : str, optional
        Whisper checkpoint of the features (default None: the recipe's).

    Returns
    -------
    Recipe
        A new recipe; the entries of :data:`RECIPES` are left unchanged. Conflicting overrides raise
        :class:`~emovox.errors.ModelError`.

    Examples
    --------
    >>> resolve_recipe("svm").features
    'emovox'
    >>> resolve_recipe("svm", trim_db=20).feature_options
    {'trim_db': 20.0}
    >>> resolve_recipe("whisper-probe", encoder="base").features
    'whisper:base'
    """
    features = features or (f"whisper:{encoder}" if encoder else None)
    if model in RECIPES:
        r = RECIPES[model]
        if features and _is_encoder(features) != _is_encoder(r.features):
            raise ModelError(
                f"features {features}: model {model} is a recipe built on {r.features.split(':')[0]} "
                f"features; for {features} features choose a classifier (svm, logreg, mlp, rf, gb), or leave "
                "the features out"
            )
        recipe = replace(
            r, features=features or r.features, params=dict(r.params), feature_options=dict(r.feature_options)
        )
    else:
        recipe = Recipe(features or "emovox", model)
    if trim_db is not None:
        if _is_encoder(recipe.features):
            raise ModelError(
                "trim_db (--trim-db) applies to hand-crafted features; encoder models pool over the "
                "voiced frames with whisper-active"
            )
        recipe.feature_options["trim_db"] = float(trim_db)
    if encoder:
        kind, _, checkpoint = recipe.features.partition(":")
        if kind not in ("whisper", "encoder"):
            raise ModelError(
                f"encoder {encoder} names a Whisper checkpoint, but the features are {recipe.features!r}: "
                "use features 'whisper' or a whisper-* model, or leave the encoder out"
            )
        if checkpoint and checkpoint != encoder:
            raise ModelError(
                f"features {recipe.features} and encoder {encoder} name two checkpoints: give one"
            )
        recipe = replace(recipe, features=f"{kind}:{encoder}")
    return recipe


def _is_encoder(features: str) -> bool:
    return features.split(":")[0] in ("whisper", "encoder")


def compute_features(manifest: pd.DataFrame, recipe: Recipe | str = "emovox", **kw) -> FeatureTable:
    """Features of a manifest for a recipe (or a feature name): hand-crafted, or ``whisper[:CHECKPOINT]``.

    Augmented training variants are computed for encoder recipes that ask for them.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column.
    recipe : Recipe or str
        A recipe, or a feature name (``emovox``, ``compare``, ``whisper[:CHECKPOINT]``...; default ``"emovox"``).
    **kw
        Passed on: to :func:`handcrafted_features` (``n_jobs``, ``cache_dir``, ``progress``), or for encoder
        features to :func:`emovox.encoders.frontend.encoder_features`, over the recipe's feature options.

    Returns
    -------
    FeatureTable
        The features of the rows that could be read (with augmented rows for encoder recipes that ask).
    """
    if isinstance(recipe, str):
        recipe = Recipe(recipe, "none")
    if _is_encoder(recipe.features):
        from .encoders.frontend import encoder_features

        # one WhisperExtractor (and an augmented view of it per augmentation) through the runner and cache
        # every extractor uses: the vectors prediction computes, long files included
        opts = {**recipe.feature_options, **kw}
        return encoder_features(manifest, recipe.features, augmentations=recipe.augment, **opts)
    features: str | dict = recipe.features
    if recipe.feature_options:
        from .features.config import preset

        features = preset(recipe.features).replace(**recipe.feature_options).to_dict()
    return handcrafted_features(manifest, features, **kw)


def evaluate_recipe(
    table: FeatureTable,
    model: str | Recipe = "svm",
    protocol: str = "kfold",
    *,
    params: dict | None = None,
    scale: bool = True,
    seed: int | None = None,
    progress: bool = False,
    folds_dir: str | Path | None = None,
    adapt: bool | str = False,
    calibrate: bool = False,
):
    """Cross-validate a classifier (or a recipe's) on a feature table under ``protocol``.

    Augmented variants in ``table`` join the training side of each fold only; tests see original audio.
    ``adapt``: speaker adaptation (:mod:`emovox.adaptation`) with all of each test speaker's recordings,
    unlabelled, as that speaker's session; the protocol's name and note say so. A manifest column name
    (``corpus``: every recording of a test corpus shares a channel) makes its groups the sessions, each
    adapted as ``--same-channel`` is (as far as its predictions spread over the emotions).
    ``calibrate``: each fold's probabilities are temperature-scaled with a temperature fitted on the
    fold's training side only, from out-of-corpus predictions (:func:`out_of_domain_proba`), as the
    bundled models are. Cross-corpus protocols score each test corpus on the emotions it has.

    Parameters
    ----------
    table : FeatureTable
        Features and manifest (``path``, ``emotion``, and the columns ``protocol`` needs).
    model : str or Recipe
        A classifier name or a recipe (default ``"svm"``).
    protocol : str
        A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
    params : dict, optional
        Classifier parameters when ``model`` is a name (ignored for a :class:`Recipe`; default None).
    scale : bool
        Standardise features before the classifier (default True).
    seed : int, optional
        Random state of the splits (None: the protocol's default) and of the classifier (None: 0).
    progress : bool
        Show a progress bar over folds (default False).
    folds_dir : str or Path, optional
        Where ``emobox`` finds its folds (default None: :func:`emovox.splits.default_folds_dir`).
    adapt : bool or str
        False (default), True to adapt by speaker, or a manifest column whose groups are the sessions.
    calibrate : bool
        Temperature-scale each fold's probabilities (default False).

    Returns
    -------
    Evaluation
        Per-fold and pooled scores, with ``recipe`` describing what was evaluated (``protocol`` ends in
        ``+<speaker or column>-adapted`` when adapting).
    """
    from .calibration import apply_temperature, ece, fit_temperature
    from .evaluation import FoldResult, add_calibration, cross_validate, once_per_training_side
    from .splits import make_protocol

    recipe = model if isinstance(model, Recipe) else Recipe("", model, params or {})
    y = table.manifest["emotion"].to_numpy()
    labels = label_order(y)
    if len(labels) < 2:
        raise CorpusError(f"need at least two emotions to evaluate, got {labels}")
    proto = make_protocol(table.manifest, protocol, random_state=seed, folds_dir=folds_dir)
    seed = 0 if seed is None else seed  # the splits' None is the tutorials' 7 for ``random``
    session_by = "speaker" if adapt is True else adapt or None
    speakers = speaker_ids(table.manifest, session_by) if session_by else None
    uncalibrated: list[np.ndarray] = []
    temperatures: list[float] = []
    several: list[bool] = []  # per fold: was the temperature fitted out of corpus (several training corpora)

    once = once_per_training_side()

    # cross_validate slices X by fold; passing row numbers lets the fit also take the augmented rows
    def fit_predict(rows_train, y_train, rows_test):
        train, test = rows_train[:, 0], rows_test[:, 0]
        clf = once(train, lambda: _fit(table, recipe, train, scale, seed))
        p = _proba(
            clf,
            table,
            train,
            test,
            labels,
            speakers[test] if session_by else None,
            recipe.align,
            # a channel's offset only as much as its predictions allow; a speaker's as the recipe says
            recipe.speaker_gate if session_by == "speaker" else GATE,
        )
        if p is None:  # a classifier without probabilities: labels only
            return clf.predict(table.X[test])
        if proto.cross_corpus:  # the test corpus's own emotions only, renormalised
            p = restrict_columns(p, np.isin(labels, y[test]))
        if calibrate:
            several.append(_several_corpora(table.manifest.iloc[train]))
            temperatures.append(
                once(
                    train,
                    lambda: fit_temperature(
                        out_of_domain_proba(table, recipe, train, labels, scale=scale, seed=seed),
                        [labels.index(v) for v in y[train]],
                    ),
                    "temperature",
                )
            )
            uncalibrated.append(p)
            p = apply_temperature(p, temperatures[-1])
        return FoldResult(np.asarray(labels)[p.argmax(axis=1)], p)

    rows = np.arange(len(y))[:, None]
    paths = list(table.manifest["path"].astype(str))
    ev = cross_validate(rows, y, proto, fit_predict, labels, progress, paths=paths)
    if ev.fold_proba:
        add_calibration(ev)
        for fold, fp, raw in zip(ev.folds, ev.fold_proba, uncalibrated, strict=False):
            fold["ece_uncalibrated"] = ece(raw, [labels.index(v) for v in fp.y_true])
    ev.recipe = {
        # the named recipe it is (a --features override makes it another), else the plain classifier
        "name": next((n for n, r in RECIPES.items() if r == recipe), recipe.classifier),
        "model": recipe.classifier,
        "params": recipe.params,
        "scale": scale,
        "augment": list(table.augmented),
        "features": table.frontend,
        "speaker_adaptation": adapt,
        "calibrated": calibrate,
    }
    if calibrate:
        ev.recipe["temperatures"] = [round(t, 4) for t in temperatures]
        source = (
            "out-of-corpus predictions"
            if several and all(several)
            else "predictions of unseen speakers (a training side of one corpus cannot give out-of-corpus ones)"
            if not any(several)
            else "out-of-corpus predictions where a fold trains on several corpora, else unseen speakers'"
        )
        notes = [ev.note, f"temperature fitted on each fold's training side, from {source}"]
        before = [f["ece_uncalibrated"] for f in ev.folds if "ece_uncalibrated" in f]
        after = [f["ece"] for f in ev.folds if "ece" in f]
        if before and after and np.mean(after) > np.mean(before):
            notes.append(
                f"calibration raised the ECE here ({np.mean(after):.3f} against {np.mean(before):.3f} "
                "without): the training side's temperature does not suit these test speakers or corpora"
            )
        ev.note = "; ".join(filter(None, notes))
    if session_by:
        ev.protocol += f"+{session_by}-adapted"
        ev.note = "; ".join(
            filter(
                None,
                [
                    ev.note,
                    (
                        f"{session_by}-adapted: the test recordings of each {session_by} (unlabelled, all of them at once) "
                        "were used to estimate and remove their shared offset"
                        + (
                            " (as far as their predictions spread over the emotions)"
                            if session_by != "speaker" or recipe.speaker_gate is not None
                            else ""
                        )
                        + "; per-recording figures need the plain protocol"
                    ),
                ],
            )
        )
    return ev


def restrict_columns(p: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Probabilities with the columns not in ``keep`` (a boolean mask) set to 0, rows renormalised.

    Parameters
    ----------
    p : numpy.ndarray
        Probabilities, shape ``(n, k)``.
    keep : numpy.ndarray
        Boolean mask of the ``k`` columns kept.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)``; each row sums to 1 (a row with nothing left stays 0).

    Examples
    --------
    >>> restrict_columns(np.array([[0.5, 0.3, 0.2]]), np.array([True, False, True])).round(3)
    array([[0.714, 0.   , 0.286]])
    """
    p = np.where(keep[None, :], p, 0.0)
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


def _fit(table: FeatureTable, recipe: Recipe, rows: np.ndarray, scale: bool, seed: int):
    from .models.classical import make_classifier, quiet_fit

    Xtr, ytr = table.training_rows(rows, recipe.align)
    if len(set(ytr)) < 2:
        raise CorpusError("a fold's training side holds a single emotion; choose another protocol")
    pipe = make_classifier(recipe.classifier, scale=scale, seed=seed, **recipe.params)
    fit_params = {}
    if recipe.balance:
        import inspect

        step, estimator = pipe.steps[-1]
        if "sample_weight" not in inspect.signature(estimator.fit).parameters:
            raise ParameterError(
                f"{recipe.classifier} cannot weigh its rows, so it cannot balance by {recipe.balance}"
            )
        if "class_weight" in estimator.get_params():  # the weights balance the emotions within each group
            estimator.set_params(class_weight=None)
        fit_params = {f"{step}__sample_weight": table.balance_weights(rows, recipe.balance)}
    with quiet_fit():
        return pipe.fit(Xtr, ytr, **fit_params)


def training_class_means(
    table: FeatureTable, rows: np.ndarray, classes, align: str | None = None
) -> np.ndarray:
    """Class means of rows ``rows`` in the space the classifier was fitted in (aligned when ``align``), for
    speaker and channel adaptation: offsets are estimated against them.

    Parameters
    ----------
    table : FeatureTable
        The features the classifier was fitted on.
    rows : numpy.ndarray
        Positions of the training rows in ``table`` (their augmented copies are not counted).
    classes : sequence of str
        Class order of the result (the classifier's ``classes_``).
    align : str, optional
        Manifest column whose groups were aligned before fitting (default None: no alignment).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(classes), n_features)``: one mean per class, in ``classes`` order.
    """
    from .adaptation import class_means

    X, y = table.training_rows(rows, align)
    return class_means(X[: len(rows)], y[: len(rows)], classes)


def _proba(
    clf,
    table: FeatureTable,
    train: np.ndarray,
    test: np.ndarray,
    labels: list[str],
    speakers: np.ndarray | None = None,
    align: str | None = None,
    gate: tuple[float, float] | None = None,
) -> np.ndarray | None:
    """Probabilities of rows ``test`` in ``labels`` order from ``clf`` fitted on rows ``train`` (None if the
    classifier gives none); ``speakers``: adapt to each test speaker (see :mod:`emovox.adaptation`)."""
    if not hasattr(clf, "predict_proba"):
        if speakers is not None:
            raise ModelError("speaker adaptation needs class probabilities; this classifier gives none")
        return None
    Xte = table.X[test]
    if speakers is not None:
        from .adaptation import adapt_by_speaker

        means = training_class_means(table, train, clf.classes_, align)
        return _in_label_order(
            adapt_by_speaker(Xte, speakers, clf.predict_proba, means, gate), clf.classes_, labels
        )
    return _in_label_order(clf.predict_proba(Xte), clf.classes_, labels)


def _several_corpora(manifest: pd.DataFrame) -> bool:
    """Whether rows come from several corpora: then calibration can be fitted out of corpus."""
    return "corpus" in manifest and manifest["corpus"].nunique() > 1


def calibration_protocol(manifest: pd.DataFrame, what: str = "the training data") -> str:
    """The folds :func:`out_of_domain_proba` predicts ``manifest``'s rows by: leave one corpus out over
    several corpora, else by speaker (5-fold, or one fold per speaker under 5). Raises
    :class:`CorpusError` (naming ``what``) for rows of one corpus and one speaker: nothing to hold out.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``speaker`` and, optionally, ``corpus``.
    what : str
        How the rows are named in the error (default ``"the training data"``).

    Returns
    -------
    str
        ``"loco"`` or ``"kfold:N"``.

    Examples
    --------
    >>> m = pd.DataFrame({"speaker": ["a", "a", "b", "c"], "emotion": ["angry", "sad", "angry", "sad"]})
    >>> calibration_protocol(m), calibration_protocol(m.assign(corpus=["x", "x", "y", "y"]))
    ('kfold:3', 'loco')
    """
    if _several_corpora(manifest):
        return "loco"
    n = manifest["speaker"].nunique() if "speaker" in manifest else 0
    if n < 2:
        corpus = f"one corpus ({manifest['corpus'].iloc[0]}) and " if "corpus" in manifest else ""
        raise CorpusError(
            f"calibration: {what} holds {corpus}{n} speaker(s); calibration is fitted on predictions for "
            "voices (or corpora) held out, so it needs at least two speakers or two corpora"
        )
    return f"kfold:{min(5, n)}"


def check_calibration(manifest: pd.DataFrame, protocol: str, seed: int | None = None) -> None:
    """Whether every fold of ``protocol`` (and the whole manifest, which a trained model is calibrated on)
    can be calibrated (:func:`calibration_protocol`): a check in a second, before any features.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The rows to be evaluated and trained on.
    protocol : str
        The evaluation protocol, or ``"none"`` (only the whole manifest is checked).
    seed : int, optional
        Random state of the protocol's splits (default None).

    Returns
    -------
    None
        Raises :class:`~emovox.errors.CorpusError` for the first set of rows that cannot be calibrated.
    """
    from .splits import make_protocol

    calibration_protocol(manifest)
    if protocol == "none":
        return
    for f in make_protocol(manifest, protocol, random_state=seed).folds:
        calibration_protocol(manifest.iloc[f.train], f"the training side of fold {f.name!r}")


def out_of_domain_proba(
    table: FeatureTable,
    recipe: Recipe,
    rows: np.ndarray,
    labels: list[str],
    *,
    scale: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """Probabilities of ``rows`` each predicted by a model that never saw its domain: leave one corpus out
    over the corpora of ``rows`` when there are several, else by speaker (:func:`calibration_protocol`). What calibration is
    fitted on, so that the temperature suits voices and microphones the model has not heard.

    Parameters
    ----------
    table : FeatureTable
        Features of every row.
    recipe : Recipe
        What each inner model fits (classifier, parameters, ``align``, ``balance``).
    rows : numpy.ndarray
        Positions in ``table`` of the rows predicted.
    labels : list of str
        Column order of the result.
    scale : bool
        Standardise features before the classifier (default True).
    seed : int
        Random state of the inner splits and classifiers (default 0).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(rows), len(labels))``: row ``i`` predicted for ``rows[i]``.
    """
    from .splits import make_protocol

    sub = table.manifest.iloc[rows].reset_index(drop=True)
    inner = make_protocol(sub, calibration_protocol(sub), random_state=seed)
    out = np.zeros((len(rows), len(labels)))
    for f in inner.folds:
        clf = _fit(table, recipe, rows[f.train], scale, seed)
        p = _proba(clf, table, rows[f.train], rows[f.test], labels)
        if p is None:
            raise ModelError(f"calibration needs class probabilities; {recipe.classifier} gives none")
        out[f.test] = p
    return out


def _in_label_order(p: np.ndarray, classes, labels: list[str]) -> np.ndarray:
    cols = [list(classes).index(lab) if lab in classes else None for lab in labels]
    return np.stack([p[:, c] if c is not None else np.zeros(len(p)) for c in cols], axis=1)


def training_summary(manifest: pd.DataFrame) -> dict[str, Any]:
    """What a model was trained on, as its metadata records it: corpora, utterances, speakers and
    emotion counts.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training rows (``emotion``; ``corpus`` and ``speaker`` where present).

    Returns
    -------
    dict
        ``corpora``, ``n_utterances``, ``n_speakers``, ``speakers`` (None without a ``speaker`` column)
        and ``emotion_counts``.
    """
    return {
        "corpora": sorted(set(manifest["corpus"].dropna())) if "corpus" in manifest else [],
        "n_utterances": int(len(manifest)),
        "n_speakers": int(manifest["speaker"].nunique()) if "speaker" in manifest else None,
        "speakers": sorted(map(str, manifest["speaker"].dropna().unique()))
        if "speaker" in manifest
        else None,
        "emotion_counts": {k: int(v) for k, v in manifest["emotion"].value_counts().sort_index().items()},
    }


#: Training class means (a plain .npy file, loaded with allow_pickle=False) for speaker adaptation.
CLASS_MEANS = "class_means.npy"
#: The training recordings' content fingerprints (sorted uint64, a plain .npy file): ``evaluate --trained``
#: finds its own training files under any name or speaker.
FINGERPRINTS = "training_files.npy"


def with_fingerprints(graphs: dict, meta: dict, manifest: pd.DataFrame | None) -> None:
    """Add the training recordings' fingerprints (:data:`FINGERPRINTS`) to a model directory's files and
    name them in its ``training`` metadata.

    Parameters
    ----------
    graphs : dict
        File name -> bytes of the model directory to be written; changed in place.
    meta : dict
        The model's metadata; changed in place.
    manifest : pandas.DataFrame or None
        The training rows; nothing is added when None or without a ``path`` column.

    Returns
    -------
    None

    Examples
    --------
    >>> graphs, meta = {}, {}
    >>> with_fingerprints(graphs, meta, None)
    >>> graphs, meta
    ({}, {})
    """
    from .extractors.runner import content_fingerprints
    from .models.store import npy_bytes

    if manifest is None or "path" not in manifest:
        return
    graphs[FINGERPRINTS] = npy_bytes(content_fingerprints(manifest["path"]))
    meta.setdefault("training", {})["fingerprints"] = FINGERPRINTS


def fit_calibration(
    table: FeatureTable, recipe: Recipe, *, scale: bool = True, seed: int = 0
) -> dict[str, Any]:
    """The temperature for a model trained on all of ``table``, fitted on out-of-domain predictions of its
    rows (:func:`out_of_domain_proba`: leave one corpus out, or by speaker for one corpus), with
    the calibration error of those predictions before and after; stored as a model's ``calibration``.

    Parameters
    ----------
    table : FeatureTable
        The training features (two corpora, or two speakers, at least).
    recipe : Recipe
        What the model fits.
    scale : bool
        Standardise features before the classifier (default True).
    seed : int
        Random state of the inner splits and classifiers (default 0).

    Returns
    -------
    dict
        ``temperature``, ``uncertain_below``, ``fitted_on``, ``ece_before`` and ``ece_after``.
    """
    from .calibration import UNCERTAIN_BELOW, apply_temperature, ece, fit_temperature

    y = table.manifest["emotion"].to_numpy()
    labels = label_order(y)
    p = out_of_domain_proba(table, recipe, np.arange(len(y)), labels, scale=scale, seed=seed)
    idx = np.array([labels.index(v) for v in y])
    t = fit_temperature(p, idx)
    inner = calibration_protocol(table.manifest)
    return {
        "temperature": round(t, 5),
        "uncertain_below": UNCERTAIN_BELOW,
        "fitted_on": (
            "out-of-corpus predictions: each training corpus predicted by a model trained on the others"
            if inner == "loco"
            else f"out-of-speaker predictions: {inner.split(':')[1]} folds by speaker"
        ),
        "ece_before": round(ece(p, idx), 4),
        "ece_after": round(ece(apply_temperature(p, t), idx), 4),
    }


@dataclass(eq=False)
class FittedClassical:
    """A classifier fitted on every row of a feature table (:func:`fit_classical`): probabilities for new
    inputs (:meth:`predict_proba`) and its model directory (:meth:`save`).

    ``labels`` are the columns of :meth:`predict_proba` (the classifier's class order, as the saved model's);
    ``calibration`` (see :func:`fit_calibration`) temperature-scales them; ``name`` is the recipe's name,
    recorded as the model's ``recipe``; ``cache_dir`` is where features of new files are cached.
    """

    pipeline: Any
    recipe: Recipe
    table: FeatureTable
    labels: list[str]
    scale: bool = True
    seed: int = 0
    calibration: dict[str, Any] | None = None
    name: str = ""
    cache_dir: str | Path | None = None

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """Class probabilities, one row per input, columns in :attr:`labels` order.

        Parameters
        ----------
        inputs
            Audio files (a path, a list of paths, a manifest with a ``path`` column), whose features the
            recipe computes, or features already (one row per input, as :attr:`table`'s ``X``).

        Returns
        -------
        numpy.ndarray
            ``(n_inputs, n_labels)``, rows summing to 1.
        """
        from .tables import input_paths, require_every_file

        paths = input_paths(inputs)
        if paths is None:
            X = np.atleast_2d(np.asarray(inputs, dtype=np.float32))
        else:
            if not self.recipe.features:
                raise ParameterError(
                    "this model was fitted on a feature table without a named front end: pass features"
                )
            new = compute_features(
                pd.DataFrame({"path": paths}),
                replace(self.recipe, augment=()),
                cache_dir=self.cache_dir,
                progress=False,
            )
            require_every_file(new.failures, len(paths))
            X = new.X
        if X.shape[1] != self.table.X.shape[1]:
            raise ParameterError(f"expected {self.table.X.shape[1]} features per row, got {X.shape[1]}")
        if not hasattr(self.pipeline, "predict_proba"):
            raise ModelError(f"{self.recipe.classifier} gives no class probabilities")
        p = self.pipeline.predict_proba(X)
        if self.calibration:
            from .calibration import apply_temperature

            p = apply_temperature(p, float(self.calibration["temperature"]))
        return p

    def save(
        self,
        output: str | Path,
        *,
        evaluation: Evaluation | None = None,
        extra: dict | None = None,
        adaptable: bool = True,
        evaluation_files: bool = True,
        speech_head: bool | None = None,
    ) -> Path:
        """Export the classifier to ONNX and write the model directory at ``output``.

        Parameters
        ----------
        output : str or Path
            The model directory.
        evaluation : Evaluation, optional
            The cross-validation the model was trained after: its figures go into the metadata and, with
            ``evaluation_files``, ``evaluation.json`` and ``confusion.png`` beside it.
        extra : dict, optional
            More metadata.
        adaptable : bool
            Store the training class means that speaker adaptation needs (a model without them refuses
            ``--same-speaker``; leave them out where adaptation was measured not to help).
        evaluation_files : bool
            Write ``evaluation.json`` and ``confusion.png`` for ``evaluation`` (default True).
        speech_head : bool, optional
            Fit and store a learned "no speech" check on the training features (:mod:`emovox.speech_head`,
            about 20 s); default: for encoder front ends, the only ones it was measured on.

        Returns
        -------
        pathlib.Path
            The model directory.
        """
        from .evaluation import evaluation_metadata, save_evaluation_files
        from .models.classical import to_onnx
        from .models.store import npy_bytes, prepare_output, save_model_dir, seal_artefacts

        prepare_output(output)  # a file or a folder of other files: refused before any work
        table, recipe = self.table, self.recipe
        graphs: dict[str, bytes | Path] = {"model.onnx": to_onnx(self.pipeline, table.X.shape[1])}
        if adaptable:
            rows = np.arange(len(table.manifest))
            graphs[CLASS_MEANS] = npy_bytes(
                training_class_means(table, rows, self.labels, recipe.align).astype(np.float32)
            )
        frontend = dict(table.frontend)
        if frontend.get("type") == "whisper":  # (the encoder's stored beside it is sealed instead)
            frontend.pop("fingerprint", None)
        if "onnx_path" in frontend:  # an encoder model carries its encoder graph, attention split by head
            from .encoders.graph import split_encoder_bytes

            onnx_path = Path(frontend.pop("onnx_path"))
            graphs[frontend["encoder"]] = split_encoder_bytes(onnx_path) or onnx_path
        meta = {
            "kind": "encoder-probe" if frontend["type"] == "whisper" else "classical",
            "labels": self.labels,
            "frontend": frontend,
            "head": "model.onnx",
            "adaptation": (  # see emovox.adaptation
                {"class_means": CLASS_MEANS}
                | ({"gate": list(recipe.speaker_gate)} if recipe.speaker_gate else {})  # see Recipe
                if adaptable
                else None
            ),
            "calibration": self.calibration or None,  # see emovox.calibration
            "model": {
                "type": recipe.classifier,
                "params": recipe.params,
                "scale": self.scale,
                "seed": self.seed,
                "align": recipe.align,
                "balance": recipe.balance,
            },
            "training": training_summary(table.manifest),
            **evaluation_metadata(evaluation),
            **({"recipe": self.name} if self.name else {}),
            **(extra or {}),
        }
        with_fingerprints(graphs, meta, table.manifest)
        prepare_output(output, clear=True)  # the old model's files go only once the new ones are ready
        out = save_model_dir(output, graphs, meta)
        if speech_head or (speech_head is None and frontend["type"] == "whisper"):
            from .speech_head import attach_speech_head

            attach_speech_head(out, np.vstack([table.X, *table.augmented.values()]))
        if evaluation is not None and evaluation_files:
            save_evaluation_files(evaluation, out)
        return seal_artefacts(out)


def fit_classical(
    table: FeatureTable,
    recipe: Recipe,
    *,
    scale: bool = True,
    seed: int = 0,
    calibration: dict | bool | None = None,
    name: str = "",
    cache_dir: str | Path | None = None,
) -> FittedClassical:
    """Fit a recipe's classifier on every row of ``table``.

    Parameters
    ----------
    table : FeatureTable
        The recipe's features of the training manifest (:func:`compute_features`).
    recipe : Recipe
        Classifier, parameters, ``align`` and ``balance`` (see :class:`Recipe`).
    scale : bool
        Standardise features before the classifier (default True).
    seed : int
        Random state of the classifier (and of the calibration fit; default 0).
    calibration : dict or bool, optional
        True to fit a temperature (:func:`fit_calibration`), or one already fitted.
    name, cache_dir
        Kept on the result (see :class:`FittedClassical`).

    Returns
    -------
    FittedClassical
    """
    if len(table.manifest) == 0:
        raise CorpusError("no training data: every file failed or the manifest is empty")
    y = table.manifest["emotion"].to_numpy()
    labels = label_order(y)
    if len(labels) < 2:
        raise CorpusError(f"need at least two emotions to train, got {labels}")
    if calibration is True:
        calibration = fit_calibration(table, recipe, scale=scale, seed=seed)
    pipe = _fit(table, recipe, np.arange(len(y)), scale, seed)
    classes = [str(c) for c in pipe.classes_]
    return FittedClassical(pipe, recipe, table, classes, scale, seed, calibration or None, name, cache_dir)


def train_classical(
    table: FeatureTable,
    output: str | Path,
    model: str = "svm",
    *,
    params: dict | None = None,
    scale: bool = True,
    seed: int = 0,
    evaluation=None,
    extra: dict | None = None,
    adaptable: bool = True,
    calibration: dict | bool | None = None,
    align: str | None = None,
    balance: str | None = None,
    speaker_gate: tuple[float, float] | None = None,
) -> Path:
    """Fit ``model`` on every row of ``table``, export it to ONNX and write the model directory.

    :func:`fit_classical` then :meth:`FittedClassical.save`, which holds the figures of ``evaluation`` in
    the metadata (no ``evaluation.json`` is written here). ``adaptable``: store the training class means
    that speaker adaptation needs. ``calibration``: True to fit a temperature (:func:`fit_calibration`), or
    one already fitted; the model's probabilities are then calibrated when it predicts. ``align``,
    ``balance``, ``speaker_gate``: see :class:`Recipe`.

    Parameters
    ----------
    table : FeatureTable
        The training features (:func:`compute_features`).
    output : str or Path
        The model directory (new, empty, or an earlier model's, which is replaced).
    model : str
        Classifier name (default ``"svm"``).
    params : dict, optional
        Classifier parameters (default None: its defaults).
    scale : bool
        Standardise features before the classifier (default True).
    seed : int
        Random state of the classifier and of the calibration fit (default 0).
    evaluation : Evaluation, optional
        Cross-validated figures recorded in the metadata (default None).
    extra : dict, optional
        More metadata keys (default None).
    adaptable : bool
        Store the training class means (default True).
    calibration : dict or bool, optional
        True to fit a temperature, or one already fitted (default None: uncalibrated).
    align, balance : str, optional
        Manifest columns, as in :class:`Recipe` (default None).
    speaker_gate : tuple of float, optional
        As in :class:`Recipe` (default None).

    Returns
    -------
    Path
        The model directory.
    """
    recipe = Recipe("", model, params or {}, align=align, balance=balance, speaker_gate=speaker_gate)
    fitted = fit_classical(table, recipe, scale=scale, seed=seed, calibration=calibration)
    return fitted.save(
        output, evaluation=evaluation, extra=extra, adaptable=adaptable, evaluation_files=False
    )


def tune_classical(
    table: FeatureTable,
    model: str = "svm",
    grid: dict | None = None,
    *,
    n_splits: int = 4,
    seed: int = 0,
    n_jobs: int | None = None,
    scale: bool = True,
):
    """Grid search whose cross-validation is grouped by speaker, on the given (training) rows only.

    Parameters
    ----------
    table : FeatureTable
        The training features; the manifest needs ``emotion`` and ``speaker``.
    model : str
        Classifier name (default ``"svm"``).
    grid : dict, optional
        Pipeline parameter grid (default None: ``GRIDS[model]`` of :mod:`emovox.models.classical`).
    n_splits : int
        Folds grouped by speaker (default 4); at least as many speakers are needed.
    seed : int
        Random state of the folds and of the classifier (default 0).
    n_jobs : int, optional
        Parallel fits of ``GridSearchCV`` (default None).
    scale : bool
        Standardise features before the classifier (default True).

    Returns
    -------
    sklearn.model_selection.GridSearchCV
        Fitted without refit (``refit=False``): ``best_params_``, ``best_score_`` (balanced accuracy) and
        ``cv_results_``, but no ``best_estimator_``.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold

    from .models.classical import GRIDS, make_classifier, quiet_fit

    grid = grid or GRIDS.get(model)
    if not grid:
        raise ModelError(f"no parameter grid for {model!r}")
    groups = table.manifest["speaker"].to_numpy()
    if len(set(groups)) < n_splits:
        raise CorpusError(f"tuning needs at least {n_splits} training speakers, got {len(set(groups))}")
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    search = GridSearchCV(
        make_classifier(model, seed=seed, scale=scale),
        grid,
        scoring="balanced_accuracy",
        cv=cv,
        n_jobs=n_jobs,
        refit=False,
    )
    with quiet_fit(), warnings.catch_warnings():
        # speakers' folds: a test fold may lack an emotion its model predicts; balanced accuracy is then the
        # mean recall over the emotions the fold has, as meant, and the warning one line per fit
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found in 'y_true' and 'y_pred'")
        search.fit(table.X, table.manifest["emotion"].to_numpy(), groups=groups)
    return search


def plain_params(params: dict) -> dict:
    """Grid-search parameters as JSON values: numbers stay numbers (numpy scalars become Python ones).

    Parameters
    ----------
    params : dict
        Parameter name -> value.

    Returns
    -------
    dict
        The same keys; numpy scalars as Python numbers, other values that are not JSON scalars as strings.
    """
    return {
        k: v.item() if hasattr(v, "item") else v if isinstance(v, int | float | str | bool | None) else str(v)
        for k, v in params.items()
    }


def searched_grid(model: str) -> dict[str, list]:
    """The grid :func:`tune_classical` searches for ``model``, as JSON (what a tuning result records).

    Parameters
    ----------
    model : str
        A classifier of :data:`emovox.models.classical.GRIDS`.

    Returns
    -------
    dict of str to list
        Each parameter and the values tried.
    """
    from .models.classical import GRIDS

    return {k: [plain_params({k: x})[k] for x in v] for k, v in GRIDS.get(model, {}).items()}


def tune_nested(
    table: FeatureTable,
    model: str = "svm",
    protocol: str = "kfold",
    *,
    seed: int | None = None,
    scale: bool = True,
):
    """Nested tuning: :func:`tune_classical` inside each outer fold's training speakers, scored on its test
    speakers, so the figure says what tuning buys on voices it never saw.

    Returns an :class:`~emovox.evaluation.Evaluation` named ``<protocol>+nested-tuning``; each fold's
    scores carry its ``best_params`` and ``inner_ua`` (the search's best UA on its training speakers), and
    its ``recipe`` says what was tuned. One line per fold is logged at INFO.

    Parameters
    ----------
    table : FeatureTable
        Features; the manifest needs ``emotion``, ``speaker`` and the columns ``protocol`` needs.
    model : str
        Classifier name with a grid in ``GRIDS`` (default ``"svm"``).
    protocol : str
        The outer protocol (default ``"kfold"``).
    seed : int, optional
        Random state of the outer splits (None: the protocol's default) and of the searches (None: 0).
    scale : bool
        Standardise features before the classifier (default True).

    Returns
    -------
    Evaluation
        As described above.
    """
    from .evaluation import FoldResult, cross_validate
    from .models.classical import make_classifier, quiet_fit
    from .splits import make_protocol

    proto = make_protocol(table.manifest, protocol, random_state=seed)
    y = table.manifest["emotion"].to_numpy()
    seed = 0 if seed is None else seed

    def fit_predict(rows_train, y_train, rows_test):
        train, test = rows_train[:, 0], rows_test[:, 0]
        inner = FeatureTable(
            table.X[train], table.manifest.iloc[train].reset_index(drop=True), table.names, table.frontend, []
        )
        search = tune_classical(inner, model, seed=seed, scale=scale)
        pipe = make_classifier(model, seed=seed, scale=scale).set_params(**search.best_params_)
        with quiet_fit():
            pred = pipe.fit(table.X[train], y_train).predict(table.X[test])
        extra = {"best_params": plain_params(search.best_params_), "inner_ua": float(search.best_score_)}
        return FoldResult(pred, extra=extra)

    def on_fold(i, n, fold, s):
        log.info(
            "%s: best %s inner UA %.1f %% -> test UA %.1f %%",
            fold.name,
            s["best_params"],
            100 * s["inner_ua"],
            100 * s["ua"],
        )

    rows = np.arange(len(y))[:, None]
    ev = cross_validate(rows, y, proto, fit_predict, label_order(y), progress=False, on_fold=on_fold)
    ev.protocol = proto.name + "+nested-tuning"
    ev.recipe = {
        "model": model,
        "scale": scale,
        "features": table.frontend,
        "tuning": "grid search in each fold's training speakers, UA over inner folds grouped by speaker",
        "grid": searched_grid(model),
    }
    return ev
