"""Long recordings: does the whole-file emotion hold up as a recording gets longer, for each encoder window?

    python benchmarks/bench_long.py [--groups 20] [--lengths 10,20,60] [--windows 30,15,10,5]

From each of the four shared corpora, ``--groups`` (speaker, emotion) pairs at random; for each, that
speaker's clips of that emotion joined with 0.3-0.8 s pauses until the recording is at least each of
``--lengths`` seconds long (a longer recording starts with the same clips). Each recording is scored whole by
the bundled default, its Whisper encoder run in windows of each of ``--windows`` seconds (the model's
front end with ``window_s`` replaced; 30 s was every model's before ``window_s`` existed, 5 s is
``WINDOW_S``), and counted right when its emotion is the group's. The clips alone, one file at a time, are
the reference. The default was trained on these corpora, so this measures what the length does, not
accuracy on unseen voices (BENCHMARKS.md "Generalisation" has that).

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loco import CORPORA, manifest  # noqa: E402
from common import machine, md_table  # noqa: E402

from emovox.audio import load_audio  # noqa: E402
from emovox.encoders.frontend import WINDOW_S, WhisperExtractor  # noqa: E402
from emovox.inference import load_model  # noqa: E402


def recordings(df, groups: int, longest: float, seed: int = 0):
    """(corpus, emotion, clips, pause lengths) per group: enough clips for ``longest`` seconds."""
    rng = np.random.default_rng(seed)
    for c in CORPORA:
        by = list(df[df["corpus"] == c].groupby(["speaker", "emotion"]))
        for i in rng.choice(len(by), size=min(groups, len(by)), replace=False):
            (_, emotion), g = by[i]
            clips, total = [], 0.0
            for path in g["path"].sample(frac=1, random_state=int(i)):
                clips.append(load_audio(path, 16000))
                total += clips[-1].size / 16000
                if total >= longest:
                    break
            pauses = rng.uniform(0.3, 0.8, size=len(clips))
            yield c, emotion, clips, pauses


def joined(clips, pauses, seconds: float) -> np.ndarray:
    """The clips with their pauses, up to the first clip that makes ``seconds`` (all of them if fewer)."""
    out, total = [], 0.0
    for y, pause in zip(clips, pauses, strict=True):
        out += [y, np.zeros(int(16000 * pause), np.float32)]
        total += y.size / 16000
        if total >= seconds:
            break
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--groups", type=int, default=20, help="(speaker, emotion) pairs per corpus (default: %(default)s)"
    )
    ap.add_argument(
        "--lengths",
        default="10,20,60",
        help="comma-separated seconds of speech per recording (default: %(default)s)",
    )
    ap.add_argument(
        "--windows",
        default="30,15,10,5",
        help="comma-separated encoder windows to compare, seconds (default: %(default)s)",
    )
    args = ap.parse_args()
    lengths = [float(x) for x in args.lengths.split(",")]
    windows = [float(x) for x in args.windows.split(",")]
    model = load_model(None, check_speech=False)
    spec = model.frontend.to_dict()
    extractors = {w: WhisperExtractor({**spec, "window_s": w}, model.path) for w in windows}
    print(f"{machine()}; {model.path.name}, front end window {spec.get('window_s', 30.0)} s", file=sys.stderr)

    def label(vector) -> str:
        return model.labels[int(np.argmax(model.proba_from_embeddings(vector)[0]))]

    t = time.perf_counter()
    clip_right: list[bool] = []
    right = {(w, s): [] for w in windows for s in lengths}
    per_corpus = {(w, c): [] for w in windows for c in CORPORA}
    for c, emotion, clips, pauses in recordings(manifest(), args.groups, max(lengths)):
        clip_right += [label(model.embed(y)) == emotion for y in clips]
        for s in lengths:
            y = joined(clips, pauses, s)
            for w, ex in extractors.items():
                ok = label(ex(y)) == emotion
                right[w, s].append(ok)
                if s == lengths[len(lengths) // 2]:
                    per_corpus[w, c].append(ok)
        print(f"{c} {emotion}: done", file=sys.stderr, flush=True)
    mid = lengths[len(lengths) // 2]
    rows = [
        {
            "encoder window": f"{w:g} s"
            + (" (WINDOW_S)" if w == WINDOW_S else " (before)" if w == 30 else ""),
            **{f"{s:g} s": f"{100 * np.mean(right[w, s]):.1f}" for s in lengths},
            **{f"{c} ({mid:g} s)": f"{100 * np.mean(per_corpus[w, c]):.1f}" for c in CORPORA},
        }
        for w in windows
    ]
    n = len(right[windows[0], lengths[0]])
    print(
        f"Whole-recording emotion right, % of {n} recordings ({args.groups} per corpus; the clips alone, "
        f"one file at a time: {100 * np.mean(clip_right):.1f} % of {len(clip_right)}); "
        f"{time.perf_counter() - t:.0f} s\n"
    )
    print(
        md_table(
            rows, ["encoder window", *[f"{s:g} s" for s in lengths], *[f"{c} ({mid:g} s)" for c in CORPORA]]
        )
    )


if __name__ == "__main__":
    main()
