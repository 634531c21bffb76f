"""``emovox model``: what a model is and how well it was measured, from its sealed metadata."""

from __future__ import annotations

import sys
from typing import Any

from .common import examples


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * float(x):.1f} %"


def _figures(m: dict[str, Any], ece: bool = True) -> str:
    """``60.1 % UA (worst corpus 47.5 %), WA 59.8 %, macro F1 58.3 %, ECE 0.082`` from a metrics dict."""
    ua = _pct(m.get("ua")) + " UA"
    if m.get("ua_min") is not None:
        ua += f" (worst corpus {_pct(m['ua_min'])})"
    elif m.get("ua_std") is not None:
        ua += f" (± {_pct(m['ua_std'])} over folds)"
    parts = [ua, f"WA {_pct(m.get('accuracy'))}", f"macro F1 {_pct(m.get('macro_f1'))}"]
    if ece and m.get("ece") is not None:
        parts.append(f"ECE {m['ece']:.3f}")
    return ", ".join(parts)


def describe(info: dict[str, Any], path: str, size: int, uncertain_below: float) -> list[str]:
    """The lines ``emovox model`` prints for :meth:`~emovox.inference.EmotionModel.info`: the headline
    (leave one corpus out) first, with its protocol; in-domain figures after it, named as such. A model
    trained with ``--protocol loco`` (or ``cross:``) stores its figure on unseen corpora as its metrics: it
    is shown as such."""

    def row(label: str, text: str) -> str:
        return f"  {label:<15} {text}"

    front = info.get("frontend") or {}
    engine = (
        front.get("encoder_source") or f"{front.get('type') or '-'} features ({front.get('name') or '-'})"
    )
    lines = [
        f"{info['name']}  ({path}, {size / 1e6:.1f} MB)",
        row("emotions", ", ".join(info["labels"])),
        row(
            "model",
            f"{info.get('kind') or '-'} on {engine}"
            + (" (int8)" if front.get("quantized") else "")
            + (f"; recipe {info['recipe_name']}" if info.get("recipe_name") else ""),
        ),
    ]
    metrics = info.get("metrics")
    cross = bool(metrics and (metrics.get("per_corpus") or metrics.get("ua_min") is not None))
    head = info.get("headline") or (metrics if cross else None)
    if head:
        lines.append(row("unseen corpora", _figures(head)))
        lines.append(row("", head.get("protocol", "")))
        per = head.get("per_corpus") or {}
        if per:
            lines.append(row("", ", ".join(f"{c} {_pct(m.get('ua'))}" for c, m in per.items())))
    else:
        lines.append(row("unseen corpora", "not measured (no leave-one-corpus-out figure stored)"))
    adapted = info.get("metrics_channel_adapted")
    if adapted and adapted.get("shipped", True):
        lines.append(
            row("--same-channel", f"{_pct(adapted.get('ua'))} UA (each unseen corpus scored together)")
        )
    if cross and not info.get("headline"):
        lines.append(row("in-domain", "not measured (its stored evaluation is the one above)"))
    elif metrics:
        independent = metrics.get("speaker_independent")
        lines.append(row("in-domain", _figures(metrics, ece=False)))  # (its ECE: calibrated or not, unsaid)
        lines.append(
            row(
                "",
                f"{metrics.get('protocol', '?')}"
                + (
                    ", speaker-independent (unseen speakers of the training corpora)"
                    if independent
                    else ", NOT speaker-independent (the same speakers in training and test)"
                    if independent is False
                    else ""
                ),
            )
        )
    else:
        lines.append(
            row("in-domain", "not measured (no cross-validation stored: trained with --protocol none?)")
        )
    cal = info.get("calibration")
    lines.append(
        row(
            "calibration",
            (
                f"temperature {cal.get('temperature', 1.0):.3f}"
                if cal
                else "none (probabilities as the head gives them)"
            )
            + f"; answers under {uncertain_below:.2f} confidence are marked uncertain",
        )
    )
    training = info.get("training") or {}
    if training:
        lines.append(
            row(
                "trained on",
                f"{', '.join(training.get('corpora') or ['-'])}: {training.get('n_utterances', '?')} recordings, "
                f"{training.get('n_speakers', '?')} speakers",
            )
        )
    for i, text in enumerate([*(info.get("licences") or []), *filter(None, [info.get("licence_note")])]):
        lines.append(row("licences" if i == 0 else "", text))
    n = len(info.get("files") or {})
    lines.append(row("sealed", f"{n} files, each checked against its digest when the model loads"))
    return lines


def cmd_model(args) -> int:
    """``emovox model [MODEL]``: a model's figures, calibration, training data and licences.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0 (a model that cannot be loaded is an error: 2).
    """
    import json

    from ..inference import load_model
    from ..paths import display_path

    model = load_model(args.model, check_speech=False)  # (verifies the seal: a tampered model is refused)
    info = model.info()
    if args.json:
        print(json.dumps(info | {"path": str(model.path)}, indent=2))
        return 0
    size = sum(f.stat().st_size for f in model.path.rglob("*") if f.is_file())  # (an ensemble: its members)
    sys.stdout.write("\n".join(describe(info, display_path(model.path), size, model.uncertain_below)) + "\n")
    return 0


def register(sub) -> None:
    """Add the ``model`` command.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``emovox`` parser's commands (what ``add_subparsers`` returned).
    """
    p = sub.add_parser(
        "model",
        help="what a model is and how well it was measured",
        description="What a model is and how well it was measured: the figure on corpora it never heard "
        "(leave one corpus out) with its protocol, the in-domain figure, calibration, training data and "
        "licences, read from its sealed metadata (a model whose files changed is refused).",
        **examples("emovox model", "emovox model classical", "emovox model my_model/ --json"),
    )
    p.add_argument(
        "model",
        nargs="?",
        default=None,
        help="model directory or bundled model name (default: the bundled model)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="everything as JSON (GET /v1/model's body, with the model's path in place of the server's limits)",
    )
    p.set_defaults(func=cmd_model)
