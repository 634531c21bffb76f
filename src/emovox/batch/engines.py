"""Engines of a batch job: where its partitions run, one result per partition as they complete.

:func:`dask_client` connects to a running Dask scheduler or starts (and stops) a LocalCluster;
:func:`run_dask` submits every partition to it and yields ``(index, result)`` in completion order, and
:func:`run_local` runs them one by one in this process. A partition whose call raises yields the
exception as its result: that partition fails, the job goes on. Nothing here knows what a partition
computes or what is on disk (see :mod:`emovox.batch.store`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import EmovoxError

__all__ = ["Result", "check_scheduler", "dask_client", "run_dask", "run_local"]


def _no_distributed(exc: ImportError) -> EmovoxError:
    return EmovoxError(f"engine 'dask' needs Dask distributed: pip install 'dask[distributed]' ({exc})")


#: Seconds a scheduler has to send its handshake once a TCP connection is open.
HANDSHAKE_S = 10.0


def check_scheduler(address: str, timeout: float = HANDSHAKE_S) -> None:
    """Refuse a plain TCP ``address`` where nothing listens, or where what listens says nothing: a Dask
    scheduler sends its handshake as soon as a connection opens, and ``Client`` waits for it without a
    time limit (an HTTP server there would hang the job).

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://host:port``; other schemes (TLS...) pass unchecked.
    timeout : float
        Seconds to connect, then to wait for the first byte (default :data:`HANDSHAKE_S`).

    Raises
    ------
    EmovoxError
        When Dask distributed is not installed, the address does not parse, or no handshake comes.
    """
    import socket

    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError as exc:
        raise _no_distributed(exc) from None
    try:
        scheme, loc = parse_address(address)
        host, port = parse_host_port(loc)
    except (ValueError, TypeError) as exc:
        raise EmovoxError(f"--address {address!r}: expected tcp://host:port ({exc})") from None
    if scheme != "tcp":  # TLS and other transports: their own handshake, left to Client
        return
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        why = f"no answer within {timeout:g} s"
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
    else:
        with sock:
            try:
                if sock.recv(1):
                    return
                why = "the connection was closed without a handshake"
            except TimeoutError:
                why = f"no Dask handshake within {timeout:g} s (something else listens there)"
            except OSError as exc:
                why = exc.strerror or type(exc).__name__
    raise EmovoxError(f"cannot reach a Dask scheduler at {address}: {why}")


@contextlib.contextmanager
def dask_client(
    address: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    *,
    probe: bool = True,
    **cluster_kw: Any,
) -> Iterator[Any]:
    """A :class:`distributed.Client`: to the scheduler at ``address``, or to a new LocalCluster.

    Parameters
    ----------
    address : str, optional
        ``tcp://host:8786`` of a running scheduler. When None, a LocalCluster of ``n_workers`` processes
        with ``threads_per_worker`` threads each is started here and stopped on exit.
    n_workers, threads_per_worker : int
        Size of the LocalCluster (ignored with ``address``).
    probe : bool
        Check first that a scheduler answers at ``address`` (:func:`check_scheduler`); off for a caller
        that just did.
    **cluster_kw
        More :class:`distributed.LocalCluster` arguments.

    Yields
    ------
    distributed.Client
        The connected client; on exit it is closed (and the LocalCluster stopped).

    Raises
    ------
    EmovoxError
        When Dask distributed is not installed, or no scheduler answers at ``address``.

    Examples
    --------
    >>> with dask_client(n_workers=1) as client:
    ...     client.submit(sum, [1, 2, 3]).result()
    6
    >>> with dask_client("tcp://127.0.0.1:9"):  # nothing listens there
    ...     pass
    Traceback (most recent call last):
    ...
    emovox.errors.EmovoxError: cannot reach a Dask scheduler at tcp://127.0.0.1:9: ...
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise _no_distributed(exc) from None
    if address:
        if probe:
            check_scheduler(address)
        try:
            client = Client(address, timeout="30s")
        except Exception as exc:  # noqa: BLE001 - refused, timed out, or not a Dask scheduler at all
            why = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise EmovoxError(f"cannot reach a Dask scheduler at {address}: {why}") from None
        with client:
            yield client
        return
    kw = {"dashboard_address": None, "silence_logs": logging.ERROR, **cluster_kw}
    # Worker processes inherit the environment: their ONNX Runtime sessions then use as many threads as
    # the worker has, instead of every core each (2 workers x 2 threads on 2 cores ran slower than 1 process).
    previous = os.environ.get("EMOVOX_THREADS")
    os.environ["EMOVOX_THREADS"] = str(threads_per_worker)
    try:
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True, **kw
        )
    finally:
        if previous is None:
            os.environ.pop("EMOVOX_THREADS", None)
        else:
            os.environ["EMOVOX_THREADS"] = previous
    with cluster, Client(cluster) as client:
        yield client


Result = dict[str, Any] | BaseException


def run_local(fn: Callable, calls: list[tuple]) -> Iterator[tuple[int, Result]]:
    """Run each partition's call in this process, one after the other.

    Parameters
    ----------
    fn : callable
        The partition function.
    calls : list of tuple
        The arguments of each call, ``fn(*args)``.

    Returns
    -------
    iterator of (int, Result)
        Lazily, in order: the call's index and what it returned, or the exception it raised.
    """
    for i, args in enumerate(calls):
        try:
            yield i, fn(*args)
        except Exception as exc:  # noqa: BLE001 - the partition fails, the job goes on
            yield i, exc


def run_dask(client, fn: Callable, calls: list[tuple], keys: list[str]) -> Iterator[tuple[int, Result]]:
    """Submit every partition's call to a Dask client (each retried once) and yield their results as they
    complete; calls not done when the iteration stops (or fails) are cancelled.

    Parameters
    ----------
    client : distributed.Client
        A connected client (:func:`dask_client`).
    fn : callable
        The partition function.
    calls : list of tuple
        The arguments of each call, ``fn(*args)``.
    keys : list of str
        A unique Dask key for each call.

    Returns
    -------
    iterator of (int, Result)
        In completion order: the call's index and what it returned, or the exception it raised (a lost
        worker: ``KilledWorker``).
    """
    from distributed import as_completed

    futures = [
        client.submit(fn, *args, key=k, pure=False, retries=1) for args, k in zip(calls, keys, strict=True)
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for fut in as_completed(futures):
            try:
                res: Result = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this partition only
                res = exc
            yield index[fut.key], res
            fut.release()
    finally:
        client.cancel([f for f in futures if not f.done()])
