"""Batch prediction on a Dask LocalCluster against the single-process path, on the same files.

    python benchmarks/bench_batch.py [--corpus ravdess] [--limit N] [--workers 2] [--batch-size 64] [--model DIR]

- single process: ``EmotionModel.predict_files`` over every file, in this process;
- ``emovox.batch.predict(engine="dask")``: LocalCluster of ``--workers`` processes (1 thread each), started
  and stopped by the call, results written as Parquet; wall time with and without the engine's start-up;
- resume: the same job again after deleting half of its partitions;
- the engine's fixed cost: LocalCluster start + stop with no work, and start + every worker loading the model.

The model is ``--model``, else the bundled ``classical`` model, else a logistic regression on the
``--features`` set trained here on one RAVDESS actor (the throughput is that of the front end).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import corpus, machine, md_table


def tiny_model(features: str, out: Path) -> Path:
    from emovox.labels import apply_labels
    from emovox.training import handcrafted_features, train_classical

    df = apply_labels(corpus("ravdess"), emotions="four")
    df = df[df["actor"] == 1].reset_index(drop=True)
    table = handcrafted_features(df, features, cache_dir=out / "cache", progress=False, n_jobs=1)
    return train_classical(table, out / "model", "logreg")


def engine_cost(workers: int, model: Path, runs: int) -> tuple[float, float]:
    """Median seconds of LocalCluster start + stop, and of start + model load on every worker + stop."""
    from emovox.batch import dask_client
    from emovox.batch.worker import warm

    bare, loaded = [], []
    for _ in range(runs):
        t = time.perf_counter()
        with dask_client(n_workers=workers):
            pass
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        with dask_client(n_workers=workers) as client:
            client.run(warm, {"kind": "predict", "model": str(model)})
        loaded.append(time.perf_counter() - t)
    return statistics.median(bare), statistics.median(loaded)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus", default="ravdess", help="shared corpus whose files are predicted (default: %(default)s)"
    )
    ap.add_argument("--limit", type=int, default=None, help="first N files only (default: every file)")
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Dask LocalCluster worker processes, 1 thread each (default: %(default)s)",
    )
    ap.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="files per partition of the Dask job (default: %(default)s)",
    )
    ap.add_argument(
        "--model",
        default=None,
        help="model directory or bundled name (default: the bundled classical model, else a logistic regression "
        "on --features trained here on one RAVDESS actor)",
    )
    ap.add_argument(
        "--features",
        default="emovox",
        help="feature set of the model trained here when there is no --model and no bundled classical model "
        "(default: %(default)s)",
    )
    ap.add_argument(
        "--runs",
        type=int,
        default=2,
        help="repetitions of the engine start-up measurement (default: %(default)s)",
    )
    args = ap.parse_args()

    from emovox import batch
    from emovox.inference import EmotionModel, bundled_models

    tmp = Path(tempfile.mkdtemp(prefix="bench_batch-"))
    try:
        from emovox.inference import resolve_model_path

        if args.model:  # a directory or a bundled model's name
            model = resolve_model_path(args.model)
        elif "classical" in bundled_models():
            model = resolve_model_path("classical")
        else:
            model = tiny_model(args.features, tmp)
        paths = [os.path.abspath(p) for p in corpus(args.corpus)["path"]][: args.limit]
        n = len(paths)
        load0 = os.getloadavg()[0]
        print(f"{machine()}; {n} {args.corpus} files; model {model}; load average {load0:.1f} at start\n")

        rows = []
        t = time.perf_counter()
        m = EmotionModel(model)
        n_ok = sum(p.ok for p in m.predict_files(paths))
        single = time.perf_counter() - t
        rows.append(
            {
                "path": "single process (`EmotionModel.predict_files`)",
                "workers": 1,
                "files": n_ok,
                "wall (s)": f"{single:.1f}",
                "files/s": f"{n / single:.1f}",
                "files/s per core": f"{n / single:.1f}",
            }
        )

        out = tmp / "dask"
        s = batch.predict(
            paths,
            model=model,
            engine="dask",
            output_dir=out,
            n_workers=args.workers,
            batch_size=args.batch_size,
            progress=False,
        )
        rows.append(
            {
                "path": f"dask LocalCluster, whole call (start {s.startup_s:.1f} s included)",
                "workers": s.workers,
                "files": s.n_ok,
                "wall (s)": f"{s.wall_s:.1f}",
                "files/s": f"{n / s.wall_s:.1f}",
                "files/s per core": f"{n / s.wall_s / s.workers:.1f}",
                "speed-up": f"{single / s.wall_s:.2f}x",
            }
        )
        rows.append(
            {
                "path": "dask LocalCluster, compute only (workers warm)",
                "workers": s.workers,
                "files": s.n_ok,
                "wall (s)": f"{s.compute_s:.1f}",
                "files/s": f"{s.files_per_s:.1f}",
                "files/s per core": f"{s.files_per_s / s.workers:.1f}",
                "speed-up": f"{single / s.compute_s:.2f}x",
            }
        )

        parts = sorted(out.glob("part-*.parquet"))
        for p in parts[::2]:
            p.unlink()
        r = batch.predict(
            paths,
            model=model,
            engine="dask",
            output_dir=out,
            n_workers=args.workers,
            batch_size=args.batch_size,
            progress=False,
        )
        rows.append(
            {
                "path": f"dask resume after deleting {len(parts[::2])} of {len(parts)} partitions",
                "workers": r.workers,
                "files": f"{r.n_computed} computed, {r.n_skipped} skipped",
                "wall (s)": f"{r.wall_s:.1f}",
                "files/s": f"{r.files_per_s:.1f}",
                "files/s per core": f"{r.files_per_s / r.workers:.1f}",
                "speed-up": f"{s.wall_s / r.wall_s:.2f}x vs full run",
            }
        )
        print(
            md_table(
                rows, ["path", "workers", "files", "wall (s)", "files/s", "files/s per core", "speed-up"]
            )
        )

        bare, loaded = engine_cost(args.workers, model, args.runs)
        print()
        print(
            md_table(
                [
                    {
                        "what": f"LocalCluster({args.workers} workers) start + stop, no work",
                        "s": f"{bare:.2f}",
                    },
                    {"what": "start + every worker loads the model + stop", "s": f"{loaded:.2f}"},
                ],
                ["what", "s"],
            )
            + f"\n\n(median of {args.runs}; load average {os.getloadavg()[0]:.1f} at end)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
