"""Tests of emovox.features on synthetic signals with known answers, plus librosa agreement on real audio."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from emovox.errors import AudioError, FeatureError
from emovox.features import (
    EXTRACTOR_VERSION,
    FeatureConfig,
    FeatureExtractor,
    check_compatible,
    preset,
    spectral,
    yin,
)
from emovox.features import extract as extract_mod
from emovox.features.stats import delta, functionals

SR = 16000


def shared_dir() -> Path:
    env = os.environ.get("EMOVOX_SHARED")
    return Path(env) if env else (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()


def tone(f: float, seconds: float = 1.0, amp: float = 0.5, sr: int = SR) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * f * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def write_wav(path: Path, y: np.ndarray, sr: int = SR) -> Path:
    import soundfile as sf

    sf.write(str(path), y, sr, subtype="PCM_16")
    return path


# --- pitch ---------------------------------------------------------------------------------------------


def test_pitch_440_tone_is_440_and_voiced():
    f0, voiced, prob = yin(tone(440.0, 2.0), sr=SR)
    assert voiced.mean() > 0.95
    assert abs(np.nanmedian(f0) - 440.0) / 440.0 < 0.01
    assert prob[voiced].min() > 0.9


@pytest.mark.parametrize("f", [90.0, 150.0, 310.0])
def test_pitch_other_tones(f):
    f0, voiced, _ = yin(tone(f, 1.0), sr=SR)
    assert abs(np.nanmedian(f0) - f) / f < 0.01


def test_silence_unvoiced_and_zero_rms():
    y = np.zeros(SR, dtype=np.float32)
    f0, voiced, prob = yin(y, sr=SR)
    assert not voiced.any() and np.isnan(f0).all() and prob.max() == 0.0
    assert spectral.rms(y).max() == 0.0


def test_noise_mostly_unvoiced():
    _, voiced, _ = yin(noise(1.0), sr=SR)
    assert voiced.mean() < 0.2


# --- spectral ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [500.0, 1000.0, 3000.0])
def test_tone_centroid_at_frequency(f):
    S = spectral.spectrogram(tone(f), n_fft=1024, hop_length=256, power=1.0)
    c = spectral.spectral_centroid(S=S, sr=SR)
    assert abs(np.median(c) - f) < 0.02 * f


def test_tone_chroma_peaks_at_A():
    S = spectral.spectrogram(tone(440.0), n_fft=2048, hop_length=512, power=1.0)
    chroma = spectral.chroma_stft(S=S, sr=SR)
    assert spectral.PITCH_CLASSES[int(np.argmax(chroma.mean(axis=1)))] == "A"


def test_flatness_noise_high_tone_low():
    assert spectral.spectral_flatness(noise(2.0), n_fft=1024, hop_length=256).mean() > 0.5
    assert np.median(spectral.spectral_flatness(tone(1000.0), n_fft=1024, hop_length=256)) < 0.05


def test_zcr_of_tone():
    f = 500.0
    z = spectral.zero_crossing_rate(tone(f, 1.0) + 1e-3, frame_length=1024, hop_length=256, center=False)
    assert abs(np.median(z) - 2 * f / SR) < 0.1 * (2 * f / SR)


def test_mel_peak_in_band_containing_tone():
    f = 1500.0
    n_fft, n_mels = 1024, 64
    M = spectral.melspectrogram(tone(f), sr=SR, n_fft=n_fft, hop_length=256, n_mels=n_mels)
    edges = spectral.mel_frequencies(n_mels + 2, 0.0, SR / 2)
    band = int(np.argmax(M.mean(axis=1)))
    assert edges[band] <= f <= edges[band + 2]  # the triangle of band `band` spans edges[band]..edges[band+2]


def test_mel_filterbank_and_mfcc_match_librosa():
    librosa = pytest.importorskip("librosa")
    fb = spectral.mel_filterbank(SR, 2048, 128)
    assert np.allclose(fb, librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128), atol=1e-7)
    y = noise(1.0)
    ours = spectral.mfcc(y, sr=SR, n_mfcc=20)
    ref = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
    assert np.allclose(ours, ref, atol=5e-3)


def test_spectral_shape_features_match_librosa():
    librosa = pytest.importorskip("librosa")
    y = noise(1.0) + tone(700.0, 1.0, 0.2)
    S = spectral.spectrogram(y, n_fft=1024, hop_length=256, power=1.0)
    kw = dict(sr=SR, n_fft=1024, hop_length=256)
    Sl = np.abs(librosa.stft(y, n_fft=1024, hop_length=256))
    assert np.allclose(
        spectral.spectral_centroid(S=S, sr=SR), librosa.feature.spectral_centroid(S=Sl, **kw)[0], rtol=1e-3
    )
    assert np.allclose(
        spectral.spectral_bandwidth(S=S, sr=SR), librosa.feature.spectral_bandwidth(S=Sl, **kw)[0], rtol=1e-3
    )
    assert np.allclose(spectral.spectral_flatness(S=S), librosa.feature.spectral_flatness(S=Sl)[0], rtol=1e-3)
    assert np.allclose(
        spectral.spectral_contrast(S=S, sr=SR), librosa.feature.spectral_contrast(S=Sl, sr=SR), atol=1e-2
    )
    ch = spectral.chroma_stft(S=S, sr=SR, tuning=0.0)
    assert np.allclose(spectral.tonnetz(ch), librosa.feature.tonnetz(chroma=ch), atol=1e-5)


def test_spectral_still_exports_the_split_modules():
    from emovox.features import chroma, spectrum, temporal

    for mod in (spectrum, chroma, temporal):
        for name in mod.__all__:
            assert getattr(spectral, name) is getattr(mod, name), f"{mod.__name__}.{name}"
    for name in spectral.__all__:
        assert callable(getattr(spectral, name)), name


def test_float64_variants_of_the_framing_window_and_stft():
    y = noise(0.5)
    padded = np.pad(y.astype(np.float64), 200, mode="reflect")
    ref_frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160].T
    frames = spectral.frame(y, frame_length=400, hop_length=160, pad_mode="reflect", dtype=np.float64)
    assert frames.dtype == np.float64 and np.array_equal(frames, ref_frames)
    w = spectral.window_function("hann", 400, np.float64)
    assert w.dtype == np.float64 and not w.flags.writeable
    assert np.abs(w - (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400))).max() < 1e-15
    assert np.array_equal(spectral.window_function("hann", 400), w.astype(np.float32))
    D = spectral.stft(y, n_fft=400, hop_length=160, pad_mode="reflect", dtype=np.float64)
    ref = np.fft.rfft(ref_frames.T * w, axis=-1).T
    assert D.dtype == np.complex128 and np.abs(D - ref).max() < 1e-12
    D32 = spectral.stft(y, n_fft=400, hop_length=160, pad_mode="reflect")
    assert D32.dtype == np.complex64 and np.abs(D32 - D).max() < 1e-5


def test_sparse_mel_filterbank_is_the_dense_one():
    from emovox.features.spectrum import sparse_mel_filterbank

    dense = spectral.mel_filterbank(SR, 400, 80)
    for dtype in (np.float32, np.float64):
        M = sparse_mel_filterbank(SR, 400, 80, dtype=dtype)
        assert M.dtype == dtype and np.array_equal(M.toarray(), dense.astype(dtype))
    P = spectral.spectrogram(noise(0.5), n_fft=400, hop_length=160)
    assert np.allclose(spectral.apply_mel(P, sr=SR, n_mels=80), dense @ P, rtol=1e-5, atol=1e-7)


def test_stats_and_delta():
    X = np.vstack([np.arange(20, dtype=np.float32), np.full(20, np.nan, dtype=np.float32)])
    X[1, 5:10] = 2.0
    v, names = functionals(X, ["a", "b"], statistics=("mean", "std", "min", "max"), percentiles=(50,))
    d = dict(zip(names, v, strict=True))
    assert d["a_mean"] == pytest.approx(9.5) and d["b_mean"] == 2.0 and d["b_std"] == 0.0
    assert d["a_p50"] == pytest.approx(9.5) and d["a_min"] == 0 and d["a_max"] == 19
    assert np.allclose(delta(X[:1], order=1)[0, 5:15], 1.0)
    assert np.allclose(delta(X[:1], order=2)[0, 8:12], 0.0)
    allnan = functionals(np.full((1, 5), np.nan), ["z"], statistics=("mean",))[0]
    assert allnan.tolist() == [0.0]


# --- config --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tutorial", "emovox", "egemaps", "compare"])
def test_config_json_roundtrip_and_fingerprint(name):
    cfg = preset(name)
    back = FeatureConfig.from_json(json.dumps(json.loads(cfg.to_json())))
    assert back == cfg and back.fingerprint() == cfg.fingerprint()
    assert FeatureConfig.from_dict(cfg.to_dict()).fingerprint() == cfg.fingerprint()


def test_fingerprint_stable_and_sensitive():
    a = preset("emovox")
    assert a.fingerprint() == preset("emovox").fingerprint()
    assert a.fingerprint() == a.replace(name="relabelled").fingerprint()
    assert a.fingerprint() == a.replace(fmin=0).fingerprint()  # int vs float is canonicalised
    assert a.fingerprint() != a.replace(n_mfcc=13).fingerprint()
    assert len({preset(n).fingerprint() for n in ("tutorial", "emovox", "egemaps", "compare")}) == 4


def test_trim_silence_keeps_the_tone():
    y = np.concatenate([np.zeros(SR), tone(440.0, 0.5), np.zeros(SR)])
    t = spectral.trim_silence(y, 30.0)
    # the 0.5 s tone plus at most one analysis frame on each side; the 2 s of silence gone
    assert 0.5 * SR <= len(t) <= 0.5 * SR + 2 * 1024
    assert np.abs(t).max() == pytest.approx(0.5, abs=1e-3)
    assert len(spectral.trim_silence(np.zeros(SR, np.float32), 30.0)) == SR  # nothing loud: unchanged


def test_trim_db_option():
    a = preset("emovox")
    b = a.replace(trim_db=30)
    assert b.trim_db == 30.0 and b.fingerprint() != a.fingerprint()
    # configs without the option keep the fingerprint they had before it existed (saved models still load)
    assert (
        "trim_db" in a.to_dict()
        and a.fingerprint()
        == FeatureConfig.from_dict({k: v for k, v in a.to_dict().items() if k != "trim_db"}).fingerprint()
    )
    with pytest.raises(FeatureError, match="trim_db must be positive"):
        a.replace(trim_db=0)
    # silence around an utterance no longer changes its statistics
    ex, ex_trim = FeatureExtractor("tutorial"), FeatureExtractor(preset("tutorial").replace(trim_db=30))
    core = tone(440.0, 0.8) + noise(0.8)
    padded = np.concatenate([np.zeros(SR, np.float32), core, np.zeros(SR, np.float32)])
    names = ex.feature_names
    i = names.index("mfcc_0_mean")
    ref = ex.process_signal(core, SR)[i]
    off_padded = abs(ex.process_signal(padded, SR)[i] - ref)  # 2 s of silence drag the mean energy down
    off_trimmed = abs(ex_trim.process_signal(padded, SR)[i] - ref)  # only the edge frames remain
    assert off_padded > 200 and off_trimmed < 0.1 * off_padded


def test_config_validation():
    with pytest.raises(FeatureError, match="unknown famil"):
        FeatureConfig(families=("mfcc", "nonsense"))
    with pytest.raises(FeatureError, match="unknown field"):
        FeatureConfig.from_dict({"families": ["mfcc"], "bogus": 1})
    with pytest.raises(FeatureError):
        preset("nope")


def test_check_compatible():
    check_compatible(preset("tutorial"), preset("tutorial").to_dict())
    with pytest.raises(FeatureError, match="mismatch.*n_mfcc"):
        check_compatible(preset("tutorial"), preset("tutorial").replace(n_mfcc=20))
    with pytest.raises(FeatureError, match="mismatch"):
        check_compatible("tutorial", "emovox")


# --- extractor -----------------------------------------------------------------------------------------


def test_tutorial_vector_and_names():
    ex = FeatureExtractor("tutorial")
    v = ex.process_signal(tone(440.0), SR)
    assert v.shape == (180,) and v.dtype == np.float32 and len(ex.feature_names) == 180
    assert ex.feature_names[0] == "mfcc_0_mean" and ex.feature_names[40] == "chroma_C_mean"
    assert ex.feature_names[-1] == "mel_127_mean"
    assert int(np.argmax(v[40:52])) == 9  # A


def test_emovox_preset_vector():
    ex = FeatureExtractor("emovox")
    y = tone(220.0, 1.0) + noise(1.0)
    v = ex.process_signal(y, SR)
    assert v.shape == (ex.n_features,) and np.isfinite(v).all()
    names = ex.feature_names
    assert len(set(names)) == len(names)
    f0_mean = v[names.index("f0_semitones_mean")]
    assert abs(f0_mean - 12 * np.log2(220 / 27.5)) < 0.2
    # input at another rate is resampled to the config rate first
    assert ex.process_signal(np.zeros(8000, np.float32), 8000).shape == v.shape


def test_process_signal_rejects_bad_input():
    ex = FeatureExtractor("tutorial")
    with pytest.raises(FeatureError):
        ex.process_signal(np.zeros(0, np.float32), SR)
    with pytest.raises(AudioError, match="non-finite"):  # the samples are bad, as load_audio says
        ex.process_signal(np.array([0.0, np.nan], np.float32), SR)
    # integer PCM is scaled as every reader scales it, not taken as huge floats
    y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)
    np.testing.assert_allclose(
        ex.process_signal((y * 32767).astype(np.int16), SR), ex.process_signal(y, SR), rtol=0.02, atol=0.05
    )
    with pytest.raises(AudioError, match="sample rate must be 4000-768000 Hz"):
        ex.process_signal(y, 1)


def test_one_stft_per_file(monkeypatch):
    calls = []
    real = spectral.stft

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(extract_mod.sp, "stft", counting)
    FeatureExtractor("emovox").process_signal(noise(1.0), SR)
    assert len(calls) == 1


def test_tutorial_matches_librosa_on_ravdess():
    librosa = pytest.importorskip("librosa")
    files = sorted((shared_dir() / "corpora" / "ravdess").glob("Actor_01/*.flac"))
    if not files:
        pytest.skip("shared RAVDESS corpus not available")
    import emovox

    y = emovox.load_audio(files[0], sr=SR)
    mfccs = np.mean(librosa.feature.mfcc(y=y, sr=SR, n_mfcc=40).T, axis=0)
    stft = np.abs(librosa.stft(y))
    chroma = np.mean(librosa.feature.chroma_stft(S=stft, sr=SR).T, axis=0)
    mel = np.mean(librosa.feature.melspectrogram(y=y, sr=SR).T, axis=0)
    ref = np.hstack([mfccs, chroma, mel])
    ours = FeatureExtractor("tutorial").process_signal(y, SR)
    assert np.allclose(ours[:40], ref[:40], atol=2e-3)  # MFCC means (dB-scale units)
    assert np.allclose(ours[40:52], ref[40:52], atol=5e-3)
    assert np.allclose(ours[52:], ref[52:], rtol=1e-4, atol=1e-9)
    assert np.corrcoef(ours, ref)[0, 1] > 0.99999


def test_egemaps_has_88_values():
    pytest.importorskip("opensmile")
    ex = FeatureExtractor("egemaps")
    v = ex.process_signal(tone(200.0, 1.0) + noise(1.0), SR)
    assert v.shape == (88,) and len(ex.feature_names) == 88


# --- corpus scale --------------------------------------------------------------------------------------


@pytest.fixture()
def small_corpus(tmp_path):
    good = [write_wav(tmp_path / f"good{i}.wav", tone(200.0 + 50 * i, 0.5) + noise(0.5, i)) for i in range(3)]
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    return [good[0], bad, good[1], good[2]]


def test_process_files_reports_failure_and_keeps_going(small_corpus):
    ex = FeatureExtractor("tutorial")
    res = ex.process_files(small_corpus, progress=False)
    assert res.features.shape == (3, 180)
    assert res.mask.tolist() == [True, False, True, True]
    assert res.paths == [str(p) for i, p in enumerate(small_corpus) if i != 1]
    assert len(res.failures) == 1
    path, msg = res.failures[0]
    assert path == str(small_corpus[1]) and "corrupt.wav" in msg and "\n" not in msg
    assert np.allclose(res.features[1], ex.process_file(small_corpus[2]))


def test_cache_second_run_computes_nothing(small_corpus, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ex = FeatureExtractor("tutorial")
    first = ex.process_files(small_corpus, cache_dir=cache, progress=False)
    assert first.n_cached == 0
    stored = list(cache.glob(f"*-v{EXTRACTOR_VERSION}/*.npy"))
    assert len(stored) == 3
    for f in stored:
        np.load(f, allow_pickle=False)

    def boom(self, path):
        raise AssertionError("recomputed a cached file")

    monkeypatch.setattr(FeatureExtractor, "process_file", boom)
    second = ex.process_files(small_corpus, cache_dir=cache, progress=False)
    assert second.n_cached == 3
    assert np.array_equal(first.features, second.features)
    assert len(second.failures) == 1  # the corrupt file still fails (it has no cache entry)
    # another configuration does not reuse these entries
    other = FeatureExtractor(preset("tutorial").replace(n_mfcc=20))
    assert other.cache_path(cache, "x").parent != ex.cache_path(cache, "x").parent


def test_process_files_parallel_matches_serial(small_corpus, tmp_path):
    ex = FeatureExtractor("tutorial")
    serial = ex.process_files(small_corpus, progress=False)
    par = ex.process_files(small_corpus, n_jobs=2, chunksize=1, progress=False, cache_dir=tmp_path / "c")
    assert np.array_equal(serial.mask, par.mask)
    assert np.allclose(serial.features, par.features)
    assert [p for p, _ in par.failures] == [str(small_corpus[1])]


def test_an_unknown_feature_set_lists_every_choice_as_text():
    from emovox.errors import FeatureError
    from emovox.features.config import preset

    with pytest.raises(FeatureError) as info:
        preset("bogus")
    assert str(info.value) == (
        "unknown feature set 'bogus'; choose one of tutorial, emovox, egemaps, compare (hand-crafted), or "
        "whisper[:CHECKPOINT] (Whisper encoder)"
    )
