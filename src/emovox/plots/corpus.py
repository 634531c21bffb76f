"""Pictures of a corpus: how many utterances of each emotion, overall or split by a manifest column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import EXTRA_COLORS, emotion_color, emotion_order, new_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def emotion_counts(
    manifest: pd.DataFrame, by: str | None = None, title: str = "Utterances per emotion"
) -> Figure:
    """Bar chart of utterances per emotion.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A manifest with an ``emotion`` column.
    by : {None, "corpus", "gender", "speaker"} or another column
        ``None``: one bar per emotion. ``"speaker"``: one stacked bar per speaker, split by emotion (shows
        how balanced each speaker is). Any other column: bars of each emotion grouped by its values.
    title : str
        Title above the chart (default ``"Utterances per emotion"``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"emotion": ["sad", "angry", "sad"], "speaker": ["a", "a", "b"]})
    >>> len(emotion_counts(m, by="speaker").axes)
    1
    """
    import pandas as pd

    from ..errors import CorpusError

    if by and by not in manifest:
        raise CorpusError(f"manifest has no column {by!r} to split the counts by")
    emotions = emotion_order(manifest["emotion"].dropna())
    if by == "speaker":
        spk = manifest["speaker"].fillna("unknown").astype(str)
        if "corpus" in manifest and manifest["corpus"].nunique() <= 1:
            spk = spk.str.split(":").str[-1]  # one corpus: drop the "corpus:" prefix
        table = pd.crosstab(spk, manifest["emotion"]).reindex(columns=emotions, fill_value=0)
        fig = new_figure((max(6.0, 0.35 * len(table) + 2.5), 4.2))
        ax = fig.add_subplot()
        bottom = np.zeros(len(table))
        x = np.arange(len(table))
        for i, emo in enumerate(emotions):
            ax.bar(x, table[emo].to_numpy(), bottom=bottom, color=emotion_color(emo, i), label=emo, width=0.8)
            bottom += table[emo].to_numpy()
        ax.set_xticks(x, table.index, rotation=90 if len(table) > 12 else 30, fontsize=8)
        ax.set_xlabel("speaker")
        ax.legend(title="emotion", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    elif by:
        table = pd.crosstab(manifest["emotion"], manifest[by].fillna("unknown")).reindex(
            emotions, fill_value=0
        )
        fig = new_figure((max(7.0, 0.9 * len(emotions) + 2), 4.2))
        ax = fig.add_subplot()
        n = table.shape[1]
        width = 0.8 / n
        x = np.arange(len(table))
        for j, col in enumerate(table.columns):
            bars = ax.bar(
                x - 0.4 + width * (j + 0.5),
                table[col].to_numpy(),
                width,
                label=str(col),
                color=EXTRA_COLORS[j % len(EXTRA_COLORS)],
            )
            if n <= 3:
                ax.bar_label(bars, fontsize=7)
        ax.set_xticks(x, table.index, rotation=30)
        ax.set_xlabel("emotion")
        ax.legend(title=by, fontsize=8)
    else:
        counts = manifest["emotion"].value_counts().reindex(emotions)
        fig = new_figure((max(6.0, 0.8 * len(emotions) + 2), 4.0))
        ax = fig.add_subplot()
        bars = ax.bar(
            counts.index, counts.to_numpy(), color=[emotion_color(e, i) for i, e in enumerate(counts.index)]
        )
        ax.bar_label(bars, fontsize=8)
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel("emotion")
    ax.set_ylabel("utterances")
    ax.set_title(title if not by else f"{title} by {by}")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig
