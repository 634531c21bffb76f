"""Shared test fixtures: where ../shared is, and small synthetic audio files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(
    os.environ.get("EMOVOX_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared")
).resolve()
RAVDESS = SHARED / "corpora" / "ravdess"
EMODB = SHARED / "corpora" / "emodb"
EMOVO = SHARED / "corpora" / "emovo"
NEMO = SHARED / "corpora" / "nemo"
FOLDS = SHARED / "folds"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="session")
def ravdess_root() -> Path:
    return need(RAVDESS)


@pytest.fixture(scope="session")
def emodb_root() -> Path:
    return need(EMODB)


@pytest.fixture(scope="session")
def emovo_root() -> Path:
    return need(EMOVO)


@pytest.fixture(scope="session")
def nemo_root() -> Path:
    return need(NEMO)


@pytest.fixture(scope="session")
def folds_dir() -> Path:
    return need(FOLDS)


@pytest.fixture(scope="session")
def ravdess_manifest(ravdess_root):
    from emovox.corpora import scan

    return scan(ravdess_root, "ravdess")[0]


@pytest.fixture(scope="session")
def emodb_manifest(emodb_root):
    from emovox.corpora import scan

    return scan(emodb_root, "emodb")[0]


@pytest.fixture(scope="session")
def emovo_manifest(emovo_root):
    from emovox.corpora import scan

    return scan(emovo_root, "emovo")[0]


@pytest.fixture(scope="session")
def nemo_manifest(nemo_root):
    from emovox.corpora import scan

    return scan(nemo_root, "nemo")[0]


def tone(freq: float = 440.0, seconds: float = 1.0, sr: int = 16000, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def tone_wav(tmp_path) -> Path:
    import soundfile as sf

    path = tmp_path / "tone.wav"
    sf.write(path, tone(), 16000)
    return path


@pytest.fixture
def tone_manifest(tmp_path):
    """24 short WAV tones, low ones "sad" and high ones "angry", from three "speakers"."""
    import pandas as pd
    import soundfile as sf

    rng = np.random.default_rng(0)
    rows = []
    for i in range(24):
        path = tmp_path / f"t{i}.wav"
        sf.write(path, tone(float(rng.uniform(150, 250) if i % 2 else rng.uniform(900, 1200)), 0.8), 16000)
        rows.append(
            {
                "path": str(path),
                "emotion": "sad" if i % 2 else "angry",
                "speaker": f"s{i % 3}",
                "corpus": "tones",
            }
        )
    return pd.DataFrame(rows)


def proba_without_torch(model_dir, audio, tmp_path) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities of ``audio`` (a path, or a 16 kHz signal) from ``model_dir``, predicted in a
    fresh Python process that must not import torch."""
    import json
    import subprocess
    import sys

    if isinstance(audio, np.ndarray):
        np.save(tmp_path / "signal.npy", audio)
        source = f"np.load({str(tmp_path / 'signal.npy')!r}), sr=16000"
    else:
        source = repr(str(audio))
    code = (
        "import sys, json, numpy as np, emovox\n"
        f"m = emovox.load_model({str(model_dir)!r})\n"
        f"p = m.predict_proba({source})\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(json.dumps([m.labels, p.tolist()]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    labels, p = json.loads(proc.stdout.strip().splitlines()[-1])
    return labels, np.array(p)
