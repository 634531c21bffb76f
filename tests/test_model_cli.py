"""``emovox model``: a model's figures as its sealed metadata holds them, the headline (leave one corpus out)
first and named; ``--json`` is :meth:`EmotionModel.info`, what ``GET /v1/model`` gives."""

from __future__ import annotations

import json
import shutil

import pytest

from emovox.cli import main
from emovox.inference import load_model
from emovox.models.store import SEAL_KEY, metadata_digest

from .synthetic_features import synthetic_table


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from emovox.training import train_classical

    return train_classical(synthetic_table(seed=3, per=10), tmp_path_factory.mktemp("m") / "model", "logreg")


def test_the_default_leads_with_its_figure_on_unseen_corpora(capsys):
    meta = load_model().metadata
    head, cal = meta["headline"], meta["calibration"]
    assert main(["model"]) == 0
    out = capsys.readouterr().out.splitlines()
    row = {ln.split()[0]: i for i, ln in enumerate(out) if ln.startswith("  ") and ln[2] != " "}
    # the figure that predicts what a user sees, its protocol, each corpus; the in-domain one after it
    unseen = out[row["unseen"]]
    assert f"{100 * head['ua']:.1f} % UA (worst corpus {100 * head['ua_min']:.1f} %)" in unseen
    assert f"ECE {head['ece']:.3f}" in unseen
    assert out[row["unseen"] + 1].strip() == head["protocol"]
    per = out[row["unseen"] + 2]
    for corpus, m in head["per_corpus"].items():
        assert f"{corpus} {100 * m['ua']:.1f} %" in per
    assert row["unseen"] < row["in-domain"]
    assert f"{100 * meta['metrics']['ua']:.1f} % UA" in out[row["in-domain"]]
    assert "speaker-independent (unseen speakers" in out[row["in-domain"] + 1]
    assert f"{100 * meta['metrics_channel_adapted']['ua']:.1f} % UA" in out[row["--same-channel"]]
    assert f"temperature {cal['temperature']:.3f}" in out[row["calibration"]]
    assert "non-commercial" in "\n".join(out) and out[row["sealed"]].split()[1] == str(len(meta["files"]))


def test_json_is_the_models_info(capsys):
    assert main(["model", "classical", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    model = load_model("classical")
    assert info == json.loads(json.dumps(model.info())) | {"path": str(model.path)}
    assert info["headline"] is None and info["labels"] == model.labels


def test_a_model_without_figures_says_so_and_a_tampered_one_is_refused(trained, tmp_path, capsys):
    assert main(["model", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "unseen corpora  not measured" in out and "in-domain       not measured" in out
    assert "calibration     none" in out and "emotions        angry, happy, sad" in out
    assert "answers under 0.40 confidence are marked uncertain" in out  # (uncalibrated, it still applies)
    # stored figures that are not speaker-independent are named as such
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["metrics"] = {"protocol": "random(5)", "speaker_independent": False, "ua": 0.9, "accuracy": 0.9}
    meta[SEAL_KEY] = metadata_digest(meta)
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert main(["model", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "in-domain       90.0 % UA" in out and "random(5), NOT speaker-independent" in out
    # trained with --protocol loco: its stored figure is on unseen corpora, not in-domain
    meta["metrics"] = {
        "protocol": "loco",
        "speaker_independent": True,
        "ua": 0.5,
        "ua_min": 0.4,
        "accuracy": 0.5,
        "per_corpus": {"a": {"ua": 0.6}, "b": {"ua": 0.4}},
    }
    meta[SEAL_KEY] = metadata_digest(meta)
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert main(["model", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "unseen corpora  50.0 % UA (worst corpus 40.0 %)" in out and "a 60.0 %, b 40.0 %" in out
    assert "in-domain       not measured (its stored evaluation is the one above)" in out
    # an edit that leaves the seal as it was: refused in one line, exit 2
    meta["labels"] = ["sad", "happy", "angry"]
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert main(["model", str(copy)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(copy) in err[0]
    assert main(["model", "nope"]) == 2
    assert "nope: no such model directory or bundled model" in capsys.readouterr().err
