"""Odd file systems: symlink loops and cycles, FIFOs, names that are not UTF-8 (issue 18, item 3).

Every path (find_audio, corpus scan, predict DIR, predict --timeline, batch partitions) must visit each real
file once, skip what is not a regular file with one line naming it, and give every other file its row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovox.audio import find_audio

from .conftest import RAVDESS

BAD = os.fsdecode(b"bad\xff.wav")  # a name that is not valid UTF-8 (kept as surrogate escapes)
BAD_SHOWN = "bad\\xff.wav"  # how it is written to Parquet, CSV, JSON and the terminal


def _speech(n: int = 2) -> list[Path]:
    """Short real speech (RAVDESS actor 1), so that predict gives a label, not 'no speech'."""
    if not RAVDESS.exists():
        pytest.skip(f"{RAVDESS} not found")
    return sorted((RAVDESS / "Actor_01").glob("03-01-0[1-5]-01-01-01-01.*"))[:n]


def _tone(path: str | Path) -> None:
    sf.write(os.fsencode(path), (0.1 * np.sin(np.arange(8000) / 4)).astype(np.float32), 16000)


def _hostile_folder(root: Path, speech: bool = True) -> Path:
    """good.wav + bad<0xff>.wav (real files), plus a FIFO, a link loop and two directory cycles."""
    root.mkdir(parents=True, exist_ok=True)
    if speech:
        a, b = _speech(2)
        shutil.copy(a, root / "good.wav")
        shutil.copy(b, os.path.join(os.fsencode(root), b"bad\xff.wav"))
    else:
        _tone(root / "good.wav")
        _tone(root / BAD)
    os.mkfifo(root / "x.wav")
    os.symlink("loop.wav", root / "loop.wav")
    os.symlink(".", root / "again")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    return root


def _run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emovox.cli", *args], capture_output=True, timeout=timeout)


# -- the walk -------------------------------------------------------------------------------------------


def test_find_audio_visits_each_real_file_once(tmp_path):
    root = _hostile_folder(tmp_path / "d", speech=False)
    os.symlink("../good.wav", root / "sub" / "link.wav")  # the same real file through a link
    (root / "deep").mkdir()
    _tone(root / "deep" / "c.wav")
    os.symlink(str(root), root / "deep" / "back")  # absolute link to the root: a second cycle
    problems: list[str] = []
    found = find_audio(root, problems)
    assert sorted(p.name for p in found) == ["bad\udcff.wav", "c.wav", "good.wav"]
    assert len(problems) == 2, problems  # one line each, naming the entry
    assert any("x.wav" in m and "FIFO" in m for m in problems)
    assert any("loop.wav" in m and "loop" in m.split(":", 1)[1] for m in problems)


def test_find_audio_logs_skipped_entries_without_a_list(tmp_path, caplog):
    root = _hostile_folder(tmp_path / "d", speech=False)
    with caplog.at_level("WARNING"):
        assert len(find_audio(root)) == 2
    assert sum("x.wav" in r.getMessage() for r in caplog.records) == 1


def test_corpus_scan_survives_loops_and_cycles(tmp_path):
    from emovox.corpora import scan

    root = tmp_path / "ravdess"
    root.mkdir()
    for p in _speech(2):
        shutil.copy(p, root / p.name)
    os.symlink("03-01-08-01-01-01-01.wav", root / "03-01-08-01-01-01-01.wav")  # a link loop, corpus-named
    os.symlink(".", root / "again")  # before: 41 rows per file
    os.mkfifo(root / "03-01-07-01-01-01-01.wav")
    _tone(os.fsdecode(os.fsencode(root) + b"/03-01-06-01-01-01-01\xff.wav"))  # pandas cannot hold this name
    df, report = scan(root, "ravdess")
    assert len(df) == 2 and df["path"].is_unique
    assert len(report.unreadable) == 3 and "not audio files" in report.summary()
    assert any("not valid UTF-8" in line and "\\xff" in line for line in report.unreadable)


def test_a_folder_name_with_a_tab_is_valid_utf8_and_scanned(tmp_path):
    """Shown escaped, but kept: only undecodable names are skipped (escaping once made a tab look like one)."""
    from emovox.corpora import scan

    root = tmp_path / "my\tcorpus"
    root.mkdir()
    for p in _speech(2):
        shutil.copy(p, root / p.name)
    df, report = scan(root, "ravdess")
    assert len(df) == 2 and not report.unreadable and all("\t" in p for p in df["path"])


def test_cli_corpus_scan_with_a_symlink_loop(tmp_path):
    root = tmp_path / "ravdess"
    root.mkdir()
    for p in _speech(2):
        shutil.copy(p, root / p.name)
    os.symlink("03-01-08-01-01-01-01.wav", root / "03-01-08-01-01-01-01.wav")
    os.symlink(".", root / "again")
    r = _run_cli("corpus", "scan", str(root), "--corpus", "ravdess", "-o", str(tmp_path / "m.csv"))
    # the manifest of the good files is written; the loop is reported and, as for predict, exits 1
    assert r.returncode == 1, r.stderr.decode()
    assert b"wrote 2 utterances" in r.stderr and b"symbolic link loop" in r.stderr


# -- predict DIR, predict --timeline ------------------------------------------------------------------------


def test_cli_predict_dir_with_fifo_and_bad_name(tmp_path):
    root = _hostile_folder(tmp_path / "d")
    r = _run_cli("predict", str(root), timeout=90)  # before: blocked for ever on x.wav
    out, errs = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 1, errs  # the FIFO and the loop are failed inputs, each on one line
    rows = out.strip().splitlines()
    assert len(rows) == 2 and any(BAD_SHOWN in line for line in rows) and "Traceback" not in errs
    assert errs.count("x.wav") == 1 and errs.count("loop.wav") == 1


def test_a_failing_file_whose_name_is_not_utf8_is_a_row_of_every_output(tmp_path):
    """A bad file whose name is not UTF-8: ``-o out.csv`` crashed writing its error (a lone surrogate), and
    lost every row; JSON held the surrogate, and ffmpeg's echo of the name was another spelling of it."""
    import csv

    root = tmp_path / "d"
    root.mkdir()
    _tone(root / "good.wav")
    for name, data in ((b"empty\xff.wav", b""), (b"text\xfe.wav", b"not audio at all " * 20)):
        with open(os.path.join(os.fsencode(root), name), "wb") as fh:
            fh.write(data)
    for out in ("r.csv", "r.tsv", "r.json"):
        r = _run_cli("predict", str(root), "-o", str(tmp_path / out), "-q", timeout=90)
        errs = r.stderr.decode()
        assert r.returncode == 1 and "Traceback" not in errs, errs
        text = (tmp_path / out).read_text(encoding="utf-8")
        if out.endswith(".json"):
            rows = json.loads(text)
        else:
            rows = list(csv.DictReader(text.splitlines(), delimiter="," if out.endswith("csv") else "\t"))
        by_name = {Path(r["source"]).name: r for r in rows}
        assert sorted(by_name) == ["empty\\xff.wav", "good.wav", "text\\xfe.wav"], by_name
        assert "empty\\xff.wav: empty file" in by_name["empty\\xff.wav"]["error"]
        bad = by_name["text\\xfe.wav"]["error"]
        assert bad.count("text\\xfe.wav") == 1 and "\ufffd" not in bad, bad
    assert errs.count("\\xfe") == 1 and "\ufffd" not in errs


def test_cli_timeline_goes_on_after_a_bad_name(tmp_path):
    root = _hostile_folder(tmp_path / "d")
    r = _run_cli("predict", str(root), "--timeline", "-o", str(tmp_path / "t.csv"), timeout=90)
    out, errs = r.stdout.decode(), r.stderr.decode()
    assert "Traceback" not in errs, errs  # before: UnicodeEncodeError after the first file
    assert out.count("# ") == 2 and BAD_SHOWN in out
    assert BAD_SHOWN in (tmp_path / "t.csv").read_text()
    r = _run_cli("predict", str(root), "--timeline", "--json", timeout=90)
    assert "Traceback" not in r.stderr.decode()
    import json

    sources = [d["source"] for d in json.loads(r.stdout)]
    assert sum(BAD_SHOWN in s for s in sources) == 1 and sum("good.wav" in s for s in sources) == 1


# -- batch partitions ---------------------------------------------------------------------------------------


def _check_rows(out: Path, root: Path):
    from emovox import batch

    df = batch.read_results(out)
    assert len(df) == 2 and df["error"].isna().all(), df[["path", "error"]]
    assert sorted(Path(p).name for p in df["path"]) == [BAD_SHOWN, "good.wav"]
    assert df["label"].notna().all()
    summary = batch.read_summary(out)
    assert summary["n_ok"] == 2 and len(summary["skipped_entries"]) == 2


def test_batch_local_bad_name_fifo_and_cycle(tmp_path):
    from emovox import batch

    root = _hostile_folder(tmp_path / "d")
    s = batch.predict(root, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (s.n_inputs, s.n_ok, s.n_failed) == (2, 2, 0)  # before: the partition failed, no rows
    assert any("x.wav" in m for m in s.skipped_entries)
    _check_rows(tmp_path / "out", root)
    again = batch.predict(root, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (again.n_computed, again.n_skipped) == (0, 2)  # the bad name's row is found again on resume


def test_batch_dask_bad_name(tmp_path):
    pytest.importorskip("distributed")
    from emovox import batch

    root = _hostile_folder(tmp_path / "d")
    s = batch.predict(root, engine="dask", n_workers=1, output_dir=tmp_path / "out", progress=False)
    assert (s.n_ok, s.n_failed, s.n_lost) == (2, 0, 0)
    _check_rows(tmp_path / "out", root)


def test_a_newline_in_a_name_is_kept_in_batch_rows_and_output_files(tmp_path):
    """ "new<LF>line.wav" and "new\\nline.wav" (a backslash and an n) both became the row "new\\nline.wav": one
    result was lost and the other named a file that does not exist. Tables and JSON hold the real name; the
    terminal shows it escaped."""
    import json

    from emovox import batch

    root = tmp_path / "d"
    root.mkdir()
    a, b = _speech(2)
    shutil.copy(a, root / "new\nline.wav")
    shutil.copy(b, root / "new\\nline.wav")
    s = batch.predict(root, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (s.n_inputs, s.n_ok) == (2, 2)
    df = batch.read_results(tmp_path / "out")
    assert len(df) == 2 and all(os.path.isfile(p) for p in df["path"])
    assert sorted(Path(p).name for p in df["path"]) == ["new\nline.wav", "new\\nline.wav"]
    again = batch.predict(root, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (again.n_computed, again.n_skipped) == (0, 2)
    r = _run_cli("predict", str(root), "-o", str(tmp_path / "p.json"), timeout=90)
    assert r.returncode == 0, r.stderr.decode()
    rows = json.loads((tmp_path / "p.json").read_text())
    assert sorted(Path(row["source"]).name for row in rows) == ["new\nline.wav", "new\\nline.wav"]
    r = _run_cli("predict", str(root), timeout=90)  # the terminal: one line each, escaped, told apart
    shown = sorted(Path(line.split("\t")[0]).name for line in r.stdout.decode().strip().splitlines())
    assert shown == ["new\\\\nline.wav", "new\\nline.wav"], shown
    r = _run_cli("predict", str(root), "--timeline", "--json", timeout=90)  # timelines name them so too
    assert r.returncode == 0, r.stderr.decode()
    assert sorted(Path(t["source"]).name for t in json.loads(r.stdout)) == ["new\nline.wav", "new\\nline.wav"]


def test_the_python_api_refuses_a_fifo_without_waiting(tmp_path):
    """predict / predict_proba / predict_files of a named pipe: they opened it to read its header before
    checking what it was, and waited for a writer for ever (the CLI, which checks first, did not)."""
    (good,) = _speech(1)
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    code = f"""
import emovox
from emovox.errors import AudioError
m = emovox.load_model()
for call in (m.predict, m.predict_proba):
    try:
        call({str(fifo)!r})
    except AudioError as exc:
        print("refused:", exc)
for adapted in (False, True):
    preds = list(m.predict_files([{str(fifo)!r}, {str(good)!r}], same_channel=adapted))
    print([p.error for p in preds], preds[1].ok)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, text=True)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stderr
    assert lines[:2] == [f"refused: {fifo}: a FIFO (named pipe), not a regular file"] * 2, r.stdout
    assert lines[2:] == [f"['{fifo}: a FIFO (named pipe), not a regular file', None] True"] * 2, r.stdout


def test_manifest_rows_that_are_not_files_are_skipped_not_waited_on(tmp_path):
    """A manifest row naming a named pipe, a device or a folder: `evaluate` and `features` waited for ever
    on the pipe (hashing it for the cache, or to find the model's training files), read /dev/zero for ever,
    and `evaluate --trained` crashed on the folder (predict_files opened it up). Each is one line now, the
    other rows used, exit 1."""
    import pandas as pd

    from emovox.corpora import scan

    from .conftest import EMODB, need

    df, _ = scan(need(EMODB), "emodb", audio_info=False)
    df = df[df["speaker"].isin(["emodb:03", "emodb:08"]) & df["emotion"].isin(["angry", "sad"])]
    df = df.groupby(["speaker", "emotion"]).head(3).reset_index(drop=True)
    os.mkfifo(tmp_path / "pipe.wav")
    (tmp_path / "folder").mkdir()
    shutil.copy(df["path"].iloc[0], tmp_path / "folder" / "a.flac")
    odd = [str(tmp_path / "pipe.wav"), "/dev/zero", str(tmp_path / "folder")]
    rows = pd.concat([df, df.iloc[:3].assign(path=odd)], ignore_index=True)
    manifest = tmp_path / "m.csv"
    rows.to_csv(manifest, index=False)
    cli = [sys.executable, "-m", "emovox.cli"]
    runs = {
        "trained": ["evaluate", str(manifest), "--trained", "classical"],
        "channel": ["evaluate", str(manifest), "--trained", "default", "--same-channel"],
        "recipe": [
            "evaluate",
            str(manifest),
            "--features",
            "tutorial",
            "--model",
            "logreg",
            "--protocol",
            "loso",
        ],
        "features": ["features", str(manifest), "--features", "tutorial", "-o", str(tmp_path / "f.csv")],
    }
    env = {**os.environ, "EMOVOX_CACHE": str(tmp_path / "cache")}
    for name, args in runs.items():
        proc = subprocess.run([*cli, *args], capture_output=True, text=True, timeout=180, env=env)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, (name, proc.stderr)
        for path, kind in zip(odd, ("FIFO", "device", "directory"), strict=True):
            (line,) = [ln for ln in proc.stderr.splitlines() if path in ln]
            assert kind in line and "not a regular file" in line, (name, line)
    assert len(pd.read_csv(tmp_path / "f.csv")) == len(df)


# -- found by the stop-40 review of odd inputs ----------------------------------------------------------


def test_a_hard_link_is_listed_and_a_symbolic_link_to_a_listed_file_is_not(tmp_path):
    """Hard links were dropped without a word (the walk kept one name per inode); a symbolic link to a file
    listed under its own name adds nothing, wherever it sorts (before: only when it sorted after it)."""
    _tone(tmp_path / "take1.wav")
    os.link(tmp_path / "take1.wav", tmp_path / "take2.wav")
    os.symlink("take1.wav", tmp_path / "take0.wav")  # sorts first
    (tmp_path / "sub").mkdir()
    _tone(tmp_path / "sub" / "only.wav")
    os.symlink("sub/only.wav", tmp_path / "a.wav")  # a link walked before the file it names
    os.symlink(tmp_path.parent / "elsewhere.wav", tmp_path / "z.wav")
    _tone(tmp_path.parent / "elsewhere.wav")  # a link to a file outside the walk: listed, once
    problems: list[str] = []
    found = [p.relative_to(tmp_path).as_posix() for p in find_audio(tmp_path, problems)]
    assert found == ["sub/only.wav", "take1.wav", "take2.wav", "z.wav"] and not problems


def test_one_bad_manifest_or_odd_name_among_the_inputs_is_its_own_row(tmp_path, monkeypatch):
    """A manifest that could not be read stopped the whole run (exit 2, no -o file); an error row's
    source was cut out of its line at the first ':' (``rec 10`` for ``rec 10:30: take/x.wav``); a folder
    holding only a FIFO got a second, wrong line ("holds no audio files")."""
    (a,) = _speech(1)
    folder = tmp_path / "rec 10:30: take"
    folder.mkdir()
    shutil.copy(a, folder / "ok.wav")
    os.mkfifo(folder / "2024-01-01 10:30:00.wav")
    (tmp_path / "pipes").mkdir()
    os.mkfifo(tmp_path / "pipes" / "p.wav")
    (tmp_path / "bin.csv").write_bytes(b"\xef\xbb\xbf\xff\xfe")
    (tmp_path / "nopath.csv").write_text("file\nx.wav\n")
    monkeypatch.chdir(tmp_path)
    proc = _run_cli("predict", "rec 10:30: take", "bin.csv", "nopath.csv", "pipes", "-o", "out.json")
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr.decode(), err
    rows = {r["source"]: r for r in json.loads((tmp_path / "out.json").read_text())}
    fifo = "rec 10:30: take/2024-01-01 10:30:00.wav"
    assert set(rows) == {fifo, "rec 10:30: take/ok.wav", "bin.csv", "nopath.csv", "pipes/p.wav"}, rows
    assert rows["rec 10:30: take/ok.wav"]["speech"] is True
    assert "not a readable CSV manifest" in rows["bin.csv"]["error"]
    assert rows["nopath.csv"]["error"] == "nopath.csv: manifest has no 'path' column"
    assert sum(line.startswith("emovox: error: ") for line in err) == 4, err  # one line each
    assert not any("holds no audio" in line for line in err) and err[-1] == "emovox: 4 of 5 inputs failed", (
        err
    )
    # the Python API: the same, one Prediction per entry, the inputs after the bad manifest predicted
    import emovox

    preds = list(emovox.load_model().predict_files(["bin.csv", str(folder / "ok.wav"), "pipes"]))
    assert [p.source for p in preds] == ["bin.csv", str(folder / "ok.wav"), "pipes/p.wav"]
    assert [p.ok for p in preds] == [False, True, False]


def test_a_name_the_terminal_cannot_encode_is_escaped_not_a_traceback(tmp_path):
    """Standard output in cp1252 (Windows, redirected) or Latin-1 could not print "é日本.wav": a traceback
    lost the rest of the batch and the -o file."""
    (a,) = _speech(1)
    name = tmp_path / "é日本.wav"
    shutil.copy(a, name)
    out = tmp_path / "out.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", "-q", str(name), str(a), "-o", str(out)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "cp1252"},
    )
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.decode("cp1252").splitlines()
    assert len(lines) == 2 and lines[0].startswith(str(tmp_path / "é\\u65e5\\u672c.wav") + "\t")
    assert "é日本.wav" in out.read_text(encoding="utf-8")


def test_odd_arguments_to_the_python_api_are_one_clear_error(tmp_path):
    import emovox
    from emovox.audio import load_audio
    from emovox.errors import AudioError

    model = emovox.load_model()
    for call in (lambda: load_audio(""), lambda: model.predict("")):
        with pytest.raises(AudioError, match="^'': an empty name, not a file$"):  # was ".: is a directory"
            call()
    (pred,) = model.predict_files([""])
    assert pred.error == "'': an empty name, not a file"
    with pytest.raises(AudioError, match="expected a path, bytes, an array or a list of them, got NoneType"):
        list(model.predict_files(None))  # was TypeError: 'NoneType' object is not iterable


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="access() lies to root only")
def test_an_output_in_proc_is_refused_before_the_work_even_as_root():
    from emovox.paths import output_problem

    assert output_problem("/proc/x.csv").startswith("/proc/x.csv: cannot create a file in /proc (")
    proc = _run_cli("predict", "missing.wav", "-o", "/proc/x.csv")
    assert proc.returncode == 2 and proc.stdout == b"", proc
    assert "/proc/x.csv: cannot create a file in /proc" in proc.stderr.decode()


def test_a_folder_too_deep_to_read_is_reported_not_skipped(tmp_path, monkeypatch):
    """A review (stop 42): files under a path longer than the system's 4096 bytes were left out without a
    word, exit 0 (the folder's name is not audio, so the walk's failed stat dropped it)."""
    root = tmp_path / "tree"
    root.mkdir()
    sf.write(root / "top.wav", np.zeros(1600, np.float32), 16000)
    monkeypatch.chdir(root)
    for _ in range(22):  # 22 x 201 bytes: reachable only step by step, as it was made
        os.mkdir("d" * 200)
        os.chdir("d" * 200)
    sf.write("deep.wav", np.zeros(1600, np.float32), 16000)
    monkeypatch.chdir(tmp_path)
    problems: list = []
    assert [Path(p).name for p in find_audio(root, problems)] == ["top.wav"]
    assert len(problems) == 1 and str(problems[0]).endswith(
        "folder cannot be read (File name too long); skipped"
    )
