"""Deep models: frame inputs, masking, a few training steps, ONNX parity, torch-free prediction."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from emovox.deep import DEEP_MODELS, FrameConfig, get_recipe
from emovox.deep.frames import FrameExtractor, fix_frames, normalize, raw_features

from .conftest import proba_without_torch, tone

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from emovox.deep.models import build_model  # noqa: E402
from emovox.deep.train import (  # noqa: E402
    export_onnx,
    fit,
    make_batch,
    onnx_parity,
    predict_proba,
    save_deep_model,
    speaker_val_split,
)

SR = 16000
FRAME_ARCHS = [("cnn1d", {"mode": "frames"}), ("cnn2d", {}), ("rescnn", {})]


def test_frame_inputs_shapes_and_normalisation():
    y = np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.1
    logmel = raw_features(y, FrameConfig("logmel", trim_db=None))
    assert logmel.shape == (1 + SR // 160, 64)
    mfcc = raw_features(
        y,
        FrameConfig(
            "mfcc", sample_rate=22050, n_fft=512, win_length=None, hop_length=256, n_mfcc=50, trim_db=None
        ),
    )
    assert mfcc.shape == (1 + SR // 256, 50)  # the tutorial's window 512 / hop 256 / 50 MFCCs (rate as given)
    assert raw_features(y, FrameConfig("mfcc", n_mfcc=50, pool="mean")).shape == (50,)
    assert raw_features(y, get_recipe("cnn1d-tutorial").frontend).shape == (162,)
    u = normalize(logmel, FrameConfig(norm="utterance"))
    assert np.allclose(u.mean(0), 0, atol=1e-4) and np.allclose(u.std(0), 1, atol=1e-3)
    assert fix_frames(logmel, 40).shape == (40, 64) and fix_frames(logmel, 200).shape == (200, 64)
    # silence trimming removes the leading / trailing quiet parts
    padded = np.concatenate([np.zeros(SR, np.float32), tone(300, 1.0), np.zeros(SR, np.float32)])
    assert raw_features(padded, FrameConfig()).shape[0] < 130


@pytest.mark.parametrize("arch,params", FRAME_ARCHS)
def test_variable_length_batches_masked_frames_do_not_change_output(arch, params):
    torch.manual_seed(0)
    net = build_model(arch, 64, 5, **params).eval()
    rng = np.random.default_rng(1)
    clips = [rng.standard_normal((n, 64)).astype(np.float32) for n in (37, 64, 50)]
    x, mask = make_batch(clips, vector=False)
    assert x.shape == (3, 1, 64, 64) and mask.sum(1).tolist() == [37, 64, 50]
    x_garbage = x.clone()
    x_garbage[mask[:, None, :, None].expand_as(x) == 0] = 1e3  # junk in the padded frames
    with torch.no_grad():
        batched = net(x, mask)
        garbage = net(x_garbage, mask)
        single = torch.cat([net(torch.from_numpy(c)[None, None]) for c in clips])
    assert batched.shape == (3, 5)
    assert torch.allclose(batched, single, atol=1e-5) and torch.allclose(garbage, single, atol=1e-5)


def _synthetic_frames(n: int = 32, seed: int = 0):
    """Two classes of log-mel-like frames: energy in low vs high bins, random lengths."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        c = i % 2
        x = rng.standard_normal((int(rng.integers(30, 60)), 64)).astype(np.float32)
        x[:, (0 if c == 0 else 32) : (32 if c == 0 else 64)] += 1.5
        X.append(x)
        y.append(["sad", "angry"][c])
    return X, np.array(y), np.array([f"s{i % 4}" for i in range(n)])


def test_speaker_validation_split_uses_whole_training_speakers():
    spk = np.array([f"s{i % 10}" for i in range(100)])
    tr, va = speaker_val_split(spk, 0.2, seed=0)
    assert len(set(spk[va])) == 2 and not set(spk[va]) & set(spk[tr]) and len(tr) + len(va) == 100


@pytest.mark.parametrize("name", ["rescnn", "cnn1d-frames"])
def test_a_few_training_steps_reduce_the_loss(name, tmp_path):
    X, y, spk = _synthetic_frames()
    recipe = get_recipe(name, epochs=5, batch_size=8, copies=0, crop_frames=None, patience=100, lr=3e-3)
    recipe.frontend = FrameConfig("logmel", norm="none")
    res = fit(X, y, spk, recipe, progress=False, checkpoint_dir=tmp_path / "ckpt")
    h = res.history
    assert len(h["loss"]) == 5 and h["loss"][-1] < h["loss"][0]
    assert res.labels == ["sad", "angry"] and res.val_speakers
    assert (tmp_path / "ckpt" / "best.safetensors").is_file() and (
        tmp_path / "ckpt" / "last.safetensors"
    ).is_file()
    assert (tmp_path / "ckpt" / "history.json").is_file()


def test_fit_logs_epochs_instead_of_printing(caplog, capsys):
    X, y, spk = _synthetic_frames()
    recipe = get_recipe("cnn1d-frames", epochs=2, batch_size=8, copies=0, patience=100)
    recipe.frontend = FrameConfig("logmel", norm="none")
    with caplog.at_level(logging.INFO, logger="emovox"):
        fit(X, y, spk, recipe, progress=False, log=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "emovox.deep.train"]
    assert [ln.split(":")[0] for ln in lines] == ["[cnn1d-frames] epoch 1", "[cnn1d-frames] epoch 2"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "emovox.deep.train")
    assert " val_ua " in lines[0] and lines[0].endswith("s")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_training_curves_figure_maps_the_history():
    from emovox.deep.train import training_curves_figure

    history = {"loss": [1.0, 0.7], "val_loss": [1.1, 0.9], "accuracy": [0.4, 0.6]}
    history |= {"val_accuracy": [0.3, 0.5], "val_ua": [0.3, 0.45], "lr": [1e-3, 1e-3], "seconds": [1.0, 1.0]}
    fig = training_curves_figure(history, "t")
    assert {ln.get_label() for ln in fig.axes[0].lines} >= {"train_loss", "val_loss"}
    assert {ln.get_label() for ln in fig.axes[1].lines} >= {"train_acc", "val_acc", "val_ua"}
    assert fig.get_suptitle() == "t"


@pytest.mark.parametrize("name", ["cnn1d", "cnn1d-frames", "cnn1d-tutorial", "cnn2d", "rescnn"])
def test_onnx_matches_torch(name):
    recipe = get_recipe(name, epochs=1, batch_size=16, copies=0)
    cfg = recipe.frontend
    rng = np.random.default_rng(2)
    if cfg.is_vector:
        X = [rng.standard_normal(cfg.n_features).astype(np.float32) for _ in range(16)]
    else:
        X = [
            rng.standard_normal((int(rng.integers(20, 90)), cfg.n_features)).astype(np.float32)
            for _ in range(16)
        ]
    y = np.array(["happy", "sad"] * 8)
    res = fit(X, y, np.array(["a", "b", "c", "d"] * 4), recipe, progress=False)
    data = export_onnx(res)
    items = [normalize(x, res.frontend) for x in X[:4]]  # different lengths: the time axis is dynamic
    assert onnx_parity(res, data, items) < 1e-4


def test_saved_model_predicts_without_torch(tmp_path):
    # tones of two pitch ranges as two "emotions", real front end on waveforms
    rng = np.random.default_rng(0)
    signals = [
        tone(float(rng.uniform(150, 250) if i % 2 else rng.uniform(900, 1200)), 0.8) for i in range(24)
    ]
    y = np.array(["sad" if i % 2 else "happy" for i in range(24)])
    recipe = get_recipe("rescnn", epochs=2, batch_size=8, copies=0)
    X = [raw_features(s, recipe.frontend) for s in signals]
    res = fit(X, y, np.array([f"s{i % 3}" for i in range(24)]), recipe, progress=False)
    out = save_deep_model(res, tmp_path / "model")
    assert {p.name for p in out.iterdir()} >= {
        "model.onnx",
        "metadata.json",
        "training_curves.png",
        "confusion.png",
        "history.json",
    }
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["frontend"]["type"] == "frames" and meta["labels"] == res.labels
    assert {"training_curves.png", "confusion.png", "history.json"} <= set(meta["files"])  # sealed too
    expected = predict_proba(res.model, [FrameExtractor(meta["frontend"])(signals[0])[0]], vector=False)[0]
    _, p = proba_without_torch(out, signals[0], tmp_path)
    assert p.shape == (1, 2) and np.allclose(p[0], expected, atol=1e-4)


def test_cli_routes_deep_models():

    from emovox.experiments import model_kind

    assert {"cnn1d", "cnn1d-tutorial", "cnn2d", "rescnn"} <= DEEP_MODELS
    assert model_kind("rescnn") == "deep" and model_kind("svm") == "features"


def test_evaluate_deep_runs_chosen_folds_and_keeps_probabilities(tone_manifest, tmp_path):
    from emovox.deep.train import evaluate_deep

    ev = evaluate_deep(
        tone_manifest,
        "rescnn",
        "kfold:3",
        cache_dir=tmp_path / "cache",
        only_folds=[1],
        progress=False,
        epochs=2,
        batch_size=8,
        copies=0,
    )
    assert len(ev.folds) == 1 and "only folds" in ev.note
    (fp,) = ev.fold_proba
    test = tone_manifest[tone_manifest["path"].isin(fp.paths)]
    assert len(test) == ev.pooled["n"] == 8 and test["speaker"].nunique() == 1  # one whole speaker held out
    assert fp.proba.shape == (8, 2) and np.allclose(fp.proba.sum(axis=1), 1.0, atol=1e-5)
    assert fp.y_true == list(test.set_index("path").loc[fp.paths, "emotion"])
    from emovox.calibration import ece

    # the calibration error is measured, as for every recipe with probabilities
    want = ece(fp.proba, [ev.labels.index(t) for t in fp.y_true])
    assert ev.folds[0]["ece"] == pytest.approx(want) and ev.summary["ece"] == pytest.approx(want)
    assert sum(ev.pooled["reliability"]["count"]) == 8
    with pytest.raises(Exception, match="cannot run folds"):
        evaluate_deep(
            tone_manifest,
            "rescnn",
            "kfold:3",
            cache_dir=tmp_path / "cache",
            only_folds=[5],
            progress=False,
            epochs=1,
        )


def test_a_model_at_22050_hz_cuts_recordings_into_segments(tmp_path):
    """cnn1d's front end runs at 22.05 kHz, a rate WebRTC's detector does not take: every recording cut into
    segments (a long one, or utterances apart by a pause) failed, and ``evaluate --trained`` skipped them."""
    from emovox.inference import load_model

    from .conftest import EMODB, need

    rng = np.random.default_rng(0)
    signals = [
        tone(float(rng.uniform(150, 250) if i % 2 else rng.uniform(900, 1200)), 0.8) for i in range(16)
    ]
    recipe = get_recipe("cnn1d", epochs=1, batch_size=8, copies=0)
    assert recipe.frontend.sample_rate == 22050
    X = [raw_features(s, recipe.frontend) for s in signals]
    y = np.array(["sad" if i % 2 else "angry" for i in range(16)])
    res = fit(X, y, np.array([f"s{i % 3}" for i in range(16)]), recipe, progress=False)
    model = load_model(save_deep_model(res, tmp_path / "model"))
    speech = need(EMODB / "wav" / "03a01Wa.flac")
    from emovox.audio import load_audio

    one = load_audio(speech, 22050)
    y = np.concatenate([one, np.zeros(2 * 22050, np.float32)] * 4)  # 4 sentences, 19 s
    assert model.by_segments(y)
    pred, segments = model.timeline_prediction(lambda: iter([y]), "four sentences")
    assert pred.ok and pred.speech and len([s for s in segments if s.speech]) == 4
    period = one.size / 22050 + 2.0  # each sentence where it is: a sentence and a pause apart
    starts = [s.start for s in segments if s.speech]
    assert np.allclose(starts, period * np.arange(4), atol=0.4), (starts, period)


def test_deep_cross_corpus_scores_each_corpus_on_its_own_emotions(tone_manifest, tmp_path):
    """Under loco a held-out corpus is scored on the emotions it has (probabilities renormalised over
    them), as for every other recipe: a corpus of angry and sad tones gets no "happy"."""
    import shutil

    from emovox.deep.train import evaluate_deep

    other = tone_manifest.copy()
    other["corpus"], other["speaker"] = "tones2", "t2:" + other["speaker"]
    other["path"] = [shutil.copy(p, tmp_path / f"b{i}.wav") for i, p in enumerate(other["path"])]
    other.loc[other.index[::4], "emotion"] = "happy"  # a third emotion, in the second corpus only
    data = pd.concat([tone_manifest, other], ignore_index=True)
    ev = evaluate_deep(
        data, "rescnn", "loco", cache_dir=tmp_path / "c", progress=False, epochs=1, batch_size=8, copies=0
    )
    held = {fp.name: fp for fp in ev.fold_proba}
    happy = ev.labels.index("happy")
    assert np.all(held["tones"].proba[:, happy] == 0)
    assert np.allclose(held["tones"].proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(ev.summary["per_corpus"]) == {"tones", "tones2"} and "ece" in ev.summary["per_corpus"]["tones"]


def test_an_unknown_architecture_is_a_parameter_error():
    from emovox.deep.models import build_model
    from emovox.errors import ParameterError

    with pytest.raises(ParameterError, match="unknown architecture 'cnn3d'; expected one of .*rescnn"):
        build_model("cnn3d", 64, 4)


def test_one_input_is_one_row_and_a_wrong_width_says_what_was_expected():
    """``DeepResult.predict_proba`` of one feature vector gave one row per feature ((50, 3)), and a fit on
    vectors of the wrong width failed inside torch ("mat1 and mat2 shapes cannot be multiplied")."""
    from emovox.errors import ParameterError

    X, y, spk = _synthetic_frames()
    recipe = get_recipe("cnn1d-frames", epochs=1, batch_size=8, copies=0, patience=100)
    recipe.frontend = FrameConfig("logmel", norm="none")
    res = fit(X, y, spk, recipe, progress=False)
    assert res.predict_proba(X[0]).shape == (1, 2)  # one (frames, bins) matrix
    assert res.predict_proba(X[:3]).shape == (3, 2) and res.predict_proba([]).shape == (0, 2)
    np.testing.assert_allclose(res.predict_proba(X[0])[0], res.predict_proba(X[:1])[0], atol=1e-6)

    vectors = get_recipe("cnn1d", epochs=1, batch_size=8, copies=0, patience=100)
    width = vectors.frontend.n_features
    V = [np.random.default_rng(i).standard_normal(width).astype(np.float32) for i in range(len(y))]
    res = fit(V, y, spk, vectors, progress=False)
    assert res.predict_proba(V[0]).shape == (1, 2) and res.predict_proba(np.stack(V[:4])).shape == (4, 2)
    with pytest.raises(ParameterError, match=f"takes {width} features per recording .*got 40"):
        fit([v[:40] for v in V], y, spk, vectors, progress=False)
