"""Speaker adaptation (``emovox.adaptation``): what several recordings of the same speaker are worth.

    python benchmarks/bench_adaptation.py [--runs whisper-active:ravdess,logreg:emodb,...]

For each recipe and corpus, one classifier per fold (trained on the fold's training speakers, with the
recipe's augmented copies) scores the fold's test speakers in several ways:

- per recording: the plain, inductive protocol (every figure emovox reports elsewhere);
- speaker-adapted, with sessions of the test speaker's unlabelled recordings: all of them, random
  sessions of 8 or 2, or sessions that hold a single emotion (the hard case for any adaptation);
- plain per-session mean subtraction (all of the speaker's recordings, or single-emotion sessions), the
  usual baseline, which needs sessions that span the emotions evenly.

RAVDESS on its 6 EmoBox folds, EMO-DB leave-one-speaker-out (both speaker-independent). Prints a
markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import corpus, machine, md_table, ua  # noqa: E402

from emovox.adaptation import adapt_proba, class_means  # noqa: E402
from emovox.models.classical import make_classifier  # noqa: E402
from emovox.splits import make_protocol  # noqa: E402
from emovox.training import compute_features, resolve_recipe  # noqa: E402

PROTOCOL = {"ravdess": "emobox", "emodb": "loso"}
SCENARIOS = (
    "per recording",
    "adapted: all of the speaker's recordings",
    "adapted: sessions of 8",
    "adapted: sessions of 2",
    "adapted: single-emotion sessions",
    "mean subtraction: all of the speaker's recordings",
    "mean subtraction: single-emotion sessions",
)


def sessions(test: np.ndarray, spk: np.ndarray, y: np.ndarray, how: str, rng) -> list[np.ndarray]:
    out = []
    for s in dict.fromkeys(spk[test]):
        rows = test[spk[test] == s]
        if how == "all":
            out.append(rows)
        elif how == "emotion":
            out += [rows[y[rows] == e] for e in dict.fromkeys(y[rows])]
        else:
            rows = rng.permutation(rows)
            out += [rows[i : i + int(how)] for i in range(0, len(rows), int(how))]
    return out


def run(recipe_name: str, corpus_name: str) -> list[dict]:
    t0 = time.perf_counter()
    df = corpus(corpus_name)
    recipe = resolve_recipe(recipe_name)
    # encoder recipes on the int8 encoder, as the bundled model and the encoder benchmarks
    table = compute_features(
        df, recipe, progress=False, **({"quantize": True} if recipe.features == "whisper" else {})
    )
    y = table.manifest["emotion"].to_numpy()
    spk = table.manifest["speaker"].astype(str).to_numpy()
    folds = make_protocol(table.manifest, PROTOCOL[corpus_name]).folds
    scores: dict[str, list[float]] = {s: [] for s in SCENARIOS}
    for f in folds:
        rng = np.random.default_rng(0)
        clf = make_classifier(recipe.classifier, **recipe.params).fit(*table.training_rows(f.train))
        means = class_means(table.X[f.train], y[f.train], clf.classes_)
        preds = [clf.predict(table.X[f.test])]
        for how in ("all", "8", "2", "emotion"):
            pred = np.empty(len(y), dtype=object)
            for rows in sessions(f.test, spk, y, how, rng):
                pred[rows] = clf.classes_[adapt_proba(table.X[rows], clf.predict_proba, means).argmax(1)]
            preds.append(pred[f.test])
        for how in ("all", "emotion"):  # the usual baseline: each session's mean moved onto the training mean
            X = table.X.copy()
            for rows in sessions(f.test, spk, y, how, rng):
                X[rows] += means.mean(0) - X[rows].mean(0)
            preds.append(clf.predict(X[f.test]))
        for name, pred in zip(SCENARIOS, preds, strict=True):
            scores[name].append(ua(y[f.test], pred))
    seconds = time.perf_counter() - t0
    return [
        {
            "recipe": recipe_name,
            "corpus": f"{corpus_name} ({PROTOCOL[corpus_name]})",
            "scoring": name,
            "UA %": f"{np.mean(v):.1f} ± {np.std(v):.1f}",
            "per-fold UA": ", ".join(f"{u:.1f}" for u in v),
            "seconds": f"{seconds:.0f}" if name == SCENARIOS[0] else "",
        }
        for name, v in scores.items()
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--runs",
        default="whisper-active:ravdess,whisper-active:emodb,compare-logreg:ravdess,compare-logreg:emodb",
        help="comma-separated RECIPE:CORPUS pairs to score; CORPUS is ravdess (EmoBox folds) or emodb "
        "(leave one speaker out) (default: %(default)s)",
    )
    args = ap.parse_args()
    rows = []
    for item in args.runs.split(","):
        recipe, corpus_name = item.split(":")
        rows += run(recipe, corpus_name)
        print(rows[-len(SCENARIOS) :], file=sys.stderr, flush=True)
    print(f"machine: {machine()}\n")
    print(md_table(rows, ["recipe", "corpus", "scoring", "UA %", "per-fold UA", "seconds"]))


if __name__ == "__main__":
    main()
