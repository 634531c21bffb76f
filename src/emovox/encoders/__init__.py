"""Pretrained speech encoders (Whisper) whose hidden states feed emotion models, run without torch.

- :mod:`~emovox.encoders.mel`: Whisper's log-mel front end in numpy.
- :mod:`~emovox.encoders.checkpoint`: find (local directory or Hugging Face hub id) and read checkpoints.
- :mod:`~emovox.encoders.whisper`: pure-torch reference encoder returning all hidden states (torch).
- :mod:`~emovox.encoders.export`: ONNX export (all hidden states, dynamic time) and int8 quantisation
  (torch, for the export only).
- :mod:`~emovox.encoders.runtime`: :class:`WhisperEncoderONNX` (onnxruntime) and :func:`pool_mean_std`.

Importing this package does not import torch; the torch-based names are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from .checkpoint import WhisperEncoderConfig, load_encoder_weights, read_config, resolve_encoder
from .mel import log_mel_spectrogram, mel_filters
from .runtime import WhisperEncoderONNX, pool_mean_std

_TORCH_NAMES = {
    "WhisperEncoder": "whisper",
    "load_whisper_encoder": "whisper",
    "export_encoder_onnx": "export",
    "quantize_encoder_onnx": "export",
}

__all__ = [
    "WhisperEncoder",
    "WhisperEncoderConfig",
    "WhisperEncoderONNX",
    "export_encoder_onnx",
    "load_encoder_weights",
    "load_whisper_encoder",
    "log_mel_spectrogram",
    "mel_filters",
    "pool_mean_std",
    "quantize_encoder_onnx",
    "read_config",
    "resolve_encoder",
]


def __getattr__(name: str) -> Any:
    # Lazy: these need torch, which inference with WhisperEncoderONNX must not pull in.
    if name in _TORCH_NAMES:
        import importlib

        return getattr(importlib.import_module(f".{_TORCH_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
