"""doppelganger evaluate: the fidelity report of synthetic data against real data, for CSV or
Parquet files (read with the same data options) or saved Dataset directories."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import FILE_SUFFIXES, load_settings, read_frame
from .common import UserError, add_data_options, data_options, say

HELP = "the fidelity report of synthetic data against real data"
EXAMPLES = """examples:
  doppelganger evaluate pages.csv generated.csv --id page --time day \\
      --attributes domain access agent --output report
  doppelganger evaluate pages.csv generated.csv --config run/settings.toml --output report
  doppelganger evaluate real_dataset/ generated_dataset/ --output report   (saved Datasets)

Both files are read with the same options into one Dataset (so the two share their scaling
and categories), then compared: report.md and report.json (every figure beside the
real-vs-real floor: two halves of the real data) and PNG figures in the output directory.
"""


def add_parser(subparsers):
    p = subparsers.add_parser("evaluate", help=HELP, description=HELP + ", every figure beside "
                              "the real-vs-real floor (docs/evaluation.md).", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("real", metavar="REAL", help="the real data: a .csv / .parquet file or a "
                   "saved Dataset directory")
    p.add_argument("synthetic", metavar="SYNTHETIC", help="the synthetic data, of the same kind")
    p.add_argument("--output", "-o", metavar="DIR", required=True,
                   help="directory for the report (new)")
    p.add_argument("--overwrite", action="store_true", help="replace a report already there")
    add_data_options(p)
    p.add_argument("--config", metavar="FILE", help="a settings file whose [data] options "
                   "the command line's complete (e.g. the run's settings.toml)")
    p.add_argument("--seed", type=int, default=0, help="seed of the real halves (default 0)")
    p.add_argument("--max-samples", type=int, help="compare at most this many series of each")
    p.add_argument("--no-plots", action="store_true", help="write no PNG figures")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from ..persistence.atomic import atomic_directory
    from ..evaluation import evaluate
    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise UserError(f"--output {output} exists: give a new directory, or --overwrite to "
                        "replace it")
    if output.exists() and (not output.is_dir() or (any(output.iterdir()) and not (
            output / "report.json").exists())):
        raise UserError(f"--output {output} exists and is not a report: give a new directory")
    real, synthetic = datasets(args)
    with atomic_directory(output) as tmp:
        report = evaluate(real, synthetic, tmp, seed=args.seed, max_samples=args.max_samples,
                          plots=not args.no_plots)
    for line in summary_lines(report):
        say(line)
    say(f"wrote {output / 'report.md'}, {output / 'report.json'} and "
        f"{len(report['figures'])} figures")
    return 0


def datasets(args):
    """(real, synthetic) Datasets of the same specs."""
    from ..data.dataset import Dataset
    kinds = [Path(p).suffix.lower() in FILE_SUFFIXES for p in (args.real, args.synthetic)]
    if kinds == [False, False]:
        for path in (args.real, args.synthetic):
            if not Path(path).is_dir():
                raise FileNotFoundError(f"{path}: no such saved Dataset directory (or give "
                                        ".csv / .parquet files)")
        return Dataset.load(args.real), Dataset.load(args.synthetic)
    if kinds != [True, True]:
        raise UserError("REAL and SYNTHETIC must both be .csv / .parquet files or both saved "
                        "Dataset directories")
    settings = load_settings(args.config) if args.config else None
    options = data_options(args, settings)
    return files_datasets(options, args.real, args.synthetic)


def files_datasets(options, real_path, synthetic_path):
    """Both files read as one frame (their ids told apart), so one Dataset holds both with
    one scaling and one set of categories; then split back."""
    import dataclasses

    import pandas as pd
    if options.id is None:
        raise UserError("no id column: give --id COLUMN (the column naming each series)")
    long = options
    frames = []
    for source, path in (("real", real_path), ("synthetic", synthetic_path)):
        frame = read_frame(path, options.time if options.layout == "long" else None)
        if options.layout == "wide":
            frame = to_long(frame, options)
        if options.id not in frame.columns:
            raise UserError(f"{path} has no id column {options.id!r} (its columns: "
                            f"{list(frame.columns)[:20]})")
        frame = frame.copy()
        frame[options.id] = source + "/" + frame[options.id].astype(str)
        frames.append(frame)
    if options.layout == "wide":
        long = dataclasses.replace(options, layout="long", time=options.time_name,
                                   features=[options.feature_name])
    both = long.dataset(pd.concat(frames, ignore_index=True))
    ids = pd.Series(both.frame.ids, dtype=object).astype(str)
    real = ids.str.startswith("real/").to_numpy()
    if real.sum() < 2 or (~real).sum() < 1:
        raise UserError(f"{real_path} gives {int(real.sum())} series and {synthetic_path} "
                        f"{int((~real).sum())}: the report needs at least 2 real series and 1 "
                        "synthetic")
    return both.subset(real), both.subset(~real)


def to_long(frame, options):
    """A wide frame (one column per time step) in the long layout generate writes (id,
    attributes, time, value); a frame already long is returned as it is."""
    from ..settings import _dates
    if options.time_name in frame.columns and options.feature_name in frame.columns:
        frame = frame.copy()
        frame[options.time_name] = _dates(frame[options.time_name])
        return frame
    keep = [options.id, *options.attributes]
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise UserError(f"the wide file has no column {absent[0]!r}")
    long = frame.melt(id_vars=keep, var_name=options.time_name, value_name=options.feature_name)
    long[options.time_name] = _dates(long[options.time_name].astype(str))
    return long.sort_values([options.id, options.time_name], kind="stable")


def summary_lines(report: dict):
    """The report's figures, one a line: metric: synthetic (floor, ratio)."""
    from ..evaluation.report import REPORT_SECTIONS
    lines = ["report: metric: synthetic (real-vs-real floor, ratio)"]
    for section in REPORT_SECTIONS:
        if section.endswith("_by_category"):
            continue
        for key, row in report["metrics"].get(section, {}).items():
            lines.append(f"  {key}: {_number(row['synthetic'])} ({_number(row['floor'])}, "
                         f"{_number(row['ratio'])})")
    return lines


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"
