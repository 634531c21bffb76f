"""Tests of emovox.encoders: log-mel front end, Whisper checkpoint loading, ONNX export/runtime parity.

Tolerances (stated here, checked below):
- log-mel vs a float64 librosa reimplementation: max abs diff < 1e-5; vs openai-whisper's float32
  ``torch.stft`` recipe: < 1e-4 (float32 STFT rounding near the -80 dB floor).
- ONNX (float32) vs the torch reference, tiny random encoder: max abs diff < 1e-4 for every state.
- ONNX (float32) vs torch, and torch vs Hugging Face transformers, real whisper-base: max abs diff
  <= 2e-4 * max|state| per state (measured <= 7.4e-5 relative, 6.7e-3 absolute: some whisper-base
  channels reach ~500, where float32 summation order alone moves values by ~1e-3, and the final
  LayerNorm carries that into the last state).
- int8 vs float32, real whisper-base: cosine similarity of each state's mean+std pooled vector > 0.99.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from emovox.encoders import (
    WhisperEncoderONNX,
    load_encoder_weights,
    log_mel_spectrogram,
    mel_filters,
    pool_mean_std,
    read_config,
    resolve_encoder,
)
from emovox.errors import AudioError, ModelError

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMOVOX_SHARED", ROOT.parent / "shared"))
WHISPER_BASE = SHARED / "encoders" / "whisper-base"
RAVDESS = SHARED / "corpora" / "ravdess"
TINY = {
    "d_model": 64,
    "encoder_layers": 2,
    "encoder_attention_heads": 4,
    "encoder_ffn_dim": 128,
    "num_mel_bins": 80,
    "max_source_positions": 100,
    "model_type": "whisper",
}

needs_base = pytest.mark.skipif(
    not (WHISPER_BASE / "model.safetensors").is_file() or not RAVDESS.is_dir(),
    reason="shared whisper-base weights or RAVDESS absent",
)


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic tone with a vibrato and noise: enough spectral structure for the front end."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    f0 = 140 + 20 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000
    y = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    return (0.1 * y + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


def _real_clip() -> np.ndarray:
    import emovox

    return emovox.load_audio(RAVDESS / "Actor_01" / "03-01-05-02-01-01-01.flac")


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ----------------------------------------------------------------------------------------- log-mel


def _librosa_log_mel(y: np.ndarray) -> np.ndarray:
    librosa = pytest.importorskip("librosa")
    s = (
        np.abs(
            librosa.stft(
                y.astype(np.float64),
                n_fft=400,
                hop_length=160,
                window="hann",
                center=True,
                pad_mode="reflect",
            )
        )
        ** 2
    )
    mel = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80, dtype=np.float64) @ s[:, :-1]
    log = np.log10(np.maximum(mel, 1e-10))
    return (np.maximum(log, log.max() - 8.0) + 4.0) / 4.0


def _whisper_torch_log_mel(y: np.ndarray, pad: int = 0) -> np.ndarray:
    """openai-whisper's ``log_mel_spectrogram`` recipe (float32 torch.stft)."""
    torch = pytest.importorskip("torch")
    librosa = pytest.importorskip("librosa")
    audio = torch.nn.functional.pad(torch.from_numpy(y), (0, pad))
    stft = torch.stft(audio, 400, 160, window=torch.hann_window(400), return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2
    mel = torch.from_numpy(librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)) @ magnitudes
    log = torch.clamp(mel, min=1e-10).log10()
    return ((torch.maximum(log, log.max() - 8.0) + 4.0) / 4.0).numpy()


def test_mel_filters_match_librosa():
    librosa = pytest.importorskip("librosa")
    for n_mels in (80, 128):
        ref = librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels)
        assert mel_filters(n_mels).shape == ref.shape
        assert np.abs(mel_filters(n_mels) - ref).max() < 1e-7


def test_log_mel_shapes():
    for n in (401, 16000, 16159, 48000 + 17):
        assert log_mel_spectrogram(_speechlike(n / 16000)).shape == (80, n // 160)
    assert log_mel_spectrogram(_speechlike(3.0), pad_to_30s=True).shape == (80, 3000)
    assert log_mel_spectrogram(_speechlike(31.0), pad_to_30s=True).shape == (80, 3000)
    assert log_mel_spectrogram(_speechlike(1.0), n_mels=128).shape == (128, 100)
    assert log_mel_spectrogram(_speechlike(1.0)).dtype == np.float32
    with pytest.raises(ValueError):
        log_mel_spectrogram(np.zeros(200, dtype=np.float32))
    with pytest.raises(ValueError):
        log_mel_spectrogram(np.zeros((2, 16000), dtype=np.float32))


def test_log_mel_matches_references():
    y = _real_clip() if RAVDESS.is_dir() else _speechlike(3.3)
    ours = log_mel_spectrogram(y)
    assert np.abs(ours - _librosa_log_mel(y)).max() < 1e-5
    assert np.abs(ours - _whisper_torch_log_mel(y)).max() < 1e-4
    padded = log_mel_spectrogram(y, pad_to_30s=True)
    assert np.abs(padded - _whisper_torch_log_mel(y, pad=480000 - len(y))).max() < 1e-4


def test_power_spectrogram_is_whispers_float64_stft():
    """The front end's STFT against a plain numpy transcription of Whisper's (reflect padding, periodic
    Hann, last frame dropped), in float64, to within float64 rounding."""
    from emovox.encoders.mel import power_spectrogram, sparse_mel_filters

    y = _speechlike(1.3)
    padded = np.pad(y.astype(np.float64), 200, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160][:-1]
    spec = np.fft.rfft(frames * (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(400) / 400)), axis=-1)
    ref = (spec.real**2 + spec.imag**2).T
    ours = power_spectrogram(y)
    assert ours.shape == (201, len(y) // 160) and ours.dtype == np.float64
    assert np.abs(ours - ref).max() <= 1e-12 * ref.max()
    filters = sparse_mel_filters(80)
    assert filters.dtype == np.float64 and np.array_equal(filters.toarray(), mel_filters(80))
    log_spec = np.log10(np.maximum(filters @ ref, 1e-10))
    expected = (np.maximum(log_spec, log_spec.max() - 8.0) + 4.0) / 4.0
    assert np.abs(log_mel_spectrogram(y) - expected).max() < 1e-6


def test_mel_filters_are_the_features_filterbank():
    from emovox.features.spectrum import mel_filterbank

    for n_mels in (80, 128):
        assert np.array_equal(mel_filters(n_mels), mel_filterbank(16000, 400, n_mels))
    assert not mel_filters(80).flags.writeable


# ------------------------------------------------------------------------------ checkpoint loading


def _save_checkpoint(directory: Path, state: dict, prefix: str, fmt: str = "safetensors") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(TINY))
    tensors = {prefix + k: v.detach().clone().contiguous() for k, v in state.items()}
    if fmt == "safetensors":
        from safetensors.torch import save_file

        # float16 on disk, as the shared whisper-base, plus a decoder tensor the loader must skip.
        tensors = {k: v.half() for k, v in tensors.items()}
        tensors["model.decoder.embed_tokens.weight" if prefix else "decoder.x"] = tensors[
            prefix + "conv1.bias"
        ].clone()
        save_file(tensors, str(directory / "model.safetensors"))
    else:
        import torch

        torch.save(tensors, directory / "pytorch_model.bin")
    return directory


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A random tiny Whisper encoder, saved with the ``model.encoder.`` prefix, and its ONNX export."""
    torch = pytest.importorskip("torch")
    from emovox.encoders import (
        WhisperEncoder,
        WhisperEncoderConfig,
        export_encoder_onnx,
        load_whisper_encoder,
    )

    torch.manual_seed(0)
    model = WhisperEncoder(WhisperEncoderConfig.from_dict(TINY))
    with torch.no_grad():  # weights that survive a float16 round trip exactly, so all loads agree
        for p in model.parameters():
            p.copy_((p * 2).half().float())
    root = tmp_path_factory.mktemp("tiny")
    ckpt = _save_checkpoint(root / "ckpt", model.state_dict(), "model.encoder.")
    loaded = load_whisper_encoder(ckpt)
    onnx_path = export_encoder_onnx(loaded, root / "tiny.onnx")
    return {"model": loaded, "ckpt": ckpt, "onnx": onnx_path, "root": root}


@pytest.mark.parametrize(
    ("prefix", "fmt"), [("encoder.", "safetensors"), ("", "safetensors"), ("model.encoder.", "bin")]
)
def test_load_prefixes_and_formats(tiny, tmp_path, prefix, fmt):
    ref = load_encoder_weights(tiny["ckpt"])
    assert "conv1.weight" in ref and "layers.1.fc2.bias" in ref and not any("decoder" in k for k in ref)
    other = load_encoder_weights(_save_checkpoint(tmp_path / "c", tiny["model"].state_dict(), prefix, fmt))
    assert sorted(other) == sorted(ref)
    for k in ref:
        assert other[k].dtype == np.float32
        np.testing.assert_array_equal(other[k], ref[k])


def test_load_errors(tmp_path):
    with pytest.raises(ModelError, match="config.json"):
        read_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    assert read_config(tmp_path).d_model == 64
    with pytest.raises(ModelError, match="no model.safetensors"):
        load_encoder_weights(tmp_path)
    from safetensors.numpy import save_file

    save_file({"decoder.w": np.zeros(3, np.float32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ModelError, match="no Whisper encoder tensors"):
        load_encoder_weights(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="could not read"):
        load_encoder_weights(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**TINY, "model_type": "bert"}))
    with pytest.raises(ModelError, match="model_type"):
        read_config(tmp_path)


# --------------------------------------------------------------------------------- resolve_encoder


def test_resolve_local_and_missing(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_encoder(tmp_path) == tmp_path
    assert resolve_encoder(str(tmp_path)) == tmp_path
    with pytest.raises(ModelError, match="no such checkpoint directory"):
        resolve_encoder(tmp_path / "nope")
    with pytest.raises(ModelError, match="config.json missing"):
        resolve_encoder(tmp_path.parent)


class _FakeHub:
    """Stands in for the huggingface_hub module: records calls, then fails or returns a directory."""

    def __init__(self, result):
        self.result, self.calls = result, []

    def snapshot_download(self, repo_id, **kwargs):
        self.calls.append((repo_id, kwargs))
        if isinstance(self.result, Exception):
            raise self.result
        return str(self.result)


def test_resolve_hub_id_downloads(monkeypatch, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    hub = _FakeHub(tmp_path)
    monkeypatch.setitem(sys.modules, "huggingface_hub", hub)
    assert resolve_encoder("openai/whisper-base") == tmp_path
    repo, kwargs = hub.calls[0]
    assert repo == "openai/whisper-base" and "model.safetensors" in kwargs["allow_patterns"]


def test_resolve_hub_id_offline_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", _FakeHub(OSError("cannot reach huggingface.co")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        resolve_encoder("openai/whisper-base")
    msg = str(err.value)
    assert "HF_HUB_OFFLINE" in msg and "https://huggingface.co/openai/whisper-base" in msg
    assert "config.json and model.safetensors" in msg and "pass that directory" in msg


def test_resolve_hub_id_without_huggingface_hub(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # makes the import fail
    with pytest.raises(ModelError, match="pip install huggingface_hub"):
        resolve_encoder("openai/whisper-tiny")


def test_resolve_real_hub_offline(monkeypatch, tmp_path):
    """With the real huggingface_hub (when installed), offline mode and an empty cache give the clear error."""
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelError, match="could not fetch"):
        resolve_encoder("openai/whisper-base")


# ------------------------------------------------------------------------------ tiny ONNX parity


def test_tiny_onnx_matches_torch_every_layer(tiny):
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(tiny["onnx"]), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for batch, frames in ((1, 2), (1, 64), (2, 150), (1, 200)):
        x = (rng.standard_normal((batch, 80, frames)) * 0.5).astype(np.float32)
        ours = sess.run(None, {"input_features": x})[0]
        ref = tiny["model"].hidden_states(torch.from_numpy(x)).numpy()
        assert ours.shape == ref.shape == (3, batch, frames // 2, 64)
        for layer in range(3):
            assert np.abs(ours[layer] - ref[layer]).max() < 1e-4, (frames, layer)


def test_export_runs_attention_one_head_at_a_time(tiny):
    import onnx

    from emovox.encoders.graph import split_attention_heads

    m = onnx.load(str(tiny["onnx"]))
    softmax = [n for n in m.graph.node if n.op_type == "Softmax"]
    assert len(softmax) == TINY["encoder_layers"] * TINY["encoder_attention_heads"]
    assert split_attention_heads(m, TINY["encoder_attention_heads"]) == 0  # already split: unchanged


def test_split_attention_heads_gives_the_same_numbers():
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from emovox.encoders.graph import split_attention_heads

    heads, t, d = 3, 7, 5
    vi = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
        for n, s in (("q", [1, heads, t, d]), ("k", [1, heads, d, t]), ("v", [1, heads, t, d]))
    ]
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, heads, t, d])
    nodes = [
        helper.make_node("MatMul", ["q", "k"], ["s"], name="qk"),
        helper.make_node("Softmax", ["s"], ["p"], axis=-1, name="sm"),
        helper.make_node("MatMul", ["p", "v"], ["pv"], name="pv"),
        helper.make_node("Relu", ["pv"], ["o"], name="after"),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "att", vi, [out]), opset_imports=[helper.make_opsetid("", 17)]
    )
    rng = np.random.default_rng(0)
    feeds = {
        "q": rng.standard_normal((1, heads, t, d), dtype=np.float32),
        "k": rng.standard_normal((1, heads, d, t), dtype=np.float32),
        "v": rng.standard_normal((1, heads, t, d), dtype=np.float32),
    }

    def run(m):
        return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
            None, feeds
        )[0]

    before = run(model)
    assert split_attention_heads(model, heads) == 1
    onnx.checker.check_model(model)
    assert sum(n.op_type == "Softmax" for n in model.graph.node) == heads
    np.testing.assert_array_equal(run(model), before)
    ref = np.maximum(np.einsum("bhts,bhsd->bhtd", _softmax(feeds["q"] @ feeds["k"]), feeds["v"]), 0)
    np.testing.assert_allclose(before, ref, atol=1e-5)


def test_split_encoder_bytes_rewrites_once(tmp_path):
    import json

    import onnx
    from onnx import TensorProto, helper

    from emovox.encoders.graph import split_encoder_bytes
    from emovox.encoders.runtime import METADATA_KEY

    heads = 3
    vi = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
        for n, s in (("q", [1, heads, 4, 2]), ("k", [1, heads, 2, 4]), ("v", [1, heads, 4, 2]))
    ]
    out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, heads, 4, 2])
    nodes = [
        helper.make_node("MatMul", ["q", "k"], ["s"], name="qk"),
        helper.make_node("Softmax", ["s"], ["p"], axis=-1, name="sm"),
        helper.make_node("MatMul", ["p", "v"], ["o"], name="pv"),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "att", vi, [out]), opset_imports=[helper.make_opsetid("", 17)]
    )
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps({"encoder_attention_heads": heads})
    onnx.save(model, str(tmp_path / "enc.onnx"))
    data = split_encoder_bytes(tmp_path / "enc.onnx")
    assert data is not None
    split = onnx.load_from_string(data)
    assert sum(n.op_type == "Softmax" for n in split.graph.node) == heads
    (tmp_path / "split.onnx").write_bytes(data)
    assert split_encoder_bytes(tmp_path / "split.onnx") is None  # already split: copied as it is


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_tiny_runner_short_and_long_audio(tiny):
    import torch

    enc = WhisperEncoderONNX(tiny["onnx"], threads=1)
    assert (enc.n_layers, enc.d_model, enc.n_mels, enc.max_frames) == (2, 64, 80, 200)
    y = _speechlike(1.234)
    h = enc.hidden_states(y)
    assert h.shape == (3, (len(y) // 160) // 2, 64) and h.dtype == np.float32
    mel = log_mel_spectrogram(y)[:, :122]
    ref = tiny["model"].hidden_states(torch.from_numpy(mel)[None]).numpy()[:, 0]
    assert np.abs(h - ref).max() < 1e-4
    # Longer than one window (200 frames = 2 s here): consecutive windows, outputs concatenated.
    y_long = _speechlike(5.0)
    h_long = enc.hidden_states(y_long)
    assert h_long.shape == (3, 250, 64)
    mel_long = log_mel_spectrogram(y_long)
    for i, start in enumerate(range(0, 500, 200)):
        part = enc.hidden_states_from_mel(mel_long[:, start : start + 200])
        np.testing.assert_allclose(h_long[:, i * 100 : i * 100 + part.shape[1]], part, atol=1e-6)
    with pytest.raises(AudioError, match="too short"):
        enc.hidden_states(np.zeros(300, np.float32))
    with pytest.raises(AudioError, match="1-D"):
        enc.hidden_states(np.zeros((2, 16000), np.float32))


def test_tiny_int8_quantisation(tiny):
    from emovox.encoders import quantize_encoder_onnx

    q = quantize_encoder_onnx(tiny["onnx"], tiny["root"] / "tiny.int8.onnx")
    assert q.stat().st_size < tiny["onnx"].stat().st_size
    y = _speechlike(2.0)
    h32 = WhisperEncoderONNX(tiny["onnx"]).hidden_states(y)
    h8 = WhisperEncoderONNX(q).hidden_states(y)
    assert h8.shape == h32.shape
    np.testing.assert_allclose(h8[0], h32[0], atol=1e-5)  # the convolutions stay float32
    for layer in range(1, 3):  # random weights quantise worse than trained ones: a loose check
        assert _cos(pool_mean_std(h8, [layer]), pool_mean_std(h32, [layer])) > 0.8


def test_runner_rejects_foreign_onnx(tmp_path):
    with pytest.raises(ModelError, match="no such"):
        WhisperEncoderONNX(tmp_path / "missing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot load"):
        WhisperEncoderONNX(tmp_path / "bad.onnx")


def test_runner_does_not_import_torch(tiny):
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from emovox.encoders import WhisperEncoderONNX, pool_mean_std
        enc = WhisperEncoderONNX({str(tiny["onnx"])!r})
        t = np.arange(16000) / 16000
        h = enc.hidden_states((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
        assert h.shape == (3, 50, 64), h.shape
        assert pool_mean_std(h).shape == (3 * 2 * 64,)
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_pool_mean_std():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((4, 10, 3)).astype(np.float32)
    v = pool_mean_std(h)
    assert v.shape == (4 * 2 * 3,) and v.dtype == np.float32
    np.testing.assert_allclose(v[:3], h[0].mean(0), rtol=1e-6)
    np.testing.assert_allclose(v[3:6], h[0].std(0), rtol=1e-6)
    sel = pool_mean_std(h, layers=[-1, 1])
    np.testing.assert_allclose(
        sel, np.concatenate([h[3].mean(0), h[3].std(0), h[1].mean(0), h[1].std(0)]), rtol=1e-6
    )
    np.testing.assert_allclose(pool_mean_std(h[2]), pool_mean_std(h, [2]))
    assert np.all(pool_mean_std(h[:, :1])[3:6] == 0)


# ---------------------------------------------------------------------------- real whisper-base


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    pytest.importorskip("torch")
    from emovox.encoders import export_encoder_onnx, load_whisper_encoder, quantize_encoder_onnx

    model = load_whisper_encoder(WHISPER_BASE)
    root = tmp_path_factory.mktemp("whisper_base")
    fp32 = export_encoder_onnx(model, root / "whisper-base.onnx")
    int8 = quantize_encoder_onnx(fp32, root / "whisper-base.int8.onnx")
    return {"model": model, "fp32": fp32, "int8": int8}


@needs_base
def test_base_onnx_matches_torch_every_layer(base):
    import torch

    y = _real_clip()
    h = WhisperEncoderONNX(base["fp32"]).hidden_states(y)
    mel = log_mel_spectrogram(y)
    ref = base["model"].hidden_states(torch.from_numpy(mel[:, : mel.shape[1] // 2 * 2])[None]).numpy()[:, 0]
    assert h.shape == ref.shape == (7, mel.shape[1] // 2, 512)
    for layer in range(7):
        err = np.abs(h[layer] - ref[layer]).max()
        assert err <= 2e-4 * np.abs(ref[layer]).max(), (layer, err)


@needs_base
def test_base_file_sizes_and_int8(base):
    assert 75e6 < base["fp32"].stat().st_size < 90e6  # 20.6 M float32 parameters
    assert base["int8"].stat().st_size < 30e6
    y = _real_clip()
    h32 = WhisperEncoderONNX(base["fp32"]).hidden_states(y)
    h8 = WhisperEncoderONNX(base["int8"]).hidden_states(y)
    for layer in range(7):
        assert _cos(pool_mean_std(h8, [layer]), pool_mean_std(h32, [layer])) > 0.99, layer


@needs_base
def test_base_short_clip_vs_zero_padded(base):
    """Documented behaviour: on its own frames vs zero-padded to 30 s, the embedding output (state 0)
    agrees except at the last frame; every transformer layer differs at every frame (attention sees the
    padding; measured per-frame max diff 0.12 .. 1.5), though the pooled features stay close (cosine of
    mean+std vectors 0.985 .. 0.999)."""
    import torch

    y = _real_clip()
    own = log_mel_spectrogram(y)
    own = own[:, : own.shape[1] // 2 * 2]
    n = own.shape[1] // 2
    with torch.inference_mode():
        h_own = base["model"].hidden_states(torch.from_numpy(own)[None]).numpy()[:, 0]
        padded = log_mel_spectrogram(y, pad_to_30s=True)
        h_pad = base["model"].hidden_states(torch.from_numpy(padded)[None]).numpy()[:, 0, :n]
    assert np.abs(h_own[0, : n - 1] - h_pad[0, : n - 1]).max() < 1e-5  # measured: identical
    for layer in range(1, 7):
        assert np.abs(h_own[layer] - h_pad[layer]).max(axis=-1).min() > 1e-3, layer  # every frame moved
        assert _cos(pool_mean_std(h_own, [layer]), pool_mean_std(h_pad, [layer])) > 0.95, layer  # ~0.985+


@needs_base
def test_base_matches_transformers(base):
    """Reference check against Hugging Face's WhisperEncoder (runs only where transformers is installed)."""
    import torch

    pytest.importorskip("transformers")
    from safetensors.torch import load_file
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder as HFWhisperEncoder

    hf = HFWhisperEncoder(WhisperConfig.from_pretrained(WHISPER_BASE)).eval()
    sd = {
        k.removeprefix("model.encoder."): v.float()
        for k, v in load_file(str(WHISPER_BASE / "model.safetensors")).items()
    }
    hf.load_state_dict(sd, strict=True)
    x = torch.from_numpy(log_mel_spectrogram(_real_clip(), pad_to_30s=True))[None]  # HF needs 3000 frames
    with torch.inference_mode():
        ref = hf(x, output_hidden_states=True).hidden_states
        ours = base["model"].hidden_states(x)
    assert len(ref) == ours.shape[0] == 7
    for layer in range(7):
        err = float((ours[layer] - ref[layer]).abs().max())
        assert err <= 2e-4 * float(ref[layer].abs().max()), (layer, err)
