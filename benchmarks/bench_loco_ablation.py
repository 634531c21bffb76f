"""What leave-one-corpus-out UA says about each choice of the default recipe (how whisper-robust was chosen).

    python benchmarks/bench_loco_ablation.py [--only TEXT]   # --only: the variants whose name holds TEXT

Over the four shared corpora (7 emotions), each variant is scored with ``--protocol loco``: each corpus
by a model trained on the other three, on the emotions it has, one file at a time, uncalibrated (the
temperature does not change UA). Variants change one thing at a time from whisper-active's features
(Whisper-base int8, layers 2-5 pooled over the voiced frames) and logistic regression. Prints a
markdown table; the features come from the encoder cache, so a second run only refits.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loco import CORPORA, manifest, pct  # noqa: E402
from common import machine, md_table  # noqa: E402

from emovox.training import Recipe, compute_features, evaluate_recipe  # noqa: E402

ACTIVE = {"layers": [2, 3, 4, 5], "pooling": "active", "threshold_db": 30.0}


def mean_heads(c: float, augment: tuple[str, ...] = ()) -> Recipe:
    """Each layer's mean over the voiced frames, corpora aligned and balanced, one head per layer at C ``c``
    (whisper-robust's recipe since stop 24, with ``augment``)."""
    return Recipe(
        "whisper",
        "blocklogreg",
        {"C": c, "blocks": 4},
        {**ACTIVE, "statistics": ["mean"]},
        augment,
        align="corpus",
        balance="corpus",
    )


VARIANTS = [
    # name, recipe
    ("probe: every layer, mean+std over all frames, C 0.1", Recipe("whisper", "logreg", {"C": 0.1})),
    (
        "every layer, voiced frames, C 0.1",
        Recipe("whisper", "logreg", {"C": 0.1}, {**ACTIVE, "layers": None}),
    ),
    (
        "layers 2-5, voiced frames, C 0.1 (whisper-active without its augmentation)",
        Recipe("whisper", "logreg", {"C": 0.1}, ACTIVE),
    ),
    ("... + C 0.01", Recipe("whisper", "logreg", {"C": 0.01}, ACTIVE)),
    ("... + corpora aligned, C 0.1", Recipe("whisper", "logreg", {"C": 0.1}, ACTIVE, align="corpus")),
    (
        "... + corpora aligned, C 0.01 (whisper-robust until stop 21)",
        Recipe("whisper", "logreg", {"C": 0.01}, ACTIVE, align="corpus"),
    ),
    (
        "... + channel augmentation (EQ, room, telephone, noise, gain)",
        Recipe("whisper", "logreg", {"C": 0.01}, ACTIVE, ("channel",), align="corpus"),
    ),
    ("corpora aligned, C 0.003", Recipe("whisper", "logreg", {"C": 0.003}, ACTIVE, align="corpus")),
    (
        "... + corpora balanced, C 0.01",
        Recipe("whisper", "logreg", {"C": 0.01}, ACTIVE, align="corpus", balance="corpus"),
    ),
    (
        "... + corpora balanced, C 0.003 (whisper-robust in stop 22)",
        Recipe("whisper", "logreg", {"C": 0.003}, ACTIVE, align="corpus", balance="corpus"),
    ),
    (
        "... + corpora balanced, C 0.001",
        Recipe("whisper", "logreg", {"C": 0.001}, ACTIVE, align="corpus", balance="corpus"),
    ),
    *(
        (
            f"... + one head per layer, averaged, C {c}"
            + (" (whisper-robust in stop 23)" if c == 0.01 else ""),
            Recipe("whisper", "blocklogreg", {"C": c, "blocks": 4}, ACTIVE, align="corpus", balance="corpus"),
        )
        for c in (0.003, 0.01, 0.03)
    ),
    *((f"... + each layer's mean only, C {c}", mean_heads(c)) for c in (0.003, 0.01, 0.03)),
    # Since stop 26 a recording's copies share its weight in a balanced fit; C 0.02 now is what C 0.01 was
    # when each copy weighed as much as a recording (the stop-24 row)
    *(
        (f"... + {what}", mean_heads(c, (augment,)))
        for c, augment, what in (
            (
                0.02,
                "channel",
                "a channel-augmented copy of every recording, weighing as a recording, C 0.01 "
                "(whisper-robust in stop 24)",
            ),
            (
                0.01,
                "channel",
                "a channel-augmented copy of every recording, sharing its recording's weight, C 0.01 "
                "(**whisper-robust**, stop 26)",
            ),
            (0.01, "channel:codec", "half of the copies through MP3 (`channel:codec`, stop 26)"),
        )
    ),
]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only",
        default="",
        help="run only the variants whose name contains this text (default: every variant)",
    )
    only = ap.parse_args().only
    df = manifest()
    print(machine(), file=sys.stderr)
    rows = []
    for name, recipe in VARIANTS:
        if only not in name:
            continue
        t = time.perf_counter()
        table = compute_features(df, recipe, n_jobs=2, quantize=True, progress=True)
        ev = evaluate_recipe(table, recipe, "loco", progress=False)
        s = ev.summary
        row = {
            "variant": name,
            "mean UA": pct(s["ua"]),
            "min UA": pct(s["ua_min"]),
            "ECE": f"{s['ece']:.3f}",
            **{c: pct(s["per_corpus"][c]["ua"]) for c in CORPORA},
            "s": round(time.perf_counter() - t),
        }
        print(row, file=sys.stderr, flush=True)
        rows.append(row)
    print(md_table(rows, ["variant", "mean UA", "min UA", *CORPORA, "ECE", "s"]))


if __name__ == "__main__":
    main()
