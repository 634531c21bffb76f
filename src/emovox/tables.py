"""Feature tables and the cache folder: the data every recipe, extractor and model builder shares.

Kept apart from :mod:`emovox.training` so that the modules training uses (encoder and frame front ends,
deep models, ensembles) can import them without importing training back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CorpusError, FeatureError, ParameterError

#: Manifest columns a feature export keeps beside the features: what a speaker- or corpus-grouped split
#: of the export needs.
LABEL_COLUMNS = ("emotion", "speaker", "corpus")


def default_cache_dir() -> Path:
    """``$EMOVOX_CACHE`` or ``~/.cache/emovox``: where features and encoder outputs are cached."""
    return Path(os.environ.get("EMOVOX_CACHE", Path.home() / ".cache" / "emovox"))


@dataclass
class FeatureTable:
    """Features of the manifest rows that could be processed, with those rows."""

    X: np.ndarray
    manifest: pd.DataFrame
    names: list[str]
    frontend: dict[str, Any]
    failures: list[tuple[str, str]]
    #: training-only variants of the rows of ``X`` (augmentation name -> matrix like ``X``)
    augmented: dict[str, np.ndarray] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The table as ``emovox features -o`` writes it: ``path``, the manifest's label columns, the
        features (:func:`feature_frame`)."""
        return feature_frame(
            self.manifest["path"].astype(str), pd.DataFrame(self.X, columns=self.names), self.manifest
        )

    def training_rows(self, idx: np.ndarray, align: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of rows ``idx`` plus their augmented variants, for fitting; ``align``: a
        manifest column whose groups are aligned (:func:`emovox.adaptation.align_domains`).

        Parameters
        ----------
        idx : numpy.ndarray
            Row indices into the table.
        align : str, optional
            A manifest column (e.g. ``corpus``); None (default): no alignment.

        Returns
        -------
        X : numpy.ndarray
            The rows, then each augmented variant's rows in the same order.
        y : numpy.ndarray
            Their emotions, repeated likewise.

        Raises
        ------
        CorpusError
            When ``align`` is not a column set on every manifest row.
        """
        y = self.manifest["emotion"].to_numpy()[idx]
        X = np.vstack([self.X[idx], *(a[idx] for a in self.augmented.values())])
        if align:
            from .adaptation import align_domains

            if align not in self.manifest or self.manifest[align].isna().any():
                raise CorpusError(f"aligning by {align!r} needs that column on every manifest row")
            groups = self.manifest[align].astype(str).to_numpy()[idx]
            X = align_domains(X, np.tile(groups, 1 + len(self.augmented))).astype(np.float32)
        return X, np.concatenate([y] * (1 + len(self.augmented)))

    def balance_weights(self, idx: np.ndarray, by: str) -> np.ndarray:
        """Sample weights for :meth:`training_rows` (augmented copies included) under which every group of
        the manifest column ``by`` weighs the same, and within a group every emotion (mean weight 1 over the
        recordings). A recording's augmented copies share its weight: they add variety, not recordings, so
        a classifier's regularisation (``C``) means the same with or without them.

        Parameters
        ----------
        idx : numpy.ndarray
            Row indices into the table, as given to :meth:`training_rows`.
        by : str
            A manifest column (e.g. ``corpus``).

        Returns
        -------
        numpy.ndarray
            One weight per row of :meth:`training_rows`.

        Raises
        ------
        CorpusError
            When ``by`` is not a column set on every manifest row.
        """
        if by not in self.manifest or self.manifest[by].isna().any():
            raise CorpusError(f"balancing by {by!r} needs that column on every manifest row")
        key = (
            self.manifest[by].astype(str).to_numpy()[idx]
            + "\x00"
            + self.manifest["emotion"].astype(str).to_numpy()[idx]
        )
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        w = 1.0 / counts[inverse]
        w = w / w.mean() / (1 + len(self.augmented))
        return np.tile(w, 1 + len(self.augmented))


def feature_frame(paths: Sequence[str], features: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """A feature export's table: ``path``, the :data:`LABEL_COLUMNS` the manifest has (its rows in the order
    of ``features``' rows), then one column per feature.

    Parameters
    ----------
    paths : sequence of str
        The audio file of each row of ``features``.
    features : pandas.DataFrame
        One row per recording, one column per feature (its index is dropped).
    manifest : pandas.DataFrame
        The same recordings, in the same order; its :data:`LABEL_COLUMNS` that exist are copied.

    Returns
    -------
    pandas.DataFrame
        ``len(features)`` rows: ``path``, the label columns, then the features.

    Examples
    --------
    >>> manifest = pd.DataFrame({"emotion": ["sad"], "speaker": ["s1"], "gender": ["f"]})
    >>> f = feature_frame(["a.wav"], pd.DataFrame({"f0_mean": [180.0]}), manifest)
    >>> list(f.columns), f.shape
    (['path', 'emotion', 'speaker', 'f0_mean'], (1, 4))
    """
    out = features.reset_index(drop=True)
    for i, col in enumerate(c for c in LABEL_COLUMNS if c in manifest):
        out.insert(i, col, manifest[col].to_numpy())
    out.insert(0, "path", list(paths))
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a table as Parquet (``.parquet``), TSV (``.tsv``) or CSV (anything else), without its index.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : str or os.PathLike
        The file; missing folders are made, and the file is replaced whole or not at all.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> out = write_table(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), Path(tmp.name) / "sub" / "t.tsv")
    >>> out.name, out.read_text().split()
    ('t.tsv', ['a', 'b', '1', 'x', '2', 'y'])
    >>> tmp.cleanup()
    """
    from .paths import delimiter, replacing

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, sep=delimiter(path))
    return path


def speaker_ids(manifest: pd.DataFrame, column: str = "speaker") -> np.ndarray:
    """Every row's speaker (or other session ``column``), for adaptation; a row without one is an error,
    not its own session.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording.
    column : str
        The column that names each row's session (default ``"speaker"``; ``"corpus"``: one channel each).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(manifest),)``: each row's session, as a string.

    Examples
    --------
    >>> speaker_ids(pd.DataFrame({"speaker": ["emodb:03", 8]})).tolist()
    ['emodb:03', '8']
    """
    if column not in manifest or manifest[column].isna().any():
        raise CorpusError(f"{column} adaptation needs the {column} of every recording (a {column!r} column)")
    return manifest[column].astype(str).to_numpy()


def input_paths(inputs: Any) -> list[str] | None:
    """The audio files a fitted recipe is asked to predict, or None when ``inputs`` are features already.

    Parameters
    ----------
    inputs
        A manifest (its ``path`` column), one path, a list of paths, or features (anything else).

    Returns
    -------
    list of str or None
        The paths, in order; None for features.
    """
    if isinstance(inputs, pd.DataFrame):
        if "path" not in inputs:
            raise ParameterError("a manifest to predict needs a 'path' column")
        return list(inputs["path"].astype(str))
    if isinstance(inputs, str | os.PathLike):
        return [os.fspath(inputs)]
    if isinstance(inputs, list | tuple) and inputs and all(isinstance(x, str | os.PathLike) for x in inputs):
        return [os.fspath(x) for x in inputs]
    return None


def require_every_file(failures: list[tuple[str, str]], total: int) -> None:
    """Raise one :class:`FeatureError` line when any of ``total`` files could not be turned into features
    (a prediction needs one row per input; training and evaluation report failures instead).

    Parameters
    ----------
    failures : list of (str, str)
        ``(file, reason)`` of each input that could not be used.
    total : int
        How many inputs there were.

    Returns
    -------
    None
        When ``failures`` is empty.

    Examples
    --------
    >>> require_every_file([], 3)
    >>> require_every_file([("b.wav", "b.wav: empty file")], 3)
    Traceback (most recent call last):
    ...
    emovox.errors.FeatureError: 1 of 3 inputs could not be used; the first: b.wav: empty file
    """
    if failures:
        raise FeatureError(
            f"{len(failures)} of {total} inputs could not be used; the first: {failures[0][1]}"
        )
