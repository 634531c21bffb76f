"""Package habits a contributor relies on: one version, typed, no import cycle, no private imports across modules."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import emovox

SRC = Path(emovox.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in SRC.rglob("*.py"):
        name = ".".join(("emovox", *f.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        out[name] = f
    return out


def _runtime_nodes(tree):
    """Every node, except those under ``if TYPE_CHECKING:`` (never imported at run time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports(name: str, path: Path, modules: set[str]):
    """(target module, imported names) of every relative import in a module, at any depth (function-level
    imports included: a cycle through them is still a cycle)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in modules else target), alias.name


def test_one_version_source():
    assert emovox.__version__ == importlib.metadata.version("emovox")
    pyproject = (SRC.parents[1] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "emovox._version.__version__" in pyproject
    out = subprocess.run([sys.executable, "-m", "emovox.cli", "--version"], capture_output=True, text=True)
    assert emovox.__version__ in out.stdout + out.stderr


def test_typed_package():
    assert (SRC / "py.typed").is_file()


def test_no_import_cycle():
    modules = _modules()
    graph = defaultdict(set)
    for name, path in modules.items():
        for target, _ in _imports(name, path, set(modules)):
            if not name.startswith(target + "."):  # a submodule importing its own package is not a cycle
                graph[name].add(target)

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return trail + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [c for c in map(cycle_from, sorted(modules)) if c]
    assert not cycles, "import cycle: " + " -> ".join(cycles[0])


def test_no_private_name_imported_across_modules():
    modules = _modules()
    private = []
    for name, path in modules.items():
        for target, imported in _imports(name, path, set(modules)):
            if imported.startswith("_") and not imported.startswith("__") and target != name:
                private.append(f"{name} imports {target}.{imported}")
    assert not private, private
