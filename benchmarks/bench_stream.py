"""A live stream adapted as it goes (``emovox listen --same-speaker`` / ``--same-channel``), leave one corpus out.

    python benchmarks/bench_stream.py [--recipe whisper-robust] [--window 200] [--seed 0]

Over the four shared corpora (7 emotions, as ``bench_loco.py``), each corpus is scored by the recipe trained
on the other three. Each speaker of the held-out corpus is a stream: their recordings in a random order (one
utterance after another, as a microphone would hear them). Each recording is scored four ways:

- one at a time (``listen`` without adaptation);
- **running**: together with the ``--window`` recordings of the stream before it
  (:class:`emovox.segments.RunningAdaptation`, what ``listen --same-speaker`` / ``--same-channel`` do: the answer
  is final when shown);
- the whole stream at once, after the fact (``predict --timeline --same-speaker``: every recording with all);

as one speaker's session (the recipe's speaker gate) and as one channel's (``GATE``). The same for streams of a
single emotion (each speaker's recordings of one emotion), the case where an offset estimated without labels
holds the emotion itself. Prints UA (%) per held-out corpus and the mean.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loco import CORPORA, manifest, pct  # noqa: E402
from common import machine, md_table  # noqa: E402

from emovox.adaptation import GATE, adapt_session  # noqa: E402
from emovox.evaluation import scores  # noqa: E402
from emovox.training import _fit, compute_features, resolve_recipe, training_class_means  # noqa: E402


def stream_scores(proba, means, X, gate, keep, window: int) -> dict[str, np.ndarray]:
    """Probabilities of one stream's rows ``X`` (in stream order), each way."""
    running = np.vstack(
        [
            adapt_session(X[max(0, k + 1 - window) : k + 1], proba, means, gate=gate, keep=keep)[0][-1]
            for k in range(len(X))
        ]
    )
    return {
        "one at a time": proba(X),
        "running": running,
        "whole stream": adapt_session(X, proba, means, gate=gate, keep=keep)[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="whisper-robust", help="recipe name (default: %(default)s)")
    ap.add_argument(
        "--window", type=int, default=200, help="recordings a stream remembers (default: %(default)s)"
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of each stream's order (default: %(default)s)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = manifest()
    recipe = resolve_recipe(args.recipe)
    table = compute_features(df, recipe, n_jobs=2, quantize=True)
    if table.failures:
        raise SystemExit(f"{len(table.failures)} files failed: {table.failures[:3]}")
    y = table.manifest["emotion"].to_numpy()
    corpus = table.manifest["corpus"].to_numpy()
    speaker = table.manifest["speaker"].astype(str).to_numpy()
    rng = np.random.default_rng(args.seed)
    ways = ("one at a time", "running", "whole stream")
    kinds = {"speaker": recipe.speaker_gate, "channel": GATE}
    results: dict[tuple[str, str, str], dict[str, float]] = {}  # (kind, streams, way) -> corpus -> UA
    for c in CORPORA:
        train, test = np.flatnonzero(corpus != c), np.flatnonzero(corpus == c)
        clf = _fit(table, recipe, train, True, 0)
        classes = list(clf.classes_)
        means = training_class_means(table, train, classes, recipe.align)
        keep = np.isin(classes, np.unique(y[test]))  # the held-out corpus's own emotions, as loco scores it

        def proba(X, clf=clf):
            return clf.predict_proba(X)

        for streams in ("mixed", "one emotion"):
            key = (
                speaker[test] if streams == "mixed" else np.char.add(speaker[test], "/" + y[test].astype(str))
            )
            for kind, gate in kinds.items():
                P = {w: np.zeros((len(test), len(classes))) for w in ways}
                for s in np.unique(key):
                    rows = rng.permutation(np.flatnonzero(key == s))
                    for w, p in stream_scores(
                        proba, means, table.X[test[rows]], gate, keep, args.window
                    ).items():
                        P[w][rows] = p
                for w in ways:
                    p = np.where(keep, P[w], 0.0)
                    pred = np.asarray(classes)[p.argmax(axis=1)]
                    kept = [lab for lab, k in zip(classes, keep, strict=True) if k]
                    results.setdefault((kind, streams, w), {})[c] = scores(y[test], pred, kept)["ua"]
        print(f"{c}: done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    rows = [
        {
            "session": kind,
            "streams": streams,
            "scored": w,
            "mean UA": pct(np.mean(list(per.values()))),
            **{c: pct(per[c]) for c in CORPORA},
        }
        for (kind, streams, w), per in results.items()
    ]
    print(
        f"{machine()}; recipe {args.recipe}, window {args.window}, seed {args.seed}; {time.perf_counter() - t0:.0f} s\n"
    )
    print(md_table(rows, ["session", "streams", "scored", "mean UA", *CORPORA]))


if __name__ == "__main__":
    main()
