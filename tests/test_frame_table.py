"""Deep-model training frames (``deep.frames.frame_table``) and their augmented copies go through the one
runner and cache of every front end (``emovox.extractors.runner.process_files``); no torch needed."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovox.audio import load_audio
from emovox.augment import WaveAugment
from emovox.deep import frames
from emovox.deep.frames import AugmentedFrames, FrameConfig, FrameExtractor, frame_table, raw_features
from emovox.extractors.runner import EXTRACTOR_VERSION, file_hash

from .conftest import tone

# every augmentation always applied, so each copy differs from the clean frames
AUGMENT = WaveAugment(p_noise=1.0, p_shift=1.0, p_speed=1.0, p_pitch=0.0)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("frames")
    paths = []
    for i, (f0, sec) in enumerate([(180.0, 1.0), (260.0, 1.4), (330.0, 0.8)]):
        p = root / f"t{i}.wav"
        y = tone(f0, sec) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * np.arange(int(sec * 16000)) / 16000))
        sf.write(p, y.astype(np.float32), 16000)
        paths.append(str(p))
    paths.insert(1, str(root / "missing.wav"))
    return pd.DataFrame({"path": paths, "emotion": ["a", "b", "a", "b"]})


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype == np.float32
        np.testing.assert_array_equal(x, y)


def test_frames_are_cached_by_the_runner_and_failures_listed(manifest, tmp_path, monkeypatch):
    cfg = FrameConfig(norm="global", max_frames=50)  # normalisation is applied later, never cached
    t = frame_table(manifest, cfg, cache_dir=tmp_path, copies=1, augment=AUGMENT, progress=False)
    assert t.config is cfg
    assert list(t.manifest["path"]) == [p for i, p in enumerate(manifest["path"]) if i != 1]
    assert [p for p, _ in t.failures] == [manifest["path"][1]] and "missing.wav" in t.failures[0][1]
    assert [x.shape[1] for x in t.X] == [64] * 3 and len({x.shape[0] for x in t.X}) == 3
    for path, x in zip(t.manifest["path"], t.X, strict=True):
        np.testing.assert_array_equal(x, raw_features(load_audio(path, 16000), cfg))
    # the runner's cache layout, one folder per extractor (clean frames, copy 0)
    clean = FrameExtractor.from_config(frames.raw_config(cfg))
    view = AugmentedFrames(cfg, AUGMENT, 0)
    for ex in (clean, view):
        folder = tmp_path / f"{ex.fingerprint}-v{EXTRACTOR_VERSION}"
        assert sorted(f.stem for f in folder.glob("*.npy")) == sorted(
            file_hash(p) for p in t.manifest["path"]
        )
    assert not (tmp_path / "frames").exists()

    def boom(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(frames, "raw_features", boom)
    again = frame_table(manifest, cfg, cache_dir=tmp_path, copies=1, augment=AUGMENT, progress=False)
    _same(again.X, t.X)
    _same([c[0] for c in again.copies], [c[0] for c in t.copies])
    assert again.failures == t.failures and again.manifest.equals(t.manifest)
    # another normalisation or frame count shares the entries
    other = frame_table(manifest, FrameConfig(norm="utterance"), cache_dir=tmp_path, progress=False)
    _same(other.X, t.X)


def test_augmented_copies_are_seeded_from_the_content_and_cached(manifest, tmp_path):
    cfg = FrameConfig(features="mfcc", n_mfcc=20)
    t = frame_table(manifest, cfg, cache_dir=tmp_path, copies=2, augment=AUGMENT, seed=5, progress=False)
    assert len(t.copies) == len(t.X) == 3 and all(len(c) == 2 for c in t.copies)
    for path, x, versions in zip(t.manifest["path"], t.X, t.copies, strict=True):
        key = file_hash(path)
        for k, got in enumerate(versions):
            # the seed derivation of the former private cache: deep benchmark figures reproduce
            s = int.from_bytes(hashlib.sha1(f"{key}|{k}|5".encode()).digest()[:4], "little")
            want = raw_features(AUGMENT(load_audio(path, 16000), 16000, np.random.default_rng(s))[0], cfg)
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, want)
            assert got.shape != x.shape or not np.array_equal(got, x)
        assert not np.array_equal(versions[0], versions[1])
    # each copy has its own cache entries, another seed or augmentation others again
    fps = {AugmentedFrames(cfg, AUGMENT, k, seed).fingerprint for k in (0, 1) for seed in (0, 5)}
    fps.add(AugmentedFrames(cfg, WaveAugment(), 0, 5).fingerprint)
    assert len(fps) == 5
    for k in (0, 1):
        folder = tmp_path / f"{AugmentedFrames(cfg, AUGMENT, k, 5).fingerprint}-v{EXTRACTOR_VERSION}"
        assert len(list(folder.glob("*.npy"))) == 3
    view = AugmentedFrames(cfg, AUGMENT, 1, 5)
    again = AugmentedFrames.from_dict(view.to_dict())
    assert again.fingerprint == view.fingerprint and again.augment == AUGMENT
    with pytest.raises(ValueError, match="augment"):
        frame_table(manifest, cfg, cache_dir=tmp_path, copies=1, progress=False)


def test_parallel_workers_give_the_same_frames(manifest, tmp_path):
    cfg = FrameConfig(trim_db=None)
    kw = {"copies": 1, "augment": AUGMENT, "seed": 1, "progress": False}
    one = frame_table(manifest, cfg, cache_dir=tmp_path / "a", n_jobs=1, **kw)
    two = frame_table(manifest, cfg, cache_dir=tmp_path / "b", n_jobs=2, **kw)
    _same(two.X, one.X)
    _same([c[0] for c in two.copies], [c[0] for c in one.copies])
    assert two.failures == one.failures and two.manifest.equals(one.manifest)
    uncached = frame_table(manifest, cfg, cache_dir="", n_jobs=2, **kw)
    _same(uncached.X, one.X)
