"""Export a Whisper encoder to ONNX with all hidden states as output (needs torch for the export only).

The exported graph (opset 17, legacy TorchScript exporter: the torch.export-based one needs onnxscript,
which emovox does not depend on) has

- input ``input_features``: float32 log-mel ``[batch, num_mel_bins, frames]``, ``batch`` and ``frames``
  dynamic (frames even, at most ``2 * max_source_positions`` = 3000 for every released Whisper);
- output ``hidden_states``: float32 ``[n_layers + 1, batch, frames // 2, d_model]``, one stacked tensor in
  the convention of :mod:`emovox.encoders.whisper` (index 0 the embedding output, the last one after the
  final LayerNorm).

The encoder's config is stored as JSON in the model's metadata under ``emovox.whisper_encoder``, which
:class:`emovox.encoders.WhisperEncoderONNX` reads. Weights are stored as float32 (float16 checkpoints
are widened). :func:`quantize_encoder_onnx` makes the int8 variant (dynamic quantisation of the
MatMul weights; convolutions stay float32).

Self-attention runs one head at a time (:func:`emovox.encoders.graph.split_attention_heads`): the same
numbers in a fraction of the memory.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch

from ..errors import ModelError
from .graph import split_attention_heads
from .runtime import INPUT_NAME, METADATA_KEY, OUTPUT_NAME
from .whisper import WhisperEncoder, load_whisper_encoder

_TWO_GB = 2**31


def export_encoder_onnx(
    encoder: WhisperEncoder | str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    opset: int = 17,
    quantize: bool = False,
) -> Path:
    """Export a Whisper encoder to ONNX (float32), optionally with an int8 copy.

    Parameters
    ----------
    encoder : WhisperEncoder or str or os.PathLike
        A loaded :class:`WhisperEncoder`, or a checkpoint directory / hub id for
        :func:`emovox.encoders.whisper.load_whisper_encoder`.
    out_path : str or os.PathLike
        Where to write the float32 model (``.onnx``). Parent directories are created.
    opset : int
        ONNX opset, at least 17.
    quantize : bool
        Also write an int8 model next to it, named ``<stem>.int8.onnx``, and return that path.

    Returns
    -------
    pathlib.Path
        The float32 model's path, or the int8 model's path when ``quantize`` is True.

    Raises
    ------
    ModelError
        If the checkpoint cannot be loaded or the export fails.
    """
    if opset < 17:
        raise ValueError(f"opset {opset} < 17 is not supported")
    model = encoder if isinstance(encoder, WhisperEncoder) else load_whisper_encoder(encoder)
    model = model.float().eval()
    cfg = model.config
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, cfg.num_mel_bins, 200)  # any even length: the time axis is exported dynamic
    n_params = sum(p.numel() for p in model.parameters())
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer warnings
            torch.onnx.export(
                model,
                (dummy,),
                str(out),
                dynamo=False,
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={
                    INPUT_NAME: {0: "batch", 2: "frames"},
                    OUTPUT_NAME: {1: "batch", 2: "frames_out"},
                },
                do_constant_folding=True,
            )
    except Exception as e:
        raise ModelError(f"{out}: ONNX export failed ({type(e).__name__}: {e})") from None
    _finish_export(out, cfg.to_dict(), external=4 * n_params >= _TWO_GB)
    if quantize:
        return quantize_encoder_onnx(out, out.with_name(out.stem + ".int8.onnx"))
    return out


def _finish_export(path: Path, cfg: dict, external: bool) -> None:
    import onnx

    m = onnx.load(str(path))
    split_attention_heads(m, int(cfg["encoder_attention_heads"]))
    del m.metadata_props[:]
    entry = m.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(cfg, sort_keys=True)
    if external:  # past protobuf's 2 GB limit (whisper large): keep the weights in a side file
        onnx.save(m, str(path), save_as_external_data=True, location=path.name + ".data")
    else:
        onnx.save(m, str(path))


def quantize_encoder_onnx(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Dynamic int8 quantisation of an exported encoder (``onnxruntime.quantization.quantize_dynamic``).

    Only the MatMul weights (attention projections and feed-forward layers, nearly all the parameters)
    become int8, per output channel and with 7-bit range (``reduce_range``: x86 CPUs without VNNI
    multiply u8 x s8 pairs into saturating int16 sums, which full-range weights can overflow; on
    whisper-base it is measurably closer to float32 at the same speed). Activations are quantised on the
    fly at run time. Convolutions stay float32 (onnxruntime's integer convolution is slower on CPUs).

    Parameters
    ----------
    src : str or os.PathLike
        Float32 model from :func:`export_encoder_onnx`.
    dst : str or os.PathLike
        Output path.

    Returns
    -------
    pathlib.Path
        ``dst``.
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = Path(src), Path(dst)
    external = src.with_name(src.name + ".data").exists()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # quantize_dynamic logs a generic "consider pre-processing" warning
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=True,
            use_external_data_format=external,
        )
    finally:
        logging.disable(previous)
    m = onnx.load(str(dst))
    if not any(p.key == METADATA_KEY for p in m.metadata_props):  # the runner needs the config
        meta = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
        entry = m.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, meta[METADATA_KEY]
        onnx.save(m, str(dst), save_as_external_data=external, location=dst.name + ".data")
    return dst
