"""emovox.recipes: one recipe protocol over classical, encoder, deep and ensemble models."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from emovox.deep.recipes import RECIPES as DEEP_RECIPES
from emovox.errors import ParameterError
from emovox.models.classical import CLASSICAL
from emovox.recipes import (
    EnsembleRecipe,
    FittedModel,
    RecipeProtocol,
    get_recipe,
    known_recipes,
    recipe_from_dict,
)
from emovox.training import RECIPES as FEATURE_RECIPES

SINGLE = sorted({*CLASSICAL, *FEATURE_RECIPES, *DEEP_RECIPES})
# there is no table of ensembles: any two different models make one; one of each pair of kinds
ENSEMBLES = ["svm+logreg", "compare-logreg+rescnn", "whisper-robust+cnn1d+mlp", "rescnn+cnn2d"]


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """16 short WAV tones: low ones "sad", high ones "angry", four speakers over two corpora."""
    import soundfile as sf

    root = tmp_path_factory.mktemp("tones")
    rng = np.random.default_rng(1)
    sr, t = 16000, np.arange(int(0.6 * 16000)) / 16000
    rows = []
    for i in range(16):
        freq = rng.uniform(150, 250) if i % 2 else rng.uniform(900, 1200)
        path = root / f"tone{i}.wav"
        sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr)
        rows.append(
            {
                "path": str(path),
                "emotion": "sad" if i % 2 else "angry",
                "speaker": f"s{i % 4}",
                "corpus": "a" if i % 4 < 2 else "b",
            }
        )
    return pd.DataFrame(rows), root / "cache"


def _separates(p: np.ndarray, labels: list[str], truth: pd.Series) -> None:
    assert p.ndim == 2 and p.shape == (len(truth), len(labels))
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert [labels[k] for k in p.argmax(axis=1)] == list(truth)


@pytest.mark.parametrize("name", SINGLE + ENSEMBLES)
def test_every_name_resolves_to_a_recipe_that_round_trips(name):
    r = get_recipe(name)
    assert isinstance(r, RecipeProtocol)
    assert r.name == name and r.kind == (
        "ensemble" if "+" in name else "deep" if name in DEEP_RECIPES else "features"
    )
    d = r.to_dict()
    assert d["kind"] == r.kind and recipe_from_dict(d) == r
    as_json = json.loads(json.dumps(d))  # the dictionary is JSON, and reads back from it
    assert json.loads(json.dumps(recipe_from_dict(as_json).to_dict())) == as_json
    assert recipe_from_dict(as_json) == r  # (rescnn's channels came back a list, and the recipe unequal)


def test_a_deep_recipe_stored_by_a_later_version_reads_back_without_the_keys_it_does_not_know():
    """DeepRecipe.from_dict built WaveAugment(**stored): a knob of a later version was a TypeError."""
    name = next(n for n in SINGLE if n in DEEP_RECIPES)
    d = json.loads(json.dumps(get_recipe(name).to_dict()))
    d["augment"] = {"snr": [5.0, 20.0], "p_future_knob": 0.5}
    assert recipe_from_dict(d).spec.augment.snr == (5.0, 20.0)


def test_nested_arch_params_round_trip_through_json():
    """Only the outer list of an arch parameter became a tuple again: ((3, 3), (5, 5)) read back as
    ([3, 3], [5, 5]), and the recipe did not compare equal to itself."""
    from dataclasses import replace

    r = get_recipe("rescnn")
    nested = {"kernels": ((3, 3), (5, 5)), "x": {"y": (1,)}}
    r = type(r)(replace(r.spec, arch_params={**r.spec.arch_params, **nested}))
    assert recipe_from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_known_recipes_are_every_table():
    assert known_recipes() == SINGLE


def test_an_unknown_name_is_one_parameter_error_naming_the_known_ones():
    for name in ("nope", "svm+nope"):
        with pytest.raises(
            ParameterError, match=r"unknown recipe 'nope'; known recipes: .*compare-logreg.*rescnn"
        ) as exc:
            get_recipe(name)
        assert "\n" not in str(exc.value)
    with pytest.raises(ParameterError, match="epochz"):
        get_recipe("rescnn", epochz=3)
    with pytest.raises(ParameterError, match="no options"):
        get_recipe("svm+rescnn", features="egemaps")


def test_options_reach_the_recipe():
    r = get_recipe("svm", features="egemaps", trim_db=25, encoder=None)
    assert (r.spec.features, r.spec.feature_options) == ("egemaps", {"trim_db": 25.0})
    assert get_recipe("rescnn", epochs=3).spec.train.epochs == 3
    assert get_recipe("rescnn").spec.train.epochs != 3  # a copy: the table is not changed


def test_a_classical_recipe_fits_predicts_and_saves(tones, tmp_path):
    from emovox.inference import load_model

    df, cache = tones
    recipe = get_recipe("logreg", features="tutorial")
    fitted = recipe.fit(df, cache_dir=cache, progress=False)
    assert isinstance(fitted, FittedModel)
    _separates(fitted.predict_proba(df), fitted.labels, df["emotion"])
    table = recipe.compute_features(df, cache_dir=cache, progress=False)
    np.testing.assert_allclose(
        fitted.predict_proba(table.X), fitted.predict_proba(list(df["path"])), atol=1e-6
    )

    ev = recipe.evaluate(df, "kfold:2", table=table, progress=False)
    out = fitted.save(tmp_path / "m", evaluation=ev)
    assert (out / "evaluation.json").is_file()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["recipe"] == "logreg" and meta["metrics"]["ua"] == pytest.approx(ev.summary["ua"])
    model = load_model(out, check_speech=False)  # the saved model predicts what the fitted one does
    assert model.labels == fitted.labels
    np.testing.assert_allclose(
        model.predict_proba(list(df["path"][:4])), fitted.predict_proba(df[:4]), atol=1e-4
    )


def test_an_ensemble_of_two_classical_recipes_is_a_recipe(tones, tmp_path):
    from emovox.inference import EnsembleModel, load_model

    df, cache = tones
    members = (get_recipe("logreg", features="tutorial"), get_recipe("svm", features="tutorial"))
    recipe = EnsembleRecipe(members, weights=(1, 3))
    assert isinstance(recipe, RecipeProtocol) and recipe.name == "logreg+svm"
    assert recipe_from_dict(recipe.to_dict()) == recipe
    tables = recipe.compute_features(df, cache_dir=cache, progress=False)
    assert set(tables) == {"logreg", "svm"} and tables.failures == []

    fitted = recipe.fit(df, table=tables)
    assert isinstance(fitted, FittedModel) and fitted.labels == ["sad", "angry"]  # canonical order
    p = fitted.predict_proba(df)
    _separates(p, fitted.labels, df["emotion"])
    parts = [fitted.members[n].predict_proba(tables[n].X) for n in ("logreg", "svm")]
    order = [fitted.members["logreg"].labels.index(lab) for lab in fitted.labels]  # members: sklearn's order
    np.testing.assert_allclose(p, (parts[0][:, order] + 3 * parts[1][:, order]) / 4, atol=1e-9)
    np.testing.assert_allclose(fitted.predict_proba({n: tables[n].X for n in tables}), p, atol=1e-9)

    out = fitted.save(tmp_path / "ens")
    model = load_model(out, check_speech=False)
    assert isinstance(model, EnsembleModel) and model.labels == fitted.labels
    np.testing.assert_allclose(model.predict_proba(list(df["path"][:4])), p[:4], atol=1e-4)


def test_an_ensemble_evaluates_on_its_members_folds(tones):
    df, cache = tones
    recipe = EnsembleRecipe(
        (get_recipe("logreg", features="tutorial"), get_recipe("mlp", features="tutorial"))
    )
    ev = recipe.evaluate(df, "kfold:2", seed=0, cache_dir=cache, progress=False)
    assert set(ev.members) == {"logreg", "mlp"} and ev.recipe["ensemble"] == "logreg+mlp"
    assert ev.speaker_independent and ev.summary["ua"] > 0.9


def test_a_model_directory_is_read_and_verified_once(tones, tmp_path, monkeypatch):
    from emovox.inference import EmotionModel, EnsembleModel
    from emovox.models import store

    df, cache = tones
    members = (get_recipe("logreg", features="tutorial"), get_recipe("rf", features="tutorial"))
    out = EnsembleRecipe(members).fit(df, cache_dir=cache, progress=False).save(tmp_path / "ens")
    reads = []
    parse = store._parse_json

    def counting(path, data):  # every metadata.json read, from its file or (a member) its verified bytes
        reads.append(path)
        return parse(path, data)

    monkeypatch.setattr(store, "_parse_json", counting)
    EmotionModel(out / "logreg")
    assert reads == [out / "logreg"]
    reads.clear()
    assert isinstance(EmotionModel(out), EnsembleModel)  # the class chosen from the one reading
    assert sorted(reads) == sorted([out, out / "logreg", out / "rf"])  # each directory once


def test_feature_table_is_for_feature_recipes(tones):
    from emovox.experiments import feature_table

    df, cache = tones
    recipe, table = feature_table(df, "logreg", features="tutorial", cache_dir=cache, progress=False)
    assert recipe.spec.classifier == "logreg" and table.X.shape[0] == len(df)
    with pytest.raises(ParameterError, match="not a deep model"):
        feature_table(df, "rescnn")


def test_a_deep_recipe_fits_predicts_and_saves(tones, tmp_path):
    """A deep recipe under the same protocol: fit, 2-D probabilities from paths that match the saved model."""
    pytest.importorskip("torch")
    from emovox.inference import load_model

    df, cache = tones
    recipe = get_recipe("cnn1d", epochs=2, patience=2, batch_size=8)
    assert isinstance(recipe, RecipeProtocol) and recipe.kind == "deep"
    fitted = recipe.fit(df, cache_dir=cache, progress=False)
    assert isinstance(fitted, FittedModel)
    p = fitted.predict_proba(list(df["path"]))
    assert p.shape == (len(df), len(fitted.labels)) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    out = fitted.save(tmp_path / "deep")
    model = load_model(out, check_speech=False)
    np.testing.assert_allclose(model.predict_proba(list(df["path"][:4])), p[:4], atol=1e-4)
