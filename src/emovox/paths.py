"""Walking folders safely, and naming paths that are not valid UTF-8.

* :func:`walk_files` visits every real file under a folder once: directories are followed through
  symbolic links but entered only once (deduplicated by ``(st_dev, st_ino)``, so ``ln -s . again`` adds
  nothing), a file reached through a symbolic link as well as under its own name is listed once (hard
  links, names of their own, each), and entries that are not regular files
  (FIFOs, sockets, devices, broken links, symbolic link loops) are skipped with one line each.
* :func:`display_path` turns a name holding undecodable bytes (kept by Python as surrogate escapes, see
  :func:`os.fsdecode`) into printable text, for Parquet, CSV, JSON and terminals; open files with the
  original string.

>>> display_path(os.fsdecode(b"bad\\xff.wav"))
'bad\\\\xff.wav'
>>> display_path("fine.wav")
'fine.wav'
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["display_path", "is_utf8", "not_a_file", "output_problem", "stored_path", "walk_files"]

log = logging.getLogger("emovox")


#: Control characters (C0, DEL, C1, and the Unicode line and paragraph separators) as ``\\n``, ``\\t``,
#: ``\\r``, ``\\xNN`` or ``\\uNNNN``: a name holding them must not break a line of output, shift its columns
#: or reach the terminal as an escape sequence. Where a backslash is no path separator it is doubled, so
#: that a name with a newline and one with a backslash and an ``n`` are not shown alike.
_CONTROL = {
    c: repr(chr(c))[1:-1]
    for c in [*range(32), *range(127, 160), 0x2028, 0x2029]
    # bidirectional controls: a right-to-left override shows "evil\u202egnp.wav" as "evilvaw.png"
    + [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}
if os.sep != "\\":
    _CONTROL[ord("\\")] = "\\\\"


def is_utf8(path: str | os.PathLike) -> bool:
    """Whether ``path`` is valid UTF-8 text (a name with control characters is; one with undecodable
    bytes, which Python holds as surrogates, is not).

    Parameters
    ----------
    path : str, bytes or path
        The name to check.

    Returns
    -------
    bool
    """
    text = os.fspath(path)
    try:
        (text if isinstance(text, bytes) else text.encode("utf-8")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def delimiter(path: str | os.PathLike) -> str:
    """The column separator a table named ``path`` is written with: a tab for ``.tsv``, else a comma.

    Parameters
    ----------
    path : str or path
        The table's file name.

    Returns
    -------
    str
        A tab or a comma.

    Examples
    --------
    >>> delimiter("out/RESULTS.TSV"), delimiter("out/results.csv")
    ('\\t', ',')
    """
    return "\t" if str(path).lower().endswith(".tsv") else ","


def display_path(path: str | os.PathLike) -> str:
    """``path`` as one line of valid UTF-8 text: undecodable bytes become ``\\xNN`` and control characters
    ``\\n``, ``\\t``, ``\\x1b``... (identity for ordinary names).

    Parameters
    ----------
    path : str, bytes or path
        The name to show.

    Returns
    -------
    str

    Examples
    --------
    >>> display_path("a\\nb\\x1b[2J.wav")
    'a\\\\nb\\\\x1b[2J.wav'
    >>> print(display_path("evil\\u202egnp.wav"))  # (a right-to-left override would show it as evilvaw.png)
    evil\\u202egnp.wav
    """
    text = os.fspath(path)
    text = (os.fsdecode(text) if isinstance(text, bytes) else text).translate(_CONTROL)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes (held as surrogates) as \xNN, after the escaping above
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def stored_path(path: str | os.PathLike) -> str:
    """``path`` as a table or JSON file stores it: as it is when it is valid UTF-8, control characters and
    all (Parquet, CSV and JSON hold them, and the name then opens the file), else :func:`display_path`
    (``\\xNN`` for its undecodable bytes, which none of them can hold).

    Parameters
    ----------
    path : str or path
        The name to store.

    Returns
    -------
    str

    Examples
    --------
    >>> stored_path("a\\nb.wav") == "a\\nb.wav", stored_path(os.fsdecode(b"bad\\xff.wav"))
    (True, 'bad\\\\xff.wav')
    """
    return os.fspath(path) if is_utf8(path) else display_path(path)


class Problem(str):
    """One ``"<path>: <why>"`` line for an input left out (as :func:`walk_files` and
    :func:`emovox.inputs.expand_inputs` report them) that also keeps the path as the rows of the files
    beside it name theirs (``.path``), so that a table's row stores the real name instead of cutting it
    out of the line (a name may hold ``": "``).

    Examples
    --------
    >>> p = Problem("rec 10:30: take/a.wav", "a FIFO (named pipe), not a regular file; skipped")
    >>> p.path, p.startswith("rec 10:30: take/a.wav: a FIFO")
    ('rec 10:30: take/a.wav', True)
    """

    path: str

    def __new__(cls, path: str | os.PathLike, why: str, *, line: str | None = None) -> Problem:
        """``line``: the whole line where it names the path its own way (``m.csv line 3: ...``)."""
        name = os.fspath(path)
        self = super().__new__(cls, line or f"{display_path(name) if name else repr('')}: {why}")
        self.path = name
        return self

    def __reduce__(self) -> tuple:  # (copied and pickled whole: a batch summary holds them)
        return (_problem, (self.path, str(self)))


def _problem(path: str, line: str) -> Problem:
    return Problem(path, "", line=line)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def output_problem(path: str | os.PathLike, kind: str | None = None) -> str | None:
    """Why nothing can be written at ``path`` (``kind`` ``"file"``, ``"folder"`` to make or write into, or
    None: either), or None.

    Checked before the work, so that a read-only folder is not found out after an hour of it. The
    nearest folder that exists must be writable; so must ``path`` itself, if it exists (and be of its
    ``kind``); a broken symbolic link is refused.

    Parameters
    ----------
    path : str or os.PathLike
        Where the output would go.
    kind : str, optional
        ``"file"`` or ``"folder"``: what ``path`` must be if it exists; None (default): either.

    Returns
    -------
    str or None
        One line saying why, starting with the path; None when it can be written.

    Examples
    --------
    >>> output_problem("/proc/version/out.csv")
    '/proc/version/out.csv: /proc/version is not a folder'
    >>> output_problem("/tmp", "file")
    '/tmp: is a folder; name the file to write'
    """
    p = Path(path)
    try:
        if p.is_symlink() and not p.exists():
            return f"{display_path(p)}: a broken symbolic link"
        if p.exists():
            if kind == "file" and p.is_dir():
                return f"{display_path(p)}: is a folder; name the file to write"
            if kind == "folder" and not p.is_dir():
                return f"{display_path(p)}: exists and is not a folder"
            return None if os.access(p, os.W_OK) else f"{display_path(p)}: not writable (permission denied)"
        parent = next((a for a in p.parents if a.exists()), Path("."))
    except OSError as exc:  # a folder on the way that cannot be searched
        return f"{display_path(p)}: cannot reach it ({exc.strerror or exc})"
    if not parent.is_dir():
        return f"{display_path(p)}: {display_path(parent)} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{display_path(p)}: cannot write into {display_path(parent)} (permission denied)"
    try:  # what access() cannot tell: /proc or /sys to root, a file system that refuses new files
        import tempfile

        fd, probe = tempfile.mkstemp(dir=parent, prefix=".emovox-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{display_path(p)}: cannot create a file in {display_path(parent)} ({exc.strerror or exc})"
    return None


@contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Name ``path`` in an :class:`OSError` raised while it is written: a full disk's error names no file.

    Parameters
    ----------
    path : str or path
        The file being written (what the error then names).

    Yields
    ------
    None

    Raises
    ------
    OSError
        The error raised in the block, with ``path`` as its file name when it named none.

    Examples
    --------
    >>> with writing("out.csv"):                                            # doctest: +SKIP
    ...     Path("out.csv").write_text(text)
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(path)) from exc
        raise


def write_failure(path: str | os.PathLike, exc: BaseException) -> str:
    """Why writing ``path`` failed, where the writer lost the system's reason: libsndfile says only "System
    error." for a full disk, a quota or a file-size limit (``ulimit -f``). The limit is compared with the
    file's size, and a scratch file in its folder (up to 1 MB, never kept) asks the system for the rest.

    Parameters
    ----------
    path : str or path
        The file whose writing failed (it may be a temporary file).
    exc : BaseException
        The writer's error, whose words stand when the system reports nothing wrong.

    Returns
    -------
    str
        The reason, as the system words it ("No space left on device", "File too large"...).

    Examples
    --------
    >>> write_failure("out.wav", RuntimeError("System error."))  # a folder with room: the writer's words stand
    'System error.'
    """
    import resource
    import tempfile

    path = Path(path)
    try:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY and path.stat().st_size >= limit - 65536:
            return os.strerror(errno.EFBIG)
    except (OSError, ValueError):
        pass
    try:
        with tempfile.TemporaryFile(dir=path.parent) as fh:
            for _ in range(16):
                fh.write(bytes(65536))
            fh.flush()
    except OSError as probe:
        return probe.strerror or str(probe)
    return getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Write ``path`` whole or not at all: yields a temporary file beside it, moved over ``path`` once
    written. A full disk or a crash leaves the file as it was (a half-written table, or an earlier good
    one emptied, otherwise). An :class:`OSError` names ``path`` (:func:`writing`). A link keeps pointing
    where it did (its target is replaced) and a file its permissions. A target that is not a regular file
    (``/dev/stdout``, a pipe), or in a folder where no file can be made (a writable file in a read-only
    folder), is written directly.

    Parameters
    ----------
    path : str or path
        The file to write.

    Yields
    ------
    pathlib.Path
        The file to write to: a temporary file beside ``path``, or ``path`` itself when it is written
        directly.

    Examples
    --------
    >>> with replacing("out.csv") as tmp:                                   # doctest: +SKIP
    ...     tmp.write_text(text)
    """
    import tempfile

    path = Path(path)
    target = Path(os.path.realpath(path))
    try:
        if target.exists() and not target.is_file():
            raise IsADirectoryError  # (not a file to replace: written directly, or refused, as it is)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".emovox-", suffix=".part")
    except OSError:
        with writing(path):
            yield path
        return
    os.close(fd)
    tmp = Path(name)
    try:
        with writing(path):
            try:
                yield tmp
                if target.exists():
                    shutil.copymode(target, tmp)
                else:  # mkstemp's file is private (0600); a new result file gets the usual mode
                    umask = os.umask(0)
                    os.umask(umask)
                    os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, target)
            except OSError as exc:
                if exc.filename in (name, tmp):  # the temporary file means nothing to the user
                    raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(path)) from exc
                raise
    finally:
        tmp.unlink(missing_ok=True)


def not_a_file(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as an audio file without blocking or failing oddly, or None when it is a
    regular file (through links) or does not exist at all (the caller reports a missing name itself).

    Parameters
    ----------
    path : str or path
        The entry to check.

    Returns
    -------
    str or None
        The reason (ending in ``skipped``), or None.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return "broken symbolic link (its target does not exist); skipped"
        return None
    except OSError as exc:
        if exc.errno == 40 or "loop" in str(exc).lower():  # ELOOP
            return "symbolic link loop; skipped"
        return f"cannot be read ({exc.strerror or exc}); skipped"
    if stat.S_ISREG(st.st_mode):
        return None
    return f"{_kind(st.st_mode)}, not a regular file; skipped"


def _plain_dir(entry: os.DirEntry) -> bool:
    """Whether a directory entry is a folder itself (not through a link), without a stat that may fail."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def walk_files(
    root: str | os.PathLike,
    keep: Callable[[str], bool] = lambda name: True,
    *,
    problems: list[str] | None = None,
    hidden: bool = False,
) -> Iterator[str]:
    """Every regular file under ``root`` whose name passes ``keep``, in sorted order: a file that a symbolic
    link reaches too is listed once, under its own name where the walk meets it (each hard link is listed:
    a name of its own, as when named).

    Parameters
    ----------
    root : path
        The folder to walk (symbolic links to folders are followed, each folder entered once).
    keep : callable
        Filter on the file name (not the path); entries it rejects are neither listed nor reported.
    problems : list of str, optional
        Receives one ``"<path>: <why>"`` line per skipped entry (not a regular file, link loop, broken
        link, unreadable folder). When None, each is logged as a warning on the ``emovox`` logger.
    hidden : bool
        Also visit names starting with a dot.

    Yields
    ------
    str
        The path of each file (``root`` joined with the names under it): each folder's files in name order,
        then its sub-folders, each in name order.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.mkdir(os.path.join(tmp.name, "a"))
    >>> for name in ("b.wav", "a/c.wav", "a/notes.txt", ".d.wav"):
    ...     open(os.path.join(tmp.name, name), "w").close()
    >>> [os.path.relpath(p, tmp.name) for p in walk_files(tmp.name, lambda name: name.endswith(".wav"))]
    ['b.wav', 'a/c.wav']
    >>> tmp.cleanup()
    """

    def report(path: str, why: str) -> None:
        msg = Problem(Path(path), why)  # (./x as x: as find_audio lists the files beside it)
        if problems is None:
            log.warning("%s", msg)
        else:
            problems.append(msg)

    seen_dirs: set[tuple[int, int]] = set()
    listed: list[tuple[str, tuple[int, int], bool]] = []
    root = os.fspath(root)
    try:
        st = os.stat(root)
    except OSError as exc:
        report(root, f"cannot be read ({exc.strerror or exc})")
        return
    seen_dirs.add((st.st_dev, st.st_ino))
    stack = [root]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report(top, f"folder cannot be read ({exc.strerror or exc}); skipped")
            continue
        subdirs = []
        for e in entries:
            if not hidden and e.name.startswith("."):
                continue
            try:
                st = e.stat(follow_symlinks=True)
            except OSError as exc:
                if keep(e.name):
                    why = not_a_file(e.path) or "cannot be read; skipped"
                    report(e.path, why)
                elif exc.errno == errno.ENAMETOOLONG or _plain_dir(e):  # a folder: its files would be lost
                    report(e.path, f"folder cannot be read ({exc.strerror or exc}); skipped")
                continue
            if stat.S_ISDIR(st.st_mode):
                ident = (st.st_dev, st.st_ino)
                if ident not in seen_dirs:  # a link back up, or a second link to one folder: entered once
                    seen_dirs.add(ident)
                    subdirs.append(e.path)
                continue
            if not keep(e.name):
                continue
            if not stat.S_ISREG(st.st_mode):
                report(e.path, f"{_kind(st.st_mode)}, not a regular file; skipped")
                continue
            listed.append((e.path, (st.st_dev, st.st_ino), e.is_symlink()))
        stack.extend(reversed(subdirs))
    # a link to a file listed under its own name (or through an earlier link) adds nothing, wherever the
    # two lie; a hard link is a name of its own, listed as it would be if named
    real = {ident for _, ident, link in listed if not link}
    linked: set[tuple[int, int]] = set()
    for path, ident, link in listed:
        if link:
            if ident in real or ident in linked:
                continue
            linked.add(ident)
        yield path
