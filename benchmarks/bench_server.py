"""``emovox serve`` under load: concurrent clients posting 3-second clips to ``/v1/predict``.

    python benchmarks/bench_server.py [--clients 16] [--seconds 30] [--model DIR]

Starts the real server (``python -m emovox.cli serve``) in a subprocess on a free local port, warms it up,
then runs ``--clients`` threads that each post RAVDESS clips cut or padded to 3 s (16-bit WAV) back to back
for ``--seconds``. Prints requests per second, p50 / p99 latency, the error count, and the server's resident
memory after warm-up and at the end (a leak shows as growth beyond ``--rss-margin-mb``). Exits non-zero on
any error or when memory grew beyond the margin.

Without ``--model`` it serves the bundled ``default`` (else ``classical``) model, or when there is none a small
logistic regression on the tutorial features of RAVDESS actors 1-6 (trained once into
``$EMOVOX_CACHE/bench-server-model``).
"""

from __future__ import annotations

import argparse
import io
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import corpus, machine, md_table  # noqa: E402

CLIP_SECONDS = 3.0
SR = 16000


def default_model() -> str:
    from emovox.inference import bundled_models
    from emovox.training import default_cache_dir

    for name in ("default", "classical"):
        if name in bundled_models():
            return name
    out = default_cache_dir() / "bench-server-model"
    if not (out / "metadata.json").is_file():
        from emovox.labels import apply_labels
        from emovox.training import handcrafted_features, train_classical

        df = apply_labels(corpus("ravdess", audio_info=False), emotions="four")
        df = df[df["actor"] <= 6].reset_index(drop=True)
        train_classical(handcrafted_features(df, "tutorial", progress=False, n_jobs=2), out, "logreg")
    return str(out)


def clips(n: int = 32) -> list[bytes]:
    """``n`` RAVDESS utterances cut or zero-padded to exactly 3 s, as 16-bit mono WAV bytes."""
    import soundfile as sf

    from emovox import load_audio

    paths = corpus("ravdess", audio_info=False)["path"].iloc[:: 1440 // n][:n]
    out = []
    for p in paths:
        y = load_audio(p, SR)[: int(CLIP_SECONDS * SR)]
        y = np.pad(y, (0, int(CLIP_SECONDS * SR) - y.size))
        buf = io.BytesIO()
        sf.write(buf, y, SR, format="WAV", subtype="PCM_16")
        out.append(buf.getvalue())
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, port: int, workers: int | None) -> subprocess.Popen:
    import httpx

    cmd = [
        sys.executable,
        "-m",
        "emovox.cli",
        "serve",
        "--port",
        str(port),
        "--model",
        model,
        "--log-level",
        "warning",
    ] + (["--workers", str(workers)] if workers else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("server did not start within 120 s")


def load(url: str, data: list[bytes], clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    """Run ``clients`` threads posting clips back to back for ``seconds``; latencies (s) and errors."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            i = k
            while time.monotonic() < stop:
                body = data[i % len(data)]
                i += clients
                t = time.perf_counter()
                try:
                    r = c.post("/v1/predict", content=body, headers={"content-type": "audio/wav"})
                    ok = r.status_code == 200 and "emotion" in r.json()
                    msg = "" if ok else f"{r.status_code}: {r.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, msg = False, f"{type(exc).__name__}: {exc}"
                dt = time.perf_counter() - t
                with lock:
                    (latencies.append(dt) if ok else errors.append(msg))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--clients",
        type=int,
        default=16,
        help="concurrent client threads posting clips (default: %(default)s)",
    )
    ap.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help="length of the measured load, after warm-up (default: %(default)s)",
    )
    ap.add_argument(
        "--model",
        default=None,
        help="model directory or bundled name (default: bundled default, else classical, else a logistic "
        "regression trained once into $EMOVOX_CACHE/bench-server-model)",
    )
    ap.add_argument("--workers", type=int, default=None, help="server inference threads (default: its own)")
    ap.add_argument(
        "--rss-margin-mb",
        type=float,
        default=32.0,
        help="allowed RSS growth during the run, MiB; more exits non-zero (default: %(default)s)",
    )
    args = ap.parse_args()

    model = args.model or default_model()
    data = clips()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(model, port, args.workers)
    try:
        rss_start = rss_mb(proc.pid)
        load(url, data, args.clients, 3.0)  # warm-up: threads, allocator pools, caches
        rss_before = rss_mb(proc.pid)
        latencies, errors, wall = load(url, data, args.clients, args.seconds)
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)

    lat = np.array(latencies) * 1000
    growth = rss_after - rss_before
    row = {
        "clients": args.clients,
        "seconds": f"{wall:.1f}",
        "requests": len(latencies),
        "req/s": f"{len(latencies) / wall:.1f}",
        "audio s/s": f"{CLIP_SECONDS * len(latencies) / wall:.0f}",
        "p50 ms": f"{np.percentile(lat, 50):.0f}" if lat.size else "-",
        "p99 ms": f"{np.percentile(lat, 99):.0f}" if lat.size else "-",
        "errors": len(errors),
        "RSS MiB (start / warm / end)": f"{rss_start:.0f} / {rss_before:.0f} / {rss_after:.0f}",
    }
    print(f"machine: {machine()}; model: {Path(model).name}; clips: {CLIP_SECONDS:g} s 16-bit WAV\n")
    print(md_table([row], list(row)))
    for e in errors[:5]:
        print(f"error: {e}", file=sys.stderr)
    ok = not errors and growth <= args.rss_margin_mb
    print(
        f"\nRSS growth during the run: {growth:+.1f} MiB (margin {args.rss_margin_mb:g} MiB); "
        f"{'OK' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
