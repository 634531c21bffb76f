"""Run an exported Whisper encoder with onnxruntime: audio in, every layer's hidden states out (no torch).

Examples
--------
>>> from emovox.encoders import WhisperEncoderONNX, pool_mean_std  # doctest: +SKIP
>>> enc = WhisperEncoderONNX("whisper-base.int8.onnx")  # doctest: +SKIP
>>> h = enc.hidden_states(emovox.load_audio("clip.wav"))  # [7, frames_out, 512]  # doctest: +SKIP
>>> pool_mean_std(h, layers=[3, 4]).shape  # doctest: +SKIP
(2048,)
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import AudioError, ModelError
from .mel import HOP_LENGTH, SAMPLE_RATE, log_mel_spectrogram

METADATA_KEY = "emovox.whisper_encoder"
INPUT_NAME = "input_features"
OUTPUT_NAME = "hidden_states"
_MIN_SAMPLES = 2 * HOP_LENGTH  # two mel frames give one encoder frame


def default_threads() -> int:
    """ONNX Runtime intra-op threads: ``$EMOVOX_THREADS``, else every core up to 4 (more rarely helps
    models this small). Worker processes of a cluster set the variable to their own share of the cores."""
    if os.environ.get("EMOVOX_THREADS", "").isdigit() and int(os.environ["EMOVOX_THREADS"]) > 0:
        return int(os.environ["EMOVOX_THREADS"])
    return max(1, min(os.cpu_count() or 1, 4))


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: memoryview, lo: int, hi: int):
    """``(field number, wire type, value)`` of one protobuf message: a varint's value, a length-delimited
    field's ``(start, end)``; fixed-width fields are skipped."""
    i = lo
    while i < hi:
        key, i = _varint(buf, i)
        kind = key & 7
        if kind == 0:
            value, i = _varint(buf, i)
            yield key >> 3, kind, value
        elif kind == 2:
            n, i = _varint(buf, i)
            yield key >> 3, kind, (i, i + n)
            i += n
        elif kind in (1, 5):
            step = (8 if kind == 1 else 4) + 1
            i += step - 1
            # an unpacked repeated number (an SVM's floats): its run in windows that grow, so that the cost
            # follows the run (a byte at a time took 0.4 s for the classical head; one scan to the message's
            # end per field was quadratic on alternating fields)
            window = 64
            while key < 0x80 and i < hi and buf[i] == key:
                keys = np.frombuffer(buf[i : min(hi, i + window * step)], np.uint8)[::step]
                ends = np.flatnonzero(keys != key)
                i += int(ends[0] if ends.size else keys.size) * step
                if ends.size:
                    break
                window *= 2
        else:
            raise ValueError(f"protobuf wire type {kind} at byte {i}")


# Where ONNX messages hold tensors and graphs (onnx.proto field numbers): message -> {field: message}
_ONNX_FIELDS = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node", 11: "attribute"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
}


def external_data(model: bytes | mmap.mmap) -> bool:
    """Whether an ONNX model keeps any tensor's data in another file (``external_data``, or
    ``data_location`` EXTERNAL), which no seal covers: loaded from a path, onnxruntime read it; loaded from
    bytes, it refuses the graph in its own words, or (some versions) looks in the working directory. A walk
    of the protobuf wire format, so that emovox refuses first and says why (``import onnx`` alone takes most
    of a second).

    Parameters
    ----------
    model : bytes or mmap.mmap
        The serialised ONNX model.

    Returns
    -------
    bool

    Examples
    --------
    >>> external_data(b"")  # an empty model holds no tensor at all
    False
    """
    buf = memoryview(model)
    todo = [("model", 0, len(buf))]
    while todo:
        kind, lo, hi = todo.pop()
        for field, wire, value in _fields(buf, lo, hi):
            if kind == "tensor":
                if field == 13 or (field == 14 and wire == 0 and value == 1):
                    return True
            elif wire == 2 and (inner := _ONNX_FIELDS[kind].get(field)):
                todo.append((inner, *value))
    return False


def classifier_labels(graph: str | os.PathLike | bytes) -> list[str] | None:
    """The class labels of the classifier in an ONNX graph (its path, or its bytes; scikit-learn's
    ``LinearClassifier`` / ``SVMClassifier`` carry them, in the order of their probabilities; its MLP, as the
    string tensor ``classes`` its graph picks the label from), or None for a graph without one (a deep
    model's) or one this walk of the wire format cannot read (onnxruntime has its say on that).

    Parameters
    ----------
    graph : str, path or bytes
        The ONNX file (one over 256 MiB is not read: None), or its bytes.

    Returns
    -------
    list of str or None

    Examples
    --------
    >>> classifier_labels(__file__) is None  # not a graph at all
    True
    """
    try:
        if not isinstance(graph, bytes):
            if os.path.getsize(graph) > 256 * 2**20:  # read whole below: no classifier head is near this
                return None
            with open(graph, "rb") as fh:
                graph = fh.read()
        buf = memoryview(graph)
        for field, wire, span in _fields(buf, 0, len(buf)):
            if field != 7 or wire != 2:  # ModelProto.graph
                continue
            classes = None
            for gfield, gwire, node in _fields(buf, *span):
                if gfield == 5 and gwire == 2:  # GraphProto.initializer: an MLP's labels
                    classes = _string_tensor(buf, node, b"classes") if classes is None else classes
                if gfield != 1 or gwire != 2:  # GraphProto.node
                    continue
                op, labels = b"", None
                for nfield, nwire, value in _fields(buf, *node):
                    if nfield == 4 and nwire == 2:  # NodeProto.op_type
                        op = bytes(buf[value[0] : value[1]])
                    elif nfield == 5 and nwire == 2:  # NodeProto.attribute
                        name, strings = b"", []
                        for afield, awire, v in _fields(buf, *value):
                            if afield == 1 and awire == 2:
                                name = bytes(buf[v[0] : v[1]])
                            elif afield == 9 and awire == 2:  # AttributeProto.strings
                                strings.append(bytes(buf[v[0] : v[1]]).decode("utf-8", "replace"))
                        if name == b"classlabels_strings":
                            labels = strings
                if labels is not None and op.endswith(b"Classifier"):
                    return labels
            return classes
    except (OSError, ValueError, IndexError):
        return None
    return None


def _string_tensor(buf: memoryview, span: tuple[int, int], wanted: bytes) -> list[str] | None:
    """The strings of a TensorProto named ``wanted`` of type STRING, else None."""
    name, kind, strings = b"", 0, []
    for field, wire, value in _fields(buf, *span):
        if field == 8 and wire == 2:  # TensorProto.name
            name = bytes(buf[value[0] : value[1]])
        elif field == 2 and wire == 0:  # TensorProto.data_type
            kind = value
        elif field == 6 and wire == 2:  # TensorProto.string_data
            strings.append(bytes(buf[value[0] : value[1]]).decode("utf-8", "replace"))
    return strings if name == wanted and kind == 8 else None  # (8: STRING)


def _outside(view: bytes | mmap.mmap) -> bool:
    # walked only where a "location" key (required of external data) appears at all: the walk of the
    # encoder takes 18 ms, the search 2
    try:
        return view.find(b"location") != -1 and external_data(view)
    except (ValueError, IndexError):
        # not protobuf: onnxruntime says what is wrong with it. Caught here, inside a mapping: a traceback
        # still holding the walk's views would keep the map from closing (BufferError)
        return False


def cpu_session(graph: str | os.PathLike | bytes, threads: int | None = None, name: str | os.PathLike = ""):
    """An ONNX Runtime CPU session with emovox's threading (:func:`default_threads`), every graph
    optimisation, and a one-line :class:`ModelError` when the graph cannot be loaded.

    ``graph`` is a file or its bytes (``name`` then names it in errors): a model directory hands over the
    bytes it verified (:func:`emovox.models.store.read_sealed`). A graph that keeps tensors in another file
    (:func:`external_data`) is refused: a model directory's seal covers the files its metadata lists, and
    onnxruntime would read that one unchecked.

    Parameters
    ----------
    graph : str, path or bytes
        The ONNX file, or its bytes.
    threads : int, optional
        Intra-op threads; None (default): :func:`default_threads`.
    name : str or path
        How errors name the graph (default ``""``: its path, or ``<bytes>``).

    Returns
    -------
    onnxruntime.InferenceSession

    Raises
    ------
    ModelError
        When the file cannot be read, keeps external data, or onnxruntime cannot load it.
    """
    import onnxruntime as ort

    path = name or ("<bytes>" if isinstance(graph, bytes) else graph)
    if isinstance(graph, bytes):
        outside = _outside(graph)
    else:
        try:
            with open(graph, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
                outside = _outside(view)  # mapped, not copied (the encoder is 26 MB)
        except ValueError:
            outside = False  # an empty file cannot be mapped: onnxruntime says what is wrong with it
        except OSError as exc:
            raise ModelError(f"{path}: unreadable ({exc.strerror or exc})") from None
    if outside:
        raise ModelError(
            f"{path}: keeps weights in another file (ONNX external data), which emovox does not load: "
            "save the graph with its weights inside"
        )

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # No memory pattern: it reserves one block for every intermediate tensor of the largest run seen
    # (a 30 s window), about 50 MB more at the peak than allocating as the graph goes, at the same speed.
    opts.enable_mem_pattern = False
    try:
        source = graph if isinstance(graph, bytes) else str(graph)
        return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelError(f"{path}: onnxruntime cannot load it ({first})") from None


class WhisperEncoderONNX:
    """A Whisper encoder exported by :func:`emovox.encoders.export_encoder_onnx`, run with onnxruntime.

    A clip up to 30 s runs on its own frames (the positional embeddings are cut to its length; no padding
    to 30 s, which would be ~10x slower for a 3 s clip and changes the states, see
    :meth:`hidden_states`). A longer clip runs in consecutive 30 s windows whose outputs are concatenated.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.onnx`` file (float32 or int8).
    threads : int, optional
        onnxruntime intra-op threads; default :func:`default_threads`.
    data : bytes, optional
        The file's bytes, already read (and verified, by a model directory): ``path`` then only names it.

    Attributes
    ----------
    n_layers, d_model, n_mels, max_frames : int
        Transformer layers (the output has ``n_layers + 1`` states), width, mel bins, and the largest mel
        frame count one run accepts (3000 = 30 s).

    Raises
    ------
    ModelError
        If the file is missing or is not an encoder exported by emovox.
    """

    def __init__(
        self, path: str | os.PathLike, *, threads: int | None = None, data: bytes | None = None
    ) -> None:
        self.path = Path(path)
        if data is None and not self.path.is_file():
            raise ModelError(f"{self.path}: no such ONNX encoder file")
        self.session = cpu_session(self.path if data is None else data, threads, name=self.path)
        meta = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        names_ok = [i.name for i in self.session.get_inputs()] == [INPUT_NAME] and [
            o.name for o in self.session.get_outputs()
        ] == [OUTPUT_NAME]
        if meta is None or not names_ok:
            raise ModelError(
                f"{self.path}: not a Whisper encoder exported by emovox "
                f"(needs input {INPUT_NAME!r}, output {OUTPUT_NAME!r} and {METADATA_KEY!r} metadata)"
            )
        cfg = json.loads(meta)
        self.config: dict = cfg
        self.n_layers = int(cfg["encoder_layers"])
        self.d_model = int(cfg["d_model"])
        self.n_mels = int(cfg["num_mel_bins"])
        self.max_frames = 2 * int(cfg["max_source_positions"])

    def log_mel(self, audio: np.ndarray) -> np.ndarray:
        """Whisper log-mel of the clip's own length, ``[n_mels, len(audio) // 160]`` float32.

        Parameters
        ----------
        audio : numpy.ndarray
            Mono float samples at 16 kHz (more than 200).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_mels, len(audio) // 160)``.
        """
        return log_mel_spectrogram(audio, self.n_mels)

    def hidden_states_from_mel(self, mel: np.ndarray) -> np.ndarray:
        """Run the encoder on one log-mel window ``[n_mels, frames]`` (2 <= frames <= max_frames).

        An odd frame count loses its last frame.

        Parameters
        ----------
        mel : numpy.ndarray
            Whisper log-mel, shape ``(n_mels, frames)``.

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n_layers + 1, frames // 2, d_model)``.

        Raises
        ------
        ValueError
            When ``mel`` has another shape.
        """
        mel = np.asarray(mel, dtype=np.float32)
        frames = mel.shape[-1] - mel.shape[-1] % 2
        if mel.ndim != 2 or mel.shape[0] != self.n_mels or not 2 <= frames <= self.max_frames:
            raise ValueError(f"expected log-mel [{self.n_mels}, 2..{self.max_frames}], got {mel.shape}")
        x = np.ascontiguousarray(mel[None, :, :frames])
        return self.session.run(None, {INPUT_NAME: x})[0][:, 0]

    def hidden_states(self, audio: np.ndarray) -> np.ndarray:
        """Every layer's hidden states for a 16 kHz mono clip.

        Parameters
        ----------
        audio : np.ndarray
            1-D float waveform at 16 kHz (e.g. from :func:`emovox.load_audio`), at least 320 samples.

        Returns
        -------
        np.ndarray
            float32 ``[n_layers + 1, frames_out, d_model]`` with ``frames_out = (len(audio) // 160) // 2``
            (one frame per 20 ms). Index 0 is the embedding output, index ``i`` the output of layer ``i``,
            the last one after the final LayerNorm (Hugging Face's ``hidden_states`` convention).

        Raises
        ------
        AudioError
            If the audio is not 1-D, not finite, or shorter than 320 samples (20 ms).

        Notes
        -----
        The log-mel is computed once over the whole clip (Whisper's normalisation uses the clip's peak),
        then cut into windows of ``max_frames`` (30 s); a trailing window of fewer than 2 frames is
        dropped. Each window attends only to itself. Running a short clip on its own frames gives
        different states from running it zero-padded to 30 s: the convolution/embedding output (state 0)
        is the same except at the last frame, where the STFT's padding differs, but from layer 1 on
        every frame differs because attention also sees the padded frames (on whisper-base the
        mean+std pooled vectors of the two stay at cosine 0.985 .. 0.999).

        On a 2-core CPU, numpy's BLAS threads left spinning by a dense matrix product just before a run
        can halve onnxruntime's speed; the front end avoids BLAS for that reason, and pipelines that mix
        BLAS work with encoder runs may want ``OPENBLAS_NUM_THREADS=1``.
        """
        y = np.asarray(audio)
        if y.ndim != 1:
            raise AudioError(f"expected 1-D mono audio at {SAMPLE_RATE} Hz, got shape {y.shape}")
        if len(y) < _MIN_SAMPLES:
            raise AudioError(
                f"audio too short for the Whisper encoder: {len(y)} samples "
                f"(need >= {_MIN_SAMPLES}, 20 ms at {SAMPLE_RATE} Hz)"
            )
        if not np.isfinite(y).all():
            raise AudioError("audio contains NaN or infinite samples")
        mel = self.log_mel(y.astype(np.float32, copy=False))
        windows = [mel[:, s : s + self.max_frames] for s in range(0, mel.shape[1], self.max_frames)]
        outs = [self.hidden_states_from_mel(w) for w in windows if w.shape[1] >= 2]
        return outs[0] if len(outs) == 1 else np.concatenate(outs, axis=1)


def pool_mean_std(hidden: np.ndarray, layers: Sequence[int] | None = None) -> np.ndarray:
    """Mean and standard deviation over time of each chosen layer, concatenated into one vector.

    Parameters
    ----------
    hidden : np.ndarray
        Hidden states ``[n_states, frames, d_model]`` (as from :meth:`WhisperEncoderONNX.hidden_states`),
        or one layer ``[frames, d_model]``.
    layers : sequence of int, optional
        Indices into the first axis (negative allowed), in the order wanted; default all.

    Returns
    -------
    np.ndarray
        float32 vector ``[len(layers) * 2 * d_model]``: for each layer its mean then its (population)
        standard deviation.
    """
    h = np.asarray(hidden, dtype=np.float32)
    if h.ndim == 2:
        h = h[None]
    if h.ndim != 3 or h.shape[1] == 0:
        raise ValueError(f"expected hidden states [layers, frames >= 1, dim], got {np.shape(hidden)}")
    if layers is not None:
        h = h[list(layers)]
    stats = np.concatenate([h.mean(axis=1), h.std(axis=1)], axis=1)  # [n, 2 * d]: mean, std per layer
    return stats.reshape(-1)
