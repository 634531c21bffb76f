"""Channel (batch) adaptation and domain alignment on synthetic domain shifts with known answers.

A "corpus" here is a domain: every recording of it shares an offset and a scale (microphone, room,
language). Training aligns the training domains (:func:`emovox.adaptation.align_domains`); a batch from
a new domain is adapted as one session (``--same-channel``, the EM of :mod:`emovox.adaptation`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emovox.adaptation import GATE, adapt_proba, adaptation_weight, align_domains, class_means
from emovox.errors import ParameterError
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
    # --same-channel's gate: a batch whose predictions still spread over the emotions is adapted fully
    milder = Xc + shift / 2
    assert (clf.predict(milder) == yc).mean() < clean - 0.08
    assert adaptation_weight(clf.predict_proba(milder), GATE) == 1.0
    gated = (clf.classes_[adapt_proba(milder, clf.predict_proba, means, gate=GATE).argmax(1)] == yc).mean()
    assert gated > clean - 0.03


def test_channel_gate_leaves_a_batch_of_one_emotion_as_it_is():
    """On a batch of one emotion, the full estimate takes part of the emotion out with the offset (a third of
    the recordings flip); the gate of --same-channel sees predictions piled on one emotion and removes nothing."""
    from sklearn.linear_model import LogisticRegression

    X, y = domain(100, np.zeros(8), 1.0, seed=0)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    means = class_means(X, y, clf.classes_)
    Xa, ya = domain(60, np.zeros(8), 1.0, seed=2, classes=(0,))
    Xa = Xa + np.full(8, 0.7)
    plain = (clf.predict(Xa) == ya).mean()
    full = (clf.classes_[adapt_proba(Xa, clf.predict_proba, means).argmax(1)] == ya).mean()
    gated = adapt_proba(Xa, clf.predict_proba, means, gate=GATE)
    assert adaptation_weight(clf.predict_proba(Xa), GATE) == 0.0
    assert np.allclose(gated, clf.predict_proba(Xa)) and plain > 0.9 and full < plain - 0.2


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
    as one batch, gains (as far as the gate allows: these domains' offsets are strong enough to pile some
    predictions onto one emotion, so part of the offset stays)."""
    recipe = Recipe("", "logreg", {"C": 1.0}, align="corpus")
    aligned = evaluate_recipe(three_domains, recipe, "loco", progress=False)
    adapted = evaluate_recipe(three_domains, recipe, "loco", adapt="corpus", progress=False)
    assert aligned.cross_corpus and set(aligned.summary["per_corpus"]) == {"c0", "c1", "c2"}
    assert adapted.summary["ua"] > aligned.summary["ua"] + 0.05
    for c, row in aligned.summary["per_corpus"].items():  # and no mixed corpus loses
        assert adapted.summary["per_corpus"][c]["ua"] >= row["ua"] - 0.01


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


def test_same_channel_on_real_recordings_of_one_emotion(emodb_manifest):
    """The default model, ten angry EMO-DB recordings scored as one channel: their predictions pile onto
    anger, so --same-channel leaves them as scored one at a time. So does --same-speaker with the default,
    whose metadata gates a speaker's session too (adaptation.gate): its whole offset took the anger out
    (RAVDESS angry sessions of one actor: 174 of 192 right alone, 104 adapted); without the gate it moves
    them."""
    import emovox

    model = emovox.load_model("default")
    assert model.adapt_gate == GATE
    paths = list(emodb_manifest[emodb_manifest["emotion"] == "angry"]["path"][:10])

    def probabilities(**session):
        preds = list(model.predict_files(paths, **session))
        return np.array([[p.probabilities[k] for k in model.labels] for p in preds]), preds

    plain, _ = probabilities()
    as_channel, channel = probabilities(same_channel=True)
    as_speaker, _ = probabilities(same_speaker=True)
    assert np.allclose(as_channel, plain, atol=1e-5) and np.allclose(as_speaker, plain, atol=1e-5)
    assert sum(p.label == "angry" for p in channel) >= 8
    model.adapt_gate = None  # the whole offset, as a model without the gate removes it
    whole, preds = probabilities(same_speaker=True)
    assert np.abs(whole - plain).max() > 0.05 and sum(p.label == "angry" for p in preds) < 8


def test_gate_spread_is_judged_over_the_kept_emotions_and_checked():
    # a batch spread evenly over 4 of 7 emotions: 0.71 of the full spread (scored as it is), all of it over those 4
    p = np.zeros((8, 7))
    p[np.arange(8), np.arange(8) % 4] = 1.0
    p = 0.96 * p + 0.04 / 7
    assert adaptation_weight(p, GATE) == 0.0
    assert adaptation_weight(p, GATE, keep=[0, 1, 2, 3]) == 1.0
    assert adaptation_weight(p, GATE, keep=np.arange(7) < 4) == 1.0
    assert adaptation_weight(p, None) == 1.0
    for bad in [(1.0, 1.0), (0.9, 0.8), (-0.1, 0.5)]:
        with pytest.raises(ParameterError, match="gate must be"):
            adaptation_weight(p, bad)
    with pytest.raises(ParameterError, match="do not match"):
        adapt_proba(np.zeros((1, 3)), lambda X: np.ones((len(X), 2)) / 2, np.zeros((2, 4)), gate=GATE)


def test_cli_same_channel_on_a_batch_and_a_timeline_of_one_emotion(emodb_manifest, tmp_path):
    """--same-channel is its own option at the CLI, for files and for --timeline: on recordings of one
    emotion the gate leaves the scores as they are one at a time (and --same-speaker, with the default)."""
    import json
    import subprocess
    import sys

    import soundfile as sf

    paths = list(emodb_manifest[emodb_manifest["emotion"] == "angry"]["path"][:6])
    cli = [sys.executable, "-m", "emovox.cli", "predict"]

    def probs(extra, inputs):
        proc = subprocess.run([*cli, *inputs, "--json", *extra], capture_output=True, text=True)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return json.loads(proc.stdout)

    def table(rows):
        return np.array([[r["probabilities"][k] for k in sorted(r["probabilities"])] for r in rows])

    plain, channel = probs([], paths), probs(["--same-channel"], paths)
    assert np.allclose(table(plain), table(channel), atol=1e-4)
    # and it says so: how much of the offset was removed, and why none
    proc = subprocess.run([*cli, *paths, "--same-channel"], capture_output=True, text=True)
    assert (
        "adapted to the channel of 6 recordings: 0 % of its estimated offset removed (their predictions "
        "spread over too few of the emotions, as one emotion's would; a small batch cannot look mixed)"
        in proc.stderr
    )
    assert np.allclose(table(probs(["--same-speaker"], paths)), table(plain), atol=1e-4)
    # one recording: scored as it is, and said so rather than silently
    proc = subprocess.run([*cli, paths[0], "--same-speaker"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1
    assert "nothing to adapt to: one recording; adapting to a speaker needs several" in proc.stderr

    audio = [sf.read(p)[0] for p in paths]
    rec = tmp_path / "angry.wav"
    gap = np.zeros(8000)
    sf.write(rec, np.concatenate([np.concatenate([a, gap]) for a in audio]), 16000)
    line, chan = (probs(extra, [str(rec), "--timeline"])[0]["segments"] for extra in ([], ["--same-channel"]))
    assert len(line) == len(chan) >= 3
    assert np.allclose(table(line), table(chan), atol=1e-4)


def test_evaluate_same_channel_scores_as_predict_does(emodb_manifest, emovo_manifest, tmp_path):
    """``evaluate --trained MODEL --same-channel``: each corpus of the data is one channel, its predictions
    those of ``predict_files(..., same_channel=True)`` on that corpus's files; the protocol says so, and the
    run records which model was scored. The CLI takes the option and refuses it beside --speaker-adapt."""
    import json
    import subprocess
    import sys

    import emovox
    from emovox.errors import CorpusError
    from emovox.evaluation import evaluate_model

    picks = [m.groupby("emotion").head(3) for m in (emodb_manifest, emovo_manifest)]
    model = emovox.load_model("default")
    data = pd.concat(picks, ignore_index=True).query("emotion in @model.labels")
    ev, failed = evaluate_model(model, data, same_channel=True)
    plain, _ = evaluate_model(model, data)
    # a directory as --trained takes it, and same_speaker= as predict_files and experiments.evaluate name it
    by_path, _ = evaluate_model(str(model.path), data, same_speaker=True)
    speaker, _ = evaluate_model(model, data, speaker_adapt=True)
    assert by_path.summary == speaker.summary and by_path.protocol == speaker.protocol
    assert not failed and ev.protocol == "scored(emodb+emovo)+corpus-adapted"  # its own corpora
    assert ev.recipe["adaptation"] == "corpus" and ev.recipe["name"] == "default"
    got = {r["path"]: r for r in ev.predictions}
    for corpus, part in data.groupby("corpus"):
        for p in model.predict_files(list(part["path"]), same_channel=True):
            assert got[p.source]["predicted"] == p.label
            assert got[p.source]["fold"] == corpus
            for lab in model.labels:
                if f"p_{lab}" in got[p.source]:
                    assert abs(got[p.source][f"p_{lab}"] - p.probabilities[lab]) < 1e-6
    # a batch spread over the emotions is adapted: the probabilities move
    moved = [abs(a["p_angry"] - b["p_angry"]) for a, b in zip(ev.predictions, plain.predictions, strict=True)]
    assert max(moved) > 0.01 and plain.protocol == "scored(emodb+emovo)"

    manifest = tmp_path / "m.csv"
    data.to_csv(manifest, index=False)
    cli = [sys.executable, "-m", "emovox.cli", "evaluate", str(manifest), "--trained", "default"]
    out = tmp_path / "ev.json"
    proc = subprocess.run([*cli, "--same-channel", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(out.read_text())
    assert saved["protocol"].endswith("+corpus-adapted")
    assert abs(saved["ua"] - ev.summary["ua"]) < 1e-9 and saved["recipe"]["adaptation"] == "corpus"
    with pytest.raises(
        CorpusError, match="'corpus' column"
    ):  # as a recipe's evaluation: no corpus, no channel
        evaluate_model(model, data.drop(columns="corpus"), same_channel=True)
    proc = subprocess.run([*cli, "--same-channel", "--speaker-adapt"], capture_output=True, text=True)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr and "Traceback" not in proc.stderr


def test_evaluate_recipe_same_channel(emodb_manifest, emovo_manifest, tmp_path):
    """``evaluate(..., same_channel=True)``: a recipe under loco, each held-out corpus adapted as one
    channel; refused for deep models and beside ``speaker_adapt``."""
    from emovox.experiments import evaluate

    data = pd.concat(
        [m.groupby("emotion").head(8) for m in (emodb_manifest, emovo_manifest)], ignore_index=True
    )
    opts = {"progress": False, "cache_dir": tmp_path, "n_jobs": 2}
    ev, failures = evaluate(data, "logreg", "loco", same_channel=True, **opts)
    assert not failures and ev.protocol == "loco+corpus-adapted"
    assert ev.recipe["speaker_adaptation"] == "corpus" and set(ev.summary["per_corpus"]) == {"emodb", "emovo"}
    assert ev.recipe["name"] == ev.recipe["model"] == "logreg"
    with pytest.raises(ParameterError, match="--same-channel cannot be used with deep"):
        evaluate(data, "cnn1d", "loco", same_channel=True, **opts)
    with pytest.raises(ParameterError, match="choose one"):
        evaluate(data, "logreg", "loco", same_channel=True, speaker_adapt=True, **opts)
