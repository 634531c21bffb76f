"""The default model's head: one logistic regression per block of columns, averaged into one linear model."""

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from emovox.errors import ParameterError
from emovox.models.blocklogreg import BlockLogisticRegression
from emovox.models.classical import make_classifier, to_onnx
from emovox.training import RECIPES


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    score = X[:, 0] + X[:, 5] + X[:, 9]
    y = np.array(["angry", "happy", "sad"])[np.digitize(score, [-0.7, 0.7])]
    return X, y


def test_equals_the_average_of_per_block_log_probabilities():
    X, y = _data()
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    pipe = make_classifier("blocklogreg", blocks=3, C=0.5).fit(X, y, blocklogreg__sample_weight=w)
    Z = StandardScaler().fit_transform(X)
    logs = [
        np.log(
            LogisticRegression(C=0.5, max_iter=2000, class_weight="balanced")
            .fit(Z[:, b : b + 4], y, sample_weight=w)
            .predict_proba(Z[:, b : b + 4])
        )
        for b in (0, 4, 8)
    ]
    expected = np.exp(np.mean(logs, axis=0))
    expected /= expected.sum(axis=1, keepdims=True)
    p = pipe.predict_proba(X)
    assert p.shape == (len(X), 3) and np.allclose(p.sum(axis=1), 1)
    assert np.abs(p - expected).max() < 1e-5
    assert (pipe.predict(X) == y).mean() > 0.7  # each block sees one of the three informative columns


def test_differs_from_one_regression_over_every_column():
    X, y = _data()
    block = make_classifier("blocklogreg", blocks=3, C=0.5).fit(X, y)
    whole = make_classifier("logreg", C=0.5).fit(X, y)
    assert np.abs(block.predict_proba(X) - whole.predict_proba(X)).max() > 0.05


def test_exports_to_onnx_as_one_linear_model():
    X, y = _data()
    pipe = make_classifier("blocklogreg", blocks=4, C=0.1).fit(X, y)
    sess = ort.InferenceSession(to_onnx(pipe, X.shape[1]), providers=["CPUExecutionProvider"])
    labels, proba = sess.run(None, {"input": X})
    assert np.abs(proba - pipe.predict_proba(X)).max() < 1e-5
    assert list(labels) == list(pipe.predict(X))


@pytest.mark.parametrize("blocks", [5, 0, 2.0, True])
def test_blocks_must_divide_the_columns(blocks):
    X, y = _data()
    with pytest.raises(ParameterError, match="blocks must be a positive integer dividing the 12"):
        BlockLogisticRegression(blocks=blocks).fit(X, y)


def test_the_default_recipe_uses_one_head_per_pooled_layer():
    r = RECIPES["whisper-robust"]
    assert r.classifier == "blocklogreg"
    assert r.params["blocks"] == len(r.feature_options["layers"])


def test_scikit_learn_conventions():
    """Every check of scikit-learn's estimator suite (unfitted errors, input validation, feature count)."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(BlockLogisticRegression(blocks=1), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert len(results) > 40 and not failed, failed
