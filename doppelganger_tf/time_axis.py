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
:mod:`doppelganger_tf.frames`).  Time values are kept *encoded*: datetimes and timedeltas as
int64 nanoseconds (UTC for time-zone-aware ones), integers and floats as numbers, anything else
as JSON scalars; :meth:`TimeAxis.time_values` decodes them to the input's dtype.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

MODES = ("regular", "calendar", "numbered")
# a calendar-frequency grid (months, business days...) is only checked when it has at most
# this many points, or this many times the data's rows (a sparse grid would be slow)
_GRID_POINTS = 1_000_000
_GRID_FACTOR = 10


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
        return {"id_column": _json_scalar(self.id_column), "id_dtype": self.id_dtype,
                "id_kind": self.id_kind, "time_column": _json_scalar(self.time_column),
                "time_dtype": self.time_dtype, "time_kind": self.time_kind, "mode": self.mode,
                "step": _json_scalar(self.step), "freq": self.freq,
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
        return _as_dtype(pd.Series(values), self.id_dtype)

    def ids_from_json(self, values) -> pd.Series:
        """Stored ids (JSON scalars) -> a Series of the input's id dtype."""
        return _as_dtype(pd.Series(list(values), dtype=object), self.id_dtype)

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
        return _decode(np.asarray(encoded) if self.time_kind != "other" else list(encoded),
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
        tz = _tz(self.time_dtype)
        distinct = np.unique(row_starts)
        first, last = (_timestamps(distinct[[0, -1]], tz))
        offset = pd.tseries.frequencies.to_offset(self.freq)
        span = len(pd.date_range(first, last, freq=offset))
        grid = pd.date_range(first, periods=span + int(step_idx.max()) + 1, freq=offset)
        position = grid.get_indexer(_timestamps(distinct, tz))
        if (position < 0).any():
            raise ValueError(f"a series start is not on the time axis' {self.freq!r} calendar; "
                             "the stored time axis is inconsistent")
        positions = position[np.searchsorted(distinct, row_starts)] + step_idx
        return _as_dtype(pd.Series(grid[positions]), self.time_dtype)

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



# --- capture --------------------------------------------------------------------------------------

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
        regular = _regular_step(encoded, within, kind)
        if regular is None and kind == "datetime":
            regular = _calendar_frequency(times, encoded, first, lengths, within, freq)
        if regular is not None:
            starts = encoded[first]
            distinct, counts = np.unique(starts, return_counts=True)
            return TimeAxis(**axis, mode="regular", **regular,
                            starts=tuple(_json_scalar(v) for v in distinct),
                            start_counts=tuple(int(c) for c in counts)), starts
    calendar = _shared_calendar(encoded, first, lengths)
    if calendar is not None:
        return TimeAxis(**axis, mode="calendar",
                        calendar=tuple(_json_scalar(v) for v in calendar)), None
    return TimeAxis(**axis, mode="numbered"), None


def shared_calendar(id_column, ids: pd.Index, time_column, labels: pd.Series) -> TimeAxis:
    """The time axis of series that all have the time values ``labels`` (the time columns of
    a wide frame): calendar mode, so that every one of them comes back."""
    kind = time_kind(labels.dtype)
    return TimeAxis(id_column=id_column, id_dtype=str(ids.dtype), id_kind=_id_kind(ids),
                    time_column=time_column, time_dtype=str(labels.dtype), time_kind=kind,
                    mode="calendar",
                    calendar=tuple(_json_scalar(v) for v in encode_values(labels, kind)))


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


def _regular_step(encoded, within, kind) -> Optional[dict]:
    """{"step": ...} when every series advances by one constant step, else None."""
    diffs = np.diff(encoded)[within]
    step = diffs[0]
    if kind == "floating":
        same = np.allclose(diffs, step, rtol=1e-9, atol=0.0)
    else:
        same = bool((diffs == step).all())
    if not same or step <= 0:
        return None
    return {"step": float(step) if kind == "floating" else int(step)}


def _calendar_frequency(times, encoded, first, lengths, within, freq=None) -> Optional[dict]:
    """{"freq": ...} when the datetimes follow one calendar frequency (months, business days,
    days across a daylight-saving change...): ``freq`` when given, else the one pandas infers
    from the longest series."""
    if freq is None:
        longest = int(np.argmax(lengths))
        if lengths[longest] < 3:
            return None
        freq = _infer_freq(times.iloc[first[longest]:first[longest] + lengths[longest]])
    if freq is None:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    smallest = np.diff(encoded)[within].min()
    if smallest <= 0 or ((encoded.max() - encoded.min()) / smallest
                         > max(_GRID_POINTS, _GRID_FACTOR * len(encoded))):
        return None
    position = _grid_positions(times, offset)
    if position is None or not (np.diff(position)[within] == 1).all():
        return None
    return {"freq": offset.freqstr}


def _infer_freq(stamps) -> Optional[str]:
    with warnings.catch_warnings():  # pandas 3 announces that infer_freq will return an offset
        warnings.simplefilter("ignore")
        try:
            return pd.infer_freq(pd.DatetimeIndex(stamps))
        except (TypeError, ValueError):
            return None


def _grid_positions(times, offset) -> Optional[np.ndarray]:
    """Each datetime's position on the grid of ``offset`` from the earliest to the latest
    one, or None when one is off that grid."""
    stamps = pd.DatetimeIndex(times)
    grid = pd.date_range(stamps.min(), stamps.max(), freq=offset)
    position = grid.get_indexer(stamps)
    return None if (position < 0).any() else position


# --- regular time axes with absent steps ----------------------------------------------------------

# calendar frequencies tried for datetimes with gaps, besides a fixed step and the frequencies
# pandas infers from the longest series (a series with a gap has none)
_GAP_FREQUENCIES = ("D", "B", "MS", "ME", "QS", "QE", "YS", "YE")
_INFERRED_FROM = 10  # the longest series whose frequency is inferred


@dataclass(frozen=True)
class Gaps:
    """Series on a regular time axis that skip some of its steps (:func:`find_gaps`).

    ``steps``: each row's step in its series (0 at its first row); ``times``: the time values
    of every step of the filled series (flat, sample-major, the input's dtype); ``absent``:
    how many steps the frame skips, in ``series`` series; ``step_text``: the step, for
    messages ("1:00:00", "MS"); ``freq``: the calendar frequency, None for a fixed step."""
    steps: np.ndarray
    times: pd.Series
    absent: int
    series: int
    step_text: str
    freq: Optional[str] = None


def find_gaps(times: pd.Series, lengths, keep_shared: bool = True) -> Optional[Gaps]:
    """The absent steps of series whose times are regular but for some rows not in the frame,
    or None (times that :func:`capture` finds regular as they are, or truly irregular ones).
    With ``keep_shared``, also None when every series' times are the first ones of one shared
    calendar (a holiday calendar, or an hour absent for every series): :func:`capture` keeps
    those times as they are, so nothing moves and nothing is missing.

    The rule: a *fixed step* is the most common difference between consecutive times of a
    series (datetimes, timedeltas and integers exactly, floats to a relative 1e-6); the times
    are on it with gaps when every difference is a whole multiple of it.  Datetimes are also
    tried on calendar frequencies (those pandas infers from the longest series, and days,
    business days, month, quarter and year starts and ends): on one of them with gaps when
    every time is on its grid.  Of the grids that hold the times, the one with the fewest
    absent steps is kept (the fixed step on a tie), and only while fewer steps are absent
    than present (more than half of each filled axis is data): sparser times are irregular."""
    lengths = np.asarray(lengths, np.int64)
    kind = time_kind(times.dtype)
    if kind == "other" or len(times) < 3:
        return None
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    within = np.ones(len(times) - 1, bool)
    within[first[1:] - 1] = False
    if not within.any():
        return None
    encoded = encode_values(times, kind)
    if _regular_step(encoded, within, kind) is not None or (
            kind == "datetime" and _calendar_frequency(times, encoded, first, lengths,
                                                       within) is not None):
        return None  # regular as it is
    if keep_shared and _shared_calendar(encoded, first, lengths) is not None:
        return None
    candidates = []  # (absent steps, order, step multiples between rows, step or freq)
    fixed = _fixed_step_multiples(np.diff(encoded)[within], kind)
    if fixed is not None:
        candidates.append((int((fixed[1] - 1).sum()), 0, fixed[1], fixed[0], None))
    if kind == "datetime":
        longest = int(np.argmax(lengths))
        sample = times.iloc[first[longest]:first[longest] + lengths[longest]]
        for order, freq in enumerate(_gap_frequencies(times, first, lengths), start=1):
            # the longest series first: most frequencies fail there, without a full-size grid
            if _grid_positions(sample, pd.tseries.frequencies.to_offset(freq)) is None:
                continue
            multiples = _frequency_multiples(times, encoded, within, freq, len(times))
            if multiples is not None:
                candidates.append((int((multiples - 1).sum()), order, multiples, None, freq))
    if not candidates:
        return None
    absent, _, multiples, step, freq = min(candidates, key=lambda c: c[:2])
    if absent == 0 or absent >= len(times):
        return None
    increments = np.zeros(len(times), np.int64)  # steps from the previous row of the series
    increments[1:][within] = multiples
    climb = np.cumsum(increments)
    sample = np.repeat(np.arange(len(lengths)), lengths)
    steps = climb - climb[first][sample]
    new_lengths = np.zeros(len(lengths), np.int64)
    np.maximum.at(new_lengths, sample, steps + 1)
    step_in_series = np.arange(int(new_lengths.sum())) - np.repeat(
        np.concatenate([[0], np.cumsum(new_lengths)[:-1]]), new_lengths)
    starts = np.repeat(encoded[first], new_lengths)
    if freq is None:
        filled = _decode(starts + step * step_in_series, kind, str(times.dtype))
        step_text = (str(pd.Timedelta(int(step), unit="ns")) if kind in ("datetime", "timedelta")
                     else f"{step:g}" if kind == "floating" else str(int(step)))
    else:
        offset = pd.tseries.frequencies.to_offset(freq)
        stamps = pd.DatetimeIndex(times)
        grid = pd.date_range(stamps.min(), stamps.max(), freq=offset)  # every time is on it
        start_positions = grid.get_indexer(stamps[first])
        filled = _as_dtype(pd.Series(grid[np.repeat(start_positions, new_lengths)
                                          + step_in_series]), str(times.dtype))
        step_text = offset.freqstr
    gapped = np.zeros(len(lengths), bool)
    gapped[sample[1:][increments[1:] > 1]] = True
    return Gaps(steps, filled, absent, int(gapped.sum()), step_text, freq)


def _fixed_step_multiples(diffs, kind) -> Optional[Tuple[Any, np.ndarray]]:
    """(the most common difference, each difference as a whole multiple of it) or None when
    one is not a multiple."""
    if kind == "floating":
        if not np.isfinite(diffs).all() or (diffs <= 0).any():
            return None
        # classes of equal differences up to float rounding, relative to their median
        classes = np.round(diffs / np.median(diffs), 6)
        values, counts = np.unique(classes, return_counts=True)
        step = float(np.median(diffs[classes == values[np.argmax(counts)]]))
        ratio = diffs / step
        multiples = np.round(ratio)
        if (multiples < 1).any() or (np.abs(ratio - multiples) > 1e-6 * multiples).any():
            return None
        return step, multiples.astype(np.int64)
    values, counts = np.unique(diffs, return_counts=True)
    step = values[np.argmax(counts)]
    if step <= 0 or (diffs % step).any():
        return None
    return step, (diffs // step).astype(np.int64)


def _gap_frequencies(times, first, lengths) -> list:
    """The calendar frequencies tried for datetimes with gaps (see :func:`find_gaps`)."""
    found = []
    for i in np.argsort(-lengths, kind="stable")[:_INFERRED_FROM]:
        if lengths[i] >= 3:
            found.append(_infer_freq(times.iloc[first[i]:first[i] + lengths[i]]))
    found.extend(_GAP_FREQUENCIES)
    distinct = {}
    for freq in found:
        if freq is None:
            continue
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except ValueError:  # a name this pandas does not know
            continue
        distinct.setdefault(offset.freqstr, offset)
    return list(distinct)


def _frequency_multiples(times, encoded, within, freq, rows) -> Optional[np.ndarray]:
    """The steps of ``freq`` between consecutive rows of a series, or None when a time is off
    its grid (or the grid would be too large to check)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    low, high = encoded.min(), encoded.max()
    one = pd.date_range(pd.Timestamp(int(low)), periods=2, freq=offset)
    nominal = int(one[1].value - one[0].value)
    if nominal <= 0 or (high - low) / nominal > max(_GRID_POINTS, _GRID_FACTOR * rows):
        return None
    position = _grid_positions(times, offset)
    if position is None:
        return None
    multiples = np.diff(position)[within]
    return None if (multiples < 1).any() else multiples.astype(np.int64)


def _shared_calendar(encoded, first, lengths) -> Optional[np.ndarray]:
    """The longest series' values when every series' values are its first ones, else None."""
    longest = int(np.argmax(lengths))
    calendar = encoded[first[longest]:first[longest] + lengths[longest]]
    step = np.arange(len(encoded)) - np.repeat(first, lengths)
    same = calendar[step] == encoded
    return calendar if bool(np.all(same)) else None


# --- encoding of values ---------------------------------------------------------------------------

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
    encoded[:] = [_json_scalar(v) for v in values.tolist()]
    return encoded


def _decode(encoded, kind: str, dtype: str) -> pd.Series:
    if kind == "datetime":
        tz = _tz(dtype)
        return _as_dtype(pd.Series(_timestamps(np.asarray(encoded, np.int64), tz)), dtype)
    if kind == "timedelta":
        return _as_dtype(pd.Series(pd.to_timedelta(np.asarray(encoded, np.int64), unit="ns")),
                         dtype)
    if kind in ("integer", "floating"):
        return _as_dtype(pd.Series(np.asarray(encoded)), dtype)
    objects = np.empty(len(encoded), dtype=object)
    objects[:] = list(encoded)
    return _as_dtype(pd.Series(objects, dtype=object), dtype)


def _timestamps(ns: np.ndarray, tz) -> pd.DatetimeIndex:
    stamps = pd.to_datetime(np.asarray(ns, np.int64), unit="ns", utc=tz is not None)
    return stamps.tz_convert(tz) if tz is not None else stamps


def _tz(dtype: str):
    parsed = _pandas_dtype(dtype)
    return getattr(parsed, "tz", None)


def _pandas_dtype(dtype: Optional[str]):
    if dtype is None:
        return None
    try:
        return ptypes.pandas_dtype(dtype)
    except (TypeError, ValueError, ImportError):  # e.g. a pyarrow dtype without pyarrow
        return None


def _as_dtype(series: pd.Series, dtype: Optional[str]) -> pd.Series:
    """``series`` cast to ``dtype`` (a dtype's string) where pandas can; as it is otherwise."""
    parsed = _pandas_dtype(dtype)
    if parsed is None or series.dtype == parsed:
        return series
    try:
        return series.astype(parsed)
    except (TypeError, ValueError, OverflowError):
        return series


def _json_scalar(value):
    """A value JSON can hold: numpy scalars as Python ones; other objects as strings."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
