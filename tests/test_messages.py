"""Error messages name what the user gave: the upload (no heap addresses), the link (not its target), the
option (no traceback)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from emovox.audio import load_audio
from emovox.errors import AudioError


def _wav_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(16000, dtype=np.float32), 16000, format="WAV")
    return buf.getvalue()


BROKEN = [
    _wav_bytes()[:40],  # RIFF/WAVE header, no data chunk
    b"RIFF" + _wav_bytes()[4:12] + b"\x00" * 64,  # WAVE with garbage chunks
    b"fLaC" + b"\x00" * 100,  # a FLAC tag and nothing else
]


# ------------------------------------------------------------------------------------ (a) heap addresses
@pytest.mark.parametrize("data", BROKEN)
def test_bytes_errors_name_the_input_without_heap_addresses(data):
    with pytest.raises(AudioError) as info:
        load_audio(data, name="clip.wav")
    msg = str(info.value)
    assert msg.startswith("clip.wav: ") and "object at 0x" not in msg and "BytesIO" not in msg, msg


def test_api_422_names_the_upload():
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    httpx = pytest.importorskip("httpx")
    from emovox.inference import load_model
    from emovox.server.app import create_app

    from .test_server_support import ThreadServer

    with (
        ThreadServer(create_app(load_model("classical"))) as srv,
        httpx.Client(base_url=srv.url, timeout=30) as c,
    ):
        for data in BROKEN[:2]:
            r = c.post("/v1/predict", files={"file": ("broken upload.wav", data, "audio/wav")})
            assert r.status_code == 422, r.text
            error = r.json()["error"]
            assert error.startswith("broken upload.wav: ") and "object at 0x" not in r.text, error


# ------------------------------------------------------------------------------------ (b) symlinks
def test_dangling_symlink_is_named_by_the_link(tmp_path):
    link = tmp_path / "link.wav"
    os.symlink(tmp_path / "gone" / "target.wav", link)
    with pytest.raises(AudioError) as info:
        load_audio(link)
    msg = str(info.value)
    assert msg.startswith(f"{link}: broken symbolic link"), msg
    loop = tmp_path / "loop.wav"
    os.symlink(loop, loop)
    with pytest.raises(AudioError, match=r"loop\.wav: symbolic link loop"):
        load_audio(loop)


def test_cli_names_the_dangling_link(tmp_path):
    link = tmp_path / "link.wav"
    os.symlink(tmp_path / "gone" / "target.wav", link)
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "predict", str(link), "--model", "classical"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{link}: broken symbolic link" in proc.stderr, proc.stderr


# ------------------------------------------------------------------------------------ (c) serve options
@pytest.mark.parametrize(
    "args, words",
    [
        (["--workers", "-1"], "--workers -1"),
        (["--workers", "0"], "--workers 0"),
        (["--port", "99999"], "--port 99999"),
        (["--port", "-1"], "--port -1"),
        (["--timeout", "0"], "--timeout 0"),
        (["--max-upload-mb", "-5"], "--max-upload-mb -5"),
        (["--timeline-after", "nan"], "--timeline-after: expected a number, got 'nan'"),
    ],
)
def test_serve_rejects_bad_options_in_one_line(args, words, capsys):
    from emovox.cli import main

    try:
        rc = main(["serve", *args])
    except SystemExit as exc:  # refused by the argument parser (not a number)
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_an_empty_host_is_refused_not_every_interface():
    """(stop 42) `serve --host ''` (an unset variable) listened on 0.0.0.0 and [::]. In a subprocess with a
    time limit: a server that starts would block."""
    from emovox.errors import ParameterError
    from emovox.server import ServerSettings

    cli = "from emovox.cli import main; raise SystemExit(main(['serve', '--port', '8123', {}]))"
    for code, words in (
        (cli.format("'--host', ''"), "--host '': an empty address"),
        (
            "from emovox.server import serve; serve('classical', host='', port=8123)",
            "host '': an empty address",
        ),
        (cli.format("'--allowed-host', ''"), "--allowed-host '': expected a host name"),
        (cli.format("'--pending-per-client', '100'"), "--pending-per-client 100: expected at most the 64"),
    ):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and words in proc.stderr, proc.stderr[-300:]
    with pytest.raises(ParameterError, match="allowed_hosts ' ': expected a host name"):
        ServerSettings(allowed_hosts=(" ",))


def test_serve_bad_port_subprocess():
    proc = subprocess.run(
        [sys.executable, "-m", "emovox.cli", "serve", "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "emovox: error: --port 99999: expected a port number from 1 to 65535"


def test_serve_without_its_extra_names_the_extra_to_install():
    """The message listed three packages and left out fastapi-offline, so installing them was not enough."""
    code = (
        "import sys; sys.modules['fastapi_offline'] = None; from emovox.cli import main; "
        "sys.exit(main(['serve', '--port', '8123']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "pip install 'emovox[serve]'" in proc.stderr, proc.stderr


def test_a_file_named_like_an_option_gets_a_hint(tmp_path, monkeypatch, capsys):
    """argparse said "the following arguments are required: paths" for `emovox predict -take1.wav`."""
    from emovox.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "-take1.wav").write_bytes(b"RIFF")
    assert main(["predict", "-take1.wav"]) == 2
    assert capsys.readouterr().err.strip() == (
        "emovox: error: -take1.wav: a name that starts with '-' reads as an option; "
        "put -- before it (... -- -take1.wav)"
    )
    (tmp_path / "-recs").mkdir()  # a folder too (was "the following arguments are required")
    assert main(["predict", "-recs"]) == 2
    assert "-recs: a name that starts with '-' reads as an option" in capsys.readouterr().err


def test_names_after_options_and_option_like_values(tmp_path, monkeypatch, capsys, emodb_root):
    """argparse took no file names after an option (`predict a.wav --json b.wav`: "unrecognized
    arguments"), and `-o -res.csv` was "expected one argument" with no way out."""
    import json

    from emovox.cli import main

    a, b = emodb_root / "wav" / "03a01Wa.flac", emodb_root / "wav" / "03a01Fa.flac"
    assert main(["predict", str(a), "--json", "--top-k", "2", str(b)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["source"] for r in rows] == [str(a), str(b)] and len(rows[1]["probabilities"]) == 2
    with pytest.raises(SystemExit) as info:  # an unknown option still fails, whole
        main(["predict", str(a), "--bogus", str(b)])
    assert info.value.code == 2 and "unrecognized arguments: --bogus " in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["predict", str(a), "-o", "-res.csv"])
    assert info.value.code == 2
    assert "a value that starts with '-' goes after '=' (--output=-VALUE)" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # no value at all: no such hint
        main(["predict", str(a), "-o"])
    assert "goes after '='" not in capsys.readouterr().err
    assert main(["predict", str(a), "--output=-res.csv"]) == 0
    assert (tmp_path / "-res.csv").read_text().count("03a01Wa") == 1
    capsys.readouterr()
    with pytest.raises(SystemExit):  # now that it exists: still the '=' hint, not "put -- before it"
        main(["predict", str(a), "-o", "-res.csv"])
    assert "goes after '=' (--output=-VALUE)" in capsys.readouterr().err


def test_a_library_warning_is_one_line_while_a_command_runs(capsys):
    """scikit-learn's ConvergenceWarning printed its source file and a line of code under `evaluate`."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from emovox.cli.common import cli_logging

    shown = warnings.showwarning
    with cli_logging(), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(
            "Stochastic Optimizer: Maximum iterations (200) reached\n  and not converged",
            ConvergenceWarning,
            stacklevel=1,
        )
    assert capsys.readouterr().err.splitlines() == [
        "emovox: warning: Stochastic Optimizer: Maximum iterations (200) reached and not converged "
        "(ConvergenceWarning)"
    ]
    assert warnings.showwarning is shown  # restored: a notebook's warnings are its own again


def test_a_misspelt_name_gets_a_did_you_mean_everywhere(capsys, emodb_root):
    """`evaluate --emotions sadd` suggested `sad`, but `predict --emotions hapy` led with "expected at least
    two emotions", and `--merge calm=neutrl`, `--features tutorail`, `--model clasical` suggested nothing."""
    from emovox.cli import main

    f = str(sorted((emodb_root / "wav").glob("*.flac"))[0])
    for argv, hint in (
        (
            ["predict", f, "--emotions", "angry,hapy"],
            "--emotions: unknown emotion 'hapy' (did you mean happy?)",
        ),
        (["predict", f, "--emotions", "four,calm"], "calm: not one of this model's emotions"),
        (["corpus", "stats", str(emodb_root), "--merge", "calm=neutrl"], "'neutrl' (did you mean neutral?)"),
        (["evaluate", str(emodb_root), "--features", "tutorail"], "'tutorail' (did you mean tutorial?)"),
        (
            ["predict", f, "--model", "clasical"],
            "clasical: no such model directory or bundled model (did you mean",
        ),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and hint in err[0], (argv, err)
    # a misspelt option (argparse said only "unrecognized arguments"), a command group's too
    for argv, hint in (
        (["predict", f, "--top_k", "3"], "unrecognized arguments: --top_k 3 (did you mean --top-k?)"),
        (["predict", f, "--jsn"], "--jsn (did you mean --json?) (see 'emovox predict --help')"),
        (["corpus", "stats", str(emodb_root), "--plto", "x.png"], "(did you mean --plot?)"),
        (["predict", f, "--zzzzz"], "unrecognized arguments: --zzzzz (see 'emovox predict --help')"),
        (["--json", "predict", f], "--json (--json goes after the command: emovox predict ... --json)"),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert exit_.value.code == 2 and len(err) == 1 and hint in err[0], (argv, err)


def test_a_bundled_model_is_named_as_the_user_named_it(capsys, emodb_root):
    """``--model classical --same-speaker`` named the package's folder (.../site-packages/emovox/models_data/
    classical) where the user typed ``classical``."""
    from emovox.cli import main

    f = str(sorted((emodb_root / "wav").glob("*.flac"))[0])
    assert main(["predict", f, "--model", "classical", "--same-speaker"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("emovox: error: classical: this model stores no class means"), err
