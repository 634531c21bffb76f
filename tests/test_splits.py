"""Every protocol of :func:`emovox.splits.make_protocol` on synthetic manifests (no corpora needed).

What makes an evaluation honest: no speaker on both sides of a speaker-independent fold, every row tested
exactly once where the protocol promises it, whole corpora held out by the cross-corpus protocols, folds
reproducible from their seed, and one clear :class:`CorpusError` for every spec or manifest that cannot
give the protocol. tests/test_loco.py covers loco's basic folds and ``cross:a,b->a``; tests/test_corpora_real.py
the protocols on RAVDESS and EMO-DB (skipped without ../shared).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emovox.errors import CorpusError
from emovox.splits import CROSS_NOTE, Fold, Protocol, emobox_folds, make_protocol
from emovox.tables import FeatureTable, speaker_ids

EMOTIONS = ("angry", "happy", "neutral", "sad")


def manifest(corpora=(("a", 10),), per: int = 8) -> pd.DataFrame:
    """``per`` rows per speaker (the emotions in turn), speakers ``<corpus>:01``.. as the readers name them."""
    rows = []
    for corpus, n_speakers in corpora:
        for s in range(1, n_speakers + 1):
            for i in range(per):
                rows.append(
                    {
                        "path": f"/data/{corpus}/{s:02d}_{i}.wav",
                        "corpus": corpus,
                        "utt_id": f"{corpus}{s:02d}{i}",
                        "speaker": f"{corpus}:{s:02d}",
                        "gender": "female" if s % 2 else "male",
                        "emotion": EMOTIONS[i % len(EMOTIONS)],
                    }
                )
    return pd.DataFrame(rows)


def speakers(df: pd.DataFrame, idx) -> set[str]:
    return set(df["speaker"].to_numpy()[idx])


def check_partition(df: pd.DataFrame, proto: Protocol) -> None:
    """Every fold: train and test disjoint, together the whole manifest; every row tested exactly once;
    no speaker on both sides (and the fold says so)."""
    for f in proto.folds:
        assert len(np.intersect1d(f.train, f.test)) == 0, f.name
        assert sorted([*f.train, *f.test]) == list(range(len(df))), f.name
        assert not speakers(df, f.train) & speakers(df, f.test), f.name
        assert f.shared_speakers == [] and f.speaker_independent
    assert sorted(np.concatenate([f.test for f in proto.folds]).tolist()) == list(range(len(df)))
    assert proto.speaker_independent and not proto.cross_corpus
    assert proto.describe().endswith("speaker-independent (no speaker on both sides)")


def partition(df: pd.DataFrame, proto: Protocol) -> list[frozenset[str]]:
    return [frozenset(speakers(df, f.test)) for f in proto.folds]


# -- kfold ------------------------------------------------------------------------------------------------


def test_kfold_default_is_five_speaker_independent_folds():
    df = manifest()  # 10 speakers x 8 rows
    proto = make_protocol(df)
    assert proto.name == "kfold(5)" and proto.note == ""
    assert [f.name for f in proto.folds] == ["fold1", "fold2", "fold3", "fold4", "fold5"]
    check_partition(df, proto)
    assert [len(f.test) for f in proto.folds] == [16] * 5 and [len(f.train) for f in proto.folds] == [64] * 5
    assert [len(s) for s in partition(df, proto)] == [2] * 5  # two whole speakers per fold
    assert proto.describe().startswith("kfold(5): 5 fold(s), 80 test utterances in all; ")
    # every fold keeps the emotions balanced (stratified): 4 of each in 16
    for f in proto.folds:
        assert df["emotion"].iloc[f.test].value_counts().to_dict() == dict.fromkeys(EMOTIONS, 4)


@pytest.mark.parametrize("k", range(2, 11))
@pytest.mark.parametrize("seed", [0, 1])
def test_kfold_k_spreads_speakers_evenly(k, seed):
    df = manifest()
    proto = make_protocol(df, f"kfold:{k}", random_state=seed)
    assert proto.name == f"kfold({k})" and len(proto.folds) == k
    check_partition(df, proto)
    # each speaker tested in exactly one fold, 10 speakers as evenly as possible over k folds
    tested = [s for part in partition(df, proto) for s in part]
    assert sorted(tested) == sorted(set(df["speaker"]))
    assert sorted(len(s) for s in partition(df, proto)) == sorted(10 // k + (i < 10 % k) for i in range(k))
    assert all(len(f.test) == 8 * len(speakers(df, f.test)) for f in proto.folds)


def test_kfold_is_reproducible_and_the_seed_matters():
    df = manifest()
    a, b = make_protocol(df, "kfold:5", random_state=3), make_protocol(df, "kfold:5", random_state=3)
    for fa, fb in zip(a.folds, b.folds, strict=True):
        assert np.array_equal(fa.train, fb.train) and np.array_equal(fa.test, fb.test)
    # the default seed is 0
    assert partition(df, make_protocol(df, "kfold")) == partition(
        df, make_protocol(df, "kfold", random_state=0)
    )
    # different seeds draw different speaker groups (10 seeds, at least 5 distinct partitions)
    parts = {frozenset(partition(df, make_protocol(df, "kfold:5", random_state=s))) for s in range(10)}
    assert len(parts) >= 5


def test_kfold_needs_as_many_speakers_as_folds():
    df = manifest((("a", 4),))
    with pytest.raises(CorpusError) as info:
        make_protocol(df)
    assert str(info.value) == "kfold:5 needs at least 5 speakers, the manifest has 4"
    with pytest.raises(CorpusError, match=r"^kfold:11 needs at least 11 speakers, the manifest has 10$"):
        make_protocol(manifest(), "kfold:11")
    assert len(make_protocol(df, "kfold:4").folds) == 4  # exactly enough: one speaker per fold
    assert [len(s) for s in partition(df, make_protocol(df, "kfold:4"))] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "spec, why",
    [
        ("kfold:x", "K must be a whole number of folds >= 2 (e.g. kfold:5); expected kfold[:K], loso"),
        ("kfold:2.5", "K must be a whole number"),
        ("kfold:1", "K must be a whole number"),  # it said what scikit-learn says (n_splits)
        ("kfold:0", "K must be a whole number"),
        ("loso:whatever", "loso takes no ':' argument"),  # it ran LOSO
    ],
)
def test_kfold_bad_k(spec, why):
    with pytest.raises(CorpusError) as info:
        make_protocol(manifest(), spec)
    msg = str(info.value)
    assert msg.startswith(f"bad protocol {spec!r}: ") and why in msg and "\n" not in msg, msg


# -- loso, speakers ---------------------------------------------------------------------------------------


def test_loso_one_fold_per_speaker():
    # speakers of unequal size: a:01..a:03 with 8 rows, b:01, b:02 with 4
    df = pd.concat([manifest((("a", 3),)), manifest((("b", 2),), per=4)], ignore_index=True)
    proto = make_protocol(df, "loso")
    assert proto.name == "loso"
    assert [f.name for f in proto.folds] == ["a:01", "a:02", "a:03", "b:01", "b:02"]
    check_partition(df, proto)
    assert [len(f.test) for f in proto.folds] == [8, 8, 8, 4, 4]
    assert [len(f.train) for f in proto.folds] == [24, 24, 24, 28, 28]
    for f in proto.folds:
        assert speakers(df, f.test) == {f.name}
    assert proto.describe().startswith("loso: 5 fold(s), 32 test utterances in all")
    assert make_protocol(df, "LOSO").name == "loso"  # protocol names are case-insensitive


def test_speakers_bare_and_prefixed_ids():
    df = manifest((("a", 4), ("b", 3)))
    # a bare id names that speaker in every corpus; a prefixed one only in its corpus
    proto = make_protocol(df, "speakers:01")
    assert proto.name == "speakers(a:01,b:01)" and len(proto.folds) == 1
    (fold,) = proto.folds
    assert fold.name == "speakers" and speakers(df, fold.test) == {"a:01", "b:01"}
    assert (len(fold.train), len(fold.test)) == (40, 16) and fold.speaker_independent
    proto = make_protocol(df, "speakers:a:02,b:03")
    assert proto.name == "speakers(a:02,b:03)" and speakers(df, proto.folds[0].test) == {"a:02", "b:03"}
    assert sorted([*proto.folds[0].train, *proto.folds[0].test]) == list(range(56))
    assert not proto.cross_corpus


def test_speakers_unknown_speaker_is_named():
    df = manifest((("a", 4),))
    # and which there are (the manifest's names may be corpus:speaker)
    there = "; its speakers: a:01, a:02, a:03, a:04"
    with pytest.raises(CorpusError, match=rf"^test speaker '07' is not in the manifest{there}$"):
        make_protocol(df, "speakers:01,07")
    with pytest.raises(CorpusError, match=rf"^test speaker 'b:01' is not in the manifest{there}$"):
        make_protocol(df, "speakers:b:01")


# -- random (the tutorials' split, not speaker-independent) ------------------------------------------------


def test_random_split_says_it_shares_speakers():
    df = manifest()
    proto = make_protocol(df, "random")
    assert proto.name == "random(0.25, seed 7)" and len(proto.folds) == 1
    (fold,) = proto.folds
    assert fold.name == "random" and (len(fold.train), len(fold.test)) == (60, 20)
    assert np.all(np.diff(fold.train) > 0) and np.all(np.diff(fold.test) > 0)  # sorted, no repeats
    assert sorted([*fold.train, *fold.test]) == list(range(80))
    # stratified: 5 of each emotion in the 20 test rows
    assert df["emotion"].iloc[fold.test].value_counts().to_dict() == dict.fromkeys(EMOTIONS, 5)
    # speakers on both sides: the protocol says so, and how many
    assert fold.shared_speakers == sorted(speakers(df, fold.train) & speakers(df, fold.test))
    assert len(fold.shared_speakers) == 10
    assert not fold.speaker_independent and not proto.speaker_independent
    assert proto.describe() == (
        "random(0.25, seed 7): 1 fold(s), 20 test utterances in all; NOT speaker-independent: up to 10 "
        "speaker(s) on both sides of a fold, so scores overstate accuracy on unseen speakers"
    )


def test_random_seed_7_unless_another_is_given():
    df = manifest()
    default = make_protocol(df, "random")
    seven = make_protocol(df, "random", random_state=7)
    three = make_protocol(df, "random", random_state=3)
    assert np.array_equal(default.folds[0].test, seven.folds[0].test) and seven.name == default.name
    assert three.name == "random(0.25, seed 3)"
    assert not np.array_equal(three.folds[0].test, seven.folds[0].test)
    again = make_protocol(df, "random", random_state=3)
    assert np.array_equal(three.folds[0].test, again.folds[0].test)
    # 0 is a seed like any other (it used to fall back to 7); the k-fold's default stays 0
    zero = make_protocol(df, "random", random_state=0)
    assert zero.name == "random(0.25, seed 0)"
    assert not np.array_equal(zero.folds[0].test, seven.folds[0].test)
    default, seeded = make_protocol(df, "kfold"), make_protocol(df, "kfold", random_state=0)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(default.folds, seeded.folds, strict=True))


def test_random_fraction():
    df = manifest()
    proto = make_protocol(df, "random:0.5")
    assert proto.name == "random(0.5, seed 7)"
    assert (len(proto.folds[0].train), len(proto.folds[0].test)) == (40, 40)
    assert len(make_protocol(df, "random:0.1").folds[0].test) == 8


def test_random_without_speakers_is_never_called_speaker_independent():
    df = manifest().drop(columns="speaker")
    proto = make_protocol(df, "random")
    assert proto.folds[0].shared_speakers == ["?"] and not proto.speaker_independent
    assert "NOT speaker-independent" in proto.describe()
    assert sorted([*proto.folds[0].train, *proto.folds[0].test]) == list(range(80))


@pytest.mark.parametrize("spec", ["random:0", "random:1", "random:1.5", "random:-0.2", "random:x"])
def test_random_bad_fraction(spec):
    with pytest.raises(CorpusError) as info:
        make_protocol(manifest(), spec)
    assert str(info.value).startswith(f"bad protocol {spec!r}: ")


def test_random_refuses_an_emotion_with_one_row():
    df = pd.concat([manifest(), manifest((("z", 1),), per=1).assign(emotion="fearful")], ignore_index=True)
    with pytest.raises(CorpusError) as info:
        make_protocol(df, "random")
    assert str(info.value).startswith("bad protocol 'random': ") and "\n" not in str(info.value)
    assert len(make_protocol(df.iloc[:-1], "random").folds[0].test) == 20  # without that row it splits


# -- cross-corpus: cross and loco ---------------------------------------------------------------------------


def three_corpora() -> pd.DataFrame:
    """a: 3 speakers, b: 2, c: 4, d: 1 (8 rows each): 24, 16, 32 and 8 rows, positions 0-23, 24-39, 40-71, 72-79."""
    return manifest((("a", 3), ("b", 2), ("c", 4), ("d", 1)))


def test_cross_trains_on_the_named_corpora_and_tests_on_the_others():
    df = three_corpora()
    proto = make_protocol(df, "cross:a,b->c")
    assert proto.name == "cross(a+b->c)" and proto.cross_corpus and proto.note == CROSS_NOTE
    (fold,) = proto.folds
    assert fold.name == "c"
    assert fold.train.tolist() == list(range(40)) and fold.test.tolist() == list(range(40, 72))
    # d is named on neither side: in neither set
    assert not set(range(72, 80)) & {*fold.train, *fold.test}
    assert proto.speaker_independent
    assert proto.describe() == (
        "cross(a+b->c): 1 fold(s), 32 test utterances in all; each test corpus scored on the emotions it "
        "has; speaker-independent (no speaker on both sides)"
    )


def test_cross_several_test_corpora_make_a_fold_each():
    """Each held-out corpus is reported on its own (one fold "c+d" pooled them into one figure)."""
    df = three_corpora()
    proto = make_protocol(df, "cross:b->c,d")
    assert proto.name == "cross(b->c+d)" and [f.name for f in proto.folds] == ["c", "d"]
    for fold in proto.folds:
        assert fold.train.tolist() == list(range(24, 40))
        assert set(df["corpus"].iloc[fold.test]) == {fold.name}
    assert sorted(proto.folds[0].test.tolist() + proto.folds[1].test.tolist()) == list(range(40, 80))


def test_a_file_listed_twice_is_refused_by_every_protocol():
    df = three_corpora()
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    for spec in ("kfold:2", "random", "loco", "cross:a->b"):
        with pytest.raises(CorpusError, match=r"1 file\(s\) appear more than once .*remove the duplicates"):
            make_protocol(df, spec)


@pytest.mark.parametrize(
    "spec, overlap",
    [("cross:a->a", "['a']"), ("cross:a,b->b,c", "['b']"), ("cross:a,b,c->c,b", "['b', 'c']")],
)
def test_cross_refuses_a_corpus_on_both_sides(spec, overlap):
    with pytest.raises(CorpusError) as info:
        make_protocol(three_corpora(), spec)
    assert str(info.value) == (
        f"cross-corpus protocol has {overlap} on both sides; to test on unseen speakers of one corpus, use "
        "loso or kfold"
    )


def test_cross_names_corpora_in_any_case():
    upper = make_protocol(three_corpora(), "cross:A,B->C")
    assert upper.name == "cross(a+b->c)" and [f.name for f in upper.folds] == ["c"]


@pytest.mark.parametrize("spec", ["cross:a,zz->c", "cross:a->zz"])
def test_cross_names_a_corpus_absent_from_the_manifest(spec):
    with pytest.raises(CorpusError) as info:
        make_protocol(three_corpora(), spec)
    assert str(info.value) == "corpus 'zz' is not in the manifest (it has ['a', 'b', 'c', 'd'])"


def test_cross_names_may_be_spaced():
    proto = make_protocol(three_corpora(), "cross: a , b -> c")
    assert proto.name == "cross(a+b->c)"


@pytest.mark.parametrize("spec", ["cross:a", "cross:a->", "cross:->c", "cross:", "cross"])
def test_cross_malformed(spec):
    with pytest.raises(CorpusError) as info:
        make_protocol(three_corpora(), spec)
    assert (
        str(info.value)
        == f"bad protocol {spec!r}: expected cross:TRAIN1,TRAIN2->TEST, e.g. cross:ravdess,emodb->emovo"
    )


def test_loco_fold_sizes_and_note():
    df = three_corpora()
    proto = make_protocol(df, "loco")
    assert proto.name == "loco" and proto.cross_corpus and proto.note == CROSS_NOTE
    assert [f.name for f in proto.folds] == ["a", "b", "c", "d"]  # each corpus held out once, sorted
    assert [len(f.test) for f in proto.folds] == [24, 16, 32, 8]
    assert [len(f.train) for f in proto.folds] == [56, 64, 48, 72]
    corpus = df["corpus"].to_numpy()
    for f in proto.folds:
        assert set(corpus[f.test]) == {f.name} and f.name not in set(corpus[f.train])
        assert sorted([*f.train, *f.test]) == list(range(80))
    assert proto.speaker_independent
    assert proto.describe().startswith("loco: 4 fold(s), 80 test utterances in all; " + CROSS_NOTE)


def test_cross_corpus_folds_report_a_speaker_in_two_corpora():
    """Speaker ids are corpus-prefixed by the readers; a hand-made manifest that reuses one across corpora
    is not speaker-independent across corpora, and the folds say so."""
    df = three_corpora()
    df.loc[df["speaker"] == "d:01", "speaker"] = "a:01"
    loco = make_protocol(df, "loco")
    assert [f.shared_speakers for f in loco.folds] == [["a:01"], [], [], ["a:01"]]
    assert not loco.speaker_independent
    assert "NOT speaker-independent: up to 1 speaker(s) on both sides" in loco.describe()
    assert make_protocol(df, "cross:a->d").folds[0].shared_speakers == ["a:01"]
    assert make_protocol(df, "cross:a->b").speaker_independent


def test_loco_needs_two_corpora():
    with pytest.raises(CorpusError) as info:
        make_protocol(manifest(), "loco")
    assert str(info.value) == "loco needs at least two corpora in the manifest, it has ['a']"


# -- the spec and the manifest -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["none", "bogus", "kfolds", "leave-one-out", ""])
def test_unknown_protocol_lists_the_valid_ones(spec):
    with pytest.raises(CorpusError) as info:
        make_protocol(manifest(), spec)
    hint = {"kfolds": " (did you mean kfold?)"}.get(spec, "")
    assert str(info.value) == (
        f"bad protocol {spec!r}: unknown protocol{hint}; expected kfold[:K], loso, speakers:S1,S2, emobox, loco, "
        "cross:A,B->C, random[:F]"
    )


def test_protocol_names_ignore_case_and_spaces():
    df = manifest()
    assert make_protocol(df, " KFold:3").name == "kfold(3)"
    assert make_protocol(df, "Random:0.5").name == "random(0.5, seed 7)"
    assert make_protocol(three_corpora(), "LOCO").name == "loco"


@pytest.mark.parametrize(
    "spec, drop, missing",
    [
        ("kfold", "speaker", "['speaker']"),
        ("kfold", "emotion", "['emotion']"),
        ("loso", "speaker", "['speaker']"),
        ("speakers:01", "speaker", "['speaker']"),
        ("random", "emotion", "['emotion']"),
        ("loco", "corpus", "['corpus']"),
        ("cross:a->b", "corpus", "['corpus']"),
        ("emobox", "utt_id", "['utt_id']"),
    ],
)
def test_a_missing_column_is_named(spec, drop, missing):
    df = three_corpora().drop(columns=drop)
    with pytest.raises(CorpusError) as info:
        make_protocol(df, spec)
    assert str(info.value) == f"manifest lacks column(s) {missing} needed for this split"


def test_a_column_without_values_counts_as_missing():
    df = three_corpora().assign(speaker=None)
    with pytest.raises(CorpusError, match=r"lacks column\(s\) \['speaker'\]"):
        make_protocol(df, "loso")
    with pytest.raises(CorpusError, match=r"lacks column\(s\) \['emotion', 'speaker'\]"):
        make_protocol(df.assign(emotion=np.nan), "kfold")


def test_folds_are_positions_not_index_labels():
    """A filtered manifest keeps its old index: the folds must be row positions (iloc), not labels."""
    df = manifest()
    sub = df[df["emotion"] != "neutral"]  # index with gaps, 60 rows
    proto = make_protocol(sub, "loso")
    assert sorted(np.concatenate([f.test for f in proto.folds]).tolist()) == list(range(60))
    for f in proto.folds:
        assert set(sub["speaker"].iloc[f.test]) == {f.name}


# -- emobox: the published partitions, on a synthetic folds CSV ------------------------------------------------


def write_folds(folds_dir, corpus: str, rows: list[tuple[str, int, str, str]]) -> None:
    folds_dir.mkdir(exist_ok=True)
    pd.DataFrame(rows, columns=["file", "fold", "split", "emotion"]).to_csv(
        folds_dir / f"{corpus}.csv", index=False
    )


def emobox_manifest() -> pd.DataFrame:
    """4 speakers x 4 rows of corpus 'x', utt_ids x0100 .. x0403."""
    df = manifest((("x", 4),), per=4)
    return df.assign(utt_id=[f"x{s:02d}{i:02d}" for s in range(1, 5) for i in range(4)])


EMOBOX_NAME = {"angry": "Angry", "happy": "Happy", "neutral": "Neutral", "sad": "Sad"}


def published(df: pd.DataFrame, test_speakers_by_fold: list[set[str]], ext: str = ".wav"):
    rows = []
    for k, test_spk in enumerate(test_speakers_by_fold, start=1):
        for utt, spk, emo in zip(df["utt_id"], df["speaker"], df["emotion"], strict=True):
            rows.append((utt + ext, k, "test" if spk in test_spk else "train", EMOBOX_NAME[emo]))
    return rows


def test_emobox_folds_from_a_csv(tmp_path):
    df = emobox_manifest()
    write_folds(tmp_path, "x", published(df, [{"x:01", "x:02"}, {"x:03", "x:04"}], ext=".wav"))
    proto = make_protocol(df, "emobox", folds_dir=tmp_path)
    assert proto.name == "emobox(x)" and proto.note == "" and not proto.cross_corpus
    assert [f.name for f in proto.folds] == ["fold1", "fold2"]
    assert proto.folds[0].test.tolist() == list(range(8)) and proto.folds[0].train.tolist() == list(
        range(8, 16)
    )
    assert proto.folds[1].test.tolist() == list(range(8, 16)) and proto.folds[1].train.tolist() == list(
        range(8)
    )
    assert proto.speaker_independent
    # the same folds through $EMOVOX_FOLDS, and for .flac copies of the release's .wav files
    flac = tmp_path / "flac"
    write_folds(flac, "x", published(df, [{"x:01", "x:02"}, {"x:03", "x:04"}], ext=".flac"))
    again = emobox_folds(df, flac)
    assert [f.test.tolist() for f in again.folds] == [f.test.tolist() for f in proto.folds]


def test_emobox_folds_through_the_environment(tmp_path, monkeypatch):
    df = emobox_manifest()
    write_folds(tmp_path, "x", published(df, [{"x:01"}, {"x:02"}, {"x:03"}, {"x:04"}]))
    monkeypatch.setenv("EMOVOX_FOLDS", str(tmp_path))
    proto = make_protocol(df, "emobox")
    assert len(proto.folds) == 4 and [len(f.test) for f in proto.folds] == [4, 4, 4, 4]


def test_emobox_reports_shared_speakers(tmp_path):
    """Published folds that split a speaker's files (as EMO-DB's do) are flagged, not trusted."""
    df = emobox_manifest()
    rows = [
        (u + ".wav", 1, "test" if i % 2 else "train", EMOBOX_NAME[e])
        for i, (u, e) in enumerate(zip(df["utt_id"], df["emotion"], strict=True))
    ]
    write_folds(tmp_path, "x", rows)
    proto = emobox_folds(df, tmp_path)
    assert proto.folds[0].shared_speakers == ["x:01", "x:02", "x:03", "x:04"]
    assert "NOT speaker-independent: up to 4 speaker(s)" in proto.describe()


def test_emobox_leaves_out_rows_it_does_not_list(tmp_path):
    df = emobox_manifest()
    extra = df.iloc[:2].assign(utt_id=["extra1", "extra2"])
    both = pd.concat([df, extra], ignore_index=True)
    write_folds(tmp_path, "x", published(df, [{"x:01", "x:02"}, {"x:03", "x:04"}]))
    proto = emobox_folds(both, tmp_path)
    assert proto.note == "2 manifest rows not in the published folds were left out"
    assert not {16, 17} & {i for f in proto.folds for i in (*f.train, *f.test)}


def test_emobox_refuses_a_partial_corpus_but_not_a_subset_of_emotions(tmp_path):
    df = emobox_manifest()
    write_folds(tmp_path, "x", published(df, [{"x:01", "x:02"}, {"x:03", "x:04"}]))
    partial = df.drop(index=[0, 5]).reset_index(drop=True)
    with pytest.raises(CorpusError) as info:
        emobox_folds(partial, tmp_path)
    msg = str(info.value)
    assert "2 file(s) of the published folds are not in the manifest" in msg and "x0100" in msg
    assert "cannot be reproduced on a partial corpus" in msg
    # dropping whole emotions (--emotions) is no partial corpus: their files leave the folds
    subset = df[df["emotion"].isin(["angry", "sad"])].reset_index(drop=True)
    proto = emobox_folds(subset, tmp_path)
    assert [len(f.test) for f in proto.folds] == [4, 4] and [len(f.train) for f in proto.folds] == [4, 4]
    n = df["emotion"].nunique()  # and its name says it is not the published task
    assert proto.name == f"emobox(x; 2 emotions, not the published {n}-class task)"


def test_emobox_one_corpus_at_a_time(tmp_path):
    df = pd.concat([emobox_manifest(), emobox_manifest().assign(corpus="y")], ignore_index=True)
    with pytest.raises(
        CorpusError, match=r"^emobox folds apply to one corpus at a time; the manifest has \['x', 'y'\]$"
    ):
        emobox_folds(df, tmp_path)


# -- folds applied to a feature table -------------------------------------------------------------------------


def test_training_rows_take_augmented_copies_of_training_rows_only():
    df = manifest((("a", 3),), per=4)
    X = np.arange(12, dtype=np.float32).reshape(12, 1)
    table = FeatureTable(X, df, ["f"], {}, [], augmented={"noise": X + 100, "pitch": X + 200})
    fold = make_protocol(df, "loso").folds[0]  # test a:01 = rows 0-3
    Xtr, ytr = table.training_rows(fold.train)
    assert Xtr.ravel().tolist() == [*range(4, 12), *range(104, 112), *range(204, 212)]
    assert ytr.tolist() == df["emotion"].iloc[4:12].tolist() * 3
    assert not {0, 1, 2, 3} & {int(v) % 100 for v in Xtr.ravel()}  # nothing of the test speaker


def test_training_rows_align_needs_the_column_everywhere():
    df = manifest((("a", 2), ("b", 2)), per=2)
    X = np.column_stack([np.arange(8.0), np.arange(8.0) * 2])
    table = FeatureTable(X, df, ["f", "g"], {}, [])
    Xa, y = table.training_rows(np.arange(8), align="corpus")
    assert Xa.dtype == np.float32 and Xa.shape == (8, 2) and len(y) == 8
    # each corpus mapped onto the average one: both corpora end with the same mean
    np.testing.assert_allclose(Xa[:4].mean(0), Xa[4:].mean(0), atol=1e-5)
    with pytest.raises(
        CorpusError, match=r"^aligning by 'language' needs that column on every manifest row$"
    ):
        table.training_rows(np.arange(8), align="language")
    table.manifest.loc[3, "corpus"] = None
    with pytest.raises(CorpusError, match=r"^aligning by 'corpus' needs that column on every manifest row$"):
        table.training_rows(np.arange(8), align="corpus")


def test_speaker_ids_refuse_a_row_without_one():
    df = manifest((("a", 2),), per=2).assign(speaker=["a:01", "a:01", 7, "a:02"])
    ids = speaker_ids(df)
    assert ids.tolist() == ["a:01", "a:01", "7", "a:02"] and len(ids) == len(df)
    assert speaker_ids(df, "corpus").tolist() == ["a"] * 4
    df.loc[1, "speaker"] = None
    with pytest.raises(CorpusError) as info:
        speaker_ids(df)
    assert str(info.value) == "speaker adaptation needs the speaker of every recording (a 'speaker' column)"
    with pytest.raises(CorpusError, match=r"^session adaptation needs the session of every recording"):
        speaker_ids(df, "session")


def test_fold_dataclass():
    f = Fold("x", np.array([0, 1]), np.array([2]))
    assert f.speaker_independent and f.shared_speakers == []
    assert not Fold("x", np.array([0]), np.array([1]), ["s"]).speaker_independent


# -- rows without a speaker or corpus, and an empty manifest: one clear CorpusError -----------------------


@pytest.mark.parametrize("spec", ["loso", "kfold:2", "speakers:01"])
def test_speaker_missing_on_some_rows(spec):
    df = manifest((("a", 4),))
    df.loc[3, "speaker"] = None  # as read_manifest gives an empty cell
    with pytest.raises(CorpusError, match="1 manifest row.* have no speaker"):
        make_protocol(df, spec)


def test_loco_with_a_corpus_missing_on_some_rows():
    df = three_corpora()
    df.loc[0, "corpus"] = None
    with pytest.raises(CorpusError, match="1 manifest row.* have no corpus"):
        make_protocol(df, "loco")


def test_empty_manifest_message():
    with pytest.raises(CorpusError, match="manifest is empty"):
        make_protocol(manifest().iloc[:0], "loso")


def test_a_speakers_split_without_training_speakers_or_with_an_ambiguous_name_says_so(caplog):
    """Every speaker a test speaker was "speakers(...) speakers: empty train or test set" at the first fold;
    a bare 03 took emodb:03 and ravdess:03 without a word (a researcher's review, stop 39)."""
    import logging

    m = pd.DataFrame({"speaker": ["emodb:03", "ravdess:03", "emodb:08", "emodb:08"]})
    with pytest.raises(CorpusError, match=r"^speakers: every speaker of the data is a test speaker \(3\)"):
        make_protocol(m, "speakers:emodb:03,ravdess:03,08")
    with caplog.at_level(logging.WARNING, logger="emovox.splits"):
        assert make_protocol(m, "speakers:03").name == "speakers(emodb:03,ravdess:03)"
        assert [r.getMessage() for r in caplog.records] == [
            "test speaker 03 names 2 speakers, one of each corpus (emodb:03, ravdess:03); write one of them "
            "to test one"
        ]
        caplog.clear()
        assert make_protocol(m, "speakers:emodb:03").name == "speakers(emodb:03)" and not caplog.records


def test_a_seed_that_cannot_change_the_folds_is_said(emodb_manifest, emovo_manifest, caplog):
    """A researcher's review: ``--seed`` 1, 3, 5 or 42 gave EMO-DB's kfold:5 exactly seed 0's folds (10
    speakers share out with the emotions balanced one way only), while the run recorded the seed as the
    split's. The folds are as before; a seed that cannot move them is said; one that does is not."""
    import logging

    from emovox.splits import group_kfold

    def tests(m, k, seed):
        return sorted(tuple(sorted(set(m["speaker"].iloc[f.test]))) for f in group_kfold(m, k, seed).folds)

    with caplog.at_level(logging.WARNING, logger="emovox"):
        assert tests(emodb_manifest, 5, 3) == tests(emodb_manifest, 5, 0)
    assert "kfold:5: seed 3 gives the same folds as seed 0 on these data (the 10 speakers" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="emovox"):
        assert tests(emovo_manifest, 3, 1) != tests(emovo_manifest, 3, 0)
        group_kfold(emodb_manifest, 5, 0)  # (the default seed: nothing to say)
    assert "gives the same folds" not in caplog.text
