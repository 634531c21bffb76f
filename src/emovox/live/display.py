"""How a picture-reaction session is shown: progress lines on a stream, or a matplotlib window."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from ..audio.sources import DeviceError
from .report import detected_text

if TYPE_CHECKING:
    from .report import SessionReport, Trial


class _Silent:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class HeadlessDisplay:
    """No window: progress lines on a stream (none: nothing is shown, as a library call should be); the start
    key is Enter when there is a stream and stdin is a terminal."""

    def __init__(self, stream: TextIO | None = None, wait_for_start: bool | None = None):
        self.stream = stream or _Silent()
        if wait_for_start is None:
            wait_for_start = stream is not None and sys.stdin.isatty()
        self.wait = wait_for_start

    def start_screen(self, n: int, seconds: float) -> None:
        """Write what the session asks, and with ``wait_for_start``, wait for Enter on stdin.

        Parameters
        ----------
        n : int
            How many pictures the session shows.
        seconds : float
            Seconds each picture is shown.
        """
        self.stream.write(f"{n} pictures, {seconds:g} s each: speak your reaction to each picture.\n")
        if self.wait:
            self.stream.write("Press Enter to start.")
            self.stream.flush()
            sys.stdin.readline()

    def show(self, i: int, n: int, trial: Trial) -> None:
        """Write the picture's progress line (its number, file name and expected emotion).

        Parameters
        ----------
        i : int
            The picture's index, from 0.
        n : int
            How many pictures the session shows.
        trial : Trial
            The picture and its expected emotion.
        """
        self.stream.write(f"[{i + 1}/{n}] {trial.picture.name} (expected: {trial.expected or '-'}) ... ")
        self.stream.flush()

    def progress(self, fraction: float) -> None:
        """Nothing: a progress line has no countdown.

        Parameters
        ----------
        fraction : float
            Fraction of the picture's time gone, 0 to 1.
        """
        pass

    def result(self, trial: Trial) -> None:
        """End the picture's line with what was heard (:func:`~emovox.live.report.detected_text`).

        Parameters
        ----------
        trial : Trial
            The picture's trial, its reaction filled in.
        """
        self.stream.write(f"detected: {detected_text(trial)}\n")
        self.stream.flush()

    def finish(self, report: SessionReport) -> None:
        """Nothing: the report's files are named by the caller.

        Parameters
        ----------
        report : SessionReport
            The finished session.
        """
        pass


class WindowDisplay:
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
        """Show the instructions and a Start button, and wait for it (or Space / Enter).

        Parameters
        ----------
        n : int
            How many pictures the session shows.
        seconds : float
            Seconds each picture is shown.

        Raises
        ------
        KeyboardInterrupt
            When the window is closed, to end the session as Ctrl-C does.
        """
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
        """Show the picture, with its number and an empty countdown bar.

        Parameters
        ----------
        i : int
            The picture's index, from 0.
        n : int
            How many pictures the session shows.
        trial : Trial
            The picture and its expected emotion.

        Raises
        ------
        KeyboardInterrupt
            When the window is closed.
        """
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
        """Fill the countdown bar.

        Parameters
        ----------
        fraction : float
            Fraction of the picture's time gone, 0 to 1.

        Raises
        ------
        KeyboardInterrupt
            When the window is closed.
        """
        self.fill.set_width(fraction)
        self._pump(0.01)

    def result(self, trial: Trial) -> None:
        """Keep the window responsive (the window does not show the result).

        Parameters
        ----------
        trial : Trial
            The picture's trial, its reaction filled in (not used).

        Raises
        ------
        KeyboardInterrupt
            When the window is closed.
        """
        self._pump(0.01)

    def finish(self, report: SessionReport) -> None:
        """Close the session window and show the report's picture, when it was written, until it is closed.

        Parameters
        ----------
        report : SessionReport
            The finished session; its ``png`` is shown.
        """
        import matplotlib.image as mpimg

        self.plt.close(self.fig)
        if report.png is not None and report.png.exists():
            fig = self.plt.figure("emovox session report", figsize=(12, 9))
            ax = fig.add_axes((0, 0, 1, 1))
            ax.imshow(mpimg.imread(report.png))
            ax.set_axis_off()
            self.plt.show()
