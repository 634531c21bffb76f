"""Research workflows with hand-edited manifests (found by trying them as a researcher would): each mistake
in a manifest is one line before any work, and a model scored on its own speakers says so."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emovox.cli import main
from emovox.errors import CorpusError
from emovox.labels import parse_merge

from .conftest import EMODB, need

FEATURES = ["--features", "tutorial", "--model", "logreg"]


@pytest.fixture(scope="module")
def emodb_rows(tmp_path_factory):
    """Two EMO-DB speakers, four emotions: a manifest a researcher would edit by hand."""
    from emovox.corpora import scan
    from emovox.labels import apply_labels

    need(EMODB)
    df, _ = scan(EMODB, "emodb", audio_info=False)
    df = apply_labels(df, emotions="four")
    return df[df["speaker"].isin(["emodb:03", "emodb:08", "emodb:09", "emodb:10"])].reset_index(drop=True)


def _err(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_manifest_mistakes_are_one_line_before_any_work(emodb_rows, tmp_path, capsys):
    no_emotion = tmp_path / "noemo.csv"
    emodb_rows.drop(columns=["emotion"]).to_csv(no_emotion, index=False)
    assert main(["features", str(no_emotion), "--features", "tutorial", "-o", str(tmp_path / "f.csv")]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(no_emotion), *FEATURES, "--protocol", "loso"]) == 2
    assert _err(capsys) == [
        f"emovox: error: {no_emotion}: the manifest has no 'emotion' column (one label per row is needed)"
    ]
    empty = tmp_path / "empty.csv"
    emodb_rows.assign(emotion=emodb_rows["emotion"].where(emodb_rows.index > 2)).to_csv(empty, index=False)
    for protocol in ("loso", "kfold"):
        assert main(["evaluate", str(empty), *FEATURES, "--protocol", protocol]) == 2
        (line,) = _err(capsys)
        assert (
            line.startswith(f"emovox: error: {empty}: 3 row(s) have no emotion (e.g. ")
            and "fill them in" in line
        )
    twice = tmp_path / "twice.csv"  # one file under two spellings
    rows = emodb_rows.copy()
    rows.loc[1, "path"] = rows.loc[0, "path"].replace("/wav/", "/wav/./")
    rows.to_csv(twice, index=False)
    assert main(["evaluate", str(twice), *FEATURES, "--protocol", "loso"]) == 2
    assert "appear more than once" in _err(capsys)[0]
    assert main(["evaluate", str(empty), *FEATURES, "--seed", "-1"]) == 2
    assert _err(capsys) == ["emovox: error: --seed -1: expected a seed of 0 or more"]


def test_conflicting_merges_are_refused():
    assert parse_merge("calm=neutral,boredom=neutral") == {"calm": "neutral", "boredom": "neutral"}
    with pytest.raises(CorpusError, match="calm is merged into both neutral and sad"):
        parse_merge("calm=neutral,calm=sad")


def test_a_model_scored_on_its_own_speakers_under_another_spelling_says_so(emodb_rows, tmp_path, capsys):
    """Trained on a manifest whose speakers are written ``03`` and scored on the scan (``emodb:03``): it was
    "held-out (speaker-independent)" at 98.5 % UA on its own training files."""
    bare = tmp_path / "bare.csv"
    emodb_rows.assign(speaker=emodb_rows["speaker"].str.split(":").str[1]).to_csv(bare, index=False)
    model = tmp_path / "m"
    assert (
        main(
            ["train", str(bare), *FEATURES, "--protocol", "none", "--merge", "boredom=neutral"]
            + ["-o", str(model), "-q"]
        )
        == 0
    )
    run = json.loads((model / "metadata.json").read_text())["run"]  # how it was made travels with it
    assert (
        run["command"].startswith("emovox train ")
        and run["merge"] == "boredom=neutral"
        and run["seed"] is None
    )
    assert run["sources"] == [str(bare.resolve())]
    scanned = tmp_path / "scanned.csv"
    emodb_rows.to_csv(scanned, index=False)
    capsys.readouterr()
    assert main(["evaluate", str(scanned), "--trained", str(model)]) == 0
    out = capsys.readouterr().out
    assert (
        "scored(emodb) (NOT speaker-independent" in out
        and "4 test speaker(s) were in its training data" in out
    )
    assert main(["evaluate", str(scanned), "--trained", str(model), "--model", "svm"]) == 2
    assert "--model does not apply with --trained" in _err(capsys)[0]
    # scored on two corpora: a figure for each, and their mean as the headline (it was one pooled figure)
    from emovox.evaluation import evaluate_model
    from emovox.inference import load_model

    two = emodb_rows.assign(corpus=["emodb" if i % 2 else "other" for i in range(len(emodb_rows))])
    ev, failed = evaluate_model(load_model(model), two, progress=True)
    assert "scoring" in capsys.readouterr().err  # a progress bar over the files (the CLI's, on a terminal)
    assert not failed and ev.cross_corpus and sorted(f["fold"] for f in ev.folds) == ["emodb", "other"]
    assert ev.summary["ua"] == pytest.approx(sum(f["ua"] for f in ev.folds) / 2)
    assert sum(f["n"] for f in ev.folds) == ev.pooled["n"] and "corpus " in ev.table()
    # --emotions narrows the model, as predict does: an emotion it does not know is refused, and data
    # holding one of the asked emotions has nothing to tell apart (UA 100 % or 0 %, exit 0, before)
    assert main(["evaluate", str(scanned), "--trained", str(model), "--emotions", "boredom,angry"]) == 2
    assert "boredom: not one of this model's emotions" in _err(capsys)[0]
    assert main(["evaluate", str(scanned), "--trained", "classical", "--emotions", "surprised,angry"]) == 2
    err = _err(capsys)  # the data's lack of surprised, warned of as the label selection is made; then why not
    assert "no recordings of surprised" in err[0]
    assert "the data holds 1 of the model's emotions (angry; it knows surprised, angry)" in err[-1]
    assert main(["evaluate", str(scanned), "--trained", "classical", "--emotions", "sad,angry", "-q"]) == 0
    assert "sad" in capsys.readouterr().out


def test_a_model_scored_on_copies_of_its_training_files_says_so(emodb_rows, tmp_path, capsys):
    """Copied under new names, with speakers renamed and no corpus: the speakers cannot tell, the files'
    bytes can (stop 30's "Left": models stored their speakers, not their recordings)."""
    import shutil

    import pandas as pd

    train_rows = emodb_rows[emodb_rows["speaker"].isin(["emodb:03", "emodb:08"])]
    manifest = tmp_path / "train.csv"
    train_rows.to_csv(manifest, index=False)
    model = tmp_path / "m"
    assert main(["train", str(manifest), *FEATURES, "--protocol", "none", "-o", str(model), "-q"]) == 0
    prints = np.load(model / "training_files.npy", allow_pickle=False)
    assert prints.dtype == np.uint64 and len(prints) == len(train_rows)
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["training"]["fingerprints"] == "training_files.npy" and "training_files.npy" in meta["files"]
    copies = tmp_path / "copies"
    copies.mkdir()
    rows = []
    for i, row in enumerate(train_rows.head(5).itertuples()):  # 5 training files, renamed
        shutil.copyfile(row.path, copies / f"clip{i}.flac")
        rows.append({"path": str(copies / f"clip{i}.flac"), "emotion": row.emotion, "speaker": f"x{i % 2}"})
    shutil.copyfile(copies / "clip0.flac", copies / "again.flac")  # the same bytes twice: two recordings
    rows.append({**rows[0], "path": str(copies / "again.flac")})
    unseen = emodb_rows[emodb_rows["speaker"].isin(["emodb:09", "emodb:10"])]
    for row in unseen.head(8).itertuples():
        rows.append({"path": row.path, "emotion": row.emotion, "speaker": f"new{row.speaker[-2:]}"})
    mixed, fresh = tmp_path / "mixed.csv", tmp_path / "fresh.csv"
    pd.DataFrame(rows).to_csv(mixed, index=False)
    pd.DataFrame(rows[6:]).to_csv(fresh, index=False)
    capsys.readouterr()
    assert main(["evaluate", str(mixed), "--trained", str(model)]) == 0
    out = capsys.readouterr().out
    assert "NOT speaker-independent" in out and "6 test recording(s) are files it was trained on" in out
    assert main(["evaluate", str(fresh), "--trained", str(model)]) == 0
    out = capsys.readouterr().out
    assert "held-out" in out and "files it was trained on" not in out
    # the fingerprints are sealed like every other file of the model
    (model / "training_files.npy").write_bytes(np.zeros(3, np.uint64).tobytes())
    assert main(["evaluate", str(fresh), "--trained", str(model)]) == 2
    assert "training_files.npy: size mismatch" in _err(capsys)[0]


def test_tune_without_a_protocol_saves_what_it_found(emodb_rows, tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    emodb_rows.to_csv(manifest, index=False)
    out = tmp_path / "tune.json"
    assert main(["tune", str(manifest), *FEATURES, "--protocol", "none", "--json", str(out)]) == 0
    found = json.loads(out.read_text())
    assert set(found) == {"best_params", "best_ua", "search", "recipe", "labels", "run"}
    assert "grouped by speaker" in found["search"] and 0.25 < found["best_ua"] <= 1.0
    # enough to repeat it: the command, the grid and the features searched (a researcher's review, stop 39)
    assert found["run"]["command"].startswith("emovox tune ") and found["run"]["seeds"]["split"] == 0
    assert found["recipe"]["grid"] and found["recipe"]["features"]["fingerprint"]
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # the terminal: what was found
    assert printed == {k: found[k] for k in ("best_params", "best_ua", "search")}
    assert (
        main(["tune", str(manifest), *FEATURES, "--protocol", "none", "--confusion", str(tmp_path / "c.png")])
        == 2
    )


def test_nested_tuning_saves_each_folds_search_and_what_was_tuned(tmp_path):
    from emovox.corpora import scan
    from emovox.labels import apply_labels

    df, _ = scan(need(EMODB), "emodb", audio_info=False)
    df = apply_labels(df, emotions="four")
    manifest = tmp_path / "m.csv"
    df[df["speaker"].isin(df["speaker"].unique()[:8])].to_csv(manifest, index=False)
    out = tmp_path / "tune.json"
    assert (
        main(
            [
                "tune",
                str(manifest),
                *FEATURES,
                "--model",
                "logreg",
                "--protocol",
                "kfold:2",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    ev = json.loads(out.read_text())
    assert ev["protocol"] == "kfold(2)+nested-tuning" and len(ev["folds"]) == 2
    for fold in ev["folds"]:  # the search's own figure beside the test speakers' (it was dropped)
        assert 0.0 < fold["inner_ua"] <= 1.0 and set(fold["best_params"]) == {"logreg__C"}
    assert ev["recipe"]["model"] == "logreg" and ev["recipe"]["grid"]["logreg__C"] == [
        0.01,
        0.03,
        0.1,
        0.3,
        1.0,
    ]
    assert ev["recipe"]["features"]["type"] == "handcrafted"


def test_speakers_match_across_spellings_but_not_across_corpora():
    import pandas as pd

    from emovox.evaluation import _shared_speakers

    test = pd.DataFrame({"speaker": ["emodb:03", "emodb:08", "03"], "corpus": ["emodb"] * 3})
    assert _shared_speakers(["ravdess:03", "emodb:09"], ["ravdess", "emodb"], test) == set()  # RAVDESS's 03
    assert _shared_speakers(["03", "09"], ["emodb"], test) == {"emodb:03", "03"}
    assert _shared_speakers(["emodb:03"], ["emodb"], test) == {"emodb:03", "03"}
    # a bare 03 of another corpus is not emodb:03; the same bare name stays shared (it cannot be told apart)
    assert _shared_speakers(["03"], ["ravdess"], test) == {"03"}


def test_bare_speakers_of_two_corpora_stay_two_people(emodb_rows, tmp_path):
    """A hand-written manifest naming speakers 01 and 02 in each of two corpora: four speakers, four LOSO
    folds (they were two, each holding two people)."""
    from emovox.corpora import load_corpus
    from emovox.splits import make_protocol

    names = {
        "emodb:03": ("a", "01"),
        "emodb:08": ("a", "02"),
        "emodb:09": ("b", "01"),
        "emodb:10": ("b", "02"),
    }
    rows = emodb_rows.assign(
        corpus=[names[s][0] for s in emodb_rows["speaker"]],
        speaker=[names[s][1] for s in emodb_rows["speaker"]],
    )
    rows.loc[0, "speaker"] = "a:01"  # already qualified: kept
    rows.to_csv(tmp_path / "two.csv", index=False)
    df = load_corpus(tmp_path / "two.csv")
    assert sorted(df["speaker"].unique()) == ["a:01", "a:02", "b:01", "b:02"]
    proto = make_protocol(df, "loso")
    assert len(proto.folds) == 4


def test_a_utf16_manifest_is_read(emodb_rows, tmp_path):
    """As Excel saves "Unicode text": it was taken for an MP3 ("an audio file, not a manifest")."""
    from emovox.audio.sniff import sniff_format
    from emovox.corpora import load_corpus

    path = tmp_path / "u16.csv"
    emodb_rows.to_csv(path, index=False, encoding="utf-16")
    assert path.read_bytes()[:2] == b"\xff\xfe" and sniff_format(path.read_bytes()) is None
    df = load_corpus(path)
    assert list(df["path"]) == list(emodb_rows["path"]) and list(df["speaker"]) == list(emodb_rows["speaker"])
    tabs = tmp_path / "u16.txt"  # what Excel writes: tab-separated
    emodb_rows.to_csv(tabs, index=False, encoding="utf-16", sep="\t")
    assert list(load_corpus(tabs)["path"]) == list(emodb_rows["path"])


def test_every_test_recording_can_be_saved_with_its_fold_and_prediction(emodb_rows, tmp_path, capsys):
    """An evaluation kept only per-fold figures: a paper's significance test, a bootstrap interval or a check
    of the splits needs each recording's fold and prediction."""
    import pandas as pd

    manifest = tmp_path / "m.csv"
    emodb_rows.to_csv(manifest, index=False)
    preds, ev = tmp_path / "new" / "p.csv", tmp_path / "ev.json"  # a folder that does not exist yet
    argv = ["evaluate", str(manifest), *FEATURES, "--protocol", "loso", "-q"]
    assert main([*argv, "--predictions", str(preds), "--json", str(ev)]) == 0
    rows = pd.read_csv(preds)
    assert len(rows) == len(emodb_rows) and set(rows["path"]) == set(emodb_rows["path"])
    speaker = dict(zip(emodb_rows["path"], emodb_rows["speaker"], strict=True))
    assert all(
        speaker[p] == f for p, f in zip(rows["path"], rows["fold"], strict=True)
    )  # LOSO: fold = speaker
    labels = json.loads(ev.read_text())["labels"]
    probs = rows[[f"p_{lab}" for lab in labels]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert (np.array(labels)[probs.argmax(axis=1)] == rows["predicted"]).all()
    recall = [(rows["predicted"][rows["emotion"] == e] == e).mean() for e in sorted(set(rows["emotion"]))]
    assert np.mean(recall) == pytest.approx(json.loads(ev.read_text())["pooled"]["ua"], abs=1e-9)
    capsys.readouterr()
    assert main([*argv, "--predictions", str(tmp_path / "p.txt")]) == 2
    assert "expected a name ending in .csv or .tsv" in _err(capsys)[0]


def test_calibration_folds_fit_the_data_or_fail_before_any_features(emodb_rows, tmp_path, capsys):
    """``--calibrate`` fits its temperature on predictions for held-out speakers (or corpora) of each training
    side: a training side of one corpus and three speakers failed after the features ("kfold:5 needs at least 5
    speakers", a protocol nobody asked for). Under five speakers it now holds out each; with one, nothing can
    be held out, and that is said at once."""

    from emovox.training import calibration_protocol, check_calibration

    assert calibration_protocol(emodb_rows) == "kfold:4"  # one corpus, four speakers: one fold each
    moved = emodb_rows["speaker"].isin(["emodb:09", "emodb:10"])  # two speakers as a corpus of their own
    two = emodb_rows.assign(corpus=np.where(moved, "other", emodb_rows["corpus"]))
    assert calibration_protocol(two) == "loco"
    check_calibration(two, "loco")  # each training side: one corpus, its 2 speakers held out in turn
    lone = two[moved | (two["speaker"] == "emodb:03")]
    with pytest.raises(
        CorpusError, match=r"the training side of fold '.+' holds one corpus \(emodb\) and 1 sp"
    ):
        check_calibration(lone, "loco")
    manifest = tmp_path / "m.csv"
    lone.to_csv(manifest, index=False)
    args = ["train", str(manifest), *FEATURES, "--protocol", "loco", "--calibrate", "-o", str(tmp_path / "m")]
    assert main(args) == 2
    (line,) = _err(capsys)
    assert line.startswith(
        "emovox: error: --calibrate with --protocol loco: calibration: the training side"
    ), line
    assert "at least two speakers or two corpora" in line and not (tmp_path / "m").exists()


def test_a_file_left_out_of_an_evaluation_is_in_its_json(emodb_rows, tmp_path, capsys):
    """The terminal said a file was skipped; the saved evaluation (what gets archived) said nothing."""
    import pandas as pd

    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not audio")
    rows = pd.concat([emodb_rows, emodb_rows.iloc[:1].assign(path=str(broken))], ignore_index=True)
    manifest = tmp_path / "m.csv"
    rows.to_csv(manifest, index=False)
    out = tmp_path / "ev.json"
    assert main(["evaluate", str(manifest), *FEATURES, "--protocol", "kfold:2", "--json", str(out)]) == 1
    assert any("broken.wav" in line for line in _err(capsys))
    ev = json.loads(out.read_text())
    assert "1 file could not be used and is not in these figures (run.failed)" in ev["note"]
    (failed,) = ev["run"]["failed"]
    assert failed["path"] == str(broken) and "broken.wav" in failed["error"]
    assert ev["pooled"]["n"] == len(emodb_rows)


def test_too_few_speakers_for_the_default_protocol_says_what_fits(emodb_rows, tmp_path, capsys):
    """It blamed `--protocol kfold` when none was typed, offered only the random split (which is not
    speaker-independent), and with one speaker asked for "K at most 1"."""
    four, one = tmp_path / "four.csv", tmp_path / "one.csv"
    emodb_rows.to_csv(four, index=False)
    emodb_rows[emodb_rows["speaker"] == "emodb:03"].to_csv(one, index=False)
    assert main(["evaluate", str(four), *FEATURES]) == 2
    assert _err(capsys) == [
        "emovox: error: the default protocol (--protocol kfold): kfold:5 needs at least 5 speakers, the data "
        "have 4; choose --protocol kfold:4 or loso (speaker-independent), or random[:F] (not speaker-independent)"
    ]
    assert main(["evaluate", str(one), *FEATURES, "--protocol", "kfold:2"]) == 2
    (line,) = _err(capsys)
    assert line.startswith(
        "emovox: error: --protocol kfold:2: kfold:2 needs at least 2 speakers, the data have 1"
    )
    assert "no split of one speaker is speaker-independent: --protocol random[:F]" in line


def test_the_report_and_its_figures_name_what_was_scored(emodb_rows, tmp_path, capsys):
    """The text report and the confusion figure named the protocol only: two runs of other models read the
    same. They now say what was scored, and the report what UA is and what chance would score."""
    manifest = tmp_path / "four.csv"
    emodb_rows.to_csv(manifest, index=False)
    cm = tmp_path / "cm.png"
    assert main(["evaluate", str(manifest), *FEATURES, "--protocol", "loso", "--confusion", str(cm)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "scored: logreg on tutorial features" and out[1].startswith("protocol: loso")
    ua = next(line for line in out if line.startswith("UA "))
    assert ua.endswith("(mean recall over the 4 emotions; chance 25.0 %)"), ua
    from emovox.evaluation import figure_title

    assert cm.stat().st_size > 10_000
    assert figure_title(
        {"protocol": "loso", "ua": 0.5, "n_folds": 4, "recipe": {"name": "svm"}}, "confusion"
    ) == ("svm\nloso: UA 50.0 % mean over folds; cells pooled")


def test_evaluate_trained_without_the_speech_check_scores_every_recording(emovo_manifest, tmp_path, capsys):
    """A researcher's review: ``--trained`` counted 8 of EMOVO's real sentences (speaker m1's harsh anger,
    whispered sadness) as "no speech" errors, where a recipe's evaluation gives every recording an emotion,
    so the two figures of one model differed. ``--no-speech-check`` scores them all, and says so."""
    from emovox.corpora import write_manifest
    from emovox.evaluation import evaluate_model

    rows = emovo_manifest[emovo_manifest["speaker"].eq("emovo:m1")]
    rows = rows[rows["emotion"].isin(["angry", "sad"])]
    missed = rows[rows["path"].str.contains("rab-m1-b1|rab-m1-d1")]  # the check hears no voice in them
    data = tmp_path / "m1.csv"
    write_manifest(rows, data)
    checked, _ = evaluate_model("classical", rows)
    every, _ = evaluate_model("classical", rows, check_speech=False)
    assert "were found to hold no speech" in checked.note and "no speech check" in every.note
    said = {r["path"]: r["predicted"] for r in checked.predictions}
    assert all(said[p] == "no speech" for p in missed["path"])
    assert all(
        r["predicted"] in ("angry", "sad") for r in every.predictions if r["path"] in set(missed["path"])
    )
    assert every.pooled["n"] == checked.pooled["n"] == len(rows)
    assert every.run["emovox_version"] and every.run["versions"]["numpy"]  # (the library records them)
    assert main(["evaluate", str(data), "--trained", "classical", "--no-speech-check", "-q"]) == 0
    assert "no speech check: every recording was given an emotion" in capsys.readouterr().out
    assert main(["evaluate", str(data), "--no-speech-check"]) == 2
    assert "--no-speech-check goes with --trained" in _err(capsys)[0]


def test_trained_evaluation_without_speakers_does_not_claim_speaker_independence(emovo_manifest):
    """A manifest of only ``path`` and ``emotion`` was called speaker-independent ("held-out()") although no
    speaker could be checked; a corpus the model never heard still is."""
    from emovox.evaluation import evaluate_model

    rows = emovo_manifest.groupby("emotion").head(1).reset_index(drop=True)  # 7 sentences
    with_speakers, _ = evaluate_model("classical", rows, check_speech=False)  # trained on emodb + ravdess
    by_corpus, _ = evaluate_model("classical", rows.drop(columns="speaker"), check_speech=False)
    bare, _ = evaluate_model("classical", rows[["path", "emotion"]], check_speech=False)
    assert with_speakers.speaker_independent and by_corpus.speaker_independent
    assert with_speakers.protocol == by_corpus.protocol == "held-out(emovo)"
    assert not bare.speaker_independent and bare.protocol == "scored(data)"  # (it read "held-out()")
    assert "does not name every recording's speaker" in bare.note and "independence is unknown" in bare.note
    # empty speaker cells: the same, and no AttributeError from a NaN speaker (a review, stop 42)
    blank, _ = evaluate_model("classical", rows.assign(speaker=None, corpus="emodb"), check_speech=False)
    assert not blank.speaker_independent and "does not name every recording's speaker" in blank.note
    assert bare.pooled["ua"] == with_speakers.pooled["ua"]  # the same answers, named honestly
