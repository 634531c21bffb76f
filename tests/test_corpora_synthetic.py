"""Corpus readers on small synthetic trees named by each corpus's convention.

TESS, CREMA-D, SAVEE and ShEMO are not in ``../shared/corpora`` (EMOVO and nEMO are, and are also
checked here on small trees); these tests write 0.3 s of noise under each release's names (``.wav``, ``.flac`` and ``.opus`` mixed), plus names that break the
convention, and check what :func:`emovox.corpora.scan` makes of them.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from emovox.corpora import CORPORA, detect, find_audio, get_reader, scan
from emovox.errors import CorpusError

DUR = 0.3
SHARED = Path(os.environ.get("EMOVOX_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
FOLDS = SHARED / "folds"


def write_audio(path: Path, seed: int = 0) -> None:
    """0.3 s of quiet noise; the format follows the extension (Opus needs 48 kHz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    sr = 48000 if ext == ".opus" else 16000
    y = (0.05 * np.random.default_rng(seed).standard_normal(int(DUR * sr))).astype("float32")
    if ext == ".opus":
        sf.write(str(path), y, sr, format="OGG", subtype="OPUS")
    elif ext == ".flac":
        sf.write(str(path), y, sr, format="FLAC", subtype="PCM_16")
    else:
        sf.write(str(path), y, sr, format="WAV", subtype="PCM_16")


# corpus -> relative path -> expected fields (utt_id, speaker, gender, emotion, emotion_code)
VALID: dict[str, dict[str, tuple]] = {
    "tess": {
        "OAF_angry/OAF_back_angry.wav": ("OAF_back_angry", "OAF", "female", "angry", "angry"),
        "OAF_Fear/OAF_back_fear.flac": ("OAF_back_fear", "OAF", "female", "fearful", "fear"),
        "OAF_Pleasant_surprise/OAF_back_ps.opus": ("OAF_back_ps", "OAF", "female", "surprised", "ps"),
        "YAF_pleasant_surprised/YAF_youth_ps.wav": ("YAF_youth_ps", "YAF", "female", "surprised", "ps"),
        "YAF_sad/YAF_youth_sad.wav": ("YAF_youth_sad", "YAF", "female", "sad", "sad"),
        "OAF_neutral/OA_bite_neutral.wav": ("OA_bite_neutral", "OAF", "female", "neutral", "neutral"),
        "YAF_home_happy.wav": ("YAF_home_happy", "YAF", "female", "happy", "happy"),  # outside the folders
        "YAF_disgust/YAF_home_disgust.flac": ("YAF_home_disgust", "YAF", "female", "disgust", "disgust"),
    },
    "cremad": {
        "AudioWAV/1001_DFA_ANG_XX.wav": ("1001_DFA_ANG_XX", "1001", "male", "angry", "ANG"),
        "AudioWAV/1001_IEO_HAP_HI.flac": ("1001_IEO_HAP_HI", "1001", "male", "happy", "HAP"),
        "AudioWAV/1002_IEO_SAD_LO.opus": ("1002_IEO_SAD_LO", "1002", "female", "sad", "SAD"),
        "AudioWAV/1091_WSI_NEU_XX.wav": ("1091_WSI_NEU_XX", "1091", "female", "neutral", "NEU"),
        "AudioWAV/1045_ITS_FEA_XX.wav": ("1045_ITS_FEA_XX", "1045", "male", "fearful", "FEA"),
        "AudioWAV/1030_TSI_DIS_XX.wav": ("1030_TSI_DIS_XX", "1030", "female", "disgust", "DIS"),
    },
    "savee": {
        # flat layout (AudioData redistributions, EmoBox names)
        "ALL/DC_a01.wav": ("DC_a01", "DC", "male", "angry", "a"),
        "ALL/DC_sa01.flac": ("DC_sa01", "DC", "male", "sad", "sa"),
        "ALL/JE_su15.wav": ("JE_su15", "JE", "male", "surprised", "su"),
        "ALL/KL_n30.opus": ("KL_n30", "KL", "male", "neutral", "n"),
        # speaker-folder layout (official AudioData/)
        "AudioData/JK/a01.wav": ("JK_a01", "JK", "male", "angry", "a"),
        "AudioData/JK/sa02.flac": ("JK_sa02", "JK", "male", "sad", "sa"),
        "AudioData/KL/d03.wav": ("KL_d03", "KL", "male", "disgust", "d"),
        "AudioData/JE/f05.opus": ("JE_f05", "JE", "male", "fearful", "f"),
        "AudioData/JE/h10.wav": ("JE_h10", "JE", "male", "happy", "h"),
    },
    "emovo": {
        "f1/dis-f1-b1.wav": ("dis-f1-b1", "f1", "female", "disgust", "dis"),
        "m2/gio-m2-l4.flac": ("gio-m2-l4", "m2", "male", "happy", "gio"),
        "f3/sor-f3-n5.opus": ("sor-f3-n5", "f3", "female", "surprised", "sor"),
        "m3/tri-m3-d2.wav": ("tri-m3-d2", "m3", "male", "sad", "tri"),
        "m1/pau-m1-b3.wav": ("pau-m1-b3", "m1", "male", "fearful", "pau"),
        "f2/neu-f2-n1.wav": ("neu-f2-n1", "f2", "female", "neutral", "neu"),
        "m1/rab-m1-l1.flac": ("rab-m1-l1", "m1", "male", "angry", "rab"),
    },
    "shemo": {
        "female/F01A01.wav": ("F01A01", "F01", "female", "angry", "A"),
        "female/F03S02.flac": ("F03S02", "F03", "female", "sad", "S"),
        "female/F02F01.opus": ("F02F01", "F02", "female", "fearful", "F"),
        "female/F02N01.wav": ("F02N01", "F02", "female", "neutral", "N"),
        "male/M01N01.wav": ("M01N01", "M01", "male", "neutral", "N"),
        "male/M01H01.flac": ("M01H01", "M01", "male", "happy", "H"),
        "male/M01W01.wav": ("M01W01", "M01", "male", "surprised", "W"),
    },
    "nemo": {
        "samples/EB0_anger_1.wav": ("EB0_anger_1", "EB0", "female", "angry", "anger"),
        "samples/KS0_happiness_12.flac": ("KS0_happiness_12", "KS0", "male", "happy", "happiness"),
        "samples/MK0_fear_3.opus": ("MK0_fear_3", "MK0", "female", "fearful", "fear"),
        "samples/WR0_sadness_90.wav": ("WR0_sadness_90", "WR0", "male", "sad", "sadness"),
        "samples/IC0_neutral_45.flac": ("IC0_neutral_45", "IC0", "female", "neutral", "neutral"),
        "samples/MP0_surprised_7.wav": ("MP0_surprised_7", "MP0", "male", "surprised", "surprised"),
    },
}

# Names that break each convention: they must be skipped with a reason, never dropped silently.
MALFORMED: dict[str, list[str]] = {
    "tess": [
        "OAF_angry/OAF_back.wav",
        "ZZF_back_angry.wav",
        "OAF_back_bored.wav",
        "OAF_back_angry_2.wav",
        "YAF_sad/YAF-youth-sad.flac",
    ],
    "cremad": [
        "AudioWAV/1092_DFA_ANG_XX.wav",
        "AudioWAV/1000_DFA_ANG_XX.wav",
        "AudioWAV/1001_ABC_ANG_XX.wav",
        "AudioWAV/1001_DFA_JOY_XX.wav",
        "AudioWAV/1001_DFA_ANG_ZZ.wav",
        "AudioWAV/1001_DFA_ANG.wav",
        "AudioWAV/1001_dfa_ang_xx.flac",
    ],
    "savee": [
        "AudioData/XX/a01.wav",
        "ALL/DC_x01.wav",
        "ALL/DC_a1.wav",
        "ALL/AB_a01.wav",
        "AudioData/DC/sad01.wav",
        "AudioData/DC/a00.wav",
    ],
    "emovo": [
        "f1/xxx-f1-b1.wav",
        "f1/dis-x1-b1.wav",
        "f1/dis-f1.wav",
        "f1/dis-f4-b1.wav",
        "f1/dis_f1_b1.wav",
    ],
    "shemo": ["female/F01X01.wav", "female/X01A01.wav", "female/F1A01.wav", "male/M01A001.wav"],
    "nemo": [
        "samples/EB0_anger.wav",
        "samples/XX0_anger_1.wav",
        "samples/EB0_joy_1.wav",
        "samples/eb0_anger_1.wav",
        "samples/EB0-anger-1.wav",
        "samples/EB0_anger_0.flac",
    ],
}

DEMOGRAPHICS = [
    ("ActorID", "Age", "Sex", "Race", "Ethnicity"),
    ("1001", "51", "Male", "Caucasian", "Not Hispanic"),
    ("1002", "21", "Female", "Caucasian", "Not Hispanic"),
    ("1030", "42", "Female", "African American", "Not Hispanic"),
    ("1045", "60", "Male", "Asian", "Not Hispanic"),
    ("1091", "29", "Female", "Asian", "Not Hispanic"),
]

# nEMO's data.tsv: file_id always ends in .wav; speaker_id is space-padded as in the release.
# MP0_surprised_7 has no line, so its gender comes from the speaker list and its age is empty.
NEMO_TSV = [
    ("file_id", "emotion", "raw_text", "normalized_text", "speaker_id", "gender", "age"),
    (
        "EB0_anger_1.wav",
        "anger",
        "Lubię czytać przed snem.",
        "lubię czytać przed snem",
        "        EB0",
        "female",
        "27",
    ),
    ("KS0_happiness_12.wav", "happiness", "Ala ma kota.", "ala ma kota", "        KS0", "male", "23"),
    ("MK0_fear_3.wav", "fear", "Idę do domu.", "idę do domu", "        MK0", "female", "23"),
    ("WR0_sadness_90.wav", "sadness", "Pada deszcz.", "pada deszcz", "        WR0", "male", "23"),
    ("IC0_neutral_45.wav", "neutral", "Jest zimno.", "jest zimno", "        IC0", "female", "28"),
]


def build(root: Path, corpus: str, malformed: bool = True) -> Path:
    names = list(VALID[corpus]) + (MALFORMED[corpus] if malformed else [])
    for i, rel in enumerate(names):
        write_audio(root / rel, seed=i)
    (root / "README.txt").write_text("not audio; ignored by the scan\n")
    return root


def write_demographics(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(DEMOGRAPHICS)


def write_nemo_tsv(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(NEMO_TSV)


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for corpus in VALID:
        out[corpus] = build(tmp_path_factory.mktemp(corpus), corpus)
    write_demographics(out["cremad"] / "docs" / "VideoDemographics.csv")
    write_nemo_tsv(out["nemo"] / "data.tsv")
    return out


def test_opus_roundtrip(tmp_path):
    write_audio(tmp_path / "x.opus")
    info = sf.info(str(tmp_path / "x.opus"))
    assert info.samplerate == 48000 and abs(info.frames / info.samplerate - DUR) < 0.05


@pytest.mark.parametrize("corpus", list(VALID))
def test_scan_named_and_detected(trees, corpus):
    root = trees[corpus]
    df, report = scan(root, corpus)
    df_auto, report_auto = scan(root)
    assert report_auto.corpus == corpus
    assert detect(find_audio(root), root) == corpus
    assert df_auto["utt_id"].tolist() == df["utt_id"].tolist()

    n_valid, n_bad = len(VALID[corpus]), len(MALFORMED[corpus])
    assert report.n_files == n_valid + n_bad
    assert report.n_rows == len(df) == n_valid
    assert df["corpus"].eq(corpus).all()
    assert df["language"].eq(get_reader(corpus).language).all()
    # every skipped file is listed with a non-empty reason
    skipped = {Path(p).relative_to(root).as_posix(): reason for p, reason in report.skipped}
    assert set(skipped) == set(MALFORMED[corpus])
    assert all(isinstance(r, str) and r for r in skipped.values())
    assert f"skipped {n_bad} file{'s' * (n_bad != 1)} that do" in report.summary()
    assert (
        f", {n_valid} utterance{'s' * (n_valid != 1)} from {n_valid + n_bad} audio files" in report.summary()
    )

    by_path = {Path(p).resolve(): row for p, row in zip(df["path"], df.itertuples(index=False), strict=True)}
    for rel, (utt, spk, gender, emotion, code) in VALID[corpus].items():
        row = by_path[(root / rel).resolve()]
        assert row.utt_id == utt
        assert row.speaker == f"{corpus}:{spk}"
        assert row.gender == gender
        assert row.emotion == emotion
        assert row.emotion_code == code
        assert abs(row.duration - DUR) < 0.05
        assert row.sample_rate == (48000 if rel.endswith(".opus") else 16000)
        assert row.channels == 1


@pytest.mark.parametrize("corpus", list(VALID))
def test_conventions_do_not_overlap(trees, corpus):
    """A valid file of one corpus is rejected by every other reader, so detection is unambiguous."""
    for rel in VALID[corpus]:
        path = trees[corpus] / rel
        for other in CORPORA:
            if other != corpus:
                assert isinstance(get_reader(other).parse(path, {}), str), (other, rel)


@pytest.mark.parametrize("corpus", list(VALID))
def test_utt_ids_match_emobox_folds(trees, corpus):
    fold = FOLDS / f"{corpus}.csv"
    if not fold.is_file():
        pytest.skip(f"{fold} not available")
    with open(fold, newline="") as f:
        names = {Path(r["file"]).stem for r in csv.DictReader(f)}
    df, _ = scan(trees[corpus], corpus, audio_info=False)
    assert set(df["utt_id"]) <= names
    assert len(set(df["utt_id"])) == len(df)


def test_tess_details(trees):
    df, _ = scan(trees["tess"], "tess", audio_info=False)
    row = df.set_index("utt_id").loc["OA_bite_neutral"]
    assert row.speaker == "tess:OAF" and row.age == 64 and row.word == "bite"
    assert set(df.loc[df.speaker == "tess:YAF", "age"]) == {26}
    assert df.speaker.nunique() == 2


def test_tess_emotion_spellings(tmp_path):
    reader = get_reader("tess")
    for stem, emotion in [
        ("YAF_dog_pleasant_surprise", "surprised"),
        ("OAF_dog_pleasant_surprised", "surprised"),
        ("OAF_dog_Fear", "fearful"),
        ("YAF_dog_ps", "surprised"),
    ]:
        parsed = reader.parse(tmp_path / f"{stem}.wav", {})
        assert isinstance(parsed, dict) and parsed["emotion"] == emotion and parsed["utt_id"] == stem


def test_cremad_demographics(trees):
    df, _ = scan(trees["cremad"], "crema-d", audio_info=False)
    d = df.set_index("utt_id")
    assert d.loc["1001_DFA_ANG_XX", "age"] == 51 and d.loc["1002_IEO_SAD_LO", "age"] == 21
    assert d.loc["1030_TSI_DIS_XX", "race"] == "African American"
    assert d.loc["1001_IEO_HAP_HI", "intensity"] == "high"
    assert d.loc["1002_IEO_SAD_LO", "intensity"] == "low"
    assert d.loc["1001_DFA_ANG_XX", "intensity"] == "unspecified"
    assert d.loc["1001_DFA_ANG_XX", "text"] == "Don't forget a jacket"


def test_cremad_without_demographics(tmp_path):
    root = build(tmp_path / "crema", "cremad", malformed=False)
    df, report = scan(root)
    assert report.corpus == "cremad" and len(df) == len(VALID["cremad"]) and not report.skipped
    assert df["gender"].isna().all() and df["age"].isna().all()
    assert df["emotion"].notna().all()


def test_cremad_actor_missing_from_demographics(tmp_path):
    root = build(tmp_path / "crema", "cremad", malformed=False)
    write_demographics(root / "VideoDemographics.csv")
    write_audio(root / "AudioWAV" / "1050_IEO_NEU_XX.wav")
    df, _ = scan(root, "cremad", audio_info=False)
    d = df.set_index("utt_id")
    assert pd.isna(d.loc["1050_IEO_NEU_XX", "gender"]) and pd.isna(d.loc["1050_IEO_NEU_XX", "age"])
    assert d.loc["1091_WSI_NEU_XX", "gender"] == "female"


def test_savee_layouts_agree(tmp_path):
    """The same utterance under either layout gets the same utt_id and labels."""
    flat = get_reader("savee").parse(tmp_path / "DC_sa01.wav", {})
    nested = get_reader("savee").parse(tmp_path / "AudioData" / "DC" / "sa01.wav", {})
    assert isinstance(flat, dict) and flat == nested
    assert flat["utt_id"] == "DC_sa01" and flat["emotion"] == "sad"
    angry = get_reader("savee").parse(tmp_path / "DC" / "a01.wav", {})
    assert angry["emotion"] == "angry" and angry["utt_id"] == "DC_a01"


def test_shemo_speakers_keep_gender_letter(trees):
    df, _ = scan(trees["shemo"], "shemo", audio_info=False)
    assert {"shemo:F01", "shemo:M01"} <= set(df.speaker)
    assert df.groupby("speaker")["gender"].nunique().eq(1).all()


def test_nemo_data_tsv(trees):
    assert get_reader("n-emo").name == "nemo" and get_reader("nEMO").title == "nEMO"
    df, report = scan(trees["nemo"], audio_info=False)
    assert report.corpus == "nemo"
    d = df.set_index("utt_id")
    row = d.loc["EB0_anger_1"]
    assert (row.speaker, row.gender, row.age, row.sentence) == ("nemo:EB0", "female", 27, "1")
    assert row.text == "Lubię czytać przed snem." and row.normalized_text == "lubię czytać przed snem"
    # the .flac and .opus copies match their .wav lines on the stem
    assert d.loc["KS0_happiness_12", "age"] == 23 and d.loc["KS0_happiness_12", "text"] == "Ala ma kota."
    assert d.loc["MK0_fear_3", "text"] == "Idę do domu."
    # no line in data.tsv: gender from the speaker list, age and text empty
    assert d.loc["MP0_surprised_7", "gender"] == "male"
    assert pd.isna(d.loc["MP0_surprised_7", "age"]) and pd.isna(d.loc["MP0_surprised_7", "text"])
    assert df["speaker"].str.fullmatch(r"nemo:[A-Z]{2}0").all()


def test_nemo_without_data_tsv(tmp_path):
    root = build(tmp_path / "nemo", "nemo", malformed=False)
    write_audio(root / "samples" / "EB0_anger.wav")
    df, report = scan(root)
    assert report.corpus == "nemo" and len(df) == len(VALID["nemo"])
    assert [(Path(p).name, r) for p, r in report.skipped] == [
        ("EB0_anger.wav", "not SPK_EMOTION_N (e.g. EB0_anger_1)")
    ]
    assert df.set_index("utt_id")["gender"].to_dict() == {u: g for u, _, g, _, _ in VALID["nemo"].values()}
    assert df["age"].isna().all() and df["text"].isna().all()
    assert set(df["emotion"]) == {"angry", "happy", "fearful", "sad", "neutral", "surprised"}


def test_nemo_rejections():
    reader = get_reader("nemo")
    cases = {
        "EB0_anger.wav": "not SPK_EMOTION_N",
        "EB0_joy_1.wav": "unknown emotion joy",
        "XX0_anger_1.wav": "unknown speaker XX0",
        "EB0_anger_0.wav": "bad sentence number 0",
        "EB0_anger_01.wav": "bad sentence number 01",
    }
    for name, reason in cases.items():
        parsed = reader.parse(Path(name), {})
        assert isinstance(parsed, str) and parsed.startswith(reason), (name, parsed)


def test_detect_rejects_unknown_names(tmp_path):
    for name in ["hello.wav", "take_1.flac", "x-y.wav"]:
        write_audio(tmp_path / name)
    with pytest.raises(CorpusError, match="no file follows"):
        scan(tmp_path)
    df, report = scan(tmp_path, "savee")
    assert len(df) == 0 and len(report.skipped) == 3


def test_a_misspelt_corpus_name_gets_the_closest_one():
    with pytest.raises(
        CorpusError, match=r"^unknown corpus 'emodbb' \(did you mean emodb\?\); expected one of"
    ):
        get_reader("emodbb")
    with pytest.raises(CorpusError, match=r"^unknown corpus 'xyz'; expected one of"):
        get_reader("xyz")


def test_a_scan_of_one_file_is_said_in_the_singular(tmp_path):
    """ "1 utterances from 1 audio files"."""
    import numpy as np
    import soundfile as sf

    from emovox.corpora import scan

    (tmp_path / "wav").mkdir()
    sf.write(tmp_path / "wav" / "03a01Wa.wav", np.zeros(16000, np.float32), 16000)
    _, report = scan(tmp_path, "emodb", audio_info=False)
    assert report.summary().splitlines()[0] == f"{tmp_path}: emodb, 1 utterance from 1 audio file"
    assert report.summary(counts=False) == ""  # (corpus scan -q: nothing left out, nothing to say)


def test_a_scan_summary_reads_as_prose():
    """It printed "skipped 1 entries", "...: empty file; skipped" under "skipped" and, past ten files, a
    Python dict of every reason ({'not SSTTTEV (e.g. 03a01Fa)': 98}) whose count was not the "and 88 more"."""
    from emovox.corpora.base import ScanReport

    rep = ScanReport("in", "emodb", n_files=14, n_rows=1)
    rep.unreadable = ["in/x.wav: empty file; skipped"]
    rep.skipped = [(f"in/{i}.wav", "not SSTTTEV") for i in range(11)] + [("in/y.wav", "unknown emotion 'Q'")]
    assert rep.summary().splitlines() == [
        "in: emodb, 1 utterance from 14 audio files",
        "skipped 1 entry that is not an audio file:",
        "  in/x.wav: empty file",
        "skipped 12 files that do not follow the emodb convention:",
        *[f"  in/{i}.wav: not SSTTTEV" for i in range(10)],
        "  ... and 2 more (not SSTTTEV: 1; unknown emotion 'Q': 1)",
    ]
    assert rep.summary(counts=False).splitlines()[0] == "skipped 1 entry that is not an audio file:"
    # one reason past the ten listed, but not theirs: named
    rep.skipped = [(f"in/{i}.wav", "A") for i in range(10)] + [(f"in/b{i}.wav", "B") for i in range(5)]
    assert rep.summary().splitlines()[-1] == "  ... and 5 more (B: 5)"
    rep.skipped = [(f"in/{i}.wav", "A") for i in range(15)]
    assert rep.summary().splitlines()[-1] == "  ... and 5 more"


def test_scan_report_escapes_control_characters_in_names():
    """A review (stop 42): the list of files that do not follow the convention printed names as they were,
    so an ESC sequence in a file name reached the terminal (the list above it was escaped)."""
    from emovox.corpora.base import ScanReport

    rep = ScanReport("ro\not", "emodb", 2, 1, skipped=[("a\x1b[2Jb.wav", "not SSTTTEV (e.g. 03a01Fa)")])
    text = rep.summary()
    assert "\x1b" not in text and "a\\x1b[2Jb.wav: not SSTTTEV" in text and "ro\\not: emodb" in text
