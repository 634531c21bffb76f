"""Training, cross-validation, ONNX export and model directories of the deep models (imports torch).

>>> from emovox.corpora import shared_corpus                                   # doctest: +SKIP
>>> ev = evaluate_deep(shared_corpus("ravdess"), "rescnn", "emobox")           # doctest: +SKIP
>>> train_deep(shared_corpus("ravdess"), "rescnn", "models/rescnn")            # doctest: +SKIP
"""

from __future__ import annotations

import copy
import io
import json
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..augment import spec_augment
from ..errors import CorpusError, ParameterError
from ..paths import replacing
from . import CHECKPOINT_FILES
from .frames import FrameConfig, FrameTable, fix_frames, frame_table, global_stats, normalize
from .models import Probabilities, build_model
from .recipes import Recipe, get_recipe

BEST, LAST, HISTORY = CHECKPOINT_FILES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..evaluation import Evaluation

logger = logging.getLogger(__name__)


@dataclass
class DeepResult:
    """A trained network with its front end (normalisation statistics filled in) and its training record."""

    model: nn.Module
    recipe: Recipe
    frontend: FrameConfig
    labels: list[str]
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    seconds: float = 0.0
    val_scores: dict[str, Any] | None = None
    val_speakers: list[str] = field(default_factory=list)
    #: set by :func:`fit_deep`: the training rows, the checkpoints, the feature cache for new files
    manifest: Any = field(default=None, repr=False)
    checkpoint_dir: str | None = None
    cache_dir: str | Path | None = None

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean(self.history["seconds"])) if self.history.get("seconds") else 0.0

    def summary(self) -> dict[str, Any]:
        h = self.history
        return {
            "epochs": len(h.get("loss", [])),
            "best_epoch": self.best_epoch,
            "seconds": round(self.seconds, 1),
            "seconds_per_epoch": round(self.seconds_per_epoch, 2),
            "val_speakers": self.val_speakers,
            "n_parameters": int(sum(p.numel() for p in self.model.parameters())),
            "val_ua": self.val_scores["ua"] if self.val_scores else None,
            "val_accuracy": self.val_scores["accuracy"] if self.val_scores else None,
        }

    def predict_proba(self, inputs: Any) -> np.ndarray:
        """Class probabilities, one row per input, columns in :attr:`labels` order.

        Parameters
        ----------
        inputs
            Audio files (a path, a list of paths, a manifest with a ``path`` column), whose frames the
            recipe's front end computes, or unnormalised features already (as a :class:`FrameTable`'s ``X``:
            a list of them, or one: a vector, or a ``(frames, bins)`` matrix).

        Returns
        -------
        numpy.ndarray
            ``(n_inputs, n_labels)``, rows summing to 1 (``(0, n_labels)`` for no inputs).
        """
        import pandas as pd

        from ..tables import input_paths, require_every_file

        paths = input_paths(inputs)
        if paths is None:
            # one input's features are one row, not one per feature (a vector) or per frame (a matrix)
            one = 1 if self.frontend.is_vector else 2
            single = isinstance(inputs, np.ndarray) and inputs.dtype != object and inputs.ndim == one
            items = [inputs] if single else list(inputs)
        else:
            table = frame_table(
                pd.DataFrame({"path": paths}), self.recipe.frontend, cache_dir=self.cache_dir, progress=False
            )
            require_every_file(table.failures, len(paths))
            items = table.X
        if not len(items):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return predict_proba(self.model, _prepare(items, self.frontend), self.frontend.is_vector)

    def save(
        self, output: str | Path, *, evaluation: Evaluation | None = None, extra: dict | None = None
    ) -> Path:
        """Write the model directory (:func:`save_deep_model`, with the training rows of :func:`fit_deep`).

        Parameters
        ----------
        output : str or Path
            The model directory.
        evaluation : Evaluation, optional
            The cross-validation the model was trained after (metadata, ``evaluation.json``, confusion).
        extra : dict, optional
            More metadata (the recipe's name and the checkpoints are recorded already).

        Returns
        -------
        pathlib.Path
            The model directory.
        """
        recorded = {"recipe": self.recipe.name}
        if self.checkpoint_dir:
            recorded["checkpoints"] = self.checkpoint_dir
        return save_deep_model(self, output, self.manifest, evaluation, extra={**recorded, **(extra or {})})


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (training is then deterministic on one machine and thread count).

    Parameters
    ----------
    seed : int
        The seed (numpy gets it modulo 2**32).
    """
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def speaker_val_split(
    speakers: np.ndarray, fraction: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of (training, validation) rows: ``fraction`` of the speakers (at least one) validate.

    With a single speaker the split falls back to 15 % of the utterances at random.

    Parameters
    ----------
    speakers : numpy.ndarray
        The speaker of each row.
    fraction : float
        Share of the speakers that validate (default 0.15; rounded, at least one and all but one). Not used
        with a single speaker.
    seed : int
        Random state of the choice (default 0).

    Returns
    -------
    tuple of numpy.ndarray
        Sorted positions of the training rows and of the validation rows.

    Examples
    --------
    >>> train, val = speaker_val_split(np.array(["a", "a", "b", "b", "c", "c"]), 0.3)
    >>> len(train), len(val), len(set(np.array(list("aabbcc"))[val]))
    (4, 2, 1)
    """
    speakers = np.asarray(speakers).astype(str)
    uniq = np.array(sorted(set(speakers)))
    rng = np.random.default_rng(seed)
    if len(uniq) < 2:
        idx = rng.permutation(len(speakers))
        n_val = max(1, int(round(0.15 * len(idx))))
        return np.sort(idx[n_val:]), np.sort(idx[:n_val])
    n_val = min(len(uniq) - 1, max(1, int(round(fraction * len(uniq)))))
    val_spk = set(rng.choice(uniq, n_val, replace=False))
    is_val = np.isin(speakers, list(val_spk))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def make_batch(items: list[np.ndarray], vector: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Stack vectors, or zero-pad ``(frames, bins)`` matrices to ``[B, 1, T, bins]`` with a ``[B, T]`` mask.

    Parameters
    ----------
    items : list of numpy.ndarray
        Vectors of one length, or ``(frames, bins)`` matrices of one ``bins``.
    vector : bool
        Whether ``items`` are vectors.

    Returns
    -------
    tuple
        The batch tensor (``[B, n]`` or ``[B, 1, T, bins]``, ``T`` the longest item) and the float mask
        ``[B, T]`` (1 on real frames; None for vectors).

    Examples
    --------
    >>> x, mask = make_batch([np.ones((3, 2)), np.ones((1, 2))], vector=False)
    >>> tuple(x.shape), mask.tolist()
    ((2, 1, 3, 2), [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    >>> x, mask = make_batch([np.ones(4), np.zeros(4)], vector=True)
    >>> tuple(x.shape), mask
    ((2, 4), None)
    """
    if vector:
        return torch.from_numpy(np.stack(items).astype(np.float32)), None
    T = max(x.shape[0] for x in items)
    out = np.zeros((len(items), 1, T, items[0].shape[1]), dtype=np.float32)
    mask = np.zeros((len(items), T), dtype=np.float32)
    for i, x in enumerate(items):
        out[i, 0, : x.shape[0]] = x
        mask[i, : x.shape[0]] = 1
    return torch.from_numpy(out), torch.from_numpy(mask)


def _crop(x: np.ndarray, n: int | None, rng: np.random.Generator) -> np.ndarray:
    if n is None or x.ndim != 2 or x.shape[0] <= n:
        return x
    s = int(rng.integers(0, x.shape[0] - n + 1))
    return x[s : s + n]


@torch.no_grad()
def predict_proba(
    model: nn.Module, items: list[np.ndarray], vector: bool, batch_size: int = 32
) -> np.ndarray:
    """Probabilities for normalised inputs, in batches of similar length (masks make padding harmless).

    Parameters
    ----------
    model : torch.nn.Module
        The network (put in evaluation mode here).
    items : list of numpy.ndarray
        Normalised inputs: vectors, or ``(frames, bins)`` matrices.
    vector : bool
        Whether ``items`` are vectors.
    batch_size : int
        Items per forward pass (default 32).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(items), n_classes)``, in the order of ``items``; ``(0, 0)`` for no items.

    Examples
    --------
    >>> net = build_model("cnn1d", 40, 3)
    >>> p = predict_proba(net, [np.zeros(40, np.float32), np.ones(40, np.float32)], vector=True)
    >>> p.shape, p.sum(axis=1).round(3).tolist()
    ((2, 3), [1.0, 1.0])
    """
    model.eval()
    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    order = np.argsort([x.shape[0] for x in items]) if not vector else np.arange(len(items))
    out: list[np.ndarray] = [None] * len(items)  # type: ignore[list-item]
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        x, mask = make_batch([items[j] for j in idx], vector)
        p = torch.softmax(model(x, mask), dim=-1).numpy()
        for k, j in enumerate(idx):
            out[j] = p[k]
    return np.stack(out)


def _prepare(items: list[np.ndarray], cfg: FrameConfig) -> list[np.ndarray]:
    return [fix_frames(normalize(x, cfg), cfg.max_frames) for x in items]


def _checkpoint(state: dict, path, epoch: int) -> None:
    """Weights as safetensors (no pickle, so nothing runs when a checkpoint is read back), whole or not at
    all, with the permissions of any other file written (:func:`emovox.paths.replacing`)."""
    from safetensors.torch import save_file

    with replacing(path) as tmp:
        save_file(
            {k: v.detach().contiguous() for k, v in state.items()}, str(tmp), metadata={"epoch": str(epoch)}
        )


def fit(
    X: list[np.ndarray],
    y: np.ndarray,
    speakers: np.ndarray,
    recipe: Recipe | str,
    *,
    labels: list[str] | None = None,
    copies: list[list[np.ndarray]] | None = None,
    progress: bool = False,
    log: bool = False,
    checkpoint_dir: str | Path | None = None,
) -> DeepResult:
    """Train the recipe's network on unnormalised features ``X`` with string labels ``y``.

    A validation set of whole training speakers drives early stopping (best validation UA) and the
    learning-rate schedule (validation loss); the best epoch's weights are returned. ``copies[i]`` are
    augmented versions of ``X[i]``. ``log`` also logs one line per epoch at INFO level on the
    ``emovox.deep.train`` logger (for log files).

    Parameters
    ----------
    X : list of numpy.ndarray
        Unnormalised features of each row (:func:`emovox.deep.frames.raw_features`).
    y : numpy.ndarray
        The emotion of each row.
    speakers : numpy.ndarray
        The speaker of each row (validation holds out whole speakers).
    recipe : Recipe or str
        A deep recipe, or its name.
    labels : list of str, optional
        Output order (default None: :func:`emovox.labels.label_order` of ``y``).
    copies : list of list of numpy.ndarray, optional
        Augmented versions of each row (default None).
    progress : bool
        Show a progress bar over epochs (default False).
    log : bool
        Log one line per epoch (default False).
    checkpoint_dir : str or Path, optional
        Where the best and last weights and the history are written after each epoch (default None: nowhere).

    Returns
    -------
    DeepResult
        The best epoch's network, the front end with its normalisation, the history and the validation scores.
    """
    from tqdm import tqdm

    from ..evaluation import scores
    from ..labels import label_order

    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    tc = recipe.train
    torch.set_num_threads(max(1, tc.threads))
    seed_everything(tc.seed)
    rng = np.random.default_rng(tc.seed)
    y = np.asarray(y).astype(str)
    labels = labels or label_order(y)
    if len(set(y)) < 2:
        raise CorpusError(f"need at least two emotions to train, got {sorted(set(y))}")
    widths = sorted({int(np.shape(x)[-1]) for x in X if np.ndim(x)} - {recipe.frontend.n_features})
    if widths:  # else a shape error deep inside torch, naming neither side
        raise ParameterError(
            f"recipe {recipe.name} takes {recipe.frontend.n_features} features per "
            f"{'recording' if recipe.frontend.is_vector else 'frame'} (its front end's), got {widths[0]}; "
            "compute them with emovox.deep.frames.raw_features and the recipe's front end"
        )
    yi = np.array([labels.index(v) for v in y])
    tr, va = speaker_val_split(np.asarray(speakers), tc.val_fraction, tc.seed)
    cfg = copy.deepcopy(recipe.frontend)
    if cfg.norm == "global":
        mean, std = global_stats([X[i] for i in tr])
        cfg.mean, cfg.std = mean.tolist(), std.tolist()
    Xn = _prepare(X, cfg)
    Cn = [_prepare(c, cfg) for c in copies] if copies and tc.copies else None
    vector = cfg.is_vector
    n_classes = len(labels)
    model = build_model(recipe.arch, cfg.n_features, n_classes, **recipe.arch_params)
    if tc.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, "min", factor=tc.lr_factor, patience=tc.lr_patience, min_lr=tc.min_lr
    )
    counts = np.bincount(yi[tr], minlength=n_classes).astype(np.float64)
    weight = (
        torch.tensor(len(tr) / (n_classes * np.maximum(counts, 1)), dtype=torch.float32)
        if tc.class_weights
        else torch.ones(n_classes)
    )
    ckpt = Path(checkpoint_dir) if checkpoint_dir else None
    if ckpt:
        ckpt.mkdir(parents=True, exist_ok=True)
    hist: dict[str, list[float]] = {
        k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy", "val_ua", "lr", "seconds")
    }
    best = (-1.0, math.inf)
    best_state, best_epoch, stale = copy.deepcopy(model.state_dict()), 0, 0
    t_start = time.perf_counter()
    bar = tqdm(range(tc.epochs), desc=f"train {recipe.name}", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        order = rng.permutation(tr)
        total, correct, seen = 0.0, 0, 0
        for i in range(0, len(order), tc.batch_size):
            idx = order[i : i + tc.batch_size]
            if len(idx) < 2 and len(order) > 1:
                continue  # a batch of one breaks batch norm
            items = []
            for j in idx:
                x = Xn[j]
                if Cn and Cn[j] and rng.random() < tc.p_copy:
                    x = Cn[j][int(rng.integers(len(Cn[j])))]
                x = _crop(x, tc.crop_frames, rng)
                if tc.spec_augment and x.ndim == 2:
                    x = spec_augment(x, rng, **tc.spec_augment)
                items.append(x)
            xb, mask = make_batch(items, vector)
            target = F.one_hot(torch.from_numpy(yi[idx]), n_classes).float()
            if tc.label_smoothing:
                target = target * (1 - tc.label_smoothing) + tc.label_smoothing / n_classes
            if tc.mixup > 0:
                lam = float(rng.beta(tc.mixup, tc.mixup))
                perm = torch.from_numpy(rng.permutation(len(idx)))
                xb = lam * xb + (1 - lam) * xb[perm]
                target = lam * target + (1 - lam) * target[perm]
                if mask is not None:
                    mask = torch.clamp(mask + mask[perm], max=1.0)
            logits = model(xb, mask)
            loss = -(target * torch.log_softmax(logits, dim=-1) * weight).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(-1).numpy() == yi[idx]).sum())
            seen += len(idx)
        # validation on whole clips of the held-out training speakers
        pv = predict_proba(model, [Xn[j] for j in va], vector)
        val_loss = float(
            F.nll_loss(torch.log(torch.from_numpy(pv).clamp_min(1e-8)), torch.from_numpy(yi[va]))
        )
        s = scores([labels[k] for k in yi[va]], [labels[k] for k in pv.argmax(1)], labels)
        sched.step(val_loss)
        for k, v in (
            ("loss", total / max(seen, 1)),
            ("accuracy", correct / max(seen, 1)),
            ("val_loss", val_loss),
            ("val_accuracy", s["accuracy"]),
            ("val_ua", s["ua"]),
            ("lr", opt.param_groups[0]["lr"]),
            ("seconds", time.perf_counter() - t0),
        ):
            hist[k].append(float(v))
        if (s["ua"], -val_loss) > (best[0], -best[1]):
            best, best_state, best_epoch, stale = (
                (s["ua"], val_loss),
                copy.deepcopy(model.state_dict()),
                epoch + 1,
                0,
            )
            if ckpt:
                _checkpoint(best_state, ckpt / BEST, epoch + 1)
        else:
            stale += 1
        if ckpt:
            _checkpoint(model.state_dict(), ckpt / LAST, epoch + 1)
            with replacing(ckpt / HISTORY) as tmp:
                tmp.write_text(json.dumps(hist))
        post = {
            "loss": f"{hist['loss'][-1]:.3f}",
            "acc": f"{hist['accuracy'][-1]:.2f}",
            "val_loss": f"{val_loss:.3f}",
            "val_acc": f"{s['accuracy']:.2f}",
            "val_ua": f"{s['ua']:.2f}",
        }
        bar.set_postfix(post)
        if log:
            logger.info(
                "[%s] epoch %d: %s lr %.1e %.1fs",
                recipe.name,
                epoch + 1,
                " ".join(f"{k} {v}" for k, v in post.items()),
                hist["lr"][-1],
                hist["seconds"][-1],
            )
        elapsed = time.perf_counter() - t_start
        if stale >= tc.patience:
            break
        if tc.max_seconds and elapsed + np.mean(hist["seconds"]) > tc.max_seconds:
            if log:
                logger.info("[%s] time budget %.0fs reached", recipe.name, tc.max_seconds)
            break
    model.load_state_dict(best_state)
    model.eval()
    pv = predict_proba(model, [Xn[j] for j in va], vector)
    val = scores([labels[k] for k in yi[va]], [labels[k] for k in pv.argmax(1)], labels)
    val_spk = sorted(set(np.asarray(speakers).astype(str)[va]))
    return DeepResult(
        model, recipe, cfg, labels, hist, best_epoch, time.perf_counter() - t_start, val, val_spk
    )


# ------------------------------------------------------------------------------------------------------------
def export_onnx(result: DeepResult, path: str | Path | None = None) -> bytes:
    """ONNX graph (opset 17) ``features -> probabilities``: ``[B, n]`` or ``[B, 1, frames, bins]``, dynamic
    frames. Written to ``path`` when given; the bytes are returned.

    Parameters
    ----------
    result : DeepResult
        The trained network and its front end.
    path : str or Path, optional
        File to write the graph to (default None: not written).

    Returns
    -------
    bytes
        The serialised ONNX model.
    """
    cfg = result.frontend
    net = Probabilities(copy.deepcopy(result.model).eval()).eval()
    if cfg.is_vector:
        dummy, axes = torch.zeros(1, cfg.n_features), {"features": {0: "batch"}}
    else:
        dummy = torch.randn(1, 1, cfg.max_frames or 100, cfg.n_features)
        axes = {"features": {0: "batch"} if cfg.max_frames else {0: "batch", 2: "frames"}}
    axes["probabilities"] = {0: "batch"}
    buf = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter (dynamo=False) is deprecated but exact here
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net,
            (dummy,),
            buf,
            input_names=["features"],
            output_names=["probabilities"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def onnx_parity(result: DeepResult, onnx_bytes: bytes, items: list[np.ndarray]) -> float:
    """Largest absolute difference between torch and onnxruntime probabilities over single clips.

    Parameters
    ----------
    result : DeepResult
        The trained network.
    onnx_bytes : bytes
        Its export (:func:`export_onnx`).
    items : list of numpy.ndarray
        Normalised inputs, one clip each.

    Returns
    -------
    float
        The largest absolute difference (0.0 for no items).
    """
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    vector = result.frontend.is_vector
    for x in items:
        inp = x[None] if vector else x[None, None]
        p_onnx = sess.run(["probabilities"], {"features": inp.astype(np.float32)})[0]
        p_torch = predict_proba(result.model, [x], vector)
        worst = max(worst, float(np.abs(p_onnx - p_torch).max()))
    return worst


def training_curves_figure(history: dict[str, list[float]], title: str = "Training curves") -> Figure:
    """:func:`emovox.plots.training_curves` of a :func:`fit` history.

    Parameters
    ----------
    history : dict of str to list of float
        :attr:`DeepResult.history`: ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``, ``val_ua``.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Loss (left) and accuracy / UA (right) per epoch, training solid and validation dashed.
    """
    from .. import plots

    # plots.training_curves tells training from validation series by their names
    keys = {
        "train_loss": "loss",
        "val_loss": "val_loss",
        "train_acc": "accuracy",
        "val_acc": "val_accuracy",
        "val_ua": "val_ua",
    }
    return plots.training_curves({k: history[v] for k, v in keys.items()}, title=title)


def save_deep_model(
    result: DeepResult, output: str | Path, manifest=None, evaluation=None, extra: dict | None = None
) -> Path:
    """Export to ONNX and write the model directory: ``model.onnx``, ``metadata.json``, ``history.json``,
    ``training_curves.png``, ``confusion.png`` (cross-validated when ``evaluation`` is given, else the
    validation speakers'), ``evaluation.json``.

    Parameters
    ----------
    result : DeepResult
        The trained network.
    output : str or Path
        The model directory (new, empty, or an earlier model's, which is replaced).
    manifest : pandas.DataFrame, optional
        The training rows, summarised in the metadata with their fingerprints (default None).
    evaluation : Evaluation, optional
        Cross-validated figures for the metadata and ``evaluation.json`` (default None).
    extra : dict, optional
        More metadata keys (default None).

    Returns
    -------
    Path
        The model directory.
    """
    from .. import plots
    from ..evaluation import evaluation_metadata, save_evaluation_files
    from ..models.store import prepare_output, save_model_dir, seal_artefacts
    from ..training import training_summary, with_fingerprints

    onnx_bytes = export_onnx(result)
    prepare_output(output, clear=True)  # after the export: a failed one leaves the old model whole
    training = training_summary(manifest) if manifest is not None else {}
    training.update(result.summary())
    meta = {
        "kind": "deep",
        "labels": result.labels,
        "frontend": {"type": "frames", "config": result.frontend.to_dict()},
        "head": "model.onnx",
        "model": {"type": result.recipe.name, **result.recipe.to_dict()},
        "training": training,
        **evaluation_metadata(evaluation),
        "validation": {k: result.val_scores[k] for k in ("ua", "accuracy", "macro_f1")}
        if result.val_scores
        else None,
        **(extra or {}),
    }
    graphs: dict[str, bytes | Path] = {"model.onnx": onnx_bytes}
    with_fingerprints(graphs, meta, manifest)
    out = save_model_dir(output, graphs, meta)
    (out / "history.json").write_text(json.dumps(result.history, indent=1))
    plots.save(
        training_curves_figure(result.history, f"{result.recipe.name}: training curves"),
        out / "training_curves.png",
    )
    if evaluation is not None:
        save_evaluation_files(evaluation, out)
    elif result.val_scores:
        s = result.val_scores
        plots.save(
            plots.confusion_matrix(
                np.array(s["confusion"]),
                result.labels,
                title=f"validation speakers: UA {100 * s['ua']:.1f} %",
            ),
            out / "confusion.png",
        )
    return seal_artefacts(out)


# ------------------------------------------------------------------------------------------------------------
def deep_features(
    manifest,
    recipe: Recipe | str,
    *,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = 1,
    progress: bool = False,
) -> FrameTable:
    """The recipe's frame features (and augmented copies) of a manifest, through the one runner and cache
    (:func:`emovox.deep.frames.frame_table`; ``n_jobs``: its worker processes, ``None`` every core).

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with a ``path`` column.
    recipe : Recipe or str
        A deep recipe, or its name.
    cache_dir : str or Path, optional
        Feature cache (default None: ``<default_cache_dir>/features``).
    n_jobs : int or None
        Worker processes (default 1).
    progress : bool
        Show a progress bar (default False).

    Returns
    -------
    FrameTable
        Unnormalised features of the rows that could be read, their augmented copies and the failures.
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    tc = recipe.train
    return frame_table(
        manifest,
        recipe.frontend,
        cache_dir=cache_dir,
        copies=tc.copies if recipe.augment else 0,
        augment=recipe.augment,
        seed=0,
        n_jobs=n_jobs,
        progress=progress,
    )


def evaluate_deep(
    manifest,
    model: str | Recipe = "rescnn",
    protocol: str = "kfold",
    *,
    seed: int | None = None,
    table: FrameTable | None = None,
    cache_dir: str | Path | None = None,
    folds_dir: str | Path | None = None,
    max_folds: int | None = None,
    only_folds: list[int] | None = None,
    n_jobs: int | None = 1,
    progress: bool = False,
    log: bool = False,
    **overrides,
):
    """Cross-validate a deep recipe under ``protocol``; each fold trains from scratch on its training rows.

    ``max_folds`` runs only the first folds, ``only_folds`` the folds at these (0-based) positions (the
    note says so: a long benchmark can then be split over processes). Per-fold training time, epochs and
    seconds per epoch are kept in ``Evaluation.folds``. ``n_jobs``: worker processes computing the frames
    when ``table`` is not given (:func:`deep_features`).

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker`` (and the columns ``protocol`` needs).
    model : str or Recipe
        A deep recipe, or its name (default ``"rescnn"``).
    protocol : str
        A protocol of :func:`emovox.splits.make_protocol` (default ``"kfold"``).
    seed : int, optional
        Random state of the splits, and the training seed when ``model`` is a name (None: 0).
    table : FrameTable, optional
        The recipe's features of ``manifest`` (default None: computed).
    cache_dir : str or Path, optional
        Feature cache used when computing ``table`` (default None).
    folds_dir : str or Path, optional
        Where ``emobox`` finds its folds (default None: :func:`emovox.splits.default_folds_dir`).
    max_folds : int, optional
        Run only the first folds (default None: all).
    only_folds : list of int, optional
        Run only these fold positions, among the first ``max_folds`` (default None).
    n_jobs : int or None
        Worker processes computing the features (default 1).
    progress : bool
        Show progress bars (default False).
    log : bool
        Log one line per epoch and per fold (default False).
    **overrides
        :class:`TrainConfig` fields, applied when ``model`` is a name.

    Returns
    -------
    Evaluation
        Per-fold and pooled scores, with the recipe.
    """
    from ..evaluation import FoldResult, add_calibration, cross_validate, once_per_training_side
    from ..labels import label_order
    from ..splits import make_protocol
    from ..training import restrict_columns

    recipe = get_recipe(model, seed=seed or 0, **overrides) if isinstance(model, str) else model
    table = table or deep_features(manifest, recipe, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    df = table.manifest
    y = df["emotion"].astype(str).to_numpy()
    spk = df["speaker"].astype(str).to_numpy()
    labels = label_order(y)
    proto = make_protocol(df, protocol, random_state=seed, folds_dir=folds_dir)
    used = proto.folds[:max_folds] if max_folds else proto.folds
    if only_folds is not None:
        if not only_folds or min(only_folds) < 0 or max(only_folds) >= len(used):
            raise CorpusError(f"{proto.name} has {len(used)} folds; cannot run folds {only_folds}")
        used = [used[k] for k in only_folds]

    once = once_per_training_side()

    def fit_predict(rows_train, y_train, rows_test):
        train, test = rows_train[:, 0], rows_test[:, 0]
        res = once(
            train,
            lambda: fit(
                [table.X[i] for i in train],
                y_train,
                spk[train],
                recipe,
                labels=labels,
                copies=[table.copies[i] for i in train] if table.copies else None,
                progress=progress,
                log=log,
            ),
        )
        p = predict_proba(
            res.model, _prepare([table.X[i] for i in test], res.frontend), res.frontend.is_vector
        )
        if proto.cross_corpus:  # the test corpus's own emotions only, renormalised (as every recipe)
            p = restrict_columns(p, np.isin(labels, y[test]))
        kept = ("epochs", "best_epoch", "seconds", "seconds_per_epoch", "val_ua")
        extra = {k: v for k, v in res.summary().items() if k in kept}
        return FoldResult([labels[k] for k in p.argmax(1)], p, extra)

    def on_fold(n, total, fold, s):
        if log:
            logger.info(
                "[%s] %s %s (%d/%d): UA %.1f %% accuracy %.1f %% (%d epochs, %.0f s, %.2g s/epoch)",
                recipe.name,
                proto.name,
                fold.name,
                n + 1,
                total,
                100 * s["ua"],
                100 * s["accuracy"],
                s["epochs"],
                s["seconds"],
                s["seconds_per_epoch"],
            )

    rows = np.arange(len(y))[:, None]
    paths = list(df["path"].astype(str))
    ev = cross_validate(rows, y, proto, fit_predict, labels, False, folds=used, paths=paths, on_fold=on_fold)
    if ev.fold_proba:
        add_calibration(ev)
    if only_folds is not None:
        ev.note = (ev.note + "; " if ev.note else "") + (
            f"only folds {', '.join(f.name for f in used)} of {len(proto.folds)} were run"
        )
    elif len(used) < len(proto.folds):
        ev.note = (
            ev.note + "; " if ev.note else ""
        ) + f"only the first {len(used)} of {len(proto.folds)} folds were run"
    ev.recipe = {**recipe.to_dict(), "features": {"type": "frames", "config": recipe.frontend.to_dict()}}
    return ev


def fit_deep(
    manifest,
    model: str | Recipe,
    *,
    seed: int = 0,
    table: FrameTable | None = None,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = 1,
    progress: bool = False,
    log: bool = False,
    checkpoint_dir: str | Path | None = None,
    **overrides,
) -> DeepResult:
    """Train a deep recipe on every row (validation: a few of the speakers); nothing is written but the
    checkpoints, where asked for. :meth:`DeepResult.save` writes the model directory.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker``.
    model : str or Recipe
        A deep recipe, or its name (with ``seed`` and ``overrides`` of its :class:`TrainConfig`).
    seed : int
        The recipe's training seed (default 0), applied only when ``model`` is a name.
    table : FrameTable, optional
        The recipe's features of ``manifest`` (:func:`deep_features`), computed when not given.
    cache_dir : str or Path, optional
        Feature cache used when computing ``table`` (default ``<default_cache_dir>/features``).
    n_jobs : int or None
        Worker processes computing those features (default 1; ``None``: every core).
    progress : bool
        Show progress bars for features and epochs (default False).
    log : bool
        Also log one line per epoch at INFO level (default False).
    checkpoint_dir : str or Path, optional
        Where the best and last weights (safetensors) and the history go after each epoch, to inspect a
        run while it trains or after it stopped; recorded in the model's metadata. Default None: none are
        written (the best weights are kept in memory and go into the model directory).

    Returns
    -------
    DeepResult
        The network, its front end and training record, with the training rows.
    """
    recipe = get_recipe(model, seed=seed, **overrides) if isinstance(model, str) else model
    table = table or deep_features(manifest, recipe, cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    df = table.manifest
    if len(df) == 0:
        raise CorpusError("no training data: every file failed or the manifest is empty")
    res = fit(
        table.X,
        df["emotion"].astype(str).to_numpy(),
        df["speaker"].astype(str).to_numpy(),
        recipe,
        copies=table.copies or None,
        progress=progress,
        log=log,
        checkpoint_dir=checkpoint_dir,
    )
    res.manifest, res.cache_dir = df, cache_dir
    res.checkpoint_dir = None if checkpoint_dir is None else str(Path(checkpoint_dir).resolve())
    logger.info(
        "[%s] trained %d epochs (%.2g s/epoch), best epoch %d, validation UA %.1f %%",
        recipe.name,
        res.summary()["epochs"],
        res.seconds_per_epoch,
        res.best_epoch,
        100 * res.val_scores["ua"],
    )
    return res


def train_deep(
    manifest,
    model: str | Recipe,
    output: str | Path,
    *,
    seed: int = 0,
    evaluation=None,
    table: FrameTable | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    log: bool = False,
    checkpoint_dir: str | Path | None = None,
    **overrides,
) -> tuple[Path, DeepResult]:
    """Train a deep recipe on every row (validation: a few of the speakers) and write the model directory:
    :func:`fit_deep`, then :meth:`DeepResult.save`.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with ``path``, ``emotion`` and ``speaker``.
    model : str or Recipe
        A deep recipe, or its name.
    output : str or Path
        The model directory.
    seed : int
        The training seed when ``model`` is a name (default 0).
    evaluation : Evaluation, optional
        Cross-validated figures recorded with the model (default None).
    table : FrameTable, optional
        The recipe's features of ``manifest`` (default None: computed).
    cache_dir : str or Path, optional
        Feature cache (default None).
    progress : bool
        Show progress bars (default False).
    log : bool
        Log one line per epoch (default False).
    checkpoint_dir : str or Path, optional
        Where weights are written after each epoch (default None: nowhere).
    **overrides
        :class:`TrainConfig` fields, applied when ``model`` is a name.

    Returns
    -------
    tuple
        The model directory (Path) and the :class:`DeepResult`.
    """
    res = fit_deep(
        manifest,
        model,
        seed=seed,
        table=table,
        cache_dir=cache_dir,
        progress=progress,
        log=log,
        checkpoint_dir=checkpoint_dir,
        **overrides,
    )
    return res.save(output, evaluation=evaluation), res
