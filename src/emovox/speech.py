"""Speech-presence check: is there voiced human speech in a signal, or only silence, noise, tones or music?

emovox should never give an emotion to silence, hum, a tone or a piece of music. :func:`detect_speech`
answers that question in about a millisecond per second of audio, in numpy/scipy only (no torch, no
scikit-learn), frame by frame (10 ms hop, 32 ms frames) and block by block for long signals, so memory
stays bounded.

How it decides (every threshold is a keyword argument):

1. **Level gate.** The loud-frame level (RMS of the 20th-loudest 32 ms frame, dBFS) must reach
   ``min_level_db``; otherwise "silence".
2. **Voicing.** A YIN pitch track (:func:`emovox.features.pitch.yin`, 70-450 Hz) marks periodic frames.
   Noise of any colour, clicks and drum hits have (almost) none: "no voiced sound".
3. **Steady pitch.** Tones, hum, dial tones, chords and the notes of an instrument hold one pitch: the
   pitch range over 50 ms (5 voiced frames) stays under ``steady_semitones``. Speech pitch moves all the
   time (intonation, jitter). When more than ``max_steady_fraction`` of the voiced 50 ms windows are
   steady: "steady pitch (tone / hum / music)". Noise on a tone makes YIN's pitch jitter, so the strongest
   spectral peak of each voiced frame is also followed at 8 Hz resolution (2048-point frames,
   interpolated): when it stays within ``peak_steady_semitones`` over 100 ms in more than
   ``max_peak_steady_fraction`` of those windows (0.3 s of them at least), the same verdict.
4. **Pure tones.** A sine sweep moves its pitch like speech but is one sinusoid: when the strongest
   spectral peak holds more than ``max_tonality`` of the energy of the median voiced frame: "pure tone /
   sweep".
5. **Evidence of voiced speech.** Voiced frames count as speech when they sit in a voiced run of
   30 ms to ``max_run_seconds`` (syllables; sweeps and held notes last longer), their pitch does not
   jump by more than ``max_jump_semitones`` from the previous frame, and their spectral envelope changes
   (articulation: mean-free log-mel distance over 40 ms of at least ``min_spectral_change_db``). Their
   total duration, ``voiced_seconds``, must reach ``min_voiced_seconds``.

Measured on all 7,044 files of RAVDESS, EMO-DB, EMOVO and nEMO and on generated non-speech clips: see
``benchmarks/bench_speech.py`` and BENCHMARKS.md. Whispered speech has no pitch and is not detected.

Examples
--------
>>> import numpy as np
>>> from emovox.speech import detect_speech
>>> sr = 16000
>>> tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(3 * sr) / sr)
>>> check = detect_speech(tone, sr)
>>> check.speech, check.reason
(False, 'no voiced speech: steady pitch (tone / hum / music)')
>>> detect_speech(np.zeros(sr), sr).reason
'silence (all zeros)'
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .audio.signal import check_rate, without_dc_offset
from .errors import AudioError
from .features.pitch import yin
from .features.spectral import apply_mel, spectrogram

__all__ = ["SpeechCheck", "detect_speech", "speech_bounds", "speech_gaps"]

log = logging.getLogger(__name__)

SR = 16000  # analysis rate; other rates are resampled
#: The loud-frame level (dBFS) under which a signal is silence (:func:`detect_speech`'s ``min_level_db``).
MIN_LEVEL_DB = -65.0
HOP = 160  # 10 ms
FRAME = 512  # 32 ms
PEAK_FRAME = 2048  # 128 ms: an 8 Hz grid, fine enough to see a tone's peak stand still under noise
PEAK_WINDOW = 10  # frames (100 ms) over which the peak must stand still
PEAK_MIN_WINDOWS = 30  # 0.3 s of such windows before their share decides
BLOCK_FRAMES = 3000  # frames per analysis block (30 s) for long signals
_FMIN, _FMAX = 70.0, 450.0
# how the verdicts' reasons begin (SpeechCheck.final and .tonal read them)
SILENCE, UNVOICED = "silence", "no voiced sound"
STEADY, PURE_TONE = "no voiced speech: steady pitch", "no voiced speech: pure tone"
#: Frames within this many dB of the loud-frame level are sound; quieter ones, room tone and silence.
QUIET_DB = 30.0
#: For :attr:`SpeechCheck.sound_seconds`, frames must also stand this far above the noise floor (the 10th
#: percentile of the frames' levels): a word in steady noise or hum 20-30 dB under it lasted as long as the
#: noise, and was as sure as a sentence. With noise closer than 20 dB, frames within 10 dB of the loud level
#: count: speech at 15-20 dB SNR lasts about 0.8 times as long by this measure.
FLOOR_MARGIN_DB = 10.0


@dataclass
class SpeechCheck:
    """Result of :func:`detect_speech`.

    Attributes
    ----------
    speech : bool
        True when voiced speech was found.
    reason : str
        "speech", or a short human reason why not (e.g. "silence (level -72 dBFS)").
    voiced_seconds : float
        Duration of the frames counted as voiced speech (voiced runs of syllable length, smooth pitch, changing spectrum).
    level_db : float
        Loud-frame level: RMS (dBFS) of the 20th-loudest 32 ms frame, i.e. reached over 200 ms of the signal
        (``-inf`` for digital silence).
    peak_db : float
        Sample peak, dBFS.
    voiced_fraction : float
        Fraction of the frames that are periodic (any voiced sound, speech or not).
    steady_fraction : float
        Fraction of the 50 ms windows of voiced frames whose pitch range is under ``steady_semitones``.
    peak_steady_fraction : float
        Fraction of the 100 ms windows of voiced frames whose strongest spectral peak stays within
        ``peak_steady_semitones`` (0 when there are fewer than :data:`PEAK_MIN_WINDOWS` such windows).
    tonality : float
        Median share of a voiced frame's energy in its strongest spectral peak (near 1 for a pure tone).
    duration : float
        Signal duration in seconds.
    sound_seconds : float
        Seconds from the first to the last 10 ms frame within :data:`QUIET_DB` of the loud-frame level and
        :data:`FLOOR_MARGIN_DB` above the noise floor (at most that far under the level): how long the
        sound lasts, without the quiet or the steady noise before and after it.
    speech_start, speech_end : float or None
        Seconds from the start of the first and to the end of the last stretch of speech-like voicing
        (:data:`SPAN_FRAMES` frames holding at least :data:`SPAN_MIN_FRAMES` of evidence), whatever the
        verdict; None without any. A tone or noise beside the speech lies outside them.
    speech_spans : list of (float, float)
        Every such stretch, in seconds (the first starts at ``speech_start``, the last ends at
        ``speech_end``): a tone or noise between two utterances lies between two of them.

    Examples
    --------
    >>> SpeechCheck(False, "silence (level -90 dBFS)").to_dict()["reason"]
    'silence (level -90 dBFS)'
    """

    speech: bool
    reason: str
    voiced_seconds: float = 0.0
    level_db: float = float("-inf")
    peak_db: float = float("-inf")
    voiced_fraction: float = 0.0
    steady_fraction: float = 0.0
    peak_steady_fraction: float = 0.0
    tonality: float = 0.0
    duration: float = 0.0
    sound_seconds: float = 0.0
    speech_start: float | None = None
    speech_end: float | None = None
    speech_spans: list[tuple[float, float]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.speech

    @property
    def final(self) -> bool:
        """No speech whatever a model hears: silence, or no voiced sound at all (noise, clicks). Other
        verdicts (steady pitch, pure tone, too little speech-like voicing) miss speech under music and some
        short or harsh voices; a model with a speech head (:mod:`emovox.speech_head`) weighs them."""
        return not self.speech and self.reason.startswith((SILENCE, UNVOICED))

    @property
    def tonal(self) -> bool:
        """No speech: a steady pitch or a pure tone (a tone, hum or music). A loud stretch beside speech
        judged so can be cut off without a speech head; noise and room tone are left (the edges of many
        recordings models are trained on)."""
        return not self.speech and self.reason.startswith((STEADY, PURE_TONE))

    def to_dict(self) -> dict:
        """Plain dict (JSON-friendly: floats rounded, ``-inf`` kept as a float).

        Returns
        -------
        dict
            Every attribute by name: finite floats rounded to 4 decimals, ``speech_spans`` as
            ``[start, end]`` lists rounded to 3.

        Examples
        --------
        >>> from emovox.audio import synthetic
        >>> d = detect_speech(synthetic.tone(220.0, 2.0), 16000).to_dict()
        >>> d["speech"], d["level_db"], d["speech_spans"]
        (False, -19.9791, [])
        """
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and math.isfinite(v):
                d[k] = round(v, 4)
        d["speech_spans"] = [[round(a, 3), round(b, 3)] for a, b in self.speech_spans]
        return d


def _validate(y: np.ndarray, sr: int) -> np.ndarray:
    try:
        y = np.asarray(y)
    except Exception as exc:  # noqa: BLE001
        raise AudioError(f"speech check: input is not an array ({exc})") from exc
    if y.dtype.kind not in "fiu":
        raise AudioError(f"speech check: expected a numeric signal, got dtype {y.dtype}")
    if y.ndim != 1:
        raise AudioError(f"speech check: expected a 1-D mono signal, got shape {y.shape}")
    if y.size == 0:
        raise AudioError("speech check: empty signal")
    sr = check_rate(sr, "speech check")
    if y.dtype.kind in "iu":  # PCM integers -> [-1, 1)
        y = y.astype(np.float32) / float(2 ** (8 * y.dtype.itemsize - 1))
    y = y.astype(np.float32, copy=False)
    if not np.isfinite(y).all():
        raise AudioError("speech check: signal contains NaN or infinite values")
    y = without_dc_offset(y)  # it raised the level of the pauses (and of silence) by as much as it is
    if sr != SR:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(sr), SR)
        y = resample_poly(y, SR // g, int(sr) // g).astype(np.float32)
    return y


def _sound_seconds(lv: np.ndarray, level_db: float) -> float:
    """:attr:`SpeechCheck.sound_seconds` of a signal's frame levels (:func:`_frame_db`) and loud level."""
    if not np.isfinite(level_db):
        return 0.0
    with np.errstate(invalid="ignore"):  # between digital silence (-inf) and sound it interpolates to NaN
        floor_db = float(np.percentile(lv, 10))
    if not np.isfinite(floor_db):  # digital silence there: no noise floor to stand above (NaN fell through
        floor_db = -np.inf  # max() to the same answer, by the order of its arguments, with a warning)
    least = max(level_db - QUIET_DB, min(floor_db, level_db - 2 * FLOOR_MARGIN_DB) + FLOOR_MARGIN_DB)
    sound = np.flatnonzero(lv >= least)
    return float((sound[-1] - sound[0] + 1) * HOP / SR) if sound.size else 0.0


def loud_frames_db(y: np.ndarray, keep: int = 20) -> np.ndarray:
    """The ``keep`` loudest frame levels (dBFS, 32 ms frames every 10 ms, the signal's mean removed) of a
    mono float signal at :data:`SR`, loudest last: the 20th from the end of several pieces' together is the
    loud-frame level :func:`detect_speech` gates on, in bounded memory.

    Parameters
    ----------
    y : numpy.ndarray
        Mono float signal at :data:`SR` (16 kHz), full scale 1.0.
    keep : int
        How many frame levels to return (default 20).

    Returns
    -------
    numpy.ndarray
        float, the ``keep`` highest frame levels in dBFS in ascending order (fewer when the signal has fewer
        frames: one per 10 ms, plus one); ``-inf`` for digital silence.

    Examples
    --------
    >>> float(loud_frames_db(np.zeros(1600, np.float32)).max()), loud_frames_db(np.zeros(16000)).size
    (-inf, 20)
    """
    lv = _frame_db(np.asarray(y, np.float32) - np.float32(np.mean(y)) if len(y) else y)
    return np.sort(lv)[-keep:]


def _frame_db(y: np.ndarray) -> np.ndarray:
    """RMS level (dBFS) of centred FRAME-sample frames every HOP samples (same grid as yin)."""
    n_frames = 1 + y.size // HOP
    yp = np.pad(y.astype(np.float64), (FRAME // 2, FRAME // 2 + FRAME))
    np.square(yp, out=yp)  # in place, and the cumulative sum straight into its slot: two copies fewer
    cs = np.empty(yp.size + 1)
    cs[0] = 0.0
    np.cumsum(yp, out=cs[1:])
    del yp
    idx = np.arange(n_frames) * HOP
    e = (cs[idx + FRAME] - cs[idx]) / FRAME
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.maximum(e, 0.0))


def _peak_semitones(y: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Frequency (semitones re 100 Hz) of the strongest spectral peak, 60 Hz-7 kHz, of the
    :data:`PEAK_FRAME`-sample frames centred on ``frames`` (frame indices), parabolically interpolated."""
    from scipy.fft import rfft  # float32 throughout: four times numpy's speed here

    lo, hi = 60 * PEAK_FRAME // SR, 7000 * PEAK_FRAME // SR
    view = np.lib.stride_tricks.sliding_window_view(np.pad(y.astype(np.float32), PEAK_FRAME // 2), PEAK_FRAME)
    window = np.hanning(PEAK_FRAME).astype(np.float32)
    out = np.empty(frames.size)
    for i in range(0, frames.size, 256):  # a chunk at a time: 2 MB of frames, not one per second of audio
        spec = rfft(view[frames[i : i + 256] * HOP] * window, axis=1)[:, lo:hi]
        band = spec.real**2 + spec.imag**2
        k = np.clip(np.argmax(band, axis=1), 1, hi - lo - 2)
        r = np.arange(k.size)
        a, b, c = (np.log(band[r, k + d] + 1e-30) for d in (-1, 0, 1))
        den = a - 2.0 * b + c
        delta = np.divide(0.5 * (a - c), den, out=np.zeros_like(den), where=den != 0)
        out[i : i + 256] = (lo + k + delta) * SR / PEAK_FRAME
    return 12.0 * np.log2(np.maximum(out, 1.0) / 100.0)


#: Mains hum (50 / 60 Hz) 10 dB under a voice's peak made YIN call the voice aperiodic; the analysis hears
#: the signal through a high-pass a little above the lowest pitch it looks for (70 Hz: a low voice keeps its
#: period in its harmonics; the magnitude of an 8th-order Butterworth, applied in the frequency domain:
#: scipy.signal would add half a second to every fresh ``emovox predict``)...
HUM_CUTOFF_HZ = 80.0
#: ...and, where a mains line stands out of the spectrum (its 0.6 Hz of spectrum holding this many times the
#: neighbourhood's median), through narrow notches (Q 30) at its first :data:`MAINS_HARMONICS` harmonics:
#: buzz at 100, 150, 200 Hz sits inside the voice's range. Hum even 30 dB under a voice stands 3,000 times
#: over; no corpus recording reaches 30, a generated drum kit 250 (notched, it passed for speech).
MAINS_LINE_RATIO = 1000.0
MAINS_HARMONICS = 8


def _mains(y: np.ndarray) -> float | None:
    """50 or 60 when a mains line stands out of the first 8 s of ``y``'s spectrum, else None."""
    n = min(y.size, 8 * SR)
    if n < SR:
        return None
    power = np.abs(np.fft.rfft(y[:n] * np.hanning(n))) ** 2
    best, found = MAINS_LINE_RATIO, None
    for f0 in (50.0, 60.0):
        k = int(round(f0 * n / SR))
        around = 5 * np.median(power[int(0.7 * k) : int(1.3 * k)])
        ratio = power[k - 2 : k + 3].sum() / max(float(around), 1e-30)
        if ratio > best:
            best, found = ratio, f0
    return found


def _below_voice(y: np.ndarray) -> np.ndarray:
    """``y`` without what lies under the voice's pitch range, and without mains harmonics where they stand
    out (:data:`HUM_CUTOFF_HZ`, :data:`MAINS_LINE_RATIO`): zero-phase, one FFT of the block."""
    from scipy.fft import irfft, next_fast_len, rfft

    n = next_fast_len(y.size, real=True)
    f = np.fft.rfftfreq(n, 1.0 / SR)
    with np.errstate(divide="ignore"):
        gain = 1.0 / np.sqrt(1.0 + (HUM_CUTOFF_HZ / f) ** 16)
    mains = _mains(y)
    if mains is not None:
        for h in range(1, MAINS_HARMONICS + 1):
            width = mains * h / 30.0 / 2  # Q 30: half the -3 dB bandwidth
            gain *= 1.0 - 1.0 / (1.0 + ((f - mains * h) / width) ** 2)
    return irfft(rfft(y, n) * gain.astype(np.float32), n)[: y.size].astype(np.float32)


def _block_features(
    y: np.ndarray, *, voicing_threshold: float, abs_floor_db: float, level_db: float, spectral_floor_db: float
) -> dict[str, np.ndarray]:
    """Per-frame pitch (semitones, NaN unvoiced), strongest spectral peak (semitones, NaN unvoiced), spectral
    change (dB) and tonality of one block."""
    y = _below_voice(y)
    f0, voiced, _ = yin(
        y,
        sr=SR,
        fmin=_FMIN,
        fmax=_FMAX,
        frame_length=FRAME,
        hop_length=HOP,
        voicing_threshold=voicing_threshold,
        silence_db=200.0,
        abs_floor=0.0,
    )
    n = f0.size
    lv = _frame_db(y)[:n]
    # loud enough: within 40 dB of the clip's loud level and above the absolute floor
    voiced &= lv > max(abs_floor_db, level_db - 40.0)
    P = spectrogram(y, n_fft=FRAME, hop_length=HOP, power=2.0)[:, :n]
    # tonality: share of the energy in the strongest peak (+-2 bins) among the bins 60 Hz-7 kHz
    band = np.pad(P[2:224], ((2, 2), (0, 0)))
    k = np.argmax(band, axis=0)
    cols = np.arange(n)
    peak = sum(band[k + d, cols] for d in (-2, -1, 0, 1, 2))
    tonality = peak / np.maximum(band.sum(axis=0), 1e-20)
    # articulation: change of the mean-free log-mel envelope over 40 ms, bands floored 30 dB under the peak
    M = apply_mel(P, sr=SR, n_mels=24, fmin=100.0, fmax=4000.0)
    L = 10.0 * np.log10(np.maximum(M, 1e-12))
    np.maximum(L, L.max(axis=0, keepdims=True) - spectral_floor_db, out=L)
    L -= L.mean(axis=0, keepdims=True)
    change = np.zeros(n, dtype=np.float32)
    if n > 4:
        change[2:-2] = np.sqrt(np.mean(np.square(L[:, 4:] - L[:, :-4]), axis=0))
    st = np.where(voiced, 12.0 * np.log2(np.where(voiced, f0, 1.0) / 100.0), np.nan)
    peak_st = np.full(n, np.nan)
    peak_st[voiced] = _peak_semitones(y, np.flatnonzero(voiced))
    return {"st": st, "peak_st": peak_st, "change": change, "tonality": tonality.astype(np.float32)}


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the True runs of a boolean array."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return starts, ends - starts


#: Frames (10 ms) over which speech evidence is counted to find where speech starts and ends...
SPAN_FRAMES = 50
#: ...and the evidence frames among them that make a stretch speech (isolated frames of music do not).
SPAN_MIN_FRAMES = 10


def _spans(evidence: np.ndarray) -> list[tuple[float, float]]:
    """The stretches of speech-like voicing, in seconds: runs of :data:`SPAN_FRAMES` frames holding
    :data:`SPAN_MIN_FRAMES` evidence frames, each from its first to its last evidence frame."""
    if evidence.size < SPAN_FRAMES:
        dense = np.array([np.count_nonzero(evidence) >= SPAN_MIN_FRAMES])
        width = evidence.size
    else:
        counts = np.convolve(evidence, np.ones(SPAN_FRAMES, dtype=int), mode="valid")
        dense, width = counts >= SPAN_MIN_FRAMES, SPAN_FRAMES
    spans = []
    for first, n in zip(*_runs(dense), strict=True):
        last = first + n - 1
        lo = first + int(np.argmax(evidence[first : first + width]))
        window = evidence[last : last + width]
        hi = last + len(window) - int(np.argmax(window[::-1]))
        spans.append((float(lo * HOP / SR), float(hi * HOP / SR)))
    return spans


def detect_speech(
    y: np.ndarray,
    sr: int = SR,
    *,
    min_voiced_seconds: float = 0.25,
    min_level_db: float = MIN_LEVEL_DB,
    abs_floor_db: float = -70.0,
    voicing_threshold: float = 0.35,
    steady_semitones: float = 0.1,
    max_steady_fraction: float = 0.25,
    peak_steady_semitones: float = 0.1,
    max_peak_steady_fraction: float = 0.9,
    max_jump_semitones: float = 1.5,
    min_spectral_change_db: float = 1.0,
    spectral_floor_db: float = 30.0,
    max_run_seconds: float = 1.5,
    max_tonality: float = 0.97,
    min_voiced_fraction: float = 0.2,
) -> SpeechCheck:
    """Decide whether a mono signal contains voiced speech.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, float in [-1, 1] (integer PCM is scaled), 1-D, finite, non-empty.
    sr : int
        Sample rate in Hz; other rates than 16 kHz are resampled.
    min_voiced_seconds : float
        Least total duration of voiced-speech frames (voiced runs of syllable length, smooth pitch, changing spectrum) to call it speech.
    min_voiced_fraction : float
        For clips shorter than ``min_voiced_seconds / min_voiced_fraction`` (a live segment, a short
        reaction), this share of the clip's duration is enough instead.
    min_level_db : float
        Loud-frame level (dBFS) under which the signal is silence.
    abs_floor_db : float
        Frames quieter than this (dBFS) never count as voiced.
    voicing_threshold : float
        Largest YIN dip of a voiced frame (lower = stricter periodicity).
    steady_semitones : float
        Pitch range over 50 ms of voiced frames under which the window is "steady".
    max_steady_fraction : float
        Largest fraction of steady voiced windows for speech (tones, hum and notes are steady).
    peak_steady_semitones : float
        Range of the strongest spectral peak over 100 ms of voiced frames under which the window is steady.
    max_peak_steady_fraction : float
        Largest fraction of those steady windows for speech (a tone under noise: nearly all).
    max_jump_semitones : float
        Larger frame-to-frame pitch changes are jumps (octave errors, note changes), not speech glides.
    min_spectral_change_db : float
        Least change (dB) of the spectral envelope over 40 ms for a voiced frame to count (articulation).
    spectral_floor_db : float
        Mel bands more than this below the frame's strongest band are floored (ignores the noise floor).
    max_run_seconds : float
        Voiced runs longer than this (held notes, sweeps, hum) do not count as speech.
    max_tonality : float
        Largest median share of a voiced frame's energy in one spectral peak (pure tones and sweeps exceed it).

    Returns
    -------
    SpeechCheck
        ``speech``, a short ``reason`` and the measures behind the decision.

    Raises
    ------
    AudioError
        On an empty, non-finite, non-numeric or multi-channel input, or a bad sample rate.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> detect_speech(0.1 * rng.standard_normal(48000).astype(np.float32)).reason
    'no voiced sound (noise, clicks or whispering)'
    """
    y = _validate(y, sr)
    duration = y.size / SR
    peak = float(np.abs(y).max())
    with np.errstate(divide="ignore"):
        peak_db = float(20.0 * np.log10(peak))
    lv = _frame_db(y)
    # loud level: the 20th-loudest frame (200 ms of audio at least that loud), so that speech in a long
    # silence keeps its level and a single click does not set it
    level_db = float(np.partition(lv, lv.size - 20)[lv.size - 20]) if lv.size > 20 else float(lv.max())
    result = SpeechCheck(False, "", level_db=level_db, peak_db=peak_db, duration=duration)
    result.sound_seconds = _sound_seconds(lv, level_db)
    if not level_db >= min_level_db:
        # (digital silence has no level to give: -inf dBFS told a user nothing)
        result.reason = (
            f"{SILENCE} (level {level_db:.0f} dBFS)" if np.isfinite(level_db) else f"{SILENCE} (all zeros)"
        )
        log.debug("speech check: %s", result.reason)
        return result

    # frame features block by block (30 s + overlap), so long signals stay in bounded memory
    st_parts, pk_parts, ch_parts, to_parts = [], [], [], []
    n_frames = 1 + y.size // HOP
    block = BLOCK_FRAMES * HOP
    pad = 8 * HOP
    for start in range(0, n_frames, BLOCK_FRAMES):
        lo = start * HOP
        seg = y[max(0, lo - pad) : lo + block + pad]
        f = _block_features(
            seg,
            voicing_threshold=voicing_threshold,
            abs_floor_db=abs_floor_db,
            level_db=level_db,
            spectral_floor_db=spectral_floor_db,
        )
        skip = (lo - max(0, lo - pad)) // HOP
        take = min(BLOCK_FRAMES, n_frames - start)
        st_parts.append(f["st"][skip : skip + take])
        pk_parts.append(f["peak_st"][skip : skip + take])
        ch_parts.append(f["change"][skip : skip + take])
        to_parts.append(f["tonality"][skip : skip + take])
    st = np.concatenate(st_parts)
    peak_st = np.concatenate(pk_parts)
    change = np.concatenate(ch_parts)
    tonality = np.concatenate(to_parts)

    voiced = ~np.isnan(st)
    # voiced runs of 3 frames (30 ms) up to max_run_seconds
    starts, lengths = _runs(voiced)
    in_run = np.zeros_like(voiced)
    max_run = int(round(max_run_seconds * SR / HOP))
    for s, n in zip(starts, lengths, strict=True):
        if 3 <= n <= max_run:
            in_run[s : s + n] = True
    result.voiced_fraction = float(voiced.mean())
    if not (lengths >= 3).any():
        result.reason = f"{UNVOICED} (noise, clicks or whispering)"
        return result

    # steadiness: pitch range over 5 voiced frames (50 ms) under steady_semitones
    win = np.lib.stride_tricks.sliding_window_view(np.pad(st, 2, constant_values=np.nan), 5)
    full = ~np.isnan(win).any(axis=1)
    if full.any():
        w = win[full]
        steady = float(np.mean(w.max(axis=1) - w.min(axis=1) < steady_semitones))
    else:
        steady = 1.0
    result.steady_fraction = steady
    win = np.lib.stride_tricks.sliding_window_view(peak_st, min(PEAK_WINDOW, peak_st.size))
    full = ~np.isnan(win).any(axis=1)
    if np.count_nonzero(full) >= PEAK_MIN_WINDOWS:
        result.peak_steady_fraction = float(np.mean(np.ptp(win[full], axis=1) < peak_steady_semitones))
    result.tonality = float(np.median(tonality[voiced]))

    smooth = np.zeros_like(voiced)
    with np.errstate(invalid="ignore"):
        step = np.abs(np.diff(st))
        smooth[1:] = step <= max_jump_semitones
    evidence = in_run & smooth & (change >= min_spectral_change_db)
    result.voiced_seconds = float(np.count_nonzero(evidence) * HOP / SR)
    result.speech_spans = _spans(evidence)
    if result.speech_spans:
        result.speech_start, result.speech_end = result.speech_spans[0][0], result.speech_spans[-1][1]

    if steady > max_steady_fraction or result.peak_steady_fraction > max_peak_steady_fraction:
        result.reason = f"{STEADY} (tone / hum / music)"
    elif result.tonality > max_tonality:
        result.reason = f"{PURE_TONE} / sweep"
    elif result.voiced_seconds < (need := min(min_voiced_seconds, min_voiced_fraction * result.duration)):
        result.reason = (
            f"no voiced speech: {result.voiced_seconds:.2f} s of speech-like voicing (< {need:.2g} s)"
        )
    else:
        result.speech = True
        result.reason = "speech"
    log.debug("speech check: %s (%s)", result.reason, result)
    return result


def speech_bounds(
    y: np.ndarray,
    sr: int = SR,
    check: SpeechCheck | None = None,
    *,
    edge_seconds: float = 1.0,
    keep_seconds: float = 0.3,
    quiet_db: float = QUIET_DB,
) -> tuple[int, int]:
    """The samples ``y[lo:hi]`` to judge, without a loud edge that holds no speech.

    A voice detector joins a tone, noise or music to the speech beside it, and a recording may open or end
    with them; pooled with the speech they decide the emotion (or hide the speech). An edge of at least
    ``edge_seconds`` before :attr:`SpeechCheck.speech_start` or after ``speech_end`` is cut off, keeping
    ``keep_seconds`` beside the speech (its unvoiced onsets and endings), when it is loud: its median frame
    within ``quiet_db`` of the loud-frame level. Quiet edges (silence, room tone) stay, as in the recordings
    models are trained on, and so does everything when no speech-like voicing was found.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate.
    check : SpeechCheck, optional
        :func:`detect_speech` of ``y`` when already computed.
    edge_seconds : float
        Shortest edge (seconds before the speech starts or after it ends) that may be cut (default 1.0).
    keep_seconds : float
        Seconds kept beside the speech when an edge is cut (default 0.3).
    quiet_db : float
        An edge whose median frame is within this many dB of the loud-frame level is loud, and cut
        (default 30).

    Returns
    -------
    (int, int)
        ``lo, hi``: ``(0, len(y))`` when nothing is cut.

    Examples
    --------
    >>> from emovox.audio.synthetic import tone
    >>> from emovox.speech import speech_bounds
    >>> y = tone(seconds=2.0)
    >>> speech_bounds(y, 16000)  # no speech in it: nothing to cut around
    (0, 32000)
    """
    check = detect_speech(y, sr) if check is None else check
    lo, hi = 0, len(y)
    if check.speech_start is None:
        return lo, hi
    if check.speech_start >= edge_seconds:
        cut = int((check.speech_start - keep_seconds) * sr)
        lo = cut if _loud(y[:cut], check, quiet_db) else 0
    if check.duration - check.speech_end >= edge_seconds:
        cut = int((check.speech_end + keep_seconds) * sr)
        hi = cut if _loud(y[cut:], check, quiet_db) else len(y)
    return lo, hi


def _loud(part: np.ndarray, check: SpeechCheck, quiet_db: float) -> bool:
    """Whether a part's median frame is within ``quiet_db`` of the signal's loud-frame level."""
    return bool(np.median(_frame_db(np.asarray(part, np.float64))) >= check.level_db - quiet_db)


def speech_gaps(
    y: np.ndarray,
    sr: int = SR,
    check: SpeechCheck | None = None,
    *,
    gap_seconds: float = 1.0,
    keep_seconds: float = 0.3,
    quiet_db: float = QUIET_DB,
) -> list[tuple[int, int]]:
    """The samples ``y[lo:hi]`` between two utterances that hold no speech, as :func:`speech_bounds` finds
    them at the edges: a loud stretch of at least ``gap_seconds`` between two stretches of speech-like
    voicing (:attr:`SpeechCheck.speech_spans`), less ``keep_seconds`` beside each. A voice detector joins
    a tone or noise to the sentences on both sides of it; quiet pauses stay.

    Parameters
    ----------
    y : numpy.ndarray
        Mono signal.
    sr : int
        Its sample rate in Hz (default :data:`SR`, 16000).
    check : SpeechCheck, optional
        :func:`detect_speech` of ``y`` when already computed; None (default): computed here.
    gap_seconds : float
        Shortest stretch between two speech spans that may be cut, in seconds (default 1.0).
    keep_seconds : float
        Seconds kept beside the speech on each side of a cut (default 0.3).
    quiet_db : float
        A stretch whose median frame is within this many dB of the loud-frame level is loud, and cut
        (default :data:`QUIET_DB`, 30).

    Returns
    -------
    list of (int, int)
        ``(lo, hi)`` sample indices into ``y`` of each gap, in time order; empty when there is none.

    Examples
    --------
    >>> from emovox.audio.synthetic import tone
    >>> speech_gaps(tone(seconds=2.0), 16000)  # no speech in it: nothing between utterances
    []
    """
    check = detect_speech(y, sr) if check is None else check
    gaps = []
    for (_, end), (start, _) in zip(check.speech_spans, check.speech_spans[1:], strict=False):
        if start - end >= gap_seconds:
            lo, hi = int((end + keep_seconds) * sr), int((start - keep_seconds) * sr)
            if _loud(y[lo:hi], check, quiet_db):
                gaps.append((lo, hi))
    return gaps
