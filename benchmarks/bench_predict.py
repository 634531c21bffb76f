"""Start-up and warm latency of prediction.

    python benchmarks/bench_predict.py [--runs 7]

- wall time of a fresh ``emovox predict one.wav`` process for each bundled model, beside a bare
  ``python -c pass`` and ``python -c "import numpy, onnxruntime"`` started in the same run;
- warm prediction time of a 3 s clip (decode + front end + model) in one process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def fresh(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    from emovox.corpora import shared_dir
    from emovox.inference import bundled_models, load_model

    clip = shared_dir() / "corpora/ravdess/Actor_01/03-01-05-01-01-01-01.flac"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "one.wav"
        y, sr = sf.read(clip)
        sf.write(wav, y[: 3 * sr], sr)
        print(f"| what | median wall (s), {args.runs} runs |\n|---|---|")
        print(f"| `python -c pass` | {fresh([sys.executable, '-c', 'pass'], args.runs):.3f} |")
        print(f"| `python -c 'import numpy, onnxruntime'` | "
              f"{fresh([sys.executable, '-c', 'import numpy, onnxruntime'], args.runs):.3f} |")
        for name in bundled_models():
            cmd = [sys.executable, "-m", "emovox.cli", "predict", str(wav), "--model", name]
            print(f"| `emovox predict one.wav --model {name}` (fresh process) | {fresh(cmd, args.runs):.3f} |")
        print("\n| model | warm prediction of a 3 s clip (ms, median of 20) |\n|---|---|")
        for name in bundled_models():
            model = load_model(name)
            model.predict_proba(str(wav))
            times = []
            for _ in range(20):
                t = time.perf_counter()
                p = model.predict_proba(str(wav))
                times.append(1000 * (time.perf_counter() - t))
            assert np.isclose(p.sum(), 1.0)
            print(f"| {name} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
