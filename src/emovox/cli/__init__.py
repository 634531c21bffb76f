"""The ``emovox`` command: a thin layer over the Python API.

Each command group lives in its own module with a ``register(subparsers)`` function. Every expected
failure (bad audio, a bad manifest, a broken model) is one line on stderr and a non-zero exit; heavy
libraries are imported inside the commands so ``emovox predict`` starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys

from .common import Parser, argument_problem, cli_logging, err

# Command groups, in the order ``emovox --help`` lists them.
GROUPS = ("corpus", "research", "predict", "model", "plot", "live", "serve")


def build_parser() -> Parser:
    from .. import __version__

    parser = Parser(
        prog="emovox",
        description="Speech emotion recognition.",
        epilog="run 'emovox COMMAND --help' for a command's options and examples\n\n"
        "exit status: 0 done; 1 some inputs failed (each named on stderr; the others were processed),\n"
        "or the system failed (a full disk); 2 a bad option, or an input, model or output that cannot\n"
        "work (one line on stderr); 130 interrupted; 141 output cut short (| head)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"emovox {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``emovox`` command line: every argument checked first, then the command; failures are one
    line on stderr.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default None: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: the command's (0 on success), 2 for an argument the checks refuse or an expected
        failure (an :class:`~emovox.errors.EmovoxError`, one line on stderr), 1 for another
        :class:`OSError` (a full disk...), 130 when interrupted, 141 when its output was cut short (``| head``).
        (argparse's own errors and ``--help`` exit
        through :class:`SystemExit`.)
    """
    import os

    from ..errors import EmovoxError

    given = list(sys.argv[1:] if argv is None else argv)
    ends = given.index("--") if "--" in given else len(given)
    parser = build_parser()
    # a file named like an option: argparse reads it as an unknown option, and says so unhelpfully
    for i, word in enumerate(given[:ends]):
        if word.startswith("-") and not word.startswith("--") and len(word) > 2 and os.path.lexists(word):
            if i and _takes_value(parser, given[:i]):
                continue  # an option's value (-o -res.csv): argparse's error gets the '=' hint
            err(f"{word}: a name that starts with '-' reads as an option; put -- before it (... -- {word})")
            return 2
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # saved with results, to reproduce them
    problem = argument_problem(args)  # every argument checked before any work: one line, exit status 2
    if problem:
        err(problem)
        return 2
    try:
        with cli_logging(quiet=bool(getattr(args, "quiet", False))), _named_stdout(_saves_files(args)):
            return int(args.func(args) or 0)
    except EmovoxError as exc:
        err(str(exc))
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:  # (`| head`): cut short, as a command killed by SIGPIPE says, not a success
        return 141
    except OSError as exc:  # a disk that fills up, a folder that vanishes: after the checks, one line still
        from ..paths import display_path

        where = f"{display_path(exc.filename)}: " if exc.filename else ""
        err(f"{where}{exc.strerror or exc}")
        return 1


def _saves_files(args) -> bool:
    """Whether the command was asked to write files (``-o``, ``--json FILE``, ``--plot``...)."""
    from .common import OUTPUTS

    return any(isinstance(getattr(args, dest, None), str) for dest, _, _ in OUTPUTS if dest != "cache_dir")


class _NamedStdout:
    """Standard output whose write errors name it (``standard output: No space left on device``: the
    OSError of a print has no file name). With ``keep_going``, a reader that stops early (``| head``) no
    longer stops the command: what it prints is dropped, and the files it was asked to write are written."""

    def __init__(self, stream, keep_going: bool) -> None:
        self._stream, self._keep_going, self._gone = stream, keep_going, False

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def _call(self, method: str, *a):
        if self._gone:
            return len(a[0]) if a else None
        try:
            return getattr(self._stream, method)(*a)
        except BrokenPipeError:
            if not self._keep_going:
                raise
            self._gone = True
            _silence(self._stream, also_stderr=True)
            return len(a[0]) if a else None
        except OSError as exc:
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, "standard output") from None

    def write(self, s: str) -> int:
        return self._call("write", s)

    def flush(self) -> None:
        self._call("flush")


def _silence(stream, also_stderr: bool = False) -> None:
    """Point ``stream``'s descriptor at /dev/null: what it still buffers cannot fail again at exit; and
    standard error's too where it is the same closed pipe (``2>&1 | head``): its next line would fail."""
    import os

    try:
        fd = stream.fileno()
        fds = [fd]
        if also_stderr and sys.stderr is not None and os.path.samestat(os.fstat(fd), os.fstat(2)):
            fds.append(2)
    except (OSError, ValueError, AttributeError):  # (a test's captured stream has none)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    for target in fds:
        os.dup2(null, target)
    os.close(null)


@contextlib.contextmanager
def _named_stdout(keep_going: bool):
    import os

    real = sys.stdout
    # a name the terminal's encoding cannot spell (a Latin-1 locale, cp1252 on Windows) is escaped, as on
    # standard error, rather than a traceback that loses the rest of a batch
    errors = getattr(real, "errors", None)
    if errors == "strict" and hasattr(real, "reconfigure"):
        real.reconfigure(errors="backslashreplace")
    # no standard output at all (`>&-`): what is printed goes nowhere, as print does
    null = open(os.devnull, "w") if real is None else None  # (closed below)
    sys.stdout = null or _NamedStdout(real, keep_going)
    try:
        yield
    finally:
        sys.stdout = real
        if errors == "strict" and hasattr(real, "reconfigure"):
            real.reconfigure(errors=errors)
        if null is not None:
            null.close()


def _takes_value(parser: Parser, before: list[str]) -> bool:
    """Whether the last word of ``before`` is an option that takes a value, in the (sub)command the words
    name (``predict ... -o``: yes; ``predict ... --json``: no; ``evaluate ... --json``: yes)."""
    import argparse

    for word in before[:-1]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and word in subs[0].choices:
            parser = subs[0].choices[word]
    action = parser._option_string_actions.get(before[-1])
    return action is not None and action.nargs != 0


if __name__ == "__main__":
    sys.exit(main())
