"""``emovox serve``: the REST API and the web page over one model."""

from __future__ import annotations

from .common import err, examples, finite_float

#: The options of ServerSettings' fields, for its errors.
_OPTIONS = {
    "max_upload_mb": "--max-upload-mb",
    "request_timeout": "--timeout",
    "workers": "--workers",
    "timeline_after": "--timeline-after",
    "max_seconds": "--max-seconds",
    "read_timeout": "--read-timeout",
    "idle_per_client": "--idle-per-client",
    "pending_per_client": "--pending-per-client",
    "allowed_hosts": "--allowed-host",
    "host": "--host",
}


def cmd_serve(args) -> int:
    """``emovox serve``: serve the web page and the REST API until interrupted.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 once the server stops, 2 for a bad option or a missing server extra.
    """
    if not 1 <= args.port <= 65535:
        err(f"--port {args.port}: expected a port number from 1 to 65535")
        return 2
    try:
        from ..server import ServerSettings, serve
    except ImportError as exc:
        err(f"emovox serve needs the server's extra packages ({exc}); pip install 'emovox[serve]'")
        return 2
    from ..errors import ParameterError

    try:
        settings = ServerSettings(
            max_upload_mb=args.max_upload_mb,
            request_timeout=args.timeout,
            workers=args.workers,
            timeline_after=args.timeline_after,
            max_seconds=args.max_seconds,
            read_timeout=args.read_timeout,
            allowed_hosts=tuple(args.allowed_host or ()),
            idle_per_client=args.idle_per_client,
            pending_per_client=args.pending_per_client,
        )
        serve(args.model, host=args.host, port=args.port, settings=settings, log_level=args.log_level)
    except ParameterError as exc:  # the settings' and the address's own checks, worded with the option
        field, _, why = str(exc).partition(" ")
        err(f"{_OPTIONS.get(field, field)} {why}")
        return 2
    return 0


def register(sub) -> None:
    """Add the ``serve`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    p = sub.add_parser(
        "serve",
        help="web page and REST API (POST /v1/predict) over a model",
        description="Serve the web page and the REST API (POST /v1/predict; API docs at /docs) "
        "over one model.",
        **examples(
            "emovox serve",
            "emovox serve --model runs/mine --port 8080",
            "emovox serve --host 0.0.0.0 --allowed-host emotions.example.org",
            "curl -F file=@my.wav http://127.0.0.1:8000/v1/predict",
            "curl -H 'Content-Type: audio/flac' --data-binary @my.flac http://127.0.0.1:8000/v1/predict",
        ),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--model", default=None, help="model directory or bundled model name (default: the bundled default)"
    )
    p.add_argument(
        "--max-upload-mb", type=finite_float, default=50.0, help="largest accepted upload in MiB (default 50)"
    )
    p.add_argument(
        "--timeout",
        type=finite_float,
        default=30.0,
        help="per-request inference time limit in seconds (default 30)",
    )
    p.add_argument("--workers", type=int, default=None, help="inference threads (default: CPUs, at most 4)")
    p.add_argument(
        "--timeline-after",
        type=finite_float,
        default=10.0,
        help="audio longer than this many seconds also gets a timeline (default 10)",
    )
    p.add_argument(
        "--max-seconds",
        type=finite_float,
        default=600.0,
        help="most seconds of audio one upload may decode to, checked from the header before "
        "decoding; longer answers 413 (default 600)",
    )
    p.add_argument(
        "--read-timeout",
        type=finite_float,
        default=30.0,
        help="seconds a client may take to send its request body; slower answers 408 (default 30)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a Host name the server answers to besides loopback names and the bound address "
        "(behind a reverse proxy: its public name); repeatable",
    )
    p.add_argument(
        "--idle-per-client",
        type=int,
        default=32,
        metavar="N",
        help="connections one client address may keep open without a request; a new one closes the oldest "
        "(default 32; behind a reverse proxy every user shares its address: raise it above the proxy's "
        "pool of idle connections)",
    )
    p.add_argument(
        "--pending-per-client",
        type=int,
        default=None,
        metavar="N",
        help="uploads one client address may have waiting or in inference at once; its next gets 429 "
        "(default 16, a quarter of the 64 the server holds; behind a reverse proxy every user shares its "
        "address: raise it)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="least severe server messages to print (default info)",
    )
    p.set_defaults(func=cmd_serve)
