"""Hardening figures (issue 18): peak memory for one hour of audio, and the server under three bombs.

    python benchmarks/bench_hardening.py [--minutes 60] [--out DIR]

Writes one hour of audio as a 16 kHz FLAC (EMOVO speech files from ../shared, then low-level noise),
block by block, and records the peak resident memory (``ru_maxrss`` of the child) of:
``emovox predict`` (default and classical models; the default adapted to the channel, as a batch), ``emovox features``, ``emovox convert``, a batch job
(engine local: the partition runs in the child process itself), and ``emovox serve`` answering
``POST /v1/predict`` with the hour (started with ``--max-seconds 3700``). Then it starts a server with its
defaults and posts three bombs at once (a 50 KB WAV whose header says 8 Hz, a FLAC of one hour of
silence, a FLAC whose STREAMINFO claims 2^36 samples), and records each answer, the time to answer, and
the server's RSS and CPU seconds before and after. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SR = 16000
PY = sys.executable


def long_flac(path: Path, seconds: float, silence: bool = False) -> Path:
    from emovox.audio import load_audio
    from emovox.corpora import shared_dir

    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", SR, 1, format="FLAC", subtype="PCM_16") as f:
        written = 0
        if not silence:
            for p in sorted((shared_dir() / "corpora" / "emovo").rglob("*.flac"))[:8]:
                y = load_audio(p, SR)
                f.write(y)
                written += y.size
        while written < seconds * SR:
            n = min(SR * 30, int(seconds * SR) - written)
            f.write(
                np.zeros(n, np.float32) if silence else (rng.standard_normal(n) * 0.003).astype(np.float32)
            )
            written += n
    return path


def peak_of(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS MB, wall s) of a child command."""
    code = (
        "import resource,subprocess,sys,time;t=time.time();"
        "subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, time.time()-t)"
    )
    out = subprocess.run([PY, "-c", code, *cmd], capture_output=True, text=True, check=True)
    mb, wall = out.stdout.split()[-2:]
    return float(mb), float(wall)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [PY, "-m", "emovox.cli", "serve", "--port", str(port), "--log-level", "warning", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def proc_stats(pid: int) -> tuple[float, float, float]:
    """(RSS MB, peak RSS MB, CPU s) of a process from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]) / 1024
    hwm = int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / 100.0
    return rss, hwm, cpu


def post(port: int, data: bytes, ctype: str, timeout: float = 600) -> tuple[int, str, float]:
    t = time.perf_counter()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/predict", data=data, headers={"Content-Type": ctype}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()[:100], time.perf_counter() - t
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()[:160], time.perf_counter() - t


def bombs(tmp: Path) -> dict[str, bytes]:
    pcm = (np.random.default_rng(0).standard_normal(25000) * 3000).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 8, 16, 2, 16)
    wav8 = (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )
    silence = long_flac(tmp / "silence.flac", 3600, silence=True).read_bytes()
    buf = io.BytesIO()
    sf.write(buf, np.zeros(SR, np.float32), SR, format="FLAC")
    b = bytearray(buf.getvalue())
    word = struct.unpack(">Q", bytes(b[18:26]))[0]
    b[18:26] = struct.pack(">Q", (word & ~((1 << 36) - 1)) | ((1 << 36) - 1))
    return {"8 Hz WAV": wav8, "1 h silence FLAC": silence, "2^36-sample FLAC": bytes(b)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--minutes",
        type=float,
        default=60.0,
        help="length of the long test recording, minutes (default: %(default)s)",
    )
    ap.add_argument(
        "--out",
        default=None,
        help="folder for the test recording, the bombs and the outputs, created if missing and not removed "
        "(default: a new emovox-hardening-* temporary folder)",
    )
    a = ap.parse_args()
    tmp = Path(a.out or tempfile.mkdtemp(prefix="emovox-hardening-"))
    tmp.mkdir(parents=True, exist_ok=True)
    hour = long_flac(tmp / "hour.flac", a.minutes * 60)
    print(f"# {a.minutes:g} min of audio: {hour.stat().st_size / 1e6:.1f} MB FLAC", flush=True)
    rows = []
    for label, cmd in [
        ("predict (default)", [PY, "-m", "emovox.cli", "predict", str(hour)]),
        (
            "predict --same-channel (default)",
            [PY, "-m", "emovox.cli", "predict", "--same-channel", str(hour)],
        ),
        ("predict --model classical", [PY, "-m", "emovox.cli", "predict", "--model", "classical", str(hour)]),
        (
            "features (emovox preset: FeatureExtractor.process_file, as `emovox features` runs it)",
            [
                PY,
                "-c",
                "import sys; from emovox.features import FeatureExtractor; "
                "print(FeatureExtractor('emovox').process_file(sys.argv[1]).shape)",
                str(hour),
            ],
        ),
        (
            "convert to 8 kHz WAV",
            [PY, "-m", "emovox.cli", "convert", str(hour), str(tmp / "hour8k.wav"), "--rate", "8000"],
        ),
        (
            "batch predict, engine local (the process that runs the partition)",
            [
                PY,
                "-c",
                "import sys; from emovox import batch; "
                "batch.predict([sys.argv[1]], engine='local', output_dir=sys.argv[2], progress=False, overwrite=True)",
                str(hour),
                str(tmp / "batch"),
            ],
        ),
    ]:
        mb, wall = peak_of(cmd)
        rows.append((label, mb, wall))
        print(f"| {label} | {mb:.0f} | {wall:.0f} |", flush=True)
    proc, port = start_server(
        "--max-seconds", str(a.minutes * 60 + 100), "--timeout", "900", "--max-upload-mb", "200"
    )
    try:
        code, body, wall = post(port, hour.read_bytes(), "audio/flac")
        _, hwm, _ = proc_stats(proc.pid)
        rows.append((f"API POST /v1/predict (answer {code})", hwm, wall))
        print(f"| API ({code}) | {hwm:.0f} | {wall:.0f} |", body[:80], flush=True)
    finally:
        proc.terminate()
        proc.wait()
    print("\n| path | peak RSS MB | wall s |\n|---|---|---|")
    for label, mb, wall in rows:
        print(f"| {label} | {mb:.0f} | {wall:.0f} |")

    proc, port = start_server()  # defaults: --max-seconds 600, --timeout 30
    try:
        rss0, _, cpu0 = proc_stats(proc.pid)
        results: dict[str, tuple] = {}
        threads = [
            threading.Thread(
                target=lambda k=k, d=d: results.__setitem__(
                    k, post(port, d, "audio/wav" if k.endswith("WAV") else "audio/flac")
                )
            )
            for k, d in bombs(tmp).items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(2)
        rss1, hwm, cpu1 = proc_stats(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"\nthree bombs at once: server RSS {rss0:.0f} MB before, {rss1:.0f} MB after, peak {hwm:.0f} MB; "
        f"CPU {cpu1 - cpu0:.2f} s\n\n| bomb | status | answered in s | body |\n|---|---|---|---|"
    )
    for k, (code, body, wall) in results.items():
        print(f"| {k} | {code} | {wall:.2f} | `{body[:90]}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
