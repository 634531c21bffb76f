"""Finding audio files: the extensions emovox looks for when it walks a directory, and the walk itself
(symbolic-link loops, hidden files and non-regular entries handled by :func:`emovox.paths.walk_files`).
Which files are audio is decided here by name only; decoding is decided by content (:mod:`emovox.audio.decode`)."""

from __future__ import annotations

import os
from pathlib import Path

# Extensions emovox looks for when it walks a directory; decoding is decided by content, not name. Audio
# containers only: a video named directly is read (its audio track), but a folder's videos are not taken for
# recordings (RAVDESS's video-only files share its audio files' names).
AUDIO_EXTENSIONS = (
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".spx",
    ".mp3",
    ".aiff",
    ".aif",
    ".aifc",
    ".au",
    ".caf",
    ".w64",
    ".m4a",
    ".m4b",
    ".webm",
    ".mka",
    ".aac",
    ".wma",
    ".amr",
    ".3gp",
)


def find_audio(
    root: str | os.PathLike, problems: list[str] | None = None, *, hidden: bool = False
) -> list[Path]:
    """Every file under ``root`` with an audio extension emovox reads, sorted; hidden files excluded unless
    ``hidden``.

    Each real file is listed once: folders reached again through symbolic links (``ln -s . again``) are
    not re-entered, and a file linked twice is listed once. Entries that are not regular files (FIFOs,
    sockets, devices, broken links, link loops) are skipped with one ``"<path>: <why>"`` line each, appended
    to ``problems`` when given, else logged as a warning. Names that are not valid UTF-8 are kept as
    surrogate-escaped text (:func:`os.fsdecode`), so they open; print them with
    :func:`emovox.paths.display_path`.

    Parameters
    ----------
    root : str or PathLike
        The folder walked.
    problems : list of str, optional
        Collects a line per skipped entry (default None: they are logged).
    hidden : bool
        Also list names starting with a dot (default False).

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("a.WAV", "notes.txt", ".hidden.wav"):
    ...     (root / name).touch()
    >>> [p.name for p in find_audio(root)]
    ['a.WAV']
    """
    from ..paths import walk_files

    exts = set(AUDIO_EXTENSIONS)
    found = walk_files(
        root, lambda fn: os.path.splitext(fn)[1].lower() in exts, problems=problems, hidden=hidden
    )
    return sorted(Path(p) for p in found)


def hidden_audio_note(folder: str | os.PathLike) -> str:
    """What to add where ``folder`` holds no audio: audio files under hidden names (``.take.wav``) are not
    read, and a user who put them there should be told, not left to wonder.

    Parameters
    ----------
    folder : str or PathLike
        A folder in which :func:`find_audio` found nothing.

    Returns
    -------
    str
        ``" (only hidden ones, not read: <first>)"``, or ``""`` when it holds no hidden audio either.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> hidden_audio_note(root)
    ''
    >>> (root / ".take.wav").touch()
    >>> hidden_audio_note(root).startswith(" (only hidden ones, not read: ")
    True
    """
    from ..paths import display_path

    audio = find_audio(folder, [], hidden=True)
    return f" (only hidden ones, not read: {display_path(audio[0])})" if audio else ""
