"""Named deep-model recipes: front end, architecture, training settings (no torch imported here)."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..augment import TUTORIAL_AUGMENT, WaveAugment
from ..errors import ModelError, ParameterError
from .frames import FrameConfig


@dataclass
class TrainConfig:
    """Optimisation, validation and augmentation settings of one training run.

    ``patience`` epochs without a better validation UA stop training (the best epoch's weights are
    kept); the learning rate is multiplied by ``lr_factor`` after ``lr_patience`` epochs without a lower
    validation loss. The validation set is ``val_fraction`` of the *training speakers* (at least one).
    ``copies`` augmented versions per training clip (``WaveAugment``, cached) are drawn with probability
    ``p_copy`` in each epoch instead of the clean clip; ``spec_augment`` (keyword arguments of
    :func:`emovox.augment.spec_augment`) and ``mixup`` (Beta alpha, 0 = off) act on each batch.
    ``max_seconds`` stops training early when the time budget is spent. ``threads`` is torch's intra-op
    thread count (1 is fastest on a shared 2-core machine: more threads oversubscribe it).
    """

    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 1e-3
    patience: int = 10
    lr_patience: int = 3
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    val_fraction: float = 0.15
    crop_frames: int | None = None
    copies: int = 0
    p_copy: float = 0.5
    spec_augment: dict[str, Any] | None = None
    mixup: float = 0.0
    label_smoothing: float = 0.0
    class_weights: bool = True
    seed: int = 0
    threads: int = 1
    max_seconds: float | None = None


@dataclass
class Recipe:
    """Everything ``emovox train --model NAME`` needs for a deep model."""

    name: str
    frontend: FrameConfig
    arch: str
    arch_params: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: WaveAugment | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arch": self.arch,
            "arch_params": self.arch_params,
            "train": asdict(self.train),
            "augment": self.augment.to_dict() if self.augment else None,
            "description": self.description,
        }


_SPEC = {"n_freq_masks": 2, "max_freq_width": 8, "n_time_masks": 2, "max_time_width": 20}

RECIPES: dict[str, Recipe] = {
    "cnn1d": Recipe(
        "cnn1d",
        FrameConfig(
            "mfcc",
            sample_rate=22050,
            n_fft=512,
            win_length=None,
            hop_length=256,
            n_mels=128,
            n_mfcc=50,
            trim_db=None,
            pool="mean",
            norm="global",
        ),
        "cnn1d",
        {"mode": "vector"},
        TrainConfig(
            epochs=300,
            batch_size=16,
            lr=1e-4,
            optimizer="adam",
            weight_decay=0.0,
            patience=40,
            lr_patience=10,
        ),
        description="1-D CNN tutorial: 3 conv layers (8/16/32, k5) over the 50 mean MFCCs, dense 128, "
        "Adam 1e-4, Xavier init",
    ),
    "cnn1d-frames": Recipe(
        "cnn1d-frames",
        FrameConfig(
            "mfcc",
            sample_rate=22050,
            n_fft=512,
            win_length=None,
            hop_length=256,
            n_mels=128,
            n_mfcc=50,
            trim_db=30.0,
            norm="global",
        ),
        "cnn1d",
        {"mode": "frames"},
        TrainConfig(
            epochs=100,
            batch_size=16,
            lr=1e-3,
            optimizer="adam",
            weight_decay=0.0,
            patience=15,
            crop_frames=192,
            spec_augment=_SPEC,
        ),
        description="the tutorial's 1-D CNN over the MFCC frame sequence (50 MFCCs as channels), masked mean "
        "pooling over time",
    ),
    "cnn1d-tutorial": Recipe(
        "cnn1d-tutorial",
        FrameConfig(
            "tutorial5",
            sample_rate=22050,
            n_fft=2048,
            win_length=None,
            hop_length=512,
            n_mels=128,
            trim_db=None,
            offset=0.6,
            duration=2.5,
            norm="global",
        ),
        "cnn1d_tutorial",
        {},
        TrainConfig(
            epochs=50,
            batch_size=64,
            lr=1e-3,
            optimizer="adam",
            weight_decay=0.0,
            patience=12,
            lr_patience=2,
            lr_factor=0.4,
            copies=2,
            p_copy=2 / 3,
        ),
        augment=TUTORIAL_AUGMENT,
        description="the other tutorial: ZCR, chroma, MFCC, RMS, mel means (162) into a 4-layer 1-D CNN, "
        "with noise / stretch / pitch / shift augmentation",
    ),
    "cnn2d": Recipe(
        "cnn2d",
        FrameConfig("logmel"),
        "cnn2d",
        {},
        TrainConfig(epochs=40, crop_frames=256, spec_augment=_SPEC, patience=10),
        description="2-D CNN (3 conv blocks 16/32/64) on 64-bin log-mel images, linear classifier",
    ),
    "rescnn": Recipe(
        "rescnn",
        FrameConfig("logmel"),
        "rescnn",
        {"channels": (8, 32)},
        TrainConfig(
            epochs=100,
            crop_frames=160,
            spec_augment=_SPEC,
            mixup=0.2,
            copies=2,
            p_copy=0.5,
            label_smoothing=0.05,
            patience=20,
            lr=2e-3,
            weight_decay=1e-2,
            max_seconds=540,
        ),
        augment=WaveAugment(),
        description="residual CNN on 64-bin log-mels with attentive statistics pooling over time; "
        "SpecAugment, mixup, noise / speed / pitch / shift copies",
    ),
}


def get_recipe(name: str, **overrides: Any) -> Recipe:
    """A copy of the named recipe; ``overrides`` replace :class:`TrainConfig` fields.

    Parameters
    ----------
    name : str
        A deep model of :data:`RECIPES`.
    **overrides
        :class:`TrainConfig` fields and their values.

    Returns
    -------
    Recipe
        A deep copy: changing it leaves :data:`RECIPES` as it was.

    Raises
    ------
    ModelError
        For an unknown model name.
    ParameterError
        For an override that is not a :class:`TrainConfig` field.
    """
    if name not in RECIPES:
        raise ModelError(f"unknown deep model {name!r} (choose from {', '.join(RECIPES)})")
    r = copy.deepcopy(RECIPES[name])
    for k, v in overrides.items():
        if not hasattr(r.train, k):
            raise ParameterError(
                f"TrainConfig has no field {k!r}; it has {sorted(f.name for f in fields(TrainConfig))}"
            )
        setattr(r.train, k, v)
    return r
