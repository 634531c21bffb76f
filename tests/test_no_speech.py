"""Audio without speech gets no emotion, in every front door: CLI, REST API, batch; real speech still does."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovox.cli import main
from emovox.inference import load_model

from . import signals
from .conftest import RAVDESS, need

MODEL = "classical"  # the bundled hand-crafted model: loads and predicts in well under a second
KINDS = {
    "silence": lambda: signals.silence(2.0),
    "white_noise": lambda: signals.white_noise(2.0, level_db=-20, seed=1),
    "hum": lambda: signals.hum(2.0, freq=50.0, seed=2),
    "tone": lambda: signals.tone(440.0, 2.0),
    "clicks": lambda: signals.clicks(4.0, 2.0, seed=3),
}


def _speech_file() -> str:
    return str(need(RAVDESS / "Actor_01" / "03-01-05-02-01-01-01.flac"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("nonspeech")
    for name, make in KINDS.items():
        sf.write(d / f"{name}.wav", make(), signals.SR)
    return d


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


def test_cli_json(folder, capsys):
    assert main(["predict", str(folder), "--model", MODEL, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert sorted(r["source"].rsplit("/", 1)[-1] for r in results) == sorted(f"{k}.wav" for k in KINDS)
    for r in results:
        assert r["speech"] is False and r["emotion"] is None and r["reason"], r
        # the keys of an answer, as /v1/predict gives them (the CLI left these three out before stop 42)
        assert r["confidence"] is None and r["uncertain"] is False and r["probabilities"] == {}, r
        assert "error" not in r


def test_cli_plain_and_real_speech_in_one_call(folder, capsys):
    speech = _speech_file()
    assert main(["predict", str(folder), speech, "--model", MODEL]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(KINDS) + 1
    by_source = {ln.split("\t")[0]: ln.split("\t") for ln in lines}
    for name in KINDS:
        fields = by_source[str(folder / f"{name}.wav")]
        assert fields[1] == "no speech", fields
    fields = by_source[speech]
    assert fields[1].split(" ")[0] in load_model(MODEL).labels and float(fields[2]) > 0

    assert main(["predict", str(folder), speech, "--model", MODEL, "--json"]) == 0
    results = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    assert results[speech]["speech"] is True and results[speech]["emotion"] in load_model(MODEL).labels
    assert sum(r["speech"] for r in results.values()) == 1


def test_python_api(folder, model, tmp_path):
    speech = _speech_file()
    assert model.predict(str(folder / "tone.wav")) is None
    preds = list(model.predict_files([*(str(folder / f"{k}.wav") for k in KINDS), speech]))
    assert [p.speech for p in preds] == [False] * len(KINDS) + [True]
    assert all(p.ok and p.label is None and p.describe().startswith("no speech") for p in preds[:-1])
    assert preds[-1].label in model.labels
    # the check can be switched off: then a tone gets an emotion
    assert load_model(MODEL, check_speech=False).predict(str(folder / "tone.wav")) in model.labels
    # a file that could not be read is neither speech nor silence
    (tmp_path / "text.wav").write_text("not audio")
    (bad,) = model.predict_files([str(tmp_path / "text.wav")])
    assert not bad.ok and bad.speech is None and bad.label is None


def test_api(folder, model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import create_app

    with TestClient(create_app(model)) as client:
        for name in KINDS:
            r = client.post(
                "/v1/predict",
                content=(folder / f"{name}.wav").read_bytes(),
                headers={"content-type": "audio/wav"},
            )
            assert r.status_code == 200, r.text
            res = r.json()
            assert res["speech"] is False and res["emotion"] is None and res["confidence"] is None, res
            assert res["probabilities"] == {} and res["reason"]
            assert res["timeline"] is None  # a short clip: no timeline unless asked
            r = client.post(
                "/v1/predict?timeline=1",
                content=(folder / f"{name}.wav").read_bytes(),
                headers={"content-type": "audio/wav"},
            )
            rows = r.json()["timeline"]  # asked for: one that says there is no speech (it was null)
            assert rows and all(row["speech"] is False and row["emotion"] is None for row in rows), rows
            assert rows[0]["start"] == 0.0 and rows[-1]["end"] == pytest.approx(
                r.json()["duration"], abs=0.05
            )
        with open(_speech_file(), "rb") as fh:
            r = client.post("/v1/predict", files={"file": ("speech.flac", fh, "audio/flac")})
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["speech"] is True and res["emotion"] in model.labels
        assert sum(res["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


def test_batch_rows(folder, tmp_path):
    from emovox import batch

    inputs = tmp_path / "in"
    shutil.copytree(folder, inputs)
    speech = _speech_file()
    s = batch.predict(
        [str(inputs), speech], model=MODEL, engine="local", output_dir=tmp_path / "out", progress=False
    )
    assert s.n_failed == 0 and s.n_ok == len(KINDS) + 1
    df = batch.read_results(tmp_path / "out").set_index("path")
    assert df["error"].isna().all()
    for name in KINDS:
        row = df.loc[str(inputs / f"{name}.wav")]
        assert row["speech"] == False and pd.isna(row["label"]) and isinstance(row["reason"], str), row  # noqa: E712
        assert np.isnan(row["confidence"])
    row = df.loc[speech]
    assert row["speech"] == True and row["label"] in load_model(MODEL).labels  # noqa: E712


def test_stretches_without_speech_are_one_timeline_row(model):
    """25 s of noise between two sentences was three overlapping "no speech" rows (the voice detector's 10 s
    windows), and ten noise bursts ten rows."""
    from emovox.audio.synthetic import white_noise
    from emovox.live import iter_timeline
    from emovox.segments import merged_no_speech
    from emovox.vad import Segment

    def rows(segments):
        return [(s.start, s.end, s.speech) for s in merged_no_speech(segments)]

    no = dict(speech=False, reason="noise")
    assert rows(
        [Segment(0, 2), Segment(2.6, 12.6, **no), Segment(11.6, 21.6, **no), Segment(20.6, 28.1, **no)]
        + [Segment(28.6, 31)]
    ) == [(0, 2, True), (2.6, 28.1, False), (28.6, 31, True)]
    assert rows([Segment(0, 1, **no), Segment(1.5, 2, **no), Segment(3.1, 4, **no)]) == [
        (0, 2, False),
        (3.1, 4, False),  # more than NO_SPEECH_GAP apart: two stretches
    ]
    assert rows([Segment(0, 1, **no), Segment(1.2, 2), Segment(2.5, 3, **no)]) == [
        (0, 1, False),
        (1.2, 2, True),
        (2.5, 3, False),
    ]

    def stopped():  # Ctrl-C while a stretch without speech is held back: it is still given
        yield Segment(0, 1, **no)
        raise KeyboardInterrupt

    given = []
    with pytest.raises(KeyboardInterrupt):
        given.extend(merged_no_speech(stopped()))
    assert [(s.start, s.end, s.speech) for s in given] == [(0, 1, False)]
    need(RAVDESS)
    y = sf.read(sorted(RAVDESS.glob("Actor_01/03-01-05-01-01-01-01.*"))[0], dtype="float32")[0]
    burst, gap = white_noise(0.3, -20.0), np.zeros(int(0.35 * 16000), np.float32)
    signal = np.concatenate([y, *[np.concatenate([burst, gap]) for _ in range(10)], y])
    segments = list(iter_timeline(signal, model, sr=16000))
    without = [s for s in segments if not s.speech]
    assert len(without) == 1 and [s.speech for s in segments] == [True, False, True], segments


@pytest.mark.parametrize("peak_db", [-60, -240, -800])
def test_speech_scaled_into_silence_has_no_emotion_on_a_timeline_either(peak_db, tmp_path, capsys):
    """Speech whose loud-frame level is under the speech check's -65 dBFS (a peak of -60 dBFS, -240, or a
    float WAV at 1e-40, under float32's normal range): the whole file was silence, but ``--timeline`` brought
    it up by up to 45 dB, or without limit, and gave its segments emotions (at 1e-40 the gain overflowed and
    the error named no file)."""
    y, sr = sf.read(_speech_file(), dtype="float32")
    y = np.concatenate([y, np.zeros(sr, np.float32), y, np.zeros(sr, np.float32), y])
    path = tmp_path / "faint.wav"
    sf.write(path, (y / np.abs(y).max() * 10 ** (peak_db / 20)).astype(np.float32), sr, subtype="FLOAT")
    model = load_model()
    assert model.predict(str(path)) is None
    assert main(["predict", str(path), "--timeline", "--json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["segments"] and not any(s["speech"] for s in res["segments"]), res
    assert "silence" in res["segments"][0]["reason"]
