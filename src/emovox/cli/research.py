"""``emovox features|evaluate|train|tune|reseal``: the research commands; corpora in, evaluations and model
directories out."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import (
    engine_args,
    err,
    examples,
    model_args,
    plural,
    report_failures,
    show_progress,
    source_args,
    typed,
)
from .corpus import scan_folders


def _load_source(args, labels: bool = True):
    """The manifest (or scanned corpus folders) a command works on, with the label selection applied, and
    how many entries of the folders are not audio (each reported: the exit status says so at the end);
    ``labels``: every row must have an emotion (training and evaluation), else a missing column is fine."""
    import pandas as pd

    from ..corpora import load_corpus
    from ..errors import CorpusError
    from ..labels import select_labels

    sources, bad = args.source, 0
    missing = [x for x in sources if not Path(x).exists()]
    if missing:
        raise CorpusError(f"{missing[0]}: no such manifest file or corpus folder")
    files = [Path(x).is_file() for x in sources]
    if any(files) and not all(files):
        raise CorpusError(
            "give manifest CSVs or corpus folders, not both (scan the folders into a manifest first)"
        )
    if all(files):
        if getattr(args, "corpus", None):  # (it was ignored without a word)
            raise CorpusError(
                "--corpus names the corpus of a root folder; a manifest says its own (its corpus column)"
            )
        df = pd.concat([load_corpus(x) for x in sources], ignore_index=True)  # several: joined
        if df.empty:
            raise CorpusError(f"{', '.join(sources)}: the manifest lists no files")
    else:
        df, bad = scan_folders(sources, args.corpus)  # an empty or corrupt .flac is an error, reported
        if df.empty:
            raise CorpusError(f"{', '.join(sources)}: no recordings found")
    if labels or args.merge or args.emotions:  # features alone need no labels
        df = select_labels(df, args.merge, args.emotions, ", ".join(sources))
    from ..splits import refuse_duplicates

    refuse_duplicates(df)  # here: a protocol's error would add a hint about --protocol
    if "emotion" not in df:
        return df, bad
    from ..labels import CANONICAL

    counts = df["emotion"].dropna().value_counts()
    other = [f"{e} ({n} row{'s' if n > 1 else ''})" for e, n in counts.items() if e not in CANONICAL]
    if other:  # kept, a custom taxonomy is fine; a typo should not pass unseen
        print(
            f"emovox: note: emotion(s) {', '.join(other)} are none of {', '.join(CANONICAL)}: each is kept as "
            "a class of its own (a typo? correct it in the manifest)",
            file=sys.stderr,
        )
    return df, bad


def _check_protocol_fits(args, df) -> None:
    """Build the protocol on the manifest before any features: a protocol the data cannot fill (kfold:5 on
    three speakers, loco on one corpus) fails in a second rather than after the features."""
    if getattr(args, "trained", None):
        return
    if args.protocol != "none":
        _check_protocol(args, df)
    if getattr(args, "calibrate", False):
        from ..errors import CorpusError
        from ..training import check_calibration

        try:
            check_calibration(df, args.protocol, args.seed)
        except CorpusError as exc:
            raise CorpusError(f"--calibrate with --protocol {args.protocol}: {exc}") from None


def _check_protocol(args, df) -> None:
    from ..errors import CorpusError

    hint = (
        "; choose a --protocol the data can fill (kfold:K with K at most the number of speakers, "
        "random[:F]" + (", or none" if args.protocol_none else "") + ")"
    )
    name, _, k = args.protocol.partition(":")
    if name.strip().lower() == "kfold" and "speaker" in df:  # the usual case, without importing scikit-learn
        n_spk = df["speaker"].nunique()
        if n_spk < int(k or 5):
            given = typed(args, "--protocol")
            what = f"--protocol {args.protocol}" if given else "the default protocol (--protocol kfold)"
            none = ", or none" if args.protocol_none else ""
            fits = (
                f"choose --protocol kfold:{n_spk} or loso (speaker-independent), or random[:F] (not "
                f"speaker-independent){none}"
                if n_spk >= 2
                else "no split of one speaker is speaker-independent: --protocol random[:F] scores unseen "
                f"recordings of that speaker (and says so){none}"
            )
            raise CorpusError(
                f"{what}: kfold:{int(k or 5)} needs at least {int(k or 5)} speakers, the data have {n_spk}; "
                + fits
            )
    from ..splits import make_protocol

    try:
        make_protocol(df, args.protocol, random_state=args.seed)
    except CorpusError as exc:
        # emobox says where the folds go, and a corpus the data lack is no matter of fitting
        fit = (
            ""
            if name.strip().lower() == "emobox"
            or "not in the manifest" in str(exc)
            or "both sides" in str(exc)
            else hint
        )
        head = "" if str(exc).startswith("--protocol") else f"--protocol {args.protocol}: "
        raise CorpusError(f"{head}{exc}{fit}") from None


def _features(args, df):
    """The features of ``--features`` / ``--trim-db`` / ``--encoder``, failures reported; returns
    ``(recipe, table)``."""
    from ..experiments import feature_table

    recipe, table = feature_table(
        df,
        "svm",  # (any classical recipe: only its features are used)
        features=getattr(args, "features", None),
        trim_db=getattr(args, "trim_db", None),
        encoder=getattr(args, "encoder", None),
        n_jobs=args.jobs,
        cache_dir=args.cache_dir,
        progress=show_progress(args),
    )
    report_failures(table.failures)
    return recipe, table


def cmd_features(args) -> int:
    """``emovox features SOURCE -o OUTPUT``: one feature vector per recording, written as a table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when some files failed or entries were not audio.
    """
    df, bad = _load_source(args, labels=False)
    if args.engine == "dask" or args.address:  # scale-out: emovox.batch on a Dask cluster
        from .batch import features_command

        return max(features_command(args, df), int(bool(bad)))
    _, table = _features(args, df)
    from ..tables import write_table

    out = table.to_frame()
    write_table(out, args.output)
    print(
        f"wrote {len(out)} x {len(table.names)} features to {args.output}"
        f"{f' ({len(table.failures) + bad} file{plural(len(table.failures) + bad)} failed)' if table.failures or bad else ''}",
        file=sys.stderr,
    )
    return 1 if table.failures or bad else 0


def _run(args) -> dict:
    """How a result was made, as only the command line knows it: the command, its sources and the label
    selection as typed (the CLI applies it; the library records versions and seeds), stored with an
    evaluation and in a trained model's metadata."""
    import shlex

    return {
        "command": shlex.join(["emovox", *args.argv]),
        "sources": [str(Path(x).resolve()) for x in args.source],
        "emotions": getattr(args, "emotions", None),
        "merge": getattr(args, "merge", None),
    }


def _save_evaluation(ev, args, failures=(), bad: int = 0) -> None:
    ev.run = {**ev.run, **_run(args)}  # (the seeds the library recorded; the options as the user gave them)
    if failures or bad:  # an archived evaluation says what its figures lack, not only the terminal
        ev.run["failed"] = [{"path": str(p), "error": msg} for p, msg in failures]
        n = len(failures) + bad
        ev.note = "; ".join(
            filter(
                None,
                [
                    ev.note,
                    f"{n} file{'s' if n != 1 else ''} could not be used and {'are' if n != 1 else 'is'} not in "
                    "these figures" + (" (run.failed)" if failures else ""),
                ],
            )
        )
    if args.json and args.json != "-":  # (-: printed on stdout in place of the table, by _print_evaluation)
        ev.save_json(args.json)
        print(f"saved {args.json}", file=sys.stderr)
    if args.confusion:
        from .. import plots

        print(f"saved {plots.save(ev.confusion_figure(), args.confusion)}", file=sys.stderr)
    if getattr(args, "reliability", None):
        from .. import plots

        print(f"saved {plots.save(ev.reliability_figure(), args.reliability)}", file=sys.stderr)
    if getattr(args, "predictions", None):
        print(f"saved {ev.write_predictions(args.predictions)}", file=sys.stderr)


def _options(args) -> dict:
    """The keyword arguments of :func:`emovox.experiments.evaluate` / ``train`` that the options give."""
    return {
        "features": getattr(args, "features", None),
        "trim_db": getattr(args, "trim_db", None),
        "encoder": getattr(args, "encoder", None),
        "seed": args.seed,
        "cache_dir": args.cache_dir,
        "n_jobs": args.jobs,
        "progress": show_progress(args),
        "scale": not args.no_scale,
        "calibrate": getattr(args, "calibrate", False),
    }


def cmd_evaluate(args) -> int:
    """``emovox evaluate SOURCE``: cross-validate a recipe, or score a trained model (``--trained``), and
    print the scores.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when some files failed or entries were not audio.
    """
    if args.trained:  # first: an emotion the model does not know is one line, before the data is read
        from ..errors import ModelError
        from ..inference import load_model

        try:
            model = load_model(args.trained)
        except ModelError as exc:  # (named by the option, as every other argument's problem is)
            raise ModelError(f"--trained {exc}") from None
        # --emotions narrows the model as predict does (an emotion it does not know is refused), not only the data
        model = model.restrict(args.emotions, "--emotions")
    df, bad = _load_source(args)
    _check_protocol_fits(args, df)
    if args.trained:
        from ..evaluation import evaluate_model

        progress = show_progress(args)
        ev, failed = evaluate_model(
            model,
            df,
            same_speaker=args.speaker_adapt,
            same_channel=args.same_channel,
            progress=progress,
            check_speech=not args.no_speech_check,
        )
        failures = [(p.source, p.error) for p in failed]
    else:
        from ..experiments import evaluate

        opts = _options(args)
        ev, failures = evaluate(
            df,
            args.model,
            args.protocol,
            speaker_adapt=args.speaker_adapt,
            same_channel=args.same_channel,
            **opts,
        )
    report_failures(failures)  # files that could not be used: reported, and the exit status says so
    _save_evaluation(ev, args, failures, bad)  # first: `evaluate ... | head` must not lose the files
    _print_evaluation(ev, args)
    return 1 if failures or bad else 0


def _print_evaluation(ev, args) -> None:
    """The report on stdout; with ``--json -`` the JSON there instead (for ``| jq``), the report on stderr."""
    import json

    if args.json == "-":
        print(ev.table(), file=sys.stderr)
        print(json.dumps(ev.to_dict(), indent=2))
    else:
        print(ev.table())


def cmd_train(args) -> int:
    """``emovox train SOURCE -o MODEL_DIR``: cross-validate (unless ``--protocol none``), train on every
    row and save the model directory.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when some files failed or entries were not audio.
    """
    from ..experiments import train

    df, bad = _load_source(args)
    _check_protocol_fits(args, df)
    out, ev, failures = train(
        df,
        args.model,
        args.output,
        protocol=args.protocol,
        checkpoints=args.checkpoints,
        extra={"run": _run(args)},
        **_options(args),
    )
    report_failures(failures)
    if ev is not None:
        print(ev.table())
    print(f"saved model to {out}", file=sys.stderr)
    return 1 if failures or bad else 0


def cmd_tune(args) -> int:
    """``emovox tune SOURCE``: grid-search a classifier's parameters (nested cross-validation; only the
    search with ``--protocol none``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, 1 when some files failed or entries were not audio, 2 for ``--confusion``
        with ``--protocol none``.
    """
    import json

    from ..experiments import tune

    if args.protocol == "none" and args.confusion:
        err("--confusion needs an evaluation; with --protocol none, tune only searches the grid")
        return 2
    df, bad = _load_source(args)
    _check_protocol_fits(args, df)
    opts = {k: v for k, v in _options(args).items() if k != "calibrate"}
    found, failures = tune(df, args.model, args.protocol, **opts)
    report_failures(failures)
    if args.protocol == "none":
        found["run"] = {**found["run"], **_run(args)}
        if args.json == "-":  # the whole record on stdout, in place of what was found
            print(json.dumps(found, indent=2))
        else:
            if args.json:  # (the whole record, to repeat the search; the terminal gets what was found)
                Path(args.json).write_text(json.dumps(found, indent=2) + "\n")
                print(f"saved {args.json}", file=sys.stderr)
            print(json.dumps({k: found[k] for k in ("best_params", "best_ua", "search")}))
    else:
        _save_evaluation(found, args, failures, bad)  # first, as evaluate: `| head` must not lose the files
        _print_evaluation(found, args)
    return 1 if failures or bad else 0


def register(sub) -> None:
    """Add the ``features``, ``evaluate``, ``train``, ``tune`` and ``reseal`` commands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    p = sub.add_parser(
        "features",
        help="extract features of a corpus to CSV or Parquet",
        description="Extract one feature vector per recording of a corpus or manifest.",
        **examples(
            "emovox features ravdess/ -o feats.parquet",
            "emovox features manifest.csv --features egemaps -o egemaps.csv",
            "emovox features corpus/ -o feats.parquet --engine dask",
        ),
    )
    source_args(p)
    p.add_argument("-o", "--output", required=True, help="features.csv or features.parquet")
    engine_args(
        p,
        "folder of the Parquet partitions (default: OUTPUT's name without its extension, .parts: "
        "feats.parts for -o feats.parquet)",
    )
    p.set_defaults(func=cmd_features, output_suffixes=(".csv", ".parquet"))

    p = sub.add_parser(
        "evaluate",
        help="cross-validate a recipe, or score a trained model on data",
        description="Cross-validate a model recipe on corpora (speaker-independent by default), or "
        "score a trained model on data with --trained.",
        **examples(
            "emovox evaluate ravdess/ --model svm --json ev.json --confusion cm.png",
            "emovox evaluate ravdess/ emodb/ --emotions four --model compare-logreg --protocol loco",
            "emovox evaluate emodb/ --model whisper-active --protocol kfold:5 --same-speaker",
            "emovox evaluate emovo/ --trained runs/mine",
            "emovox evaluate ravdess/ emodb/ emovo/ nemo/ --emotions seven --merge calm=neutral "
            "--model whisper-robust --protocol loco --same-channel",
        ),
    )
    source_args(p)
    model_args(p)
    p.add_argument("--trained", help="score this trained model directory on the data instead")
    p.add_argument(
        "--no-speech-check",
        action="store_true",
        help="with --trained: give every recording an emotion, as a recipe's evaluation does (by default "
        "each is checked for speech first, as predict does, and one found to hold none counts as an error: "
        "the check misses a few real sentences, whispered or harsh)",
    )
    adapt = p.add_mutually_exclusive_group()
    adapt.add_argument(
        "--same-speaker",
        "--speaker-adapt",
        dest="speaker_adapt",
        action="store_true",
        help="speaker adaptation, as predict --same-speaker: score each test speaker's recordings together, "
        "removing that voice's offset (uses the test speakers' unlabelled recordings; reported as such)",
    )
    adapt.add_argument(
        "--same-channel",
        action="store_true",
        help="channel adaptation, as predict --same-channel: score each test corpus's recordings together "
        "as one channel (uses its unlabelled recordings; reported as +corpus-adapted)",
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="temperature-scale each fold's probabilities, fitted on its training side from "
        "out-of-corpus predictions (as the bundled models are); ECE is reported either way",
    )
    p.add_argument("--json", help="save the evaluation as JSON (- prints it on stdout, the report on stderr)")
    p.add_argument("--confusion", help="save the confusion matrix as an image (.png, .pdf, .svg...)")
    p.add_argument(
        "--reliability", help="save the reliability diagram (calibration) as an image (.png, .pdf, .svg...)"
    )
    p.add_argument(
        "--predictions",
        help="save every test recording's prediction as .csv or .tsv (fold, path, emotion, predicted, "
        "probabilities): for significance tests, bootstrap intervals, or checking the splits",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "train",
        help="train a model and save it as a model directory",
        description="Train a model on corpora and save it as a model directory (after a "
        "cross-validation by --protocol unless it is 'none').",
        **examples(
            "emovox train ravdess/ --model svm -o runs/svm",
            "emovox train ravdess/ emodb/ --emotions seven --merge calm=neutral "
            "--model whisper-active -o runs/mine",
            "emovox train mine.csv --model logreg --protocol none -o runs/quick",
            "emovox predict talk.wav --model runs/mine",
        ),
    )
    source_args(p)
    model_args(p, allow_none=True)
    p.add_argument("-o", "--output", required=True, help="model directory to write")
    p.set_defaults(output_kind="folder")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="store a temperature fitted on out-of-corpus predictions (leave one corpus out; one "
        "corpus: 5 folds by speaker, one per speaker under five), so that the model's confidences can be trusted",
    )
    p.add_argument(
        "--checkpoints",
        metavar="DIR",
        help="deep models: write the best and last weights (safetensors) and the history to DIR after each "
        "epoch of the final training, to follow or keep a long run (default: none are written)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "tune",
        help="grid search grouped by speaker (nested inside --protocol folds)",
        description="Grid-search a feature-vector model's parameters, grouped by speaker; nested "
        "inside the --protocol folds (or once on all data with --protocol none).",
        **examples(
            "emovox tune ravdess/ --model svm --protocol loso",
            "emovox tune emodb/ --model logreg --protocol none",
        ),
    )
    source_args(p)
    model_args(p, allow_none=True)
    from ..experiments import TUNABLE

    next(a for a in p._actions if a.dest == "model").help = f"the model to tune: {', '.join(TUNABLE)}"
    p.add_argument(
        "--json",
        help="save the nested evaluation (with --protocol none: the search) as JSON; - prints it on stdout",
    )
    p.add_argument("--confusion", help="save the confusion matrix as an image (.png, .pdf, .svg...)")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser(
        "reseal",
        help="seal a model directory whose metadata.json you edited on purpose",
        description="Seal a model directory again after an edit of its metadata.json that you trust (notes "
        "added, a run's description corrected): its other files must still match the hashes the metadata "
        "lists, and its labels the ones its head was trained on.",
        **examples("emovox reseal runs/my-model"),
    )
    p.add_argument("models", nargs="+", metavar="MODEL_DIR", help="model directories to seal")
    p.set_defaults(func=cmd_reseal)


def cmd_reseal(args) -> int:
    """``emovox reseal MODEL_DIR...``: seal model directories again after a trusted edit of their metadata.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when a model directory could not be sealed.
    """
    from ..errors import EmovoxError
    from ..inference import load_model
    from ..models.store import reseal

    failed = 0
    for d in args.models:  # one that fails is reported, the others still sealed
        try:
            print(f"sealed {reseal(d, check=load_model)}", file=sys.stderr)
        except EmovoxError as exc:
            err(f"not sealed: {exc}")
            failed += 1
        except OSError as exc:  # (metadata.json.tmp a folder, a read-only directory...)
            from ..errors import naming

            err(f"not sealed: {naming(exc, d)}")
            failed += 1
    if failed and len(args.models) > 1:
        err(f"{failed} of {len(args.models)} model directories not sealed")
    return 1 if failed else 0
