"""``emovox predict|features --engine dask``: the command-line side of :mod:`emovox.batch`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..batch.jobs import BatchSummary, Terminated, features, predict
from ..batch.store import feature_results
from ..tables import LABEL_COLUMNS, write_table
from .common import err, plural, show_progress


def _problems(s: BatchSummary) -> None:
    """The inputs left out and the files that failed."""
    for line in s.skipped_entries:
        err(line)
    for _, msg in s.failures:
        err(msg)


def _earlier(s: BatchSummary) -> None:
    """The inputs an earlier run left error rows for (not recomputed)."""
    if s.n_failed_before:
        err(
            f"{s.n_failed_before} of the inputs {'has' if s.n_failed_before == 1 else 'have'} error rows from "
            f"an earlier run in {s.output_dir} "
            "(not recomputed; --retry-failed recomputes them)"
        )


def _report(s: BatchSummary, as_json: bool = False, quiet: bool = False) -> int:
    """Failures (always), the JSON summary, and the one-line summary (not with ``quiet``)."""
    _problems(s)
    if as_json:
        print(json.dumps(s.to_dict(), indent=2))
    if not quiet:
        print(f"emovox: {s}", file=sys.stderr)
    _earlier(s)
    return 1 if s.n_failed or s.n_failed_before or s.skipped_entries else 0


def _terminated(exc: Terminated) -> int:
    err("terminated (SIGTERM); _summary.json is written, a re-run goes on where this one stopped")
    return 143


def predict_command(args: Any) -> int:
    """``emovox predict PATHS --engine dask [--address A] [--output-dir OUT] [--model M] [--emotions E]
    [--json]``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit status: 0, 1 when some inputs failed (now or in an earlier run), 2 for options the
        Dask engine does not take, 143 when terminated.
    """
    if getattr(args, "timeline", False) or getattr(args, "plot", None):
        err("--timeline and --plot run on the local engine only")
        return 2
    if getattr(args, "top_k", None):
        err("--top-k shapes what is printed; --engine dask writes every probability to the Parquet parts")
        return 2
    if getattr(args, "emotions", None):  # named as the local path names it, before any cluster starts
        from ..inference import chosen_emotions, resolve_model_path
        from ..models.store import read_model_dir

        chosen_emotions(args.emotions, read_model_dir(resolve_model_path(args.model))["labels"], "--emotions")
    try:
        s = predict(
            args.paths,
            model=args.model,
            engine="dask",
            address=args.address,
            output_dir=args.output_dir or "emovox-predictions",
            progress=show_progress(args),
            retry_failed=getattr(args, "retry_failed", False),
            overwrite=getattr(args, "overwrite", False),
            emotions=getattr(args, "emotions", None),
            same_speaker=getattr(args, "same_speaker", False),
            same_channel=getattr(args, "same_channel", False),
        )
    except Terminated as exc:
        return _terminated(exc)
    return _report(s, getattr(args, "json", False), quiet=getattr(args, "quiet", False))


def features_command(args: Any, manifest) -> int:
    """``emovox features SOURCE -o feats.parquet --engine dask``: partitions in ``--output-dir``
    (default ``<output>.parts``), then the same table as the local path in ``-o``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    manifest : pandas.DataFrame
        The rows to compute features of (``path``).

    Returns
    -------
    int
        The exit status: 0, 1 when some rows have no features, 143 when terminated.
    """
    output = Path(args.output)
    parts = Path(args.output_dir) if args.output_dir else output.with_suffix(".parts")
    try:
        from ..training import resolve_recipe

        s = features(
            list(manifest["path"].astype(str)),
            resolve_recipe(
                "svm",  # (any classical recipe: only its features are used)
                getattr(args, "features", None),
                getattr(args, "trim_db", None),
                getattr(args, "encoder", None),
            ).features,
            engine="dask",
            address=args.address,
            output_dir=parts,
            n_workers=args.jobs,
            progress=show_progress(args),
            retry_failed=getattr(args, "retry_failed", False),
            overwrite=getattr(args, "overwrite", False),
        )
    except Terminated as exc:
        return _terminated(exc)
    table = feature_results(parts, manifest)
    n_features = len(table.columns) - 1 - sum(c in manifest for c in LABEL_COLUMNS)  # (path, labels)
    write_table(table, output)
    _problems(s)
    _earlier(s)
    n_bad = len(manifest) - len(table)
    print(
        f"wrote {len(table)} x {n_features} features to {output} (partitions in {parts}; {s})"
        f"{f' ({n_bad} file{plural(n_bad)} failed)' if n_bad else ''}",
        file=sys.stderr,
    )
    return 1 if n_bad else 0
