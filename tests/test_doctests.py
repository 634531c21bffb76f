"""Every docstring example in the package runs and gives what it shows (examples that need a corpus, a
microphone or a trained model say ``# doctest: +SKIP``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import emovox

# Modules whose import needs an optional extra that a minimal install lacks are skipped, not failed.
MODULES = ["emovox"] + sorted(
    m.name
    for m in pkgutil.walk_packages(emovox.__path__, "emovox.")
    if ".models_data" not in m.name and not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name}: {exc}")
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples in {name} failed (run pytest -rA)"
    )
