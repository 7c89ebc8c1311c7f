"""What the subcommands share: the data options (how a CSV or Parquet file is read), merging
them with a settings file, and the messages."""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from ..settings import (DataOptions, MISSING, NORMALIZATIONS, TRANSFORMS, Settings,
                        SettingsError)

PROGRAM = "doppelganger"


class UserError(ValueError):
    """A mistake of the user's: one line on stderr, exit status 1."""


def say(text: str = "") -> None:
    """A message for the user (stdout)."""
    print(text, flush=True)


def cpu_threads():
    """TensorFlow's CPU thread pools as the package recommends, before its first operation (the
    commands call it once the input is checked, so that a user error does not wait for
    TensorFlow to load; silent when TensorFlow has started already, e.g. main() called twice
    in one process)."""
    import warnings

    from ..training.runtime import set_cpu_threads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        set_cpu_threads()


def names(text: str):
    """A comma-separated list of column names (argparse type)."""
    values = [n.strip() for n in text.split(",") if n.strip()]
    if not values:
        raise argparse.ArgumentTypeError("give at least one column name")
    return values


def add_data_options(parser: argparse.ArgumentParser, id_required_note: str = "") -> None:
    """The options of DataOptions; each defaults to None, so that a settings file (--config)
    fills what the command line leaves out."""
    group = parser.add_argument_group(
        "reading the data (as Dataset.from_dataframe / from_wide_dataframe)")
    group.add_argument("--id", metavar="COL", help="the column naming each series" +
                       id_required_note)
    group.add_argument("--time", metavar="COL", help="the time column (long layout); text "
                       "in ISO 8601 (2015-07-01) is read as dates")
    group.add_argument("--features", metavar="COL", nargs="+", action="extend", type=names,
                       help="feature (measurement) columns, varying in time (default: every "
                       "column but the id, time and attributes)")
    group.add_argument("--attributes", metavar="COL", nargs="+", action="extend", type=names,
                       help="attribute (metadata) columns, constant within a series")
    group.add_argument("--wide", dest="layout", action="store_const", const="wide",
                       help="one row per series and one column per time step (the columns "
                       "other than --id and --attributes), as the Kaggle WWT file")
    group.add_argument("--discrete", metavar="COL", nargs="+", action="extend", type=names,
                       help="columns to treat as discrete (categories), whatever their dtype")
    group.add_argument("--continuous", metavar="COL", nargs="+", action="extend", type=names,
                       help="columns to treat as continuous")
    group.add_argument("--missing", choices=MISSING, help="missing values: refuse them "
                       "(error, the default), fill them inside each series (interpolate) or "
                       "drop the series that have any (drop_series)")
    group.add_argument("--transform", metavar="[COL=]NAME", action="append",
                       help=f"a log before scaling, one of {', '.join(TRANSFORMS)} (default "
                       "auto: log1p for heavy-tailed columns); COL=NAME for one column "
                       "(repeat the option for several)")
    group.add_argument("--normalization", choices=NORMALIZATIONS,
                       help="scale continuous columns to [0, 1] (zero_one, default) or [-1, 1]")
    group.add_argument("--feature-name", metavar="NAME",
                       help="--wide: the name of the values (default: value)")
    group.add_argument("--time-name", metavar="NAME",
                       help="--wide: the name of the time (default: time)")


def transforms(values) -> Optional[object]:
    """--transform values -> DataOptions.transforms (None when not given)."""
    if not values:
        return None
    whole = [v for v in values if "=" not in v]
    per_column = dict(v.split("=", 1) for v in values if "=" in v)
    if whole and per_column:
        raise UserError("--transform: give either one NAME for every column or COL=NAME "
                        "pairs, not both")
    if len(whole) > 1:
        raise UserError(f"--transform given {len(whole)} times without a column: give one "
                        "NAME, or COL=NAME for each column")
    return whole[0] if whole else {k.strip(): v.strip() for k, v in per_column.items()}


def data_options(args, settings: Optional[Settings] = None) -> DataOptions:
    """The data options of the command line over those of a settings file over the
    defaults."""
    values = settings.data.to_dict() if settings is not None else DataOptions().to_dict()
    given = {"id": args.id, "time": args.time, "features": _flat(args.features),
             "attributes": _flat(args.attributes), "layout": args.layout,
             "discrete": _flat(args.discrete), "continuous": _flat(args.continuous),
             "missing": args.missing, "transforms": transforms(args.transform),
             "normalization": args.normalization, "feature_name": args.feature_name,
             "time_name": args.time_name}
    for key, value in given.items():
        if value is not None:
            values[key] = value
    try:
        return DataOptions(**values)
    except SettingsError as error:
        text = str(error)
        for key, value in given.items():  # named as the command line's option where it gave it
            if value is not None and f"data.{key}" in text:
                option = "--transform" if key == "transforms" else "--" + key.replace("_", "-")
                text = text.replace(f"data.{key}.", f"{option} ").replace(f"data.{key}", option)
        raise UserError(text) from None


def _flat(lists):
    """argparse's extend of comma-separated lists -> one list (None when not given)."""
    if lists is None:
        return None
    return [name for item in lists for name in (item if isinstance(item, list) else [item])]


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, KeyError) and text.startswith("'"):
        text = f"no column {text}"
    return text or type(error).__name__


# the Python API's argument names in the readers' messages -> the command line's options
OPTION_WORDS = (("time_column", "--time"), ("id_column", "--id"),
                ("feature_columns", "--features"), ("attribute_columns", "--attributes"),
                ("discrete_features", "--discrete"), ("discrete_attributes", "--discrete"),
                ("continuous_features", "--continuous"),
                ("continuous_attributes", "--continuous"))
DATA_COMMANDS = ("describe", "fit", "evaluate")


def error_line(command: Optional[str], error: BaseException) -> None:
    where = f"{PROGRAM} {command}" if command else PROGRAM
    text = one_line(error)
    if command in DATA_COMMANDS:
        for word, option in OPTION_WORDS:
            text = text.replace(word, option)
    print(f"{where}: error: {text}", file=sys.stderr, flush=True)
