"""The tutorial notebook: committed with its outputs, and it runs top to bottom (from the project root, so
``../shared`` is found)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tutorial.ipynb"


def test_notebook_is_committed_with_its_outputs():
    """A reader on the web sees the figures without running it: every code cell ran, in order, without errors."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "no code cells"
    assert [c.get("execution_count") for c in code] == list(range(1, len(code) + 1)), (
        "run the whole notebook top to bottom before committing it"
    )
    assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert images >= 10, f"only {images} figures are stored"
    texts = [
        "".join(o.get("text", "")) for c in code for o in c.get("outputs", [])
    ]  # stored as lists of lines
    demo = "".join(t for t in texts if "truth happy" in t)
    assert (
        "Actor" not in demo and "-09.flac" in demo
    )  # the prediction demo is on actor 09, outside its training


def test_tutorial_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    # A kernel spec that runs this interpreter, whatever other "python3" kernels the machine has.
    spec = tmp_path / "jupyter" / "kernels" / "emovox-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "emovox test",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    t = time.time()
    # Any cell error raises CellExecutionError and fails the test.
    NotebookClient(
        nb, timeout=300, kernel_name="emovox-test", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    elapsed = time.time() - t
    assert elapsed < 300, f"notebook took {elapsed:.0f} s; keep it well under 5 minutes"
    images = sum(
        "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert images >= 10, f"only {images} figures were displayed"
