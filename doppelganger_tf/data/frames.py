"""The user's DataFrames: reading their series, and what a Dataset remembers of them.

The readers turn a frame into a :class:`SeriesTable` (the series' ids, lengths, flat feature
columns over their rows, one value per series for attributes, and the time values):
:func:`read_long` (one row per time step, ``Dataset.from_dataframe``), :func:`read_wide` (one
row per series, one column per time step, ``Dataset.from_wide_dataframe``) and
:func:`cut_windows` (long series cut into samples, ``Dataset.from_long_series``).

:class:`FrameInfo` is what a Dataset keeps of the frame it was read from, so that
``to_dataframe`` gives data back as they came in: the id and time columns
(:class:`~doppelganger_tf.data.time_axis.TimeAxis`), the input's layout, column order and dtypes,
and, for the data read (not for generated data), each series' id and start.  The report of
how the input was read (column types, missing values, windows) travels with it for
:meth:`Dataset.describe`.  ``FrameInfo.template()`` is the part to give a model: it holds no
id, start or report of a training series, only the distinct training starts.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .. import arguments
from . import column_types
from .time_axis import TimeAxis
from .time_values import json_scalar

LAYOUTS = ("long", "wide")


# --- what a Dataset remembers ---------------------------------------------------------------------

@dataclass(frozen=True)
class FrameInfo:
    """See the module docstring.  ``columns``: the input's columns in its order (id, time and
    value columns; for the wide layout the id and attribute columns, the time columns
    following); ``dtypes``: value column name -> :func:`column_types.dtype_info`; ``ids``:
    each series' id (JSON scalars) and ``starts`` its encoded start (regular time axis), None
    for generated data; ``report``: how the input was read (JSON)."""

    axis: TimeAxis
    layout: str = "long"
    columns: Tuple = ()
    dtypes: Dict[str, dict] = field(default_factory=dict)
    ids: Optional[Tuple] = None
    starts: Optional[Tuple] = None
    report: Optional[dict] = None

    def template(self) -> "FrameInfo":
        """The description without any training series' id, start or report: what a model
        keeps to give its generated data the same columns."""
        return replace(self, ids=None, starts=None, report=None)

    def subset(self, indices) -> "FrameInfo":
        """The same description for the series picked by ``indices``."""
        def pick(values):
            if values is None:
                return None
            array = np.empty(len(values), dtype=object)
            array[:] = list(values)
            return tuple(array[indices].tolist())
        return replace(self, ids=pick(self.ids), starts=pick(self.starts))

    def to_dict(self) -> dict:
        return {"axis": self.axis.to_dict(), "layout": self.layout,
                "columns": [json_scalar(c) for c in self.columns],
                "dtypes": self.dtypes,
                "ids": None if self.ids is None else list(self.ids),
                "starts": None if self.starts is None else list(self.starts),
                "report": self.report}

    @classmethod
    def from_dict(cls, d: dict) -> "FrameInfo":
        if not isinstance(d, dict) or "axis" not in d:
            raise ValueError(f"a frame description needs 'axis', got {d!r:.200}")
        layout = d.get("layout", "long")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown frame layout {layout!r}")
        return cls(axis=TimeAxis.from_dict(d["axis"]), layout=layout,
                   columns=tuple(d.get("columns") or ()), dtypes=dict(d.get("dtypes") or {}),
                   ids=None if d.get("ids") is None else tuple(d["ids"]),
                   starts=None if d.get("starts") is None else tuple(d["starts"]),
                   report=d.get("report"))

    def check_length(self, n: int) -> None:
        for name, values in (("ids", self.ids), ("starts", self.starts)):
            if values is not None and len(values) != n:
                raise ValueError(f"the frame description holds {len(values)} series {name} "
                                 f"for {n} samples; give a FrameInfo of these samples (or its "
                                 "template() for generated data)")


# --- the series of a frame ------------------------------------------------------------------------

@dataclass
class SeriesTable:
    """Series read from a frame: ``ids`` (pd.Index, the input's dtype), ``lengths`` [N],
    ``features`` name -> flat values over the rows (sample-major, each series in time order),
    ``attributes`` name -> [N] values, ``times`` the flat time values (a Series of the input's
    dtype) or None, ``time_column`` their column name; ``absent`` (bool per row, or None) marks
    the rows put back where the frame skipped steps of its regular time axis
    (:func:`insert_absent_steps`)."""

    ids: pd.Index
    lengths: np.ndarray
    features: Dict[str, np.ndarray]
    attributes: Dict[str, np.ndarray]
    times: Optional[pd.Series] = None
    time_column: object = None
    absent: Optional[np.ndarray] = None

    @property
    def first_rows(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def locate_row(self, row: int) -> str:
        """The id and time (or step) of a flat row, for messages."""
        sample = int(np.searchsorted(np.cumsum(self.lengths), row, side="right"))
        where = f"id {python_value(self.ids[sample])!r}"
        if self.times is not None:
            return f"{where} at {self.time_column}={self.times.iloc[row]}"
        return f"{where}, step {row - int(self.first_rows[sample])}"

    def select(self, keep: np.ndarray) -> "SeriesTable":
        """The series where ``keep`` (a boolean mask [N]) is true."""
        rows = np.repeat(keep, self.lengths)
        return SeriesTable(
            self.ids[keep], self.lengths[keep], {k: v[rows] for k, v in self.features.items()},
            {k: v[keep] for k, v in self.attributes.items()},
            None if self.times is None else self.times[rows].reset_index(drop=True),
            self.time_column, None if self.absent is None else self.absent[rows])


def read_long(df: pd.DataFrame, id_column, time_column, feature_columns: Sequence,
              attribute_columns: Sequence, continuous: set) -> SeriesTable:
    """The series of a long frame (one row per time step per id; see
    ``Dataset.from_dataframe``).  ``continuous`` names the continuous value columns (read as
    float64, missing values NaN); the others are read as they are."""
    codes, uniques = pd.factorize(df[id_column], sort=False)
    ids = pd.Index(uniques)
    if time_column is None:
        order = np.argsort(codes, kind="stable")
    else:
        keys = pd.DataFrame({"sample": codes, "time": df[time_column].to_numpy()})
        order = keys.sort_values(["sample", "time"], kind="stable").index.to_numpy()
    row_sample = codes[order]
    times = None
    if time_column is not None:
        times = df[time_column].iloc[order].reset_index(drop=True)
        raw = times.to_numpy()
        repeated = np.flatnonzero((row_sample[1:] == row_sample[:-1]) & (raw[1:] == raw[:-1]))
        if len(repeated):
            row = repeated[0] + 1
            raise ValueError(f"id {python_value(ids[row_sample[row]])!r} has two rows at "
                             f"{time_column}={raw[row]}; each (id, time) pair must be unique")
    lengths = np.bincount(codes, minlength=len(ids)).astype(np.int64)
    first_row = np.searchsorted(row_sample, np.arange(len(ids)))
    features = {str(c): column_values(df[c], str(c) in continuous, "feature")[order]
                for c in feature_columns}
    attributes = {}
    for column in attribute_columns:
        values = column_values(df[column], str(column) in continuous, "attribute")[order]
        reference = values[first_row][row_sample]
        varies = _differs(values, reference)
        if varies.any():
            raise ValueError(f"attribute column {column!r} is not constant within id "
                             f"{python_value(ids[row_sample[varies.argmax()]])!r}; attributes must "
                             "have one value per id (make it a feature if it changes over time)")
        attributes[str(column)] = values[first_row]
    return SeriesTable(ids, lengths, features, attributes, times, time_column)


def read_wide(df: pd.DataFrame, id_column, attribute_columns: Sequence, time_columns: Sequence,
              feature_name: str, continuous: set) -> SeriesTable:
    """The series of a wide frame (one row per series, one column per time step, in column
    order; see ``Dataset.from_wide_dataframe``): one feature, ``feature_name``; every series
    has all the time columns' steps.  ``continuous`` names the continuous columns (the feature
    and attributes).  The time values are not set: the caller has the column labels."""
    ids = df[id_column]
    repeated = ids.duplicated()
    if repeated.any():
        raise ValueError(f"id {python_value(ids[repeated].iloc[0])!r} is on two rows; a wide frame "
                         "has one row per series (for one row per time step use "
                         "Dataset.from_dataframe)")
    block = df[list(time_columns)]
    if feature_name in continuous:
        column_types.warn_inexact_integers(
            pd.Series(block.to_numpy().reshape(-1)) if all(
                ptypes.is_integer_dtype(d) for d in block.dtypes) else pd.Series([], dtype=float),
            f"continuous feature {feature_name!r} (the time columns)")
        try:
            matrix = block.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the time columns hold non-numeric values ({exc}); pass "
                             f"discrete_features={feature_name!r} if they are categories, or "
                             "convert them to numbers") from None
    else:
        matrix = block.to_numpy(dtype=object)
    n, steps = matrix.shape
    attributes = {str(c): column_values(df[c], str(c) in continuous, "attribute")
                  for c in attribute_columns}
    return SeriesTable(pd.Index(ids.to_numpy(), dtype=ids.dtype), np.full(n, steps, np.int64),
                       {feature_name: matrix.reshape(-1)}, attributes, None, None)


def cut_windows(table: SeriesTable, window: int, stride: int) -> Tuple[SeriesTable, dict]:
    """Each series cut into windows of ``window`` rows starting every ``stride`` rows (the
    rows after the last whole window are left out) -> (a table of the windows, numbered
    0..W-1, each with its series' attributes; a report of the cut)."""
    arguments.count("window", window)
    arguments.count("stride", stride)
    lengths = table.lengths
    counts = np.where(lengths >= window, (lengths - window) // stride + 1, 0)
    total = int(counts.sum())
    if total == 0:
        raise ValueError(f"no series has window={window} rows (the longest has "
                         f"{int(lengths.max())}); lower window")
    source = np.repeat(np.arange(len(lengths)), counts)
    index_in_source = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    start_rows = table.first_rows[source] + index_in_source * stride
    rows = (start_rows[:, None] + np.arange(window)).reshape(-1)
    covered = np.where(counts > 0, np.where(stride >= window, counts * window,
                                            (counts - 1) * stride + window), 0)
    report = {"window": int(window), "stride": int(stride), "windows": total,
              "sources": int((counts > 0).sum()), "unused_rows": int(lengths.sum()
                                                                     - covered.sum())}
    windows = SeriesTable(
        pd.Index(np.arange(total, dtype=np.int64)), np.full(total, window, np.int64),
        {k: v[rows] for k, v in table.features.items()},
        {k: v[source] for k, v in table.attributes.items()},
        None if table.times is None else table.times.iloc[rows].reset_index(drop=True),
        table.time_column, None if table.absent is None else table.absent[rows])
    return windows, report


def insert_absent_steps(table: SeriesTable, steps: np.ndarray, times: pd.Series
                        ) -> SeriesTable:
    """``table`` with a row put back at every step its series skips: ``steps`` is each row's
    step in its series (0 at its first row, rising by more than 1 over a gap), ``times`` the
    time values of every step of the filled series (flat, sample-major).  The new rows' values
    are missing (NaN in continuous columns, None in the others), for the ``missing=`` policy
    to handle; ``absent`` marks them."""
    sample = np.repeat(np.arange(len(table.lengths)), table.lengths)
    lengths = np.zeros(len(table.lengths), np.int64)
    np.maximum.at(lengths, sample, steps + 1)  # a series' last row is on its last step
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = first[sample] + steps  # where each present row goes
    absent = np.ones(int(lengths.sum()), bool)
    absent[rows] = False
    features = {}
    for name, values in table.features.items():
        filled = (np.full(len(absent), np.nan) if values.dtype.kind == "f"
                  else np.full(len(absent), None, dtype=object))
        filled[rows] = values
        features[name] = filled
    return SeriesTable(table.ids, lengths, features, table.attributes,
                       times.reset_index(drop=True), table.time_column, absent)


# --- values ---------------------------------------------------------------------------------------

def column_values(series: pd.Series, continuous: bool, role: str) -> np.ndarray:
    """A column's values as encoding reads them: float64 with NaN for missing values when
    continuous (numbers given as strings are parsed), as they are otherwise."""
    if not continuous:
        return series.to_numpy()
    column_types.warn_inexact_integers(series, f"continuous {role} column {series.name!r}")
    if ptypes.is_numeric_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        return pd.to_numeric(series.astype(object), errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"continuous {role} column {series.name!r} holds non-numeric values "
                         f"({exc}); list it in discrete_{role}s or convert it to "
                         "numbers") from None


def _differs(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Elementwise "not the same value", two missing values being the same."""
    a, b = np.asarray(pd.isna(values), bool), np.asarray(pd.isna(reference), bool)
    out = a != b
    both = ~a & ~b
    out[both] = np.asarray(values[both] != reference[both], bool)
    return out


def python_value(value):
    """A numpy scalar as the Python one (numpy 2 would write np.int64(7) in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def time_labels(time_columns: Sequence) -> pd.Series:
    """The time columns' labels as time values (a Series of their Index's dtype)."""
    return pd.Series(pd.Index(list(time_columns)))


def check_layout(layout) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not an option; use 'long' (one row per time "
                         "step) or 'wide' (one row per series, one column per time step)")
    return layout


def json_ids(ids: pd.Index) -> List:
    return [json_scalar(v) for v in ids.tolist()]
