"""Rewrites of an exported encoder graph (onnx only, no torch): self-attention one head at a time.

Self-attention runs one head at a time (:func:`split_attention_heads`): the same numbers, but a 30 s window
holds one head's 1500 x 1500 score matrix at a time instead of all of them (whisper-base: 9 MB instead of
72 MB per tensor; a long recording's peak memory drops by about 40 MB at the same speed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .runtime import METADATA_KEY


def split_attention_heads(model, heads: int) -> int:
    """Rewrite each attention's ``MatMul(q, k) -> Softmax -> MatMul(p, v)`` on ``[batch, heads, ...]``
    tensors into one such chain per head (``Split`` on the head axis, ``Concat`` after), in place.

    The numbers are the same (each head's products and softmax are computed exactly as before), but
    onnxruntime then frees each head's score and probability matrices before the next head's, so the
    peak memory of a long window falls by ``(heads - 1) / heads`` of those two tensors.

    Parameters
    ----------
    model : onnx.ModelProto
        An exported encoder graph (opset >= 13).
    heads : int
        Attention heads per layer (``encoder_attention_heads``).

    Returns
    -------
    int
        How many attention blocks were rewritten (0 when the graph is already split).
    """
    from onnx import helper

    graph = model.graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    blocks = {}  # the second MatMul's name -> (scores MatMul, Softmax, output MatMul)
    for sm in graph.node:
        if (
            sm.op_type != "Softmax"
            or sm.input[0] not in producer
            or len(consumers.get(sm.output[0], [])) != 1
        ):
            continue
        qk, pv = producer[sm.input[0]], consumers[sm.output[0]][0]
        split = qk.input[0] in producer and producer[qk.input[0]].op_type == "Split"  # rewritten before
        if qk.op_type == "MatMul" and pv.op_type == "MatMul" and pv.input[0] == sm.output[0] and not split:
            blocks[pv.name] = (qk, sm, pv)
    if heads <= 1 or not blocks:
        return 0
    drop = {n.name for qk, sm, _ in blocks.values() for n in (qk, sm)}
    nodes = []
    for n in graph.node:
        if n.name in drop:
            continue
        if n.name not in blocks:
            nodes.append(n)
            continue
        qk, sm, pv = blocks[n.name]
        p = f"{pv.name}/head"
        parts = {}
        for key, tensor in (("q", qk.input[0]), ("k", qk.input[1]), ("v", pv.input[1])):
            parts[key] = [f"{p}/{key}{h}" for h in range(heads)]
            nodes.append(helper.make_node("Split", [tensor], parts[key], axis=1, name=f"{p}/split_{key}"))
        outs = []
        for h in range(heads):  # node order = execution order: one head's chain after the other
            scores, probs, out = f"{p}/scores{h}", f"{p}/probs{h}", f"{p}/out{h}"
            nodes.append(helper.make_node("MatMul", [parts["q"][h], parts["k"][h]], [scores], name=scores))
            nodes.append(helper.make_node("Softmax", [scores], [probs], name=probs))
            nodes[-1].attribute.extend(sm.attribute)
            nodes.append(helper.make_node("MatMul", [probs, parts["v"][h]], [out], name=out))
            outs.append(out)
        nodes.append(helper.make_node("Concat", outs, [pv.output[0]], axis=1, name=f"{p}/concat"))
    del graph.node[:]
    graph.node.extend(nodes)
    return len(blocks)


def split_encoder_bytes(path: str | os.PathLike) -> bytes | None:
    """The serialised graph of the encoder at ``path`` with :func:`split_attention_heads` applied, or None
    when there is nothing to rewrite (already split, or weights in an external-data file, which a rewrite
    would have to copy as well).

    Parameters
    ----------
    path : str or path
        The encoder's ONNX file (needs the ``onnx`` package).

    Returns
    -------
    bytes or None
    """
    import onnx

    path = Path(path)
    if path.with_name(path.name + ".data").exists():
        return None
    model = onnx.load(str(path))
    config = json.loads({p.key: p.value for p in model.metadata_props}.get(METADATA_KEY, "{}"))
    if not split_attention_heads(model, int(config.get("encoder_attention_heads", 1))):
        return None
    return model.SerializeToString()
