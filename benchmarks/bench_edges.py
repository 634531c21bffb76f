"""Sound beside the speech: does a tone, noise or music before and after a recording change its answer?

    python benchmarks/bench_edges.py [--per-corpus 50] [--seconds 2]

From each of the four shared corpora, ``--per-corpus`` recordings at random. Each is scored by the bundled
default alone (one file at a time), then with ``--seconds`` of one sound before and after it:

- ``silence``: faint noise 60 dB under the recording's RMS (a quiet room);
- ``tone``: a 440 Hz sine 10 dB under the recording's RMS (a beep, a dial tone);
- ``noise``: white noise 20 dB under it (a fan, a street);
- ``music``: synthetic music (:func:`emovox.audio.synthetic.music`) 10 dB under it (a jingle, a music bed).

Each is scored as shipped, a loud edge without speech cut off first
(:meth:`emovox.inference.EmotionModel.speech_span`: no speech-like voicing in it, and the speech head sure
there is no voice), and without that cut. Prints, per sound, how often the answer is "no speech" and how often the emotion is
the one the recording alone gets, and how many of the four corpora's own recordings the cut would change
(each of them, as recorded). The default was trained on these corpora: this measures what the sounds
beside the speech do to an answer, not accuracy on unseen voices.
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
from emovox.audio.synthetic import music, white_noise  # noqa: E402
from emovox.inference import load_model  # noqa: E402
from emovox.speech import detect_speech  # noqa: E402

SR = 16000


def rms_db(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(y.astype(np.float64) ** 2) + 1e-12))


def side(kind: str, seconds: float, level_db: float, seed: int) -> np.ndarray:
    """``seconds`` of ``kind`` at ``level_db`` dBFS RMS."""
    if kind == "silence":
        return white_noise(seconds, level_db - 60, seed=seed)
    if kind == "tone":
        t = np.arange(int(seconds * SR)) / SR
        return (10 ** ((level_db - 10) / 20) * np.sqrt(2) * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    if kind == "noise":
        return white_noise(seconds, level_db - 20, seed=seed)
    return music(seed=seed, seconds=seconds, level_db=level_db - 10)


KINDS = ("silence", "tone", "noise", "music")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--per-corpus",
        type=int,
        default=50,
        help="recordings drawn at random per corpus (default: %(default)s)",
    )
    ap.add_argument(
        "--seconds", type=float, default=2.0, help="seconds of sound on either side (default: %(default)s)"
    )
    args = ap.parse_args()
    model = load_model(None)
    print(f"{machine()}; {model.path.name}", file=sys.stderr)
    df = manifest()
    t = time.perf_counter()

    # how many of the corpora's own recordings the cut changes
    trimmed = {c: 0 for c in CORPORA}
    for path, c in zip(df["path"], df["corpus"], strict=True):
        y = load_audio(path, SR)
        trimmed[c] += model.speech_span(y, detect_speech(y, SR)) != (0, y.size)
    n_by = df["corpus"].value_counts()
    print(
        "Corpus recordings the cut changes: "
        + ", ".join(f"{c} {trimmed[c]} of {n_by[c]}" for c in CORPORA)
        + f" ({time.perf_counter() - t:.0f} s)\n"
    )

    cut = model.speech_span
    rng = np.random.default_rng(0)
    sample = df.groupby("corpus", group_keys=False).apply(
        lambda g: g.sample(min(args.per_corpus, len(g)), random_state=0)
    )
    counts = {(k, on): {"none": 0, "same": 0} for k in KINDS for on in (True, False)}
    n = 0
    for i, path in enumerate(sample["path"]):
        y = load_audio(path, SR)
        alone = model.predict_signal(y, sr=SR).label
        if alone is None:
            continue
        n += 1
        for k in KINDS:
            s = side(k, args.seconds, rms_db(y), seed=int(rng.integers(1 << 30)))
            x = np.concatenate([s, y, s])
            for on in (True, False):
                model.speech_span = cut if on else (lambda y, check=None: (0, len(y)))
                p = model.predict_signal(x, sr=SR)
                model.speech_span = cut
                counts[k, on]["none"] += p.label is None
                counts[k, on]["same"] += p.label == alone
        if (i + 1) % 20 == 0:
            print(f"{i + 1} of {len(sample)}", file=sys.stderr, flush=True)
    rows = [
        {
            "sound on either side": f"{k} ({args.seconds:g} s)",
            **{
                f"{what} ({'cut' if on else 'not cut'})": f"{100 * counts[k, on][key] / n:.1f}"
                for on in (True, False)
                for what, key in (("no speech %", "none"), ("same emotion %", "same"))
            },
        }
        for k in KINDS
    ]
    print(
        f"{n} recordings that get an emotion alone ({args.per_corpus} per corpus drawn); "
        f"{time.perf_counter() - t:.0f} s\n"
    )
    cols = [f"{w} ({c})" for c in ("cut", "not cut") for w in ("no speech %", "same emotion %")]
    print(md_table(rows, ["sound on either side", *cols]))


if __name__ == "__main__":
    main()
