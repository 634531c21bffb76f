"""Batch jobs on a real Dask LocalCluster (2 workers): same numbers as one process, bad files, resume, CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from emovox import batch  # noqa: E402
from emovox.errors import EmovoxError  # noqa: E402
from emovox.inference import EmotionModel  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(ravdess_manifest, tmp_path_factory) -> Path:
    """Logistic regression on the tutorial features of one actor's four emotions: trains in seconds."""
    from emovox.labels import apply_labels
    from emovox.training import handcrafted_features, train_classical

    df = apply_labels(ravdess_manifest, emotions="four")
    df = df[df["actor"] == 1].reset_index(drop=True)
    table = handcrafted_features(
        df, "tutorial", cache_dir=tmp_path_factory.mktemp("cache"), progress=False, n_jobs=2
    )
    return train_classical(table, tmp_path_factory.mktemp("model") / "tiny", "logreg")


@pytest.fixture(scope="module")
def address():
    """A real LocalCluster shared by the tests of this module (each API call joins it by address)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def paths(ravdess_manifest) -> list[str]:
    df = ravdess_manifest[ravdess_manifest["actor"] == 2]
    return [os.path.abspath(p) for p in df["path"].iloc[::2][:24]]


def _reference(model_dir: Path, paths: list[str]):
    return {p.source: p for p in EmotionModel(model_dir).predict_files(paths)}


def test_dask_equals_single_process(tiny_model, address, paths, tmp_path):
    s = batch.predict(
        paths, model=tiny_model, address=address, output_dir=tmp_path, batch_size=5, progress=False
    )
    assert (s.n_inputs, s.n_computed, s.n_ok, s.n_failed, s.n_partitions) == (24, 24, 24, 0, 5)
    assert s.workers == 2 and s.status == "complete" and s.files_per_s > 0
    assert json.loads((tmp_path / "_summary.json").read_text())["n_ok"] == 24
    df = batch.read_results(tmp_path)
    assert sorted(df["path"]) == sorted(paths) and df["error"].isna().all()
    labels = EmotionModel(tiny_model).labels
    assert list(df.columns) == [
        "path",
        "key",
        "label",
        "confidence",
        "speech",
        "uncertain",
        "reason",
        *[f"prob_{lab}" for lab in labels],
        "error",
    ]
    ref = _reference(tiny_model, paths)
    for row in df.itertuples(index=False):
        r = ref[row.path]
        assert row.label == r.label and row.key == batch.file_key(row.path)
        got = np.array([getattr(row, f"prob_{lab}") for lab in labels])
        np.testing.assert_allclose(got, [r.probabilities[lab] for lab in labels], atol=1e-6, rtol=0)
        assert abs(row.confidence - r.confidence) <= 1e-6
    # each worker process loaded the model once for the whole job, not per file or partition
    from distributed import Client

    from emovox.batch.worker import load_count

    with Client(address) as client:
        assert sorted(client.run(load_count).values()) == [1, 1]


def test_emotions_restrict_the_rows_as_the_local_path_does(tiny_model, address, paths, tmp_path):
    from emovox.errors import ParameterError

    s = batch.predict(
        paths[:6], tiny_model, address=address, output_dir=tmp_path, progress=False, emotions="sad,anger"
    )
    assert s.n_ok == 6
    df = batch.read_results(tmp_path)
    # the emotions kept, and what the model gives those left out (as predict -o's p_left_out)
    assert [c for c in df.columns if c.startswith("prob_")] == ["prob_sad", "prob_angry", "prob_left_out"]
    ref = {p.source: p for p in EmotionModel(tiny_model, emotions="sad,angry").predict_files(paths[:6])}
    for row in df.itertuples(index=False):
        assert row.label == ref[row.path].label in ("sad", "angry")
        want = ref[row.path].probabilities
        np.testing.assert_allclose([row.prob_sad, row.prob_angry], [want["sad"], want["angry"]], atol=1e-6)
        assert abs(row.prob_sad + row.prob_angry - 1) < 1e-9
        assert set(ref[row.path].left_out) == {"happy", "neutral"}
        assert row.prob_left_out == pytest.approx(sum(ref[row.path].left_out.values()), abs=1e-6)
    # the same folder with other emotions is another job; an unknown emotion fails before any work
    with pytest.raises(
        EmovoxError, match=r"another job .*; use another --output-dir, or --overwrite"
    ) as info:
        batch.predict(paths[:6], tiny_model, address=address, output_dir=tmp_path, progress=False)
    assert (
        "this one differs in labels (['sad', 'angry'] there, ['angry', 'happy', 'neutral', 'sad'] now)"
        in str(info.value)
    )  # it named the model only, the same as this job's
    s = batch.predict(
        paths[:6], tiny_model, address=address, output_dir=tmp_path, progress=False, overwrite=True
    )
    assert s.n_ok == 6 and len([c for c in batch.read_results(tmp_path) if c.startswith("prob_")]) > 2
    with pytest.raises(ParameterError, match="boredom: not one of this model's emotions"):
        batch.predict(
            paths[:6], tiny_model, engine="local", output_dir=tmp_path / "b", emotions="sad,boredom"
        )


def test_corrupt_and_missing_files_are_rows_with_errors(tiny_model, address, paths, tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(2000))
    missing = str(tmp_path / "missing.wav")
    inputs = [*paths[:4], str(bad), *paths[4:8], missing]
    out = tmp_path / "out"
    s = batch.predict(inputs, model=tiny_model, address=address, output_dir=out, batch_size=3, progress=False)
    assert (s.n_computed, s.n_ok, s.n_failed, s.n_lost) == (10, 8, 2, 0)
    assert {p for p, _ in s.failures} == {str(bad), missing}
    df = batch.read_results(out).set_index("path")
    assert df.loc[str(bad), "error"].startswith(str(bad)) and str(missing) in df.loc[missing, "error"]
    assert np.isnan(df.loc[str(bad), "prob_angry"]) and df.loc[missing, "key"] == "missing"
    assert df.loc[paths[:8], "error"].isna().all()
    # failed rows count as done; retry_failed recomputes only them, and the newest row wins
    assert (
        batch.predict(inputs, model=tiny_model, address=address, output_dir=out, progress=False).n_computed
        == 0
    )
    s = batch.predict(
        inputs, model=tiny_model, engine="local", output_dir=out, progress=False, retry_failed=True
    )
    assert (s.n_computed, s.n_failed) == (2, 2) and len(batch.read_results(out)) == 10


def test_resume_recomputes_only_lost_partitions(tiny_model, address, paths, tmp_path):
    kw = {"model": tiny_model, "address": address, "output_dir": tmp_path, "batch_size": 4, "progress": False}
    first = batch.predict(paths, **kw)
    assert (first.n_computed, first.n_partitions) == (24, 6)
    before = batch.read_results(tmp_path).set_index("path").sort_index()
    parts = sorted(tmp_path.glob("part-*.parquet"))
    for p in parts[::2]:  # an interrupted job: half of its partitions never made it to disk
        p.unlink()
    (tmp_path / f".tmp-dead-{parts[0].name}").write_bytes(b"half-written")
    second = batch.predict(paths, **kw)
    assert (second.n_inputs, second.n_skipped, second.n_computed, second.n_partitions) == (24, 12, 12, 3)
    assert not list(tmp_path.glob(".tmp-*"))
    after = batch.read_results(tmp_path).set_index("path").sort_index()
    assert after.index.equals(before.index)
    np.testing.assert_allclose(
        after.filter(like="prob_").to_numpy(), before.filter(like="prob_").to_numpy(), atol=1e-12
    )
    assert batch.predict(paths, **kw).n_computed == 0


def test_changed_file_is_recomputed_and_other_jobs_refused(tiny_model, paths, tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    files = [shutil.copy(p, audio) for p in paths[:3]]
    out = tmp_path / "out"
    assert (
        batch.predict(audio, model=tiny_model, engine="local", output_dir=out, progress=False).n_computed == 3
    )
    os.utime(files[0], ns=(1, 1))  # same bytes, new mtime: the key changes
    s = batch.predict(audio, model=tiny_model, engine="local", output_dir=out, progress=False)
    assert (s.n_skipped, s.n_computed) == (2, 1)
    df = batch.read_results(out)
    assert len(df) == 3 and df.set_index("path").loc[os.path.abspath(files[0]), "key"].endswith(":1")
    with pytest.raises(EmovoxError, match="another job"):
        batch.features(audio, "tutorial", engine="local", output_dir=out, progress=False)


def test_features_match_the_extractor(address, paths, tmp_path):
    from emovox.features import FeatureExtractor

    s = batch.features(
        paths[:6], "tutorial", address=address, output_dir=tmp_path, batch_size=4, progress=False
    )
    assert (s.n_ok, s.n_failed) == (6, 0)
    df = batch.read_results(tmp_path).set_index("path")
    ex = FeatureExtractor("tutorial")
    assert list(df.columns) == ["key", "error", *ex.feature_names]
    for p in paths[:6]:  # float32; workers run one BLAS thread, this process several: summation order differs
        np.testing.assert_allclose(
            df.loc[p, ex.feature_names].to_numpy(np.float32), ex.process_file(p), rtol=1e-5, atol=1e-6
        )


def test_cli_features_dask_writes_the_local_table(address, ravdess_manifest, paths, tmp_path):
    import pandas as pd

    from emovox.cli import main
    from emovox.corpora import write_manifest

    manifest = tmp_path / "m.csv"
    write_manifest(ravdess_manifest[ravdess_manifest["path"].map(os.path.abspath).isin(paths[:5])], manifest)
    out = tmp_path / "feats.v2.parquet"  # the parts go beside it as feats.v2.parts (not feats.parts)
    rc = main(
        [
            "features",
            str(manifest),
            "-o",
            str(out),
            "--features",
            "tutorial",
            "--engine",
            "dask",
            "--address",
            address,
            "-q",
        ]
    )
    assert rc == 0 and (tmp_path / "feats.v2.parts" / "_job.json").is_file()
    df = pd.read_parquet(out)
    assert df.shape == (5, 4 + 180) and list(df.columns[:4]) == ["path", "emotion", "speaker", "corpus"]
    # the library gives the same table from the job's folder (what the CLI writes)
    from emovox.batch import feature_results
    from emovox.corpora import load_corpus

    again = feature_results(tmp_path / "feats.v2.parts", load_corpus(manifest))
    pd.testing.assert_frame_equal(again.reset_index(drop=True), df, check_dtype=False)


def test_cli_predict_engine_dask_subprocess(tiny_model, paths, tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    for p in paths[:6]:
        shutil.copy(p, audio)
    (audio / "zz-corrupt.wav").write_bytes(b"not audio at all" * 100)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "emovox.cli",
        "predict",
        str(audio),
        "--engine",
        "dask",
        "--output-dir",
        str(out),
        "--model",
        str(tiny_model),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert r.returncode == 1, r.stderr  # one input failed, as on the local path
    assert "zz-corrupt.wav" in r.stderr
    summary = batch.read_summary(out)
    assert (summary["engine"], summary["workers"], summary["n_ok"], summary["n_failed"]) == ("dask", 2, 6, 1)
    df = batch.read_results(out)
    assert len(df) == 7 and df["error"].notna().sum() == 1
    r = subprocess.run([*cmd, "--top-k", "2"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.strip() == (
        "emovox: error: --top-k shapes what is printed; --engine dask writes every probability to the Parquet parts"
    )


def test_an_address_that_is_not_a_scheduler_fails_in_one_line(address, tiny_model, paths, capsys, tmp_path):
    """A real HTTP server, a closed port, a bad address: one line each, never distributed's endless wait."""
    import socket
    import threading
    import time
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    from emovox.batch.engines import check_scheduler
    from emovox.cli import main

    check_scheduler(address)  # a scheduler speaks first
    http = HTTPServer(("127.0.0.1", 0), SimpleHTTPRequestHandler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    try:
        t = time.perf_counter()
        with pytest.raises(EmovoxError, match="no Dask handshake within 1 s"):
            check_scheduler(f"tcp://127.0.0.1:{http.server_port}", timeout=1.0)
        assert time.perf_counter() - t < 5
    finally:
        http.shutdown()
    with pytest.raises(EmovoxError, match="expected tcp://host:port"):
        check_scheduler("tcp://127.0.0.1")
    for where, words in ((f"127.0.0.1:{closed}", "refused"), ("tcp://127.0.0.1", "host:port")):
        rc = main(
            ["predict", paths[0], "--model", str(tiny_model), "--engine", "dask", "--address", where]
            + ["--output-dir", str(tmp_path / "out")]
        )
        err = capsys.readouterr().err.strip()  # before any progress bar, and no job folder left behind
        assert not (tmp_path / "out").exists()
        assert rc == 2 and where in err and words in err.lower() and "\n" not in err, err


def test_a_model_that_cannot_be_loaded_stops_the_job_in_one_line(tiny_model, paths, tmp_path, monkeypatch):
    """A Dask worker that joins after the job's start loads the model then; if the model directory changed
    meanwhile, every partition failed alike: 58 lines, and every file counted as failed. The job is checked
    against the model at its start; here the worker reads a tampered copy (the same directory changed on a
    shared file system), and the job stops with one error."""
    import shutil

    from emovox.batch import worker
    from emovox.inference import EmotionModel

    bad = tmp_path / "model"
    shutil.copytree(tiny_model, bad)
    onnx = bad / "model.onnx"
    data = bytearray(onnx.read_bytes())
    data[-1] ^= 0xFF
    onnx.write_bytes(bytes(data))
    monkeypatch.setattr(worker, "cached_model", lambda path, emotions=None: EmotionModel(bad))
    with pytest.raises(EmovoxError, match=r"cannot load the predict task: .*model.onnx: checksum mismatch"):
        batch.predict(
            paths[:6], tiny_model, engine="local", output_dir=tmp_path / "out", batch_size=2, progress=False
        )
    assert not list((tmp_path / "out").glob("part-*"))  # no rows: once fixed, every file is computed


def test_a_batch_of_one_channel_is_scored_together_as_on_one_machine(tiny_model, address, paths, tmp_path):
    """Issue 17: a batch job's files adapted together (``same_channel`` / ``same_speaker``), as
    ``predict_files`` adapts them: the workers embed the files (resumably), this process scores them all at
    once. The rows are the local path's; a re-run embeds nothing again and writes the same rows; a bad file
    is a row with its error; the folder of an unadapted job is another job's."""
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    files = [*paths[:10], str(bad)]
    labels = EmotionModel(tiny_model).labels
    for how in ("same_channel", "same_speaker"):
        out = tmp_path / how
        kw = {"output_dir": out, "batch_size": 4, "progress": False, how: True}
        s = batch.predict(files, tiny_model, address=address, **kw)
        assert (s.n_inputs, s.n_computed, s.n_ok, s.n_failed, s.adapt) == (11, 11, 10, 1, how[5:])
        assert (
            s.failures[0][0] == str(bad)
            and json.loads((out / "_summary.json").read_text())["adapt"] == how[5:]
        )
        ref = {p.source: p for p in EmotionModel(tiny_model).predict_files(files, **{how: True})}
        alone = {p.source: p for p in EmotionModel(tiny_model).predict_files(files)}
        df = batch.read_results(out).set_index("path")
        assert sorted(df.index) == sorted(files) and df.loc[str(bad), "error"].startswith(str(bad))
        moved = 0
        for p in paths[:10]:
            got = np.array([df.loc[p, f"prob_{lab}"] for lab in labels])
            np.testing.assert_allclose(got, [ref[p].probabilities[lab] for lab in labels], atol=1e-6)
            assert df.loc[p, "label"] == ref[p].label
            moved += not np.allclose(got, [alone[p].probabilities[lab] for lab in labels], atol=1e-4)
        assert moved > 0  # adapted: not the one-at-a-time answers
        again = batch.predict(files, tiny_model, engine="local", **kw)
        assert (again.n_computed, again.n_skipped, again.n_ok) == (0, 11, 10)  # (the bad file: its error row)
        np.testing.assert_allclose(
            batch.read_results(out).set_index("path").loc[paths[:10]].filter(like="prob_").to_numpy(),
            df.loc[paths[:10]].filter(like="prob_").to_numpy(),
        )
    with pytest.raises(EmovoxError, match="another job"):
        batch.predict(files, tiny_model, engine="local", output_dir=tmp_path / "same_channel", progress=False)


def test_the_command_line_adapts_a_batch_on_the_cluster(tiny_model, address, paths, tmp_path, capsys):
    """``emovox predict ... --address A --same-speaker`` was refused ("score the files together on one
    machine"); it is the adapted job now, and says so in its summary."""
    from emovox.cli import main

    out = tmp_path / "out"
    argv = ["predict", *paths[:6], "--model", str(tiny_model), "--address", address, "--output-dir", str(out)]
    assert main([*argv, "--same-speaker", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["adapt"], summary["n_ok"]) == ("speaker", 6)
    ref = {p.source: p.label for p in EmotionModel(tiny_model).predict_files(paths[:6], same_speaker=True)}
    assert dict(zip(batch.read_results(out)["path"], batch.read_results(out)["label"], strict=True)) == ref


def test_an_adapted_job_keeps_what_it_was_not_given_and_says_how_it_ended(
    tiny_model, paths, tmp_path, monkeypatch
):
    """A reviewer's findings: a re-run with a mistyped path replaced every earlier row with that one; an
    interrupted run left the folder's summary saying "complete"; a partition that failed lost its reason;
    a re-run counted old error rows twice; ``overwrite`` without adaptation left the embeddings behind."""
    from emovox.batch import worker
    from emovox.batch.store import EMBED_DIR

    out = tmp_path / "out"
    kw = {"engine": "local", "output_dir": out, "batch_size": 3, "progress": False, "same_channel": True}
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    first = batch.predict([*paths[:6], str(bad)], tiny_model, **kw)
    assert (first.n_ok, first.n_failed) == (6, 1)
    again = batch.predict([*paths[:6], str(bad)], tiny_model, **kw)
    assert (again.n_computed, again.n_failed, again.n_failed_before) == (0, 1, 0)  # counted once
    typo = batch.predict([str(tmp_path / "no-such-folder")], tiny_model, **kw)
    assert typo.n_ok == 0
    rows = batch.read_results(out).set_index("path")
    assert set(paths[:6]) <= set(rows.index) and rows.loc[paths[:6], "error"].isna().all()  # still there

    real = worker._embed_table

    def dies(task, items):
        if any(p == paths[7] for p, _ in items):
            raise RuntimeError("worker died")
        return real(task, items)

    monkeypatch.setattr(worker, "_embed_table", dies)
    s = batch.predict(paths[6:9], tiny_model, **kw)
    assert any(p == paths[7] and "worker died" in e for p, e in s.failures), s.failures

    def interrupted(task, items):
        raise KeyboardInterrupt

    monkeypatch.setattr(worker, "_embed_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.predict(paths[9:12], tiny_model, **kw)
    summary = batch.read_summary(out)
    assert (summary["status"], summary["adapt"], summary["kind"]) == ("interrupted", "channel", "predict")
    monkeypatch.undo()
    assert (out / EMBED_DIR).is_dir()
    batch.predict(paths[:2], tiny_model, engine="local", output_dir=out, progress=False, overwrite=True)
    assert not (out / EMBED_DIR).exists()


def test_a_model_edited_and_resealed_or_a_file_put_back_is_computed_again(tiny_model, paths, tmp_path):
    """A batch review (stop 39): a temperature edited in metadata.json and resealed was the "same" model, so
    a job mixed rows of both; and a file put back to an earlier version (cp -p) counted as done, while
    read_results gave the newest row, of the other version."""
    import json
    import shutil

    from emovox.errors import EmovoxError
    from emovox.models.store import reseal

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    audio = tmp_path / "audio"
    audio.mkdir()
    for p in paths[:3]:
        shutil.copy2(p, audio)
    kw = {"model": model, "engine": "local", "output_dir": tmp_path / "out", "progress": False}
    assert batch.predict(sorted(map(str, audio.iterdir())), **kw).n_computed == 3
    meta = json.loads((model / "metadata.json").read_text())
    meta["calibration"] = {"temperature": 5.0}
    (model / "metadata.json").write_text(json.dumps(meta))
    reseal(model)
    with pytest.raises(EmovoxError, match="another job"):
        batch.predict(sorted(map(str, audio.iterdir())), **kw)
    (model / "confusion.png").write_bytes(b"\x89PNG a report")  # a report sealed: the same model still
    reseal(model)
    kw["output_dir"] = tmp_path / "out2"
    assert batch.predict(sorted(map(str, audio.iterdir())), **kw).n_computed == 3
    (model / "confusion.png").unlink()
    reseal(model)
    assert batch.predict(sorted(map(str, audio.iterdir())), **kw).n_computed == 0

    first = audio / sorted(os.listdir(audio))[0]
    kept = tmp_path / "kept.wav"
    shutil.copy2(first, kept)
    first.write_bytes(b"RIFF not audio any more")
    assert batch.predict([str(first)], **kw).n_failed == 1
    shutil.copy2(kept, first)  # the earlier version back, its size and time too
    s = batch.predict([str(first)], **kw)
    assert (s.n_computed, s.n_failed) == (1, 0)
    assert not isinstance(
        batch.read_results(kw["output_dir"]).set_index("path").loc[str(first), "error"], str
    )
    with pytest.raises(EmovoxError, match=r"no column bogus in these results; they have path, key"):
        batch.read_results(kw["output_dir"], columns=["bogus"])
    with pytest.raises(EmovoxError, match="not the folder of a batch job"):
        batch.read_results(audio)
