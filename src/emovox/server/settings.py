"""Limits and behaviour of ``emovox serve``."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import ParameterError

#: Connections one client address may keep open with no request under way (a browser opens about six).
IDLE_PER_CLIENT = 32


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
    idle_per_client : int
        Connections one client address may keep open with no request under way; a new one closes the
        oldest (a browser opens about six; behind a reverse proxy, every user shares its address).
    pending_per_client : int, optional
        Of ``max_pending``, how many one client address may hold (its next gets 429), so that one client
        sending bodies slowly cannot keep everyone else at 503; None (default): a quarter of
        ``max_pending`` (behind a reverse proxy, every user shares its address: raise it).

    Raises
    ------
    ParameterError
        When a limit is not a positive number (``timeline_after``: not >= 0), a count is below 1,
        ``pending_per_client`` exceeds ``max_pending``, or an ``allowed_hosts`` entry is not a host name.

    Examples
    --------
    >>> s = ServerSettings(max_upload_mb=10, workers=2)
    >>> s.max_upload_bytes, s.client_pending_limit
    (10485760, 16)
    >>> ServerSettings(request_timeout=0)
    Traceback (most recent call last):
    ...
    emovox.errors.ParameterError: request_timeout 0: expected a positive number
    """

    max_upload_mb: float = 50.0
    request_timeout: float = 30.0
    workers: int | None = None
    max_pending: int = 64
    timeline_after: float = 10.0
    max_seconds: float = 600.0
    read_timeout: float = 30.0
    allowed_hosts: tuple[str, ...] = ()
    idle_per_client: int = IDLE_PER_CLIENT
    pending_per_client: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "request_timeout", "max_seconds", "read_timeout", "timeline_after"):
            value = getattr(self, name)
            least = 0.0 if name == "timeline_after" else None
            ok = isinstance(value, int | float) and math.isfinite(value)
            if not (ok and (value >= least if least is not None else value > 0)):
                expected = "a number of seconds >= 0" if least is not None else "a positive number"
                shown = f"{value:g}" if isinstance(value, int | float) else repr(value)
                raise ParameterError(f"{name} {shown}: expected {expected}")
        if self.workers is not None and not (isinstance(self.workers, int) and self.workers >= 1):
            raise ParameterError(f"workers {self.workers!r}: expected at least 1 inference thread")
        if not (isinstance(self.max_pending, int) and self.max_pending >= 1):
            raise ParameterError(f"max_pending {self.max_pending!r}: expected at least 1 request")
        ppc = self.pending_per_client
        if ppc is not None and not (isinstance(ppc, int) and not isinstance(ppc, bool) and ppc >= 1):
            raise ParameterError(f"pending_per_client {ppc!r}: expected at least 1 request")
        if ppc is not None and ppc > self.max_pending:
            raise ParameterError(
                f"pending_per_client {ppc}: expected at most the {self.max_pending} requests the server holds"
            )
        for name in self.allowed_hosts:
            if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
                raise ParameterError(f"allowed_hosts {name!r}: expected a host name (example.org)")
        if not (isinstance(self.idle_per_client, int) and self.idle_per_client >= 1):
            raise ParameterError(f"idle_per_client {self.idle_per_client!r}: expected at least 1 connection")

    @property
    def client_pending_limit(self) -> int:
        """Requests one client address may have waiting for or in inference (``pending_per_client``)."""
        return self.pending_per_client or max(1, self.max_pending // 4)

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def n_workers(self) -> int:
        """Inference threads: ``workers``, or the CPUs, at most 4.

        Returns
        -------
        int
            At least 1.

        Examples
        --------
        >>> ServerSettings(workers=2).n_workers()
        2
        >>> 1 <= ServerSettings().n_workers() <= 4
        True
        """
        return int(self.workers or min(4, os.cpu_count() or 1))
