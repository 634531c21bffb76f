"""Calibration: temperature scaling recovers a known temperature, ECE, restrict, and calibrated model dirs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emovox.calibration import apply_temperature, ece, fit_temperature, restrict
from emovox.inference import load_model

from .synthetic_features import synthetic_table


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _known_model(n: int = 6000, k: int = 4, seed: int = 0):
    """True probabilities softmax(z) and labels drawn from them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, k))
    p = _softmax(z)
    y = np.array([rng.choice(k, p=row) for row in p])
    return z, p, y


def test_fit_temperature_recovers_an_over_confident_model():
    z, _, y = _known_model()
    over = _softmax(4.0 * z)  # logits scaled by 4: over-confident by a temperature of 4
    t = fit_temperature(over, y)
    assert t == pytest.approx(4.0, rel=0.10)
    before, after = ece(over, y), ece(apply_temperature(over, t), y)
    assert after < before / 2, (before, after)


def test_apply_temperature_keeps_argmax_and_sums_to_one():
    z, p, _ = _known_model(500, seed=1)
    for t in (0.3, 1.0, 2.5, 10.0):
        q = apply_temperature(p, t)
        assert np.array_equal(q.argmax(axis=1), p.argmax(axis=1))
        np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(apply_temperature(p, 1.0), p, atol=1e-9)
    np.testing.assert_allclose(apply_temperature(_softmax(z), 2.0), _softmax(z / 2.0), atol=1e-9)
    with pytest.raises(ValueError, match="> 0"):
        apply_temperature(p, 0.0)


def test_apply_temperature_leaves_a_row_of_zeros_at_zero():
    # restrict leaves such a row where every kept class was 0; it must not turn into NaN
    p = np.array([[0.0, 0.0, 0.0], [0.8, 0.2, 0.0]])
    q = apply_temperature(p, 2.0)
    assert not np.isnan(q).any()
    np.testing.assert_array_equal(q[0], 0.0)
    np.testing.assert_allclose(q[1], [2 / 3, 1 / 3, 0.0])
    assert np.isnan(apply_temperature(np.array([[np.nan, 0.5, 0.5]]), 2.0)).all()  # NaN stays visible


def test_ece_of_a_calibrated_set_is_small():
    _, p, y = _known_model(20000, seed=2)
    assert ece(p, y) < 0.03


def test_restrict():
    labels = ["angry", "happy", "neutral", "sad"]
    _, p, _ = _known_model(50, seed=3)
    q = restrict(p, labels, ["sad", "angry"])
    assert q.shape == (50, 2)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(q[:, 0] / q[:, 1], p[:, 3] / p[:, 0], rtol=1e-9)  # ratios kept
    with pytest.raises(ValueError, match="unknown"):
        restrict(p, labels, ["angry", "bogus"])
    with pytest.raises(ValueError, match="at least two"):
        restrict(p, labels, ["angry"])
    with pytest.raises(ValueError, match="at least two"):
        restrict(p, labels, ["angry", "angry"])


# ------------------------------------------------------------------------------------------ model dirs
def test_model_dir_stores_and_applies_its_temperature(tmp_path):
    from emovox.models.store import reseal
    from emovox.training import train_classical

    table = synthetic_table(seed=1, per=15)
    cal = {"temperature": 2.0, "uncertain_below": 0.4}
    out = train_classical(table, tmp_path / "cal", "logreg", calibration=cal)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["calibration"]["temperature"] == 2.0
    # the same model without calibration: the raw probabilities
    raw_dir = tmp_path / "raw"
    shutil.copytree(out, raw_dir)
    meta["calibration"] = None
    (raw_dir / "metadata.json").write_text(json.dumps(meta))
    reseal(raw_dir)  # metadata edited on purpose: seal it again
    model, raw = load_model(out), load_model(raw_dir)
    assert model.temperature == 2.0 and raw.temperature == 1.0
    X = table.X[::7]
    p_raw = raw.proba_from_embeddings(X)
    np.testing.assert_allclose(model.proba_from_embeddings(X), apply_temperature(p_raw, 2.0), atol=1e-6)
    # and through audio (predict_proba: no speech check)
    y = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    np.testing.assert_allclose(
        model.predict_proba(y, sr=16000),
        apply_temperature(raw.predict_proba(y, sr=16000), 2.0),
        atol=1e-6,
    )
    # an uncalibrated model stores none
    plain = train_classical(table, tmp_path / "plain", "logreg")
    assert json.loads((plain / "metadata.json").read_text())["calibration"] is None


def test_fit_calibration_softens_under_domain_shift(tmp_path):
    from emovox.training import Recipe, fit_calibration, train_classical

    table = synthetic_table(seed=0, per=30, shift=2.0, sep=1.5)  # strong corpus offsets: over-confident
    cal = fit_calibration(table, Recipe("", "logreg", {}))
    assert cal["temperature"] > 1.0, cal
    assert cal["ece_after"] < cal["ece_before"], cal
    assert "out-of-corpus" in cal["fitted_on"]
    out = train_classical(table, tmp_path / "m", "logreg", calibration=True)
    stored = json.loads((out / "metadata.json").read_text())["calibration"]
    assert stored["temperature"] == pytest.approx(cal["temperature"])
    assert load_model(out).temperature == pytest.approx(cal["temperature"])


def test_the_pooled_ece_is_named_beside_the_mean_over_folds():
    """The text report headed with the mean of the folds' ECE and the reliability diagram drew the pooled
    one (0.191 against 0.063 on EMO-DB leave one speaker out), neither saying which it was."""
    from emovox.evaluation import reliability_curves
    from emovox.training import evaluate_recipe

    from .synthetic_features import synthetic_table

    ev = evaluate_recipe(synthetic_table(seed=2, per=12, sep=1.0), "logreg", "loso", progress=False)
    (ece_line,) = [line for line in ev.table().splitlines() if line.startswith("ECE")]
    pooled = ev.pooled["ece"]
    assert (
        "mean over folds" in ece_line
        and f"{pooled:.3f} pooled, as the reliability diagram draws it" in ece_line
    )
    ((name, curve),) = reliability_curves(ev.to_dict()).items()
    assert name == "loso, folds pooled" and curve["ece"] == pooled
