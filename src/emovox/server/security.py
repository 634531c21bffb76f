"""Which requests the server refuses with 403: DNS rebinding and cross-site posts."""

from __future__ import annotations

import ipaddress

from fastapi import Request

from .settings import ServerSettings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _host_name(value: str) -> str:
    """``host`` of a ``host[:port]`` / ``[v6]:port`` Host header, lower case."""
    value = value.strip().lower()
    if value.startswith("["):  # only ":port" may follow the bracket ("[::1]evil.com" is no loopback)
        end = value.find("]")
        rest = value[end + 1 :] if end > 0 else ""
        ok = end > 0 and (not rest or (rest[0] == ":" and rest[1:].isdigit()))
        return value[1:end] if ok else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def forbidden_origin(request: Request, settings: ServerSettings) -> str | None:
    """Why a request must be refused with 403 (one line), or None.

    DNS rebinding: the ``Host`` must be a loopback name, the address the server is bound to, or one of
    ``settings.allowed_hosts``. Cross-site requests: a browser sends ``Origin`` with every POST; it must
    be this server's own origin (``scheme://Host``), so a web page the user visits cannot post to a
    server on 127.0.0.1. Plain clients (curl, scripts) send no ``Origin`` and are not affected.

    Parameters
    ----------
    request : starlette.requests.Request
        The request.
    settings : ServerSettings
        Gives ``allowed_hosts``.

    Returns
    -------
    str or None
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
