"""The emotion of a whole recording of several sentences: pooled encoder features against the speech segments.

    python benchmarks/bench_whole.py [--groups 12] [--mixed 10]

Since stop 30, a recording longer than ``SEGMENTS_AFTER_SECONDS`` (10 s) gets the duration-weighted mean of
its speech segments' probabilities (``EmotionModel.timeline_prediction``); before, the mean of the encoder's
features over the whole recording's loud frames (``EmotionModel.embed``). Both are scored here on:

- **one emotion**: from each of the four corpora, ``--groups`` (speaker, emotion) pairs, the pair's clips
  joined with 0.3-0.8 s pauses into recordings of 10, 20 and 60 s (as ``bench_long.py``), as recorded and
  under a -40 dBFS white-noise floor over the whole recording; right when the answer is the pair's emotion;
- **mixed emotions**: ``--mixed`` speakers per corpus, each with 5, 3 and 1 clips of three of its emotions,
  shuffled, joined with pauses; right when the answer is the emotion with the most speech, and "present"
  when it is one of the three.

The default was trained on these corpora, so this measures the aggregation, not accuracy on unseen voices.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loco import CORPORA, manifest  # noqa: E402
from bench_long import joined, recordings  # noqa: E402
from common import machine, md_table  # noqa: E402

from emovox.audio import load_audio  # noqa: E402
from emovox.inference import load_model  # noqa: E402

SR = 16000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--groups", type=int, default=12, help="(speaker, emotion) pairs per corpus (default: %(default)s)"
    )
    ap.add_argument(
        "--mixed", type=int, default=10, help="mixed-emotion recordings per corpus (default: %(default)s)"
    )
    args = ap.parse_args()
    model = load_model()
    labels = model.labels
    print(f"{machine()}; {model.path.name}", file=sys.stderr)

    def pooled(y) -> str:
        return labels[int(np.argmax(model.proba_from_embeddings(model.embed(y))[0]))]

    def segments(y) -> str | None:
        pred = model.timeline_prediction(lambda: iter([y]), "x")[0]
        return pred.label

    ways = {"pooled features (before stop 30)": pooled, "speech segments (the default)": segments}
    t = time.perf_counter()
    rng = np.random.default_rng(1)
    right: dict[tuple, list[bool]] = {}
    df = manifest()
    for _, emotion, clips, pauses in recordings(df, args.groups, 60):
        for seconds in (10, 20, 60):
            y = joined(clips, pauses, seconds)
            noisy = y + (10 ** (-40 / 20) * rng.standard_normal(y.size)).astype(np.float32)
            for cond, z in (("as recorded", y), ("-40 dBFS floor", noisy)):
                for way, f in ways.items():
                    right.setdefault((way, cond, seconds), []).append(f(z) == emotion)
    print(f"one emotion: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    mixed: dict[tuple, list[bool]] = {}
    lengths = []
    for c in CORPORA:
        d = df[df["corpus"] == c]
        for speaker in rng.choice(sorted(d["speaker"].unique()), size=args.mixed, replace=True):
            ds = d[d["speaker"] == speaker]
            emotions = rng.choice(sorted(ds["emotion"].unique()), size=3, replace=False)
            clips, said = [], []
            for e, k in zip(emotions, (5, 3, 1), strict=True):
                for p in ds[ds["emotion"] == e]["path"].sample(
                    k, replace=True, random_state=int(rng.integers(1e9))
                ):
                    clips.append(load_audio(p, SR))
                    said.append(e)
            parts = []
            for i in rng.permutation(len(clips)):
                parts += [clips[i], np.zeros(int(SR * rng.uniform(0.3, 0.8)), np.float32)]
            y = np.concatenate(parts)
            lengths.append(y.size / SR)
            speech = {e: sum(c.size for c, s in zip(clips, said, strict=True) if s == e) for e in emotions}
            truth = max(speech, key=speech.get)
            for way, f in ways.items():
                got = f(y)
                mixed.setdefault((way, "majority"), []).append(got == truth)
                mixed.setdefault((way, "present"), []).append(got in emotions)
    n = len(right[next(iter(right))])
    print(
        f"One emotion, right % of {n} recordings ({args.groups} per corpus); "
        f"{time.perf_counter() - t:.0f} s in all\n"
    )
    cols = [f"{cond}, {s} s" for cond in ("as recorded", "-40 dBFS floor") for s in (10, 20, 60)]
    rows = [
        {
            "whole recording from": way,
            **{
                f"{c}, {s} s": f"{100 * np.mean(right[way, c, s]):.1f}"
                for c in ("as recorded", "-40 dBFS floor")
                for s in (10, 20, 60)
            },
        }
        for way in ways
    ]
    print(md_table(rows, ["whole recording from", *cols]))
    m = len(mixed[next(iter(mixed))])
    print(
        f"\nMixed emotions, {m} recordings ({args.mixed} per corpus, {np.min(lengths):.0f}-{np.max(lengths):.0f} s): "
        "% naming the emotion with the most speech / an emotion the recording holds\n"
    )
    rows = [
        {
            "whole recording from": way,
            "most speech": f"{100 * np.mean(mixed[way, 'majority']):.1f}",
            "one it holds": f"{100 * np.mean(mixed[way, 'present']):.1f}",
        }
        for way in ways
    ]
    print(md_table(rows, ["whole recording from", "most speech", "one it holds"]))


if __name__ == "__main__":
    main()
