"""emovox.experiments: one evaluate and one train for every kind of model, and bad inputs reported, not fatal."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from emovox.errors import ParameterError
from emovox.experiments import evaluate, model_kind, train
from emovox.inference import load_model


def test_model_kind_routes_every_name():
    assert model_kind("svm") == model_kind("compare-logreg") == model_kind("whisper-robust") == "features"
    assert model_kind("rescnn") == model_kind("cnn1d") == "deep"
    assert model_kind("logreg+rescnn") == "ensemble"


def test_options_a_kind_cannot_honour_are_refused(tone_manifest):
    with pytest.raises(ParameterError, match="--calibrate cannot be used with ensemble"):
        evaluate(tone_manifest, "logreg+svm", "kfold:3", calibrate=True, progress=False)
    with pytest.raises(ParameterError, match="--speaker-adapt cannot be used with deep"):
        evaluate(tone_manifest, "cnn1d", "kfold:3", speaker_adapt=True, progress=False)


def test_evaluate_and_train_report_bad_files_and_keep_going(tone_manifest, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really")
    extra = {"path": str(bad), "emotion": "sad", "speaker": "s0", "corpus": "tones"}
    df = pd.concat([tone_manifest, pd.DataFrame([extra])], ignore_index=True)
    ev, failed = evaluate(
        df, "logreg", "kfold:3", features="tutorial", progress=False, cache_dir=tmp_path / "c"
    )
    assert [p for p, _ in failed] == [str(bad)] and "broken.wav" in failed[0][1]
    assert ev.speaker_independent and len(ev.folds) == 3 and ev.summary["ua"] > 0.9  # tones: an easy task
    out, ev2, failed2 = train(
        df,
        "logreg",
        tmp_path / "m",
        protocol="kfold:3",
        features="tutorial",
        progress=False,
        cache_dir=tmp_path / "c",
    )
    assert [p for p, _ in failed2] == [str(bad)]
    assert (out / "evaluation.json").is_file() and (out / "confusion.png").is_file()
    assert json.loads((out / "evaluation.json").read_text())["ua"] == pytest.approx(ev2.summary["ua"])
    model = load_model(out, check_speech=False)  # pure tones are not speech: the check would refuse them
    assert sorted(model.labels) == ["angry", "sad"]
    assert model.predict(tone_manifest["path"].iloc[0]) == tone_manifest["emotion"].iloc[0]


def test_an_ensemble_logs_each_member(tone_manifest, tmp_path, caplog):
    caplog.set_level("INFO", logger="emovox")
    ev, failed = evaluate(tone_manifest, "logreg+svm", "kfold:3", cache_dir=tmp_path / "c", progress=True)
    assert failed == [] and set(ev.members) == {"logreg", "svm"}
    lines = [r.getMessage() for r in caplog.records if r.name == "emovox.models.ensemble"]
    assert any(line.startswith("[logreg+svm] logreg: UA") for line in lines)
    assert any(line.startswith("[logreg+svm] svm: UA") for line in lines)


def test_balance_weights_make_every_corpus_and_emotion_cell_weigh_the_same():
    import numpy as np

    from emovox.tables import FeatureTable

    manifest = pd.DataFrame(
        {
            "path": [f"{i}.wav" for i in range(8)],
            "corpus": ["a"] * 6 + ["b"] * 2,
            "emotion": ["angry"] * 4 + ["sad"] * 2 + ["angry", "sad"],
        }
    )
    X = np.zeros((8, 2), np.float32)
    table = FeatureTable(X, manifest, ["x", "y"], {}, [], augmented={"noise": X})
    w = table.balance_weights(np.arange(8), "corpus")
    assert w.shape == (16,) and np.isclose(w.mean(), 1.0)
    cells = manifest["corpus"] + "/" + manifest["emotion"]
    totals = pd.Series(w[:8]).groupby(cells.to_numpy()).sum()
    assert np.allclose(totals, totals.iloc[0]) and len(totals) == 4  # each (corpus, emotion) cell the same
    np.testing.assert_array_equal(w[8:], w[:8])  # augmented copies weigh as their originals
    with pytest.raises(Exception, match="balancing by 'speaker'"):
        table.balance_weights(np.arange(8), "speaker")


def test_a_balanced_recipe_trains_and_says_so(tone_manifest, tmp_path):
    from emovox.training import Recipe, evaluate_recipe, handcrafted_features, train_classical

    table = handcrafted_features(tone_manifest, "tutorial", cache_dir=tmp_path / "c", progress=False)
    recipe = Recipe("tutorial", "logreg", {"C": 0.1}, balance="speaker")
    ev = evaluate_recipe(table, recipe, "kfold:3", progress=False)
    assert ev.summary["ua"] > 0.9
    out = train_classical(table, tmp_path / "m", "logreg", params={"C": 0.1}, balance="speaker")
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["model"]["balance"] == "speaker"
