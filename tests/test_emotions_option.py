"""``--emotions``: predicting over a subset of a model's emotions, renormalised (Python, CLI, REST API)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import emovox
from emovox.audio import load_audio
from emovox.errors import ParameterError
from emovox.inference import load_model

from .conftest import RAVDESS, need

MODEL = "classical"
FOUR = ["angry", "happy", "neutral", "sad"]


@pytest.fixture(scope="module")
def speech() -> str:
    return str(need(RAVDESS / "Actor_03" / "03-01-04-02-01-01-03.flac"))  # sad, strong


@pytest.fixture(scope="module")
def full():
    return load_model(MODEL)


def test_restricted_model_equals_renormalised_full_model(full, speech):
    for loader in (load_model, emovox.load_model):  # the package's own load_model forwards it too
        m = loader(MODEL, emotions="angry,happy,neutral,sad")
        assert m.labels == FOUR and len(m.all_labels) == 7
        (p,) = m.predict_proba(speech)
        assert p.shape == (4,) and p.sum() == pytest.approx(1.0, abs=1e-9)
        q = full.predict_proba(speech)[0, [full.labels.index(e) for e in FOUR]]
        np.testing.assert_allclose(p, q / q.sum(), atol=1e-9)
        pred = m.predict_files([speech]).__next__()
        assert list(pred.probabilities) == FOUR and pred.label in FOUR
    # restrict() in place, in the order asked; None gives every emotion back
    m = load_model(MODEL).restrict(["sad", "angry"])
    assert m.labels == ["sad", "angry"] and m.predict_proba(speech).shape == (1, 2)
    assert m.restrict(None).labels == full.labels
    # the named sets the corpus commands take
    assert load_model(MODEL, emotions="four").labels == ["angry", "happy", "neutral", "sad"]
    assert load_model(MODEL, emotions=["four", "four", "Fear"]).labels == [*FOUR, "fearful"]
    assert sorted(load_model(MODEL, emotions=" Seven").labels) == sorted(
        load_model(MODEL, emotions="all").labels
    )
    with pytest.raises(ParameterError, match="angry, disgust"):
        load_model(MODEL, emotions="angry,bogus")
    with pytest.raises(ParameterError, match="at least two"):
        load_model(MODEL, emotions="angry")
    with pytest.raises(ParameterError, match="emotion names"):
        load_model(MODEL, emotions=5)
    # per call, the same names: a string is not split into letters
    one = full.predict_signal(load_audio(speech), emotions="angry,sad", sr=16000)
    assert list(one.probabilities) == ["angry", "sad"]
    assert list(full.predict_signal(load_audio(speech), emotions="four", sr=16000).probabilities) == FOUR


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", *args, "--model", MODEL],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli(speech):
    proc = _cli(speech, "--emotions", "angry,sad")
    assert proc.returncode == 0, proc.stderr
    fields = proc.stdout.strip().split("\t")
    assert fields[1].split(" ")[0] in {"angry", "sad"}
    assert {kv.split(" ")[0] for kv in fields[3].split("  ")} == {"angry", "sad"}

    proc = _cli(speech, "--emotions", "angry,sad", "--json")
    assert proc.returncode == 0, proc.stderr
    (res,) = json.loads(proc.stdout)
    assert set(res["probabilities"]) == {"angry", "sad"} and res["emotion"] in {"angry", "sad"}
    assert sum(res["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)

    proc = _cli(speech, "--emotions", "angry,bogus")
    assert proc.returncode in (1, 2) and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "bogus" in lines[0] and all(lab in lines[0] for lab in load_model(MODEL).labels)


def test_api(full, speech):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import create_app

    data = open(speech, "rb").read()
    with TestClient(create_app(full)) as client:
        r = client.post(
            "/v1/predict?emotions=angry,sad", content=data, headers={"content-type": "audio/flac"}
        )
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["labels"] == ["angry", "sad"] and set(res["probabilities"]) == {"angry", "sad"}
        assert res["emotion"] in {"angry", "sad"}
        assert sum(res["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
        q = full.predict_proba(speech)[0, [full.labels.index("angry"), full.labels.index("sad")]]
        np.testing.assert_allclose(
            [res["probabilities"]["angry"], res["probabilities"]["sad"]], q / q.sum(), atol=1e-6
        )
        # a recording long enough for a timeline: its segments are restricted alike
        import io

        import soundfile as sf

        from emovox.audio import load_audio

        y = load_audio(speech, 16000)
        pause = np.zeros(8000, np.float32)
        buf = io.BytesIO()
        sf.write(buf, np.concatenate([y, pause] * 4), 16000, format="WAV")
        r = client.post(
            "/v1/predict?emotions=angry,sad", content=buf.getvalue(), headers={"content-type": "audio/wav"}
        )
        assert r.status_code == 200, r.text
        segments = [seg for seg in r.json()["timeline"] if seg["speech"]]
        assert segments and all(seg["emotion"] in {"angry", "sad"} for seg in segments)
        for seg in segments:
            assert set(seg["probabilities"]) == {"angry", "sad"}
            assert sum(seg["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
            assert seg["confidence"] == max(seg["probabilities"].values())
        for bad in ("angry,bogus", "angry", ""):  # empty: as --emotions '' (was every emotion, 200)
            r = client.post(
                f"/v1/predict?emotions={bad}", content=data, headers={"content-type": "audio/flac"}
            )
            assert r.status_code == 422 and r.headers["content-type"].startswith("application/json"), r.text
            body = r.json()
            assert body["status"] == 422 and "emotions" in body["error"] and "\n" not in body["error"]
            if "bogus" in bad:  # names the valid labels
                assert "bogus" in body["error"] and all(lab in body["error"] for lab in full.labels), body
        # as --emotions takes them: aliases, named sets; a repeated parameter adds its emotions
        for query, labels in (
            ("emotions=anger,Sad", ["angry", "sad"]),
            ("emotions=four", ["angry", "happy", "neutral", "sad"]),
            ("emotions=angry&emotions=sad,happy", ["angry", "sad", "happy"]),
            ("emotions=four&emotions=surprised", ["angry", "happy", "neutral", "sad", "surprised"]),
        ):
            r = client.post(f"/v1/predict?{query}", content=data, headers={"content-type": "audio/flac"})
            assert r.status_code == 200 and r.json()["labels"] == labels, (query, r.text)
        # without the query: every emotion
        r = client.post("/v1/predict", content=data, headers={"content-type": "audio/flac"})
        assert r.status_code == 200 and r.json()["labels"] == full.labels


def test_restriction_with_an_adaptable_model_and_a_session(speech):
    """The default model stores class means over all seven emotions: a restricted model still loads, and
    its session (same-speaker / same-channel) probabilities are the full session's, renormalised."""
    full = load_model("default")
    four = load_model("default", emotions="angry,happy,neutral,sad")
    assert full.can_adapt and four.can_adapt and four.labels == ["angry", "happy", "neutral", "sad"]
    files = sorted(need(RAVDESS / "Actor_05").glob("*.flac"))[:6]
    whole = np.vstack(
        [[p.probabilities[lab] for lab in full.labels] for p in full.predict_files(files, same_speaker=True)]
    )
    kept = np.vstack(
        [[p.probabilities[lab] for lab in four.labels] for p in four.predict_files(files, same_speaker=True)]
    )
    cols = [full.labels.index(lab) for lab in four.labels]
    np.testing.assert_allclose(kept, whole[:, cols] / whole[:, cols].sum(axis=1, keepdims=True), atol=1e-6)


def test_a_restricted_timeline_row_of_under_a_second_stays_uncertain(full):
    """The API restricts each timeline row as the whole answer: a row of under a second of sound stays
    uncertain however sure it is over the emotions kept, and a long row is judged by its confidence."""
    pytest.importorskip("fastapi")
    from emovox.segments import set_probabilities
    from emovox.server.analysis import _segment
    from emovox.vad import Segment

    p = np.full(len(full.labels), 0.02)
    p[full.labels.index("angry")] = 1 - 0.02 * (len(full.labels) - 1)
    for seconds, uncertain in ((0.6, True), (2.5, False)):
        seg = Segment(0.0, seconds + 0.4)
        set_probabilities(full, seg, p, seconds)
        row = _segment(seg, full, ["angry", "sad"])
        assert row["emotion"] == "angry" and row["confidence"] > 0.9 and row["uncertain"] is uncertain


def _left_out_of(full, p_full: np.ndarray, kept: list[str]) -> dict[str, float]:
    return {lab: float(v) for lab, v in zip(full.labels, p_full, strict=True) if lab not in kept}


def test_an_answer_says_what_it_leaves_out(full, speech):
    """A restricted answer gives the probability the model puts on each emotion left out (before
    renormalising), and names the model's first choice when that is one of them."""
    (p,) = full.predict_proba(speech)
    first = full.labels[int(np.argmax(p))]
    without = [lab for lab in full.labels if lab != first][:3]  # the model's own answer left out
    m = load_model(MODEL, emotions=without)
    (pred,) = m.predict_files([speech])
    assert list(pred.probabilities) == without and sum(pred.probabilities.values()) == pytest.approx(1.0)
    assert pred.left_out == pytest.approx(_left_out_of(full, p, without), abs=1e-9)
    assert set(pred.left_out) == set(full.labels) - set(without)
    assert pred.first_left_out == (first, pytest.approx(float(p.max()), abs=1e-9))
    assert f"first choice left out: {first}" in pred.describe()
    assert pred.to_dict()["left_out"] == pred.left_out
    # the model's first choice kept: the rest is left out, but there is no other first choice to name
    kept = [first, *without[:1]]
    (pred,) = load_model(MODEL, emotions=kept).predict_files([speech])
    assert pred.label == first and pred.first_left_out is None and len(pred.left_out) == len(full.labels) - 2
    # per call, the same, from a restricted model or not
    y = load_audio(speech, 16000)
    one = full.predict_signal(y, emotions=without, sr=16000)
    assert one.left_out == pytest.approx(_left_out_of(full, p, without), abs=1e-6)
    # nothing left out: no field, no column
    (plain,) = full.predict_files([speech])
    assert plain.left_out is None and "left_out" not in plain.to_dict()
    assert load_model(MODEL, emotions="all").predict_signal(y, sr=16000).left_out is None


def test_left_out_in_the_cli_json_and_csv(full, speech, tmp_path):
    (p,) = full.predict_proba(speech)
    first = full.labels[int(np.argmax(p))]
    without = [lab for lab in full.labels if lab != first][:2]
    proc = _cli(speech, "--emotions", ",".join(without))
    assert proc.returncode == 0, proc.stderr
    fields = proc.stdout.strip().split("\t")
    assert fields[-1] == f"first choice left out: {first} {p.max():.3f}", fields
    out = tmp_path / "out.csv"
    proc = _cli(speech, "--emotions", ",".join(without), "--json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    (res,) = json.loads(proc.stdout)
    assert res["left_out"] == pytest.approx(_left_out_of(full, p, without), abs=1e-6)
    import csv

    (row,) = csv.DictReader(out.open())
    assert float(row["p_left_out"]) == pytest.approx(
        1 - sum(p[full.labels.index(e)] for e in without), abs=1e-6
    )
    assert float(row[f"p_{without[0]}"]) + float(row[f"p_{without[1]}"]) == pytest.approx(1.0, abs=1e-6)
    # without --emotions: no such column
    proc = _cli(speech, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "p_left_out" not in out.read_text().splitlines()[0]


def test_a_long_recordings_answer_leaves_out_what_its_segments_do(full, speech, tmp_path):
    """A recording cut into segments: each segment says what it leaves out, as the unrestricted model
    scores it, and the whole recording's ``left_out`` is the unrestricted segments' average."""
    import soundfile as sf

    from emovox.live import timeline
    from emovox.segments import segments_proba

    y = load_audio(speech, 16000)
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([y, np.zeros(8000, np.float32)] * 5), 16000)
    four = load_model(MODEL, emotions="four")
    segs, segs_full = list(timeline(path, four)), list(timeline(path, full))
    assert [(s.start, s.end) for s in segs] == [(s.start, s.end) for s in segs_full]
    speaking = [(s, f) for s, f in zip(segs, segs_full, strict=True) if s.speech]
    assert len(speaking) >= 2
    for s, f in speaking:
        assert s.left_out == pytest.approx(
            {k: v for k, v in f.probabilities.items() if k not in FOUR}, abs=1e-9
        )
        assert "left_out" in s.to_dict() and "left_out" not in f.to_dict()
    (pred,) = four.predict_files([path])
    whole, _ = segments_proba(full, segs_full)  # every emotion, averaged as the answer averages them
    expected = {k: float(v) for k, v in zip(full.labels, whole, strict=True) if k not in FOUR}
    assert pred.left_out == pytest.approx(expected, abs=1e-6)


def test_left_out_in_a_session_and_the_api(speech):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from emovox.server import create_app

    files = sorted(need(RAVDESS / "Actor_05").glob("*.flac"))[:4]
    four = load_model("default", emotions="four")
    for pred in four.predict_files(files, same_speaker=True):
        assert set(pred.left_out) == {"disgust", "fearful", "surprised"}
        assert all(0 <= v <= 1 for v in pred.left_out.values()) and sum(pred.left_out.values()) < 1
    full = load_model("default")
    data = open(speech, "rb").read()
    (p,) = full.predict_proba(speech)
    with TestClient(create_app(full)) as client:
        for path in ("/v1/predict", "/v1/react"):
            r = client.post(path, content=data, headers={"content-type": "audio/flac"})
            assert r.status_code == 200 and r.json()["left_out"] is None, r.text
            every = r.json()["probabilities"]  # a reaction's: its segments', averaged
            if path == "/v1/predict":
                assert list(every.values()) == pytest.approx(list(p), abs=1e-6)
            r = client.post(f"{path}?emotions=four", content=data, headers={"content-type": "audio/flac"})
            assert r.status_code == 200, r.text
            res = r.json()
            expected = {k: v for k, v in every.items() if k not in FOUR}
            assert res["left_out"] == pytest.approx(expected, abs=1e-6), (path, res)


def test_the_first_choice_of_an_answer_averaged_over_segments_is_the_average_s():
    """For a recording scored by its segments, the first choice left out was estimated from the kept
    answer's confidence, which averages renormalised rows: here it named surprised (0.403 on average)
    where angry (0.409) was the model's first choice. It is now read off the segments' average of every
    emotion's probability; and a restricted model's segments, restricted again per call (the API's
    timeline rows), say what both restrictions leave out."""
    from emovox.segments import segments_unrestricted, set_probabilities
    from emovox.vad import Segment

    m = load_model("default", emotions=["angry", "sad"])
    rows = [
        (2.35, {"angry": 0.655, "sad": 0.024, "disgust": 0.21, "surprised": 0.111}),
        (1.42, {"angry": 0.001, "sad": 0.002, "disgust": 0.111, "surprised": 0.886}),
    ]
    segments = []
    t = 0.0
    for seconds, probs in rows:
        s = Segment(t, t + seconds)
        set_probabilities(m, s, np.array([probs.get(lab, 0.0) for lab in m.all_labels]), seconds)
        segments.append(s)
        t += seconds + 0.5
    every = segments_unrestricted(m, segments)
    w = np.array([2.35, 1.42])
    assert every["angry"] == pytest.approx((0.655 * w[0] + 0.001 * w[1]) / w.sum())  # 0.4087
    assert every["surprised"] == pytest.approx((0.111 * w[0] + 0.886 * w[1]) / w.sum())  # 0.4029
    pred = m.make_prediction("r.wav", every)
    assert pred.probabilities == pytest.approx(
        {
            "angry": every["angry"] / (every["angry"] + every["sad"]),
            "sad": every["sad"] / (every["angry"] + every["sad"]),
        }
    )
    assert pred.label == "angry" and pred.first_left_out is None
    assert pred.left_out == pytest.approx(
        {k: every[k] for k in ("disgust", "fearful", "happy", "neutral", "surprised")}
    )
    # the answer keeps the model's own order among the emotions kept: each segment narrowed before the
    # average made a 3 s segment heard as disgust (0.95) count as happy (0.8), and the answer happy
    m2 = load_model("default", emotions=["neutral", "happy"])
    segments = []
    for t0, t1, probs in (
        (0.0, 2.0, {"neutral": 0.5, "happy": 0.1}),
        (2.5, 5.5, {"neutral": 0.01, "happy": 0.04}),
    ):
        s = Segment(t0, t1)
        rest = {"disgust": 1.0 - sum(probs.values())}
        set_probabilities(m2, s, np.array([(probs | rest).get(lab, 0.0) for lab in m2.all_labels]), t1 - t0)
        segments.append(s)
    pred = m2.make_prediction("r.wav", segments_unrestricted(m2, segments))
    assert pred.label == "neutral" and pred.first_left_out == ("disgust", pytest.approx(0.73))
    # a segment of a restricted model, narrowed again per call, as the API's timeline rows are
    pytest.importorskip("fastapi")
    from emovox.server.analysis import _segment

    four = load_model("default", emotions="four")
    s = Segment(0.0, 2.0)
    probs = {"angry": 0.3, "happy": 0.1, "neutral": 0.05, "sad": 0.05, "disgust": 0.1, "surprised": 0.4}
    set_probabilities(four, s, np.array([probs.get(lab, 0.0) for lab in four.all_labels]), 2.0)
    row = _segment(s, four, ["angry", "sad"])
    assert row["emotion"] == "angry" and row["probabilities"] == pytest.approx(
        {"angry": 0.3 / 0.35, "sad": 0.05 / 0.35}
    )
    expected = {"disgust": 0.1, "fearful": 0.0, "happy": 0.1, "neutral": 0.05, "surprised": 0.4}
    assert row["left_out"] == pytest.approx(expected, abs=1e-9)


def test_a_restricted_timeline_table_says_what_each_segment_leaves_out(speech, tmp_path):
    """The timeline's JSON had `left_out`, its table nothing: `p_left_out` now, which the table's reader
    (emovox plot timeline) does not take for an emotion."""
    import csv

    import soundfile as sf

    from emovox.live.timeline import read_timeline

    y = load_audio(speech, 16000)
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([y, np.zeros(8000, np.float32)] * 5), 16000)
    out, plain = tmp_path / "t.csv", tmp_path / "plain.csv"
    assert _cli(str(path), "--timeline", "--emotions", "angry,sad", "-o", str(out)).returncode == 0
    assert _cli(str(path), "--timeline", "-o", str(plain)).returncode == 0
    rows = [r for r in csv.DictReader(out.open()) if r["speech"] == "True"]
    full = [r for r in csv.DictReader(plain.open()) if r["speech"] == "True"]
    assert rows and len(rows) == len(full) and "p_left_out" not in full[0]
    for r, f in zip(rows, full, strict=True):  # what the unrestricted model gives the other emotions
        others = sum(float(v) for k, v in f.items() if k.startswith("p_") and k not in ("p_angry", "p_sad"))
        assert float(r["p_left_out"]) == pytest.approx(others, abs=2e-3)
    segs = read_timeline(out)
    assert all(set(s["probabilities"]) == {"angry", "sad"} for s in segs if s["speech"])


def test_a_restricted_timeline_row_says_when_it_left_out_the_first_choice(tmp_path):
    """`predict --timeline --emotions four` showed a segment the model heard as disgust (0.9) as
    "angry 0.726" with nothing more; its row now ends as predict's line does, and its JSON says which."""
    import soundfile as sf

    from .conftest import EMODB

    files = sorted(need(EMODB / "wav").glob("*E*.flac"))[:3]  # disgust (Ekel), as the model hears them
    y = np.concatenate([np.concatenate([load_audio(f, 16000), np.zeros(8000, np.float32)]) for f in files])
    path = tmp_path / "disgust.wav"
    sf.write(path, y, 16000)
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(path), "--timeline", "--emotions", "four"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [ln for ln in proc.stdout.splitlines() if ln.strip()[:1].isdigit()]
    noted = [ln for ln in rows if "first choice left out: disgust " in ln]
    assert noted, proc.stdout
    out = tmp_path / "t.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emovox.cli",
            "predict",
            str(path),
            "--timeline",
            "--emotions",
            "four",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    segs = [s for s in json.loads(out.read_text()) if s["speech"]]
    firsts = [s["first_left_out"] for s in segs if s["first_left_out"]]
    assert len(firsts) == len(noted) and all(f["emotion"] == "disgust" for f in firsts)
    for s in segs:
        best_kept = s["confidence"] * (1 - sum(s["left_out"].values()))
        assert (s["first_left_out"] is not None) == (max(s["left_out"].values()) > best_kept)
