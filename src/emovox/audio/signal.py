"""Signal conditioning: downmixing to mono and resampling with ``soxr``. Pure array-in, array-out helpers,
with no file or decoder in sight, shared by the decoders (:mod:`emovox.audio.decode`), the stream
(:mod:`emovox.audio.stream`) and callers that hold samples already."""

from __future__ import annotations

import numpy as np


def to_mono(y: np.ndarray) -> np.ndarray:
    """Downmix (frames, channels) to mono by averaging channels."""
    if y.ndim == 2:
        y = y.mean(axis=1)
    return y


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float signal with soxr (high quality); a no-op when the rates match."""
    if orig_sr == target_sr:
        return y.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(y.astype(np.float32, copy=False), orig_sr, target_sr, quality="HQ").astype(
        np.float32
    )
