"""Scale-out: batch prediction and feature extraction on a Dask cluster (or in this process).

>>> import emovox.batch as batch
>>> s = batch.predict("recordings/", model="runs/svm", output_dir="preds")     # doctest: +SKIP
>>> s.n_ok, s.n_failed, round(s.files_per_s)                                   # doctest: +SKIP
(1440, 0, 26)
>>> batch.read_results("preds").head()                                        # doctest: +SKIP

With no ``address`` a LocalCluster of ``n_workers`` processes is started on this machine and stopped
afterwards; ``address="tcp://host:8786"`` joins a running cluster. Each worker process loads the model
once; each partition of ``batch_size`` files becomes one Parquet file written atomically by the worker,
one row per file (a file that fails is a row with an ``error``). A re-run skips files whose row exists
with the same size and mtime, so an interrupted job resumes where it stopped.
"""

from __future__ import annotations

from .engines import dask_client
from .jobs import features, predict
from .store import BatchSummary, feature_results, file_key, read_results, read_summary

__all__ = [
    "BatchSummary",
    "dask_client",
    "feature_results",
    "features",
    "file_key",
    "predict",
    "read_results",
    "read_summary",
]
