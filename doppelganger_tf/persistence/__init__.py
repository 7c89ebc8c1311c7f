"""Files on disk: atomic writes, Dataset directories (plain, streamed, sharded), generated
DataFrames as CSV / Parquet, and saved models with their weights."""
