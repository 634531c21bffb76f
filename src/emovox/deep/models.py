"""The PyTorch networks of :mod:`emovox.deep`.

Matrix models take ``x`` ``[batch, 1, frames, bins]`` and an optional ``mask`` ``[batch, frames]`` (1 on
real frames); vector models take ``x`` ``[batch, n]``. Every ``forward`` returns logits.

Masking is exact in evaluation mode: every convolution's input is zero on padded frames (the same zeros
"same" padding gives an unpadded clip), activations are re-masked after each ReLU, max-pooling uses
``ceil_mode`` on non-negative values, and pooling over time only counts real frames, so the padded
frames of a variable-length batch do not change a clip's output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _pool_mask(mask: torch.Tensor | None, k: int = 2) -> torch.Tensor | None:
    """Frame mask after a time pooling of size and stride ``k`` (ceil mode)."""
    if mask is None or k == 1:
        return mask
    return F.max_pool1d(mask.unsqueeze(1), k, k, ceil_mode=True).squeeze(1)


def _masked_mean(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the last axis of ``h`` ``[B, C, T]``, counting only frames where ``mask`` ``[B, T]`` is 1."""
    if mask is None:
        return h.mean(dim=-1)
    m = mask.unsqueeze(1)
    return (h * m).sum(dim=-1) / m.sum(dim=-1).clamp_min(1.0)


def _mm(h: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """``h`` ``[B, C, T]`` with padded frames (``m`` ``[B, T]`` is 0) set to zero."""
    return h if m is None else h * m.unsqueeze(1)


def _masked_input(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` ``[B, 1, T, bins]`` with padded frames set to zero, whatever they held."""
    return x if mask is None else x * mask[:, None, :, None]


def _xavier(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class CNN1D(nn.Module):
    """The deep tutorial's 1-D CNN: conv 8, 16, 32 (kernel 5, stride 1, same padding, ReLU), max-pool 2 after
    the second and third, dropout, dense 128, output layer; Xavier initialisation.

    ``mode="vector"`` convolves along a feature vector ``[B, n]`` (the tutorial's 50 mean MFCCs) and flattens;
    ``mode="frames"`` convolves along time with the bins as input channels and averages the real frames.
    """

    def __init__(
        self, n_features: int, n_classes: int, mode: str = "vector", dropout: float = 0.3, hidden: int = 128
    ):
        super().__init__()
        self.mode = mode
        in_ch = 1 if mode == "vector" else n_features
        self.c1 = nn.Conv1d(in_ch, 8, 5, padding=2)
        self.c2 = nn.Conv1d(8, 16, 5, padding=2)
        self.c3 = nn.Conv1d(16, 32, 5, padding=2)
        self.pool = nn.MaxPool1d(2, ceil_mode=True)
        self.drop = nn.Dropout(dropout)
        flat = 32 * math.ceil(math.ceil(n_features / 2) / 2) if mode == "vector" else 32
        self.fc = nn.Linear(flat, hidden)
        self.out = nn.Linear(hidden, n_classes)
        _xavier(self)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of a batch of vectors, or of frame matrices (padded frames masked out).

        Parameters
        ----------
        x : torch.Tensor
            ``[B, n]`` (``mode="vector"``) or ``[B, 1, T, bins]`` (``mode="frames"``).
        mask : torch.Tensor, optional
            ``[B, T]``, 1 on real frames (default None: every frame is real); ignored in vector mode.

        Returns
        -------
        torch.Tensor
            Logits ``[B, n_classes]``.
        """
        if self.mode == "vector":
            h, m = x.unsqueeze(1), None
        else:
            h, m = _masked_input(x, mask)[:, 0].transpose(1, 2), mask  # [B, bins, T]
        h = _mm(F.relu(self.c1(h)), m)
        h = self.pool(_mm(F.relu(self.c2(h)), m))
        m = _pool_mask(m)
        h = self.pool(_mm(F.relu(self.c3(h)), m))
        m = _pool_mask(m)
        h = self.drop(h)
        h = h.flatten(1) if self.mode == "vector" else _masked_mean(h, m)
        return self.out(self.drop(F.relu(self.fc(h))))


class CNN1DTutorial(nn.Module):
    """The 162-feature tutorial's 1-D CNN (Keras original): conv 256, 256, 128, 64 (kernel 5, same, ReLU),
    each followed by max-pooling 5 / stride 2 (same); dropout 0.2 after the third; dense 32, dropout 0.3."""

    def __init__(self, n_features: int, n_classes: int):
        super().__init__()
        chans = [1, 256, 256, 128, 64]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, 5, padding=2) for a, b in zip(chans[:-1], chans[1:], strict=True)
        )
        self.pool = nn.MaxPool1d(5, 2, padding=2)
        self.drop1, self.drop2 = nn.Dropout(0.2), nn.Dropout(0.3)
        n = n_features
        for _ in range(4):
            n = math.ceil(n / 2)
        self.fc = nn.Linear(64 * n, 32)
        self.out = nn.Linear(32, n_classes)
        _xavier(self)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of a batch of feature vectors.

        Parameters
        ----------
        x : torch.Tensor
            Feature vectors ``[B, n_features]``.
        mask : torch.Tensor, optional
            Not used (vectors have no padded frames; default None).

        Returns
        -------
        torch.Tensor
            Logits ``[B, n_classes]``.
        """
        h = x.unsqueeze(1)
        for i, conv in enumerate(self.convs):
            h = self.pool(F.relu(conv(h)))
            if i == 2:
                h = self.drop1(h)
        return self.out(self.drop2(F.relu(self.fc(h.flatten(1)))))


class _Block2d(nn.Module):
    """conv 3x3 - BN - ReLU (- conv 3x3 - BN + 1x1 shortcut - ReLU when residual), masked, then pooled."""

    def __init__(self, cin: int, cout: int, pool: tuple[int, int] = (2, 2), residual: bool = False):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        if residual:
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.pool = nn.MaxPool2d(pool, pool, ceil_mode=True) if pool != (1, 1) else nn.Identity()
        self.t_pool = pool[0]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None):
        m = None if mask is None else mask[:, None, :, None]
        h = F.relu(self.bn1(self.conv1(x)))
        if m is not None:
            h = h * m
        if self.residual:
            h = F.relu(self.bn2(self.conv2(h)) + self.short(x))
            if m is not None:
                h = h * m
        return self.pool(h), _pool_mask(mask, self.t_pool)


class CNN2D(nn.Module):
    """2-D CNN on spectrogram images: three conv blocks (16, 32, 64 channels, BN, ReLU, 2x2 max-pool),
    average over frequency and real frames, dropout, one linear classifier."""

    def __init__(
        self, n_features: int, n_classes: int, channels: tuple[int, ...] = (16, 32, 64), dropout: float = 0.3
    ):
        super().__init__()
        chans = [1, *channels]
        self.blocks = nn.ModuleList(_Block2d(a, b) for a, b in zip(chans[:-1], chans[1:], strict=True))
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(chans[-1], n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of a batch of frame matrices (padded frames masked out).

        Parameters
        ----------
        x : torch.Tensor
            Frame matrices ``[B, 1, T, bins]``.
        mask : torch.Tensor, optional
            ``[B, T]``, 1 on real frames (default None: every frame is real).

        Returns
        -------
        torch.Tensor
            Logits ``[B, n_classes]``.
        """
        h, m = _masked_input(x, mask), mask
        for b in self.blocks:
            h, m = b(h, m)
        h = h.mean(dim=3)  # over frequency: [B, C, T]
        return self.out(self.drop(_masked_mean(h, m)))


class _TBlock(nn.Module):
    """Residual temporal block: dilated conv1d (kernel 3) - BN - ReLU, twice, plus the input; masked."""

    def __init__(self, d: int, dilation: int):
        super().__init__()
        self.c1 = nn.Conv1d(d, d, 3, padding=dilation, dilation=dilation, bias=False)
        self.b1 = nn.BatchNorm1d(d)
        self.c2 = nn.Conv1d(d, d, 3, padding=dilation, dilation=dilation, bias=False)
        self.b2 = nn.BatchNorm1d(d)

    def forward(self, x: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
        h = _mm(F.relu(self.b1(self.c1(x))), m)
        return _mm(F.relu(self.b2(self.c2(h)) + x), m)


class ResCNN(nn.Module):
    """Compact residual CNN with attentive statistics pooling over time, sized for CPU training.

    Two 2-D conv blocks (BN, ReLU, max-pooling) read local spectro-temporal patterns of the log-mel image
    and reduce it 4x in time and 8x in frequency; a 1x1 projection turns channels x bins into ``d``-dim frame
    embeddings; residual dilated 1-D conv blocks widen the temporal context (about 0.5 s); an attention
    layer weights the real frames, whose weighted mean and standard deviation feed a two-layer classifier.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        channels: tuple[int, int] = (8, 32),
        d: int = 128,
        dilations: tuple[int, ...] = (1, 2, 3),
        dropout: float = 0.3,
    ):
        super().__init__()
        c1, c2 = channels
        self.blocks = nn.ModuleList([_Block2d(1, c1, (2, 4)), _Block2d(c1, c2, (2, 2))])
        n_bins = math.ceil(math.ceil(n_features / 4) / 2)
        self.proj = nn.Sequential(nn.Conv1d(c2 * n_bins, d, 1, bias=False), nn.BatchNorm1d(d))
        self.tblocks = nn.ModuleList(_TBlock(d, k) for k in dilations)
        self.att = nn.Sequential(nn.Linear(d, 64), nn.Tanh(), nn.Linear(64, 1))
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(2 * d, d), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d, n_classes)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of a batch of frame matrices (padded frames masked out, also in the attentive pooling).

        Parameters
        ----------
        x : torch.Tensor
            Frame matrices ``[B, 1, T, bins]``.
        mask : torch.Tensor, optional
            ``[B, T]``, 1 on real frames (default None: every frame is real).

        Returns
        -------
        torch.Tensor
            Logits ``[B, n_classes]``.
        """
        h, m = _masked_input(x, mask), mask
        for b in self.blocks:
            h, m = b(h, m)
        B, C, T, Fb = h.shape
        h = F.relu(self.proj(h.permute(0, 1, 3, 2).reshape(B, C * Fb, T)))  # [B, d, T]
        if m is not None:
            h = h * m.unsqueeze(1)
        for b in self.tblocks:
            h = b(h, m)
        h = h.transpose(1, 2)  # [B, T, d]
        e = self.att(h).squeeze(-1)
        if m is not None:
            e = e.masked_fill(m <= 0, -1e4)
        a = torch.softmax(e, dim=1).unsqueeze(-1)
        mean = (a * h).sum(dim=1)
        std = torch.sqrt((a * (h - mean.unsqueeze(1)) ** 2).sum(dim=1).clamp_min(1e-6))
        return self.head(torch.cat([mean, std], dim=-1))


ARCHS = {"cnn1d": CNN1D, "cnn1d_tutorial": CNN1DTutorial, "cnn2d": CNN2D, "rescnn": ResCNN}


def build_model(arch: str, n_features: int, n_classes: int, **params) -> nn.Module:
    """Instantiate the architecture ``arch`` (a key of :data:`ARCHS`).

    Parameters
    ----------
    arch : str
        ``cnn1d``, ``cnn1d_tutorial``, ``cnn2d`` or ``rescnn`` (another name raises :class:`~emovox.errors.ParameterError`).
    n_features : int
        Size of one input frame, or of the input vector.
    n_classes : int
        Number of emotions (outputs).
    **params
        The architecture's own keyword arguments.

    Returns
    -------
    torch.nn.Module
        The untrained network, giving logits ``[B, n_classes]``.

    Examples
    --------
    >>> type(build_model("rescnn", 64, 4)).__name__
    'ResCNN'
    """
    if arch not in ARCHS:
        from ..errors import ParameterError

        raise ParameterError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHS)}")
    return ARCHS[arch](n_features, n_classes, **params)


class Probabilities(nn.Module):
    """The exported graph: one input in, softmax probabilities out (no mask: a single clip)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's softmax probabilities.

        Parameters
        ----------
        x : torch.Tensor
            The network's input (a batch holding one clip, no mask).

        Returns
        -------
        torch.Tensor
            Softmax probabilities ``[B, n_classes]``.
        """
        return torch.softmax(self.net(x), dim=-1)
