"""The emotion of a long recording over time (``emovox live``, ``emovox plot timeline``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import emotion_color, emotion_order, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _field(seg: Any, key: str, default: Any = None) -> Any:
    """``seg[key]`` or ``seg.key``; ``label`` falls back to ``emotion`` (as :class:`emovox.live` segments name it)."""
    get = seg.get if isinstance(seg, Mapping) else (lambda k, d=None: getattr(seg, k, d))
    value = get(key, None)
    if value is None and key == "label":
        value = get("emotion", None)
    return default if value is None else value


NO_SPEECH_COLOR = "#9e9e9e"


#: a pause this long between two speech segments breaks the probability curves (nothing was heard there)
GAP_SECONDS = 5.0


def emotion_timeline(
    segments: Sequence[Any], title: str = "Emotion over time", duration: float | None = None
) -> Figure:
    """Emotion of a long recording over time: coloured spans per predicted label and probability curves.

    Parameters
    ----------
    segments : sequence of dict or objects
        Each with ``start`` and ``end`` (seconds), ``label`` (or ``emotion``), ``confidence`` (0-1) and
        ``probabilities`` (label -> probability). Segments may overlap (sliding windows) or leave gaps
        (silence); curves join segment centres, and break across a pause of more than
        :data:`GAP_SECONDS`. A span's shade is its confidence (darker: surer; its y-label says so).
        Segments without a label are left blank; those with
        ``speech`` False (a sound that is not a voice) are drawn grey and hatched, and those ``uncertain``
        dotted over (their label with a "?").
    title : str
        Title above the figure (default ``"Emotion over time"``).
    duration : float, optional
        Length of the recording (default: the last segment's end).

    Returns
    -------
    matplotlib.figure.Figure
        The ribbon of answers above, each emotion's probability over time below.

    Examples
    --------
    >>> fig = emotion_timeline([{"start": 0.0, "end": 2.0, "label": "sad", "confidence": 0.8,
    ...                          "probabilities": {"sad": 0.8, "angry": 0.2}}])
    >>> [line.get_label() for line in fig.axes[1].lines]
    ['sad', 'angry']
    """
    segs = sorted(segments, key=lambda s: float(_field(s, "start", 0.0)))
    fig = new_figure((12, 4.8))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 3])
    end = duration or (max(float(_field(s, "end", 0.0)) for s in segs) if segs else 1.0)
    labels = emotion_order(
        {str(_field(s, "label")) for s in segs if _field(s, "label") is not None}
        | {k for s in segs for k in (_field(s, "probabilities") or {})}
    )
    colors = {lab: emotion_color(lab, i) for i, lab in enumerate(labels)}
    # Ribbon: two overlapping windows are cut inside their overlap, at the midpoint between their centres
    # where it lies there, so each instant shows the window centred nearest to it; windows that do not
    # overlap keep their whole span. Opacity follows the confidence.
    starts = np.array([float(_field(s, "start")) for s in segs])
    ends = np.array([float(_field(s, "end")) for s in segs])
    centres = (starts + ends) / 2
    cuts = np.clip((centres[1:] + centres[:-1]) / 2, starts[1:], ends[:-1])
    overlap = ends[:-1] > starts[1:]
    lo = np.concatenate(([-np.inf], np.where(overlap, cuts, -np.inf)))
    hi = np.concatenate((np.where(overlap, cuts, np.inf), [np.inf]))
    lo, hi = np.maximum(starts, lo), np.minimum(ends, hi)
    runs: list[list] = []  # [label, t0, t1, all uncertain] of consecutive spans with one label, for the text
    no_speech = uncertain = False
    for s, t0, t1 in zip(segs, lo, hi, strict=True):
        lab = _field(s, "label")
        if _field(s, "speech", True) is False and t1 > t0:  # a sound that is not a voice: grey, no emotion
            top.axvspan(t0, t1, color=NO_SPEECH_COLOR, alpha=0.5, linewidth=0, hatch="//")
            no_speech = True
            continue
        if lab is None or t1 <= t0:
            continue
        conf = float(_field(s, "confidence", 1.0) or 0.0)
        top.axvspan(t0, t1, color=colors[str(lab)], alpha=0.3 + 0.7 * min(max(conf, 0.0), 1.0), linewidth=0)
        unsure = bool(_field(s, "uncertain", False))
        if unsure:  # the page and the table say "uncertain": the picture dots it over
            top.axvspan(t0, t1, facecolor="none", edgecolor="#424242", hatch="..", linewidth=0)
            uncertain = True
        if runs and runs[-1][0] == lab and abs(runs[-1][2] - t0) < 1e-6:
            runs[-1][2] = t1
            runs[-1][3] = runs[-1][3] and unsure
        else:
            runs.append([lab, t0, t1, unsure])
    for lab, t0, t1, unsure in runs:
        if (t1 - t0) > end / 30:
            text = f"{lab}?" if unsure else str(lab)
            top.text((t0 + t1) / 2, 0.5, text, ha="center", va="center", fontsize=8, clip_on=True)
    if no_speech or uncertain:
        from matplotlib.patches import Patch

        handles = (
            [Patch(facecolor=NO_SPEECH_COLOR, alpha=0.5, hatch="//", label="no speech")] if no_speech else []
        )
        if uncertain:
            handles.append(Patch(facecolor="white", edgecolor="#424242", hatch="..", label="uncertain"))
        top.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    top.set_yticks([])
    top.set_ylabel("emotion\n(darker:\nsurer)", fontsize=8)  # the ribbon's shade is its confidence
    top.set_title(title, loc="left")
    if segs:
        for lab in labels:
            p = np.array([float((_field(s, "probabilities") or {}).get(lab, np.nan)) for s in segs])
            ok = np.isfinite(p)  # segments without speech (no probabilities) are skipped, not line breaks
            if ok.any():
                # ... but a pause of more than GAP_SECONDS between two speech segments breaks the line
                x, y = centres[ok], p[ok]
                cut = np.flatnonzero(starts[ok][1:] - ends[ok][:-1] > GAP_SECONDS) + 1
                x, y = np.insert(x, cut, np.nan), np.insert(y, cut, np.nan)
                dots = len(segs) <= 40
                bottom.plot(
                    x,
                    y,
                    color=colors[lab],
                    linewidth=1.6,
                    label=lab,
                    marker="o" if dots else None,
                    markersize=3,
                )
                if not dots:  # a segment between two long pauses is a point alone, which a line cannot draw
                    gap = np.isnan(np.r_[np.nan, y, np.nan])
                    alone = gap[:-2] & gap[2:] & ~np.isnan(y)
                    bottom.plot(
                        x[alone], y[alone], color=colors[lab], linestyle="none", marker="o", markersize=3
                    )
    else:
        bottom.text(0.5, 0.5, "no segments", transform=bottom.transAxes, ha="center", va="center")
    bottom.set_ylim(0, 1)
    bottom.set_xlim(0, end)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("probability")
    bottom.grid(alpha=0.3)
    if labels and bottom.get_legend_handles_labels()[0]:  # (no curve drawn: no segment with speech)
        bottom.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="emotion")
    return fig
