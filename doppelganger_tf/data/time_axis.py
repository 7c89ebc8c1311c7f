"""How a DataFrame gave its series' ids and time stamps, kept so that data come back out alike.

:func:`capture` reads the id and time columns of the series of a frame (sample-major, each
series sorted by time) into a :class:`TimeAxis`: the id column's name and dtype, the time
column's name and dtype and one of three *modes*:

- ``"regular"``: every series advances by the same step (a number, a fixed duration or a
  calendar frequency such as month starts or business days that :func:`pandas.infer_freq`
  finds), from its own start.  The distinct starts of the series are kept with their counts
  (one start: a shared calendar, e.g. the same 550 days for every WWT page); generated series
  draw theirs from them, so a series' times are ``start + k * step``;
- ``"calendar"``: every series' times are the first values of one shared sequence that has no
  constant step (strings such as ``"2015-07-01"``, an irregular calendar): kept as they are;
- ``"numbered"``: neither (irregular steps that differ between series): steps come back
  numbered 0..L-1, as :meth:`Dataset.describe` says.

Rows absent from a regular axis (an hourly series without 3 of its hours) do not make it
irregular: :func:`find_gaps` finds the axis and where each row is on it, and the readers put
the absent steps back as missing values before :func:`capture` runs.

A ``TimeAxis`` is JSON-able (:meth:`TimeAxis.to_dict`) and holds no per-series data besides the
distinct starts: the ids and starts of the series themselves travel separately (see
:mod:`doppelganger_tf.data.frames`).  Time values are kept *encoded*: datetimes and timedeltas as
int64 nanoseconds (UTC for time-zone-aware ones), integers and floats as numbers, anything else
as JSON scalars; :meth:`TimeAxis.time_values` decodes them to the input's dtype.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .time_gaps import Gaps, find_gaps
from .time_steps import calendar_frequency, regular_step, shared_calendar_values
from .time_values import (as_dtype, decode, encode_values, json_scalar, time_kind, timestamps,
                          timezone)

# defined in the modules above and importable from here too
__all__ = ["MODES", "Gaps", "TimeAxis", "capture", "encode_values", "find_gaps", "json_scalar",
           "shared_calendar", "time_kind"]

MODES = ("regular", "calendar", "numbered")


@dataclass(frozen=True)
class TimeAxis:
    """The id and time columns of the frame a Dataset was read from (see the module docstring).

    ``step`` is the regular step in encoded units (nanoseconds for datetimes and timedeltas),
    ``freq`` a pandas frequency string for datetimes on a calendar offset; ``starts`` /
    ``start_counts`` the distinct encoded starts of the training series and how many began at
    each; ``calendar`` the shared encoded values (calendar mode).  ``start_attribute`` names an
    attribute holding each series' start (windowed data, :meth:`Dataset.from_long_series`).
    """

    id_column: Any = "id"
    id_dtype: str = "int64"
    id_kind: str = "integer"  # "integer", "floating" or "string": how new ids are made
    time_column: Any = None   # None: the frame had no time column
    time_dtype: Optional[str] = None
    time_kind: Optional[str] = None  # "datetime", "timedelta", "integer", "floating", "other"
    mode: str = "numbered"
    step: Optional[float] = None
    freq: Optional[str] = None
    starts: Tuple = ()
    start_counts: Tuple = ()
    calendar: Tuple = ()
    start_attribute: Optional[str] = None

    # --- JSON -------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"id_column": json_scalar(self.id_column), "id_dtype": self.id_dtype,
                "id_kind": self.id_kind, "time_column": json_scalar(self.time_column),
                "time_dtype": self.time_dtype, "time_kind": self.time_kind, "mode": self.mode,
                "step": json_scalar(self.step), "freq": self.freq,
                "starts": list(self.starts), "start_counts": list(self.start_counts),
                "calendar": list(self.calendar), "start_attribute": self.start_attribute}

    @classmethod
    def from_dict(cls, d: dict) -> "TimeAxis":
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown time-axis fields {sorted(unknown)}")
        d = dict(d)
        for key in ("starts", "start_counts", "calendar"):
            d[key] = tuple(d.get(key) or ())
        axis = cls(**d)
        if axis.mode not in MODES:
            raise ValueError(f"unknown time-axis mode {axis.mode!r}")
        return axis

    # --- ids --------------------------------------------------------------------------------------

    def new_ids(self, n: int, first: int = 0, total: Optional[int] = None) -> pd.Series:
        """``n`` new, unique ids of the input's type: integers first..first+n-1 for integer ids
        (floats for float ids), ``"generated_<i>"`` (zero-padded as wide as ``total`` - 1,
        default first + n - 1) for any other kind; cast to the input's dtype where pandas
        can. ``first`` / ``total``: one batch's part of a streamed file."""
        numbers = np.arange(first, first + n, dtype=np.int64)
        if self.id_kind == "integer":
            values = numbers
        elif self.id_kind == "floating":
            values = numbers.astype(np.float64)
        else:
            width = len(str(max((total if total is not None else first + n) - 1, 0)))
            values = np.array([f"generated_{i:0{width}d}" for i in numbers], dtype=object)
        return as_dtype(pd.Series(values), self.id_dtype)

    def ids_from_json(self, values) -> pd.Series:
        """Stored ids (JSON scalars) -> a Series of the input's id dtype."""
        return as_dtype(pd.Series(list(values), dtype=object), self.id_dtype)

    # --- starts -----------------------------------------------------------------------------------

    @property
    def has_starts(self) -> bool:
        """Whether series have their own starts (regular mode)."""
        return self.mode == "regular"

    def draw_starts(self, n: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        """Encoded starts for ``n`` new series, drawn (with replacement) from the training
        series' starts in their proportions; None when the mode has no starts."""
        if not self.has_starts:
            return None
        counts = np.asarray(self.start_counts, np.float64)
        choice = rng.choice(len(self.starts), size=n, p=counts / counts.sum())
        return np.asarray(self.starts, dtype=self._encoded_dtype())[choice]

    def start_numbers(self, starts) -> np.ndarray:
        """Encoded starts -> the float values of a start attribute (seconds for datetimes and
        timedeltas, the values themselves otherwise)."""
        starts = np.asarray(starts, np.float64)
        return starts / 1e9 if self.time_kind in ("datetime", "timedelta") else starts

    def nearest_starts(self, numbers) -> np.ndarray:
        """Start-attribute values (generated, so between the training starts) -> the nearest
        training start of each, encoded."""
        pool = np.sort(np.asarray(self.starts, dtype=self._encoded_dtype()))
        keys = self.start_numbers(pool)
        numbers = np.asarray(numbers, np.float64)
        right = np.clip(np.searchsorted(keys, numbers), 0, len(pool) - 1)
        left = np.clip(right - 1, 0, len(pool) - 1)
        closer_left = np.abs(numbers - keys[left]) <= np.abs(keys[right] - numbers)
        return np.where(closer_left, pool[left], pool[right])

    def decode_values(self, encoded) -> pd.Series:
        """Encoded time values -> a Series of the input's time dtype."""
        return decode(np.asarray(encoded) if self.time_kind != "other" else list(encoded),
                       self.time_kind, self.time_dtype)

    # --- time values ------------------------------------------------------------------------------

    @property
    def calendar_length(self) -> Optional[int]:
        """How many steps the time values cover (calendar mode), None when unbounded."""
        return len(self.calendar) if self.mode == "calendar" else None

    def time_values(self, starts, sample_idx, step_idx) -> pd.Series:
        """The time value of each row (sample ``sample_idx``, step ``step_idx``), in the input's
        dtype: ``starts`` are the encoded starts per sample (regular mode; ignored otherwise).
        Numbered mode (and no time column) gives the step index; calendar mode needs every
        step inside the calendar (:attr:`calendar_length`)."""
        step_idx = np.asarray(step_idx, np.int64)
        if self.time_column is None or self.mode == "numbered":
            return pd.Series(step_idx)
        if self.mode == "calendar":
            return self.decode_values(np.asarray(self.calendar, dtype=object)[step_idx]
                                      if self.time_kind == "other"
                                      else np.asarray(self.calendar)[step_idx])
        row_starts = np.asarray(starts, dtype=self._encoded_dtype())[np.asarray(sample_idx)]
        if self.freq is None:
            if self.time_kind == "floating":
                return self.decode_values(row_starts + float(self.step) * step_idx)
            return self.decode_values(row_starts + int(self.step) * step_idx)
        return self._calendar_offset_values(row_starts, step_idx)

    def _calendar_offset_values(self, row_starts, step_idx) -> pd.Series:
        """Datetimes ``k`` steps of a calendar frequency after their start: positions on one
        grid that covers every start and the longest series."""
        tz = timezone(self.time_dtype)
        distinct = np.unique(row_starts)
        first, last = (timestamps(distinct[[0, -1]], tz))
        offset = pd.tseries.frequencies.to_offset(self.freq)
        span = len(pd.date_range(first, last, freq=offset))
        grid = pd.date_range(first, periods=span + int(step_idx.max()) + 1, freq=offset)
        position = grid.get_indexer(timestamps(distinct, tz))
        if (position < 0).any():
            raise ValueError(f"a series start is not on the time axis' {self.freq!r} calendar; "
                             "the stored time axis is inconsistent")
        positions = position[np.searchsorted(distinct, row_starts)] + step_idx
        return as_dtype(pd.Series(grid[positions]), self.time_dtype)

    def _encoded_dtype(self):
        return {"datetime": np.int64, "timedelta": np.int64, "integer": np.int64,
                "floating": np.float64}.get(self.time_kind, object)

    # --- a summary for Dataset.describe -----------------------------------------------------------

    def summary(self) -> str:
        id_part = f"id column {self.id_column!r} ({self.id_dtype}); generated ids are new"
        if self.time_column is None:
            return id_part + "; no time column (steps are numbered if one is asked for)"
        head = f"time column {self.time_column!r} ({self.time_dtype}): "
        if self.mode == "numbered":
            return (id_part + "\n" + head + "irregular steps (not one constant step shared by "
                    "every series, nor one with a few rows absent): steps of generated data are "
                    "numbered 0..L-1")
        if self.mode == "calendar":
            shown = self.decode_values(list(self.calendar[:1]) + list(self.calendar[-1:]))
            return (id_part + "\n" + head + f"a shared calendar of {len(self.calendar)} values "
                    f"({shown.iloc[0]} .. {shown.iloc[-1]}), reproduced for generated data")
        step = self.freq if self.freq is not None else self._step_text()
        starts = self.decode_values(sorted(self.starts))
        if len(self.starts) == 1:
            where = (f"every series starts at {starts.iloc[0]} (a shared calendar, reproduced "
                     "for generated data)")
        else:
            where = (f"{len(self.starts)} distinct starts ({starts.iloc[0]} .. "
                     f"{starts.iloc[-1]}); generated series draw theirs from them")
        extra = (f"; attribute {self.start_attribute!r} holds each series' start"
                 if self.start_attribute else "")
        return id_part + "\n" + head + f"regular step {step}, {where}{extra}"

    def _step_text(self) -> str:
        if self.time_kind in ("datetime", "timedelta"):
            return str(pd.Timedelta(int(self.step), unit="ns"))
        return f"{self.step:g}" if self.time_kind == "floating" else str(int(self.step))


def capture(id_column, ids: pd.Index, time_column, times: Optional[pd.Series], lengths,
            freq: Optional[str] = None) -> Tuple[TimeAxis, Optional[np.ndarray]]:
    """The time axis of series ``ids`` (one per sample, the input's dtype) whose times are
    ``times`` (flat, sample-major, sorted within each series; None without a time column),
    series i having ``lengths[i]`` rows -> (the axis, each series' encoded start in regular mode
    or None).  ``freq``: the calendar frequency the datetimes are known to follow (that of
    :func:`find_gaps`), tried instead of the one pandas infers from the longest series."""
    lengths = np.asarray(lengths, np.int64)
    axis = dict(id_column=id_column, id_dtype=str(ids.dtype), id_kind=_id_kind(ids))
    if time_column is None or times is None:
        return TimeAxis(**axis), None
    kind = time_kind(times.dtype)
    axis.update(time_column=time_column, time_dtype=str(times.dtype), time_kind=kind)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    within = np.ones(max(len(times) - 1, 0), bool)  # consecutive rows of the same series
    within[first[1:] - 1] = False
    encoded = encode_values(times, kind)
    if kind != "other" and within.any():
        regular = regular_step(encoded, within, kind)
        if regular is None and kind == "datetime":
            regular = calendar_frequency(times, encoded, first, lengths, within, freq)
        if regular is not None:
            starts = encoded[first]
            distinct, counts = np.unique(starts, return_counts=True)
            return TimeAxis(**axis, mode="regular", **regular,
                            starts=tuple(json_scalar(v) for v in distinct),
                            start_counts=tuple(int(c) for c in counts)), starts
    calendar = shared_calendar_values(encoded, first, lengths)
    if calendar is not None:
        return TimeAxis(**axis, mode="calendar",
                        calendar=tuple(json_scalar(v) for v in calendar)), None
    return TimeAxis(**axis, mode="numbered"), None


def shared_calendar(id_column, ids: pd.Index, time_column, labels: pd.Series) -> TimeAxis:
    """The time axis of series that all have the time values ``labels`` (the time columns of
    a wide frame): calendar mode, so that every one of them comes back."""
    kind = time_kind(labels.dtype)
    return TimeAxis(id_column=id_column, id_dtype=str(ids.dtype), id_kind=_id_kind(ids),
                    time_column=time_column, time_dtype=str(labels.dtype), time_kind=kind,
                    mode="calendar",
                    calendar=tuple(json_scalar(v) for v in encode_values(labels, kind)))


def _id_kind(ids: pd.Index) -> str:
    dtype = ids.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if ptypes.is_bool_dtype(dtype):
        return "string"
    if ptypes.is_integer_dtype(dtype):
        return "integer"
    if ptypes.is_float_dtype(dtype):
        return "floating"
    return "string"
