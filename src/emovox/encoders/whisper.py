"""Pure-torch reference Whisper encoder returning every layer's hidden states (needs torch).

The module follows Hugging Face ``transformers``' ``WhisperEncoder`` (and openai-whisper's
``AudioEncoder``): conv1 (kernel 3) + GELU, conv2 (kernel 3, stride 2) + GELU, plus the positional
embeddings cut to the number of frames, pre-LayerNorm transformer layers (self-attention with q/k/v/out
projections, ``k_proj`` without bias; fc1, GELU, fc2) and a final LayerNorm. Parameter names are Hugging
Face's, so a checkpoint's ``state_dict`` loads once its prefix is stripped.

Hidden-state convention (the Hugging Face one, ``output_hidden_states=True``): ``n_layers + 1`` states,

- ``[0]``: the embedding output (convolutions + positional embeddings), the input of layer 1;
- ``[i]`` for ``1 <= i < n_layers``: the output of layer ``i``;
- ``[n_layers]``: the output of the last layer **after** the final ``layer_norm`` (the encoder's output,
  what the decoder attends to). The last layer's output before that LayerNorm is not returned.

Unlike Hugging Face's encoder, which insists on 3000 input frames (30 s), any frame count up to
``2 * max_source_positions`` is accepted: the positional embeddings are cut to the clip's length.

Examples
--------
>>> from emovox.encoders.whisper import load_whisper_encoder  # doctest: +SKIP
>>> enc = load_whisper_encoder("openai/whisper-base")  # doctest: +SKIP
>>> enc(torch.zeros(1, 80, 300)).shape  # doctest: +SKIP
torch.Size([7, 1, 150, 512])
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ModelError
from .checkpoint import WhisperEncoderConfig, load_encoder_weights, read_config, resolve_encoder

__all__ = ["WhisperEncoder", "WhisperEncoderConfig", "load_whisper_encoder", "resolve_encoder"]


class _SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.scaling = self.head_dim**-0.5
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)  # Whisper's key projection has no bias
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        # Reshape with -1 for time so that the ONNX export keeps the time axis dynamic.
        q = (self.q_proj(x) * self.scaling).reshape(b, -1, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).reshape(b, -1, self.n_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).reshape(b, -1, self.n_heads, self.head_dim).transpose(1, 2)
        attn = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, -1, d)
        return self.out_proj(out)


class _EncoderLayer(nn.Module):
    def __init__(self, cfg: WhisperEncoderConfig) -> None:
        super().__init__()
        self.self_attn = _SelfAttention(cfg.d_model, cfg.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.encoder_ffn_dim)
        self.fc2 = nn.Linear(cfg.encoder_ffn_dim, cfg.d_model)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model)
        self.approximate = "none" if cfg.activation_function == "gelu" else "tanh"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.self_attn_layer_norm(x))
        return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x)), approximate=self.approximate))


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """Whisper's fixed sinusoidal positional embeddings ``[length, channels]`` (sin half, then cos half).

    Parameters
    ----------
    length : int
        Positions (encoder frames).
    channels : int
        Embedding width (even).
    max_timescale : float
        The longest wavelength (default 10000.0).

    Returns
    -------
    torch.Tensor
        float32, shape ``(length, channels)``.
    """
    log_timescale_increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-log_timescale_increment * torch.arange(channels // 2, dtype=torch.float32))
    scaled_time = torch.arange(length, dtype=torch.float32)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled_time), torch.cos(scaled_time)], dim=1)


class WhisperEncoder(nn.Module):
    """Whisper encoder that returns all hidden states stacked.

    Parameters
    ----------
    cfg : WhisperEncoderConfig
        Sizes (d_model, layers, heads, ffn, mel bins, positions). Weights start random except the
        positional embeddings, which start as Whisper's sinusoids (checkpoints overwrite them).
    """

    def __init__(self, cfg: WhisperEncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.conv1 = nn.Conv1d(cfg.num_mel_bins, cfg.d_model, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(cfg.d_model, cfg.d_model, kernel_size=3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(cfg.max_source_positions, cfg.d_model)
        with torch.no_grad():
            self.embed_positions.weight.copy_(sinusoids(cfg.max_source_positions, cfg.d_model))
        self.layers = nn.ModuleList(_EncoderLayer(cfg) for _ in range(cfg.encoder_layers))
        self.layer_norm = nn.LayerNorm(cfg.d_model)
        self.approximate = "none" if cfg.activation_function == "gelu" else "tanh"

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        """Run the encoder.

        Parameters
        ----------
        input_features : torch.Tensor
            Log-mel ``[batch, num_mel_bins, frames]`` (frames even, at most ``2 * max_source_positions``).

        Returns
        -------
        torch.Tensor
            Hidden states stacked ``[n_layers + 1, batch, frames // 2, d_model]`` (see the module
            docstring for what each index holds).
        """
        x = F.gelu(self.conv1(input_features), approximate=self.approximate)
        x = F.gelu(self.conv2(x), approximate=self.approximate).transpose(1, 2)
        # Cut the positional table to the clip's length: a short clip runs on its own frames.
        x = x + self.embed_positions.weight[: x.shape[1]]
        states = [x]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            states.append(self.layer_norm(x) if i == len(self.layers) - 1 else x)
        return torch.stack(states)

    def hidden_states(self, input_features: torch.Tensor) -> torch.Tensor:
        """Like :meth:`forward`, with a check of the frame count and no autograd.

        Parameters
        ----------
        input_features : torch.Tensor
            Log-mel ``[batch, num_mel_bins, frames]`` (frames even).

        Returns
        -------
        torch.Tensor
            Hidden states stacked ``[n_layers + 1, batch, frames // 2, d_model]``, as :meth:`forward`.

        Raises
        ------
        ValueError
            When ``frames`` exceeds ``config.max_frames``.
        """
        frames = input_features.shape[-1]
        if frames > self.config.max_frames:
            raise ValueError(f"{frames} frames exceed the encoder's maximum of {self.config.max_frames}")
        with torch.inference_mode():
            return self(input_features)


def load_whisper_encoder(name_or_path: str | os.PathLike) -> WhisperEncoder:
    """Build a :class:`WhisperEncoder` from a Hugging Face-format checkpoint, in eval mode, float32.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        Checkpoint directory or hub id (see :func:`resolve_encoder`). Sizes come from ``config.json``,
        so any Whisper size (tiny .. large) loads.

    Returns
    -------
    WhisperEncoder

    Raises
    ------
    ModelError
        If the checkpoint cannot be found or read, or its tensors do not fit the config.
    """
    path = resolve_encoder(name_or_path)
    cfg = read_config(path)
    weights = load_encoder_weights(path)
    model = WhisperEncoder(cfg)
    expected = model.state_dict()
    if "embed_positions.weight" not in weights:  # fixed sinusoids, which some exports leave out
        weights["embed_positions.weight"] = expected["embed_positions.weight"].numpy()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ModelError(
            f"{path}: encoder tensors do not match the config (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]})"
        )
    bad = [k for k, v in expected.items() if tuple(v.shape) != weights[k].shape]
    if bad:
        raise ModelError(f"{path}: tensor shapes do not match config.json for {bad[:5]}")
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()})
    return model.eval()
