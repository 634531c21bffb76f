"""Live and long-form emotion recognition: timelines, the microphone, the picture session.

* :class:`Segmenter` -- a streaming voice-activity detector (WebRTC, :mod:`emovox.vad`) that cuts audio
  into speech :class:`Segment` objects, splitting long speech into overlapping windows;
* :func:`timeline` / :func:`iter_timeline` -- the emotion of every speech segment of a file or stream;
  :func:`adapt_timeline` re-scores one speaker's segments together, adapted to that voice;
  :func:`file_timelines` runs them over several files (``emovox predict --timeline``);
* :func:`listen` -- the live path, each segment shown as soon as it ends;
* :func:`run_session` -- the picture-reaction session;
* sources (:mod:`emovox.audio.sources`) -- :class:`MicrophoneSource`, :class:`FileSource` (real time or
  as fast as possible), :class:`ArraySource` (an array or an iterator of arrays).

>>> import numpy as np
>>> from emovox.live import segment
>>> segment(np.zeros(32000, dtype=np.float32))
[]
"""

from __future__ import annotations

from ..audio.sources import (
    ArraySource,
    AudioSource,
    DeviceError,
    FileSource,
    MicrophoneSource,
    Recorder,
    input_devices,
    open_source,
    resolve_device,
)
from ..vad import Segment, Segmenter, VADOptions, segment
from .listen import LiveView, listen, record
from .session import SessionReport, Trial, find_pictures, run_session, write_report
from .timeline import (
    FileTimeline,
    adapt_timeline,
    classify,
    file_timelines,
    format_segment,
    iter_timeline,
    plot_timeline,
    read_timeline,
    resolve_model,
    rows,
    timeline,
    timeline_inputs,
    write_timeline,
    write_timelines,
)

__all__ = [
    "ArraySource",
    "AudioSource",
    "DeviceError",
    "FileSource",
    "FileTimeline",
    "LiveView",
    "MicrophoneSource",
    "Recorder",
    "Segment",
    "Segmenter",
    "SessionReport",
    "Trial",
    "VADOptions",
    "adapt_timeline",
    "classify",
    "file_timelines",
    "find_pictures",
    "format_segment",
    "input_devices",
    "iter_timeline",
    "listen",
    "open_source",
    "plot_timeline",
    "read_timeline",
    "record",
    "resolve_device",
    "resolve_model",
    "rows",
    "run_session",
    "segment",
    "timeline",
    "timeline_inputs",
    "write_report",
    "write_timeline",
    "write_timelines",
]
