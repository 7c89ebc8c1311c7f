"""A Dataset from a DataFrame: :meth:`Dataset.from_dataframe` (long: one row per step),
:meth:`Dataset.from_wide_dataframe` (one row per series) and :meth:`Dataset.from_long_series`
(windows cut from long series).

The entry point that calls the modules of each step: :mod:`~doppelganger_tf.data.frames` (reading
long and wide frames, windows; what a Dataset remembers of its frame),
:mod:`~doppelganger_tf.data.column_types` (discrete or continuous, dtypes, the describe() text),
:mod:`~doppelganger_tf.data.missing` (the ``missing=`` policies),
:mod:`~doppelganger_tf.data.time_axis` (ids and time stamps, kept and reproduced) and
:mod:`~doppelganger_tf.data.array_builder` (the columns encoded)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, List, Optional, Type

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .. import arguments
from . import column_types, frames
from . import missing as missing_policies
from .array_builder import column_list, encode_raw_columns
from .frame_arguments import (check_discrete_kinds, check_distinct_labels, check_frame_columns,
                              quoted)
from .missing import check_policy
from .outputs import Normalization
from .time_axis import capture, shared_calendar
from .time_gaps import find_gaps
from .time_values import encode_values, json_scalar, time_kind

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from .dataset import Dataset


def from_dataframe(cls: Type[Dataset], df: pd.DataFrame, *, id_column, feature_columns,
                   attribute_columns=(), time_column=None, discrete_features=(),
                   discrete_attributes=(), continuous_features=(), continuous_attributes=(),
                   normalization=Normalization.ZERO_ONE, max_length: Optional[int] = None,
                   sample_len: Optional[int] = None, missing: str = "error",
                   transforms="auto") -> Dataset:
    """Build a Dataset from a long-form DataFrame: one row per time step per id.

    Samples follow the ids' order of first appearance (sample i is the i-th distinct id;
    ``pd.unique(df[id_column])`` gives the mapping). A column not named in ``discrete_*`` /
    ``continuous_*`` takes its type from its dtype: object, string, bool and ``category``
    columns are discrete (one-hot over their sorted distinct values), numeric ones continuous
    (scaled with ``normalization`` by their global min/max); :meth:`describe` prints each
    decision and flags numeric columns with few distinct values. The Dataset remembers the id
    and time columns (names, dtypes, each series' id and start, the step or shared calendar)
    and the value columns' dtypes, so :meth:`to_dataframe` returns the same columns. Each list
    argument also takes a single name (``feature_columns="views"``).

    Args:
        df: The frame.
        id_column: The series' id.
        feature_columns: The measurements (features).
        attribute_columns: The metadata (attributes), constant within each id.
        time_column: Orders the rows within each id; default: file order.
        discrete_features: Feature columns to treat as categorical whatever their dtype.
        discrete_attributes: Attribute columns to treat as categorical.
        continuous_features: Feature columns to treat as continuous.
        continuous_attributes: Attribute columns to treat as continuous.
        normalization: The continuous columns' range, [0, 1] or [-1, 1].
        max_length: T; default: the longest series.
        sample_len: Rounds T up to a multiple of it (the extra steps are padding).
        missing: "error" refuses missing values; "interpolate" fills them within each series
            (linear, edge fill at its ends; a missing discrete attribute is its own
            category); "drop_series" drops the series that have any. :meth:`describe`
            reports the counts.
        transforms: A log applied to continuous feature columns before scaling and inverted
            on every way out (:meth:`to_dataframe`, :meth:`feature_values`, generated data,
            saved Datasets and models): "log1p" (values >= 0), "signed_log1p"
            (sign(x) * log1p(abs(x)), any sign), "none", or "auto": log1p or signed_log1p for
            a heavy-tailed column (largest magnitude at least 100x its median nonzero
            magnitude), scaled for columns of small values (log1p(x / 0.001)). One name for
            every continuous feature column, or a dict {column: name} (the others get
            "auto"); a :class:`~doppelganger_tf.data.outputs.ColumnTransform` gives a scale. The
            feature_min/feature_max of a transformed column are in transformed units
            (docs/data.md, "Transforms").

    Returns:
        The Dataset.

    Raises:
        ValueError: For a missing column, an attribute that varies within an id, a series
            longer than ``max_length``, missing values under ``missing="error"``, or values
            that do not fit their column's type.
    """
    feature_columns = column_list(feature_columns, "feature_columns")
    attribute_columns = column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns)
    decisions = _decide(df, feature_columns, attribute_columns, discrete_features,
                        discrete_attributes, continuous_features, continuous_attributes)
    check_discrete_kinds(df, decisions)
    table = frames.read_long(df, id_column, time_column, feature_columns, attribute_columns,
                             _continuous(decisions))
    table, gaps = _put_back_absent_steps(table)
    table, missing_report = _handle_missing(table, decisions, missing, gaps=gaps)
    axis, starts = capture(id_column, table.ids, time_column, table.times, table.lengths,
                           None if gaps is None else gaps.freq)
    total = _total_length(table, max_length, sample_len,
                          f"df.groupby({id_column!r}).head({max_length}) after sorting by time")
    used = {id_column, time_column, *feature_columns, *attribute_columns}
    return _build(cls, table, decisions, normalization, total, axis, starts, "long",
                  [c for c in df.columns if c in used], df, missing_report, gaps=gaps,
                  sample_len=sample_len, transforms=transforms)


def from_wide_dataframe(cls: Type[Dataset], df: pd.DataFrame, id_column, attribute_columns=(),
                        *, time_columns=None, feature_name: str = "value",
                        time_name: str = "time", discrete_features=(), discrete_attributes=(),
                        continuous_features=(), continuous_attributes=(),
                        normalization=Normalization.ZERO_ONE, sample_len: Optional[int] = None,
                        missing: str = "error", transforms="auto") -> Dataset:
    """Build a Dataset from a wide DataFrame: one row per series, one column per time step.

    This is the layout of the Kaggle WWT file. The step columns' labels (strings such as
    "2015-07-01", numbers or Timestamps) are kept as a shared calendar, and every series has
    all the steps. :meth:`to_dataframe` returns the wide layout by default.

    Args:
        df: The frame.
        id_column: The series' id.
        attribute_columns: The metadata columns.
        time_columns: The step columns in time order; default: every column that is neither
            the id nor an attribute, in frame order.
        feature_name: The name of the one feature the values form (continuous when the
            columns are numeric, unless ``discrete_features`` names it).
        time_name: The time column's name in :meth:`to_dataframe`'s long layout.
        discrete_features: As in :meth:`from_dataframe`.
        discrete_attributes: As in :meth:`from_dataframe`.
        continuous_features: As in :meth:`from_dataframe`.
        continuous_attributes: As in :meth:`from_dataframe`.
        normalization: As in :meth:`from_dataframe`.
        sample_len: As in :meth:`from_dataframe`.
        missing: As in :meth:`from_dataframe`, for missing cells.
        transforms: As in :meth:`from_dataframe`: a name, or {feature_name: name}.

    Returns:
        The Dataset.

    Raises:
        ValueError: For absent or clashing column names, time labels of mixed types, and the
            errors of :meth:`from_dataframe`.
    """
    attribute_columns = column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    check_frame_columns(df, id_column, None, None, attribute_columns)
    if time_columns is None:
        taken = {id_column, *attribute_columns}
        time_columns = [c for c in df.columns if c not in taken]
    else:
        time_columns = column_list(time_columns, "time_columns")
        absent = [c for c in time_columns if c not in df.columns]
        if absent:
            raise ValueError(f"time_columns names {quoted(absent)}, not in the DataFrame (it "
                             f"has the columns {list(df.columns)[:20]})")
    if not time_columns:
        raise ValueError("the wide frame has no time columns besides the id and attributes; "
                         "give time_columns")
    clash = [c for c in time_columns if c == id_column or c in attribute_columns]
    if clash:
        raise ValueError(f"time_columns includes {clash[0]!r}, which is the id or an "
                         "attribute column")
    if feature_name in [str(c) for c in attribute_columns]:
        raise ValueError(f"feature_name={feature_name!r} is also an attribute column; pick "
                         "another feature_name")
    # the long layout of to_dataframe has an id, a time and a feature column: distinct names
    for argument, name in (("feature_name", feature_name), ("time_name", time_name)):
        if name == str(id_column) or (argument == "time_name" and (
                name == feature_name or name in [str(c) for c in attribute_columns])):
            raise ValueError(f"{argument}={name!r} is also the name of the id, an attribute or "
                             f"the feature (feature_name); pick another {argument}")
    check_distinct_labels(df, [id_column, *attribute_columns, *time_columns])
    block = df[list(time_columns)]
    for column in time_columns:  # the values: complex refused before they are converted
        column_types.check_values(block[column], f"the time column {column!r} of the "
                                  f"values ({feature_name!r})", one_kind=False)
    labels = frames.time_labels(time_columns)
    column_types.check_values(labels, "the header of the time columns", one_kind=True,
                              fix="give every time column a label of one type (all strings, "
                              "all numbers or all Timestamps)",
                              locate=lambda i: f"time column {i}")
    dtype = _common_dtype(block.dtypes)
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
        values = pd.Series(block.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1))
    else:  # discrete by its dtype (unless listed): its values are not read here
        values = pd.Series([], dtype=dtype)
    decisions = (column_types.decide({feature_name: values}, "feature", column_list(
                     discrete_features, "discrete_features"), column_list(
                     continuous_features, "continuous_features"), {feature_name: dtype})
                 + column_types.decide({str(c): df[c] for c in attribute_columns}, "attribute",
                                       column_list(discrete_attributes, "discrete_attributes"),
                                       column_list(continuous_attributes,
                                                    "continuous_attributes")))
    check_discrete_kinds(df, [d for d in decisions if d.role == "attribute"])
    if feature_name not in _continuous(decisions):  # discrete: one kind over all the cells
        width = len(time_columns)
        column_types.check_values(block.to_numpy(dtype=object).reshape(-1),
                                  f"discrete feature {feature_name!r} (the time columns)",
                                  one_kind=True, fix=column_types.mixed_kind_fix(None, "feature"),
                                  locate=lambda i: f"id row {i // width}, time column "
                                                   f"{time_columns[i % width]!r}")
    table = frames.read_wide(df, id_column, attribute_columns, time_columns, feature_name,
                             _continuous(decisions))

    def locate(row):  # row r of the flat values is step r % T of series r // T
        return (f"id {frames.python_value(table.ids[row // len(labels)])!r} at "
                f"{time_name}={labels.iloc[row % len(labels)]!r}")

    table, missing_report = _handle_missing(table, decisions, missing, locate)
    axis, starts = shared_calendar(id_column, table.ids, time_name, labels), None
    total = _total_length(table, None, sample_len, "")
    columns = [c for c in df.columns if c == id_column or c in attribute_columns]
    return _build(cls, table, decisions, normalization, total, axis, starts, "wide", columns,
                  df, missing_report, feature_dtype=dtype, sample_len=sample_len,
                  transforms=transforms)


def from_long_series(cls: Type[Dataset], df: pd.DataFrame, *, window: int, feature_columns,
                     time_column=None, stride: Optional[int] = None, id_column=None,
                     attribute_columns=(), start_attribute: Optional[str] = None,
                     window_column: str = "window", discrete_features=(),
                     discrete_attributes=(), continuous_features=(), continuous_attributes=(),
                     normalization=Normalization.ZERO_ONE, sample_len: Optional[int] = None,
                     missing: str = "error", transforms="auto") -> Dataset:
    """Build a Dataset by cutting one long series (or one per id) into windows.

    Each window of ``window`` consecutive rows (in ``time_column`` order) is a sample, its id
    its number 0..W-1; rows after a series' last whole window are left out. A window's
    attributes are those of its series (list ``id_column`` in ``attribute_columns`` to keep the
    series' id as one).

    Args:
        df: The frame: one row per time step.
        window: Rows per sample.
        feature_columns: The measurements (features).
        time_column: Orders the rows; default: file order.
        stride: Rows between window starts; default ``window`` (no overlap).
        id_column: Cut each id's series separately; default: the whole frame is one series.
        attribute_columns: The metadata columns, constant within each series.
        start_attribute: A name: adds each window's start time as a continuous attribute
            (seconds since the epoch for datetimes). The model learns it, and
            :meth:`to_dataframe` returns it in the time column's dtype and starts each
            generated window at the nearest training window start.
        window_column: The name of the windows' id column.
        discrete_features: As in :meth:`from_dataframe`.
        discrete_attributes: As in :meth:`from_dataframe`.
        continuous_features: As in :meth:`from_dataframe`.
        continuous_attributes: As in :meth:`from_dataframe`.
        normalization: As in :meth:`from_dataframe`.
        sample_len: As in :meth:`from_dataframe`.
        missing: "error" and "interpolate" work on the long series before cutting;
            "drop_series" drops the windows that have a missing value.
        transforms: As in :meth:`from_dataframe`.

    Returns:
        The Dataset.

    Raises:
        ValueError: For a ``window_column`` or ``start_attribute`` that is already a column,
            a ``start_attribute`` without a numeric or datetime ``time_column``, no series as
            long as one window, and the errors of :meth:`from_dataframe`.
    """
    feature_columns = column_list(feature_columns, "feature_columns")
    attribute_columns = column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    arguments.count("window", window)
    stride = window if stride is None else stride
    arguments.count("stride", stride)
    source = df
    source_id = id_column
    if id_column is None:
        source_id = "__series__"
        while source_id in df.columns:
            source_id = "_" + source_id
        source = df.assign(**{source_id: 0})
    # the series' id may also be kept as an attribute (see the docstring)
    check_frame_columns(source, source_id, time_column, feature_columns, attribute_columns,
                         id_may_be_attribute=True)
    for name, argument in ((window_column, "window_column"), (start_attribute, "start_attribute")):
        if name is not None and (name in df.columns):
            raise ValueError(f"{argument}={name!r} is already a column of the DataFrame; pick "
                             f"another {argument}")
    if start_attribute is not None:
        if time_column is None:
            raise ValueError("start_attribute needs a time_column (the window's start time)")
        if time_kind(df[time_column].dtype) == "other":
            raise ValueError(f"start_attribute needs a numeric or datetime time_column; "
                             f"{time_column!r} is {df[time_column].dtype}")
    decisions = _decide(df, feature_columns, attribute_columns, discrete_features,
                        discrete_attributes, continuous_features, continuous_attributes)
    check_discrete_kinds(df, decisions)
    table = frames.read_long(source, source_id, time_column, feature_columns,
                             attribute_columns, _continuous(decisions))
    table, gaps = _put_back_absent_steps(table, keep_shared=False)
    missing_report = None
    if missing != "drop_series":
        table, missing_report = _handle_missing(table, decisions, missing, gaps=gaps)
    windows, window_report = frames.cut_windows(table, window, stride)
    if missing == "drop_series":
        windows, missing_report = _handle_missing(windows, decisions, missing, gaps=gaps)
    axis, starts = capture(window_column, windows.ids, time_column, windows.times,
                           windows.lengths, None if gaps is None else gaps.freq)
    extra_dtypes = {}
    if start_attribute is not None:
        first = windows.first_rows
        window_starts = windows.times.iloc[first].reset_index(drop=True)
        numbers = axis.start_numbers(encode_values(window_starts, axis.time_kind))
        windows.attributes[start_attribute] = numbers
        decisions = decisions + [column_types.Decision(
            start_attribute, "attribute", False, "the window's start (start_attribute)",
            str(df[time_column].dtype))]
        axis = dataclasses.replace(axis, start_attribute=start_attribute)
        extra_dtypes[start_attribute] = column_types.dtype_info(df[time_column].dtype)
    total = _total_length(windows, None, sample_len, "")
    used = {time_column, *feature_columns, *attribute_columns}
    columns = [window_column] + [c for c in df.columns if c in used] + (
        [start_attribute] if start_attribute is not None else [])
    return _build(cls, windows, decisions, normalization, total, axis, starts, "long", columns,
                  df, missing_report, window_report=window_report, extra_dtypes=extra_dtypes,
                  gaps=gaps, sample_len=sample_len, transforms=transforms)


def _decide(df, feature_columns, attribute_columns, discrete_features, discrete_attributes,
            continuous_features, continuous_attributes) -> List[column_types.Decision]:
    """The type of each value column (column_types.decide)."""
    lists = {name: column_list(value, name) for name, value in (
        ("discrete_features", discrete_features), ("discrete_attributes", discrete_attributes),
        ("continuous_features", continuous_features),
        ("continuous_attributes", continuous_attributes))}
    return (column_types.decide({str(c): df[c] for c in feature_columns}, "feature",
                                lists["discrete_features"], lists["continuous_features"])
            + column_types.decide({str(c): df[c] for c in attribute_columns}, "attribute",
                                  lists["discrete_attributes"], lists["continuous_attributes"]))


def _continuous(decisions) -> set:
    return {d.name for d in decisions if not d.discrete}


def _handle_missing(table, decisions, missing: str, locate=None, gaps=None):
    """The table with its missing values handled under ``missing`` -> (table, report)."""
    discrete = {d.name for d in decisions if d.discrete}
    features, attributes, keep, report = missing_policies.apply(
        missing, table.features, discrete, table.attributes, discrete, table.lengths,
        [frames.python_value(i) for i in table.ids], locate or table.locate_row,
        absent=table.absent, axis_text="" if gaps is None else
        f"the regular step {gaps.step_text} of time column {table.time_column!r}")
    table = dataclasses.replace(table, features=features, attributes=attributes)
    if keep is not None:
        table = table.select(keep)
    return table, report


def _put_back_absent_steps(table, keep_shared: bool = True):
    """Series on a regular time axis whose frame lacks some of its steps (rows absent, e.g.
    6 hours of 26,880) -> (the table with a row of missing values at each absent step, the
    :class:`~doppelganger_tf.data.time_gaps.Gaps`); (table, None) when no step is absent or the
    times are irregular.  Without this the series would be read as irregular: their later
    readings moved to earlier steps, and the calendar lost.  ``keep_shared``: series on one
    shared calendar keep it as it is (see time_gaps.find_gaps); False for the long series that
    windows are cut from, whose windows would otherwise span different durations."""
    if table.times is None:
        return table, None
    gaps = find_gaps(table.times, table.lengths, keep_shared)
    if gaps is None:
        return table, None
    return frames.insert_absent_steps(table, gaps.steps, gaps.times), gaps


def _common_dtype(dtypes: pd.Series):
    """One dtype for the values of several columns: theirs when they share it, numpy's common
    type of numeric ones, else object."""
    distinct = list(dict.fromkeys(dtypes.tolist()))
    if len(distinct) == 1:
        return distinct[0]
    if all(isinstance(d, np.dtype) and d.kind in "iuf" for d in distinct):
        return np.result_type(*distinct)
    return np.dtype(object)


def _total_length(table, max_length, sample_len, truncate_hint: str) -> int:
    """T: the longest series or ``max_length``, rounded up to a multiple of ``sample_len``."""
    lengths = table.lengths
    longest = int(lengths.max())
    if max_length is not None:
        arguments.count("max_length", max_length)
        if longest > max_length:
            counted = ("steps (its absent steps put back)" if table.absent is not None
                       else "rows")
            raise ValueError(
                f"id {frames.python_value(table.ids[int(lengths.argmax())])!r} has {longest} "
                f"{counted}, more than max_length={max_length}; truncate the series first (e.g. "
                f"{truncate_hint}) or raise max_length")
    total = longest if max_length is None else int(max_length)
    if sample_len is not None:
        arguments.count("sample_len", sample_len)
        total = -(-total // sample_len) * sample_len
    return total


def _build(cls, table, decisions, normalization, total, axis, starts, layout, columns, df,
           missing_report, feature_dtype=None, window_report=None, extra_dtypes=None,
           gaps=None, sample_len=None, transforms="auto"):
    """Encode a table of series and attach what the Dataset remembers of its frame (with the
    report: column types, missing values, absent steps put back, windows, sample_len, why each
    continuous feature has its transform)."""
    missing_category = set((missing_report or {}).get("missing_category") or {})
    encoded, transform_reasons = encode_raw_columns(
        list(table.features.values()), table.lengths, total, list(table.attributes.values()),
        feature_names=list(table.features), attribute_names=list(table.attributes),
        discrete_features=[d.name for d in decisions if d.role == "feature" and d.discrete],
        discrete_attributes=[d.name for d in decisions if d.role == "attribute" and d.discrete],
        normalization=normalization, feature_outputs=None, attribute_outputs=None,
        feature_range=(None, None), attribute_range=(None, None),
        missing_category=missing_category, transforms=(transforms, "auto"))
    dtypes = {}
    for d in decisions:
        if feature_dtype is not None and d.role == "feature":
            dtypes[d.name] = column_types.dtype_info(feature_dtype)
        elif d.name in (extra_dtypes or {}):
            dtypes[d.name] = extra_dtypes[d.name]
        else:
            column = next(c for c in df.columns if str(c) == d.name)
            dtypes[d.name] = column_types.dtype_info(df[column].dtype)
    report = {"columns": [d.to_dict() for d in decisions], "missing": missing_report,
              "transforms": transform_reasons}
    if window_report is not None:
        report["windows"] = window_report
    if gaps is not None:
        report["absent_steps"] = {"steps": gaps.absent, "series": gaps.series,
                                  "step": gaps.step_text}
    if sample_len is not None:  # named when a model's sample_len does not fit (validate)
        report["sample_len"] = int(sample_len)
    frame = frames.FrameInfo(
        axis=axis, layout=layout, columns=tuple(json_scalar(c) for c in columns),
        dtypes=dtypes, ids=tuple(frames.json_ids(table.ids)),
        starts=None if starts is None else tuple(json_scalar(v) for v in starts),
        report=report)
    return cls(**encoded, frame=frame)
