"""Recipe of the bundled classical model (``emovox predict --model classical``).

    python recipes/train_classical.py [--output src/emovox/models_data/classical]

Seven emotions (neutral, happy, sad, angry, fearful, disgust, surprised) from RAVDESS speech (calm folded
into neutral) and EMO-DB (boredom left out), the "emovox" hand-crafted feature set, standardised SVM.
The metadata carries the same recipe's speaker-independent cross-validated figures (5-fold grouped by
speaker over both corpora).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from emovox import plots
from emovox.corpora import shared_corpus
from emovox.labels import SEVEN, apply_labels
from emovox.training import evaluate_recipe, handcrafted_features, train_classical

LICENCES = {
    "ravdess": "RAVDESS: CC BY-NC-SA 4.0 (Livingstone & Russo 2018)",
    "emodb": "EMO-DB: free for research (Burkhardt et al. 2005)",
}


def training_manifest() -> pd.DataFrame:
    df = pd.concat([shared_corpus("ravdess"), shared_corpus("emodb")], ignore_index=True)
    return apply_labels(df, merge="calm=neutral", emotions=SEVEN)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / "src/emovox/models_data/classical"))
    ap.add_argument("--features", default="emovox")
    ap.add_argument("--model", default="svm")
    args = ap.parse_args()
    df = training_manifest()
    table = handcrafted_features(df, args.features, n_jobs=2)
    ev = evaluate_recipe(table, args.model, "kfold:5")
    print(ev.table())
    out = train_classical(table, args.output, args.model, evaluation=ev, extra={
        "name": "classical",
        "recipe": "recipes/train_classical.py",
        "protocol": ev.protocol + " over RAVDESS + EMO-DB speakers (speaker-independent)",
        "licences": [LICENCES[c] for c in sorted(set(df["corpus"]))],
        "licence_note": "Trained on corpora licensed for non-commercial research; the model inherits their terms.",
        "merges": {"calm": "neutral"},
    })
    plots.save(ev.confusion_figure(), out / "confusion.png")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
