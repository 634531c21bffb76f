"""Benchmark the ONNX Whisper encoder (float32 and int8) on a CPU.

Measures, warm (session built, a few runs done):
- time per 3 s clip, front end (numpy log-mel) included, and the front end alone; also the CPU time of
  a 1-thread session, which other load on the machine barely changes;
- the same clip zero-padded to 30 s (what openai-whisper would run), for comparison;
- the int8 vs float32 hidden-state difference per layer on real clips;
- load + encode time per RAVDESS file on a sample, extrapolated to the 1440 files.

Exports whisper-base to ONNX first when the files are missing (that step needs torch; the timed part
does not import it).

Usage::

    python benchmarks/bench_encoder.py [--encoder DIR_OR_HUB_ID] [--out-dir DIR] [--files 40] [--threads N]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import emovox
from emovox.encoders import WhisperEncoderONNX, log_mel_spectrogram, pool_mean_std

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMOVOX_SHARED", ROOT.parent / "shared"))


def _timeit(
    fn: Callable[[], object], reps: int = 7, inner: int = 10, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    """(min, median) milliseconds per call over ``reps`` batches of ``inner`` calls, after a warm-up."""
    for _ in range(3):
        fn()
    per_call = []
    for _ in range(reps):
        t = clock()
        for _ in range(inner):
            fn()
        per_call.append((clock() - t) / inner * 1000)
    return min(per_call), statistics.median(per_call)


def _cos(u: np.ndarray, v: np.ndarray) -> float:
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def _ensure_onnx(encoder: str, out_dir: Path) -> tuple[Path, Path]:
    fp32, int8 = out_dir / "encoder.onnx", out_dir / "encoder.int8.onnx"
    if not fp32.is_file() or not int8.is_file():
        from emovox.encoders import export_encoder_onnx  # needs torch

        t = time.perf_counter()
        export_encoder_onnx(encoder, fp32, quantize=True)
        print(f"exported {encoder} -> {fp32.name}, {int8.name} in {time.perf_counter() - t:.1f} s")
    return fp32, int8


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--encoder",
        default=str(SHARED / "encoders" / "whisper-base"),
        help="Whisper encoder (directory or hub id) exported to ONNX when --out-dir lacks the files "
        "(default: %(default)s)",
    )
    ap.add_argument(
        "--out-dir",
        type=Path,
        default=ROOT / ".cache" / "bench_encoder",
        help="where encoder.onnx and encoder.int8.onnx are read, or written by the export (default: %(default)s)",
    )
    ap.add_argument(
        "--corpus",
        type=Path,
        default=SHARED / "corpora" / "ravdess",
        help="RAVDESS folder (Actor_*/*.flac) the clips come from (default: %(default)s)",
    )
    ap.add_argument(
        "--files",
        type=int,
        default=40,
        help="RAVDESS files timed for the extrapolation (default: %(default)s)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="onnxruntime intra-op threads of the timed sessions (default: emovox's, $EMOVOX_THREADS else up to 4)",
    )
    args = ap.parse_args(argv)

    fp32_path, int8_path = _ensure_onnx(args.encoder, args.out_dir)
    files = sorted(glob.glob(str(args.corpus / "Actor_*" / "*.flac")))
    if not files:
        print(f"no RAVDESS files under {args.corpus}", file=sys.stderr)
        return 1
    print(f"cpu cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} (other work skews timings)")
    for p in (fp32_path, int8_path):
        print(f"{p.name}: {p.stat().st_size / 1e6:.1f} MB")
    encs = {
        "fp32": WhisperEncoderONNX(fp32_path, threads=args.threads),
        "int8": WhisperEncoderONNX(int8_path, threads=args.threads),
    }
    print(f"intra-op threads {encs['fp32'].session.get_session_options().intra_op_num_threads}")

    clip = emovox.load_audio(files[0])
    clip = np.pad(clip, (0, max(0, 48000 - len(clip))))[:48000]  # exactly 3 s
    lo, med = _timeit(lambda: log_mel_spectrogram(clip), inner=50)
    print(f"\nfront end (log-mel) 3 s clip: min {lo:.2f} ms, median {med:.2f} ms")
    for name, enc in encs.items():
        lo, med = _timeit(lambda enc=enc: enc.hidden_states(clip))
        print(f"{name} 3 s clip, front end included: min {lo:.1f} ms, median {med:.1f} ms")
    # CPU time of a 1-thread session: a figure that other processes on the machine barely move.
    for name, path in (("fp32", fp32_path), ("int8", int8_path)):
        single = WhisperEncoderONNX(path, threads=1)
        lo, med = _timeit(lambda single=single: single.hidden_states(clip), clock=time.process_time)
        print(f"{name} 3 s clip, 1 thread, CPU time: min {lo:.1f} ms, median {med:.1f} ms")
    for name, enc in encs.items():
        padded = log_mel_spectrogram(clip, pad_to_30s=True)
        lo, med = _timeit(lambda enc=enc, padded=padded: enc.hidden_states_from_mel(padded), reps=3, inner=2)
        print(f"{name} same clip zero-padded to 30 s (encoder only): min {lo:.0f} ms, median {med:.0f} ms")

    rng = np.random.default_rng(0)
    sample = [
        files[i] for i in sorted(rng.choice(len(files), size=min(args.files, len(files)), replace=False))
    ]
    print(
        f"\nint8 vs fp32 on {len(sample)} RAVDESS files (per state: max|diff| / max|fp32|, "
        "cosine of mean+std pooled vectors, mean per-frame cosine)"
    )
    pairs = [
        (encs["fp32"].hidden_states(y), encs["int8"].hidden_states(y))
        for y in (emovox.load_audio(f) for f in sample)
    ]
    for layer in range(pairs[0][0].shape[0]):
        rel, pooled, frame = [], [], []
        for a, b in ((a[layer], b[layer]) for a, b in pairs):
            rel.append(np.abs(a - b).max() / np.abs(a).max())
            pooled.append(_cos(pool_mean_std(a), pool_mean_std(b)))
            frame.append(np.mean(np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)))
        print(
            f"  state {layer}: rel max diff {np.mean(rel):.4f}, pooled cos {np.mean(pooled):.5f} "
            f"(min {min(pooled):.5f}), frame cos {np.mean(frame):.5f}"
        )

    print(f"\nload + encode per file ({len(sample)} files sampled), extrapolated to {len(files)} files:")
    seconds = sum(len(emovox.load_audio(f)) for f in sample) / 16000 / len(sample)
    for name, enc in encs.items():
        t = time.perf_counter()
        for f in sample:
            enc.hidden_states(emovox.load_audio(f))
        per_file = (time.perf_counter() - t) / len(sample)
        print(
            f"  {name}: {per_file * 1000:.0f} ms per file (mean {seconds:.2f} s of audio), "
            f"{per_file * len(files):.0f} s for {len(files)} files"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
