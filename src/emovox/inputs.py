"""What a user names on the command line or in a batch: files, folders and manifest CSVs, as audio files.

Examples
--------
>>> from emovox.inputs import expand_inputs
>>> problems = []
>>> expand_inputs(["clip.wav"], problems)  # a name is kept as given, even one that does not exist
['clip.wav']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .audio import find_audio
from .audio.files import hidden_audio_note
from .errors import AudioError, EmovoxError, naming
from .paths import Problem, display_path, not_a_file

__all__ = ["expand_inputs"]


def expand_inputs(items: Iterable[str | os.PathLike], problems: list[str] | None = None) -> list[str]:
    """Files as given, every audio file under a folder, every ``path`` of a manifest CSV.

    A name that does not exist is kept, so that the caller reports it as a failed input rather than
    skipping it; so is a dangling link (loading it names the link). Entries that are not regular files (a
    FIFO would block for ever) and folders without audio are left out with one ``"<path>: <why>"`` line
    each in ``problems``; without that list, a folder with no audio raises :class:`AudioError` and the
    other entries are logged by :func:`emovox.paths.walk_files`.

    Parameters
    ----------
    items : iterable of str or os.PathLike
        Files, folders and manifest CSVs (``.csv``), as a user names them.
    problems : list of str, optional
        Receives one ``"<path>: <why>"`` line per entry left out; None (default): the first problem raises.

    Returns
    -------
    list of str
        The files, in the order given (a folder's in :func:`emovox.audio.find_audio` order, a manifest's in
        row order).

    Examples
    --------
    >>> import tempfile
    >>> problems = []
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = expand_inputs([folder, "clip.wav"], problems)  # a folder without audio
    >>> files, len(problems)
    (['clip.wav'], 1)
    """
    out: list[str] = []

    def problem(path: str, why: str, line: str | None = None) -> None:
        msg = Problem(path, why, line=line)
        if problems is None:
            raise AudioError(msg)
        problems.append(msg)

    for item in items:
        path = os.fspath(item)
        if path in ("", b""):
            problem("", "an empty name, not a file")
            continue
        if path == "-" and not os.path.lexists(path):
            problem("-", "audio piped in is read by emovox predict only; save it to a file and name that")
            continue
        if os.path.isdir(path):
            before = None if problems is None else len(problems)
            found = find_audio(path, problems)
            if not found and (problems is None or len(problems) == before):  # (else the walk said why)
                problem(path, "directory holds no audio files" + hidden_audio_note(path))
            out.extend(str(f) for f in found)
            continue
        if path.lower().endswith(".csv") and os.path.isfile(path):
            from .corpora import empty_paths, read_manifest

            try:
                table = read_manifest(path)
            except EmovoxError as exc:  # one bad manifest among the inputs: its line, the rest go on
                if problems is None:
                    raise
                problem(path, "", naming(exc, display_path(path)))
                continue
            for msg in empty_paths(table, display_path(path)):
                problem(path, "", msg)
            listed = [p for p in table["path"].astype(str) if p]
            if table.empty:
                problem(path, "the manifest lists no files")
        else:
            listed = [path]
        for p in listed:
            why = not_a_file(p) if os.path.lexists(p) else None
            if why and not why.startswith("broken"):
                problem(p, why)
            else:
                out.append(p)
    return out


class Unreadable(NamedTuple):
    """An entry of a folder or manifest that names no file to read (a FIFO, a folder without audio)."""

    name: str
    why: str


def each_input(items: Any) -> Iterator[Any]:
    """Each input as the prediction functions take them, a folder or manifest CSV replaced by its files
    (:func:`expand_inputs`), each of its entries that names none as an :class:`Unreadable` in its place.

    Parameters
    ----------
    items : path, bytes, array, a manifest DataFrame, or an iterable of them
        One input or several; a DataFrame stands for its ``path`` column.

    Yields
    ------
    object
        The inputs in order (files, bytes, arrays as given), and :class:`Unreadable` entries.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = list(each_input(["a.wav", folder]))
    >>> out[0], type(out[1]).__name__
    ('a.wav', 'Unreadable')
    """
    if hasattr(items, "columns") and "path" in items.columns:  # a manifest DataFrame, as predict takes one
        items = list(items["path"])
    if single_input(items):
        items = [items]
    elif not isinstance(items, Iterable):  # (None, a number): the same line as predict() says it
        raise AudioError(f"expected a path, bytes, an array or a list of them, got {type(items).__name__}")
    for item in items:
        listing = isinstance(item, str | os.PathLike) and (
            os.path.isdir(item) or (str(item).lower().endswith(".csv") and os.path.isfile(item))
        )
        if not listing:
            yield item
            continue
        problems: list[Problem] = []
        found = expand_inputs([item], problems)
        yield from (Unreadable(msg.path, msg) for msg in problems)
        yield from found


def single_input(x) -> bool:
    """One input: a path, bytes, or an array of samples (one recording, channels and all).

    Parameters
    ----------
    x : object
        What a prediction method was given.

    Returns
    -------
    bool
        True for a str, path, bytes-like object or numpy array; False for anything else (a list of inputs).

    Examples
    --------
    >>> single_input("a.wav"), single_input(np.zeros(3)), single_input(["a.wav", "b.wav"])
    (True, True, False)
    """
    return isinstance(x, np.ndarray | str | os.PathLike | bytes | bytearray | memoryview)
