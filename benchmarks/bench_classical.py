"""Classical pipelines: the tutorials' method against emovox's, under a random split and the EmoBox folds.

    python benchmarks/bench_classical.py [--best compare-logreg]

Prints markdown tables for BENCHMARKS.md. Features are cached (``$EMOVOX_CACHE``), so a second run only
re-trains.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import corpus, machine, md_table  # noqa: E402

from emovox.labels import apply_labels  # noqa: E402
from emovox.training import compute_features, evaluate_recipe, resolve_recipe  # noqa: E402

# The tutorials' method: MLP with their parameters on unscaled mean MFCC40 + chroma + mel (180 values).
TUTORIAL = {"features": "tutorial", "model": "mlp", "scale": False}


def run(name, df, features, model, protocol, scale=True):
    """One row: ``model`` is a classifier (on ``features``) or a named recipe (``features`` None)."""
    t = time.perf_counter()
    recipe = resolve_recipe(model, features)
    table = compute_features(df, recipe, progress=False, n_jobs=2)
    ev = evaluate_recipe(table, recipe, protocol, scale=scale, progress=False)
    s = ev.summary
    shown = recipe.features + "".join(f", {k} {v}" for k, v in recipe.feature_options.items())
    return {
        "setup": name,
        "features": shown,
        "model": model + ("" if scale else " (unscaled)"),
        "protocol": ev.protocol,
        "speaker-indep.": "yes" if ev.speaker_independent else "**no**",
        "UA %": f"{100 * s['ua']:.1f}",
        "accuracy %": f"{100 * s['accuracy']:.1f}",
        "macro F1 %": f"{100 * s['macro_f1']:.1f}",
        "seconds": f"{time.perf_counter() - t:.0f}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--best",
        default="compare-logreg",
        help="emovox's recipe (or classifier) compared with the tutorial method (default: %(default)s)",
    )
    args = ap.parse_args()
    rav, emo = corpus("ravdess"), corpus("emodb")
    best = (None, args.best)
    rows = []
    for emotions, label in [
        ("calm,happy,fearful,disgust", "RAVDESS 4 (tutorial's: calm happy fearful disgust)"),
        ("four", "RAVDESS 4 (angry happy neutral sad)"),
    ]:
        df = apply_labels(rav, emotions=emotions)
        rows.append(run(f"{label}, tutorial method", df, TUTORIAL["features"], "mlp", "random", scale=False))
        rows.append(run(f"{label}, emovox", df, *best, "random"))
        rows.append(run(f"{label}, tutorial method", df, TUTORIAL["features"], "mlp", "emobox", scale=False))
        rows.append(run(f"{label}, emovox", df, *best, "emobox"))
    rows.append(run("RAVDESS 8, tutorial method", rav, "tutorial", "mlp", "emobox", scale=False))
    rows.append(run("RAVDESS 8, emovox", rav, *best, "emobox"))
    rows.append(run("RAVDESS 8, emovox features + SVM", rav, "emovox", "svm", "emobox"))
    rows.append(run("RAVDESS 8, eGeMAPS + SVM", rav, "egemaps", "svm", "emobox"))
    rows.append(run("RAVDESS 8, ComParE (whole clip) + logreg", rav, "compare", "logreg", "emobox"))
    rows.append(run("EMO-DB 7, tutorial method", emo, "tutorial", "mlp", "emobox", scale=False))
    rows.append(run("EMO-DB 7, emovox", emo, *best, "emobox"))
    rows.append(run("EMO-DB 7, emovox", emo, *best, "loso"))
    rows.append(run("EMO-DB 7, emovox features + SVM", emo, "emovox", "svm", "emobox"))
    rows.append(run("EMO-DB 7, emovox features + SVM", emo, "emovox", "svm", "loso"))
    print(f"machine: {machine()}\n")
    print(
        md_table(
            rows,
            [
                "setup",
                "features",
                "model",
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
