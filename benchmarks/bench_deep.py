"""Deep models under the EmoBox folds: RAVDESS (8 classes) and EMO-DB (7 classes), UA and accuracy.

    python benchmarks/bench_deep.py [--runs rescnn:ravdess,cnn1d:ravdess:6,...] [--max-seconds S]
                                    [--out benchmarks/results_deep.md]

A run is ``MODEL:CORPUS[:FOLDS]`` (FOLDS: how many of the corpus's EmoBox folds, default all, or a range
``A-B`` of them, 1-based, so that a long run can be split over processes). Every model
trains from scratch on each fold (validation: training speakers only). MODEL may be an ensemble such as
``rescnn+compare-logreg`` (every fold; each member's own UA is reported beside the ensemble's). Frame features and augmented
copies are cached (``$EMOVOX_CACHE``), so later runs only train. Results are appended to ``--out`` after
each run, so a long benchmark that is stopped keeps what it finished.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import corpus, machine, md_table  # noqa: E402

from emovox.deep import DEEP_MODELS  # noqa: E402
from emovox.deep.train import evaluate_deep  # noqa: E402
from emovox.models.ensemble import evaluate_ensemble, is_ensemble  # noqa: E402

DEFAULT_RUNS = (
    "rescnn:ravdess,cnn1d:ravdess,rescnn:emodb:2,cnn1d:emodb:2,cnn2d:ravdess:1,cnn1d-frames:ravdess:1,"
    "cnn1d-tutorial:ravdess:1,cnn2d:emodb:1,cnn1d-frames:emodb:1,cnn1d-tutorial:emodb:1"
)
COLUMNS = [
    "model",
    "corpus",
    "folds",
    "speaker-indep.",
    "UA %",
    "accuracy %",
    "macro F1 %",
    "s/epoch",
    "epochs/fold",
    "s/fold (train)",
    "seconds",
]


def _folds(spec: str | None) -> dict:
    """``N``: the first N folds; ``A-B``: folds A to B (1-based), to split a long run over processes."""
    if not spec:
        return {}
    if "-" in spec:
        a, b = (int(x) for x in spec.split("-"))
        return {"only_folds": list(range(a - 1, b))}
    return {"max_folds": int(spec)}


def run(model: str, name: str, folds: str | None, max_seconds: float | None) -> dict:
    t = time.perf_counter()
    overrides = {"max_seconds": max_seconds} if max_seconds else {}
    if is_ensemble(model):  # members on the same folds, probabilities averaged; timings are the deep member's
        if folds or overrides:
            raise SystemExit(f"{model}: an ensemble runs every fold with its members' recipes as they are")
        ev = evaluate_ensemble(corpus(name), model, "emobox", progress=False, log=True)
        deep = next(e for m, e in ev.members.items() if m in DEEP_MODELS)
        members = "; ".join(f"{m} {100 * e.summary['ua']:.1f}" for m, e in ev.members.items())
    else:
        ev = deep = evaluate_deep(
            corpus(name), model, "emobox", progress=False, log=True, **_folds(folds), **overrides
        )
        members = ""
    s = ev.summary
    return {
        "model": model,
        "corpus": name,
        "folds": f"{len(ev.folds)}" + (f" ({folds})" if folds else ""),
        "speaker-indep.": "yes" if ev.speaker_independent else "**no**",
        "UA %": f"{100 * s['ua']:.1f}" + (f" ± {100 * s['ua_std']:.1f}" if s["ua_std"] is not None else ""),
        "accuracy %": f"{100 * s['accuracy']:.1f}",
        "macro F1 %": f"{100 * s['macro_f1']:.1f}",
        "s/epoch": f"{deep.mean('seconds_per_epoch'):.1f}",
        "epochs/fold": f"{deep.mean('epochs'):.0f}",
        "s/fold (train)": f"{deep.mean('seconds'):.0f}",
        "seconds": f"{time.perf_counter() - t:.0f}",
        "per-fold UA": ", ".join(f"{100 * f['ua']:.1f}" for f in ev.folds),
        "members UA %": members,
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the per-epoch and per-fold lines
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--runs",
        default=DEFAULT_RUNS,
        help="comma-separated MODEL:CORPUS[:FOLDS]; FOLDS is a count of EmoBox folds or a 1-based range A-B "
        "(default: %(default)s)",
    )
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="training time budget per fold, in seconds; not allowed with an ensemble (default: the model's own)",
    )
    ap.add_argument(
        "--out",
        default="benchmarks/results_deep.md",
        help="markdown file rewritten after each run with every row finished so far in this invocation "
        "(default: %(default)s)",
    )
    args = ap.parse_args()
    out = Path(args.out)
    rows = []
    header = f"machine: {machine()}\n\ncommand: python {' '.join(sys.argv)}\n"
    for spec in args.runs.split(","):
        model, name, *n = spec.split(":")
        rows.append(run(model, name, n[0] if n else None, args.max_seconds))
        text = header + "\n" + md_table(rows, [*COLUMNS, "per-fold UA", "members UA %"]) + "\n"
        out.write_text(text)
        print(text, flush=True)


if __name__ == "__main__":
    main()
