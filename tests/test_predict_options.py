"""``predict --top-k`` in every output (plain, ``--json``, ``--timeline`` table, JSON and CSV) and
``predict``'s quiet mode (no progress, no summary line; errors still shown)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import soundfile as sf

from emovox.cli import build_parser, main

from .conftest import RAVDESS, need

SR = 16000


@pytest.fixture(scope="module")
def utterances() -> list[str]:
    return [str(p) for p in sorted(need(RAVDESS).glob("Actor_05/*"))[::15][:3]]


@pytest.fixture(scope="module")
def recording(utterances, tmp_path_factory):
    """Three real utterances joined by 1.2 s pauses, 16 kHz WAV."""
    from emovox import load_audio

    gap = np.zeros(int(1.2 * SR), dtype=np.float32)
    parts = [gap]
    for f in utterances:
        parts += [load_audio(f, SR), gap]
    path = tmp_path_factory.mktemp("rec") / "rec.wav"
    sf.write(path, np.concatenate(parts), SR)
    return path


def _run(argv, quiet=False):
    args = build_parser().parse_args([*argv, "-q"] if quiet else argv)
    assert args.quiet is quiet
    return args.func(args)


def test_top_k_trims_json_probabilities(utterances, capsys):
    assert main(["predict", *utterances, "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert main(["predict", *utterances, "--json", "--top-k", "2"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert len(top) == len(full) == 3
    for a, b in zip(full, top, strict=True):
        assert len(a["probabilities"]) > 2 and len(b["probabilities"]) == 2
        best = sorted(a["probabilities"].items(), key=lambda kv: -kv[1])[:2]
        assert list(b["probabilities"].items()) == best  # the two most probable, most probable first
        assert b["emotion"] == a["emotion"] == best[0][0] and b["confidence"] == a["confidence"]


def test_top_k_in_the_timeline_outputs(recording, tmp_path, capsys):
    from emovox.live import read_timeline

    assert main(["predict", str(recording), "--timeline"]) == 0
    full = capsys.readouterr().out.strip().splitlines()
    labels = full[0].split()[4:]
    assert len(labels) >= 4
    assert main(["predict", str(recording), "--timeline", "--top-k", "2"]) == 0
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0] == full[0] and len(table) == len(full) >= 3
    for row, ref in zip(table[1:], full[1:], strict=True):
        cells, ref_cells = row.split()[4 : 4 + len(labels)], ref.split()[4 : 4 + len(labels)]
        assert sum(c != "-" for c in cells) == 2 and cells.count("-") == len(labels) - 2
        kept = sorted((c for c in cells if c != "-"), key=float)
        assert kept == sorted(sorted(ref_cells, key=float, reverse=True)[:2], key=float)  # the top two
    # --json and -o (JSON, CSV): the same two per segment
    out_json, out_csv = tmp_path / "t.json", tmp_path / "t.csv"
    assert main(["predict", str(recording), "--timeline", "--top-k", "2", "--json", "-o", str(out_json)]) == 0
    printed = json.loads(capsys.readouterr().out)[0]["segments"]
    assert printed and all(len(s["probabilities"]) == 2 for s in printed)
    assert json.loads(out_json.read_text()) == printed
    assert main(["predict", str(recording), "--timeline", "--top-k", "1", "-o", str(out_csv)]) == 0
    capsys.readouterr()
    with open(out_csv) as fh:
        recs = list(csv.DictReader(fh))
    for r in recs:
        filled = [k for k, v in r.items() if k.startswith("p_") and v != ""]
        assert filled == [f"p_{r['emotion']}"] and float(r[filled[0]]) == float(r["confidence"])
    assert [s["probabilities"] for s in read_timeline(out_csv)] == [
        {r["emotion"]: float(r["confidence"])} for r in recs
    ]
    assert main(["plot", "timeline", str(out_csv), "-o", str(tmp_path / "t.png")]) == 0


def test_quiet_keeps_errors_and_drops_the_summary(utterances, recording, tmp_path, capsys):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not audio" * 20)
    argv = ["predict", utterances[0], str(bad)]
    assert _run(argv) == 1
    loud = capsys.readouterr().err
    assert "broken.wav" in loud and "1 of 2 inputs failed" in loud
    assert _run(argv, quiet=True) == 1
    captured = capsys.readouterr()
    assert "broken.wav" in captured.err and "inputs failed" not in captured.err
    assert utterances[0].rsplit("/", 1)[-1] in captured.out
    # --timeline: the table still prints; "saved" and summary lines do not, errors do
    out = tmp_path / "q.csv"
    assert _run(["predict", str(recording), str(bad), "--timeline", "-o", str(out)], quiet=True) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "broken.wav" in err[0], err
    assert out.is_file() and captured.out.splitlines()[1].split()[0] == "start"


def test_output_file_without_timeline(utterances, tmp_path, capsys):
    """``predict -o`` writes every input's result (it used to be refused without --timeline)."""
    from .signals import hum

    buzz = tmp_path / "hum.wav"
    sf.write(buzz, hum(2.0), SR)
    inputs = [*utterances, str(buzz), str(tmp_path / "missing.wav")]
    assert main(["predict", *inputs, "--json"]) == 1
    printed = json.loads(capsys.readouterr().out)
    out_json = tmp_path / "res.json"
    assert main(["predict", *inputs, "-o", str(out_json)]) == 1
    saved = json.loads(out_json.read_text())
    assert saved == printed and len(saved) == 5
    out_csv = tmp_path / "res.csv"
    assert main(["predict", *inputs, "-o", str(out_csv)]) == 1
    rows = list(csv.DictReader(open(out_csv)))
    assert [r["source"] for r in rows] == [r["source"] for r in saved]
    speech = [r for r in rows if r["speech"] == "True"]
    assert len(speech) == 3 and all(
        abs(sum(float(r[k]) for k in r if k.startswith("p_")) - 1) < 1e-6 for r in speech
    )
    assert rows[3]["speech"] == "False" and rows[3]["reason"] and not rows[3]["emotion"]
    assert rows[4]["error"] and "missing.wav" in rows[4]["error"]
    assert main(["predict", *utterances, "-o", str(tmp_path / "res.txt")]) == 2


def test_output_file_with_dask_is_refused_in_one_line(utterances, capsys):
    assert main(["predict", *utterances, "--engine", "dask", "-o", "x.csv"]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--output-dir" in lines[0]


def test_audio_piped_in_is_read_from_standard_input(utterances, recording, tmp_path):
    """``... | emovox predict -``: through a real pipe, as a WAV writer on a pipe leaves it (sizes unknown),
    named ``<stdin>`` everywhere; junk and nothing are one line each, beside a good file."""
    import struct
    import subprocess
    import sys

    def predict(data: bytes, *argv: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "emovox.cli", "predict", *argv]
        return subprocess.run(cmd, input=data, capture_output=True, timeout=120, cwd=tmp_path)

    flac = open(utterances[0], "rb").read()
    (ref,) = json.loads(predict(b"", utterances[0], "--json").stdout)
    piped = predict(flac, "-", utterances[1], "--json")
    assert piped.returncode == 0, piped.stderr
    first, second = json.loads(piped.stdout)
    assert first["source"] == "<stdin>" and second["source"] == utterances[1]
    assert first["emotion"] == ref["emotion"] and first["confidence"] == pytest.approx(ref["confidence"])
    wav = bytearray(
        open(recording, "rb").read()
    )  # RIFF and data sizes 0xFFFFFFFF, as ffmpeg writes to a pipe
    wav[4:8] = wav[wav.find(b"data") + 4 : wav.find(b"data") + 8] = struct.pack("<I", 0xFFFFFFFF)
    timeline = predict(bytes(wav), "-", "--timeline", "--json")
    assert timeline.returncode == 0, timeline.stderr
    (res,) = json.loads(timeline.stdout)
    assert res["source"] == "<stdin>" and len(res["segments"]) >= 3
    # the library's own log lines name it so too (int16 values as floats: "samples peak at 3.277e+04")
    loud = io.BytesIO()
    sf.write(
        loud,
        sf.read(utterances[0], dtype="int16")[0].astype(np.float32),
        16000,
        format="WAV",
        subtype="FLOAT",
    )
    scaled = predict(loud.getvalue(), "-")
    assert scaled.returncode == 0 and b"<stdin>: samples peak at" in scaled.stderr, scaled.stderr
    assert b"emovox-stdin" not in scaled.stderr
    for data, why in ((b"junk", "not audio"), (b"", "empty file")):
        bad = predict(data, "-", utterances[1])
        assert bad.returncode == 1 and b"Traceback" not in bad.stderr
        assert bad.stderr.decode().splitlines()[0].startswith(f"emovox: error: <stdin>: {why}")
        assert bad.stdout.decode().startswith(utterances[1])


def test_several_files_timeline_tsv_has_tabs_and_reads_back(utterances, recording, tmp_path, capsys):
    """``-o t.tsv`` of several files was comma-separated, and ``plot timeline`` refused it."""
    out = tmp_path / "t.tsv"
    assert main(["predict", str(recording), utterances[0], "--timeline", "-o", str(out), "-q"]) == 0
    header = out.read_text().splitlines()[0]
    assert header.split("\t")[:3] == ["source", "start", "end"] and "," not in header
    png = ["-o", str(tmp_path / "t.png")]
    assert main(["plot", "timeline", str(out), "--source", str(recording), *png]) == 0
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_a_full_disk_is_one_line(utterances, tmp_path, capsys):
    import os

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    (tmp_path / "full.csv").symlink_to("/dev/full")
    assert main(["predict", utterances[0], "-o", str(tmp_path / "full.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"emovox: error: {tmp_path / 'full.csv'}: No space left on device"]


def test_piped_input_that_is_not_audio_is_refused_from_its_first_mebibytes(utterances, tmp_path):
    """``/dev/urandom`` piped in was spooled to 4 GiB on disk before the decoder refused it. The first
    8 MiB now tell (ffmpeg finds MPEG-TS or NUT there, whose heads no sniffer knows): the same refusal, at
    once, and the other inputs are scored. A stream ffmpeg knows goes on being read to its end."""
    import shutil
    import subprocess
    import sys

    from emovox.cli.common import STDIN_PROBE_BYTES

    def predict(data: bytes, *argv: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "emovox.cli", "predict", *argv]
        return subprocess.run(cmd, input=data, capture_output=True, timeout=300, cwd=tmp_path)

    import threading

    noise = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    cmd = [sys.executable, "-m", "emovox.cli", "predict", "-", utterances[1]]
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=tmp_path)
    sent = [0]

    def endless() -> None:  # as /dev/urandom: never ends, taken until the reader stops
        try:
            while sent[0] < 64 * STDIN_PROBE_BYTES:
                proc.stdin.write(noise)
                sent[0] += len(noise)
            proc.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    proc.wait(timeout=300)
    writer.join(10)
    out, err = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
    assert proc.returncode == 1 and "Traceback" not in err
    assert err.splitlines()[0].startswith("emovox: error: <stdin>: not audio"), err
    assert out.startswith(utterances[1])
    assert sent[0] <= STDIN_PROBE_BYTES + (2 << 20)  # (what the pipe held when it closed)
    if shutil.which("ffmpeg") is None:
        pytest.skip("no ffmpeg")
    # a NUT stream (no sniffer knows its head) longer than the probe: read and scored whole
    y, sr = sf.read(utterances[0], dtype="float32")
    long = np.tile(y, int(np.ceil(40 * 48000 / y.size)))[: 40 * 48000]  # 40 s at 48 kHz (sped up: fine)
    wav = tmp_path / "long.wav"
    sf.write(wav, np.stack([long, long], axis=1), 48000, subtype="FLOAT")
    nut = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "pcm_f32le", "-f", "nut", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert nut[:4] != b"RIFF" and len(nut) > STDIN_PROBE_BYTES
    # and QuickTime that starts with another atom than ftyp, its index at the end: known by its head
    mov = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "pcm_f32le", "-f", "mov", str(tmp_path / "x.mov")],
        check=True,
    )
    mov = bytearray((tmp_path / "x.mov").read_bytes())
    assert mov[4:8] == b"ftyp" and mov.rfind(b"moov") > STDIN_PROBE_BYTES
    mov[4:8] = b"free"
    for stream in (nut, bytes(mov)):
        piped = predict(stream, "-", "--timeline", "--json")
        assert piped.returncode == 0, piped.stderr
        (res,) = json.loads(piped.stdout)
        assert res["segments"] and res["segments"][-1]["end"] > 0.9 * long.size / 48000


def test_predict_json_followed_by_a_file_name_says_what_json_does(tmp_path, capsys):
    """`evaluate --json FILE` saves; `predict --json` prints: `predict a.wav --json out.json` took out.json
    for an input and failed on it as a missing audio file. It now says what --json does, before any work."""
    from emovox.cli import main

    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(16000, np.float32), 16000)
    out = tmp_path / "out.json"
    for _ in range(2):  # a missing file, then an earlier output: neither is an input
        assert main(["predict", str(wav), "--json", str(out)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"emovox: error: --json {out}: --json prints JSON; to save it, -o {out}"
        ]
        out.write_text("[]\n")
    assert out.read_text() == "[]\n"
    # `-` twice: standard input is one recording (it was predicted twice, from one copy)
    assert main(["predict", "-", str(wav), "-"]) == 2
    assert capsys.readouterr().err.strip() == (
        "emovox: error: -: standard input is one recording, read once; give - once"
    )


def test_evaluate_names_speaker_adaptation_as_predict_does():
    parse = build_parser().parse_args
    assert parse(["evaluate", "data.csv", "--same-speaker"]).speaker_adapt is True
    assert parse(["evaluate", "data.csv", "--speaker-adapt"]).speaker_adapt is True  # the former name
    assert parse(["evaluate", "data.csv"]).speaker_adapt is False


def test_standard_output_that_fails_is_named_and_a_reader_that_stops_early_loses_no_file(
    utterances, tmp_path
):
    """A full disk under stdout said only "No space left on device"; `| head` made every status 0 (a bad
    file's 1 included) and lost the -o file asked for (a researcher's and a hardening review, stop 39)."""
    import shlex
    import subprocess
    import sys

    import pandas as pd

    cmd = [sys.executable, "-m", "emovox.cli", "predict", *(utterances * 5)]
    full = subprocess.run([*cmd, "-q"], stdout=open("/dev/full", "w"), stderr=subprocess.PIPE, text=True)
    assert full.returncode == 1 and full.stderr == "emovox: error: standard output: No space left on device\n"

    def head(*extra: str) -> tuple[int, str, str]:  # read one line, then close the pipe, as `head -1`
        proc = subprocess.Popen([*cmd, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        return proc.wait(timeout=300), first, err

    rc, first, err = head("-q")  # nothing asked to be saved: cut short, as a command SIGPIPE kills
    assert rc == 141 and first.startswith(utterances[0]) and err == ""
    out = tmp_path / "all.csv"
    rc, first, err = head("-q", "-o", str(out))  # the file is written whole, with the command's own status
    assert rc == 0 and err == "" and first.startswith(utterances[0])
    assert len(pd.read_csv(out)) == 15
    # stderr the same closed pipe (2>&1 | head): its next line (a bad file's) must not cut the run short
    proc = subprocess.Popen(
        [*cmd, str(tmp_path / "missing.wav"), "-q", "-o", str(tmp_path / "merged.csv")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=300) == 1 and first.startswith(utterances[0])  # 1: the missing file's status
    merged = pd.read_csv(tmp_path / "merged.csv")
    assert len(merged) == 16 and merged["error"].notna().sum() == 1
    # no standard output at all (>&-): print writes nothing, as before the stdout wrapper
    quoted = " ".join(shlex.quote(a) for a in [*cmd[:4], utterances[0], "-q", "-o", str(tmp_path / "c.csv")])
    closed = subprocess.run(["bash", "-c", f"{quoted} >&-"], capture_output=True, text=True, timeout=300)
    assert closed.returncode == 0 and closed.stderr == "" and len(pd.read_csv(tmp_path / "c.csv")) == 1
