"""Leave one corpus out: folds, cross-corpus refusals, calibrated cross-corpus evaluation, CLI and plot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovox.errors import CorpusError
from emovox.splits import leave_one_corpus_out, make_protocol
from emovox.training import evaluate_recipe

from .synthetic_features import synthetic_table


def _manifest() -> pd.DataFrame:
    rows = []
    for corpus, n_spk in (("a", 3), ("b", 2), ("c", 4)):
        for s in range(n_spk):
            for i in range(5):
                rows.append(
                    {
                        "path": f"/x/{corpus}{s}{i}.wav",
                        "corpus": corpus,
                        "speaker": f"{corpus}:{s}",
                        "emotion": ["angry", "sad"][i % 2],
                    }
                )
    return pd.DataFrame(rows)


def test_loco_folds():
    df = _manifest()
    proto = make_protocol(df, "loco")
    assert proto.cross_corpus and proto.name == "loco"
    assert [f.name for f in proto.folds] == ["a", "b", "c"]
    tested = np.concatenate([f.test for f in proto.folds])
    assert sorted(tested.tolist()) == list(range(len(df)))  # every row tested exactly once
    corp = df["corpus"].to_numpy()
    for f in proto.folds:
        assert set(corp[f.test]) == {f.name}
        assert f.name not in set(corp[f.train])
        assert not set(corp[f.train]) & set(corp[f.test])
        assert len(f.train) + len(f.test) == len(df)
    with pytest.raises(CorpusError, match="at least two corpora"):
        leave_one_corpus_out(df[df["corpus"] == "a"])


def test_cross_refuses_a_corpus_on_both_sides():
    df = _manifest()
    with pytest.raises(CorpusError, match="both sides"):
        make_protocol(df, "cross:a,b->a")
    proto = make_protocol(df, "cross:a,b->c")
    assert proto.cross_corpus and [f.name for f in proto.folds] == ["c"]


@pytest.fixture(scope="module")
def shifted():
    """Three corpora with strong offsets (over-confident across corpora); corpus c has no "happy"."""
    return synthetic_table(seed=0, per=30, shift=2.0, sep=1.5, missing={"c": "happy"})


@pytest.fixture(scope="module")
def evaluations(shifted):
    return {
        cal: evaluate_recipe(shifted, "logreg", "loco", calibrate=cal, progress=False)
        for cal in (False, True)
    }


def test_loco_evaluation_per_corpus(evaluations):
    for ev in evaluations.values():
        s = ev.summary
        assert set(s["per_corpus"]) == {"a", "b", "c"}
        for corpus, r in s["per_corpus"].items():
            assert 0 <= r["ua"] <= 1 and np.isfinite(r["ece"]) and 0 <= r["ece"] <= 1, corpus
        assert np.isfinite(s["ece"]) and s["ua_min"] == min(r["ua"] for r in s["per_corpus"].values())
        assert "held-out corpus" in ev.table()


def test_each_corpus_scored_on_its_own_emotions(evaluations):
    for ev in evaluations.values():
        happy = ev.labels.index("happy")
        by_fold = {fp.name: fp for fp in ev.fold_proba}
        c = by_fold["c"]
        assert "happy" not in c.y_true
        assert np.all(c.proba[:, happy] == 0.0)
        np.testing.assert_allclose(c.proba.sum(axis=1), 1.0, atol=1e-9)
        fold_c = next(f for f in ev.folds if f["fold"] == "c")
        assert fold_c["per_class"]["happy"]["support"] == 0
        assert sum(row[happy] for row in fold_c["confusion"]) == 0  # never predicted
        # the corpora that have "happy" keep it
        assert by_fold["a"].proba[:, happy].max() > 0
        # and the report says what UA is the mean of: it read "over the 3 emotions; chance 33.3 %"
        counts = sorted({sum(c["support"] > 0 for c in f["per_class"].values()) for f in ev.folds})
        assert counts == [2, 3] and len(ev.labels) == 3
        assert "(mean recall over the emotions each corpus has (2-3 of 3); chance 33.3-50.0 %)" in ev.table()


def test_calibration_is_reported(evaluations):
    # Lower ECE with calibration is NOT asserted: on this setup it holds for seeds 0, 1, 2, 3 and 5 but not
    # 4 (one fold's temperature came out < 1), and with only two training corpora the inner leave-one-corpus-out
    # trains on a single corpus, so temperatures often stop at the search bound (20). Reported and finite only.
    plain, calibrated = evaluations[False], evaluations[True]
    assert calibrated.recipe["calibrated"] and len(calibrated.recipe["temperatures"]) == 3
    assert all(np.isfinite(t) and t > 0 for t in calibrated.recipe["temperatures"])
    assert not plain.recipe["calibrated"] and "temperatures" not in plain.recipe
    for ev in (plain, calibrated):
        assert np.isfinite(ev.summary["ece"]) and np.isfinite(ev.pooled["ece"])
        assert all(np.isfinite(f["ece"]) for f in ev.folds)
    # temperature scaling never changes a prediction
    for a, b in zip(plain.fold_proba, calibrated.fold_proba, strict=True):
        assert np.array_equal(a.proba.argmax(1), b.proba.argmax(1))


def test_cli_evaluate_loco_and_plot_reliability(tmp_path):
    """Short synthetic WAVs (the recipe's features need audio): a tone per emotion, a level per corpus."""
    from emovox.cli import main

    sr = 16000
    t = np.arange(int(0.4 * sr)) / sr
    rng = np.random.default_rng(0)
    rows = []
    for c, (corpus, gain) in enumerate((("a", 0.1), ("b", 0.3), ("c", 0.05))):
        for emo, f0 in (("angry", 300.0), ("sad", 150.0)):
            for i in range(6):
                y = gain * np.sin(
                    2 * np.pi * (f0 + 10 * c + rng.uniform(-5, 5)) * t
                ) + 0.01 * rng.standard_normal(t.size)
                path = tmp_path / f"{corpus}_{emo}_{i}.wav"
                sf.write(path, y.astype(np.float32), sr)
                rows.append(
                    {"path": path.name, "emotion": emo, "corpus": corpus, "speaker": f"{corpus}:{i % 2}"}
                )
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    ev_json, rel, png = tmp_path / "ev.json", tmp_path / "rel.png", tmp_path / "x.png"
    assert (
        main(
            [
                "evaluate",
                str(manifest),
                "--model",
                "logreg",
                "--features",
                "tutorial",
                "--protocol",
                "loco",
                "--calibrate",
                "-q",
                "--jobs",
                "1",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--json",
                str(ev_json),
                "--reliability",
                str(rel),
            ]
        )
        == 0
    )
    data = json.loads(ev_json.read_text())
    assert set(data["per_corpus"]) == {"a", "b", "c"} and all("ece" in r for r in data["per_corpus"].values())
    # what reproduces it: the command, the version, the seed, the data
    assert (
        data["run"]["command"].startswith("emovox evaluate ") and "--protocol loco" in data["run"]["command"]
    )
    # no --seed: null, the defaults (splits with 0, the tutorials' 7 for random; training with 0)
    assert data["run"]["emovox_version"] and data["run"]["seed"] is None and len(data["run"]["sources"]) == 1
    assert rel.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and rel.stat().st_size > 5000
    assert main(["plot", "reliability", str(ev_json), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_an_emotion_only_the_held_out_corpus_has_is_left_out_and_said():
    """Held out, corpus a's "happy" has nothing to be learnt from (b and c have none): it is left out of
    a's scores, with a note, instead of counting as a recall of 0 that says nothing of the model."""
    table = synthetic_table(seed=1, per=20, missing={"b": "happy", "c": "happy"})
    ev = evaluate_recipe(table, "logreg", "loco", progress=False)
    fold_a = next(f for f in ev.folds if f["fold"] == "a")
    assert fold_a["per_class"]["happy"]["support"] == 0 and sum(map(sum, fold_a["confusion"])) == 40
    assert "left out, their emotion absent from the training side: a: 20 of happy" in ev.note
    assert ev.summary["per_corpus"]["a"]["ua"] > 0.5  # over angry and sad, not dragged down by a 0


def test_cross_with_two_test_corpora_fits_once(monkeypatch):
    """Both folds of cross:a->b,c train on a: one fit (and one temperature), two figures."""
    import emovox.training as training

    fits = []
    real = training._fit
    monkeypatch.setattr(training, "_fit", lambda *a, **k: fits.append(1) or real(*a, **k))
    ev = evaluate_recipe(synthetic_table(seed=2, per=10), "logreg", "cross:a->b,c", progress=False)
    assert [f["fold"] for f in ev.folds] == ["b", "c"] and len(fits) == 1


def test_an_emotion_without_test_recordings_is_not_a_zero():
    """A researcher's review: under loco the per-class table showed an emotion no test corpus had as 0.0 %
    precision, recall and F1 (read: never recognised), and a one-fold protocol wrote a spread of 0.0 that
    was never measured."""
    from emovox.evaluation import cross_validate

    m = pd.DataFrame(
        {"corpus": ["a"] * 6 + ["b"] * 4, "speaker": ["a:1"] * 3 + ["a:2"] * 3 + ["b:1"] * 2 + ["b:2"] * 2}
    )
    y = np.array(["sad", "angry", "happy", "sad", "angry", "happy", "sad", "angry", "sad", "angry"])
    X = np.array([[0.0], [1.0], [2.0], [0.1], [0.9], [2.1], [0.2], [1.1], [0.1], [0.8]])

    def nearest(X_train, y_train, X_test):
        return y_train[np.abs(X_test - X_train.T).argmin(axis=1)]

    ev = cross_validate(X, y, leave_one_corpus_out(m), nearest, ["angry", "happy", "sad"], progress=False)
    assert ev.pooled["per_class"]["happy"]["support"] == 0  # (a's happy: nothing on the training side)
    row = next(ln for ln in ev.table().splitlines() if ln.startswith("happy "))
    assert row.split() == ["happy", "-", "-", "-", "0", "(no", "test", "recordings)"]
    assert next(ln for ln in ev.table().splitlines() if ln.startswith("sad ")).split()[1] == "100.0%"
    assert ev.summary["ua_std"] == 0.0  # two folds: a spread was measured
    one = cross_validate(
        X, y, make_protocol(m, "cross:a->b"), nearest, ["angry", "happy", "sad"], progress=False
    )
    assert one.summary["ua_std"] is None and one.summary["accuracy_std"] is None
    assert json.loads(json.dumps(one.to_dict()))["ua_std"] is None
    # an emotion with test recordings that was never predicted: 0.0 % everywhere, as the JSON holds it

    def always_sad(X_train, y_train, X_test):
        return np.array(["sad"] * len(X_test))

    sad = cross_validate(
        X, y, make_protocol(m, "cross:a->b"), always_sad, ["angry", "happy", "sad"], progress=False
    )
    row = next(ln for ln in sad.table().splitlines() if ln.startswith("angry "))
    assert row.split() == ["angry", "0.0%", "0.0%", "0.0%", "2"]
