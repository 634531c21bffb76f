"""Request bodies: the upload limits, and where an upload is kept while it is decoded.

A body up to :data:`SPOOL_MEMORY_BYTES` stays in memory; a larger one is written to a temporary file as it
arrives and decoded from there window by window, so an hour of audio never sits in the server's memory.
The file is deleted when the request ends, whatever its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..audio.sniff import SNIFF_BYTES
from .errors import ApiError

log = logging.getLogger(__name__)

#: Bodies up to this many bytes stay in memory; larger ones go to a temporary file.
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024
#: Bytes read at a time when a spooled body is read back.
CHUNK_BYTES = 1024 * 1024

_RAW_TYPES = ("audio/", "application/octet-stream", "video/webm", "video/ogg", "video/mp4")


class SpooledBody:
    """An upload being received: in memory up to ``memory_limit`` bytes, beyond that in a temporary file.

    Use it as a context manager (or call :meth:`close`): leaving the block deletes the file.

    Parameters
    ----------
    memory_limit : int, optional
        Bytes kept in memory before the body moves to a file (default :data:`SPOOL_MEMORY_BYTES`).
    """

    def __init__(self, memory_limit: int | None = None):
        self.memory_limit = SPOOL_MEMORY_BYTES if memory_limit is None else memory_limit
        self.size = 0
        self.path: Path | None = None
        self._parts: list[bytes] = []
        self._head = b""
        self._file: BinaryIO | None = None

    async def write(self, chunk: bytes) -> None:
        """Append ``chunk``, moving the body to a temporary file once it outgrows memory."""
        if len(self._head) < SNIFF_BYTES:
            self._head = (self._head + chunk)[:SNIFF_BYTES]
        if self.path is None and self.size + len(chunk) > self.memory_limit:
            # here, not on a thread: a request that times out meanwhile must not leave a file created
            # after close() (a few MB to the page cache take milliseconds)
            self._rollover()
        if self._file is not None:
            # disk writes can stall (a full page cache): not on the event loop
            await run_in_threadpool(self._file.write, chunk)
        else:
            self._parts.append(chunk)
        self.size += len(chunk)

    def _rollover(self) -> None:
        fd, name = tempfile.mkstemp(prefix="emovox-upload-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        for part in self._parts:
            self._file.write(part)
        self._parts.clear()

    def finish(self) -> None:
        """The whole body has arrived: a file is flushed and closed, ready for the decoders to open."""
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def head(self) -> bytes:
        """The first bytes of the body (enough for :func:`emovox.server.sniff.sniff_format`)."""
        return self._head

    @property
    def source(self) -> bytes | Path:
        """What the decoders read: the bytes, or the temporary file's path (after :meth:`finish`)."""
        return self.path if self.path is not None else b"".join(self._parts)

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body again, a chunk at a time."""
        if self.path is None:
            for part in self._parts:
                yield part
            return
        with open(self.path, "rb") as fh:
            while chunk := await run_in_threadpool(fh.read, CHUNK_BYTES):
                yield chunk

    def close(self) -> None:
        """Forget the body and delete its temporary file."""
        self._parts.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            # a timed-out job may still be reading it: on POSIX its open handle keeps working
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # Windows refuses while that job has it open: still answer the request
                log.warning("could not delete the upload's temporary file %s: %s", self.path, exc)
            self.path = None

    def __enter__(self) -> SpooledBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mb(n: int) -> str:
    """Bytes as a person reads them in an error (MiB, as ``--max-upload-mb`` counts)."""
    return f"{n / 2**20:.1f} MiB, {n} bytes" if n >= 2**20 else f"{n} bytes"


async def read_body(request: Request, limit: int, timeout: float | None = None) -> SpooledBody:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes (declared or streamed),
    and with 408 when the whole body has not arrived within ``timeout`` seconds (a slow-body client).

    The caller closes the returned body; on any failure here it is closed already.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"the upload ({_mb(int(declared))}) is larger than the upload limit of {_mb(limit)}",
        )
    body, seen = SpooledBody(), 0

    async def collect() -> None:
        nonlocal seen
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise ApiError(
                    413, "payload_too_large", f"the upload is larger than the upload limit of {_mb(limit)}"
                )
            await body.write(chunk)

    try:
        await asyncio.wait_for(collect(), timeout)
        body.finish()
    except TimeoutError:
        body.close()
        raise ApiError(
            408,
            "request_timeout",
            f"the request body did not arrive within {timeout:g} s ({seen} bytes received)",
        ) from None
    except BaseException:
        body.close()
        raise
    return body


async def read_upload(request: Request, limit: int, timeout: float | None = None) -> tuple[SpooledBody, str]:
    """The uploaded audio and its name, from a multipart form or a raw body; the caller closes the body."""
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
    with body:
        return await _form_file(request, body)


async def _form_file(request: Request, body: SpooledBody) -> tuple[SpooledBody, str]:
    """The file of a multipart form held in ``body``, copied out to a body of its own."""
    chunks = body.chunks()

    async def replay() -> dict:
        chunk = await anext(chunks, b"")
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=16)
    except StarletteHTTPException as exc:
        if "Too many files" in str(exc.detail):  # a valid form, just not one file
            raise ApiError(422, "too_many_files", "the form holds more than one file: send one") from None
        raise ApiError(422, "invalid_form", f"malformed multipart form ({exc.detail})") from None
    finally:
        await chunks.aclose()
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            upload = next((v for _, v in form.multi_items() if not isinstance(v, str)), None)
        if upload is None:
            raise ApiError(
                422, "missing_file", "the form holds no file: send the audio in a field named 'file'"
            )
        out = SpooledBody()
        try:
            while chunk := await upload.read(CHUNK_BYTES):
                await out.write(chunk)
            out.finish()
        except BaseException:
            out.close()
            raise
        return out, upload.filename or "<upload>"
    finally:
        await form.close()
