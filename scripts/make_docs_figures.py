"""Make the README's pictures in ``docs/``: an overview sheet, the mel scale, a confusion matrix.

Usage (from the project root, with the shared corpora at ``../shared`` or ``$EMOVOX_SHARED``)::

    python scripts/make_docs_figures.py [--out docs] [--quick]

``docs/overview.png``
    :func:`emovox.plots.overview` of one RAVDESS recording (actor 01, angry, strong intensity).
``docs/mel_scale.png``
    :func:`emovox.plots.mel_scale`: 300 -> 400 Hz and 900 -> 1000 Hz are both 100 Hz, not the same in mel.
``docs/confusion.png``
    Pooled confusion matrix of the tutorial recipe (``tutorial`` features, SVM) on the 8 RAVDESS emotions
    under speaker-independent 5-fold cross-validation; ``--quick`` uses 8 actors and 4 emotions instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="docs", help="output folder (default docs)")
    p.add_argument("--quick", action="store_true", help="confusion matrix of a small subset (seconds)")
    p.add_argument("--jobs", type=int, default=None, help="feature extraction processes (default: all cores)")
    args = p.parse_args(argv)

    import pandas as pd

    from emovox import plots
    from emovox.corpora import scan, shared_dir
    from emovox.labels import apply_labels
    from emovox.training import evaluate_recipe, handcrafted_features

    out = Path(args.out)
    ravdess = shared_dir() / "corpora" / "ravdess"
    if not ravdess.is_dir():
        print(f"make_docs_figures: {ravdess} not found (set EMOVOX_SHARED)", file=sys.stderr)
        return 1

    plots.save(
        plots.overview(ravdess / "Actor_01" / "03-01-05-02-01-01-01.flac"), out / "overview.png", dpi=100
    )
    plots.save(plots.mel_scale(), out / "mel_scale.png", dpi=110)

    t = time.time()
    if args.quick:
        actors = [ravdess / f"Actor_{i:02d}" for i in range(1, 9)]
        df = apply_labels(
            pd.concat([scan(a, "ravdess")[0] for a in actors], ignore_index=True),
            None,
            "angry,happy,neutral,sad",
        )
        protocol, what = "kfold:4", "RAVDESS, 8 actors, 4 emotions"
    else:
        df, protocol, what = scan(ravdess, "ravdess")[0], "kfold:5", "RAVDESS, 24 actors, 8 emotions"
    table = handcrafted_features(df, "tutorial", n_jobs=args.jobs, progress=True)
    ev = evaluate_recipe(table, "svm", protocol, progress=False)
    s = ev.summary
    fig = ev.confusion_figure(
        title=f"{what}, unseen speakers ({protocol})\n"
        f"tutorial features + SVM: UA {100 * s['ua']:.1f} %, "
        f"accuracy {100 * s['accuracy']:.1f} %"
    )
    plots.save(fig, out / "confusion.png", dpi=110)
    print(f"confusion matrix: UA {100 * s['ua']:.1f} % in {time.time() - t:.0f} s", file=sys.stderr)
    for name in ("overview.png", "mel_scale.png", "confusion.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
