"""What a container's own head and tail say of its length, read from a bounded slice of each end
(:data:`END_BYTES`), so that a decoder that stops early is caught: libsndfile decodes an Ogg file up to
a damaged page, a FLAC file up to the length its STREAMINFO declares and an MP3 up to its Xing/Info frame
count, and says nothing. Pure functions over bytes; the reading is :mod:`emovox.audio.decode`'s.

Every parser here is bounded on hostile input: it looks at no more than the bytes it is given, and the
work it does on them is capped (:data:`MAX_CANDIDATES`), so a forged tail costs no more than its read.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

#: Bytes read at each end of a file: an Ogg page is at most 65,307 bytes, so the last one fits whole.
END_BYTES = 64 * 1024
#: The most sync-pattern candidates a parser examines in one slice (a forged tail can hold thousands).
MAX_CANDIDATES = 2048
#: The most bytes of Ogg pages CRC-checked in one slice (a forged tail of overlapping pages stops here).
MAX_CRC_BYTES = 4 * END_BYTES

# Ogg's CRC is non-reflected (polynomial 0x04C11DB7, init 0, no final xor); zlib's is the reflected one.
# The CRC of a message equals the bit-reversed reflected CRC of its bit-reversed bytes, which lets zlib's
# C loop do the work (a Python loop would take ~10 ms a page).
_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum of ``data`` (CRC-32, polynomial 0x04C11DB7, non-reflected, init 0).

    Parameters
    ----------
    data : bytes
        A page with its checksum field (bytes 22..26) zeroed.

    Returns
    -------
    int

    Examples
    --------
    >>> hex(ogg_crc(b"123456789"))  # the CRC-32/MPEG-2 family without init or final xor
    '0x89a1897f'
    """
    reflected = zlib.crc32(data.translate(_REV8), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


class OggPage(NamedTuple):
    """One Ogg page header: where it starts in the slice, its length, flags, granule and serial."""

    offset: int
    length: int
    flags: int
    granule: int
    serial: int


def _ogg_page_at(buf: bytes, pos: int) -> OggPage | None:
    """The page whose header starts at ``pos`` when it fits in ``buf`` whole and its CRC matches."""
    if buf[pos : pos + 5] != b"OggS\x00" or pos + 27 > len(buf):
        return None
    flags, granule, serial = buf[pos + 5], *struct.unpack_from("<qI", buf, pos + 6)
    if flags & ~0x07:  # only continued / first / last are defined
        return None
    nseg = buf[pos + 26]
    length = 27 + nseg + sum(buf[pos + 27 : pos + 27 + nseg])
    if pos + 27 + nseg > len(buf) or pos + length > len(buf):
        return None
    page = bytearray(buf[pos : pos + length])
    stored = struct.unpack_from("<I", page, 22)[0]
    page[22:26] = b"\0\0\0\0"
    if ogg_crc(bytes(page)) != stored:
        return None
    return OggPage(pos, length, flags, granule, serial)


class OggHead(NamedTuple):
    """The first logical stream of an Ogg file: its serial, codec ("vorbis" or "opus"), rate, the Opus
    pre-skip (48 kHz samples; 0 for Vorbis) and the granule of its first audio page (-1 when not seen)."""

    serial: int
    codec: str
    rate: int
    preskip: int
    first_granule: int


def ogg_head(head: bytes) -> OggHead | None:
    """What the first pages of an Ogg Vorbis or Opus file say (None for anything else, or a bad page).

    Parameters
    ----------
    head : bytes
        The file's first bytes (:data:`END_BYTES` or fewer).

    Returns
    -------
    OggHead or None

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(16000, np.float32), 16000, format="OGG", subtype="OPUS")
    >>> h = ogg_head(buf.getvalue()[:END_BYTES])
    >>> h.codec, h.rate, h.preskip
    ('opus', 16000, 312)
    """
    first = _ogg_page_at(head, 0)
    if first is None or not first.flags & 0x02:  # a stream's first page is flagged "beginning of stream"
        return None
    body = head[27 + head[26] : first.length]
    if body[:8] == b"OpusHead" and len(body) >= 19:
        codec, preskip, rate = "opus", *struct.unpack_from("<HI", body, 10)
    elif body[:7] == b"\x01vorbis" and len(body) >= 16:
        codec, preskip, rate = "vorbis", 0, struct.unpack_from("<I", body, 12)[0]
    else:
        return None
    pos, first_granule, crc_bytes = first.length, -1, 0
    for _ in range(MAX_CANDIDATES):  # the header pages, then the first audio page of this stream
        page = _ogg_page_at(head, pos)
        if page is None or crc_bytes > MAX_CRC_BYTES:
            break
        crc_bytes += page.length
        if page.serial == first.serial and page.granule > 0:
            first_granule = page.granule
            break
        pos += page.length
    return OggHead(first.serial, codec, rate, preskip, first_granule)


class OggTail(NamedTuple):
    """The end of an Ogg file: its last valid page; ``bos_at``: whether a page in the tail begins a new
    logical stream (a chained file); ``damaged_end``: bytes that look like an Ogg page but fail its checks
    follow the last valid page, which does not end its stream (a damaged or cut last page)."""

    last: OggPage
    bos_at: bool
    damaged_end: bool


def ogg_tail(tail: bytes, at_start: bool = False) -> OggTail | None:
    """The last valid page (a CRC that matches, a granule that is set) in the last bytes of an Ogg file.

    Parameters
    ----------
    tail : bytes
        The file's last bytes (:data:`END_BYTES` or fewer).
    at_start : bool
        ``tail`` is the whole file (a page at its offset 0 is the file's first, not a chained one).

    Returns
    -------
    OggTail or None
        None when no valid page with a granule is found.

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(16000, np.float32), 16000, format="OGG", subtype="VORBIS")
    >>> t = ogg_tail(buf.getvalue()[-END_BYTES:], at_start=True)
    >>> t.last.granule, t.bos_at, t.damaged_end
    (16000, False, False)
    >>> ogg_tail(b"OggS\\x00\\x04" + (2**62).to_bytes(8, "little") + bytes(20)) is None  # a forged page
    True
    """
    last, crc_bytes, end = None, 0, len(tail)
    pos = tail.rfind(b"OggS", 0, end)
    for _ in range(MAX_CANDIDATES):
        if pos < 0 or crc_bytes > MAX_CRC_BYTES:
            break
        if tail[pos + 4 : pos + 5] == b"\x00" and pos + 27 <= len(tail):
            crc_bytes += min(len(tail) - pos, 27 + 255 * 256)
            page = _ogg_page_at(tail, pos)
            if page is not None and page.granule >= 0:  # -1: no packet ends on this page
                last = page
                break
        pos = tail.rfind(b"OggS", 0, pos)
    if last is None:
        return None
    bos_at = False
    # the pages before the last one in the slice, walked forward from the first valid one found: a page
    # that begins a stream anywhere but at the file's start is a chain
    pos = tail.find(b"OggS")
    for _ in range(MAX_CANDIDATES):
        if pos < 0 or pos >= last.offset or crc_bytes > MAX_CRC_BYTES:
            break
        crc_bytes += min(len(tail) - pos, 27 + 255 * 256)  # what checking this candidate may cost
        page = _ogg_page_at(tail, pos)
        if page is None:
            pos = tail.find(b"OggS", pos + 1)
            continue
        if page.flags & 0x02 and not (at_start and pos == 0):
            bos_at = True
            break
        pos += page.length
    after = tail[last.offset + last.length :]
    damaged_end = not last.flags & 0x04 and after[:4] == b"OggS"
    return OggTail(
        last, bos_at or bool(last.flags & 0x02 and not (at_start and last.offset == 0)), damaged_end
    )


def ogg_frames(head: OggHead, tail: OggTail, rate: int) -> int:
    """Frames at ``rate`` up to the last page's granule: Vorbis counts its own rate; Opus counts 48 kHz
    samples, the encoder's pre-skip included, which libsndfile leaves out of what it decodes.

    Parameters
    ----------
    head : OggHead
    tail : OggTail
    rate : int
        The rate the decoder reports (libsndfile's rate for an Opus file is its input rate).

    Returns
    -------
    int

    Examples
    --------
    >>> page = OggPage(0, 0, 4, 146232, 1)
    >>> ogg_frames(OggHead(1, "opus", 16000, 312, 47040), OggTail(page, False, False), 16000)
    48640
    """
    if head.codec == "opus":
        return max(0, tail.last.granule - head.preskip) * rate // 48000
    return tail.last.granule


# --------------------------------------------------------------------------------------------- FLAC
class FlacInfo(NamedTuple):
    """STREAMINFO: block sizes, rate, channels, bits per sample and the total samples it declares."""

    min_block: int
    max_block: int
    rate: int
    channels: int
    bits: int
    total: int


def flac_streaminfo(head: bytes) -> FlacInfo | None:
    """STREAMINFO of a native FLAC file (None when ``head`` does not start with one).

    Parameters
    ----------
    head : bytes
        The file's first bytes (an ID3v2 tag before "fLaC" already skipped).

    Returns
    -------
    FlacInfo or None

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(16000, np.float32), 16000, format="FLAC")
    >>> flac_streaminfo(buf.getvalue())
    FlacInfo(min_block=4096, max_block=4096, rate=16000, channels=1, bits=16, total=16000)
    """
    if head[:4] != b"fLaC" or len(head) < 42 or head[4] & 0x7F != 0:
        return None
    min_block, max_block = struct.unpack_from(">HH", head, 8)
    bits = int.from_bytes(head[18:26], "big")
    return FlacInfo(
        min_block,
        max_block,
        bits >> 44,
        ((bits >> 41) & 0x7) + 1,
        ((bits >> 36) & 0x1F) + 1,
        bits & ((1 << 36) - 1),
    )


_CRC8 = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = ((_c << 1) ^ 0x07) & 0xFF if _c & 0x80 else (_c << 1) & 0xFF
    _CRC8.append(_c)

_FLAC_RATES = {1: 88200, 2: 176400, 3: 192000, 4: 8000, 5: 16000, 6: 22050, 7: 24000, 8: 32000}
_FLAC_RATES |= {9: 44100, 10: 48000, 11: 96000}
_FLAC_BITS = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}


def _crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = _CRC8[crc ^ b]
    return crc


def _flac_frame_at(buf: bytes, pos: int, info: FlacInfo) -> tuple[int, int] | None:
    """``(first sample, samples)`` of the frame whose header starts at ``pos``, when the header's CRC-8
    matches and its fields agree with STREAMINFO; None otherwise."""
    h = buf[pos : pos + 16]
    if len(h) < 6 or h[0] != 0xFF or h[1] & 0xFE != 0xF8 or h[3] & 0x01:
        return None
    variable, bs_code, rate_code = h[1] & 0x01, h[2] >> 4, h[2] & 0x0F
    ch_code, bits_code = h[3] >> 4, (h[3] >> 1) & 0x07
    if bs_code == 0 or rate_code == 15 or ch_code > 10 or bits_code == 3:
        return None
    if rate_code in _FLAC_RATES and _FLAC_RATES[rate_code] != info.rate:
        return None
    if bits_code and _FLAC_BITS[bits_code] != info.bits:
        return None
    if (ch_code + 1 if ch_code < 8 else 2) != info.channels:
        return None
    # the UTF-8-like coded frame (fixed blocks) or sample (variable blocks) number: as many bytes as the
    # first byte's leading ones (none: one byte)
    lead = next((k for k in range(8) if not (h[4] << k) & 0x80), 8)
    if lead == 1 or lead > 7:
        return None
    extra = max(0, lead - 1)
    n = h[4] & (0x7F >> lead)
    for b in h[5 : 5 + extra]:
        if b & 0xC0 != 0x80:
            return None
        n = (n << 6) | (b & 0x3F)
    p = 5 + extra
    if bs_code == 1:
        block = 192
    elif 2 <= bs_code <= 5:
        block = 576 << (bs_code - 2)
    elif bs_code == 6:
        block, p = h[p] + 1 if p < len(h) else 0, p + 1
    elif bs_code == 7:
        block, p = int.from_bytes(h[p : p + 2], "big") + 1, p + 2
    else:
        block = 256 << (bs_code - 8)
    p += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if p >= len(h) or _crc8(h[:p]) != h[p]:
        return None
    if variable:
        return n, block
    if info.min_block != info.max_block:  # a fixed-block stream whose block size STREAMINFO does not pin
        return None
    return n * info.max_block, block


def flac_end(tail: bytes, info: FlacInfo) -> int | None:
    """The sample just past the last frame in ``tail`` whose header is confirmed by the frame before it
    (two consecutive frames whose headers' CRC-8 match: a chance match in the audio data is no frame).

    Parameters
    ----------
    tail : bytes
        The file's last bytes (:data:`END_BYTES` or fewer).
    info : FlacInfo
        The file's STREAMINFO.

    Returns
    -------
    int or None
        None when no two consecutive frames are found.

    Examples
    --------
    >>> import io, numpy as np, soundfile as sf
    >>> buf = io.BytesIO()
    >>> sf.write(buf, np.zeros(48000, np.float32), 16000, format="FLAC")
    >>> data = buf.getvalue()
    >>> flac_end(data[-END_BYTES:], flac_streaminfo(data))
    48000
    """
    # backwards from the end, so that the cap on candidates is spent where the last frames are
    later: dict[int, int] = {}  # first sample of a frame found -> the sample just past it
    pos = len(tail)
    for _ in range(MAX_CANDIDATES):
        pos = tail.rfind(b"\xff", 0, pos)
        if pos < 0:
            break
        frame = _flac_frame_at(tail, pos, info)
        if frame is not None:
            start, n = frame
            if start + n in later:  # this frame ends where a later one starts: that one is real
                return later[start + n]
            later[start] = start + n
    return None


# ---------------------------------------------------------------------------------------------- MP3
def id3v2_size(head: bytes) -> int:
    """Bytes of an ID3v2 tag at the start of ``head`` (0 when there is none).

    Examples
    --------
    >>> id3v2_size(b"ID3\\x04\\x00\\x00\\x00\\x00\\x01\\x00")
    138
    >>> id3v2_size(b"fLaC")
    0
    """
    if head[:3] != b"ID3" or len(head) < 10 or any(b & 0x80 for b in head[6:10]):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


_MP3_BITRATES = {  # kbit/s by (MPEG-1?, layer)
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_BITRATES[(False, 3)] = _MP3_BITRATES[(False, 2)]


class Mp3Frame(NamedTuple):
    """An MPEG audio frame header: version (1, 2 or 2.5 as 25), layer, bit rate (bit/s), rate, frame
    length in bytes and samples per frame."""

    version: int
    layer: int
    bitrate: int
    rate: int
    length: int
    samples: int


def mp3_frame(h: bytes) -> Mp3Frame | None:
    """The MPEG audio frame header in the first 4 bytes of ``h`` (None when they are none).

    Examples
    --------
    >>> mp3_frame(bytes.fromhex("fff348c4"))
    Mp3Frame(version=2, layer=3, bitrate=32000, rate=16000, length=144, samples=576)
    """
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return None
    vbits, lbits, bidx, ridx = (h[1] >> 3) & 3, (h[1] >> 1) & 3, h[2] >> 4, (h[2] >> 2) & 3
    if vbits == 1 or lbits == 0 or bidx in (0, 15) or ridx == 3:
        return None
    version, layer, pad = {3: 1, 2: 2, 0: 25}[vbits], 4 - lbits, (h[2] >> 1) & 1
    bitrate = _MP3_BITRATES[(version == 1, layer)][bidx] * 1000
    rate = (44100, 48000, 32000)[ridx] // (1 if version == 1 else 2 if version == 2 else 4)
    if layer == 1:
        return Mp3Frame(version, layer, bitrate, rate, (12 * bitrate // rate + pad) * 4, 384)
    samples = 576 if layer == 3 and version != 1 else 1152
    return Mp3Frame(version, layer, bitrate, rate, samples // 8 * bitrate // rate + pad, samples)


class XingTag(NamedTuple):
    """A Xing ("Xing": VBR) or Info ("Info": CBR) tag: the first frame holding it, where it starts in the
    file, and the frames and bytes it declares (None where its flags leave them out)."""

    frame: Mp3Frame
    offset: int
    cbr: bool
    frames: int | None
    bytes: int | None


def xing_tag(head: bytes, offset: int = 0) -> XingTag | None:
    """The Xing/Info tag in the MPEG frame starting ``head`` (``offset``: where that is in the file).

    Examples
    --------
    >>> frame = bytes.fromhex("fff348c4") + bytes(9) + b"Info" + (3).to_bytes(4, "big")
    >>> xing_tag(frame + (100).to_bytes(4, "big") + (14400).to_bytes(4, "big") + bytes(120)).frames
    100
    """
    frame = mp3_frame(head)
    if frame is None:
        return None
    body = head[4 : frame.length]
    pos = max(body.find(b"Xing"), body.find(b"Info"))
    if pos < 0 or pos + 8 > len(body):
        return None
    flags = struct.unpack_from(">I", body, pos + 4)[0]
    fields, p = [], pos + 8
    for bit in (1, 2):
        if flags & bit and p + 4 <= len(body):
            fields.append(struct.unpack_from(">I", body, p)[0] or None)
            p += 4
        else:
            fields.append(None)
    return XingTag(frame, offset, body[pos : pos + 4] == b"Info", fields[0], fields[1])


def mp3_stream_end(tail: bytes, size: int, like: Mp3Frame) -> tuple[int, Mp3Frame] | None:
    """Where in the file (of ``size`` bytes) the MPEG stream ends, and its last frame: the end of the last
    of at least three consecutive frames like ``like`` (same version, layer and rate) found in ``tail``,
    the file's last bytes.

    Examples
    --------
    >>> f = bytes.fromhex("fff348c4") + bytes(140)
    >>> end, frame = mp3_stream_end(f * 10 + b"TAG" + bytes(125), 5000, mp3_frame(f))
    >>> end, frame.bitrate
    (4872, 32000)
    """
    base = size - len(tail)
    # backwards from the end (the cap on candidates is spent where the last frames are); a frame that ends
    # where a frame found later starts extends that one's run of frames
    run: dict[int, tuple[int, int, Mp3Frame]] = {}  # frame start -> (frames in a row, end, last frame)
    pos = len(tail)
    for _ in range(MAX_CANDIDATES):
        pos = tail.rfind(b"\xff", 0, pos)
        if pos < 0:
            break
        frame = mp3_frame(tail[pos : pos + 4])
        if frame is None or (frame.version, frame.layer, frame.rate) != (like.version, like.layer, like.rate):
            continue
        count, end, last = run.get(pos + frame.length, (0, pos + frame.length, frame))
        if count + 1 >= 3:
            return base + min(end, len(tail)), last
        run[pos] = (count + 1, end, last)
    return None
