"""Find and read Whisper encoder checkpoints in Hugging Face format, without torch.

A checkpoint directory holds ``config.json`` and the weights as ``model.safetensors`` (or a sharded
``model.safetensors.index.json``) or ``pytorch_model.bin`` (reading that one needs torch). Tensor names
may carry the prefix ``model.encoder.`` (a full ``WhisperForConditionalGeneration`` or ``WhisperModel``),
``encoder.`` or none (a bare ``WhisperEncoder``); only the encoder's tensors are read.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError

ENCODER_PREFIXES = ("model.encoder.", "encoder.", "")
_ENCODER_ROOTS = ("conv1", "conv2", "embed_positions", "layers", "layer_norm")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class WhisperEncoderConfig:
    """The hyper-parameters of a Whisper encoder (names as in Hugging Face's ``WhisperConfig``)."""

    d_model: int = 512
    encoder_layers: int = 6
    encoder_attention_heads: int = 8
    encoder_ffn_dim: int = 2048
    num_mel_bins: int = 80
    max_source_positions: int = 1500
    activation_function: str = "gelu"

    @property
    def max_frames(self) -> int:
        """Largest number of mel frames the encoder accepts (3000 = 30 s for every released Whisper)."""
        return 2 * self.max_source_positions

    def to_dict(self) -> dict:
        """Plain-dict form (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> WhisperEncoderConfig:
        """Build from a Hugging Face ``config.json`` dict; unknown keys are ignored.

        Parameters
        ----------
        d : dict
            The checkpoint's configuration (``d_model``, ``encoder_layers``, ``encoder_attention_heads`` and
            ``encoder_ffn_dim`` are required).

        Returns
        -------
        WhisperEncoderConfig

        Raises
        ------
        ModelError
            When a required key is missing, ``d_model`` is not a multiple of the heads, or the activation is
            not a GELU.
        """
        missing = [
            k
            for k in ("d_model", "encoder_layers", "encoder_attention_heads", "encoder_ffn_dim")
            if k not in d
        ]
        if missing:
            raise ModelError(f"Whisper config lacks {', '.join(missing)}")
        cfg = cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        if cfg.d_model % cfg.encoder_attention_heads:
            raise ModelError(
                f"Whisper config: d_model {cfg.d_model} is not a multiple of "
                f"encoder_attention_heads {cfg.encoder_attention_heads}"
            )
        if cfg.activation_function not in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
            raise ModelError(f"Whisper config: unsupported activation_function {cfg.activation_function!r}")
        return cfg


def read_config(path: str | os.PathLike) -> WhisperEncoderConfig:
    """Read ``config.json`` of a checkpoint directory.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint directory.

    Returns
    -------
    WhisperEncoderConfig

    Raises
    ------
    ModelError
        If ``config.json`` is missing, unreadable or not a Whisper config.
    """
    cfg_path = Path(path) / "config.json"
    try:
        d = json.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{cfg_path}: not found; a Whisper checkpoint directory needs config.json") from None
    except (OSError, ValueError) as e:
        raise ModelError(f"{cfg_path}: unreadable ({e})") from None
    if d.get("model_type", "whisper") != "whisper":
        raise ModelError(f"{cfg_path}: model_type is {d.get('model_type')!r}, expected 'whisper'")
    return WhisperEncoderConfig.from_dict(d)


def _encoder_prefix(names: list[str], where: Path) -> str:
    """The prefix in front of the encoder's tensor names (the one before ``conv1.weight``)."""
    for prefix in ENCODER_PREFIXES:
        if f"{prefix}conv1.weight" in names:
            return prefix
    raise ModelError(
        f"{where}: no Whisper encoder tensors (looked for "
        + ", ".join(f"'{p}conv1.weight'" for p in ENCODER_PREFIXES)
        + ")"
    )


def _strip(tensors: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    # Keep only the encoder's own tensors (a bare-prefix file may also hold a decoder or a head).
    out = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    return {k: v for k, v in out.items() if k.split(".", 1)[0] in _ENCODER_ROOTS}


def load_encoder_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the encoder's tensors from a checkpoint directory as float32 numpy arrays.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint directory with ``model.safetensors``, ``model.safetensors.index.json`` or
        ``pytorch_model.bin``.

    Returns
    -------
    dict of str to np.ndarray
        Tensors named as in Hugging Face's ``WhisperEncoder`` without prefix (``conv1.weight``,
        ``layers.0.self_attn.q_proj.weight``, ..., ``layer_norm.bias``), cast to float32.

    Raises
    ------
    ModelError
        If no weight file is found, it cannot be read, or it holds no encoder tensors.
    """
    d = Path(path)
    single, index, pt_bin = (
        d / "model.safetensors",
        d / "model.safetensors.index.json",
        d / "pytorch_model.bin",
    )
    try:
        if single.is_file() or index.is_file():
            from safetensors import safe_open

            if single.is_file():
                shards = {single: None}
                with safe_open(str(single), framework="numpy") as f:
                    names = list(f.keys())
            else:
                weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
                names = list(weight_map)
                shards = {d / s: None for s in sorted(set(weight_map.values()))}
            prefix = _encoder_prefix(names, d)
            out: dict[str, np.ndarray] = {}
            for shard in shards:
                with safe_open(str(shard), framework="numpy") as f:
                    for k in f.keys():
                        if k.startswith(prefix) and k[len(prefix) :].split(".", 1)[0] in _ENCODER_ROOTS:
                            out[k] = f.get_tensor(k)  # read only the encoder's tensors
            tensors = _strip(out, prefix)
        elif pt_bin.is_file():
            try:
                import torch
            except ImportError:
                raise ModelError(
                    f"{pt_bin}: reading pytorch_model.bin needs torch "
                    "(pip install 'emovox[torch]'), or convert it to model.safetensors"
                ) from None
            sd = torch.load(str(pt_bin), map_location="cpu", weights_only=True)
            prefix = _encoder_prefix(list(sd), d)
            tensors = _strip({k: v.float().numpy() for k, v in sd.items() if k.startswith(prefix)}, prefix)
        else:
            raise ModelError(f"{d}: no model.safetensors, model.safetensors.index.json or pytorch_model.bin")
    except ModelError:
        raise
    except Exception as e:  # corrupt or truncated files surface as many exception types
        raise ModelError(f"{d}: could not read the weights ({type(e).__name__}: {e})") from None
    return {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}


def _hub_help(repo_id: str) -> str:
    return (
        f"download config.json and model.safetensors of https://huggingface.co/{repo_id} "
        f"(e.g. `hf download {repo_id} config.json model.safetensors --local-dir DIR` on a machine with "
        "network access) into a directory and pass that directory instead"
    )


def resolve_encoder(name_or_path: str | os.PathLike) -> Path:
    """Turn a local checkpoint directory or a Hugging Face hub id into a local directory.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A directory holding ``config.json`` and the weights, or a hub id such as ``"openai/whisper-base"``.
        A hub id is fetched with ``huggingface_hub.snapshot_download`` (config and weights only) into the
        usual Hugging Face cache (``HF_HOME`` / ``HF_HUB_CACHE``); a copy already in the cache is used
        without network access, and ``HF_HUB_OFFLINE=1`` forbids the network altogether.

    Returns
    -------
    pathlib.Path
        A local directory with ``config.json`` and a weight file.

    Raises
    ------
    ModelError
        If the directory does not exist or lacks ``config.json``, or the hub id cannot be fetched
        (no network, offline mode, unknown repository, ``huggingface_hub`` not installed); the message says
        what to download and where to put it.
    """
    p = Path(name_or_path).expanduser()
    s = str(name_or_path)
    if p.exists() or not _HUB_ID.match(s):
        if not p.is_dir():
            raise ModelError(
                f"{s}: no such checkpoint directory (and not a hub id like 'openai/whisper-base'); "
                "name a Whisper checkpoint folder (config.json + model.safetensors) "
                "or a hub id, or set EMOVOX_SHARED to the folder holding encoders/whisper-base"
            )
        if not (p / "config.json").is_file():
            raise ModelError(f"{p}: not a Whisper checkpoint directory (config.json missing)")
        return p
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ModelError(
            f"{s}: fetching from the Hugging Face hub needs huggingface_hub "
            f"(pip install huggingface_hub), or {_hub_help(s)}"
        ) from None
    try:
        local = Path(
            snapshot_download(
                s,
                allow_patterns=[
                    "config.json",
                    "preprocessor_config.json",
                    "model.safetensors",
                    "model.safetensors.index.json",
                    "model-*.safetensors",
                ],
            )
        )
        if not any((local / n).is_file() for n in ("model.safetensors", "model.safetensors.index.json")):
            local = Path(snapshot_download(s, allow_patterns=["config.json", "pytorch_model.bin"]))
    except Exception as e:  # offline, unknown repo, gated repo, network errors: one clear message
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        why = "HF_HUB_OFFLINE is set and it is not in the cache" if offline else f"{type(e).__name__}: {e}"
        raise ModelError(
            f"{s}: could not fetch the Whisper checkpoint from the Hugging Face hub ({why}); {_hub_help(s)}"
        ) from None
    if not (local / "config.json").is_file():
        raise ModelError(f"{s}: the hub snapshot at {local} has no config.json; {_hub_help(s)}")
    return local
