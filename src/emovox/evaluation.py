"""Scores under named protocols: UA, WA, macro F1, per-class precision/recall, confusion matrix.

UA (unweighted average recall, the mean of per-class recalls) is the field's headline figure: it is not
inflated by the majority class. WA is plain accuracy. Figures are computed per fold and averaged (as
EmoBox reports them); the confusion matrix pools every fold's test predictions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from .inference import EmotionModel, Prediction
    from .splits import Protocol


def prediction_row(
    fold: str,
    path: Any,
    emotion: str,
    predicted: str,
    labels: Sequence[str],
    proba: Sequence[float] | np.ndarray | None = None,
) -> dict:
    """One row of :attr:`Evaluation.predictions`: the probabilities (over ``labels``) when there are any.

    Parameters
    ----------
    fold : str
        The fold's name.
    path : str or int
        The recording (its path, or its row number when there are no paths).
    emotion : str
        Its true emotion.
    predicted : str
        The predicted emotion (``"no speech"`` when none was given).
    labels : sequence of str
        The class of each entry of ``proba``.
    proba : sequence of float, optional
        The probabilities, one per label; None (default): no ``p_`` columns.

    Returns
    -------
    dict
        ``fold``, ``path``, ``emotion``, ``predicted``, and ``p_<label>`` (rounded to 6 decimals) for each label
        when there are probabilities.

    Examples
    --------
    >>> prediction_row("fold1", "a.wav", "sad", "angry", ["angry", "sad"], [0.75, 0.25])
    {'fold': 'fold1', 'path': 'a.wav', 'emotion': 'sad', 'predicted': 'angry', 'p_angry': 0.75, 'p_sad': 0.25}
    """
    row = {"fold": fold, "path": path, "emotion": emotion, "predicted": predicted}
    if proba is not None:
        row |= {f"p_{lab}": round(float(v), 6) for lab, v in zip(labels, proba, strict=True)}
    return row


def scores(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, UA, macro F1, per-class precision/recall/F1/support and the confusion matrix.

    Parameters
    ----------
    y_true : sequence of str
        True labels, each one of ``labels``.
    y_pred : sequence of str
        Predicted labels, as many; one outside ``labels`` (``"no speech"``) counts as a miss.
    labels : sequence of str
        The classes, in the order of the confusion matrix.

    Returns
    -------
    dict
        ``accuracy``, ``ua`` and ``macro_f1`` (0-1; UA and macro F1 over the classes with support),
        ``per_class`` (label to ``precision``, ``recall``, ``f1``, ``support``), ``confusion`` (list of lists,
        ``len(labels)`` by ``len(labels)``: rows true, columns predicted), ``n`` (rows scored); and, when a
        prediction is outside ``labels``, ``unlabelled_predictions`` (how many) and ``no_answer`` (how many
        per true class).

    Examples
    --------
    >>> s = scores(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(s["ua"], 3), round(s["accuracy"], 3)
    (0.75, 0.667)
    """
    labels = list(labels)
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    other = np.zeros(len(labels), dtype=int)  # predictions outside the labels (e.g. "no speech"): misses
    for t, p in zip(y_true, y_pred, strict=True):
        if p in index:
            cm[index[t], index[p]] += 1
        else:
            other[index[t]] += 1
    support = cm.sum(axis=1) + other
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0
    )
    present = support > 0
    return {
        "accuracy": float(tp.sum() / max(support.sum(), 1)),
        "ua": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            lab: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion": cm.tolist(),
        "n": int(support.sum()),
        **({"unlabelled_predictions": int(other.sum()), "no_answer": other.tolist()} if other.any() else {}),
    }


@dataclass
class FoldProba:
    """One fold's test rows and their class probabilities (columns in the evaluation's label order).

    Attributes
    ----------
    name : str
        The fold's name.
    paths : list of str
        The test recordings, in row order.
    y_true : list of str
        Their true emotions.
    proba : numpy.ndarray
        Their probabilities, shape ``(len(paths), len(labels))``.

    Examples
    --------
    >>> fp = FoldProba("s1", ["a.wav", "b.wav"], ["sad", "angry"], np.array([[0.2, 0.8], [0.7, 0.3]]))
    >>> fp.proba.argmax(axis=1).tolist()
    [1, 0]
    """

    name: str
    paths: list[str]
    y_true: list[str]
    proba: np.ndarray


@dataclass
class Evaluation:
    """The outcome of evaluating a recipe under a protocol (made by :func:`cross_validate` or
    :func:`evaluate_model`).

    Attributes
    ----------
    protocol : str
        The protocol's name (``kfold(5)``, ``loso``...).
    speaker_independent : bool
        No test speaker was heard in training.
    labels : list of str
        The classes, in the order of the confusion matrices and probability columns.
    folds : list of dict
        Each fold's :func:`scores`, with its ``fold`` name (and ``ece``, ``reliability`` once calibrated).
    pooled : dict
        The :func:`scores` of every fold's test rows together.
    note : str
        What a report should say of it (rows left out, ...).
    recipe : dict
        What was evaluated (the recipe's settings, or ``trained_model``).
    fold_proba : list of FoldProba
        Each fold's test probabilities where the model gives them, so that models evaluated on the same
        folds can be combined (:mod:`emovox.models.ensemble`); not saved to JSON.
    cross_corpus : bool
        Each fold is a whole corpus: held out (``loco``, ``cross``), or one a trained model was scored on.
    run : dict
        How the evaluation was run (command, version, seed, data), saved with it to reproduce it.
    predictions : list of dict
        One :func:`prediction_row` per test recording; written by :meth:`write_predictions`, not to JSON.

    The property ``summary`` holds the headline figures (means and spreads over folds) as a dict.

    Examples
    --------
    >>> import pandas as pd
    >>> from emovox.splits import leave_one_speaker_out
    >>> m = pd.DataFrame({"speaker": ["s1", "s1", "s2", "s2"]})
    >>> X, y = np.array([[0.0], [1.0], [0.6], [0.9]]), np.array(["sad", "angry", "sad", "angry"])
    >>> def fit_predict(X_train, y_train, X_test):  # p(angry) is the feature itself
    ...     p = X_test[:, 0]
    ...     return FoldResult(np.where(p > 0.5, "angry", "sad"), np.column_stack([p, 1 - p]))
    >>> ev = cross_validate(X, y, leave_one_speaker_out(m), fit_predict, ["angry", "sad"], paths=list("abcd"))
    >>> ev.summary["ua"], ev.summary["ua_std"], ev.pooled["confusion"]
    (0.75, 0.25, [[2, 0], [1, 1]])
    """

    protocol: str
    speaker_independent: bool
    labels: list[str]
    folds: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    fold_proba: list[FoldProba] = field(default_factory=list, repr=False)
    #: each fold is a whole corpus: held out (``loco``, ``cross``), or one a trained model was scored on
    cross_corpus: bool = False
    #: how the evaluation was run (command, version, seed, data), saved with it to reproduce it
    run: dict[str, Any] = field(default_factory=dict)
    #: one row per test recording: ``fold``, ``path`` (or its row number), ``emotion``, ``predicted`` and,
    #: where the model gives them, ``p_<emotion>``; written by :meth:`write_predictions`, not to JSON
    predictions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def write_predictions(self, path: str | os.PathLike) -> Path:
        """Every test recording's prediction as CSV (``.tsv``: tab-separated), one row each, in fold
        order: what a significance test, a bootstrap interval or a check of the splits needs.

        Parameters
        ----------
        path : str or path
            The file to write (replaced whole; its folder is created).

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        EmovoxError
            When the evaluation kept no per-recording predictions.

        Examples
        --------
        >>> ev = Evaluation("loso", True, ["angry", "sad"])
        >>> ev.predictions = [prediction_row("s1", "a.wav", "sad", "sad", ev.labels, [0.25, 0.75])]
        >>> print(ev.write_predictions("predictions.csv").read_text().strip())
        fold,path,emotion,predicted,p_angry,p_sad
        s1,a.wav,sad,sad,0.25,0.75
        """
        import csv

        from .errors import EmovoxError
        from .paths import delimiter, replacing

        if not self.predictions:
            raise EmovoxError(f"{path}: this evaluation kept no per-recording predictions to write")
        cols = ["fold", "path", "emotion", "predicted"] + [f"p_{lab}" for lab in self.labels]
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with replacing(out) as tmp, open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, cols, delimiter=delimiter(out), extrasaction="ignore")
            w.writeheader()
            w.writerows(self.predictions)
        return out

    def mean(self, key: str) -> float:
        """The mean of a metric over the folds.

        Parameters
        ----------
        key : str
            A metric every fold holds (``ua``, ``accuracy``, ``macro_f1``, ``ece``...).

        Returns
        -------
        float

        Examples
        --------
        >>> Evaluation("kfold(2)", True, ["angry", "sad"], [{"ua": 0.5}, {"ua": 1.0}]).mean("ua")
        0.75
        """
        return float(np.mean([f[key] for f in self.folds]))

    def std(self, key: str) -> float:
        """The (population) standard deviation of a metric over the folds.

        Parameters
        ----------
        key : str
            A metric every fold holds (``ua``, ``accuracy``, ``macro_f1``, ``ece``...).

        Returns
        -------
        float

        Examples
        --------
        >>> Evaluation("kfold(2)", True, ["angry", "sad"], [{"ua": 0.5}, {"ua": 1.0}]).std("ua")
        0.25
        """
        return float(np.std([f[key] for f in self.folds]))

    @property
    def summary(self) -> dict[str, Any]:
        """The headline figures: protocol, ``n_folds``, means over folds (``ua``, ``accuracy``,
        ``macro_f1``, ``ece`` when calibrated) and spreads (None for one fold); ``per_corpus`` when
        cross-corpus."""
        return {
            "protocol": self.protocol,
            "speaker_independent": self.speaker_independent,
            "n_folds": len(self.folds),
            "ua": self.mean("ua"),
            # (one fold has no spread to measure: null, not 0)
            "ua_std": self.std("ua") if len(self.folds) > 1 else None,
            "accuracy": self.mean("accuracy"),
            "accuracy_std": self.std("accuracy") if len(self.folds) > 1 else None,
            "macro_f1": self.mean("macro_f1"),
            **(
                {"ece": self.mean("ece"), "ece_max": max(f["ece"] for f in self.folds)}
                if self.folds and all("ece" in f for f in self.folds)
                else {}
            ),
            **(
                {"ece_uncalibrated": self.mean("ece_uncalibrated")}
                if self.folds and all("ece_uncalibrated" in f for f in self.folds)
                else {}
            ),
            **(
                {
                    "ua_min": min(f["ua"] for f in self.folds),
                    "per_corpus": {
                        f["fold"]: {
                            k: f[k]
                            for k in ("ua", "accuracy", "macro_f1", "ece", "ece_uncalibrated", "n")
                            if k in f
                        }
                        for f in self.folds
                    },
                }
                if self.cross_corpus
                else {}
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """What ``evaluate --json`` saves (docs/results.md): :attr:`summary`, ``labels``, ``note``,
        ``recipe``, ``pooled``, the folds (without their per-class tables) and ``run``.

        Returns
        -------
        dict

        Examples
        --------
        >>> s = scores(["sad", "angry"], ["sad", "sad"], ["angry", "sad"])
        >>> d = Evaluation("loso", True, ["angry", "sad"], [s], s).to_dict()
        >>> d["protocol"], d["ua"], d["ua_std"], sorted(d["folds"][0])
        ('loso', 0.5, None, ['accuracy', 'confusion', 'macro_f1', 'n', 'ua'])
        """
        return {
            **self.summary,
            "labels": self.labels,
            "note": self.note,
            "recipe": self.recipe,
            "pooled": self.pooled,
            "folds": [{k: v for k, v in f.items() if k != "per_class"} for f in self.folds],
            **({"run": self.run} if self.run else {}),
        }

    def reliability_figure(self, title: str | None = None) -> Figure:
        """The reliability diagram of the test probabilities (one curve per held-out corpus for ``loco``).

        Parameters
        ----------
        title : str, optional
            The figure's title; None (default): :func:`figure_title`'s.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        EmovoxError
            When the evaluation has no calibration bins (:func:`reliability_curves`).

        Examples
        --------
        >>> s = scores(["sad", "angry"], ["sad", "angry"], ["angry", "sad"])
        >>> ev = Evaluation("loso", True, ["angry", "sad"], [s], s)
        >>> ev.fold_proba = [FoldProba("s1", ["a.wav", "b.wav"], ["sad", "angry"], np.array([[0.2, 0.8], [0.7, 0.3]]))]
        >>> add_calibration(ev)
        >>> ev.reliability_figure()
        <Figure size ... with 2 Axes>
        """
        from . import plots

        data = self.to_dict()
        return plots.reliability_diagram(
            reliability_curves(data), title=title or figure_title(data, "reliability")
        )

    def save_json(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as indented JSON.

        Parameters
        ----------
        path : str or path
            The file to write (replaced whole; its folder is created).

        Returns
        -------
        pathlib.Path
            ``path``.

        Examples
        --------
        >>> s = scores(["sad", "angry"], ["sad", "sad"], ["angry", "sad"])
        >>> out = Evaluation("loso", True, ["angry", "sad"], [s], s).save_json("results/loso.json")
        >>> json.loads(out.read_text())["ua"]
        0.5
        """
        from .paths import replacing

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2))
        return path

    def _ua_over(self) -> str:
        """What UA is the mean of, and chance: over the emotions each fold was scored on (with test
        recordings), which under leave one corpus out differ from corpus to corpus."""
        counts = sorted(
            {
                sum(c.get("support", 0) > 0 for c in f["per_class"].values())
                for f in self.folds
                if f.get("per_class")
            }
            or {len(self.labels)}
        )
        lo, hi = counts[0], counts[-1]
        if lo == hi:
            return f"mean recall over the {lo} emotions{'' if lo == len(self.labels) else ' scored'}; chance {100 / max(lo, 1):.1f} %"
        return (
            f"mean recall over the emotions each {'corpus' if self.cross_corpus else 'fold'} has ({lo}-{hi} of "
            f"{len(self.labels)}); chance {100 / hi:.1f}-{100 / max(lo, 1):.1f} %"
        )

    def table(self) -> str:
        """A plain-text report, as ``emovox evaluate`` prints it: the protocol (speaker-independent or not,
        and why), what was scored, the headline figures with what UA is the mean of and chance, each
        held-out corpus's figures, per-class precision / recall / F1 and the confusion matrix.

        Returns
        -------
        str

        Examples
        --------
        >>> s = scores(["sad", "angry", "angry"], ["sad", "sad", "angry"], ["angry", "sad"])
        >>> print(Evaluation("loso", True, ["angry", "sad"], [s], s).table())
        protocol: loso (speaker-independent)
        folds: 1   test utterances: 3
        UA         75.00 %   (mean recall over the 2 emotions; chance 50.0 %)
        accuracy   66.67 %
        macro F1   66.67 %
        <BLANKLINE>
        emotion      precision   recall      f1  support
        angry           100.0%    50.0%   66.7%        2
        sad              50.0%   100.0%   66.7%        1
        <BLANKLINE>
        confusion (rows true, columns predicted):
                 angry    sad
        angry        1      1
        sad          0      1
        """
        s = self.summary
        lines = [
            f"protocol: {self.protocol} ({'speaker-independent' if self.speaker_independent else 'NOT speaker-independent: ' + self._heard()})",
        ]
        if what := scored(self.recipe):
            lines.insert(0, f"scored: {what}")
        if self.note:
            lines.append(f"note: {self.note}")
        several = s["n_folds"] > 1  # a spread and a mean over one fold would say nothing
        lines += [
            f"folds: {s['n_folds']}   test utterances: {self.pooled.get('n', 0)}",
            f"UA        {100 * s['ua']:6.2f} %"
            + (f" (± {100 * s['ua_std']:.2f} over folds)" if several else "")
            + f"   ({self._ua_over()})",
            f"accuracy  {100 * s['accuracy']:6.2f} %"
            + (f" (± {100 * s['accuracy_std']:.2f})" if several else ""),
            f"macro F1  {100 * s['macro_f1']:6.2f} %",
        ]
        if "ece" in s:
            lines.append(
                f"ECE       {s['ece']:6.3f}   (expected calibration error"
                + (f", mean over folds; max {s['ece_max']:.3f}" if several else "")
                + (
                    f"; {self.pooled['ece']:.3f} pooled, as the reliability diagram draws it"
                    if several and self.pooled.get("ece") is not None
                    else ""
                )
                + (f"; {s['ece_uncalibrated']:.3f} before calibration" if "ece_uncalibrated" in s else "")
                + ")"
            )
        if self.cross_corpus:
            head = "held-out corpus" if self.speaker_independent else "corpus"
            lines += ["", f"{head:<18}{'UA':>7}{'WA':>7}{'F1':>7}{'ECE':>7}{'n':>6}"]
            for f in self.folds:
                ece_ = f"{f['ece']:>7.3f}" if "ece" in f else f"{'-':>7}"
                lines.append(
                    f"{f['fold']:<18}{100 * f['ua']:>6.1f}%{100 * f['accuracy']:>6.1f}%"
                    f"{100 * f['macro_f1']:>6.1f}%{ece_}{f['n']:>6}"
                )
        if any("best_params" in f for f in self.folds):  # nested tuning: what each fold's search chose
            lines += ["", "parameters chosen in each fold (inner UA):"]
            for i, f in enumerate(self.folds):
                chosen = ", ".join(
                    f"{k.split('__')[-1]}={v}" for k, v in (f.get("best_params") or {}).items()
                )
                inner = f" ({100 * f['inner_ua']:.1f} %)" if f.get("inner_ua") is not None else ""
                lines.append(f"  {f.get('fold', i)}: {chosen or '-'}{inner}")
        lines += [
            "",
            f"{'emotion':<12}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}",
        ]
        conf = np.asarray(self.pooled.get("confusion") or [[0]], dtype=float)
        predicted = dict(zip(self.labels, conf.sum(axis=0), strict=False))

        def pct(x: float, width: int, defined: bool) -> str:  # "-" where nothing was there to measure
            return f"{100 * x:>{width}.1f}%" if defined else f"{'-':>{width + 1}}"

        for lab, m in self.pooled["per_class"].items():
            tested = m["support"] > 0
            lines.append(
                f"{lab:<12}{pct(m['precision'], 9, tested or predicted.get(lab, 1) > 0)}"
                f"{pct(m['recall'], 8, tested)}"
                f"{pct(m['f1'], 7, tested)}{m['support']:>9}" + ("" if tested else "  (no test recordings)")
            )
        width = max(7, max(len(lab) for lab in self.labels) + 1)
        cell = max(7, max(len(lab) for lab in self.labels) + 1)  # whole names: "surprised", not "surpri"
        # a file judged to hold no speech is a miss: its own column, so each row sums to the support
        missed = self.pooled.get("no_answer")
        columns = self.labels + (["no speech"] if missed else [])
        cell = max(cell, 10) if missed else cell
        lines += [
            "",
            "confusion (rows true, columns predicted):",
            " " * width + "".join(f"{lab:>{cell}}" for lab in columns),
        ]
        for i, (lab, row) in enumerate(zip(self.labels, self.pooled["confusion"], strict=True)):
            row = [*row, missed[i]] if missed else row
            lines.append(f"{lab:<{width}}" + "".join(f"{v:>{cell}}" for v in row))
        return "\n".join(lines)

    def _heard(self) -> str:
        """Why the evaluation is not speaker-independent: a trained model's note says which of its speakers,
        files or silence about them (:func:`evaluate_model`); a protocol's reason is its own."""
        return (
            "see the note" if "trained_model" in self.recipe else "the same speakers are in training and test"
        )

    def confusion_figure(self, title: str | None = None) -> Figure:
        """The pooled confusion matrix as a figure (with a column of inputs that got no answer, when any).

        Parameters
        ----------
        title : str, optional
            The figure's title; None (default): :func:`figure_title`'s.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> s = scores(["sad", "angry"], ["sad", "sad"], ["angry", "sad"])
        >>> Evaluation("loso", True, ["angry", "sad"], [s], s).confusion_figure(title="demo")
        <Figure size ... with ... Axes>
        """
        from . import plots

        s = self.summary
        return plots.confusion_matrix(
            np.array(self.pooled["confusion"]),
            self.labels,
            no_answer=self.pooled.get("no_answer"),
            title=title or figure_title({**s, "recipe": self.recipe}, "confusion"),
        )


def protocol_title(summary: dict[str, Any]) -> str:
    """How a figure names the protocol of an evaluation (its ``summary`` or JSON): a figure shown alone
    must say when its speakers were heard in training.

    Parameters
    ----------
    summary : dict
        An evaluation's ``summary`` or JSON (``protocol``, ``speaker_independent``).

    Returns
    -------
    str

    Examples
    --------
    >>> protocol_title({"protocol": "kfold", "speaker_independent": False})
    'kfold (NOT speaker-independent)'
    """
    protocol = str(summary.get("protocol", "evaluation"))
    if summary.get("speaker_independent") is False:
        protocol += " (NOT speaker-independent)"
    return protocol


def scored(recipe: dict[str, Any] | None) -> str | None:
    """What an evaluation scored, in a few words (its ``recipe``): ``logreg on tutorial features``, or
    ``model default`` for a trained model; None when it does not say.

    Parameters
    ----------
    recipe : dict or None
        :attr:`Evaluation.recipe`, or the ``recipe`` of its JSON.

    Returns
    -------
    str or None

    Examples
    --------
    >>> scored({"name": "logreg", "features": {"type": "handcrafted", "config": {"name": "tutorial"}}})
    'logreg on tutorial features'
    >>> scored({"trained_model": "/m/default", "name": "default"})
    'model default'
    """
    if not isinstance(recipe, dict) or not recipe:
        return None
    if "trained_model" in recipe:
        return f"model {recipe.get('name') or Path(str(recipe['trained_model'])).name}"
    name = recipe.get("name") or recipe.get("model")
    features = recipe.get("features") if isinstance(recipe.get("features"), dict) else {}
    config = features.get("config") if isinstance(features.get("config"), dict) else {}
    kind = config.get("name") or features.get("name") or features.get("type")
    return f"{name} on {kind} features" if name and kind else (str(name) if name else None)


def figure_title(data: dict[str, Any], kind: str) -> str:
    """The title of a figure of an evaluation (its ``summary`` or JSON): the protocol, and the headline
    figure with what it is, the same whether ``evaluate --confusion`` or ``emovox plot`` draws it.
    ``kind``: ``confusion``, ``reliability`` or ``recall``.

    Parameters
    ----------
    data : dict
        :attr:`Evaluation.summary`, or the evaluation's JSON (``protocol``, ``ua``, ``ece``, ``n_folds``,
        ``speaker_independent``, ``per_corpus``).
    kind : str
        ``"confusion"``, ``"reliability"`` or ``"recall"``.

    Returns
    -------
    str
        One line.

    Examples
    --------
    >>> figure_title({"protocol": "loco", "ua": 0.36, "n_folds": 4, "per_corpus": {}}, "confusion")
    'loco: UA 36.0 % mean over folds; cells pooled'
    """
    several = data.get("n_folds", 2) > 1
    what = scored(data.get("recipe"))
    if what:  # which model, above the protocol and its figure: two runs' figures told apart
        return f"{what}\n" + figure_title({k: v for k, v in data.items() if k != "recipe"}, kind)
    if kind == "reliability":
        name, figure, key = ": reliability", f"ECE {data.get('ece', 0):.3f}", "ece"
        drawn = "one curve per held-out corpus" if data.get("per_corpus") else "curve pooled"
    else:
        name = ": recall per class" if kind == "recall" else ""
        figure, key = f"UA {100 * data.get('ua', 0):.1f} %", "ua"
        drawn = "bars pooled" if kind == "recall" else "cells pooled"
    if key not in data:
        return protocol_title(data) + name
    title = protocol_title(data) + (f"{name}, " if name else ": ") + figure
    return title + (f" mean over folds; {drawn}" if several else "")


def evaluation_metadata(ev: Evaluation | None) -> dict[str, Any]:
    """What a model directory's metadata says of the evaluation it was trained with (``metrics``,
    ``per_class_recall``; None without one): one place for classical, deep and ensemble models.

    Parameters
    ----------
    ev : Evaluation or None
        The evaluation, or None when the model was trained without one.

    Returns
    -------
    dict
        ``metrics`` (the evaluation's ``summary``) and ``per_class_recall`` (label -> pooled recall).

    Examples
    --------
    >>> evaluation_metadata(None)
    {'metrics': None, 'per_class_recall': None}
    """
    if ev is None:
        return {"metrics": None, "per_class_recall": None}
    recall = {k: v["recall"] for k, v in ev.pooled["per_class"].items()}
    return {"metrics": ev.summary, "per_class_recall": recall}


def save_evaluation_files(ev: Evaluation, folder: str | Path) -> None:
    """``evaluation.json`` and ``confusion.png`` beside a model trained after this evaluation.

    Parameters
    ----------
    ev : Evaluation
        The evaluation (its pooled confusion matrix is drawn).
    folder : str or Path
        The model directory (made when missing).

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> s = scores(["sad", "angry"], ["sad", "sad"], ["angry", "sad"])
    >>> ev = Evaluation("loso", True, ["angry", "sad"], [s], s)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_evaluation_files(ev, folder)
    ...     sorted(p.name for p in Path(folder).iterdir())
    ['confusion.png', 'evaluation.json']
    """
    from . import plots

    plots.save(ev.confusion_figure(), Path(folder) / "confusion.png")
    ev.save_json(Path(folder) / "evaluation.json")


@dataclass
class FoldResult:
    """What a ``fit_predict`` of :func:`cross_validate` may return instead of bare predictions: the
    predicted labels, the test probabilities (columns in ``labels`` order; kept as the fold's
    :class:`FoldProba`) and extra per-fold figures (training time, chosen parameters...).

    Attributes
    ----------
    pred : sequence of str
        The predicted label of each test row.
    proba : numpy.ndarray, optional
        The test probabilities, shape ``(n_test, len(labels))``; None (default): none.
    extra : dict
        Figures added to the fold's scores (default empty).

    Examples
    --------
    >>> r = FoldResult(["sad", "angry"], np.array([[0.3, 0.7], [0.9, 0.1]]), {"fit_seconds": 0.2})
    >>> list(r.pred), r.extra
    (['sad', 'angry'], {'fit_seconds': 0.2})
    """

    pred: Sequence[str]
    proba: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def once_per_training_side() -> Callable[..., Any]:
    """A memo for a ``fit_predict`` of :func:`cross_validate`: each thing of a training side is made once.

    ``cross:A->B,C`` tests several corpora on one training side; a fold with another side clears it
    (those never come back).

    Returns
    -------
    callable
        ``get(train_rows, make, what="fit")``: ``make()``'s result for this training side (the rows, a
        numpy array) and ``what``, made on the first call only.

    Examples
    --------
    >>> get = once_per_training_side()
    >>> rows = np.array([0, 1, 2])
    >>> get(rows, lambda: "fitted"), get(rows, lambda: "fitted again")
    ('fitted', 'fitted')
    >>> get(np.array([3, 4]), lambda: "another side")
    'another side'
    """
    memo: dict[str, Any] = {}

    def get(train_rows: np.ndarray, make: Callable[[], Any], what: str = "fit") -> Any:
        side = train_rows.tobytes()
        if memo.get("side") != side:
            memo.clear()
            memo["side"] = side
        if what not in memo:
            memo[what] = make()
        return memo[what]

    return get


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    protocol: Protocol,
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray | FoldResult],
    labels: Sequence[str],
    progress: bool = False,
    *,
    folds: Sequence | None = None,
    paths: Sequence[str] | None = None,
    on_fold: Callable[[int, int, Any, dict[str, Any]], None] | None = None,
) -> Evaluation:
    """Run ``fit_predict(X_train, y_train, X_test)`` on every fold of ``protocol`` (or on ``folds``, a
    subset of them): the one fold loop of every recipe (hand-crafted, encoder, deep, nested tuning).

    ``fit_predict`` returns the predicted labels, or a :class:`FoldResult` with probabilities (kept per
    fold, with ``paths``, when every fold gives them) and extra per-fold figures. ``on_fold(i, n, fold,
    scores)`` is called after each fold (for a log line). Folds whose training or test side is empty are
    an error: a score from them would mean nothing.

    Parameters
    ----------
    X : numpy.ndarray
        Features, shape ``(n, n_features)``.
    y : numpy.ndarray
        Labels, shape ``(n,)``.
    protocol : Protocol
        The folds (row positions into ``X``), with a ``name`` and a ``note``
        (:func:`emovox.splits.make_protocol`).
    fit_predict : callable
        ``fit_predict(X_train, y_train, X_test)``: predicted labels, or a :class:`FoldResult`.
    labels : sequence of str
        The classes, in the order of the confusion matrices and of the probabilities' columns.
    progress : bool
        Show a progress bar over the folds (default False).
    folds : sequence of Fold, optional
        Run these folds of ``protocol`` only; None (default): all of them.
    paths : sequence of str, optional
        The recording of each row: names each prediction (else its row number), and needed to keep the
        folds' probabilities.
    on_fold : callable, optional
        ``on_fold(i, n, fold, scores)``, called after each fold.

    Returns
    -------
    Evaluation
        Per-fold :func:`scores` (with ``fold``, ``shared_speakers`` and the ``extra`` figures), the pooled
        scores of every fold's test rows, and one prediction row per test recording. Test rows whose emotion
        the fold's training side lacks are left out, and the note says how many.

    Examples
    --------
    >>> import pandas as pd
    >>> from emovox.splits import leave_one_corpus_out
    >>> m = pd.DataFrame({"corpus": ["a", "a", "b", "b"], "speaker": ["a:1", "a:2", "b:1", "b:2"]})
    >>> X, y = np.array([[0.0], [1.0], [0.1], [0.9]]), np.array(["sad", "angry", "sad", "angry"])
    >>> def nearest(X_train, y_train, X_test):  # one nearest neighbour
    ...     return y_train[np.abs(X_test - X_train.T).argmin(axis=1)]
    >>> ev = cross_validate(X, y, leave_one_corpus_out(m), nearest, ["angry", "sad"], progress=False)
    >>> ev.protocol, len(ev.folds), ev.pooled["ua"], ev.pooled["confusion"]
    ('loco', 2, 1.0, [[2, 0], [0, 2]])
    """
    from tqdm import tqdm

    from .errors import CorpusError

    labels = list(labels)
    used = list(protocol.folds if folds is None else folds)
    out_folds, all_true, all_pred, fold_proba, left_out, predictions = [], [], [], [], [], []
    for i, fold in enumerate(
        tqdm(used, desc=f"evaluate {protocol.name}", unit="fold", disable=not progress, leave=False)
    ):
        if len(fold.train) == 0 or len(fold.test) == 0:
            raise CorpusError(f"{protocol.name} {fold.name}: empty train or test set")
        # an emotion its training side lacks cannot be predicted: scored, it would only be a 0 % recall
        # that says nothing of the model (EMO-DB's boredom when the other corpora have none)
        known = np.isin(y[fold.test], np.unique(y[fold.train]))
        test = fold.test[known]
        if not known.all():
            lacking = sorted(set(y[fold.test][~known]))
            left_out.append(f"{fold.name}: {int((~known).sum())} of {', '.join(lacking)}")
        if len(test) == 0:
            raise CorpusError(f"{protocol.name} {fold.name}: no test emotion is on the training side")
        result = fit_predict(X[fold.train], y[fold.train], X[test])
        if not isinstance(result, FoldResult):
            result = FoldResult(result)
        s = scores(y[test], result.pred, labels)
        s["fold"] = fold.name
        s["shared_speakers"] = len(fold.shared_speakers)
        s.update(result.extra)
        out_folds.append(s)
        predictions += [
            prediction_row(
                fold.name,
                paths[k] if paths is not None else int(k),
                y[k],
                result.pred[j],
                labels,
                None if result.proba is None else result.proba[j],
            )
            for j, k in enumerate(test)
        ]
        all_true.extend(y[test])
        all_pred.extend(result.pred)
        if result.proba is not None and paths is not None:
            test_paths = [paths[k] for k in test]
            fold_proba.append(FoldProba(fold.name, test_paths, list(y[test]), result.proba))
        if on_fold:
            on_fold(i, len(used), fold, s)
    note = protocol.note
    if left_out:
        note = "; ".join(
            filter(
                None, [note, "left out, their emotion absent from the training side: " + ", ".join(left_out)]
            )
        )
    return Evaluation(
        protocol.name,
        all(f.speaker_independent for f in used),
        labels,
        out_folds,
        scores(all_true, all_pred, labels),
        note,
        fold_proba=fold_proba if len(fold_proba) == len(used) else [],
        cross_corpus=getattr(protocol, "cross_corpus", False),
        predictions=predictions,
    )


def add_calibration(ev: Evaluation) -> None:
    """Each fold's expected calibration error (and the pooled one), from the evaluation's test probabilities.

    Sets ``ece`` and ``reliability`` (its bins, NaN as None) in each fold and in ``pooled``.

    Parameters
    ----------
    ev : Evaluation
        Changed in place; needs its ``fold_proba``, one per fold.

    Examples
    --------
    >>> s = scores(["sad", "angry"], ["sad", "angry"], ["angry", "sad"])
    >>> ev = Evaluation("loso", True, ["angry", "sad"], [s], s)
    >>> ev.fold_proba = [FoldProba("s1", ["a.wav", "b.wav"], ["sad", "angry"], np.array([[0.2, 0.8], [0.7, 0.3]]))]
    >>> add_calibration(ev)
    >>> round(ev.folds[0]["ece"], 3), round(ev.pooled["ece"], 3)
    (0.25, 0.25)
    """
    from .calibration import ece, reliability

    def bins(p, y):
        return {
            k: [None if not np.isfinite(v) else round(float(v), 5) for v in a]
            for k, a in reliability(p, y).items()
            if k != "edges"
        }

    index = {lab: i for i, lab in enumerate(ev.labels)}
    for fold, fp in zip(ev.folds, ev.fold_proba, strict=True):
        y = [index[t] for t in fp.y_true]
        fold["ece"] = ece(fp.proba, y)
        fold["reliability"] = bins(fp.proba, y)
    p = np.vstack([fp.proba for fp in ev.fold_proba])
    y = [index[t] for fp in ev.fold_proba for t in fp.y_true]
    ev.pooled["ece"] = ece(p, y)
    ev.pooled["reliability"] = bins(p, y)


def reliability_curves(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Reliability bins of an evaluation (its ``to_dict()`` or JSON): one curve per fold for cross-corpus
    protocols (each held-out corpus), else the pooled one; for :func:`emovox.plots.reliability_diagram`.

    Parameters
    ----------
    data : dict
        An evaluation's ``to_dict()`` or JSON.

    Returns
    -------
    dict of str to dict
        Curve name -> its bins and ``ece``.

    Raises
    ------
    EmovoxError
        When the evaluation has no calibration bins.

    Examples
    --------
    >>> s = scores(["sad", "angry"], ["sad", "angry"], ["angry", "sad"])
    >>> ev = Evaluation("loso", True, ["angry", "sad"], [s], s)
    >>> ev.fold_proba = [FoldProba("s1", ["a.wav", "b.wav"], ["sad", "angry"], np.array([[0.2, 0.8], [0.7, 0.3]]))]
    >>> add_calibration(ev)
    >>> curves = reliability_curves(ev.to_dict())
    >>> list(curves), sorted(curves["loso, folds pooled"])
    (['loso, folds pooled'], ['accuracy', 'confidence', 'count', 'ece'])
    """
    from .errors import EmovoxError

    folds = [f for f in data.get("folds", []) if "reliability" in f]
    if data.get("per_corpus") and folds:
        return {f["fold"]: {**f["reliability"], "ece": f.get("ece")} for f in folds}
    pooled = data.get("pooled", {})
    if "reliability" not in pooled:
        raise EmovoxError(
            "the evaluation has no calibration bins: its model gave no probabilities (an SVM without them, "
            "or `emovox tune`), or an emovox before calibration was measured made it"
        )
    # the folds' recordings together: its ECE is not the mean over folds that the text report heads with
    name = f"{data['protocol']}, folds pooled" if data.get("protocol") else "pooled"
    return {name: {**pooled["reliability"], "ece": pooled.get("ece")}}


def _shared_speakers(trained: list[str], corpora: list[str], manifest) -> set[str]:
    """The test speakers a model heard in training: the same name, or the same speaker spelled without its
    corpus (``03`` for ``emodb:03``, as hand-written manifests do) in a corpus it was trained on."""
    if "speaker" not in manifest:
        return set()
    trained = {str(s) for s in trained}
    plain = {s for s in trained if ":" not in s}
    shared = set()
    for speaker, corpus in zip(
        manifest["speaker"], manifest.get("corpus", [None] * len(manifest)), strict=True
    ):
        if speaker is None or speaker != speaker:  # an empty cell (None, NaN) names nobody
            continue
        speaker = str(speaker)
        bare = speaker.rsplit(":", 1)[-1]
        if speaker in trained or f"{corpus}:{bare}" in trained or (corpus in corpora and bare in plain):
            shared.add(speaker)
    return shared


def library_versions() -> dict[str, str]:
    """Python's and the numerical libraries' versions, for a run record: what else than emovox's own
    version a figure needs to be reproduced on another machine (those installed; torch only where it is).

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> sorted(library_versions())[:3]
    ['numpy', 'onnxruntime', 'pandas']
    """
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("numpy", "onnxruntime", "pandas", "scikit-learn", "scipy", "soundfile", "torch"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out | {"python": platform.python_version()}


def evaluate_model(
    model: EmotionModel | str | os.PathLike,
    manifest: pd.DataFrame,
    *,
    same_speaker: bool = False,
    same_channel: bool = False,
    progress: bool = False,
    check_speech: bool = True,
    speaker_adapt: bool = False,
) -> tuple[Evaluation, list[Prediction]]:
    """Score a trained model (an :class:`~emovox.inference.EmotionModel`) on a labelled manifest.

    Each file is predicted as a user would predict it (speech check included: a file found to hold no
    speech counts as an error); utterances whose emotion the model does not know are left out, and the
    note says how many. ``same_speaker``: each speaker's recordings are scored together as one session
    (``--same-speaker``); ``same_channel``: each corpus's recordings, as one channel (``--same-channel``;
    a ``corpus`` column is needed). ``progress``: a progress bar over the files.
    The result is speaker-independent only when the model lists its training speakers and none of them
    is in ``manifest`` (which needs a ``speaker`` column, or a ``corpus`` column naming only corpora the
    model was not trained on); the note says which.

    Parameters
    ----------
    model : EmotionModel, path or name
        The trained model (a directory or bundled name is loaded); restricted to the data's emotions for
        the scoring, then restored.
    manifest : pandas.DataFrame
        One row per recording: ``path`` and ``emotion`` (``speaker``, ``corpus`` where a session or the
        speaker-independence check needs them).
    same_speaker : bool
        Score each speaker's recordings together (default False).
    same_channel : bool
        Score each corpus's recordings together (default False); not with ``same_speaker``.
    progress : bool
        Show a progress bar (default False).
    check_speech : bool
        Check each recording for speech first, as a user's prediction is (default True); False: every
        labelled recording gets an emotion, as a recipe's evaluation scores them (the check misses a few
        real sentences: ``--no-speech-check``).
    speaker_adapt : bool
        ``same_speaker``'s former name (as :func:`emovox.experiments.evaluate` keeps it).

    Returns
    -------
    (Evaluation, list of Prediction)
        The evaluation, and the predictions that failed (unreadable files), each with its ``error``.

    Examples
    --------
    >>> from emovox import load_model
    >>> from emovox.audio.synthetic import toy_corpus
    >>> m = toy_corpus(n=4, emotions=("angry", "sad"), speakers=1)  # 4 tones of 1 s, one speaker
    >>> ev, failed = evaluate_model(load_model(), m, check_speech=False)  # tones hold no speech
    >>> ev.protocol, ev.labels, ev.pooled["n"], failed
    ('held-out(toy)', ['sad', 'angry'], 4, [])
    """
    from . import __version__
    from .adaptation import session_kind
    from .errors import CorpusError
    from .labels import label_order

    if not hasattr(model, "labels"):  # a directory or a bundled model's name, as the CLI's --trained
        from .inference import load_model

        model = load_model(model)
    kind = session_kind(same_speaker or speaker_adapt, same_channel, "same_speaker")
    session = "corpus" if kind == "channel" else kind
    # scored on the emotions the data has, as each held-out corpus is under loco: a class the data lacks
    # (EMOVO has no boredom) would only take probability from the others
    had = None if model.labels == model.all_labels else list(model.labels)
    present = [lab for lab in model.labels if lab in set(manifest["emotion"])]
    if len(present) < 2:  # one emotion or none: UA would be 100 % or 0 %, not a measure of anything
        raise CorpusError(
            f"the data holds {len(present)} of the model's emotions ({', '.join(present) or 'none'}; it knows "
            f"{', '.join(model.labels)}): scoring needs at least two"
        )
    restricted = len(present) < len(model.labels)
    checked = model.check_speech
    try:
        if restricted:
            model.restrict(present)
        model.check_speech = checked and check_speech
        preds = _predict_manifest(model, manifest, session, progress)
        labels = label_order(model.labels)  # as a recipe's evaluation orders them, to compare
    finally:
        model.check_speech = checked
        if restricted:
            model.restrict(had)
    failed = [p for p in preds if not p.ok]
    corpus_of = manifest["corpus"].astype(str) if "corpus" in manifest else [""] * len(manifest)
    kept = [
        (p, e, c)
        for p, e, c in zip(preds, manifest["emotion"], corpus_of, strict=True)
        if p.ok and e in labels
    ]
    ok = [(p, e) for p, e, _ in kept]
    dropped = len(preds) - len(failed) - len(ok)
    no_speech = sum(1 for p, _ in ok if not p.speech)

    def scored(rows) -> dict[str, Any]:  # a file without speech counts as wrong: a miss
        return scores(
            [r[1] for r in rows], [r[0].label if r[0].speech else "no speech" for r in rows], labels
        )

    s = scored(ok)
    tested_on = sorted(set(manifest["corpus"].dropna())) if "corpus" in manifest else []
    # several corpora: one figure each, and their mean as the headline, as leave-one-corpus-out reports them
    groups = (
        {c: [k for k in kept if k[2] == c] for c in tested_on} if len(tested_on) > 1 else {"held-out": kept}
    )
    groups = {c: rows for c, rows in groups.items() if rows}
    folds = [{**scored(rows), "fold": c} for c, rows in groups.items()] if len(groups) > 1 else [s]
    training = model.metadata.get("training", {})
    trained_speakers = training.get("speakers")
    shared = _shared_speakers(trained_speakers or [], training.get("corpora") or [], manifest)
    trained_files = set(model.training_files().tolist())
    if trained_files:  # its own training recordings, under whatever names and speakers they have here
        from .extractors.runner import content_fingerprint

        seen = sum(content_fingerprint(p) in trained_files for p in manifest["path"])
    else:
        seen = 0
    # without a speaker column, only corpora the model was not trained on say that no speaker is shared
    unseen_corpora = bool(tested_on) and not set(tested_on) & set(training.get("corpora") or [])
    speakers_known = ("speaker" in manifest and manifest["speaker"].notna().all()) or unseen_corpora
    held_out = trained_speakers is not None and speakers_known and not shared and not seen
    # speaker-independent when no test speaker was heard in training (unknown for models whose metadata
    # does not list their speakers, or data that does not: then say so rather than guess)
    what = "+".join(tested_on) or "data"  # (a manifest without a corpus column: "held-out()" read oddly)
    notes = [f"trained model {model.path} scored on {what}"]
    if trained_speakers is None:
        notes.append("the model does not list its training speakers, so speaker independence is unknown")
    elif not speakers_known:
        notes.append(
            "the data does not name every recording's speaker (and no corpus the model was not trained on), "
            "so speaker independence is unknown"
        )
    if shared:
        notes.append(f"{len(shared)} test speaker(s) were in its training data")
    if seen:
        notes.append(f"{seen} test recording(s) are files it was trained on (the same bytes)")
    if restricted:
        notes.append(
            f"scored on the {len(labels)} emotions the data has (probabilities renormalised over them)"
        )
    if dropped:
        unknown = sorted(
            {str(e) for p, e in zip(preds, manifest["emotion"], strict=True) if p.ok and e not in labels}
        )
        notes.append(
            f"{dropped} utterances with emotions the model does not know ({', '.join(unknown)}) were left out"
            " (--merge EMOTION=KNOWN maps one onto an emotion it knows)"
        )
    if not (checked and check_speech):
        notes.append("no speech check: every recording was given an emotion")
    if no_speech:
        notes.append(
            f"{no_speech} utterances were found to hold no speech (counted as errors; having no "
            "probabilities, they are left out of the ECE)"
        )
    if session:
        notes.append(
            f"{session}-adapted: each {session}'s recordings (unlabelled) were scored together as one session"
        )
    ev = Evaluation(
        # "held-out" only when it is: a model scored on its own speakers is "scored"
        f"{'held-out' if held_out else 'scored'}({what})" + (f"+{session}-adapted" if session else ""),
        held_out,
        labels,
        folds,
        s,
        "; ".join(notes),
        cross_corpus=len(folds) > 1,
        predictions=[
            prediction_row(
                c or "scored",
                p.source,
                e,
                p.label if p.speech else "no speech",
                labels,
                [p.probabilities[lab] for lab in labels] if p.speech else None,
            )
            for p, e, c in kept
        ],
    )
    ev.run = {"emovox_version": __version__, "versions": library_versions()}
    meta = model.metadata
    ev.recipe = {  # what was scored: the model directory as it was sealed
        "trained_model": str(model.path),
        **{k: meta[k] for k in ("name", "kind", "recipe", "metadata_sha256") if k in meta},
        "adaptation": session,
    }
    # calibration of the model's own (calibrated) probabilities on this data, per corpus
    speech = {c: [(p, e) for p, e, _ in rows if p.speech] for c, rows in groups.items()}
    if speech and all(speech.values()):
        ev.fold_proba = [
            FoldProba(
                c,
                [p.source for p, _ in rows],
                [e for _, e in rows],
                np.array([[p.probabilities[lab] for lab in labels] for p, _ in rows]),
            )
            for c, rows in speech.items()
        ]
        add_calibration(ev)
    return ev, failed


def _predict_manifest(model, manifest, session: str | None, progress: bool = False) -> list:
    """Every row's prediction; ``session`` (``"speaker"`` or ``"corpus"``): each group's recordings are
    predicted together, adapted to the speaker (``same_speaker``) or to the channel (``same_channel``)."""
    from tqdm import tqdm

    from .inference import Prediction
    from .paths import not_a_file

    paths = manifest["path"].astype(str)
    # a manifest row is one file: a folder there (which predict_files would open up) or a pipe is an error
    by_path = {
        p: Prediction(p, error=f"{p}: {why.removesuffix('; skipped')}")
        for p in dict.fromkeys(paths)
        if (why := not_a_file(p))
    }
    kept = manifest[~paths.isin(by_path).to_numpy()]
    if session is None:
        preds = model.predict_files(kept["path"])
        bar = tqdm(preds, total=len(kept), desc="scoring", unit="file", leave=False, disable=not progress)
        by_path.update(zip(kept["path"].astype(str), bar, strict=True))
    elif len(kept):
        from .tables import speaker_ids

        groups = speaker_ids(
            kept, session
        )  # (a manifest without corpora is refused, as a recipe's evaluation)
        for g in tqdm(dict.fromkeys(groups), desc=f"scoring by {session}", leave=False, disable=not progress):
            group = list(kept["path"].astype(str)[groups == g])
            adapted = model.predict_files(
                group, same_speaker=session == "speaker", same_channel=session == "corpus"
            )
            by_path.update(zip(group, adapted, strict=True))
    return [by_path[p] for p in paths]
