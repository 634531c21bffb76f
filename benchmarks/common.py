"""Helpers shared by the benchmark scripts: where the corpora are, UA in percent, and markdown output."""

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


def ua(y_true, y_pred) -> float:
    """Unweighted average recall in percent."""
    from sklearn.metrics import balanced_accuracy_score

    return 100 * balanced_accuracy_score(y_true, y_pred)
