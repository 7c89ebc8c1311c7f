"""Time values encoded as numbers and back: datetimes and timedeltas as int64 nanoseconds (UTC
for time-zone-aware ones), integers and floats as numbers, anything else as JSON scalars
(:func:`encode_values`, :func:`decode`), and the kind of a time column (:func:`time_kind`)."""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
from pandas.api import types as ptypes


def time_kind(dtype) -> str:
    """How time values of ``dtype`` are encoded and stepped."""
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timedelta"
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "other"
    if ptypes.is_integer_dtype(dtype):
        return "integer"
    if ptypes.is_float_dtype(dtype):
        return "floating"
    return "other"


def encode_values(values: pd.Series, kind: str) -> np.ndarray:
    """Time values -> their encoding for ``kind`` (see the module docstring)."""
    if kind == "datetime":
        return pd.DatetimeIndex(values).as_unit("ns").asi8.copy()
    if kind == "timedelta":
        return pd.TimedeltaIndex(values).as_unit("ns").asi8.copy()
    if kind == "integer":
        return values.to_numpy(dtype=np.int64)
    if kind == "floating":
        return values.to_numpy(dtype=np.float64)
    encoded = np.empty(len(values), dtype=object)
    encoded[:] = [json_scalar(v) for v in values.tolist()]
    return encoded


def decode(encoded, kind: str, dtype: str) -> pd.Series:
    """Encoded time values -> a Series of the dtype ``dtype`` names (the inverse of
    :func:`encode_values`)."""
    if kind == "datetime":
        tz = timezone(dtype)
        return as_dtype(pd.Series(timestamps(np.asarray(encoded, np.int64), tz)), dtype)
    if kind == "timedelta":
        return as_dtype(pd.Series(pd.to_timedelta(np.asarray(encoded, np.int64), unit="ns")),
                         dtype)
    if kind in ("integer", "floating"):
        return as_dtype(pd.Series(np.asarray(encoded)), dtype)
    objects = np.empty(len(encoded), dtype=object)
    objects[:] = list(encoded)
    return as_dtype(pd.Series(objects, dtype=object), dtype)


def timestamps(ns: np.ndarray, tz) -> pd.DatetimeIndex:
    """int64 nanoseconds (UTC when ``tz`` is given) -> datetimes in ``tz``."""
    stamps = pd.to_datetime(np.asarray(ns, np.int64), unit="ns", utc=tz is not None)
    return stamps.tz_convert(tz) if tz is not None else stamps


def timezone(dtype: str):
    """The time zone of the datetime dtype ``dtype`` names, or None."""
    parsed = _pandas_dtype(dtype)
    return getattr(parsed, "tz", None)


def _pandas_dtype(dtype: Optional[str]):
    if dtype is None:
        return None
    try:
        return ptypes.pandas_dtype(dtype)
    except (TypeError, ValueError, ImportError):  # e.g. a pyarrow dtype without pyarrow
        return None


def as_dtype(series: pd.Series, dtype: Optional[str]) -> pd.Series:
    """``series`` cast to ``dtype`` (a dtype's string) where pandas can; as it is otherwise."""
    parsed = _pandas_dtype(dtype)
    if parsed is None or series.dtype == parsed:
        return series
    try:
        return series.astype(parsed)
    except (TypeError, ValueError, OverflowError):
        return series


def json_scalar(value):
    """A value JSON can hold: numpy scalars as Python ones; other objects as strings."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
