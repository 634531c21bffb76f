"""The HTTP connection: uvicorn's h11 protocol with a deadline on each request's head.

uvicorn closes a keep-alive connection that sends nothing for ``timeout_keep_alive`` seconds, but not one
that sends a request line and then a header line now and then (slowloris): 330 such sockets held every
connection slot, and everyone else got 503s, for as long as their client liked. Here a request's head
(request line and headers) must arrive whole within :data:`HEADER_SECONDS` of the connection opening or of
the previous response ending; otherwise the connection is closed. A slow *body* is the application's to
time out (408, ``--read-timeout``).

A client may hold at most :data:`IDLE_PER_CLIENT` connections without a request under way (``emovox serve
--idle-per-client``: behind a reverse proxy every user comes from its address); a new one closes its
oldest: 340 sockets that sent nothing, reopened as they were closed, held every slot of uvicorn's
connection limit, which counts them, and ``/healthz`` answered 503. A request that cannot be parsed gets
the application's JSON error shape (400), not uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import IDLE_PER_CLIENT

log = logging.getLogger(__name__)

#: Seconds a client has to send a whole request head.
HEADER_SECONDS = 10.0
#: How long a client over its idle limit keeps its extra connections: long enough for requests already
#: sent on them to be read (then they are not idle).
EVICT_AFTER_SECONDS = 0.1


class HeaderDeadlineProtocol(H11Protocol):
    """:class:`uvicorn.protocols.http.h11_impl.H11Protocol` that closes a connection whose request head is
    not complete :data:`HEADER_SECONDS` after it opened or after its previous response."""

    _deadline: asyncio.TimerHandle | None = None
    #: connections one client address may keep open with no request under way (:func:`with_idle_limit`)
    idle_per_client: int = IDLE_PER_CLIENT
    #: each client address's connections waiting for a request head, oldest first (one event loop: no lock)
    _idle: dict[str, dict[HeaderDeadlineProtocol, None]] = {}

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock on the first request's head (and count the connection as idle).

        Parameters
        ----------
        transport : asyncio.Transport
            The new connection.
        """
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock and forget the connection.

        Parameters
        ----------
        exc : Exception or None
            Why it was lost (None: closed normally).
        """
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a whole head arrived: the request is the application's now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request's head gets the same time

    def send_400_response(self, msg: str) -> None:
        """Answer a request that cannot be parsed with the application's JSON error (400), then close the
        connection.

        Parameters
        ----------
        msg : str
            h11's reason, not sent: the body is always the same.
        """
        body = {
            "status": 400,
            "code": "bad_request",
            "error": "malformed HTTP request (request line or headers)",
        }
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        self.transport.write(
            self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request"))
        )
        self.transport.write(self.conn.send(h11.Data(data=json.dumps(body).encode())))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(HEADER_SECONDS, self._expire)
        idle = self._idle.setdefault(self._who(), {})
        idle[self] = None
        if len(idle) > self.idle_per_client:  # this client's oldest connections without a request go, once
            # the loop has read what is already waiting: a burst of whole requests (a proxy's, a pool's)
            # counted as idle until parsed, and the oldest of them was closed unanswered
            self.loop.call_later(EVICT_AFTER_SECONDS, self._evict, self._who())

    def _evict(self, who: str) -> None:
        idle = self._idle.get(who, {})
        while len(idle) > self.idle_per_client:
            oldest = next(iter(idle))
            oldest._disarm()  # (which takes it out of ``idle``)
            oldest.transport.close()

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        idle = self._idle.get(self._who())
        if idle is not None:
            idle.pop(self, None)
            if not idle:
                del self._idle[self._who()]

    def _who(self) -> str:
        return self.client[0] if self.client else ""

    def _expire(self) -> None:
        self._deadline = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            who = "{}:{}".format(*self.client) if self.client else "a client"
            log.info("%s: no complete request head in %g s; connection closed", who, HEADER_SECONDS)
            self.transport.close()


def with_idle_limit(idle_per_client: int) -> type[HeaderDeadlineProtocol]:
    """:class:`HeaderDeadlineProtocol` with another limit on each client's idle connections (uvicorn builds
    its protocol from a class).

    Parameters
    ----------
    idle_per_client : int
        Connections one client address may keep open with no request under way.

    Returns
    -------
    type
        A subclass of :class:`HeaderDeadlineProtocol`.
    """
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"idle_per_client": idle_per_client})
