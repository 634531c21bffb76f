"""Helpers shared by the benchmark scripts: where the corpora are, and markdown output."""

from __future__ import annotations

import os
import platform
from pathlib import Path

SHARED = Path(os.environ.get("EMOVOX_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared")).resolve()


def corpus(name: str):
    """The manifest of a corpus in ../shared (ravdess or emodb)."""
    from emovox.corpora import scan

    return scan(SHARED / "corpora" / name, name)[0]


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def md_table(rows: list[dict], columns: list[str]) -> str:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    return "\n".join(out)
