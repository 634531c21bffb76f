"""Deep models on spectro-temporal input: trained in PyTorch, served as ONNX without torch.

Modules
-------
:mod:`~emovox.deep.frames`
    Log-mel / MFCC frame matrices and utterance vectors in numpy, the ``"frames"`` front end, the cache.
:mod:`~emovox.deep.recipes`
    The named models (``cnn1d``, ``cnn1d-frames``, ``cnn1d-tutorial``, ``cnn2d``, ``rescnn``).
:mod:`~emovox.deep.models`
    The PyTorch networks (imports torch).
:mod:`~emovox.deep.train`
    Training with a speaker-disjoint validation split, cross-validation, ONNX export, model directories
    (imports torch).

Importing this package does not import torch, so the inference path stays torch-free.
"""

from __future__ import annotations

from .frames import FrameConfig, FrameExtractor
from .recipes import RECIPES, Recipe, TrainConfig, get_recipe

#: What a checkpoint folder holds (:func:`emovox.deep.train.fit`, ``emovox train --checkpoints``).
CHECKPOINT_FILES = ("best.safetensors", "last.safetensors", "history.json")

#: ``--model`` names the CLI routes to deep training.
DEEP_MODELS: frozenset[str] = frozenset(RECIPES)

__all__ = ["DEEP_MODELS", "RECIPES", "FrameConfig", "FrameExtractor", "Recipe", "TrainConfig", "get_recipe"]
