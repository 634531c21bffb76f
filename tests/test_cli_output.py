"""Output a person reads: whole emotion names in tables, numbers that stay numbers."""

from __future__ import annotations

import json

import numpy as np

from emovox.evaluation import scores


def test_confusion_header_keeps_whole_emotion_names():
    from emovox.evaluation import Evaluation

    labels = ["neutral", "surprised", "disgust"]
    s = scores(["neutral", "surprised", "disgust"], ["neutral", "surprised", "neutral"], labels)
    ev = Evaluation("kfold(5)", True, labels, [s], s)
    header = ev.table().split("confusion (rows true, columns predicted):\n")[1].splitlines()[0]
    assert header.split() == labels
    rows = ev.table().split("confusion (rows true, columns predicted):\n")[1].splitlines()[1:]
    assert [len(r) for r in rows] == [len(header)] * 3  # columns line up under the names


def test_timeline_table_header_keeps_whole_emotion_names():
    from emovox.live.timeline import table_header as _table_header
    from emovox.live.timeline import table_row as _table_row
    from emovox.vad import Segment

    labels = ["neutral", "surprised"]
    header = _table_header(labels)
    assert header.split()[-2:] == labels
    seg = Segment(
        0.0, 1.5, emotion="surprised", confidence=0.7, probabilities={"neutral": 0.3, "surprised": 0.7}
    )
    assert len(_table_row(seg, labels)) == len(header)


def test_tune_parameters_stay_numbers():
    from emovox.training import plain_params as _plain

    out = json.loads(
        json.dumps(
            _plain(
                {
                    "C": np.float64(0.1),
                    "kernel": "rbf",
                    "degree": np.int64(3),
                    "gamma": "scale",
                    "class_weight": None,
                }
            )
        )
    )
    assert out == {"C": 0.1, "kernel": "rbf", "degree": 3, "gamma": "scale", "class_weight": None}
    assert isinstance(out["C"], float) and isinstance(out["degree"], int)


def test_tuning_on_speaker_folds_that_lack_an_emotion_warns_nothing():
    """``emovox tune`` printed scikit-learn's "y_pred contains classes not in y_true" once per fit, ``-q``
    or not: a speakers' fold may lack an emotion (here corpora b and c have no sad), as balanced accuracy allows."""
    import warnings

    from emovox.training import tune_classical

    from .synthetic_features import synthetic_table

    table = synthetic_table(seed=1, per=8, sep=0.7, missing={"b": "sad", "c": "sad"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = tune_classical(table, "logreg", {"logreg__C": [0.1, 1.0]}, n_splits=3)
    assert 0.3 < search.best_score_ <= 1.0
    assert not [w for w in caught if "classes not in y_true" in str(w.message)], [
        str(w.message) for w in caught
    ]
