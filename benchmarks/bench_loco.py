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
    table = compute_features(df, recipe, n_jobs=2, quantize=True, progress=True)
    if table.failures:
        raise SystemExit(f"{len(table.failures)} files failed: {table.failures[:3]}")
    t_feat = time.perf_counter() - t
    ev = evaluate_recipe(table, recipe, "loco", calibrate=True)
    print(ev.table(), file=sys.stderr)
    # what the `uncertain` flag means on unseen corpora: how often each side of the threshold is right
    from emovox.calibration import UNCERTAIN_BELOW

    p = np.vstack([fp.proba for fp in ev.fold_proba])
    right = np.asarray(ev.labels)[p.argmax(axis=1)] == np.concatenate([fp.y_true for fp in ev.fold_proba])
    unsure = p.max(axis=1) < UNCERTAIN_BELOW
    flag = {
        "share_uncertain": float(unsure.mean()),
        "accuracy_uncertain": float(right[unsure].mean()),
        "accuracy_confident": float(right[~unsure].mean()),
    }
    channel = evaluate_recipe(table, recipe, "loco", adapt="corpus")
    table.manifest["session"] = table.manifest["corpus"] + "/" + table.manifest["emotion"]
    one_emotion = evaluate_recipe(table, recipe, "loco", adapt="session")
    return {
        "recipe": recipe_name,
        "per_file": ev.to_dict(),
        "uncertain": flag,
        "oracle_temperature": oracle_temperature(ev),
        "channel": channel.summary,
        "one_emotion": one_emotion.summary,
        "seconds": round(time.perf_counter() - t),
        "feature_seconds": round(t_feat),
    }


def oracle_temperature(ev) -> dict:
    """The one temperature that gives the lowest worst-corpus ECE, chosen on the held-out corpora
    themselves: not a model (it sees the test labels), but the bound of what any single temperature
    could reach for every unseen corpus at once."""
    from emovox.calibration import apply_temperature, ece

    by_corpus = {}
    for fp, t in zip(ev.fold_proba, ev.recipe["temperatures"], strict=True):
        y = [ev.labels.index(v) for v in fp.y_true]
        by_corpus[fp.name] = (apply_temperature(fp.proba, 1 / t), y)  # back to uncalibrated
    best = None
    for temp in np.round(np.arange(0.5, 3.001, 0.05), 2):
        per = {c: ece(apply_temperature(p, temp), y) for c, (p, y) in by_corpus.items()}
        if best is None or max(per.values()) < best["max"]:
            best = {"temperature": float(temp), "ece": per, "max": max(per.values())}
    return best


def score_trained(model_dir: str, df: pd.DataFrame) -> dict:
    """A trained model on the shared corpora it was not trained on, one file at a time, scored as loco
    scores (each corpus on the emotions it has), with the model's own calibration and no speech check."""
    from emovox.calibration import ece, restrict
    from emovox.evaluation import scores
    from emovox.inference import load_model

    model = load_model(model_dir, check_speech=False)
    seen = set(model.metadata.get("training", {}).get("corpora", []))
    out = {"model": model_dir, "trained_on": sorted(seen)}
    for c in CORPORA:
        if c in seen:
            continue
        rows = df[df["corpus"] == c]
        keep = [lab for lab in model.labels if lab in set(rows["emotion"])]
        p = restrict(model.predict_proba(list(rows["path"])), model.labels, keep)
        y = rows["emotion"].to_numpy()
        s = scores(y, np.asarray(keep)[p.argmax(axis=1)], keep)
        out[c] = {
            "ua": s["ua"],
            "accuracy": s["accuracy"],
            "macro_f1": s["macro_f1"],
            "ece": ece(p, [keep.index(v) for v in y]),
        }
    return out


def report(results: list[dict]) -> str:
    rows = []
    for r in results:
        pc = r["per_file"]["per_corpus"]
        row = {
            "recipe": r["recipe"],
            "mean UA": pct(r["per_file"]["ua"]),
            "min UA": pct(r["per_file"]["ua_min"]),
        }
        for c in CORPORA:
            m = pc[c]
            row[c] = (
                f"{pct(m['ua'])} / {pct(m['accuracy'])} / {pct(m['macro_f1'])} / "
                f"{m['ece_uncalibrated']:.3f} -> {m['ece']:.3f}"
            )
        rows.append(row)
    out = [
        "Per recording, one file at a time (UA / WA / macro F1 / ECE before -> after calibration, %):",
        "",
        md_table(rows, ["recipe", "mean UA", "min UA", *CORPORA]),
        "",
    ]
    rows = []
    for r in results:
        row = {
            "recipe": r["recipe"],
            "per recording": pct(r["per_file"]["ua"]),
            "adapted, whole corpus": pct(r["channel"]["ua"]),
            "adapted, single-emotion sessions": pct(r["one_emotion"]["ua"]),
        }
        for c in CORPORA:
            row[c] = (
                f"{pct(r['per_file']['per_corpus'][c]['ua'])} -> {pct(r['channel']['per_corpus'][c]['ua'])}"
                f" / {pct(r['one_emotion']['per_corpus'][c]['ua'])}"
            )
        rows.append(row)
    out += [
        "`uncertain` (calibrated confidence below 0.4) on the held-out corpora:",
        "",
        md_table(
            [
                {
                    "recipe": r["recipe"],
                    "share of predictions": pct(r["uncertain"]["share_uncertain"]),
                    "accuracy when uncertain": pct(r["uncertain"]["accuracy_uncertain"]),
                    "accuracy otherwise": pct(r["uncertain"]["accuracy_confident"]),
                }
                for r in results
            ],
            ["recipe", "share of predictions", "accuracy when uncertain", "accuracy otherwise"],
        ),
        "",
    ]
    out += [
        "One temperature for every held-out corpus, chosen on their own labels to minimise the worst "
        "ECE (an oracle: what temperature scaling could reach at best):",
        "",
        md_table(
            [
                {
                    "recipe": r["recipe"],
                    "temperature": f"{r['oracle_temperature']['temperature']:.2f}",
                    "max ECE": f"{r['oracle_temperature']['max']:.3f}",
                    **{c: f"{r['oracle_temperature']['ece'][c]:.3f}" for c in CORPORA},
                }
                for r in results
            ],
            ["recipe", "temperature", "max ECE", *CORPORA],
        ),
        "",
    ]
    out += [
        "Adapted to the channel (`--same-channel`; mean UA %, and per corpus: per recording -> whole corpus "
        "/ single-emotion sessions):",
        "",
        md_table(
            rows,
            [
                "recipe",
                "per recording",
                "adapted, whole corpus",
                "adapted, single-emotion sessions",
                *CORPORA,
            ],
        ),
    ]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--recipes",
        default="whisper-robust,whisper-active",
        help="comma-separated recipe names (default: %(default)s)",
    )
    ap.add_argument("--json", type=Path, help="save every figure as JSON to this file (default: none)")
    ap.add_argument(
        "--previous",
        help="also score this trained model directory on the shared corpora it was "
        "not trained on (e.g. the default model shipped before) (default: none)",
    )
    args = ap.parse_args()
    df = manifest()
    print(
        f"{machine()}; {len(df)} utterances: "
        + ", ".join(f"{c} {n}" for c, n in df.groupby("corpus").size().items()),
        file=sys.stderr,
    )
    results = [run(name, df) for name in args.recipes.split(",") if name]
    previous = score_trained(args.previous, df) if args.previous else None
    if args.json:
        args.json.write_text(json.dumps({"recipes": results, "previous": previous}, indent=2, default=float))
    if results:
        print(report(results))
    if previous:
        print(
            f"\n{previous['model']} (trained on {', '.join(previous['trained_on'])}) on the other corpora "
            "(UA / WA / macro F1 %, ECE):\n"
        )
        print(
            md_table(
                [
                    {
                        "corpus": c,
                        "UA / WA / F1": f"{pct(m['ua'])} / {pct(m['accuracy'])} / {pct(m['macro_f1'])}",
                        "ECE": f"{m['ece']:.3f}",
                    }
                    for c, m in previous.items()
                    if c in CORPORA
                ],
                ["corpus", "UA / WA / F1", "ECE"],
            )
        )
    for r in results:
        print(f"{r['recipe']}: {r['seconds']} s ({r['feature_seconds']} s features)", file=sys.stderr)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
