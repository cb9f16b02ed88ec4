"""Read the engine's Arrow IPC sample files with pyarrow and polars and record what they read.

Input: test/fixtures/reference/arrow-readers/*.arrow (written by scripts/ref/arrow_samples.ts).
Output: test/fixtures/reference/arrow-readers/readers.json: per file and reader, the schema (name and
type as the reader names it), the row count and every column's values (binary as lists of byte
values, floats as JSON numbers, which round-trip exactly).

    pip install pyarrow polars
    python3 scripts/ref/arrow_readers.py
"""
import json
import pathlib
import sys

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

DIR = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "reference" / "arrow-readers"


def plain(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return list(bytes(v))
    return v


def with_pyarrow(path):
    with pa.memory_map(str(path), "r") as src:
        reader = ipc.open_file(src)
        table = reader.read_all()
    return {
        "num_record_batches": reader.num_record_batches,
        "num_rows": table.num_rows,
        "schema": [[f.name, str(f.type)] for f in table.schema],
        "columns": {name: [plain(v) for v in table.column(name).to_pylist()] for name in table.column_names},
    }


def with_polars(path):
    df = pl.read_ipc(str(path), memory_map=False)
    return {
        "num_rows": df.height,
        "schema": [[name, str(dtype)] for name, dtype in df.schema.items()],
        "columns": {name: [plain(v) for v in df.get_column(name).to_list()] for name in df.columns},
    }


def main():
    out = {
        "made_by": "scripts/ref/arrow_readers.py",
        "pyarrow": pa.__version__,
        "polars": pl.__version__,
        "python": sys.version.split()[0],
        "files": {},
    }
    for path in sorted(DIR.glob("*.arrow")):
        out["files"][path.stem] = {"pyarrow": with_pyarrow(path), "polars": with_polars(path)}
    (DIR / "readers.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {DIR / 'readers.json'} ({len(out['files'])} files)")


if __name__ == "__main__":
    main()
