"""Encoder models trained through the CLI's path: frame-level cache, probe, save, predict without torch."""

import os
import subprocess
import sys

import numpy as np
import pytest

from emovox.corpora import shared_dir
from emovox.encoders import frontend
from emovox.labels import apply_labels


@pytest.fixture(scope="module")
def encoder_ckpt():
    ckpt = shared_dir() / "encoders" / "whisper-base"
    if not ckpt.is_dir():
        pytest.skip("whisper-base checkpoint not available")
    pytest.importorskip("torch")
    return ckpt


@pytest.fixture(scope="module")
def small(ravdess_manifest):
    df = apply_labels(ravdess_manifest, emotions="angry,sad")
    return df[df["actor"] <= 4].reset_index(drop=True)  # 64 files


def test_hidden_state_cache_hit(encoder_ckpt, small, tmp_path, monkeypatch):
    onnx = frontend.ensure_onnx_encoder(encoder_ckpt, tmp_path, quantize=True)
    paths = list(small["path"][:3])
    files, failures = frontend.hidden_state_files(paths, onnx, tmp_path, n_jobs=1, progress=False)
    assert not failures and all(files)
    h = np.load(files[0])
    assert h.shape[0] == 7 and h.shape[2] == 512 and h.dtype == np.float16
    stamps = [(f, os.stat(f).st_mtime_ns) for f in files]

    def boom(*a, **k):
        raise AssertionError("the encoder ran although every file was cached")

    monkeypatch.setattr(frontend, "_worker_encoder", boom)
    files2, failures2 = frontend.hidden_state_files(paths, onnx, tmp_path, n_jobs=1, progress=False)
    assert files2 == files and not failures2
    assert [(f, os.stat(f).st_mtime_ns) for f in files2] == stamps


def test_active_frames_skip_silence():
    y = np.zeros(16000 * 2, np.float32)
    y[8000:24000] = 0.3 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    m = frontend.active_frames(y, 100, 30.0)
    assert m[30:70].all() and not m[:20].any() and not m[80:].any()


def test_whisper_probe_train_predict_no_torch(encoder_ckpt, small, tmp_path):
    from emovox.corpora import write_manifest

    manifest = tmp_path / "m.csv"
    write_manifest(small, manifest)  # actors 1-4, angry and sad
    out = tmp_path / "probe"
    cmd = [
        sys.executable,
        "-m",
        "emovox.cli",
        "train",
        str(manifest),
        "--model",
        "whisper-probe",
        "--features",
        f"whisper:{encoder_ckpt}",
        "--protocol",
        "speakers:01,02",
        "--cache-dir",
        str(tmp_path / "cache"),
        "-q",
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / "encoder.onnx").is_file() and (out / "model.onnx").is_file()
    import onnx  # the model's encoder runs attention one head at a time (6 layers x 8 heads)

    graph = onnx.load(str(out / "encoder.onnx"), load_external_data=False).graph
    assert sum(n.op_type == "Softmax" for n in graph.node) == 48
    code = (
        "import sys, emovox; m = emovox.load_model(sys.argv[1]); p = m.predict_proba(sys.argv[2:]); "
        "assert 'torch' not in sys.modules; print(' '.join(m.labels[i] for i in p.argmax(1)))"
    )
    test_files = list(small["path"][small["actor"] <= 2][:6])
    proc = subprocess.run([sys.executable, "-c", code, str(out), *test_files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.split()) == 6 and set(proc.stdout.split()) <= {"angry", "sad"}
