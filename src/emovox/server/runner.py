"""Blocking work (decoding, inference) off the event loop, bounded in threads, time and queue length."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from starlette.requests import ClientDisconnect

from ..audio import cancellable
from ..errors import Cancelled
from .errors import ApiError


class InferenceRunner:
    """Runs blocking work in a bounded thread pool with a time limit, off the event loop.

    :meth:`slot` counts a request against ``max_pending`` from the moment its body starts arriving (a
    buffered upload holds memory or disk too), and against its client's share of them (``per_client``:
    one client trickling bodies would otherwise hold every slot). :meth:`run` cancels the work itself when
    the time runs out, or when the client has gone (the web page's Cancel): the job's thread sees
    :func:`emovox.audio.check_cancelled` raise between decode blocks and encoder windows, so the request
    stops using CPU within about a second instead of running on unseen.
    """

    #: How often (seconds) :meth:`run` asks whether the client is still there.
    POLL_S = 0.25

    def __init__(self, workers: int, timeout: float, max_pending: int, per_client: int | None = None):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emovox-infer")
        self.timeout, self.max_pending, self.pending = timeout, max_pending, 0
        self.per_client = per_client or max_pending
        self.by_client: dict[str | None, int] = {}

    @asynccontextmanager
    async def slot(self, client: str | None = None) -> AsyncIterator[None]:
        """Hold one of ``max_pending`` places (503 ``busy`` when none is left), and one of ``client``'s
        ``per_client`` (429 ``too_many_requests``)."""
        mine = self.by_client.get(client, 0)
        if self.pending >= self.max_pending:
            raise ApiError(503, "busy", f"{self.pending} requests are already waiting; try again shortly")
        if mine >= self.per_client:
            raise ApiError(
                429,
                "too_many_requests",
                f"{mine} request{'s' * (mine != 1)} from this address {'are' if mine != 1 else 'is'} already "
                "waiting or running; try again in a moment",
            )
        self.pending += 1
        self.by_client[client] = mine + 1
        try:
            yield
        finally:
            self.pending -= 1
            self.by_client[client] -= 1
            if not self.by_client[client]:
                del self.by_client[client]

    async def run(
        self, fn: Callable[..., Any], *args: Any, gone: Callable[[], Awaitable[bool]] | None = None
    ) -> Any:
        """``fn(*args)`` in the pool, cancelled at the time limit (504) or once ``gone()`` says the client
        closed the connection (:class:`~starlette.requests.ClientDisconnect`: nobody is left to answer).

        Parameters
        ----------
        fn : callable
            The work to run on an inference thread.
        *args
            Its arguments.
        gone : callable, optional
            Coroutine function telling whether the client has gone (default None: not checked).

        Returns
        -------
        object
            What ``fn`` returns (what it raises is raised here).

        Raises
        ------
        ApiError
            504 ``timeout`` when the time limit passes.
        starlette.requests.ClientDisconnect
            When ``gone()`` says the client has gone.
        """
        stop = threading.Event()

        def job() -> Any:
            if stop.is_set():
                raise Cancelled("stopped before it started: the request's time limit passed")
            with cancellable(stop):
                return fn(*args)

        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, job)
        deadline = loop.time() + self.timeout
        try:
            while True:
                wait = max(0.0, deadline - loop.time())
                # (asyncio.wait, not wait_for: a poll's time running out leaves the job be, and a job that
                # raises TimeoutError itself is its own answer, not a poll's)
                await asyncio.wait({future}, timeout=min(wait, self.POLL_S) if gone else wait)
                if future.done():
                    return future.result()
                if loop.time() >= deadline:
                    break
                if gone is not None and await gone():
                    _abandon(future, stop)
                    raise ClientDisconnect()
        except asyncio.CancelledError:  # the request's task itself was cancelled (the server shutting down)
            _abandon(future, stop)
            raise
        _abandon(future, stop)
        raise ApiError(
            504,
            "timeout",
            f"inference took longer than the {self.timeout:g} s per-request limit; send a shorter "
            "recording, or start the server with a longer --timeout",
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _abandon(future: asyncio.Future, stop: threading.Event) -> None:
    """Stop a job nobody will wait for: a queued one never starts, a running one stops at its next check,
    and its outcome is collected when it ends (asyncio would log it as never retrieved)."""
    stop.set()
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
