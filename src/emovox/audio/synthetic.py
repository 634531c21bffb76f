"""Synthetic signals without voice (and two helpers to degrade speech), float32 at 16 kHz.

What the speech checks are tested, measured and trained on (:mod:`emovox.speech_head` learns "no speech" from
these; the tests and ``benchmarks/bench_speech.py`` use them too). Plain functions: every generator returns a mono ``np.float32`` array at
``SR`` = 16 kHz; random ones take a ``seed``. Levels are given in dBFS of the RMS (``level_db``), so that
``-20`` is a normal recording level and ``-90`` near-silence. :func:`toy_corpus` writes tones whose pitch
tells their emotion as a small labelled corpus, with its manifest, for the examples that train a model.

Examples
--------
>>> from emovox.audio.synthetic import music, white_noise, add_noise
>>> y = add_noise(music(seed=1), snr_db=30, seed=1)
>>> y.dtype, y.shape
(dtype('float32'), (48000,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

SR = 16000

__all__ = [
    "MIDI_PROGRAMS",
    "NON_SPEECH",
    "SOUNDFONT",
    "SR",
    "add_noise",
    "brown_noise",
    "chords",
    "clicks",
    "drums",
    "hum",
    "midi_piece",
    "music",
    "non_speech",
    "pink_noise",
    "render_midi",
    "silence",
    "sweep",
    "telephone",
    "tone",
    "tone_pair",
    "toy_corpus",
    "white_noise",
]


def _n(seconds: float) -> int:
    return int(round(seconds * SR))


def _at_level(y: np.ndarray, level_db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if rms == 0.0:
        return y.astype(np.float32)
    return (y * (10 ** (level_db / 20) / rms)).astype(np.float32)


def silence(seconds: float = 3.0, level_db: float | None = None, seed: int = 0) -> np.ndarray:
    """Digital silence (``level_db=None``) or near-silence: white noise at ``level_db`` dBFS (e.g. -80).

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    level_db : float, optional
        None (default): digital silence (zeros); else the RMS level in dBFS of white noise.
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> float(np.abs(silence(1.0)).max())
    0.0
    >>> y = silence(1.0, level_db=-80.0)
    >>> round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    -80.0
    """
    if level_db is None:
        return np.zeros(_n(seconds), dtype=np.float32)
    return white_noise(seconds, level_db=level_db, seed=seed)


def white_noise(seconds: float = 3.0, level_db: float = -20.0, seed: int = 0) -> np.ndarray:
    """Gaussian white noise.

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = white_noise(1.0)
    >>> y.shape, round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    ((16000,), -20.0)
    """
    return _at_level(np.random.default_rng(seed).standard_normal(_n(seconds)), level_db)


def _coloured(seconds: float, exponent: float, level_db: float, seed: int) -> np.ndarray:
    n = _n(seconds)
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    y = np.fft.irfft(spec / f ** (exponent / 2), n)
    return _at_level(y - y.mean(), level_db)


def pink_noise(seconds: float = 3.0, level_db: float = -20.0, seed: int = 0) -> np.ndarray:
    """1/f noise.

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = pink_noise(1.0, level_db=-30.0)
    >>> y.shape, round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    ((16000,), -30.0)
    """
    return _coloured(seconds, 1.0, level_db, seed)


def brown_noise(seconds: float = 3.0, level_db: float = -20.0, seed: int = 0) -> np.ndarray:
    """1/f^2 (Brownian) noise.

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.abs(np.fft.rfft(brown_noise(1.0))) ** 2   # 1 Hz bins
    >>> bool(P[1:100].sum() > 10 * P[100:].sum())      # most power below 100 Hz
    True
    """
    return _coloured(seconds, 2.0, level_db, seed)


def hum(
    seconds: float = 3.0, freq: float = 50.0, n_harmonics: int = 8, level_db: float = -25.0, seed: int = 0
) -> np.ndarray:
    """Mains hum: ``freq`` (50 or 60 Hz) plus harmonics with random amplitudes (odd ones stronger).

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    freq : float
        Fundamental in Hz (default 50).
    n_harmonics : int
        Number of harmonics, the fundamental included (default 8).
    level_db : float
        RMS level in dBFS (default -25).
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.abs(np.fft.rfft(hum(1.0, freq=60.0))) ** 2  # 1 Hz bins
    >>> bool(P[::60].sum() > 0.99 * P.sum())             # all power at multiples of 60 Hz
    True
    """
    rng = np.random.default_rng(seed)
    t = np.arange(_n(seconds)) / SR
    y = np.zeros_like(t)
    for k in range(1, n_harmonics + 1):
        amp = rng.uniform(0.2, 1.0) / k ** (0.5 if k % 2 else 1.0)
        y += amp * np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi))
    return _at_level(y, level_db)


def tone(freq: float = 440.0, seconds: float = 3.0, level_db: float = -20.0) -> np.ndarray:
    """Pure sine tone.

    Parameters
    ----------
    freq : float
        Frequency in Hz (default 440).
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = tone(440.0, 1.0)
    >>> int(np.argmax(np.abs(np.fft.rfft(y))))  # 1 Hz bins
    440
    >>> round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    -20.0
    """
    t = np.arange(_n(seconds)) / SR
    return _at_level(np.sin(2 * np.pi * freq * t), level_db)


def tone_pair(
    f1: float = 350.0, f2: float = 440.0, seconds: float = 3.0, level_db: float = -20.0
) -> np.ndarray:
    """Two simultaneous sines (dial tone by default).

    Parameters
    ----------
    f1, f2 : float
        Frequencies in Hz (default 350 and 440).
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(np.argsort(np.abs(np.fft.rfft(tone_pair(seconds=1.0))))[-2:].tolist())  # 1 Hz bins
    [350, 440]
    """
    t = np.arange(_n(seconds)) / SR
    return _at_level(np.sin(2 * np.pi * f1 * t) + np.sin(2 * np.pi * f2 * t), level_db)


def sweep(
    f_start: float = 100.0,
    f_end: float = 4000.0,
    seconds: float = 3.0,
    log: bool = True,
    level_db: float = -20.0,
) -> np.ndarray:
    """Sine sweep from ``f_start`` to ``f_end`` Hz, exponential (``log=True``) or linear.

    Parameters
    ----------
    f_start, f_end : float
        First and last frequency in Hz (default 100 and 4000).
    seconds : float
        Duration in seconds (default 3).
    log : bool
        Exponential sweep (default True), else linear.
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = sweep(100.0, 4000.0, 1.0)
    >>> def peak_hz(x):
    ...     return float(np.argmax(np.abs(np.fft.rfft(x)))) * 16000 / len(x)
    >>> peak_hz(y[:1600]) < 200, peak_hz(y[-1600:]) > 2500   # first 0.1 s: 100-145 Hz, last: 2.8-4 kHz
    (True, True)
    """
    t = np.arange(_n(seconds)) / SR
    if log:
        k = np.log(f_end / f_start) / seconds
        phase = 2 * np.pi * f_start * (np.exp(k * t) - 1) / k
    else:
        phase = 2 * np.pi * (f_start * t + 0.5 * (f_end - f_start) / seconds * t**2)
    return _at_level(np.sin(phase), level_db)


def clicks(rate_hz: float = 2.0, seconds: float = 3.0, level_db: float = -25.0, seed: int = 0) -> np.ndarray:
    """Metronome: short decaying clicks (an impulse and a 2-4 kHz ring) every ``1 / rate_hz`` seconds.

    Parameters
    ----------
    rate_hz : float
        Clicks per second (default 2).
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        Level in dBFS (default -25); the peak is set 15 dB above it.
    seed : int
        Seed of the random draws (default 0).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(np.abs(clicks(2.0, 1.0)).max()), 3)  # peak at -10 dBFS
    0.316
    """
    rng = np.random.default_rng(seed)
    n = _n(seconds)
    y = np.zeros(n)
    tk = np.arange(_n(0.02)) / SR
    ring = np.sin(2 * np.pi * rng.uniform(2000, 4000) * tk) * np.exp(-tk / 0.003)
    ring[0] += 1.0
    step = SR / rate_hz
    for start in np.arange(rng.uniform(0, step), n, step).astype(int):
        seg = ring[: n - start]
        y[start : start + seg.size] += seg
    # clicks are short: set the level on the peak (RMS would make the clicks huge); a clip shorter than
    # the first click's offset has none, and stays silent
    peak = np.abs(y).max(initial=0.0)
    return (y / peak * 10 ** ((level_db + 15) / 20) if peak > 0 else y).astype(np.float32)


def _adsr(n: int, rng: np.random.Generator) -> np.ndarray:
    a = max(1, int(n * rng.uniform(0.02, 0.15)))
    d = max(1, int(n * rng.uniform(0.05, 0.3)))
    r = max(1, int(n * rng.uniform(0.05, 0.3)))
    s = max(0, n - a - d - r)
    sus = rng.uniform(0.3, 0.9)
    env = np.concatenate(
        [np.linspace(0, 1, a), np.linspace(1, sus, d), np.full(s, sus), np.linspace(sus, 0, r)]
    )
    return env[:n]


def _note(
    freq: float, n: int, rng: np.random.Generator, timbre: np.ndarray, vibrato: float = 0.0
) -> np.ndarray:
    t = np.arange(n) / SR
    phase = 2 * np.pi * freq * t
    if vibrato:  # depth in semitones, 5-7 Hz
        rate = rng.uniform(5, 7)
        inst = freq * 2 ** (vibrato / 12 * np.sin(2 * np.pi * rate * t))
        phase = 2 * np.pi * np.cumsum(inst) / SR
    y = np.zeros(n)
    for k, amp in enumerate(timbre, start=1):
        if k * freq < SR / 2 - 500:
            y += amp * np.sin(k * phase)
    return y * _adsr(n, rng)


def _timbre(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(4)
    k = np.arange(1, 13)
    if kind == 0:  # sawtooth-like (strings, brass)
        return 1.0 / k
    if kind == 1:  # clarinet-like: odd harmonics
        return np.where(k % 2 == 1, 1.0 / k, 0.0)
    if kind == 2:  # flute-like: few harmonics
        return np.exp(-(k - 1) * 1.2)
    return rng.uniform(0.1, 1.0, k.size) / k**0.7  # random organ stop


def _melody(seconds: float, rng: np.random.Generator, vibrato: float) -> np.ndarray:
    n_total = _n(seconds)
    y = np.zeros(n_total)
    timbre = _timbre(rng)
    beat = 60.0 / rng.uniform(70, 160)
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    base = rng.uniform(110, 440)
    pos = 0
    while pos < n_total:
        dur = _n(beat * rng.choice([0.5, 1.0, 1.0, 2.0]))
        legato = rng.uniform(0.7, 1.1)
        freq = base * 2 ** (rng.choice(scale) / 12 + rng.integers(-1, 2) * (rng.random() < 0.2))
        m = min(int(dur * legato), n_total - pos)
        if m > 16:
            y[pos : pos + m] += _note(freq, m, rng, timbre, vibrato)
        pos += dur
    return y


def chords(seconds: float = 3.0, seed: int = 0, level_db: float = -20.0) -> np.ndarray:
    """Block chords (triads of harmonic notes with ADSR envelopes), one or two per second.

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    seed : int
        Seed of the random draws (default 0).
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = chords(1.0, seed=2)
    >>> y.shape, round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    ((16000,), -20.0)
    """
    rng = np.random.default_rng(seed)
    n_total = _n(seconds)
    y = np.zeros(n_total)
    timbre = _timbre(rng)
    dur = _n(rng.uniform(0.5, 1.2))
    for pos in range(0, n_total, dur):
        root = rng.uniform(110, 330)
        m = min(dur, n_total - pos)
        voicings = ([0, 4, 7], [0, 3, 7], [0, 4, 7, 11], [0, 5, 9])
        for semis in voicings[int(rng.integers(len(voicings)))]:
            y[pos : pos + m] += _note(root * 2 ** (semis / 12), m, rng, timbre)
    return _at_level(y, level_db)


def drums(seconds: float = 3.0, seed: int = 0, level_db: float = -20.0) -> np.ndarray:
    """A drum pattern: kick (pitch-dropping sine), snare (noise burst) and hi-hat (short high noise) on a grid.

    Parameters
    ----------
    seconds : float
        Duration in seconds (default 3).
    seed : int
        Seed of the random draws (default 0).
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = drums(1.0, seed=2)
    >>> y.shape, round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    ((16000,), -20.0)
    """
    rng = np.random.default_rng(seed)
    n_total = _n(seconds)
    y = np.zeros(n_total)
    step = _n(60.0 / rng.uniform(80, 160) / 2)  # eighth notes
    pattern = rng.random((3, 8)) < [[0.4], [0.3], [0.8]]
    pattern[0, 0] = pattern[1, 4] = True
    tk = np.arange(_n(0.25)) / SR
    kick = np.sin(2 * np.pi * (50 * tk + 60 * 0.03 * (1 - np.exp(-tk / 0.03)))) * np.exp(-tk / 0.08)
    for i, pos in enumerate(range(0, n_total, step)):
        for inst in range(3):
            if not pattern[inst, i % 8]:
                continue
            if inst == 0:
                hit = kick
            elif inst == 1:
                hit = rng.standard_normal(tk.size) * np.exp(-tk / 0.05) * 0.6
            else:
                hit = np.diff(rng.standard_normal(tk.size + 1)) * np.exp(-tk / 0.01) * 0.3
            m = min(hit.size, n_total - pos)
            y[pos : pos + m] += hit[:m]
    return _at_level(y, level_db)


def music(seed: int = 0, seconds: float = 3.0, level_db: float = -20.0) -> np.ndarray:
    """Synthetic instrumental music without voice; the seed picks the arrangement.

    seed % 4: 0 melody alone, 1 melody + chords, 2 melody + drums, 3 melody + chords + drums. Melodies
    are notes of a major scale with a harmonic timbre (sawtooth, clarinet, flute or organ) and ADSR
    envelopes at 70-160 bpm; every third seed adds a 5-7 Hz vibrato of 0.2-0.5 semitone.

    Parameters
    ----------
    seed : int
        Seed of the random draws; ``seed % 4`` picks the arrangement (default 0).
    seconds : float
        Duration in seconds (default 3).
    level_db : float
        RMS level in dBFS (default -20).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> y = music(3, seconds=1.0, level_db=-26.0)
    >>> y.shape, round(float(20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))), 2)
    ((16000,), -26.0)
    """
    rng = np.random.default_rng(seed)
    vibrato = rng.uniform(0.2, 0.5) if seed % 3 == 2 else 0.0
    y = _melody(seconds, rng, vibrato)
    y = y / max(np.sqrt(np.mean(y**2)), 1e-12)
    arrangement = seed % 4
    if arrangement in (1, 3):
        y = y + 0.7 * chords(seconds, seed=seed + 1000, level_db=0.0)
    if arrangement in (2, 3):
        y = y + 0.8 * drums(seconds, seed=seed + 2000, level_db=0.0)
    return _at_level(y, level_db)


def add_noise(y: np.ndarray, snr_db: float = 30.0, seed: int = 0, kind: str = "white") -> np.ndarray:
    """``y`` plus white (or ``kind="pink"``) noise at ``snr_db`` below the signal's RMS.

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal at ``SR``.
    snr_db : float
        Signal-to-noise ratio in dB (default 30).
    seed : int
        Seed of the random draws (default 0).
    kind : str
        "white" (default) or "pink".

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The noisy signal.

    Examples
    --------
    >>> import numpy as np
    >>> y = tone(440.0, 1.0)
    >>> noise = add_noise(y, snr_db=10.0).astype(np.float64) - y
    >>> round(float(10 * np.log10(np.mean(y.astype(np.float64) ** 2) / np.mean(noise**2))), 2)
    10.0
    """
    if kind not in ("white", "pink"):
        raise ValueError(f"kind: expected 'white' or 'pink', got {kind!r}")
    y = np.asarray(y, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    level = 20 * np.log10(max(rms, 1e-10)) - snr_db
    gen = pink_noise if kind == "pink" else white_noise
    return (y + gen(y.size / SR, level_db=level, seed=seed)[: y.size]).astype(np.float32)


def telephone(y: np.ndarray, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """Band-limit to the telephone band (8th-order Butterworth band-pass, zero phase).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
        Signal at ``SR``.
    low, high : float
        Pass band in Hz (default 300-3400).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        The filtered signal.

    Examples
    --------
    >>> import numpy as np
    >>> kept, cut = telephone(tone(1000.0, 1.0)), telephone(tone(100.0, 1.0))
    >>> bool(np.std(kept) > 0.09), bool(np.std(cut) < 0.005)   # both tones at RMS 0.1 before
    (True, True)
    """
    from scipy.signal import butter, sosfiltfilt

    sos = butter(8, [low, high], btype="bandpass", fs=SR, output="sos")
    return sosfiltfilt(sos, np.asarray(y, dtype=np.float64)).astype(np.float32)


def non_speech(
    kind: str, seed: int = 0, seconds: float = 3.0, noise_snr_db: float | None = 30.0
) -> np.ndarray:
    """One clip of a non-speech ``kind`` (see ``NON_SPEECH``) with parameters drawn from ``seed``.

    A little white noise (``noise_snr_db`` below the clip; ``None`` for none) is added, except to digital
    silence; a ``noisy_tone`` gets 8-20 dB of it, drawn.

    Parameters
    ----------
    kind : str
        One of :data:`NON_SPEECH`; ``ValueError`` for another.
    seed : int
        Seed of the drawn parameters (default 0).
    seconds : float
        Duration in seconds (default 3).
    noise_snr_db : float, optional
        SNR in dB of the white noise added (default 30; None: none).

    Returns
    -------
    np.ndarray, float32, shape (round(seconds * SR),)
        Mono samples at ``SR`` = 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> non_speech("hum", seed=3, seconds=1.0).shape
    (16000,)
    >>> float(np.abs(non_speech("silence", seconds=1.0)).max())
    0.0
    """
    rng = np.random.default_rng([seed, sum(map(ord, kind))])
    level = float(rng.uniform(-40, -6))
    if kind == "silence":
        return silence(seconds)
    if kind == "near_silence":
        y = silence(seconds, level_db=float(rng.uniform(-100, -70)), seed=seed)
        noise_snr_db = None
    elif kind == "white_noise":
        y = white_noise(seconds, level_db=level, seed=seed)
    elif kind == "pink_noise":
        y = pink_noise(seconds, level_db=level, seed=seed)
    elif kind == "brown_noise":
        y = brown_noise(seconds, level_db=level, seed=seed)
    elif kind == "hum":
        y = hum(
            seconds,
            freq=float(rng.choice([50.0, 60.0])),
            n_harmonics=int(rng.integers(1, 12)),
            level_db=level,
            seed=seed,
        )
    elif kind in ("tone", "noisy_tone"):
        y = tone(float(np.exp(rng.uniform(np.log(100), np.log(4000)))), seconds, level_db=level)
        if kind == "noisy_tone":  # noise makes a tone's pitch track jitter like a voice's
            noise_snr_db = float(rng.uniform(8.0, 20.0))
    elif kind == "tone_pair":
        f1 = float(np.exp(rng.uniform(np.log(100), np.log(3000))))
        y = tone_pair(f1, f1 * float(rng.uniform(1.05, 2.5)), seconds, level_db=level)
    elif kind == "sweep":
        lo, hi = sorted(np.exp(rng.uniform(np.log(60), np.log(6000), 2)))
        if rng.random() < 0.5:
            lo, hi = hi, lo
        y = sweep(float(lo), float(hi), seconds, log=bool(rng.random() < 0.5), level_db=level)
    elif kind == "clicks":
        y = clicks(float(rng.uniform(0.5, 8.0)), seconds, level_db=level, seed=seed)
    elif kind == "music":
        y = music(seed, seconds, level_db=level)
    elif kind == "chords":
        y = chords(seconds, seed=seed, level_db=level)
    elif kind == "drums":
        y = drums(seconds, seed=seed, level_db=level)
    else:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(NON_SPEECH)}")
    if noise_snr_db is not None:
        y = add_noise(y, noise_snr_db, seed=seed + 1)
    return y


NON_SPEECH = (
    "silence",
    "near_silence",
    "white_noise",
    "pink_noise",
    "brown_noise",
    "hum",
    "tone",
    "noisy_tone",
    "tone_pair",
    "sweep",
    "clicks",
    "music",
    "chords",
    "drums",
)


# ------------------------------------------------------------------ real instruments: General MIDI pieces
#: General MIDI programs the pieces draw from: pianos, organ, guitars, bass, strings, brass, reeds, pipes,
#: synth leads (no choir or voice patches: those would be "speech-like" by design).
MIDI_PROGRAMS = (
    0,
    1,
    4,
    6,
    11,
    16,
    19,
    24,
    25,
    26,
    32,
    40,
    41,
    42,
    46,
    48,
    56,
    60,
    65,
    66,
    68,
    71,
    73,
    79,
    80,
    88,
)


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def midi_piece(seed: int = 0, seconds: float = 4.0) -> bytes:
    """A random piece as a Standard MIDI File: a melody and, drawn from ``seed``, chords and drums, each
    on a General MIDI instrument of :data:`MIDI_PROGRAMS`, at 60-160 beats per minute.

    Parameters
    ----------
    seed : int
        Seed of the random draws (default 0).
    seconds : float
        Length of the melody in seconds (default 4).

    Returns
    -------
    bytes
        A format-0 Standard MIDI File with one track, 480 ticks per quarter note.

    Examples
    --------
    >>> midi_piece(1)[:4]
    b'MThd'
    """
    rng = np.random.default_rng(seed)
    tpq = 480
    bpm = float(rng.uniform(60, 160))
    events = [(0, b"\xff\x51\x03" + int(60e6 / bpm).to_bytes(3, "big"))]
    key, scale = int(rng.integers(48, 64)), (0, 2, 4, 5, 7, 9, 11, 12)
    events += [
        (0, bytes([0xC0, int(rng.choice(MIDI_PROGRAMS))])),
        (0, bytes([0xC1, int(rng.choice(MIDI_PROGRAMS))])),
    ]
    total = int(seconds * bpm / 60 * tpq)
    t = 0
    while t < total:  # melody, channel 0
        d = int(rng.choice([tpq // 4, tpq // 2, tpq, 2 * tpq]))
        n = key + 12 + scale[int(rng.integers(0, 8))] + 12 * int(rng.integers(-1, 1))
        events += [(t, bytes([0x90, n, int(rng.integers(60, 120))])), (t + d - 10, bytes([0x80, n, 0]))]
        t += d
    if rng.random() < 0.7:  # chords, channel 1
        for t in range(0, total, 2 * tpq):
            root = key + scale[int(rng.integers(0, 7))] - 12
            for n in (root, root + 4, root + 7):
                events += [(t, bytes([0x91, n, 70])), (t + 2 * tpq - 10, bytes([0x81, n, 0]))]
    if rng.random() < 0.5:  # kick / snare and hi-hat, channel 10
        for t in range(0, total, tpq // 2):
            for n in (36 if (t // (tpq // 2)) % 2 == 0 else 38, 42):
                events += [(t, bytes([0x99, n, 90])), (t + 60, bytes([0x89, n, 0]))]
    events.sort(key=lambda e: e[0])
    track, last = b"", 0
    for t, msg in events:
        track += _vlq(t - last) + msg
        last = t
    track += b"\x00\xff\x2f\x00"
    return (
        b"MThd"
        + (6).to_bytes(4, "big")
        + bytes([0, 0, 0, 1, 1, 224])
        + b"MTrk"
        + len(track).to_bytes(4, "big")
        + track
    )


#: Where Debian's fluid-soundfont-gm puts its General MIDI sound font.
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def render_midi(midi: bytes, soundfont: str = SOUNDFONT, timeout: float = 60.0) -> np.ndarray:
    """``midi`` (a Standard MIDI File) played by FluidSynth with ``soundfont``: mono float32 at ``SR``.

    Needs the ``fluidsynth`` program and a General MIDI sound font (Debian: ``fluidsynth``,
    ``fluid-soundfont-gm``); raises ``FileNotFoundError`` naming what is missing.

    Parameters
    ----------
    midi : bytes
        A Standard MIDI File, e.g. :func:`midi_piece`.
    soundfont : str
        Path of the General MIDI sound font (default :data:`SOUNDFONT`).
    timeout : float
        Seconds FluidSynth may run (default 60).

    Returns
    -------
    np.ndarray, float32, shape (n,)
        Mono samples at ``SR`` = 16 kHz (the channels averaged).
    """
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None or not Path(soundfont).is_file():
        raise FileNotFoundError(f"rendering MIDI needs fluidsynth and the sound font {soundfont}")
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "piece.mid", Path(tmp) / "piece.wav"
        mid.write_bytes(midi)
        cmd = [exe, "-ni", "-q", "-g", "0.8", "-r", str(SR), "-F", str(wav), soundfont, str(mid)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        y, sr = sf.read(wav, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        from .signal import resample

        y = resample(y, sr, SR)
    return np.ascontiguousarray(y, dtype=np.float32)


def toy_corpus(
    folder: str = ".",
    n: int = 10,
    emotions: Sequence[str] = ("sad", "happy"),
    speakers: int = 5,
    seconds: float = 1.0,
) -> pd.DataFrame:
    """Write a toy labelled corpus, tones whose pitch tells their emotion, and return its manifest.

    For the examples and tests of what trains, evaluates or tunes a model: the emotion is learnt from the
    pitch alone. File ``i`` is ``{folder}/{i}.wav`` (16 kHz, 16-bit PCM), emotion ``emotions[i % k]`` (``k``
    emotions, taken in turn), speaker ``toy:{(i // k) % speakers}``: every speaker has every emotion when
    ``n`` is a multiple of ``k * speakers``. It holds a tone of ``150 * (1 + e) + d`` Hz, ``e`` the index of
    its emotion and ``d`` = ``i`` (``100 * i / n`` beyond 100 files): each emotion a band of its own, each
    file a pitch of its own. Files of the
    same names are overwritten. Deterministic.

    Parameters
    ----------
    folder : str or Path
        Where the files go (default the current directory), created if missing.
    n : int
        Number of files (default 10).
    emotions : sequence of str
        The emotions, distinct, from the lowest pitch to the highest (default ``("sad", "happy")``).
    speakers : int
        Number of speakers the files are spread over (default 5).
    seconds : float
        Duration of each file in seconds (default 1).

    Returns
    -------
    pandas.DataFrame
        The manifest, a row per file: ``path``, ``emotion``, ``speaker`` and ``corpus`` (``"toy"``).

    Raises
    ------
    ParameterError
        When ``n``, ``speakers`` or ``seconds`` is not positive, or ``emotions`` is not distinct names.

    Examples
    --------
    >>> toy_corpus("toy", n=4, speakers=2)
               path emotion speaker corpus
    0  toy/0.wav     sad   toy:0    toy
    1  toy/1.wav   happy   toy:0    toy
    2  toy/2.wav     sad   toy:1    toy
    3  toy/3.wav   happy   toy:1    toy
    >>> import soundfile as sf
    >>> sf.info("toy/3.wav").samplerate, sf.info("toy/3.wav").duration
    (16000, 1.0)
    """
    from pathlib import Path

    import pandas as pd
    import soundfile as sf

    from ..errors import ParameterError

    for name, value in (("n", n), ("speakers", speakers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"toy_corpus: {name} must be a whole number >= 1, got {value!r}")
    if not seconds > 0:
        raise ParameterError(f"toy_corpus: seconds must be > 0, got {seconds!r}")
    labels = list(emotions)
    if isinstance(emotions, str) or not labels or len(set(labels)) < len(labels):
        raise ParameterError(
            f"toy_corpus: emotions must be a sequence of distinct names, e.g. ('sad', 'happy'), got {emotions!r}"
        )
    if not all(isinstance(e, str) and e for e in labels):
        raise ParameterError(f"toy_corpus: every emotion must be a non-empty string, got {emotions!r}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    k, rows = len(labels), []
    for i in range(n):
        path = str(out / f"{i}.wav")
        sf.write(path, tone(150.0 * (1 + i % k) + 100.0 * i / max(n, 100), seconds), SR, subtype="PCM_16")
        rows.append({"path": path, "emotion": labels[i % k], "speaker": f"toy:{i // k % speakers}"})
    return pd.DataFrame(rows).assign(corpus="toy")
