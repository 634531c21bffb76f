"""Benchmark emovox.features against the tutorials' librosa code on real RAVDESS files.

Times, in one process and on the same N files:

1. the tutorial recipe with librosa (mean MFCC40 + chroma_stft on |STFT| + mel128 = 180 values) versus
   ``FeatureExtractor("tutorial")``, audio decoded beforehand (feature computation only);
2. the same including decoding (``emovox.load_audio`` for both);
3. the richer ``"emovox"`` preset (and YIN pitch alone).

and prints the speed ratio and the agreement of the 180-dim vectors (correlation, per-family errors).

Usage::

    python benchmarks/bench_features.py [-n 200] [--threads 1] [--shared PATH]

``--threads`` caps BLAS threads for both sides (threadpoolctl); 0 leaves the libraries' defaults.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def shared_dir(cli: str | None) -> Path:
    if cli:
        return Path(cli)
    if os.environ.get("EMOVOX_SHARED"):
        return Path(os.environ["EMOVOX_SHARED"])
    return (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()


def tutorial_librosa(X: np.ndarray, sample_rate: int) -> np.ndarray:
    """The feature code of the common SER tutorials (librosa defaults)."""
    import librosa

    mfccs = np.mean(librosa.feature.mfcc(y=X, sr=sample_rate, n_mfcc=40).T, axis=0)
    stft = np.abs(librosa.stft(X))
    chroma = np.mean(librosa.feature.chroma_stft(S=stft, sr=sample_rate).T, axis=0)
    mel = np.mean(librosa.feature.melspectrogram(y=X, sr=sample_rate).T, axis=0)
    return np.hstack([mfccs, chroma, mel])


def timed(fn, items, repeat: int = 1) -> tuple[float, list]:
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = [fn(x) for x in items]
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="number of RAVDESS files (default 200)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for both sides; 0 = library default (default: %(default)s)",
    )
    ap.add_argument(
        "--repeat", type=int, default=2, help="best of this many timed passes (default: %(default)s)"
    )
    ap.add_argument("--shared", default=None, help="path of shared/ (default: $EMOVOX_SHARED or ../shared)")
    args = ap.parse_args(argv)

    import librosa

    import emovox
    from emovox.features import FeatureExtractor, yin

    root = shared_dir(args.shared) / "corpora" / "ravdess"
    files = sorted(root.glob("Actor_*/*.flac"))
    if not files:
        print(f"no RAVDESS files under {root}", file=sys.stderr)
        return 1
    step = max(1, len(files) // args.n)
    files = files[::step][: args.n]
    sr = 16000

    limiter = None
    if args.threads > 0:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=args.threads)

    audio = [emovox.load_audio(f, sr=sr) for f in files]
    dur = sum(a.size for a in audio) / sr
    tut = FeatureExtractor("tutorial")
    rich = FeatureExtractor("emovox")
    # warm-up: numba JIT / caches on the librosa side, filterbanks on ours
    for a in audio[:3]:
        tutorial_librosa(a, sr)
        tut.process_signal(a, sr)
        rich.process_signal(a, sr)

    print(
        f"librosa {librosa.__version__}, numpy {np.__version__}; {len(files)} RAVDESS files, "
        f"{dur:.0f} s of audio (mean {dur / len(files):.2f} s), BLAS threads: {args.threads or 'default'}"
    )

    t_lib, ref = timed(lambda a: tutorial_librosa(a, sr), audio, args.repeat)
    t_emo, ours = timed(lambda a: tut.process_signal(a, sr), audio, args.repeat)
    ref, ours = np.asarray(ref), np.asarray(ours)
    n = len(files)
    print("\n[1] tutorial features, audio pre-loaded (feature computation only)")
    print(f"    librosa tutorial code : {t_lib / n * 1e3:7.2f} ms/file")
    print(f"    emovox 'tutorial'     : {t_emo / n * 1e3:7.2f} ms/file")
    print(f"    speed ratio           : {t_lib / t_emo:7.1f}x")

    corr = np.corrcoef(ref.ravel(), ours.ravel())[0, 1]
    per_file = [np.corrcoef(r, o)[0, 1] for r, o in zip(ref, ours, strict=True)]
    print("\n    agreement (emovox vs librosa, 180-dim vectors)")
    print(f"    correlation, all values      : {corr:.8f}   per-file min: {min(per_file):.8f}")
    for name, sl in (("mfcc", slice(0, 40)), ("chroma", slice(40, 52)), ("mel", slice(52, 180))):
        d = np.abs(ref[:, sl] - ours[:, sl])
        rel = d / np.maximum(np.abs(ref[:, sl]), 1e-12)
        print(f"    {name:6s} max |diff| {d.max():.3g}   max rel diff {rel.max():.3g}")
    flipped = int((np.abs(ref[:, 40:52] - ours[:, 40:52]).max(axis=1) > 1e-3).sum())
    print(
        f"    files whose chroma differs by > 1e-3: {flipped}/{n} (librosa's tuning estimate is a histogram "
        "argmax; float32-level STFT differences can move it by a cent-bin)"
    )
    z_ref = (ref - ref.mean(0)) / (ref.std(0) + 1e-12)
    z_our = (ours - ref.mean(0)) / (ref.std(0) + 1e-12)
    print(f"    max diff in corpus-standardised units: {np.abs(z_ref - z_our).max():.3g}")

    def lib_file(f):
        return tutorial_librosa(emovox.load_audio(f, sr=sr), sr)

    t_lib_d, _ = timed(lib_file, files, 1)
    t_emo_d, _ = timed(tut.process_file, files, 1)
    print("\n[2] including decoding (emovox.load_audio for both)")
    print(f"    librosa tutorial code : {t_lib_d / n * 1e3:7.2f} ms/file")
    print(f"    emovox 'tutorial'     : {t_emo_d / n * 1e3:7.2f} ms/file")
    print(f"    speed ratio           : {t_lib_d / t_emo_d:7.1f}x")

    t_rich, _ = timed(lambda a: rich.process_signal(a, sr), audio, args.repeat)
    t_f0, _ = timed(lambda a: yin(a, sr=sr, hop_length=256), audio, args.repeat)
    print(
        f"\n[3] emovox 'emovox' preset ({rich.n_features} values): {t_rich / n * 1e3:.2f} ms/file "
        f"({t_lib / t_rich:.1f}x faster than the librosa tutorial code)"
    )
    print(
        f"    of which YIN pitch alone: {t_f0 / n * 1e3:.2f} ms/file "
        f"({t_f0 / dur * 3e3:.2f} ms per 3 s of audio)"
    )
    if limiter is not None:
        limiter.restore_original_limits()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
