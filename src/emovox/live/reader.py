"""A source read on a background thread, so that a session window stays responsive while it records."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np

from ..audio.sources import AudioSource


class BackgroundReader:
    """Reads a source on a thread, so a window stays responsive while a microphone records.

    Started on construction; :meth:`take` hands out the samples, :meth:`close` stops the thread and the
    source.
    """

    def __init__(self, source: AudioSource):
        self.source = source
        self.q: queue.Queue = queue.Queue(maxsize=256)
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.carry: list[np.ndarray] = []
        self.ended = False

    def _run(self) -> None:
        it = iter(self.source)
        try:
            for c in it:
                while not self.stop.is_set():
                    try:
                        self.q.put(c, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self.stop.is_set():
                    break
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
            self.q.put(None)

    def take(self, n: int, idle: Callable[[float], None]) -> np.ndarray:
        """The next ``n`` samples (fewer if the source ends), calling ``idle(fraction_done)`` while waiting.

        Parameters
        ----------
        n : int
            Samples wanted; the excess read is kept for the next call.
        idle : callable
            Called as ``idle(fraction)`` (0 to 1) while waiting and as chunks arrive (a countdown bar).

        Returns
        -------
        numpy.ndarray
            ``n`` samples, fewer (even none) once the source has ended.

        Raises
        ------
        BaseException
            Whatever the source raised in the reading thread (a :class:`~emovox.audio.sources.DeviceError`, ...),
            raised here once its chunks before it have been taken.
        """
        parts, have = list(self.carry), sum(c.size for c in self.carry)
        self.carry.clear()
        while have < n and not self.ended:
            try:
                c = self.q.get(timeout=0.05)
            except queue.Empty:
                idle(have / n)
                continue
            if c is None:
                self.ended = True
                if self.error is not None:
                    raise self.error
                break
            parts.append(c)
            have += c.size
            idle(min(1.0, have / n))
        y = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        if y.size > n:
            self.carry.append(y[n:])
            y = y[:n]
        return y

    def close(self) -> None:
        self.stop.set()
        # Wait for the thread to close the source's iterator: a --save WAV is only complete after that.
        self.thread.join(timeout=5.0)
        self.source.close()
