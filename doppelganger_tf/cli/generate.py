"""doppelganger generate: samples of a saved model, streamed to a CSV, a Parquet file or a
Dataset directory (memory flat in N)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..settings import read_frame
from .common import UserError, cpu_threads, say

HELP = "generate samples from a trained model"
EXAMPLES = """examples:
  doppelganger generate run/model -n 10000 --output generated.csv --seed 1
  doppelganger generate run/model -n 1000000 --output generated.parquet
  doppelganger generate run/model --attributes wanted.csv --output conditioned.csv
  doppelganger generate run/model -n 100 --length 60 --output longer.csv
  doppelganger generate run/model -n 1000000 --seed 0 --shard 0 --num-shards 4 --output big/

The files have the training file's columns, dtypes and calendar (the long layout). A
directory holds a saved Dataset (Dataset.load reads it memory-mapped). Shards: run each
i = 0..k-1 with the same model, -n and --seed; a .csv output gets one file per shard.
"""


def add_parser(subparsers):
    p = subparsers.add_parser("generate", help=HELP, description=HELP + ", streamed to disk "
                              "one batch at a time.", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a saved model directory (RUN/model, or RUN)")
    p.add_argument("-n", "--num", type=int, help="how many series (default with --attributes: "
                   "one per row of that file)")
    p.add_argument("--output", "-o", metavar="FILE|DIR", required=True,
                   help="a .csv or .parquet file, or a directory for a Dataset")
    p.add_argument("--seed", type=int, help="the same seed gives the same samples")
    p.add_argument("--attributes", metavar="FILE", help="a .csv / .parquet file of attribute "
                   "values, one row per series to generate (conditioned on them)")
    p.add_argument("--length", type=int, help="force every series to this many steps")
    p.add_argument("--batch-size", type=int, default=1000, help="series per batch (default "
                   "1000; the memory held at a time)")
    p.add_argument("--shard", type=int, help="write part i (0..k-1) of the run")
    p.add_argument("--num-shards", type=int, help="the number of parts k")
    p.add_argument("--overwrite", action="store_true", help="replace an output already there")
    p.set_defaults(run=run)
    return p


def model_path(path: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model directory (give RUN/model, written by "
                                "doppelganger fit)")
    if not (path / "model.json").exists() and (path / "model" / "model.json").exists():
        return path / "model"  # the run directory
    return path


def run(args) -> int:
    if (args.shard is None) != (args.num_shards is None):
        raise UserError("give --shard and --num-shards together")
    attributes = None
    n = args.num
    if args.attributes is not None:
        attributes = read_frame(args.attributes)
        if n is not None and n != len(attributes):
            raise UserError(f"-n {n} but --attributes {args.attributes} has {len(attributes)} "
                            "rows: one series is generated per row (leave out -n)")
        n = len(attributes)
    if n is None:
        raise UserError("give -n N (how many series), or --attributes FILE")
    if n < 1:
        raise UserError(f"-n must be >= 1, got {n}")
    output = Path(args.output)
    if output.exists() and not args.overwrite and args.shard is None:
        raise UserError(f"--output {output} exists: give a new path, or --overwrite to replace "
                        "it")
    path = model_path(args.model)
    cpu_threads()
    from ..gan.model import DoppelGANger
    model = DoppelGANger.load(path)
    started = time.perf_counter()
    written = model.generate_to(output, n, attributes=attributes, length=args.length,
                                seed=args.seed, batch_size=args.batch_size, shard=args.shard,
                                num_shards=args.num_shards, overwrite=args.overwrite)
    part = "" if args.shard is None else f" (shard {args.shard} of {args.num_shards})"
    say(f"wrote {n:,} series{part} to {written} in {time.perf_counter() - started:.1f} s")
    return 0
