"""How the times of series advance: one constant step (:func:`regular_step`), a calendar
frequency such as month starts or business days (:func:`calendar_frequency`), or the first
values of one shared calendar (:func:`shared_calendar_values`)."""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
import pandas as pd

# a calendar-frequency grid (months, business days...) is only checked when it has at most
# this many points, or this many times the data's rows (a sparse grid would be slow)
GRID_POINTS = 1_000_000
GRID_FACTOR = 10


def regular_step(encoded, within, kind) -> Optional[dict]:
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


def calendar_frequency(times, encoded, first, lengths, within, freq=None) -> Optional[dict]:
    """{"freq": ...} when the datetimes follow one calendar frequency (months, business days,
    days across a daylight-saving change...): ``freq`` when given, else the one pandas infers
    from the longest series."""
    if freq is None:
        longest = int(np.argmax(lengths))
        if lengths[longest] < 3:
            return None
        freq = infer_freq(times.iloc[first[longest]:first[longest] + lengths[longest]])
    if freq is None:
        return None
    offset = pd.tseries.frequencies.to_offset(freq)
    smallest = np.diff(encoded)[within].min()
    if smallest <= 0 or ((encoded.max() - encoded.min()) / smallest
                         > max(GRID_POINTS, GRID_FACTOR * len(encoded))):
        return None
    position = grid_positions(times, offset)
    if position is None or not (np.diff(position)[within] == 1).all():
        return None
    return {"freq": offset.freqstr}


def infer_freq(stamps) -> Optional[str]:
    """The calendar frequency pandas infers from ``stamps``, or None."""
    with warnings.catch_warnings():  # pandas 3 announces that infer_freq will return an offset
        warnings.simplefilter("ignore")
        try:
            return pd.infer_freq(pd.DatetimeIndex(stamps))
        except (TypeError, ValueError):
            return None


def grid_positions(times, offset) -> Optional[np.ndarray]:
    """Each datetime's position on the grid of ``offset`` from the earliest to the latest
    one, or None when one is off that grid."""
    stamps = pd.DatetimeIndex(times)
    grid = pd.date_range(stamps.min(), stamps.max(), freq=offset)
    position = grid.get_indexer(stamps)
    return None if (position < 0).any() else position


def shared_calendar_values(encoded, first, lengths) -> Optional[np.ndarray]:
    """The longest series' values when every series' values are its first ones, else None."""
    longest = int(np.argmax(lengths))
    calendar = encoded[first[longest]:first[longest] + lengths[longest]]
    step = np.arange(len(encoded)) - np.repeat(first, lengths)
    same = calendar[step] == encoded
    return calendar if bool(np.all(same)) else None
