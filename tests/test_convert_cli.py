"""``emovox convert`` on folders: name collisions and folders without audio are one-line errors, before writing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emovox.cli import main
from emovox.convert import convert_tree, plan_tree
from emovox.errors import AudioError


def _tone(path, seconds=0.5, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), sr)


def test_collision_is_an_error_before_anything_is_written(tmp_path, capsys):
    src = tmp_path / "coll"
    src.mkdir()
    _tone(src / "a.wav")
    (src / "a.m4a").write_bytes(b"\0" * 64)  # never decoded: the collision is found from the names
    _tone(src / "b.wav")
    out = tmp_path / "out"
    rc = main(["convert", str(src), str(out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0
    assert len(err) == 1, err
    assert "coll/a.wav and" in err[0] or "coll/a.m4a and" in err[0]
    assert "a.m4a" in err[0] and "coll/a.wav" in err[0] and "converted 0" not in err[0]
    assert not out.exists()  # nothing written, not even b.wav


def test_collision_by_ext(tmp_path):
    src = tmp_path / "coll"
    (src / "sub").mkdir(parents=True)
    _tone(src / "sub" / "x.wav")
    _tone(src / "sub" / "x.flac")
    with pytest.raises(AudioError, match=r"x\.flac and .*x\.wav would both be written to .*x\.ogg"):
        plan_tree(src, tmp_path / "out", ext=".ogg")
    assert not (tmp_path / "out").exists()


def test_no_collision_keeps_both(tmp_path, capsys):
    src = tmp_path / "ok"
    src.mkdir()
    _tone(src / "a.wav")
    _tone(src / "a.flac")  # .flac is kept by default: a.wav and a.flac do not collide
    done, failed = convert_tree(src, tmp_path / "out", progress=False)
    assert sorted(p.name for p in done) == ["a.flac", "a.wav"] and not failed


@pytest.mark.parametrize("name", ["empty_dir", "empty_dir.wav"])
def test_folder_without_audio_is_an_error(tmp_path, capsys, name):
    src = tmp_path / name
    src.mkdir()
    (src / "notes.txt").write_text("no audio here")
    rc = main(["convert", str(src), str(tmp_path / "out.wav"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == 1 and "no audio files" in err[0] and name in err[0], err
    assert not (tmp_path / "out.wav").exists()


def test_bad_ext_is_refused_before_writing(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    _tone(src / "a.wav")
    rc = main(["convert", str(src), str(tmp_path / "out"), "--ext", "mp3", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    # an option's error, as the same mistake in an output name (out.mp3) is: exit 2, naming the option
    assert rc == 2 and err == [
        "emovox: error: --ext mp3: cannot write a .mp3 file; use one of .wav, .flac, .ogg, .opus"
    ], err
    assert not (tmp_path / "out").exists()


def test_outputs_that_would_overwrite_or_reconvert_are_refused(tmp_path, capsys):
    """In place, a file where the output folder must be, and an output folder inside the input."""
    src = tmp_path / "in"
    src.mkdir()
    _tone(src / "a.wav")
    before = (src / "a.wav").read_bytes()
    assert main(["convert", str(src / "a.wav"), str(src / "a.wav"), "--rate", "8000"]) == 2
    assert "a.wav: is one of the inputs; name another file to write" in capsys.readouterr().err
    assert (src / "a.wav").read_bytes() == before
    from emovox.convert import convert_file

    with pytest.raises(AudioError, match="a.wav: is the input; name another file to write"):
        convert_file(src / "a.wav", src / "." / "a.wav", 8000)
    assert main(["convert", str(src), str(src / "a.wav"), "-q"]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("a.wav: exists and is not a folder; a folder converts into a folder")
    )
    assert main(["convert", str(src), str(src), "-q"]) == 1
    assert "is the input folder" in capsys.readouterr().err
    for quiet in (["-q"], []):  # the second run does not convert the first run's output
        assert main(["convert", str(src), str(src / "out"), *quiet]) == 0
        assert capsys.readouterr().err.strip() == ("" if quiet else "converted 1 file, 0 failed")
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*.wav")) == ["a.wav", "out/a.wav"]
    assert main(["convert", str(src / "a.wav"), str(tmp_path / "x.wav"), "--ext", ".flac"]) == 2
    assert "--ext sets the extension of a folder's outputs" in capsys.readouterr().err
    # one file into a folder: said so (it read "cannot write a name without an extension")
    assert main(["convert", str(src / "a.wav"), str(src / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"emovox: error: {src / 'out'}: is a folder; name the file to write, e.g. {src / 'out' / 'a'}.wav"
    )


def test_a_pipe_in_the_folder_is_a_failure_of_the_conversion(tmp_path, capsys):
    """A named pipe among the files was reported as a warning and the conversion exited 0; it is one of
    the failures now (the other files converted), as for predict."""
    import os

    src = tmp_path / "in"
    src.mkdir()
    _tone(src / "a.wav")
    os.mkfifo(src / "p.wav")
    assert main(["convert", str(src), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "p.wav: a FIFO (named pipe), not a regular file" in err and "converted 1 file, 1 failed" in err
    assert (tmp_path / "out" / "a.wav").is_file()
    # -q: no summary line, as its help says (stop 42; it printed one when a file failed); the failure stays
    assert main(["convert", str(src), str(tmp_path / "out2"), "-q"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emovox: error: {src / 'p.wav'}: a FIFO (named pipe)"), line


def test_odd_output_names_convert(tmp_path, capsys):
    """A review of odd file systems (stop 42): a name that is not UTF-8 was a UnicodeEncodeError inside
    soundfile, and a 250-byte name overflowed the 255-byte limit through its temporary ".NAME.part"."""
    import os

    src = tmp_path / "in"
    src.mkdir()
    latin1 = os.path.join(os.fsencode(src), b"caf\xe9.wav")  # (Latin-1: no UTF-8 decoding of it)
    sf.write(latin1, np.zeros(8000, np.float32), 16000)  # (soundfile takes such a name as bytes only)
    _tone(src / ("x" * 250 + ".wav"))
    assert main(["convert", str(src), str(tmp_path / "out"), "--ext", ".flac", "-q"]) == 0
    assert capsys.readouterr().err == ""
    out = sorted(os.listdir(os.fsencode(tmp_path / "out")))
    assert out == [b"caf\xe9.flac", b"x" * 250 + b".flac"]
    one = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9-1.ogg"))
    assert main(["convert", os.fsdecode(latin1), one]) == 0 and sf.info(os.fsencode(one)).samplerate == 16000


def test_a_failed_write_is_one_line_naming_the_output(tmp_path):
    """A full disk was a LibsndfileError traceback (single file) or "INPUT: System error." (a folder).
    Writing beyond a file-size limit fails the same way, without a disk to fill; nothing is left behind."""
    import subprocess
    import sys

    for name in ("a", "b"):
        _tone(tmp_path / f"{name}.wav", seconds=30.0)  # 960 kB as 16-bit PCM
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)); from emovox.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    for args, rc in (
        ([str(tmp_path / "a.wav"), str(tmp_path / "one" / "a.flac")], 2),
        ([str(tmp_path), str(tmp_path / "tree")], 1),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, "convert", *args, "-q"], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == rc and "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.strip().splitlines()
        # the system's reason, which libsndfile words as "System error."
        assert lines and all(line.endswith(": not written (File too large)") for line in lines), lines
        assert all(("one" in line or "tree" in line) for line in lines), lines  # the output is named
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary file left
