"""Encoder models (Whisper-base) under the EmoBox folds, leave-one-speaker-out and cross-corpus.

    python benchmarks/bench_encoder_models.py

Hidden states are cached (``$EMOVOX_CACHE``): the first run encodes every file once per encoder variant
(fp32, int8) and augmentation; later runs only train the heads. Prints markdown tables.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import corpus, machine, md_table  # noqa: E402

from emovox.labels import apply_labels  # noqa: E402
from emovox.training import Recipe, compute_features, evaluate_recipe, resolve_recipe  # noqa: E402

SHARED6 = "neutral,happy,sad,angry,fearful,disgust"


def row(name, df, recipe: Recipe, protocol, quantize):
    t = time.perf_counter()
    table = compute_features(df, recipe, quantize=quantize, n_jobs=2, progress=False)
    ev = evaluate_recipe(table, recipe, protocol, progress=False)
    s = ev.summary
    return {
        "setup": name,
        "encoder": "int8" if quantize else "fp32",
        "augment": ", ".join(recipe.augment) or "none",
        "protocol": ev.protocol,
        "speaker-indep.": "yes" if ev.speaker_independent else "**no**",
        "UA %": f"{100 * s['ua']:.1f}" + (f" ± {100 * s['ua_std']:.1f}" if s["ua_std"] is not None else ""),
        "accuracy %": f"{100 * s['accuracy']:.1f}",
        "macro F1 %": f"{100 * s['macro_f1']:.1f}",
        "seconds": f"{time.perf_counter() - t:.0f}",
    }


def main() -> None:
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    rav, emo = corpus("ravdess"), corpus("emodb")
    probe, active = resolve_recipe("whisper-probe"), resolve_recipe("whisper-active")
    no_aug = Recipe(active.features, active.classifier, active.params, active.feature_options)
    rows = [
        row("RAVDESS 8, whisper-probe", rav, probe, "emobox", False),
        row("RAVDESS 8, whisper-probe", rav, probe, "emobox", True),
        row("RAVDESS 8, whisper-active w/o augmentation", rav, no_aug, "emobox", True),
        row("RAVDESS 8, whisper-active", rav, active, "emobox", True),
        row("EMO-DB 7, whisper-probe", emo, probe, "emobox", False),
        row("EMO-DB 7, whisper-active", emo, active, "emobox", True),
        row("EMO-DB 7, whisper-probe", emo, probe, "loso", False),
        row("EMO-DB 7, whisper-active", emo, active, "loso", True),
    ]
    both = apply_labels(pd.concat([rav, emo], ignore_index=True), emotions=SHARED6)
    for direction in ("ravdess->emodb", "emodb->ravdess"):
        rows.append(
            row(f"cross-corpus {direction}, 6 shared emotions", both, active, f"cross:{direction}", True)
        )
    print(f"machine: {machine()}\n")
    print(
        md_table(
            rows,
            [
                "setup",
                "encoder",
                "augment",
                "protocol",
                "speaker-indep.",
                "UA %",
                "accuracy %",
                "macro F1 %",
                "seconds",
            ],
        )
    )


if __name__ == "__main__":
    main()
