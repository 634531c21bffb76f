"""Argument helpers shared by the command groups."""

from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import did_you_mean


def err(msg: str) -> None:
    """One line on stderr: how every expected failure is reported.

    Parameters
    ----------
    msg : str
        The message, after ``emovox: error:``.
    """
    print(f"emovox: error: {msg}", file=sys.stderr)


class _LineFormatter(logging.Formatter):
    """``emovox: <message>``, with ``warning:`` / ``error:`` before messages of those levels."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage().removeprefix("emovox: ")
        level = "" if record.levelno < logging.WARNING else record.levelname.lower() + ": "
        if level == "warning: " and ("skipped" in (msg[:7], msg[-7:])):
            level = ""  # "<path>: <why>; skipped" reads as the skip line it is
        line = f"emovox: {level}{msg}"
        if record.exc_info:  # an unexpected error (a server's 500): its traceback is what a person needs
            line += "\n" + self.formatException(record.exc_info)
        return line


@contextmanager
def cli_logging(quiet: bool = False) -> Iterator[None]:
    """While a command runs, the library's ``emovox`` log records are printed on stderr, one line each
    (INFO and up; WARNING and up with ``--quiet``). Restored afterwards, so that :func:`main` can run
    in-process (tests, notebooks) without leaving handlers behind.

    Parameters
    ----------
    quiet : bool
        Print warnings and errors only (default False).

    Yields
    ------
    None
    """
    logger = logging.getLogger("emovox")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    shown = warnings.showwarning
    warnings.showwarning = _warning_line
    try:
        yield
    finally:
        warnings.showwarning = shown
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's Python warning (scikit-learn's ConvergenceWarning) as one line like emovox's own, not
    its source file and line of code."""
    text = " ".join(str(message).split())
    print(f"emovox: warning: {text} ({category.__name__})", file=sys.stderr)


#: how standard input is named in results and messages
STDIN_NAME = "<stdin>"
#: the most standard input is spooled to disk (an hour of 48 kHz stereo 32-bit float is 1.4 GB)
STDIN_MAX_BYTES = 4 << 30
#: how much of standard input is read before it is known to be audio (ffmpeg finds MPEG-TS, NUT or AMR in
#: far less; a container that keeps its index at the end, MP4, is known by its head)
STDIN_PROBE_BYTES = 8 << 20
#: the first atoms of QuickTime files that do not start with ``ftyp`` (their index can be at the end)
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _decodes(prefix: bytes) -> bool:
    """Whether the first bytes of piped input are audio: a container known by its head, or one whose first
    second libsndfile or ffmpeg decodes from them."""
    from ..audio import stream_audio
    from ..audio.sniff import sniff_format
    from ..errors import AudioError

    if sniff_format(prefix) is not None or prefix[4:8] in _QUICKTIME_ATOMS:
        return True
    chunks = stream_audio(prefix, chunk_seconds=1.0, name=STDIN_NAME)
    try:
        next(chunks, None)
    except AudioError:
        return False
    finally:
        chunks.close()
    return True


@contextmanager
def stdin_inputs(args, stream=None) -> Iterator[Callable[[str], str]]:
    """Let ``-`` in ``args.paths`` stand for audio piped in (``ffmpeg ... -f wav - | emovox predict -``).

    A pipe cannot be sniffed and then read again, so standard input is first copied to a temporary file
    (at most :data:`STDIN_MAX_BYTES`), which replaces ``-`` in ``args.paths`` and is removed afterwards. Yields
    ``shown(text)``: the text with that file's path written as ``<stdin>``, for what is printed. Input whose
    first :data:`STDIN_PROBE_BYTES` do not decode is not read further: the decoder refuses those bytes, as it
    would the whole (``/dev/urandom`` piped in was spooled to 4 GiB on disk first).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line; its ``paths`` may be changed.
    stream : binary file, optional
        What to read instead of standard input (default None: ``sys.stdin.buffer``).

    Yields
    ------
    callable
        ``shown(text)``.

    Raises
    ------
    AudioError
        When standard input is a terminal, or holds more than :data:`STDIN_MAX_BYTES`.
    """
    import tempfile

    from ..errors import AudioError

    if "-" not in args.paths or Path("-").exists():  # a file named "-" is that file
        yield lambda text: text
        return
    if args.paths.count("-") > 1:  # (it was predicted once per "-", from the one copy)
        from ..errors import ParameterError

        raise ParameterError("-: standard input is one recording, read once; give - once")
    stream = stream if stream is not None else sys.stdin.buffer
    if stream.isatty():
        raise AudioError(f"{STDIN_NAME}: is a terminal; pipe audio into it, e.g. ... | emovox predict -")
    with tempfile.TemporaryDirectory(prefix="emovox-stdin-") as tmp:
        path = str(Path(tmp) / "stdin")
        with open(path, "wb") as f:
            prefix = b""
            while chunk := stream.read(1 << 20):
                if f.tell() + len(chunk) > STDIN_MAX_BYTES:
                    raise AudioError(
                        f"{STDIN_NAME}: more than {STDIN_MAX_BYTES >> 30} GiB; save it to a file"
                    )
                f.write(chunk)
                if prefix is not None and len(prefix) < STDIN_PROBE_BYTES:
                    prefix += chunk
                    if len(prefix) >= STDIN_PROBE_BYTES:
                        if not _decodes(prefix):
                            break  # the same bytes the decoder will refuse, in its own words
                        prefix = None
        args.paths = [path if p == "-" else p for p in args.paths]
        handlers = logging.getLogger("emovox").handlers  # the library's log lines name it too
        renamed = _Renamed(path, STDIN_NAME)
        for h in handlers:
            h.addFilter(renamed)
        try:
            yield lambda text: text.replace(path, STDIN_NAME)
        finally:
            for h in handlers:
                h.removeFilter(renamed)


class _Renamed(logging.Filter):
    """Writes a log record's ``old`` text as ``new`` (a temporary file's path as ``<stdin>``)."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.old in text:
            record.msg, record.args = text.replace(self.old, self.new), ()
        return True


def plural(n: int) -> str:
    """``"s"`` unless ``n`` is 1: ``f"{n} file{plural(n)}"``."""
    return "" if n == 1 else "s"


def report_failures(failures: list[tuple[str, str]]) -> None:
    """One line per input that could not be processed (the rest were).

    Parameters
    ----------
    failures : list of (str, str)
        ``(input, message)`` pairs; the message is printed.
    """
    for _, msg in failures:  # (as predict's: "emovox: error: FILE: why"; the run went on without it)
        err(msg)


def engine_args(p: argparse.ArgumentParser, output_dir_help: str) -> None:
    """``--engine``, ``--address``, ``--output-dir`` and ``--retry-failed``: running on a Dask cluster.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    output_dir_help : str
        What ``--output-dir`` holds, for its help text.
    """
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local (the default): this process; dask: a Dask cluster, results as partitioned Parquet "
        "(resumable)",
    )
    p.add_argument(
        "--address",
        help="scheduler of a running Dask cluster, tcp://host:8786 (implies --engine dask; default with "
        "--engine dask: a LocalCluster on this machine)",
    )
    p.add_argument("--output-dir", help=f"with --engine dask: {output_dir_help}")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --engine dask: recompute the files whose earlier row in the folder is an error",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="with --engine dask: replace the results of a different job in --output-dir",
    )


def long_input_note(path, shown: Callable[[str], str] = str) -> None:
    """On a terminal, a line before a recording longer than two minutes is read, where no progress bar or
    row would show for a while (a few inputs, ``--json``, ``-o``): its length, and that it takes a while.

    Parameters
    ----------
    path : str or path
        The recording.
    shown : callable
        How a name is printed (default ``str``; see :func:`stdin_inputs`).
    """
    if not sys.stderr.isatty():
        return
    from ..audio import STREAM_AFTER_SECONDS, audio_duration
    from ..errors import EmovoxError
    from ..paths import display_path

    try:
        seconds = audio_duration(path)
    except (EmovoxError, OSError):  # (its error is reported where it is read)
        return
    if seconds is not None and seconds > STREAM_AFTER_SECONDS:
        print(
            f"{shown(display_path(path))}: {seconds / 60:.1f} min of audio, read window by window; this "
            "takes a while",
            file=sys.stderr,
            flush=True,
        )


def prediction_fields(pred, top_k: int | None = None) -> str:
    """A prediction's tab-separated fields as ``predict`` and ``listen`` print them: the emotion
    (``uncertain``), its confidence and the ``top_k`` probabilities (all by default), or ``no speech``, ``-``
    and why; where ``--emotions`` left out the model's first choice, a fourth field says which.

    Parameters
    ----------
    pred : Prediction
        The prediction.
    top_k : int, optional
        How many probabilities to print, highest first (default None: all of them).

    Returns
    -------
    str
    """
    if not pred.speech:
        return f"no speech\t-\t{pred.reason}"
    top = pred.top(top_k or len(pred.probabilities))
    first = pred.first_left_out
    return (
        f"{pred.label}{' (uncertain)' if pred.uncertain else ''}\t{pred.confidence:.3f}\t"
        + "  ".join(f"{lab} {p:.3f}" for lab, p in top)
        + (f"\tfirst choice left out: {first[0]} {first[1]:.3f}" if first else "")
    )


class Parser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line (with "did you mean" for a mistyped choice), and which shows
    its commands when a command is missing (``emovox`` or ``emovox corpus`` alone: exit status 2)."""

    def parse_known_args(self, args=None, namespace=None):
        """As argparse's, but names given after options (``predict a.wav --same-speaker b.wav``) join a
        command's one list of names, where argparse takes none after an option.

        Parameters
        ----------
        args : list of str, optional
            The arguments (default None: ``sys.argv[1:]``).
        namespace : argparse.Namespace, optional
            Where to store them (default None: a new one).

        Returns
        -------
        (argparse.Namespace, list of str)
            The parsed arguments, and those not recognised.
        """
        self._given = list(sys.argv[1:] if args is None else args)  # for error()'s hints
        ns, extras = super().parse_known_args(args, namespace)
        names = [a for a in self._actions if not a.option_strings and a.nargs != argparse.PARSER]
        if (
            extras
            and len(names) == 1
            and names[0].nargs in ("+", "*")
            and all(e == "-" or not e.startswith("-") for e in extras)
        ):
            getattr(ns, names[0].dest).extend(extras)
            extras = []
        return ns, extras

    def error(self, message: str):
        """Exit with status 2 and one line: argparse's message made clearer (an unknown choice gets a "did you
        mean", an option value that starts with ``-`` the ``=`` hint) and the ``--help`` to read; a missing
        command prints the help instead.

        Parameters
        ----------
        message : str
            argparse's message.

        Raises
        ------
        SystemExit
            Always, with status 2.
        """
        missing = re.match(r"the following arguments are required: (.*)", message)
        subs = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
        if (
            missing
            and subs
            and {subs[0].dest, subs[0].metavar} & {m.strip() for m in missing.group(1).split(",")}
        ):
            self.print_help(sys.stderr)  # an error: the commands go where errors go, not into a pipe
            given = getattr(self, "_given", [])
            options = {o for a in self._actions for o in a.option_strings}
            stray = [w for w in given if w.startswith("-") and w.split("=", 1)[0] not in options]
            what = (subs[0].metavar or "command").lower()
            not_options = f"; {', '.join(stray)}: not an option of {self.prog}" if stray else ""
            article = "an" if what[0] in "aeiou" else "a"
            self.exit(2, f"{self.prog}: error: choose {article} {what}{not_options}\n")
        bad = re.match(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)$", message)
        if bad:
            what, word = bad.group(1), bad.group(2)
            choices = [c.strip().strip("'") for c in bad.group(3).split(",")]
            what = "command" if subs and what in (subs[0].dest, subs[0].metavar) else what
            message = (
                f"{what} {word!r} is unknown{did_you_mean(word, choices)}; choose from {', '.join(choices)}"
            )
        value = re.match(r"argument (\S+?)(/(\S+))?: expected one argument$", message)
        given = getattr(self, "_given", [])
        names = {value.group(1), value.group(3)} if value else set()
        after = [given[i + 1] for i, word in enumerate(given[:-1]) if word in names]
        if after and after[-1].startswith("-"):  # a value argparse read as an option (-o -res.csv)
            option = value.group(3) or value.group(1)
            message += f"; a value that starts with '-' goes after '=' ({option}=-VALUE)"
        command = next((w for w in given if subs and w in subs[0].choices), None) if subs else None
        parser, path = (subs[0].choices[command], [command]) if command else (self, [])
        while True:  # (a command group's action: emovox corpus scan)
            inner = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            word = next((w for w in given if inner and w in inner[0].choices), None)
            if word is None:
                break
            parser, path = inner[0].choices[word], [*path, word]
        unknown = re.match(r"unrecognized arguments: (-\S+)", message)
        if unknown and not message.endswith(")"):  # a misspelt option (--top_k): the command's closest
            options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
            flag = unknown.group(1).split("=", 1)[0]
            if flag in options and command:  # a valid option typed before the command
                message += f" ({flag} goes after the command: {self.prog} {command} ... {flag})"
            else:  # (compared without the dashes: "--bogus" is not like "--corpus")
                close = did_you_mean(flag.lstrip("-"), [o[2:] for o in options])
                message += close.replace("(did you mean ", "(did you mean --")
        where = " ".join([self.prog, *path])  # the command's options, not the list
        self.exit(2, f"{self.prog}: error: {message} (see '{where} --help')\n")


def examples(*lines: str) -> dict:
    """``add_parser`` keywords for an "examples:" section at the end of a command's help, kept as written."""
    return {
        "epilog": "examples:\n" + "\n".join(f"  {line}" for line in lines),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def emotions_arg(p: argparse.ArgumentParser) -> None:
    """``--emotions`` of the commands that predict (predict, listen, session): the model's output, narrowed.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    """
    p.add_argument(
        "--emotions",
        help="predict over these emotions only, e.g. angry,happy,neutral,sad (or four, "
        "seven; four,surprised adds one) (probabilities renormalised over them)",
    )


def label_args(p: argparse.ArgumentParser) -> None:
    """``--emotions`` and ``--merge`` of the commands that read corpora (checked by :func:`labels_problem`).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    """
    p.add_argument(
        "--emotions", help="keep only these emotions, e.g. angry,happy,neutral,sad (or 'four', 'seven')"
    )
    p.add_argument("--merge", help="merge labels, e.g. calm=neutral (or 'calm-neutral')")
    p.set_defaults(check_labels=True)


def source_args(p: argparse.ArgumentParser) -> None:
    """The data options of the research commands: ``source``, ``--corpus``, :func:`label_args`,
    ``--features``, ``--encoder``, ``--trim-db``, ``--jobs``, ``--cache-dir`` and ``--quiet``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    """
    p.add_argument("source", nargs="+", help="a manifest CSV, or corpus root folder(s)")
    p.add_argument("--corpus", help="corpus name(s) of the roots (detected when omitted)")
    label_args(p)
    p.add_argument(
        "--features",
        default=None,
        help="feature set: tutorial, emovox (default for classifiers), egemaps, compare, or "
        "whisper[:CHECKPOINT_DIR_OR_HUB_ID] (default for whisper-* models)",
    )
    p.add_argument(
        "--encoder",
        metavar="CHECKPOINT",
        help="Whisper checkpoint for whisper-* models: a local Hugging Face directory, or a hub id "
        "such as openai/whisper-base (downloaded once when online)",
    )
    p.add_argument(
        "--trim-db",
        type=finite_float,
        default=None,
        metavar="DB",
        help="hand-crafted features: cut leading and trailing audio more than DB below the loudest "
        "frame first (compare-logreg uses 30)",
    )
    p.add_argument("--jobs", type=int, default=None, help="parallel processes (default: all cores)")
    p.add_argument(
        "--cache-dir", default=None, help="feature cache (default $EMOVOX_CACHE or ~/.cache/emovox)"
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars (there are none in a log file or a pipe either)",
    )


def show_progress(args) -> bool:
    """Progress bars for a command: on a terminal, unless ``--quiet``; never into a log file or a pipe,
    where a bar's every redraw would be a line.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    bool
    """
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


# the names --model accepts: static, because the CLI must start fast without importing the registries;
# tests/test_cli_validation.py checks them against those registries
CLASSICAL_NAMES = ("svm", "logreg", "mlp", "rf", "gb")  # emovox.models.classical.CLASSICAL
RECIPE_NAMES = (
    "compare-logreg",
    "whisper-probe",
    "whisper-active",
    "whisper-robust",
)  # emovox.training.RECIPES
DEEP_NAMES = ("cnn1d", "cnn1d-frames", "cnn1d-tutorial", "cnn2d", "rescnn")  # emovox.deep.DEEP_MODELS
MODEL_NAMES = CLASSICAL_NAMES + RECIPE_NAMES + DEEP_NAMES
_ENCODER_NAMES = tuple(n for n in RECIPE_NAMES if n.startswith("whisper-"))
MODEL_HELP = (
    "classical (hand-crafted features): "
    + ", ".join(CLASSICAL_NAMES + tuple(n for n in RECIPE_NAMES if n not in _ENCODER_NAMES))
    + f"; Whisper encoder: {', '.join(_ENCODER_NAMES)}; deep, from scratch (needs emovox[torch]): "
    + ", ".join(DEEP_NAMES)
    + "; an ensemble averages several: join names with +, e.g. rescnn+compare-logreg (default: svm)"
)
MODEL_CHOICES = (
    f"{', '.join(CLASSICAL_NAMES)} (classifiers), {', '.join(RECIPE_NAMES)} (recipes), "
    f"{', '.join(DEEP_NAMES)} (deep), or several joined with + (e.g. rescnn+compare-logreg)"
)


def model_args(p: argparse.ArgumentParser, protocol_default: str = "kfold", allow_none: bool = False) -> None:
    """``--model``, ``--protocol``, ``--seed`` and ``--no-scale`` of the commands that cross-validate or
    train (checked by :func:`argument_problem`).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    protocol_default : str
        ``--protocol``'s default (default ``"kfold"``).
    allow_none : bool
        Whether ``--protocol none`` (no cross-validation) is allowed (default False).
    """
    p.add_argument("--model", default="svm", help=MODEL_HELP + " (default svm)")
    p.add_argument(
        "--protocol",
        default=protocol_default,
        help="kfold[:K] (the default: kfold:5, speaker-independent), loso, speakers:S1,S2, emobox, loco "
        "(leave one corpus out), cross:A->B, random[:F]"
        + ("; 'none' skips cross-validation" if allow_none else ""),
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=(
            "random seed of the splits and of training (default: 0 for both, but the tutorials' 7 for "
            "random[:F]'s split; a seed given sets both; saved results record both as run.seeds)"
        ),
    )
    p.set_defaults(check_model=True, protocol_none=allow_none)
    p.add_argument("--no-scale", action="store_true", help="do not standardise features (as the tutorials)")


def _is_trained_model(name: str) -> bool:
    """Whether ``name`` is a model directory or a bundled model's name (cheaply: no model is loaded)."""
    from ..inference import bundled_models

    try:
        return (Path(name) / "metadata.json").is_file() or name in bundled_models()
    except OSError:  # (a name too long to be a path)
        return False


def _model_problem(args) -> str | None:
    name = str(args.model).strip()
    members = [m.strip() for m in name.split("+")]
    for m in members:
        if m not in MODEL_NAMES:
            what = "unknown model" if len(members) == 1 else f"unknown member {m!r} of the ensemble"
            trained = ""  # a trained model's folder (or a bundled one) given where a recipe is expected
            if args.command == "evaluate" and len(members) == 1 and _is_trained_model(name):
                trained = f" (a trained model: score it as it is with --trained {name})"
            return (
                f"--model {name}: {what}{did_you_mean(m, MODEL_NAMES)}{trained}; a recipe to "
                f"{args.command} is one of {MODEL_CHOICES}"
            )
    ensemble = len(members) > 1
    if ensemble and len(set(members)) != len(members):
        return f"--model {name}: an ensemble joins two or more different models with +"
    from ..experiments import TUNABLE

    if args.command == "tune" and name not in TUNABLE:
        why = (
            "aligns corpora, balances them or trains on augmented copies, which"
            if name in RECIPE_NAMES
            else ""
        )
        return (
            f"--model {name}: tune grid-searches one classifier on its features"
            + (f"; this recipe {why} a grid search would leave out" if why else "")
            + f"; choose from {', '.join(TUNABLE)}"
        )
    from ..experiments import unsupported

    given = (
        "features",
        "trim_db",
        "encoder",
        "no_scale",
        "speaker_adapt",
        "same_channel",
        "calibrate",
        "checkpoints",
    )
    return unsupported(name, **{opt: getattr(args, opt, None) for opt in given})


def protocol_problem(spec: str, allow_none: bool = False) -> str | None:
    """Why ``--protocol spec`` cannot be a protocol (one line with the valid choices), or None
    (:func:`emovox.splits.protocol_problem`, with ``none`` where the command trains).

    Parameters
    ----------
    spec : str
        The ``--protocol`` value.
    allow_none : bool
        Whether ``none`` is a valid value (default False).

    Returns
    -------
    str or None
    """
    from ..splits import PROTOCOL_CHOICES, PROTOCOLS
    from ..splits import protocol_problem as problem

    if str(spec).partition(":")[0].strip().lower() == "none" and not allow_none:
        return (
            "--protocol none: evaluate cross-validates; 'none' applies to train and tune (to score a "
            "trained model use --trained MODEL)"
        )
    names = PROTOCOLS + (("none",) if allow_none else ())
    choices = PROTOCOL_CHOICES + (", or none (no cross-validation)" if allow_none else "")
    why = problem(spec, names, choices)
    return why and f"--protocol {spec}: {why}"


def _not_emotion(word, parse, error) -> bool:
    try:
        parse([word])
    except error:
        return True
    return False


def labels_problem(args) -> str | None:
    """Why ``--emotions`` / ``--merge`` cannot be read (one line with the valid choices), or None.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    str or None
    """
    emotions, merge = getattr(args, "emotions", None), getattr(args, "merge", None)
    if emotions is None and merge is None:
        return None
    from ..errors import EmovoxError
    from ..labels import CANONICAL, FOUR, MERGES, SEVEN, parse_emotions, parse_merge

    sets = f"four ({','.join(FOUR)}), seven ({','.join(SEVEN)}) or all"
    if emotions is not None:
        try:
            keep = parse_emotions(emotions)
        except EmovoxError:
            keep = None
        if not keep:
            words = [w.strip() for w in emotions.split(",") if w.strip()]
            word = next((w for w in words if _not_emotion(w, parse_emotions, EmovoxError)), emotions)
            return (
                f"--emotions {emotions}: unknown emotion {word!r}"
                f"{did_you_mean(word.lower(), [*CANONICAL, 'four', 'seven', 'all'])}; expected emotions "
                f"separated by commas from {', '.join(CANONICAL)}, or one of the sets {sets}"
            )
        if getattr(args, "check_model", False) and len(set(keep)) < 2:
            return f"--emotions {emotions}: a model needs at least two emotions (e.g. {','.join(FOUR)}, or {sets})"
    if merge is not None:
        try:
            parse_merge(merge)
        except EmovoxError as exc:
            why = str(exc).split(";")[0].split(": expected")[0]
            if "do not chain" in why or "into each other" in why:  # the message says what to write instead
                return f"--merge {merge}: {why.split(': ', 1)[1]}"
            if hint := re.search(r" \(did you mean [^)]*\)", str(exc)):
                why += hint[0]
            return (
                f"--merge {merge}: {why}; expected FROM=TO pairs separated by commas, each an emotion from "
                f"{', '.join(CANONICAL)} (e.g. calm=neutral), or {' / '.join(MERGES)}"
            )
    return None


#: Arguments naming something to write (argparse dest, option, what it is): checked before any work.
#: ``-o`` is a file where it names one of :data:`FILE_SUFFIXES` (``out.csv``), else a file or a folder (a
#: model, a report: ``runs/model.v2`` is one).
OUTPUTS = (
    ("output", "-o/--output", None),
    ("output_dir", "--output-dir", "folder"),
    ("plot", "--plot", "file"),
    ("save", "--save", "file"),
    ("reliability", "--reliability", "file"),
    ("confusion", "--confusion", "file"),
    ("json", "--json", "file"),
    ("predictions", "--predictions", "file"),
    ("cache_dir", "--cache-dir", "folder"),
)
FILE_SUFFIXES = {".csv", ".tsv", ".json", ".parquet", ".png", ".wav", ".flac", ".ogg", ".opus", ".mp3"}
#: the figure formats matplotlib writes (listed here: the CLI must not import matplotlib to check a name)
IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".eps")
#: the names an output option's format is read from; ``-o``'s are each command's ``output_suffixes``
SUFFIXES = {
    "plot": IMAGE_SUFFIXES,
    "reliability": IMAGE_SUFFIXES,
    "confusion": IMAGE_SUFFIXES,
    "save": (".wav", ".flac"),
    "json": (".json",),
    "predictions": (".csv", ".tsv"),
}


def finite_float(text: str) -> float:
    """An option's number: ``nan`` and ``inf`` are refused by argparse, with the option's name.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    float

    Raises
    ------
    argparse.ArgumentTypeError
        For a value that is not a finite number.
    """
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return value


def _is_input(output: str, args) -> bool:
    """Whether ``output`` is a file the command reads (``predict m.csv -o m.csv`` replaced the manifest)."""
    out = Path(output)
    if not out.is_file():
        return False
    named = [getattr(args, a, None) for a in ("paths", "source", "root", "input")]
    inputs = [x for v in named if v for x in ([v] if isinstance(v, str) else v)]
    return any(Path(x).is_file() and Path(x).samefile(out) for x in inputs if x)


def typed(args, option: str) -> bool:
    """Whether ``option`` was given on the command line (``--seed 3`` or ``--seed=3``), not left at its default.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (its ``argv``).
    option : str
        The option, with its dashes.

    Returns
    -------
    bool

    Examples
    --------
    >>> import argparse
    >>> typed(argparse.Namespace(argv=["evaluate", "x.csv", "--model=svm"]), "--model")
    True
    """
    return any(a == option or a.startswith(option + "=") for a in getattr(args, "argv", ()))


def argument_problem(args) -> str | None:
    """The first argument that cannot work, as one line with the valid choices; checked before any work.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line (``--protocol none`` is normalised to ``none`` in it).

    Returns
    -------
    str or None
        The problem, or None when every argument can work.
    """
    from ..paths import display_path, output_problem

    for dest, option, kind in OUTPUTS:
        value = getattr(args, dest, None)
        # (evaluate/tune --json -: stdout)
        if not isinstance(value, str) or (dest == "json" and value == "-"):
            continue
        if dest == "output" and getattr(args, "output_positional", False):
            option = "output"  # (convert's)
        if dest == "output":  # a command whose -o is a folder (session's report, train's model) says so
            kind = getattr(args, "output_kind", kind)
        if not value.strip():
            return f"{option} {value!r}: an empty name; name the {kind or 'file or folder'} to write"
        suffixes = getattr(args, "output_suffixes", None) if dest == "output" else SUFFIXES.get(dest)
        if suffixes and Path(value).suffix.lower() not in suffixes:
            names = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
            return f"{option} {display_path(value)}: expected a name ending in {names}"
        if kind is None and Path(value).suffix.lower() in FILE_SUFFIXES:
            kind = "file"
        if problem := output_problem(value, kind):
            return f"{option} {problem}"
        if _is_input(value, args):
            return f"{option} {display_path(value)}: is one of the inputs; name another file to write"
    if (trim := getattr(args, "trim_db", None)) is not None and not trim > 0:
        return f"--trim-db {trim:g}: expected a positive number of dB below the loudest frame"
    if (seconds := getattr(args, "seconds", None)) is not None and not seconds > 0:
        return f"--seconds {seconds:g}: expected a positive number of seconds"
    if getattr(args, "order", None) == "sorted" and getattr(args, "seed", None) is not None:
        return "--seed goes with --order shuffle (sorted pictures draw nothing)"
    if (seed := getattr(args, "seed", None)) is not None and seed < 0:
        return f"--seed {seed}: expected a seed of 0 or more"
    if (jobs := getattr(args, "jobs", None)) is not None and jobs < 1:
        return f"--jobs {jobs}: expected 1 or more parallel processes (leave it out for all cores)"
    if getattr(args, "trained", None):  # a trained model is scored as it is: recipe options would be ignored
        given = [
            opt
            for opt, on in (
                ("--model", args.model != "svm" or typed(args, "--model")),
                ("--protocol", args.protocol != "kfold"),
                ("--features", getattr(args, "features", None) is not None),
                ("--trim-db", getattr(args, "trim_db", None) is not None),
                ("--encoder", getattr(args, "encoder", None) is not None),
                ("--calibrate", getattr(args, "calibrate", False)),
                ("--no-scale", getattr(args, "no_scale", False)),
                ("--seed", getattr(args, "seed", None) is not None),  # no split, no training to seed
            )
            if on
        ]
        if given:
            return (
                f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply with --trained, which "
                "scores the trained model as it is (train another with emovox train to change them)"
            )
    if getattr(args, "no_speech_check", False) and not getattr(args, "trained", None):
        return (
            "--no-speech-check goes with --trained (a recipe's evaluation gives every recording an emotion)"
        )
    if getattr(args, "check_model", False) and not getattr(args, "trained", None):
        problem = _model_problem(args) or protocol_problem(args.protocol, args.protocol_none)
        if problem:
            return problem
        if args.protocol.strip().lower() == "none":
            args.protocol = "none"
    if getattr(args, "engine", None) == "local" and not getattr(args, "address", None):
        given = [
            o
            for o, a in (
                ("--output-dir", "output_dir"),
                ("--retry-failed", "retry_failed"),
                ("--overwrite", "overwrite"),
            )
            if getattr(args, a)
        ]
        if given:
            verb = "go" if len(given) > 1 else "goes"
            return f"{' and '.join(given)} {verb} with --engine dask (a local run writes -o/--output)"
    if getattr(args, "check_labels", False) and (problem := labels_problem(args)):
        return problem
    return empty_value_problem(args)


def empty_value_problem(args) -> str | None:
    """An option or name given as an empty string (an unset variable: ``--input "$FILE"``), which would
    otherwise read as the current folder or as the option left out (``listen --input ''`` opened the
    microphone).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    str or None
        The problem, or None.

    Examples
    --------
    >>> import argparse
    >>> empty_value_problem(argparse.Namespace(input="", argv=["listen", "--input", ""]))
    "--input '': an empty value"
    >>> empty_value_problem(argparse.Namespace(paths=["a.wav", " "], argv=["predict", "a.wav", " "]))
    "paths ' ': an empty name"
    """
    for dest, value in vars(args).items():
        values = value if isinstance(value, list | tuple) else [value]
        # (serve's --host and --allowed-host say what an empty address would do; plot --title '' draws none)
        if dest in ("argv", "host", "allowed_host", "title") or not any(
            isinstance(v, str) and not v.strip() for v in values
        ):
            continue
        empty = next(v for v in values if isinstance(v, str) and not v.strip())
        option = "--" + dest.replace("_", "-")
        return (
            f"{option} {empty!r}: an empty value"
            if typed(args, option)
            else f"{dest} {empty!r}: an empty name"
        )
    return None


VAD_NAMES = ("aggressiveness", "min_length", "max_length", "overlap", "padding", "min_silence")


def vad_args(p: argparse.ArgumentParser, when: str | None = None) -> None:
    """Segmentation options shared by the live commands and ``predict --timeline``. Unset ones (None) take
    :class:`emovox.live.VADOptions`'s defaults, which the help texts state (tests/test_live.py checks they
    agree).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    when : str, optional
        When they apply, in the group's title (``"with --timeline"``).
    """
    g = p.add_argument_group("speech segmentation" + (f" ({when})" if when else ""))
    g.add_argument(
        "--aggressiveness",
        type=int,
        default=None,
        choices=range(4),
        metavar="0-3",
        help="VAD mode; higher rejects more noise (default 2)",
    )
    g.add_argument(
        "--min-length", type=finite_float, default=None, help="drop speech shorter than this (s, default 0.3)"
    )
    g.add_argument(
        "--max-length",
        type=finite_float,
        default=None,
        help="split longer speech into windows of this length (s, default 10)",
    )
    g.add_argument(
        "--overlap", type=finite_float, default=None, help="overlap of those windows (s, default 1)"
    )
    g.add_argument(
        "--padding", type=finite_float, default=None, help="context kept around speech (s, default 0.2)"
    )
    g.add_argument(
        "--min-silence",
        type=finite_float,
        default=None,
        help="a pause this long ends a segment (s, default 0.25)",
    )


def vad_options(args):
    """The segmentation options given (:func:`vad_args`), checked: their errors name the options as typed."""
    from ..errors import ParameterError
    from ..live import VADOptions

    given = {n: getattr(args, n) for n in VAD_NAMES if getattr(args, n, None) is not None}
    try:
        return VADOptions(**given).check()
    except ParameterError as exc:  # the options' names as typed (--min-length), not the fields'
        text = re.sub(
            r"\b(" + "|".join(VAD_NAMES) + r")\b", lambda m: "--" + m[1].replace("_", "-"), str(exc)
        )
        raise ParameterError(text.replace("VAD ", "segmentation: ", 1)) from None
