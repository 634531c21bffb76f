"""Recipes of the models that ship inside the package.

    python recipes/bundled.py default      # encoder model (Whisper-base int8 + head): the default
    python recipes/bundled.py classical    # hand-crafted features + SVM: small and fast

Both predict seven emotions (neutral, happy, sad, angry, fearful, disgust, surprised).

``default`` is trained on all four corpora in ``../shared`` (RAVDESS speech with calm folded into neutral,
EMO-DB without boredom, EMOVO, nEMO) with the ``whisper-robust`` recipe, chosen by leave-one-corpus-out
UA. Its metadata carries, as its headline, the same recipe's leave-one-corpus-out figures (each corpus
scored by a model trained on the other three, with the temperature fitted on those three only): what a
user should expect on voices, languages and microphones the model never heard. Beside them, the
in-domain figures (5-fold by speaker over the four corpora: unseen speakers of known corpora), and the
channel-adapted ones (``--same-channel``: every recording of the held-out corpus scored together),
which decide whether the class means that adaptation needs are shipped. The model's own temperature is
fitted on out-of-corpus predictions of all four corpora, and its speech head (the learned "no speech"
check, :mod:`emovox.speech_head`) on the training features against generated non-speech.

``classical`` is the earlier SVM on RAVDESS + EMO-DB (5-fold by speaker, speaker-adapted figures).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from emovox import plots
from emovox.corpora import shared_corpus
from emovox.labels import SEVEN, apply_labels
from emovox.training import (
    compute_features,
    evaluate_recipe,
    fit_calibration,
    resolve_recipe,
    train_classical,
)

MODELS_DATA = Path(__file__).resolve().parents[1] / "src" / "emovox" / "models_data"
DOCS = Path(__file__).resolve().parents[1] / "docs"
LICENCES = {
    "ravdess": "RAVDESS: CC BY-NC-SA 4.0 (Livingstone & Russo 2018)",
    "emodb": "EMO-DB: free for research (Burkhardt et al. 2005)",
    "emovo": "EMOVO: free for research (Costantini et al., LREC 2014)",
    "nemo": "nEMO: CC BY-NC-SA 4.0 (Christop, LREC-COLING 2024)",
}
BUNDLED = {
    # name: (recipe, corpora, options passed to the feature extraction)
    "default": ("whisper-robust", ("ravdess", "emodb", "emovo", "nemo"), {"quantize": True}),
    "classical": ("svm", ("ravdess", "emodb"), {}),
}


def training_manifest(corpora=("ravdess", "emodb")) -> pd.DataFrame:
    df = pd.concat([shared_corpus(c) for c in corpora], ignore_index=True)
    return apply_labels(df, merge="calm=neutral", emotions=SEVEN)


def _rounded(d: dict) -> dict:
    return json.loads(json.dumps(d), parse_float=lambda x: round(float(x), 4))


def build(name: str, output: Path | None = None, protocol: str = "kfold:5") -> Path:
    recipe_name, corpora, options = BUNDLED[name]
    recipe = resolve_recipe(recipe_name)
    df = training_manifest(corpora)
    t = time.perf_counter()
    table = compute_features(df, recipe, n_jobs=2, progress=True, **options)
    if table.failures:
        raise SystemExit(f"{len(table.failures)} training files failed: {table.failures[:3]}")
    ev = evaluate_recipe(table, recipe, protocol)
    print(ev.table())
    extra: dict = {}
    calibration = None
    if len(corpora) > 1 and recipe.align:
        # the headline: leave one corpus out, one file at a time, calibrated as the shipped model is
        loco = evaluate_recipe(table, recipe, "loco", calibrate=True)
        print(loco.table())
        figure = (
            DOCS if output is None else Path(output).parent
        ) / f"{name}-reliability.png"  # docs: shipped
        plots.save(loco.reliability_figure(f"{name}: leave one corpus out, calibrated"), figure)
        adapted = evaluate_recipe(table, recipe, "loco", adapt="corpus")  # --same-channel
        print(adapted.table())
        calibration = fit_calibration(table, recipe)
        calibration["ece_loco"] = loco.summary["ece"]
        print(f"calibration: {calibration}")
        s = loco.summary
        extra["headline"] = _rounded(
            {
                "protocol": "leave one corpus out over "
                + ", ".join(sorted(corpora))
                + " (each scored by a model "
                "trained on the others, on the emotions it has; one file at a time; calibrated)",
                "ua": s["ua"],
                "ua_min": s["ua_min"],
                "accuracy": s["accuracy"],
                "macro_f1": s["macro_f1"],
                "ece": s["ece"],
                "ece_max": s["ece_max"],
                "ece_uncalibrated": s["ece_uncalibrated"],
                "per_corpus": s["per_corpus"],
            }
        )
        adaptable = adapted.summary["ua"] > loco.summary["ua"]
        extra["metrics_channel_adapted"] = _rounded({**adapted.summary, "shipped": adaptable})
        protocol_text = (
            f"{ev.protocol} grouped by speaker over {' + '.join(sorted(corpora))} (speaker-independent)"
        )
    else:
        adapted = evaluate_recipe(table, recipe, protocol, adapt=True)  # each test speaker as one session
        print(adapted.table())
        # ship what adaptation needs only where these folds say it helps (for the SVM model it does not)
        adaptable = adapted.summary["ua"] > ev.summary["ua"]
        extra["metrics_speaker_adapted"] = {**adapted.summary, "shipped": adaptable}
        protocol_text = f"{ev.protocol} grouped by speaker over RAVDESS + EMO-DB (speaker-independent)"
    out = train_classical(
        table,
        output or MODELS_DATA / name,
        recipe.classifier,
        params=recipe.params,
        evaluation=ev,
        adaptable=adaptable,
        speaker_gate=recipe.speaker_gate,  # whisper-robust's: a speaker's session gated as a channel's
        calibration=calibration,
        align=recipe.align,
        balance=recipe.balance,
        extra={
            "name": name,
            "recipe": f"recipes/bundled.py {name} ({recipe_name})",
            "protocol": protocol_text,
            **extra,
            "merges": {"calm": "neutral"},
            "licences": [LICENCES[c] for c in corpora],
            "licence_note": "Trained on corpora licensed for non-commercial research; "
            "the model inherits their terms.",
            "training_seconds": round(time.perf_counter() - t),
        },
    )
    plots.save(
        ev.confusion_figure(f"{name}: {ev.protocol}, UA {100 * ev.summary['ua']:.1f} %"),
        out / "confusion.png",
    )
    print(f"saved {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB)")
    return out


EPILOG = """\
what it writes:
  model directory   --output, else src/emovox/models_data/NAME: the shipped model is overwritten (the
                    files its metadata.json lists, and evaluation.json, confusion.png,
                    training_curves.png and history.json, are deleted once the new model is fitted)
  confusion.png     in the model directory: the 5-fold-by-speaker confusion matrix
  NAME-reliability.png
                    default only: the calibrated leave-one-corpus-out reliability diagram, written in
                    docs/ without --output (docs/default-reliability.png, shipped), else in the parent
                    folder of --output (--output /tmp/m writes /tmp/default-reliability.png)

It reads the corpora from $EMOVOX_SHARED (else the first shared/ folder beside the working directory or
one of its parents) and prints the evaluation tables.
"""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "name",
        choices=sorted(BUNDLED),
        help="which bundled model to build: default (whisper-robust on RAVDESS, EMO-DB, EMOVO, nEMO) or "
        "classical (svm on RAVDESS, EMO-DB)",
    )
    ap.add_argument(
        "--output",
        type=Path,
        help="model directory to write (a new or empty folder, or a model directory, whose model files are "
        "replaced); default: the shipped model src/emovox/models_data/NAME, overwritten. For default, "
        "NAME-reliability.png goes into this folder's parent instead of docs/",
    )
    args = ap.parse_args()
    if args.output is not None:  # now, not after 15 minutes of features and fits
        from emovox.errors import ModelError
        from emovox.models.store import prepare_output

        try:
            prepare_output(args.output)
        except ModelError as exc:
            ap.error(str(exc))
    build(args.name, args.output)


if __name__ == "__main__":
    main()
