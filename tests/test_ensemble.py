"""Ensembles: probabilities averaged over members, in evaluation and in a saved model directory."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emovox.errors import ModelError
from emovox.evaluation import Evaluation, FoldProba
from emovox.models.ensemble import combine, evaluate_ensemble, member_names, save_ensemble

from .conftest import proba_without_torch


def _member(labels, folds):
    """An evaluation with given per-fold (paths, truth, probabilities); its own scores are not needed."""
    fps = [FoldProba(name, paths, truth, np.asarray(p, float)) for name, paths, truth, p in folds]
    return Evaluation(
        "test",
        True,
        labels,
        [
            {"fold": fp.name, "shared_speakers": 0, "ua": 0, "accuracy": 0, "macro_f1": 0, "n": 1}
            for fp in fps
        ],
        {},
        fold_proba=fps,
    )


def test_combine_averages_probabilities_with_weights_and_label_orders():
    truth = ["sad", "angry", "sad", "angry"]
    paths = ["a", "b", "c", "d"]
    # member A: right on a, b, c; wrong on d.  Member B (columns in the other order): right on d only,
    # but very sure of it, and unsure elsewhere.
    a = _member(["sad", "angry"], [("f1", paths, truth, [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])])
    b = _member(
        ["angry", "sad"], [("f1", paths, truth, [[0.55, 0.45], [0.55, 0.45], [0.55, 0.45], [0.95, 0.05]])]
    )
    only_a = combine([a, b], [1, 0])
    assert only_a.labels == ["sad", "angry"]  # canonical emotion order, whatever the members' order
    assert only_a.folds[0]["accuracy"] == pytest.approx(0.75)
    assert combine([a, b], [0, 1]).folds[0]["accuracy"] == pytest.approx(0.5)
    both = combine([a, b])
    # mean probability of "sad": a .675, b .325, c .525, d .375 -> sad, angry, sad, angry: all right
    assert both.folds[0]["accuracy"] == 1.0 and both.folds[0]["ua"] == 1.0
    p = both.fold_proba[0].proba
    assert np.allclose(p.sum(axis=1), 1.0) and p[:, 0] == pytest.approx([0.675, 0.325, 0.525, 0.375])
    assert both.recipe["weights"] == [1.0, 1.0]
    # each recording's averaged answer, for `evaluate --predictions` (it wrote a header only)
    assert [(r["path"], r["predicted"], r["p_sad"]) for r in both.predictions] == [
        ("a", "sad", 0.675),
        ("b", "angry", 0.325),
        ("c", "sad", 0.525),
        ("d", "angry", 0.375),
    ]
    with pytest.raises(Exception, match="kept no per-recording predictions"):
        a.write_predictions("p.csv")
    a.cross_corpus = b.cross_corpus = True  # loco: a figure per held-out corpus, as the members have
    assert combine([a, b]).cross_corpus


def test_combine_scores_a_row_only_a_weightless_member_read():
    # member B failed recording "b"; with B weighing everything, A's answer is all "b" has: no NaN row
    truth = ["sad", "angry"]
    a = _member(["sad", "angry"], [("f1", ["a", "b"], truth, [[0.9, 0.1], [0.3, 0.7]])])
    b = _member(["sad", "angry"], [("f1", ["a"], truth[:1], [[0.6, 0.4]])])
    ev = combine([a, b], [0, 1])
    p = ev.fold_proba[0].proba
    assert not np.isnan(p).any()
    np.testing.assert_allclose(p, [[0.6, 0.4], [0.3, 0.7]])
    assert ev.folds[0]["accuracy"] == 1.0


def test_combine_refuses_mismatched_folds_and_bad_weights():
    a = _member(["sad", "angry"], [("f1", ["a"], ["sad"], [[0.9, 0.1]])])
    b = _member(["sad", "angry"], [("f2", ["a"], ["sad"], [[0.9, 0.1]])])
    with pytest.raises(ModelError, match="same folds"):
        combine([a, b])
    with pytest.raises(ModelError, match="non-negative"):
        combine([a, a], [1, -1])
    with pytest.raises(ModelError, match="unknown member 'nope'"):
        member_names("rescnn+nope")
    with pytest.raises(ModelError, match="two or more different"):
        member_names("svm+svm")


@pytest.fixture(scope="module")
def emodb_four(emodb_manifest):
    """Four EMO-DB speakers: small enough to cross-validate in seconds."""
    keep = sorted(emodb_manifest["speaker"].unique())[:4]
    return emodb_manifest[emodb_manifest["speaker"].isin(keep)].reset_index(drop=True)


def test_evaluate_ensemble_on_real_corpus(emodb_four, tmp_path):
    ev = evaluate_ensemble(emodb_four, "logreg+mlp", "loso", cache_dir=tmp_path, progress=False)
    assert ev.speaker_independent and [f["fold"] for f in ev.folds] == [
        f["fold"] for f in ev.members["logreg"].folds
    ]
    assert set(ev.members) == {"logreg", "mlp"}
    n = sum(len(fp.paths) for fp in ev.fold_proba)
    assert n == len(emodb_four) == ev.pooled["n"]
    # each fold's scores are those of the averaged member probabilities
    for k, fp in enumerate(ev.fold_proba):
        mean = sum(m.fold_proba[k].proba for m in ev.members.values()) / 2
        assert np.allclose(fp.proba, mean)
        pred = np.array(ev.labels)[mean.argmax(axis=1)]
        assert ev.folds[k]["accuracy"] == pytest.approx(np.mean(pred == np.array(fp.y_true)))
    # four unseen speakers, seven emotions: far above chance (14 %) for both members and the ensemble
    assert min(ev.summary["ua"], *(m.summary["ua"] for m in ev.members.values())) > 0.4
    # its calibration error, from the averaged probabilities (it had none, and --reliability failed late)
    from emovox.calibration import ece

    index = {lab: i for i, lab in enumerate(ev.labels)}
    for f, fp in zip(ev.folds, ev.fold_proba, strict=True):
        assert f["ece"] == pytest.approx(ece(fp.proba, [index[t] for t in fp.y_true]))
    assert 0 < ev.summary["ece"] < 1 and "reliability" in ev.pooled


def test_ensemble_directory_predicts_the_mean_of_its_members_without_torch(tone_manifest, tmp_path, capsys):
    pytest.importorskip("torch")
    from emovox.deep.train import train_deep
    from emovox.inference import load_model
    from emovox.training import compute_features, resolve_recipe, train_classical

    # canonical label order (sad, angry) differs from scikit-learn's (angry, sad)
    df = tone_manifest
    deep, _ = train_deep(
        df,
        "rescnn",
        tmp_path / "cnn",
        cache_dir=tmp_path / "cache",
        progress=False,
        epochs=2,
        batch_size=8,
        copies=0,
    )
    table = compute_features(df, resolve_recipe("logreg"), cache_dir=tmp_path / "cache", progress=False)
    classical = train_classical(table, tmp_path / "lr", "logreg")
    out = save_ensemble(tmp_path / "ens", {"cnn": deep, "lr": classical}, weights=[1, 3])
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["kind"] == "ensemble" and meta["labels"] == ["sad", "angry"]

    clip = df["path"].iloc[1]
    members = [load_model(out / "cnn"), load_model(out / "lr")]
    p_cnn, p_lr = (dict(zip(m.labels, m.predict_proba(clip)[0], strict=True)) for m in members)
    expected = [(p_cnn[lab] + 3 * p_lr[lab]) / 4 for lab in ("sad", "angry")]
    labels, p = proba_without_torch(out, clip, tmp_path)
    assert labels == ["sad", "angry"] and np.allclose(p, expected, atol=1e-6)
    # emovox model describes it, its members' files counted in its size
    from emovox.cli import main

    assert main(["model", str(out)]) == 0
    text = capsys.readouterr().out
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    top = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    assert f"{size / 1e6:.1f}" != f"{top / 1e6:.1f}", (size, top)  # (the check below can tell them apart)
    assert f"{size / 1e6:.1f} MB)" in text and "emotions        sad, angry" in text and "ensemble" in text

    # a changed member file is refused, naming the file
    onnx = out / "lr" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=r"lr/model.onnx: size mismatch"):
        load_model(out)


def test_cli_refuses_feature_options_for_an_ensemble(emodb_root):

    from emovox.experiments import model_kind

    assert model_kind("rescnn+compare-logreg") == "ensemble"
    assert model_kind("rescnn") != "ensemble"
    # refused by the CLI's argument check, before any work
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "evaluate",
            str(emodb_root),
            "--model",
            "rescnn+svm",
            "--trim-db",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        proc.returncode == 2
        and "cannot be used with ensemble models: each member uses its own recipe's features" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "evaluate", str(emodb_root), "--model", "svm+nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "unknown member 'nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_trains_an_ensemble_past_a_bad_file(emodb_four, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    rows = emodb_four.groupby("speaker").head(8)[["path", "emotion", "speaker", "corpus"]]
    manifest = tmp_path / "m.csv"
    pd.concat(
        [rows, pd.DataFrame([{"path": str(bad), "emotion": "sad", "speaker": "x", "corpus": "emodb"}])]
    ).to_csv(manifest, index=False)
    out = tmp_path / "ens"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "train",
            str(manifest),
            "--model",
            "logreg+rf",
            "--protocol",
            "none",
            "--cache-dir",
            str(tmp_path / "cache"),
            "-o",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr  # trained, but says a file was left out
    assert "broken.wav" in proc.stderr and "Traceback" not in proc.stderr
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["training"]["n_utterances"] == len(rows)
    from emovox.inference import load_model

    p = load_model(out).predict_proba(rows["path"].iloc[0])
    assert p.shape == (1, len(meta["labels"])) and p.sum() == pytest.approx(1.0)
