"""The shared :meth:`~emovox.extractors.Extractor.process_files` of extractors whose files need nothing of their
own. A module of its own, which imports none of them: the extractors subclass it, and
:func:`emovox.extractors.from_dict` imports the extractors."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import ExtractionResult


class RunnerFiles:
    """:meth:`~emovox.extractors.Extractor.process_files` for an extractor whose files need nothing of their own: the shared
    runner (:func:`emovox.extractors.runner.process_files`: parallel, cached, every file as
    :meth:`~emovox.extractors.Extractor.process_file` computes it), its progress bar named :attr:`desc`."""

    desc = "features"

    def process_files(
        self,
        paths: str | os.PathLike | Iterable[str | os.PathLike],
        *,
        n_jobs: int | None = 1,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = False,
    ) -> ExtractionResult:
        """Many files, cached on disk; failures are reported in the result, never raised.

        Parameters
        ----------
        paths : path or iterable of paths
            Audio files (one path: that file).
        n_jobs : int or None
            Worker processes; None or -1: all CPUs; 1 (default): in this process.
        cache_dir : str or path, optional
            Directory of cached results; None (default): no cache.
        progress : bool
            Show a progress bar (default False).

        Returns
        -------
        ExtractionResult
            ``(features, paths, failures, mask, n_cached)`` (:func:`emovox.extractors.runner.process_files`).
        """
        from .runner import process_files

        return process_files(
            self, paths, n_jobs=n_jobs, cache_dir=cache_dir, progress=progress, desc=self.desc
        )
