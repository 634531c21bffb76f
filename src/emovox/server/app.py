"""The FastAPI application behind ``emovox serve``.

Endpoints
---------
``POST /v1/predict``
    Audio as a multipart file (any field name; ``file`` by convention) or as the raw request body.
    Answers the emotion, every probability, and for audio longer than one segment a timeline of speech
    segments (:func:`emovox.live.timeline`).
``POST /v1/react``
    The same input; the emotion of the speech only (silence ignored), as the picture-reaction session uses.
``GET /v1/model``
    Labels, metrics, version and training data of the loaded model.
``GET /healthz``
    Liveness and the loaded model's name.
``GET /v1/pictures``, ``GET /v1/pictures/{id}.svg``
    The generated demo pictures of the picture-reaction session.
``GET /``, ``/static/...``
    The web page (plain HTML, CSS and JavaScript shipped in the package).
``GET /openapi.json``, ``/docs``
    The OpenAPI document and its interactive page.

Every error is JSON ``{"status": ..., "code": ..., "error": "one line naming the cause"}``, never a
traceback. Decoding and inference run in a bounded thread pool with a per-request time limit, so a slow
request never blocks the event loop (nor ``/healthz``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..audio import cancellable, check_cancelled, load_audio
from ..errors import AudioError, AudioLimitError, Cancelled, EmovoxError
from .pictures import demo_pictures, find_picture

log = logging.getLogger("emovox.server")

STATIC_DIR = Path(__file__).parent / "static"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServerSettings:
    """Limits and behaviour of the server.

    Parameters
    ----------
    max_upload_mb : float
        Largest accepted request body in MiB; larger bodies get 413.
    request_timeout : float
        Seconds a request may spend waiting for and running inference before it gets 504.
    workers : int, optional
        Inference threads (default: the number of CPUs, at most 4).
    max_pending : int
        Requests waiting for or in inference beyond which new ones get 503.
    timeline_after : float
        Audio longer than this (seconds; one VAD segment by default) also gets a timeline.
    max_seconds : float
        Most seconds of decoded audio one upload may hold; checked from the header before decoding
        (413 ``audio_too_long``), and again while decoding for formats whose header does not tell.
    read_timeout : float
        Seconds a client may take to send its whole request body (then 408).
    allowed_hosts : tuple of str
        Host names (besides loopback names and the bound address) the ``Host`` header may carry.
    """

    max_upload_mb: float = 50.0
    request_timeout: float = 30.0
    workers: int | None = None
    max_pending: int = 64
    timeline_after: float = 10.0
    max_seconds: float = 600.0
    read_timeout: float = 30.0
    allowed_hosts: tuple[str, ...] = ()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def n_workers(self) -> int:
        return int(self.workers or min(4, os.cpu_count() or 1))


class ApiError(Exception):
    """An expected failure: answered as JSON with ``status``, a short ``code`` and a one-line message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ------------------------------------------------------------------------------------------ schemas
class ErrorBody(BaseModel):
    status: int = Field(description="HTTP status, repeated for clients that only see the body")
    code: str = Field(description="machine-readable cause, e.g. 'unsupported_media_type', 'invalid_audio'")
    error: str = Field(description="one line naming the input and the cause")


class Segment(BaseModel):
    start: float = Field(description="seconds from the start of the audio")
    end: float
    emotion: str | None
    confidence: float | None
    speech: bool = Field(True, description="false: the segment is sound that is not speech (no emotion)")
    uncertain: bool = Field(False, description="true: low calibrated confidence")
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    source: str = Field(description="the upload's file name, or '<body>' for a raw body")
    speech: bool = Field(
        description="false when the audio holds no speech (silence, noise, hum, tones, music): "
        "then emotion and confidence are null and reason says what was found"
    )
    reason: str | None = Field(None, description="why the audio was found to hold no speech")
    emotion: str | None = Field(
        description="the most probable emotion of the whole recording (null: no speech)"
    )
    confidence: float | None = Field(description="calibrated probability of that emotion")
    uncertain: bool = Field(
        False, description="true when the calibrated confidence is low: treat the answer as a guess"
    )
    probabilities: dict[str, float] = Field(
        description="every label's probability, in the model's order (empty when there is no speech)"
    )
    labels: list[str]
    duration: float = Field(description="seconds of audio")
    timeline: list[Segment] | None = Field(
        description="speech segments with their emotions, for audio longer than one segment; else null"
    )
    timeline_error: str | None = Field(
        None, description="why a long recording got no timeline, if it did not"
    )
    model: str
    elapsed_ms: float


class ReactionResponse(BaseModel):
    source: str
    emotion: str | None = Field(
        description="emotion of the speech heard; null when the recording holds no speech"
    )
    confidence: float | None
    probabilities: dict[str, float] = Field(description="speech segments' probabilities averaged by duration")
    speech_seconds: float
    labels: list[str]
    duration: float
    model: str
    elapsed_ms: float


class ModelInfo(BaseModel):
    name: str
    kind: str | None
    labels: list[str]
    sample_rate: int
    version: str | None = Field(description="the emovox version that wrote the model")
    emovox_version: str = Field(description="the emovox version serving it")
    headline: dict[str, Any] | None = Field(
        None,
        description="the figure that predicts what a user will see: "
        "leave-one-corpus-out (voices, languages and microphones the model "
        "never heard), with its protocol, UA and calibration error",
    )
    metrics: dict[str, Any] | None = Field(
        description="cross-validated metrics stored with the model "
        "(in-domain: unseen speakers of the training corpora)"
    )
    calibration: dict[str, Any] | None = Field(None, description="temperature and ECE of the calibration")
    per_class_recall: dict[str, float] | None
    training: dict[str, Any] | None = Field(description="corpora, utterances, speakers, emotion counts")
    recipe: dict[str, Any] | None
    frontend: dict[str, Any]
    files: dict[str, str] = Field(description="SHA-256 of each graph file")


class Health(BaseModel):
    status: str
    model: str
    uptime_s: float


class Picture(BaseModel):
    id: str
    title: str
    expected: str
    prompt: str
    url: str


class PictureList(BaseModel):
    pictures: list[Picture]


_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "cross-origin request, or a Host the server does not answer to"},
    408: {"model": ErrorBody, "description": "the body did not arrive in time"},
    413: {
        "model": ErrorBody,
        "description": "body larger than the upload limit, or audio longer than the "
        "decoded-duration limit (code audio_too_long)",
    },
    415: {"model": ErrorBody, "description": "not a supported audio format or content type"},
    422: {
        "model": ErrorBody,
        "description": "audio that cannot be used (corrupt, truncated, empty, too short)",
    },
    503: {"model": ErrorBody, "description": "too many requests waiting"},
    504: {"model": ErrorBody, "description": "inference exceeded the per-request time limit"},
}

_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The audio: a multipart form with a file field (``file``), or the raw bytes of an audio "
        "file (WAV, FLAC, OGG, MP3, AIFF; webm and m4a when ffmpeg is installed).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
            "audio/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

_PREDICT_EXTRA = {
    **_PREDICT_BODY,
    "parameters": [
        {
            "name": "emotions",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "comma-separated emotions to predict over (at least two of the model's labels), e.g. "
            "angry,happy,neutral,sad: probabilities are renormalised over them",
        }
    ],
}


# ------------------------------------------------------------------------------------------ audio input
def sniff_format(data: bytes) -> str | None:
    """The container a byte string starts with (``wav``, ``flac``, ...), or None when it is not audio."""
    head = bytes(data[:12])
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"riff":
        return "w64"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"caff":
        return "caf"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "mp4"
    return None


_RAW_TYPES = ("audio/", "application/octet-stream", "video/webm", "video/ogg", "video/mp4")


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes (declared or streamed),
    and with 408 when the whole body has not arrived within ``timeout`` seconds (a slow-body client)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"request body of {int(declared)} bytes exceeds the upload limit of {limit} bytes",
        )
    parts, seen = [], 0

    async def collect() -> None:
        nonlocal seen
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise ApiError(
                    413, "payload_too_large", f"request body exceeds the upload limit of {limit} bytes"
                )
            parts.append(chunk)

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        raise ApiError(
            408,
            "request_timeout",
            f"the request body did not arrive within {timeout:g} s ({seen} bytes received)",
        ) from None
    return b"".join(parts)


async def read_upload(request: Request, limit: int, timeout: float | None = None) -> tuple[bytes, str]:
    """The uploaded audio and its name, from a multipart form or a raw body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "multipart/form-data" and not ctype.startswith(_RAW_TYPES):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {ctype!r} is not accepted: send the audio as multipart/form-data "
            "(field 'file') or as a raw body typed audio/* or application/octet-stream",
        )
    body = await read_body(request, limit, timeout)
    if ctype != "multipart/form-data":
        return body, request.headers.get("x-filename") or "<body>"

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=16)
    except StarletteHTTPException as exc:
        raise ApiError(422, "invalid_form", f"malformed multipart form ({exc.detail})") from None
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            upload = next((v for _, v in form.multi_items() if not isinstance(v, str)), None)
        if upload is None:
            raise ApiError(
                422, "missing_file", "the form holds no file: send the audio in a field named 'file'"
            )
        return await upload.read(), upload.filename or "<upload>"
    finally:
        await form.close()


# ------------------------------------------------------------------------------------------ inference
class InferenceRunner:
    """Runs blocking work in a bounded thread pool with a time limit, off the event loop.

    :meth:`slot` counts a request against ``max_pending`` from the moment its body starts arriving (a
    buffered upload holds memory too), and :meth:`run` cancels the work itself when the time runs out:
    the job's thread sees :func:`emovox.audio.check_cancelled` raise between decode blocks and encoder
    windows, so a timed-out request stops using CPU within about a second instead of running on unseen.
    """

    def __init__(self, workers: int, timeout: float, max_pending: int):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emovox-infer")
        self.timeout, self.max_pending, self.pending = timeout, max_pending, 0

    @asynccontextmanager
    async def slot(self):
        if self.pending >= self.max_pending:
            raise ApiError(503, "busy", f"{self.pending} requests are already waiting; try again shortly")
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        stop = threading.Event()

        def job() -> Any:
            if stop.is_set():
                raise Cancelled("stopped before it started: the request's time limit passed")
            with cancellable(stop):
                return fn(*args)

        future = asyncio.get_running_loop().run_in_executor(self.pool, job)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            stop.set()  # a queued job never starts; a running one stops at its next check
            raise ApiError(
                504, "timeout", f"inference took longer than the {self.timeout:g} s per-request limit"
            ) from None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _timeline(model, y: np.ndarray) -> list[dict]:
    """Speech segments of ``y`` (at the model's rate) with their emotions, from :mod:`emovox.live`."""
    from ..live import timeline

    return [_segment(s) for s in timeline(y, model)]


def _segment(s) -> dict[str, Any]:
    """One timeline segment as the API answers it (plain floats)."""
    return {
        "start": round(float(s.start), 3),
        "end": round(float(s.end), 3),
        "emotion": s.emotion,
        "confidence": None if s.confidence is None else float(s.confidence),
        "speech": s.speech,
        "uncertain": s.uncertain,
        "probabilities": {k: float(v) for k, v in s.probabilities.items()},
    }


def _answer(model, pred, emotions: list[str] | None) -> dict[str, Any]:
    """The parts of a ``/v1/predict`` answer every path shares; no speech: no confidence, no probabilities."""
    out = pred.to_dict()
    out.update(
        labels=emotions or list(model.labels), timeline=None, timeline_error=None, model=model.path.name
    )
    if not pred.speech:
        out.update(confidence=None, uncertain=False, probabilities={})
    return out


def decode(model, data: bytes, name: str, max_seconds: float | None = None) -> np.ndarray:
    """The upload as mono float32 at the model's rate; 415 for what is not audio, 422 for broken audio,
    413 for more than ``max_seconds`` of audio (refused from the header, before decoding, when it tells)."""
    if not data:
        raise ApiError(422, "empty_upload", f"{name}: empty upload (zero bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{name}: not a recognised audio format (first bytes {bytes(data[:8])!r}); "
            "send WAV, FLAC, OGG, MP3 or AIFF",
        )
    try:
        y = load_audio(data, model.sample_rate, name=name, max_seconds=max_seconds)
    except AudioLimitError as exc:
        raise ApiError(413, "audio_too_long", str(exc)) from None
    except AudioError as exc:
        msg = str(exc)
        if "ffmpeg is not installed" in msg:
            raise ApiError(415, "unsupported_media_type", msg) from None
        raise ApiError(422, "invalid_audio", msg) from None
    return y


def parse_emotions(model, text: str | None) -> list[str] | None:
    """The ``?emotions=angry,happy,...`` query parameter as model labels; 422 naming the valid ones."""
    if text is None or not text.strip():
        return None
    from ..calibration import restrict

    wanted = [e.strip().lower() for e in text.split(",") if e.strip()]
    try:
        restrict(np.ones((1, len(model.labels))), list(model.labels), wanted)
    except ValueError as exc:
        raise ApiError(422, "invalid_emotions", f"emotions: {exc}") from None
    return list(dict.fromkeys(wanted))


def analyse(
    model,
    data: bytes,
    name: str,
    timeline_after: float,
    emotions: list[str] | None = None,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Decode ``data`` and predict: the body of a ``/v1/predict`` answer (raises :class:`ApiError`).

    Audio without speech answers ``speech: false`` and no emotion; ``emotions`` restricts the answer to
    those labels (probabilities renormalised over them).
    """
    t0 = time.perf_counter()
    from ..audio import STREAM_AFTER_SECONDS, audio_duration

    declared = audio_duration(data) if sniff_format(data) else None
    if declared and declared > STREAM_AFTER_SECONDS:
        return _analyse_long(model, data, name, declared, timeline_after, emotions, max_seconds, t0)
    y = decode(model, data, name, max_seconds)
    duration = y.size / model.sample_rate
    try:
        pred = model.predict_signal(y, name, emotions=emotions)
    except EmovoxError as exc:
        raise ApiError(422, "unprocessable_audio", f"{name}: {exc}") from None
    out = _answer(model, pred, emotions)
    out.update(duration=round(duration, 3))
    if not pred.speech:
        out.update(elapsed_ms=round(1000 * (time.perf_counter() - t0), 1))
        return out
    segments, why = None, None
    if duration > timeline_after:
        try:
            segments = _timeline(model, y)
        except (ImportError, EmovoxError) as exc:  # e.g. webrtcvad missing: still answer the prediction
            why = f"no timeline: {exc}"
            log.warning("%s: %s", name, why)
    out.update(timeline=segments, timeline_error=why, elapsed_ms=round(1000 * (time.perf_counter() - t0), 1))
    return out


def _analyse_long(
    model, data: bytes, name: str, duration: float, timeline_after: float, emotions, max_seconds, t0
) -> dict:
    """:func:`analyse` of a long upload (``duration`` seconds, from its header), window by window: the decoded
    audio is never held whole."""
    from ..audio import DEFAULT_MIN_DURATION, stream_audio
    from ..live import iter_timeline

    def chunks():
        return stream_audio(
            data,
            model.sample_rate,
            max_seconds=max_seconds,
            min_duration=DEFAULT_MIN_DURATION,
            name=name,
            chunk_seconds=5.0,
        )

    try:
        pred = model.predict_stream(data, name, emotions=emotions, max_seconds=max_seconds)
        out = _answer(model, pred, emotions)
        if pred.speech and duration > timeline_after:
            try:
                segments = [
                    _segment(seg)
                    for seg in iter_timeline(chunks(), model, on_chunk=lambda c, t: check_cancelled())
                ]
                out.update(timeline=segments)
            except ImportError as exc:
                out.update(timeline_error=f"no timeline: {exc}")
    except AudioLimitError as exc:
        raise ApiError(413, "audio_too_long", str(exc)) from None
    except Cancelled:
        raise
    except EmovoxError as exc:
        raise ApiError(422, "invalid_audio", str(exc)) from None
    out.update(duration=round(duration, 3), elapsed_ms=round(1000 * (time.perf_counter() - t0), 1))
    return out


def reaction(model, data: bytes, name: str, max_seconds: float | None = None) -> dict[str, Any]:
    """The emotion of a spoken reaction (speech segments only, as :func:`emovox.live.session.react`)."""
    from ..live.session import react

    t0 = time.perf_counter()
    y = decode(model, data, name, max_seconds)
    try:
        emotion, confidence, probabilities, speech = react(model, y)
    except EmovoxError as exc:
        raise ApiError(422, "unprocessable_audio", f"{name}: {exc}") from None
    return {
        "source": name,
        "emotion": emotion,
        "confidence": confidence,
        "probabilities": probabilities,
        "speech_seconds": round(speech, 3),
        "labels": list(model.labels),
        "duration": round(y.size / model.sample_rate, 3),
        "model": model.path.name,
        "elapsed_ms": round(1000 * (time.perf_counter() - t0), 1),
    }


def model_info(model) -> dict[str, Any]:
    meta = model.metadata
    front = meta.get("frontend", {})
    return {
        "name": model.path.name,
        "kind": meta.get("kind"),
        "labels": list(model.labels),
        "sample_rate": int(model.sample_rate),
        "version": meta.get("version") or meta.get("emovox_version"),
        "emovox_version": __version__,
        "headline": meta.get("headline"),
        "metrics": meta.get("metrics"),
        "calibration": meta.get("calibration"),
        "per_class_recall": meta.get("per_class_recall"),
        "training": meta.get("training"),
        "recipe": meta.get("model"),
        "frontend": {
            "type": front.get("type"),
            "name": (front.get("config") or {}).get("name", front.get("encoder")),
        },
        "files": dict(meta.get("files", {})),
    }


# ------------------------------------------------------------------------------------------ the app
def _host_name(value: str) -> str:
    """``host`` of a ``host[:port]`` / ``[v6]:port`` Host header, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def forbidden_origin(request: Request, settings: ServerSettings) -> str | None:
    """Why a request must be refused with 403 (one line), or None.

    DNS rebinding: the ``Host`` must be a loopback name, the address the server is bound to, or one of
    ``settings.allowed_hosts``. Cross-site requests: a browser sends ``Origin`` with every POST; it must
    be this server's own origin (``scheme://Host``), so a web page the user visits cannot post to a
    server on 127.0.0.1. Plain clients (curl, scripts) send no ``Origin`` and are not affected.
    """
    host_header = request.headers.get("host", "")
    host = _host_name(host_header)
    bound = (request.scope.get("server") or ("", 0))[0] or ""
    allowed = {
        *LOOPBACK_HOSTS,
        "testserver",
        str(bound).lower(),
        *(h.lower() for h in settings.allowed_hosts),
    }
    if bound in ("0.0.0.0", "::") and _is_ip(host):  # listening on every address: any IP of it is fine
        allowed.add(host)
    if host_header and host not in allowed:
        return f"Host {host_header!r} is not a name this server answers to (DNS rebinding?)"
    origin = request.headers.get("origin")
    if origin is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
        own = f"{request.url.scheme}://{host_header}".lower()
        if origin.lower().rstrip("/") != own:
            return (
                f"cross-origin request from {origin!r} refused: only this server's own page ({own}) may post"
            )
    return None


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "code": code, "error": message}, status_code=status)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def create_app(model=None, settings: ServerSettings | None = None) -> FastAPI:
    """The application serving ``model``.

    Parameters
    ----------
    model : EmotionModel, path or bundled name, optional
        Loaded now, so that a bad model fails before the server starts (the bundled default when omitted).
    settings : ServerSettings, optional
        Limits; the defaults when omitted.

    Returns
    -------
    fastapi.FastAPI
        With ``app.state.model``, ``app.state.settings`` and ``app.state.runner``.
    """
    from ..inference import load_model

    model = model if hasattr(model, "proba_signal") else load_model(model)
    settings = settings or ServerSettings()
    runner = InferenceRunner(settings.n_workers(), settings.request_timeout, settings.max_pending)
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.close()

    # FastAPIOffline serves Swagger UI / ReDoc from files in the package: /docs works without a network
    app = FastAPIOffline(
        title="emovox",
        version=__version__,
        summary="Speech emotion recognition: the emotion of a recording, with every probability.",
        description="Send audio to `POST /v1/predict`; read what the model is and how well it was measured "
        "(speaker-independent cross-validation) at `GET /v1/model`. The web page is at `/`.",
        lifespan=lifespan,
    )
    app.state.model, app.state.settings, app.state.runner = model, settings, runner

    @app.middleware("http")
    async def _origin_host_check(request: Request, call_next):
        why = forbidden_origin(request, settings)
        if why:
            return _error(403, "forbidden_origin", why)
        return await call_next(request)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(Cancelled)
    async def _cancelled(request: Request, exc: Cancelled) -> JSONResponse:
        return _error(504, "timeout", str(exc))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", f"internal error ({type(exc).__name__}); see the server log")

    @app.post(
        "/v1/predict",
        response_model=PredictResponse,
        responses=_ERRORS,
        openapi_extra=_PREDICT_EXTRA,
        summary="Emotion of an audio file",
        tags=["prediction"],
    )
    async def predict(request: Request) -> dict[str, Any]:
        """The emotion of the uploaded audio, every label's probability, and a timeline for long audio."""
        emotions = parse_emotions(model, request.query_params.get("emotions"))
        async with runner.slot():
            data, name = await read_upload(request, settings.max_upload_bytes, settings.read_timeout)
            return await runner.run(
                analyse, model, data, name, settings.timeline_after, emotions, settings.max_seconds
            )

    @app.post(
        "/v1/react",
        response_model=ReactionResponse,
        responses=_ERRORS,
        openapi_extra=_PREDICT_BODY,
        summary="Emotion of a spoken reaction",
        tags=["prediction"],
    )
    async def react(request: Request) -> dict[str, Any]:
        """The emotion of the speech in a recorded reaction (silence ignored), for picture-reaction sessions."""
        async with runner.slot():
            data, name = await read_upload(request, settings.max_upload_bytes, settings.read_timeout)
            return await runner.run(reaction, model, data, name, settings.max_seconds)

    @app.get("/v1/model", response_model=ModelInfo, summary="The loaded model", tags=["model"])
    async def get_model() -> dict[str, Any]:
        """Labels, cross-validated metrics, version and training data of the loaded model."""
        return model_info(model)

    @app.get("/healthz", response_model=Health, summary="Liveness", tags=["service"])
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": model.path.name, "uptime_s": round(time.monotonic() - started, 3)}

    @app.get("/v1/pictures", response_model=PictureList, summary="Demo pictures", tags=["pictures"])
    async def pictures() -> dict[str, Any]:
        """Generated pictures for the picture-reaction session, limited to emotions the model detects."""
        return {
            "pictures": [
                {
                    "id": p.id,
                    "title": p.title,
                    "expected": p.expected,
                    "prompt": p.prompt,
                    "url": f"/v1/pictures/{p.id}.svg",
                }
                for p in demo_pictures(model.labels)
            ]
        }

    @app.get(
        "/v1/pictures/{picture_id}.svg",
        summary="One demo picture (SVG)",
        tags=["pictures"],
        response_class=Response,
        responses={200: {"content": {"image/svg+xml": {}}}, 404: {"model": ErrorBody}},
    )
    async def picture(picture_id: str) -> Response:
        pic = find_picture(picture_id)
        if pic is None:
            raise ApiError(404, "not_found", f"no demo picture {picture_id!r}")
        return Response(pic.svg(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def serve(
    model=None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
    log_level: str = "info",
) -> None:
    """Load ``model`` and serve it with uvicorn until interrupted (blocking)."""
    import uvicorn

    if host not in LOOPBACK_HOSTS:
        log.warning(
            "listening on %s: the server is reachable from other machines and has no authentication", host
        )
    app = create_app(model, settings)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"emovox: serving model {app.state.model.path.name!r} on http://{shown}:{port}/ "
        "(API docs at /docs; Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    # slow-header and idle-connection limits: h11 refuses a header block over 16 KiB, idle keep-alive
    # connections close after 5 s; a slow body gets 408 after settings.read_timeout (read_body)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        limit_concurrency=(app.state.settings.max_pending + 16),
    )
