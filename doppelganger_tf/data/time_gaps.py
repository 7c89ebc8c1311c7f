"""Regular time axes with absent steps: :func:`find_gaps` finds the axis of series whose frame
lacks some of their rows (an hourly series without 3 of its hours) and where each row is on it,
so that the readers put the absent steps back as missing values (:class:`Gaps`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd

from .time_steps import (GRID_FACTOR, GRID_POINTS, calendar_frequency, grid_positions, infer_freq,
                         regular_step, shared_calendar_values)
from .time_values import as_dtype, decode, encode_values, time_kind

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
    if regular_step(encoded, within, kind) is not None or (
            kind == "datetime" and calendar_frequency(times, encoded, first, lengths,
                                                       within) is not None):
        return None  # regular as it is
    if keep_shared and shared_calendar_values(encoded, first, lengths) is not None:
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
            if grid_positions(sample, pd.tseries.frequencies.to_offset(freq)) is None:
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
        filled = decode(starts + step * step_in_series, kind, str(times.dtype))
        step_text = (str(pd.Timedelta(int(step), unit="ns")) if kind in ("datetime", "timedelta")
                     else f"{step:g}" if kind == "floating" else str(int(step)))
    else:
        offset = pd.tseries.frequencies.to_offset(freq)
        stamps = pd.DatetimeIndex(times)
        grid = pd.date_range(stamps.min(), stamps.max(), freq=offset)  # every time is on it
        start_positions = grid.get_indexer(stamps[first])
        filled = as_dtype(pd.Series(grid[np.repeat(start_positions, new_lengths)
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
            found.append(infer_freq(times.iloc[first[i]:first[i] + lengths[i]]))
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
    if nominal <= 0 or (high - low) / nominal > max(GRID_POINTS, GRID_FACTOR * rows):
        return None
    position = grid_positions(times, offset)
    if position is None:
        return None
    multiples = np.diff(position)[within]
    return None if (multiples < 1).any() else multiples.astype(np.int64)
