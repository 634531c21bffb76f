"""Leave one corpus out on held-out recordings as other microphones, lines and rooms would give them.

    python benchmarks/bench_conditions.py [--recipes whisper-robust,...] [--every 4]

Over the four shared corpora (7 emotions), each corpus is scored by a model trained on the other three
(as ``--protocol loco``, one file at a time, on the emotions it has), on every ``--every``-th recording of
it as recorded and degraded four ways that the training data does not hold:

- ``noise 20 dB``: white noise 20 dB under the recording's RMS;
- ``telephone``: 300-3400 Hz band-pass, down to 8 kHz and back;
- ``opus 12 kbit/s``: encoded and decoded as Ogg Opus at the encoder's lowest quality (about 12 kbit/s),
  a codec no training augmentation uses;
- ``room``: reverberation of a 0.7 s RT60 room, half wet.

A recipe's training augmentations (``whisper-robust``'s ``channel``: a random EQ, room, telephone band,
noise and gain per copy) are drawn independently of these. Prints a markdown table of mean UA per
condition, and one per corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_loco import CORPORA, manifest, pct  # noqa: E402
from common import machine, md_table  # noqa: E402

CONDITIONS = ("noise 20 dB", "telephone", "opus 12 kbit/s", "room")
_EXTRACTORS: dict[str, object] = {}


def degrade(y: np.ndarray, condition: str, seed: int) -> np.ndarray:
    """``y`` (16 kHz mono) through one of :data:`CONDITIONS`."""
    from emovox.audio import resample
    from emovox.audio.synthetic import telephone
    from emovox.augment import codec_roundtrip, reverb

    rng = np.random.default_rng(seed)
    if condition == "noise 20 dB":
        rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
        return (y + rng.standard_normal(len(y)) * rms * 0.1).astype(np.float32)
    if condition == "telephone":
        return resample(resample(telephone(y), 16000, 8000), 8000, 16000)[: len(y)].astype(np.float32)
    if condition == "opus 12 kbit/s":
        return codec_roundtrip(y, 16000, "opus", 1.0)
    if condition == "room":
        return reverb(y, 16000, 0.7, rng, wet=0.5)
    raise ValueError(condition)


def _features(args: tuple[str, dict, str, str]) -> np.ndarray:
    """The front end's vector of one degraded file (in a worker process)."""
    import json

    from emovox.audio import load_audio
    from emovox.extractors import from_dict

    key, spec, path, condition = args
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = from_dict(json.loads(spec))
    y = load_audio(path, 16000)
    return _EXTRACTORS[key].process_signal(degrade(y, condition, len(y)), 16000)


def main() -> None:
    import json

    from sklearn.metrics import balanced_accuracy_score

    from emovox.recipes import get_recipe
    from emovox.tables import FeatureTable
    from emovox.training import compute_features

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--recipes",
        default="whisper-robust",
        help="comma-separated feature recipe names to score (default: %(default)s)",
    )
    ap.add_argument(
        "--every",
        type=int,
        default=4,
        help="score every N-th recording of each corpus (default: %(default)s)",
    )
    ap.add_argument(
        "--without-augmentation",
        action="store_true",
        help="also score each recipe that has augmentations trained without them (default: off)",
    )
    args = ap.parse_args()
    print(machine(), file=sys.stderr)
    df = manifest()
    variants = []
    for name in args.recipes.split(","):
        recipe = get_recipe(name)
        if recipe.kind != "features":
            ap.error(f"{name}: only feature recipes (hand-crafted or encoder) are measured here")
        variants.append((name, recipe))
        if args.without_augmentation and recipe.spec.augment:
            variants.append(
                (f"{name} without its augmentation", replace(recipe, spec=replace(recipe.spec, augment=())))
            )
    rows, per_corpus = [], []
    seen: dict[str, dict[str, np.ndarray]] = {}  # front end -> condition -> degraded features
    for label, recipe in variants:
        t0 = time.perf_counter()
        table = compute_features(
            df, recipe.spec, n_jobs=2, quantize=True, progress=True
        )  # the int8 encoder, as shipped
        y = table.manifest["emotion"].astype(str).to_numpy()
        corpus = table.manifest["corpus"].astype(str).to_numpy()
        labels = sorted(set(y))
        sub = np.arange(len(y))[:: args.every]
        spec = json.dumps(table.frontend, sort_keys=True)
        if spec not in seen:  # recipes with the same front end (with and without augmentation) share them
            seen[spec] = {}
            with ProcessPoolExecutor(2) as pool:
                for condition in CONDITIONS:
                    jobs = [(spec, spec, p, condition) for p in table.manifest["path"].to_numpy()[sub]]
                    seen[spec][condition] = np.stack(list(pool.map(_features, jobs, chunksize=16)))
                    print(f"{label}: {condition} done", file=sys.stderr, flush=True)
        degraded = seen[spec]
        ua: dict[str, dict[str, float]] = {c: {} for c in ("as recorded", *CONDITIONS)}
        for held_out in CORPORA:
            train = np.flatnonzero(corpus != held_out)
            part = FeatureTable(
                table.X[train],
                table.manifest.iloc[train].reset_index(drop=True),
                table.names,
                table.frontend,
                [],
                {k: v[train] for k, v in table.augmented.items()},
            )
            model = recipe.fit(part.manifest, table=part, progress=False)
            here = corpus[sub] == held_out
            test = sub[here]
            keep = np.isin(labels, y[corpus == held_out])
            inputs = {"as recorded": table.X[test], **{c: degraded[c][here] for c in CONDITIONS}}
            for condition, X in inputs.items():
                p = np.where(keep, model.predict_proba(X), 0.0)
                ua[condition][held_out] = balanced_accuracy_score(
                    y[test], np.asarray(labels)[p.argmax(axis=1)]
                )
        means = {c: float(np.mean(list(v.values()))) for c, v in ua.items()}
        rows.append(
            {
                "recipe": label,
                **{c: pct(m) for c, m in means.items()},
                "mean of the degraded": pct(np.mean([means[c] for c in CONDITIONS])),
                "s": round(time.perf_counter() - t0),
            }
        )
        for condition, v in ua.items():
            per_corpus.append({"recipe": label, "condition": condition, **{c: pct(v[c]) for c in CORPORA}})
        print(rows[-1], file=sys.stderr, flush=True)
    print(md_table(rows, ["recipe", "as recorded", *CONDITIONS, "mean of the degraded", "s"]))
    print()
    print(md_table(per_corpus, ["recipe", "condition", *CORPORA]))


if __name__ == "__main__":
    main()
