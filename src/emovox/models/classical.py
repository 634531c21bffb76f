"""Classical estimators as scikit-learn pipelines, standardised, exportable to ONNX.

>>> from emovox.models.classical import make_classifier
>>> make_classifier("svm").steps[-1][0]
'svm'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ModelError


@contextmanager
def quiet_fit() -> Iterator[None]:
    """Silence, while emovox fits (and exports) its own pipelines (never globally: a user's own
    scikit-learn code keeps them), the two warnings about choices emovox makes on purpose.

    - scikit-learn 1.9 deprecates ``SVC(probability=True)`` in favour of a calibrated wrapper that skl2onnx
      cannot export as one graph yet; the behaviour is unchanged until 1.11, which pyproject excludes.
    - The tutorials' MLP batch of 256 is clipped to a small training set, as it should be: not a warning a
      user can act on (it printed through ``-q``, once per fit).

    Examples
    --------
    >>> import numpy as np
    >>> with quiet_fit():
    ...     _ = make_classifier("svm").fit(np.random.default_rng(0).normal(size=(20, 3)), [0, 1] * 10)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*probability.*deprecated|.*deprecated.*probability", category=FutureWarning
        )
        warnings.filterwarnings("ignore", message="Got `batch_size` less than 1 or larger than sample size")
        yield


# The tutorials' grid-searched MLP (hidden (300,), alpha 0.01, batch 256, adaptive rate, 500 iterations).
TUTORIAL_MLP = {
    "hidden_layer_sizes": (300,),
    "alpha": 0.01,
    "batch_size": 256,
    "epsilon": 1e-08,
    "learning_rate": "adaptive",
    "max_iter": 500,
}


def _factories() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    from .blocklogreg import BlockLogisticRegression

    return {
        "mlp": lambda seed, **p: MLPClassifier(**{**TUTORIAL_MLP, "random_state": seed, **p}),
        "svm": lambda seed, **p: SVC(
            **{
                "C": 10.0,
                "gamma": "scale",
                "kernel": "rbf",
                "probability": True,
                "class_weight": "balanced",
                "random_state": seed,
                **p,
            }
        ),
        "logreg": lambda seed, **p: LogisticRegression(
            **{"C": 0.1, "max_iter": 2000, "class_weight": "balanced", **p}
        ),
        "blocklogreg": lambda seed, **p: BlockLogisticRegression(**{"class_weight": "balanced", **p}),
        "rf": lambda seed, **p: RandomForestClassifier(
            **{"n_estimators": 300, "class_weight": "balanced", "n_jobs": -1, "random_state": seed, **p}
        ),
        "gb": lambda seed, **p: HistGradientBoostingClassifier(
            **{"max_iter": 200, "learning_rate": 0.1, "random_state": seed, **p}
        ),
    }


CLASSICAL = ("mlp", "svm", "logreg", "rf", "gb")  # blocklogreg: reached through whisper-robust

#: Grids for ``emovox tune`` (keys are pipeline parameter names).
GRIDS: dict[str, dict[str, list]] = {
    "svm": {"svm__C": [1.0, 3.0, 10.0, 30.0], "svm__gamma": ["scale", 0.001, 0.003]},
    "logreg": {"logreg__C": [0.01, 0.03, 0.1, 0.3, 1.0]},
    "blocklogreg": {"blocklogreg__C": [0.003, 0.01, 0.03, 0.1]},
    "mlp": {"mlp__alpha": [0.001, 0.01, 0.1], "mlp__hidden_layer_sizes": [(300,), (256, 128)]},
    "rf": {"rf__n_estimators": [200, 500], "rf__max_features": ["sqrt", 0.2]},
    "gb": {"gb__learning_rate": [0.05, 0.1], "gb__max_iter": [100, 300]},
}


def make_classifier(name: str, *, scale: bool = True, seed: int = 0, **params: Any):
    """A ``Pipeline([("scale", StandardScaler()), (name, estimator)])`` for a classical model.

    Parameters
    ----------
    name : {"mlp", "svm", "logreg", "blocklogreg", "rf", "gb"}
        The estimator; ``mlp`` has the tutorials' parameters.
    scale : bool
        Standardise features first (the tutorials did not; emovox does by default).
    seed : int
        Random state of the estimator.
    **params
        Overrides of the estimator's parameters.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; an unknown ``name`` or parameter name raises :class:`~emovox.errors.ModelError` here, a
        bad value scikit-learn's ``InvalidParameterError`` (a ``ValueError``) at ``fit``, as its estimators do.

    Examples
    --------
    >>> [step for step, _ in make_classifier("logreg").steps]
    ['scale', 'logreg']
    >>> [step for step, _ in make_classifier("svm", scale=False).steps]
    ['svm']
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    factories = _factories()
    if name not in factories:
        raise ModelError(f"unknown classical model {name!r}; expected one of {', '.join(factories)}")
    steps = [("scale", StandardScaler())] if scale else []
    try:
        steps.append((name, factories[name](seed, **params)))
    except TypeError as exc:
        raise ModelError(f"bad parameter for {name}: {exc}") from None
    return Pipeline(steps)


def to_onnx(pipeline, n_features: int) -> bytes:
    """Serialise a fitted pipeline to ONNX bytes with outputs ``label`` and ``probabilities``.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted pipeline of :func:`make_classifier` (a ``blocklogreg`` is stored as its combined linear model).
    n_features : int
        Width of the float input ``input``.

    Returns
    -------
    bytes
        The serialised ONNX model (opsets 17 and ai.onnx.ml 3; probabilities as a tensor, not a zipmap).
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    from .blocklogreg import BlockLogisticRegression

    clf = pipeline.steps[-1][1]
    if isinstance(clf, BlockLogisticRegression):  # stored as the one linear model it is
        from sklearn.pipeline import Pipeline

        clf = clf.combined_
        pipeline = Pipeline([*pipeline.steps[:-1], (pipeline.steps[-1][0], clf)])
    with quiet_fit():  # (the SVC's probA_ / probB_, which the graph needs, warn as deprecated)
        onx = convert_sklearn(
            pipeline,
            initial_types=[("input", FloatTensorType([None, n_features]))],
            options={id(clf): {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    return onx.SerializeToString()
