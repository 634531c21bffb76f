"""``emovox listen`` and ``emovox session``: a microphone (or a file in its place), live."""

from __future__ import annotations

import json
import sys

from .common import emotions_arg, err, examples, finite_float, prediction_fields, vad_args, vad_options


def _source(args, sample_rate: int, duration: float | None = None):
    """A file played in real time (``--input``, ``--fast`` for no pacing) or the microphone."""
    from ..live import FileSource, MicrophoneSource, Recorder

    if args.input:
        from ..audio import audio_info

        audio_info(args.input)  # an unreadable file is one line now, before "listening to ..."
        # --fast reads 1 s chunks, not 30 s ones: --save keeps what was heard, not a chunk read ahead
        src = FileSource(
            args.input, sample_rate, realtime=not args.fast, duration=duration, chunk_seconds=1.0
        )
    else:
        src = MicrophoneSource(args.device, sample_rate, duration=duration)
    return Recorder(src, args.save) if getattr(args, "save", None) else src


def _listen_problem(args) -> str | None:
    """A ``listen`` setting that would be ignored or stop at once, as one line (before a device is opened)."""
    if args.duration is not None and args.duration <= 0:
        return f"--duration {args.duration:g}: expected seconds > 0 (leave it out to listen until Ctrl-C)"
    if args.seconds is not None and not args.once:
        return "--seconds is the length of a --once recording; --duration stops a live session"
    if args.once and args.duration is not None:
        return "--duration stops a live session; a --once recording lasts --seconds"
    if args.seconds is not None and args.seconds <= 0:
        return f"--seconds {args.seconds:g}: expected seconds > 0"
    if args.fast and not args.input:
        return "--fast reads an --input file without waiting; a microphone cannot be read faster"
    if args.gain is not None and not -40 <= args.gain <= 60:
        return f"--gain {args.gain:g}: expected decibels from -40 to 60"
    if args.gain is not None and args.once:
        return "--gain applies to a live session; a --once recording is brought up as predict brings one up"
    if args.once and (args.same_speaker or args.same_channel):
        which = "--same-speaker" if args.same_speaker else "--same-channel"
        return f"{which} adapts a live session's segments to each other; a --once recording is one clip"
    vad_options(args)  # min > max length and the like: a ParameterError, one line
    return None


def _list_devices() -> int:
    from ..live import input_devices

    devices = input_devices()
    if not devices:
        err("no audio input device found")
        return 2  # as every other device error
    for d in devices:
        print(
            f"{'*' if d['default'] else ' '} {d['index']:>3}  {d['name']}  "
            f"({d['channels']} ch, {d['default_samplerate']:.0f} Hz)"
        )
    return 0


# -------------------------------------------------------------------------------------------------- listen
def cmd_listen(args) -> int:
    """``emovox listen``: the emotion of each speech segment heard from the microphone (or a file
    standing in for it); ``--once``: one recording, one prediction.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, 1 when ``--once`` recorded almost nothing, 2 for a usage error.
    """
    from ..inference import load_model, write_predictions
    from ..live import LiveView, listen, record, resolve_device, write_timeline
    from ..live.timeline import recording_gain

    if args.list_devices:
        return _list_devices()
    if problem := _listen_problem(args):
        err(problem)
        return 2
    if args.seconds is None:
        args.seconds = 7.0
    if not args.input:
        resolve_device(args.device)  # no device, no PortAudio: one line before the model is loaded
    if args.json and not args.once:
        err("--json goes with --once; the live table is text (-o saves the segments as CSV or JSON)")
        return 2
    model = load_model(args.model).restrict(args.emotions, "--emotions")
    adapt = "speaker" if args.same_speaker else "channel" if args.same_channel else None
    if adapt:
        model.require_adaptation()  # (a model without class means: one line, before anything is read)
    if args.once:
        src = _source(args, model.sample_rate, args.seconds)
        print(f"recording {args.seconds:g} s from {src.name} ...", file=sys.stderr, flush=True)
        y = record(src, args.seconds)
        if y.size < 0.1 * model.sample_rate:
            err(f"{src.name}: recorded only {y.size / model.sample_rate:.2f} s")
            return 1
        pred = model.predict_signal(y, src.name, sr=model.sample_rate)
        if args.json:
            print(json.dumps(pred.to_dict(), indent=2))
        else:
            print(prediction_fields(pred))
        if args.output:  # as `emovox predict -o` writes one result
            write_predictions([pred], args.output, model.labels)
            print(f"saved {args.output}", file=sys.stderr)
        if args.save:
            print(f"saved {args.save}", file=sys.stderr)
        return 0
    src = _source(args, model.sample_rate, args.duration)
    # the same table as `emovox predict --timeline`; what is not a result goes to stderr
    view = LiveView(sys.stdout, labels=model.labels, messages=sys.stderr)
    view.message(f"listening to {src.name} (Ctrl-C stops); model labels: {', '.join(model.labels)}")
    # a file stands in for a microphone, but is known whole: a quiet one is brought up as predict brings it up
    if args.gain is not None:
        gain = 10 ** (args.gain / 20)
    else:
        gain = recording_gain(args.input, model.sample_rate) if args.input else 1.0
    segs = listen(src, model, view=view, options=vad_options(args), gain=gain, adapt=adapt)
    if args.input and not segs and not segs.interrupted:  # a file without a sound the detector takes:
        from ..live.timeline import file_without_speech, table_row  # one row saying why, as predict's

        for s in file_without_speech(model, args.input, []):
            print(table_row(s, model.labels), flush=True)
            segs.append(s)
    n_speech = sum(s.speech for s in segs)
    print(
        f"{n_speech} speech segment{'s' if n_speech != 1 else ''}"
        + (f" and {len(segs) - n_speech} without speech" if len(segs) > n_speech else "")
        + (f"; saved {args.save}" if args.save else ""),
        file=sys.stderr,
    )
    if args.output:
        write_timeline(segs, args.output, model.labels)
        print(f"saved {args.output}", file=sys.stderr)
    if segs.interrupted:  # (what was heard is kept above; a script still tells it from the source's end)
        err("interrupted")
        return 130
    return 0


# ------------------------------------------------------------------------------------------------- session
def cmd_session(args) -> int:
    """``emovox session PICTURES``: show pictures one at a time, compare the emotion of each spoken
    reaction with the expected one, and write a report.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0.
    """
    from ..inference import load_model
    from ..live import run_session
    from ..live.session import find_pictures

    find_pictures(args.pictures)  # a wrong folder is the first thing to say, before the microphone's state
    if not args.input:
        from ..live import resolve_device

        resolve_device(args.device)
    model = load_model(args.model).restrict(args.emotions, "--emotions")
    src = _source(args, model.sample_rate)
    report = run_session(
        args.pictures,
        src,
        model,
        seconds=args.seconds,
        output_dir=args.output,
        window=not args.no_window,
        order=args.order,
        seed=args.seed or 0,
        options=vad_options(args),
        stream=sys.stdout,
    )
    judged = [t.match for t in report.trials if t.match is not None]
    print(
        f"{len(report.trials)} picture{'s' if len(report.trials) != 1 else ''}"
        + (
            f", {sum(judged)} of {len(judged)} reactions judged matched the expected emotion "
            f"({100 * sum(judged) / len(judged):.0f} %)"
            if judged
            else ", no reaction could be compared with an expected emotion"
        )
        + f"; report: {report.html}, {report.png}, {report.csv}",
        file=sys.stderr,
    )
    if report.interrupted:
        err(f"interrupted after {len(report.trials)} of the pictures; the report holds those")
        return 130
    return 0


# ------------------------------------------------------------------------------------------------ register
def register(sub) -> None:
    """Add the ``listen`` and ``session`` commands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    p = sub.add_parser(
        "listen",
        help="emotion of live speech from the microphone, segment by segment",
        description="The emotion of live speech from the microphone, one line per speech segment.",
        **examples(
            "emovox listen",
            "emovox listen --list-devices",
            "emovox listen --once --seconds 7",
            "emovox listen --duration 60 --save talk.wav -o segments.csv",
            "emovox listen --input talk.wav --fast",
            "emovox listen --same-speaker --duration 300 -o interview.csv",
        ),
    )
    p.add_argument("--model", help="model directory or bundled model name (default: the bundled model)")
    p.add_argument(
        "--device",
        help="input device index or part of its name (default: the system default, else the first input)",
    )
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    p.add_argument(
        "--duration", type=finite_float, help="stop after this many seconds (default: until Ctrl-C)"
    )
    p.add_argument("--save", help="also save the recording to this WAV or FLAC file")
    emotions_arg(p)
    p.add_argument("--once", action="store_true", help="record --seconds once and predict the whole clip")
    p.add_argument(
        "--seconds", type=finite_float, default=None, help="length of a --once recording (default 7)"
    )
    p.add_argument("--input", help="play this audio file instead of the microphone (in real time)")
    p.add_argument("--fast", action="store_true", help="with --input: read the file as fast as possible")
    p.add_argument(
        "-o", "--output", help="save the segments to CSV or JSON at the end (with --once: the prediction)"
    )
    p.add_argument("--json", action="store_true", help="with --once: print JSON")
    p.add_argument(
        "--gain",
        type=finite_float,
        metavar="DB",
        help="amplify the input by DB decibels before it is cut into speech (a quiet microphone: the live "
        "view says so after 10 s, with the gain to use; default 0, or for --input the gain predict applies)",
    )
    together = p.add_mutually_exclusive_group()
    together.add_argument(
        "--same-speaker",
        action="store_true",
        help="one person speaks: score each segment together with the ones before it, adapted to that voice "
        "(as predict --same-speaker; an emotion shown is final, the first segments are scored almost as "
        "they are)",
    )
    together.add_argument(
        "--same-channel",
        action="store_true",
        help="one microphone and room: score each segment together with the ones before it, removing the "
        "channel's offset as far as their predictions spread over the emotions (as predict --same-channel)",
    )
    vad_args(p)
    p.set_defaults(func=cmd_listen, output_suffixes=(".csv", ".tsv", ".json"))

    p = sub.add_parser(
        "session",
        help="picture-reaction session: show pictures, detect the spoken reactions",
        description="Show pictures one at a time and compare the emotion of each spoken reaction "
        "with the picture's expected emotion (its sub-folder's name).",
        **examples(
            "emovox session pictures/",
            "emovox session pictures/ --seconds 5 --order shuffle --seed 3 -o report/",
            "emovox session pictures/ --input reactions.wav --no-window --fast",
        ),
    )
    p.add_argument("pictures", help="folder with one sub-folder of pictures per expected emotion")
    p.add_argument(
        "--seconds", type=finite_float, default=7.0, help="how long each picture is shown (default 7)"
    )
    p.add_argument("--model", help="model directory or bundled model name (default: the bundled model)")
    p.add_argument(
        "--device",
        help="input device index or part of its name (default: the system default, else the first input)",
    )
    p.add_argument("--input", help="take the reactions from this audio file instead of the microphone")
    p.add_argument("--fast", action="store_true", help="with --input: do not pace the file in real time")
    p.add_argument("--save", help="also save the whole recording to this WAV or FLAC file")
    p.add_argument(
        "--no-window", action="store_true", help="no picture window (headless, for tests and servers)"
    )
    p.add_argument("-o", "--output", help="report folder (default session-YYYYMMDD-HHMMSS)")
    p.set_defaults(output_kind="folder")
    p.add_argument(
        "--order", choices=["sorted", "shuffle"], default="sorted", help="picture order (default sorted)"
    )
    p.add_argument("--seed", type=int, default=None, help="seed of --order shuffle (default 0)")
    emotions_arg(p)
    vad_args(p)
    p.set_defaults(func=cmd_session)
