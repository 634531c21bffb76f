"""What the prediction endpoints compute, run on the inference threads: decode an upload, predict, and
shape the answer. Failures raise :class:`~emovox.server.errors.ApiError` with the HTTP status they get.

An upload is its bytes, or the path of the temporary file a large body was spooled to
(:mod:`emovox.server.uploads`); long audio is decoded from it window by window, never held whole.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import load_audio
from ..audio.sniff import SNIFF_BYTES, file_head, shown_head, sniff_format
from ..errors import AudioError, AudioLimitError, Cancelled, EmovoxError
from .errors import ApiError

log = logging.getLogger(__name__)

#: An upload: the bytes of an audio file, or the path of the file they were spooled to.
Upload = bytes | Path


def _head(source: Upload) -> bytes:
    return (file_head(source) or b"") if isinstance(source, Path) else bytes(source[:SNIFF_BYTES])


def _size(source: Upload) -> int:
    return source.stat().st_size if isinstance(source, Path) else len(source)


def _message(exc: BaseException, source: Upload) -> str:
    """The error's text as the client sees it, without the server's temporary file name: ffmpeg names
    its input in its messages, and reads an in-memory upload from ``pipe:0``."""
    text = str(exc)
    return text.replace(str(source), "pipe:0") if isinstance(source, Path) else text


def _timeline(model, y: np.ndarray, emotions: list[str] | None) -> list[dict]:
    """Speech segments of ``y`` (at the model's rate) with their emotions, from :mod:`emovox.live`."""
    from ..live import timeline

    return [_segment(s, model, emotions) for s in timeline(y, model, sr=model.sample_rate)]


def _silent_timeline(pred, rows: list[dict], duration: float, model) -> list[dict]:
    """The timeline of a recording without speech: its segments' rows (each without speech), or one row
    over the whole of it where the voice detector found nothing."""
    from ..vad import Segment

    return rows or [_segment(Segment(0.0, duration, speech=False, reason=pred.reason), model, None)]


def _segment(s, model, emotions: list[str] | None) -> dict[str, Any]:
    """One timeline segment as the API answers it (plain floats; over ``emotions`` only, renormalised, as
    the whole recording's answer)."""
    out = {
        "start": round(float(s.start), 3),
        "end": round(float(s.end), 3),
        "emotion": s.emotion,
        "confidence": None if s.confidence is None else float(s.confidence),
        "speech": s.speech,
        "uncertain": s.uncertain,
        "reason": s.reason,
        "probabilities": {k: float(v) for k, v in s.probabilities.items()},
    }
    said = s.to_dict()  # (its left_out and first_left_out, where the model is restricted)
    if emotions and s.emotion is not None and s.probabilities:
        from ..segments import unrestricted

        # restricted as the whole recording's answer is, of the sound the segment holds (under a second:
        # uncertain, whatever the restricted confidence)
        kept = model.make_prediction("", unrestricted(s), emotions, s.sound_seconds)
        out.update(
            emotion=kept.label,
            confidence=kept.confidence,
            uncertain=kept.uncertain,
            probabilities=kept.probabilities,
        )
        said = kept.to_dict()
    if said.get("left_out"):
        out.update(left_out=said["left_out"], first_left_out=said["first_left_out"])
    return out


def _answer(model, pred, emotions: list[str] | None) -> dict[str, Any]:
    """The parts of a ``/v1/predict`` answer every path shares (no speech: confidence None, probabilities
    empty, as :meth:`~emovox.inference.Prediction.to_dict` gives them)."""
    out = pred.to_dict()
    out.update(
        labels=emotions or list(model.labels), timeline=None, timeline_error=None, model=model.path.name
    )
    return out


def decode(model, data: Upload, name: str, max_seconds: float | None = None) -> np.ndarray:
    """The upload as mono float32 at the model's rate; 415 for what is not audio, 422 for broken audio,
    413 for more than ``max_seconds`` of audio (refused from the header, before decoding, when it tells).

    Parameters
    ----------
    model : EmotionModel
        Gives the sample rate.
    data : bytes or Path
        The upload (:data:`Upload`).
    name : str
        The upload's name, in messages.
    max_seconds : float, optional
        Most seconds of audio accepted (default None: no limit).

    Returns
    -------
    numpy.ndarray
        Mono float32 samples at ``model.sample_rate``.

    Raises
    ------
    ApiError
        415, 422 or 413, as above.
    """
    if not _size(data):
        raise ApiError(422, "empty_upload", f"{name}: empty upload (zero bytes)")
    head = _head(data)
    if sniff_format(head) is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"{name}: not a recognised audio format (first bytes {shown_head(head)}); send WAV, FLAC, "
            + (
                "OGG, Opus, MP3, AIFF, M4A, WebM or a video's sound (MP4, MKV)"
                if shutil.which("ffmpeg")
                else "OGG, Opus, MP3 or AIFF"
            ),
        )
    try:
        y = load_audio(data, model.sample_rate, name=name, max_seconds=max_seconds)
    except AudioLimitError as exc:
        raise ApiError(413, "audio_too_long", _message(exc, data)) from None
    except AudioError as exc:
        msg = _message(exc, data)
        if "needs ffmpeg" in msg:  # a container only ffmpeg reads
            raise ApiError(415, "unsupported_media_type", msg) from None
        raise ApiError(422, "invalid_audio", msg) from None
    return y


def parse_emotions(model, values: list[str]) -> list[str] | None:
    """The ``?emotions=`` query parameter as model labels (as ``--emotions`` takes them: aliases, ``four``,
    ``all``...; given twice, both lists); None when absent, 422 naming the valid ones when wrong or empty.

    Parameters
    ----------
    model : EmotionModel
        Gives the labels that may be chosen.
    values : list of str
        Every value of the ``emotions`` parameter.

    Returns
    -------
    list of str or None

    Raises
    ------
    ApiError
        422 ``invalid_emotions``.
    """
    from ..inference import chosen_emotions

    if not values:
        return None
    try:
        return chosen_emotions(",".join(values), model.labels, option="emotions")
    except EmovoxError as exc:
        raise ApiError(422, "invalid_emotions", str(exc)) from None


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_query(model, query, accepted: tuple[str, ...], timeline_after: float) -> dict[str, Any]:
    """The query parameters of a prediction endpoint: ``emotions`` (:func:`parse_emotions`) and
    ``timeline`` (``1``: a timeline whatever the length; ``0``: none), as keyword arguments of
    :func:`analyse`. A parameter the endpoint does not take is a 422 naming those it takes: a mistyped one
    would otherwise be ignored.

    Parameters
    ----------
    model : EmotionModel
        Gives the labels ``emotions`` may name.
    query : starlette.datastructures.QueryParams
        The request's query parameters.
    accepted : tuple of str
        The parameters the endpoint takes (``emotions``, ``timeline``).
    timeline_after : float
        Seconds of audio beyond which a timeline is given when ``timeline`` is not set.

    Returns
    -------
    dict
        ``emotions`` and ``timeline_after`` (``0``: always; ``inf``: never), for those the endpoint takes.

    Raises
    ------
    ApiError
        422 ``invalid_query`` or ``invalid_emotions``.
    """
    unknown = sorted(set(query.keys()) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "none"
        raise ApiError(
            422, "invalid_query", f"unknown query parameter {unknown[0]!r} (this endpoint takes: {takes})"
        )
    out: dict[str, Any] = {}
    if "emotions" in accepted:
        out["emotions"] = parse_emotions(model, query.getlist("emotions"))
    if "timeline" in accepted:
        if len(set(query.getlist("timeline"))) > 1:  # (one of them would win without a word)
            raise ApiError(
                422, "invalid_query", f"timeline given twice: {', '.join(query.getlist('timeline'))}"
            )
        value = (query.get("timeline") or "").strip().lower()
        if value and value not in _TRUE + _FALSE:
            raise ApiError(422, "invalid_query", f"timeline: expected 1 or 0 (true / false), got {value!r}")
        out["timeline_after"] = 0.0 if value in _TRUE else float("inf") if value in _FALSE else timeline_after
    return out


def analyse(
    model,
    data: Upload,
    name: str,
    timeline_after: float,
    emotions: list[str] | None = None,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Decode ``data`` and predict: the body of a ``/v1/predict`` answer (raises :class:`ApiError`).

    Audio without speech answers ``speech: false`` and no emotion; ``emotions`` restricts the answer to
    those labels (probabilities renormalised over them).

    Parameters
    ----------
    model : EmotionModel
        The model predicting.
    data : bytes or Path
        The upload (:data:`Upload`).
    name : str
        The upload's name (the answer's ``source``, and in messages).
    timeline_after : float
        Audio longer than this many seconds also gets a timeline.
    emotions : list of str, optional
        Model labels to restrict the answer to (default None: all of them).
    max_seconds : float, optional
        Most seconds of audio accepted (default None: no limit).

    Returns
    -------
    dict
        The answer's body: the prediction, ``labels``, ``timeline`` (or None), ``timeline_error``, ``model``,
        ``duration`` and ``elapsed_ms``.

    Raises
    ------
    ApiError
        415, 422 or 413 for what cannot be decoded (:func:`decode`), 422 for audio the model cannot predict.
    """
    t0 = time.perf_counter()
    from ..audio import STREAM_AFTER_SECONDS, audio_duration

    declared = audio_duration(data) if sniff_format(_head(data)) else None
    if declared and declared > STREAM_AFTER_SECONDS:
        return _analyse_long(model, data, name, declared, timeline_after, emotions, max_seconds, t0)
    from ..inference import SEGMENTS_AFTER_SECONDS

    y = decode(model, data, name, max_seconds)
    duration = y.size / model.sample_rate
    segments, why = None, None
    try:
        if duration > max(timeline_after, SEGMENTS_AFTER_SECONDS):  # one pass gives both
            pred, segs = model.timeline_prediction(lambda: iter([y]), name, emotions)
            segments = [_segment(s, model, emotions) for s in segs]
        else:
            pred = model.predict_signal(y, name, emotions=emotions, sr=model.sample_rate)
    except EmovoxError as exc:
        raise ApiError(422, "unprocessable_audio", f"{name}: {exc}") from None
    if pred.speech and segments is None and duration > timeline_after:
        try:
            segments = _timeline(model, y, emotions)
        except (ImportError, EmovoxError) as exc:  # e.g. webrtcvad missing: still answer the prediction
            why = f"no timeline: {exc}"
            log.warning("%s: %s", name, why)
    out = _answer(model, pred, emotions)
    out.update(duration=round(duration, 3), elapsed_ms=round(1000 * (time.perf_counter() - t0), 1))
    if pred.speech:
        out.update(timeline=segments, timeline_error=why)
    elif duration > timeline_after:  # no speech: a timeline that says so, as predict --timeline does
        try:
            rows = segments or _timeline(model, y, emotions)
        except (ImportError, EmovoxError) as exc:
            rows, why = [], f"no timeline: {exc}"
        out.update(timeline=_silent_timeline(pred, rows, duration, model), timeline_error=why)
    return out


def _analyse_long(
    model,
    data: Upload,
    name: str,
    duration: float,
    timeline_after: float,
    emotions: list[str] | None,
    max_seconds: float | None,
    t0: float,
) -> dict[str, Any]:
    """:func:`analyse` of a long upload (``duration`` seconds, from its header), window by window: the decoded
    audio is never held whole."""
    from ..audio import DEFAULT_MIN_DURATION, stream_audio

    def chunks():
        return stream_audio(
            data,
            model.sample_rate,
            max_seconds=max_seconds,
            min_duration=DEFAULT_MIN_DURATION,
            name=name,
            chunk_seconds=5.0,
        )

    try:
        pred, segs = model.timeline_prediction(chunks, name, emotions)  # the timeline is on the way
        out = _answer(model, pred, emotions)
        if pred.speech and duration > timeline_after:
            out.update(timeline=[_segment(seg, model, emotions) for seg in segs])
        elif duration > timeline_after:
            rows = [_segment(seg, model, emotions) for seg in segs]
            out.update(timeline=_silent_timeline(pred, rows, duration, model))
    except AudioLimitError as exc:
        raise ApiError(413, "audio_too_long", _message(exc, data)) from None
    except Cancelled:
        raise
    except EmovoxError as exc:
        raise ApiError(422, "invalid_audio", _message(exc, data)) from None
    out.update(duration=round(duration, 3), elapsed_ms=round(1000 * (time.perf_counter() - t0), 1))
    return out


def reaction(
    model,
    data: Upload,
    name: str,
    max_seconds: float | None = None,
    emotions: list[str] | None = None,
) -> dict[str, Any]:
    """The emotion of a spoken reaction (speech segments only, as :func:`emovox.live.session.react`);
    ``emotions`` restricts it to those labels, probabilities renormalised over them, as :func:`analyse`.

    Parameters
    ----------
    model : EmotionModel
        The model predicting.
    data : bytes or Path
        The recorded reaction (:data:`Upload`).
    name : str
        Its name (the answer's ``source``, and in messages).
    max_seconds : float, optional
        Most seconds of audio accepted (default None: no limit).
    emotions : list of str, optional
        Model labels to restrict the answer to (default None: all of them).

    Returns
    -------
    dict
        ``source``, ``speech``, ``reason``, ``emotion``, ``confidence``, ``uncertain``, ``probabilities``,
        ``left_out``, ``speech_seconds``, ``labels``, ``duration``, ``model`` and ``elapsed_ms``.

    Raises
    ------
    ApiError
        415, 422 or 413 for what cannot be decoded (:func:`decode`), 422 for audio the model cannot predict.
    """
    from ..live.session import react

    t0 = time.perf_counter()
    y = decode(model, data, name, max_seconds)
    try:
        heard, speech = react(model, y, emotions=emotions)
    except EmovoxError as exc:
        raise ApiError(422, "unprocessable_audio", f"{name}: {exc}") from None
    return {
        "source": name,
        "speech": bool(heard.speech),
        "reason": heard.reason,
        "emotion": heard.label,
        "confidence": heard.confidence,
        "uncertain": heard.uncertain,
        "probabilities": heard.probabilities,
        "left_out": heard.left_out,
        "first_left_out": heard.to_dict().get("first_left_out"),
        "speech_seconds": round(speech, 3),
        "labels": emotions or list(model.labels),
        "duration": round(y.size / model.sample_rate, 3),
        "model": model.path.name,
        "elapsed_ms": round(1000 * (time.perf_counter() - t0), 1),
    }
