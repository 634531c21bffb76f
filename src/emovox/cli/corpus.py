"""``emovox corpus scan|stats`` and ``emovox convert``."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import err, examples, label_args, show_progress


def cmd_corpus_scan(args) -> int:
    """``emovox corpus scan ROOT... -o manifest.csv``: scan corpus folders into a manifest.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when entries were not audio, a folder follows none of the corpus's
        naming convention, or no rows are left.
    """
    from ..corpora import scan_many, write_manifest
    from ..labels import apply_labels

    corpora = args.corpus.split(",") if args.corpus else None
    df, reports = scan_many(args.root, corpora)
    rc = 0
    for rep in reports:
        if not args.quiet or rep.skipped or rep.unreadable:  # -q: only what was left out
            print(rep.summary(counts=not args.quiet), file=sys.stderr)
        if rep.unreadable:  # a pipe, a device, a corrupt audio file: reported, and the exit status says so
            rc = 1
        if problem := rep.mismatch():
            err(problem)
            rc = 1
    n_found = len(df)
    df = df.drop_duplicates("path", ignore_index=True)
    if len(df) < n_found:  # the same folder given twice: each file once (twice, it would sit on both sides)
        print(f"left out {n_found - len(df)} files listed twice", file=sys.stderr)
    n_scanned = len(df)
    df = apply_labels(df, args.merge, args.emotions)
    if df.empty:
        err(
            f"no utterances to write{' after the label selection' if n_scanned else ''}; {args.output} not written"
        )
        return 1
    write_manifest(df, args.output)
    left = f" ({n_scanned - len(df)} left out by the label selection)" if len(df) < n_scanned else ""
    if not args.quiet:
        print(f"wrote {len(df)} utterances to {args.output}{left}", file=sys.stderr)
    return rc


def scan_folders(roots: list[str], corpus: str | None = None):
    """Corpus folders scanned into one manifest, their skipped and unreadable files printed (never dropped
    silently), and how many entries were not audio (the exit status says so); a ``--corpus`` that is not a
    folder's is an error.

    Parameters
    ----------
    roots : list of str
        Corpus folders (or folders of corpus folders).
    corpus : str, optional
        Corpus name(s), comma-separated: one for every root, or one per root (default None: detected).

    Returns
    -------
    (pandas.DataFrame, int)
        The manifest, and how many entries were not audio.

    Raises
    ------
    CorpusError
        When a folder holds audio but none of it follows the named corpus's convention.
    """
    from ..corpora import scan_many
    from ..errors import CorpusError

    df, reports = scan_many(roots, corpus.split(",") if corpus else None)
    bad = 0
    for rep in reports:
        if rep.skipped or rep.unreadable:
            print(rep.summary(), file=sys.stderr)
        bad += len(rep.unreadable)
        if problem := rep.mismatch():
            raise CorpusError(problem)
    return df, bad


def read_source(source: str, corpus: str | None = None):
    """A manifest CSV, or a corpus folder as :func:`scan_folders` reads it; and whether any entry was not
    audio.

    Parameters
    ----------
    source : str
        A manifest CSV or a corpus folder.
    corpus : str, optional
        The corpus of a folder (default None: detected).

    Returns
    -------
    (pandas.DataFrame, bool)
        The manifest, and whether any entry of the folder was not audio.
    """
    from ..corpora import load_corpus

    if not Path(source).is_dir():
        return load_corpus(source, corpus), False
    df, bad = scan_folders([source], corpus)
    return df, bad > 0


def cmd_corpus_stats(args) -> int:
    """``emovox corpus stats SOURCE``: counts per corpus, emotion, gender and speaker (and a chart with
    ``--plot``).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, or 1 when no rows are left or some entries were not audio.
    """
    from ..labels import apply_labels

    if args.by and not args.plot:  # (the counts printed are the same either way: it was ignored)
        err("--by splits the bars of --plot's chart; add --plot FILE")
        return 2
    if args.corpus and Path(args.source).is_file():  # (ignored, as by features and evaluate before)
        err("--corpus names the corpus of a root folder; a manifest says its own (its corpus column)")
        return 2
    df, bad = read_source(args.source, args.corpus)
    df = apply_labels(df, args.merge, args.emotions)
    if df.empty:
        err(
            f"{args.source}: no utterances{' after the label selection' if args.emotions or args.merge else ''}"
        )
        return 1
    if args.plot:  # first: a reader that stops early (`| head`) must not lose the file
        from .. import plots

        print(f"saved {plots.save(plots.emotion_counts(df, by=args.by), args.plot)}", file=sys.stderr)
    print(
        f"{len(df)} utterances, {df['speaker'].nunique()} speaker{'s' if df['speaker'].nunique() != 1 else ''}, "
        f"{df['duration'].astype(float).sum() / 3600:.2f} h"
        if "duration" in df and df["duration"].notna().any()
        else f"{len(df)} utterances"
    )
    for col in ("corpus", "emotion", "gender", "speaker"):
        if col in df and df[col].notna().any():
            counts = df[col].fillna("unknown").value_counts().sort_index()
            print(f"\n{col}:")
            for k, v in counts.items():
                print(f"  {k:<20} {v:>6}")
    return 1 if bad else 0


# --------------------------------------------------------------------------------------------- convert
def cmd_convert(args) -> int:
    """``emovox convert INPUT OUTPUT``: resample (and downmix) an audio file, or every audio file under a
    folder.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, 1 when a folder's file could not be converted (or it holds no audio), 2 for
        a usage error.
    """
    from ..audio.signal import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
    from ..convert import convert_file, convert_tree
    from ..errors import AudioError
    from ..paths import display_path

    if not args.input.strip():
        err("input '': an empty name, not a file or folder")
        return 2
    if not MIN_SAMPLE_RATE <= args.rate <= MAX_SAMPLE_RATE:  # one line, not one per file
        err(f"--rate {args.rate}: expected a rate from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz")
        return 2
    if args.ext is not None:  # an option's error, as the output name's is (exit 2), before any work
        from ..convert import suffix_problem

        if why := suffix_problem(args.ext):
            err(f"--ext {args.ext}: {why}")
            return 2
    src = Path(args.input)
    if src.is_dir():
        try:  # a folder without audio, or two inputs with one output name: one line, before any writing
            done, failed = convert_tree(
                src, args.output, args.rate, not args.keep_channels, args.ext, progress=show_progress(args)
            )
        except AudioError as exc:
            err(str(exc))
            return 1
        for _, msg in failed:
            err(display_path(msg))
        if not args.quiet:  # (-q: the failures above, one line each, and the exit status say it)
            print(
                f"converted {len(done)} file{'s' if len(done) != 1 else ''}, {len(failed)} failed",
                file=sys.stderr,
            )
        return 1 if failed else 0
    if args.ext and src.is_file():
        err("--ext sets the extension of a folder's outputs; for one file, the output's name sets it")
        return 2
    convert_file(src, args.output, args.rate, not args.keep_channels)
    if not args.quiet:  # as a folder's count and predict -o's "saved" say what was written
        print(f"saved {display_path(args.output)}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add the ``corpus scan``, ``corpus stats`` and ``convert`` commands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    corpus = sub.add_parser(
        "corpus",
        help="read corpora into manifests",
        description="Read corpora into manifests.",
        **examples(
            "emovox corpus scan ravdess/ emodb/ -o manifest.csv",
            "emovox corpus stats manifest.csv --plot counts.png --by corpus",
        ),
    )
    corpus = corpus.add_subparsers(dest="action", required=True, title="commands", metavar="ACTION")
    p = corpus.add_parser(
        "scan",
        help="scan corpus folders into a manifest CSV",
        description="Scan corpus folders into a manifest CSV (one row per recording).",
        **examples(
            "emovox corpus scan ravdess/ -o ravdess.csv",
            "emovox corpus scan ravdess/ emodb/ --emotions four --merge calm=neutral -o four.csv",
            "emovox corpus scan recordings/ --corpus ravdess -o mine.csv",
        ),
    )
    p.add_argument("root", nargs="+", help="corpus root folder(s)")
    p.add_argument("--corpus", help="corpus name(s), comma-separated, one per root (detected when omitted)")
    p.add_argument("-o", "--output", required=True, help="manifest CSV to write")
    label_args(p)
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print only the files left out and errors, not the counts"
    )
    p.set_defaults(func=cmd_corpus_scan, output_suffixes=(".csv",))
    p = corpus.add_parser(
        "stats",
        help="counts per emotion, speaker and gender",
        description="Counts per corpus, emotion, gender and speaker of a manifest or corpus.",
        **examples(
            "emovox corpus stats manifest.csv", "emovox corpus stats emodb/ --plot counts.png --by gender"
        ),
    )
    p.add_argument("source", help="a manifest CSV or a corpus root")
    p.add_argument("--corpus", help="corpus name of a root folder, e.g. ravdess (detected when omitted)")
    p.add_argument("--plot", help="save the emotion-count bar chart to this image (.png, .pdf, .svg...)")
    p.add_argument(
        "--by",
        choices=["corpus", "gender", "speaker"],
        help="with --plot: split the bars by this column (default: one bar per emotion)",
    )
    label_args(p)
    p.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser(
        "convert",
        help="convert a file or a tree to one rate / mono",
        description="Convert an audio file, or every audio file under a folder (keeping relative "
        "paths), to one sample rate, mono by default. Two inputs that would get one output "
        "name (a.wav and a.m4a both become a.wav) are refused before anything is written.",
        **examples(
            "emovox convert call.m4a call.wav",
            "emovox convert recordings/ converted/ --rate 16000",
            "emovox convert recordings/ flac/ --ext .flac --keep-channels",
        ),
    )
    p.add_argument("input", help="an audio file, or a folder converted with all its sub-folders")
    p.add_argument(
        "output",
        help="the file to write (its extension picks the format: .wav, .flac, .ogg, .opus), "
        "or for a folder input the folder to write into",
    )
    p.add_argument("--rate", type=int, default=16000, help="sample rate to write, in Hz (default 16000)")
    channels = p.add_mutually_exclusive_group()
    channels.add_argument("--mono", action="store_true", default=True, help="downmix to mono (default)")
    channels.add_argument("--keep-channels", action="store_true", help="keep every channel")
    p.add_argument(
        "--ext",
        help="output extension for a tree (.wav, .flac, .ogg, .opus; default: each file keeps its own where "
        "it can be written, else .wav)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary line")
    p.set_defaults(func=cmd_convert, output_positional=True)
