"""``emovox corpus scan|stats`` and ``emovox convert``."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import err, label_args


def cmd_corpus_scan(args) -> int:
    from ..corpora import scan_many, write_manifest
    from ..labels import apply_labels

    corpora = args.corpus.split(",") if args.corpus else None
    if corpora and len(corpora) == 1 and len(args.root) > 1:
        corpora = corpora * len(args.root)
    df, reports = scan_many(args.root, corpora)
    for rep in reports:
        print(rep.summary(), file=sys.stderr)
    df = apply_labels(df, args.merge, args.emotions)
    write_manifest(df, args.output)
    print(f"wrote {len(df)} utterances to {args.output}", file=sys.stderr)
    return 0


def cmd_corpus_stats(args) -> int:
    from ..corpora import load_corpus
    from ..labels import apply_labels

    df = apply_labels(load_corpus(args.source, args.corpus), args.merge, args.emotions)
    print(f"{len(df)} utterances, {df['speaker'].nunique()} speakers, "
          f"{df['duration'].astype(float).sum() / 3600:.2f} h" if "duration" in df and df["duration"].notna().any()
          else f"{len(df)} utterances")
    for col in ("corpus", "emotion", "gender", "speaker"):
        if col in df and df[col].notna().any():
            counts = df[col].fillna("unknown").value_counts().sort_index()
            print(f"\n{col}:")
            for k, v in counts.items():
                print(f"  {k:<20} {v:>6}")
    if args.plot:
        from .. import plots

        plots.save(plots.emotion_counts(df, by=args.by), args.plot)
        print(f"saved {args.plot}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------- convert
def cmd_convert(args) -> int:
    from ..convert import convert_file, convert_tree

    src = Path(args.input)
    if src.is_dir():
        done, failed = convert_tree(src, args.output, args.rate, not args.keep_channels, args.ext,
                                    progress=not args.quiet)
        for _, msg in failed:
            err(msg)
        print(f"converted {len(done)} files, {len(failed)} failed", file=sys.stderr)
        return 1 if failed else 0
    convert_file(src, args.output, args.rate, not args.keep_channels)
    return 0


def register(sub) -> None:
    corpus = sub.add_parser("corpus", help="read corpora into manifests").add_subparsers(dest="action", required=True)
    p = corpus.add_parser("scan", help="scan corpus folders into a manifest CSV")
    p.add_argument("root", nargs="+", help="corpus root folder(s)")
    p.add_argument("--corpus", help="corpus name(s), comma-separated, one per root (detected when omitted)")
    p.add_argument("-o", "--output", required=True, help="manifest CSV to write")
    label_args(p)
    p.set_defaults(func=cmd_corpus_scan)
    p = corpus.add_parser("stats", help="counts per emotion, speaker and gender")
    p.add_argument("source", help="a manifest CSV or a corpus root")
    p.add_argument("--corpus")
    p.add_argument("--plot", help="save the emotion-count bar chart to this PNG")
    p.add_argument("--by", choices=["corpus", "gender", "speaker"], help="split the bars by this column")
    label_args(p)
    p.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser("convert", help="convert a file or a tree to one rate / mono")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--rate", type=int, default=16000)
    p.add_argument("--mono", action="store_true", default=True, help="downmix to mono (default)")
    p.add_argument("--keep-channels", action="store_true", help="keep every channel")
    p.add_argument("--ext", help="output extension for a tree (.wav, .flac, .ogg, .opus)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_convert)

