"""Helpers shared by the server and browser tests (no tests here): a tiny model, audio, a real server.

The model is trained once per test session (a few seconds: RAVDESS actors 1-6, four emotions, the tutorial
features, logistic regression) and cached in a module global so both test modules share it.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .conftest import RAVDESS

_MODEL: dict[str, Path] = {}


def trained_model_dir(base: Path) -> Path:
    """A tiny classical model, trained once per session under ``base``."""
    if "dir" not in _MODEL:
        if not RAVDESS.exists():
            pytest.skip(f"{RAVDESS} not available")
        from emovox.corpora import scan
        from emovox.labels import apply_labels
        from emovox.training import evaluate_recipe, handcrafted_features, train_classical

        df = apply_labels(scan(RAVDESS, "ravdess", audio_info=False)[0], emotions="four")
        df = df[df["actor"] <= 6].reset_index(drop=True)
        table = handcrafted_features(
            df, "tutorial", cache_dir=base / "feature-cache", progress=False, n_jobs=2
        )
        ev = evaluate_recipe(table, "logreg", "kfold:3", progress=False)
        _MODEL["dir"] = train_classical(table, base / "server-model", "logreg", evaluation=ev)
    return _MODEL["dir"]


def ravdess_file(emotion_code: str = "05", actor: int = 1, intensity: str = "02") -> Path:
    """One RAVDESS utterance (05 = angry, strong intensity by default)."""
    found = sorted((RAVDESS / f"Actor_{actor:02d}").glob(f"03-01-{emotion_code}-{intensity}-*"))
    if not found:
        pytest.skip(f"no RAVDESS file for emotion {emotion_code}, actor {actor}")
    return found[0]


def speech_clip(
    seconds: float = 1.5, sr: int = 16000, start: float = 0.5, emotion_code: str = "05"
) -> np.ndarray:
    """``seconds`` of a real RAVDESS utterance from ``start`` s, resampled to ``sr``: speech that passes the
    models' speech check (a synthetic tone does not)."""
    import soxr

    from emovox import load_audio

    y = load_audio(ravdess_file(emotion_code), 16000)[int(start * 16000) :]
    if sr != 16000:
        y = soxr.resample(y, 16000, sr)
    return y[: int(round(seconds * sr))].astype(np.float32)


def wav_bytes(y: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def long_recording(seconds_gap: float = 0.6, n: int = 8, sr: int = 16000) -> np.ndarray:
    """RAVDESS utterances of actor 2 joined with pauses: about 30 s of speech with silences between."""
    from emovox import load_audio

    files = sorted((RAVDESS / "Actor_02").glob("03-01-*"))[::7][:n]
    parts: list[np.ndarray] = []
    for f in files:
        parts += [load_audio(f, sr), np.zeros(int(seconds_gap * sr), dtype=np.float32)]
    return np.concatenate(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a background thread (a real HTTP server);
    ``config``: more of uvicorn's settings."""

    def __init__(self, app, **config):
        import uvicorn

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class ProcessServer:
    """``emovox serve`` in a subprocess on a free port; waits for ``/healthz``."""

    def __init__(self, model_dir: Path, *args: str, file_size_limit: int | None = None):
        self.file_size_limit = file_size_limit  # bytes any file it writes may hold (a full disk, in effect)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [
            sys.executable,
            "-m",
            "emovox.cli",
            "serve",
            "--port",
            str(self.port),
            "--model",
            str(model_dir),
            "--log-level",
            "warning",
            *args,
        ]

    def __enter__(self) -> ProcessServer:
        import httpx

        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=self._limits
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emovox serve exited: {self.proc.stdout.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("emovox serve did not answer /healthz within 60 s")

    def _limits(self) -> None:
        if self.file_size_limit is not None:
            import resource
            import signal

            signal.signal(
                signal.SIGXFSZ, signal.SIG_IGN
            )  # a write past the limit fails (EFBIG), as on a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_size_limit, self.file_size_limit))

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class SlowModel:
    """A model whose every prediction first sleeps ``delay`` seconds (a stand-in for a slow request)."""

    def __init__(self, model, delay: float):
        self._model, self.delay = model, delay

    def __getattr__(self, name):
        return getattr(self._model, name)

    def proba_signal(self, y: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return self._model.proba_signal(y)

    def predict_signal(self, y: np.ndarray, *args, **kwargs):
        # the server predicts through predict_signal (speech check first), which would otherwise reach the
        # wrapped model's own proba_signal and skip the delay
        time.sleep(self.delay)
        return self._model.predict_signal(y, *args, **kwargs)


def _response(sock: socket.socket) -> bytes:
    """One whole response of the test app (its body is ``ok``)."""
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_half_sent_request_heads_are_cut(monkeypatch):
    """Slowloris: a request line and a header line now and then held a connection slot for ever (330 such
    sockets locked everyone out). The head must now be whole within HEADER_SECONDS; a complete request, and
    the next request on the same connection, are untouched."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from emovox.server import connection

    deadline = 2.0
    monkeypatch.setattr(connection, "HEADER_SECONDS", deadline)
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with ThreadServer(app, http=connection.HeaderDeadlineProtocol, timeout_keep_alive=30) as srv:
        opened = time.monotonic()
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        kept = socket.create_connection(("127.0.0.1", srv.port))
        # every wait of the kept connection is half a deadline: it once idled for about a whole one between
        # its two requests, and was (rightly) cut when the machine was busy
        time.sleep(deadline / 2)
        slow.sendall(b"X-Drip: 1\r\n")  # a header line now and then does not buy more time
        kept.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b"200 OK" in _response(kept)
        slow.settimeout(3 * deadline)
        assert slow.recv(4096) == b""  # closed by the server, without a response
        assert time.monotonic() - opened < deadline * 1.5  # the drip did not restart the deadline
        kept.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # the next request on a kept connection
        assert b"200 OK" in _response(kept)
        slow.close()
        kept.close()


def test_idle_connections_of_one_client_cannot_take_every_slot():
    """340 sockets that sent nothing, reopened as they were closed, held every slot of uvicorn's connection
    limit (which counts them), and ``/healthz`` answered a plain-text 503 nine times in ten. A client now
    keeps at most IDLE_PER_CLIENT such connections: a new one closes its oldest. A request that cannot be
    parsed gets a JSON 400 naming the cause, as every other error."""
    import json

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from emovox.server import connection

    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with ThreadServer(app, http=connection.with_idle_limit(4), limit_concurrency=8) as srv:
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(12)]
        time.sleep(0.3)
        for s in idle[:8]:  # the oldest were closed by the server, without a response
            s.settimeout(2.0)
            assert s.recv(4096) == b""
        kept = socket.create_connection(("127.0.0.1", srv.port))
        kept.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b"200 OK" in _response(kept)  # 503 while the idle sockets held the slots
        bad = socket.create_connection(("127.0.0.1", srv.port))
        bad.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n")
        bad.settimeout(5.0)
        answer = b""
        while chunk := bad.recv(4096):  # the server closes the connection after its answer
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert b"400" in head.split(b"\r\n")[0] and b"application/json" in head
        assert json.loads(body) == {
            "status": 400,
            "code": "bad_request",
            "error": "malformed HTTP request (request line or headers)",
        }
        for s in [*idle, kept, bad]:
            s.close()


def test_a_burst_of_whole_requests_is_answered_whatever_the_idle_limit():
    """Forty complete requests sent at once on forty connections of one address (a proxy, a pool) lost eight,
    reset unanswered: a connection counted as idle until its request was parsed, and each new one over the
    limit closed the oldest at once. Now the oldest go only once what is waiting has been read."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from emovox.server import connection

    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    with ThreadServer(app, http=connection.with_idle_limit(4), limit_concurrency=64) as srv:
        socks = []
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            socks.append(s)
        answers = [_response(s) for s in socks]
        assert all(b"200 OK" in a for a in answers), [a[:40] for a in answers]
        for s in socks:
            s.close()
