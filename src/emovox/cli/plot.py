"""``emovox plot KIND FILE [-o out.png]``: the pictures of :mod:`emovox.plots` from the command line.

Audio kinds take an audio file: ``waveform``, ``spectrogram``, ``mel``, ``mfcc``, ``chroma``, ``pitch`` and
``overview`` (all of them on one sheet). Other kinds take what emovox writes: ``counts`` a manifest CSV or
corpus root; ``confusion``, ``recall`` and ``reliability`` (accuracy against confidence: calibration) an
evaluation JSON (``emovox evaluate --json``); ``curves`` a JSON
dict of per-epoch lists; ``timeline`` the CSV / TSV that ``emovox predict FILE --timeline -o t.csv`` writes,
or a JSON list of segments (or ``{"segments": [...]}``); segments without speech are drawn grey.
"""

from __future__ import annotations

import sys
from pathlib import Path

AUDIO_KINDS = ("waveform", "spectrogram", "mel", "mfcc", "chroma", "pitch", "overview")
#: seconds of audio drawn without --duration: a longer file is read no further (bounded memory and time)
MAX_PLOT_SECONDS = 600.0
DATA_KINDS = ("counts", "confusion", "recall", "reliability", "curves", "timeline")


def _read_json(path: Path):
    import json

    from ..errors import EmovoxError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmovoxError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EmovoxError(f"{path}: not a readable JSON file ({str(exc).splitlines()[0][:120]})") from None


def _named(data, src: Path, kind: str) -> str:
    """The file, and the protocol and headline of an evaluation JSON (:func:`emovox.evaluation.figure_title`,
    as ``evaluate --confusion`` titles its figure)."""
    from ..evaluation import figure_title

    return (
        f"{src.name}, {figure_title(data, kind)}"
        if isinstance(data, dict) and "protocol" in data
        else src.name
    )


def _evaluation_parts(data, path: Path):
    """Labels, pooled confusion matrix and the recordings without an answer per class (None when there
    are none) of an evaluation JSON (or ``{"labels", "confusion"}``)."""
    import numpy as np

    from ..errors import EmovoxError

    if isinstance(data, dict):
        pooled = data.get("pooled", data)
        if "labels" in data and "confusion" in pooled:
            m = np.asarray(pooled["confusion"], dtype=float)
            missed = pooled.get("no_answer")
            if m.shape == (len(data["labels"]),) * 2 and (missed is None or len(missed) == len(m)):
                return list(data["labels"]), m, missed
    raise EmovoxError(f"{path}: expected an evaluation JSON with 'labels' and a square 'confusion' matrix")


def _window(src: Path, sr: int, start_s: float, duration: float | None):
    """The samples from ``start_s`` for ``duration`` seconds (at most :data:`MAX_PLOT_SECONDS` without
    one), read chunk by chunk and no further: a file of hours (or a header claiming them) is never held
    whole. Also the file's length in seconds where it was read to its end (else None)."""
    import numpy as np

    from ..audio import stream_audio

    span = MAX_PLOT_SECONDS if duration is None else duration
    start, stop = int(start_s * sr), int((start_s + span) * sr)
    pieces, pos, ended = [], 0, True
    chunks = stream_audio(src, sr)
    for chunk in chunks:
        if pos + len(chunk) > start:
            pieces.append(chunk[max(start - pos, 0) : stop - pos])
        pos += len(chunk)
        if pos >= stop:  # audio beyond the window: in this chunk, or (ending exactly there) in a next one
            ended = pos == stop and next(chunks, None) is None
            break
    chunks.close()
    if not ended and duration is None:
        print(
            f"emovox: note: {src}: drawing {span:g} s from {start_s:g} s of a longer file; --start and "
            "--duration choose the stretch",
            file=sys.stderr,
        )
    y = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    return y, (pos / sr if ended else None)


def _figure(args):
    from .. import plots
    from ..errors import EmovoxError

    kind, src = args.kind, Path(args.file)
    if kind in AUDIO_KINDS:
        y, whole = _window(src, args.sr, max(args.start, 0.0), args.duration)
        if len(y) < args.sr // 10:
            if whole is not None and not args.start and args.duration is None:
                raise EmovoxError(f"{src}: too short to draw ({whole:.3f} s; at least 0.1 s)")
            held = "" if whole is None else f" (the file holds {whole:.2f} s)"  # (None: not read to its end)
            raise EmovoxError(f"{src}: less than 0.1 s of audio left after --start/--duration{held}")
        title = args.title if args.title is not None else src.name
        if kind == "overview":
            return plots.overview(y, args.sr, title=title)
        what = {"mel": "mel spectrogram", "mfcc": "MFCC", "chroma": "chromagram", "pitch": "pitch contour"}
        return plots.AUDIO_PLOTS[kind](
            y, args.sr, title=args.title if args.title is not None else f"{src.name}: {what.get(kind, kind)}"
        )
    if kind == "counts":
        from .corpus import read_source

        if not src.exists():
            raise EmovoxError(f"{src}: no such manifest or corpus folder")
        df, _ = read_source(str(src))  # (a folder's skipped files are listed; the picture is still drawn)
        return plots.emotion_counts(df, by=args.by, title=args.title or "Utterances per emotion")
    if kind == "timeline":
        from ..live.timeline import read_timeline

        segments, name = _one_recording(read_timeline(src), src, args.source)
        return plots.emotion_timeline(segments, title=args.title or f"{name}: emotion over time")
    data = _read_json(src)
    if kind == "confusion":
        labels, m, missed = _evaluation_parts(data, src)
        return plots.confusion_matrix(
            m,
            labels,
            normalize=not args.counts,
            title=args.title or _named(data, src, "confusion"),
            no_answer=missed,
        )
    if kind == "reliability":
        from ..evaluation import reliability_curves

        if not isinstance(data, dict):
            raise EmovoxError(f"{src}: expected an evaluation JSON (emovox evaluate --json)")
        try:
            curves = reliability_curves(data)
        except EmovoxError as exc:
            raise EmovoxError(f"{src}: {exc}") from None
        return plots.reliability_diagram(curves, title=args.title or _named(data, src, "reliability"))
    if kind == "recall":
        _evaluation_parts(data, src)  # (its check: one clear line for a JSON that is not an evaluation)
        return plots.per_class_recall(data, title=args.title or _named(data, src, "recall"))
    if kind == "curves":
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise EmovoxError(
                f'{src}: expected a JSON object of per-epoch lists, e.g. {{"train_loss": [...]}}'
            )
        return plots.training_curves(data, title=args.title or f"{src.name}")
    raise EmovoxError(f"{src}: unknown plot kind {kind!r}")


def _option_problem(args) -> str | None:
    """Options out of range, or given to a kind they do not apply to (one line), or None."""
    from ..audio import MIN_SAMPLE_RATE

    if not 10 <= args.dpi <= 1200:
        return f"--dpi {args.dpi}: expected 10 to 1200 dots per inch"
    audio = args.kind in AUDIO_KINDS
    if audio and not MIN_SAMPLE_RATE <= args.sr <= 192000:
        return f"--sr {args.sr}: expected a rate from {MIN_SAMPLE_RATE} to 192000 Hz"
    if args.start < 0 or (args.duration is not None and args.duration <= 0):
        return "--start must be 0 or more and --duration more than 0 seconds"
    given = {
        "--start / --duration / --sr": not audio
        and (args.start or args.duration is not None or args.sr != 16000),
        "--by": args.by is not None and args.kind != "counts",
        "--counts": args.counts and args.kind != "confusion",
        "--source": args.source is not None and args.kind != "timeline",
    }
    wrong = [opt for opt, bad in given.items() if bad]
    return f"{wrong[0]} does not apply to plot {args.kind}" if wrong else None


def cmd_plot(args) -> int:
    """``emovox plot KIND FILE``: draw a figure of an audio file or of a result file into a PNG.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 2 for options the figure does not take.
    """
    from .. import plots
    from .common import err

    if why := _option_problem(args):
        err(why)
        return 2
    out = Path(args.output) if args.output else Path(f"{Path(args.file).stem}_{args.kind}.png")
    fig = _figure(args)
    out = plots.save(fig, out, dpi=args.dpi)
    print(f"saved {out}", file=sys.stderr)
    return 0


def _one_recording(segments: list[dict], src: Path, source: str | None) -> tuple[list[dict], str]:
    """The segments of one recording of a timeline file (``--source`` among several), and its name."""
    from ..errors import EmovoxError

    sources = list(dict.fromkeys(str(s["source"]) for s in segments if s.get("source")))
    if source is not None:
        if not sources:
            raise EmovoxError(
                f"{src}: holds the timeline of one recording (it has no source column); leave out --source"
            )
        if source not in sources:
            known = ", ".join(sources[:5]) + (" ..." if len(sources) > 5 else "")
            raise EmovoxError(f"{src}: no recording {source!r} in this timeline (it holds: {known})")
        return [s for s in segments if s.get("source") == source], Path(source).name
    if len(sources) > 1:  # one time axis per recording: overlaid they would mislead
        raise EmovoxError(
            f"{src}: holds the timelines of {len(sources)} recordings; choose one with --source "
            f"(e.g. --source {sources[0]!r})"
        )
    return segments, Path(sources[0]).name if sources else src.name


def register(sub) -> None:
    """Add the ``plot`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    from .common import IMAGE_SUFFIXES, examples, finite_float

    p = sub.add_parser(
        "plot",
        help="plot a recording's features, a corpus, an evaluation or a timeline",
        description=__doc__.split("\n\n", 1)[1].replace("``", ""),  # reST markup is not for a terminal
        **examples(
            "emovox plot overview my.wav -o overview.png",
            "emovox plot mel my.wav --start 1.5 --duration 3",
            "emovox plot counts manifest.csv --by corpus",
            "emovox plot confusion ev.json --counts",
            "emovox plot timeline timeline.json -o timeline.png",
        ),
    )
    p.add_argument(
        "kind",
        choices=AUDIO_KINDS + DATA_KINDS,
        metavar="KIND",
        help=f"audio: {', '.join(AUDIO_KINDS)}; other: {', '.join(DATA_KINDS)}",
    )
    p.add_argument(
        "file",
        metavar="FILE",
        help="audio file (audio kinds), manifest / corpus root, JSON, or timeline CSV/TSV/JSON",
    )
    p.add_argument(
        "-o", "--output", help="image to write, .png, .pdf, .svg... (default: FILE's stem + _KIND.png here)"
    )
    p.add_argument("--sr", type=int, default=16000, help="rate to analyse audio at (default 16000)")
    p.add_argument(
        "--start", type=finite_float, default=0.0, help="audio: start at this time in seconds (default 0)"
    )
    p.add_argument(
        "--duration",
        type=finite_float,
        default=None,
        help="audio: plot only this many seconds (times count from --start)",
    )
    p.add_argument(
        "--by",
        choices=["corpus", "gender", "speaker"],
        help="counts: split the bars by this column (default: one bar per emotion)",
    )
    p.add_argument("--counts", action="store_true", help="confusion: show counts instead of row fractions")
    p.add_argument(
        "--source", help="timeline: the recording to draw, from a timeline of several (its source column)"
    )
    p.add_argument("--title", help="figure title (default: the file name)")
    p.add_argument(
        "--dpi", type=int, default=120, help="resolution of the PNG in dots per inch (default 120)"
    )
    p.set_defaults(func=cmd_plot, output_suffixes=IMAGE_SUFFIXES)
