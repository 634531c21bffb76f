"""Pictures of how well a model does: confusion matrix, reliability diagram, recall per class, training
curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .base import EXTRA_COLORS, emotion_color, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..evaluation import Evaluation


def confusion_matrix(
    matrix: np.ndarray,
    labels: Sequence[str],
    normalize: bool = True,
    title: str = "Confusion matrix",
    no_answer: Sequence[int] | None = None,
) -> Figure:
    """Heat map of a confusion matrix (rows: true, columns: predicted), each cell annotated.

    With ``normalize`` the colours and numbers are row fractions (recall per class); the raw counts
    are printed beneath in brackets so nothing is hidden. Without it, cells show the counts.
    ``no_answer``: per true class, the recordings that got no emotion ("no speech"), drawn as a last
    column, so that each row's fractions are of all its recordings and the diagonal is the recall.

    Parameters
    ----------
    matrix : numpy.ndarray
        Counts, shape ``(n, n)``: rows true, columns predicted.
    labels : sequence of str
        The ``n`` class names, in the matrix's order.
    normalize : bool
        Show row fractions (default True); False: counts.
    title : str
        Axes title (default ``"Confusion matrix"``).
    no_answer : sequence of int, optional
        Length ``n``: recordings of each true class that got no emotion; drawn as a last column when any
        is non-zero. None (default): no such column.

    Returns
    -------
    matplotlib.figure.Figure
        The heat map and its colour bar (two axes), outside pyplot's registry (see :func:`emovox.plots.save`).

    Examples
    --------
    >>> fig = confusion_matrix(np.array([[3, 1], [0, 4]]), ["angry", "sad"], no_answer=[0, 2])
    >>> len(fig.axes), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    (2, ['angry', 'sad', 'no speech'])
    """
    m = np.asarray(matrix, dtype=float)
    n = len(labels)
    columns = list(labels)
    if no_answer is not None and any(no_answer):
        m = np.column_stack([m, np.asarray(no_answer, dtype=float)])
        columns.append("no speech")
    rows = m.sum(axis=1, keepdims=True)
    shown = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0) if normalize else m
    fig = new_figure((1.6 + 0.8 * len(columns), 1.2 + 0.7 * n))
    ax = fig.add_subplot()
    vmax = 1.0 if normalize else max(float(shown.max()), 1.0)
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="recall (row fraction)" if normalize else "count")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    size = 8 if n <= 8 else 6
    for i in range(n):
        for j in range(len(columns)):
            text = f"{shown[i, j]:.2f}\n({int(m[i, j])})" if normalize else f"{int(m[i, j])}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if shown[i, j] > vmax / 2 else "black",
            )
    return fig


def reliability_diagram(
    curves: Mapping[str, Mapping[str, Sequence[float]]], title: str = "Reliability diagram"
) -> Figure:
    """Accuracy against confidence per confidence bin, one line per set (e.g. each held-out corpus).

    ``curves`` maps a name to :func:`emovox.calibration.reliability` output (``confidence``, ``accuracy``,
    ``count``; NaN or a count of 0 for an empty bin), optionally with an ``ece`` shown in the legend. A
    calibrated model lies on the diagonal; below it, the model is over-confident. Bars beneath show how
    many predictions fell in each bin.

    Parameters
    ----------
    curves : mapping of str to mapping
        Name of each set to its bins: ``confidence``, ``accuracy`` and ``count`` (one entry per bin), and
        optionally ``ece``.
    title : str
        Title of the upper axes (default ``"Reliability diagram"``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: accuracy against confidence (0-1), and beneath the share of predictions per bin.

    Examples
    --------
    >>> from emovox.calibration import reliability
    >>> r = reliability(np.array([[0.9, 0.1], [0.3, 0.7]]), [0, 0], n_bins=5)
    >>> fig = reliability_diagram({"test": {**r, "ece": 0.25}})
    >>> [ax.get_ylabel() for ax in fig.axes], fig.axes[0].get_legend_handles_labels()[1]
    (['accuracy', 'share'], ['calibrated', 'test (ECE 0.250)'])
    """
    fig = new_figure((6.4, 6.4))
    ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=(4, 1))
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="calibrated")
    width = 1.0 / max(len(next(iter(curves.values()))["count"]), 1) if curves else 0.1
    for k, (name, r) in enumerate(curves.items()):
        conf = np.asarray(r["confidence"], dtype=float)
        acc = np.asarray(r["accuracy"], dtype=float)
        count = np.asarray(r["count"], dtype=float)
        used = (count > 0) & np.isfinite(conf) & np.isfinite(acc)
        label = name + (f" (ECE {float(r['ece']):.3f})" if r.get("ece") is not None else "")
        ax.plot(conf[used], acc[used], marker="o", ms=4, lw=1.5, label=label, color=f"C{k}")
        centres = (np.arange(len(count)) + 0.5) * width
        off = (k - (len(curves) - 1) / 2) * width / max(len(curves), 1)
        hist.bar(centres + off, count / max(count.sum(), 1), width=width / max(len(curves), 1), color=f"C{k}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    hist.set_xlabel("confidence of the predicted emotion")
    hist.set_ylabel("share")
    return fig


def _recalls(recall: Mapping[str, Any] | Evaluation) -> dict[str, float]:
    """Recall per class from a mapping, a ``per_class`` mapping of dicts, an Evaluation or its saved JSON
    (``{"labels", "pooled": {"per_class"}}``, or only ``{"labels", "confusion"}``). A class the test data
    lacks (support 0) has no recall, and no bar: a 0 % bar would lower the picture's UA."""
    if hasattr(recall, "pooled"):
        recall = {"labels": recall.labels, **recall.pooled}
    elif isinstance(recall, Mapping) and isinstance(recall.get("pooled"), Mapping):
        recall = {"labels": recall.get("labels"), **recall["pooled"]}
    if isinstance(recall, Mapping) and "per_class" in recall:
        recall = recall["per_class"]
    elif isinstance(recall, Mapping) and "confusion" in recall and "labels" in recall:
        m = np.asarray(recall["confusion"], dtype=float)  # a recording without an answer is a miss
        support = m.sum(axis=1) + np.asarray(recall.get("no_answer") or 0, dtype=float)
        recall = {
            lab: {"recall": m[i, i] / support[i] if support[i] else 0.0, "support": support[i]}
            for i, lab in enumerate(recall["labels"])
        }
    return {
        str(k): float(v["recall"] if isinstance(v, Mapping) else v)
        for k, v in recall.items()
        if not (isinstance(v, Mapping) and v.get("support", 1) == 0)
    }


def per_class_recall(recall: Mapping[str, Any] | Evaluation, title: str = "Recall per class") -> Figure:
    """Bar chart of recall per class, with the unweighted average recall (UA) and chance level.

    Parameters
    ----------
    recall : Mapping[str, float] or Evaluation
        Recall (0-1) per label, ``Evaluation.pooled["per_class"]``, an
        :class:`~emovox.evaluation.Evaluation` or its saved JSON (its pooled per-class recall; an emotion
        the test data lacks has no bar).
    title : str
        Axes title (default ``"Recall per class"``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a bar per class (recall in %), with lines at the UA and at chance (100 / number of bars).

    Examples
    --------
    >>> fig = per_class_recall({"angry": 0.9, "sad": 0.5, "happy": {"recall": 0.0, "support": 0}})
    >>> [round(b.get_height()) for b in fig.axes[0].patches]
    [90, 50]
    """
    r = _recalls(recall)
    labels = list(r)
    values = 100 * np.array([r[k] for k in labels])
    fig = new_figure((max(5.0, 0.8 * len(labels) + 2.5), 4.0))
    ax = fig.add_subplot()
    bars = ax.bar(labels, values, color=[emotion_color(k, i) for i, k in enumerate(labels)])
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    if labels:
        ax.axhline(
            values.mean(), color="black", linewidth=1.2, label=f"UA {values.mean():.1f} % (mean of the bars)"
        )
        ax.axhline(
            100 / len(labels),
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"chance {100 / len(labels):.1f} %",
        )
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylim(0, 105)
    ax.set_ylabel("recall (%)")
    ax.set_xlabel("true emotion")
    ax.tick_params(axis="x", rotation=30)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def training_curves(history: Mapping[str, Sequence[float]], title: str = "Training curves") -> Figure:
    """Loss and accuracy per epoch from a dict of lists.

    Keys containing ``loss`` go to the left panel, every other metric (``acc``, ``accuracy``, ``ua``...)
    to the right; ``val_`` / ``valid`` / ``test`` keys are dashed; bookkeeping (``lr``, ``seconds``) is
    left out. The best epoch is marked: the highest validation UA (ties: the lower validation loss), the
    epoch an emovox deep model keeps, or without a UA series the lowest validation loss. Example keys:
    ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``, ``val_ua``.

    Parameters
    ----------
    history : mapping of str to sequence of float
        One value per epoch for each key (empty series are left out).
    title : str
        Figure title (default ``"Training curves"``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes for the losses and one for the other metrics (only those that have series).

    Examples
    --------
    >>> history = {"train_loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.8, 0.9], "val_ua": [0.3, 0.5, 0.5], "lr": [0.1] * 3}
    >>> fig = training_curves(history)
    >>> [ax.get_ylabel() for ax in fig.axes], fig.axes[0].get_legend_handles_labels()[1][-1]
    (['loss', 'accuracy'], 'best val_ua (epoch 2)')
    """
    series = {
        k: np.asarray(v, dtype=float)
        for k, v in history.items()
        if len(v) and not k.lower().endswith(("lr", "learning_rate", "seconds", "time", "epoch"))
    }
    losses = [k for k in series if "loss" in k.lower()]
    metrics = [k for k in series if k not in losses]
    groups = [(g, name) for g, name in ((losses, "loss"), (metrics, "accuracy")) if g]
    fig = new_figure((5.0 * max(1, len(groups)) + 1, 3.8))
    axes = fig.subplots(1, max(1, len(groups)), squeeze=False)[0]

    def held_out(key: str) -> bool:
        k = key.lower()
        return k.startswith(("val", "valid", "test", "dev")) or "_val" in k or "valid" in k

    best, best_key = None, None
    val_losses = [k for k in losses if held_out(k)]
    val_ua = [k for k in metrics if held_out(k) and k.lower().endswith("ua")]
    if val_ua and np.isfinite(series[val_ua[0]]).any():
        ua, best_key = np.nan_to_num(series[val_ua[0]], nan=-np.inf), val_ua[0]
        loss = series[val_losses[0]] if val_losses else np.zeros_like(ua)
        loss = np.nan_to_num(loss, nan=np.inf)  # (ties on UA go to the lower loss; an epoch without one: inf)
        loss = np.concatenate([loss, np.full(max(0, len(ua) - len(loss)), np.inf)])
        best = max(range(len(ua)), key=lambda i: (ua[i], -loss[i])) + 1
    elif val_losses and np.isfinite(series[val_losses[0]]).any():  # a diverged run still gets its figure
        best, best_key = int(np.nanargmin(series[val_losses[0]])) + 1, val_losses[0]
    for ax, (keys, name) in zip(axes, groups, strict=False):
        for i, k in enumerate(keys):
            v = series[k]
            epochs = np.arange(1, len(v) + 1)
            ax.plot(
                epochs,
                v,
                linestyle="--" if held_out(k) else "-",
                marker="o" if len(v) <= 30 else None,
                markersize=3,
                color=EXTRA_COLORS[((1 if held_out(k) else 0) + 2 * (i // 2)) % len(EXTRA_COLORS)],
                label=k,
            )
        if best is not None:
            ax.axvline(best, color="0.5", linestyle=":", linewidth=1, label=f"best {best_key} (epoch {best})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if name == "accuracy" and all(np.nanmax(series[k]) <= 1.0 for k in keys):
            ax.set_ylim(0, 1)
    fig.suptitle(title)
    return fig
