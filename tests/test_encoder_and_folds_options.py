"""README commands outside the repository layout: ``--encoder`` reaches Whisper features however they
were chosen, and ``--protocol emobox`` says how to point at the folds when it cannot find them."""

from __future__ import annotations

import pandas as pd
import pytest

from emovox.cli import main
from emovox.errors import CorpusError, ModelError


def _recipe(**kw):
    """The recipe the CLI's ``--model`` / ``--features`` / ``--encoder`` give (its features go through
    :func:`emovox.experiments.feature_table`, which looks the recipe up with :func:`emovox.recipes.get_recipe`)."""
    from emovox.recipes import get_recipe

    args = dict(model=None, features=None, encoder=None, trim_db=None) | kw
    return get_recipe(args.pop("model") or "svm", **args).spec


@pytest.mark.parametrize(
    "kw, features",
    [
        (dict(features="whisper", encoder="openai/whisper-base"), "whisper:openai/whisper-base"),
        (dict(encoder="/ckpt/w"), "whisper:/ckpt/w"),
        (dict(model="whisper-active", encoder="/ckpt/w"), "whisper:/ckpt/w"),
        (dict(model="whisper-probe", features="whisper", encoder="/ckpt/w"), "whisper:/ckpt/w"),
        (dict(features="whisper:/ckpt/w", encoder="/ckpt/w"), "whisper:/ckpt/w"),
        (dict(features="whisper:/ckpt/w"), "whisper:/ckpt/w"),
        (dict(model="whisper-active"), "whisper"),
        (dict(features="egemaps"), "egemaps"),
    ],
)
def test_encoder_applies_to_whisper_features(kw, features):
    assert _recipe(**kw).features == features


def test_whisper_active_keeps_its_recipe_with_encoder():
    plain, chosen = _recipe(model="whisper-active"), _recipe(model="whisper-active", encoder="/ckpt/w")
    assert (chosen.classifier, chosen.params, chosen.feature_options, chosen.augment) == (
        plain.classifier,
        plain.params,
        plain.feature_options,
        plain.augment,
    )


@pytest.mark.parametrize(
    "kw, words",
    [
        (dict(features="emovox", encoder="/ckpt/w"), ["encoder /ckpt/w", "'emovox'", "features 'whisper'"]),
        (dict(model="svm", features="compare", encoder="/ckpt/w"), ["encoder /ckpt/w", "'compare'"]),
        (dict(features="whisper:/a", encoder="/b"), ["two checkpoints", "/a", "/b"]),
    ],
)
def test_encoder_with_other_features_is_refused(kw, words):
    with pytest.raises(ModelError) as info:
        _recipe(**kw)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_features_cli_uses_encoder(tmp_path, capsys):
    """``features --features whisper --encoder X`` loads X (a missing one is named), not the default."""
    from emovox.corpora import scan, write_manifest

    from .conftest import RAVDESS, need

    df = scan(need(RAVDESS), "ravdess", audio_info=False)[0].head(2)
    assert len(df) == 2
    write_manifest(df, tmp_path / "m.csv")
    missing = tmp_path / "no-such-whisper"
    code = main(
        [
            "features",
            str(tmp_path / "m.csv"),
            "--features",
            "whisper",
            "--encoder",
            str(missing),
            "-o",
            str(tmp_path / "f.csv"),
            "-q",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and str(missing) in err[0], err
    assert not (tmp_path / "f.csv").exists()


def _manifest(corpus="ravdess") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["a.wav", "b.wav"],
            "corpus": corpus,
            "utt_id": ["a", "b"],
            "speaker": ["1", "2"],
            "emotion": ["angry", "sad"],
        }
    )


def test_emobox_without_folds_says_how_to_point_at_them(tmp_path, monkeypatch):
    from emovox.splits import make_protocol

    monkeypatch.delenv("EMOVOX_FOLDS", raising=False)
    monkeypatch.delenv("EMOVOX_SHARED", raising=False)
    monkeypatch.chdir(tmp_path)  # no shared/ beside it or above it
    with pytest.raises(CorpusError) as info:
        make_protocol(_manifest(), "emobox")
    msg = str(info.value)
    assert "EMOVOX_FOLDS=" in msg and "EMOVOX_SHARED" in msg and "no shared/ folder was found" in msg, msg
    assert "--protocol emobox" in msg and "\n" not in msg
    # a folds folder without this corpus: names the folder's corpora
    folds = tmp_path / "folds"
    folds.mkdir()
    (folds / "emodb.csv").write_text("file,fold,split,emotion\n")
    monkeypatch.setenv("EMOVOX_FOLDS", str(folds))
    with pytest.raises(CorpusError) as info:
        make_protocol(_manifest(), "emobox")
    msg = str(info.value)
    assert "ravdess.csv" in msg and "$EMOVOX_FOLDS" in msg and "it has emodb" in msg, msg


def test_features_export_keeps_the_columns_a_grouped_split_needs(tmp_path, capsys):
    """``emovox features`` wrote path and emotion only: no speaker-independent split could be made from it."""
    from emovox.corpora import scan, write_manifest

    from .conftest import RAVDESS, need

    write_manifest(scan(need(RAVDESS), "ravdess", audio_info=False)[0].head(3), tmp_path / "m.csv")
    args = [
        "features",
        str(tmp_path / "m.csv"),
        "--features",
        "tutorial",
        "-q",
        "-o",
        str(tmp_path / "f.csv"),
    ]
    assert main(args + ["--cache-dir", str(tmp_path / "c")]) == 0
    df = pd.read_csv(tmp_path / "f.csv")
    assert list(df.columns[:4]) == ["path", "emotion", "speaker", "corpus"] and len(df) == 3
    assert set(df["corpus"]) == {"ravdess"} and df["speaker"].notna().all()
