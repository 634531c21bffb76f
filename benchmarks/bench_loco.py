"""Leave one corpus out: how a recipe does on voices, languages and microphones it never heard.

    python benchmarks/bench_loco.py [--recipes whisper-robust,whisper-active] [--json out.json]

Over the four shared corpora (RAVDESS, EMO-DB, EMOVO, nEMO; 7 emotions, calm folded into neutral,
boredom left out), each corpus is scored by a model trained on the other three (``--protocol loco``),
on the emotions it has. For each recipe:

- per recording, one file at a time (what ``emovox predict`` does): UA, WA, macro F1 per held-out
  corpus, and the calibration error (ECE) before and after temperature scaling, the temperature fitted
  on each fold's training corpora only (leave one of them out in turn);
- adapted to the channel: every recording of the held-out corpus scored together (``--same-channel``),
  unlabelled; and the safety check of sessions that hold a single emotion of the held-out corpus.

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import corpus, machine, md_table  # noqa: E402

from emovox.labels import SEVEN, apply_labels  # noqa: E402
from emovox.training import compute_features, evaluate_recipe, resolve_recipe  # noqa: E402

CORPORA = ("ravdess", "emodb", "emovo", "nemo")


def manifest() -> pd.DataFrame:
    df = pd.concat([corpus(c) for c in CORPORA], ignore_index=True)
    return apply_labels(df, merge="calm=neutral", emotions=SEVEN)


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def run(recipe_name: str, df: pd.DataFrame) -> dict:
    recipe = resolve_recipe(recipe_name)
    t = time.perf_counter()
    table = compute_features(df, recipe, n_jobs=2, quantize=True)
    if table.failures:
        raise SystemExit(f"{len(table.failures)} files failed: {table.failures[:3]}")
    t_feat = time.perf_counter() - t
    ev = evaluate_recipe(table, recipe, "loco", calibrate=True)
    print(ev.table(), file=sys.stderr)
    channel = evaluate_recipe(table, recipe, "loco", adapt="corpus")
    table.manifest["session"] = table.manifest["corpus"] + "/" + table.manifest["emotion"]
    one_emotion = evaluate_recipe(table, recipe, "loco", adapt="session")
    return {"recipe": recipe_name, "per_file": ev.to_dict(), "channel": channel.summary,
            "one_emotion": one_emotion.summary, "seconds": round(time.perf_counter() - t),
            "feature_seconds": round(t_feat)}


def report(results: list[dict]) -> str:
    rows = []
    for r in results:
        pc = r["per_file"]["per_corpus"]
        row = {"recipe": r["recipe"], "mean UA": pct(r["per_file"]["ua"]), "min UA": pct(r["per_file"]["ua_min"])}
        for c in CORPORA:
            m = pc[c]
            row[c] = (f"{pct(m['ua'])} / {pct(m['accuracy'])} / {pct(m['macro_f1'])} / "
                      f"{m['ece_uncalibrated']:.3f} -> {m['ece']:.3f}")
        rows.append(row)
    out = ["Per recording, one file at a time (UA / WA / macro F1 / ECE before -> after calibration, %):", "",
           md_table(rows, ["recipe", "mean UA", "min UA", *CORPORA]), ""]
    rows = []
    for r in results:
        row = {"recipe": r["recipe"], "per recording": pct(r["per_file"]["ua"]),
               "adapted, whole corpus": pct(r["channel"]["ua"]),
               "adapted, single-emotion sessions": pct(r["one_emotion"]["ua"])}
        for c in CORPORA:
            row[c] = (f"{pct(r['per_file']['per_corpus'][c]['ua'])} -> {pct(r['channel']['per_corpus'][c]['ua'])}"
                      f" / {pct(r['one_emotion']['per_corpus'][c]['ua'])}")
        rows.append(row)
    out += ["Adapted to the channel (`--same-channel`; mean UA %, and per corpus: per recording -> whole corpus "
            "/ single-emotion sessions):", "",
            md_table(rows, ["recipe", "per recording", "adapted, whole corpus", "adapted, single-emotion sessions",
                            *CORPORA])]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", default="whisper-robust,whisper-active")
    ap.add_argument("--json", type=Path, help="save every figure as JSON")
    args = ap.parse_args()
    df = manifest()
    print(f"{machine()}; {len(df)} utterances: "
          + ", ".join(f"{c} {n}" for c, n in df.groupby("corpus").size().items()), file=sys.stderr)
    results = [run(name, df) for name in args.recipes.split(",")]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    print(report(results))
    for r in results:
        print(f"{r['recipe']}: {r['seconds']} s ({r['feature_seconds']} s features)", file=sys.stderr)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
