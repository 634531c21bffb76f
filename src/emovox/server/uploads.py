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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..audio.sniff import SNIFF_BYTES
from .errors import ApiError

log = logging.getLogger(__name__)

#: Bodies up to this many bytes stay in memory; larger ones go to a temporary file.
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024

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
        """Append ``chunk``, moving the body to a temporary file once it outgrows memory.

        Parameters
        ----------
        chunk : bytes
            The next bytes of the body.
        """
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


async def _receive(
    request: Request, limit: int, timeout: float | None, take: Callable[[bytes], Awaitable[None]]
) -> None:
    """Pass the request body to ``take`` a chunk at a time, refused with 413 as soon as it exceeds ``limit``
    bytes (declared or streamed), and with 408 when it has not all arrived within ``timeout`` seconds (a
    slow-body client)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"the upload ({_mb(int(declared))}) is larger than the upload limit of {_mb(limit)}",
        )
    seen = 0

    async def collect() -> None:
        nonlocal seen
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                raise ApiError(
                    413, "payload_too_large", f"the upload is larger than the upload limit of {_mb(limit)}"
                )
            await take(chunk)

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        raise ApiError(
            408,
            "request_timeout",
            f"the request body did not arrive within {timeout:g} s ({seen} bytes received)",
        ) from None


async def read_body(request: Request, limit: int, timeout: float | None = None) -> SpooledBody:
    """The request body (:func:`_receive`'s limits). The caller closes the returned body; on any failure
    here it is closed already.

    Parameters
    ----------
    request : starlette.requests.Request
        The request whose body to read.
    limit : int
        Most bytes accepted (413 beyond).
    timeout : float, optional
        Seconds the whole body may take to arrive (408 beyond; default None: no limit).

    Returns
    -------
    SpooledBody

    Raises
    ------
    ApiError
        413 ``payload_too_large`` or 408 ``request_timeout``.
    """
    body = SpooledBody()
    try:
        await _receive(request, limit, timeout, body.write)
        body.finish()
    except BaseException:
        body.close()
        raise
    return body


#: Plain (non-file) fields a form may hold beside its file, and the bytes each may have.
MAX_FORM_FIELDS = 16
MAX_FIELD_BYTES = 64 * 1024


def _extended_filename(disposition: bytes) -> bytes | None:
    """The RFC 5987 ``filename*=UTF-8''%e2%82%ac.wav`` of a part's disposition, decoded to UTF-8 bytes
    (python-multipart's parser drops it); None without one."""
    import re
    from urllib.parse import unquote_to_bytes

    found = re.search(rb"filename\*\s*=\s*([^;]+)", disposition)
    if not found:
        return None
    charset, _, rest = found.group(1).strip().strip(b'"').partition(b"'")
    encoded = rest.partition(b"'")[2]
    try:
        return unquote_to_bytes(encoded).decode(charset.decode("ascii") or "utf-8").encode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return unquote_to_bytes(encoded).decode("latin-1").encode("utf-8")


class _FormFile:
    """A multipart form parsed as it arrives, its one file written straight into a :class:`SpooledBody`
    (once: not spooled whole first, then copied out of a parsed form). Plain fields are counted, not kept."""

    def __init__(self, boundary: bytes) -> None:
        from python_multipart import MultipartParser
        from python_multipart.multipart import parse_options_header

        self._options = parse_options_header
        self.body = SpooledBody()
        self.name: str | None = None  # the file's name (its filename)
        self.ended = False
        self._fields = 0
        self._in_file = False
        self._field_bytes = 0
        self._header, self._value_bytes, self._headers = b"", b"", {}
        self._pending: list[bytes] = []  # the file's bytes from one chunk, written once it is parsed
        callbacks = {
            "on_part_begin": self._begin,
            "on_header_field": self._header_name,
            "on_header_value": self._value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_end": lambda: setattr(self, "ended", True),
        }
        self._parser = MultipartParser(boundary, callbacks)

    def _begin(self) -> None:
        self._headers, self._header, self._value_bytes, self._in_file = {}, b"", b"", False

    def _header_name(self, d: bytes, a: int, b: int) -> None:
        self._header += d[a:b]

    def _value(self, d: bytes, a: int, b: int) -> None:
        self._value_bytes += d[a:b]

    def _header_end(self) -> None:
        self._headers[self._header.strip().lower()] = self._value_bytes
        self._header, self._value_bytes = b"", b""

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"")
        _, params = self._options(disposition)
        raw = params.get(b"filename", _extended_filename(disposition))
        if raw is None and params.get(b"name") == b"file":  # (curl -F "file=<a.wav": the file, unnamed)
            raw = b""
        if raw is None:  # a plain field
            self._fields += 1
            self._field_bytes = 0
            if self._fields > MAX_FORM_FIELDS:
                raise ApiError(422, "invalid_form", f"the form holds more than {MAX_FORM_FIELDS} fields")
            return
        if self.name is not None:
            raise ApiError(422, "too_many_files", "the form holds more than one file: send one")
        self.name = upload_name(raw) or "<upload>"
        self._in_file = True

    def _data(self, d: bytes, a: int, b: int) -> None:
        if self._in_file:
            self._pending.append(d[a:b])
            return
        self._field_bytes += b - a
        if self._field_bytes > MAX_FIELD_BYTES:
            raise ApiError(422, "invalid_form", f"a plain field of the form is over {_mb(MAX_FIELD_BYTES)}")

    async def write(self, chunk: bytes) -> None:
        from python_multipart.exceptions import MultipartParseError

        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise ApiError(422, "invalid_form", f"malformed multipart form ({exc})") from None
        pending, self._pending = self._pending, []
        for part in pending:
            await self.body.write(part)


def upload_name(raw: bytes) -> str:
    """An upload's file name as answers and errors give it: UTF-8, else latin-1 (an old client's), its
    control characters escaped, so that an error stays one line.

    Parameters
    ----------
    raw : bytes
        The name as sent.

    Returns
    -------
    str

    Examples
    --------
    >>> upload_name("mé.flac".encode()), upload_name("mé.flac".encode("latin-1"))
    ('mé.flac', 'mé.flac')
    >>> print(upload_name(bytes([97, 10, 98])))  # a, a line feed, b
    a\\nb
    """
    from ..paths import display_path

    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = raw.decode("latin-1")
    return display_path(name)


async def _form_file(request: Request, limit: int, timeout: float | None) -> tuple[SpooledBody, str]:
    """The file of a multipart form, received once into a body of its own; the caller closes it."""
    from python_multipart.multipart import parse_options_header

    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(422, "invalid_form", "malformed multipart form (no boundary in its content type)")
    if len(boundary) > 256:  # (RFC 2046 allows 70; the parser's own refusal beyond 256 was a 500)
        raise ApiError(
            422, "invalid_form", f"malformed multipart form (a boundary of {len(boundary)} characters)"
        )
    form = _FormFile(boundary)
    try:
        await _receive(request, limit, timeout, form.write)
        if form.name is None:
            raise ApiError(
                422, "missing_file", "the form holds no file: send the audio in a field named 'file'"
            )
        if not form.ended:
            raise ApiError(
                422, "invalid_form", "malformed multipart form (it ends before its closing boundary)"
            )
        form.body.finish()
    except BaseException:
        form.body.close()
        raise
    return form.body, form.name


async def read_upload(request: Request, limit: int, timeout: float | None = None) -> tuple[SpooledBody, str]:
    """The uploaded audio and its name, from a multipart form or a raw body; the caller closes the body.

    Parameters
    ----------
    request : starlette.requests.Request
        The request: a multipart form with a ``file`` field, or a raw body typed ``audio/*``,
        ``application/octet-stream`` or a video type (named by an ``X-Filename`` header).
    limit : int
        Most bytes accepted (413 beyond).
    timeout : float, optional
        Seconds the whole body may take to arrive (408 beyond; default None: no limit).

    Returns
    -------
    (SpooledBody, str)
        The audio, and its name: the form's file name (``<upload>`` when it gives none), or a raw body's
        ``X-Filename`` (``<body>`` without one).

    Raises
    ------
    ApiError
        415 for another content type; 413, 408, or 422 for a malformed form or one without a file.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "multipart/form-data" and not ctype.startswith(_RAW_TYPES):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {ctype!r} is not accepted: send the audio as multipart/form-data "
            "(field 'file') or as a raw body typed audio/* or application/octet-stream",
        )
    if ctype == "multipart/form-data":
        return await _form_file(request, limit, timeout)
    given = request.headers.get("x-filename")  # (Starlette decodes a header as latin-1)
    return await read_body(request, limit, timeout), upload_name(
        given.encode("latin-1")
    ) if given else "<body>"
