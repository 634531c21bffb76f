"""Pictures of :mod:`emovox.plots` and ``emovox plot``: every kind renders, and shows the right numbers."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emovox import plots
from emovox.errors import AudioError

AUDIO_KINDS = [*plots.AUDIO_PLOTS, "overview"]
SR = 16000


def render(fig) -> tuple[int, np.ndarray]:
    """PNG size in bytes and the decoded RGB pixels."""
    import matplotlib.image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    n = buf.tell()
    buf.seek(0)
    return n, matplotlib.image.imread(buf, format="png")[..., :3]


def assert_drawn(fig, min_bytes: int = 5000, min_ink: float = 0.03) -> None:
    """A real picture: more than a few KB of PNG, and well beyond empty axes (about 1 % ink, std 0.08)."""
    n, px = render(fig)
    assert n > min_bytes, f"PNG only {n} bytes"
    assert px.std() > 0.1, "blank canvas"
    assert (px.mean(axis=2) < 0.9).mean() > min_ink, "almost nothing drawn"


def voice_like(seconds: float = 1.5, f0: float = 180.0) -> np.ndarray:
    """Harmonic tone with vibrato, a pause and a little noise: something for every picture to show."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 8))
    y *= (t % 0.75) < 0.55
    y += 0.01 * np.random.default_rng(0).standard_normal(len(t))
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def voice_wav(tmp_path_factory) -> Path:
    import soundfile as sf

    path = tmp_path_factory.mktemp("audio") / "voice.wav"
    sf.write(path, voice_like(), SR)
    return path


@pytest.fixture(scope="module")
def real_file() -> Path:
    from emovox.corpora import shared_dir

    files = sorted((shared_dir() / "corpora" / "ravdess").glob("Actor_01/*.flac"))
    if not files:
        pytest.skip("shared RAVDESS corpus not available")
    return files[40]


@pytest.mark.parametrize("kind", AUDIO_KINDS)
def test_audio_kind_renders_synthetic(kind, voice_wav):
    fn = plots.overview if kind == "overview" else plots.AUDIO_PLOTS[kind]
    fig = fn(voice_wav)
    assert_drawn(fig, min_ink=0.3)
    titles = [ax.get_title(loc="left") for ax in fig.axes] + [
        fig._suptitle.get_text() if fig._suptitle else ""
    ]
    assert any("voice.wav" in t for t in titles)


def test_audio_kinds_render_real_file(real_file):
    fig = plots.overview(real_file)
    assert_drawn(fig, 20000, min_ink=0.3)
    assert real_file.name in fig._suptitle.get_text()
    assert len([ax for ax in fig.axes if ax.get_visible()]) >= 6 + 4  # six panels, four colour bars
    assert_drawn(plots.pitch_contour(real_file))


def test_array_input_and_axes_units():
    fig = plots.spectrogram(voice_like(), sr=SR)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (s)" and "Hz" in ax.get_ylabel()
    assert ax.get_xlim()[1] == pytest.approx(1.5, abs=0.02)
    chroma_ax = plots.chromagram(voice_like(), sr=SR).axes[0]
    assert [t.get_text() for t in chroma_ax.get_yticklabels()] == list(plots.PITCH_CLASSES)


@pytest.mark.parametrize("freq", [300.0, 1000.0, 3000.0])
def test_mel_spectrogram_of_tone_peaks_in_its_band(freq):
    from emovox.features.spectral import hz_to_mel

    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    img = plots.mel_data(y, SR, n_mels=64)
    peak = int(np.argmax(img.values.mean(axis=1)))
    step = np.diff(hz_to_mel(img.rows)).mean()
    assert abs(hz_to_mel(img.rows[peak]) - hz_to_mel(freq)) <= step  # within one band of the tone
    # the figure draws exactly this array
    drawn = plots.mel_spectrogram(y, sr=SR, n_mels=64).axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(drawn), img.values)


@pytest.mark.parametrize("normalize", [True, False])
def test_confusion_matrix_numbers_match(normalize):
    m = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    fig = plots.confusion_matrix(m, ["angry", "happy", "sad"], normalize=normalize)
    ax = fig.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert len(cells) == m.size
    for (i, j), text in cells.items():
        if normalize:
            frac, count = text.split("\n")
            assert int(count.strip("()")) == m[i, j]
            assert float(frac) == pytest.approx(m[i, j] / m[i].sum(), abs=0.005)
        else:
            assert int(text) == m[i, j]
    assert_drawn(fig)


def test_recordings_without_an_answer_are_a_column_of_their_own(tmp_path):
    """A recording found to hold no speech counts as a miss in the recall; the confusion matrix left it out,
    so its rows did not sum to the support and the plot's diagonal overstated the recall (1.00 against
    98.8 %)."""
    import argparse
    import json

    from emovox.cli.plot import _figure
    from emovox.evaluation import scores

    s = scores(["a", "a", "a", "b", "b"], ["a", "no speech", "a", "b", "a"], ["a", "b", "c"])
    assert s["confusion"] == [[2, 0, 0], [1, 1, 0], [0, 0, 0]] and s["no_answer"] == [1, 0, 0]
    assert s["per_class"]["a"]["recall"] == pytest.approx(2 / 3)
    assert "no_answer" not in scores(["a", "b"], ["a", "b"], ["a", "b"])
    ev = {"protocol": "loso", "speaker_independent": True, "ua": 0.58, "labels": ["a", "b", "c"], "pooled": s}
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    args = argparse.Namespace(kind="confusion", file=str(tmp_path / "ev.json"), title=None, counts=False)
    ax = _figure(args).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "no speech"]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert cells[(0, 0)] == "0.67\n(2)" and cells[(0, 3)] == "0.33\n(1)"
    args.kind = "recall"
    bars = _figure(args).axes[0].patches
    # percent; "c", which the test data lacks, has no bar (a 0 % bar lowered the picture's UA)
    assert sorted(round(b.get_height(), 1) for b in bars) == [50.0, 66.7]
    # the library draws the same from the JSON, and from its bare confusion matrix, as the command does
    for data in (ev, {"labels": ev["labels"], "confusion": s["confusion"], "no_answer": s["no_answer"]}):
        labels = [t.get_text() for t in plots.per_class_recall(data).axes[0].get_xticklabels()]
        heights = [round(b.get_height(), 1) for b in plots.per_class_recall(data).axes[0].patches]
        assert (labels, heights) == (["a", "b"], [66.7, 50.0])


def test_corpus_and_model_plots():
    rng = np.random.default_rng(0)
    emotions = ["angry", "happy", "neutral", "sad"]
    df = pd.DataFrame(
        {
            "emotion": rng.choice(emotions, 200),
            "speaker": rng.choice([f"c:{i:02d}" for i in range(8)], 200),
            "corpus": "c",
            "gender": rng.choice(["female", "male"], 200),
        }
    )
    for by in (None, "corpus", "gender", "speaker"):
        assert_drawn(plots.emotion_counts(df, by=by))
    fig = plots.emotion_counts(df, by="speaker")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [f"{i:02d}" for i in range(8)]
    assert_drawn(plots.per_class_recall({"angry": 0.8, "happy": 0.4, "neutral": 0.6, "sad": 0.5}))
    history = {
        "train_loss": [1.2, 0.8, 0.6],
        "val_loss": [1.3, 1.0, 1.1],
        "train_acc": [0.3, 0.6, 0.8],
        "val_acc": [0.3, 0.5, 0.45],
    }
    fig = plots.training_curves(history)
    assert len(fig.axes) == 2 and {ln.get_label() for ln in fig.axes[0].lines} >= {"train_loss", "val_loss"}
    assert_drawn(fig)
    segments = [
        {
            "start": float(i),
            "end": i + 2.0,
            "label": emotions[i // 3 % 4],
            "confidence": 0.7,
            "probabilities": {e: (0.7 if e == emotions[i // 3 % 4] else 0.1) for e in emotions},
        }
        for i in range(12)
    ]
    fig = plots.emotion_timeline(segments)
    assert {ln.get_label() for ln in fig.axes[1].lines} == set(emotions)
    assert_drawn(fig)
    assert render(plots.emotion_timeline([]))[0] > 2000
    # objects with ``emotion`` instead of ``label`` (emovox.live segments), gaps and an unclassified one
    from types import SimpleNamespace

    objs = [
        SimpleNamespace(start=0.0, end=1.5, emotion="sad", confidence=0.9, probabilities={"sad": 0.9}),
        SimpleNamespace(start=3.0, end=4.0, emotion=None, confidence=None, probabilities=None),
    ]
    fig = plots.emotion_timeline(objs, duration=5.0)
    assert [t.get_text() for t in fig.axes[0].texts] == ["sad"]
    assert fig.axes[1].get_xlim() == (0.0, 5.0)
    # a pause of more than GAP_SECONDS between speech segments breaks the curves; a short one does not
    near = [
        SimpleNamespace(start=t, end=t + 1.0, emotion="sad", probabilities={"sad": 0.8}) for t in (0, 2, 12)
    ]
    (line,) = plots.emotion_timeline(near).axes[1].lines
    assert np.isnan(line.get_ydata()).tolist() == [False, False, True, False]
    # each segment's span as it is: two that do not overlap were cut at the midpoint between their centres
    # (an angry 0-9 s drawn to 7.25 s); two that overlap are cut once, inside their overlap

    def spans(segs):
        patches = plots.emotion_timeline(segs).axes[0].patches
        return [(round(r.get_x(), 3), round(r.get_x() + r.get_width(), 3)) for r in patches]

    apart = [
        {"start": 0.0, "end": 9.0, "label": "angry", "confidence": 0.8},
        {"start": 9.5, "end": 10.5, "label": "sad", "confidence": 0.8},
    ]
    assert spans(apart) == [(0.0, 9.0), (9.5, 10.5)]
    windows = [
        {"start": 0.0, "end": 10.0, "label": "angry", "confidence": 0.8},
        {"start": 9.0, "end": 19.0, "label": "sad", "confidence": 0.8},
        {"start": 18.5, "end": 20.0, "label": "sad", "confidence": 0.8},
    ]
    assert spans(windows) == [(0.0, 9.5), (9.5, 18.5), (18.5, 20.0)]
    assert_drawn(plots.mel_scale())


def test_save_writes_png(tmp_path):
    out = plots.save(plots.waveform(voice_like(), sr=SR), tmp_path / "sub" / "w.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_curves_mark_the_epoch_a_deep_model_keeps():
    """A deep model keeps the epoch of the best validation UA; the figure marked the lowest validation loss
    (epoch 56 of a run whose model was epoch 64), and a ``history.json`` re-plotted drew ``lr`` and
    ``seconds`` as accuracy curves."""
    history = {
        "loss": [1.2, 0.9, 0.7, 0.6],
        "val_loss": [1.3, 1.0, 1.1, 1.0],
        "accuracy": [0.3, 0.5, 0.6, 0.7],
        "val_accuracy": [0.3, 0.4, 0.5, 0.5],
        "val_ua": [0.3, 0.4, 0.5, 0.5],  # epochs 3 and 4 tie: the lower validation loss (4) is kept
        "lr": [1e-3, 1e-3, 5e-4, 5e-4],
        "seconds": [2.0, 2.1, 2.0, 2.2],
    }
    fig = plots.training_curves(history)
    labels = {ln.get_label() for ax in fig.axes for ln in ax.lines}
    assert "best val_ua (epoch 4)" in labels and not labels & {"lr", "seconds"}, labels
    del history["val_ua"]
    labels = {ln.get_label() for ax in plots.training_curves(history).axes for ln in ax.lines}
    assert "best val_loss (epoch 2)" in labels, labels


def test_training_curves_of_a_diverged_run_still_draw():
    # all-NaN validation loss: no best epoch to mark, but the figure is still made (and saved with the model)
    nan = float("nan")
    fig = plots.training_curves({"train_loss": [1.0, nan], "val_loss": [nan, nan], "train_acc": [0.5, 0.4]})
    assert len(fig.axes) == 2 and not any("best" in ln.get_label() for ln in fig.axes[0].lines)
    render(fig)


def test_package_layout_keeps_names_and_imports_matplotlib_lazily():
    code = (
        "import sys; from emovox import plots; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported by emovox.plots'; "
        "from emovox.plots import AUDIO_PLOTS, NO_SPEECH_COLOR, AudioInput, FeatureImage, reliability_diagram; "
        "assert set(plots.__all__) <= set(dir(plots)); "
        "plt = plots.pyplot(); assert plt is sys.modules['matplotlib.pyplot']"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_bad_audio_raises_audio_error(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00not really audio at all" * 10)
    with pytest.raises(AudioError, match="broken.wav"):
        plots.overview(bad)


def _cli(*args, cwd: Path):
    return subprocess.run(
        [sys.executable, "-m", "emovox.cli", "plot", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_overview_and_corrupt_file(tmp_path, voice_wav):
    r = _cli("overview", voice_wav, "-o", tmp_path / "x.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "x.png").stat().st_size > 20000
    bad = tmp_path / "corrupt.flac"
    bad.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    r = _cli("overview", bad, "-o", tmp_path / "y.png", cwd=tmp_path)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "corrupt.flac" in lines[0], r.stderr
    assert not (tmp_path / "y.png").exists()


def test_cli_data_kinds(tmp_path):
    import json

    ev = {"labels": ["a", "b"], "pooled": {"confusion": [[3, 1], [0, 4]]}}
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    (tmp_path / "h.json").write_text(json.dumps({"train_loss": [1, 0.5], "val_loss": [1.1, 0.9]}))
    for kind, src in (("confusion", "ev.json"), ("recall", "ev.json"), ("curves", "h.json")):
        r = _cli(kind, tmp_path / src, "-o", tmp_path / f"{kind}.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / f"{kind}.png").stat().st_size > 5000
    r = _cli("confusion", tmp_path / "h.json", cwd=tmp_path)
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1


def test_save_refuses_a_folder_and_names_the_file_it_writes(tmp_path):
    from emovox import plots
    from emovox.errors import EmovoxError

    fig = plots.base.new_figure((2, 2))
    with pytest.raises(EmovoxError, match="is a folder; name the PNG file"):
        plots.save(fig, tmp_path)
    assert plots.save(fig, tmp_path / "pic") == tmp_path / "pic.png" and (tmp_path / "pic.png").is_file()


def test_figures_of_an_evaluation_name_its_protocol_and_which_figure_they_show(tmp_path):
    """A figure shown alone says its protocol, when its speakers were heard in training, and that its
    headline is the mean over folds (the CLI's) while the bars and cells are pooled."""
    import argparse
    import json

    from emovox.cli.plot import _figure

    ev = {
        "protocol": "random(0.25, seed 7)",
        "speaker_independent": False,
        "ua": 0.7,
        "ece": 0.1,
        "labels": ["a", "b"],
        "pooled": {"confusion": [[3, 1], [0, 4]]},
    }
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    for kind, head in (("confusion", "UA 70.0 % mean over folds"), ("recall", "UA 70.0 % mean over folds")):
        args = argparse.Namespace(kind=kind, file=str(tmp_path / "ev.json"), title=None, counts=False)
        title = _figure(args).axes[0].get_title()
        assert "random(0.25, seed 7) (NOT speaker-independent)" in title and head in title, title


def test_reliability_of_an_evaluation_without_bins_names_the_file(tmp_path, capsys):
    """`emovox plot reliability tune.json` said the file came from an older emovox, and did not name it."""
    import json

    from emovox.cli import main

    ev = tmp_path / "tune.json"
    ev.write_text(
        json.dumps({"protocol": "loso", "labels": ["a", "b"], "pooled": {"confusion": [[1, 0], [0, 1]]}})
    )
    assert main(["plot", "reliability", str(ev), "-o", str(tmp_path / "r.png")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"emovox: error: {ev}: the evaluation has no calibration bins") and "tune" in line


def test_evaluate_and_plot_title_a_figure_alike(tmp_path):
    """`evaluate --confusion` headed its figure "loco: UA ..." over pooled cells while `emovox plot confusion`
    of the same JSON said "mean over folds; cells pooled"; the reliability diagram said "curves pooled" over
    one curve per corpus. One function titles both."""
    import argparse
    import json

    from emovox.cli import main
    from emovox.cli.plot import _figure
    from emovox.evaluation import Evaluation, FoldProba, add_calibration

    rng = np.random.default_rng(0)
    labels = ["angry", "sad"]
    folds, probas = [], []
    for c in ("a", "b"):
        y = list(rng.choice(labels, 20))
        p = rng.dirichlet([1, 1], 20)
        folds.append(
            {"fold": c, "ua": 0.5, "accuracy": 0.5, "macro_f1": 0.5, "n": 20, "confusion": [[5, 5], [5, 5]]}
        )
        probas.append(FoldProba(c, [f"{c}{i}.wav" for i in range(20)], y, p))
    pooled = {
        "ua": 0.5,
        "accuracy": 0.5,
        "macro_f1": 0.5,
        "n": 40,
        "confusion": [[10, 10], [10, 10]],
        "per_class": {},
    }
    ev = Evaluation("loco", True, labels, folds, pooled, "", cross_corpus=True)
    ev.fold_proba = probas
    add_calibration(ev)
    path = tmp_path / "ev.json"
    ev.save_json(path)
    for kind, figure in (("confusion", ev.confusion_figure()), ("reliability", ev.reliability_figure())):
        title = figure.axes[0].get_title()
        assert "mean over folds" in title and title.startswith("loco: ")
        out = tmp_path / f"{kind}.png"
        assert main(["plot", kind, str(path), "-o", str(out)]) == 0
        assert out.stat().st_size > 1000
        args = argparse.Namespace(kind=kind, file=str(path), title=None, counts=False)
        assert _figure(args).axes[0].get_title() == f"ev.json, {title}"  # the same words, after the file
    assert "one curve per held-out corpus" in ev.reliability_figure().axes[0].get_title()
    assert "cells pooled" in ev.confusion_figure().axes[0].get_title()
    assert json.loads(path.read_text())["protocol"] == "loco"


def test_timeline_marks_uncertain_segments():
    """The table, the JSON and the web page say "uncertain"; the picture showed such a segment as any other."""
    from emovox.plots.timeline import emotion_timeline

    p = {"angry": 0.4, "sad": 0.35, "neutral": 0.25}
    segs = [
        {
            "start": 0.0,
            "end": 4.0,
            "emotion": "angry",
            "confidence": 0.9,
            "probabilities": {"angry": 0.9, "sad": 0.1},
        },
        {
            "start": 5.0,
            "end": 9.0,
            "emotion": "angry",
            "confidence": 0.4,
            "uncertain": True,
            "probabilities": p,
        },
    ]
    fig = emotion_timeline(segs)
    top = fig.axes[0]
    assert [p.get_hatch() for p in top.patches].count("..") == 1
    assert [t.get_text() for t in top.texts] == ["angry", "angry?"]
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["uncertain"]
    assert "darker" in top.get_ylabel()  # the shade is explained: a span's confidence
    sure = emotion_timeline(segs[:1]).axes[0]
    assert sure.get_legend() is None and "angry?" not in [t.get_text() for t in sure.texts]


def test_training_curves_of_many_series_and_of_uneven_lengths():
    """Found documenting it: a panel of more than eight series ran out of colours (IndexError), and a shorter
    val_loss hid the later epochs from the best-epoch mark."""
    from emovox.plots.evaluation import training_curves

    assert len(training_curves({f"m{i}": [0.1, 0.2] for i in range(9)}).axes[0].get_lines()) == 9
    fig = training_curves({"val_loss": [0.5, 0.1], "val_ua": [0.2, 0.3, 0.9]})
    assert [ln.get_label() for ln in fig.axes[0].get_lines() if "best" in ln.get_label()] == [
        "best val_ua (epoch 3)"
    ]


def test_a_timeline_of_many_segments_draws_the_ones_between_long_pauses():
    """Past 40 segments the probability lines have no markers, and a segment with a long pause on each side
    (a point alone between two breaks) was drawn as nothing: 15 of 78 on a 10-minute recording."""

    from emovox.plots.timeline import emotion_timeline

    segs = [  # 45 segments in runs of three; one alone at 0-2 s, 10 s from the next
        {
            "start": t,
            "end": t + 2.0,
            "emotion": "angry",
            "confidence": 0.8,
            "probabilities": {"angry": 0.8, "sad": 0.2},
        }
        for t in [0.0, *[12.0 + 3 * i + 8 * (i // 3) for i in range(44)]]
    ]
    bottom = emotion_timeline(segs).axes[1]
    points = {  # what is drawn as a point: the markers of lines drawn without a line
        (line.get_label(), round(float(x), 3))
        for line in bottom.lines
        if line.get_marker() not in (None, "None", "") and line.get_linestyle() == "None"
        for x in line.get_xdata()
    }
    assert len([x for _, x in points if x == 1.0]) == 2  # the first segment's centre, for each emotion
    assert all(x == 1.0 for _, x in points)  # the segments in runs are lines already


def test_plot_past_the_end_of_a_file_says_how_long_it_is(tmp_path, capsys):
    """``plot mel a.wav --start 5`` on a 1 s file said "less than 0.1 s of audio left" and not why."""
    import soundfile as sf

    from emovox.cli import main

    wav = tmp_path / "a.wav"
    sf.write(wav, (0.1 * np.sin(np.arange(16000) / 5)).astype(np.float32), 16000)
    assert main(["plot", "mel", str(wav), "--start", "5", "-o", str(tmp_path / "m.png")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"emovox: error: {wav}: less than 0.1 s of audio left after --start/--duration (the file holds 1.00 s)"
    )
    assert main(["plot", "mel", str(wav), "--start", "0.5", "-o", str(tmp_path / "m.png")]) == 0


def test_plot_reads_a_long_file_no_further_than_it_draws(tmp_path, capsys):
    """A review (stop 42): `emovox plot` decoded the whole file before cutting --start/--duration out of it:
    a header claiming 37 hours took 5.9 GB. It now reads chunk by chunk up to what it draws (10 minutes
    without --duration, with a note)."""
    import tracemalloc

    import soundfile as sf

    from emovox.cli import main

    long = tmp_path / "long.wav"  # 50 minutes: 192 MB as float32 samples
    sf.write(long, np.zeros(50 * 60 * 16000, np.int16), 16000, subtype="PCM_16")
    tracemalloc.start()
    try:
        assert main(["plot", "waveform", str(long), "-o", str(tmp_path / "w.png")]) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 120e6, f"{peak / 1e6:.0f} MB"
    err = capsys.readouterr().err
    assert "drawing 600 s from 0 s of a longer file" in err
    assert (
        main(
            [
                "plot",
                "mel",
                str(long),
                "--start",
                "2999.5",
                "--duration",
                "0.4",
                "-o",
                str(tmp_path / "m.png"),
            ]
        )
        == 0
    )
    assert main(["plot", "mel", str(long), "--start", "3000", "-o", str(tmp_path / "x.png")]) == 2
    assert "(the file holds 3000.00 s)" in capsys.readouterr().err
    # a window too short to draw, in a file not read to its end: its length unknown, said without it
    assert main(["plot", "mel", str(long), "--duration", "0.05", "-o", str(tmp_path / "y.png")]) == 2
    assert capsys.readouterr().err.strip().endswith("less than 0.1 s of audio left after --start/--duration")
    # exactly the 10 minutes drawn: no note of a longer file (a review, stop 42); a short file is short
    ten = tmp_path / "ten.wav"
    sf.write(ten, np.zeros(600 * 16000, np.int16), 16000, subtype="PCM_16")
    assert main(["plot", "waveform", str(ten), "-o", str(tmp_path / "t.png")]) == 0
    assert "longer file" not in capsys.readouterr().err
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(800, np.float32), 16000)
    assert main(["plot", "mel", str(short), "-o", str(tmp_path / "s.png")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"emovox: error: {short}: too short to draw (0.050 s; at least 0.1 s)"
    )


def test_a_figure_that_cannot_be_written_is_named_and_nothing_is_left(tmp_path):
    """A review (stop 42): `plot -o` onto a full disk said only "No space left on device". Writing beyond a
    file-size limit fails the same way, without a disk to fill."""
    import soundfile as sf

    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(16000, np.float32), 16000)
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000)); from emovox.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "figs" / "w.png"
    proc = subprocess.run(
        [sys.executable, "-c", code, "plot", "waveform", str(clip), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == f"emovox: error: {out}: File too large", proc.stderr
    assert list((tmp_path / "figs").iterdir()) == []  # no half-written figure, no temporary file
