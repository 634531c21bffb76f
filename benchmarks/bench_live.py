"""Live path and long recordings: real-time factor, segment-end-to-result latency, peak memory.

    python benchmarks/bench_live.py [--model DIR] [--hours 1.0] [--latency-seconds 60]

Builds its recordings from RAVDESS utterances separated by 0.5-2.5 s pauses (written to /tmp), and uses
the bundled model, ``--model``, or else a logistic regression on tutorial features trained here on two
RAVDESS actors. Prints a markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import corpus, machine, md_table  # noqa: E402

from emovox import load_audio  # noqa: E402
from emovox.errors import ModelError  # noqa: E402
from emovox.inference import bundled_models, load_model  # noqa: E402
from emovox.live import FileSource, listen  # noqa: E402

SR = 16000
TMP = Path(tempfile.gettempdir()) / "emovox-bench-live"


def get_model(arg: str | None):
    if arg:
        model = load_model(arg)
        return model, f"{arg} ({model.metadata['frontend'].get('config', {}).get('name', '?')} features)"
    if bundled_models():
        try:
            return load_model(), "bundled default"
        except ModelError:  # bundled models, but no default among them
            pass
    from emovox.labels import apply_labels
    from emovox.training import handcrafted_features, train_classical

    df = apply_labels(corpus("ravdess"), emotions="four")
    df = df[df["actor"] <= 2].reset_index(drop=True)
    table = handcrafted_features(df, "tutorial", progress=False, n_jobs=2, cache_dir=TMP / "cache")
    return load_model(
        train_classical(table, TMP / "model", "logreg")
    ), "tutorial features + logreg (2 actors)"


def make_recording(path: Path, seconds: float, seed: int = 0) -> tuple[float, int]:
    """Write RAVDESS utterances with random pauses until ``seconds``; returns (duration, utterances)."""
    rng = np.random.default_rng(seed)
    files = sorted(corpus("ravdess")["path"])
    clips = [load_audio(f) for f in rng.choice(files, size=min(120, len(files)), replace=False)]
    n, total = 0, 0
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
        while total < seconds * SR:  # written piece by piece: the generator itself stays small
            pause = (3e-4 * rng.standard_normal(int(rng.uniform(0.5, 2.5) * SR))).astype(np.float32)
            clip = clips[rng.integers(len(clips))]
            f.write(pause)
            f.write(clip)
            total += pause.size + clip.size
            n += 1
    return total / SR, n


def bench_rtf(model, path: Path, duration: float) -> dict:
    t, c = time.perf_counter(), time.process_time()
    segs = listen(FileSource(path, model.sample_rate), model)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {
        "what": f"live path as fast as possible ({duration / 60:.0f} min file)",
        "segments": len(segs),
        "result": f"RTF {wall / duration:.4f} (CPU {cpu / duration:.4f})",
    }


def bench_latency(model, path: Path, duration: float) -> list[dict]:
    lat: list[float] = []
    t, c = time.perf_counter(), time.process_time()
    segs = listen(
        FileSource(path, model.sample_rate, realtime=True, block_seconds=0.03),
        model,
        on_segment=lambda s, x: lat.append(x),
    )
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    ms = 1000 * np.array([x for x in lat if x is not None])
    pad = 1000 * 0.2  # default padding: the segment ends this long after the last voiced frame
    return [
        {
            "what": f"live path, file played in real time ({duration:.0f} s, 30 ms blocks)",
            "segments": len(segs),
            "result": f"RTF (CPU time / audio time) {cpu / duration:.4f}; wall {wall / duration:.3f} x real time",
        },
        {
            "what": "segment end -> emotion printed",
            "segments": len(ms),
            "result": f"median {np.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms",
        },
        {
            "what": "last voiced frame -> emotion printed",
            "segments": len(ms),
            "result": f"median {np.median(ms) + pad:.0f} ms, p95 {np.percentile(ms, 95) + pad:.0f} ms, "
            f"max {ms.max() + pad:.0f} ms",
        },
    ]


def bench_memory(model_path: str, path: Path, duration: float) -> dict:
    out = TMP / "long_timeline.csv"
    # The child reports its own VmHWM: Linux's ru_maxrss (self or children) carries over the size of
    # this much larger process from the fork before exec.
    code = (
        "import sys; from emovox.cli import main; rc = main(sys.argv[1:]); "
        "print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0], "
        "file=sys.stderr); sys.exit(rc)"
    )
    cmd = [
        sys.executable,
        "-c",
        code,
        "predict",
        str(path),
        "--timeline",
        "--model",
        model_path,
        "-o",
        str(out),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    peak = int(proc.stderr.strip().splitlines()[-1]) / 1024  # kB
    rows = sum(1 for _ in open(out)) - 1
    return {
        "what": f"`emovox predict --timeline` on a {duration / 3600:.2f} h file (subprocess)",
        "segments": rows,
        "result": f"peak RSS {peak:.0f} MB, {wall:.0f} s (RTF {wall / duration:.4f})",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model",
        help="model directory or bundled name (default: the bundled default, else a logistic regression on "
        "tutorial features trained here on two RAVDESS actors)",
    )
    ap.add_argument(
        "--hours",
        type=float,
        default=1.0,
        help="length of the peak-memory test file, hours (default: %(default)s)",
    )
    ap.add_argument(
        "--rtf-minutes",
        type=float,
        default=10.0,
        help="length of the file run through the live path as fast as possible, minutes (default: %(default)s)",
    )
    ap.add_argument(
        "--latency-seconds",
        type=float,
        default=60.0,
        help="length of the file played in real time for the latency figures, seconds (default: %(default)s)",
    )
    args = ap.parse_args()
    TMP.mkdir(parents=True, exist_ok=True)
    model, model_name = get_model(args.model)
    print(f"machine: {machine()}\nmodel: {model_name} ({', '.join(model.labels)})\n", file=sys.stderr)
    results = []
    short = TMP / "latency.wav"
    d_short, _ = make_recording(short, args.latency_seconds, seed=1)
    results += bench_latency(model, short, d_short)
    mid = TMP / "rtf.wav"
    d_mid, _ = make_recording(mid, args.rtf_minutes * 60, seed=2)
    results.append(bench_rtf(model, mid, d_mid))
    long = TMP / "long.wav"
    d_long, _ = make_recording(long, args.hours * 3600, seed=3)
    results.append(bench_memory(str(model.path), long, d_long))
    print(f"Machine: {machine()}; model: {model_name}.\n")
    print(md_table(results, ["what", "segments", "result"]))


if __name__ == "__main__":
    main()
