"""Pass 1 over ``task_events``: the last terminal event (EVICT, FAIL, FINISH, KILL) of every
task, kept as compact arrays (17 bytes per task)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, NamedTuple, Sequence, Tuple

import numpy as np
import pandas as pd

from data_prep.gcut.trace import (DEFAULT_BLOCK_BYTES, END_EVENT_CODES, END_EVENTS, EVENT_TYPES,
                                  TASK_EVENTS_COLUMNS, ReadStats, iter_part, pack,
                                  resolve_parts, unpack)

# trace event code -> attribute category index (-1: not a terminal event)
_CATEGORY_OF_CODE = np.full(len(EVENT_TYPES), -1, np.int8)
for _i, _name in enumerate(END_EVENTS):
    _CATEGORY_OF_CODE[END_EVENT_CODES[_name]] = _i


def read_end_events(paths, *, block_bytes: int = DEFAULT_BLOCK_BYTES) -> pd.DataFrame:
    """Pass 1: stream ``task_events`` parts; one row per task seen, sorted by (job, task).

    Columns: ``job_id``, ``task_index`` (int64), ``end_event`` (categorical over
    :data:`END_EVENTS`; NaN when the task has no EVICT/FAIL/FINISH/KILL event), ``end_time``
    (nullable Int64 microseconds of that event).  The task's last terminal event by timestamp is
    used; at equal timestamps the later row (in part, then file order) wins.  ``attrs`` holds
    ``rows``, ``parts`` and ``empty_parts``.  Malformed input raises ValueError (see the module
    docstring).
    """
    events = scan_end_events(resolve_parts(paths, "task_events"), block_bytes)
    job, task = unpack(events.keys)
    frame = pd.DataFrame({
        "job_id": job, "task_index": task,
        "end_event": pd.Categorical.from_codes(events.category.astype(np.int64),
                                               categories=list(END_EVENTS)),
        "end_time": pd.arrays.IntegerArray(events.time.copy(), events.category < 0),
    })
    frame.attrs.update(rows=events.rows, parts=events.parts, empty_parts=events.empty_parts)
    return frame


class EndEvents(NamedTuple):
    keys: np.ndarray      # int64 [tasks], sorted
    time: np.ndarray      # int64, -1 when no terminal event
    category: np.ndarray  # int8 index into END_EVENTS, -1 when none
    rows: int
    parts: int
    empty_parts: List[str]


def _last_per_key(key, time, category):
    """The row with the largest time per key; ties keep the later row (lexsort is stable)."""
    order = np.lexsort((time, key))
    key, time, category = key[order], time[order], category[order]
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else order[:0]
    return key[last], time[last], category[last]


class _LastEventTable:
    """Per task, the last terminal event seen so far (time -1 / category -1 for none), as
    compact arrays; per-block reductions are buffered and merged when they outgrow the table,
    so memory stays within ~3 x 17 bytes per task and time is O(rows log rows)."""

    def __init__(self):
        self.state = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))
        self.buffer: List[Tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.buffered = 0

    def add(self, key, time, category):
        self.buffer.append(_last_per_key(key, time, category))
        self.buffered += len(self.buffer[-1][0])
        if self.buffered > max(len(self.state[0]), 1 << 20):
            self._merge()

    def _merge(self):
        if not self.buffer:
            return
        parts = [self.state] + self.buffer
        self.buffer, self.buffered = [], 0
        self.state = _last_per_key(*(np.concatenate([p[i] for p in parts]) for i in range(3)))

    def result(self):
        self._merge()
        return self.state


def scan_end_events(paths: Sequence[Path], block_bytes: int,
                    say: Callable[[str], None] = lambda m: None) -> EndEvents:
    """Pass 1 itself: the end events of the tasks in ``paths`` (``say`` reports progress)."""
    stats = ReadStats()
    table = _LastEventTable()
    time_c, job_c, task_c, type_c = 0, 2, 3, 5
    for n, path in enumerate(paths, start=1):
        for first_line, cols in iter_part(path, TASK_EVENTS_COLUMNS, "task_events",
                                          (time_c, job_c, task_c, type_c), (), block_bytes,
                                          stats):
            etype, time = cols[type_c], cols[time_c]
            bad = (etype < 0) | (etype >= len(EVENT_TYPES))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{path}: line {first_line + row}: unknown event type "
                                 f"{etype[row]} (the trace's types are 0..8: "
                                 f"{', '.join(f'{k} {v}' for k, v in EVENT_TYPES.items())})")
            if (time < 0).any():
                row = int(np.flatnonzero(time < 0)[0])
                raise ValueError(f"{path}: line {first_line + row}: negative timestamp "
                                 f"{time[row]}")
            key = pack(cols[job_c], cols[task_c], path, first_line)
            category = _CATEGORY_OF_CODE[etype]
            table.add(key, np.where(category >= 0, time, -1), category)
        say(f"  task_events {n}/{len(paths)}: {path.name}")
    keys, time, category = table.result()
    return EndEvents(keys, time, category, stats.rows, stats.parts, stats.empty_parts)
