"""The live path: audio source -> speech segments -> emotions on screen, each as soon as it ends."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..audio.sources import take
from ..errors import ParameterError
from ..vad import Segment

if TYPE_CHECKING:
    from ..inference import EmotionModel
    from .timeline import Source
from .timeline import (
    LatencyClock,
    format_clock,
    format_segment,
    iter_timeline,
    resolve_model,
    table_header,
    table_row,
)

logger = logging.getLogger(__name__)


class LiveView:
    """A terminal view: finished segments scroll up, a status line (clock, input level) stays at the bottom.

    On a non-terminal stream (a pipe, a log file) only the segment lines are written, one per segment.
    With ``labels``, segments are rows of the table ``emovox predict --timeline`` prints (its header
    before the first one); without, one compact line each (:func:`format_segment`).

    Parameters
    ----------
    stream : text stream, optional
        Where it writes (default: standard output).
    tty : bool, optional
        Whether ``stream`` is a terminal (status line, latencies, line clearing); None (default): asked
        of the stream (``isatty()``).
    min_interval : float
        Seconds between two redraws of the status line (default 0.1).
    labels : list of str, optional
        The model's emotions: segments are shown as table rows with a probability column each; None
        (default): compact lines.
    messages : text stream, optional
        Where :meth:`message` writes (``emovox listen``: standard error, so that standard output holds only
        results); None (default): ``stream``.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> view = LiveView(out, labels=["angry", "sad"])
    >>> view.segment(Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7}))
    >>> view.message("the input is quiet")
    >>> view.close()
    >>> print(out.getvalue())
        start       end  emotion     conf    angry     sad
         1.00      2.50  angry      0.700    0.700       -
    the input is quiet
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        tty: bool | None = None,
        min_interval: float = 0.1,
        labels: list[str] | None = None,
        messages: TextIO | None = None,
    ):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.messages = messages or self.stream
        self.min_interval = min_interval
        self.labels = labels
        self._last = 0.0
        self._status = ""
        self._header = labels is None  # printed already, or not wanted

    def status(self, seconds: float, level: float, speaking: bool = False) -> None:
        r"""Redraw the bottom line (at most every ``min_interval`` seconds).

        Nothing is written on a stream that is not a terminal.

        Parameters
        ----------
        seconds : float
            Seconds of audio heard so far (the clock).
        level : float
            The input's level, linear (shown in dBFS, from -100).
        speaking : bool
            Not shown (default False).

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> LiveView(out, tty=True, min_interval=0.0).status(12.5, 0.1)
        >>> out.getvalue()
        '\r\x1b[2K  listening 00:12.50  [#############       ]  -20.0 dBFS'
        """
        if not self.tty or time.perf_counter() - self._last < self.min_interval:
            return
        self._last = time.perf_counter()
        db = 20 * np.log10(max(level, 1e-5))
        bars = int(np.clip((db + 60) / 60, 0, 1) * 20)
        self._status = f"  listening {format_clock(seconds)}  [{'#' * bars:<20}] {db:6.1f} dBFS"
        self.stream.write("\r\x1b[2K" + self._status)
        self.stream.flush()

    def segment(self, seg: Segment, latency: float | None = None) -> None:
        r"""Print one finished segment (above the status line).

        Parameters
        ----------
        seg : Segment
            A classified segment: a table row with ``labels`` (the header before the first), else a compact line.
        latency : float, optional
            Seconds from the segment's end to its result, shown on a terminal; None (default): not shown.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
        >>> LiveView(out, tty=True).segment(s, latency=0.12)
        >>> out.getvalue()
        '\r\x1b[2K00:01.00-00:02.50  angry      0.70  (sad 0.30)  [120 ms]\n'
        """
        line = table_row(seg, self.labels) if self.labels else format_segment(seg)
        if not self._header:
            line = table_header(self.labels) + "\n" + line
            self._header = True
        if latency is not None and self.tty:
            line += f"  [{1000 * latency:.0f} ms]"
        self.stream.write(("\r\x1b[2K" if self.tty else "") + line + "\n")
        if self.tty and self._status:
            self.stream.write(self._status)
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line of text to ``messages`` (above the status line on a terminal).

        Parameters
        ----------
        text : str
            The line, without its newline.

        Examples
        --------
        >>> LiveView(sys.stdout, tty=False).message("no speech yet")
        no speech yet
        """
        # (the status line is cleared first where it is drawn: on the terminal the messages go to too)
        on_terminal = self.tty and (self.messages is self.stream or self.messages.isatty())
        self.messages.write(("\r\x1b[2K" if on_terminal else "") + text + "\n")
        self.messages.flush()

    def close(self) -> None:
        r"""Clear the status line (on a terminal), so that what is printed next starts a clean line.

        Examples
        --------
        >>> import io
        >>> out = io.StringIO()
        >>> LiveView(out, tty=True).close()
        >>> out.getvalue()
        '\r\x1b[2K'
        """
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


class Heard(list):
    """The segments :func:`listen` heard, in order (a list), and whether Ctrl-C ended it
    (``interrupted``) rather than the source."""

    interrupted: bool = False


def listen(
    source: Any,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    view: LiveView | None = None,
    on_segment: Callable[[Segment, float | None], None] | None = None,
    adapt: str | None = None,
    **kwargs: Any,
) -> list[Segment]:
    """Run the live path until the source ends (or Ctrl-C), showing each segment as soon as it ends.

    Parameters
    ----------
    source : AudioSource, path, array or iterable of arrays
        A :class:`~emovox.audio.sources.MicrophoneSource` live; a real-time
        :class:`~emovox.audio.sources.FileSource` stands in for one (an array needs ``sr=``, as for
        :func:`~emovox.live.iter_timeline`).
    model : EmotionModel, path or name, optional
        The classifier (the bundled default when omitted).
    view : LiveView, optional
        Where segments are shown, with a message when 10 s of input are too quiet to be cut into speech
        (:class:`~emovox.segments.QuietInput`); nothing is printed when omitted.
    on_segment : callable, optional
        Called as ``on_segment(segment, latency)``; ``latency`` is the wall time in seconds from the moment
        the segment's last sample was delivered by the source to the moment its emotion was known.
    adapt : {"speaker", "channel"}, optional
        The stream is one speaker (or one recording channel): each segment is scored together with the ones
        before it (:class:`~emovox.segments.RunningAdaptation`), adapted to that voice or channel. Default:
        each on its own.
    **kwargs
        Passed to :func:`~emovox.live.iter_timeline` (VAD options, ``keep_samples``, ``gain``: a factor,
        where ``listen --gain`` takes decibels).

    Returns
    -------
    Heard
        Every segment, in order (a list); a Ctrl-C ends it early rather than losing it, and sets its
        ``interrupted``.

    Examples
    --------
    An array stands in for the microphone (``MicrophoneSource()`` live); the model here skips its speech
    check, which a tone would fail:

    >>> import emovox
    >>> from emovox.audio.sources import ArraySource
    >>> from emovox.audio.synthetic import silence, tone
    >>> y = np.concatenate([silence(1.0), tone(seconds=1.0), silence(1.0)])
    >>> heard = listen(ArraySource(y), emovox.load_model(check_speech=False),
    ...                on_segment=lambda s, latency: print(s.start, s.end, latency >= 0))
    0.78 2.22 True
    >>> len(heard), heard.interrupted
    (1, False)
    """
    from ..segments import QuietInput, RunningAdaptation

    if adapt not in (None, "speaker", "channel"):
        raise ParameterError(f"adapt: expected 'speaker', 'channel' or None, got {adapt!r}")
    model = resolve_model(model)
    adapted = None if adapt is None else RunningAdaptation(model, channel=adapt == "channel")
    if adapted is not None:
        kwargs["keep_embeddings"] = True
    clock = LatencyClock()
    gain = kwargs.get("gain") or 1.0
    quiet = QuietInput(int(model.sample_rate), gain_db=20 * float(np.log10(gain)) if gain > 0 else 0.0)

    def on_chunk(chunk: np.ndarray, seconds: float) -> None:
        clock.mark(seconds)
        if view is not None:
            view.status(seconds, float(np.sqrt(np.mean(np.square(chunk)))) if chunk.size else 0.0)
            if note := quiet.feed(chunk):  # (after any gain: the samples the detector gets)
                view.message(note)

    out = Heard()
    try:
        for seg in iter_timeline(source, model, on_chunk=on_chunk, **kwargs):
            if adapted is not None:
                seg = adapted(seg)
            latency = clock.since(seg.end)
            out.append(seg)
            if view is not None:
                view.segment(seg, latency)
            if on_segment is not None:
                on_segment(seg, latency)
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        if view is not None:
            view.close()
    return out


def record(source: Source, seconds: float) -> np.ndarray:
    """The first ``seconds`` of a source as one array (``listen --once``).

    Parameters
    ----------
    source : AudioSource, path, array or iterable of arrays
        What :func:`emovox.audio.sources.open_source` opens (an array or chunks at 16 kHz); a microphone
        stream is stopped once read.
    seconds : float
        Seconds to read.

    Returns
    -------
    numpy.ndarray
        Mono samples at the source's rate, fewer when it ends first, or when Ctrl-C stops the recording
        (what was recorded is kept, as a recorder's stop button keeps it).

    Examples
    --------
    >>> record(np.zeros(32000, np.float32), 1.0).shape
    (16000,)
    """
    from ..audio.sources import open_source

    src = open_source(source)
    it = iter(src)
    n, carry = int(round(seconds * src.sample_rate)), []
    try:
        return take(it, n, carry)
    except KeyboardInterrupt:  # (take leaves what it read in carry)
        y = np.concatenate(carry)[:n] if carry else np.zeros(0, np.float32)
        logger.info("recording stopped (Ctrl-C) after %.1f s", y.size / src.sample_rate)
        return y
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()  # stops a microphone stream at once rather than at garbage collection
        src.close()
