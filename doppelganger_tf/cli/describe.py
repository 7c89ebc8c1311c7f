"""doppelganger describe: how a CSV or Parquet file is read, and the settings suggested."""
from __future__ import annotations

from ..settings import load_settings
from .common import add_data_options, data_options, say

HELP = "how a CSV or Parquet file is read, with the settings suggested for it"
EXAMPLES = """examples:
  doppelganger describe pages.csv --id page --time day --attributes domain access agent
  doppelganger describe pages.csv --id page --time day --missing interpolate --minutes 20
  doppelganger describe wide.csv --id page --wide --attributes domain
"""


def add_parser(subparsers):
    p = subparsers.add_parser("describe", help=HELP, description=HELP + ": each column's type "
                              "and transform (as Dataset.describe()), then the settings "
                              "suggest_config chooses, each with its reason.", epilog=EXAMPLES,
                              formatter_class=_formatter())
    p.add_argument("data", metavar="DATA", help="a .csv or .parquet file")
    add_data_options(p)
    p.add_argument("--config", metavar="FILE", help="a settings file (TOML) whose [data] "
                   "options the command line's complete")
    p.add_argument("--minutes", type=float, help="suggest for a training budget of this many "
                   "minutes of wall time")
    p.set_defaults(run=run)
    return p


def _formatter():
    import argparse
    return argparse.RawDescriptionHelpFormatter


def run(args) -> int:
    settings = load_settings(args.config) if args.config else None
    options = data_options(args, settings)
    data = options.read(args.data)
    seconds = None if args.minutes is None else args.minutes * 60
    if seconds is not None and not seconds > 0:
        raise ValueError(f"--minutes must be > 0, got {args.minutes}")
    data.describe(print_fn=say, seconds=seconds)
    return 0
