import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import emovox
from emovox import AudioError
from emovox.audio import load_audio, stream_audio

from .conftest import EMODB, need, tone

SR = 16000


@pytest.mark.parametrize(
    "subtype,tol",
    [
        ("PCM_U8", 1e-2),
        ("PCM_16", 1e-4),
        ("PCM_24", 1e-6),
        ("PCM_32", 1e-6),
        ("FLOAT", 1e-7),
        ("DOUBLE", 1e-7),
    ],
)
def test_wav_subtypes_round_trip(tmp_path, subtype, tol):
    y = tone(440, 0.5)
    path = tmp_path / f"x_{subtype}.wav"
    sf.write(path, y, SR, subtype=subtype)
    out = load_audio(path)
    assert out.dtype == np.float32 and out.shape == y.shape
    assert np.max(np.abs(out - y)) < tol + 1e-9


def test_frame_syncs_are_told_from_a_byte_order_mark():
    """MPEG layer II / III and raw AAC (ADTS) start with a frame sync, and so, nearly, does a UTF-16 text."""
    from emovox.audio.sniff import sniff_format

    assert sniff_format(b"\xff\xfb\x90\x64") == "mp3"  # MPEG-1 layer III
    assert sniff_format(b"\xff\xf3\x90\x64") == "mp3"  # MPEG-2 layer III
    assert sniff_format(b"\xff\xfd\x90\x64") == "mp3"  # MPEG-1 layer II (decoded by the MP3 decoder)
    assert sniff_format(b"\xff\xf1\x50\x80") == "aac"  # ADTS, MPEG-4
    assert sniff_format(b"\xff\xf9\x50\x80") == "aac"  # ADTS, MPEG-2
    assert sniff_format("path,emotion\n".encode("utf-16")) is None  # FF FE: a UTF-16 manifest


@pytest.mark.parametrize(
    "fmt,subtype,ext",
    [
        ("FLAC", "PCM_16", "flac"),
        ("OGG", "VORBIS", "ogg"),
        ("OGG", "OPUS", "opus"),
        ("MP3", "MPEG_LAYER_III", "mp3"),
    ],
)
def test_compressed_formats_decode(tmp_path, fmt, subtype, ext):
    y = tone(440, 1.0)
    path = tmp_path / f"x.{ext}"
    sr = 48000 if subtype == "OPUS" else SR
    sf.write(path, tone(440, 1.0, sr), sr, format=fmt, subtype=subtype)
    out = load_audio(path)
    assert abs(out.size - y.size) < 0.06 * SR  # codecs add priming samples
    # energy is kept: the RMS of a 0.5-amplitude sine is 0.354
    assert abs(np.sqrt(np.mean(out**2)) - 0.354) < 0.05


def test_resample_and_downmix(tmp_path):
    left = tone(440, 1.0, 44100)
    stereo = np.stack([left, -left * 0 + left], axis=1)
    path = tmp_path / "st.wav"
    sf.write(path, stereo, 44100)
    out = load_audio(path, sr=16000)
    assert out.shape == (16000,)
    spec = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spec) * 16000 / out.size - 440) <= 1.0


def test_array_and_bytes_inputs(tmp_path):
    y = tone(440, 0.5, 8000)
    out = load_audio(y, input_sr=8000)
    assert out.shape == (8000,)
    ints = (y * 32767).astype(np.int16)
    assert np.allclose(load_audio(ints, input_sr=8000), out, atol=1e-3)
    chans_first = np.stack([y, y])  # (channels, n)
    assert load_audio(chans_first, input_sr=8000).shape == (8000,)
    path = tmp_path / "b.flac"
    sf.write(path, y, 8000)
    assert np.allclose(load_audio(path.read_bytes()), out, atol=1e-3)
    with pytest.raises(AudioError, match="input_sr"):
        load_audio(y)


def test_stream_audio_matches_whole_file(tmp_path):
    y = np.random.default_rng(0).standard_normal(44100 * 5).astype(np.float32) * 0.1
    path = tmp_path / "long.wav"
    sf.write(path, y, 44100, subtype="FLOAT")
    chunks = list(stream_audio(path, 16000, chunk_seconds=1.0))
    assert len(chunks) >= 5
    streamed = np.concatenate(chunks)
    whole = load_audio(path, 16000)
    assert abs(streamed.size - whole.size) <= 2
    n = min(streamed.size, whole.size)
    assert np.max(np.abs(streamed[200 : n - 200] - whole[200 : n - 200])) < 1e-3


def test_stereo_with_a_channel_in_reverse_phase_is_not_silence(tmp_path, emodb_root):
    """A real sentence on two channels, one wired in reverse phase: averaging would give silence ("no
    speech"); every reader takes the louder channel, and a stream decides the same block by block."""
    y = load_audio(emodb_root / "wav" / "03a01Wa.flac")
    path = tmp_path / "reversed.flac"
    sf.write(path, np.stack([0.7 * y, -y], 1), SR)
    np.testing.assert_allclose(load_audio(path), -y, atol=1e-4)
    streamed = np.concatenate(list(stream_audio(path, SR, chunk_seconds=0.5)))
    np.testing.assert_allclose(streamed[: y.size], -y, atol=1e-4)
    model = emovox.load_model()
    assert model.predict(path) == model.predict(emodb_root / "wav" / "03a01Wa.flac") == "angry"
    if shutil.which("ffmpeg"):  # ffmpeg's own mono mix would cancel too
        m4a = tmp_path / "reversed.m4a"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-c:a", "aac", str(m4a)], check=True)
        assert load_audio(m4a).std() == pytest.approx(y.std(), rel=0.05)


# ---------------------------------------------------------------------------------------- bad input
def _expect(path, match, **kw):
    with pytest.raises(AudioError) as info:
        load_audio(path, **kw)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg
    assert match in msg
    return msg


def test_missing_file(tmp_path):
    _expect(tmp_path / "nope.wav", "no such file")


def test_a_name_too_long_for_the_file_system_is_one_plain_line(tmp_path):
    """It was "OSError: [Errno 36] File name too long: '...'", the path given twice (a hardening review)."""
    assert _expect(tmp_path / ("a" * 300 + ".wav"), "unreadable (file name too long)").count("a" * 300) == 1


def test_directory(tmp_path):
    _expect(tmp_path, "is a directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable(tmp_path, tone_wav):
    os.chmod(tone_wav, 0)
    _expect(tone_wav, "unreadable")


def test_unreadable_as_root_is_reported(tmp_path, tone_wav, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    _expect(tone_wav, "unreadable")


def test_not_audio(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio at all, just text\n" * 20)
    msg = _expect(path, "not audio, or a format emovox does not know")
    assert "notes.wav" in msg and "ffmpeg" not in msg  # installing ffmpeg would not help
    # a known container that libsndfile cannot decode is named for what it is
    (tmp_path / "x.flac").write_bytes(b"fLaC" + bytes(range(256)) * 8)
    assert "ffmpeg" not in _expect(tmp_path / "x.flac", "corrupt")
    (tmp_path / "x.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8)
    assert "ffmpeg" not in _expect(tmp_path / "x.mp3", "corrupt")
    with pytest.raises(AudioError, match=r"^up\.mp3: corrupt or unsupported MP3 data"):  # an upload's bytes
        load_audio(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8, name="up.mp3")


def test_not_audio_garbage_riff(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(AudioError, match="bad.wav"):
        load_audio(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _expect(path, "empty file")


def test_truncated_wav(tmp_path, tone_wav):
    data = tone_wav.read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    _expect(path, "truncated")


@pytest.mark.parametrize("fmt", ["RF64", "W64", "AIFF", "AU", "WAV with metadata"])
def test_truncated_containers(tmp_path, fmt):
    """libsndfile reads what a cut file holds; only plain WAVs whose data chunk sat in the first 4 KB were
    caught. RF64 (its sizes in a ds64 chunk), Wave64, AIFF, AU (stop 41: half of one was scored as whole)
    and a WAV with 5 KB of metadata before its samples (as field recorders write) are now, and the whole
    files still read."""
    y = tone(440, 2.0)
    path = tmp_path / "full"
    if fmt == "WAV with metadata":
        sf.write(path, y, SR, format="WAV", subtype="PCM_16")
        b = path.read_bytes()
        i = b.index(b"data")
        b = b[:i] + b"JUNK" + (5000).to_bytes(4, "little") + bytes(5000) + b[i:]
        path.write_bytes(b[:4] + (len(b) - 8).to_bytes(4, "little") + b[8:])
    else:
        sf.write(path, y, SR, format=fmt, subtype="PCM_16")
    assert load_audio(path).size == y.size
    data = path.read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) // 2])
    _expect(cut, "truncated: header declares")
    stub = tmp_path / "stub"  # a header cut short of the sizes: one line, not a crash (a 500 at the API)
    stub.write_bytes(data[:10])
    _expect(stub, "stub")


def test_a_cut_mp3_is_reported(tmp_path):
    """An MP3's declared length is an estimate, so it was never compared: half an MP3 was scored as whole.
    A tenth short is a cut file."""
    path, cut = tmp_path / "t.mp3", tmp_path / "cut.mp3"
    sf.write(path, tone(440, 4.0), SR, format="MP3", subtype="MPEG_LAYER_III")
    assert abs(load_audio(path).size - 4 * SR) < 0.05 * SR
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect(cut, "truncated or forged header: it declares 64000 frames (4 s)")


def test_bytes_that_look_like_mp3_give_one_line(tmp_path):
    """libmpg123 wrote three "Note: Illegal Audio-MPEG-Header" lines before emovox's own when libsndfile
    probed bytes that only look like MP3 (its header was read unmuted for a name not ending in .mp3)."""
    path = tmp_path / "rand.wav"
    path.write_bytes(np.random.default_rng(1).bytes(20000))  # it starts with FF E4: an MPEG frame sync
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"emovox: error: {path}: not audio or corrupt (no valid MP3 stream)",
        "emovox: 1 of 1 inputs failed",
    ]


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg writes the MP3-in-WAV file")
def test_mp3_in_a_wav_container_is_read(tmp_path):
    """An MPEG stream's declared length is an estimate in a WAV too: it was refused as a forged header."""
    src, dst = tmp_path / "t.wav", tmp_path / "mp3.wav"
    sf.write(src, tone(440, 2.0), SR)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "libmp3lame", "-f", "wav", str(dst)], check=True
    )
    assert sf.info(dst).subtype == "MPEG_LAYER_III"
    assert abs(load_audio(dst).size - 2 * SR) < 0.1 * SR


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg writes and reads the G.722 file")
def test_a_codec_libsndfile_lacks_in_a_container_it_knows_goes_to_ffmpeg(tmp_path):
    """G.722 in a WAV (or Speex in an Ogg): libsndfile knows the container, not the codec, and its error was
    final although ffmpeg decodes them; a corrupt file still gets libsndfile's own words (the tests above)."""
    src, dst = tmp_path / "t.wav", tmp_path / "g722.wav"
    sf.write(src, tone(440, 2.0), SR)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "adpcm_g722", str(dst)], check=True)
    assert abs(load_audio(dst).size - 2 * SR) < 0.1 * SR
    assert sum(c.size for c in stream_audio(dst)) == load_audio(dst).size
    cut = tmp_path / "cut.wav"  # ffmpeg reads what a cut file holds: the header check runs first
    cut.write_bytes(dst.read_bytes()[: dst.stat().st_size // 2])
    _expect(cut, "truncated: header declares")


def _reads(cmdline: Path, path: str) -> bool:
    """Whether the process of /proc/PID/cmdline is an ffmpeg reading ``path``."""
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:  # it ended meanwhile
        return False
    return bool(args) and args[0].endswith(b"ffmpeg") and f"file:{path}".encode() in args


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_ffmpeg_decodes_mono_at_its_level_and_files_of_unknown_length(tmp_path):
    """ffmpeg's ``-ac 2`` copied a mono file to both channels 3 dB down: a phone's mono m4a or a browser's
    webm of a sentence peaked at 0.70 where its WAV peaks at 1.0. A FLAC written to a pipe declares no
    length, and libsndfile failed in the middle of it ("corrupt or truncated (Internal psf_fseek() failed.)"):
    ffmpeg reads it, to the same samples."""
    src = need(EMODB) / "wav" / "03a01Wa.flac"
    ref = load_audio(src)
    for ext, codec in (("webm", "libopus"), ("m4a", "aac")):
        out = tmp_path / f"mono.{ext}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(src), "-c:a", codec, "-b:a", "128k", str(out)], check=True
        )
        y = load_audio(out)
        assert 0.9 < np.abs(y).max() / np.abs(ref).max() < 1.1, ext
    # a WAV whose recorder stopped before it wrote its sizes: the header says no samples, 60 KB follow
    for subtype in ("PCM_16", "FLOAT"):
        raw = tmp_path / f"{subtype}.wav"
        sf.write(raw, ref, SR, subtype=subtype)
        b = bytearray(raw.read_bytes())
        at = b.index(b"data") + 4
        b[4:8], b[at : at + 4] = (36).to_bytes(4, "little"), bytes(4)
        (tmp_path / "unsized.wav").write_bytes(bytes(b))
        np.testing.assert_array_equal(load_audio(tmp_path / "unsized.wav"), load_audio(raw))
        np.testing.assert_array_equal(
            np.concatenate(list(stream_audio(tmp_path / "unsized.wav"))), load_audio(raw)
        )
    piped = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(src), "-f", "flac", "-"], capture_output=True, check=True
    )
    (tmp_path / "piped.flac").write_bytes(piped.stdout)
    np.testing.assert_array_equal(load_audio(tmp_path / "piped.flac"), ref)
    np.testing.assert_array_equal(np.concatenate(list(stream_audio(tmp_path / "piped.flac"))), ref)
    # a video without sound: said so, not "corrupt (ffmpeg: Output file #0 does not contain any stream)"
    video = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=1", str(video)], check=True
    )
    with pytest.raises(AudioError, match=r"silent.mp4: holds no audio track \(a video without sound"):
        load_audio(video)
    # a text file ffmpeg guesses to be subtitles (lrc) is not audio, not a video without sound
    text = tmp_path / "settings.wav"
    text.write_text('[project]\nname = "emovox"\nversion = "0.1.0"\n[tool.ruff]\nline-length = 110\n')
    with pytest.raises(AudioError, match=r"settings.wav: not audio or corrupt \(ffmpeg could only guess"):
        load_audio(text)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_ffmpeg_damage_is_said(tmp_path, caplog):
    """Eight bytes of a WebM overwritten: ffmpeg decoded 0.03 s of its 1.9 s and said so only at its
    warning level ("Error parsing frame sizes."), which was not read: the file was "too short", or with
    other damage "silence". Its warning is now passed on; a clean file gives none."""
    import logging

    src = need(EMODB) / "wav" / "03a01Wa.flac"
    clean = tmp_path / "speech.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), str(clean)], check=True)
    damaged = bytearray(clean.read_bytes())
    damaged[1000:1008] = b"\xff" * 8
    (tmp_path / "cw.webm").write_bytes(bytes(damaged))
    with caplog.at_level(logging.WARNING, logger="emovox"):
        load_audio(clean)
        assert not caplog.records
        with pytest.raises(AudioError):
            load_audio(tmp_path / "cw.webm", min_duration=0.1)
    assert any(
        "cw.webm: damaged (ffmpeg: Error parsing frame sizes.)" in r.getMessage() for r in caplog.records
    )


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg writes and reads the m4a file")
def test_audio_info_of_an_ffmpeg_format_counts_it_in_bounded_memory(tmp_path):
    """``audio_info`` (``emovox listen --input``, ``predict --timeline``'s durations) decoded a file that
    only ffmpeg reads whole to learn its length: an hour of m4a held 230 MB. It now counts it chunk by
    chunk."""
    import tracemalloc

    from emovox.audio import audio_info

    src, dst = tmp_path / "t.wav", tmp_path / "t.m4a"
    sf.write(src, tone(440, 3.0), SR)
    long = tmp_path / "long.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "aac", str(dst)], check=True)
    subprocess.run(  # 10 minutes: 38 MB as float32 samples at 16 kHz
        ["ffmpeg", "-v", "error", "-stream_loop", "199", "-i", str(dst), "-c:a", "aac", str(long)], check=True
    )
    tracemalloc.start()
    try:
        info = audio_info(long)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info["duration"] == load_audio(long).size / SR and info["sample_rate"] is None
    assert abs(info["duration"] - 600.0) < 3.0  # (AAC's padding at each loop's edges)
    assert peak < 30e6, f"{peak / 1e6:.0f} MB"  # (77 MB decoded whole)
    with pytest.raises(AudioError, match="cut.m4a: "):
        cut = tmp_path / "cut.m4a"
        cut.write_bytes(dst.read_bytes()[:300])
        audio_info(cut)


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg writes and reads the m4a file")
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="looks for the ffmpeg process in /proc")
def test_ffmpeg_formats_stream_chunk_by_chunk(tmp_path):
    """An m4a was decoded whole before it was chunked: an hour took 1 GB. Its chunks now come from ffmpeg's
    output as it goes, equal to the whole decode; a bad file still fails with ffmpeg's reason."""
    src, dst = tmp_path / "t.wav", tmp_path / "t.m4a"
    sf.write(src, tone(440, 3.0), SR)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "aac", str(dst)], check=True)
    chunks = list(stream_audio(dst, SR, chunk_seconds=0.5))
    assert len(chunks) >= 6 and max(c.size for c in chunks) == SR // 2
    np.testing.assert_array_equal(np.concatenate(chunks), load_audio(dst))
    # streamed as ffmpeg decodes: its first chunk comes while ffmpeg still runs (it ran to its end before)
    long = tmp_path / "long.m4a"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-stream_loop", "200", "-i", str(dst), "-c:a", "aac", str(long)], check=True
    )
    stream = stream_audio(long, SR, chunk_seconds=0.5)
    next(stream)
    running = [c for c in Path("/proc").glob("[0-9]*/cmdline") if _reads(c, str(long))]
    stream.close()
    assert running
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(dst.read_bytes()[:300])
    with pytest.raises(AudioError, match="cut.m4a: not audio or corrupt \\(ffmpeg: "):
        list(stream_audio(cut, SR, chunk_seconds=0.5))
    # cut in half: ffmpeg decodes what is there and exits 0, saying "partial file" (it was scored as whole)
    fast = tmp_path / "fast.m4a"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(long),
            "-t",
            "60",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            str(fast),
        ],
        check=True,
    )
    half = tmp_path / "half.m4a"
    half.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    assert abs(load_audio(fast).size - 60 * SR) < 2 * SR  # AAC frames at the edges
    _expect(half, "half.m4a: truncated (ffmpeg: stream 0, offset ")
    # an upload's bytes: ffmpeg's m4a keeps its index at the end, which a pipe cannot reach ("partial
    # file": zero samples); it is read from a temporary file, whose name no message shows
    np.testing.assert_array_equal(load_audio(dst.read_bytes()), load_audio(dst))
    with pytest.raises(AudioError) as info:
        load_audio(cut.read_bytes(), name="upload.m4a")
    assert str(info.value).startswith(
        "upload.m4a: not audio or corrupt (ffmpeg: "
    ) and "emovox-ffmpeg" not in str(info.value)


def test_truncated_flac(tmp_path):
    path = tmp_path / "full.flac"
    sf.write(path, np.random.default_rng(1).standard_normal(SR * 2).astype(np.float32) * 0.1, SR)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect(cut, "truncated")


def test_zero_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    _expect(path, "zero samples")


def test_non_finite(tmp_path):
    y = tone(440, 0.5)
    y[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    _expect(path, "non-finite")
    with pytest.raises(AudioError, match="non-finite"):
        load_audio(np.array([0.0, np.inf] * 1000, dtype=np.float32), input_sr=SR)


def test_too_short_and_configurable(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(440, 0.05), SR)
    _expect(path, "too short")
    assert load_audio(path, min_duration=0.01).size == 800
    with pytest.raises(AudioError, match="too short"):
        load_audio(path, min_duration=0.5)


def test_ffmpeg_fallback_or_clear_error(tmp_path):
    """A container libsndfile cannot read: decoded by ffmpeg when present, else a clear error."""
    path = tmp_path / "clip.m4a"
    if shutil.which("ffmpeg"):
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=1",
                "-ar",
                "16000",
                str(path),
            ],
            check=True,
        )
        y = load_audio(path)
        assert abs(y.size - SR) < 0.1 * SR
    else:
        path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 2000)
        _expect(path, "mp4 audio needs ffmpeg, which is not installed")


def test_cli_bad_file_one_line(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_text("nope")
    out = tmp_path / "o.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "convert", str(path), str(out)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.wav" in lines[0] and "Traceback" not in proc.stderr


def test_public_api_exports():
    assert emovox.load_audio is load_audio
    assert issubclass(emovox.AudioError, emovox.EmovoxError)
    # subpackages after `import emovox` alone, as the README uses them; a typo still fails
    assert callable(emovox.live.timeline) and callable(emovox.batch.predict)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        emovox.nothing  # noqa: B018
    # a subpackage whose optional extra is missing: hasattr answers False, it does not raise
    code = "import sys; sys.modules['fastapi'] = None; import emovox; print(hasattr(emovox, 'server'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_float_mono_scales_integers_and_averages_channels():
    from emovox.audio import float_mono

    rng = np.random.default_rng(3)
    y = (0.5 * rng.uniform(-1, 1, 1000)).astype(np.float32)
    i16 = np.round(y * 32768).astype(np.int16)
    np.testing.assert_allclose(float_mono(i16), y, atol=1 / 32768)
    np.testing.assert_allclose(float_mono(i16.astype(np.int32) << 16), y, atol=1 / 32768)
    np.testing.assert_allclose(float_mono((i16 // 256 + 128).astype(np.uint8)), y, atol=1 / 128)
    z = rng.uniform(-1, 1, 1000).astype(np.float32)
    for stereo in (np.stack([y, z], 1), np.stack([y, z])):  # (n, 2) and (2, n): the mean
        np.testing.assert_allclose(float_mono(stereo), (y + z) / 2, atol=1e-7)
    # a channel in reverse phase would cancel the mean to silence: the louder channel instead
    np.testing.assert_array_equal(float_mono(np.stack([0.8 * y, -y], 1)), -y)
    np.testing.assert_allclose(float_mono(np.stack([y, -0.2 * y])), 0.4 * y, atol=1e-7)  # -8 dB: mixed
    many = rng.uniform(-1, 1, (1000, 8)).astype(np.float32)  # eight microphones, none cancelling: the mean
    np.testing.assert_allclose(float_mono(many), many.mean(axis=1), atol=1e-6)
    for bad, words in ((np.zeros((2, 2, 2)), "shape (2, 2, 2)"), (np.array(["a"]), "as numbers")):
        with pytest.raises(AudioError, match=re.escape(words)):
            float_mono(bad, "x.npy")
    with pytest.raises(AudioError, match="x.npy: contains non-finite"):
        float_mono(np.array([0.0, np.nan]), "x.npy")
    # fewer frames than channels (a microphone's last chunk): still frames x channels; nothing: nothing
    assert float_mono(np.array([[0.5, 0.25]])).tolist() == [0.375]
    assert (
        float_mono(np.zeros((0, 2))).shape == (0,) and float_mono(np.zeros(0, np.int16)).dtype == np.float32
    )


def test_stream_of_truncated_flac_is_an_audio_error(tmp_path):
    path = tmp_path / "full.flac"
    sf.write(path, np.random.default_rng(2).standard_normal(SR * 4).astype(np.float32) * 0.1, SR)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(AudioError, match="cut.flac"):
        list(stream_audio(cut, chunk_seconds=0.5))


def test_unsigned_and_bad_rate_arrays():
    silence = np.full(1600, 128, dtype=np.uint8)  # offset binary: 128 is zero
    assert np.abs(load_audio(silence, input_sr=16000)).max() < 1e-6
    with pytest.raises(AudioError, match="input_sr must be 4000-768000 Hz, got 0"):
        load_audio(np.zeros(1600, np.float32), input_sr=0)
    # 1 Hz read as 16 kHz would be a 16000-fold resampling bomb; True, text and fractions are not rates
    for bad in (10, 1, True, "16000", 16000.5, float("nan")):
        with pytest.raises(AudioError, match="<array>: input_sr must be"):
            load_audio(np.zeros(1000, np.float32) + 0.1, input_sr=bad)
    with pytest.raises(AudioError, match="sr must be 4000-768000 Hz, got 0"):
        load_audio(np.zeros(1600, np.float32), sr=0, input_sr=16000)


def test_mp3_whose_header_overestimates_its_length_decodes(tmp_path):
    """An MP3 written by sox (44.1 kHz, LAME tag) declares 267,363 frames and holds 266,112: the count is an
    estimate, not a cut file, so it decodes (issue 19: "truncated: read 92736 of 93173 frames")."""
    mp3 = Path(__file__).parent / "data" / "sox-44k.mp3"
    assert sf.info(str(mp3)).frames > 266112
    y = load_audio(mp3, 16000)
    assert abs(len(y) / 16000 - 6.0) < 0.05
    out = tmp_path / "out.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "convert", str(mp3), str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and out.is_file(), proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(mp3), "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr  # a sweep: decoded, then "no speech"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_ffmpeg_messages_name_the_input_once_whatever_its_name(tmp_path):
    """ffmpeg's lines were split before the path was replaced: a name with a newline showed a piece of itself
    (``ffmpeg: b.wav: Invalid data...``), and an upload's bytes showed ``pipe:0:``."""
    path = tmp_path / "a\nb.wav"
    path.write_text("hello, this is text and not audio at all\n" * 20)
    for source, name in ((str(path), str(path)), (path.read_bytes(), "upload.wav")):
        with pytest.raises(AudioError) as info:
            load_audio(source, name=name) if isinstance(source, bytes) else load_audio(source)
        assert (
            str(info.value)
            == f"{name}: not audio or corrupt (ffmpeg: Invalid data found when processing input)"
        )


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux /proc")
def test_a_virtual_file_of_size_zero_that_holds_text_is_not_called_empty():
    with pytest.raises(AudioError) as info:
        load_audio("/proc/self/status")
    assert "empty file" not in str(info.value) and "not audio or corrupt" in str(info.value)


def test_a_file_name_is_never_an_ffmpeg_protocol_or_a_playlist(tmp_path, monkeypatch):
    """Found by a review: ffmpeg took a file named ``concat:a.m4a|a.m4a`` (random bytes) as its concat
    protocol and decoded a.m4a twice in its place, an emotion for a file that holds no audio (and the
    subfile, data and unix protocols the same way). A name is now a path; and uploaded bytes (a playlist
    naming a file of the server's) cannot make ffmpeg open anything."""
    src = need(EMODB) / "wav" / "03a01Wa.flac"
    monkeypatch.chdir(tmp_path)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "aac", "a.m4a"], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "libopus", "twin.webm"], check=True)
    bogus = tmp_path / "concat:a.m4a|a.m4a"
    bogus.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(AudioError, match=r"^concat:a\.m4a\|a\.m4a: not audio or corrupt \(ffmpeg: [^/]*\)$"):
        load_audio("concat:a.m4a|a.m4a")
    twin = tmp_path / "x,y:z.m4a"  # a real file whose name has a protocol's punctuation decodes as itself
    twin.write_bytes((tmp_path / "a.m4a").read_bytes())
    assert np.allclose(load_audio("x,y:z.m4a"), load_audio("a.m4a"))
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{tmp_path / 'a.m4a'}\n#EXT-X-ENDLIST\n"
    with pytest.raises(AudioError, match=r"^list\.m3u8: "):
        load_audio(playlist.encode(), name="list.m3u8")
    # (ffmpeg 5 refuses that playlist on its own: what is asked of it is checked on its command line)
    import emovox.audio.ffmpeg as ff

    seen, real = [], subprocess.Popen

    def spy(cmd, *a, **kw):
        seen.append(list(cmd))
        return real(cmd, *a, **kw)

    monkeypatch.setattr(ff.subprocess, "Popen", spy)
    load_audio("x,y:z.m4a")
    load_audio((tmp_path / "twin.webm").read_bytes(), name="up.webm")  # (a WebM: no seeking, a pipe)
    (file_cmd, pipe_cmd) = seen
    assert file_cmd[file_cmd.index("-i") + 1] == f"file:{twin}"
    assert file_cmd[file_cmd.index("-protocol_whitelist") + 1] == "file"
    assert pipe_cmd[pipe_cmd.index("-i") + 1] == "pipe:0"
    assert pipe_cmd[pipe_cmd.index("-protocol_whitelist") + 1] == "pipe"
