"""DataFrames streamed to one CSV or Parquet file, batch by batch, written atomically: what
``DoppelGANger.generate_to("out.csv" | "out.parquet", n)`` writes (each batch of generated
samples as ``Dataset.to_dataframe`` gives it, in the training frame's columns and dtypes).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from .atomic import atomic_file

FILE_KINDS = {".csv": "csv", ".parquet": "parquet"}


def file_kind(path) -> str:
    """"csv", "parquet" (by the file's suffix) or "dataset" (a Dataset directory)."""
    return FILE_KINDS.get(Path(path).suffix.lower(), "dataset")


@contextlib.contextmanager
def frame_writer(path, kind: str):
    """A function write(df) appending one DataFrame to ``path``; the file appears only when
    the with-block ends without an error. Every DataFrame must have the first one's columns
    (Parquet: and dtypes)."""
    if kind == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError("writing Parquet needs pyarrow: pip install pyarrow (or "
                              "generate to a .csv file, or to a Dataset directory)") from None
    columns = None
    with atomic_file(path, "wb") as f:
        writer = None

        def write(df: pd.DataFrame):
            nonlocal columns, writer
            if columns is None:
                columns = list(df.columns)
            elif list(df.columns) != columns:
                raise ValueError(f"a batch has the columns {list(df.columns)[:8]}..., the "
                                 f"first had {columns[:8]}...: streamed files need one set of "
                                 "columns (write the long layout)")
            if kind == "csv":
                f.write(df.to_csv(index=False, header=writer is None).encode("utf-8"))
                writer = True
                return
            table = pa.Table.from_pandas(df, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(f, table.schema)
            writer.write_table(table.cast(writer.schema))

        try:
            yield write
        finally:
            if kind == "parquet" and writer is not None:
                writer.close()
