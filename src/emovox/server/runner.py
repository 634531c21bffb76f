"""Blocking work (decoding, inference) off the event loop, bounded in threads, time and queue length."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from ..audio import cancellable
from ..errors import Cancelled
from .errors import ApiError


class InferenceRunner:
    """Runs blocking work in a bounded thread pool with a time limit, off the event loop.

    :meth:`slot` counts a request against ``max_pending`` from the moment its body starts arriving (a
    buffered upload holds memory or disk too), and :meth:`run` cancels the work itself when the time runs
    out: the job's thread sees :func:`emovox.audio.check_cancelled` raise between decode blocks and encoder
    windows, so a timed-out request stops using CPU within about a second instead of running on unseen.
    """

    def __init__(self, workers: int, timeout: float, max_pending: int):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emovox-infer")
        self.timeout, self.max_pending, self.pending = timeout, max_pending, 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
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
                504,
                "timeout",
                f"inference took longer than the {self.timeout:g} s per-request limit; send a shorter "
                "recording, or start the server with a longer --timeout",
            ) from None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
