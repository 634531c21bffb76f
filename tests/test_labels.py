"""The emotion taxonomy (:mod:`emovox.labels`) on synthetic manifests: canonical names, emotion sets, merges,
and the label order of every table and model. tests/test_corpora_real.py checks merges and subsets on RAVDESS
(skipped without ../shared); these need no corpus.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emovox.errors import CorpusError
from emovox.labels import (
    CANONICAL,
    EMOBOX,
    FOUR,
    MERGES,
    SEVEN,
    apply_labels,
    canonical,
    label_order,
    parse_emotions,
    parse_merge,
)

UNKNOWN = "; expected one of neutral, calm, happy, sad, angry, fearful, disgust, surprised, boredom"


def test_taxonomy_constants():
    assert CANONICAL == (
        "neutral",
        "calm",
        "happy",
        "sad",
        "angry",
        "fearful",
        "disgust",
        "surprised",
        "boredom",
    )
    assert SEVEN == ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    assert FOUR == ("angry", "happy", "neutral", "sad")
    assert set(SEVEN) < set(CANONICAL) and set(FOUR) < set(SEVEN)
    assert sorted(EMOBOX.values()) == sorted(CANONICAL)  # every EmoBox name maps onto one of ours


@pytest.mark.parametrize("label", CANONICAL)
def test_canonical_names_are_fixed_points(label):
    assert canonical(label) == label
    assert canonical(label.upper()) == label and canonical(f"  {label.title()}\t") == label


@pytest.mark.parametrize(
    "given, expected",
    [
        ("neu", "neutral"),
        ("happiness", "happy"),
        ("Joy", "happy"),
        ("sadness", "sad"),
        ("ANGER", "angry"),
        ("fear", "fearful"),
        ("Fear", "fearful"),
        ("disgusted", "disgust"),
        ("surprise", "surprised"),
        ("ps", "surprised"),
        ("pleasant_surprise", "surprised"),
        ("pleasant_surprised", "surprised"),
        ("bored", "boredom"),
        (" surprise ", "surprised"),
    ],
)
def test_canonical_synonyms(given, expected):
    assert canonical(given) == expected


@pytest.mark.parametrize("name", sorted(EMOBOX))
def test_emobox_names_are_accepted(name):
    assert canonical(name) == EMOBOX[name]


@pytest.mark.parametrize("label", ["joyful", "", "contempt", "01", "pleasant surprise", "angry,sad"])
def test_canonical_unknown_emotion_message(label):
    with pytest.raises(CorpusError) as info:
        canonical(label)
    assert str(info.value) == f"unknown emotion {label!r}{UNKNOWN}"


def test_parse_emotions_named_sets():
    assert parse_emotions(None) is None
    for spec in ("four", "FOUR", " 4 "):
        assert parse_emotions(spec) == ["angry", "happy", "neutral", "sad"]
    for spec in ("seven", "Seven", "7"):
        assert parse_emotions(spec) == list(SEVEN)
    assert parse_emotions("all") == list(CANONICAL)
    assert len(parse_emotions("all")) == 9


def test_parse_emotions_lists():
    # the order given is kept, synonyms become canonical, empty items and spaces are ignored
    assert parse_emotions("sad,Anger, JOY ,,ps") == ["sad", "angry", "happy", "surprised"]
    assert parse_emotions(["Fear", "neu"]) == ["fearful", "neutral"]
    assert parse_emotions(("boredom",)) == ["boredom"]
    assert parse_emotions(iter(["calm", "happy"])) == ["calm", "happy"]


def test_parse_emotions_unknown_names_the_word():
    with pytest.raises(CorpusError) as info:
        parse_emotions("angry,joyful,sad")
    assert str(info.value) == f"unknown emotion 'joyful'{UNKNOWN} (did you mean happy?)"  # joy: happy
    with pytest.raises(CorpusError, match=r"^unknown emotion 'five'"):
        parse_emotions("five")  # not a named set: read as an emotion
    with pytest.raises(CorpusError, match=r"^unknown emotion 'Joyful'"):
        parse_emotions(["Happy ", " Joyful ", "xx"])  # the first unknown word, as the user wrote it


def test_a_misspelt_emotion_asked_for_is_a_parameter_error_with_the_closest_name():
    """emotions= / merge= are parameters: load_model(emotions=) raised ParameterError and
    experiments.evaluate(emotions=) CorpusError for the same typo. Now both, still a CorpusError too."""
    from emovox.errors import LabelError, ParameterError

    for call in (
        lambda: parse_emotions("angry,sadnes"),
        lambda: parse_merge("calm=neutrl"),
        lambda: apply_labels(pd.DataFrame({"emotion": ["excited", "sad"]}), emotions="exited,sad"),
    ):
        with pytest.raises(LabelError) as info:
            call()
        assert isinstance(info.value, ParameterError) and isinstance(info.value, CorpusError)
        assert isinstance(info.value, ValueError)
    assert str(info.value).endswith("; or one of the data's own: excited (did you mean excited?)")
    with pytest.raises(LabelError, match=r"'sadnes'.* \(did you mean sad\?\)$"):  # the alias's emotion
        parse_emotions("sadnes")
    with pytest.raises(LabelError, match=r"'qqq'; expected one of [a-z, ]+$"):  # nothing close: no guess
        parse_emotions("angry,qqq")
    with pytest.raises(LabelError, match="^bad merge"):
        parse_merge("calm")
    with pytest.raises(CorpusError) as info:  # a corpus's own label is the corpus's problem, as before
        canonical("zz")
    assert not isinstance(info.value, ParameterError)


def test_named_sets_may_be_listed_with_emotions():
    """``four,surprised`` was "unknown emotion 'four'": a named set was taken only alone."""
    assert parse_emotions("four, surprised") == ["angry", "happy", "neutral", "sad", "surprised"]
    assert parse_emotions("four,four") == list(FOUR)
    assert parse_emotions("sad,four") == ["sad", "angry", "happy", "neutral"]
    assert parse_emotions(["seven", "calm"]) == [*SEVEN, "calm"]
    assert parse_emotions("all,sad") == list(CANONICAL)


def test_parse_merge_strings():
    assert parse_merge(None) == {} and parse_merge("") == {} and parse_merge({}) == {}
    assert parse_merge("calm=neutral") == {"calm": "neutral"}
    assert parse_merge("calm->neutral") == {"calm": "neutral"}
    assert parse_merge("Calm = Neutral") == {"calm": "neutral"}
    assert parse_merge("bored=neu, ps=happiness") == {"boredom": "neutral", "surprised": "happy"}
    assert parse_merge("calm=neutral,,") == {"calm": "neutral"}
    # one label merged into two: refused (the last used to win unseen); the same merge twice is fine
    with pytest.raises(CorpusError, match="calm is merged into both neutral and sad"):
        parse_merge("calm=neutral,calm=sad")
    assert parse_merge("calm=neutral,calm-neutral") == {"calm": "neutral"}


def test_parse_merge_named():
    assert MERGES == {"calm-neutral": {"calm": "neutral"}, "boredom-neutral": {"boredom": "neutral"}}
    assert parse_merge("calm-neutral") == {"calm": "neutral"}
    assert parse_merge(" calm-neutral , boredom-neutral") == {"calm": "neutral", "boredom": "neutral"}
    assert parse_merge("boredom-neutral,fear=sad") == {"boredom": "neutral", "fearful": "sad"}
    # a named merge is not changed by parsing
    parse_merge("calm-neutral")["calm"] = "sad"
    assert MERGES["calm-neutral"] == {"calm": "neutral"}


def test_parse_merge_mapping():
    assert parse_merge({"Calm": "neu", "surprise": "Happy"}) == {"calm": "neutral", "surprised": "happy"}
    with pytest.raises(CorpusError, match=r"^unknown emotion 'zz'"):
        parse_merge({"calm": "zz"})


@pytest.mark.parametrize("spec", ["calm", "Calm-Neutral", "calm-sad", "calm,boredom=neutral"])
def test_parse_merge_without_a_target(spec):
    with pytest.raises(CorpusError) as info:
        parse_merge(spec)
    bad = spec.split(",")[0]
    assert str(info.value) == (
        f"bad merge {bad!r}: expected FROM=TO (e.g. calm=neutral) or one of ['calm-neutral', 'boredom-neutral']"
    )


@pytest.mark.parametrize(
    "spec, word",
    [("calm=joyful", "joyful"), ("joyful=calm", "joyful"), ("calm=neutral=sad", "neutral=sad"), ("=sad", "")],
)
def test_parse_merge_unknown_emotion(spec, word):
    with pytest.raises(CorpusError) as info:
        parse_merge(spec)
    assert str(info.value).removesuffix(" (did you mean happy?)").removesuffix(
        " (did you mean neutral?)"
    ) == (f"unknown emotion {word!r}{UNKNOWN}")


def corpus_manifest() -> pd.DataFrame:
    """RAVDESS-like: 2 speakers x the 8 RAVDESS emotions (codes 01-08), with an index that is not 0..n-1."""
    codes = {
        "01": "neutral",
        "02": "calm",
        "03": "happy",
        "04": "sad",
        "05": "angry",
        "06": "fearful",
        "07": "disgust",
        "08": "surprised",
    }
    rows = [
        {
            "path": f"/r/{s}-{code}.wav",
            "corpus": "ravdess",
            "speaker": f"ravdess:{s:02d}",
            "gender": "male" if s % 2 else "female",
            "emotion": emo,
            "emotion_code": code,
        }
        for s in (1, 2)
        for code, emo in codes.items()
    ]
    return pd.DataFrame(rows, index=range(100, 116))


def test_apply_labels_without_arguments_is_a_copy():
    df = corpus_manifest()
    out = apply_labels(df)
    assert out is not df and len(out) == 16 and out.index.tolist() == list(range(16))
    assert out.equals(df.reset_index(drop=True))


def test_apply_labels_merge():
    df = corpus_manifest()
    out = apply_labels(df, merge="calm=neutral")
    assert out["emotion"].value_counts()["neutral"] == 4 and "calm" not in set(out["emotion"])
    assert len(out) == 16
    # the corpus code stays: merged rows keep "02"
    assert sorted(out.loc[out["emotion"] == "neutral", "emotion_code"]) == ["01", "01", "02", "02"]
    # the input is untouched
    assert (df["emotion"] == "calm").sum() == 2


def test_apply_labels_subset_after_merge():
    df = corpus_manifest()
    four = apply_labels(df, emotions="four")
    assert len(four) == 8 and set(four["emotion"]) == set(FOUR)
    assert four.index.tolist() == list(range(8))  # reindexed 0..n-1
    assert sorted(four["emotion_code"].unique()) == ["01", "03", "04", "05"]
    # the merge comes first: calm rows merged into neutral are kept by a four-emotion subset
    merged = apply_labels(df, merge="calm-neutral", emotions="four")
    assert len(merged) == 10 and (merged["emotion"] == "neutral").sum() == 4
    assert sorted(merged.loc[merged["emotion"] == "neutral", "emotion_code"]) == ["01", "01", "02", "02"]
    # an emotion the manifest does not have keeps nothing of it, and is no error
    assert len(apply_labels(df, emotions="boredom,sad")) == 2


def test_apply_labels_merge_mapping_and_list():
    df = corpus_manifest()
    out = apply_labels(df, merge={"surprise": "happy", "Calm": "neutral"}, emotions=["happy", "neu"])
    assert out["emotion"].value_counts().to_dict() == {"neutral": 4, "happy": 4}
    assert sorted(out["emotion_code"]) == ["01", "01", "02", "02", "03", "03", "08", "08"]


def test_apply_labels_bad_arguments_fail_before_any_work():
    df = corpus_manifest()
    with pytest.raises(CorpusError, match=r"^unknown emotion 'joy ful'"):
        apply_labels(df, emotions="angry,joy ful")
    with pytest.raises(CorpusError, match=r"^bad merge 'calm'"):
        apply_labels(df, merge="calm")


def test_label_order_canonical_first_then_others_alphabetically():
    # CANONICAL has sad before angry (the label_order docstring's example says otherwise: a doc bug)
    assert label_order(["sad", "angry", "sad", "bored"]) == ["sad", "angry", "bored"]
    assert label_order(["angry", "sad", "happy"]) == ["happy", "sad", "angry"]
    assert label_order(reversed(CANONICAL)) == list(CANONICAL)
    assert label_order(["zz", "surprised", "Angry", "aa", "neutral", "neutral"]) == [
        "neutral",
        "surprised",
        "Angry",  # not canonical (case matters here): sorted with the other unknown labels
        "aa",
        "zz",
    ]
    assert label_order([]) == []
    assert label_order(x for x in ["boredom", "calm"]) == ["calm", "boredom"]
    assert label_order(np.array(["happy", "fearful", "disgust"])) == ["happy", "fearful", "disgust"]
    assert label_order(pd.Series(["sad", "neutral"] * 3)) == ["neutral", "sad"]


def test_hand_written_labels_are_read_as_emotions_are():
    """``Angry`` and ``anger`` in a hand-edited manifest were two classes beside ``angry``."""
    import pandas as pd

    df = pd.DataFrame({"emotion": ["Angry", "anger", "angry", "Sadness", "mine", None]})
    assert apply_labels(df)["emotion"].tolist()[:5] == ["angry", "angry", "angry", "sad", "mine"]
    assert apply_labels(df, emotions="angry,sad")["emotion"].tolist() == ["angry", "angry", "angry", "sad"]


def test_a_taxonomy_of_ones_own_can_be_selected_by_name():
    """Labels emovox does not know are kept as classes of their own, but emotions= could not name them."""
    import pandas as pd

    from emovox.errors import CorpusError
    from emovox.labels import apply_labels

    df = pd.DataFrame({"emotion": ["excited", "sad", "Angry", "excited"]})
    assert apply_labels(df, emotions="excited,sad")["emotion"].tolist() == ["excited", "sad", "excited"]
    with pytest.raises(CorpusError, match="unknown emotion 'exited'"):
        apply_labels(df, emotions="exited,sad")  # a typo is still one


def test_select_labels_warns_of_an_emotion_chosen_that_the_data_lacks(caplog):
    import logging

    import pandas as pd

    from emovox.labels import select_labels

    m = pd.DataFrame({"emotion": ["angry", "sad", "Neutral", "sad"]})
    with caplog.at_level(logging.WARNING, logger="emovox.labels"):
        out = select_labels(m, emotions="four,surprised", name="data.csv")
    assert out["emotion"].tolist() == ["angry", "sad", "neutral", "sad"]
    assert [r.getMessage() for r in caplog.records] == [
        "data.csv: no recordings of happy, surprised among the emotions chosen; the data has neutral, sad, angry"
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="emovox.labels"):
        select_labels(m, emotions="angry,sad")
    assert not caplog.records  # every emotion chosen is there: nothing to say
    calm = pd.DataFrame({"emotion": ["calm", "neutral", "sad", "angry"]})
    with caplog.at_level(logging.WARNING, logger="emovox.labels"):
        select_labels(m, emotions="all")  # whatever the data has
        select_labels(calm, merge="calm-neutral", emotions="calm,neutral,sad")  # calm is there, as neutral
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="emovox.labels"):  # what corpus scan / stats use
        assert apply_labels(calm, emotions="angry,surprised")["emotion"].tolist() == ["angry"]
    assert [r.getMessage() for r in caplog.records] == [
        "no recordings of surprised among the emotions chosen; the data has angry"
    ]


def test_an_emotion_chosen_that_the_merge_took_away_is_named(caplog):
    """--merge boredom=neutral --emotions boredom,sad kept sad only, and the error said just that two
    emotions were needed (a researcher's review, stop 39)."""
    import logging

    from emovox.labels import select_labels

    m = pd.DataFrame({"emotion": ["boredom", "sad", "neutral", "angry"]})
    with caplog.at_level(logging.WARNING, logger="emovox.labels"):
        out = select_labels(m, "boredom=neutral", "boredom,sad,angry", name="emodb")
        assert out["emotion"].tolist() == ["sad", "angry"]
        assert [r.getMessage() for r in caplog.records] == [
            "emodb: boredom is merged into neutral before the emotions are chosen, so its recordings are left "
            "out; choose neutral too, or drop the merge"
        ]
        caplog.clear()
        out = select_labels(m, "boredom=neutral", "boredom,neutral,sad")  # both chosen: kept as neutral
        assert out["emotion"].tolist() == ["neutral", "sad", "neutral"] and not caplog.records
        with pytest.raises(CorpusError, match="no rows left"):
            select_labels(m, "boredom=neutral", "boredom,happy")
        assert "boredom is merged into neutral" in caplog.records[0].getMessage()
