"""A batch worker writes its Parquet partitions without importing pandas (~45 MB at a worker's peak)."""

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq

from emovox.batch import worker


def test_columns_round_trip_with_nulls_and_non_ascii(tmp_path):
    cols = {
        "path": worker._strings(["a.wav", "ü/\\xff.wav", ""]),
        "label": worker._strings(["angry", None, "sad"]),
        "confidence": worker._numbers(np.array([0.5, np.nan, 0.25]), "float64"),
        "speech": worker._bools([True, None, False]),
        "f0": worker._numbers(np.array([1.5, np.nan, -2.0]), "float32", null_nan=False),
    }
    table = worker._table(cols)
    table.validate(full=True)
    worker.write_atomic(table, tmp_path / "part-0.parquet")
    back = pq.read_table(tmp_path / "part-0.parquet").to_pydict()
    assert back["path"] == ["a.wav", "ü/\\xff.wav", ""]
    assert back["label"] == ["angry", None, "sad"]
    assert back["confidence"] == [0.5, None, 0.25]
    assert back["speech"] == [True, None, False]
    assert back["f0"][0] == 1.5 and np.isnan(back["f0"][1]) and back["f0"][2] == -2.0
    assert str(table.schema.field("f0").type) == "float"


def test_writing_a_partition_does_not_import_pandas(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from emovox.batch import worker\n"
        "t = worker._table({'path': worker._strings(['x.wav']), 'p': worker._numbers(np.array([0.1]), 'float64'),"
        " 's': worker._bools([True])})\n"
        f"worker.write_atomic(t, __import__('pathlib').Path({str(tmp_path)!r}) / 'part-1.parquet')\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert (tmp_path / "part-1.parquet").is_file()
