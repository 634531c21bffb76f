"""A learned head over every layer of a frozen speech encoder (trained in torch, served as ONNX).

``AttentiveHead``: a softmax-weighted sum of the encoder's layers (the middle layers carry the most
emotion, and the weights learn which), a small projection, attentive statistics pooling over time
(weighted mean and standard deviation, so emphatic frames count more than pauses), and a two-layer
classifier. Training sees variable-length clips with masks, random crops and time masking of frames,
and mixup between utterances, aimed at robustness to unseen speakers rather than memorising the
training voices.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass
class HeadConfig:
    n_layers: int = 7
    d_model: int = 512
    n_classes: int = 7
    hidden: int = 256
    dropout: float = 0.3
    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    crop_frames: int = 200        # random crops of at most 4 s during training
    time_mask: float = 0.15       # fraction of frames masked per clip
    mixup: float = 0.2            # Beta(a, a) mixup; 0 disables
    seed: int = 0


class AttentiveHead(nn.Module):
    def __init__(self, cfg: HeadConfig):
        super().__init__()
        self.cfg = cfg
        self.layer_logits = nn.Parameter(torch.zeros(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.proj = nn.Sequential(nn.Linear(cfg.d_model, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout))
        self.att = nn.Sequential(nn.Linear(cfg.hidden, 128), nn.Tanh(), nn.Linear(128, 1))
        self.classifier = nn.Sequential(
            nn.Linear(2 * cfg.hidden, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.n_classes))

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from hidden states ``[B, L, T, D]``; ``mask`` ``[B, T]`` is 1 on real frames."""
        w = torch.softmax(self.layer_logits, dim=0)
        x = torch.einsum("l,bltd->btd", w, h)
        x = self.proj(self.norm(x))
        e = self.att(x).squeeze(-1)
        if mask is not None:
            e = e.masked_fill(mask <= 0, -1e4)
        a = torch.softmax(e, dim=1).unsqueeze(-1)
        mean = (a * x).sum(dim=1)
        var = (a * (x - mean.unsqueeze(1)) ** 2).sum(dim=1)
        std = torch.sqrt(var.clamp_min(1e-6))
        return self.classifier(torch.cat([mean, std], dim=-1))


class _Probs(nn.Module):
    """The exported graph: hidden states of one clip in, probabilities out."""

    def __init__(self, head: AttentiveHead):
        super().__init__()
        self.head = head

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(h), dim=-1)


def _batch(items: list[np.ndarray], crop: int | None, rng: np.random.Generator):
    lens = []
    cut = []
    for h in items:
        t = h.shape[1]
        if crop and t > crop:
            s = int(rng.integers(0, t - crop + 1))
            h = h[:, s : s + crop]
        cut.append(h)
        lens.append(h.shape[1])
    T = max(lens)
    L, D = cut[0].shape[0], cut[0].shape[2]
    out = np.zeros((len(cut), L, T, D), dtype=np.float32)
    mask = np.zeros((len(cut), T), dtype=np.float32)
    for i, h in enumerate(cut):
        out[i, :, : h.shape[1]] = h
        mask[i, : h.shape[1]] = 1
    return torch.from_numpy(out), torch.from_numpy(mask)


def train_head(states: list[np.ndarray], y: np.ndarray, cfg: HeadConfig, progress: bool = True) -> AttentiveHead:
    """Train an :class:`AttentiveHead` on per-utterance hidden states ``[L, T, D]`` and integer labels."""
    from tqdm import tqdm

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = AttentiveHead(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(states) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    # balanced class weights: corpora are not balanced (RAVDESS has half as many neutral clips)
    counts = np.bincount(y, minlength=cfg.n_classes).astype(np.float64)
    weight = torch.tensor(len(y) / (cfg.n_classes * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
    bar = tqdm(range(cfg.epochs), desc="train head", unit="epoch", disable=not progress, leave=False)
    for _ in bar:
        model.train()
        order = rng.permutation(len(states))
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            h, mask = _batch([states[j] for j in idx], cfg.crop_frames, rng)
            if cfg.time_mask > 0:
                drop = torch.from_numpy(rng.random(mask.shape) < cfg.time_mask).float()
                keep = mask * (1 - drop)
                mask = torch.where(keep.sum(1, keepdim=True) > 0, keep, mask)
            target = torch.nn.functional.one_hot(torch.from_numpy(y[idx]), cfg.n_classes).float()
            if cfg.mixup > 0 and len(idx) > 1:
                lam = float(rng.beta(cfg.mixup, cfg.mixup))
                perm = torch.randperm(len(idx))
                T = h.shape[2]
                h = lam * h + (1 - lam) * h[perm]
                mask = torch.clamp(mask + mask[perm], max=1.0)[:, :T]
                target = lam * target + (1 - lam) * target[perm]
            logits = model(h, mask)
            logp = torch.log_softmax(logits, dim=-1)
            loss = -(target * logp * weight).sum(dim=-1).mean() if cfg.mixup > 0 else loss_fn(logits, target.argmax(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        bar.set_postfix(loss=f"{total / len(states):.3f}")
    model.eval()
    return model


@torch.no_grad()
def predict_head(model: AttentiveHead, states: list[np.ndarray], batch: int = 32) -> np.ndarray:
    model.eval()
    out = []
    rng = np.random.default_rng(0)
    for i in range(0, len(states), batch):
        h, mask = _batch(states[i : i + batch], None, rng)
        out.append(torch.softmax(model(h, mask), dim=-1).numpy())
    return np.concatenate(out)


def export_head(model: AttentiveHead, path: str | Path) -> Path:
    """ONNX graph ``hidden_states [1, L, T, D] -> probabilities [1, n_classes]``, dynamic T."""
    path = Path(path)
    cfg = model.cfg
    dummy = torch.randn(1, cfg.n_layers, 50, cfg.d_model)
    torch.onnx.export(_Probs(model).eval(), (dummy,), str(path), input_names=["hidden_states"],
                      output_names=["probabilities"], dynamic_axes={"hidden_states": {0: "batch", 2: "frames"}},
                      opset_version=17, dynamo=False)
    return path


def config_dict(cfg: HeadConfig) -> dict:
    return asdict(cfg)
