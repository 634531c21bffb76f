"""The REST API against a real server: ``emovox serve`` in a subprocess, and uvicorn in a thread where the test
needs to swap the model (a deliberately slow one) or the limits."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from .test_server_support import (  # noqa: E402
    ProcessServer,
    SlowModel,
    ThreadServer,
    long_recording,
    ravdess_file,
    speech_clip,
    trained_model_dir,
    wav_bytes,
)

UPLOAD_MB = 2  # the subprocess server's limit, small so that 413 is cheap to provoke


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return trained_model_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def model(model_dir):
    from emovox.inference import load_model

    return load_model(model_dir)


@pytest.fixture(scope="module")
def server(model_dir):
    with ProcessServer(model_dir, "--max-upload-mb", str(UPLOAD_MB)) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _assert_error(r, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status and body["code"] and body["error"]
    assert "Traceback" not in r.text and "\n" not in body["error"]
    for w in words:
        assert w in body["error"], body
    return body


# ------------------------------------------------------------------------------------------ basics
def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    # monitors and link checkers ask HEAD: the headers of GET, no body
    for path in ("/healthz", "/"):
        r = client.head(path)
        assert r.status_code == 200 and r.content == b"", path


def test_model_info(client, model):
    info = client.get("/v1/model").json()
    assert info["labels"] == model.labels == ["angry", "happy", "neutral", "sad"]
    assert info["metrics"]["speaker_independent"] is True and 0 < info["metrics"]["ua"] <= 1
    assert info["training"]["corpora"] == ["ravdess"] and info["training"]["n_speakers"] == 6
    assert info["version"] and info["emovox_version"]
    assert info["sample_rate"] == 16000 and "model.onnx" in info["files"]


def test_model_info_names_the_upload_limits(client):
    """The web page refuses a file over the upload limit before sending it: the limit comes from here."""
    limits = client.get("/v1/model").json()["limits"]
    assert limits == {"max_upload_bytes": UPLOAD_MB * 2**20, "max_seconds": 600.0}
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schema["Limits"]["properties"]) == {"max_upload_bytes", "max_seconds"}


def test_openapi_and_docs(client):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Duplicate Operation ID"
        doc = client.get("/openapi.json").json()
    for path in ("/v1/predict", "/v1/react", "/v1/model", "/healthz"):
        assert path in doc["paths"]
    body = doc["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body and "audio/*" in body
    assert {"413", "415", "422"} <= set(doc["paths"]["/v1/predict"]["post"]["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "cdn" not in docs.text.lower()  # served from the package: works offline
    js = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', docs.text).group(1)
    assert client.get(js).status_code == 200 and len(client.get(js).content) > 500_000


def test_every_answer_is_what_the_schema_declares(client):
    """A review found answers the document did not declare: 403 on /healthz and /v1/model (a Host the
    server does not answer to), 400 and 405 on every route, the picture route's 422 as FastAPI's body
    rather than the app's; and ``uncertain``, ``reason``... always sent, yet optional in the schema."""
    jsonschema = pytest.importorskip("jsonschema")
    doc = client.get("/openapi.json").json()
    clip = wav_bytes(speech_clip(2.0), 16000)
    silence = wav_bytes(np.zeros(32000, np.float32), 16000)
    wav = {"content-type": "audio/wav"}
    asked = [
        ("post", "/v1/predict", {"content": clip, "headers": wav}, 200),
        ("post", "/v1/predict?emotions=angry,sad&timeline=1", {"content": clip, "headers": wav}, 200),
        ("post", "/v1/predict", {"content": silence, "headers": wav}, 200),
        ("post", "/v1/react?emotions=angry,sad", {"content": clip, "headers": wav}, 200),
        ("post", "/v1/react", {"content": silence, "headers": wav}, 200),
        ("post", "/v1/predict", {"content": clip[: len(clip) // 2], "headers": wav}, 422),
        ("get", "/v1/model", {}, 200),
        ("get", "/v1/pictures", {}, 200),
        ("get", "/healthz", {}, 200),
        ("get", "/healthz", {"headers": {"host": "evil.example"}}, 403),
        ("get", "/v1/model", {"headers": {"host": "evil.example"}}, 403),
        ("get", "/v1/predict", {}, 405),
        ("post", "/v1/model", {}, 405),
        ("get", "/v1/pictures/nothing.svg", {}, 404),
    ]
    for method, url, kw, status in asked:
        r = client.request(method.upper(), url, **kw)
        assert r.status_code == status, (url, r.text)
        route = doc["paths"][url.split("?")[0] if "nothing" not in url else "/v1/pictures/{picture_id}.svg"]
        if method in route:
            declared = route[method]["responses"]
            assert str(status) in declared, (method, url, status, sorted(declared))
            schema = declared[str(status)]["content"]["application/json"]["schema"]
        else:  # a method the path lacks (405) has no operation to declare it: the error body all share
            schema = {"$ref": "#/components/schemas/ErrorBody"}
        jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(r.json())
    segment = doc["components"]["schemas"]["Segment"]
    assert {"speech", "uncertain", "reason", "left_out"} <= set(segment["required"])
    assert "uncertain" in doc["components"]["schemas"]["PredictResponse"]["required"]
    svg = doc["paths"]["/v1/pictures/{picture_id}.svg"]["get"]["responses"]["422"]
    assert svg["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_page_and_pictures(client, model):
    page = client.get("/")
    assert page.status_code == 200 and "<title>emovox" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    pics = client.get("/v1/pictures").json()["pictures"]
    assert {p["expected"] for p in pics} == set(model.labels)
    svg = client.get(pics[0]["url"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    _assert_error(client.get("/v1/pictures/nothing.svg"), 404, "nothing")
    _assert_error(client.get("/no/such/page"), 404)


# ------------------------------------------------------------------------------------------ predict
def test_predict_ravdess_file(client, model):
    path = ravdess_file("05")
    with open(path, "rb") as fh:
        r = client.post("/v1/predict", files={"file": (path.name, fh, "audio/flac")})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["source"] == path.name and res["emotion"] in model.labels
    assert list(res["probabilities"]) == model.labels
    assert sum(res["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert res["confidence"] == max(res["probabilities"].values())
    assert res["timeline"] is None and 2 < res["duration"] < 6
    # the server answers what the Python API answers
    (expected,) = model.predict_proba(str(path))
    assert np.allclose([res["probabilities"][k] for k in model.labels], expected, atol=1e-6)


def test_predict_generated_wav_raw_body(client, model):
    sr = 44100
    voice = speech_clip(1.5, sr)  # real speech (a synthetic tone is "no speech" now), at 44.1 kHz in stereo
    stereo = np.stack([voice, 0.8 * voice], axis=1) + 0.01 * np.random.default_rng(0).standard_normal(
        (voice.size, 2)
    )
    r = client.post("/v1/predict", content=wav_bytes(stereo, sr), headers={"content-type": "audio/wav"})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["source"] == "<body>" and res["emotion"] in model.labels
    assert res["duration"] == pytest.approx(1.5, abs=0.01)


def test_long_audio_gets_a_timeline(client, model):
    y = long_recording()
    r = client.post("/v1/predict", files={"file": ("long.wav", wav_bytes(y, 16000), "audio/wav")})
    assert r.status_code == 200, r.text
    res = r.json()
    segs = res["timeline"]
    assert res["duration"] > 20 and len(segs) >= 4
    assert all(0 <= s["start"] < s["end"] <= res["duration"] + 0.01 for s in segs)
    assert all(s["emotion"] in model.labels and set(s["probabilities"]) == set(model.labels) for s in segs)
    assert [s["start"] for s in segs] == sorted(s["start"] for s in segs)


def test_query_parameters(client, model):
    """``timeline=1`` asks for a timeline of a short clip, ``timeline=0`` for none; a parameter an endpoint
    does not take (a typo) is a 422 naming those it takes, not silently ignored."""
    data = ravdess_file("05").read_bytes()
    r = client.post("/v1/predict?timeline=1", content=data, headers={"content-type": "audio/flac"})
    assert r.status_code == 200 and r.json()["duration"] < 10, r.text
    assert r.json()["timeline"] and all(s["end"] <= r.json()["duration"] + 0.01 for s in r.json()["timeline"])
    r = client.post("/v1/predict?timeline=0", content=data, headers={"content-type": "audio/flac"})
    assert r.status_code == 200 and r.json()["timeline"] is None
    for url, words in (
        ("/v1/predict?top_k=2", ["'top_k'", "emotions, timeline"]),
        ("/v1/predict?timeline=maybe", ["timeline", "'maybe'"]),
        ("/v1/predict?timeline=1&timeline=0", ["timeline given twice: 1, 0"]),
        ("/v1/react?top_k=2", ["'top_k'", "takes: emotions)"]),
    ):
        _assert_error(client.post(url, content=data, headers={"content-type": "audio/flac"}), 422, *words)


def test_react_ignores_silence(client, model):
    path = ravdess_file("03")
    r = client.post("/v1/react", files={"file": (path.name, path.read_bytes(), "audio/flac")})
    assert r.status_code == 200 and r.json()["emotion"] in model.labels and r.json()["speech_seconds"] > 0.5
    assert r.json()["uncertain"] == (r.json()["confidence"] < model.uncertain_below)
    assert r.json()["speech"] is True and r.json()["reason"] is None
    silent = client.post(
        "/v1/react",
        content=wav_bytes(np.zeros(32000, dtype=np.float32), 16000),
        headers={"content-type": "audio/wav"},
    )
    assert (
        silent.status_code == 200 and silent.json()["emotion"] is None and silent.json()["uncertain"] is False
    )
    # as /v1/predict says it: no speech, and why
    assert silent.json()["speech"] is False and "silence" in silent.json()["reason"], silent.json()


def test_react_over_the_chosen_emotions(client, model):
    """/v1/react (the picture sessions) took no ``emotions``: a reaction was scored over every emotion while
    the page's answers were over the chosen ones."""
    path = ravdess_file("05")
    r = client.post(
        "/v1/react?emotions=angry,sad", files={"file": (path.name, path.read_bytes(), "audio/flac")}
    )
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["speech"] is True and res["labels"] == ["angry", "sad"]
    assert list(res["probabilities"]) == ["angry", "sad"]
    assert sum(res["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
    assert res["emotion"] in ("angry", "sad") and res["confidence"] == max(res["probabilities"].values())
    # the same restriction of the same scores as without it: the two renormalised
    full = client.post("/v1/react", files={"file": (path.name, path.read_bytes(), "audio/flac")}).json()
    both = full["probabilities"]["angry"] + full["probabilities"]["sad"]
    assert res["probabilities"]["angry"] == pytest.approx(full["probabilities"]["angry"] / both, abs=1e-6)
    # as /v1/predict takes it: aliases, in the order given
    r = client.post(
        "/v1/react?emotions=sadness,anger", content=path.read_bytes(), headers={"content-type": "audio/flac"}
    )
    assert r.status_code == 200 and list(r.json()["probabilities"]) == ["sad", "angry"], r.text
    params = client.get("/openapi.json").json()["paths"]["/v1/react"]["post"]["parameters"]
    assert [p["name"] for p in params] == ["emotions"]


@pytest.mark.parametrize(
    "emotions, words",
    [
        ("angry,boredom", ["at least two different emotions", "boredom: not one of this model's emotions"]),
        ("angry", ["at least two"]),
    ],
)
def test_react_refuses_unknown_or_fewer_than_two_emotions(client, emotions, words):
    data = ravdess_file("05").read_bytes()
    bodies = [
        _assert_error(
            client.post(
                f"{endpoint}?emotions={emotions}", content=data, headers={"content-type": "audio/flac"}
            ),
            422,
            "emotions:",
            *words,
        )
        for endpoint in ("/v1/react", "/v1/predict")
    ]
    assert (
        bodies[0] == bodies[1] and bodies[0]["code"] == "invalid_emotions"
    )  # the same error as /v1/predict's


def test_a_reaction_of_under_a_second_is_uncertain(client, model):
    """/v1/react (the picture sessions) flagged only a low confidence: 0.7 s of speech was a sure answer
    there and an uncertain one at /v1/predict."""
    from emovox import load_audio

    y = load_audio(ravdess_file("05", actor=1), 16000)
    lo = int(np.argmax(np.abs(y)))  # the loudest part of the sentence, as a short reaction would be
    word = np.concatenate([np.zeros(8000), y[max(0, lo - 5600) : lo + 5600], np.zeros(8000)]).astype(
        np.float32
    )
    body = wav_bytes(word, 16000)
    react = client.post("/v1/react", content=body, headers={"content-type": "audio/wav"}).json()
    predict = client.post("/v1/predict", content=body, headers={"content-type": "audio/wav"}).json()
    assert react["speech"] and predict["speech"] and react["uncertain"] and predict["uncertain"], react


# ------------------------------------------------------------------------------------------ errors
def test_413_declared_length(client):
    big = bytes(UPLOAD_MB * 1024 * 1024 + 1)
    _assert_error(
        client.post("/v1/predict", content=big, headers={"content-type": "audio/wav"}),
        413,
        "upload limit of 2.0 MiB",  # in MiB, as --max-upload-mb counts (and the page shows it)
        "(2.0 MiB, 2097153 bytes)",
    )


def test_413_streamed_body_without_length(client):
    def chunks():
        block = bytes(256 * 1024)
        for _ in range(4 * UPLOAD_MB + 4):
            yield block

    r = client.post("/v1/predict", content=chunks(), headers={"content-type": "application/octet-stream"})
    _assert_error(r, 413, "upload limit")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"request_timeout": 0}, "request_timeout 0: expected a positive number"),
        ({"max_upload_mb": float("nan")}, "max_upload_mb nan: expected a positive number"),
        ({"timeline_after": -1.0}, "timeline_after -1: expected a number of seconds >= 0"),
        ({"workers": 0}, "workers 0: expected at least 1 inference thread"),
        ({"max_pending": 0}, "max_pending 0: expected at least 1 request"),
        ({"idle_per_client": 0}, "idle_per_client 0: expected at least 1 connection"),
        ({"pending_per_client": 0}, "pending_per_client 0: expected at least 1 request"),
    ],
)
def test_server_settings_check_their_values(settings, message):
    """Only the CLI checked these: ``ServerSettings(request_timeout=0)`` from Python made a server whose every
    request timed out. The CLI now words the settings' own check with its options."""
    from emovox.errors import ParameterError
    from emovox.server import ServerSettings

    with pytest.raises(ParameterError) as info:
        ServerSettings(**settings)
    assert str(info.value) == message


def test_default_limit_is_50_mb(model):
    from emovox.server import ServerSettings, create_app

    assert ServerSettings().max_upload_bytes == 50 * 1024 * 1024
    with ThreadServer(create_app(model)) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        # Only the headers: the server must refuse on the declared size without waiting for 51 MB.
        s.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
            b"Content-Length: %d\r\n\r\n" % (51 * 1024 * 1024)
        )
        s.settimeout(10)
        answer = b""
        while b"payload_too_large" not in answer and (chunk := s.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"payload_too_large" in answer


@pytest.mark.parametrize(
    "content,ctype,name,status,words",
    [
        (b"just some text, not audio", "text/plain", None, 415, ["text/plain"]),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(200),
            "application/octet-stream",
            None,
            415,
            ["not a recognised audio format"],
        ),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(200),
            "image/png",
            "picture.png",
            415,
            ["picture.png", "not a recognised"],
        ),
        (b"", "audio/wav", None, 422, ["empty"]),
    ],
)
def test_unsupported_or_empty(client, content, ctype, name, status, words):
    if name:
        r = client.post("/v1/predict", files={"file": (name, content, ctype)})
    else:
        r = client.post("/v1/predict", content=content, headers={"content-type": ctype})
    _assert_error(r, status, *words)


def test_corrupt_truncated_and_short_audio(client):
    y = np.sin(np.linspace(0, 2000, 32000)).astype(np.float32)
    whole = wav_bytes(y, 16000)
    _assert_error(
        client.post("/v1/predict", files={"file": ("cut.wav", whole[: len(whole) // 2], "audio/wav")}),
        422,
        "cut.wav",
        "truncated",
    )
    flac = ravdess_file("01", intensity="01").read_bytes()
    _assert_error(
        client.post("/v1/predict", files={"file": ("broken.flac", flac[:3000], "audio/flac")}),
        422,
        "broken.flac",
    )
    _assert_error(
        client.post("/v1/predict", files={"file": ("blip.wav", wav_bytes(y[:160], 16000), "audio/wav")}),
        422,
        "too short",
    )
    nan = wav_bytes(np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    _assert_error(
        client.post("/v1/predict", files={"file": ("nan.wav", nan, "audio/wav")}), 422, "non-finite"
    )


def test_form_without_a_file(client):
    # a multipart form whose only part is a plain field
    _assert_error(client.post("/v1/predict", files={"note": (None, "no audio here")}), 422, "no file")
    _assert_error(client.post("/v1/predict", data={"note": "urlencoded"}), 415, "multipart/form-data")
    two = [("file", ("a.wav", b"RIFF", "audio/wav")), ("file", ("b.wav", b"RIFF", "audio/wav"))]
    body = _assert_error(client.post("/v1/predict", files=two), 422, "more than one file")
    assert body["code"] == "too_many_files"


# ------------------------------------------------------------------------------------------ concurrency
def test_parallel_requests(client, model):
    path = ravdess_file("04")
    data = path.read_bytes()
    results: list[int] = []

    def one():
        with httpx.Client(base_url=client.base_url, timeout=60) as c:
            results.append(
                c.post("/v1/predict", content=data, headers={"content-type": "audio/flac"}).status_code
            )

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8


def test_slow_request_does_not_block_healthz(model):
    from emovox.server import ServerSettings, create_app

    app = create_app(SlowModel(model, delay=3.0), ServerSettings(workers=2))
    audio = wav_bytes(np.sin(np.linspace(0, 3000, 16000)).astype(np.float32), 16000)
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        slow: dict = {}
        t = threading.Thread(
            target=lambda: slow.update(
                r=c.post("/v1/predict", content=audio, headers={"content-type": "audio/wav"})
            )
        )
        t0 = time.perf_counter()
        t.start()
        time.sleep(0.3)  # the slow request is in inference now
        latencies = []
        for _ in range(5):
            t1 = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            assert c.get("/v1/model").status_code == 200
            latencies.append(time.perf_counter() - t1)
        assert t.is_alive(), "the slow request should still be running"
        t.join()
        assert slow["r"].status_code == 200 and time.perf_counter() - t0 >= 3.0
    assert max(latencies) < 0.5, latencies


class _Stoppable:
    """A model whose predictions take ``delay`` seconds of work that checks for cancellation, as decoding and
    the encoder's windows do; ``stopped`` counts the predictions cancelled midway."""

    def __init__(self, model, delay: float):
        self._model, self.delay, self.stopped = model, delay, 0

    def __getattr__(self, name):
        return getattr(self._model, name)

    def predict_signal(self, y, *args, **kwargs):
        from emovox.audio import check_cancelled
        from emovox.errors import Cancelled

        end = time.monotonic() + self.delay
        try:
            while time.monotonic() < end:
                check_cancelled()
                time.sleep(0.02)
        except Cancelled:
            self.stopped += 1
            raise
        return self._model.predict_signal(y, *args, **kwargs)


def test_a_request_whose_client_went_away_stops_its_analysis(model):
    """The web page's Cancel closes the connection; the analysis used to run on to its end (or to the time
    limit) holding the only inference thread. It now stops within a poll, and the next request is served."""
    from emovox.server import ServerSettings, create_app

    slow = _Stoppable(model, delay=8.0)
    app = create_app(slow, ServerSettings(workers=1))
    audio = wav_bytes(np.sin(np.linspace(0, 3000, 16000)).astype(np.float32), 16000)
    head = f"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nContent-Length: {len(audio)}\r\n\r\n"
    with ThreadServer(app) as srv:
        with socket.create_connection(("127.0.0.1", srv.port)) as sock:
            sock.sendall(head.encode() + audio)
            time.sleep(0.5)  # in analysis now
        t0 = time.perf_counter()
        slow.delay = 0.0
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            r = c.post("/v1/predict", content=audio, headers={"content-type": "audio/wav"})
        assert r.status_code == 200 and time.perf_counter() - t0 < 3.0  # not after the first one's 8 s
    assert slow.stopped == 1


def test_a_job_that_raises_timeouterror_is_answered_at_once():
    """The runner waits on its job in polls; a job's own TimeoutError (a socket's, say) was taken for a
    poll's, and the runner spun at full CPU until its limit, then answered 504."""
    import asyncio

    from emovox.server.runner import InferenceRunner

    def job():
        raise TimeoutError("the job's own")

    async def gone():
        return False

    runner = InferenceRunner(workers=1, timeout=3.0, max_pending=4)
    for kw in ({}, {"gone": gone}):
        t0, cpu0 = time.perf_counter(), time.process_time()
        with pytest.raises(TimeoutError, match="the job's own"):
            asyncio.run(runner.run(job, **kw))
        assert time.perf_counter() - t0 < 1.0 and time.process_time() - cpu0 < 0.5
    runner.close()


def test_time_limit(model):
    from emovox.server import ServerSettings, create_app

    app = create_app(SlowModel(model, delay=2.0), ServerSettings(request_timeout=0.5, workers=1))
    audio = wav_bytes(np.sin(np.linspace(0, 3000, 16000)).astype(np.float32), 16000)
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        t0 = time.perf_counter()
        r = c.post("/v1/predict", content=audio, headers={"content-type": "audio/wav"})
        assert time.perf_counter() - t0 < 1.5
        _assert_error(r, 504, "0.5 s")
        assert c.get("/healthz").status_code == 200


# ------------------------------------------------------------------------------------------ command line
def test_cli_defaults_to_loopback():
    from emovox.cli import build_parser
    from emovox.server import ServerSettings

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.max_upload_mb) == ("127.0.0.1", 8000, 50.0)
    assert args.idle_per_client == ServerSettings().idle_per_client == 32
    assert args.pending_per_client is None and ServerSettings().client_pending_limit == 16  # (as --help says)


def test_cli_idle_limit_is_checked_and_worded_with_its_option():
    """The cap on a client's idle connections is an option (behind a reverse proxy every user shares one
    address), checked by the settings and worded with the option, before anything loads."""
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "serve", "--idle-per-client", "0", "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "emovox: error: --idle-per-client 0: expected at least 1 connection"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_bad_model_is_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "serve",
            "--model",
            str(tmp_path / "nope"),
            "--port",
            str(_free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("emovox: error:")]
    assert len(lines) == 1 and "nope" in lines[0] and "Traceback" not in proc.stderr


def test_cli_port_in_use_or_bad_host_is_one_line_before_serving(model_dir):
    """Said before the model loads: no "serving on ..." line for a server that never served."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for extra, words in (
            (["--port", str(port)], "in use"),
            (["--host", "no such host", "--port", str(_free_port())], ""),
        ):
            proc = subprocess.run(
                [sys.executable, "-m", "emovox.cli", "serve", "--model", str(model_dir), *extra],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == 2, proc.stderr
            assert proc.stderr.strip().startswith("emovox: error: cannot listen on") and words in proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1 and "serving" not in proc.stderr


def test_missing_timeline_backend_still_answers(model, monkeypatch):
    from emovox.errors import EmovoxError
    from emovox.server import analysis as server_app

    def broken(model, y, emotions):
        raise EmovoxError("voice-activity detection needs the webrtcvad module")

    monkeypatch.setattr(server_app, "_timeline", broken)
    y = speech_clip(3.0, start=0.3)  # real speech: a tone would answer "no speech" before any timeline
    res = server_app.analyse(model, wav_bytes(y, 16000), "x.wav", timeline_after=1.0)
    assert res["emotion"] in model.labels and res["timeline"] is None and "webrtcvad" in res["timeline_error"]


def test_too_many_open_requests_get_a_json_503():
    """Beyond the limit of open requests the answer is the JSON error every other error is (uvicorn's own
    limit answered plain text), and the server serves again once requests finish."""
    import asyncio

    import httpx
    from starlette.responses import JSONResponse

    from emovox.server.app import OpenRequests

    async def scenario():
        gate = asyncio.Event()

        async def slow(scope, receive, send):
            await gate.wait()
            await JSONResponse({"ok": True})(scope, receive, send)

        limited = OpenRequests(slow, limit=2)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://emovox") as c:
            waiting = [asyncio.create_task(c.get("/v1/model")) for _ in range(2)]
            await asyncio.sleep(0.05)
            refused = await c.get("/v1/model")
            gate.set()
            done = await asyncio.gather(*waiting)
            again = await c.get("/v1/model")
        return refused, done, again

    refused, done, again = asyncio.run(scenario())
    assert refused.status_code == 503 and refused.headers["content-type"] == "application/json"
    assert refused.json() == {
        "status": 503,
        "code": "busy",
        "error": "2 requests are open; try again shortly",
    }
    assert [r.status_code for r in done] == [200, 200] and again.status_code == 200


def test_model_info_names_the_recipe_and_its_head():
    """``recipe`` in /v1/model is the trained head (metadata's ``model``); the recipe's own name, which
    docs/results.md calls ``recipe``, was nowhere in it."""
    from fastapi.testclient import TestClient

    from emovox.inference import load_model
    from emovox.server import create_app

    with TestClient(create_app(load_model())) as c:
        info = c.get("/v1/model").json()
    assert info["recipe_name"] == "recipes/bundled.py default (whisper-robust)"
    assert info["recipe"]["type"] == "blocklogreg" and info["recipe"]["params"]["blocks"] == 4
