"""Start-up and warm latency of prediction.

    python benchmarks/bench_predict.py [--runs 7]

- wall time of a fresh ``emovox predict one.wav`` process for each bundled model, beside a bare
  ``python -c pass`` and ``python -c "import numpy, onnxruntime"`` started in the same run;
- warm prediction time of a 3 s clip (decode + speech check + front end + model) in one process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf


def fresh(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--runs",
        type=int,
        default=7,
        help="fresh processes started per command; the median wall time is reported (default: %(default)s)",
    )
    args = ap.parse_args()
    from emovox.corpora import shared_dir
    from emovox.inference import bundled_models

    clip = shared_dir() / "corpora/ravdess/Actor_01/03-01-05-01-01-01-01.flac"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "one.wav"
        y, sr = sf.read(clip)
        sf.write(wav, y[: 3 * sr], sr)
        print(f"| what | median wall (s), {args.runs} runs |\n|---|---|")
        print(f"| `python -c pass` | {fresh([sys.executable, '-c', 'pass'], args.runs):.3f} |")
        print(
            f"| `python -c 'import numpy, onnxruntime'` | "
            f"{fresh([sys.executable, '-c', 'import numpy, onnxruntime'], args.runs):.3f} |"
        )
        for name in bundled_models():
            cmd = [sys.executable, "-m", "emovox.cli", "predict", str(wav), "--model", name]
            print(
                f"| `emovox predict one.wav --model {name}` (fresh process) | {fresh(cmd, args.runs):.3f} |"
            )
        print("\n| model | warm prediction of a 3 s clip from its file (ms, median of 20) |\n|---|---|")
        for name in bundled_models():
            # each model in its own process: BLAS threads left spinning by one model slow the next one down
            proc = subprocess.run(
                [sys.executable, "-c", WARM, name, str(wav)], check=True, capture_output=True, text=True
            )
            print(f"| {name} | {float(proc.stdout):.1f} |")


WARM = """
import statistics, sys, time
import numpy as np
from emovox.inference import load_model
model = load_model(sys.argv[1])
model.predict(sys.argv[2])
times = []
for _ in range(20):
    t = time.perf_counter()
    (pred,) = model.predict_files([sys.argv[2]])  # what `emovox predict` does: decode, speech check, model
    times.append(1000 * (time.perf_counter() - t))
assert pred.speech and np.isclose(sum(pred.probabilities.values()), 1.0)
print(statistics.median(times))
"""

if __name__ == "__main__":
    main()
