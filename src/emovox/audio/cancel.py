"""Cancellation of work in progress (server deadlines): :func:`cancellable` marks the current thread's
work as stoppable by an event, and :func:`check_cancelled`, called between decode blocks and encoder
windows, raises :class:`emovox.errors.Cancelled` once that event is set. State is per thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..errors import Cancelled

_LOCAL = threading.local()


@contextlib.contextmanager
def cancellable(event: threading.Event | None) -> Iterator[None]:
    """Within the block, :func:`check_cancelled` (called between decode blocks and encoder windows) raises
    :class:`emovox.errors.Cancelled` once ``event`` is set: the server sets it when a request's time runs
    out, so the work stops instead of finishing unseen.

    Parameters
    ----------
    event : threading.Event or None
        The event that cancels this thread's work; None: nothing cancels it within the block. The event
        in force before is restored at the end of the block.

    Yields
    ------
    None
        Used as a context manager: ``with cancellable(event): ...``.

    Examples
    --------
    >>> import threading
    >>> stop = threading.Event()
    >>> with cancellable(stop):
    ...     check_cancelled()  # not set: nothing happens
    ...     stop.set()
    ...     check_cancelled()
    Traceback (most recent call last):
    ...
    emovox.errors.Cancelled: stopped: the request's time limit passed
    """
    previous = getattr(_LOCAL, "event", None)
    _LOCAL.event = event
    try:
        yield
    finally:
        _LOCAL.event = previous


def check_cancelled() -> None:
    """Raise :class:`emovox.errors.Cancelled` when this thread's work was cancelled (see :func:`cancellable`).

    Outside a :func:`cancellable` block, or while its event is not set, it does nothing.

    Raises
    ------
    Cancelled
        When the event of the enclosing :func:`cancellable` block is set.

    Examples
    --------
    >>> import threading
    >>> check_cancelled()  # no cancellable block: nothing happens
    >>> stop = threading.Event()
    >>> stop.set()
    >>> with cancellable(stop):
    ...     check_cancelled()
    Traceback (most recent call last):
    ...
    emovox.errors.Cancelled: stopped: the request's time limit passed
    """
    event = getattr(_LOCAL, "event", None)
    if event is not None and event.is_set():
        raise Cancelled("stopped: the request's time limit passed")
