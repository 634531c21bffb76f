"""Augmentations change the signal as specified and leave the label alone."""

import numpy as np
import pytest

from emovox.augment import (
    WaveAugment,
    add_noise,
    coloured_noise,
    mask_bands,
    mixup,
    pitch_shift,
    random_channel,
    snr_db,
    spec_augment,
    speed_change,
    time_shift,
    time_stretch,
)

from .conftest import tone

SR = 16000


def peak_hz(y: np.ndarray, sr: int = SR) -> float:
    """Frequency of the strongest spectral peak (parabolic interpolation), edges trimmed."""
    y = y[len(y) // 8 : -len(y) // 8]
    X = np.abs(np.fft.rfft(y * np.hanning(y.size), n=8 * y.size))
    k = int(np.argmax(X))
    a, b, c = np.log(X[k - 1 : k + 2])
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / (8 * y.size)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_noise_snr_is_the_requested_one(colour, snr):
    y = tone(220, 1.0)
    noisy = add_noise(y, snr, colour=colour, rng=3)
    assert snr_db(y, noisy - y) == pytest.approx(snr, abs=0.05)


def test_coloured_noise_spectrum_slopes():
    def low_high(colour):
        P = np.abs(np.fft.rfft(coloured_noise(1 << 15, colour, 0))) ** 2
        n = P.size
        return P[1 : n // 16].mean() / P[n // 2 :].mean()

    assert low_high("white") == pytest.approx(1.0, rel=0.2)
    assert low_high("pink") > 5 and low_high("brown") > 10 * low_high("pink")


def test_time_shift_moves_samples():
    y = np.arange(1, 101, dtype=np.float32)
    s = time_shift(y, 7)
    assert np.array_equal(s[7:], y[:-7]) and not s[:7].any()
    s = time_shift(y, -5)
    assert np.array_equal(s[:-5], y[5:]) and not s[-5:].any()
    assert np.array_equal(time_shift(y, 3, mode="roll"), np.roll(y, 3))


@pytest.mark.parametrize("n_steps", [-4.0, 3.0])
def test_pitch_shift_moves_a_tone_by_the_ratio(n_steps):
    y = tone(300, 1.0)
    z = pitch_shift(y, SR, n_steps)
    assert z.size == y.size  # duration kept
    assert peak_hz(z) == pytest.approx(300 * 2 ** (n_steps / 12), rel=0.01)


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_speed_change_scales_duration_and_frequency(factor):
    y = tone(300, 1.0)
    z = speed_change(y, factor, SR)
    assert abs(z.size - y.size / factor) <= 2
    assert peak_hz(z) == pytest.approx(300 * factor, rel=0.01)


def test_speed_change_whole_hz_truncates_the_source_rate():
    import soxr

    y = tone(300, 0.5)
    assert np.array_equal(speed_change(y, 1.23456, SR, whole_hz=True), soxr.resample(y, 19752, SR))
    assert not np.array_equal(speed_change(y, 1.23456, SR), speed_change(y, 1.23456, SR, whole_hz=True))
    assert np.array_equal(speed_change(y, 1.1, SR, whole_hz=True), speed_change(y, 1.1, SR))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_noise_given_is_scaled_to_the_snr(dtype):
    y = tone(220, 1.0)
    hum = (0.3 + np.sin(2 * np.pi * 50 * np.arange(y.size) / SR)).astype(np.float32)  # with an offset
    noisy = add_noise(y, 12.0, noise=hum, dtype=dtype)
    assert noisy.dtype == np.float32
    assert snr_db(y, noisy - y) == pytest.approx(12.0, abs=1e-3)
    assert np.corrcoef(noisy - y, hum)[0, 1] > 0.999999  # the noise itself, only scaled
    with pytest.raises(ValueError):
        add_noise(y, 12.0, noise=hum[:-1])


def test_encoder_augment_signal_is_these_augmentations():
    import soxr

    from emovox.encoders.frontend import augment_signal
    from emovox.errors import ModelError

    y = tone(220, 1.0)
    # the formulas augment_signal had before it called emovox.augment
    for f in (0.9, 1.1, 1.23456):
        old = soxr.resample(y, int(SR * f), SR).astype(np.float32)
        assert np.array_equal(augment_signal(y, f"speed:{f}", 3), old)
    draw = np.random.default_rng(3).standard_normal(y.size).astype(np.float32)
    old = y + np.sqrt(np.mean(y**2) / (np.mean(draw**2) * 10**1.5)) * draw
    new = augment_signal(y, "noise:15", 3)
    assert new.dtype == np.float32 and np.array_equal(new, old)
    assert np.array_equal(augment_signal(y, "channel", 5), random_channel(y, SR, np.random.default_rng(5)))
    with pytest.raises(ModelError):
        augment_signal(y, "reverb:1", 0)
    with pytest.raises(ModelError, match="channel:codec"):
        augment_signal(y, "channel:2", 0)


def test_channel_codec_is_the_channel_copy_then_mp3_half_the_time():
    from emovox.augment import codec_roundtrip
    from emovox.encoders.frontend import augment_signal

    y = tone(1000, 1.0) * 0.3
    coded = [s for s in range(12) if np.random.default_rng([s, 7]).random() < 0.5]
    assert 3 <= len(coded) <= 9  # about half, drawn apart from the channel's own random choices
    for seed in range(12):
        plain, out = augment_signal(y, "channel", seed), augment_signal(y, "channel:codec", seed)
        assert out.shape == y.shape and out.dtype == np.float32
        assert np.array_equal(out, augment_signal(y, "channel:codec", seed))  # seeded
        assert np.array_equal(out, plain) == (seed not in coded)
        if seed in coded:
            level = np.random.default_rng([seed, 7])
            level.random()
            assert np.array_equal(out, codec_roundtrip(plain, SR, "mp3", float(level.uniform(0.6, 0.95))))


def test_codec_roundtrip_keeps_the_length_and_cuts_the_top_at_a_low_bitrate():
    from emovox.augment import codec_roundtrip
    from emovox.errors import ParameterError

    t = np.arange(2 * SR) / SR
    mid, high = ((0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in (1000, 7000))
    for level in (0.0, 0.9):
        out = codec_roundtrip(mid, SR, "mp3", level)
        assert out.shape == mid.shape and out.dtype == np.float32
        assert 0.85 < np.std(out[SR // 4 : -SR // 4]) / np.std(mid) < 1.05  # 1 kHz survives any bitrate
    assert np.std(codec_roundtrip(high, SR, "mp3", 0.0)[SR // 4 : -SR // 4]) > 0.8 * np.std(
        high
    )  # ~170 kbit/s: kept
    assert np.std(codec_roundtrip(high, SR, "mp3", 0.9)[SR // 4 : -SR // 4]) < 0.05 * np.std(
        high
    )  # ~25 kbit/s: cut
    with pytest.raises(ParameterError, match="0-0.95"):
        codec_roundtrip(mid, SR, "mp3", 1.0)
    opus = codec_roundtrip(mid[:-123], SR, "opus", 1.0)  # the lowest quality: about 12 kbit/s
    assert opus.shape == (len(mid) - 123,) and opus.dtype == np.float32
    assert 0.7 < np.std(opus[SR // 4 : -SR // 4]) / np.std(mid) < 1.1
    assert np.std(codec_roundtrip(high, SR, "opus", 1.0)[SR // 4 : -SR // 4]) < 0.2 * np.std(high)
    with pytest.raises(ParameterError, match="mp3, opus"):
        codec_roundtrip(mid, SR, "aac", 0.5)


def test_time_stretch_changes_duration_not_pitch():
    y = tone(300, 1.0)
    z = time_stretch(y, 0.8)
    assert z.size == round(y.size / 0.8)
    assert peak_hz(z) == pytest.approx(300, rel=0.01)


def test_spec_augment_masks_the_requested_bands():
    S = np.random.default_rng(0).standard_normal((120, 40)).astype(np.float32) + 5
    out, (fb, tb) = spec_augment(
        S, 1, n_freq_masks=2, max_freq_width=6, n_time_masks=3, max_time_width=10, return_bands=True
    )
    assert len(fb) == 2 and len(tb) == 3
    masked = np.zeros_like(S, dtype=bool)
    for a, b in fb:
        assert 0 <= b - a <= 6
        masked[:, a:b] = True
    for a, b in tb:
        assert 0 <= b - a <= 10
        masked[a:b] = True
    assert np.all(out[masked] == 0) and np.array_equal(out[~masked], S[~masked])
    assert masked.any()
    exact = mask_bands(S, [(3, 7)], [(10, 20)], fill="mean")
    assert np.all(exact[:, 3:7] == pytest.approx(S.mean())) and np.all(
        exact[10:20] == pytest.approx(S.mean())
    )
    assert np.array_equal(exact[:10, 7:], S[:10, 7:])


def test_mixup_is_a_convex_combination():
    x = np.random.default_rng(0).standard_normal((6, 5))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    xm, ym, lam, perm = mixup(x, y, lam=0.7, rng=0)
    assert np.allclose(xm, 0.7 * x + 0.3 * x[perm]) and np.allclose(ym.sum(1), 1.0)
    assert np.array_equal(ym.argmax(1), y.argmax(1))  # lam > 0.5: the dominant label is kept


def test_wave_augment_changes_signal_keeps_label_and_is_seeded():
    aug = WaveAugment(p_noise=1.0, p_shift=1.0, p_speed=1.0, p_pitch=1.0)
    y = tone(250, 1.0)
    a, lab = aug(y, SR, np.random.default_rng(5), label="angry")
    b, _ = aug(y, SR, np.random.default_rng(5), label="angry")
    assert lab == "angry" and np.array_equal(a, b)
    assert not np.allclose(a[: min(a.size, y.size)], y[: min(a.size, y.size)])


def test_channel_augmentations_have_known_effects():
    from emovox.augment import band_limit, random_channel, random_eq, reverb

    t = np.arange(16000) / 16000
    low, mid = np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 1000 * t)
    assert np.std(band_limit(low)) < 0.05 * np.std(low)  # below the telephone band: gone
    assert 0.9 < np.std(band_limit(mid)[2000:]) / np.std(mid) < 1.1  # inside it: kept
    y = (0.3 * mid).astype(np.float32)
    wet = reverb(y, rt60=0.5, rng=0)
    assert np.isclose(np.sqrt(np.mean(wet**2)), np.sqrt(np.mean(y**2)), rtol=1e-3) and not np.allclose(wet, y)
    eq = random_eq(y, rng=1)
    assert eq.shape == y.shape and not np.allclose(eq, y)
    a, b = random_channel(y, rng=7), random_channel(y, rng=7)
    assert np.array_equal(a, b) and a.dtype == np.float32 and np.abs(a).max() <= 1.0
    assert not np.array_equal(a, random_channel(y, rng=8))


def test_edge_cases_of_the_signal_helpers_give_an_answer_or_a_clear_error():
    """Found while documenting them: a shift past the start crashed, a clip shorter than the first click was
    all NaN, silence as the noise gave inf, and a noise kind mistyped gave white noise without a word."""
    from emovox.audio import synthetic

    assert time_shift(np.arange(1, 5.0), -5).tolist() == [0.0] * 4
    assert time_shift(np.arange(1, 5.0), 4).tolist() == [0.0] * 4
    quiet = synthetic.clicks(0.5, 0.1)  # the first click would come later than 0.1 s
    assert quiet.size == 1600 and np.all(quiet == 0)
    assert synthetic.clicks(2.0, 0.0).size == 0
    with pytest.raises(ValueError, match="zero power"):
        add_noise(np.ones(100, np.float32), 10.0, noise=np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="expected 'white' or 'pink', got 'brown'"):
        synthetic.add_noise(synthetic.tone(440.0, 0.5), 10.0, kind="brown")
