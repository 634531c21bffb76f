"""Figures emovox saves: one implementation per picture, shared by the CLI, the API and the notebooks.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (so it is headless and
needs no display or GUI backend); :func:`save` writes a figure to PNG and closes it.

Audio pictures take a file path or a mono array (with its rate ``sr``) and use emovox's own numpy
features (:mod:`emovox.features`), never librosa:

=====================  ============================================================================
:func:`waveform`       amplitude over time
:func:`spectrogram`    linear-frequency power spectrogram in dB
:func:`mel_spectrogram`  mel power spectrogram in dB, frequency axis labelled in Hz on the mel scale
:func:`mfcc`           MFCC matrix
:func:`chromagram`     energy per pitch class (C ... B)
:func:`pitch_contour`  YIN F0 drawn over a narrow-band spectrogram
:func:`overview`       all of the above, stacked on one time axis
=====================  ============================================================================

The ``*_data`` helpers return the array each picture draws (a :class:`FeatureImage`), so that code and
tests can check what is shown. Corpus and model pictures: :func:`emotion_counts`,
:func:`confusion_matrix`, :func:`per_class_recall`, :func:`training_curves`, :func:`emotion_timeline`,
and :func:`mel_scale` for teaching.

Examples
--------
>>> import numpy as np
>>> from emovox import plots
>>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
>>> fig = plots.overview(y, sr=16000, title="A4")
>>> len(fig.axes) >= 6
True
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

AudioInput = str | os.PathLike | np.ndarray

#: Pitch-class names of chromagram rows (chroma starts at C).
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: One colour per canonical emotion, used by every picture that colours emotions.
EMOTION_COLORS: dict[str, str] = {
    "neutral": "#8c8c8c",
    "calm": "#76b7b2",
    "happy": "#edc948",
    "sad": "#4e79a7",
    "angry": "#e15759",
    "fearful": "#b07aa1",
    "disgust": "#59a14f",
    "surprised": "#f28e2b",
    "boredom": "#9c755f",
}
_EXTRA_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _figure(figsize: tuple[float, float]) -> Figure:
    """A figure outside pyplot's registry: no backend, no leak when callers forget to close it."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def save(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG (creating folders) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:  # figures made through pyplot must be released
        sys.modules["matplotlib.pyplot"].close(fig)
    return path


def emotion_color(label: str, i: int = 0) -> str:
    """The colour of ``label`` (canonical emotions have fixed colours; others cycle through a palette)."""
    return EMOTION_COLORS.get(str(label), _EXTRA_COLORS[i % len(_EXTRA_COLORS)])


def _emotion_order(labels) -> list[str]:
    from .labels import CANONICAL

    present = {str(x) for x in labels}
    return [lab for lab in CANONICAL if lab in present] + sorted(present - set(CANONICAL))


# ---------------------------------------------------------------------------------------------------------
# Audio: data helpers
# ---------------------------------------------------------------------------------------------------------


class FeatureImage(NamedTuple):
    """A time-frequency (or time-coefficient) matrix and its axes, as a picture draws it."""

    values: np.ndarray
    """``(n_rows, n_frames)``, row 0 at the bottom."""
    times: np.ndarray
    """Centre of each frame in seconds."""
    rows: np.ndarray
    """What each row is: Hz (spectrogram bins, mel band centres), coefficient number, pitch-class index."""
    label: str
    """Unit of ``values`` (the colour bar's label)."""


def _signal(audio: AudioInput, sr: int | None) -> tuple[np.ndarray, int, str]:
    """Mono float32 samples, their rate and a display name from a path or an array."""
    from .audio import DEFAULT_SR, load_audio

    if isinstance(audio, np.ndarray):
        rate = int(sr or DEFAULT_SR)
        return load_audio(audio, rate, input_sr=rate), rate, "signal"
    rate = int(sr or DEFAULT_SR)
    return load_audio(audio, rate), rate, Path(audio).name


def _frame_times(n_frames: int, hop_length: int, sr: int) -> np.ndarray:
    return np.arange(n_frames) * hop_length / sr  # centred frames: frame i is centred on sample i * hop


def spectrogram_data(
    y: np.ndarray, sr: int = 16000, *, n_fft: int = 512, hop_length: int = 160, top_db: float = 80.0
) -> FeatureImage:
    """Power spectrogram in dB relative to its loudest bin, rows in Hz."""
    from .features import spectral as sp

    P = sp.spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=2.0)
    db = sp.power_to_db(P, ref=max(float(P.max()), 1e-10), top_db=top_db)
    return FeatureImage(
        db, _frame_times(P.shape[1], hop_length, sr), sp.fft_frequencies(sr, n_fft), "dB re max"
    )


def mel_data(
    y: np.ndarray,
    sr: int = 16000,
    *,
    n_fft: int = 1024,
    hop_length: int = 160,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float = 80.0,
) -> FeatureImage:
    """Mel power spectrogram in dB relative to its loudest band; ``rows`` are the bands' centres in Hz."""
    from .features import spectral as sp

    fmax = sr / 2 if fmax is None else fmax
    M = sp.melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
    db = sp.power_to_db(M, ref=max(float(M.max()), 1e-10), top_db=top_db)
    centres = sp.mel_frequencies(n_mels + 2, fmin, fmax)[1:-1]
    return FeatureImage(db, _frame_times(M.shape[1], hop_length, sr), centres, "dB re max")


def mfcc_data(
    y: np.ndarray,
    sr: int = 16000,
    *,
    n_mfcc: int = 20,
    n_fft: int = 1024,
    hop_length: int = 160,
    n_mels: int = 128,
) -> FeatureImage:
    """MFCCs ``(n_mfcc, n_frames)`` as the feature extractor computes them (DCT of the log-mel spectrogram)."""
    from .features import spectral as sp

    C = sp.mfcc(y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    return FeatureImage(C, _frame_times(C.shape[1], hop_length, sr), np.arange(n_mfcc), "coefficient")


def chroma_data(
    y: np.ndarray,
    sr: int = 16000,
    *,
    n_fft: int = 2048,
    hop_length: int = 160,
    tuning: float | None = 0.0,
    silence_db: float | None = 45.0,
) -> FeatureImage:
    """Chromagram (each frame scaled to a maximum of 1); rows are pitch classes C ... B.

    Frames more than ``silence_db`` below the loudest frame are set to 0: scaled to a maximum of 1, the
    pitch classes of near-silence would look as strong as those of speech.
    """
    from .features import spectral as sp

    P = sp.spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=2.0)
    C = sp.chroma_stft(S=P, sr=sr, tuning=tuning)
    if silence_db is not None:
        energy = P.sum(axis=0)
        C = np.where(energy < energy.max(initial=0.0) * 10 ** (-silence_db / 10), 0.0, C)
    return FeatureImage(C, _frame_times(C.shape[1], hop_length, sr), np.arange(C.shape[0]), "relative energy")


def pitch_data(
    y: np.ndarray, sr: int = 16000, *, hop_length: int = 160, fmin: float = 50.0, fmax: float = 600.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YIN F0 per frame: ``(times, f0, voiced)``; ``f0`` is NaN where unvoiced."""
    from .features.pitch import yin

    frame_length = 1024 if sr <= 24000 else 2048
    f0, voiced, _ = yin(y, sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length, hop_length=hop_length)
    return _frame_times(len(f0), hop_length, sr), f0, voiced


# ---------------------------------------------------------------------------------------------------------
# Audio: pictures
# ---------------------------------------------------------------------------------------------------------


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 3.6)) -> tuple[Figure, Axes, bool]:
    """The axes to draw into: ``ax`` when given (inside a bigger figure), else a new figure's."""
    if ax is not None:
        return ax.figure, ax, False
    fig = _figure(figsize)
    return fig, fig.add_subplot(), True


def _draw_image(
    ax: Axes,
    img: FeatureImage,
    hop_s: float,
    y_extent: tuple[float, float],
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
    cbar: bool = True,
):
    t = img.times
    extent = (t[0] - hop_s / 2, t[-1] + hop_s / 2, *y_extent) if len(t) else (0, 1, *y_extent)
    im = ax.imshow(
        img.values,
        origin="lower",
        aspect="auto",
        extent=extent,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
    )
    ax.set_xlim(0, max(extent[1], 1e-3))
    if cbar:
        ax.figure.colorbar(im, ax=ax, pad=0.01, label=img.label)
    return im


def _hz_label(f: float) -> str:
    return f"{f / 1000:g}k" if f >= 1000 else f"{f:g}"


def _title(ax: Axes, what: str, name: str, title: str | None, standalone: bool) -> None:
    ax.set_title(title if title is not None else (f"{name}: {what}" if standalone else what), loc="left")


def waveform(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    max_points: int = 4000,
) -> Figure:
    """Amplitude over time; long signals are drawn as a min/max envelope of ``max_points`` columns.

    Parameters
    ----------
    audio : path or np.ndarray
        A file (decoded with :func:`emovox.load_audio` at ``sr``, 16 kHz by default) or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array.
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    """
    y, sr, name = _signal(audio, sr)
    fig, ax, standalone = _axes(ax, (10, 3.0))
    t_end = len(y) / sr
    if len(y) > 2 * max_points:
        cols = np.array_split(y, max_points)
        lo = np.array([c.min() for c in cols])
        hi = np.array([c.max() for c in cols])
        t = (np.cumsum([len(c) for c in cols]) - np.array([len(c) for c in cols]) / 2) / sr
        ax.fill_between(t, lo, hi, color="#4c72b0", linewidth=0.3)
    else:
        ax.plot(np.arange(len(y)) / sr, y, color="#4c72b0", linewidth=0.6)
    peak = max(float(np.abs(y).max()), 1e-3)
    ax.set_ylim(-1.05 * peak, 1.05 * peak)
    ax.set_xlim(0, t_end)
    ax.axhline(0, color="0.6", linewidth=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    _title(ax, "waveform", name, title, standalone)
    return fig


def spectrogram(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    n_fft: int = 512,
    hop_length: int = 160,
    fmax: float | None = None,
) -> Figure:
    """Linear-frequency power spectrogram in dB (colour bar in dB relative to the loudest bin).

    Parameters are as :func:`waveform`; ``n_fft`` / ``hop_length`` are in samples, ``fmax`` limits the
    frequency axis (Hz, default Nyquist).
    """
    y, sr, name = _signal(audio, sr)
    img = spectrogram_data(y, sr, n_fft=n_fft, hop_length=hop_length)
    fig, ax, standalone = _axes(ax)
    df = sr / n_fft
    _draw_image(ax, img, hop_length / sr, (-df / 2, sr / 2 + df / 2), "magma", vmin=-80, vmax=0)
    ax.set_ylim(0, fmax or sr / 2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    _title(ax, "spectrogram", name, title, standalone)
    return fig


def _mel_ticks(ax: Axes, centres: np.ndarray) -> None:
    """Label mel-band rows with the Hz they stand for (the axis is linear in mel)."""
    from .features.spectral import hz_to_mel

    fmax = centres[-1]
    ticks = [f for f in (0, 250, 500, 1000, 2000, 4000, 6000, 8000, 12000, 16000) if f <= fmax]
    pos = np.interp(
        hz_to_mel(np.asarray(ticks, float)),
        hz_to_mel(centres),
        np.arange(len(centres)),
        left=-0.5,
        right=len(centres) - 0.5,
    )
    ax.set_yticks(pos, [_hz_label(f) for f in ticks])


def mel_spectrogram(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    n_mels: int = 128,
    n_fft: int = 1024,
    hop_length: int = 160,
    fmax: float | None = None,
) -> Figure:
    """Mel power spectrogram in dB; rows are mel bands, labelled with their frequency in Hz.

    The array drawn is :func:`mel_data` ``(y, sr, ...).values`` (``fig.axes[0].images[0].get_array()``).
    """
    y, sr, name = _signal(audio, sr)
    img = mel_data(y, sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmax=fmax)
    fig, ax, standalone = _axes(ax)
    _draw_image(ax, img, hop_length / sr, (-0.5, n_mels - 0.5), "magma", vmin=-80, vmax=0)
    _mel_ticks(ax, img.rows)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz, mel scale)")
    _title(ax, f"mel spectrogram ({n_mels} bands)", name, title, standalone)
    return fig


def mfcc(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    n_mfcc: int = 20,
    hop_length: int = 160,
) -> Figure:
    """MFCC matrix (coefficient 0, the overall level, is far below the others and saturates the colours)."""
    y, sr, name = _signal(audio, sr)
    img = mfcc_data(y, sr, n_mfcc=n_mfcc, hop_length=hop_length)
    fig, ax, standalone = _axes(ax)
    rest = img.values[1:] if n_mfcc > 1 else img.values
    lim = max(float(np.percentile(np.abs(rest), 99)), 1e-6)
    _draw_image(ax, img, hop_length / sr, (-0.5, n_mfcc - 0.5), "coolwarm", vmin=-lim, vmax=lim)
    ax.set_yticks(range(0, n_mfcc, max(1, n_mfcc // 5)))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MFCC")
    _title(ax, f"MFCC ({n_mfcc} coefficients)", name, title, standalone)
    return fig


def chromagram(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    hop_length: int = 160,
) -> Figure:
    """Chromagram: energy per pitch class (C ... B), each frame scaled to a maximum of 1."""
    y, sr, name = _signal(audio, sr)
    img = chroma_data(y, sr, hop_length=hop_length)
    fig, ax, standalone = _axes(ax)
    _draw_image(ax, img, hop_length / sr, (-0.5, len(img.rows) - 0.5), "viridis", vmin=0, vmax=1)
    if len(img.rows) == 12:
        ax.set_yticks(range(12), PITCH_CLASSES)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pitch class")
    _title(ax, "chromagram", name, title, standalone)
    return fig


def pitch_contour(
    audio: AudioInput,
    sr: int | None = None,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    fmax_plot: float = 1000.0,
    hop_length: int = 160,
) -> Figure:
    """YIN F0 (voiced frames) over a narrow-band spectrogram up to ``fmax_plot`` Hz."""
    y, sr, name = _signal(audio, sr)
    n_fft = 2048 if sr <= 24000 else 4096
    img = spectrogram_data(y, sr, n_fft=n_fft, hop_length=hop_length)
    fig, ax, standalone = _axes(ax)
    df = sr / n_fft
    _draw_image(ax, img, hop_length / sr, (-df / 2, sr / 2 + df / 2), "gray_r", vmin=-70, vmax=0)
    t, f0, voiced = pitch_data(y, sr, hop_length=hop_length)
    ax.plot(t, f0, color="#00b3ff", linewidth=2.2, label="F0 (YIN)")
    ax.set_ylim(0, fmax_plot)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    med = f"median {np.nanmedian(f0):.0f} Hz" if voiced.any() else "no voiced frames"
    ax.legend(loc="upper right", fontsize=8, title=med, title_fontsize=8)
    _title(ax, "pitch contour", name, title, standalone)
    return fig


#: Audio pictures by the name ``emovox plot KIND`` uses.
AUDIO_PLOTS: dict[str, Callable[..., Figure]] = {
    "waveform": waveform,
    "spectrogram": spectrogram,
    "mel": mel_spectrogram,
    "mfcc": mfcc,
    "chroma": chromagram,
    "pitch": pitch_contour,
}


def overview(audio: AudioInput, sr: int | None = None, *, title: str | None = None) -> Figure:
    """One sheet with every audio picture of a file, stacked on a shared time axis."""
    y, rate, name = _signal(audio, sr)
    fig = _figure((11, 15))
    axes = fig.subplots(len(AUDIO_PLOTS), 1, sharex=True)
    for ax, (kind, fn) in zip(axes, AUDIO_PLOTS.items(), strict=True):
        fn(y, rate, ax=ax)
        if kind == "waveform":  # an invisible colour bar keeps the time axes aligned
            from matplotlib.cm import ScalarMappable

            fig.colorbar(ScalarMappable(), ax=ax, pad=0.01).ax.set_visible(False)
        if ax is not axes[-1]:
            ax.set_xlabel("")
    fig.suptitle(
        title if title is not None else f"{name}  ({len(y) / rate:.2f} s at {rate / 1000:g} kHz)",
        fontsize=14,
        fontweight="bold",
    )
    return fig


# ---------------------------------------------------------------------------------------------------------
# Corpora and models
# ---------------------------------------------------------------------------------------------------------


def emotion_counts(manifest, by: str | None = None, title: str = "Utterances per emotion"):
    """Bar chart of utterances per emotion.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A manifest with an ``emotion`` column.
    by : {None, "corpus", "gender", "speaker"} or another column
        ``None``: one bar per emotion. ``"speaker"``: one stacked bar per speaker, split by emotion (shows
        how balanced each speaker is). Any other column: bars of each emotion grouped by its values.
    title : str
    """
    import pandas as pd

    from .errors import CorpusError

    if by and by not in manifest:
        raise CorpusError(f"manifest has no column {by!r} to split the counts by")
    emotions = _emotion_order(manifest["emotion"].dropna())
    if by == "speaker":
        spk = manifest["speaker"].fillna("unknown").astype(str)
        if "corpus" in manifest and manifest["corpus"].nunique() <= 1:
            spk = spk.str.split(":").str[-1]  # one corpus: drop the "corpus:" prefix
        table = pd.crosstab(spk, manifest["emotion"]).reindex(columns=emotions, fill_value=0)
        fig = _figure((max(6.0, 0.35 * len(table) + 2.5), 4.2))
        ax = fig.add_subplot()
        bottom = np.zeros(len(table))
        x = np.arange(len(table))
        for i, emo in enumerate(emotions):
            ax.bar(x, table[emo].to_numpy(), bottom=bottom, color=emotion_color(emo, i), label=emo, width=0.8)
            bottom += table[emo].to_numpy()
        ax.set_xticks(x, table.index, rotation=90 if len(table) > 12 else 30, fontsize=8)
        ax.set_xlabel("speaker")
        ax.legend(title="emotion", fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    elif by:
        table = pd.crosstab(manifest["emotion"], manifest[by].fillna("unknown")).reindex(
            emotions, fill_value=0
        )
        fig = _figure((max(7.0, 0.9 * len(emotions) + 2), 4.2))
        ax = fig.add_subplot()
        n = table.shape[1]
        width = 0.8 / n
        x = np.arange(len(table))
        for j, col in enumerate(table.columns):
            bars = ax.bar(
                x - 0.4 + width * (j + 0.5),
                table[col].to_numpy(),
                width,
                label=str(col),
                color=_EXTRA_COLORS[j % len(_EXTRA_COLORS)],
            )
            if n <= 3:
                ax.bar_label(bars, fontsize=7)
        ax.set_xticks(x, table.index, rotation=30)
        ax.set_xlabel("emotion")
        ax.legend(title=by, fontsize=8)
    else:
        counts = manifest["emotion"].value_counts().reindex(emotions)
        fig = _figure((max(6.0, 0.8 * len(emotions) + 2), 4.0))
        ax = fig.add_subplot()
        bars = ax.bar(
            counts.index, counts.to_numpy(), color=[emotion_color(e, i) for i, e in enumerate(counts.index)]
        )
        ax.bar_label(bars, fontsize=8)
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel("emotion")
    ax.set_ylabel("utterances")
    ax.set_title(title if not by else f"{title} by {by}")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def confusion_matrix(
    matrix: np.ndarray, labels: Sequence[str], normalize: bool = True, title: str = "Confusion matrix"
):
    """Heat map of a confusion matrix (rows: true, columns: predicted), each cell annotated.

    With ``normalize`` the colours and numbers are row fractions (recall per class); the raw counts
    are printed beneath in brackets so nothing is hidden. Without it, cells show the counts.
    """
    m = np.asarray(matrix, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    shown = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0) if normalize else m
    n = len(labels)
    fig = _figure((1.6 + 0.8 * n, 1.2 + 0.7 * n))
    ax = fig.add_subplot()
    vmax = 1.0 if normalize else max(float(shown.max()), 1.0)
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="recall (row fraction)" if normalize else "count")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    size = 8 if n <= 8 else 6
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}\n({int(m[i, j])})" if normalize else f"{int(m[i, j])}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color="white" if shown[i, j] > vmax / 2 else "black",
            )
    return fig


def reliability_diagram(
    curves: Mapping[str, Mapping[str, Sequence[float]]], title: str = "Reliability diagram"
):
    """Accuracy against confidence per confidence bin, one line per set (e.g. each held-out corpus).

    ``curves`` maps a name to :func:`emovox.calibration.reliability` output (``confidence``, ``accuracy``,
    ``count``; NaN or a count of 0 for an empty bin), optionally with an ``ece`` shown in the legend. A
    calibrated model lies on the diagonal; below it, the model is over-confident. Bars beneath show how
    many predictions fell in each bin.
    """
    fig = _figure((6.4, 6.4))
    ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=(4, 1))
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="calibrated")
    width = 1.0 / max(len(next(iter(curves.values()))["count"]), 1) if curves else 0.1
    for k, (name, r) in enumerate(curves.items()):
        conf = np.asarray(r["confidence"], dtype=float)
        acc = np.asarray(r["accuracy"], dtype=float)
        count = np.asarray(r["count"], dtype=float)
        used = (count > 0) & np.isfinite(conf) & np.isfinite(acc)
        label = name + (f" (ECE {float(r['ece']):.3f})" if r.get("ece") is not None else "")
        ax.plot(conf[used], acc[used], marker="o", ms=4, lw=1.5, label=label, color=f"C{k}")
        centres = (np.arange(len(count)) + 0.5) * width
        off = (k - (len(curves) - 1) / 2) * width / max(len(curves), 1)
        hist.bar(centres + off, count / max(count.sum(), 1), width=width / max(len(curves), 1), color=f"C{k}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    hist.set_xlabel("confidence of the predicted emotion")
    hist.set_ylabel("share")
    return fig


def _recalls(recall) -> dict[str, float]:
    """Recall per class from a mapping, a ``per_class`` mapping of dicts, or an Evaluation."""
    if hasattr(recall, "pooled"):
        recall = recall.pooled["per_class"]
    return {str(k): float(v["recall"] if isinstance(v, Mapping) else v) for k, v in recall.items()}


def per_class_recall(recall, title: str = "Recall per class") -> Figure:
    """Bar chart of recall per class, with the unweighted average recall (UA) and chance level.

    Parameters
    ----------
    recall : Mapping[str, float] or Evaluation
        Recall (0-1) per label, ``Evaluation.pooled["per_class"]`` or an
        :class:`~emovox.evaluation.Evaluation` (its pooled per-class recall).
    """
    r = _recalls(recall)
    labels = list(r)
    values = 100 * np.array([r[k] for k in labels])
    fig = _figure((max(5.0, 0.8 * len(labels) + 2.5), 4.0))
    ax = fig.add_subplot()
    bars = ax.bar(labels, values, color=[emotion_color(k, i) for i, k in enumerate(labels)])
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    if labels:
        ax.axhline(values.mean(), color="black", linewidth=1.2, label=f"UA {values.mean():.1f} %")
        ax.axhline(
            100 / len(labels),
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"chance {100 / len(labels):.1f} %",
        )
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylim(0, 105)
    ax.set_ylabel("recall (%)")
    ax.set_xlabel("true emotion")
    ax.tick_params(axis="x", rotation=30)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def training_curves(history: Mapping[str, Sequence[float]], title: str = "Training curves") -> Figure:
    """Loss and accuracy per epoch from a dict of lists.

    Keys containing ``loss`` go to the left panel, every other metric (``acc``, ``accuracy``, ``ua``...)
    to the right; ``val_`` / ``valid`` / ``test`` keys are dashed. The epoch of the lowest validation
    loss is marked. Example keys: ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``.
    """
    series = {k: np.asarray(v, dtype=float) for k, v in history.items() if len(v)}
    losses = [k for k in series if "loss" in k.lower()]
    metrics = [k for k in series if k not in losses]
    groups = [(g, name) for g, name in ((losses, "loss"), (metrics, "accuracy")) if g]
    fig = _figure((5.0 * max(1, len(groups)) + 1, 3.8))
    axes = fig.subplots(1, max(1, len(groups)), squeeze=False)[0]

    def held_out(key: str) -> bool:
        k = key.lower()
        return k.startswith(("val", "valid", "test", "dev")) or "_val" in k or "valid" in k

    best = None
    val_losses = [k for k in losses if held_out(k)]
    if val_losses:
        best = int(np.nanargmin(series[val_losses[0]])) + 1
    for ax, (keys, name) in zip(axes, groups, strict=False):
        for i, k in enumerate(keys):
            v = series[k]
            epochs = np.arange(1, len(v) + 1)
            ax.plot(
                epochs,
                v,
                linestyle="--" if held_out(k) else "-",
                marker="o" if len(v) <= 30 else None,
                markersize=3,
                color=_EXTRA_COLORS[(1 if held_out(k) else 0) + 2 * (i // 2)],
                label=k,
            )
        if best is not None:
            ax.axvline(
                best, color="0.5", linestyle=":", linewidth=1, label=f"best {val_losses[0]} (epoch {best})"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if name == "accuracy" and all(np.nanmax(series[k]) <= 1.0 for k in keys):
            ax.set_ylim(0, 1)
    fig.suptitle(title)
    return fig


def _field(seg: Any, key: str, default: Any = None) -> Any:
    """``seg[key]`` or ``seg.key``; ``label`` falls back to ``emotion`` (as :class:`emovox.live` segments name it)."""
    get = seg.get if isinstance(seg, Mapping) else (lambda k, d=None: getattr(seg, k, d))
    value = get(key, None)
    if value is None and key == "label":
        value = get("emotion", None)
    return default if value is None else value


NO_SPEECH_COLOR = "#9e9e9e"


def emotion_timeline(
    segments: Sequence[Any], title: str = "Emotion over time", duration: float | None = None
) -> Figure:
    """Emotion of a long recording over time: coloured spans per predicted label and probability curves.

    Parameters
    ----------
    segments : sequence of dict or objects
        Each with ``start`` and ``end`` (seconds), ``label`` (or ``emotion``), ``confidence`` (0-1) and
        ``probabilities`` (label -> probability). Segments may overlap (sliding windows) or leave gaps
        (silence); curves join segment centres. Segments without a label are left blank; those with
        ``speech`` False (a sound that is not a voice) are drawn grey and hatched.
    duration : float, optional
        Length of the recording (default: the last segment's end).
    """
    segs = sorted(segments, key=lambda s: float(_field(s, "start", 0.0)))
    fig = _figure((12, 4.8))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 3])
    end = duration or (max(float(_field(s, "end", 0.0)) for s in segs) if segs else 1.0)
    labels = _emotion_order(
        {str(_field(s, "label")) for s in segs if _field(s, "label") is not None}
        | {k for s in segs for k in (_field(s, "probabilities") or {})}
    )
    colors = {lab: emotion_color(lab, i) for i, lab in enumerate(labels)}
    # Ribbon: overlapping windows are cut at the midpoints between their centres, so each instant shows
    # the window centred nearest to it; opacity follows the confidence.
    starts = np.array([float(_field(s, "start")) for s in segs])
    ends = np.array([float(_field(s, "end")) for s in segs])
    centres = (starts + ends) / 2
    mids = (centres[1:] + centres[:-1]) / 2
    lo = np.maximum(starts, np.concatenate(([-np.inf], mids)))
    hi = np.minimum(ends, np.concatenate((mids, [np.inf])))
    runs: list[list] = []  # [label, t0, t1] of consecutive spans with one label, for the text
    no_speech = False
    for s, t0, t1 in zip(segs, lo, hi, strict=True):
        lab = _field(s, "label")
        if _field(s, "speech", True) is False and t1 > t0:  # a sound that is not a voice: grey, no emotion
            top.axvspan(t0, t1, color=NO_SPEECH_COLOR, alpha=0.5, linewidth=0, hatch="//")
            no_speech = True
            continue
        if lab is None or t1 <= t0:
            continue
        conf = float(_field(s, "confidence", 1.0) or 0.0)
        top.axvspan(t0, t1, color=colors[str(lab)], alpha=0.3 + 0.7 * min(max(conf, 0.0), 1.0), linewidth=0)
        if runs and runs[-1][0] == lab and abs(runs[-1][2] - t0) < 1e-6:
            runs[-1][2] = t1
        else:
            runs.append([lab, t0, t1])
    for lab, t0, t1 in runs:
        if (t1 - t0) > end / 30:
            top.text((t0 + t1) / 2, 0.5, str(lab), ha="center", va="center", fontsize=8, clip_on=True)
    if no_speech:
        from matplotlib.patches import Patch

        top.legend(
            handles=[Patch(facecolor=NO_SPEECH_COLOR, alpha=0.5, hatch="//", label="no speech")],
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
        )
    top.set_yticks([])
    top.set_ylabel("label")
    top.set_title(title, loc="left")
    if segs:
        for lab in labels:
            p = np.array([float((_field(s, "probabilities") or {}).get(lab, np.nan)) for s in segs])
            ok = np.isfinite(p)  # segments without speech (no probabilities) are skipped, not line breaks
            if ok.any():
                bottom.plot(
                    centres[ok],
                    p[ok],
                    color=colors[lab],
                    linewidth=1.6,
                    label=lab,
                    marker="o" if len(segs) <= 40 else None,
                    markersize=3,
                )
    else:
        bottom.text(0.5, 0.5, "no segments", transform=bottom.transAxes, ha="center", va="center")
    bottom.set_ylim(0, 1)
    bottom.set_xlim(0, end)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("probability")
    bottom.grid(alpha=0.3)
    if labels:
        bottom.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="emotion")
    return fig


def mel_scale(
    pairs: Sequence[tuple[float, float]] = ((300.0, 400.0), (900.0, 1000.0)), fmax: float = 4000.0
) -> Figure:
    """The mel scale ``m = 2595 log10(1 + f / 700)`` and how far apart equal steps in Hz are in mel.

    Parameters
    ----------
    pairs : sequence of (f1, f2)
        Frequency pairs (Hz) to mark; the default shows that 300 -> 400 Hz is a bigger step in pitch
        than 900 -> 1000 Hz although both are 100 Hz.
    fmax : float
        Upper end of the curve (Hz).
    """

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)

    fig = _figure((11, 4.2))
    ax, bar_ax = fig.subplots(1, 2, width_ratios=[2, 1])
    f = np.linspace(0, fmax, 500)
    ax.plot(f, mel(f), color="black", linewidth=1.5, label="m = 2595 log10(1 + f / 700)")
    ax.plot(f, f, color="0.6", linestyle=":", linewidth=1, label="m = f (linear)")
    for i, (f1, f2) in enumerate(pairs):
        c = _EXTRA_COLORS[i % len(_EXTRA_COLORS)]
        m1, m2 = mel(f1), mel(f2)
        ax.fill_between([f1, f2], 0, [m1, m2], color=c, alpha=0.25)
        ax.axhspan(m1, m2, xmax=f2 / fmax, color=c, alpha=0.25)
        ax.plot([f1, f2], [m1, m2], "o", color=c)
        ax.annotate(
            f"{f1:g} -> {f2:g} Hz: {m2 - m1:.0f} mel",
            (f2, m2),
            xytext=(12, -14 - 4 * i),
            textcoords="offset points",
            color=c,
            fontsize=9,
            fontweight="bold",
        )
    ax.set_xlim(0, fmax)
    ax.set_ylim(0, max(float(mel(fmax)), 1) * 1.05)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("mel")
    ax.set_title(
        "The mel scale: equal steps in Hz are smaller steps in pitch as frequency rises",
        loc="left",
        fontsize=10,
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    names = [f"{f1:g}->{f2:g}" for f1, f2 in pairs]
    x = np.arange(len(pairs))
    dhz = [f2 - f1 for f1, f2 in pairs]
    dmel = [float(mel(f2) - mel(f1)) for f1, f2 in pairs]
    b1 = bar_ax.bar(x - 0.2, dhz, 0.4, color="0.7", label="distance in Hz")
    b2 = bar_ax.bar(
        x + 0.2, dmel, 0.4, color=[_EXTRA_COLORS[i % len(_EXTRA_COLORS)] for i in x], label="distance in mel"
    )
    bar_ax.bar_label(b1, fmt="%.0f", fontsize=8)
    bar_ax.bar_label(b2, fmt="%.0f", fontsize=8)
    bar_ax.set_xticks(x, [f"{n} Hz" for n in names])
    bar_ax.set_title("same 100 Hz, different mel", fontsize=10)
    bar_ax.legend(fontsize=8)
    bar_ax.set_ylim(0, max(dhz + dmel) * 1.2)
    return fig


__all__ = [
    "AUDIO_PLOTS",
    "EMOTION_COLORS",
    "PITCH_CLASSES",
    "FeatureImage",
    "chroma_data",
    "chromagram",
    "confusion_matrix",
    "emotion_color",
    "emotion_counts",
    "emotion_timeline",
    "mel_data",
    "mel_scale",
    "mel_spectrogram",
    "mfcc",
    "mfcc_data",
    "overview",
    "per_class_recall",
    "pitch_contour",
    "pitch_data",
    "save",
    "spectrogram",
    "spectrogram_data",
    "training_curves",
    "waveform",
]
