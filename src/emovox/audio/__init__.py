"""Audio input: any file, bytes or array in, mono float32 at a chosen rate out.

Files that libsndfile reads (wav, flac, ogg/vorbis, ogg/opus, mp3, aiff, ...) are decoded in-process
through ``soundfile``; anything else (m4a, webm from a browser, ...) goes through ``ffmpeg`` when it is on
the PATH. Resampling uses ``soxr``. Every failure raises :class:`emovox.AudioError` with one line that
names the input and the cause.

The package is split by concern, and every public name is importable from ``emovox.audio`` itself:
:mod:`~emovox.audio.decode` (reading and checking files, bytes and arrays: :func:`load_audio`,
:func:`audio_info`, :func:`audio_duration`, :func:`check_header`), :mod:`~emovox.audio.ffmpeg` (the
fallback decoder and its time limit), :mod:`~emovox.audio.stream` (:func:`stream_audio`,
:func:`context_windows`), :mod:`~emovox.audio.cancel` (:func:`cancellable`, :func:`check_cancelled`),
:mod:`~emovox.audio.signal` (:func:`resample`, mono downmix) and :mod:`~emovox.audio.files`
(:func:`find_audio`).

Examples
--------
>>> import numpy as np, emovox
>>> y = emovox.load_audio(np.zeros((2, 8000), dtype=np.float32) + 0.1, input_sr=8000)
>>> y.shape, y.dtype
((16000,), dtype('float32'))
"""

from __future__ import annotations

from ..errors import AudioError, AudioLimitError, Cancelled
from .cancel import cancellable, check_cancelled
from .decode import (
    DEFAULT_MIN_DURATION,
    DEFAULT_SR,
    AudioSource,
    audio_duration,
    audio_info,
    check_header,
    load_audio,
)
from .ffmpeg import FFMPEG_BYTES_PER_S, FFMPEG_TIMEOUT_MAX, FFMPEG_TIMEOUT_MIN, ffmpeg_timeout
from .files import AUDIO_EXTENSIONS, find_audio
from .signal import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, check_rate, float_mono, resample, signal_at
from .stream import STREAM_AFTER_SECONDS, context_windows, stream_audio, whole_if_short

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_MIN_DURATION",
    "DEFAULT_SR",
    "FFMPEG_BYTES_PER_S",
    "FFMPEG_TIMEOUT_MAX",
    "FFMPEG_TIMEOUT_MIN",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "STREAM_AFTER_SECONDS",
    "AudioError",
    "AudioLimitError",
    "AudioSource",
    "Cancelled",
    "audio_duration",
    "audio_info",
    "cancellable",
    "check_cancelled",
    "check_header",
    "check_rate",
    "context_windows",
    "ffmpeg_timeout",
    "find_audio",
    "float_mono",
    "load_audio",
    "resample",
    "signal_at",
    "stream_audio",
    "whole_if_short",
]
