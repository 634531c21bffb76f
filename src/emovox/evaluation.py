"""Scores under named protocols: UA, WA, macro F1, per-class precision/recall, confusion matrix.

UA (unweighted average recall, the mean of per-class recalls) is the field's headline figure: it is not
inflated by the majority class. WA is plain accuracy. Figures are computed per fold and averaged (as
EmoBox reports them); the confusion matrix pools every fold's test predictions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def scores(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, UA, macro F1, per-class precision/recall/F1/support and the confusion matrix.

    >>> s = scores(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(s["ua"], 3), round(s["accuracy"], 3)
    (0.75, 0.667)
    """
    labels = list(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        cm[index[t], index[p]] += 1
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    present = support > 0
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "ua": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {lab: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                            "support": int(support[i])} for i, lab in enumerate(labels)},
        "confusion": cm.tolist(),
        "n": int(cm.sum()),
    }


@dataclass
class FoldProba:
    """One fold's test rows and their class probabilities (columns in the evaluation's label order)."""

    name: str
    paths: list[str]
    y_true: list[str]
    proba: np.ndarray


@dataclass
class Evaluation:
    """The outcome of evaluating a recipe under a protocol.

    ``fold_proba`` keeps each fold's test probabilities where the model gives them, so that models
    evaluated on the same folds can be combined (:mod:`emovox.models.ensemble`); it is not saved to JSON.
    """

    protocol: str
    speaker_independent: bool
    labels: list[str]
    folds: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    fold_proba: list[FoldProba] = field(default_factory=list, repr=False)

    def mean(self, key: str) -> float:
        return float(np.mean([f[key] for f in self.folds]))

    def std(self, key: str) -> float:
        return float(np.std([f[key] for f in self.folds]))

    @property
    def summary(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "speaker_independent": self.speaker_independent,
            "n_folds": len(self.folds),
            "ua": self.mean("ua"), "ua_std": self.std("ua"),
            "accuracy": self.mean("accuracy"), "accuracy_std": self.std("accuracy"),
            "macro_f1": self.mean("macro_f1"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "labels": self.labels, "note": self.note, "recipe": self.recipe,
                "pooled": self.pooled,
                "folds": [{k: v for k, v in f.items() if k != "per_class"} for f in self.folds]}

    def save_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2))
        return path

    def table(self) -> str:
        """A plain-text report: headline figures, per-class precision/recall, confusion matrix."""
        s = self.summary
        lines = [
            f"protocol: {self.protocol} ({'speaker-independent' if self.speaker_independent else 'NOT speaker-independent: the same speakers are in training and test'})",
        ]
        if self.note:
            lines.append(f"note: {self.note}")
        lines += [
            f"folds: {s['n_folds']}   test utterances: {self.pooled.get('n', 0)}",
            f"UA        {100 * s['ua']:6.2f} % (± {100 * s['ua_std']:.2f} over folds)",
            f"accuracy  {100 * s['accuracy']:6.2f} % (± {100 * s['accuracy_std']:.2f})",
            f"macro F1  {100 * s['macro_f1']:6.2f} %",
            "",
            f"{'emotion':<12}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}",
        ]
        for lab, m in self.pooled["per_class"].items():
            lines.append(f"{lab:<12}{100 * m['precision']:>9.1f}%{100 * m['recall']:>8.1f}%"
                         f"{100 * m['f1']:>7.1f}%{m['support']:>9}")
        width = max(7, max(len(lab) for lab in self.labels) + 1)
        lines += ["", "confusion (rows true, columns predicted):",
                  " " * width + "".join(f"{lab[:6]:>7}" for lab in self.labels)]
        for lab, row in zip(self.labels, self.pooled["confusion"], strict=True):
            lines.append(f"{lab:<{width}}" + "".join(f"{v:>7}" for v in row))
        return "\n".join(lines)

    def confusion_figure(self, title: str | None = None):
        from . import plots

        s = self.summary
        return plots.confusion_matrix(
            np.array(self.pooled["confusion"]), self.labels,
            title=title or f"{self.protocol}: UA {100 * s['ua']:.1f} %, accuracy {100 * s['accuracy']:.1f} %")


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    protocol,
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    labels: Sequence[str],
    progress: bool = True,
) -> Evaluation:
    """Run ``fit_predict(X_train, y_train, X_test) -> y_pred`` on every fold of ``protocol``.

    Folds whose training or test side is empty are an error: a score from them would mean nothing.
    """
    from tqdm import tqdm

    from .errors import CorpusError

    labels = list(labels)
    folds, all_true, all_pred = [], [], []
    for fold in tqdm(protocol.folds, desc=f"evaluate {protocol.name}", unit="fold", disable=not progress,
                     leave=False):
        if len(fold.train) == 0 or len(fold.test) == 0:
            raise CorpusError(f"{protocol.name} {fold.name}: empty train or test set")
        pred = fit_predict(X[fold.train], y[fold.train], X[fold.test])
        s = scores(y[fold.test], pred, labels)
        s["fold"] = fold.name
        s["shared_speakers"] = len(fold.shared_speakers)
        folds.append(s)
        all_true.extend(y[fold.test])
        all_pred.extend(pred)
    return Evaluation(protocol.name, protocol.speaker_independent, labels, folds,
                      scores(all_true, all_pred, labels), protocol.note)
