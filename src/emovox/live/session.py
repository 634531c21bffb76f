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

import logging
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from ..audio.sources import open_source
from ..errors import EmovoxError
from ..inference import EmotionModel, Prediction
from ..paths import display_path, write_failure
from ..segments import segments_proba
from ..vad import VADOptions
from .display import HeadlessDisplay, WindowDisplay
from .reader import BackgroundReader
from .report import SessionReport, Trial, write_report
from .timeline import iter_timeline, resolve_model, without_speech

if TYPE_CHECKING:
    from .timeline import Source

__all__ = [
    "PICTURE_EXTENSIONS",
    "SessionReport",
    "Trial",
    "find_pictures",
    "react",
    "run_session",
    "write_report",
]

logger = logging.getLogger(__name__)

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def find_pictures(
    root: str | os.PathLike, order: str = "sorted", seed: int = 0
) -> list[tuple[Path, str | None]]:
    """``(picture, expected emotion)`` pairs: each sub-folder's name is its pictures' emotion.

    Pictures directly in ``root`` have no expected emotion. ``order`` is ``sorted`` or ``shuffle``.

    Parameters
    ----------
    root : str or PathLike
        The folder of pictures.
    order : str
        ``"sorted"`` (default: by path) or ``"shuffle"``.
    seed : int
        Seed of the shuffle (default 0).

    Returns
    -------
    list of tuple
        ``(path, emotion or None)``, one per picture (by extension; hidden files left out).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "happy").mkdir(); (root / "happy" / "a.png").touch(); (root / "b.jpg").touch()
    >>> [(p.relative_to(root).as_posix(), e) for p, e in find_pictures(root)]
    [('b.jpg', None), ('happy/a.png', 'happy')]
    """
    root = Path(root)
    if not root.is_dir():
        raise EmovoxError(f"{root}: not a folder of pictures")
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in PICTURE_EXTENSIONS and not p.name.startswith("."):
            rel = p.relative_to(root)
            found.append((p, _folder_emotion(rel.parts[0]) if len(rel.parts) > 1 else None))
    if not found:
        raise EmovoxError(
            f"{root}: no pictures found ({', '.join(PICTURE_EXTENSIONS)} in emotion-named sub-folders)"
        )
    if order == "shuffle":
        random.Random(seed).shuffle(found)
    elif order != "sorted":
        raise EmovoxError(f"picture order must be 'sorted' or 'shuffle', got {order!r}")
    return found


def _folder_emotion(name: str) -> str:
    """The emotion a sub-folder names, under its canonical name (``anger``, ``Joy``, ``fear`` as
    ``--emotions`` takes them); a name emovox does not know stays as it is, lower-cased."""
    from ..errors import CorpusError
    from ..labels import canonical

    try:
        return canonical(name)
    except CorpusError:
        return name.strip().lower()


def _readable(found: list[tuple[Path, str | None]], root) -> list[tuple[Path, str | None]]:
    """The pictures that open as images (Pillow checks each one's header); each other one is noted and left
    out before the session starts, rather than shown blank and scored."""
    from PIL import Image

    kept = []
    for p, e in found:
        try:
            with Image.open(p) as im:
                im.verify()
        except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a bad file
            logger.info("note: %s is not a readable picture (%s); left out", p, type(exc).__name__)
        else:
            kept.append((p, e))
    if not kept:
        raise EmovoxError(f"{root}: none of its {len(found)} pictures can be read")
    return kept


def react(
    model: EmotionModel,
    y: np.ndarray,
    options: VADOptions | None = None,
    emotions: Sequence[str] | None = None,
) -> tuple[Prediction, float]:
    """Emotion of one recorded reaction: the speech segments' probabilities averaged by duration.

    Returns the :class:`~emovox.inference.Prediction` (``speech`` False, with why, when no segment holds
    speech; ``uncertain`` as ``predict`` marks it: a low confidence, or under a second of sound) and the
    seconds of speech its segments cover (0 without speech).

    Parameters
    ----------
    model : EmotionModel
        The classifier.
    y : numpy.ndarray
        The recorded reaction, mono at the model's rate.
    options : VADOptions, optional
        How the reaction is cut into speech (default None: the defaults).
    emotions : sequence of str, optional
        The labels to predict over, probabilities renormalised over them (as ``predict --emotions``;
        default None: every label of the model).

    Returns
    -------
    tuple
        The :class:`~emovox.inference.Prediction` and the seconds of speech (float).
    """
    from ..inference import chosen_emotions
    from ..segments import no_speech_reason, segments_unrestricted, sound_seconds

    # cut and classified as a timeline's (a tone between two sentences is no part of it; a quiet one is
    # brought up first)
    segments = list(iter_timeline(y, model, options=options, sr=model.sample_rate))
    if not any(s.speech for s in segments):  # a short breathy reaction may be scored whole, as predict does
        from ..inference import SEGMENTS_AFTER_SECONDS

        head = y[: int(SEGMENTS_AFTER_SECONDS * model.sample_rate)]
        segments = without_speech(model, head, y.size / model.sample_rate, segments)
    # every emotion's probability averaged over the segments, narrowed after, as predict's answer is
    chosen = None if emotions is None else chosen_emotions(emotions, model.labels)
    p, (_, seconds) = segments_unrestricted(model, segments), segments_proba(model, segments)
    if p is None:  # silence, or only sounds that are not a voice: why, as predict says it
        return Prediction("<reaction>", speech=False, reason=no_speech_reason(segments)), 0.0
    return model.make_prediction("<reaction>", p, chosen, sound_seconds(segments)), seconds


def run_session(
    pictures: str | os.PathLike,
    source: Source,
    model: EmotionModel | str | os.PathLike | None = None,
    *,
    seconds: float = 7.0,
    output_dir: str | os.PathLike | None = None,
    window: bool = False,
    order: str = "sorted",
    seed: int = 0,
    options: VADOptions | None = None,
    stream: TextIO | None = None,
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
    seed : int
        Seed of the ``shuffle`` order (default 0; unused with ``sorted``).
    options : VADOptions, optional
        How each reaction is cut into speech.
    stream : text stream, optional
        Where a session without a window writes its progress (default: nowhere; the CLI passes standard
        output).
    wait_for_start : bool, optional
        Without a window, wait for Enter before the first picture (default: with a ``stream``, when stdin is
        a terminal).

    Returns
    -------
    SessionReport
        Every trial, and the report files written; after Ctrl-C, the trials finished before it, with
        ``interrupted`` set (Ctrl-C before the first one finished raises :class:`KeyboardInterrupt`).

    Raises
    ------
    EmovoxError
        For ``seconds`` not positive, a folder without readable pictures, or a source whose rate is not the
        model's.

    Notes
    -----
    Notes for the user (pictures whose emotion the model cannot detect, a source that ends before the last
    picture) are logged at INFO level (``emovox.live.session``).

    Examples
    --------
    An array stands in for the microphone (``MicrophoneSource()`` in a real session); a tone holds no
    speech, so nothing is detected:

    >>> from PIL import Image
    >>> from emovox.audio.synthetic import silence, tone
    >>> Path("pictures/happy").mkdir(parents=True)
    >>> Image.new("RGB", (8, 8)).save("pictures/happy/sun.png")
    >>> y = np.concatenate([silence(0.5), tone(seconds=1.0), silence(0.5)])
    >>> report = run_session("pictures", y, seconds=2.0, output_dir="session")
    >>> [(t.picture.name, t.expected, t.detected, t.match) for t in report.trials]
    [('sun.png', 'happy', None, None)]
    >>> report.csv, report.trials[0].recording
    (PosixPath('session/report.csv'), PosixPath('session/recordings/01_sun.wav'))
    """
    import soundfile as sf

    if seconds <= 0:
        raise EmovoxError(f"seconds per picture must be positive, got {seconds:g}")
    found = _readable(find_pictures(pictures, order, seed), pictures)
    model = resolve_model(model)
    everything = list(getattr(model, "all_labels", model.labels))
    left_out = sorted({e for _, e in found if e in everything and e not in model.labels})
    if left_out:  # (the page's session does the same): a reaction scored without it could never match
        found = [(p, e) for p, e in found if e not in left_out]
        logger.info("note: pictures of %s left out: not among the emotions chosen", ", ".join(left_out))
        if not found:
            raise EmovoxError(
                f"{pictures}: no picture left: every one expects an emotion not chosen ({', '.join(left_out)})"
            )
    sr = int(model.sample_rate)
    src = open_source(source, sr)
    if src.sample_rate != sr:
        raise EmovoxError(f"{src.name}: runs at {src.sample_rate} Hz, the model wants {sr} Hz")
    out = Path(output_dir or time.strftime("session-%Y%m%d-%H%M%S"))
    (out / "recordings").mkdir(parents=True, exist_ok=True)
    unknown = sorted({e for _, e in found if e is not None and e not in model.labels})
    if unknown:
        logger.info(
            "note: the model cannot detect %s (it knows %s)", ", ".join(unknown), ", ".join(model.labels)
        )
    display = WindowDisplay() if window else HeadlessDisplay(stream, wait_for_start)
    trials = [Trial(p, e, detectable=e is None or e in model.labels) for p, e in found]
    n = int(round(seconds * sr))
    display.start_screen(len(trials), seconds)
    reader = BackgroundReader(src)  # started after the start key, so nothing before it is recorded
    done, interrupted = 0, False
    try:
        for i, trial in enumerate(trials):
            display.show(i, len(trials), trial)
            y = reader.take(n, display.progress)
            trial.recording = out / "recordings" / f"{i + 1:02d}_{trial.picture.stem}.wav"
            try:
                sf.write(trial.recording, y, sr, subtype="PCM_16")
            except sf.SoundFileError as exc:  # (its "System error." hides a full disk or a file-size limit)
                raise EmovoxError(
                    f"{display_path(trial.recording)}: not written ({write_failure(trial.recording, exc)})"
                ) from None
            ended = y.size < n
            if ended:
                logger.info(
                    "note: %s ended during picture %d (%.1f of %g s); the session stops there",
                    src.name,
                    i + 1,
                    y.size / sr,
                    seconds,
                )
            heard, trial.speech_seconds = react(model, y, options)
            trial.detected, trial.confidence = heard.label, heard.confidence
            trial.probabilities, trial.uncertain = heard.probabilities, heard.uncertain
            done = i + 1  # (before it is shown: a Ctrl-C once it is on screen keeps it)
            display.result(trial)
            if ended:  # the pictures after it would only record nothing
                break
    except KeyboardInterrupt:  # Ctrl-C: the pictures finished get their report
        interrupted = True
    finally:
        reader.close()
    trials = trials[:done]
    if interrupted and not trials:
        raise KeyboardInterrupt
    report = write_report(trials, model.labels, out)
    report.interrupted = interrupted
    if not interrupted:
        display.finish(report)
    return report
