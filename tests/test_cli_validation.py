"""Bad arguments fail at once (before any features), on one line that names the valid choices, exit status 2."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

HANG = 30.0  # seconds: a check that takes longer than this is not a check


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> str:
    """Eight one-speaker recordings of two emotions: any feature extraction would take seconds."""
    root = tmp_path_factory.mktemp("home")
    rows = ["path,emotion,speaker,corpus"]
    sr = 16000
    t = np.arange(sr) / sr
    for i in range(8):
        f = root / f"take{i}.wav"
        sf.write(str(f), (0.3 * np.sin(2 * np.pi * (150 + 20 * i) * t)).astype("float32"), sr)
        rows.append(f"{f.name},{'angry' if i % 2 else 'neutral'},me,home")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return str(root / "manifest.csv")


def _run(*argv: str, cache: Path | None = None) -> tuple[int, list[str], float]:
    """The CLI in a process of its own; ``cache``: its feature cache (which the first feature creates)."""
    import os

    env = os.environ | ({"EMOVOX_CACHE": str(cache)} if cache else {})
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", *argv], capture_output=True, text=True, timeout=120, env=env
    )
    return proc.returncode, proc.stderr.strip().splitlines(), time.perf_counter() - t0


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (
            ["evaluate", "{m}", "--model", "svmm"],
            ["--model svmm", "did you mean svm?", "whisper-active", "rescnn", "+"],
        ),
        (
            ["train", "{m}", "-o", "{tmp}/m", "--model", "whisper-activ"],
            ["did you mean whisper-active?", "cnn1d"],
        ),
        (["evaluate", "{m}", "--model", "svm+nope"], ["unknown member 'nope'", "compare-logreg"]),
        # (stop 42) a trained model given to --model: "unknown model", with nothing pointing to --trained
        (
            ["evaluate", "{m}", "--model", "classical"],
            ["(a trained model: score it as it is with --trained classical)"],
        ),
        (["tune", "{m}", "--model", "rescnn"], ["tune", "logreg"]),
        (["tune", "{m}", "--model", "whisper-robust"], ["aligns corpora", "whisper-probe"]),
        (["evaluate", "{m}", "--model", "rescnn", "--calibrate"], ["--calibrate", "feature-vector models"]),
        (
            ["evaluate", "{m}", "--protocol", "kfold:abc"],
            ["--protocol kfold:abc", "whole number", "loso", "loco"],
        ),
        (["evaluate", "{m}", "--protocol", "kfol"], ["did you mean kfold?", "random[:F]"]),
        (["evaluate", "{m}", "--protocol", "random:2"], ["between 0 and 1"]),
        (["evaluate", "{m}", "--protocol", "none"], ["train and tune"]),
        (["evaluate", "{m}", "--emotions", "five"], ["'five'", "four", "seven", "angry"]),
        (["train", "{m}", "-o", "{tmp}/m", "--emotions", "angry,hapy"], ["did you mean happy?"]),
        (["evaluate", "{m}", "--emotions", "angry"], ["at least two"]),
        (["corpus", "stats", "{m}", "--merge", "calm=quiet"], ["'quiet'", "calm=neutral", "calm-neutral"]),
        (
            ["corpus", "stats", "{m}", "--merge", "boredom=neutral,neutral=sad"],
            ["do not chain", "write boredom=sad,neutral=sad"],
        ),
        (
            ["corpus", "stats", "{m}", "--merge", "boredom=neutral,neutral=sad,sad=angry"],
            ["write boredom=angry,neutral=angry,sad=angry"],
        ),
        (
            ["corpus", "stats", "{m}", "--merge", "calm=neutral,neutral=calm"],
            ["calm and neutral merge into each other"],
        ),
        (["evalute", "{m}"], ["did you mean evaluate?", "predict"]),
        (["corpus", "scna", "{m}"], ["did you mean scan?", "stats"]),
        (["plot", "wavefrm", "x.wav"], ["did you mean waveform?"]),
        # the data cannot fill the protocol (one speaker): found from the manifest, before the encoder runs
        (["train", "{m}", "-o", "{tmp}/m", "--model", "whisper-active"], ["--protocol kfold", "speakers"]),
        (["evaluate", "{m}", "--protocol", "loco"], ["--protocol loco", "corpora"]),
        (
            ["predict", "{m}", "--output-dir", "{tmp}/o"],
            ["--output-dir goes with --engine dask", "-o/--output"],
        ),
        (["predict", "{m}", "--top-k", "abc"], ["--top-k", "whole number >= 1", "'abc'"]),
        (["plot", "mel", "x.wav", "--dpi", "0"], ["--dpi 0", "10 to 1200"]),
        (["corpus", "stats", "{tmp}/nope.csv"], ["nope.csv: no such manifest file or corpus folder"]),
        # two manifests are joined; the same one twice lists every file twice
        (
            ["evaluate", "{m}", "{m}", "--protocol", "random"],
            ["appear more than once", "remove the duplicates"],
        ),
        (
            ["evaluate", "{m}", "--trained", "{tmp}", "--model", "logreg"],
            ["--model does not apply with --trained"],
        ),
        (["evaluate", "{m}", "--trained", "{tmp}", "--seed", "3"], ["--seed does not apply with --trained"]),
        (["evaluate", "{m}", "--bogus"], ["unrecognized arguments: --bogus (see 'emovox evaluate --help')"]),
        (["plot", "mel", "x.wav", "--sr", "100"], ["--sr 100", "4000"]),
        (["plot", "mel", "x.wav", "--start", "-1"], ["--start must be 0 or more"]),
        (["features", "{m}", "-o", "{tmp}/f.csv", "--jobs", "-3"], ["--jobs -3", "1 or more"]),
        # names whose extension decides the format, checked before the work (a CSV was written over a .wav)
        (["corpus", "scan", "{tmp}", "-o", "{tmp}/v.wav"], ["-o/--output", "v.wav", "ending in .csv"]),
        (["features", "{m}", "-o", "{tmp}/f.txt"], ["f.txt", "ending in .csv or .parquet"]),
        (["evaluate", "{m}", "--confusion", "{tmp}/c.txt"], ["--confusion", "c.txt", ".png, .pdf"]),
        (["listen", "--input", "{m}", "--save", "{tmp}/s.mp3"], ["--save", "ending in .wav or .flac"]),
        (["listen", "--input", "{m}", "-o", "{tmp}/seg.txt"], ["seg.txt", "ending in .csv, .tsv or .json"]),
        (["features", "{m}", "-o", ""], ["-o/--output ''", "an empty name"]),
        (["features", "{m}", "-o="], ["-o/--output ''", "an empty name"]),  # (was named "output")
        (["predict", "{m}", "--output="], ["-o/--output ''", "an empty name"]),
        (["convert", "{m}", ""], ["output ''", "an empty name"]),
        (["features", "{m}", "-o", "{tmp}/f.csv", "--cache-dir", "{m}"], ["--cache-dir", "not a folder"]),
        (["features", "{m}", "-o", "{tmp}/f.csv", "--trim-db", "nan"], ["--trim-db", "expected a number"]),
        (["listen", "--input", "{m}", "--overlap", "inf"], ["--overlap", "expected a number"]),
        (["convert", "", "{tmp}/out"], ["input ''", "an empty name"]),
        (["corpus", "stats", ""], ["''", "an empty name"]),
        (["predict", "{m}", "-o", "{m}"], ["-o/--output", "is one of the inputs"]),
        (["predict", "{m}", "--overwrite"], ["--overwrite goes with --engine dask"]),
        (["predict", "{m}", "--model", ""], ["--model ''", "an empty value"]),
        # (stop 42) an empty value read as "." or as the option left out (listen opened the microphone)
        (["plot", "mel", ""], ["file ''", "an empty name"]),
        (["reseal", ""], ["models ''", "an empty name"]),
        (["session", "{tmp}", "--seed", "3", "--fast", "--no-window"], ["--seed goes with --order shuffle"]),
        # (stop 42) options that were ignored without a word
        (
            ["features", "{m}", "-o", "{tmp}/f.csv", "--corpus", "foo"],
            ["--corpus names the corpus of a root"],
        ),
        (["corpus", "stats", "{m}", "--by", "gender"], ["--by splits the bars of --plot's chart"]),
        (["corpus", "stats", "{m}", "--corpus", "ravdess"], ["--corpus names the corpus of a root"]),
        (["evaluate", "{m}", "--model", "x" * 300], ["unknown model"]),  # (too long a path: no OSError)
        # an empty --title passes the empty-value check (it draws no title): the manifest is then not audio
        (["plot", "waveform", "{m}", "--title", ""], ["not audio or corrupt"]),
        # (stop 42) these named an internal field, or no option at all
        (["evaluate", "{m}", "--trim-db", "-5"], ["--trim-db -5: expected a positive number of dB"]),
        (
            ["session", "{tmp}", "--seconds", "0", "--fast", "--no-window"],
            ["--seconds 0: expected a positive"],
        ),
        (["evaluate", "{m}", "--trained", "{tmp}/nope"], ["--trained ", "nope: no such model directory"]),
        # (stop 42) a session's report folder named as an existing file failed after the session, exit 1
        (
            ["session", "{tmp}", "--fast", "--no-window", "-o", "{m}"],
            ["-o/--output", "exists and is not a folder"],
        ),
        (["train", "{m}", "-o", "{m}"], ["-o/--output", "exists and is not a folder"]),
        (["listen", "--input", ""], ["--input ''", "an empty value"]),
        (["features", "{m}", "-o", "{tmp}/f.csv", "--features", ""], ["--features ''", "an empty value"]),
        (["listen", "--input", "{m}", "--min-length", "20", "--max-length", "10"], ["must not exceed"]),
        (["listen", "--fast"], ["--fast reads an --input file"]),
        (["listen", "--input", "{m}", "--duration", "-1"], ["--duration -1", "seconds > 0"]),
        (["listen", "--input", "{m}", "--seconds", "3"], ["--seconds is the length of a --once recording"]),
        (["plot", "counts", "{m}", "--counts"], ["--counts does not apply to plot counts"]),
        (["plot", "mel", "x.wav", "--by", "corpus"], ["--by does not apply to plot mel"]),
        (
            ["train", "{m}", "-o", "{tmp}/m", "--model", "whisper-robust", "--features", "tutorial"]
            + ["--protocol", "none"],
            ["recipe built on whisper"],
        ),
        (
            ["features", "{m}", "-o", "{tmp}/f.csv", "--retry-failed"],
            ["--retry-failed goes with --engine dask"],
        ),
    ],
)
def test_bad_argument_fails_fast_on_one_line(manifest, tmp_path, argv, expect):
    argv = [a.format(m=manifest, tmp=tmp_path) for a in argv]
    rc, err, seconds = _run(*argv, cache=tmp_path / "cache")
    assert rc == 2, (rc, err)
    assert len(err) == 1, err
    assert err[0].startswith("emovox"), err
    for word in expect:
        assert word in err[0], (word, err[0])
    assert "Traceback" not in err[0] and "invalid literal" not in err[0]
    assert seconds < HANG, f"{argv}: {seconds:.1f} s"
    assert not (tmp_path / "m").exists() and not (tmp_path / "cache").exists()  # refused before any work


def test_valid_spellings_pass_the_check():
    import argparse

    from emovox.cli.common import argument_problem, protocol_problem

    for spec in (
        "kfold",
        "kfold:3",
        "KFOLD:10",
        "loso",
        "speakers:01,02",
        "emobox",
        "loco",
        "cross:a,b->c",
        "random",
        "random:0.2",
    ):
        assert protocol_problem(spec) is None, spec
    assert protocol_problem("none", allow_none=True) is None
    for model in ("svm", "compare-logreg", "whisper-robust", "cnn1d-frames", "rescnn+compare-logreg"):
        ns = argparse.Namespace(
            command="evaluate",
            model=model,
            protocol="kfold",
            protocol_none=False,
            check_model=True,
            check_labels=True,
            emotions="four",
            merge="calm-neutral",
            trained=None,
            trim_db=None,
            features=None,
            no_scale=False,
            calibrate=False,
            speaker_adapt=False,
        )
        assert argument_problem(ns) is None, model
    ns.emotions, ns.merge = "angry,sad,Fear", "calm=neutral,boredom->neutral"
    assert argument_problem(ns) is None


def test_model_names_match_the_registries():
    from emovox.cli.common import CLASSICAL_NAMES, DEEP_NAMES, RECIPE_NAMES
    from emovox.deep import DEEP_MODELS
    from emovox.models.classical import CLASSICAL
    from emovox.training import RECIPES

    assert set(CLASSICAL_NAMES) == set(CLASSICAL)
    assert set(RECIPE_NAMES) == set(RECIPES)
    assert set(DEEP_NAMES) == set(DEEP_MODELS)
    from emovox.experiments import TUNABLE

    plain = {n for n, r in RECIPES.items() if not (r.augment or r.align or r.balance)}
    assert set(TUNABLE) == set(CLASSICAL) | plain


def test_bare_command_lists_the_commands():
    proc = subprocess.run([sys.executable, "-m", "emovox.cli"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    for cmd in ("evaluate", "predict", "convert", "serve"):
        assert cmd in proc.stderr  # (an error's help goes to stderr, stop 42)
    assert "required" not in proc.stdout + proc.stderr and proc.stdout == ""
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "corpus"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "scan" in proc.stderr and "stats" in proc.stderr


def test_an_emotion_emovox_does_not_know_is_noted(manifest, tmp_path, capsys):
    """Kept (a custom taxonomy is fine), but said: a typo such as "angyr" must not pass unseen."""
    import pandas as pd

    from emovox.cli import main

    df = pd.read_csv(manifest)
    df.loc[0, "emotion"] = "joyful"
    odd = tmp_path / "odd.csv"
    df.assign(path=[str(Path(manifest).parent / p) for p in df["path"]]).to_csv(odd, index=False)
    main(["evaluate", str(odd), "--protocol", "random"])
    err = capsys.readouterr().err
    assert "emotion(s) joyful (1 row) are none of neutral" in err and "a class of its own" in err


def test_seed_0_is_the_random_splits_seed(manifest, tmp_path, capsys):
    """`--seed 0` with `random` took the tutorials' seed 7, as no seed does."""
    import json

    from emovox.cli import main

    names = []
    for extra in ([], ["--seed", "0"], ["--seed", "7"]):
        out = tmp_path / f"ev{len(names)}.json"
        assert (
            main(["evaluate", manifest, "--protocol", "random", "--json", str(out), "--quiet", *extra]) == 0
        )
        ev = json.loads(out.read_text())
        names.append((ev["protocol"], ev["run"]["seed"]))
    capsys.readouterr()
    assert names == [("random(0.25, seed 7)", None), ("random(0.25, seed 0)", 0), ("random(0.25, seed 7)", 7)]


def test_json_dash_prints_the_evaluation_on_stdout(manifest, tmp_path, capsys):
    """A review (stop 42): an evaluation could not go to stdout as JSON (`--json -` was refused as a name
    without .json), so `| jq` needed a temporary file. Now stdout holds the JSON alone, the report stderr."""
    import json

    from emovox.cli import main

    assert main(["evaluate", manifest, "--protocol", "random", "--json", "-", "--quiet"]) == 0
    out, err = capsys.readouterr()
    ev = json.loads(out)
    assert ev["protocol"].startswith("random(") and 0 <= ev["ua"] <= 1 and "labels" in ev
    assert "protocol: random" in err and not (tmp_path / "-").exists()
    import pandas as pd

    four = Path(manifest).with_name("four-speakers.csv")  # (tuning's folds need four speakers)
    pd.read_csv(manifest).assign(speaker=[f"s{i % 4}" for i in range(8)]).to_csv(four, index=False)
    assert main(["tune", str(four), "--model", "logreg", "--protocol", "none", "--json", "-", "--quiet"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {"best_params", "best_ua", "search", "run"} <= set(found)


def test_outputs_that_cannot_be_written_are_refused_before_the_work(tmp_path):
    """A read-only folder, or a file where a folder must be, was a traceback after all the predictions."""
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(16000, np.float32), 16000)
    blocker = tmp_path / "somefile"
    blocker.write_text("x")
    Path(f"{tmp_path}.csv").mkdir()  # a folder where a file must be written
    for argv, expect in (
        (
            ["predict", str(clip), "-o", f"{blocker}/out.csv"],
            f"-o/--output {blocker}/out.csv: {blocker} is not a folder",
        ),
        (
            ["predict", str(clip), "--timeline", "--plot", f"{blocker}/t.png"],
            f"--plot {blocker}/t.png: {blocker} is",
        ),
        (
            ["evaluate", "x.csv", "--json", f"{blocker}/e.json"],
            f"--json {blocker}/e.json: {blocker} is not a folder",
        ),
        (
            ["evaluate", "x.csv", "--confusion", f"{blocker}/c.png"],
            f"--confusion {blocker}/c.png: {blocker} is",
        ),
        (
            ["predict", str(clip), "-o", f"{tmp_path}.csv"],
            f"-o/--output {tmp_path}.csv: is a folder; name the file",
        ),
        (["convert", str(clip), f"{blocker}/x.wav"], f"output {blocker}/x.wav: {blocker} is not a folder"),
    ):
        rc, err, seconds = _run(*argv)
        assert rc == 2 and len(err) == 1 and err[0].startswith(f"emovox: error: {expect}"), (argv, err)
    from emovox.batch import predict
    from emovox.errors import EmovoxError

    with pytest.raises(EmovoxError, match="somefile: exists and is not a folder"):
        predict([clip], output_dir=blocker, engine="local", progress=False)
    import os
    import shutil

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return
    import tempfile

    top = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own folders are root's alone
    top.chmod(0o755)
    ro = top / "ro"
    ro.mkdir(mode=0o555)
    shutil.copy(clip, top / "clip.wav")
    clip = top / "clip.wav"
    out = subprocess.run(  # as nobody: root may write anywhere
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "emovox.cli"]
        + ["predict", str(clip), "-o", str(ro / "out.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(top)
    assert out.returncode == 2 and out.stderr.strip() == (
        f"emovox: error: -o/--output {ro}/out.csv: cannot write into {ro} (permission denied)"
    ), out.stderr


def test_a_corpus_folder_entry_that_is_not_audio_is_reported_and_fails_the_command(tmp_path, capsys):
    """A ``.flac`` holding text, and an empty one, in a corpus folder were dropped without a word by
    ``evaluate``, ``train`` and ``features``, exit status 0 (only ``corpus scan`` listed them)."""
    import shutil

    from emovox.cli import main

    from .conftest import EMODB, need

    folder = tmp_path / "emodb"
    folder.mkdir()
    for f in sorted(need(EMODB).rglob("*.flac")):
        if f.name[:2] in ("03", "08", "09") and f.name[2:5] in ("a01", "a02", "b01"):
            shutil.copy(f, folder / f.name)
    (folder / "08a01Wz.flac").write_text("garbage\n")
    (folder / "09a01Wz.flac").write_bytes(b"")
    for argv in (
        ["evaluate", str(folder), "--protocol", "kfold:3"],
        ["train", str(folder), "--protocol", "none", "-o", str(tmp_path / "model")],
        ["features", str(folder), "-o", str(tmp_path / "f.csv")],
    ):
        assert main([*argv, "--quiet"]) == 1, argv
        err = capsys.readouterr().err
        assert "08a01Wz.flac: not audio" in err and "09a01Wz.flac: empty file" in err, (argv, err)
    assert (tmp_path / "model" / "metadata.json").exists()  # the rest was used
    assert len(open(tmp_path / "f.csv").readlines()) == len(list(folder.glob("*.flac"))) - 2 + 1


# ----------------------------------------------------------------- stop 38: a new user's walkthrough
def test_stats_and_counts_list_the_files_a_folder_left_out(emodb_root, nemo_root, tmp_path, capsys):
    """`corpus stats` and `plot counts` on a folder say which files they left out, as `corpus scan` does."""
    from emovox.cli import main

    folder = tmp_path / "mixed"
    folder.mkdir()
    for f in sorted((emodb_root / "wav").glob("03a01*.flac"))[:3]:
        (folder / f.name).write_bytes(f.read_bytes())
    stray = sorted((nemo_root / "samples").glob("*.opus"))[0]
    (folder / stray.name).write_bytes(stray.read_bytes())
    (folder / "broken.flac").write_bytes(b"fLaC" + bytes(100))  # named as EMO-DB's are not: skipped too
    (folder / "16b10Wa.flac").write_text("not audio at all\n")  # an EMO-DB name, not audio: unreadable
    assert main(["corpus", "stats", str(folder)]) == 1  # an entry that is not audio: the status says so
    out, err = capsys.readouterr()
    assert out.startswith("3 utterances")
    assert f"{stray.name}: not SSTTTEV" in err and "broken.flac" in err and "16b10Wa.flac" in err
    assert main(["plot", "counts", str(folder), "-o", str(tmp_path / "c.png")]) == 0
    err = capsys.readouterr().err
    assert f"{stray.name}: not SSTTTEV" in err and (tmp_path / "c.png").stat().st_size > 1000
    # scan -q: what was left out still shows; the counts do not
    assert main(["corpus", "scan", str(folder), "-o", str(tmp_path / "m.csv"), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{stray.name}: not SSTTTEV" in err and "wrote" not in err
    (folder / "16b10Wa.flac").unlink()
    (folder / "broken.flac").unlink()
    (folder / stray.name).unlink()
    assert main(["corpus", "scan", str(folder), "-o", str(tmp_path / "m.csv"), "-q"]) == 0
    assert capsys.readouterr().err == "" and len((tmp_path / "m.csv").read_text().splitlines()) == 4


def test_a_bad_rate_or_picture_folder_is_one_line_before_any_work(emodb_root, tmp_path, capsys):
    from emovox.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    for f in sorted((emodb_root / "wav").glob("03a01*.flac"))[:3]:
        (folder / f.name).write_bytes(f.read_bytes())
    for rate in ("0", "1000000"):
        assert main(["convert", str(folder), str(tmp_path / "out"), "--rate", rate]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"emovox: error: --rate {rate}: expected a rate from 4000 to 768000 Hz"]
    assert not (tmp_path / "out").exists()
    # the missing folder is named, whatever the microphone (this machine has none)
    assert main(["session", str(tmp_path / "nowhere"), "--no-window"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"emovox: error: {tmp_path / 'nowhere'}: not a folder of pictures"]


def test_python_dash_m_emovox_runs_the_command_line():
    proc = subprocess.run(
        [sys.executable, "-m", "emovox", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.startswith("emovox ")
