"""The picture-reaction session: show pictures, record the spoken reaction to each, compare emotions.

Pictures live in sub-folders named by the emotion each is expected to evoke::

    pictures/
      happy/   puppy.jpg  beach.png
      sad/     rain.jpg
      angry/   traffic.png

Each picture is shown for ``seconds`` (7 by default) while the reaction is recorded; the speech in that
recording is classified and the session ends with a report: every picture with its expected and detected
emotion, as ``report.csv``, ``report.html`` and ``report.png``, plus each recording as WAV.
"""

from __future__ import annotations

import csv
import html
import os
import queue
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import EmovoxError
from .sources import AudioSource, DeviceError, open_source
from .timeline import _model, classify
from .vad import Segmenter, VADOptions

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class Trial:
    """One picture and the reaction to it."""

    picture: Path
    expected: str | None
    detected: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    speech_seconds: float = 0.0
    recording: Path | None = None

    @property
    def match(self) -> bool | None:
        """Whether the detected emotion is the expected one (None when there was nothing to compare)."""
        if self.expected is None or self.detected is None:
            return None
        return self.detected == self.expected


@dataclass
class SessionReport:
    """Every trial of a session and the files written for it."""

    trials: list[Trial]
    labels: list[str]
    csv: Path | None = None
    html: Path | None = None
    png: Path | None = None

    @property
    def accuracy(self) -> float | None:
        judged = [t.match for t in self.trials if t.match is not None]
        return sum(judged) / len(judged) if judged else None


def find_pictures(
    root: str | os.PathLike, order: str = "sorted", seed: int = 0
) -> list[tuple[Path, str | None]]:
    """``(picture, expected emotion)`` pairs: each sub-folder's name is its pictures' emotion.

    Pictures directly in ``root`` have no expected emotion. ``order`` is ``sorted`` or ``shuffle``.
    """
    root = Path(root)
    if not root.is_dir():
        raise EmovoxError(f"{root}: not a folder of pictures")
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in PICTURE_EXTENSIONS and not p.name.startswith("."):
            rel = p.relative_to(root)
            found.append((p, rel.parts[0].lower() if len(rel.parts) > 1 else None))
    if not found:
        raise EmovoxError(
            f"{root}: no pictures found ({', '.join(PICTURE_EXTENSIONS)} in emotion-named sub-folders)"
        )
    if order == "shuffle":
        random.Random(seed).shuffle(found)
    elif order != "sorted":
        raise EmovoxError(f"picture order must be 'sorted' or 'shuffle', got {order!r}")
    return found


# --------------------------------------------------------------------------------------------- audio side
class _Reader:
    """Reads a source on a thread, so a window stays responsive while a microphone records."""

    def __init__(self, source: AudioSource):
        self.source = source
        self.q: queue.Queue = queue.Queue(maxsize=256)
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.carry: list[np.ndarray] = []
        self.ended = False

    def _run(self) -> None:
        it = iter(self.source)
        try:
            for c in it:
                while not self.stop.is_set():
                    try:
                        self.q.put(c, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self.stop.is_set():
                    break
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
            self.q.put(None)

    def take(self, n: int, idle: Callable[[float], None]) -> np.ndarray:
        """The next ``n`` samples (fewer if the source ends), calling ``idle(fraction_done)`` while waiting."""
        parts, have = list(self.carry), sum(c.size for c in self.carry)
        self.carry.clear()
        while have < n and not self.ended:
            try:
                c = self.q.get(timeout=0.05)
            except queue.Empty:
                idle(have / n)
                continue
            if c is None:
                self.ended = True
                if self.error is not None:
                    raise self.error
                break
            parts.append(c)
            have += c.size
            idle(min(1.0, have / n))
        y = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        if y.size > n:
            self.carry.append(y[n:])
            y = y[:n]
        return y

    def close(self) -> None:
        self.stop.set()
        # Wait for the thread to close the source's iterator: a --save WAV is only complete after that.
        self.thread.join(timeout=5.0)
        self.source.close()


# ------------------------------------------------------------------------------------------------ display
class _Headless:
    """No window: progress lines on a stream; the start key is Enter when stdin is a terminal."""

    def __init__(self, stream=None, wait_for_start: bool | None = None):
        self.stream = stream or sys.stdout
        self.wait = sys.stdin.isatty() if wait_for_start is None else wait_for_start

    def start_screen(self, n: int, seconds: float) -> None:
        self.stream.write(f"{n} pictures, {seconds:g} s each: speak your reaction to each picture.\n")
        if self.wait:
            self.stream.write("Press Enter to start.")
            self.stream.flush()
            sys.stdin.readline()

    def show(self, i: int, n: int, trial: Trial) -> None:
        self.stream.write(f"[{i + 1}/{n}] {trial.picture.name} (expected: {trial.expected or '-'}) ... ")
        self.stream.flush()

    def progress(self, fraction: float) -> None:
        pass

    def result(self, trial: Trial) -> None:
        got = trial.detected or "no speech"
        conf = f" {trial.confidence:.2f}" if trial.confidence is not None else ""
        self.stream.write(f"detected: {got}{conf}\n")
        self.stream.flush()

    def finish(self, report: SessionReport) -> None:
        pass


class _Window:
    """A matplotlib window: a Start button (or Space / Enter), then each picture with a countdown."""

    def __init__(self):
        import matplotlib

        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            raise DeviceError(
                "no display for the session window (run with --no-window for a headless session)"
            )
        import matplotlib.pyplot as plt

        if matplotlib.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo", "template"):
            for backend in ("QtAgg", "TkAgg", "GTK4Agg", "GTK3Agg", "MacOSX"):
                try:
                    plt.switch_backend(backend)
                    break
                except Exception:
                    continue
            else:
                raise DeviceError(
                    "matplotlib has no interactive backend for the session window "
                    "(install tkinter or PyQt, or run with --no-window)"
                )
        self.plt = plt
        self.fig = plt.figure("emovox session", figsize=(9, 7))
        self.started = False
        self.fig.canvas.mpl_connect("key_press_event", self._key)

    def _alive(self) -> bool:
        return self.plt.fignum_exists(self.fig.number)

    def _key(self, event) -> None:
        if event.key in (" ", "enter", "space"):
            self.started = True

    def _pump(self, seconds: float = 0.03) -> None:
        if not self._alive():
            raise KeyboardInterrupt  # the window was closed: end the session like Ctrl-C
        self.plt.pause(seconds)

    def start_screen(self, n: int, seconds: float) -> None:
        from matplotlib.widgets import Button

        self.fig.clf()
        self.fig.text(
            0.5,
            0.6,
            f"{n} pictures, {seconds:g} s each.\nSay aloud how each picture makes you feel.",
            ha="center",
            va="center",
            fontsize=16,
        )
        bax = self.fig.add_axes((0.4, 0.3, 0.2, 0.08))
        button = Button(bax, "Start (Space)")
        button.on_clicked(lambda _: setattr(self, "started", True))
        self.plt.show(block=False)
        while not self.started:
            self._pump(0.05)
        self.fig.clf()

    def show(self, i: int, n: int, trial: Trial) -> None:
        import matplotlib.image as mpimg

        self.fig.clf()
        self.ax = self.fig.add_axes((0.02, 0.08, 0.96, 0.86))
        self.ax.imshow(mpimg.imread(trial.picture))
        self.ax.set_axis_off()
        self.title = self.fig.suptitle(f"{i + 1} / {n}   speak now", fontsize=14)
        self.bar = self.fig.add_axes((0.1, 0.03, 0.8, 0.02))
        self.bar.set_xlim(0, 1)
        self.bar.set_axis_off()
        self.fill = self.bar.barh(0, 0, color="#c44e52")[0]
        self._pump(0.01)

    def progress(self, fraction: float) -> None:
        self.fill.set_width(fraction)
        self._pump(0.01)

    def result(self, trial: Trial) -> None:
        self._pump(0.01)

    def finish(self, report: SessionReport) -> None:
        import matplotlib.image as mpimg

        self.plt.close(self.fig)
        if report.png is not None and report.png.exists():
            fig = self.plt.figure("emovox session report", figsize=(12, 9))
            ax = fig.add_axes((0, 0, 1, 1))
            ax.imshow(mpimg.imread(report.png))
            ax.set_axis_off()
            self.plt.show()


# ------------------------------------------------------------------------------------------------ session
def react(
    model, y: np.ndarray, options: VADOptions | None = None
) -> tuple[str | None, float | None, dict, float]:
    """Emotion of one recorded reaction: the speech segments' probabilities averaged by duration.

    Returns ``(emotion, confidence, probabilities, speech_seconds)``; no speech (or segments that fail the
    model's speech check only) gives ``(None, None, {}, 0)``.
    """
    seg = Segmenter(int(model.sample_rate), options)
    segs = [s for s in (classify(model, s) for s in seg.feed(y) + seg.flush()) if s.speech]
    if not segs:  # silence, or only sounds that are not a voice
        return None, None, {}, 0.0
    w = np.array([s.duration for s in segs])
    P = np.stack([[s.probabilities[lab] for lab in model.labels] for s in segs])
    p = (w[:, None] * P).sum(axis=0) / w.sum()
    i = int(np.argmax(p))
    return model.labels[i], float(p[i]), dict(zip(model.labels, map(float, p), strict=True)), float(w.sum())


def run_session(
    pictures: str | os.PathLike,
    source,
    model=None,
    *,
    seconds: float = 7.0,
    output_dir: str | os.PathLike | None = None,
    window: bool = False,
    order: str = "sorted",
    seed: int = 0,
    options: VADOptions | None = None,
    stream=None,
    wait_for_start: bool | None = None,
) -> SessionReport:
    """Run a picture-reaction session and write its report.

    Parameters
    ----------
    pictures : path
        Folder with one sub-folder per expected emotion (see :func:`find_pictures`).
    source : AudioSource, path, array or iterable of arrays
        The microphone for a real session; a file or arrays stand in for it (each picture takes the next
        ``seconds`` of audio).
    model : EmotionModel, path or name, optional
        The classifier (the bundled default when omitted).
    seconds : float
        How long each picture is shown and its reaction recorded.
    output_dir : path, optional
        Where ``report.csv``, ``report.html``, ``report.png`` and ``recordings/`` go
        (default ``session-YYYYMMDD-HHMMSS``).
    window : bool
        Show the pictures in a matplotlib window with a Start button; otherwise print progress.
    order : str
        ``sorted`` (folder, then name) or ``shuffle`` (with ``seed``).
    options : VADOptions, optional
        How each reaction is cut into speech.
    """
    import soundfile as sf

    if seconds <= 0:
        raise EmovoxError(f"seconds per picture must be positive, got {seconds:g}")
    found = find_pictures(pictures, order, seed)
    model = _model(model)
    sr = int(model.sample_rate)
    src = open_source(source, sr)
    if src.sample_rate != sr:
        raise EmovoxError(f"{src.name}: runs at {src.sample_rate} Hz, the model wants {sr} Hz")
    out = Path(output_dir or time.strftime("session-%Y%m%d-%H%M%S"))
    (out / "recordings").mkdir(parents=True, exist_ok=True)
    unknown = sorted({e for _, e in found if e is not None and e not in model.labels})
    if unknown:
        print(
            f"emovox: note: the model cannot detect {', '.join(unknown)} "
            f"(it knows {', '.join(model.labels)})",
            file=sys.stderr,
        )
    display = _Window() if window else _Headless(stream, wait_for_start)
    trials = [Trial(p, e) for p, e in found]
    n = int(round(seconds * sr))
    display.start_screen(len(trials), seconds)
    reader = _Reader(src)  # started after the start key, so nothing before it is recorded
    try:
        for i, trial in enumerate(trials):
            display.show(i, len(trials), trial)
            y = reader.take(n, display.progress)
            trial.recording = out / "recordings" / f"{i + 1:02d}_{trial.picture.stem}.wav"
            sf.write(trial.recording, y, sr, subtype="PCM_16")
            if y.size < n:
                print(
                    f"emovox: note: {src.name} ended during picture {i + 1} "
                    f"({y.size / sr:.1f} of {seconds:g} s)",
                    file=sys.stderr,
                )
            trial.detected, trial.confidence, trial.probabilities, trial.speech_seconds = react(
                model, y, options
            )
            display.result(trial)
    finally:
        reader.close()
    report = write_report(trials, model.labels, out)
    display.finish(report)
    return report


# ------------------------------------------------------------------------------------------------ reports
def write_report(trials: list[Trial], labels: list[str], out: str | os.PathLike) -> SessionReport:
    """Write ``report.csv``, ``report.html`` and ``report.png`` (a picture grid) to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = SessionReport(trials, list(labels))
    report.csv = out / "report.csv"
    cols = ["picture", "expected", "detected", "confidence", "match", "speech_seconds", "recording"]
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


def _caption(t: Trial) -> str:
    got = f"{t.detected} ({t.confidence:.2f})" if t.detected else "no speech"
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
            f"<td>{'' if t.confidence is None else f'{t.confidence:.2f}'}</td>"
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
