"""Speech-presence check (``emovox.speech.detect_speech``) on real corpora and on generated non-speech.

    python benchmarks/bench_speech.py [--workers 2] [--degraded-every 10] [--clips 40] [--shared PATH]

Reports, as markdown tables:

- per corpus (every file of the shared RAVDESS, EMO-DB, EMOVO, nEMO): the share detected as speech, and
  on every ``--degraded-every``-th file the same with white noise at 10 dB SNR, band-limited to the
  telephone band (300-3400 Hz), and under mains hum (50 or 60 Hz) and buzz (with its harmonics), their
  peak 10 dB under the speech's;
- per kind of generated non-speech (``emovox.audio.synthetic``, ``--clips`` seeds of 3 s each, with 30 dB
  of white noise): the share rejected and the most common reason;
- the time per 3 s clip (median of 200 calls on one RAVDESS file cut to 3 s, one thread).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT / "benchmarks"))

CORPORA = ("ravdess", "emodb", "emovo", "nemo")


def shared_dir(cli: str | None) -> Path:
    if cli:
        return Path(cli)
    if os.environ.get("EMOVOX_SHARED"):
        return Path(os.environ["EMOVOX_SHARED"])
    return (ROOT / ".." / "shared").resolve()


def _one(args: tuple[str, bool]) -> tuple[bool, str, bool | None, bool | None]:
    from emovox.audio import load_audio
    from emovox.audio.synthetic import add_noise, telephone
    from emovox.speech import detect_speech

    path, degrade = args
    y = load_audio(path, 16000)
    r = detect_speech(y, 16000)
    noisy = tel = hum = buzz = None
    if degrade:
        noisy = detect_speech(add_noise(y, 10.0, seed=len(y)), 16000).speech
        tel = detect_speech(telephone(y), 16000).speech
        # mains hum (50 or 60 Hz), and buzz (its harmonics 1, 1/2, 1/3, 1/4), each with a peak 10 dB under
        # the speech's
        phase = 2 * np.pi * (50 if len(y) % 2 else 60) * np.arange(y.size) / 16000
        hum, buzz = (
            detect_speech(
                y + (10 ** (-10 / 20) * np.abs(y).max() * w / np.abs(w).max()).astype(np.float32)
            ).speech
            for w in (np.sin(phase), sum(np.sin(h * phase) / h for h in range(1, 5)))
        )
    return r.speech, r.reason, noisy, tel, hum, buzz


def _ns(args: tuple[str, int]) -> tuple[str, bool, str]:
    from emovox.audio.synthetic import non_speech
    from emovox.speech import detect_speech

    kind, seed = args
    r = detect_speech(non_speech(kind, seed), 16000)
    return kind, r.speech, r.reason


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default: %(default)s)")
    ap.add_argument(
        "--degraded-every",
        type=int,
        default=10,
        help="noise / telephone / hum / buzz test on every k-th file (default: %(default)s)",
    )
    ap.add_argument(
        "--clips", type=int, default=40, help="generated clips per non-speech kind (default: %(default)s)"
    )
    ap.add_argument("--shared", default=None, help="path of shared/ (default: $EMOVOX_SHARED or ../shared)")
    args = ap.parse_args(argv)

    from common import machine, md_table

    from emovox.audio import find_audio, load_audio
    from emovox.audio.synthetic import NON_SPEECH
    from emovox.speech import detect_speech

    print(f"# speech check — {machine()}\n")
    rows, missed = [], []
    first_file = None
    with ProcessPoolExecutor(args.workers) as ex:
        for name in CORPORA:
            files = [str(p) for p in find_audio(shared_dir(args.shared) / "corpora" / name)]
            if not files:
                print(f"(no files for {name})", file=sys.stderr)
                continue
            first_file = first_file or files[0]
            jobs = [(p, i % args.degraded_every == 0) for i, p in enumerate(files)]
            t0 = time.perf_counter()
            res = list(ex.map(_one, jobs, chunksize=16))
            wall = time.perf_counter() - t0
            sp = np.array([r[0] for r in res])
            noisy = [r[2] for r in res if r[2] is not None]
            tel = [r[3] for r in res if r[3] is not None]
            hum = [r[4] for r in res if r[4] is not None]
            buzz = [r[5] for r in res if r[5] is not None]
            missed += [(p, r[1]) for p, r in zip(files, res, strict=True) if not r[0]]
            rows.append(
                {
                    "corpus": name,
                    "files": len(files),
                    "speech %": f"{100 * sp.mean():.2f}",
                    "missed": int((~sp).sum()),
                    "noisy 10 dB %": f"{100 * np.mean(noisy):.1f}",
                    "telephone %": f"{100 * np.mean(tel):.1f}",
                    "mains hum -10 dB %": f"{100 * np.mean(hum):.1f}",
                    "mains buzz -10 dB %": f"{100 * np.mean(buzz):.1f}",
                    "degraded n": len(noisy),
                    "wall s (incl. decode)": f"{wall:.1f}",
                }
            )
        print(md_table(rows, list(rows[0])) if rows else "(no corpora)")
        res = list(ex.map(_ns, [(k, s) for k in NON_SPEECH for s in range(args.clips)], chunksize=8))
    print()
    ns_rows = []
    for kind in NON_SPEECH:
        rr = [r for r in res if r[0] == kind]
        reasons = collections.Counter(r[2].split(" (")[0].split(":")[-1].strip()[:40] for r in rr if not r[1])
        ns_rows.append(
            {
                "kind": kind,
                "clips": len(rr),
                "rejected %": f"{100 * np.mean([not r[1] for r in rr]):.1f}",
                "main reason": reasons.most_common(1)[0][0] if reasons else "",
            }
        )
    print(md_table(ns_rows, list(ns_rows[0])))

    if first_file:
        y = load_audio(first_file, 16000)[:48000]
        y = np.pad(y, (0, 48000 - y.size))
        for _ in range(10):
            detect_speech(y)
        times = []
        for _ in range(200):
            t = time.perf_counter()
            detect_speech(y)
            times.append(time.perf_counter() - t)
        long = np.tile(y, 200)  # 10 minutes
        t = time.perf_counter()
        detect_speech(long)
        t_long = time.perf_counter() - t
        print(
            f"\ntime per 3 s clip: median {1000 * np.median(times):.2f} ms, p95 {1000 * np.percentile(times, 95):.2f} ms;"
            f" 10-minute signal: {t_long:.2f} s"
        )
    if missed:
        print("\nmissed files (first 30):")
        for p, why in missed[:30]:
            print(f"- {Path(p).relative_to(shared_dir(args.shared))}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
