"""Argument helpers shared by the command groups."""

from __future__ import annotations

import argparse
import sys


def err(msg: str) -> None:
    """One line on stderr: how every expected failure is reported."""
    print(f"emovox: error: {msg}", file=sys.stderr)


def label_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--emotions", help="keep only these emotions, e.g. angry,happy,neutral,sad (or 'four', 'seven')")
    p.add_argument("--merge", help="merge labels, e.g. calm=neutral (or 'calm-neutral')")


def source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="+", help="a manifest CSV, or corpus root folder(s)")
    p.add_argument("--corpus", help="corpus name(s) of the roots (detected when omitted)")
    label_args(p)
    p.add_argument("--features", default=None,
                   help="feature set: tutorial, emovox (default for classifiers), egemaps, compare, or "
                        "whisper[:CHECKPOINT_DIR_OR_HUB_ID] (default for whisper-* models)")
    p.add_argument("--encoder", metavar="CHECKPOINT",
                   help="Whisper checkpoint for whisper-* models: a local Hugging Face directory, or a hub id "
                        "such as openai/whisper-base (downloaded once when online)")
    p.add_argument("--trim-db", type=float, default=None, metavar="DB",
                   help="hand-crafted features: cut leading and trailing audio more than DB below the loudest "
                        "frame first (compare-logreg uses 30)")
    p.add_argument("--jobs", type=int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--cache-dir", default=None, help="feature cache (default $EMOVOX_CACHE or ~/.cache/emovox)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


# static (the CLI must start fast); tests/test_cli_help.py keeps it in step with the registries
MODEL_HELP = ("classical (hand-crafted features): svm, logreg, mlp, rf, gb, compare-logreg; Whisper encoder: whisper-probe, "
              "whisper-active, whisper-robust; deep, from scratch (needs emovox[torch]): cnn1d, cnn1d-frames, cnn1d-tutorial, "
              "cnn2d, rescnn; an ensemble averages several: join names with +, e.g. rescnn+compare-logreg")


def model_args(p: argparse.ArgumentParser, protocol_default: str = "kfold") -> None:
    p.add_argument("--model", default="svm", help=MODEL_HELP)
    p.add_argument("--protocol", default=protocol_default,
                   help="kfold[:K], loso, speakers:S1,S2, emobox, loco (leave one corpus out), cross:A->B, "
                        "random[:F]; "
                        "'none' skips cross-validation (train, tune)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-scale", action="store_true", help="do not standardise features (as the tutorials)")

