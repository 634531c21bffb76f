"""Large uploads are spooled to a temporary file and decoded from there; the file never outlives its request."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from .test_server_support import long_recording, speech_clip, trained_model_dir, wav_bytes  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from emovox.inference import load_model

    return load_model(trained_model_dir(tmp_path_factory.getbasetemp()))


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """Temporary files go to ``tmp_path``; bodies over 1 KiB are spooled."""
    import tempfile

    from emovox.server import uploads

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(uploads, "SPOOL_MEMORY_BYTES", 1024)
    return tmp_path


def _leftovers(folder) -> list:
    return sorted(folder.glob("emovox-upload-*"))


def _client(model, **settings):
    from fastapi.testclient import TestClient

    from emovox.server import ServerSettings, create_app

    return TestClient(create_app(model, ServerSettings(**settings)))


# ------------------------------------------------------------------------------------------ SpooledBody
def test_spooled_body_keeps_small_bodies_in_memory_and_large_ones_in_a_file(tmp_path, monkeypatch):
    import tempfile

    from emovox.server.uploads import SpooledBody

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = bytes(range(256)) * 40  # 10,240 bytes

    async def fill(limit: int) -> tuple[object, bytes]:
        body = SpooledBody(limit)
        for i in range(0, len(data), 1000):
            await body.write(data[i : i + 1000])
        body.finish()
        return body, body.source

    body, source = asyncio.run(fill(len(data)))
    with body:
        assert source == data and body.path is None and body.head == data[:12]
    assert not _leftovers(tmp_path)

    body, source = asyncio.run(fill(4096))
    with body:
        assert source == body.path and source.parent == tmp_path and source.read_bytes() == data
        assert body.size == len(data) and body.head == data[:12]
    assert not source.exists() and not _leftovers(tmp_path)


# ------------------------------------------------------------------------------------------ the API
def test_spooled_upload_answers_as_an_in_memory_one(model, tmp_path, monkeypatch):
    y = speech_clip(2.0)
    body = wav_bytes(y, 16000)
    with _client(model) as c:
        in_memory = c.post("/v1/predict", content=body, headers={"content-type": "audio/wav"}).json()
        in_memory_react = c.post("/v1/react", content=body, headers={"content-type": "audio/wav"}).json()
    import tempfile

    from emovox.server import uploads

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(uploads, "SPOOL_MEMORY_BYTES", 1024)
    with _client(model) as c:
        raw = c.post("/v1/predict", content=body, headers={"content-type": "audio/wav"})
        form = c.post("/v1/predict", files={"file": ("clip.wav", body, "audio/wav")})
        react = c.post("/v1/react", content=body, headers={"content-type": "audio/wav"})
    for r in (raw, form, react):
        assert r.status_code == 200, r.text
    for key in ("emotion", "confidence", "probabilities", "duration", "speech"):
        assert raw.json()[key] == in_memory[key] == form.json()[key]
    assert form.json()["source"] == "clip.wav" and raw.json()["source"] == "<body>"
    for key in ("emotion", "confidence", "probabilities", "speech_seconds"):
        assert react.json()[key] == in_memory_react[key]
    assert not _leftovers(tmp_path)


def test_a_form_upload_is_written_once_and_odd_forms_are_422(model, tmp_path, monkeypatch):
    """A multipart upload is parsed as it arrives, its file written straight to one temporary file (it was
    spooled whole, parsed into a second file, then copied into a third); malformed or odd forms are one
    422 JSON error each, and leave no file behind."""
    import tempfile

    from emovox.server import uploads

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(uploads, "SPOOL_MEMORY_BYTES", 1024)
    made, written = [], []
    real_mkstemp, real_write = tempfile.mkstemp, uploads.SpooledBody.write

    def mkstemp(*a, **k):
        made.append(1)
        return real_mkstemp(*a, **k)

    async def write(self, chunk):
        written.append(len(chunk))
        await real_write(self, chunk)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(uploads.SpooledBody, "write", write)
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", None)  # the form parser's own spool: not used
    clip = wav_bytes(speech_clip(2.0), 16000)
    with _client(model) as c:
        plain = c.post("/v1/predict", content=clip, headers={"content-type": "audio/wav"}).json()
        made.clear(), written.clear()
        fields = {"note": (None, "a field before the file"), "file": ("näme (1).wav", clip, "audio/wav")}
        r = c.post("/v1/predict", files=fields)
        assert r.status_code == 200, r.text
        assert r.json()["probabilities"] == plain["probabilities"] and r.json()["source"] == "näme (1).wav"
        assert len(made) == 1 and sum(written) == len(clip)  # the file's bytes, once; not the form's

        boundary = "b0undary"
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        whole = head.encode() + clip + f"\r\n--{boundary}--\r\n".encode()
        ctype = f"multipart/form-data; boundary={boundary}"
        ok = c.post("/v1/predict", content=whole, headers={"content-type": ctype})
        assert ok.status_code == 200 and ok.json()["probabilities"] == plain["probabilities"]
        latin = whole.replace(b'filename="a.wav"', 'filename="é.wav"'.encode("latin-1"))  # an old client's
        r = c.post("/v1/predict", content=latin, headers={"content-type": ctype})
        assert r.status_code == 200 and r.json()["source"] == "é.wav", r.text
        # RFC 5987's filename*, and a field named file without a filename (curl -F "file=<a.wav"): both the
        # file, where they were "the form holds no file" (a hardening review, stop 39)
        star = whole.replace(b'filename="a.wav"', b"filename*=UTF-8''%e2%82%ac%20x.wav")
        r = c.post("/v1/predict", content=star, headers={"content-type": ctype})
        assert r.status_code == 200 and r.json()["source"] == "€ x.wav", r.text
        bare = whole.replace(b'; filename="a.wav"', b"")
        r = c.post("/v1/predict", content=bare, headers={"content-type": ctype})
        assert r.status_code == 200 and r.json()["source"] == "<upload>", r.text
        assert r.json()["probabilities"] == plain["probabilities"]
        for content, headers, words in [
            (whole[:-40], {"content-type": ctype}, "ends before its closing boundary"),
            (whole, {"content-type": "multipart/form-data"}, "no boundary"),
            (b"garbage without any boundary at all", {"content-type": ctype}, "malformed multipart form"),
        ]:
            r = c.post("/v1/predict", content=content, headers=headers)
            assert (
                r.status_code == 422 and r.json()["code"] == "invalid_form" and words in r.json()["error"]
            ), r.text
        many = {f"f{i}": (None, "x") for i in range(17)}
        r = c.post("/v1/predict", files={**many, "file": ("a.wav", clip, "audio/wav")})
        assert r.status_code == 422 and "more than 16 fields" in r.json()["error"]
        r = c.post("/v1/predict", files={"note": (None, "x" * 70000), "file": ("a.wav", clip, "audio/wav")})
        assert r.status_code == 422 and "plain field" in r.json()["error"]
    assert not _leftovers(tmp_path)


def test_long_spooled_upload_is_streamed_from_its_file(model, spool_dir):
    y = np.concatenate([long_recording()] * 5)  # about 150 s: past STREAM_AFTER_SECONDS
    buf = io.BytesIO()
    sf.write(buf, y, 16000, format="FLAC")
    with _client(model, timeline_after=10.0) as c:
        r = c.post("/v1/predict", content=buf.getvalue(), headers={"content-type": "audio/flac"})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["emotion"] in model.labels and res["duration"] == pytest.approx(y.size / 16000, abs=0.01)
    assert res["timeline"] and all(s["end"] <= res["duration"] + 0.01 for s in res["timeline"])
    assert not _leftovers(spool_dir)


def test_spooled_files_are_deleted_on_every_failure(model, spool_dir):
    noise = (np.random.default_rng(0).standard_normal(16000) * 3000).astype("<i2").tobytes()
    with _client(model, max_upload_mb=0.01, max_seconds=1.0) as c:

        def chunks():
            for _ in range(20):  # 20 KB without a Content-Length: refused while it streams in
                yield b"\0" * 1024

        r = c.post("/v1/predict", content=chunks(), headers={"content-type": "application/octet-stream"})
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text
        r = c.post("/v1/predict", content=b"not audio" * 200, headers={"content-type": "audio/wav"})
        assert r.status_code == 415, r.text
        cut = wav_bytes(speech_clip(0.25), 16000)
        r = c.post("/v1/predict", content=cut[: len(cut) // 2], headers={"content-type": "audio/wav"})
        assert r.status_code == 422 and "truncated" in r.json()["error"], r.text
        r = c.post("/v1/predict", files={"note": (None, "x" * 3000)})
        assert r.status_code == 422 and r.json()["code"] == "missing_file", r.text
    with _client(model, max_seconds=1.0) as c:
        r = c.post(
            "/v1/predict", content=wav_bytes(speech_clip(2.0), 16000), headers={"content-type": "audio/wav"}
        )
        assert r.status_code == 413 and r.json()["code"] == "audio_too_long", r.text
        r = c.post("/v1/predict", content=noise, headers={"content-type": "audio/wav"})
        assert r.status_code == 415, r.text
    assert not _leftovers(spool_dir)


def test_slow_body_gets_408_and_its_spooled_part_is_deleted(model, spool_dir):
    import socket

    from emovox.server import ServerSettings, create_app

    from .test_server_support import ThreadServer

    app = create_app(model, ServerSettings(read_timeout=0.5))
    with ThreadServer(app) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"RIFF" + b"\0" * 5000  # past the spool limit, then silence
        )
        s.settimeout(10)
        answer = b""
        while b"request_timeout" not in answer and (chunk := s.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and b"5004 bytes received" in answer, answer
    assert not _leftovers(spool_dir)


def test_a_trickling_client_is_cut_off_with_its_408_and_a_vanished_one_is_one_log_line(
    model, spool_dir, caplog
):
    """After the 408 the connection closes (the server stopped reading a body that kept coming, 10 bytes a
    tick); a client that disconnects mid-upload is one INFO line, not a logged traceback."""
    import logging
    import socket
    import time

    from emovox.server import ServerSettings, create_app

    from .test_server_support import ThreadServer

    app = create_app(model, ServerSettings(read_timeout=0.5))
    head = b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nContent-Length: 50000000\r\n\r\n"
    with ThreadServer(app) as srv:
        with socket.create_connection(("127.0.0.1", srv.port)) as s:
            s.sendall(head + b"RIFF")
            s.settimeout(0.2)
            answer, closed, t = b"", False, time.monotonic()
            while time.monotonic() - t < 10 and not closed:
                try:
                    s.sendall(b"x" * 10)
                    chunk = s.recv(65536)
                    answer += chunk
                    closed = chunk == b""
                except TimeoutError:
                    pass
                except OSError:  # reset: closed as well
                    closed = True
        assert answer.startswith(b"HTTP/1.1 408") and b"connection: close" in answer.lower(), answer
        assert closed and time.monotonic() - t < 5
        with caplog.at_level(logging.INFO, logger="emovox"):
            with socket.create_connection(("127.0.0.1", srv.port)) as s:
                s.sendall(head + b"RIFF" + b"\0" * 1000)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and "went away" not in caplog.text:
                time.sleep(0.05)
    assert "client went away during POST /v1/predict" in caplog.text
    assert "Traceback" not in caplog.text and not any(r.levelno >= logging.ERROR for r in caplog.records)
    assert not _leftovers(spool_dir)


def test_no_disk_space_for_an_upload_is_a_507(tmp_path_factory):
    """An upload spooled to a full disk was a 500 "internal error (OSError)" and a traceback in the log.
    Here the server process may write no file over 1 MB (a 6 MB upload spools past 4 MB); a small upload,
    kept in memory, is still answered."""
    import httpx

    from .test_server_support import ProcessServer

    small = wav_bytes(speech_clip(1.5), 16000)
    big = wav_bytes(np.tile(long_recording(), 3), 16000, subtype="FLOAT")
    assert len(big) > 5e6
    with ProcessServer(trained_model_dir(tmp_path_factory.getbasetemp()), file_size_limit=2**20) as srv:
        r = httpx.post(
            f"{srv.url}/v1/predict", content=big, headers={"content-type": "audio/wav"}, timeout=60
        )
        assert r.status_code == 507 and r.json()["code"] == "insufficient_storage", r.text
        files = {"file": ("big.wav", big, "audio/wav")}
        r = httpx.post(f"{srv.url}/v1/predict", files=files, timeout=60)  # a form: the same
        assert r.status_code == 507, r.text
        r = httpx.post(
            f"{srv.url}/v1/predict", content=small, headers={"content-type": "audio/wav"}, timeout=60
        )
        assert r.status_code == 200 and r.json()["speech"], r.text
        srv.proc.terminate()
        log = srv.proc.communicate(timeout=20)[0].decode()
    assert "Traceback" not in log and "no disk space for POST /v1/predict" in log, log


def test_odd_upload_names_and_boundaries(model, tmp_path):
    """A boundary over 256 characters was a 500 with two tracebacks; a line feed in a file name went into
    the one-line error; a UTF-8 X-Filename came back as mojibake (mÃ©.flac)."""
    with _client(model) as client:
        b = "b" * 300
        r = client.post(
            "/v1/predict", content=b"x" * 100, headers={"content-type": f"multipart/form-data; boundary={b}"}
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_form", r.text
        assert r.json()["error"] == "malformed multipart form (a boundary of 300 characters)"
        body = (
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%0Ab.wav\r\n\r\n"
            b"hello\r\n--XyZ--\r\n"
        )
        r = client.post(
            "/v1/predict", content=body, headers={"content-type": "multipart/form-data; boundary=XyZ"}
        )
        assert r.status_code == 415 and "\n" not in r.json()["error"], r.text
        assert r.json()["error"].startswith("a\\nb.wav: ")
        # a right-to-left override (the name would show as "evilvaw.png") is escaped as the others are
        r = client.post(
            "/v1/predict",
            content=body.replace(b"a%0Ab.wav", b"evil%E2%80%AEgnp.wav"),
            headers={"content-type": "multipart/form-data; boundary=XyZ"},
        )
        assert r.status_code == 415 and r.json()["error"].startswith("evil\\u202egnp.wav: "), r.text
        wav = tmp_path / "a.wav"
        import soundfile as sf

        sf.write(wav, (0.1 * np.sin(np.arange(16000) / 4)).astype(np.float32), 16000)
        r = client.post(
            "/v1/predict",
            content=wav.read_bytes(),
            headers={"content-type": "audio/wav", "x-filename": "mé.wav".encode()},
        )
        assert r.status_code == 200 and r.json()["source"] == "mé.wav", r.text


def test_one_client_trickling_bodies_cannot_keep_the_others_at_503(model):
    """Found by a review: 64 sockets from one address, each sending a body a byte a second, held every one
    of the server's 64 places, and every other client got 503 ``busy`` for as long as they liked. One
    address now holds at most its share (``pending_per_client``): its next upload gets 429 at once, and
    another client is answered."""
    import socket
    import time

    import httpx

    from emovox.server import ServerSettings, create_app

    from .test_server_support import ThreadServer

    app = create_app(model, ServerSettings(max_pending=8, read_timeout=20))
    head = (
        b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
        b"Content-Length: 1000000\r\n\r\nRIFF"
    )
    with ThreadServer(app) as srv:
        url = f"http://127.0.0.1:{srv.port}/v1/predict"
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(8)]
        try:
            for s in socks:
                s.sendall(head)
            socks[-1].settimeout(5)
            answer = b""  # the third of this address's uploads: refused, not held (head and body may part)
            while not answer.endswith(b"}"):
                chunk = socks[-1].recv(65536)
                if not chunk:
                    break
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 429"), answer
            assert b'"code":"too_many_requests"' in answer and b"2 requests from this address" in answer
            time.sleep(0.2)
            # another client (the server sees 127.0.0.2: another address) is answered meanwhile
            with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
                body = wav_bytes(speech_clip(2.0), 16000)
                r = other.post(url, content=body, headers={"content-type": "audio/wav"})
            assert r.status_code == 200, r.text
        finally:
            for s in socks:
                s.close()
