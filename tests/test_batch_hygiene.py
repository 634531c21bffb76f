"""Batch job hygiene (issue 18, item 6): one run per output folder, a summary after SIGTERM, error rows
reported on a re-run and recomputed with --retry-failed, and a time limit on ffmpeg."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from emovox import batch
from emovox.errors import AudioError, EmovoxError

from .conftest import RAVDESS


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> Path:
    """Eight short real recordings and one corrupt file."""
    if not RAVDESS.exists():
        pytest.skip(f"{RAVDESS} not found")
    d = tmp_path_factory.mktemp("audio")
    for p in sorted((RAVDESS / "Actor_03").glob("03-01-0*-01-01-01-03.*"))[:8]:
        shutil.copy(p, d)
    (d / "zz-corrupt.wav").write_bytes(b"RIFF but not really audio" * 40)
    return d


def _n_files(folder: Path) -> int:
    return len(list(folder.iterdir()))


# The job run in a child process: every partition takes at least `delay` s, so a test can act mid-job.
SLOW_JOB = textwrap.dedent("""
    import sys, time
    import emovox.batch.jobs as jobs
    from emovox.batch.jobs import Terminated

    real = jobs.run_partition
    def slow(*args):
        time.sleep(float(sys.argv[3]))
        return real(*args)
    jobs.run_partition = slow
    try:
        s = jobs.predict(sys.argv[1], engine="local", output_dir=sys.argv[2], batch_size=1, progress=False)
    except Terminated:
        sys.exit(143)
    print(s)
""")


def _start_slow_job(audio: Path, out: Path, delay: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_JOB, str(audio), str(out), str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(cond, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


# -- one run per folder -----------------------------------------------------------------------------------


def test_second_run_into_the_same_folder_is_refused(audio, tmp_path):
    out = tmp_path / "out"
    first = _start_slow_job(audio, out, 0.3)
    try:
        _wait_for(lambda: (out / ".lock").is_file() and (out / ".lock").read_text().strip())
        t0 = time.perf_counter()
        with pytest.raises(EmovoxError, match="another emovox run") as info:
            batch.predict(audio, engine="local", output_dir=out, progress=False)
        assert time.perf_counter() - t0 < 10  # refused at once, not after computing
        msg = str(info.value)
        assert str(out) in msg and f"pid {first.pid}" in msg and "\n" not in msg
    finally:
        _, errs = first.communicate(timeout=180)
    assert first.returncode == 0, errs.decode()
    df = batch.read_results(out, latest=False)
    assert len(df) == _n_files(audio) and df["path"].is_unique  # before: rows from both runs


def test_two_threads_one_folder(audio, tmp_path):
    out = tmp_path / "out"
    results: list = []

    def run():
        try:
            results.append(batch.predict(audio, engine="local", output_dir=out, progress=False, batch_size=1))
        except EmovoxError as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    refused = [r for r in results if isinstance(r, EmovoxError)]
    # either the second was refused, or it started after the first had finished and found everything done
    done = [r for r in results if not isinstance(r, EmovoxError)]
    assert len(refused) + len(done) == 2 and sum(s.n_computed for s in done) == _n_files(audio)
    assert all("another emovox run" in str(r) for r in refused)
    assert len(batch.read_results(out, latest=False)) == _n_files(audio)


def test_stale_lock_of_a_dead_process_is_taken_over(audio, tmp_path, caplog):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text("pid 999999 on nowhere, since 2020-01-01T00:00:00+00:00\n")
    files = sorted(audio.glob("03-*"))[:2]
    with caplog.at_level("WARNING"):
        s = batch.predict(files, engine="local", output_dir=out, progress=False)
    assert s.n_ok == 2
    assert any("taking over the lock of pid 999999" in r.getMessage() for r in caplog.records)
    assert (out / ".lock").read_text() == ""  # released


# -- SIGTERM, re-runs, --retry-failed ---------------------------------------------------------------------


def test_sigterm_writes_the_summary_and_a_rerun_finishes(audio, tmp_path):
    out = tmp_path / "out"
    job = _start_slow_job(audio, out, 0.5)
    _wait_for(lambda: list(out.glob("part-*.parquet")))
    job.send_signal(signal.SIGTERM)
    _, errs = job.communicate(timeout=60)
    assert job.returncode == 143, errs.decode()
    summary = batch.read_summary(out)  # before: no _summary.json at all
    assert summary["status"] == "terminated" and 1 <= summary["n_computed"] < _n_files(audio)
    s = batch.predict(audio, engine="local", output_dir=out, progress=False)
    assert s.n_skipped == summary["n_computed"] and s.n_computed == _n_files(audio) - summary["n_computed"]
    assert len(batch.read_results(out, latest=False)) == _n_files(audio)


def test_a_partition_written_as_the_job_stops_is_in_the_summary(audio, tmp_path, monkeypatch):
    """Ctrl-C between a worker writing its partition and the client counting it: the summary counted fewer
    files than the folder held (188 against 196 in a helper's Dask run), and a resume said so."""
    import emovox.batch.jobs as jobs

    real, written = jobs.run_partition, []

    def stop_after_the_third(*args):
        res = real(*args)
        written.append(args[-1])
        if len(written) == 3:
            raise KeyboardInterrupt
        return res

    monkeypatch.setattr(jobs, "run_partition", stop_after_the_third)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        batch.predict(audio, engine="local", output_dir=out, batch_size=1, progress=False)
    summary = batch.read_summary(out)
    assert summary["status"] == "interrupted"
    assert summary["n_computed"] == len(batch.read_results(out, latest=False)) == 3
    assert summary["n_partitions"] == len(list(out.glob("part-*.parquet"))) == 3


def test_rerun_reports_error_rows_and_retry_failed_recomputes_them(audio, tmp_path, capsys):
    from emovox.cli.batch import _report

    out = tmp_path / "out"
    files = [*sorted(audio.glob("03-*"))[:2], audio / "zz-corrupt.wav"]
    first = batch.predict(files, engine="local", output_dir=out, progress=False)
    assert (first.n_ok, first.n_failed) == (2, 1)
    again = batch.predict(files, engine="local", output_dir=out, progress=False)
    assert (again.n_computed, again.n_failed, again.n_failed_before) == (0, 0, 1)
    assert _report(again) == 1  # before: 0, as if everything had worked
    assert "1 of the inputs has error rows" in capsys.readouterr().err
    retried = batch.predict(files, engine="local", output_dir=out, progress=False, retry_failed=True)
    assert (retried.n_computed, retried.n_failed, retried.n_failed_before) == (1, 1, 0)
    # inputs without error rows: exit 0
    assert _report(batch.predict(files[:2], engine="local", output_dir=out, progress=False)) == 0


# -- the folder is one Parquet dataset -------------------------------------------------------------------


def test_read_parquet_reads_a_finished_batch_folder(audio, tmp_path):
    import pandas as pd

    out = tmp_path / "out"
    files = [*sorted(audio.glob("03-*"))[:4], audio / "zz-corrupt.wav"]
    s = batch.predict(files, engine="local", output_dir=out, batch_size=2, progress=False)
    assert (s.n_ok, s.n_failed, s.n_partitions) == (4, 1, 3)
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("part-"))
    assert names == [".lock", "_job.json", "_summary.json"]  # side files that Parquet readers skip
    df = pd.read_parquet(out)  # before: "job.json" is not a Parquet file
    ref = batch.read_results(out)
    assert len(df) == 5 and sorted(df["path"]) == sorted(ref["path"])
    assert list(df.columns) == list(ref.columns) and df["error"].notna().sum() == 1
    assert batch.read_summary(out)["n_ok"] == 4


def test_folder_of_an_older_version_is_resumed(audio, tmp_path):
    """``job.json`` / ``summary.json`` of an older emovox: resumed, and renamed so Parquet readers skip them."""
    import pandas as pd

    out = tmp_path / "out"
    files = sorted(audio.glob("03-*"))[:4]
    first = batch.predict(files[:2], engine="local", output_dir=out, batch_size=1, progress=False)
    os.replace(out / "_job.json", out / "job.json")
    os.replace(out / "_summary.json", out / "summary.json")
    assert batch.read_summary(out)["n_ok"] == first.n_ok == 2  # the old name is read too
    s = batch.predict(files, engine="local", output_dir=out, batch_size=1, progress=False)
    assert (s.n_skipped, s.n_computed, s.n_ok) == (2, 2, 2)
    assert not (out / "job.json").exists() and not (out / "summary.json").exists()
    assert (out / "_job.json").is_file() and batch.read_summary(out)["n_computed"] == 2
    assert len(pd.read_parquet(out)) == 4
    # an older folder of another job is still refused, and left as it was
    other = tmp_path / "other"
    batch.predict(files[:1], engine="local", output_dir=other, progress=False)
    job = (other / "_job.json").read_text().replace('"predict"', '"features"')
    (other / "_job.json").unlink()
    (other / "job.json").write_text(job)
    with pytest.raises(EmovoxError, match="another job"):
        batch.predict(files[:1], engine="local", output_dir=other, progress=False)
    assert (other / "job.json").read_text() == job and not (other / "_job.json").exists()


def test_cli_has_retry_failed():
    from emovox.cli import build_parser

    for cmd in (["predict", "x.wav"], ["features", "root", "-o", "f.parquet"]):
        assert build_parser().parse_args([*cmd, "--engine", "dask", "--retry-failed"]).retry_failed


# -- ffmpeg time limit -------------------------------------------------------------------------------------


def test_ffmpeg_timeout_is_an_audio_error(tmp_path, monkeypatch):
    import emovox.audio.ffmpeg as audio_mod  # the module whose limits stream_ffmpeg reads

    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(audio_mod, "FFMPEG_TIMEOUT_MIN", 0.5)
    src = tmp_path / "voice.m4a"
    src.write_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 2000)
    t0 = time.perf_counter()
    with pytest.raises(AudioError, match=r"voice\.m4a: ffmpeg did not finish decoding within [0-9.]+ s"):
        list(audio_mod.stream_ffmpeg(str(src), None, 16000, str(src)))
    assert time.perf_counter() - t0 < 10  # before: waited for ffmpeg however long it took
    assert (
        audio_mod.ffmpeg_timeout(0) == 0.5
        and audio_mod.ffmpeg_timeout(10**12) == audio_mod.FFMPEG_TIMEOUT_MAX
    )
