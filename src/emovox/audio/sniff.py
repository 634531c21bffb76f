"""Which audio container a file or an upload holds, from its first bytes: the server refuses a body that is
not audio (415) before any decoder sees it, and a file no decoder could read is named for what it is."""

from __future__ import annotations

import os
import stat

#: Bytes :func:`sniff_format` needs from the start of an input.
SNIFF_BYTES = 12
#: Containers only ffmpeg reads (libsndfile reads the others :func:`sniff_format` knows).
FFMPEG_ONLY = ("webm", "mp4")


def sniff_format(data: bytes) -> str | None:
    r"""The container a byte string starts with (``wav``, ``flac``, ...), or None when it is not audio.

    Parameters
    ----------
    data : bytes
        The start of a file (its first :data:`SNIFF_BYTES` are read).

    Returns
    -------
    str or None
        One of ``wav``, ``w64``, ``flac``, ``ogg``, ``mp3``, ``aac``, ``aiff``, ``au``, ``caf``, ``webm``,
        ``mp4``; None for anything else.

    Examples
    --------
    >>> sniff_format(b"fLaC\x00\x00\x00\x22"), sniff_format(b"<html>")
    ('flac', None)
    """
    head = bytes(data[:SNIFF_BYTES])
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"riff":
        return "w64"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) > 1 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS (raw AAC): 12-bit sync, layer 00
            return "aac"
        # an MPEG audio frame sync (11 bits) of layer II or III; layer I is left out, because a UTF-16
        # text's byte-order mark FF FE would read as one
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06 in (0x02, 0x04):
            return "mp3"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"caff":
        return "caf"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "mp4"
    return None


def shown_head(head: bytes) -> str:
    """A file's first 8 bytes as an error message shows them: as text when they are printable ASCII (a web
    page, a text file), else in hex.

    Parameters
    ----------
    head : bytes
        The start of a file.

    Returns
    -------
    str
        Its first 8 bytes, quoted text or space-separated hex (empty for no bytes).

    Examples
    --------
    >>> shown_head(b"<!DOCTYPE html>"), shown_head(bytes([0x94, 0xCE, 0x12, 0x00]))
    ('"<!DOCTYP"', '94 ce 12 00')
    """
    head = bytes(head[:8])
    if head and all(32 <= b < 127 for b in head):
        return '"' + head.decode("ascii") + '"'
    return head.hex(" ")


def file_head(path: str | os.PathLike) -> bytes | None:
    """The first :data:`SNIFF_BYTES` of a file (fewer if it is shorter), or None when it cannot be read or is
    not a regular file (opening a named pipe would wait for a writer forever).

    Parameters
    ----------
    path : str or path
        The file.

    Returns
    -------
    bytes or None
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except OSError:
        return None
