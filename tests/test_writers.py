"""The library's result writers, which ``emovox predict -o``, ``predict --timeline -o`` and ``emovox features
-o`` are thin over: predictions, several files' timelines, feature tables."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from emovox.errors import EmovoxError
from emovox.inference import Prediction, write_predictions
from emovox.live import read_timeline, write_timelines
from emovox.live.timeline import FileTimeline
from emovox.tables import FeatureTable, write_table
from emovox.vad import Segment

LABELS = ["angry", "sad"]


def _preds() -> list:
    return [
        Prediction("a.wav", "angry", 0.75, {"angry": 0.75, "sad": 0.25}),
        Prediction("b.wav", None, speech=False, reason="silence"),
        Prediction("c.wav", None, error="c.wav: not an audio file"),
    ]


def test_write_predictions_keeps_every_row_in_csv_tsv_and_json(tmp_path):
    rows = list(csv.DictReader(open(write_predictions(_preds(), tmp_path / "out.csv", LABELS))))
    assert [r["source"] for r in rows] == ["a.wav", "b.wav", "c.wav"]
    assert rows[0]["p_angry"] == "0.75" and rows[0]["p_sad"] == "0.25" and rows[0]["emotion"] == "angry"
    assert rows[1]["speech"] == "False" and rows[1]["reason"] == "silence" and rows[1]["p_angry"] == ""
    assert rows[2]["error"] == "c.wav: not an audio file"
    # labels default to the order the predictions name them; dicts (to_dict) are taken as they are
    tsv = write_predictions([p.to_dict() for p in _preds()], tmp_path / "sub" / "out.tsv")
    header = tsv.read_text().splitlines()[0].split("\t")
    assert header == [
        "source", "speech", "emotion", "confidence", "uncertain", "p_angry", "p_sad", "reason", "error",
    ]  # fmt: skip
    back = json.loads(write_predictions(_preds(), tmp_path / "out.json").read_text())
    assert back == [p.to_dict() for p in _preds()]


def _segment(start: float, end: float, p_angry: float) -> Segment:
    return Segment(
        start,
        end,
        emotion="angry" if p_angry >= 0.5 else "sad",
        confidence=max(p_angry, 1 - p_angry),
        probabilities={"angry": p_angry, "sad": 1 - p_angry},
    )


def test_write_timelines_one_table_with_sources_and_failures(tmp_path):
    ok = FileTimeline("one.wav", None, [_segment(0.0, 1.5, 0.8), _segment(2.0, 3.0, 0.3)])
    bad = FileTimeline("two.wav", None, [], error="two.wav: truncated")
    rows = list(csv.DictReader(open(write_timelines([ok, bad], tmp_path / "t.csv", LABELS))))
    assert [(r["source"], r["emotion"], r["error"]) for r in rows] == [
        ("one.wav", "angry", ""),
        ("one.wav", "sad", ""),
        ("two.wav", "", "two.wav: truncated"),
    ]
    recs = json.loads(write_timelines([ok, bad], tmp_path / "t.json", LABELS).read_text())
    assert [r["source"] for r in recs] == ["one.wav", "one.wav", "two.wav"] and recs[2]["error"]
    # one file that did not fail: write_timeline's own table, read back by read_timeline
    single = read_timeline(write_timelines([ok], tmp_path / "single.csv", LABELS))
    assert [s["emotion"] for s in single] == ["angry", "sad"] and single[0]["end"] == pytest.approx(1.5)
    assert "source" not in single[0]
    with pytest.raises(EmovoxError, match=r"t\.txt: timeline output must end in \.csv, \.tsv or \.json"):
        write_timelines([ok, bad], tmp_path / "t.txt", LABELS)


def test_feature_table_frame_keeps_labels_and_tsv_is_tab_separated(tmp_path):
    manifest = pd.DataFrame(
        {"path": ["x.wav", "y.wav"], "emotion": ["sad", "angry"], "speaker": ["s1", "s2"], "other": [1, 2]}
    )
    table = FeatureTable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), manifest, ["f0", "f1"], {}, [])
    frame = table.to_frame()
    assert list(frame.columns) == ["path", "emotion", "speaker", "f0", "f1"]
    assert frame["f1"].tolist() == [2.0, 4.0] and frame["emotion"].tolist() == ["sad", "angry"]
    tsv = write_table(frame, tmp_path / "feats.tsv")
    assert tsv.read_text().splitlines()[1].split("\t") == ["x.wav", "sad", "s1", "1.0", "2.0"]
    back = pd.read_parquet(write_table(frame, tmp_path / "feats.parquet"))
    pd.testing.assert_frame_equal(back, frame)


@pytest.mark.parametrize("name", ["out.csv", "out.json", "t.csv", "feats.parquet"])
def test_a_write_that_fails_leaves_the_earlier_file_whole(tmp_path, name):
    """A full disk mid-write left a truncated table (8 KB of invalid JSON) and had emptied the earlier good
    file of that name. Here the file-size limit stops the write at 4 KB, in a child process."""
    import subprocess
    import sys

    out = tmp_path / name
    out.write_text("earlier results\n")
    code = f"""
import resource, signal, sys
import numpy as np, pandas as pd
from emovox.inference import Prediction, write_predictions
from emovox.live import write_timelines
from emovox.live.timeline import FileTimeline
from emovox.vad import Segment
from emovox.tables import write_table
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
name = {name!r}
path = {str(out)!r}
preds = [Prediction(f"clip{{i}}.wav", "angry", 0.75, {{"angry": 0.75, "sad": 0.25}}) for i in range(500)]
segs = [Segment(i, i + 1.0, emotion="sad", confidence=0.6, probabilities={{"angry": 0.4, "sad": 0.6}}) for i in range(500)]
try:
    if name.startswith("out"):
        write_predictions(preds, path)
    elif name.startswith("t"):
        write_timelines([FileTimeline("a.wav", None, segs), FileTimeline("b.wav", None, segs)], path, ["angry", "sad"])
    else:
        write_table(pd.DataFrame(np.random.default_rng(0).standard_normal((2000, 50))), path)
except OSError as exc:
    print(exc)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "File too large" in r.stdout and str(out) in r.stdout, r.stdout
    assert out.read_text() == "earlier results\n" and [p.name for p in tmp_path.iterdir()] == [name]


def test_a_linked_output_keeps_its_link(tmp_path):
    real = tmp_path / "results" / "out.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "out.csv"
    link.symlink_to(real)
    write_predictions(_preds(), link, LABELS)
    assert link.is_symlink() and real.read_text().startswith("source,speech,emotion")


def test_replacing_keeps_modes_and_writes_where_no_temporary_file_can_be_made(tmp_path):
    import os
    import stat

    out = tmp_path / "private.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    write_predictions(_preds(), out, LABELS)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text().startswith("source")
    new = write_predictions(_preds(), tmp_path / "new.csv", LABELS)  # the usual mode, not mkstemp's 0600
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~_umask()
    long = tmp_path / ("r" * 250 + ".csv")  # as long as a name may be: the temporary one must not be longer
    write_predictions(_preds(), long, LABELS)
    assert long.read_text().startswith("source")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, new.name, long.name])
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        (ro / "res.csv").write_text("old\n")
        ro.chmod(0o555)
        try:
            write_predictions(_preds(), ro / "res.csv", LABELS)  # a writable file in a read-only folder
            assert (ro / "res.csv").read_text().startswith("source")
        finally:
            ro.chmod(0o755)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
