"""Live path, long-recording timelines and the picture session, tested through file and array sources.

Segmentation runs WebRTC's real detector on synthetic recordings with known boundaries; classification
uses a tiny model trained here on a few RAVDESS files (or the bundled one when the package ships it).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from emovox.cli import main
from emovox.live import (
    ArraySource,
    FileSource,
    Segmenter,
    iter_timeline,
    listen,
    record,
    run_session,
    segment,
    timeline,
    write_timeline,
)

SR = 16000
RNG = np.random.default_rng(7)


# ------------------------------------------------------------------------------------------- signals
def silence(s: float, level: float = 5e-4) -> np.ndarray:
    """Room-noise silence (well under the detector's floor)."""
    return (level * RNG.standard_normal(int(s * SR))).astype(np.float32)


def tone(s: float, f: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(s * SR)) / SR
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def noise_burst(s: float, amp: float = 0.1) -> np.ndarray:
    return (amp * RNG.standard_normal(int(s * SR))).astype(np.float32)


def speech_like(s: float, amp: float = 0.2) -> np.ndarray:
    """A voiced, gliding-pitch harmonic source with a syllable-rate envelope (4 Hz)."""
    t = np.arange(int(s * SR)) / SR
    f0 = 140 + 30 * np.sin(2 * np.pi * 2.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 16))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    return (amp * y * env).astype(np.float32)


def compose(parts) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Concatenate ``(kind, seconds)`` parts; return the signal and the true (start, end) of each sound."""
    ys, truth, t = [], [], 0.0
    for fn, s in parts:
        ys.append(fn(s))
        if fn is not silence:
            truth.append((t, t + s))
        t += s
    return np.concatenate(ys), truth


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """The bundled default model if there is one, else a logistic regression on 2 RAVDESS actors (seconds)."""
    from emovox.errors import ModelError
    from emovox.inference import bundled_models, load_model

    if bundled_models():
        try:
            return load_model()
        except ModelError:  # bundled models, but no default among them
            pass
    from emovox.corpora import scan
    from emovox.labels import apply_labels
    from emovox.training import handcrafted_features, train_classical

    from .conftest import RAVDESS, need

    df = apply_labels(scan(need(RAVDESS), "ravdess")[0], emotions="four")
    df = df[df["actor"] <= 2].reset_index(drop=True)
    table = handcrafted_features(
        df, "tutorial", progress=False, n_jobs=2, cache_dir=tmp_path_factory.mktemp("cache")
    )
    return load_model(train_classical(table, tmp_path_factory.mktemp("m") / "model", "logreg"))


@pytest.fixture(scope="session")
def speech_file(tmp_path_factory) -> tuple:
    """A 16 kHz WAV of four real RAVDESS utterances with 1.5 s pauses, and the utterance count."""
    from emovox import load_audio

    from .conftest import RAVDESS, need

    files = sorted(need(RAVDESS).glob("Actor_03/*.flac"))[::12][:4]
    parts = [silence(1.0)]
    for f in files:
        parts += [load_audio(f), silence(1.5)]
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    sf.write(path, np.concatenate(parts), SR)
    return path, len(files)


# -------------------------------------------------------------------------------------- segmentation
@pytest.mark.parametrize("burst", [tone, noise_burst, speech_like], ids=["tone", "noise", "speech-like"])
def test_bursts_give_right_segments_and_boundaries(burst):
    y, truth = compose(
        [
            (silence, 1.0),
            (burst, 1.0),
            (silence, 0.8),
            (burst, 2.0),
            (silence, 1.2),
            (burst, 0.6),
            (silence, 1.0),
        ]
    )
    segs = segment(y, SR, padding=0.2)
    assert len(segs) == len(truth)
    for s, (t0, t1) in zip(segs, truth, strict=True):
        # padding is 0.2 s each side; one 30 ms frame of quantisation plus onset detection on top
        assert s.start == pytest.approx(t0 - 0.2, abs=0.07)
        assert s.end == pytest.approx(t1 + 0.2, abs=0.07)
        assert s.samples.size == pytest.approx(s.duration * SR, abs=1)


def test_options_min_length_padding_and_pauses():
    y, truth = compose(
        [
            (silence, 1.0),
            (speech_like, 0.15),
            (silence, 1.0),
            (speech_like, 1.0),
            (silence, 0.15),
            (speech_like, 1.0),
            (silence, 1.0),
        ]
    )
    # the 0.15 s blip is shorter than min_length; the 0.15 s pause is shorter than min_silence
    segs = segment(y, SR, min_length=0.3, padding=0.0, min_silence=0.3)
    assert len(segs) == 1
    assert segs[0].start == pytest.approx(truth[1][0], abs=0.07)
    assert segs[0].end == pytest.approx(truth[2][1], abs=0.07)
    # a shorter min_silence cuts at the pause
    assert len(segment(y, SR, min_length=0.3, padding=0.0, min_silence=0.09)) == 2


def test_long_speech_split_into_overlapping_windows():
    y, (t_speech,) = compose([(silence, 1.0), (speech_like, 23.0), (silence, 1.0)])
    segs = segment(y, SR, max_length=8.0, overlap=1.5, padding=0.2)
    assert [s.part for s in segs] == [1, 2, 3, 4]
    assert all(s.duration <= 8.0 + 1e-6 for s in segs)
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.end - b.start == pytest.approx(1.5, abs=0.031)
    assert segs[0].start == pytest.approx(t_speech[0] - 0.2, abs=0.07)
    assert segs[-1].end == pytest.approx(t_speech[1] + 0.2, abs=0.07)


def test_streaming_is_chunking_invariant_and_bounded():
    y, _ = compose([(silence, 0.7), (speech_like, 1.3), (silence, 0.9), (noise_burst, 12.0), (silence, 0.5)])
    whole = segment(y, SR, max_length=5.0)
    seg = Segmenter(SR, max_length=5.0)
    got, i, kept = [], 0, 0
    while i < y.size:  # ragged chunks, as a sound card or a decoder might deliver them
        n = int(RNG.integers(1, 4000))
        got += list(seg.feed(y[i : i + n]))
        kept = max(kept, sum(f.size for f in seg._frames))
        i += n
    got += list(seg.flush())
    assert [(s.start, s.end, s.part) for s in got] == [(s.start, s.end, s.part) for s in whole]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(got, whole, strict=True))
    assert kept <= (5.0 + 0.2 + 0.1) * SR  # memory: one window plus padding, never the stream


def test_silence_only_gives_nothing(model, tmp_path):
    for y in (np.zeros(3 * SR, dtype=np.float32), silence(3.0)):
        assert segment(y, SR) == []
        assert timeline(y, model, sr=SR) == []
    path = tmp_path / "silence.wav"
    sf.write(path, silence(4.0), SR)
    assert timeline(path, model) == []
    out = tmp_path / "tl.csv"
    write_timeline([], out, model.labels)
    assert out.read_text().splitlines() == [
        "start,end,emotion,confidence,speech,uncertain,reason," + ",".join(f"p_{x}" for x in model.labels)
    ]


# ---------------------------------------------------------------------------------------------- timeline
def test_timeline_of_real_speech(model, speech_file):
    path, n_utts = speech_file
    segs = timeline(path, model)
    assert len(segs) == n_utts
    for s in segs:
        assert s.emotion in model.labels and 0 < s.confidence <= 1
        assert sum(s.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert s.samples is None  # dropped: memory stays bounded on long files
    assert all(a.end <= b.start for a, b in zip(segs, segs[1:], strict=False))


def test_tone_or_noise_beside_speech_is_cut_off(model):
    """The voice detector joins a tone or noise to the speech next to it; the segment is cut back to the
    speech (a 2 s tone on either side once hid an angry sentence as "no speech")."""
    from emovox import load_audio

    from .conftest import EMODB, need

    y = load_audio(need(EMODB) / "wav" / "03a01Wa.flac")
    dur = y.size / SR
    (ref,) = timeline(np.concatenate([silence(2.0), y, silence(2.0)]), model, sr=SR)
    for side in (tone(2.0, amp=0.1), noise_burst(2.0, amp=0.03)):
        segs = timeline(np.concatenate([side, y, side]), model, sr=SR)
        # what the voice detector joined to the sentence is a row of its own, without speech (it was left out)
        (speech,) = [s for s in segs if s.speech]
        assert 2 - 0.35 <= speech.start and speech.end <= 2 + dur + 0.35, (speech, dur)
        assert speech.emotion == ref.emotion
        assert len(segs) > 1 and all(
            s.end <= speech.start or s.start >= speech.end for s in segs if not s.speech
        )
    segs = timeline(np.concatenate([tone(2.0, amp=0.1), y, tone(2.0, amp=0.1)]), model, sr=SR)
    assert [s.speech for s in segs] == [False, True, False], segs
    assert segs[0].start == 0 and segs[0].end == segs[1].start and segs[2].start == segs[1].end


def test_file_timeline_equals_live_path_and_array_source(model, speech_file):
    path, _ = speech_file
    ref = timeline(path, model)
    seen = []
    live = listen(
        FileSource(path, model.sample_rate, realtime=True, speed=10.0),
        model,
        on_segment=lambda s, lat: seen.append(lat),
    )
    y = sf.read(path, dtype="float32")[0]
    chunks = (y[i : i + 4410] for i in range(0, y.size, 4410))  # an iterator of arrays
    from_iter = timeline(ArraySource(chunks, SR), model)
    for other in (live, from_iter):
        assert [(s.start, s.end, s.emotion) for s in other] == [(s.start, s.end, s.emotion) for s in ref]
        for a, b in zip(other, ref, strict=True):
            assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
    assert len(seen) == len(ref) and all(lat is not None and lat >= 0 for lat in seen)


def test_other_rate_source_is_resampled(model, speech_file):
    import soxr

    path, n_utts = speech_file
    y = sf.read(path, dtype="float32")[0]
    y8 = soxr.resample(y, SR, 8000).astype(np.float32)
    assert len(list(iter_timeline(ArraySource(y8, 8000, block_seconds=0.25), model))) == n_utts


def test_predict_timeline_cli(model, speech_file, tmp_path, capsys):
    path, n_utts = speech_file
    csv_out, png = tmp_path / "tl.csv", tmp_path / "tl.png"
    assert (
        main(
            [
                "predict",
                str(path),
                "--timeline",
                "--model",
                str(model.path),
                "-o",
                str(csv_out),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0].split()[:4] == ["start", "end", "emotion", "conf"] and len(table) == 1 + n_utts
    with open(csv_out) as fh:
        recs = list(csv.DictReader(fh))
    assert len(recs) == n_utts
    assert set(recs[0]) == {
        "start",
        "end",
        "emotion",
        "confidence",
        "speech",
        "uncertain",
        "reason",
        *(f"p_{x}" for x in model.labels),
    }
    assert png.stat().st_size > 5000
    json_out = tmp_path / "tl.json"
    assert (
        main(["predict", str(path), "--timeline", "--model", str(model.path), "-o", str(json_out), "--json"])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert len(printed[0]["segments"]) == n_utts == len(json.loads(json_out.read_text()))


def test_file_timelines_of_several_inputs(model, speech_file, tmp_path):
    """The library behind ``predict --timeline``: one result per input, failures named, callbacks in order."""
    from emovox.live import FileTimeline, file_timelines, timeline_inputs

    path, n = speech_file
    (tmp_path / "empty").mkdir()
    missing = tmp_path / "missing.wav"
    paths, failed = timeline_inputs([path, tmp_path / "empty", missing])
    assert paths == [str(path), str(missing)]
    assert [f.source for f in failed] == [str(tmp_path / "empty")] and "no audio" in failed[0].error
    seen: list = []
    results = list(
        file_timelines(
            paths, model, on_file=lambda s: seen.append(("file", s)), on_segment=lambda g: seen.append(g)
        )
    )
    assert [type(r) for r in results] == [FileTimeline, FileTimeline]
    ok, bad = results
    assert ok.error is None and ok.source == str(path) and len([s for s in ok.segments if s.speech]) == n
    assert [s.to_dict() for s in ok.segments] == [s.to_dict() for s in timeline(path, model)]
    assert seen[0] == ("file", str(path)) and seen[1 : 1 + len(ok.segments)] == ok.segments
    assert seen[1 + len(ok.segments)] == ("file", str(missing))
    assert bad.error and "missing.wav" in bad.error and not bad.segments
    assert bad.to_dict() == {"source": str(missing), "error": bad.error}
    assert ok.to_dict(top_k=1)["segments"][0]["probabilities"].keys() <= set(model.labels)
    assert ok.to_dict()["speech"] is True and FileTimeline("quiet.wav", None, []).to_dict()["speech"] is False


def test_timeline_csv_plots(model, speech_file, tmp_path, capsys):
    """The README's ``predict --timeline -o t.csv`` then ``plot timeline t.csv``; non-speech rows draw grey."""
    from emovox import plots
    from emovox.live import Segment
    from emovox.live.timeline import read_timeline

    path, n_utts = speech_file
    for name in ("t.csv", "t.tsv", "t.json"):
        out, png = tmp_path / name, tmp_path / f"{name}.png"
        assert main(["predict", str(path), "--timeline", "--model", str(model.path), "-o", str(out)]) == 0
        assert main(["plot", "timeline", str(out), "-o", str(png)]) == 0, capsys.readouterr().err
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20000
        segs = read_timeline(out)
        assert len(segs) == n_utts and all(s["emotion"] in model.labels and s["speech"] for s in segs)
        assert all(set(s["probabilities"]) == set(model.labels) for s in segs)
        assert abs(sum(segs[0]["probabilities"].values()) - 1) < 0.01
    capsys.readouterr()
    # a segment that is a sound but not a voice: no emotion, speech false; drawn grey, without an error
    probs = dict.fromkeys(model.labels, 1 / len(model.labels))
    tl = [
        Segment(0.5, 2.0, emotion=model.labels[0], confidence=0.8, probabilities=probs),
        Segment(2.5, 3.5, speech=False, reason="no voiced sound (noise, clicks or whispering)"),
        Segment(4.0, 5.0, emotion=model.labels[1], confidence=0.6, probabilities=probs, uncertain=True),
    ]
    csv_out, png = (
        write_timeline(tl, tmp_path / "mixed.csv", labels=list(model.labels)),
        tmp_path / "mixed.png",
    )
    segs = read_timeline(csv_out)
    assert [s["speech"] for s in segs] == [True, False, True] and segs[1]["emotion"] is None
    assert segs[1]["probabilities"] == {} and segs[2]["uncertain"] is True
    assert segs[1]["reason"] == "no voiced sound (noise, clicks or whispering)" and segs[0]["reason"] is None
    no_speech_row = csv_out.read_text().splitlines()[2].split(",")
    assert no_speech_row[4:6] == ["False", "False"] and no_speech_row[-len(model.labels) :] == [""] * len(
        model.labels
    )  # no zeros to average
    assert main(["plot", "timeline", str(csv_out), "-o", str(png)]) == 0, capsys.readouterr().err
    assert png.stat().st_size > 20000
    fig = plots.emotion_timeline(segs)
    grey = [p for p in fig.axes[0].patches if p.get_hatch() == "//"]
    assert len(grey) == 1 and grey[0].get_facecolor()[:3] == pytest.approx((0x9E / 255,) * 3)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "no speech",
        "uncertain",
    ]  # (its third segment is uncertain)
    # not a timeline: one line naming the file
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    capsys.readouterr()
    assert main(["plot", "timeline", str(bad), "-o", str(tmp_path / "bad.png")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.csv" in err[0] and "start, end, emotion" in err[0]


def test_timelines_of_several_files_keep_their_failures_and_plot_one_at_a_time(
    model, speech_file, tmp_path, capsys
):
    """``predict --timeline A B -o t.csv|json`` keeps a row naming each failed file; ``plot timeline`` of
    several recordings asks which one (overlaid on one time axis they would mislead)."""
    from emovox.live.timeline import read_timeline

    path, n_utts = speech_file
    empty, quiet = tmp_path / "empty.wav", tmp_path / "quiet.wav"
    empty.touch()
    sf.write(quiet, silence(3.0), SR)
    for name in ("several.csv", "several.json"):
        out = tmp_path / name
        args = [str(path), str(empty), str(quiet), "--timeline", "--model", str(model.path), "-o", str(out)]
        assert main(["predict", *args]) == 1
        stdout, err = capsys.readouterr()
        # the speech file's table and the quiet file's (one row without speech); none for the failed file
        assert stdout.count("start       end") == 2
        assert "empty.wav: empty file" in err and "empty.wav: empty file" in out.read_text()
        segs = read_timeline(out)  # the failed file's row is no segment; the quiet one's, one without speech
        assert len(segs) == n_utts + 1 and [s["source"] for s in segs].count(str(path)) == n_utts
        (hush,) = [s for s in segs if s["source"] == str(quiet)]
        assert not hush["speech"] and hush["reason"].startswith("silence"), hush
    both = tmp_path / "both.json"
    assert main(["predict", str(path), str(path), "--timeline", "--model", str(model.path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    records[1]["source"] = "b.wav"  # two recordings (the same audio twice, named apart)
    both.write_text(json.dumps(records))
    png = tmp_path / "p.png"
    assert main(["plot", "timeline", str(both), "-o", str(png)]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds the timelines of 2 recordings" in err and "--source" in err and not png.exists()
    assert main(["plot", "timeline", str(both), "-o", str(png), "--source", "b.wav"]) == 0
    assert png.stat().st_size > 20000
    assert main(["plot", "timeline", str(both), "-o", str(png), "--source", "c.wav"]) == 2
    assert "no recording 'c.wav'" in capsys.readouterr().err
    one = tmp_path / "one.csv"  # one recording's table has no source column: --source cannot choose
    assert main(["predict", str(path), "--timeline", "--model", str(model.path), "-o", str(one)]) == 0
    capsys.readouterr()
    assert main(["plot", "timeline", str(one), "-o", str(png), "--source", "nope"]) == 2
    assert "holds the timeline of one recording (it has no source column); leave out --source" in (
        capsys.readouterr().err
    )


def test_predict_timeline_cli_silence(model, tmp_path, capsys):
    path = tmp_path / "quiet.wav"
    sf.write(path, silence(5.0), SR)
    assert (
        main(["predict", str(path), "--timeline", "--model", str(model.path), "-o", str(tmp_path / "q.json")])
        == 0
    )
    capsys.readouterr()
    # one row without speech, saying why, as a noisy file's and the API's timeline (it was an empty list)
    (row,) = json.loads((tmp_path / "q.json").read_text())
    assert (row["start"], row["end"], row["speech"], row["emotion"]) == (0.0, 5.0, False, None)
    assert row["reason"].startswith("silence"), row
    assert main(["predict", str(path), "--timeline", "--model", str(model.path)]) == 0
    assert "no speech" in capsys.readouterr().out


def test_a_quiet_recording_gives_one_timeline_by_every_path(model, speech_file, tmp_path, capsys):
    """30 dB down: the API's and emovox.live.timeline's rows lost a sentence's start and split another, and
    listen --input heard one sentence as fearful, where predict --timeline (which brings a quiet recording
    up before cutting it) had the right rows. (40 dB down, its loud-frame level is -67 dBFS: silence to the
    speech check, which predict and the timeline now both say.)"""
    from emovox.server import analysis

    path, _ = speech_file
    y, sr = sf.read(path, dtype="float32")
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, 0.03 * y, sr)

    def rows(segs):
        return [(round(s["start"], 2), round(s["end"], 2), s["emotion"]) for s in segs]

    out = tmp_path / "t.json"
    assert main(["predict", str(quiet), "--timeline", "--model", str(model.path), "--json"]) == 0
    (cli,) = json.loads(capsys.readouterr().out)
    want = rows(cli["segments"])
    assert len([r for r in want if r[2]]) >= 2
    assert rows(s.to_dict() for s in timeline(str(quiet), model)) == want
    assert rows(s.to_dict() for s in timeline(sf.read(quiet, dtype="float32")[0], model, sr=sr)) == want
    assert rows(analysis.analyse(model, quiet.read_bytes(), "q.wav", timeline_after=0.0)["timeline"]) == want
    assert main(["listen", "--input", str(quiet), "--fast", "--model", str(model.path), "-o", str(out)]) == 0
    assert rows(json.loads(out.read_text())) == want


def test_a_quiet_microphone_is_told_the_gain_it_needs(model, speech_file, tmp_path, capsys):
    """A stream cannot be brought up ahead as a file is: the live view says, once, after 10 s, that the
    input is too quiet and which gain would bring it up; with that gain it says nothing and hears the
    sentences. Loud speech and silence get no message."""
    import io
    import re

    from emovox.live import LiveView, listen

    path, n = speech_file
    y, sr = sf.read(path, dtype="float32")

    def live(signal, gain=1.0):
        out = io.StringIO()
        chunks = (signal[i : i + sr // 2] for i in range(0, signal.size, sr // 2))  # a stream, not a file
        segs = listen(chunks, model, view=LiveView(out, tty=False, labels=model.labels), gain=gain)
        return out.getvalue(), segs

    text, _ = live(0.03 * y)  # 30 dB down (40 dB down is silence to the speech check, file or stream)
    notes = [ln for ln in text.splitlines() if "the input is quiet" in ln]
    assert len(notes) == 1, text
    db = float(re.search(r"gain of \+(\d+) dB", notes[0]).group(1))
    peak = 20 * np.log10(np.abs(0.03 * y[: 10 * sr]).max())
    assert abs(db - (-20 - peak)) <= 0.5  # what brings the first 10 s up to a -20 dBFS peak
    text, segs = live(0.03 * y, gain=10 ** (db / 20))
    assert "quiet" not in text and sum(s.speech for s in segs) >= n - 1
    assert "quiet" not in live(y)[0] and "quiet" not in live(np.zeros(12 * sr, np.float32))[0]
    # under a gain already, it names the gain in all; after 10 s of silence, it still listens
    text, _ = live(0.003 * y, gain=10.0)  # 50 dB down, 20 dB up
    (note,) = [ln for ln in text.splitlines() if "the input is quiet" in ln]
    assert f"gain of +{db + 20:.0f} dB in all (it is +20 dB now)" in note, note
    text, _ = live(np.concatenate([np.zeros(12 * sr, np.float32), 0.03 * y]))
    assert sum("the input is quiet" in ln for ln in text.splitlines()) == 1

    assert main(["listen", "--input", str(path), "--fast", "--gain", "100"]) == 2
    assert "--gain 100: expected decibels from -40 to 60" in capsys.readouterr().err
    assert main(["listen", "--input", str(path), "--once", "--gain", "6"]) == 2
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, 0.03 * y, sr)
    out = tmp_path / "t.json"
    args = ["listen", "--input", str(quiet), "--fast", "--model", str(model.path), "-o", str(out)]
    assert (
        main([*args, "--gain", f"{db:g}"]) == 0
        and sum(s["emotion"] is not None for s in json.loads(out.read_text())) >= n - 1
    )


# ---------------------------------------------------------------------------------------- listen --once
def test_listen_once_and_save_from_a_file(model, speech_file, tmp_path, capsys):
    path, _ = speech_file
    assert record(FileSource(path, SR), 2.5).size == int(2.5 * SR)
    saved = tmp_path / "rec.wav"
    assert (
        main(
            [
                "listen",
                "--once",
                "--seconds",
                "3",
                "--input",
                str(path),
                "--fast",
                "--model",
                str(model.path),
                "--save",
                str(saved),
            ]
        )
        == 0
    )
    label, conf = capsys.readouterr().out.split("\t")[:2]
    assert label in model.labels and 0 < float(conf) <= 1
    assert sf.info(saved).frames >= 3 * SR  # the recorder saves what it read, a block or so past 3 s


def test_listen_to_an_unreadable_file_is_one_line_before_listening(model, tmp_path, capsys):
    empty = tmp_path / "empty.wav"
    empty.touch()
    assert main(["listen", "--input", str(empty), "--fast", "--model", str(model.path)]) == 2
    out, err = capsys.readouterr()
    assert "listening" not in out + err and err.strip() == f"emovox: error: {empty}: empty file (zero bytes)"


def test_ctrl_c_scores_the_speech_under_way(model, speech_file):
    """A Ctrl-C in the middle of an utterance: the utterance is scored (it was dropped); the list ends there."""
    from emovox import load_audio

    path, _ = speech_file
    y = load_audio(path)
    first_end = timeline(path, model)[0].end

    def chunks():
        cut = int((first_end - 0.5) * SR)  # half a second before the first utterance ends
        for i in range(0, cut, 1600):
            yield y[i : min(i + 1600, cut)]
        raise KeyboardInterrupt

    segs = listen(ArraySource(chunks(), SR), model)
    assert len(segs) == 1 and segs[0].speech and segs[0].emotion in model.labels
    assert segs[0].end == pytest.approx(first_end - 0.5, abs=0.05)


def test_listen_once_writes_its_output_and_json_needs_once(model, speech_file, tmp_path, capsys):
    path, _ = speech_file
    out, wav = tmp_path / "once.csv", tmp_path / "once.wav"
    args = ["listen", "--input", str(path), "--fast", "--once", "--seconds", "2", "--model", str(model.path)]
    assert main([*args, "-o", str(out), "--save", str(wav)]) == 0
    assert (
        out.read_text().splitlines()[0].startswith("source,speech,emotion")
        and len(out.read_text().splitlines()) == 2
    )
    assert sf.info(wav).duration == pytest.approx(2.0, abs=0.01)  # what was heard, not a chunk read ahead
    capsys.readouterr()
    assert main(["listen", "--input", str(path), "--fast", "--json", "--model", str(model.path)]) == 2
    assert "--json goes with --once" in capsys.readouterr().err


def test_no_input_device_is_one_line(monkeypatch, capsys):
    try:
        import sounddevice
    except (ImportError, OSError):
        pass  # PortAudio or sounddevice missing: that is the real error path, no mock needed
    else:
        monkeypatch.setattr(sounddevice, "query_devices", lambda *a, **k: [])
    for argv in (["listen"], ["listen", "--once", "--seconds", "7"], ["listen", "--list-devices"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("emovox: error:"), err
        assert "Traceback" not in err[0]


# --------------------------------------------------------------------------------------------- session
def test_session_report_has_one_row_per_picture(model, speech_file, tmp_path, capsys):
    import matplotlib

    from emovox import load_audio
    from emovox.live.session import react

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pics = tmp_path / "pictures"
    expected = {"Joy": 2, "sadness": 1, "anger": 1}  # folder names as --emotions takes them: synonyms too
    for emo, n in expected.items():
        (pics / emo).mkdir(parents=True)
        for i in range(n):
            plt.imsave(pics / emo / f"{emo}{i}.png", RNG.random((24, 32, 3)))
    path, _ = speech_file
    report = run_session(
        pics, FileSource(path, SR), model, seconds=4.0, output_dir=tmp_path / "out", wait_for_start=False
    )
    assert len(report.trials) == 4
    with open(report.csv) as fh:
        recs = list(csv.DictReader(fh))
    assert len(recs) == 4 and sorted(r["expected"] for r in recs) == ["angry", "happy", "happy", "sad"]
    assert all(r["detected"] in model.labels for r in recs[:3])  # the file has speech for these pictures
    for r, t in zip(recs, report.trials, strict=True):  # marked uncertain as a reaction is (react)
        heard, _ = react(model, load_audio(t.recording, model.sample_rate))
        assert r["uncertain"] == str(int(t.uncertain)) and t.uncertain is heard.uncertain
        assert (t.detected, t.confidence) == (heard.label, heard.confidence)
        if t.confidence is not None and t.confidence < model.uncertain_below:
            assert t.uncertain
    # a source that ends on a picture's edge leaves the next reaction empty: no speech, not an error
    empty, seconds = react(model, np.zeros(0, np.float32))
    assert (empty.speech, empty.label, seconds) == (False, None, 0.0) and empty.reason
    assert report.png.stat().st_size > 5000 and report.html.read_text().count("<img") == 4
    assert all(t.recording.is_file() for t in report.trials)
    assert capsys.readouterr().out == ""  # a library call shows nothing (its progress went to stdout)
    # the same through the command line, headless, with the file as the microphone
    out = tmp_path / "cli"
    assert (
        main(
            [
                "session",
                str(pics),
                "--input",
                str(path),
                "--fast",
                "--no-window",
                "--seconds",
                "4",
                "--model",
                str(model.path),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    with open(out / "report.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 4
    judged = [t.match for t in report.trials if t.match is not None]
    out, line = capsys.readouterr()
    assert out.count("detected: ") == 4 and "[4/4]" in out  # the command shows its progress
    assert (
        f"4 pictures, {sum(judged)} of {len(judged)} reactions judged matched" in line and "report:" in line
    )


def test_session_and_listen_predict_over_the_emotions_chosen(model, speech_file, tmp_path, capsys):
    """`--emotions` narrows `session` and `listen` as it narrows `predict`: a picture of an emotion left out is
    not shown (the page's session does the same), and every answer is over the chosen emotions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pics = tmp_path / "pictures"
    for emo in ("happy", "angry", "sad"):
        (pics / emo).mkdir(parents=True)
        plt.imsave(pics / emo / f"{emo}.png", RNG.random((8, 8, 3)))
    path, _ = speech_file
    out = tmp_path / "s"
    argv = ["session", str(pics), "--input", str(path), "--fast", "--no-window", "--seconds", "3"]
    assert main([*argv, "--model", str(model.path), "-o", str(out), "--emotions", "angry,sad"]) == 0
    with open(out / "report.csv") as fh:
        recs = list(csv.DictReader(fh))
    assert sorted(r["expected"] for r in recs) == ["angry", "sad"]
    assert {r["detected"] for r in recs} <= {"angry", "sad"}
    assert "pictures of happy left out: not among the emotions chosen" in capsys.readouterr().err
    assert (
        main([*argv, "--model", str(model.path), "-o", str(tmp_path / "x"), "--emotions", "happy,bogus"]) == 2
    )
    assert "--emotions" in capsys.readouterr().err
    seg = tmp_path / "segments.csv"
    listen = ["listen", "--input", str(path), "--fast", "--model", str(model.path), "-o", str(seg)]
    assert main([*listen, "--emotions", "angry,sad"]) == 0
    rows = list(csv.DictReader(open(seg)))
    assert rows and all(r["emotion"] in ("angry", "sad", "") for r in rows)
    assert [c for c in rows[0] if c.startswith("p_")] == ["p_angry", "p_sad", "p_left_out"]
    spoken = [r for r in rows if r["emotion"]]
    assert spoken and all(abs(float(r["p_angry"]) + float(r["p_sad"]) - 1) < 1e-3 for r in spoken)


def test_a_reaction_over_chosen_emotions_is_predicts_answer(emodb_root):
    """`react(..., emotions=)` (the page's picture session) narrowed the segments' average, where predict
    narrows each segment first: on these two sentences it said angry 0.80 where predict says happy."""
    import emovox
    from emovox.live.session import react

    model = emovox.load_model()
    y = np.concatenate(
        [emovox.load_audio(emodb_root / "wav" / "15a04Wa.flac"), np.zeros(24000, np.float32)]
        + [emovox.load_audio(emodb_root / "wav" / "14b09Td.flac")]
    )
    heard, _ = react(model, y, emotions=["angry", "happy"])
    said = model.predict_signal(y, "two.wav", emotions=["angry", "happy"], sr=SR)
    assert list(heard.probabilities) == ["angry", "happy"]
    assert heard.label == said.label
    assert heard.probabilities == pytest.approx(said.probabilities, abs=1e-6)
    narrowed, _ = react(emovox.load_model(emotions=["angry", "happy"]), y)  # as session --emotions does
    assert narrowed.probabilities == pytest.approx(heard.probabilities, abs=1e-6)


def test_session_notes_are_logged_and_printed_by_the_cli(model, tmp_path, caplog, capsys):
    import logging

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pics = tmp_path / "pictures"
    (pics / "bored").mkdir(parents=True)  # an emotion no model detects
    plt.imsave(pics / "bored" / "b.png", RNG.random((8, 8, 3)))
    plt.imsave(pics / "bored" / "c.png", RNG.random((8, 8, 3)))  # after the input ends: not shown
    audio = tmp_path / "short.wav"
    sf.write(audio, silence(1.0), SR)
    with caplog.at_level(logging.INFO, logger="emovox.live.session"):
        report = run_session(
            pics, audio, model, seconds=2.0, output_dir=tmp_path / "out", wait_for_start=False
        )
    notes = [r.getMessage() for r in caplog.records if r.name == "emovox.live.session"]
    assert len(notes) == 2 and notes[0].startswith("note: the model cannot detect boredom (it knows ")
    assert notes[1] == f"note: {audio} ended during picture 1 (1.0 of 2 s); the session stops there"
    assert len(report.trials) == 1  # the session stopped with its input
    assert report.trials[0].match is None and report.accuracy is None  # "bored" is not judged: no miss
    from emovox.live.report import Trial

    assert Trial(pics, "bored", detected="angry", detectable=False).match is None  # not a miss
    # a file that is not a picture is left out before the session starts, with a note
    (pics / "bored" / "a_broken.jpg").write_bytes(b"not a jpeg")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="emovox.live.session"):
        report = run_session(
            pics, audio, model, seconds=2.0, output_dir=tmp_path / "o2", wait_for_start=False
        )
    assert [t.picture.name for t in report.trials] == ["b.png"]
    assert any("a_broken.jpg is not a readable picture" in r.getMessage() for r in caplog.records)
    assert Trial(pics, "sad", detected="angry").match is False
    capsys.readouterr()
    argv = ["session", str(pics), "--input", str(audio), "--fast", "--no-window", "--seconds", "2"]
    assert main([*argv, "--model", str(model.path), "-o", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err
    assert "emovox: note: the model cannot detect bored" in err and "ended during picture 1" in err


def test_listen_prints_the_table_of_predict_timeline(model, speech_file, capsys):
    """`emovox listen` (here from a file, as fast as it reads) prints the same rows as `predict --timeline`."""
    path, n = speech_file
    assert main(["predict", str(path), "--timeline", "--model", str(model.path)]) == 0
    table = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert main(["listen", "--input", str(path), "--fast", "--model", str(model.path)]) == 0
    live = [
        ln for ln in capsys.readouterr().out.splitlines() if ln.strip() and not ln.startswith("listening")
    ]
    assert table[0].split()[:4] == ["start", "end", "emotion", "conf"] and len(table) == n + 1
    assert live == table


def test_segmentation_options_default_to_vadoptions():
    """The CLI leaves unset segmentation options to VADOptions, and its help states VADOptions' numbers."""
    import re

    from emovox.cli import build_parser
    from emovox.cli.common import vad_options
    from emovox.live import VADOptions

    assert vad_options(build_parser().parse_args(["predict", "--timeline", "x.wav"])) == VADOptions()
    assert vad_options(build_parser().parse_args(["listen"])) == VADOptions()
    assert vad_options(build_parser().parse_args(["listen", "--padding", "0.5"])).padding == 0.5
    got = build_parser().parse_args(["predict", "--timeline", "x.wav", "--max-length", "3"])
    assert vad_options(got).max_length == 3
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in ("listen", "predict"):
        helps = {
            a.dest: a.help
            for a in sub.choices[command]._actions
            if a.dest in ("aggressiveness", "min_length", "max_length", "overlap", "padding", "min_silence")
        }
        assert len(helps) == 6
        for name, text in helps.items():
            stated = float(re.search(r"default ([0-9.]+)", text).group(1))
            assert stated == getattr(VADOptions(), name), (name, text)


def test_predict_timeline_takes_the_segmentation_options(model, speech_file, capsys):
    """``predict --timeline`` cut speech only as the defaults cut it (``listen`` had the options): now
    ``--max-length`` splits each utterance into shorter windows, as listen's does; without --timeline the
    options are refused in one line, and a bad value names the option as typed."""
    path, n = speech_file
    base = ["predict", str(path), "--timeline", "--model", str(model.path), "--json"]
    assert main(base) == 0
    plain = json.loads(capsys.readouterr().out)[0]["segments"]
    assert main([*base, "--max-length", "0.6", "--overlap", "0"]) == 0
    short = json.loads(capsys.readouterr().out)[0]["segments"]
    assert len(plain) == n and len(short) > n
    assert max(s["end"] - s["start"] for s in short) <= 0.6 + 1e-6 < max(s["end"] - s["start"] for s in plain)
    assert main(["predict", str(path), "--max-length", "3"]) == 2
    assert capsys.readouterr().err.strip() == (
        "emovox: error: --max-length sets how --timeline cuts speech into segments: add --timeline"
    )
    assert main([*base, "--min-length", "5", "--max-length", "3"]) == 2
    assert "--min-length" in capsys.readouterr().err


def test_a_live_stream_adapts_each_segment_to_the_ones_before_it(model, speech_file, tmp_path, capsys):
    """``listen --same-speaker`` / ``--same-channel`` (issue 17: a live stream's running statistics): each
    speech segment is scored with the segments before it as one session, so what is shown is final. The
    last segment's answer is the whole stream's adapted one (``predict --timeline --same-speaker``'s), the
    first is scored as it is, one alone."""
    from emovox.inference import load_model
    from emovox.live import iter_timeline, listen
    from emovox.segments import RunningAdaptation

    path, n = speech_file
    plain = list(iter_timeline(str(path), model, keep_embeddings=True))
    E = [s.embedding for s in plain if s.speech]
    assert len(E) == n
    for adapt in ("speaker", "channel"):
        segs = [s for s in listen(str(path), model, adapt=adapt) if s.speech]
        for k, s in enumerate(segs):
            want = model.proba_session(E[: k + 1], channel=adapt == "channel", report=False)[-1]
            np.testing.assert_allclose([s.probabilities[lab] for lab in model.labels], want, atol=1e-6)
            assert s.embedding is None  # released once scored
        np.testing.assert_allclose(
            [segs[0].probabilities[lab] for lab in model.labels],
            model.proba_from_embeddings(E[0])[0],
            atol=1e-6,
        )
    # the command line: the table's last row is the adapted timeline's last row
    out = tmp_path / "live.csv"
    args = ["--input", str(path), "--fast", "--model", str(model.path), "--same-speaker", "-o", str(out)]
    assert main(["listen", *args]) == 0
    capsys.readouterr()
    assert main(["predict", str(path), "--timeline", "--same-speaker", "--model", str(model.path)]) == 0
    whole = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    import pandas as pd

    live = pd.read_csv(out)
    assert len(live) == n and live["emotion"].iloc[-1] == whole[-1].split()[2]
    assert main(["listen", "--once", "--same-channel"]) == 2
    assert "a --once recording is one clip" in capsys.readouterr().err
    with pytest.raises(Exception, match="stores no class means"):
        RunningAdaptation(load_model("classical"))


def test_a_timeline_that_starts_without_speech_is_written_with_every_emotion(tmp_path):
    """Found documenting it: without ``labels``, the columns came from the first segment, and one without
    speech has no probabilities: the CSV writer then refused the next segment's."""
    from emovox.live import read_timeline
    from emovox.vad import Segment

    segs = [
        Segment(0.0, 1.0, speech=False, reason="silence"),
        Segment(
            1.0, 2.0, emotion="sad", confidence=0.6, probabilities={"sad": 0.6, "angry": 0.4}, speech=True
        ),
    ]
    path = write_timeline(segs, tmp_path / "t.csv")
    assert path.read_text().splitlines()[0].endswith("p_sad,p_angry")
    assert read_timeline(path)[1]["probabilities"] == {"sad": 0.6, "angry": 0.4}


def test_a_report_of_no_trials_is_refused_in_one_line(tmp_path):
    from emovox.errors import ParameterError
    from emovox.live.report import write_report

    with pytest.raises(ParameterError, match="no trials to report"):
        write_report([], ["angry", "sad"], tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_misspelt_timeline_option_is_named_with_the_valid_ones(model):
    """`timeline(..., min_lenght=0.5)` was a TypeError from VADOptions.__init__, naming neither."""
    from emovox.errors import ParameterError
    from emovox.live import timeline

    y = silence(2.0)
    with pytest.raises(ParameterError, match=r"'min_lenght' \(did you mean min_length\?\); expected aggre"):
        timeline(y, model, sr=SR, min_lenght=0.5)
    with pytest.raises(ParameterError, match=r"narrow it first: load_model\(emotions=...\)"):
        timeline(y, model, sr=SR, emotions="four")
    assert timeline(y, model, sr=SR, min_length=0.5) is not None  # a right name still works


def test_a_long_windows_pieces_stay_in_time_order():
    """Speech longer than the window is cut into windows that overlap by a second; a window cut into
    pieces (speech, then noise or a tone, then speech) gave a piece lying in that overlap a row of its
    own: after its successor's start (10.28 s then 10.05 s here), the same speech scored twice."""
    from emovox import load_audio, load_model

    from .conftest import EMODB, need

    sr, rng = 16000, np.random.default_rng(0)
    wav = need(EMODB) / "wav"
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
    y = np.concatenate(
        [
            np.zeros(int(1.26 * sr)),
            load_audio(wav / "03a02Fc.flac"),
            0.01 * rng.standard_normal(int(3.54 * sr)),  # noise, then a tone: the window is cut three ways
            load_audio(wav / "03a02Nc.flac"),
            tone,
            load_audio(wav / "03a02Ta.flac"),
            np.zeros(3 * sr),
        ]
    ).astype(np.float32)
    segs = list(timeline(y, load_model(), sr=sr))
    starts = [s.start for s in segs]
    assert starts == sorted(starts), [(round(s.start, 2), round(s.end, 2), s.part) for s in segs]
    assert max(s.end for s in segs) == pytest.approx(len(y) / sr - 3, abs=1.0)
    speech = [s for s in segs if s.speech]
    assert len(speech) == 3 and [s.part for s in speech] == [1, 1, 2]  # each sentence once


# ------------------------------------------------------------------------------------------- Ctrl-C
def _long_speech(tmp_path, seconds: float = 90.0) -> str:
    """RAVDESS sentences back to back with pauses, ``seconds`` long."""
    from .conftest import RAVDESS, need

    files = sorted(need(RAVDESS).glob("Actor_02/*.flac"))
    parts, total = [], 0.0
    for f in files:
        y, sr = sf.read(f, dtype="float32")
        parts += [y, np.zeros(sr // 2, np.float32)]
        total += y.size / sr + 0.5
        if total >= seconds:
            break
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate(parts), 16000)
    return str(path)


def _interrupt_when(args: list[str], ready, timeout: float = 120) -> tuple[int, str, str]:
    """Run ``emovox ARGS``, send Ctrl-C (SIGINT) once a line of its output passes ``ready``."""
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(  # (what it writes to standard error is a few lines: read at the end)
        [sys.executable, "-m", "emovox.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out = []
    for line in proc.stdout:
        out.append(line)
        if ready(line):
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=timeout)
    return proc.returncode, "".join(out) + rest, err


def test_ctrl_c_keeps_what_was_finished_and_exits_130(model, tmp_path):
    """Ctrl-C: `listen` exited 0 as if the input had ended; `predict --timeline` wrote neither -o nor
    --json, losing the files already finished; `session` wrote no report of the pictures done."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    long = _long_speech(tmp_path)
    # listen, the file played in real time as a microphone: the segments heard are saved
    out = tmp_path / "heard.json"
    code, stdout, err = _interrupt_when(
        ["listen", "--input", long, "-o", str(out), "--model", str(model.path)],
        lambda ln: ln.strip()[:1].isdigit(),
    )
    assert code == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "emovox: error: interrupted", err
    rows = json.loads(out.read_text())
    assert rows and all(r["end"] <= 30 for r in rows)  # what was heard, not the whole file
    # predict --timeline of two files, stopped during the second: the first is kept
    short = str(tmp_path / "short.wav")
    y, _ = sf.read(long, dtype="float32")
    sf.write(short, y[: 8 * 16000], 16000)
    for fmt in ("json", "csv"):
        out = tmp_path / f"t.{fmt}"
        code, stdout, err = _interrupt_when(
            ["predict", short, long, "--timeline", "-o", str(out), "--model", str(model.path)],
            lambda ln: ln.startswith("# ") and ln.strip().endswith("long.wav"),
        )
        assert code == 130 and "interrupted: 1 file finished, the one under way left out" in err, err
        from emovox.live.timeline import read_timeline

        segs = read_timeline(out)
        assert segs and all(s.get("source", short).endswith("short.wav") for s in segs), segs
    # a picture session: the report of the pictures finished
    pics = tmp_path / "pictures"
    for emo in ("angry", "sad", "happy", "neutral"):
        (pics / emo).mkdir(parents=True)
        plt.imsave(pics / emo / f"{emo}.png", RNG.random((8, 8, 3)))
    report = tmp_path / "report"
    code, stdout, err = _interrupt_when(
        ["session", str(pics), "--input", long, "--no-window", "--seconds", "2", "-o", str(report)]
        + ["--model", str(model.path)],
        lambda ln: "detected:" in ln,
    )
    assert code == 130 and "interrupted after" in err and "Traceback" not in err, err
    with open(report / "report.csv") as fh:
        assert 1 <= len(list(csv.DictReader(fh))) < 4


def test_listen_to_a_file_without_speech_says_why(model, tmp_path, capsys):
    """`listen --input` of silence or noise wrote `[]` where `predict --timeline` gives one row without
    speech saying why: the same row now."""
    sr = 16000
    for name, y, why in (
        ("silence.wav", np.zeros(5 * sr), "silence"),
        ("noise.wav", 0.02 * RNG.standard_normal(5 * sr), "no voiced sound"),
    ):
        path, out = tmp_path / name, tmp_path / f"{name}.json"
        sf.write(path, y.astype(np.float32), sr)
        assert (
            main(["listen", "--input", str(path), "--fast", "-o", str(out), "--model", str(model.path)]) == 0
        )
        (row,) = json.loads(out.read_text())
        assert (row["start"], row["end"], row["speech"]) == (0.0, 5.0, False) and row["reason"].startswith(
            why
        )
        assert main(["predict", str(path), "--timeline", "-o", str(tmp_path / "p.json")]) == 0
        assert json.loads((tmp_path / "p.json").read_text())[0]["reason"] == row["reason"]
    capsys.readouterr()


def test_segmentation_option_errors_name_the_options_as_typed(tmp_path, capsys):
    """They named the fields ("VAD min_length", "VAD lengths must not be negative" without which)."""
    path = tmp_path / "s.wav"
    sf.write(path, np.zeros(16000, np.float32), 16000)
    for args, line in (
        (["--max-length", "1", "--min-length", "2"], "--min-length (2 s) must not exceed --max-length (1 s)"),
        (["--overlap", "-1"], "lengths must not be negative: --overlap (-1 s)"),
    ):
        assert main(["listen", "--input", str(path), "--fast", *args]) == 2
        assert capsys.readouterr().err.strip() == f"emovox: error: segmentation: {line}"
    # in Python, predict_files' name for adaptation was "an unknown segmentation option"
    from emovox.errors import ParameterError
    from emovox.live import Segmenter

    with pytest.raises(ParameterError, match=r"^same_channel: a live stream adapts with adapt='channel'"):
        Segmenter(16000, same_channel=True)
    with pytest.raises(
        ParameterError, match=r"unknown segmentation option 'min_lenght' \(did you mean min_length"
    ):
        Segmenter(16000, min_lenght=1.0)


def test_a_gain_past_full_scale_is_said_once_naming_the_input(tmp_path, capsys):
    """`listen --gain 30` said "<array>: samples peak at 9.487 ..." once per segment."""
    from .conftest import RAVDESS, need

    files = sorted(need(RAVDESS).glob("Actor_02/*.flac"))[:3]
    path = tmp_path / "three.wav"
    sf.write(path, np.concatenate([sf.read(f, dtype="float32")[0] for f in files]), 16000)
    assert main(["listen", "--input", str(path), "--fast", "--gain", "30"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "past full scale" in line]
    assert len(notes) == 1 and notes[0].startswith(f"emovox: {path}: samples peak at "), err
    assert "after a gain of +30.0 dB" in notes[0] and "<array>" not in err


def test_ctrl_c_stops_a_once_recording_and_scores_what_was_recorded(model, tmp_path):
    """`listen --once` stopped by Ctrl-C printed no answer, and did not say --save was written: Ctrl-C now
    stops the recording, as a recorder's stop button, and what was recorded is scored."""
    import os
    import signal
    import subprocess
    import sys
    import time

    long = _long_speech(tmp_path, 30.0)
    saved = tmp_path / "heard.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emovox.cli", "listen", "--once", "--input", long, "--seconds", "20"]
        + ["--json", "--save", str(saved), "--model", str(model.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    first = proc.stderr.readline()  # "recording 20 s from ...": the file plays in real time from here
    assert first.startswith("recording 20 s from"), first
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err, err
    answer = json.loads(out)
    assert answer["speech"] is True and answer["emotion"] in model.labels
    assert f"saved {saved}" in err
    assert 2.0 <= sf.info(saved).duration < 15.0  # what was recorded, not the 20 s asked for


def test_listen_prints_only_results_on_stdout(capsys):
    """A review (stop 42): `listen --input f --fast > out.txt` put its "listening to ..." banner into out.txt,
    above the table. Messages go to stderr; stdout holds the table alone."""
    from .conftest import EMODB, need

    sentence = need(EMODB) / "wav" / "03a01Wa.flac"
    assert main(["listen", "--input", str(sentence), "--fast", "--model", "classical"]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["start", "end", "emotion", "conf"] and len(lines) >= 2, out
    assert "listening to" not in out and "listening to" in err


def test_a_recording_that_cannot_be_written_is_one_line_naming_it(tmp_path):
    """A full disk under `listen --save` and `session` was a LibsndfileError traceback ("System error.").
    A file-size limit fails the same way without a disk to fill: one line naming the file and the system's
    reason, a non-zero exit."""
    import subprocess
    import sys

    from PIL import Image

    sf.write(tmp_path / "long.wav", 0.3 * np.sin(2 * np.pi * 200 * np.arange(10 * SR) / SR), SR)
    (tmp_path / "pictures" / "angry").mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(tmp_path / "pictures" / "angry" / "a.png")
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)); from emovox.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    common = ["--input", str(tmp_path / "long.wav"), "--fast"]
    for args, written in (
        (["listen", *common, "--save", str(tmp_path / "rec.wav")], "rec.wav"),
        (
            [
                "session",
                str(tmp_path / "pictures"),
                *common,
                "--no-window",
                "--seconds",
                "8",
                "-o",
                str(tmp_path / "s"),
            ],
            "01_a.wav",
        ),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path, timeout=300
        )
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.rstrip().endswith(f"{written}: not written (File too large)"), proc.stderr
