"""Classical models end to end: features -> train -> save -> load -> predict, evaluation, tampering."""

import json
import subprocess
import sys

import numpy as np
import pytest

from emovox.errors import ModelError
from emovox.evaluation import scores
from emovox.inference import EmotionModel, load_model
from emovox.labels import apply_labels
from emovox.training import evaluate_recipe, handcrafted_features, train_classical


def test_scores_known_answer():
    s = scores(["a", "a", "a", "b"], ["a", "a", "b", "b"], ["a", "b", "c"])
    assert s["accuracy"] == pytest.approx(0.75)
    assert s["ua"] == pytest.approx((2 / 3 + 1) / 2)  # absent class c is not averaged in
    assert s["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert s["confusion"] == [[2, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert s["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


@pytest.fixture(scope="module")
def small(ravdess_manifest, tmp_path_factory):
    """Eight RAVDESS actors, four emotions: small enough to train in seconds."""
    df = apply_labels(ravdess_manifest, emotions="four")
    df = df[df["actor"] <= 8].reset_index(drop=True)
    cache = tmp_path_factory.mktemp("cache")
    return handcrafted_features(df, "emovox", cache_dir=cache, progress=False, n_jobs=2)


@pytest.fixture(scope="module")
def trained(small, tmp_path_factory):
    ev = evaluate_recipe(small, "logreg", "kfold:4", progress=False)
    out = tmp_path_factory.mktemp("m") / "model"
    train_classical(small, out, "logreg", evaluation=ev)
    return out, ev


def test_evaluation_is_speaker_independent_and_better_than_chance(trained):
    _, ev = trained
    assert ev.speaker_independent and len(ev.folds) == 4
    assert ev.summary["ua"] > 0.45  # chance is 0.25 for four emotions
    assert ev.pooled["n"] == 8 * (4 + 3 * 8)  # per actor: 4 neutral, 8 of each other
    assert "speaker-independent" in ev.table()


def test_round_trip_identical_probabilities(small, trained):
    from emovox.models.classical import make_classifier

    out, _ = trained
    model = load_model(out)
    assert model.labels == ["angry", "happy", "neutral", "sad"]
    paths = list(small.manifest["path"][:12])
    p1 = model.predict_proba(paths)
    p2 = EmotionModel(out).predict_proba(paths)
    assert np.array_equal(p1, p2)
    assert np.allclose(p1.sum(axis=1), 1.0, atol=1e-6)
    # the ONNX graph reproduces scikit-learn's own probabilities
    sk = make_classifier("logreg").fit(small.X, small.manifest["emotion"])
    assert np.allclose(sk.predict_proba(small.X[:12]), p1, atol=1e-4)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["metrics"]["speaker_independent"] is True
    assert meta["frontend"]["config"] and meta["training"]["n_utterances"] == len(small.manifest)


def test_tampered_missing_and_incompatible(trained, tmp_path):
    import shutil

    out, _ = trained
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    data = bytearray((bad / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch"):
        load_model(bad)
    (bad / "model.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(bad)
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "nothing")
    newer = tmp_path / "newer"
    shutil.copytree(out, newer)
    meta = json.loads((newer / "metadata.json").read_text())
    meta["format_version"] = 99
    (newer / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="newer than this emovox"):
        load_model(newer)
    # a feature configuration edited after training is refused: the metadata's seal no longer matches,
    # and, sealed again, the configuration's fingerprint does not
    from emovox.models.store import reseal

    meta["format_version"] = 1
    meta["frontend"]["config"]["n_mfcc"] = 13
    (newer / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="metadata.json was modified"):
        load_model(newer)
    reseal(newer)
    with pytest.raises(ModelError, match="does not match its fingerprint"):
        load_model(newer)


def test_no_pickle_in_model_dir(trained):
    out, _ = trained
    for f in out.iterdir():
        assert f.suffix in {".onnx", ".json", ".png", ".npy"}, f
    # the class means for speaker adaptation are a plain array: loading them runs no code
    assert np.load(out / "class_means.npy", allow_pickle=False).shape[0] == 4


def test_cli_predict_good_and_bad(trained, tmp_path, ravdess_root):
    out, _ = trained
    folder = tmp_path / "mixed"
    folder.mkdir()
    speech = sorted(ravdess_root.glob("Actor_02/*.flac"))[0]  # real speech: a tone now gets "no speech"
    (folder / "speech.flac").write_bytes(speech.read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (folder / "empty.flac").write_bytes(b"")
    real = next(ravdess_root.glob("Actor_01/*.flac"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "predict",
            str(folder),
            str(real),
            "--model",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    results = json.loads(proc.stdout)
    assert len(results) == 4
    ok = [r for r in results if "emotion" in r]
    bad = [r for r in results if "error" in r]
    assert len(ok) == 2 and len(bad) == 2
    for r in ok:
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-5
    assert "Traceback" not in proc.stderr
    assert "broken.wav" in proc.stderr and "empty.flac" in proc.stderr

    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(folder / "broken.wav"), "--model", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and proc.stdout == ""
    lines = [ln for ln in proc.stderr.splitlines() if "broken.wav" in ln]
    assert len(lines) == 1 and "Traceback" not in proc.stderr

    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(real), "--model", str(out), "--top-k", "2"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    fields = proc.stdout.strip().split("\t")
    assert fields[0] == str(real) and fields[1] in {"angry", "happy", "neutral", "sad"}
    assert len(fields[3].split("  ")) == 2


def test_cli_train_and_evaluate(tmp_path, ravdess_root):
    out = tmp_path / "m"
    args = [
        sys.executable,
        "-m",
        "emovox.cli",
        "train",
        str(ravdess_root),
        "--emotions",
        "angry,sad",
        "--features",
        "tutorial",
        "--model",
        "logreg",
        "--protocol",
        "speakers:01,02,03,04",
        "-q",
        "--cache-dir",
        str(tmp_path / "c"),
        "-o",
        str(out),
    ]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "UA" in proc.stdout and (out / "confusion.png").stat().st_size > 1000
    ev = json.loads((out / "evaluation.json").read_text())
    assert ev["speaker_independent"] and ev["pooled"]["n"] == 4 * 16
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "evaluate",
            str(ravdess_root),
            "--emotions",
            "angry,sad",
            "--features",
            "tutorial",
            "--model",
            "logreg",
            "--protocol",
            "random",
            "-q",
            "--cache-dir",
            str(tmp_path / "c"),
            "--json",
            str(tmp_path / "e.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "NOT speaker-independent" in proc.stdout
    assert json.loads((tmp_path / "e.json").read_text())["speaker_independent"] is False


def test_recipes_and_trim_db_override():
    from emovox.errors import ModelError
    from emovox.training import resolve_recipe

    r = resolve_recipe("compare-logreg")
    assert (r.features, r.classifier, r.feature_options) == ("compare", "logreg", {"trim_db": 30.0})
    assert resolve_recipe("svm", "egemaps", trim_db=25).feature_options == {"trim_db": 25.0}
    assert resolve_recipe("svm").feature_options == {}
    with pytest.raises(ModelError, match="hand-crafted"):
        resolve_recipe("whisper-probe", trim_db=30)


def test_trimmed_compare_model_round_trip(small, tmp_path):
    """compare-logreg trains, saves, and predicts a file with the trimming it was trained with."""
    from emovox.training import compute_features, resolve_recipe

    df = small.manifest
    df = df[df["emotion"].isin(["angry", "sad"]) & (df["actor"] <= 2)].reset_index(drop=True)
    table = compute_features(
        df, resolve_recipe("compare-logreg"), cache_dir=tmp_path / "c", progress=False, n_jobs=2
    )
    assert table.X.shape == (len(df), 6373) and table.frontend["config"]["trim_db"] == 30.0
    model = load_model(train_classical(table, tmp_path / "m", "logreg"))
    p = model.predict_proba(df["path"].iloc[0])
    assert p.shape == (1, 2) and abs(p.sum() - 1) < 1e-6  # always 2-D, as scikit-learn's
    assert np.allclose(p, model.proba_from_embeddings(table.X[0]), atol=1e-6)  # same (trimmed) features


def test_single_emotion_and_array_without_rate_are_clear_errors(small, trained):
    from emovox.errors import CorpusError, ParameterError
    from emovox.training import FeatureTable

    one = small.manifest["emotion"] == "angry"
    table = FeatureTable(
        small.X[one.to_numpy()], small.manifest[one].reset_index(drop=True), small.names, small.frontend, []
    )
    with pytest.raises(CorpusError, match="at least two emotions"):
        evaluate_recipe(table, "logreg", "kfold:4", progress=False)
    model = load_model(trained[0])
    with pytest.raises(ParameterError, match="sr="):  # a call to mend, as predict_signal's
        model.predict_proba(np.zeros(16000, np.float32))
    # one row per input, as scikit-learn's predict_proba: one input, a list of one, or none
    assert model.predict_proba(np.zeros(16000, np.float32) + 0.01, sr=16000).shape == (1, 4)
    one = [np.zeros(16000, np.float32) + 0.01]
    assert model.predict_proba(one, sr=16000).shape == (1, 4)
    assert model.predict_proba([], sr=16000).shape == (0, 4)
    assert model.predict([], sr=16000) == []


@pytest.mark.parametrize("model", ["rescnn", "whisper-active"])
def test_cli_trim_db_refused_where_it_cannot_apply(model, ravdess_root):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "evaluate",
            str(ravdess_root),
            "--model",
            model,
            "--trim-db",
            "20",
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    why = {"rescnn": "cannot be used with deep models: they trim silence", "whisper-active": "voiced frames"}
    assert len(lines) == 1 and "--trim-db" in lines[0] and why[model] in lines[0], proc.stderr


def test_a_bare_name_that_is_a_folder_here_and_a_bundled_model_says_which_it_uses(
    tmp_path, monkeypatch, caplog
):
    """A folder ./classical (a model) silently took the place of the bundled classical model, and an
    unrelated ./default folder made `--model default` fail; either way a warning now says which is used."""
    from pathlib import Path

    from emovox.inference import BUNDLED_DIR
    from emovox.inference.model import resolve_model_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()
    (tmp_path / "classical").mkdir()
    (tmp_path / "classical" / "metadata.json").write_text("{}")
    caplog.set_level("WARNING", logger="emovox")
    assert resolve_model_path("default") == BUNDLED_DIR / "default"
    assert resolve_model_path("classical") == Path("classical")
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["default", "classical"]
    caplog.clear()
    assert resolve_model_path(Path("classical")) == Path("classical")  # a Path is a path
    assert resolve_model_path("./classical/") == Path("classical") and not caplog.records


def test_importing_emovox_leaves_a_users_warning_filters_alone():
    """Importing emovox.models.classical silenced two scikit-learn warnings in the user's own code (its
    global filters); emovox now silences them only around its own fits."""
    import subprocess
    import sys

    code = (
        "import warnings\n"
        "import sklearn.svm, sklearn.neural_network\n"
        "before = list(warnings.filters)\n"
        "import emovox.models.classical, emovox.training\n"
        "added = [f for f in warnings.filters if f not in before]\n"
        "print(sum(bool(f[1]) and ('probability' in f[1].pattern or 'batch_size' in f[1].pattern)"
        " for f in added))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stderr
    import warnings

    import numpy as np

    from emovox.models.classical import make_classifier, quiet_fit

    X, y = np.random.default_rng(0).normal(size=(30, 3)), [0, 1, 2] * 10
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_fit():
            make_classifier("mlp", batch_size=256, max_iter=5).fit(X, y)
    assert not [w for w in seen if "batch_size" in str(w.message)], [str(w.message) for w in seen]
