"""What a prediction is: :class:`Prediction` (the emotion of one input, or why there is none) and the
emotions a user asks for (:func:`chosen_emotions`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EmovoxError, ParameterError, did_you_mean


def chosen_emotions(
    emotions: Sequence[str] | str, labels: Sequence[str], option: str = "emotions"
) -> list[str]:
    """The model's names of ``emotions`` (a list, or a comma-separated string; aliases such as ``anger``
    allowed; and named sets: ``four`` for angry, happy, neutral, sad, ``seven``, ``all`` for every one of
    ``labels``), in the order given, checked against ``labels``: at least two, all known. An error
    (:class:`ParameterError`) names ``option`` (as the user gave it: the CLI's option, the API's parameter).

    Parameters
    ----------
    emotions : str or list of str
        Emotion names or aliases, or one comma-separated string of them.
    labels : list of str
        The model's emotion names.
    option : str
        The option or parameter name errors give (default ``"emotions"``).

    Returns
    -------
    list of str
        Names from ``labels``, in the order given, each once.

    Raises
    ------
    ParameterError
        When ``emotions`` is not a string or a list of strings, names an emotion not in ``labels``, or
        fewer than two different ones.

    Examples
    --------
    >>> chosen_emotions("anger, sad", ["angry", "happy", "sad"])
    ['angry', 'sad']
    """
    from ..labels import canonical, with_sets

    if not isinstance(emotions, str) and not (
        isinstance(emotions, Sequence) and all(isinstance(e, str) for e in emotions)
    ):
        raise ParameterError(
            f"{option}: expected emotion names (a list, or one comma-separated string), got {emotions!r}"
        )
    wanted = []
    for e in with_sets(emotions, labels):
        try:
            wanted.append(canonical(e.strip()))
        except EmovoxError:
            wanted.append(e.strip())
    unknown = [e for e in wanted if e not in labels]
    if unknown:
        from ..labels import CANONICAL

        word = unknown[0]
        what = (
            f"{word}: not one of this model's emotions"
            if word in CANONICAL
            else f"unknown emotion '{word}'{did_you_mean(word.lower(), labels)}"
        )
        raise ParameterError(
            f"{option}: {what}; expected at least two different emotions of " + ", ".join(labels)
        )
    if len(set(wanted)) < 2:
        twice = "" if len(wanted) < 2 else f" ({', '.join(dict.fromkeys(wanted))} named twice)"
        raise ParameterError(
            f"{option}: expected at least two different emotions of {', '.join(labels)}{twice}"
        )
    return list(dict.fromkeys(wanted))


@dataclass
class Prediction:
    """The emotion of one input, or why it could not be predicted.

    Attributes
    ----------
    source : str
        The input as it was named (a path, or ``<array>`` / ``<bytes>``).
    label : str or None
        The most probable emotion; None without speech or on failure.
    confidence : float or None
        Its calibrated probability.
    probabilities : dict of str to float
        Every emotion's probability, in the model's order (empty without speech).
    error : str or None
        One line naming the input and the cause, when it could not be predicted.
    speech : bool or None
        False when the input holds no speech (silence, noise, hum, tones, music...); None when it failed.
    uncertain : bool
        The calibrated confidence is low: treat the answer as a guess.
    reason : str or None
        What was heard instead of speech.
    left_out : dict of str to float or None
        Where the answer is over some emotions only (``--emotions``,
        :meth:`~emovox.inference.EmotionModel.restrict`): the probability the model gives each emotion it
        leaves out, before renormalising; None when none is left out.
    first_left_out : (str, float) or None
        The model's own first choice with its probability, where it is one of those left out
        (:func:`left_out_of`).

    Examples
    --------
    >>> p = Prediction("a.wav", "sad", 0.6, {"angry": 0.3, "sad": 0.6, "happy": 0.1})
    >>> p.ok, p.speech, p.describe()
    (True, True, 'sad 0.600')
    """

    source: str
    label: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    speech: bool | None = True
    uncertain: bool = False
    reason: str | None = None
    left_out: dict[str, float] | None = None
    first_left_out: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        if self.error is not None:  # nothing was heard: neither speech nor its absence
            self.speech = None

    @property
    def ok(self) -> bool:
        """True unless the input failed (:attr:`error` set); an input without speech is ``ok``."""
        return self.error is None

    @property
    def emotion(self) -> str | None:
        """:attr:`label`, under the name every JSON output gives it."""
        return self.label

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` most probable emotions with their probabilities.

        Parameters
        ----------
        k : int
            How many to give (fewer when :attr:`probabilities` holds fewer).

        Returns
        -------
        list of (str, float)
            ``(emotion, probability)`` pairs, the most probable first; empty without probabilities (no speech,
            or an error).

        Examples
        --------
        >>> Prediction("a.wav", "sad", 0.6, {"angry": 0.3, "sad": 0.6, "happy": 0.1}).top(2)
        [('sad', 0.6), ('angry', 0.3)]
        """
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:k]

    def describe(self) -> str:
        """One line for people: the emotion and its confidence, ``uncertain``, or ``no speech (why)``.

        Returns
        -------
        str
            ``"<emotion> <confidence>"`` (with ``(uncertain)`` and the first choice left out, where they
            apply), ``no speech (<reason>)``, or the error.

        Examples
        --------
        >>> Prediction("a.wav", "sad", 0.6, {"sad": 0.6, "happy": 0.4}, uncertain=True).describe()
        'sad 0.600 (uncertain)'
        >>> Prediction("b.wav", speech=False, reason="silence (all zeros)").describe()
        'no speech (silence (all zeros))'
        """
        if self.error:
            return self.error
        if not self.speech:
            return f"no speech ({self.reason})" if self.reason else "no speech"
        first = self.first_left_out
        return (
            f"{self.label} {self.confidence:.3f}"
            + (" (uncertain)" if self.uncertain else "")
            + (f" (first choice left out: {first[0]} {first[1]:.3f})" if first else "")
        )

    def to_dict(self, top_k: int | None = None) -> dict[str, Any]:
        """The prediction as ``--json`` and ``/v1/predict`` give it.

        Parameters
        ----------
        top_k : int, optional
            Keep only the ``top_k`` most probable emotions, most probable first; None (default): all of
            them, in the model's order.

        Returns
        -------
        dict
            ``source`` and ``error``; or ``speech`` False, ``emotion`` and ``confidence`` None, ``uncertain``
            False, ``probabilities`` empty and ``reason``; or ``speech``,
            ``emotion``, ``confidence``, ``uncertain``, ``probabilities`` and, for an answer over some
            emotions, ``left_out`` and ``first_left_out``.

        Examples
        --------
        >>> Prediction("a.wav", "sad", 0.6, {"angry": 0.3, "sad": 0.6, "happy": 0.1}).to_dict(1)["probabilities"]
        {'sad': 0.6}
        """
        if self.error:
            return {"source": self.source, "error": self.error}
        if not self.speech:  # the same keys as an answer, so that a reader needs no second shape
            return {
                "source": self.source,
                "speech": False,
                "emotion": None,
                "confidence": None,
                "uncertain": False,
                "probabilities": {},
                "reason": self.reason,
            }
        out = {
            "source": self.source,
            "speech": True,
            "emotion": self.label,
            "confidence": self.confidence,
            "uncertain": self.uncertain,
            "probabilities": dict(self.top(top_k)) if top_k else self.probabilities,
        }
        if self.left_out is not None:
            first = self.first_left_out
            out["left_out"] = self.left_out
            out["first_left_out"] = None if first is None else {"emotion": first[0], "probability": first[1]}
        return out


def left_out_of(
    every: dict[str, float], kept: Sequence[str]
) -> tuple[dict[str, float] | None, tuple[str, float] | None]:
    """What an answer over ``kept`` leaves out of the model's probabilities over ``every`` emotion it knows
    (before renormalising, and for a recording scored by parts, averaged as its answer is): each emotion
    left out with its probability (None when none is), and the model's first choice where it is one of
    them (None otherwise).

    Parameters
    ----------
    every : dict
        Emotion -> probability, every emotion the model knows.
    kept : sequence of str
        The emotions the answer is over.

    Returns
    -------
    left_out : dict or None
    first_left_out : (str, float) or None

    Examples
    --------
    >>> left_out_of({"angry": 0.3, "disgust": 0.5, "sad": 0.2}, ["angry", "sad"])
    ({'disgust': 0.5}, ('disgust', 0.5))
    """
    out = {k: float(v) for k, v in every.items() if k not in kept}
    if not out:
        return None, None
    first = max(every.items(), key=lambda kv: kv[1])
    return out, ((first[0], float(first[1])) if first[0] in out else None)


def write_predictions(
    predictions: Iterable[Prediction | dict[str, Any]],
    path: str | os.PathLike,
    labels: Sequence[str] | None = None,
) -> Path:
    """Write predictions as ``emovox predict -o`` does: ``.json`` (a list of :meth:`Prediction.to_dict`),
    or ``.csv`` / ``.tsv`` with one row per input (source, speech, emotion, confidence, uncertain, a
    ``p_<emotion>`` column per label, reason, error; where some answer leaves emotions out,
    ``p_left_out``, the probability the model gives them together). A failed input keeps its row, with its
    error.

    ``labels`` orders the probability columns (default: as the predictions name them, first seen first).

    Parameters
    ----------
    predictions : iterable of Prediction or dict
        Predictions, or their :meth:`Prediction.to_dict` form.
    path : str or path
        The file to write (replaced whole; its folder is created); its suffix picks the format: ``.json``,
        else CSV, tab-separated for ``.tsv``.
    labels : list of str, optional
        The probability columns, in order; None (default): as the predictions name them.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, emovox
    >>> from emovox.inference import write_predictions
    >>> from emovox.audio import synthetic
    >>> model = emovox.load_model()
    >>> preds = [model.predict_signal(synthetic.tone(220.0, 2.0), "tone.wav", sr=16000)]
    >>> out = write_predictions(preds, tempfile.mkdtemp() + "/out.csv", model.labels)
    >>> out.read_text().splitlines()[1].split(",")[:3]
    ['tone.wav', 'False', '']
    """
    import csv
    import json

    from ..paths import delimiter, replacing

    rows = [r.to_dict() if isinstance(r, Prediction) else r for r in predictions]
    if labels is None:
        labels = list(dict.fromkeys(k for r in rows for k in r.get("probabilities") or {}))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with replacing(out) as tmp:
        if out.suffix.lower() == ".json":
            tmp.write_text(json.dumps(rows, indent=2) + "\n")
            return out
        cols = ["source", "speech", "emotion", "confidence", "uncertain", *(f"p_{lab}" for lab in labels)]
        if any(r.get("left_out") for r in rows):
            cols.append("p_left_out")
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, [*cols, "reason", "error"], delimiter=delimiter(out))
            w.writeheader()
            for r in rows:
                w.writerow(
                    {k: v for k, v in r.items() if k in w.fieldnames}
                    | {f"p_{lab}": v for lab, v in (r.get("probabilities") or {}).items()}
                    | ({"p_left_out": sum(r["left_out"].values())} if r.get("left_out") else {})
                )
    return out
