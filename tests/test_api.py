"""The Python API as a developer meets it: every way of giving it audio means the same thing, and every
bad argument is one clear emovox error (found by trying the API the way the README shows it)."""

from __future__ import annotations

import numpy as np
import pytest

import emovox
from emovox.errors import AudioError, ParameterError

from .conftest import EMODB, need

SR = 16000


@pytest.fixture(scope="module")
def model():
    return emovox.load_model()


@pytest.fixture(scope="module")
def angry() -> tuple[str, np.ndarray]:
    path = str(need(EMODB / "wav" / "03a01Wa.flac"))
    return path, emovox.load_audio(path)


def test_one_recording_however_it_is_given(model, angry):
    """A path, its samples (float, int16, stereo either way round, at another rate) and its bytes are one
    recording: the same answer, and predict_proba is always 2-D."""
    path, y = angry
    (ref,) = model.predict_proba(path)
    assert model.predict(path) == "angry"
    pcm = (y * 32767).astype(np.int16)
    stereo = np.stack([y, y])  # (channels, n)
    import soxr

    y44 = soxr.resample(y, SR, 44100)
    for given, sr in ((y, SR), (pcm, SR), (stereo, SR), (stereo.T, SR), (y44, 44100)):
        p = model.predict_proba(given, sr=sr)
        assert p.shape == (1, len(model.labels))
        np.testing.assert_allclose(p[0], ref, atol=0.02)
        assert model.predict(given, sr=sr) == "angry"
    for given, sr in ((pcm, SR), (stereo, SR), (y44, 44100)):
        pred = model.predict_signal(given, "clip", sr=sr)
        assert pred.label == pred.emotion == "angry" and abs(pred.confidence - ref.max()) < 0.02
    # embed scales integers too (proba_session's input)
    np.testing.assert_allclose(model.proba_from_embeddings(model.embed(pcm))[0], ref, atol=0.02)
    # a list of recordings is a batch
    assert model.predict_proba([y, pcm], sr=SR).shape == (2, len(model.labels))


def test_predict_files_takes_one_path_and_names_bytes(model, angry):
    path, _ = angry
    (one,) = list(model.predict_files(path))  # one path, not its characters
    assert one.ok and one.label == "angry" and one.source == path
    data = open(path, "rb").read()
    assert model.predict_proba(memoryview(data)).shape == (1, len(model.labels))
    (pred,) = list(model.predict_files([data]))
    assert pred.source == "<bytes>" and pred.label == "angry"
    assert model.predict_stream(data).source == "<bytes>"


def test_predict_files_expands_a_folder_as_the_cli_does(model, angry, tmp_path):
    """A folder is its audio files; what it holds that cannot be read is one error each, in order."""
    import shutil

    path, _ = angry
    shutil.copy(path, tmp_path / "a.flac")
    (tmp_path / "b.wav").write_bytes(b"junk")
    (tmp_path / "empty").mkdir()
    preds = list(model.predict_files([tmp_path, tmp_path / "empty"]))
    assert [p.source for p in preds] == [str(tmp_path / n) for n in ("a.flac", "b.wav", "empty")]
    assert preds[0].label == "angry" and not preds[1].ok
    assert preds[2].error.endswith("empty: directory holds no audio files")
    (shared,) = [p for p in model.predict_files(tmp_path, same_channel=True) if p.ok]
    assert shared.source == str(tmp_path / "a.flac")


def test_emotions_per_call_take_what_load_model_takes(model, angry):
    _, y = angry
    assert list(model.predict_signal(y, emotions="angry,sad", sr=SR).probabilities) == ["angry", "sad"]
    assert list(model.predict_signal(y, emotions=["anger", "sadness"], sr=SR).probabilities) == [
        "angry",
        "sad",
    ]
    assert len(model.predict_signal(y, emotions="four", sr=SR).probabilities) == 4
    with pytest.raises(ParameterError, match="at least two"):
        model.predict_signal(y, emotions="angry", sr=SR)
    with pytest.raises(ParameterError, match=r"at least two different .* \(angry named twice\)"):
        model.predict_signal(y, emotions="angry,anger", sr=SR)


@pytest.mark.parametrize("sr", [True, 1, 10, "16000", 16000.5, 10**7])
def test_bad_sample_rates_are_refused_before_any_work(model, angry, sr):
    """1 Hz read as 16 kHz was a 16000-fold resampling (out of memory at 23 GB)."""
    _, y = angry
    with pytest.raises(AudioError, match="sr must be"):
        model.predict_proba(y, sr=sr)
    with pytest.raises(AudioError, match="sr must be|sample rate must be"):
        model.predict_signal(y, "clip", sr=sr)


def test_bad_arguments_are_emovox_errors_naming_the_input(model, angry, tmp_path):
    _, y = angry
    with pytest.raises(AudioError, match="clip.wav: zero samples"):
        model.predict_signal(np.zeros(0, np.float32), "clip.wav", sr=SR)
    with pytest.raises(AudioError, match=r"clip.wav: too short \(0.050 s"):
        model.predict_signal(y[:800], "clip.wav", sr=SR)
    with pytest.raises(ParameterError, match="features per recording, got 10"):
        model.proba_from_embeddings(model.embed(y)[:10])
    with pytest.raises(ParameterError, match="model: expected a model directory"):
        emovox.load_model(5)
    with pytest.raises(ParameterError, match="check_speech: expected True or False"):
        emovox.load_model(check_speech="no")
    with pytest.raises(ParameterError, match="a list of numbers is not a list of recordings"):
        model.predict_proba(list(y[:16000]), sr=SR)
    with pytest.raises(ParameterError, match="predict_files takes paths or bytes"):
        list(model.predict_files(y))
    with pytest.raises(AudioError, match="clip: sr must be 4000-768000 Hz, got 0"):  # named as passed
        model.predict_signal(y, "clip", sr=0)  # not read as "the model's rate"
    with pytest.raises(
        ParameterError, match=r"clip: pass sr= \(the sample rate of the samples, e.g. sr=16000\)"
    ):
        model.predict_signal(y, "clip")  # a 44.1 kHz array would otherwise be heard at 16 kHz
    with pytest.raises(
        ParameterError, match=r"source is the input's name, got 16000; pass the rate as sr=16000"
    ):
        model.predict_signal(y, 16000)  # the rate where the name goes (it was taken for the name)
    assert emovox.ParameterError is ParameterError
    with pytest.raises(ParameterError, match=r"<array>: pass sr="):  # as predict_signal: a call to mend
        model.predict_proba(y)
    with pytest.raises(AudioError, match="a folder, not an audio file; predict_files"):
        model.predict(str(tmp_path))
    with pytest.raises(ParameterError, match="chunk_seconds must be > 0"):
        next(emovox.audio.stream_audio(str(EMODB / "wav" / "03a01Wa.flac"), chunk_seconds=0))


def test_a_segment_without_speech_says_why(model, angry):
    from emovox.live import timeline

    _, y = angry
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(3 * SR) / SR).astype(np.float32)
    segments = timeline(np.concatenate([tone, np.zeros(SR, np.float32), y]), model, sr=SR)
    quiet = [s for s in segments if not s.speech]
    assert quiet and all(s.reason and s.to_dict()["reason"] == s.reason for s in quiet)
    assert any(s.speech and s.reason is None and s.to_dict()["emotion"] == "angry" for s in segments)


def test_every_function_over_files_takes_what_predict_takes(model, tmp_path):
    """A manifest DataFrame went to predict_files as its column names, one path to process_files and
    file_timelines as its characters, and a manifest CSV or folder was read as audio (a Python user's
    walkthrough, stop 38); each is now read as `emovox predict` reads it."""
    import pandas as pd

    from emovox.extractors import from_name
    from emovox.live import file_timelines

    wav = need(EMODB) / "wav"
    names = ["03a01Fa.flac", "03a01Nc.flac", "03a01Wa.flac"]
    df = pd.DataFrame({"path": [str(wav / n) for n in names], "emotion": ["happy", "neutral", "angry"]})
    expected = model.predict(list(df["path"]))
    assert [p.label for p in model.predict_files(df)] == expected
    df.to_csv(tmp_path / "m.csv", index=False)
    got = list(model.predict_files([str(tmp_path / "m.csv")]))
    assert [p.label for p in got] == expected and all(p.ok for p in got)
    one = from_name("tutorial").process_files(df["path"][0], progress=False)
    assert one.features.shape[0] == 1 and not one.failures
    timelines = list(file_timelines(df["path"][0], model))
    assert len(timelines) == 1 and timelines[0].error is None and timelines[0].segments
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / names[2]).write_bytes((wav / names[2]).read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    timelines = list(file_timelines([str(folder), str(empty)], model))
    assert [t.source for t in timelines] == [str(folder / names[2]), str(empty)]  # in the order given
    assert timelines[0].segments[0].emotion == "angry" and "no audio" in timelines[1].error


def test_session_kinds_and_batch_options_are_parameter_errors(model, tmp_path):
    """Both kinds of session at once were adapted as a speaker's by predict_files and file_timelines, and a
    plain EmovoxError from batch.predict; a loaded model was a TypeError there."""
    from emovox import batch
    from emovox.live import file_timelines

    f = str(need(EMODB) / "wav" / "03a01Wa.flac")
    with pytest.raises(ParameterError, match="choose one kind of session"):
        list(model.predict_files([f], same_speaker=True, same_channel=True))
    with pytest.raises(ParameterError, match="choose one kind of session"):
        list(file_timelines([f], model, same_speaker=True, same_channel=True))
    with pytest.raises(ParameterError, match="choose one kind of session"):
        batch.predict([f], same_speaker=True, same_channel=True, output_dir=tmp_path / "a")
    with pytest.raises(ParameterError, match="unknown engine 'bogus'"):
        batch.predict([f], engine="bogus", output_dir=tmp_path / "b")
    narrowed = emovox.load_model(emotions="angry,sad")
    s = batch.predict([f], narrowed, engine="local", output_dir=tmp_path / "c", progress=False)
    rows = batch.read_results(tmp_path / "c")
    assert s.n_ok == 1 and sorted(c for c in rows.columns if c.startswith("prob_")) == [
        "prob_angry",
        "prob_left_out",  # what the model gives the emotions left out
        "prob_sad",
    ]
    assert rows["label"].tolist() == ["angry"]
