"""Emotion timelines: cut a stream into speech segments and classify each one.

>>> from emovox.live import timeline                                    # doctest: +SKIP
>>> for s in timeline("meeting.flac", model="my_model"):                 # doctest: +SKIP
...     print(f"{s.start:7.2f} {s.end:7.2f} {s.emotion} {s.confidence:.2f}")
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import stream_audio
from ..audio.sources import ArraySource, AudioSource
from ..errors import EmovoxError, ParameterError, naming
from ..paths import delimiter, replacing
from ..segments import (  # noqa: F401  (classify, trim_to_speech and segments_proba: also imported from here)
    classified_segments,
    classify,
    segment_gain,
    segments_proba,
    set_probabilities,
    trim_to_speech,
)
from ..vad import Segment, VADOptions, top_probabilities

if TYPE_CHECKING:
    from ..inference import EmotionModel


def resolve_model(model: EmotionModel | str | os.PathLike | None = None) -> EmotionModel:
    """``model`` itself when it is a loaded model; else the model at that path or of that bundled name
    (the bundled default for None).

    Parameters
    ----------
    model : EmotionModel, str, path or None
        A loaded model, a model directory, a bundled model's name, or None (default) for the default.

    Returns
    -------
    EmotionModel

    Raises
    ------
    ModelError
        When a path or name gives no model (:func:`emovox.inference.load_model`).

    Examples
    --------
    >>> model = resolve_model()  # the bundled default
    >>> resolve_model(model) is model, model.sample_rate
    (True, 16000)
    """
    if model is None or isinstance(model, str | os.PathLike):
        from ..inference import load_model

        return load_model(model)
    return model


def adapt_timeline(model: EmotionModel, segments: list[Segment], channel: bool = False) -> list[Segment]:
    """Re-score a recording's segments together, adapted to its speaker (:meth:`EmotionModel.proba_session`;
    ``channel``: to its recording channel, as far as the segments' predictions allow).

    The segments must come from ``iter_timeline(..., keep_embeddings=True)`` of a recording of one
    speaker (or channel); their embeddings are released afterwards.

    Parameters
    ----------
    model : EmotionModel
        The model that classified the segments.
    segments : list of Segment
        One recording's segments, with their embeddings.
    channel : bool
        Adapt to the recording channel rather than the speaker (default False).

    Returns
    -------
    list of Segment
        ``segments`` itself, its speech segments re-scored in place (returned unchanged when none holds speech).

    Examples
    --------
    >>> adapt_timeline(None, [Segment(0.0, 1.0, speech=False)])
    [Segment(start=0.0, end=1.0, ..., speech=False, ...)]
    """
    speech = [s for s in segments if s.speech]  # segments without speech have no emotion to adapt
    if not speech:
        return segments
    if any(s.embedding is None for s in speech):
        raise EmovoxError(
            "adapt_timeline needs the segments' embeddings: use iter_timeline(..., keep_embeddings=True)"
        )
    for s, p in zip(
        speech, model.proba_session([s.embedding for s in speech], channel, restricted=False), strict=True
    ):
        set_probabilities(model, s, p, s.sound_seconds)  # (the sound it holds, as before adapting)
        s.embedding = None
    return segments


#: What a timeline reads: a file, an array (with ``sr=``), chunks of samples, or a source (a microphone...).
Source = str | os.PathLike | np.ndarray | Iterable[np.ndarray] | AudioSource


def iter_timeline(
    source: Source,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    options: VADOptions | None = None,
    keep_samples: bool = False,
    on_chunk: Callable[[np.ndarray, float], None] | None = None,
    keep_embeddings: bool = False,
    gain: float | None = None,
    sr: int | None = None,
    **vad_opts: Any,
) -> Iterator[Segment]:
    """Lazily yield classified speech segments of a stream, each as soon as it is finished.

    Parameters
    ----------
    source : path, array, iterable of arrays, or :class:`~emovox.audio.sources.AudioSource`
        A path is read as fast as possible in bounded memory; an array needs ``sr``; an iterable of arrays
        is at ``sr``, or the model's rate without it.
    model : EmotionModel, path or name, optional
        The classifier; the bundled default when omitted.
    options : VADOptions, optional
        Segmentation settings (default: :class:`VADOptions`'s).
    keep_samples : bool
        Keep each segment's audio in ``Segment.samples`` (off: memory stays bounded on long files).
    on_chunk : callable, optional
        Called as ``on_chunk(chunk, seconds_so_far)`` as each chunk arrives, before it reaches the detector
        (a live view's level meter and clock).
    keep_embeddings : bool
        Keep each segment's embedding, for :func:`adapt_timeline` (memory grows with the recording).
    gain : float, optional
        Multiplies the samples before they are cut: a factor, not decibels (``listen --gain 20`` is a factor
        of 10) (default: :func:`segment_gain` of a path or an array, 1 for a stream).
    sr : int, optional
        The rate of an array or of the arrays of an iterable (required for an array, as for
        :meth:`~emovox.inference.EmotionModel.predict`: a 48 kHz array heard as 16 kHz is three times as
        long and an octave and a half lower, and is given emotions, not refused).
    **vad_opts
        Single :class:`VADOptions` fields over ``options`` (``min_length``, ``max_length``, ``padding``,
        ``overlap``, ``min_silence``, ``aggressiveness``...); another name is refused, saying which exist.

    Yields
    ------
    Segment
        With ``start``, ``end``, ``emotion``, ``confidence`` and ``probabilities``.

    Raises
    ------
    ParameterError
        For an array without ``sr``, an unknown VAD option, or ``emotions=`` (narrow the model instead).

    Notes
    -----
    A quiet recording given whole (a path or an array) is brought up before it is cut, as
    :func:`file_timelines` and the whole recording's emotion bring it up (:func:`segment_gain`); a stream
    (a microphone, chunks) is cut as it comes, unless ``gain`` says otherwise.

    Examples
    --------
    A synthetic tone has no voice; a model without the speech check gives it an emotion anyway:

    >>> import emovox
    >>> from emovox.audio.synthetic import silence, tone
    >>> y = np.concatenate([silence(1.0), tone(seconds=1.0), silence(1.0)])
    >>> model = emovox.load_model(check_speech=False)
    >>> for s in iter_timeline(y, model, sr=16000):
    ...     print(s.start, s.end, s.emotion in model.labels, round(sum(s.probabilities.values()), 6))
    0.78 2.22 True 1.0
    """
    model = resolve_model(model)
    if isinstance(source, np.ndarray) and sr is None:
        raise ParameterError(
            "timeline of an array: pass sr=, the array's sample rate (it is never guessed), or an "
            "ArraySource(y, sr)"
        )
    if "emotions" in vad_opts:  # predict_signal takes it; a timeline's segments are the model's
        raise ParameterError(
            "timeline: the emotions are the model's; narrow it first: load_model(emotions=...) or "
            "model.restrict(...)"
        )
    if sr is not None and not isinstance(source, str | os.PathLike | AudioSource):
        from ..audio.signal import check_rate

        sr = check_rate(sr, "timeline", "sr")  # (0, "16k", 16000.5: one line naming sr, not soxr's)
        gain = recording_gain(source, sr) if gain is None and isinstance(source, np.ndarray) else gain
        source = ArraySource(source, sr)
    return classified_segments(
        source,
        model,
        options=options,
        keep_samples=keep_samples,
        on_chunk=on_chunk,
        keep_embeddings=keep_embeddings,
        gain=recording_gain(source, model.sample_rate) if gain is None else gain,
        **vad_opts,
    )


def recording_gain(source, sample_rate: int) -> float:
    """:func:`segment_gain` of a recording known whole before it is cut: a path (read once ahead for its
    peak) or an array; 1 for a stream (a microphone, chunks), whose level cannot be known ahead.

    Parameters
    ----------
    source : path, numpy.ndarray or stream
        What the timeline reads (see :data:`Source`).
    sample_rate : int
        The rate a path is read at (the model's).

    Returns
    -------
    float
        The gain the segments are brought up by (1.0 for a stream, or a recording loud enough).

    Examples
    --------
    >>> recording_gain(iter([np.zeros(160)]), 16000), recording_gain(np.full(1600, 0.5, np.float32), 16000)
    (1.0, 1.0)
    """
    if isinstance(source, np.ndarray):
        return segment_gain(iter([source]))
    if isinstance(source, str | os.PathLike):
        return segment_gain(stream_audio(source, sample_rate))
    return 1.0


def timeline(
    source: Source, model: EmotionModel | str | os.PathLike | None = None, **kwargs: Any
) -> list[Segment]:
    """Every classified speech segment of ``source``: :func:`iter_timeline`'s, as a list.

    Parameters
    ----------
    source : path, array, iterable of arrays, or AudioSource
        What is cut into segments; an array needs ``sr=`` (see :func:`iter_timeline`).
    model : EmotionModel, path or name, optional
        The classifier; the bundled default when omitted.
    **kwargs
        :func:`iter_timeline`'s options (``sr``, ``options``, ``gain``, ``keep_samples``, VAD fields...).

    Returns
    -------
    list of Segment
        In time order; silence-only audio gives an empty list (:func:`file_timelines`, what ``predict
        --timeline`` prints, gives such a file one ``speech=False`` segment saying what was heard).

    Examples
    --------
    >>> from emovox.audio.synthetic import silence, tone
    >>> y = np.concatenate([silence(1.0), tone(seconds=1.0), silence(1.0)])
    >>> [(s.start, s.end, s.speech, s.reason) for s in timeline(y, sr=16000)]  # (the speech check)
    [(0.78, 2.22, False, "no voice in the model's features ...")]
    >>> timeline(silence(2.0), sr=16000)
    []
    """
    return list(iter_timeline(source, model, **kwargs))


# -------------------------------------------------------------------------------------------- several files
@dataclass
class FileTimeline:
    """The timeline of one input of :func:`file_timelines`, or why it has none.

    Attributes
    ----------
    source : str
        The input as output files name it (:func:`emovox.paths.stored_path`: the path itself when it is
        valid UTF-8, control characters and all).
    path : Path, optional
        The file read (None for an entry that named no file, from :func:`timeline_inputs`).
    segments : list of Segment
        Its classified segments (for a failed input, those finished before the failure).
    error : str, optional
        One line naming the input and the cause, when the input failed.

    Examples
    --------
    >>> ok = FileTimeline("a.wav", Path("a.wav"), [Segment(0.5, 2.0, emotion="sad", confidence=0.8)])
    >>> failed = FileTimeline("b.wav", error="b.wav: no such file")
    >>> [(r.source, len(r.segments), r.error) for r in (ok, failed)]
    [('a.wav', 1, None), ('b.wav', 0, 'b.wav: no such file')]
    """

    source: str
    path: Path | None = None
    segments: list[Segment] = field(default_factory=list)
    error: str | None = None

    def to_dict(self, top_k: int | None = None) -> dict:
        """``{"source", "speech", "segments"}`` (see :meth:`Segment.to_dict`; ``speech``: whether any segment
        holds speech, as ``-o`` writes it), or ``{"source", "error"}`` when it failed.

        Parameters
        ----------
        top_k : int, optional
            Keep only each segment's ``top_k`` most probable emotions; None (default): all.

        Returns
        -------
        dict

        Examples
        --------
        >>> FileTimeline("a.wav", error="a.wav: no such file").to_dict()
        {'source': 'a.wav', 'error': 'a.wav: no such file'}
        """
        if self.error is not None:
            return {"source": self.source, "error": self.error}
        return {
            "source": self.source,
            "speech": any(s.speech for s in self.segments),
            "segments": [s.to_dict(top_k) for s in self.segments],
        }


def timeline_inputs(inputs: Iterable[str | os.PathLike]) -> tuple[list[str], list[FileTimeline]]:
    """The files a list of inputs names, and a failed :class:`FileTimeline` for each entry that names none.

    Parameters
    ----------
    inputs : iterable of path
        Files, folders (every audio file under them) and manifest CSVs (their ``path`` column), as
        :func:`emovox.inputs.expand_inputs` reads them.

    Returns
    -------
    paths : list of str
        The files, in order; a name that does not exist is kept (reading it fails, naming it).
    failed : list of FileTimeline
        Folders without audio, FIFOs and other entries that are not files, each with its ``error``.

    Examples
    --------
    >>> import soundfile as sf
    >>> Path("calls").mkdir(); Path("empty").mkdir()
    >>> sf.write("calls/one.wav", np.zeros(1600, np.float32), 16000)
    >>> paths, failed = timeline_inputs(["calls", "empty", "missing.wav"])
    >>> paths, [f.error for f in failed]
    (['calls/one.wav', 'missing.wav'], ['empty: directory holds no audio files'])
    """
    from ..inputs import expand_inputs
    from ..paths import Problem

    problems: list[Problem] = []
    paths = expand_inputs(inputs, problems)
    return paths, [FileTimeline(msg.path, error=msg) for msg in problems]


def file_timelines(
    paths: Iterable[str | os.PathLike],
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    same_speaker: bool = False,
    same_channel: bool = False,
    options: VADOptions | None = None,
    on_file: Callable[[str], None] | None = None,
    on_segment: Callable[[Segment], None] | None = None,
) -> Iterator[FileTimeline]:
    """Lazily yield the timeline of each file, one file after the other, read in bounded memory.

    A file that cannot be read or decoded yields a :class:`FileTimeline` with ``error`` set; the others
    are still read.

    Parameters
    ----------
    paths : path or iterable of paths
        The files; a folder stands for its audio files and a manifest CSV for its ``path`` column (as
        :func:`timeline_inputs` lists them), an entry of them that names no file failing on its own.
    model : EmotionModel, path or name, optional
        The classifier; the bundled default when omitted.
    same_speaker : bool
        Each file is one speaker: its segments are re-scored together, adapted to that voice
        (:func:`adapt_timeline`), once the whole file is read.
    same_channel : bool
        The same for a file's recording channel: its offset removed as far as the segments' predictions
        spread over the emotions (:func:`emovox.adaptation.adaptation_weight`).
    options : VADOptions, optional
        Segmentation settings.
    on_file : callable, optional
        Called as ``on_file(source)`` before a file is read (``source`` as :attr:`FileTimeline.source`).
    on_segment : callable, optional
        Called with each final segment: as soon as it is classified, or with ``same_speaker`` once the
        file's segments are adapted. Its ``OSError`` (a closed output) ends that file as a failure.

    Yields
    ------
    FileTimeline
        One per file, in order.

    Raises
    ------
    EmovoxError
        With ``same_speaker`` or ``same_channel``, for a model that cannot adapt (no class means).

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import silence, tone
    >>> sf.write("a.wav", np.concatenate([silence(1.0), tone(seconds=1.0), silence(1.0)]), 16000)
    >>> for r in file_timelines(["a.wav", "missing.wav"]):
    ...     print(r.source, r.error, [(s.start, s.end, s.speech) for s in r.segments])
    a.wav None [(0.78, 2.22, False)]
    missing.wav missing.wav: no such file []
    """
    from ..inference import SEGMENTS_AFTER_SECONDS
    from ..inputs import Unreadable, each_input
    from ..paths import display_path, stored_path

    model = resolve_model(model)
    from ..adaptation import session_kind

    kind = session_kind(same_speaker, same_channel)
    channel, together = kind == "channel", kind is not None  # (together: scored as one session)
    if together:
        model.require_adaptation()
    for path in each_input(paths):  # (a folder or manifest: its files; one path: itself)
        if isinstance(path, Unreadable):
            yield FileTimeline(path.name, error=path.why)
            continue
        shown = display_path(path)  # the real path opens; this one is shown (not UTF-8: \xNN)
        stored = stored_path(path)  # and this one names it in output files
        segs: list[Segment] = []
        try:
            if on_file is not None:
                on_file(shown)
            # a quiet file is brought up before it is cut, as the whole recording's emotion is
            segments = iter_timeline(path, model, options=options, keep_embeddings=together)
            shown_upto = 0  # rows without speech wait for one with: a short file may yet be scored whole
            for seg in segments:
                segs.append(seg)
                if (
                    on_segment is not None
                    and not together
                    and (seg.speech or seg.end > SEGMENTS_AFTER_SECONDS)
                ):
                    for s in segs[shown_upto:]:
                        on_segment(s)
                    shown_upto = len(segs)
            if not any(s.speech for s in segs):
                segs = file_without_speech(model, path, segs, keep_embedding=together)
            if together:
                adapt_timeline(model, segs, channel)
            if on_segment is not None:
                for seg in segs[0 if together else shown_upto :]:
                    on_segment(seg)
        except EmovoxError as exc:
            yield FileTimeline(stored, Path(path), segs, display_path(naming(exc, str(path))))
            continue
        except BrokenPipeError:  # the reader of our output went away (| head): not this file's fault
            raise
        except OSError as exc:  # one file that cannot be read ends its own timeline, not the run
            yield FileTimeline(stored, Path(path), segs, display_path(f"{path}: {exc.strerror or exc}"))
            continue
        yield FileTimeline(stored, Path(path), segs)


def without_speech(
    model: EmotionModel,
    head: np.ndarray,
    seconds: float,
    segments: list[Segment],
    keep_embedding: bool = False,
) -> list[Segment]:
    """What a recording whose segments hold no speech shows: the whole recording scored whole, when it is short
    and passes the speech check while its utterances do not (:meth:`~emovox.inference.EmotionModel.whole_segment`,
    as its whole answer is); else its segments; and where the detector heard nothing at all, one row without
    speech over the recording saying why (what the speech check finds in ``head``), as the API's timeline does.

    ``head``: the recording's first :data:`~emovox.inference.SEGMENTS_AFTER_SECONDS` of samples (all of it
    when it is no longer), ``seconds``: its length.

    Parameters
    ----------
    model : EmotionModel
        The classifier (its speech check and :meth:`~emovox.inference.EmotionModel.whole_segment`).
    head : numpy.ndarray
        The recording's first samples, at the model's rate.
    seconds : float
        The recording's length in seconds.
    segments : list of Segment
        Its classified segments (possibly none, or none with speech).
    keep_embedding : bool
        Keep the whole segment's embedding, for :func:`adapt_timeline` (default False).

    Returns
    -------
    list of Segment
        One whole-recording segment, ``segments``, or one segment without speech and its reason.

    Examples
    --------
    >>> s = [Segment(0.0, 2.0, emotion="sad")]
    >>> without_speech(None, np.zeros(0), 600.0, s) is s  # long, with segments: they stand
    True
    """
    from ..inference import SEGMENTS_AFTER_SECONDS

    if segments and seconds > SEGMENTS_AFTER_SECONDS:  # (too long to be scored whole: no check needed)
        return segments
    check = model.speech(head) if model.check_speech and head.size else None
    if seconds <= SEGMENTS_AFTER_SECONDS:
        whole = model.whole_segment(lambda: iter([head]), check, keep_embedding)
        if whole is not None:
            return [whole]
    if segments:
        return segments
    why = (
        check.reason
        if check is not None and not check.speech
        else "the voice-activity detector found no speech"
    )
    return [Segment(0.0, seconds, speech=False, reason=why)]


def file_without_speech(model, path, segments: list[Segment], keep_embedding: bool = False) -> list[Segment]:
    """:func:`without_speech` of a file, read for its first seconds (and, without segments, its length):
    what ``predict --timeline`` and ``listen --input`` show of a file without speech.

    Parameters
    ----------
    model : EmotionModel
        The classifier.
    path : str or path
        The file.
    segments : list of Segment
        Its classified segments (possibly none).
    keep_embedding : bool
        Keep a whole segment's embedding (default False).

    Returns
    -------
    list of Segment
    """
    from ..inference import SEGMENTS_AFTER_SECONDS

    n = int(SEGMENTS_AFTER_SECONDS * model.sample_rate)
    head, total = [], 0
    for chunk in stream_audio(path, model.sample_rate):
        if total < n:
            head.append(chunk)
        total += chunk.size
        if segments and total > n:  # long, and its segments are what it shows: no need to read on
            break
    y = np.concatenate(head)[:n] if head else np.zeros(0, np.float32)
    return without_speech(model, y, total / model.sample_rate, segments, keep_embedding)


# ------------------------------------------------------------------------------------------------ output
def rows(
    segments: Iterable[Segment],
    labels: list[str] | None = None,
    source: str | None = None,
    top_k: int | None = None,
) -> list[dict]:
    """Flat rows: ``start, end, emotion, confidence`` then one ``p_<label>`` column per emotion.

    With ``top_k``, a row fills only the columns of its ``top_k`` most probable emotions (others empty); a
    segment without speech has none (empty, as its emotion: not zeros that an average would count).

    Parameters
    ----------
    segments : iterable of Segment
        Classified segments.
    labels : list of str, optional
        The ``p_<label>`` columns (default None: each segment's own probabilities).
    source : str, optional
        A ``source`` column first, holding this value (default None: no such column).
    top_k : int, optional
        Fill only each row's ``top_k`` most probable emotions (default None: all).

    Returns
    -------
    list of dict
        One per segment, keyed as :func:`columns` names them (probabilities rounded to 4 decimals).

    Examples
    --------
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> rows([s], top_k=1)
    [{'start': 1.0, 'end': 2.5, 'emotion': 'angry', 'confidence': 0.7, 'speech': True,
      'uncertain': False, 'reason': None, 'p_angry': 0.7, 'p_sad': None}]
    """
    out = []
    for s in segments:
        labs = labels or list(s.probabilities)
        r = {"source": source} if source is not None else {}
        r.update(
            start=round(s.start, 3),
            end=round(s.end, 3),
            emotion=s.emotion,
            confidence=round(float(s.confidence), 4) if s.confidence is not None else None,
            speech=s.speech,
            uncertain=s.uncertain,
            reason=s.reason,
        )
        if top_k:
            kept = top_probabilities(s.probabilities, top_k)
            r.update({f"p_{lab}": round(float(kept[lab]), 4) if lab in kept else None for lab in labs})
        elif not s.speech or not s.probabilities:
            r.update({f"p_{lab}": None for lab in labs})
        else:
            r.update({f"p_{lab}": round(float(s.probabilities.get(lab, 0.0)), 4) for lab in labs})
        if s.left_out:  # (a model over some emotions only: what it gives the others)
            r["p_left_out"] = round(float(sum(s.left_out.values())), 4)
        out.append(r)
    return out


def columns(labels: list[str], source: bool = False, left_out: bool = False) -> list[str]:
    """The columns of a timeline table (:func:`rows`): ``source`` first when asked, ``p_<label>`` last
    (then ``p_left_out``, when asked: segments of a model over some emotions only).

    Parameters
    ----------
    labels : list of str
        The emotions, one ``p_<label>`` column each.
    source : bool
        Put a ``source`` column first (default False).
    left_out : bool
        Put a ``p_left_out`` column last (default False).

    Returns
    -------
    list of str

    Examples
    --------
    >>> columns(["angry", "sad"], source=True)
    ['source', 'start', 'end', 'emotion', 'confidence', 'speech', 'uncertain', 'reason', 'p_angry', 'p_sad']
    """
    cols = ["start", "end", "emotion", "confidence", "speech", "uncertain", "reason"]
    return (["source"] if source else []) + cols + [f"p_{lab}" for lab in labels] + ["p_left_out"] * left_out


def write_timeline(
    segments: Iterable[Segment],
    path: str | os.PathLike,
    labels: list[str] | None = None,
    source: str | None = None,
    top_k: int | None = None,
) -> Path:
    """Write segments to ``.csv`` / ``.tsv`` (one row each, a ``p_<label>`` column per emotion) or ``.json``.

    An empty timeline still writes a valid file: a CSV header, or an empty JSON list. With ``top_k``, each
    segment keeps only its ``top_k`` most probable emotions (empty cells, or fewer JSON probabilities).
    :func:`read_timeline` reads any of them back.

    Parameters
    ----------
    segments : iterable of Segment
        Classified segments.
    path : str or PathLike
        The output file, ending in ``.csv``, ``.tsv`` or ``.json`` (its folder is made).
    labels : list of str, optional
        The ``p_<label>`` columns (default None: the first segment's emotions).
    source : str, optional
        A ``source`` column (or key) holding this value (default None: none).
    top_k : int, optional
        Keep only each segment's ``top_k`` most probable emotions (default None: all).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> p = write_timeline([s], Path(tempfile.mkdtemp()) / "t.csv")
    >>> print(p.read_text().strip())
    start,end,emotion,confidence,speech,uncertain,reason,p_angry,p_sad
    1.0,2.5,angry,0.7,True,False,,0.7,0.3
    >>> read_timeline(p)[0]["probabilities"]
    {'angry': 0.7, 'sad': 0.3}
    """
    path = _timeline_path(path)
    segments = list(segments)
    # (every segment's emotions: the first may have none, being no speech)
    labels = labels or list(dict.fromkeys(k for s in segments for k in s.probabilities))
    with replacing(path) as tmp:
        if path.suffix.lower() == ".json":
            recs = [({"source": source} if source is not None else {}) | s.to_dict(top_k) for s in segments]
            tmp.write_text(json.dumps(recs, indent=2) + "\n")
            return path
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(
                fh,
                columns(labels, source is not None, any(s.left_out for s in segments)),
                delimiter=delimiter(path),
            )
            w.writeheader()
            w.writerows(rows(segments, labels, source, top_k))
    return path


def write_timelines(
    results: Iterable[FileTimeline], path: str | os.PathLike, labels: list[str], top_k: int | None = None
) -> Path:
    """Several files' timelines (:func:`file_timelines`) in one ``.csv`` / ``.tsv`` / ``.json`` with a
    ``source`` column, as ``emovox predict --timeline -o`` writes them: none is left out, a file that failed
    has a row with its ``error``, one without speech its row without speech and its reason. A single file
    that did not fail is written as :func:`write_timeline` writes it (no ``source`` column).

    Parameters
    ----------
    results : iterable of FileTimeline
        One per input, failed ones included.
    path : str or PathLike
        The output file, ending in ``.csv``, ``.tsv`` or ``.json`` (its folder is made).
    labels : list of str
        The ``p_<label>`` columns (the model's emotions).
    top_k : int, optional
        Keep only each segment's ``top_k`` most probable emotions (default None: all).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> results = [FileTimeline("a.wav", None, [s]), FileTimeline("b.wav", None, [], "b.wav: unreadable")]
    >>> p = write_timelines(results, Path(tempfile.mkdtemp()) / "all.csv", ["angry", "sad"])
    >>> print(p.read_text().strip())
    source,start,end,emotion,confidence,speech,uncertain,reason,p_angry,p_sad,error
    a.wav,1.0,2.5,angry,0.7,True,False,,0.7,0.3,
    b.wav,,,,,,,,,,b.wav: unreadable
    """
    results = list(results)
    if len(results) == 1 and results[0].error is None:
        return write_timeline(results[0].segments, path, labels, top_k=top_k)
    path = _timeline_path(path)
    with replacing(path) as tmp:
        if path.suffix.lower() == ".json":
            recs = []
            for r in results:
                if r.error is not None:
                    recs.append({"source": r.source, "error": r.error})
                recs += [{"source": r.source} | s.to_dict(top_k) for s in r.segments]
            tmp.write_text(json.dumps(recs, indent=2) + "\n")
            return path
        with open(tmp, "w", newline="") as fh:
            left_out = any(s.left_out for r in results for s in r.segments)
            w = csv.DictWriter(fh, columns(labels, True, left_out) + ["error"], delimiter=delimiter(path))
            w.writeheader()
            for r in results:
                if r.error is not None:
                    w.writerow({"source": r.source, "error": r.error})
                else:
                    w.writerows(rows(r.segments, labels, source=r.source, top_k=top_k))
    return path


def _timeline_path(path: str | os.PathLike) -> Path:
    """``path`` checked as a timeline's output (.csv, .tsv or .json), its folder made."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".tsv", ".json"):
        raise EmovoxError(f"{path}: timeline output must end in .csv, .tsv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _cell(value: str | None):
    """A CSV cell back as a number, bool or None (empty)."""
    if value is None:
        return None
    v = value.strip()
    if v == "" or v.lower() in ("none", "nan"):
        return None
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    try:
        return float(v)
    except ValueError:
        return v


def read_timeline(path: str | os.PathLike) -> list[dict]:
    """Segments of a timeline written by :func:`write_timeline` (``.csv``, ``.tsv`` or ``.json``), as dicts.

    Each dict has ``start``, ``end``, ``emotion`` (None where there is no speech), ``confidence``,
    ``speech``, ``uncertain``, ``reason`` (why there is no speech) and ``probabilities`` (label ->
    probability, from the ``p_<label>`` columns);
    a ``source`` column is kept. A JSON file may also be ``{"segments": [...]}`` (``predict --timeline
    --json``'s output for one file). Raises :class:`EmovoxError` for a file that is not a timeline.

    Parameters
    ----------
    path : str or path
        The timeline file; a ``.tsv`` file, or one whose first line holds more tabs than commas, is
        tab-separated; one named ``.json`` or starting with ``[`` or ``{`` is JSON.

    Returns
    -------
    list of dict
        One per segment, in file order; rows of files that failed or held no speech are left out.

    Raises
    ------
    EmovoxError
        When the file is missing, unreadable, or not a timeline (start, end and emotion columns; numeric
        start and end).

    Examples
    --------
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> read_timeline(write_timeline([s], "t.csv", ["angry", "sad"]))
    [{'start': 1.0, 'end': 2.5, 'emotion': 'angry', 'confidence': 0.7, 'speech': True, 'uncertain': False,
      'reason': None, 'probabilities': {'angry': 0.7, 'sad': 0.3}}]
    """
    path = Path(path)
    if not path.is_file():
        raise EmovoxError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EmovoxError(f"{path}: not a readable timeline ({str(exc).splitlines()[0][:120]})") from None
    what = (
        "expected a timeline: a CSV/TSV with start, end, emotion columns (emovox predict --timeline -o t.csv) "
        "or a JSON list of segments"
    )
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EmovoxError(
                f"{path}: not a readable JSON file ({str(exc).splitlines()[0][:120]})"
            ) from None
        if isinstance(data, dict):
            data = data.get("segments")
        elif (
            isinstance(data, list)
            and data
            and all(isinstance(d, dict) and ("segments" in d or "error" in d) for d in data)
        ):
            # predict --timeline --json of several files: their segments, each naming its file (a failed
            # file has none)
            data = [{"source": d.get("source"), **s} for d in data for s in d.get("segments", [])]
        elif isinstance(data, list):  # segments, and a record for each file that failed or held no speech
            data = [d for d in data if not (isinstance(d, dict) and "start" not in d and "source" in d)]
        if not isinstance(data, list) or not all(
            isinstance(s, dict) and "start" in s and "end" in s for s in data
        ):
            raise EmovoxError(f"{path}: {what}")
        return [dict(s) for s in data]
    first = text.splitlines()[0] if text.strip() else ""
    delim = "\t" if path.suffix.lower() == ".tsv" or first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delim)
    cols = reader.fieldnames or []
    if not {"start", "end"} <= set(cols) or not ({"emotion", "label"} & set(cols)):
        raise EmovoxError(f"{path}: {what}")
    out = []
    for n, r in enumerate(reader, start=2):
        if r.get("error") or (not r.get("start") and "source" in r):  # a file that failed or held no speech
            continue
        try:
            start, end = float(r["start"]), float(r["end"])
        except (TypeError, ValueError):
            raise EmovoxError(f"{path}, line {n}: start and end must be numbers") from None
        seg = {"start": start, "end": end}
        if "source" in r:
            seg["source"] = r["source"]
        emotion = (r.get("emotion") if "emotion" in r else r.get("label")) or None
        speech = _cell(r.get("speech"))
        seg.update(
            emotion=emotion,
            confidence=_cell(r.get("confidence")),
            speech=True if speech is None else bool(speech),
            uncertain=bool(_cell(r.get("uncertain"))),
            reason=r.get("reason") or None,
        )
        probs = {c[2:]: _cell(r[c]) for c in cols if c.startswith("p_") and c != "p_left_out"}
        seg["probabilities"] = (
            {k: float(v) for k, v in probs.items() if isinstance(v, float)}
            if seg["speech"] and emotion
            else {}
        )
        out.append(seg)
    return out


def _column_width(labels: list[str]) -> int:
    return max(7, *(len(lab) for lab in labels))  # whole names in the header: "surprised", not "surpris"


def table_header(labels: list[str]) -> str:
    """The header of the segment table that ``emovox predict --timeline`` and ``emovox listen`` print.

    Parameters
    ----------
    labels : list of str
        The emotions, one probability column each (at least 7 characters wide).

    Returns
    -------
    str
        One line, without its newline.

    Examples
    --------
    >>> table_header(["angry", "sad"])
    '    start       end  emotion     conf    angry     sad'
    """
    w = _column_width(labels)
    return f"{'start':>9} {'end':>9}  {'emotion':<10} {'conf':>5}  " + " ".join(
        f"{lab:>{w}}" for lab in labels
    )


def table_row(seg: Segment, labels: list[str], top_k: int | None = None) -> str:
    """One segment as a row of that table; with ``top_k``, emotions outside the segment's top ``top_k``
    show ``-``; a segment without speech says so, and why; one whose model's first choice ``--emotions``
    left out says which.

    Parameters
    ----------
    seg : Segment
        A classified segment.
    labels : list of str
        The table's emotion columns (as :func:`table_header` was given).
    top_k : int, optional
        Show only the segment's ``top_k`` most probable emotions (default None: all).

    Returns
    -------
    str

    Examples
    --------
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities={"angry": 0.7, "sad": 0.3})
    >>> table_row(s, ["angry", "sad"], top_k=1)
    '     1.00      2.50  angry      0.700    0.700       -'
    >>> table_row(Segment(0.0, 2.0, speech=False, reason="silence (all zeros)"), ["angry", "sad"])
    '     0.00      2.00  no speech  silence (all zeros)'
    """
    if not seg.speech:
        return f"{seg.start:9.2f} {seg.end:9.2f}  {'no speech':<10}" + (
            f" {seg.reason}" if seg.reason else ""
        )
    kept = top_probabilities(seg.probabilities, top_k)
    w = _column_width(labels)
    first = seg.first_left_out
    return (
        f"{seg.start:9.2f} {seg.end:9.2f}  {seg.emotion:<10} {seg.confidence:5.3f}  "
        + " ".join(f"{kept[lab]:{w}.3f}" if lab in kept else f"{'-':>{w}}" for lab in labels)
        + ("  uncertain" if seg.uncertain else "")
        + (f"  first choice left out: {first[0]} {first[1]:.3f}" if first else "")
    )


def format_segment(s: Segment, top: int = 3) -> str:
    """One line for a terminal: ``  12.34-15.60  angry  0.71  (happy 0.12, sad 0.08)``.

    Parameters
    ----------
    s : Segment
        A classified segment.
    top : int
        Emotions shown, the segment's own included: ``top - 1`` others in brackets (default 3).

    Returns
    -------
    str

    Examples
    --------
    >>> probabilities = {"angry": 0.7, "sad": 0.2, "happy": 0.1}
    >>> s = Segment(1.0, 2.5, emotion="angry", confidence=0.7, probabilities=probabilities)
    >>> format_segment(s)
    '00:01.00-00:02.50  angry      0.70  (sad 0.20, happy 0.10)'
    >>> format_segment(s, top=2)
    '00:01.00-00:02.50  angry      0.70  (sad 0.20)'
    """
    if not s.speech:
        return f"{format_clock(s.start)}-{format_clock(s.end)}  no speech (sound that is not a voice)"
    others = sorted(s.probabilities.items(), key=lambda kv: -kv[1])[1:top]
    extra = ", ".join(f"{k} {v:.2f}" for k, v in others)
    return (
        f"{format_clock(s.start)}-{format_clock(s.end)}  {str(s.emotion):<10} {s.confidence or 0:.2f}"
        + (" uncertain" if s.uncertain else "")
        + (f"  ({extra})" if extra else "")
    )


def format_clock(t: float) -> str:
    """Seconds as a clock: ``mm:ss.ss``, or ``h:mm:ss.ss`` from an hour on.

    Parameters
    ----------
    t : float
        Seconds (negative counts as 0).

    Returns
    -------
    str

    Examples
    --------
    >>> format_clock(75.5), format_clock(3725.0)
    ('01:15.50', '1:02:05.00')
    """
    m, s = divmod(max(0.0, t), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m:02d}:{s:05.2f}"


def plot_timeline(
    segments: list[Segment],
    path: str | os.PathLike,
    labels: list[str] | None = None,
    duration: float | None = None,
    title: str | None = None,
) -> Path:
    """Save a PNG timeline of classified segments (:func:`emovox.plots.emotion_timeline`).

    ``labels`` is not used: the figure shows the emotions the segments carry.

    Parameters
    ----------
    segments : list of Segment
        Classified segments.
    path : str or PathLike
        The PNG file.
    labels : list of str, optional
        Not used (default None).
    duration : float, optional
        Length of the time axis in seconds (default None: the figure's own choice).
    title : str, optional
        The figure's title (default None: ``"Emotion over time"``).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> segs = [Segment(0.0, 1.5, emotion="angry", confidence=0.7), Segment(2.0, 3.0, emotion="sad")]
    >>> plot_timeline(segs, "timeline.png", duration=4.0)
    PosixPath('timeline.png')
    """
    from .. import plots

    fig = plots.emotion_timeline(list(segments), title=title or "Emotion over time", duration=duration)
    return plots.save(fig, path)


class LatencyClock:
    """When each stretch of audio became available, to measure segment-end-to-result latency."""

    def __init__(self, keep: int = 4096):
        self._marks: deque[tuple[float, float]] = deque(maxlen=keep)

    def mark(self, seconds: float) -> None:
        """Note that the stream's first ``seconds`` are available now (the last ``keep`` marks are kept).

        Parameters
        ----------
        seconds : float
            Stream time, in seconds, read so far.
        """
        self._marks.append((seconds, time.perf_counter()))

    def since(self, t: float) -> float | None:
        """Wall seconds elapsed since stream time ``t`` became available (None if not seen).

        Parameters
        ----------
        t : float
            Stream time, in seconds (a segment's end).

        Returns
        -------
        float or None
            Seconds since the first :meth:`mark` at or after ``t``; None when no kept mark reaches it.

        Examples
        --------
        >>> clock = LatencyClock()
        >>> clock.mark(2.0)
        >>> clock.since(1.5) >= 0, clock.since(3.0)
        (True, None)
        """
        for sec, wall in self._marks:
            if sec >= t - 1e-6:
                return time.perf_counter() - wall
        return None
