"""The server's expected failures, and the JSON every error is answered with."""

from __future__ import annotations

from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An expected failure: answered as JSON with ``status``, a short ``code`` and a one-line message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """``{"status": ..., "code": ..., "error": ...}`` with that HTTP status."""
    return JSONResponse({"status": status, "code": code, "error": message}, status_code=status)
