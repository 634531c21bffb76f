"""Helpers shared by the benchmark scripts: where the corpora are, and markdown output."""

from __future__ import annotations

import os
import platform

from emovox.corpora import shared_corpus as corpus  # noqa: F401  (re-exported for the scripts)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def md_table(rows: list[dict], columns: list[str]) -> str:
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
    return "\n".join(out)
