"""Sessions of one speaker with a model as it ships: a single emotion, and all of them.

    python benchmarks/bench_sessions.py [--model default] [--whole]

Each RAVDESS actor's recordings are scored three ways by a model directory (the bundled default unless
``--model`` names another): one at a time, as one speaker's session (``--same-speaker``), and as one
channel's (``--same-channel``). A session is either the actor's 8 first recordings of one emotion (the hard
case for any adaptation: the offset it estimates holds the emotion) or all of the actor's 60. Prints how
many recordings each way gets right (``--whole``: a speaker's whole offset removed, as a model without
``adaptation.gate`` in its metadata removes it). The bundled default was trained on these actors too: this measures
what adaptation does to a session, not how well the model generalises.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, md_table  # noqa: E402

import emovox  # noqa: E402
from emovox.corpora import shared_corpus  # noqa: E402

EMOTIONS = ("angry", "sad", "happy", "neutral", "fearful")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="default", help="model directory or bundled name (default: default)")
    ap.add_argument(
        "--whole",
        action="store_true",
        help="remove a speaker's whole offset (no gate) (default: off, the model's gate)",
    )
    args = ap.parse_args()
    model = emovox.load_model(args.model)
    if args.whole:
        model.adapt_gate = None
    df = shared_corpus("ravdess")
    df = df.assign(emotion=df["emotion"].replace({"calm": "neutral"}))
    E = {p: np.asarray(model.embed(emovox.load_audio(p, model.sample_rate)), np.float32) for p in df["path"]}
    labels = np.array(model.labels)

    def right(rows, how: str) -> int:
        X = [E[p] for p in rows["path"]]
        P = (
            model.proba_from_embeddings(np.stack(X))
            if how == "one at a time"
            else model.proba_session(X, channel=how == "--same-channel")
        )
        return int((labels[P.argmax(1)] == rows["emotion"].to_numpy()).sum())

    table = []
    for name in (*EMOTIONS, "all 60"):
        counts: collections.Counter = collections.Counter()
        for _, actor in df.groupby("speaker"):
            rows = actor if name == "all 60" else actor[actor["emotion"] == name].head(8)
            counts["n"] += len(rows)
            for how in ("one at a time", "--same-speaker", "--same-channel"):
                counts[how] += right(rows, how)
        table.append(
            {
                "session": name,
                **{k: counts[k] for k in ("n", "one at a time", "--same-speaker", "--same-channel")},
            }
        )
    print(f"model {model.path.name} (speaker gate {model.adapt_gate}); {machine()}")
    print(md_table(table, ["session", "n", "one at a time", "--same-speaker", "--same-channel"]))


if __name__ == "__main__":
    main()
