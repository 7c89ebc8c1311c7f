"""Raw data <-> Dataset: the builders (:meth:`Dataset.from_arrays`,
:meth:`Dataset.from_dataframe`, :meth:`Dataset.from_wide_dataframe`,
:meth:`Dataset.from_long_series`), real units back (:meth:`Dataset.to_dataframe`,
:meth:`Dataset.feature_values`, :meth:`Dataset.attribute_values`) and the encoding of attributes
to condition on (:func:`encode_attribute_table`).

This module reads the user's arrays, lists and DataFrames into raw columns (features as flat
columns over the active steps, sample-major; attributes as columns over samples) and places them
back; :mod:`doppelganger_tf.encoding` encodes and decodes the columns.  For DataFrames it is
the entry point that calls the modules of each step: :mod:`~doppelganger_tf.frames` (reading
long and wide frames, windows; what a Dataset remembers of its frame),
:mod:`~doppelganger_tf.column_types` (discrete or continuous, dtypes, the describe() text),
:mod:`~doppelganger_tf.missing` (the ``missing=`` policies) and
:mod:`~doppelganger_tf.time_axis` (ids and time stamps, kept and reproduced).
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from . import column_types, frames
from . import missing as missing_policies
from .encoding import (check_encoded, column_transforms, decoded_columns, encode_columns,
                       listed_columns)
from .missing import check_policy
from .outputs import Normalization, Output, named_outputs, total_dim
from .time_axis import (_json_scalar, capture, encode_values, find_gaps, shared_calendar,
                        time_kind)
from .transforms import check_positive_int, gen_flags_from_lengths

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from .dataset import Dataset


# --- building from raw values (Dataset.from_arrays / from_dataframe) ------------------------------

def from_arrays(cls: Type[Dataset], features, attributes=None, *, feature_names=None,
                attribute_names=None, discrete_features=(), discrete_attributes=(),
                normalization=Normalization.ZERO_ONE, lengths=None, feature_outputs=None,
                attribute_outputs=None, feature_min=None, feature_max=None,
                attribute_min=None, attribute_max=None, transforms=None) -> Dataset:
    """Build a Dataset from raw (unscaled, unencoded) values.

    Categorical columns are one-hot encoded over their sorted unique values; the others are
    continuous, scaled with ``normalization`` by their global min/max (over active steps for
    features). A UserWarning says when float32 scaling cannot resolve a column's typical
    values (an extreme value squashing the rest: ``transforms="log1p"`` or clipping fixes it).
    Each list argument also takes a single name (``discrete_attributes="isp"``).

    Args:
        features: An array [N, T, F] or a list of N arrays [T_i, F] (variable length; T is the
            largest T_i).
        attributes: [N, P] as a numpy or object array, a list of rows or a DataFrame (whose
            column names are used); None for no attributes.
        feature_names: Names of the F feature columns.
        attribute_names: Names of the P attribute columns.
        discrete_features: Names or indices of the categorical feature columns.
        discrete_attributes: Names or indices of the categorical attribute columns.
        normalization: The continuous columns' range, [0, 1] or [-1, 1].
        lengths: [N] series lengths for an array ``features``; values after each length are
            ignored.
        feature_outputs: Specs to use as they are (e.g. a trained model's) instead of
            inferring them: the columns must follow their ``column_names()``, values must be
            among their categories, and continuous columns go through their transforms.
        attribute_outputs: The same for the attributes (a DataFrame's columns are picked by
            name).
        feature_min: Per encoded feature column, in transformed units, with ``feature_outputs``;
            default: the column's own min.
        feature_max: As ``feature_min``, the max.
        attribute_min: As ``feature_min``, for the attributes.
        attribute_max: As ``feature_max``, for the attributes.
        transforms: A log per continuous feature column, as in :meth:`from_dataframe` but
            none by default (array input is often transformed by hand already): None or
            "none", one of "log1p", "signed_log1p", "auto" for every continuous feature
            column, or a dict {feature name: transform} (the others get none).

    Returns:
        The Dataset.

    Raises:
        ValueError: For a constant continuous column, a continuous column whose width overflows
            float64, values outside given outputs' categories, or ``transforms`` given together
            with ``feature_outputs`` (which carry their own).
    """
    feature_names = _column_list(feature_names, "feature_names")
    attribute_names = _column_list(attribute_names, "attribute_names")
    discrete_features = _column_list(discrete_features, "discrete_features")
    discrete_attributes = _column_list(discrete_attributes, "discrete_attributes")
    if isinstance(feature_outputs, Output):
        feature_outputs = [feature_outputs]
    if isinstance(attribute_outputs, Output):
        attribute_outputs = [attribute_outputs]
    feature_columns, lengths, max_length = _raw_feature_columns(features, lengths)
    feature_outputs, feature_names = _resolve_names(
        feature_outputs, feature_names, discrete_features, len(feature_columns), "feature")
    attribute_columns, attribute_outputs, attribute_names = _raw_attribute_columns(
        attributes, len(lengths), attribute_outputs, attribute_names, discrete_attributes)
    if feature_outputs is not None and transforms not in (None, "none"):
        raise ValueError("feature_outputs carry their own transforms (Output.transform); do not "
                         "also pass transforms")
    arguments, _ = _encode_raw_columns(
        feature_columns, lengths, max_length, attribute_columns,
        feature_names=feature_names, attribute_names=attribute_names,
        discrete_features=discrete_features, discrete_attributes=discrete_attributes,
        normalization=normalization, feature_outputs=feature_outputs,
        attribute_outputs=attribute_outputs, feature_range=(feature_min, feature_max),
        attribute_range=(attribute_min, attribute_max),
        transforms=("none" if transforms is None else transforms, "none"))
    return cls(**arguments)


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
            "auto"); a :class:`~doppelganger_tf.outputs.ColumnTransform` gives a scale. The
            feature_min/feature_max of a transformed column are in transformed units
            (docs/data.md, "Transforms").

    Returns:
        The Dataset.

    Raises:
        ValueError: For a missing column, an attribute that varies within an id, a series
            longer than ``max_length``, missing values under ``missing="error"``, or values
            that do not fit their column's type.
    """
    feature_columns = _column_list(feature_columns, "feature_columns")
    attribute_columns = _column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    _check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns)
    decisions = _decide(df, feature_columns, attribute_columns, discrete_features,
                        discrete_attributes, continuous_features, continuous_attributes)
    _check_discrete_kinds(df, decisions)
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
    attribute_columns = _column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    _check_frame_columns(df, id_column, None, None, attribute_columns)
    if time_columns is None:
        taken = {id_column, *attribute_columns}
        time_columns = [c for c in df.columns if c not in taken]
    else:
        time_columns = _column_list(time_columns, "time_columns")
        absent = [c for c in time_columns if c not in df.columns]
        if absent:
            raise ValueError(f"time_columns names {_quoted(absent)}, not in the DataFrame (it "
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
    _check_distinct_labels(df, [id_column, *attribute_columns, *time_columns])
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
    decisions = (column_types.decide({feature_name: values}, "feature", _column_list(
                     discrete_features, "discrete_features"), _column_list(
                     continuous_features, "continuous_features"), {feature_name: dtype})
                 + column_types.decide({str(c): df[c] for c in attribute_columns}, "attribute",
                                       _column_list(discrete_attributes, "discrete_attributes"),
                                       _column_list(continuous_attributes,
                                                    "continuous_attributes")))
    _check_discrete_kinds(df, [d for d in decisions if d.role == "attribute"])
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
    feature_columns = _column_list(feature_columns, "feature_columns")
    attribute_columns = _column_list(attribute_columns, "attribute_columns")
    check_policy(missing)
    check_positive_int(window, "window")
    stride = window if stride is None else stride
    check_positive_int(stride, "stride")
    source = df
    source_id = id_column
    if id_column is None:
        source_id = "__series__"
        while source_id in df.columns:
            source_id = "_" + source_id
        source = df.assign(**{source_id: 0})
    # the series' id may also be kept as an attribute (see the docstring)
    _check_frame_columns(source, source_id, time_column, feature_columns, attribute_columns,
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
    _check_discrete_kinds(df, decisions)
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
        numbers = axis.start_numbers(_encoded_times(window_starts, axis))
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


def _encoded_times(times: pd.Series, axis) -> np.ndarray:
    """Time values -> the axis' encoding (see time_axis)."""
    return encode_values(times, axis.time_kind)


def _decide(df, feature_columns, attribute_columns, discrete_features, discrete_attributes,
            continuous_features, continuous_attributes) -> List[column_types.Decision]:
    """The type of each value column (column_types.decide)."""
    lists = {name: _column_list(value, name) for name, value in (
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
    :class:`~doppelganger_tf.time_axis.Gaps`); (table, None) when no step is absent or the
    times are irregular.  Without this the series would be read as irregular: their later
    readings moved to earlier steps, and the calendar lost.  ``keep_shared``: series on one
    shared calendar keep it as it is (see time_axis.find_gaps); False for the long series that
    windows are cut from, whose windows would otherwise span different durations."""
    if table.times is None:
        return table, None
    gaps = find_gaps(table.times, table.lengths, keep_shared)
    if gaps is None:
        return table, None
    return frames.insert_absent_steps(table, gaps.steps, gaps.times), gaps


def _check_discrete_kinds(df, decisions) -> None:
    """Discrete columns hold values of one kind (their categories are sorted, and True would
    otherwise be the category 1)."""
    for d in decisions:
        if d.discrete:
            column = next(c for c in df.columns if str(c) == d.name)
            column_types.check_values(df[column], f"discrete {d.role} column {d.name!r}",
                                      one_kind=True,
                                      fix=column_types.mixed_kind_fix(column, d.role))


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
        check_positive_int(max_length, "max_length")
        if longest > max_length:
            counted = ("steps (its absent steps put back)" if table.absent is not None
                       else "rows")
            raise ValueError(
                f"id {frames.python_value(table.ids[int(lengths.argmax())])!r} has {longest} "
                f"{counted}, more than max_length={max_length}; truncate the series first (e.g. "
                f"{truncate_hint}) or raise max_length")
    total = longest if max_length is None else int(max_length)
    if sample_len is not None:
        check_positive_int(sample_len, "sample_len")
        total = -(-total // sample_len) * sample_len
    return total


def _build(cls, table, decisions, normalization, total, axis, starts, layout, columns, df,
           missing_report, feature_dtype=None, window_report=None, extra_dtypes=None,
           gaps=None, sample_len=None, transforms="auto"):
    """Encode a table of series and attach what the Dataset remembers of its frame (with the
    report: column types, missing values, absent steps put back, windows, sample_len, why each
    continuous feature has its transform)."""
    missing_category = set((missing_report or {}).get("missing_category") or {})
    arguments, transform_reasons = _encode_raw_columns(
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
        axis=axis, layout=layout, columns=tuple(_json_scalar(c) for c in columns),
        dtypes=dtypes, ids=tuple(frames.json_ids(table.ids)),
        starts=None if starts is None else tuple(_json_scalar(v) for v in starts),
        report=report)
    return cls(**arguments, frame=frame)


def _check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns,
                         id_may_be_attribute: bool = False):
    """The named columns exist (one id and time column each) under labels of their own, each
    in one role, the frame has rows, every row has an id (and a time) and ids and times are of
    one type; no column holds complex values.  ``feature_columns`` None: a wide frame, whose
    features are its time columns (checked by the caller).  ``id_may_be_attribute``: the id
    column may also be listed as an attribute (windows keep their series' id)."""
    for argument, column in (("id_column", id_column), ("time_column", time_column)):
        try:
            hash(column)
        except TypeError:
            raise ValueError(f"{argument} takes one column name, got {column!r}") from None
    used = [id_column] + ([time_column] if time_column is not None else [])
    for argument, columns in (("id_column", [id_column]),
                              ("time_column", used[1:]),
                              ("feature_columns", feature_columns or []),
                              ("attribute_columns", attribute_columns)):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{argument} names {_quoted(missing)}, not in the DataFrame "
                             f"(it has the columns {list(df.columns)})")
    if feature_columns is not None and not feature_columns:
        raise ValueError("feature_columns is empty; DoppelGANger needs at least one "
                         "time-series feature")
    _check_distinct_labels(df, [*used, *(feature_columns or []), *attribute_columns])
    _check_roles([("id_column", [id_column]), ("time_column", used[1:]),
                  ("feature_columns", feature_columns or []),
                  ("attribute_columns", [c for c in attribute_columns
                                         if not (id_may_be_attribute and c == id_column)])])
    if len(df) == 0:
        raise ValueError("the DataFrame is empty (N == 0 samples)")
    for column in used:
        if df[column].isna().any():
            raise ValueError(f"column {column!r} has missing values; every row needs an id "
                             "(and a time when time_column is given)")
    for role, column in zip(("id", "time"), used):
        column_types.check_values(df[column], f"{role} column {column!r}", one_kind=True,
                                  fix=column_types.mixed_kind_fix(column, role))
    for role, columns in (("feature", feature_columns or []), ("attribute", attribute_columns)):
        for column in columns:  # before the type decisions read them as float64
            column_types.check_values(df[column], f"{role} column {column!r}", one_kind=False)


def _check_roles(arguments) -> None:
    """Every column in one role: (argument, its columns) pairs, names compared as text (the
    names of the Dataset's columns)."""
    seen = {}  # name -> the argument that listed it first
    for argument, columns in arguments:
        for column in columns:
            name = str(column)
            if name not in seen:
                seen[name] = argument
                continue
            if seen[name] == argument:
                raise ValueError(f"{argument} lists {column!r} twice; list each column once")
            raise ValueError(
                f"column {column!r} is given as {seen[name]} and in {argument}; a column has "
                "one role (id, time, feature or attribute): drop it from one of them, or copy "
                f"it under another name (df[{name + '_copy'!r}] = df[{column!r}]) to use it "
                "twice")


def _check_distinct_labels(df, columns) -> None:
    """The used columns have labels no other column has (pandas gives a DataFrame, not a
    column, for a repeated label) and names that differ as text (1 and '1' would both be
    named '1')."""
    repeated = list(dict.fromkeys(c for c in df.columns[df.columns.duplicated()]
                                  if c in set(columns)))
    if repeated:
        raise ValueError(f"the DataFrame has several columns labelled {_listed(repeated)}; "
                         "give each column a distinct label (df.columns = [...]), or keep "
                         "the first of each: df = df.loc[:, ~df.columns.duplicated()]")
    names = {}
    for column in dict.fromkeys(columns):
        other = names.setdefault(str(column), column)
        if other is not column and other != column:
            raise ValueError(f"the columns {other!r} and {column!r} have the same name as text "
                             f"({str(column)!r}), which names the Dataset's columns; rename "
                             "one (df.rename(columns=...))")


def _listed(labels: list) -> str:
    return repr(labels[0]) if len(labels) == 1 else ", ".join(repr(c) for c in labels)


def _encode_raw_columns(feature_columns, lengths, max_length, attribute_columns, *,
                        feature_names, attribute_names, discrete_features, discrete_attributes,
                        normalization, feature_outputs, attribute_outputs, feature_range,
                        attribute_range, missing_category=(), transforms=("none", "none")
                        ) -> Tuple[dict, Dict[str, str]]:
    """Encode raw columns (features as flat columns over the active steps, sample-major,
    attributes as columns over samples) -> (the Dataset constructor's arguments, why each
    continuous feature column has its transform).  ``transforms``: (the argument, what the
    columns a dict does not list get); unused with ``feature_outputs``."""
    feature_columns = _checked_raw_columns(feature_columns, feature_names, discrete_features,
                                           feature_outputs, "feature")
    chosen, reasons = None, {}
    if feature_outputs is None:
        discrete = listed_columns(discrete_features, feature_names, "discrete_features",
                                  "feature")
        chosen, reasons = column_transforms(transforms[0], feature_names, feature_columns,
                                            discrete, transforms[1])
    attribute_columns = _checked_raw_columns(attribute_columns, attribute_names,
                                             discrete_attributes, attribute_outputs,
                                             "attribute")
    gen_flags = gen_flags_from_lengths(lengths, max_length)
    active = gen_flags > 0.5
    sample_idx, step_idx = np.nonzero(active)
    flat, feature_outputs, feature_min, feature_max = encode_columns(
        feature_columns, feature_names, discrete_features, normalization, feature_outputs,
        feature_range, "feature", lambda r: f"sample {sample_idx[r]}, step {step_idx[r]}",
        len(sample_idx), transforms=chosen)
    attributes, attribute_outputs, attribute_min, attribute_max = encode_columns(
        attribute_columns, attribute_names, discrete_attributes, normalization,
        attribute_outputs, attribute_range, "attribute", lambda r: f"sample {r}",
        len(lengths), missing_category=missing_category)
    features = np.zeros(active.shape + (flat.shape[1],), np.float32)
    features[active] = flat
    return dict(features=features, attributes=attributes, gen_flags=gen_flags,
                feature_outputs=feature_outputs, attribute_outputs=attribute_outputs,
                feature_min=feature_min, feature_max=feature_max, attribute_min=attribute_min,
                attribute_max=attribute_max), reasons


def _checked_raw_columns(columns, names, discrete, outputs, what: str) -> list:
    """Raw columns checked before encoding: no complex values, discrete ones of one kind of
    value and with -0.0 as 0.0, and a warning for integers float64 rounds in continuous
    ones."""
    if outputs is not None:
        listed = {n for o in outputs if not o.is_continuous for n in o.column_names()}
    else:
        listed = {names[i] for i in listed_columns(discrete, names, f"discrete_{what}s", what)}
    checked = []
    for name, values in zip(names, columns):
        is_discrete = name in listed
        column_types.check_values(values, f"{'discrete ' if is_discrete else ''}{what} column "
                                  f"{name!r}", one_kind=is_discrete,
                                  fix=column_types.mixed_kind_fix(name, what))
        if is_discrete:
            values = column_types.positive_zero(values)
        else:
            column_types.warn_inexact_integers(values, f"continuous {what} column {name!r}")
        checked.append(values)
    return checked


def encode_attribute_table(attributes, outputs: Sequence[Output], attribute_min=None,
                           attribute_max=None) -> np.ndarray:
    """Attributes to condition on -> encoded float32 [n, A_enc].

    ``attributes`` is either already encoded (a float array [n, A_enc]: one-hot blocks and scaled
    values, checked) or raw values: a DataFrame whose columns are the outputs' names (or a
    [n, P] array in that order), encoded with the outputs' categories and the given min/max.
    """
    outputs = list(outputs)
    width = total_dim(outputs)
    if isinstance(attributes, np.ndarray) and attributes.dtype.kind == "f" \
            and attributes.ndim == 2 and attributes.shape[1] == width:
        encoded = attributes.astype(np.float32)
        if not np.isfinite(encoded).all():
            raise ValueError("the given attributes hold NaN or inf")
        check_encoded(encoded, outputs, "attribute", lambda r: f"row {r}")
        return encoded
    if attribute_min is None:
        # the model's data were given already scaled: scaling is the identity
        attribute_min = np.concatenate([np.full(o.dim, o.normalization.low if o.is_continuous
                                                else 0.0) for o in outputs]) if outputs else None
        attribute_max = np.ones(width) if outputs else None
    rows = len(attributes)
    columns, outputs, names = _raw_attribute_columns(attributes, rows, outputs, None, ())
    for name, values in zip(names, columns):  # numpy would drop an imaginary part
        column_types.check_values(values, f"attribute column {name!r}", one_kind=False)
    # no precision warning: the range is the model's, which its training data already checked
    encoded, _, _, _ = encode_columns(
        columns, names, (), Normalization.ZERO_ONE, outputs, (attribute_min, attribute_max),
        "attribute", lambda r: f"row {r}", rows, check_precision=False)
    return encoded.astype(np.float32)


# --- real units (Dataset.feature_values / attribute_values / to_dataframe) ------------------------

def feature_values(dataset: Dataset) -> Dict[str, np.ndarray]:
    """Features in real units: column name -> [N, T] array (see Dataset.feature_values)."""
    after_end = dataset.gen_flags < 0.5
    return {name: encoding.blank_after_end(column, after_end)
            for encoding, name, column in decoded_columns(
                dataset.features, dataset.feature_outputs, dataset.feature_min,
                dataset.feature_max)}


def attribute_values(dataset: Dataset) -> pd.DataFrame:
    """Attributes in real units: a DataFrame [N, P] (see Dataset.attribute_values)."""
    columns = {name: column for _, name, column in decoded_columns(
        dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
        dataset.attribute_max)}
    return pd.DataFrame(columns, index=pd.RangeIndex(dataset.num_samples))


DEFAULT = object()  # to_dataframe's time_column when not given


def to_dataframe(dataset: Dataset, id_column=None, time_column=DEFAULT, *, layout=None,
                 seed=None, numbered: bool = False, ids_from=(0, None)) -> pd.DataFrame:
    """Real units as a DataFrame (see Dataset.to_dataframe). ``ids_from``: (first, total) of
    the new ids of generated data, so that the batches of a streamed file number their series
    on from each other (first .. first + N - 1, written as wide as total - 1)."""
    frame = None if numbered else dataset.frame
    layout = frames.check_layout(layout if layout is not None
                                 else (frame.layout if frame is not None else "long"))
    if frame is None:
        id_name = "id" if id_column is None else id_column
        time_name = "time" if time_column is DEFAULT else time_column
        if layout == "long":
            return _numbered_long(dataset, id_name, time_name, ids_from[0])
        return _wide(dataset, id_name, None, None, None, None, None)
    axis = frame.axis
    id_name = axis.id_column if id_column is None else id_column
    time_name = axis.time_column if time_column is DEFAULT else time_column
    gen_flags = dataset.gen_flags > 0.5
    limit = axis.calendar_length
    if limit is not None and gen_flags.shape[1] > limit and gen_flags[:, limit:].any():
        cut = int(gen_flags[:, limit:].any(axis=1).sum())
        warnings.warn(f"{cut} series are longer than the {limit} steps of the calendar of "
                      f"{axis.time_column!r} (T={gen_flags.shape[1]} is padded, e.g. to a "
                      f"multiple of sample_len); their steps past it are left out (generate "
                      f"with length<={limit} to avoid this)", UserWarning, stacklevel=3)
        gen_flags = gen_flags.copy()
        gen_flags[:, limit:] = False
    attributes = {name: column for _, name, column in decoded_columns(
        dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
        dataset.attribute_max)}
    ids = (axis.ids_from_json(frame.ids) if frame.ids is not None
           else axis.new_ids(dataset.num_samples, *ids_from))
    starts = _series_starts(frame, attributes, dataset.num_samples, seed)
    if axis.start_attribute is not None and starts is not None:
        attributes[axis.start_attribute] = axis.decode_values(starts)
    restored = {name: (column if name == axis.start_attribute
                       else column_types.restore(column, frame.dtypes.get(name)))
                for name, column in attributes.items()}
    if layout == "wide":
        return _wide(dataset, id_name, time_name, ids, restored, starts, frame, gen_flags)
    sample_idx, step_idx = np.nonzero(gen_flags)
    columns = {id_name: ids.iloc[sample_idx].reset_index(drop=True)}
    if time_name is not None:
        columns[time_name] = axis.time_values(starts, sample_idx, step_idx)
    _check_clash(dataset, columns)
    for name, column in restored.items():
        columns[name] = column.iloc[sample_idx].reset_index(drop=True)
    for _, name, column in decoded_columns(dataset.features[sample_idx, step_idx],
                                           dataset.feature_outputs, dataset.feature_min,
                                           dataset.feature_max):
        columns[name] = column_types.restore(column, frame.dtypes.get(name))
    return pd.DataFrame(_in_input_order(columns, frame, id_name, time_name))


def _series_starts(frame, attributes, n: int, seed) -> Optional[np.ndarray]:
    """Each sample's encoded start (regular time axis): the stored ones of the data read, else
    from the start attribute (the nearest training start) or drawn from the training starts."""
    axis = frame.axis
    if not axis.has_starts:
        return None
    if frame.starts is not None:
        return np.asarray(frame.starts, dtype=axis._encoded_dtype())
    if axis.start_attribute is not None and axis.start_attribute in attributes:
        return axis.nearest_starts(attributes[axis.start_attribute])
    return axis.draw_starts(n, np.random.default_rng(seed))


def _check_clash(dataset: Dataset, columns: dict) -> None:
    taken = [n for o in dataset.attribute_outputs + dataset.feature_outputs
             for n in o.column_names() if n in columns]
    if taken:
        raise ValueError(f"the data has a column named {taken[0]!r}; pick another "
                         "id_column/time_column")


def _in_input_order(columns: dict, frame, id_name, time_name) -> dict:
    """``columns`` ordered as the input's (id and time under their new names), the others
    after them."""
    axis = frame.axis
    renamed = {axis.id_column: id_name, axis.time_column: time_name}
    order = [renamed.get(c, c) if c in renamed else str(c) for c in frame.columns]
    ordered = {name: columns[name] for name in order if name in columns}
    ordered.update((name, value) for name, value in columns.items() if name not in ordered)
    return ordered


def _numbered_long(dataset: Dataset, id_column, time_column, first_id: int = 0) -> pd.DataFrame:
    """Long form with samples numbered first_id.. and steps 0..length-1 (data without a
    frame)."""
    sample_idx, step_idx = np.nonzero(dataset.gen_flags > 0.5)
    columns = {id_column: sample_idx + first_id}
    if time_column is not None:
        columns[time_column] = step_idx
    _check_clash(dataset, columns)
    for _, name, column in decoded_columns(dataset.attributes, dataset.attribute_outputs,
                                           dataset.attribute_min, dataset.attribute_max):
        columns[name] = column[sample_idx]
    for _, name, column in decoded_columns(dataset.features[sample_idx, step_idx],
                                           dataset.feature_outputs, dataset.feature_min,
                                           dataset.feature_max):
        columns[name] = column
    return pd.DataFrame(columns)


def _wide(dataset: Dataset, id_name, time_name, ids, attributes, starts, frame,
          gen_flags=None) -> pd.DataFrame:
    """One row per series: the id, the attributes, then one column per time value."""
    decoded = list(decoded_columns(dataset.features, dataset.feature_outputs,
                                   dataset.feature_min, dataset.feature_max))
    if len(decoded) != 1:
        raise ValueError(f"layout='wide' takes data with one feature; this data has "
                         f"{len(decoded)} ({[name for _, name, _ in decoded]}): use "
                         "layout='long' (and df.pivot(...) to widen one feature)")
    (encoding, name, values), = decoded
    if gen_flags is None:
        gen_flags = dataset.gen_flags > 0.5
    n = dataset.num_samples
    sample_idx, step_idx = np.nonzero(gen_flags)
    axis = None if frame is None else frame.axis
    if axis is None or axis.time_column is None or axis.mode != "regular" or time_name is None:
        positions = step_idx
        if axis is not None and axis.mode == "calendar" and axis.time_column is not None \
                and time_name is not None:  # every calendar value, as the input's columns
            width = axis.calendar_length
            labels = pd.Index(axis.time_values(None, np.zeros(width, np.int64),
                                               np.arange(width)))
        else:
            width = int(step_idx.max()) + 1
            labels = pd.RangeIndex(width)
    else:
        times = axis.time_values(starts, sample_idx, step_idx)
        positions, uniques = pd.factorize(_encoded_times(times, axis), sort=True)
        labels = pd.Index(axis.decode_values(uniques))
        width = len(labels)
    matrix = np.empty((n, width), dtype=object if values.dtype == object else np.float64)
    matrix[:] = None if values.dtype == object else np.nan
    matrix[sample_idx, positions] = values[sample_idx, step_idx]
    flat = column_types.restore(matrix.reshape(-1), None if frame is None
                                else frame.dtypes.get(name))
    if ids is None:
        ids = pd.Series(np.arange(n))
    columns = {id_name: ids.reset_index(drop=True)}
    _check_clash(dataset, columns)
    if attributes is None:
        attributes = {name: pd.Series(column) for _, name, column in decoded_columns(
            dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
            dataset.attribute_max)}
    columns.update((k, v.reset_index(drop=True)) for k, v in attributes.items())
    if frame is not None:
        columns = _in_input_order(columns, frame, id_name, time_name)
    clash = [label for label in labels if label in columns]
    if clash:
        raise ValueError(f"the time value {clash[0]!r} is also the name of the id or an "
                         "attribute column; rename that column (id_column=...)")
    array = flat.array
    for j, label in enumerate(labels):
        columns[label] = pd.Series(array[j::width])
    return pd.DataFrame(columns)


# --- raw input ------------------------------------------------------------------------------------

def _raw_feature_columns(features, lengths) -> Tuple[List[np.ndarray], np.ndarray, int]:
    """Raw features -> (F flat columns over the active steps, sample-major; lengths [N]; T)."""
    if isinstance(features, (list, tuple)):
        if lengths is not None:
            raise ValueError("lengths is only for array input; each series in a features list "
                             "has its own length")
        series = [np.asarray(s) for s in features]
        series = [s[:, None] if s.ndim == 1 else s for s in series]
        if not series:
            raise ValueError("the dataset is empty (N == 0 series)")
        for i, s in enumerate(series):
            if s.ndim != 2:
                raise ValueError(f"series {i} has shape {s.shape}; each series must be "
                                 "[T_i, F] (or [T_i] for one feature)")
            if s.shape[1] != series[0].shape[1]:
                raise ValueError(f"series {i} has {s.shape[1]} feature columns but series 0 "
                                 f"has {series[0].shape[1]}; all need the same F")
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        if np.any(lengths == 0):
            raise ValueError(f"series {int(np.argmin(lengths))} is empty (zero-length); drop "
                             "it, every series needs at least one step")
        flat = np.concatenate(series, axis=0)
        max_length = int(lengths.max())
    else:
        array = np.asarray(features)
        if array.ndim != 3:
            raise ValueError(f"features must be an array [N, T, F] or a list of [T_i, F] "
                             f"arrays, got shape {array.shape} (add a trailing axis for a "
                             "single feature: x[..., None])")
        n, max_length, _ = array.shape
        if n == 0:
            raise ValueError("the dataset is empty (N == 0 series)")
        lengths = _array_lengths(lengths, n, max_length)
        flat = array[gen_flags_from_lengths(lengths, max_length) > 0.5]
    return [flat[:, j] for j in range(flat.shape[1])], lengths, max_length


def _array_lengths(lengths, n: int, max_length: int) -> np.ndarray:
    """The ``lengths`` argument of array input -> int64 [N] (all T when None)."""
    if lengths is None:
        return np.full(n, max_length, dtype=np.int64)
    lengths = np.asarray(lengths)
    if (lengths.shape != (n,) or not np.all(np.isfinite(lengths))
            or np.any(lengths != np.round(lengths))):
        raise ValueError(f"lengths must be {n} integers, one per series; got "
                         f"{lengths!r:.200}")
    lengths = lengths.astype(np.int64)
    if np.any((lengths < 1) | (lengths > max_length)):
        raise ValueError(f"lengths must be between 1 and T={max_length} (a zero-length "
                         f"series must be dropped); got {lengths.min()}..{lengths.max()}")
    return lengths


def _raw_attribute_columns(attributes, n: int, outputs, names, discrete):
    """Raw attributes -> (P columns over samples, named outputs or None, column names).

    A DataFrame's column names are used; with ``outputs`` its columns are picked by name.
    """
    if isinstance(attributes, pd.DataFrame):
        frame = {str(c): attributes[c].to_numpy() for c in attributes.columns}
        rows = len(attributes)
        if outputs is None and names is None:
            names = list(frame)
        outputs, names = _resolve_names(outputs, names, discrete, len(frame), "attribute")
        if outputs is None:
            columns = list(frame.values())
        else:
            missing = [c for c in names if c not in frame]
            if missing:
                raise ValueError(f"the attributes DataFrame lacks the columns {missing} named "
                                 f"by attribute_outputs (it has {list(frame)})")
            columns = [frame[c] for c in names]
    else:
        if attributes is None:
            array = np.zeros((n, 0))
        elif isinstance(attributes, np.ndarray):
            array = attributes
        else:
            # object dtype keeps each column's own type when rows mix strings and numbers
            array = np.array(attributes, dtype=object)
        if array.ndim != 2:
            raise ValueError(f"attributes must be 2-D [N, P], got shape {array.shape}")
        rows = array.shape[0]
        columns = [array[:, j] for j in range(array.shape[1])]
        outputs, names = _resolve_names(outputs, names, discrete, len(columns), "attribute")
    if rows != n:
        raise ValueError(f"attributes have {rows} rows but there are {n} series; give one "
                         "attribute row per series")
    return columns, outputs, names


def _resolve_names(outputs, names, discrete, count: int, what: str):
    """-> (named outputs or None, raw column names)."""
    if outputs is not None:
        if names is not None or len(discrete):
            raise ValueError(f"{what}_outputs already name the columns and say which are "
                             f"discrete; do not also pass {what}_names or discrete_{what}s")
        outputs = named_outputs(outputs, what)
        return outputs, [n for o in outputs for n in o.column_names()]
    if names is None:
        return None, [f"{what}_{i}" for i in range(count)]
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{what}_names has {len(names)} names but there are {count} {what} "
                         "columns")
    return None, names


def _column_list(value, argument: str) -> Optional[list]:
    """A column-list argument as a list: a single name (a string, or another single label such
    as an int) is a list of one, so that "views" does not become ['v', 'i', 'e', 'w', 's'];
    tuples, arrays and other iterables are lists of names."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [value]
    if isinstance(value, (dict, pd.DataFrame)):
        raise ValueError(f"{argument} takes a column name or a list of names, got a "
                         f"{type(value).__name__}")
    return list(value)


def _quoted(names: list) -> str:
    """'x' for one name, ['x', 'y'] for several (in error messages)."""
    return f"column {names[0]!r}" if len(names) == 1 else f"columns {names}"
