"""Encoder models trained through the CLI's path: the extractor cache, probe, save, predict without torch."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emovox.corpora import shared_dir
from emovox.encoders import frontend
from emovox.encoders.frontend import WhisperExtractor, encoder_features
from emovox.encoders.runtime import WhisperEncoderONNX
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


@pytest.fixture(scope="module")
def exported(encoder_ckpt, tmp_path_factory):
    """The int8 export of whisper-base, made once for this module (its cache folder's onnx-encoders/)."""
    root = tmp_path_factory.mktemp("export")
    frontend.ensure_onnx_encoder(encoder_ckpt, root, quantize=True)
    return root / "onnx-encoders"


def _cache(tmp_path, exported):
    """A fresh cache folder that already has the module's encoder export."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "onnx-encoders").symlink_to(exported, target_is_directory=True)
    return cache


def _no_encoder(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the encoder ran although every file was cached")

    monkeypatch.setattr(WhisperEncoderONNX, "hidden_states", boom)
    monkeypatch.setattr(WhisperEncoderONNX, "hidden_states_from_mel", boom)


def _entries(cache):
    return sorted((str(f), os.stat(f).st_mtime_ns) for f in cache.glob("*-v*/*.npy"))


def test_training_features_are_the_extractors_cached_once(
    encoder_ckpt, exported, small, tmp_path, monkeypatch
):
    cache = _cache(tmp_path, exported)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav file")
    df = pd.concat(
        [small[:3], pd.DataFrame({"path": [str(tmp_path / "missing.wav"), str(bad)], "emotion": "sad"})],
        ignore_index=True,
    )
    opts = {"cache_dir": cache, "n_jobs": 1, "progress": False, "quantize": True}
    table = encoder_features(df, f"whisper:{encoder_ckpt}", **opts)
    # failing files are reported, one line naming each, not raised
    assert [p for p, _ in table.failures] == [str(tmp_path / "missing.wav"), str(bad)]
    assert all(p in msg for p, msg in table.failures)
    assert list(table.manifest["path"]) == list(small["path"][:3])
    # every layer of whisper-base (7 states x 512), mean and std, one float32 cache entry per file
    assert table.frontend["layers"] == list(range(7)) and table.X.shape == (3, 7 * 2 * 512)
    assert len(table.names) == table.X.shape[1] and table.X.dtype == np.float32
    stamps = _entries(cache)
    assert len(stamps) == 3
    v = np.load(stamps[0][0])
    assert v.dtype == np.float32 and v.shape == (7 * 2 * 512,)
    # what prediction computes from the table's front end
    ex = WhisperExtractor(table.frontend)
    # the cache's key, which an evaluation records as the features it scored (asked for as every layer)
    assert table.frontend["fingerprint"] == WhisperExtractor({**table.frontend, "layers": None}).fingerprint
    for path, row in zip(table.manifest["path"], table.X, strict=True):
        np.testing.assert_allclose(row, ex.process_file(path), rtol=1e-5, atol=1e-6)
    # a second run computes nothing: no encoder call, no cache entry rewritten
    _no_encoder(monkeypatch)
    again = encoder_features(df, f"whisper:{encoder_ckpt}", **opts)
    np.testing.assert_array_equal(again.X, table.X)
    assert again.failures == table.failures and _entries(cache) == stamps


def test_augmented_training_features_share_the_runner_and_cache(
    encoder_ckpt, exported, small, tmp_path, monkeypatch
):
    from emovox.audio import load_audio
    from emovox.training import Recipe, compute_features

    cache = _cache(tmp_path, exported)
    copy = tmp_path / "copy.wav"
    shutil.copy(small["path"][0], copy)
    df = pd.concat([small[:2], pd.DataFrame({"path": [str(copy)], "emotion": "angry"})], ignore_index=True)
    recipe = Recipe(
        f"whisper:{encoder_ckpt}",
        "logreg",
        {},
        {"layers": [2, 3], "pooling": "active", "threshold_db": 30.0},
        ("speed:1.1", "noise:15"),
    )
    opts = {"cache_dir": cache, "progress": False, "quantize": True}
    table = compute_features(df, recipe, n_jobs=2, **opts)  # worker processes rebuild the augmented view
    assert set(table.augmented) == {"speed:1.1", "noise:15"}
    ex = WhisperExtractor(table.frontend)
    for aug, X in table.augmented.items():
        assert X.shape == table.X.shape and not np.allclose(X, table.X)
        np.testing.assert_array_equal(X[2], X[0])  # seeded by content: a copy gets the same variant
        view = frontend.AugmentedExtractor(ex, aug)
        assert view.fingerprint != ex.fingerprint
        for path, row in zip(table.manifest["path"], X, strict=True):
            y = frontend.augment_signal(load_audio(path, 16000), aug, frontend.content_seed(path))
            np.testing.assert_allclose(row, ex.process_signal(y), rtol=1e-5, atol=1e-6)
    # originals and both variants: one entry each per distinct file content, in the one cache
    stamps = _entries(cache)
    assert len(stamps) == 3 * 2
    _no_encoder(monkeypatch)
    again = compute_features(df, recipe, n_jobs=1, **opts)
    for aug, X in table.augmented.items():
        np.testing.assert_array_equal(again.augmented[aug], X)
    assert _entries(cache) == stamps


def test_long_files_train_on_what_prediction_sees(encoder_ckpt, exported, small, tmp_path):
    import soundfile as sf

    from emovox.audio import load_audio

    # about 40 s of speech: RAVDESS clips one after another
    y = np.concatenate([load_audio(p, 16000) for p in small["path"][:12]])
    assert len(y) > 35 * 16000
    long = tmp_path / "long.wav"
    sf.write(long, y, 16000)
    df = pd.DataFrame({"path": [str(long)], "emotion": "angry"})
    table = encoder_features(
        df,
        f"whisper:{encoder_ckpt}",
        cache_dir=_cache(tmp_path, exported),
        n_jobs=1,
        progress=False,
        quantize=True,
    )
    ex = WhisperExtractor(table.frontend)
    np.testing.assert_allclose(table.X[0], ex.process_file(long), rtol=1e-5, atol=1e-6)
    first_30s = ex.process_signal(load_audio(long, 16000)[: 30 * 16000])
    assert not np.allclose(table.X[0], first_30s, rtol=1e-3, atol=1e-3)  # the whole file, not its first 30 s


def test_mean_only_statistics_are_the_mean_columns(small):
    import json

    from emovox.audio import load_audio
    from emovox.errors import ParameterError
    from emovox.inference import resolve_model_path

    mdir = resolve_model_path("default")
    spec = json.loads((mdir / "metadata.json").read_text())["frontend"]
    spec.pop("statistics", None)  # the bundled model's may hold its own choice
    both = WhisperExtractor(spec, mdir)
    mean = WhisperExtractor({**spec, "statistics": ["mean"]}, mdir)
    layers, d = len(both.layers), both.encoder.d_model
    assert mean.n_features == layers * d == both.n_features // 2
    assert mean.feature_names == [n for n in both.feature_names if "_mean" in n]
    # the fingerprint of a front end saved before 'statistics' existed is what it was
    assert WhisperExtractor({**spec, "statistics": ["mean", "std"]}, mdir).fingerprint == both.fingerprint
    assert mean.fingerprint != both.fingerprint
    y = load_audio(small["path"][0], 16000)
    long = np.concatenate([y] * (int(35 * 16000 / len(y)) + 1))  # over 30 s: pooled window by window
    for signal in (y, long):
        full = both.process_signal(signal).reshape(layers, 2, d)
        np.testing.assert_allclose(mean.process_signal(signal), full[:, 0].ravel(), rtol=1e-5, atol=1e-6)
    for bad in (["std", "mean"], [], ["max"], ["mean", "mean"]):
        with pytest.raises(ParameterError, match="pooled statistics"):
            WhisperExtractor({**spec, "statistics": bad}, mdir)


def test_a_head_that_does_not_fit_its_front_end_is_refused_in_one_line(tmp_path):
    import json
    import shutil

    import emovox
    from emovox.errors import ModelError
    from emovox.inference import resolve_model_path
    from emovox.models.store import reseal

    copy = tmp_path / "default"
    shutil.copytree(resolve_model_path("default"), copy)
    meta = json.loads((copy / "metadata.json").read_text())
    assert meta["frontend"]["statistics"] == ["mean"]
    del meta["frontend"]["statistics"]  # as an emovox that predates the key would read it: mean and std
    (copy / "metadata.json").write_text(json.dumps(meta))
    reseal(copy)
    with pytest.raises(ModelError, match=r"takes 2048 features but the front end .* gives 4096"):
        emovox.load_model(copy)


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
    # an encoder model fits its own speech head on its training features, stored hashed beside the head
    meta = json.loads((out / "metadata.json").read_text())
    ev = json.loads((out / "evaluation.json").read_text())  # the features it scored, as a hand-crafted one's
    assert ev["recipe"]["features"]["fingerprint"] and "fingerprint" not in meta["frontend"]
    assert ev["run"]["seeds"] == meta["run"]["seeds"] == {"split": None, "training": 0}
    assert (
        meta["run"]["command"].startswith("emovox train ") and ev["run"]["command"] == meta["run"]["command"]
    )
    assert meta["speech_head"]["file"] in meta["files"] and (out / meta["speech_head"]["file"]).is_file()
    assert meta["speech_head"]["speech_kept"] >= 0.995 and meta["speech_head"]["non_speech_rejected"] >= 0.9
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
