"""The FastAPI application behind ``emovox serve``.

Endpoints
---------
``POST /v1/predict``
    Audio as a multipart file (any field name; ``file`` by convention) or as the raw request body.
    Answers the emotion, every probability, and for audio longer than ``timeline_after`` (10 s unless set)
    a timeline of speech segments (:func:`emovox.live.timeline`). Query: ``emotions`` (restrict and renormalise), ``timeline``
    (``1`` / ``0``: always / never); any other parameter is a 422.
``POST /v1/react``
    The same input; the emotion of the speech only (silence ignored), as the picture-reaction session uses.
    Query: ``emotions``, as ``/v1/predict`` takes it; any other parameter is a 422.
``GET /v1/model``
    Labels, metrics, version and training data of the loaded model; ``limits``: the upload limits.
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
request never blocks the event loop (nor ``/healthz``). A large upload is spooled to a temporary file as it
arrives and decoded from there (:mod:`emovox.server.uploads`).

The other modules here: :mod:`~emovox.server.schemas` (response models), :mod:`~emovox.server.uploads`
(body limits, multipart), :mod:`~emovox.audio.sniff` (audio format of a body),
:mod:`~emovox.server.analysis` (what the prediction endpoints compute), :mod:`~emovox.server.runner`
(the inference threads), :mod:`~emovox.server.security` (Host and Origin checks).
"""

from __future__ import annotations

import errno
import logging
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import __version__
from ..errors import Cancelled
from .analysis import analyse, parse_query, reaction
from .errors import ApiError, error_response
from .pictures import demo_pictures, find_picture
from .runner import InferenceRunner
from .schemas import (
    COMMON_ERRORS,
    ERRORS,
    PREDICT_EXTRA,
    REACT_EXTRA,
    ErrorBody,
    Health,
    ModelInfo,
    PictureList,
    PredictResponse,
    ReactionResponse,
)
from .security import LOOPBACK_HOSTS, forbidden_origin
from .settings import ServerSettings
from .uploads import read_upload

if TYPE_CHECKING:
    from ..inference import EmotionModel

__all__ = ["ApiError", "InferenceRunner", "ServerSettings", "create_app", "serve"]

#: What a full disk, a full quota or a file-size limit raise while an upload is spooled to disk.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


#: Requests open at once beyond ``max_pending`` (model info, health, pages) before :class:`OpenRequests`
#: answers 503.
OPEN_BEYOND_PENDING = 16


class OpenRequests:
    """ASGI middleware: at most ``limit`` HTTP requests in progress; beyond that a JSON 503 ``busy`` (as
    every other error), where uvicorn's own limit answers in plain text."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit, self.open = app, limit, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.open >= self.limit:
            busy = error_response(503, "busy", f"{self.open} requests are open; try again shortly")
            await busy(scope, receive, send)
            return
        self.open += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1


class OriginCheck:
    """ASGI middleware: a JSON 403 for a request whose Host or Origin this server does not answer to
    (:func:`~emovox.server.security.forbidden_origin`). Plain ASGI, not ``@app.middleware``: Starlette's
    ``BaseHTTPMiddleware`` wraps ``receive`` so that a handler never sees its client leave, and the analysis
    of a cancelled upload would run on to its end."""

    def __init__(self, app, settings: ServerSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and (why := forbidden_origin(Request(scope), self.settings)):
            await error_response(403, "forbidden_origin", why)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    model: EmotionModel | str | os.PathLike | None = None, settings: ServerSettings | None = None
) -> FastAPI:
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

    Raises
    ------
    ModelError
        When ``model`` cannot be loaded.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(settings=ServerSettings(max_upload_mb=10))  # the bundled default model
    >>> with TestClient(app) as client:
    ...     r = client.get("/healthz")
    >>> r.status_code, r.json()["status"], r.json()["model"]
    (200, 'ok', 'default')
    """
    from ..inference import load_model

    model = model if hasattr(model, "proba_signal") else load_model(model)
    settings = settings or ServerSettings()
    runner = InferenceRunner(
        settings.n_workers(), settings.request_timeout, settings.max_pending, settings.client_pending_limit
    )
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
        "(headline: leave one corpus out, on voices, languages and microphones it never heard; and "
        "speaker-independent cross-validation) at `GET /v1/model`. The web page is at `/`.",
        lifespan=lifespan,
    )
    app.state.model, app.state.settings, app.state.runner = model, settings, runner
    app.add_middleware(OpenRequests, limit=settings.max_pending + OPEN_BEYOND_PENDING)

    app.add_middleware(OriginCheck, settings=settings)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(
            exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # nobody to answer: one line, not a traceback (any client could fill the log with them)
        log.info("client went away during %s %s", request.method, request.url.path)
        return Response(status_code=499)

    @app.exception_handler(Cancelled)
    async def _cancelled(request: Request, exc: Cancelled) -> JSONResponse:
        return error_response(504, "timeout", str(exc))

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno in _NO_SPACE:  # an upload's temporary file, mostly: the disk, a quota, a file-size limit
            log.error("no disk space for %s %s: %s", request.method, request.url.path, exc)
            return error_response(
                507,
                "insufficient_storage",
                "the server has no disk space left for this request (an upload over 4 MiB is held on disk); "
                "send a shorter recording, or try later",
            )
        return await _internal_error(request, exc)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            500, "internal_error", f"internal error ({type(exc).__name__}); see the server log"
        )

    @app.post(
        "/v1/predict",
        response_model=PredictResponse,
        responses=ERRORS,
        openapi_extra=PREDICT_EXTRA,
        summary="Emotion of an audio file",
        tags=["prediction"],
    )
    async def predict(request: Request) -> dict[str, Any]:
        """The emotion of the uploaded audio, every label's probability, and a timeline for long audio."""
        q = parse_query(model, request.query_params, ("emotions", "timeline"), settings.timeline_after)
        async with runner.slot(request.client.host if request.client else None):
            body, name = await read_upload(request, settings.max_upload_bytes, settings.read_timeout)
            with body:  # a body spooled to a temporary file: deleted however the request ends
                return await runner.run(
                    analyse,
                    model,
                    body.source,
                    name,
                    q["timeline_after"],
                    q["emotions"],
                    settings.max_seconds,
                    gone=request.is_disconnected,
                )

    @app.post(
        "/v1/react",
        response_model=ReactionResponse,
        responses=ERRORS,
        openapi_extra=REACT_EXTRA,
        summary="Emotion of a spoken reaction",
        tags=["prediction"],
    )
    async def react(request: Request) -> dict[str, Any]:
        """The emotion of the speech in a recorded reaction (silence ignored), for picture-reaction sessions."""
        q = parse_query(model, request.query_params, ("emotions",), settings.timeline_after)
        async with runner.slot(request.client.host if request.client else None):
            body, name = await read_upload(request, settings.max_upload_bytes, settings.read_timeout)
            with body:
                return await runner.run(
                    reaction,
                    model,
                    body.source,
                    name,
                    settings.max_seconds,
                    q["emotions"],
                    gone=request.is_disconnected,
                )

    @app.get(
        "/v1/model",
        response_model=ModelInfo,
        responses=COMMON_ERRORS,
        summary="The loaded model",
        tags=["model"],
    )
    async def get_model() -> dict[str, Any]:
        """Labels, cross-validated metrics, version and training data of the loaded model, and this server's
        upload limits."""
        limits = {"max_upload_bytes": settings.max_upload_bytes, "max_seconds": settings.max_seconds}
        return model.info() | {"limits": limits}

    @app.get("/healthz", response_model=Health, responses=COMMON_ERRORS, summary="Liveness", tags=["service"])
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": model.path.name, "uptime_s": round(time.monotonic() - started, 3)}

    # monitors ask HEAD; a route of its own, outside the schema (one operation id per route there)
    app.head("/healthz", include_in_schema=False)(healthz)

    @app.get(
        "/v1/pictures",
        response_model=PictureList,
        responses=COMMON_ERRORS,
        summary="Demo pictures",
        tags=["pictures"],
    )
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
        responses={
            **COMMON_ERRORS,
            200: {"content": {"image/svg+xml": {}}},
            404: {"model": ErrorBody},
            422: {"model": ErrorBody, "description": "invalid request"},  # (its body, not FastAPI's)
        },
    )
    async def picture(picture_id: str) -> Response:
        pic = find_picture(picture_id)
        if pic is None:
            raise ApiError(404, "not_found", f"no demo picture {picture_id!r}")
        return Response(pic.svg(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _few_malloc_arenas(n: int = 2) -> None:
    """Cap glibc's malloc arenas before the request threads start. Each thread would otherwise get an arena of
    its own that keeps what it freed: one hour of audio through the API peaked at 315 MB with the default
    (8 per core), 278 MB with one (BENCHMARKS.md, issue 18). No-op where the C library is not glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, n)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _check_can_listen(host: str, port: int) -> None:
    """Raise :class:`EmovoxError` in one line when ``host:port`` cannot be listened on (a name that does not
    resolve, a port in use or not allowed)."""
    import socket

    from ..errors import EmovoxError, ParameterError

    if not host.strip():  # (an unset variable: --host "$HOST") uvicorn would listen on every interface
        raise ParameterError(
            f"host {host!r}: an empty address; give 127.0.0.1 (this machine only) or 0.0.0.0 (the network)"
        )
    try:  # the socket uvicorn binds: IPv6 for a host with a colon, else IPv4
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise EmovoxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    model: EmotionModel | str | os.PathLike | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
    log_level: str = "info",
) -> None:
    """Load ``model`` and serve it with uvicorn until interrupted (blocking).

    Once the model is loaded, where it is served is logged (``emovox.server.app``, INFO); ``emovox serve``
    prints that line.

    Parameters
    ----------
    model : EmotionModel, path or bundled name, optional
        As :func:`create_app` takes it (default None: the bundled default).
    host : str
        Address to listen on (default ``"127.0.0.1"``; another than loopback is logged as a warning).
    port : int
        Port to listen on (default 8000).
    settings : ServerSettings, optional
        Limits (default None: the defaults).
    log_level : str
        uvicorn's log level (default ``"info"``).

    Examples
    --------
    >>> serve("runs/svm", host="127.0.0.1", port=8000)  # blocks until Ctrl-C  # doctest: +SKIP
    """
    import uvicorn

    _few_malloc_arenas()
    _check_can_listen(host, port)  # before the model loads and "serving on ..." is logged
    if host not in LOOPBACK_HOSTS:
        log.warning(
            "listening on %s: the server is reachable from other machines and has no authentication", host
        )
    app = create_app(model, settings)
    shown = f"[{host}]" if ":" in host else host
    log.info(
        "serving model %r on http://%s:%d/ (API docs at /docs; Ctrl-C stops)",
        app.state.model.path.name,
        shown,
        port,
    )
    from .connection import with_idle_limit

    # slow-header and idle-connection limits: a request head must arrive whole within 10 s, each client
    # keeps settings.idle_per_client connections without a request (HeaderDeadlineProtocol), h11 refuses
    # a header block over 16 KiB buffered while incomplete, idle keep-alive connections close after 5 s; a
    # slow body gets 408 after settings.read_timeout (read_body)
    uvicorn.run(
        app,
        http=with_idle_limit(app.state.settings.idle_per_client),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        # a backstop on connections only: OpenRequests answers JSON 503s well before it
        limit_concurrency=4 * (app.state.settings.max_pending + OPEN_BEYOND_PENDING),
    )
