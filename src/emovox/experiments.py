"""Evaluate or train any model by name, under any protocol: the one front door over every kind of recipe.

A ``model`` is a hand-crafted or encoder recipe (``svm``, ``compare-logreg``, ``whisper-robust``... see
:data:`emovox.training.RECIPES`), a plain classifier, a deep model (:data:`emovox.deep.DEEP_MODELS`), or an
ensemble of any of them joined with ``+`` (:mod:`emovox.models.ensemble`). :func:`evaluate` cross-validates
it under a named protocol (speaker-independent unless the protocol says otherwise); :func:`train` fits it
on every row and writes a model directory (optionally evaluating first, the figures stored with it). Both
return the inputs that could not be used, so a caller can report them: one bad file never stops a run.
Both go through the model's recipe (:func:`emovox.recipes.get_recipe`): its features, its ``evaluate``,
its ``fit`` and the fitted model's ``save``, whatever its kind.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from .evaluation import Evaluation
    from .recipes import FeatureRecipe, RecipeProtocol
    from .tables import FeatureTable

log = logging.getLogger(__name__)

__all__ = ["TUNABLE", "evaluate", "feature_table", "model_kind", "train", "tune"]

Failures = list[tuple[str, str]]

#: What :func:`tune` can grid-search: one classifier on its features (a plain classifier, or a recipe that is
#: no more than one); the other recipes align corpora, balance them or train on augmented copies, which a grid
#: search over the classifier alone would leave out.
TUNABLE = ("svm", "logreg", "mlp", "rf", "gb", "compare-logreg", "whisper-probe")


def model_kind(model: str) -> str:
    """``"ensemble"`` (``a+b``), ``"deep"`` (a deep model) or ``"features"`` (a hand-crafted or encoder
    recipe, or a plain classifier): which training machinery a model name goes to.

    Parameters
    ----------
    model : str
        A ``--model`` name: a recipe, a classifier, a deep model or an ``a+b`` ensemble.

    Returns
    -------
    str
        ``"ensemble"``, ``"deep"`` or ``"features"``.

    Examples
    --------
    >>> model_kind("svm"), model_kind("cnn2d"), model_kind("svm+cnn2d")
    ('features', 'deep', 'ensemble')
    """
    from .deep import DEEP_MODELS
    from .models.ensemble import is_ensemble

    if is_ensemble(model):
        return "ensemble"
    return "deep" if model in DEEP_MODELS else "features"


_MEMBERS = "each member uses its own recipe's features"
_ADAPT = (
    "adaptation is for feature-vector models (classical and encoder recipes), which store the class means "
    "it needs; an ensemble of them adapts once trained (evaluate it with --trained MODEL --same-speaker "
    "or --same-channel)"
)
_ADAPT_DEEP = "a deep model stores no class means, which adaptation needs (classical and encoder recipes do)"
_CALIBRATE = "a temperature is fitted for feature-vector models (classical and encoder recipes) only"
_CHECKPOINTS = "only deep models train in epochs and have weights to keep along the way"
#: Options each kind of model cannot honour, and why (deep models only warn about --features: their front
#: end is theirs). The command line words its refusals from here too.
UNSUPPORTED: dict[str, dict[str, str]] = {
    "ensemble": {
        "features": _MEMBERS,
        "trim_db": _MEMBERS,
        "encoder": _MEMBERS,
        "no_scale": _MEMBERS,
        "speaker_adapt": _ADAPT,
        "same_channel": _ADAPT,
        "calibrate": _CALIBRATE,
        "checkpoints": _CHECKPOINTS,
    },
    "deep": {
        "trim_db": "they trim silence as their recipe's frame configuration says",
        "encoder": "they learn from frames, not from an encoder's features",
        "no_scale": "they normalise their own frames",
        "speaker_adapt": _ADAPT_DEEP,
        "same_channel": _ADAPT_DEEP,
        "calibrate": _CALIBRATE,
    },
    "features": {"checkpoints": _CHECKPOINTS},
}


#: Options whose command-line name is not their keyword's.
_OPTION = {"speaker_adapt": "--same-speaker"}


def unsupported(model: str, **options: Any) -> str | None:
    """Why ``model`` cannot honour the options given (one line naming each, and why for the first), or None.

    Parameters
    ----------
    model : str
        A ``--model`` name (see :func:`model_kind`).
    **options
        Option values by keyword (``trim_db``, ``speaker_adapt``...); those that are None or False are not
        given.

    Returns
    -------
    str or None
        One line naming the options given that ``model``'s kind cannot use (:data:`UNSUPPORTED`), or None.

    Examples
    --------
    >>> unsupported("cnn2d", trim_db=20.0, scale=None)
    "cnn2d: --trim-db cannot be used with deep models: they trim silence as their recipe's frame configuration says"
    >>> unsupported("svm", trim_db=20.0) is None
    True
    """
    kind = model_kind(model)
    given = [n for n, v in options.items() if n in UNSUPPORTED[kind] and v is not None and v is not False]
    if not given:
        return None
    shown = ", ".join(_OPTION.get(g, "--" + g.replace("_", "-")) for g in given)
    what = "classical and encoder" if kind == "features" else kind
    return f"{model}: {shown} cannot be used with {what} models: {UNSUPPORTED[kind][given[0]]}"


def _refuse(model: str, **options: Any) -> None:
    """Options a kind of model cannot honour are refused, not silently dropped."""
    if why := unsupported(model, **options):
        raise ParameterError(why)


def _labelled(
    manifest: pd.DataFrame, emotions: str | Sequence[str] | None, merge: str | Mapping[str, str] | None
) -> pd.DataFrame:
    """``manifest`` with its labels merged and narrowed, as ``--merge`` and ``--emotions`` do
    (:func:`emovox.labels.select_labels`); as it is when neither is given."""
    import pandas as pd

    if not isinstance(manifest, pd.DataFrame):
        hint = (
            f"; read it first: emovox.corpora.load_corpus({str(manifest)!r}) for a folder or manifest CSV, "
            "shared_corpus(NAME) for a shared corpus"
            if isinstance(manifest, str | Path)
            else ""
        )
        raise ParameterError(
            f"manifest: expected a DataFrame with path, emotion and speaker columns, "
            f"got {type(manifest).__name__}{hint}"
        )
    if emotions is None and merge is None:
        return manifest
    from .labels import select_labels

    return select_labels(manifest, merge, emotions)


def _run_record(
    recipe: RecipeProtocol,
    protocol: str,
    seed: int | None,
    emotions: str | Sequence[str] | None,
    merge: str | Mapping[str, str] | None,
) -> dict[str, Any]:
    """How a result was made, stored with it (``Evaluation.run``, a model's ``run``): the CLI adds its
    command and sources. ``seeds`` are the ones used: without a seed the splits and the training each have
    their own default (``random``'s split the tutorials' 7, training 0), which no single ``seed`` repeats."""
    from . import __version__
    from .evaluation import library_versions

    name = protocol.partition(":")[0].strip().lower()
    split = {"random": 7 if seed is None else seed, "kfold": seed or 0}.get(name)
    train = (
        getattr(getattr(getattr(recipe, "spec", None), "train", None), "seed", 0) if seed is None else seed
    )
    return {
        "emovox_version": __version__,
        "versions": library_versions(),
        "seed": seed,
        "seeds": {"split": split, "training": train},
        "emotions": emotions if emotions is None or isinstance(emotions, str) else list(emotions),
        "merge": merge if merge is None or isinstance(merge, str) else dict(merge),
    }


def _check_split(manifest: pd.DataFrame, protocol: str, seed: Any, calibrate: bool = False) -> None:
    """The seed, and the protocol built on the manifest, before any features: a misspelt protocol, one the
    data cannot fill or a bad seed fails in a second rather than after the whole extraction."""
    import numbers

    from .splits import make_protocol

    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ParameterError(f"seed: expected a whole number of 0 or more (or None), got {seed!r}")
    if protocol.strip().lower() != "none":
        make_protocol(manifest, protocol, random_state=seed)
    if calibrate:
        from .training import check_calibration

        check_calibration(manifest, protocol, seed)


def _recipe(
    model: str, kind: str, features: str | None, trim_db: float | None, encoder: str | None
) -> RecipeProtocol:
    """The model's recipe, with the front-end overrides hand-crafted and encoder recipes take."""
    from .recipes import get_recipe

    if kind == "deep" and features:
        log.warning("features %s are ignored for %s: deep models define their own front end", features, model)
    if kind != "features":
        return get_recipe(model)
    return get_recipe(model, features=features, trim_db=trim_db, encoder=encoder)


def feature_table(
    manifest: pd.DataFrame,
    model: str = "svm",
    *,
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    n_jobs: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> tuple[FeatureRecipe, FeatureTable]:
    """The recipe of a hand-crafted or encoder model (or plain classifier) with its front-end overrides,
    and its features of every row of ``manifest``: what ``emovox features`` writes and ``tune`` searches on.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column.
    model : str
        A hand-crafted or encoder recipe, or a plain classifier (default ``"svm"``).
    features, trim_db, encoder
        Overrides of the recipe's front end (default None: the recipe's own).
    n_jobs : int or None
        Worker processes computing the features (default ``None``: every core).
    cache_dir : str or Path, optional
        Feature cache (default ``None``: emovox's default cache folder).
    progress : bool
        Show a progress bar (default False).

    Returns
    -------
    (FeatureRecipe, FeatureTable)
        The recipe, and the features (``failures``: the files that could not be used).

    Raises
    ------
    ParameterError
        For a deep model or an ensemble.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> m = toy_corpus(n=8, emotions=("sad", "angry"), speakers=4, seconds=0.5)  # half-second tones, angry higher
    >>> recipe, table = feature_table(m, "logreg", n_jobs=1, cache_dir="cache")
    >>> table.X.shape, list(table.failures)
    ((8, 702), [])
    """
    kind = model_kind(model)
    if kind != "features":
        raise ParameterError(
            f"{model}: a feature table is made by a hand-crafted or encoder recipe, not a {kind} model"
        )
    recipe = _recipe(model, kind, features, trim_db, encoder)
    return recipe, recipe.compute_features(manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)


def evaluate(
    manifest: pd.DataFrame,
    model: str = "svm",
    protocol: str = "kfold",
    *,
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    scale: bool = True,
    same_speaker: bool = False,
    same_channel: bool = False,
    calibrate: bool = False,
    emotions: str | Sequence[str] | None = None,
    merge: str | Mapping[str, str] | None = None,
    speaker_adapt: bool = False,
) -> tuple[Evaluation, Failures]:
    """Cross-validate ``model`` on ``manifest`` under ``protocol``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion``, ``speaker`` (and ``corpus`` for ``loco`` / ``cross:``).
    model : str
        A recipe, classifier, deep model or ``a+b`` ensemble.
    protocol : str
        ``kfold[:K]``, ``loso``, ``loco``, ``cross:a,b->c``, ``speakers:...``, ``emobox``, ``random[:F]``.
    features, trim_db, encoder
        Overrides of the recipe's front end (hand-crafted and encoder recipes only).
    seed : int, optional
        Seed of the protocol's random splits and of the model's training (default None: 0, the tutorials'
        7 for ``random`` splits, and a deep recipe's own training seed).
    cache_dir : str or Path, optional
        Feature cache (default ``None``: emovox's default cache folder).
    n_jobs : int or None
        Worker processes computing the features (default ``None``: every core).
    progress : bool
        Show progress bars (default False).
    scale : bool
        Standardise features before the classifier (default True; hand-crafted and encoder recipes only).
    same_speaker, same_channel, calibrate
        Score each test speaker as one adapted session (``--same-speaker``); score each test corpus's
        recordings as one session sharing a channel (``--same-channel``); fit a temperature out of corpus
        (hand-crafted and encoder recipes only).
    emotions : str or list of str, optional
        Keep only these emotions' rows (``"four"``, ``"angry,happy,neutral,sad"``...; as ``--emotions``).
    merge : str or dict, optional
        Rename labels first (``"calm=neutral"`` or ``{"calm": "neutral"}``; as ``--merge``).
    speaker_adapt : bool
        ``same_speaker``'s former name, still taken.

    Returns
    -------
    (Evaluation, list of (path, message))
        The evaluation, and the files that could not be used.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> m = toy_corpus(n=8, emotions=("sad", "angry"), speakers=4, seconds=0.5)  # half-second tones, angry higher
    >>> ev, failed = evaluate(m, "logreg", "kfold:2", n_jobs=1, cache_dir="cache")
    >>> ev.protocol, ev.summary["ua"], failed
    ('kfold(2)', 1.0, [])
    """
    speaker_adapt = speaker_adapt or same_speaker
    kind = model_kind(model)
    _refuse(
        model,
        features=features,
        trim_db=trim_db,
        encoder=encoder,
        no_scale=not scale,
        speaker_adapt=speaker_adapt,
        same_channel=same_channel,
        calibrate=calibrate,
    )
    from .adaptation import session_kind

    session = session_kind(speaker_adapt, same_channel)  # (both refused before the manifest is read)
    manifest = _labelled(manifest, emotions, merge)
    _check_split(manifest, protocol, seed, calibrate)
    recipe = _recipe(model, kind, features, trim_db, encoder)
    table = recipe.compute_features(manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    adapt = "corpus" if session == "channel" else session == "speaker"
    options = {"scale": scale, "adapt": adapt, "calibrate": calibrate} if kind == "features" else {}
    ev = recipe.evaluate(manifest, protocol, table=table, seed=seed, progress=progress, **options)
    ev.run = _run_record(recipe, protocol, seed, emotions, merge)
    return ev, list(table.failures)


def _check_checkpoints(folder: Path, output: Path) -> None:
    """Refuse, before any training, a checkpoint folder that the model directory would refuse to be
    saved beside (one inside the other), or one holding files other than checkpoints."""
    a, b = folder.resolve(), output.resolve()
    if a == b or a.is_relative_to(b) or b.is_relative_to(a):
        raise ParameterError(
            f"checkpoints {folder}: inside the model directory {output} (or holding it); choose a folder "
            "outside it"
        )
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"checkpoints {folder}: exists and is not a folder")
    from .deep import CHECKPOINT_FILES

    # (a .emovox-*.part is a checkpoint a killed run left half written)
    kept = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    if other := sorted(n for n in kept if n not in CHECKPOINT_FILES and not n.startswith(".emovox-")):
        raise ParameterError(
            f"checkpoints {folder}: holds other files ({', '.join(other[:3])}); choose a new or empty folder, "
            "or one of checkpoints (they are replaced)"
        )


def train(
    manifest: pd.DataFrame,
    model: str,
    output: str | Path,
    *,
    protocol: str = "none",
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    scale: bool = True,
    calibrate: bool = False,
    checkpoints: str | Path | None = None,
    extra: dict[str, Any] | None = None,
    emotions: str | Sequence[str] | None = None,
    merge: str | Mapping[str, str] | None = None,
) -> tuple[Path, Evaluation | None, Failures]:
    """Fit ``model`` on every row of ``manifest`` and write its model directory at ``output``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker``.
    model : str
        A recipe, classifier, deep model or ``a+b`` ensemble, as :func:`evaluate` takes them.
    output : str or Path
        The model directory: a new or empty folder, or a model directory (its model files are replaced).
    protocol : str
        ``"none"`` (the default here; ``emovox train`` cross-validates by ``kfold`` unless told
        ``--protocol none``), or a protocol to cross-validate under first: its figures go into the model's
        metadata (with ``evaluation.json`` and ``confusion.png`` beside it).
    features, trim_db, encoder, seed, cache_dir, n_jobs, progress, scale, emotions, merge
        As for :func:`evaluate` (the model predicts the emotions left after ``emotions`` and ``merge``).
    calibrate : bool
        Store a temperature fitted on out-of-corpus predictions (hand-crafted and encoder recipes).
    checkpoints : str or Path, optional
        A folder for a deep model's weights after each epoch (none are written without it).
    extra : dict, optional
        More metadata (the CLI records its command and label selection as ``run``).

    Returns
    -------
    (pathlib.Path, Evaluation or None, list of (path, message))
        The model directory, the evaluation (None without a protocol), the files that could not be used.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> m = toy_corpus(n=8, emotions=("sad", "angry"), speakers=4, seconds=0.5)  # half-second tones, angry higher
    >>> out, ev, failed = train(m, "logreg", "my-model", n_jobs=1, cache_dir="cache")
    >>> out.name, ev, failed
    ('my-model', None, [])
    """
    from .models.store import prepare_output

    kind = model_kind(model)
    _refuse(
        model,
        features=features,
        trim_db=trim_db,
        encoder=encoder,
        no_scale=not scale,
        calibrate=calibrate,
        checkpoints=checkpoints,
    )
    manifest = _labelled(manifest, emotions, merge)
    _check_split(manifest, protocol, seed, calibrate)
    prepare_output(output)  # before the features: a file or a folder of other files there fails now
    if checkpoints is not None:
        _check_checkpoints(Path(checkpoints), Path(output))
    recipe = _recipe(model, kind, features, trim_db, encoder)
    table = recipe.compute_features(manifest, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    # the cross-validated figures describe the model saved: calibrated in each fold when it is
    options = {"scale": scale, "calibrate": calibrate} if kind == "features" else {}
    # (the CLI's record over this one: it read the labels itself, and knows the command and sources)
    run = {**_run_record(recipe, protocol, seed, emotions, merge), **(extra or {}).get("run", {})}
    ev = None
    if protocol != "none":
        ev = recipe.evaluate(manifest, protocol, table=table, seed=seed, progress=progress, **options)
        ev.run = dict(run)
    if checkpoints is not None:  # the final model's training only
        options["checkpoint_dir"] = checkpoints
    fitted = recipe.fit(manifest, table=table, seed=seed, progress=progress, **options)
    extra = {**(extra or {}), "run": run}
    return fitted.save(output, evaluation=ev, extra=extra), ev, list(table.failures)


def tune(
    manifest: pd.DataFrame,
    model: str = "svm",
    protocol: str = "none",
    *,
    features: str | None = None,
    trim_db: float | None = None,
    encoder: str | None = None,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    scale: bool = True,
    emotions: str | Sequence[str] | None = None,
    merge: str | Mapping[str, str] | None = None,
) -> tuple[dict[str, Any] | Evaluation, Failures]:
    """Grid-search ``model``'s parameters, grouped by speaker: once on every row (``protocol="none"``), or
    nested inside each fold of ``protocol`` so that the figure says what tuning buys on unseen speakers
    (what ``emovox tune`` does).

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker`` (and ``corpus`` for ``loco`` / ``cross:``).
    model : str
        One of :data:`TUNABLE` (its grid: :data:`emovox.models.classical.GRIDS`).
    protocol : str
        ``"none"`` (the default), or an outer protocol as :func:`evaluate` takes it.
    features, trim_db, encoder, seed, cache_dir, n_jobs, progress, scale, emotions, merge
        As for :func:`evaluate`.

    Returns
    -------
    (dict or Evaluation, list of (path, message))
        With ``protocol="none"``, a dict of ``best_params``, ``best_ua`` (the search's UA over folds of the
        training speakers, optimistic as any figure chosen on), ``search``, ``recipe``, ``labels`` and
        ``run``; otherwise the nested evaluation (protocol ``PROTOCOL+nested-tuning``, each fold's
        ``best_params`` and ``inner_ua`` in its scores). Then the files that could not be used.

    Examples
    --------
    >>> from emovox.audio.synthetic import toy_corpus
    >>> m = toy_corpus(n=8, emotions=("sad", "angry"), speakers=4, seconds=0.5)  # half-second tones, angry higher
    >>> found, failed = tune(m, "logreg", n_jobs=1, cache_dir="cache")
    >>> found["best_params"], found["best_ua"]
    ({'logreg__C': 0.01}, 1.0)
    """
    from .labels import label_order
    from .training import plain_params, searched_grid, tune_classical, tune_nested

    if model not in TUNABLE:
        raise ParameterError(
            f"{model}: tune grid-searches one classifier on its features; choose from {', '.join(TUNABLE)}"
        )
    manifest = _labelled(manifest, emotions, merge)
    _check_split(manifest, protocol, seed)
    recipe, table = feature_table(
        manifest,
        model,
        features=features,
        trim_db=trim_db,
        encoder=encoder,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    clf = recipe.spec.classifier
    run = _run_record(recipe, protocol, seed, emotions, merge)
    if protocol != "none":
        ev = tune_nested(table, clf, protocol, seed=seed, scale=scale)
        ev.run = run
        return ev, list(table.failures)
    search = tune_classical(table, clf, seed=seed or 0, scale=scale)
    run["seeds"]["split"] = seed or 0  # (the search's folds grouped by speaker are drawn with it)
    found = {
        "best_params": plain_params(search.best_params_),
        "best_ua": float(search.best_score_),
        "search": f"grid search, UA over {search.n_splits_} folds grouped by speaker (speaker-independent)",
        # what a nested tune's evaluation records too: enough to repeat the search
        "recipe": {"model": clf, "scale": scale, "features": table.frontend, "grid": searched_grid(clf)},
        "labels": label_order(table.manifest["emotion"]),
        "run": run,
    }
    return found, list(table.failures)
