"""The record of a picture-reaction session: its trials, and the CSV, HTML and PNG reports of them."""

from __future__ import annotations

import csv
import html
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Trial:
    """One picture and the reaction to it.

    Attributes
    ----------
    picture : Path
        The picture shown.
    expected : str or None
        The emotion it is expected to evoke (its sub-folder's name); None for a picture outside them.
    detected : str or None
        The emotion heard in the reaction; None without speech (default).
    confidence : float or None
        The detected emotion's probability (default None).
    probabilities : dict of str to float
        Emotion -> probability over the model's labels (empty without speech).
    speech_seconds : float
        Seconds of speech in the reaction (default 0).
    recording : Path or None
        The reaction's WAV file, once written (default None).
    uncertain : bool
        Low calibrated confidence (under the model's ``uncertain_below``), as ``predict`` marks it.
    detectable : bool
        False when the model cannot detect the expected emotion: the reaction is then not judged.

    Examples
    --------
    >>> t = Trial(Path("happy/puppy.png"), "happy", "happy", 0.8, {"happy": 0.8, "sad": 0.2})
    >>> t.match, Trial(Path("rain.png"), "sad").match  # (nothing detected: not judged)
    (True, None)
    """

    picture: Path
    expected: str | None
    detected: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    speech_seconds: float = 0.0
    recording: Path | None = None
    #: low calibrated confidence (under the model's ``uncertain_below``), as ``predict`` marks it
    uncertain: bool = False
    #: False when the model cannot detect the expected emotion: the reaction is then not judged
    detectable: bool = True

    @property
    def match(self) -> bool | None:
        """Whether the detected emotion is the expected one (None when there was nothing to compare: no
        expected emotion, one the model cannot detect, or no speech)."""
        if self.expected is None or self.detected is None or not self.detectable:
            return None
        return self.detected == self.expected


@dataclass
class SessionReport:
    """Every trial of a session and the files written for it (``interrupted``: Ctrl-C ended the session;
    the trials are those finished before it).

    Attributes
    ----------
    trials : list of Trial
        The session's trials, in the order shown.
    labels : list of str
        The model's emotions (the report's ``p_<label>`` columns).
    csv, html, png : Path or None
        The report files, once :func:`write_report` has written them.
    interrupted : bool
        Ctrl-C ended the session (default False).

    Examples
    --------
    >>> trials = [Trial(Path("a.png"), "happy", "happy", 0.8), Trial(Path("b.png"), "sad", "angry", 0.6)]
    >>> SessionReport(trials, ["angry", "happy", "sad"]).accuracy  # of the trials that could be judged
    0.5
    """

    trials: list[Trial]
    labels: list[str]
    csv: Path | None = None
    html: Path | None = None
    png: Path | None = None
    interrupted: bool = False

    @property
    def accuracy(self) -> float | None:
        judged = [t.match for t in self.trials if t.match is not None]
        return sum(judged) / len(judged) if judged else None


def write_report(trials: list[Trial], labels: list[str], out: str | os.PathLike) -> SessionReport:
    """Write ``report.csv``, ``report.html`` and ``report.png`` (a picture grid) to ``out``.

    Parameters
    ----------
    trials : list of Trial
        The session's trials, in order.
    labels : list of str
        The model's emotions, one ``p_<label>`` column each.
    out : str or PathLike
        The folder (made when missing).

    Returns
    -------
    SessionReport
        The trials and the three files written.

    Raises
    ------
    ParameterError
        When ``trials`` is empty.

    Examples
    --------
    >>> heard = Trial(Path("a.png"), "happy", "happy", 0.8, {"happy": 0.8, "sad": 0.2})
    >>> trials = [heard, Trial(Path("b.png"), "sad")]
    >>> report = write_report(trials, ["happy", "sad"], "out")
    >>> report.csv, report.png.exists()
    (PosixPath('out/report.csv'), True)
    >>> print(report.csv.read_text())
    picture,expected,detected,confidence,uncertain,match,speech_seconds,recording,p_happy,p_sad
    a.png,happy,happy,0.8,0,1,0.0,,0.8,0.2
    b.png,sad,,,0,,0.0,,,
    """
    if not trials:
        from ..errors import ParameterError

        raise ParameterError("write_report: no trials to report (the session showed no picture)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = SessionReport(trials, list(labels))
    report.csv = out / "report.csv"
    cols = [
        "picture",
        "expected",
        "detected",
        "confidence",
        "uncertain",
        "match",
        "speech_seconds",
        "recording",
    ]
    cols += [f"p_{lab}" for lab in labels]
    with open(report.csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        for t in trials:
            w.writerow(
                {
                    "picture": str(t.picture),
                    "expected": t.expected or "",
                    "detected": t.detected or "",
                    "confidence": "" if t.confidence is None else round(t.confidence, 4),
                    "uncertain": int(t.uncertain),
                    "match": "" if t.match is None else int(t.match),
                    "speech_seconds": round(t.speech_seconds, 2),
                    "recording": str(t.recording) if t.recording else "",
                    **{
                        f"p_{lab}": round(t.probabilities[lab], 4) if t.probabilities else ""
                        for lab in labels
                    },
                }
            )
    report.png = _grid(trials, out / "report.png")
    report.html = _html(report, out / "report.html")
    return report


def detected_text(t: Trial) -> str:
    """What was heard, as a person reads it: ``happy 0.72``, ``surprised 0.34 (uncertain)``, ``no speech``.

    Parameters
    ----------
    t : Trial
        A trial, its reaction filled in (or not: ``no speech``).

    Returns
    -------
    str

    Examples
    --------
    >>> detected_text(Trial(Path("a.png"), "happy", "surprised", 0.34, uncertain=True))
    'surprised 0.34 (uncertain)'
    """
    if not t.detected:
        return "no speech"
    return f"{t.detected} {t.confidence:.2f}" + (" (uncertain)" if t.uncertain else "")


def _caption(t: Trial) -> str:
    got = detected_text(t)
    return f"expected: {t.expected or '-'}\ndetected: {got}"


def _grid(trials: list[Trial], path: Path) -> Path:
    import matplotlib.image as mpimg
    from matplotlib.figure import Figure

    # A bare Figure, not pyplot: pyplot would switch a running session window to the Agg backend.
    cols = min(4, len(trials))
    nrows = -(-len(trials) // cols)
    fig = Figure(figsize=(3.2 * cols, 3.4 * nrows))
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, t in zip(axes.flat, trials, strict=False):
        try:
            ax.imshow(mpimg.imread(t.picture))
        except Exception:  # an unreadable picture still gets its row in the report
            ax.text(0.5, 0.5, "(unreadable)", ha="center", va="center", transform=ax.transAxes)
        colour = {True: "#2a7f2a", False: "#b22222", None: "#444444"}[t.match]
        ax.set_title(_caption(t), fontsize=9, color=colour)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def _html(report: SessionReport, path: Path) -> Path:
    def cell(t: Trial) -> str:
        src = html.escape(os.path.relpath(t.picture, path.parent))
        rec = html.escape(os.path.relpath(t.recording, path.parent)) if t.recording else ""
        cls = {True: "ok", False: "bad", None: "none"}[t.match]
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(t.probabilities.items(), key=lambda kv: -kv[1])[:3])
        return (
            f"<tr class='{cls}'><td><img src='{src}' alt='{html.escape(t.picture.name)}'></td>"
            f"<td>{html.escape(t.expected or '-')}</td><td>{html.escape(t.detected or 'no speech')}</td>"
            f"<td>{'' if t.confidence is None else f'{t.confidence:.2f}'}{' (uncertain)' if t.uncertain else ''}</td>"
            f"<td>{html.escape(top)}</td><td>{t.speech_seconds:.1f} s</td>"
            f"<td>{f'<audio controls src={chr(39)}{rec}{chr(39)}></audio>' if rec else ''}</td></tr>"
        )

    acc = report.accuracy
    summary = (
        f"{sum(bool(t.match) for t in report.trials)} of "
        f"{sum(t.match is not None for t in report.trials)} reactions matched the expected emotion"
        if acc is not None
        else "no reaction could be compared with an expected emotion"
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>emovox session</title>
<style>body{{font-family:sans-serif;margin:2em}}img{{max-width:240px;max-height:180px}}
td,th{{padding:4px 10px;text-align:left;vertical-align:middle}}tr.ok td{{background:#e6f4e6}}
tr.bad td{{background:#f8e3e3}}</style></head><body>
<h1>Picture-reaction session</h1>
<p>{html.escape(summary)}. Model labels: {html.escape(", ".join(report.labels))}.</p>
<table><tr><th>picture</th><th>expected</th><th>detected</th><th>confidence</th><th>top emotions</th>
<th>speech</th><th>recording</th></tr>
{chr(10).join(cell(t) for t in report.trials)}
</table></body></html>
"""
    path.write_text(page)
    return path
