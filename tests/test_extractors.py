"""One extractor interface (emovox.extractors) for hand-crafted, Whisper and deep-frame front ends, and the one
runner and cache (emovox.extractors.runner) behind every ``process_files``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovox.deep.frames import FrameConfig, FrameExtractor
from emovox.encoders.frontend import WhisperExtractor
from emovox.errors import FeatureError, ModelError, ParameterError
from emovox.extractors import Extractor, from_dict, from_name
from emovox.features import FeatureExtractor
from emovox.inference import resolve_model_path

DEFAULT = resolve_model_path(None)  # the bundled model: its front end is a Whisper extractor


def _speechlike(seconds: float, f0: float, seed: int) -> np.ndarray:
    sr = 16000
    t = np.arange(int(seconds * sr)) / sr
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    y += np.random.default_rng(seed).standard_normal(y.size) * 0.01
    return (0.2 * y / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("clips")
    out = []
    for i, (sec, f0) in enumerate([(1.5, 120), (2.0, 180), (1.0, 220), (2.5, 150)]):
        p = root / f"clip{i}.wav"
        sf.write(p, _speechlike(sec, f0, i), 16000)
        out.append(str(p))
    return out


def _extractors() -> dict[str, Extractor]:
    import json

    meta = json.loads((DEFAULT / "metadata.json").read_text())
    return {
        "handcrafted": FeatureExtractor("tutorial"),
        "whisper": from_dict(meta["frontend"], DEFAULT),
        "frames": FrameExtractor.from_config(FrameConfig(features="mfcc", pool="mean", norm="utterance")),
    }


@pytest.mark.parametrize("kind", ["handcrafted", "whisper", "frames"])
def test_every_front_end_is_an_extractor_that_round_trips(kind, clips):
    ex = _extractors()[kind]
    assert isinstance(ex, Extractor) and ex.to_dict()["type"] == kind
    again = from_dict(ex.to_dict(), getattr(ex, "model_dir", None))
    assert type(again) is type(ex) and again.fingerprint == ex.fingerprint
    y = _speechlike(1.2, 140, 7)
    v = ex.process_signal(y)
    assert v.dtype == np.float32 and np.isfinite(v).all()
    np.testing.assert_array_equal(again.process_signal(y), v)
    np.testing.assert_array_equal(
        ex.process_file(clips[0]), ex.process_signal(sf.read(clips[0], dtype="float32")[0])
    )
    # another rate is resampled to the extractor's own
    y8 = y[::2].copy()
    assert ex.process_signal(y8, sr=8000).shape == v.shape


@pytest.mark.parametrize("kind", ["handcrafted", "whisper", "frames"])
def test_one_runner_and_cache_for_every_extractor(kind, clips, tmp_path):
    ex = _extractors()[kind]
    files = [*clips, str(tmp_path / "missing.wav")]
    res = ex.process_files(files, n_jobs=2, cache_dir=tmp_path / "cache", progress=False)
    assert res.mask.tolist() == [True] * len(clips) + [False]
    assert res.paths == clips and res.n_cached == 0
    assert len(res.failures) == 1 and "missing.wav" in res.failures[0][1]
    for row, path in zip(res.features, clips, strict=True):  # workers rebuilt it from to_dict(): same numbers
        np.testing.assert_allclose(row, ex.process_file(path), rtol=1e-5, atol=1e-6)
    entries = list((tmp_path / "cache").glob(f"{ex.fingerprint}-v*/*.npy"))
    assert len(entries) == len(clips)
    again = ex.process_files(clips, n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert again.n_cached == len(clips)
    np.testing.assert_array_equal(again.features, res.features)


def test_a_cache_that_cannot_be_written_costs_speed_not_the_features(clips, tmp_path, caplog):
    """A review (stop 42): a full $EMOVOX_CACHE failed every file ("No space left on device", blamed on the
    audio) and an empty table was written. Here the cache's folder cannot be made (a file is in the way)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ex = _extractors()["handcrafted"]
    with caplog.at_level("WARNING", logger="emovox"):
        res = ex.process_files(clips[:3], n_jobs=1, cache_dir=blocker / "cache", progress=False)
    assert res.mask.all() and not res.failures and res.features.shape[0] == 3
    np.testing.assert_array_equal(res.features[0], ex.process_file(clips[0]))
    said = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(said) == 1 and "features are computed, not cached" in said[0], said
    # the cache folder is there, but its entries cannot be written (as on a full disk)
    ex.process_files(clips[:1], n_jobs=1, cache_dir=tmp_path / "ok", progress=False)
    (entries,) = [p.name for p in (tmp_path / "ok").iterdir()]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / entries).write_text("x")  # where the entries' folder would go
    caplog.clear()
    with caplog.at_level("WARNING", logger="emovox"):  # two workers: one line, through this process
        res = ex.process_files(clips[:4], n_jobs=2, cache_dir=tmp_path / "full", progress=False)
    assert res.mask.all() and not res.failures
    assert sum("cannot be written" in r.getMessage() for r in caplog.records) == 1


def test_a_cached_run_starts_no_worker(clips, tmp_path, monkeypatch):
    import emovox.extractors.runner as extraction

    ex = _extractors()["handcrafted"]
    first = ex.process_files(clips[:2], n_jobs=2, cache_dir=tmp_path, progress=False)

    def no_pool(*a, **k):
        raise AssertionError("a worker pool started for files that were all cached")

    monkeypatch.setattr(extraction, "ProcessPoolExecutor", no_pool)
    again = ex.process_files(clips[:2], n_jobs=2, cache_dir=tmp_path, progress=False)
    assert again.n_cached == 2 and again.mask.all()
    np.testing.assert_array_equal(again.features, first.features)
    with pytest.raises(AssertionError, match="worker pool"):  # a file not cached still goes to the workers
        ex.process_files(clips[:3], n_jobs=2, cache_dir=tmp_path, progress=False)


@pytest.mark.parametrize("kind", ["handcrafted", "whisper"])
def test_augmented_views_run_through_the_same_runner_and_cache(kind, clips, tmp_path):
    import shutil

    from emovox.audio import load_audio
    from emovox.encoders.frontend import AugmentedExtractor, augment_signal, content_seed

    ex = _extractors()[kind]
    view = AugmentedExtractor(ex, "noise:10")
    assert isinstance(view, Extractor) and view.n_features == ex.n_features
    again = AugmentedExtractor.from_dict(view.to_dict(), getattr(ex, "model_dir", None))
    assert again.fingerprint == view.fingerprint
    assert len({view.fingerprint, ex.fingerprint, AugmentedExtractor(ex, "speed:1.1").fingerprint}) == 3
    copy = tmp_path / "copy.wav"
    shutil.copy(clips[1], copy)
    files = [clips[0], clips[1], str(copy)]
    res = view.process_files(files, n_jobs=2, cache_dir=tmp_path / "cache", progress=False)
    assert res.mask.all() and res.n_cached <= 1  # the copy may find its original's entry
    np.testing.assert_array_equal(res.features[1], res.features[2])  # seeded by content, not by path
    for row, path in zip(res.features, files, strict=True):  # workers rebuilt the view from to_dict()
        y = augment_signal(load_audio(path, 16000), "noise:10", content_seed(path))
        np.testing.assert_allclose(row, ex.process_signal(y, 16000), rtol=1e-5, atol=1e-6)
        assert not np.allclose(row, ex.process_file(path))
    assert len(list((tmp_path / "cache").glob(f"{view.fingerprint}-v*/*.npy"))) == 2
    cached = view.process_files(files, n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert cached.n_cached == len(files)
    np.testing.assert_array_equal(cached.features, res.features)
    with pytest.raises(ModelError, match="unknown augmentation"):
        AugmentedExtractor(ex, "reverb:1")


def test_fingerprint_follows_what_changes_the_numbers():
    import json

    meta = json.loads((DEFAULT / "metadata.json").read_text())
    spec = meta["frontend"]
    base = WhisperExtractor(spec, DEFAULT)
    other_layers = WhisperExtractor({**spec, "layers": [1, 2]}, DEFAULT)
    assert other_layers.fingerprint != base.fingerprint
    assert WhisperExtractor(dict(spec), DEFAULT).fingerprint == base.fingerprint
    n_stats = len(spec.get("statistics", ["mean", "std"]))
    assert len(base.feature_names) == base.n_features == n_stats * len(spec["layers"]) * base.encoder.d_model
    assert WhisperExtractor({**spec, "statistics": ["mean", "std"]}, DEFAULT).n_features == 2 * 4 * 512
    assert WhisperExtractor({**spec, "statistics": ["mean", "std"]}, DEFAULT).fingerprint != base.fingerprint
    # the encoder window: part of the fingerprint; absent (front ends saved before it) means 30 s
    legacy = {k: v for k, v in spec.items() if k != "window_s"}
    assert spec["window_s"] == 5.0 and base.window == 500 and WhisperExtractor(legacy, DEFAULT).window == 3000
    assert len({base.fingerprint, WhisperExtractor(legacy, DEFAULT).fingerprint}) == 2
    from emovox.encoders.frontend import whisper_spec

    assert "window_s" not in whisper_spec("x.onnx", window_s=30) and whisper_spec("x.onnx")["window_s"] == 5.0
    with pytest.raises(ModelError, match="window_s must be within 1-30 seconds, got 0.5"):
        whisper_spec("x.onnx", window_s=0.5)


def test_from_dict_and_from_name_refuse_clearly(tmp_path):
    with pytest.raises(ModelError, match="unknown front end 'mystery'"):
        from_dict({"type": "mystery"}, tmp_path)
    spec = FeatureExtractor("tutorial").to_dict()
    with pytest.raises(ModelError, match="does not match its fingerprint"):
        from_dict({**spec, "fingerprint": "0" * 16}, tmp_path)
    with pytest.raises(ModelError, match="model directory or an 'onnx_path'"):
        from_dict({"type": "whisper", "layers": [1]})
    # the training views rebuild through the one entry point too (was "made by a newer emovox?")
    from emovox.augment import WaveAugment
    from emovox.deep.frames import AugmentedFrames
    from emovox.encoders.frontend import AugmentedExtractor

    for view in (
        AugmentedExtractor(FeatureExtractor("tutorial"), "noise:10"),
        AugmentedFrames(FrameConfig(features="mfcc", pool="mean"), WaveAugment(), copy=1),
    ):
        again = from_dict(view.to_dict())
        assert type(again) is type(view) and again.fingerprint == view.fingerprint
    # one type for the augmentation of frames, said at once (was accepted, then an AttributeError)
    with pytest.raises(ParameterError, match="expected an emovox.augment.WaveAugment.*'noise:10'"):
        AugmentedFrames(FrameConfig(features="mfcc", pool="mean"), "noise:10", copy=0)
    ex = FeatureExtractor("emovox")
    assert from_name(ex) is ex and isinstance(from_name("tutorial"), FeatureExtractor)
    assert isinstance(from_name(spec), FeatureExtractor)


def test_batch_features_take_any_extractor(clips, tmp_path):
    pytest.importorskip("distributed")
    from emovox import batch

    spec = {
        "type": "whisper",
        "onnx_path": str(DEFAULT / "encoder.onnx"),
        "layers": [2, 3],
        "pooling": "active",
    }
    ex = WhisperExtractor(spec)
    s = batch.features(clips, spec, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (s.n_ok, s.n_failed) == (len(clips), 0)
    df = batch.read_results(tmp_path / "out").set_index("path")
    assert list(df.columns) == ["key", "error", *ex.feature_names]
    for p in clips:
        row = df.loc[os.path.abspath(p), ex.feature_names].to_numpy(np.float32)
        np.testing.assert_allclose(row, ex.process_file(p), rtol=1e-5, atol=1e-5)
    assert Path(tmp_path / "out").is_dir()


def test_frame_fingerprint_covers_what_changes_the_output(clips, tmp_path):
    a = FrameExtractor.from_config(FrameConfig(norm="utterance", max_frames=50))
    b = FrameExtractor.from_config(FrameConfig(norm="none", max_frames=80))
    assert a.fingerprint != b.fingerprint
    ra = a.process_files(clips[:1], cache_dir=tmp_path, progress=False)
    rb = b.process_files(clips[:1], cache_dir=tmp_path, progress=False)
    assert rb.n_cached == 0 and ra.features.shape[2] == 50 and rb.features.shape[-2] == 80


def test_files_of_different_lengths_give_one_array_each(clips):
    ex = FrameExtractor.from_config(FrameConfig(norm="utterance", max_frames=None))
    res = ex.process_files(clips, progress=False)
    assert res.features.dtype == object and len(res.features) == len(clips)
    assert len({x.shape for x in res.features}) > 1  # 1.5, 2.0, 1.0 and 2.5 s
    np.testing.assert_array_equal(res.features[0], ex.process_file(clips[0]))


def test_batch_features_of_a_model_directory_front_end(clips, tmp_path):
    pytest.importorskip("distributed")
    from emovox import batch
    from emovox.errors import EmovoxError
    from emovox.inference import load_model

    ex = load_model().frontend  # its encoder is named relative to the model directory
    s = batch.features(clips[:2], ex, engine="local", output_dir=tmp_path / "out", progress=False)
    assert (s.n_ok, s.n_failed) == (2, 0)
    frames = FrameExtractor.from_config(FrameConfig(norm="utterance"))
    with pytest.raises(EmovoxError, match="no feature vector with named columns"):
        batch.features(clips[:1], frames, engine="local", output_dir=tmp_path / "f", progress=False)


def test_parallel_features_from_a_script_without_a_main_guard(tmp_path):
    """Feature workers came from a fork server where the process ran other threads; a script run as a file,
    without `if __name__ == "__main__":`, was then run again in each worker, and every file failed ("an
    attempt has been made to start a new process before the ... bootstrapping phase"). Such a script's
    workers are forked, as before."""
    import subprocess
    import sys

    import soundfile as sf

    for i in range(4):
        t = np.arange(8000) / 16000
        sf.write(
            tmp_path / f"t{i}.wav", (0.3 * np.sin(2 * np.pi * (200 + 100 * i) * t)).astype("float32"), 16000
        )
    script = tmp_path / "noguard.py"
    script.write_text(
        "import threading, time\n"
        "import pandas as pd\n"
        "from emovox.training import handcrafted_features\n"
        "threading.Thread(target=time.sleep, args=(5,), daemon=True).start()  # as a progress bar's\n"
        f"paths = [r'{tmp_path}/t{{i}}.wav'.format(i=i) for i in range(4)]\n"
        "df = pd.DataFrame({'path': paths, 'emotion': ['a', 'b'] * 2, 'speaker': ['s'] * 4})\n"
        f"t = handcrafted_features(df, 'tutorial', n_jobs=2, progress=False, cache_dir=r'{tmp_path}/c')\n"
        "print('rows', len(t.X), 'failed', len(t.failures))\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "rows 4 failed 0", proc.stdout + proc.stderr


def test_an_empty_signal_is_refused_by_every_extractor(clips, tmp_path):
    """The frame extractors made an all-zero input of an empty signal, where the others refuse it; and a
    missing file's error read differently with a cache ("cannot read (No such file or directory)")."""
    from emovox.augment import WaveAugment
    from emovox.deep.frames import AugmentedFrames
    from emovox.encoders.frontend import AugmentedExtractor

    empty = np.zeros(0, np.float32)
    frames = FrameConfig(features="logmel", norm="utterance")
    for ex in (
        FeatureExtractor("tutorial"),
        FrameExtractor.from_config(frames),
        FrameExtractor.from_config(FrameConfig(features="mfcc", pool="mean", norm="none")),
        AugmentedFrames(frames, WaveAugment(), copy=0),
        AugmentedExtractor(FeatureExtractor("tutorial"), "noise:10"),
    ):
        with pytest.raises(FeatureError, match="empty signal"):
            ex.process_signal(empty, 16000)
    ex = FeatureExtractor("tutorial")
    missing = str(tmp_path / "nope.wav")
    plain = ex.process_files([missing, clips[0]], progress=False)
    cached = ex.process_files([missing, clips[0]], cache_dir=tmp_path / "cache", progress=False)
    # global normalisation without the statistics: said once, at construction (was every file's error)
    with pytest.raises(ParameterError, match="norm='global' needs the training set's mean and std"):
        FrameExtractor.from_config(FrameConfig())
    assert plain.failures == cached.failures == [(missing, f"{missing}: no such file")]
