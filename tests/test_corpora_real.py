"""The readers, labels and splits on the real corpora in ../shared."""

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from emovox.corpora import CORPORA, detect, find_audio, get_reader, read_manifest, scan
from emovox.errors import CorpusError
from emovox.labels import apply_labels, canonical, parse_emotions, parse_merge
from emovox.splits import emobox_folds, make_protocol


def test_ravdess_counts(ravdess_manifest):
    df = ravdess_manifest
    assert len(df) == 1440
    assert df["emotion"].value_counts().to_dict() == {
        "neutral": 96,
        "calm": 192,
        "happy": 192,
        "sad": 192,
        "angry": 192,
        "fearful": 192,
        "disgust": 192,
        "surprised": 192,
    }
    assert df["speaker"].nunique() == 24
    assert (df["speaker"].value_counts() == 60).all()
    assert df["gender"].value_counts().to_dict() == {"male": 720, "female": 720}
    assert set(df["sample_rate"]) == {16000} and set(df["channels"]) == {1}
    assert df["duration"].between(2.5, 6.0).all()
    assert set(df["language"]) == {"en"} and set(df["vocal_channel"]) == {"speech"}


def test_ravdess_fields(ravdess_manifest):
    df = ravdess_manifest.set_index("utt_id")
    row = df.loc["03-01-06-02-01-02-07"]
    assert row["modality"] == "audio-only" and row["vocal_channel"] == "speech"
    assert row["emotion"] == "fearful" and row["emotion_code"] == "06"
    assert row["intensity"] == "strong" and row["statement"] == "01"
    assert row["text"] == "Kids are talking by the door"
    assert row["repetition"] == 2 and row["actor"] == 7
    assert row["speaker"] == "ravdess:07" and row["gender"] == "male"
    row = df.loc["03-01-08-01-02-01-24"]
    assert (row["emotion"], row["intensity"], row["statement"], row["actor"], row["gender"]) == (
        "surprised",
        "normal",
        "02",
        24,
        "female",
    )
    assert row["text"] == "Dogs are sitting by the door"
    # every row: the path's own fields agree with the parsed columns
    for _, r in ravdess_manifest.sample(100, random_state=0).iterrows():
        f = r["utt_id"].split("-")
        assert int(f[6]) == r["actor"] and f[2] == r["emotion_code"] and int(f[5]) == r["repetition"]
        assert r["path"].endswith(f"Actor_{f[6]}/{r['utt_id']}.flac")


def test_emodb_counts(emodb_manifest):
    df = emodb_manifest
    assert len(df) == 535
    assert df["emotion_code"].value_counts().to_dict() == {
        "W": 127,
        "L": 81,
        "E": 46,
        "A": 69,
        "F": 71,
        "T": 62,
        "N": 79,
    }
    assert df["emotion"].value_counts()["boredom"] == 81
    genders = df.groupby("speaker")["gender"].first().to_dict()
    assert genders == {
        "emodb:03": "male",
        "emodb:08": "female",
        "emodb:09": "female",
        "emodb:10": "male",
        "emodb:11": "male",
        "emodb:12": "male",
        "emodb:13": "female",
        "emodb:14": "female",
        "emodb:15": "male",
        "emodb:16": "female",
    }
    assert set(df["language"]) == {"de"}


def test_emovo_counts(emovo_manifest):
    df = emovo_manifest
    assert len(df) == 588
    assert df["emotion_code"].value_counts().to_dict() == {
        "dis": 84,
        "gio": 84,
        "neu": 84,
        "pau": 84,
        "rab": 84,
        "sor": 84,
        "tri": 84,
    }
    assert set(df["emotion"]) == {"disgust", "happy", "neutral", "fearful", "angry", "surprised", "sad"}
    speakers = ("f1", "f2", "f3", "m1", "m2", "m3")
    assert df["speaker"].value_counts().to_dict() == {f"emovo:{s}": 98 for s in speakers}
    assert df.groupby("speaker")["gender"].first().to_dict() == {
        "emovo:f1": "female",
        "emovo:f2": "female",
        "emovo:f3": "female",
        "emovo:m1": "male",
        "emovo:m2": "male",
        "emovo:m3": "male",
    }
    assert (df.groupby(["speaker", "emotion"]).size() == 14).all()
    assert set(df["language"]) == {"it"}
    assert set(df["sample_rate"]) == {16000} and set(df["channels"]) == {1}
    row = df.set_index("utt_id").loc["dis-f1-b1"]
    assert (row["speaker"], row["emotion"], row["sentence"]) == ("emovo:f1", "disgust", "b1")


def _nemo_tsv(root: Path) -> pd.DataFrame:
    """The release's data.tsv, read independently of the reader (speaker_id is space-padded there)."""
    with open(root / "data.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    df = pd.DataFrame(rows).apply(lambda c: c.str.strip())
    df["utt_id"] = df["file_id"].str.replace(r"\.wav$", "", regex=True)
    return df.set_index("utt_id")


def test_nemo_counts(nemo_manifest, nemo_root):
    df = nemo_manifest
    tsv = _nemo_tsv(nemo_root)
    assert len(tsv) == 4481
    assert len(df) == 4481 and df["utt_id"].is_unique
    assert set(df["utt_id"]) == set(tsv.index)
    assert df["emotion_code"].value_counts().to_dict() == tsv["emotion"].value_counts().to_dict()
    assert df["emotion"].value_counts().to_dict() == {
        "neutral": 809,
        "sad": 769,
        "angry": 749,
        "happy": 749,
        "fearful": 736,
        "surprised": 669,
    }
    assert df["speaker"].nunique() == 9 and df["speaker"].str.startswith("nemo:").all()
    assert df.groupby("speaker")["gender"].first().to_dict() == {
        "nemo:EB0": "female",
        "nemo:IC0": "female",
        "nemo:KD0": "female",
        "nemo:MK0": "female",
        "nemo:KS0": "male",
        "nemo:MP0": "male",
        "nemo:SM0": "male",
        "nemo:TP0": "male",
        "nemo:WR0": "male",
    }
    counts = df["speaker"].value_counts()
    assert counts["nemo:MP0"] == 256 and counts["nemo:MK0"] == 450
    assert counts.drop(["nemo:MP0", "nemo:MK0"]).between(538, 540).all()
    assert df["gender"].notna().all() and df["age"].notna().all() and df["text"].notna().all()
    assert df["age"].between(23, 28).all() and df.groupby("speaker")["age"].nunique().eq(1).all()
    assert set(df["language"]) == {"pl"}
    assert set(df["sample_rate"]) == {16000} and set(df["channels"]) == {1}
    assert df["duration"].between(0.5, 6.0).all()
    # every row agrees with its data.tsv line
    d = df.set_index("utt_id")
    t = tsv.loc[d.index]
    assert (d["speaker"] == "nemo:" + t["speaker_id"]).all()
    assert (d["gender"] == t["gender"]).all() and (d["age"] == t["age"].astype(int)).all()
    assert (d["emotion_code"] == t["emotion"]).all() and (d["text"] == t["raw_text"]).all()
    assert (d["normalized_text"] == t["normalized_text"]).all()
    row = d.loc["EB0_anger_1"]
    assert (row["speaker"], row["emotion"], row["sentence"]) == ("nemo:EB0", "angry", "1")
    assert row["path"].endswith("samples/EB0_anger_1.opus") and row["text"] == "Lubię czytać przed snem."


def test_nemo_detected(nemo_root):
    assert detect(find_audio(nemo_root), nemo_root) == "nemo"
    df, report = scan(nemo_root, audio_info=False)
    assert report.corpus == "nemo" and len(df) == 4481 and not report.skipped


def test_real_conventions_do_not_overlap(ravdess_root, emodb_root, emovo_root, nemo_root):
    """Every real file is rejected by every reader but its own, so detection cannot pick the wrong one."""
    roots = {"ravdess": ravdess_root, "emodb": emodb_root, "emovo": emovo_root, "nemo": nemo_root}
    for corpus, root in roots.items():
        files = find_audio(root)
        assert detect(files, root) == corpus
        for other in CORPORA:
            if other != corpus:
                reader = get_reader(other)
                assert not any(isinstance(reader.parse(p, {}), dict) for p in files), (other, corpus)


def test_integer_fields_stay_integers_beside_other_corpora(ravdess_root, emodb_root, tmp_path):
    """RAVDESS's actor and repetition were written 1.0, 2.0 when EMO-DB (which lacks them) was scanned
    with it."""
    from emovox.corpora import scan_many, write_manifest

    df, _ = scan_many([ravdess_root, emodb_root], audio_info=False)
    assert str(df["actor"].dtype) == "Int64" and df["actor"].isna().sum() == 535
    write_manifest(df, tmp_path / "two.csv")
    rows = list(csv.DictReader(open(tmp_path / "two.csv")))
    assert rows[0]["actor"] == "1" and rows[0]["repetition"] == "1" and rows[-1]["actor"] == ""


def test_detection_on_real_corpora(ravdess_root, emodb_root):
    assert detect(find_audio(ravdess_root), ravdess_root) == "ravdess"
    assert scan(emodb_root)[1].corpus == "emodb"


def test_labels_merge_and_subset(ravdess_manifest):
    merged = apply_labels(ravdess_manifest, merge="calm=neutral")
    assert merged["emotion"].value_counts()["neutral"] == 288 and "calm" not in set(merged["emotion"])
    four = apply_labels(ravdess_manifest, emotions="angry,happy,neutral,sad")
    assert len(four) == 96 + 3 * 192 and set(four["emotion"]) == {"angry", "happy", "neutral", "sad"}
    assert (four["emotion_code"].isin(["01", "03", "04", "05"])).all()
    assert parse_emotions("seven") == ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert parse_merge("calm-neutral") == {"calm": "neutral"}
    assert canonical("Fear") == "fearful"
    with pytest.raises(CorpusError, match="unknown emotion 'joyful'"):
        parse_emotions("joyful,sad")
    with pytest.raises(CorpusError, match="FROM=TO"):
        parse_merge("calm")


def test_emobox_ravdess_folds(ravdess_manifest, folds_dir):
    proto = emobox_folds(ravdess_manifest, folds_dir)
    assert len(proto.folds) == 6
    assert proto.speaker_independent
    tests = sorted(i for f in proto.folds for i in f.test)
    assert tests == list(range(1440))  # every file is tested exactly once
    for f in proto.folds:
        assert len(f.test) == 240 and len(f.train) == 1200
        spk_test = set(ravdess_manifest["speaker"].iloc[f.test])
        assert len(spk_test) == 4 and not spk_test & set(ravdess_manifest["speaker"].iloc[f.train])
    # the folds' labels agree with ours
    table = pd.read_csv(folds_dir / "ravdess.csv")
    ours = ravdess_manifest.set_index("utt_id")["emotion"]
    theirs = table.drop_duplicates("file").set_index(table.drop_duplicates("file")["file"].str[:-4])[
        "emotion"
    ]
    assert (
        ours.loc[theirs.index].values
        == theirs.str.lower().replace({"fear": "fearful", "surprise": "surprised"}).values
    ).all()


def test_emobox_emodb_not_speaker_independent(emodb_manifest, folds_dir):
    proto = emobox_folds(emodb_manifest, folds_dir)
    assert len(proto.folds) == 5 and all(len(f.test) == 107 for f in proto.folds)
    assert sorted(i for f in proto.folds for i in f.test) == list(range(535))
    assert not proto.speaker_independent
    assert all(len(f.shared_speakers) == 10 for f in proto.folds)
    assert "NOT speaker-independent" in proto.describe()


def test_emobox_partial_corpus_refused(ravdess_manifest, folds_dir):
    with pytest.raises(CorpusError, match="not in the manifest"):
        emobox_folds(ravdess_manifest.iloc[:100], folds_dir)


def test_protocols(ravdess_manifest, emodb_manifest):
    df = ravdess_manifest
    kf = make_protocol(df, "kfold:4")
    assert len(kf.folds) == 4 and kf.speaker_independent
    assert sorted(i for f in kf.folds for i in f.test) == list(range(1440))
    loso = make_protocol(df, "loso")
    assert len(loso.folds) == 24 and loso.speaker_independent
    rnd = make_protocol(df, "random")
    assert not rnd.speaker_independent and len(rnd.folds[0].test) == 360
    assert "NOT speaker-independent" in rnd.describe()
    sp = make_protocol(df, "speakers:01,ravdess:02")
    assert set(df["speaker"].iloc[sp.folds[0].test]) == {"ravdess:01", "ravdess:02"}
    both = pd.concat([df, emodb_manifest], ignore_index=True)
    cc = make_protocol(both, "cross:ravdess->emodb")
    assert len(cc.folds[0].train) == 1440 and len(cc.folds[0].test) == 535 and cc.speaker_independent
    with pytest.raises(CorpusError, match="unknown protocol"):
        make_protocol(df, "bogus")
    with pytest.raises(CorpusError, match="not in the manifest"):
        make_protocol(df, "speakers:99")


def test_cli_scan_and_stats(tmp_path, ravdess_root, emodb_root):
    out = tmp_path / "m.csv"
    png = tmp_path / "counts.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "corpus",
            "scan",
            str(ravdess_root),
            str(emodb_root),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    df = read_manifest(out)
    assert len(df) == 1440 + 535 and set(df["corpus"]) == {"ravdess", "emodb"}
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "corpus", "stats", str(out), "--plot", str(png)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "angry" in proc.stdout and "1975 utterances, 34 speakers" in proc.stdout
    assert png.stat().st_size > 5000 and png.read_bytes()[:4] == b"\x89PNG"


def test_scans_that_would_mislead_are_named(tmp_path, emodb_root, emovo_root, capsys):
    """A folder given twice lists each file once; a --corpus that is not the folder's, or a label selection
    that leaves nothing, is an error (each once exited 0, the first with 535 files on both sides of every
    split, the others with an empty manifest)."""
    from emovox.cli import main

    out = tmp_path / "m.csv"
    assert main(["corpus", "scan", str(emodb_root), str(emodb_root), "-o", str(out)]) == 0
    assert len(read_manifest(out)) == 535 and "left out 535 files listed twice" in capsys.readouterr().err
    out.unlink()
    assert (
        main(["corpus", "scan", str(emodb_root), str(emovo_root), "--corpus", "emodb", "-o", str(out)]) == 1
    )
    err = capsys.readouterr().err
    assert f"{emovo_root}: none of its 588 audio files follows the emodb convention" in err
    assert len(read_manifest(out)) == 535  # the other root is still written
    out.unlink()
    # features on that folder alone stop there, as scan does (they wrote an empty table and exited 0)
    feats = ["features", str(emovo_root), "--corpus", "emodb", "--features", "tutorial", "-o", str(out)]
    assert main(feats) == 2 and not out.exists()
    assert (
        f"{emovo_root}: none of its 588 audio files follows the emodb convention" in capsys.readouterr().err
    )
    assert main(["corpus", "scan", str(emodb_root), "--emotions", "calm", "-o", str(out)]) == 1
    assert "no utterances to write after the label selection" in capsys.readouterr().err and not out.exists()
    m = tmp_path / "e.csv"
    assert main(["corpus", "scan", str(emodb_root), "--emotions", "four", "-o", str(m)]) == 0
    assert "(196 left out by the label selection)" in capsys.readouterr().err
    assert main(["corpus", "stats", str(m), "--emotions", "surprised,disgust"]) == 1
    assert "no utterances after the label selection" in capsys.readouterr().err


def test_a_folder_of_corpora_is_scanned_corpus_by_corpus(ravdess_manifest, tmp_path):
    """``corpus scan shared/corpora``: each sub-folder as the corpus it holds (before: the most common
    convention won and the other corpora's 2,563 files were skipped)."""
    from emovox.corpora import scan_many

    root = Path(ravdess_manifest["path"].iloc[0]).parents[2]  # .../corpora (ravdess/Actor_01/x.flac)
    df, reports = scan_many([root], audio_info=False)
    assert [r.corpus for r in reports] == ["emodb", "emovo", "nemo", "ravdess"]
    assert len(df) == 535 + 588 + 4481 + 1440 and not any(r.skipped for r in reports)
    # a corpus's own folder stays one corpus; so does a folder whose sub-folders are one corpus
    assert [r.corpus for r in scan_many([root / "ravdess"], audio_info=False)[1]] == ["ravdess"]
    # files that are not audio are reported and left out of the manifest
    d = tmp_path / "emodb" / "wav"
    d.mkdir(parents=True)
    (d / "03a01Fa.flac").write_bytes(b"")
    (d / "03a01Nc.flac").write_text("hello, not audio")
    (d / "03a01Wa.flac").write_bytes((root / "emodb" / "wav" / "03a01Wa.flac").read_bytes())
    df, (report,) = scan_many([tmp_path / "emodb"])
    assert list(df["utt_id"]) == ["03a01Wa"] and df["sample_rate"].tolist() == [16000]
    assert sorted(report.unreadable) == [
        f"{d}/03a01Fa.flac: empty file; skipped",
        f'{d}/03a01Nc.flac: not audio (first bytes "hello, n"); skipped',
    ]


def test_scan_of_another_corpus_says_why_it_is_empty(emodb_root, caplog):
    """A script got an empty manifest, and no word of why, from scan(emodb_root, "ravdess")."""
    from emovox.corpora import scan

    caplog.set_level("WARNING", logger="emovox")
    df, rep = scan(emodb_root, "ravdess", audio_info=False)
    assert df.empty and rep.mismatch()
    (record,) = caplog.records
    assert "none of its 535 audio files follows the ravdess convention" in record.getMessage()
    caplog.clear()
    scan(emodb_root, "ravdess", audio_info=False, warn=False)  # a caller that reports it itself
    assert not caplog.records
