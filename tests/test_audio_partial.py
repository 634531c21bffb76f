"""Files libsndfile decodes only in part, silently: a damaged Ogg page, a FLAC whose STREAMINFO or an MP3
whose Info/Xing tag understates its length, a chained Ogg file. The container's own tail tells
(:mod:`emovox.audio.containers`); real corpus files must not be flagged."""

from __future__ import annotations

import io
import shutil
import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from emovox.audio import audio_duration, audio_info, containers, load_audio, stream_audio
from emovox.errors import AudioError

SR = 16000
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def sine(seconds: float = 6.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(SR * seconds)) / SR)).astype(np.float32)


def encoded(fmt: str, subtype: str | None = None, seconds: float = 6.0, **kw) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, sine(seconds), SR, format=fmt, subtype=subtype, **kw)
    return buf.getvalue()


def flipped(data: bytes, at: float) -> bytes:
    d = bytearray(data)
    d[int(len(d) * at)] ^= 0xFF
    return bytes(d)


def understated_flac(data: bytes) -> bytes:
    """The FLAC with its STREAMINFO total samples (36 bits at bytes 21..26) halved."""
    d = bytearray(data)
    b = int.from_bytes(d[18:26], "big")
    mask = (1 << 36) - 1
    d[18:26] = ((b & ~mask) | ((b & mask) // 2)).to_bytes(8, "big")
    return bytes(d)


def streamed(source, **kw) -> int:
    return sum(len(c) for c in stream_audio(source, SR, **kw))


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------------------ Ogg
@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_a_damaged_ogg_page_is_an_error_not_a_short_signal(tmp_path, subtype):
    path = write(tmp_path, f"bad.{subtype.lower()}.ogg", flipped(encoded("OGG", subtype), 0.5))
    with pytest.raises(
        AudioError,
        match=r"bad\..*: corrupt: decoding stopped at .* s of the 6\.00 s its last Ogg page declares",
    ):
        load_audio(path)
    with pytest.raises(AudioError, match="its last Ogg page declares"):
        streamed(path)
    with pytest.raises(AudioError, match="its last Ogg page declares"):
        load_audio(path.read_bytes())


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_a_damaged_last_ogg_page_is_an_error(tmp_path, subtype):
    path = write(tmp_path, "bad.ogg", flipped(encoded("OGG", subtype), 0.99))
    with pytest.raises(AudioError, match=r"bad\.ogg: corrupt: its last Ogg page is damaged or cut short"):
        load_audio(path)


@pytest.mark.parametrize(
    ("fmt", "subtype", "name"),
    [("OGG", "VORBIS", "a.ogg"), ("OGG", "OPUS", "a.opus"), ("FLAC", None, "a.flac"), ("MP3", None, "a.mp3")],
)
def test_intact_files_decode_whole_as_before(tmp_path, fmt, subtype, name):
    path = write(tmp_path, name, encoded(fmt, subtype))
    assert len(load_audio(path)) == 6 * SR
    assert streamed(path) == 6 * SR
    assert audio_duration(path) == pytest.approx(6.0)


def chained(a: bytes, b: bytes) -> bytes:
    return a + b


@needs_ffmpeg
@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
def test_a_chained_ogg_file_is_read_whole_by_ffmpeg(tmp_path, subtype):
    path = write(tmp_path, "chain.ogg", chained(encoded("OGG", subtype, 2.0), encoded("OGG", subtype, 4.0)))
    assert len(load_audio(path)) == pytest.approx(6 * SR, abs=SR // 20)
    assert streamed(path) == pytest.approx(6 * SR, abs=SR // 20)


def test_a_chained_ogg_file_without_ffmpeg_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = write(tmp_path, "chain.ogg", chained(encoded("OGG", "VORBIS", 2.0), encoded("OGG", "VORBIS", 4.0)))
    with pytest.raises(AudioError, match=r"chain\.ogg: a chained Ogg file .* install ffmpeg"):
        load_audio(path)


def forged_page(granule: int, serial: int, flags: int = 0x04, crc: bool = True) -> bytes:
    page = bytearray(
        b"OggS\x00" + bytes([flags]) + granule.to_bytes(8, "little") + serial.to_bytes(4, "little")
    )
    page += bytes(8) + b"\x01\x05" + b"hello"
    if crc:
        page[22:26] = containers.ogg_crc(bytes(page)).to_bytes(4, "little")
    return bytes(page)


def test_a_forged_ogg_tail_neither_crashes_nor_allocates(tmp_path):
    data = encoded("OGG", "VORBIS")
    serial = containers.ogg_head(data).serial
    # garbage after the stream's last page: an "OggS" with a bad CRC and a granule of 2^62
    path = write(tmp_path, "junk.ogg", data + forged_page(2**62, serial, crc=False) + b"OggS" * 1000)
    assert len(load_audio(path)) == 6 * SR
    # a page with a valid CRC claiming 2^62 samples: a clear error, nothing allocated from the claim
    path = write(tmp_path, "forged.ogg", data + forged_page(2**62, serial))
    tracemalloc.start()
    try:
        with pytest.raises(AudioError, match=r"forged\.ogg: "):
            load_audio(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


@pytest.mark.parametrize(
    "tail",
    [
        b"OggS\x00" * 13107,
        b"".join(forged_page(2**62, 1, crc=False) for _ in range(1500)),
        b"\xff\xf8" * 32768,
        b"\xff\xfb\x90\x64" * 16384,
    ],
    ids=["oggs", "bad-crc-pages", "flac-syncs", "mpeg-syncs"],
)
def test_forged_tails_cost_no_more_than_their_read(tail):
    t0 = time.perf_counter()
    assert containers.ogg_tail(tail) is None
    assert containers.flac_end(tail, containers.FlacInfo(4096, 4096, SR, 1, 16, 100)) is None
    assert containers.mp3_stream_end(tail, 10**6, containers.mp3_frame(b"\xff\xf3\x48\xc4")) is None
    assert time.perf_counter() - t0 < 2.0


# ----------------------------------------------------------------------------------------------- FLAC
@needs_ffmpeg
def test_a_flac_whose_streaminfo_understates_its_length_is_read_whole(tmp_path):
    path = write(tmp_path, "under.flac", understated_flac(encoded("FLAC")))
    y = load_audio(path)
    assert len(y) == 6 * SR
    np.testing.assert_allclose(y, sine(), atol=1e-3)
    assert streamed(path, chunk_seconds=1.0) == 6 * SR  # ffmpeg's from the start: no block twice
    assert len(load_audio(path.read_bytes())) == 6 * SR


def test_a_flac_whose_streaminfo_understates_its_length_without_ffmpeg_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = write(tmp_path, "under.flac", understated_flac(encoded("FLAC")))
    match = r"under\.flac: corrupt FLAC header: its STREAMINFO declares 3\.00 s but its frames run on to 6\.00 s.*install ffmpeg"
    with pytest.raises(AudioError, match=match):
        load_audio(path)
    with pytest.raises(AudioError, match=match):
        streamed(path)


def test_audio_info_reports_an_understated_flac_whole(tmp_path):
    path = write(tmp_path, "under.flac", understated_flac(encoded("FLAC")))
    assert audio_info(path)["duration"] == pytest.approx(6.0)
    assert audio_duration(path) == pytest.approx(6.0)
    assert audio_duration(path.read_bytes()) == pytest.approx(6.0)


# ------------------------------------------------------------------------------------------------ MP3
def understated_info(data: bytes) -> bytes:
    d = bytearray(data)
    p = max(d.find(b"Info"), d.find(b"Xing"))
    frames = int.from_bytes(d[p + 8 : p + 12], "big")
    d[p + 8 : p + 12] = (frames // 2).to_bytes(4, "big")
    return bytes(d)


@needs_ffmpeg
def test_an_mp3_whose_info_tag_understates_its_frames_is_read_whole(tmp_path):
    path = write(
        tmp_path,
        "under.mp3",
        understated_info(encoded("MP3", bitrate_mode="CONSTANT", compression_level=0.5)),
    )
    assert len(load_audio(path)) == pytest.approx(6 * SR, abs=SR // 10)
    assert streamed(path) == pytest.approx(6 * SR, abs=SR // 10)


def test_an_mp3_whose_info_tag_understates_its_frames_without_ffmpeg_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = write(
        tmp_path,
        "under.mp3",
        understated_info(encoded("MP3", bitrate_mode="CONSTANT", compression_level=0.5)),
    )
    with pytest.raises(
        AudioError, match=r"under\.mp3: its Xing/Info tag declares 2\.\d+ s but the MPEG stream runs on"
    ):
        load_audio(path)


@needs_ffmpeg
def test_two_joined_mp3_files_are_read_whole(tmp_path):
    one = encoded("MP3", seconds=3.0)
    path = write(tmp_path, "joined.mp3", one + one)
    assert len(load_audio(path)) == pytest.approx(6 * SR, abs=SR // 5)


# ------------------------------------------------------------------------------------- real corpora
def _some(root, pattern: str, n: int = 8):
    files = sorted(root.rglob(pattern))
    return files[:: max(1, len(files) // n)][:n]


def test_real_opus_files_are_not_flagged(nemo_root):
    for path in _some(nemo_root, "*.opus"):
        data = path.read_bytes()
        head, tail = (
            containers.ogg_head(data[: containers.END_BYTES]),
            containers.ogg_tail(data[-containers.END_BYTES :], at_start=len(data) <= containers.END_BYTES),
        )
        assert head is not None and tail is not None and not tail.damaged_end and not tail.bos_at, path
        info = sf.info(path)
        assert containers.ogg_frames(head, tail, info.samplerate) == info.frames, path  # the check is live
        assert len(load_audio(path)) > 0


@pytest.mark.parametrize("corpus", ["ravdess_root", "emodb_root", "emovo_root"])
def test_real_flac_files_are_not_flagged(corpus, request):
    for path in _some(request.getfixturevalue(corpus), "*.flac", 4):
        data = path.read_bytes()
        info = containers.flac_streaminfo(data)
        assert containers.flac_end(data[-containers.END_BYTES :], info) == info.total, path
        assert len(load_audio(path)) > 0
