"""``emovox predict``: the emotion of files, folders, manifests and long recordings (over :mod:`emovox.inference`),
and with ``--timeline`` one per speech segment (over :mod:`emovox.live.timeline`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from .common import (
    VAD_NAMES,
    emotions_arg,
    engine_args,
    err,
    examples,
    long_input_note,
    prediction_fields,
    show_progress,
    stdin_inputs,
    vad_args,
    vad_options,
)


def cmd_predict(args) -> int:
    """``emovox predict PATHS``: the emotion of each recording, here (one per segment with ``--timeline``)
    or on a Dask cluster (``--engine dask``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, 1 when some inputs failed, 2 for a usage error (143: a Dask run terminated).
    """
    cut = [n for n in VAD_NAMES if getattr(args, n, None) is not None]
    if cut and not args.timeline:  # (a long file without --timeline is cut as the default options cut it)
        err(f"--{cut[0].replace('_', '-')} sets how --timeline cuts speech into segments: add --timeline")
        return 2
    if args.engine == "dask" or args.address:  # scale-out: emovox.batch on a Dask cluster
        if args.output:
            err(
                "-o/--output writes one file on this machine; with --engine dask the results go to "
                "--output-dir (a folder of Parquet parts)"
            )
            return 2
        if "-" in args.paths:
            err(
                "-: audio piped in is read on this machine; with --engine dask, save it to a file the workers read"
            )
            return 2
        from .batch import predict_command

        return predict_command(args)
    if args.plot and not args.timeline:  # before standard input is read
        err("--plot draws a timeline: add --timeline")
        return 2
    # `--json out.json` as evaluate takes it: here --json is a switch, and out.json became an input
    argv = getattr(args, "argv", [])
    meant = [b for a, b in zip(argv, argv[1:], strict=False) if a == "--json" and b.lower().endswith(".json")]
    if meant:
        err(f"--json {meant[0]}: --json prints JSON; to save it, -o {meant[0]}")
        return 2
    with stdin_inputs(args) as shown:  # `-`: audio piped in
        if args.timeline or args.plot:
            return predict_timeline(args, shown)
        return _predict(args, shown)


def _predict(args, shown: Callable[[str], str]) -> int:
    from ..inference import load_model
    from ..inputs import expand_inputs
    from ..paths import Problem, display_path, stored_path

    together = args.same_speaker or args.same_channel
    model = load_model(args.model).restrict(args.emotions, "--emotions")
    if together:
        model.require_adaptation()  # before the files are listed and a progress bar is drawn
    quiet = getattr(args, "quiet", False)  # -q: no progress bar, no summary line; errors still show
    problems: list[Problem] = []  # folders without audio, FIFOs and other entries that are not files
    paths = expand_inputs(args.paths, problems)
    hidden = not show_progress(args) or len(paths) < 8  # (a few files get no bar; a log file none)
    for msg in problems:
        err(shown(msg))
    n_bad = len(problems)
    keep = args.json or args.output  # every result, for --json and -o
    # files and JSON hold valid UTF-8: a name's undecodable bytes as \xNN (CSV could not write them)
    results = [{"source": stored_path(m.path), "error": stored_path(m)} for m in problems] if keep else []
    if sys.stdout.isatty() and not args.json:
        print("source\temotion\tconfidence\tprobabilities (most probable first)", flush=True)
    inputs = paths
    if together:  # every file is embedded before the first result: show progress meanwhile
        from tqdm import tqdm

        inputs = tqdm(paths, desc="embedding", unit="file", leave=False, disable=hidden)
    elif not quiet and len(paths) < 8:  # no bar for a few files: a long one says it takes a while
        inputs = (long_input_note(p, shown) or p for p in paths)
    preds = model.predict_files(inputs, same_speaker=args.same_speaker, same_channel=args.same_channel)
    if keep and not together:  # --json and -o show nothing until the end: a bar meanwhile, on a terminal
        from tqdm import tqdm

        preds = tqdm(preds, total=len(paths), desc="predicting", unit="file", leave=False, disable=hidden)
    for pred in preds:
        if not pred.ok:
            n_bad += 1
            if keep or together:  # a progress bar may be drawn: the line goes above it, not into it
                with tqdm.external_write_mode(file=sys.stderr):
                    err(shown(display_path(pred.error or "failed")))
            else:
                err(shown(display_path(pred.error or "failed")))
        source = shown(display_path(pred.source))  # a name that is not UTF-8 prints as \xNN, never a crash
        if keep:  # files and JSON hold the real name (control characters and all); the terminal, this one
            d = pred.to_dict(args.top_k) | {"source": shown(stored_path(pred.source))}
            if not pred.ok:
                d["error"] = shown(stored_path(d["error"]))
            results.append(d)
        if not args.json and pred.ok:
            print(f"{source}\t{prediction_fields(pred, args.top_k)}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    if args.output:
        from ..inference import write_predictions

        write_predictions(results, args.output, model.labels)
        if not quiet:
            print(f"saved {args.output}", file=sys.stderr)
    if n_bad and not quiet:
        print(f"emovox: {n_bad} of {len(paths) + len(problems)} inputs failed", file=sys.stderr)
    return 1 if n_bad else 0


def predict_timeline(args, shown: Callable[[str], str] = str) -> int:
    """``emovox predict FILE... --timeline [-o out.csv|json] [--plot out.png]``: one emotion per segment
    (``shown``: how a source is printed, :func:`emovox.cli.common.stdin_inputs`).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    shown : callable
        How a source is printed (default ``str``).

    Returns
    -------
    int
        The exit status: 0, 1 when some inputs failed, 2 for a bad ``--plot``.
    """
    from ..audio import audio_info
    from ..inference import load_model
    from ..live import file_timelines, plot_timeline, timeline_inputs
    from ..live.timeline import table_header, table_row
    from ..paths import display_path

    paths, results = timeline_inputs(args.paths)  # results: entries that are not files, failed already
    for failed in results:
        err(failed.error)
    if not paths:
        return 1
    if args.plot and Path(args.plot).is_dir():
        err(f"--plot {args.plot}: is a folder; name the PNG file to write")
        return 2
    if args.plot and len(paths) > 1:
        err("--plot draws one file's timeline; give one input")
        return 2
    model = load_model(args.model).restrict(getattr(args, "emotions", None), "--emotions")
    speaker, channel = getattr(args, "same_speaker", False), getattr(args, "same_channel", False)
    labels = model.labels
    top_k, quiet = getattr(args, "top_k", None), getattr(args, "quiet", False)

    table = {"header": False}  # a file's table header, printed with its first segment

    def header(source: str) -> None:
        table["header"] = False
        if not args.json and len(paths) > 1:
            print(f"# {shown(source)}", flush=True)
        if args.json and not quiet:  # no rows show until the end: a long recording says it takes a while
            long_input_note(source, shown)

    def row(seg) -> None:
        if not args.json:
            if not table["header"]:
                print(table_header(labels))
                table["header"] = True
            print(table_row(seg, labels, top_k), flush=True)

    interrupted = False
    try:
        for res in file_timelines(
            paths,
            model,
            same_speaker=speaker,
            same_channel=channel,
            options=vad_options(args),
            on_file=header,
            on_segment=row,
        ):
            res.source, res.error = shown(res.source), res.error and shown(res.error)
            results.append(res)
            if res.error is not None:
                err(res.error)
                continue
            if args.plot:  # the picture draws every emotion's curve, whatever --top-k
                title = display_path(Path(shown(str(res.path))).name)
                duration = audio_info(res.path)["duration"]
                plot = plot_timeline(
                    res.segments, args.plot, duration=duration, title=f"{title}: emotion over time"
                )
                if not quiet:
                    print(f"saved {plot}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C: what is finished is kept (--json, -o), and said to be partial
        interrupted = True
        done = sum(r.error is None for r in results)
        err(f"interrupted: {done} file{'s' if done != 1 else ''} finished, the one under way left out")
    if args.json:
        print(json.dumps([r.to_dict(top_k) for r in results], indent=2))
    if args.output:
        from ..live import write_timelines

        write_timelines(results, args.output, labels, top_k)
        if not quiet:
            print(f"saved {args.output}", file=sys.stderr)
    if interrupted:
        return 130
    n_bad = sum(r.error is not None for r in results)
    if n_bad and not quiet:
        print(f"emovox: {n_bad} of {len(results)} inputs failed", file=sys.stderr)
    return 1 if n_bad else 0


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def register(sub) -> None:
    """Add the ``predict`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    p = sub.add_parser(
        "predict",
        help="emotion of audio files, folders or a manifest",
        description="The emotion of each recording (with the bundled model unless --model says).",
        **examples(
            "emovox predict my.wav",
            "emovox predict recordings/ --top-k 3",
            "emovox predict manifest.csv --json --model classical",
            "emovox predict interview.wav --timeline -o timeline.json --plot timeline.png",
            "emovox predict interview_clips/ --same-speaker",
            "emovox predict call_centre_batch/ --same-channel",
        ),
    )
    p.add_argument("paths", nargs="+", help="audio files, folders, or manifest CSVs; - reads audio piped in")
    p.add_argument("--model", help="model directory or bundled model name (default: the bundled model)")
    p.add_argument(
        "--top-k",
        type=_positive_int,
        default=None,
        help="keep only the K most probable emotions: text, --json (probabilities cut to K, most "
        "probable first), -o (the other emotions' cells empty) and --timeline (table cells '-', CSV cells "
        "empty); --plot still draws every emotion (default: every emotion)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar and no summary line on stderr (errors still show)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON: a list with one object per input (with --engine dask: the job's summary; its results "
        "are in --output-dir)",
    )
    emotions_arg(p)
    together = p.add_mutually_exclusive_group()
    together.add_argument(
        "--same-speaker",
        action="store_true",
        help="the inputs are recordings of one speaker: score them together, adapted to that voice "
        "(best with 8 or more recordings); with --timeline, each recording's segments together",
    )
    together.add_argument(
        "--same-channel",
        action="store_true",
        help="the inputs share a recording channel (one microphone, room or collection): score them "
        "together, removing the channel's offset as far as their predictions spread over the emotions "
        "(on unseen corpora +3.1 points UA for a batch spanning the emotions, -2.1 for a batch of one emotion); "
        "with --timeline, each recording's segments together",
    )
    p.add_argument(
        "--timeline",
        action="store_true",
        help="long recordings: cut into speech segments and give the emotion of each",
    )
    p.add_argument(
        "-o", "--output", help="save the results to .csv, .tsv or .json (with --timeline: the segments)"
    )
    p.add_argument("--plot", help="with --timeline: save the timeline as an image (.png, .pdf, .svg...)")
    engine_args(p, "folder of the Parquet results (default emovox-predictions)")
    vad_args(p, "with --timeline")
    p.set_defaults(func=cmd_predict, output_suffixes=(".csv", ".tsv", ".json"))
