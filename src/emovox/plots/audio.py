"""Pictures of a sound: waveform, spectrograms, MFCC, chromagram, pitch contour, and the mel scale.

They take a file path or a mono array (with its rate ``sr``) and use emovox's own numpy features
(:mod:`emovox.features`), never librosa. The ``*_data`` helpers return the array each picture draws (a
:class:`FeatureImage`), so that code and tests can check what is shown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .base import EXTRA_COLORS, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

AudioInput = str | os.PathLike | np.ndarray

#: Pitch-class names of chromagram rows (chroma starts at C).
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


# ---------------------------------------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------------------------------------


class FeatureImage(NamedTuple):
    """A time-frequency (or time-coefficient) matrix and its axes, as a picture draws it.

    Returned by the ``*_data`` helpers (:func:`spectrogram_data`, :func:`mel_data`, :func:`mfcc_data`,
    :func:`chroma_data`); its fields are documented below.

    Examples
    --------
    >>> from emovox.audio.synthetic import tone
    >>> img = mel_data(tone(440.0, seconds=1.0), 16000)
    >>> img.values.shape, img.times[:3], img.label
    ((128, 101), array([0.  , 0.01, 0.02]), 'dB re max')
    """

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
    from ..audio import DEFAULT_SR, load_audio

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
    """Power spectrogram in dB relative to its loudest bin, rows in Hz.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    n_fft, hop_length : int
        FFT size and step in samples (default 512 and 160).
    top_db : float
        Floor in dB below the loudest bin (default 80).

    Returns
    -------
    FeatureImage
        ``values`` ``(1 + n_fft // 2, n_frames)`` in dB re the loudest bin (-top_db..0); ``rows`` bin
        frequencies in Hz;
        ``times`` frame centres in seconds (``i * hop_length / sr``).

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> img = spectrogram_data(y, 16000)
    >>> img.values.shape, float(img.rows[np.argmax(img.values[:, 50])]), round(float(img.values.max()), 3)
    ((257, 101), 437.5, 0.0)
    """
    from ..features import spectral as sp

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
    """Mel power spectrogram in dB relative to its loudest band; ``rows`` are the bands' centres in Hz.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    n_fft, hop_length : int
        FFT size and step in samples (default 1024 and 160).
    n_mels : int
        Number of mel bands (default 128).
    fmin, fmax : float
        Frequency range in Hz (default 0 and ``sr / 2``).
    top_db : float
        Floor in dB below the loudest band (default 80).

    Returns
    -------
    FeatureImage
        ``values`` ``(n_mels, n_frames)`` in dB re the loudest band; ``rows`` band centres in Hz;
        ``times`` frame centres in seconds (``i * hop_length / sr``).

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> img = mel_data(y, 16000)
    >>> img.values.shape, round(float(img.rows[np.argmax(img.values[:, 50])]))
    ((128, 101), 444)
    """
    from ..features import spectral as sp

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
    """MFCCs ``(n_mfcc, n_frames)`` as the feature extractor computes them (DCT of the log-mel spectrogram).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    n_mfcc : int
        Number of coefficients (default 20).
    n_fft, hop_length : int
        FFT size and step in samples (default 1024 and 160).
    n_mels : int
        Number of mel bands (default 128).

    Returns
    -------
    FeatureImage
        ``values`` ``(n_mfcc, n_frames)``; ``rows`` coefficient numbers 0 .. n_mfcc - 1;
        ``times`` frame centres in seconds (``i * hop_length / sr``).

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> mfcc_data(y, 16000).values.shape
    (20, 101)
    """
    from ..features import spectral as sp

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

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    n_fft, hop_length : int
        FFT size and step in samples (default 2048 and 160).
    tuning : float, optional
        Tuning offset in fractions of a chroma bin (default 0; None: estimated).
    silence_db : float, optional
        Frames this many dB below the loudest frame are set to 0 (default 45; None: none).

    Returns
    -------
    FeatureImage
        ``values`` ``(12, n_frames)``, 0..1; ``rows`` pitch-class indices (0 = C);
        ``times`` frame centres in seconds (``i * hop_length / sr``).

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> img = chroma_data(y, 16000)
    >>> PITCH_CLASSES[int(np.argmax(img.values.mean(axis=1)))]
    'A'
    """
    from ..features import spectral as sp

    P = sp.spectrogram(y, n_fft=n_fft, hop_length=hop_length, power=2.0)
    C = sp.chroma_stft(S=P, sr=sr, tuning=tuning)
    if silence_db is not None:
        energy = P.sum(axis=0)
        C = np.where(energy < energy.max(initial=0.0) * 10 ** (-silence_db / 10), 0.0, C)
    return FeatureImage(C, _frame_times(C.shape[1], hop_length, sr), np.arange(C.shape[0]), "relative energy")


def pitch_data(
    y: np.ndarray, sr: int = 16000, *, hop_length: int = 160, fmin: float = 50.0, fmax: float = 600.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YIN F0 per frame: ``(times, f0, voiced)``; ``f0`` is NaN where unvoiced.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Mono signal.
    sr : int
        Sample rate in Hz (default 16000).
    hop_length : int
        Step in samples (default 160); the frame is 1024 samples up to 24 kHz, else 2048.
    fmin, fmax : float
        F0 search range in Hz (default 50 and 600).

    Returns
    -------
    times : np.ndarray, shape (n_frames,)
        Frame centres in seconds.
    f0 : np.ndarray, float32, shape (n_frames,)
        F0 in Hz; NaN where unvoiced.
    voiced : np.ndarray, bool, shape (n_frames,)

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> t, f0, voiced = pitch_data(y, 16000)
    >>> len(t), round(float(np.nanmedian(f0)))
    (101, 440)
    """
    from ..features.pitch import yin

    frame_length = 1024 if sr <= 24000 else 2048
    f0, voiced, _ = yin(y, sr=sr, fmin=fmin, fmax=fmax, frame_length=frame_length, hop_length=hop_length)
    return _frame_times(len(f0), hop_length, sr), f0, voiced


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 3.6)) -> tuple[Figure, Axes, bool]:
    """The axes to draw into: ``ax`` when given (inside a bigger figure), else a new figure's."""
    if ax is not None:
        return ax.figure, ax, False
    fig = new_figure(figsize)
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
    max_points : int
        Columns of the min/max envelope (default 4000); signals of at most twice this many samples are
        drawn sample by sample.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> waveform(y, 16000).axes[0].get_title(loc="left")
    'signal: waveform'
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

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    n_fft, hop_length : int
        FFT size and step in samples (default 512 and 160).
    fmax : float, optional
        Top of the frequency axis in Hz (default ``sr / 2``).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> spectrogram(y, 16000).axes[0].get_title(loc="left")
    'signal: spectrogram'
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
    from ..features.spectral import hz_to_mel

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

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    n_mels : int
        Number of mel bands (default 128).
    n_fft, hop_length : int
        FFT size and step in samples (default 1024 and 160).
    fmax : float, optional
        Highest band edge in Hz (default ``sr / 2``).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> mel_spectrogram(y, 16000, n_mels=64).axes[0].images[0].get_array().shape
    (64, 101)
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
    """MFCC matrix (coefficient 0, the overall level, is far below the others and saturates the colours).

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    n_mfcc : int
        Number of coefficients (default 20).
    hop_length : int
        Step in samples (default 160).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> mfcc(y, 16000).axes[0].get_title(loc="left")
    'signal: MFCC (20 coefficients)'
    """
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
    """Chromagram: energy per pitch class (C ... B), each frame scaled to a maximum of 1.

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    hop_length : int
        Step in samples (default 160).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> chromagram(y, 16000).axes[0].get_title(loc="left")
    'signal: chromagram'
    """
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
    """YIN F0 (voiced frames) over a narrow-band spectrogram up to ``fmax_plot`` Hz.

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Axes title (default: the file name and what is shown).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    fmax_plot : float
        Top of the frequency axis in Hz (default 1000).
    hop_length : int
        Step in samples (default 160).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, or the figure of ``ax``.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> pitch_contour(y, 16000).axes[0].get_legend().get_title().get_text()
    'median 440 Hz'
    """
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
    """One sheet with every audio picture of a file, stacked on a shared time axis.

    Parameters
    ----------
    audio : path or np.ndarray
        A file, or mono samples at ``sr``.
    sr : int, optional
        Rate to load a file at, or the rate of an array (default 16000).
    title : str, optional
        Figure title (default: the name, duration and rate).

    Returns
    -------
    matplotlib.figure.Figure
        A new figure, one row of axes per picture of :data:`AUDIO_PLOTS`.

    Examples
    --------
    >>> import numpy as np
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    >>> overview(y, 16000).get_suptitle()
    'signal  (1.00 s at 16 kHz)'
    """
    y, rate, name = _signal(audio, sr)
    fig = new_figure((11, 15))
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
# Teaching
# ---------------------------------------------------------------------------------------------------------


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

    Returns
    -------
    matplotlib.figure.Figure
        A new figure: the curve, and a bar chart of each pair's distance in Hz and in mel.

    Examples
    --------
    >>> fig = mel_scale([(100.0, 200.0), (3000.0, 3100.0)], fmax=4000.0)
    >>> len(fig.axes), fig.axes[0].get_xlabel()
    (2, 'frequency (Hz)')
    """

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)

    fig = new_figure((11, 4.2))
    ax, bar_ax = fig.subplots(1, 2, width_ratios=[2, 1])
    f = np.linspace(0, fmax, 500)
    ax.plot(f, mel(f), color="black", linewidth=1.5, label="m = 2595 log10(1 + f / 700)")
    ax.plot(f, f, color="0.6", linestyle=":", linewidth=1, label="m = f (linear)")
    for i, (f1, f2) in enumerate(pairs):
        c = EXTRA_COLORS[i % len(EXTRA_COLORS)]
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
        x + 0.2, dmel, 0.4, color=[EXTRA_COLORS[i % len(EXTRA_COLORS)] for i in x], label="distance in mel"
    )
    bar_ax.bar_label(b1, fmt="%.0f", fontsize=8)
    bar_ax.bar_label(b2, fmt="%.0f", fontsize=8)
    bar_ax.set_xticks(x, [f"{n} Hz" for n in names])
    steps = set(np.round(dhz, 6))  # the title's claim holds only for pairs equally far apart in Hz
    bar_ax.set_title(
        f"same {dhz[0]:g} Hz, different mel" if len(steps) == 1 else "Hz apart vs mel apart", fontsize=10
    )
    bar_ax.legend(fontsize=8)
    bar_ax.set_ylim(0, max(dhz + dmel) * 1.2)
    return fig
