"""Channel (batch) adaptation and domain alignment on synthetic domain shifts with known answers.

A "corpus" here is a domain: every recording of it shares an offset and a scale (microphone, room,
language). Training aligns the training domains (:func:`emovox.adaptation.align_domains`); a batch from
a new domain is adapted as one session (``--same-channel``, the EM of :mod:`emovox.adaptation`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emovox.adaptation import adapt_proba, align_domains, class_means
from emovox.training import FeatureTable, Recipe, evaluate_recipe

CENTRES = 2.5 * np.eye(4, 8)


def domain(n_per_class: int, offset: np.ndarray, scale: float, seed: int, classes=(0, 1, 2, 3)):
    rng = np.random.default_rng(seed)
    X = np.vstack([(CENTRES[c] + rng.normal(0, 0.8, (n_per_class, 8))) * scale + offset for c in classes])
    y = np.repeat([f"e{c}" for c in classes], n_per_class)
    return X, y


def test_align_domains_puts_every_domain_on_the_average_one():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (200, 3))
    b = rng.normal(10, 3, (300, 3))
    out = align_domains(np.vstack([a, b]), ["a"] * 200 + ["b"] * 300)
    mean = (a.mean(0) + b.mean(0)) / 2  # about 5: the mean of the domains' means, whatever their sizes
    sd = (a.std(0) + b.std(0)) / 2  # about 2
    for rows in (slice(0, 200), slice(200, 500)):
        assert np.allclose(out[rows].mean(0), mean, atol=1e-9)
        assert np.allclose(out[rows].std(0), sd, atol=1e-9)
    assert np.allclose(mean, 5.0, atol=0.3) and np.allclose(sd, 2.0, atol=0.2)


def test_batch_adaptation_recovers_the_clean_accuracy_on_a_shifted_domain():
    from sklearn.linear_model import LogisticRegression

    X, y = domain(100, np.zeros(8), 1.0, seed=0)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    means = class_means(X, y, clf.classes_)
    Xc, yc = domain(60, np.zeros(8), 1.0, seed=1)
    clean = (clf.predict(Xc) == yc).mean()
    shift = np.array([2.0, -1.5, 1.0, 2.0, -2.0, 1.5, 0.5, -1.0])  # a new channel: one offset for the batch
    shifted = (clf.predict(Xc + shift) == yc).mean()
    adapted = (clf.classes_[adapt_proba(Xc + shift, clf.predict_proba, means).argmax(1)] == yc).mean()
    assert clean > 0.9 and shifted < clean - 0.2  # the shift hurts ...
    assert adapted > clean - 0.03  # ... and adapting the batch as one session undoes it


def test_batch_of_one_emotion_is_not_wrecked():
    """A batch holding a single emotion is the hard case for any batch normalisation: plain mean
    subtraction moves every recording onto the average class; the EM estimate keeps most of them right
    (here 2 in 3)."""
    from sklearn.linear_model import LogisticRegression

    X, y = domain(100, np.zeros(8), 1.0, seed=0)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    means = class_means(X, y, clf.classes_)
    Xa, ya = domain(60, np.zeros(8), 1.0, seed=2, classes=(0,))
    shift = np.full(8, 0.7)
    adapted = (clf.classes_[adapt_proba(Xa + shift, clf.predict_proba, means).argmax(1)] == ya).mean()
    centred = Xa + shift - (Xa + shift).mean(0) + X.mean(0)
    plain_subtraction = (clf.predict(centred) == ya).mean()
    assert adapted > 0.6 and adapted > plain_subtraction + 0.3


@pytest.fixture(scope="module")
def three_domains() -> FeatureTable:
    """Three training-style corpora with different offsets and scales, 4 emotions each."""
    rows, Xs = [], []
    for k, (offset, scale) in enumerate([(0.0, 1.0), (3.0, 1.6), (-2.0, 0.7)]):
        X, y = domain(40, np.full(8, offset) * np.linspace(-1, 1, 8), scale, seed=10 + k)
        Xs.append(X)
        rows += [
            {"path": f"c{k}/{i}.wav", "corpus": f"c{k}", "speaker": f"c{k}:{i % 4}", "emotion": e}
            for i, e in enumerate(y)
        ]
    return FeatureTable(
        np.vstack(Xs).astype(np.float32),
        pd.DataFrame(rows),
        [f"f{i}" for i in range(8)],
        {"type": "synthetic"},
        [],
    )


def test_aligned_training_then_batch_adaptation_recovers_an_unseen_corpus(three_domains):
    """Whether aligning the training corpora helps one file at a time depends on the corpora (it does on
    the real ones: BENCHMARKS.md); what must hold is that an aligned model, adapted to an unseen corpus
    as one batch, is about as good as on its own training domains."""
    recipe = Recipe("", "logreg", {"C": 1.0}, align="corpus")
    aligned = evaluate_recipe(three_domains, recipe, "loco", progress=False)
    adapted = evaluate_recipe(three_domains, recipe, "loco", adapt="corpus", progress=False)
    assert aligned.cross_corpus and set(aligned.summary["per_corpus"]) == {"c0", "c1", "c2"}
    assert adapted.summary["ua"] > aligned.summary["ua"] + 0.1
    assert adapted.summary["ua_min"] > 0.85


def test_corpus_adaptation_is_named_in_the_protocol(three_domains):
    ev = evaluate_recipe(
        three_domains,
        Recipe("", "logreg", {"C": 1.0}, align="corpus"),
        "loco",
        adapt="corpus",
        progress=False,
    )
    assert ev.protocol == "loco+corpus-adapted"
    assert "corpus-adapted" in ev.note and "unlabelled" in ev.note
