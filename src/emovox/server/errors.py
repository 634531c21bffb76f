"""The server's expected failures, and the JSON every error is answered with."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An expected failure: answered as JSON with ``status``, a short ``code`` and a one-line message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


#: Errors that may be answered before the request body was read to its end (a slow or oversized body,
#: its type, its query): the connection closes with the answer, or the server would go on reading the rest
#: of a body nobody will use (a client trickling it for ever).
CLOSE_AFTER = frozenset({408, 413, 415, 422})


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """``{"status": ..., "code": ..., "error": ...}`` with that HTTP status (and ``Connection: close`` for
    :data:`CLOSE_AFTER`).

    Parameters
    ----------
    status : int
        HTTP status.
    code : str
        Machine-readable error code (``invalid_audio``...).
    message : str
        One line for a person.

    Returns
    -------
    starlette.responses.JSONResponse
    """
    headers = {"Connection": "close"} if status in CLOSE_AFTER else None
    return JSONResponse(
        {"status": status, "code": code, "error": message}, status_code=status, headers=headers
    )
