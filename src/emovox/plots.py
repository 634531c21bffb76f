"""Figures emovox saves: one implementation per picture, shared by the CLI and the API.

Every function returns a :class:`matplotlib.figure.Figure` and uses the headless Agg backend, so it
works on a server; :func:`save` writes a figure to PNG and closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG (creating folders) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    _plt().close(fig)
    return path


def emotion_counts(manifest, by: str | None = None, title: str = "Utterances per emotion"):
    """Bar chart of utterances per emotion; ``by`` (``corpus``, ``gender``) splits each bar into groups."""
    import pandas as pd

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    if by and by in manifest:
        table = pd.crosstab(manifest["emotion"], manifest[by].fillna("unknown"))
        table.plot.bar(ax=ax, width=0.8)
        ax.legend(title=by)
    else:
        counts = manifest["emotion"].value_counts().sort_index()
        bars = ax.bar(counts.index, counts.values, color="#4c72b0")
        ax.bar_label(bars, fontsize=8)
    ax.set_xlabel("emotion")
    ax.set_ylabel("utterances")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


def confusion_matrix(matrix: np.ndarray, labels: Sequence[str], normalize: bool = True,
                     title: str = "Confusion matrix"):
    """Heat map of a confusion matrix (rows: true, columns: predicted), each cell annotated.

    With ``normalize`` the colours and numbers are row fractions (recall per class); the raw counts
    are printed beneath in brackets so nothing is hidden.
    """
    plt = _plt()
    m = np.asarray(matrix, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    shown = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0) if normalize else m
    n = len(labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * n, 0.8 + 0.7 * n))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="recall" if normalize else "count")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}\n({int(m[i, j])})" if normalize else f"{int(m[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > (0.5 if normalize else shown.max() / 2) else "black")
    fig.tight_layout()
    return fig
