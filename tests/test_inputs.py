""":func:`emovox.inputs.expand_inputs`: what a user names (files, folders, manifest CSVs) as audio files.

Names are kept as given (a missing one is reported later as a failed input), folders give their audio files
once each (through link cycles), and entries that are not regular files are reported in ``problems``, never
returned (opening a FIFO blocks for ever). tests/test_filesystem.py covers :func:`find_audio` itself and the
CLI and batch paths on hostile folders; these call expand_inputs directly, on a temporary tree.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovox.corpora import write_manifest
from emovox.errors import AudioError, CorpusError
from emovox.inputs import expand_inputs

FIFO_WHY = "a FIFO (named pipe), not a regular file; skipped"


def audio(path: Path | str) -> Path:
    """A tenth of a second of a tone, in the format the extension names."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    y = (0.1 * np.sin(np.arange(1600) / 3)).astype(np.float32)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}[path.suffix.lower()]
    sf.write(path, y, 16000, format=fmt)
    return path


@pytest.fixture(autouse=True)
def no_hang():
    """A FIFO opened by mistake blocks for ever: fail after 20 s instead."""

    def hung(signum, frame):
        raise TimeoutError("expand_inputs blocked (a FIFO opened?)")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """d/: A.WAV, b.flac, sub/c.ogg, sub-2/e.wav, plus what a folder walk must skip: notes.txt, .hidden.wav;
    and link cycles: d/again -> ., d/sub/up -> .., d/sub/deep/back -> d (absolute), d/sub/twice.wav -> ../b.flac.
    The working directory is tmp_path."""
    d = tmp_path / "d"
    for name in ("A.WAV", "b.flac", "sub/c.ogg", "sub-2/e.wav", ".hidden.wav"):
        audio(d / name)
    (d / "notes.txt").write_text("not audio")
    os.symlink(".", d / "again")
    os.symlink("..", d / "sub" / "up")
    (d / "sub" / "deep").mkdir()
    os.symlink(str(d), d / "sub" / "deep" / "back")
    os.symlink("../b.flac", d / "sub" / "twice.wav")
    monkeypatch.chdir(tmp_path)
    return d


# -- names as given ---------------------------------------------------------------------------------------


def test_names_are_kept_as_given_in_order(tree):
    problems: list[str] = []
    os.symlink("gone.wav", "dangling.wav")
    items = [
        "d/b.flac",
        "missing.wav",
        Path("d/A.WAV"),
        "dangling.wav",
        "d/notes.txt",
        "d/b.flac",
        "gone.csv",
    ]
    out = expand_inputs(items, problems)
    # missing names, a dangling link, a non-audio file and a repeat are all kept: the caller reports them
    assert out == [
        "d/b.flac",
        "missing.wav",
        "d/A.WAV",
        "dangling.wav",
        "d/notes.txt",
        "d/b.flac",
        "gone.csv",
    ]
    assert all(isinstance(p, str) for p in out)
    assert problems == []
    assert expand_inputs([]) == [] and expand_inputs(["missing.wav"]) == ["missing.wav"]


def test_docstring_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert expand_inputs(["clip.wav"], []) == ["clip.wav"]


# -- folders ---------------------------------------------------------------------------------------------------


def test_folder_lists_each_audio_file_once_through_link_cycles(tree):
    problems: list[str] = []
    out = expand_inputs(["d"], problems)
    # sorted as paths (sub < sub-2), case-sensitive (A.WAV first), hidden files and notes.txt left out;
    # again/, sub/up, sub/deep/back and sub/twice.wav add nothing
    assert out == ["d/A.WAV", "d/b.flac", "d/sub/c.ogg", "d/sub-2/e.wav"]
    assert problems == []
    # the same through an absolute path, and through a link to the folder
    assert expand_inputs([tree]) == [str(tree / p) for p in ("A.WAV", "b.flac", "sub/c.ogg", "sub-2/e.wav")]
    os.symlink("d", "link")
    assert expand_inputs(["link"]) == ["link/A.WAV", "link/b.flac", "link/sub/c.ogg", "link/sub-2/e.wav"]


def test_a_folder_inside_a_cycle(tree):
    """Starting inside the cycle (d/sub, whose up/ leads back to d): d's files once each, none twice."""
    out = expand_inputs(["d/sub"], [])
    # b.flac is listed under its own name (through up/): sub/twice.wav, a link to it, adds nothing
    assert out == ["d/sub/c.ogg", "d/sub/up/A.WAV", "d/sub/up/b.flac", "d/sub/up/sub-2/e.wav"]
    real = sorted(os.path.relpath(os.path.realpath(p), tree) for p in out)
    assert real == ["A.WAV", "b.flac", "sub-2/e.wav", "sub/c.ogg"]


def test_folders_and_files_mixed_keep_the_order_given(tree):
    audio("x.wav")
    out = expand_inputs(["x.wav", "d/sub-2", "missing.wav", "d/sub-2"], [])
    assert out == ["x.wav", "d/sub-2/e.wav", "missing.wav", "d/sub-2/e.wav"]


def test_a_folder_named_like_a_manifest_is_a_folder(tree):
    audio("m.csv/a.wav")
    assert expand_inputs(["m.csv"], []) == ["m.csv/a.wav"]


@pytest.mark.parametrize("content", [[], ["notes.txt", "x.csv", ".hidden.wav"]])
def test_folder_without_audio(tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    for name in content:
        (tmp_path / "empty" / name).write_text("x")
    audio("ok.wav")
    problems: list[str] = []
    assert expand_inputs(["empty", "ok.wav"], problems) == ["ok.wav"]
    hidden = " (only hidden ones, not read: empty/.hidden.wav)" if ".hidden.wav" in content else ""
    assert problems == [f"empty: directory holds no audio files{hidden}"]
    # without a problems list: an error naming the folder, as given
    with pytest.raises(AudioError) as info:
        expand_inputs(["ok.wav", "empty"])
    assert str(info.value) == f"empty: directory holds no audio files{hidden}"
    with pytest.raises(AudioError, match=rf"^{tmp_path}/empty: directory holds no audio files( \(|$)"):
        expand_inputs([tmp_path / "empty"])


# -- entries that are not regular files ---------------------------------------------------------------------


def test_fifo_given_by_name_is_reported_not_returned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe.wav")
    audio("ok.wav")
    problems: list[str] = []
    assert expand_inputs(["pipe.wav", "ok.wav"], problems) == ["ok.wav"]
    assert problems == [f"pipe.wav: {FIFO_WHY}"]
    with pytest.raises(AudioError) as info:
        expand_inputs(["ok.wav", "pipe.wav"])
    assert str(info.value) == f"pipe.wav: {FIFO_WHY}"


def test_fifo_in_a_folder(tree, caplog):
    os.mkfifo(tree / "sub" / "pipe.wav")
    os.mkfifo(tree / "pipe.txt")  # not an audio name: neither listed nor reported
    problems: list[str] = []
    out = expand_inputs(["d"], problems)
    assert out == ["d/A.WAV", "d/b.flac", "d/sub/c.ogg", "d/sub-2/e.wav"]
    assert problems == [f"d/sub/pipe.wav: {FIFO_WHY}"]
    # without a list: the folder still gives its files, the FIFO is logged once
    with caplog.at_level(logging.WARNING, logger="emovox"):
        assert expand_inputs(["d"]) == out
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
    assert caplog.records[0].getMessage().endswith(f"d/sub/pipe.wav: {FIFO_WHY}")


def test_folder_holding_only_a_fifo(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").mkdir()
    os.mkfifo("p/x.wav")
    problems: list[str] = []
    assert expand_inputs(["p"], problems) == []
    assert problems == [f"p/x.wav: {FIFO_WHY}"]  # the one line that says why (not "holds no audio" too)
    assert [m.path for m in problems] == ["p/x.wav"]
    with caplog.at_level(logging.WARNING, logger="emovox"), pytest.raises(AudioError, match="^p: directory"):
        expand_inputs(["p"])
    assert sum("p/x.wav" in r.getMessage() for r in caplog.records) == 1


def test_symlink_loop_given_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink("loop.wav", "loop.wav")
    os.symlink("b.wav", "a.wav")
    os.symlink("a.wav", "b.wav")
    problems: list[str] = []
    assert expand_inputs(["loop.wav", "a.wav"], problems) == []
    assert problems == ["loop.wav: symbolic link loop; skipped", "a.wav: symbolic link loop; skipped"]
    with pytest.raises(AudioError, match=r"^loop\.wav: symbolic link loop; skipped$"):
        expand_inputs(["loop.wav"])


def test_fifo_with_a_name_that_is_not_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    os.mkfifo(os.path.join(b"d", b"bad\xff.wav"))
    audio("d/ok.wav")
    problems: list[str] = []
    assert expand_inputs(["d"], problems) == ["d/ok.wav"]
    assert problems == [f"d/bad\\xff.wav: {FIFO_WHY}"]
    problems.clear()
    assert expand_inputs([os.fsdecode(b"d/bad\xff.wav")], problems) == []
    assert problems == [f"d/bad\\xff.wav: {FIFO_WHY}"]
    problems[0].encode("utf-8")  # printable as is


# -- manifest CSVs --------------------------------------------------------------------------------------------


def test_manifest_paths_relative_to_the_manifest(tree):
    (tree / "lists").mkdir()
    os.mkfifo(tree / "pipe.wav")
    manifest = pd.DataFrame(
        {
            "path": [
                "../sub/c.ogg",
                str(tree / "A.WAV"),
                "missing.wav",
                "../pipe.wav",
                "../sub",
                "../b.flac",
            ],
            "emotion": ["sad", "angry", "happy", "sad", "sad", "neutral"],
            "speaker": ["s1", "s1", "s2", "s2", "s3", "s3"],
        }
    )
    write_manifest(manifest, tree / "lists" / "m.csv")
    problems: list[str] = []
    out = expand_inputs(["d/lists/m.csv"], problems)
    # every row in order; relative paths joined to the manifest's folder (as named); a missing file kept
    assert out == ["d/lists/../sub/c.ogg", str(tree / "A.WAV"), "d/lists/missing.wav", "d/lists/../b.flac"]
    assert problems == [
        f"d/lists/../pipe.wav: {FIFO_WHY}",
        "d/lists/../sub: a directory, not a regular file; skipped",
    ]
    # named by an absolute path: absolute paths
    assert expand_inputs([tree / "lists" / "m.csv"], [])[0] == f"{tree}/lists/../sub/c.ogg"
    with pytest.raises(AudioError, match=r"pipe\.wav: a FIFO"):
        expand_inputs(["d/lists/m.csv"])


def test_manifest_extension_any_case_and_with_other_inputs(tree):
    pd.DataFrame({"path": ["b.flac", "A.WAV"]}).to_csv(tree / "LIST.CSV", index=False)
    out = expand_inputs(["d/sub-2", "d/LIST.CSV", "other.wav"], [])
    assert out == ["d/sub-2/e.wav", "d/b.flac", "d/A.WAV", "other.wav"]


def test_manifest_without_a_path_column(tree):
    pd.DataFrame({"file": ["b.flac"]}).to_csv("bad.csv", index=False)
    with pytest.raises(CorpusError, match=r"^bad\.csv: manifest has no 'path' column$"):
        expand_inputs(["bad.csv"])


def test_manifest_rows_wider_than_the_header_or_a_doubled_column(tree):
    """A review (stop 42): `a.flac,angry,extra,cols` under `path,emotion` made the extra fields an index,
    so the path column held "extra" and a.flac was never named; `path,path` read the first silently
    (Excel's empty trailing header names are not a doubled column)."""
    (tree / "wide.csv").write_text("path,emotion\nb.flac,angry,extra,cols\nA.WAV,sad\n")
    with pytest.raises(CorpusError, match=r"^d/wide\.csv line 2: 4 fields where the header has 2; quote a"):
        expand_inputs(["d/wide.csv"])
    (tree / "twice.csv").write_text("path,path\nb.flac,A.WAV\n")
    with pytest.raises(CorpusError, match=r"^d/twice\.csv: the header names 'path' twice"):
        expand_inputs(["d/twice.csv"])
    from emovox.corpora import read_manifest

    # empty header names (Excel's trailing columns) are not a column named twice
    (tree / "excel.csv").write_text("path,emotion,,\nb.flac,angry,,\n")
    assert read_manifest(tree / "excel.csv")["emotion"].tolist() == ["angry"]


def test_manifest_rows_without_a_path_are_reported_and_the_rest_kept(tree):
    (tree / "m.csv").write_text("path,emotion\n,angry\nb.flac,sad\n  ,happy\nA.WAV,neutral\n")
    problems: list[str] = []
    assert expand_inputs(["d/m.csv"], problems) == ["d/b.flac", "d/A.WAV"]
    assert problems == ["d/m.csv line 2: empty 'path'", "d/m.csv line 4: empty 'path'"]
    with pytest.raises(AudioError, match=r"^d/m\.csv line 2: empty 'path'$"):
        expand_inputs(["d/m.csv"])
    # training and evaluation need every row: one error naming the rows
    from emovox.corpora import load_corpus

    with pytest.raises(CorpusError, match=r"m\.csv line 2: empty 'path'; .*m\.csv line 4"):
        load_corpus(tree / "m.csv")
    # the line of the file, not the record's number: a quoted newline and a blank line come before it
    (tree / "n.csv").write_text('path,emotion\n"odd\nname.flac",angry\n\n,sad\nb.flac,happy\n')
    problems = []
    expand_inputs(["d/n.csv"], problems)
    assert "d/n.csv line 5: empty 'path'" in problems, problems


def test_an_audio_file_given_as_a_manifest(tree):
    from emovox.corpora import load_corpus

    for name in ("d/b.flac", "d/A.WAV"):
        with pytest.raises(
            CorpusError, match=r": an audio file, not a manifest; give a manifest CSV or a corpus folder$"
        ):
            load_corpus(name)


def test_stdin_an_empty_name_and_an_empty_manifest_are_named(tree):
    """Each is one line (a header-only manifest printed nothing and exited 0; "" read as the folder ".")."""
    (tree / "empty.csv").write_text("path,emotion\n")
    problems: list[str] = []
    assert expand_inputs(["-", "", "d/empty.csv", "d/b.flac"], problems) == ["d/b.flac"]
    assert problems == [
        "-: audio piped in is read by emovox predict only; save it to a file and name that",
        "'': an empty name, not a file",
        "d/empty.csv: the manifest lists no files",
    ]


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs ffmpeg")
def test_a_folder_gives_every_audio_container_emovox_reads(tmp_path):
    """A folder of .oga, .aifc and .mka files was "directory holds no audio files" (exit 1), though each
    predicts when named; a mixed folder dropped them without a word. A folder's videos stay out (RAVDESS's
    video-only files share its audio files' names)."""
    import subprocess

    from emovox.inference import load_model

    src = audio(tmp_path / "src.wav")
    folder = tmp_path / "f"
    folder.mkdir()
    for name, codec in (("a.oga", "libvorbis"), ("b.aifc", "pcm_s16be"), ("c.mka", "flac"), ("d.mp4", "aac")):
        fmt = ["-f", "aiff"] if name.endswith(".aifc") else []
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(src), "-c:a", codec, *fmt, str(folder / name)], check=True
        )
    found = expand_inputs([folder])
    assert [Path(p).name for p in found] == ["a.oga", "b.aifc", "c.mka"]
    model = load_model("classical", check_speech=False)
    assert all(p.ok for p in model.predict_files(found))


def test_a_problem_names_its_path_as_the_rows_beside_it_do(tmp_path, monkeypatch):
    """A name given keeps its spelling (``./p.wav``, as the good files named beside it keep theirs); an
    entry met in a folder walk is spelt as the walk lists files (``d/x.wav``)."""
    monkeypatch.chdir(tmp_path)
    os.mkfifo("p.wav")
    (tmp_path / "d").mkdir()
    os.mkfifo("d/x.wav")
    audio("d/ok.wav")
    problems: list[str] = []
    assert expand_inputs(["./p.wav", "./d"], problems) == ["d/ok.wav"]
    assert [m.path for m in problems] == ["./p.wav", "d/x.wav"]
    assert [m.split(": ")[0] for m in problems] == ["./p.wav", "d/x.wav"]
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(problems[0])).path == copy.deepcopy(problems[0]).path == "./p.wav"


def test_a_folder_of_hidden_audio_files_says_so(tmp_path):
    """A review (stop 42): a folder holding only `.take.wav` was said to hold no audio files, which is
    false; hidden names are not read (by design), and the message now says that is why."""
    (tmp_path / "hid").mkdir()
    sf.write(tmp_path / "hid" / ".take.wav", np.zeros(1600, np.float32), 16000)
    (tmp_path / "empty").mkdir()
    problems: list = []
    assert expand_inputs([tmp_path / "hid", tmp_path / "empty"], problems) == []
    assert [str(p) for p in problems] == [
        f"{tmp_path}/hid: directory holds no audio files (only hidden ones, not read: {tmp_path}/hid/.take.wav)",
        f"{tmp_path}/empty: directory holds no audio files",
    ]
    # `corpus scan` says so too (it said only "no audio files found")
    from emovox.corpora import scan

    with pytest.raises(
        CorpusError, match=r"hid: no audio files found \(only hidden ones, not read: .*/hid/\.take\.wav\)$"
    ):
        scan(tmp_path / "hid")
