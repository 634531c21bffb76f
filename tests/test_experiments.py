"""emovox.experiments: one evaluate and one train for every kind of model, and bad inputs reported, not fatal."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from emovox.errors import ModelError, ParameterError
from emovox.experiments import evaluate, model_kind, train, tune
from emovox.inference import load_model


def test_model_kind_routes_every_name():
    assert model_kind("svm") == model_kind("compare-logreg") == model_kind("whisper-robust") == "features"
    assert model_kind("rescnn") == model_kind("cnn1d") == "deep"
    assert model_kind("logreg+rescnn") == "ensemble"


def test_options_a_kind_cannot_honour_are_refused(tone_manifest):
    with pytest.raises(ParameterError, match="--calibrate cannot be used with ensemble"):
        evaluate(tone_manifest, "logreg+svm", "kfold:3", calibrate=True, progress=False)
    with pytest.raises(ParameterError, match="--same-speaker cannot be used with deep"):
        evaluate(tone_manifest, "cnn1d", "kfold:3", speaker_adapt=True, progress=False)
    with pytest.raises(ParameterError, match="--same-speaker cannot be used with deep"):
        evaluate(tone_manifest, "cnn1d", "kfold:3", same_speaker=True, progress=False)  # the CLI's name


def test_a_bad_protocol_or_seed_fails_before_any_features(tone_manifest, tmp_path):
    """A misspelt protocol or a bad seed was found only after every file's features (a Python user's
    walkthrough, stop 38): the cache folder shows none was computed."""
    from emovox.errors import CorpusError

    cache = tmp_path / "cache"
    for kw, error, match in [
        ({"protocol": "loso-typo"}, CorpusError, "did you mean loso"),
        ({"protocol": "loso", "seed": "x"}, ParameterError, "seed: expected a whole number"),
        ({"protocol": "loso", "seed": -1}, ParameterError, "seed: expected a whole number"),
        ({"emotions": "angry,sadnes"}, ParameterError, r"'sadnes'.*did you mean sad"),  # was a CorpusError
    ]:
        with pytest.raises(error, match=match):
            evaluate(tone_manifest, "svm", cache_dir=cache, progress=False, **kw)
        with pytest.raises(error, match=match):
            train(tone_manifest, "svm", tmp_path / "m", cache_dir=cache, progress=False, **kw)
    assert not cache.exists() or not any(cache.rglob("*.npy"))


def test_an_evaluation_made_in_python_records_how_it_was_made(tone_manifest, tmp_path):
    """Only the CLI filled Evaluation.run: a saved evaluation of experiments.evaluate had no seed, emotions
    or version; and random's default split seed (7) and training seed (0) were not both written anywhere."""
    opts = {"features": "tutorial", "progress": False, "cache_dir": tmp_path / "c"}
    ev, _ = evaluate(tone_manifest, "logreg", "random", emotions=["angry", "sad"], **opts)
    ev.save_json(tmp_path / "ev.json")
    run = json.loads((tmp_path / "ev.json").read_text())["run"]
    assert (
        run["seed"] is None
        and run["seeds"] == {"split": 7, "training": 0}
        and ev.protocol.endswith("seed 7)")
    )
    assert run["emotions"] == ["angry", "sad"] and run["merge"] is None and run["emovox_version"]
    assert (
        run["versions"]["numpy"] == __import__("numpy").__version__
        and run["versions"]["python"].count(".") == 2
    )
    ev, _ = evaluate(tone_manifest, "mlp", "kfold:2", seed=5, merge={"happy": "neutral"}, **opts)
    assert ev.run["seeds"] == {"split": 5, "training": 5} and ev.run["merge"] == {"happy": "neutral"}
    assert evaluate(tone_manifest, "logreg", "loso", **opts)[0].run["seeds"] == {"split": None, "training": 0}
    out, ev, _ = train(tone_manifest, "logreg", tmp_path / "m", protocol="kfold:2", **opts)
    assert json.loads((out / "metadata.json").read_text())["run"] == ev.run


def test_a_corpus_name_where_a_manifest_goes_says_how_to_read_it(tmp_path):
    """evaluate("emodb") said "the manifest has no 'emotion' column": a str has no columns."""
    for call in (evaluate, tune, lambda m, **kw: train(m, "svm", tmp_path / "m", **kw)):
        with pytest.raises(ParameterError) as info:
            call("emodb", progress=False)
        assert str(info.value) == (
            "manifest: expected a DataFrame with path, emotion and speaker columns, got str; read it first: "
            "emovox.corpora.load_corpus('emodb') for a folder or manifest CSV, shared_corpus(NAME) for a "
            "shared corpus"
        )
    with pytest.raises(ParameterError, match=r"got list$"):
        evaluate(["a.wav"], progress=False)


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
    # the reports beside it are sealed with it: what a person reads to judge the model cannot be edited unseen
    assert {"evaluation.json", "confusion.png"} <= set(
        json.loads((out / "metadata.json").read_text())["files"]
    )
    (out / "evaluation.json").write_text(
        (out / "evaluation.json").read_text().replace('"ua": ', '"ua": 0.99, "was": ')
    )
    with pytest.raises(ModelError, match="evaluation.json"):
        load_model(out, check_speech=False)


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
    assert w.shape == (16,) and np.isclose(w[:8].mean(), 0.5)  # a recording and its copy weigh one recording
    cells = manifest["corpus"] + "/" + manifest["emotion"]
    totals = pd.Series(w[:8]).groupby(cells.to_numpy()).sum()
    assert np.allclose(totals, totals.iloc[0]) and len(totals) == 4  # each (corpus, emotion) cell the same
    np.testing.assert_array_equal(w[8:], w[:8])  # each copy weighs as its original
    # with or without copies, each recording weighs the same in all: its copies share its weight
    plain = FeatureTable(X, manifest, ["x", "y"], {}, []).balance_weights(np.arange(8), "corpus")
    two = FeatureTable(X, manifest, ["x", "y"], {}, [], augmented={"a": X, "b": X})
    np.testing.assert_allclose(two.balance_weights(np.arange(8), "corpus").reshape(3, 8).sum(axis=0), plain)
    assert np.isclose(plain.mean(), 1.0)
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


def test_ensemble_members_train_as_they_were_evaluated(tone_manifest, tmp_path, monkeypatch):
    from emovox import training
    from emovox.models.ensemble import train_ensemble

    aligned = training.Recipe("tutorial", "logreg", {"C": 0.1}, align="corpus", balance="corpus")
    monkeypatch.setitem(training.RECIPES, "compare-logreg", aligned)
    out, _ = train_ensemble(
        tone_manifest, "compare-logreg+svm", tmp_path / "ens", cache_dir=tmp_path / "c", progress=False
    )
    member = json.loads((out / "compare-logreg" / "metadata.json").read_text())["model"]
    assert (member["align"], member["balance"], member["params"]) == ("corpus", "corpus", {"C": 0.1})


def test_balance_works_with_a_classifier_without_class_weights(tone_manifest, tmp_path):
    from emovox.training import handcrafted_features, train_classical

    table = handcrafted_features(tone_manifest, "tutorial", cache_dir=tmp_path / "c", progress=False)
    out = train_classical(
        table, tmp_path / "m", "mlp", balance="corpus"
    )  # MLP has no class_weight to turn off
    assert json.loads((out / "metadata.json").read_text())["model"]["balance"] == "corpus"


def test_options_are_refused_not_dropped(tone_manifest):
    with pytest.raises(ParameterError, match="--encoder cannot be used with ensemble"):
        train(tone_manifest, "svm+logreg", "unused", encoder="/nonexistent/ckpt", progress=False)
    with pytest.raises(ParameterError, match="--trim-db cannot be used with deep"):
        evaluate(tone_manifest, "cnn1d", "kfold:3", trim_db=0.0, progress=False)


def test_cli_logging_keeps_the_traceback_of_an_unexpected_error(capsys):
    import logging

    from emovox.cli.common import cli_logging

    with cli_logging():
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("emovox.server").exception("unexpected error on POST /v1/predict")
    err = capsys.readouterr().err
    assert err.startswith("emovox: error: unexpected error on POST /v1/predict\n")
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_a_model_can_be_copied():
    import copy

    from emovox.inference import EmotionModel

    m = load_model("classical")
    c = copy.copy(m)
    assert type(c) is EmotionModel and c.labels == m.labels


def test_train_with_calibrate_reports_the_calibrated_model_and_says_where_its_temperature_comes_from(
    tone_manifest, tmp_path
):
    """The metrics stored with a calibrated model are those of calibrated folds; one corpus gives no
    out-of-corpus predictions, and the note says what the temperature was fitted on instead."""
    df = tone_manifest.assign(speaker=[f"s{i % 8}" for i in range(len(tone_manifest))])  # 5+ per side
    out, ev, _ = train(
        df,
        "logreg",
        tmp_path / "m",
        protocol="kfold:3",
        features="tutorial",
        calibrate=True,
        progress=False,
        cache_dir=tmp_path / "c",
    )
    assert ev.recipe["calibrated"] is True and len(ev.recipe["temperatures"]) == 3
    assert json.loads((out / "evaluation.json").read_text())["recipe"]["calibrated"] is True
    assert "from predictions of unseen speakers" in ev.note and "from out-of-corpus" not in ev.note


def test_deep_training_writes_checkpoints_only_where_asked(tone_manifest, tmp_path, monkeypatch):
    """Deep training kept a folder of checkpoints per run in the user's cache, never cleaned; now none are
    written unless a folder is given, and that folder is recorded in the model's metadata."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("EMOVOX_CACHE", str(cache))
    out, _, failed = train(tone_manifest, "cnn1d-tutorial", tmp_path / "plain", progress=False)
    assert not failed and "checkpoints" not in json.loads((out / "metadata.json").read_text())
    assert not (cache / "checkpoints").exists()
    kept = tmp_path / "ckpt"
    out, _, _ = train(tone_manifest, "cnn1d-tutorial", tmp_path / "kept", progress=False, checkpoints=kept)
    assert {p.name for p in kept.iterdir()} == {"best.safetensors", "last.safetensors", "history.json"}
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in kept.iterdir()} == {0o666 & ~umask}  # as any file written
    assert json.loads((out / "metadata.json").read_text())["checkpoints"] == str(kept.resolve())
    assert not (cache / "checkpoints").exists()
    # refused before any training: a folder the model directory would then refuse, or one of other files
    with pytest.raises(ParameterError, match="inside the model directory"):
        train(
            tone_manifest, "cnn1d-tutorial", tmp_path / "m", progress=False, checkpoints=tmp_path / "m" / "ck"
        )
    (kept / ".emovox-x.part").write_bytes(b"half")  # a killed run's: not a user's file
    train(tone_manifest, "cnn1d-tutorial", tmp_path / "again", progress=False, checkpoints=kept)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(ParameterError, match=r"holds other files \(notes.txt\)"):
        train(tone_manifest, "cnn1d-tutorial", tmp_path / "m", progress=False, checkpoints=tmp_path / "mine")
    assert not (tmp_path / "m").exists()
    with pytest.raises(
        ParameterError, match="logreg: --checkpoints cannot be used with classical and encoder models"
    ):
        train(tone_manifest, "logreg", tmp_path / "lr", progress=False, checkpoints=kept)


def test_tune_is_the_cli_s_search_from_python_and_refuses_what_it_cannot_tune(tone_manifest, tmp_path):
    df = tone_manifest.assign(speaker=[f"s{i % 8}" for i in range(len(tone_manifest))])
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really")
    df = pd.concat([df, pd.DataFrame([{"path": str(bad), "emotion": "sad", "speaker": "s0"}])])
    opts = {"features": "tutorial", "progress": False, "cache_dir": tmp_path / "c"}
    found, failed = tune(df, "logreg", **opts)
    assert [p for p, _ in failed] == [str(bad)]
    assert set(found) == {"best_params", "best_ua", "search", "recipe", "labels", "run"}
    assert set(found["best_params"]) == {"logreg__C"}
    assert found["best_ua"] > 0.9 and "grouped by speaker" in found["search"]  # tones: an easy task
    # enough to repeat the search (a researcher's review, stop 39: it held the three keys above only)
    assert found["recipe"]["grid"] == {"logreg__C": [0.01, 0.03, 0.1, 0.3, 1.0]}
    assert found["recipe"]["features"]["fingerprint"] and set(found["labels"]) == set(df["emotion"])
    # (the search's folds by speaker are drawn with seed 0)
    assert found["run"]["seeds"] == {"split": 0, "training": 0} and found["run"]["emovox_version"]
    ev, _ = tune(df, "logreg", "kfold:2", seed=3, **opts)
    assert ev.protocol == "kfold(2)+nested-tuning" and len(ev.folds) == 2 and ev.summary["ua"] > 0.9
    assert ev.run["seed"] == 3 and ev.run["seeds"] == {"split": 3, "training": 3}
    # (stop 42) the report shows what each fold's search chose; it was only in the JSON
    chosen = ev.table().split("parameters chosen in each fold (inner UA):\n")[1].split("\n\n")[0].splitlines()
    assert len(chosen) == 2 and all("C=" in line and "%)" in line for line in chosen), chosen
    for model in ("whisper-robust", "rescnn", "svm+logreg"):
        with pytest.raises(ParameterError, match=rf"^{re.escape(model)}: tune grid-searches one classifier"):
            tune(df, model, **opts)


def test_evaluate_and_train_select_labels_as_the_cli_does(tone_manifest, tmp_path):
    """``emotions`` and ``merge`` of the Python API narrow and rename the rows as ``--emotions`` and
    ``--merge`` do, so a script need not know :func:`emovox.labels.apply_labels`."""
    from emovox.errors import CorpusError

    df = tone_manifest.copy()
    df.loc[df.index % 4 == 0, "emotion"] = "Calm"  # a hand-written label, read as `calm`
    opts = {"features": "tutorial", "progress": False, "cache_dir": tmp_path / "c"}
    ev, _ = evaluate(df, "logreg", "kfold:3", emotions="angry,sad", **opts)
    assert ev.labels == ["sad", "angry"] and len(ev.predictions) == 18
    ev, _ = evaluate(df, "logreg", "kfold:3", merge={"calm": "angry"}, **opts)
    assert ev.labels == ["sad", "angry"] and len(ev.predictions) == 24
    out, _, _ = train(df, "logreg", tmp_path / "m", merge="calm=angry", **opts)
    assert sorted(load_model(out, check_speech=False).labels) == ["angry", "sad"]
    with pytest.raises(
        CorpusError, match="no rows left after the label selection.*the manifest has Calm, angry"
    ):
        evaluate(df, "logreg", "kfold:3", emotions="happy,neutral", **opts)


def test_the_library_draws_no_progress_bar_unless_asked(tone_manifest, tmp_path, capfd):
    """Progress bars are printing: the library's functions drew them on stderr by default, as the CLI does
    (a hardening review, stop 39); they are now the CLI's (``progress=True``) or the caller's choice."""
    from emovox.features import FeatureExtractor

    paths = list(tone_manifest["path"])
    FeatureExtractor("tutorial").process_files(paths, cache_dir=tmp_path / "c1")
    evaluate(tone_manifest, "logreg", "kfold:2", features="tutorial", cache_dir=tmp_path / "c2")
    assert capfd.readouterr().err == ""
    FeatureExtractor("tutorial").process_files(paths, cache_dir=tmp_path / "c3", progress=True)
    assert "features (tutorial)" in capfd.readouterr().err
