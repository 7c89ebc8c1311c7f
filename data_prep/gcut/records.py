"""Pass 3 over ``task_usage``: the records of the chosen tasks (56 bytes each), grouped by task
and sorted by (start, end) whichever part or block they came from."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Sequence, Tuple

import numpy as np
import pandas as pd

from data_prep.gcut.trace import (DEFAULT_BLOCK_BYTES, FEATURE_COLUMNS, FEATURES, ReadStats,
                                  iter_usage, lookup, pack, resolve_parts, unpack)
from data_prep.gcut.usage import DISCONTINUOUS, MISSING


class TaskUsage(NamedTuple):
    """The usage records of one task, sorted by (start, end): ``start`` / ``end`` int64 [n]
    (microseconds), ``values`` float32 [n, 9] in :data:`FEATURES` order (NaN: empty field)."""
    start: np.ndarray
    end: np.ndarray
    values: np.ndarray


def collect_usage(paths, tasks, *, block_bytes: int = DEFAULT_BLOCK_BYTES
                  ) -> Dict[Tuple[int, int], TaskUsage]:
    """Stream ``task_usage`` parts and keep the records of ``tasks`` only.

    ``tasks``: a DataFrame with ``job_id`` and ``task_index`` columns, or (job, task) pairs.
    Returns ``{(job_id, task_index): TaskUsage}`` for every requested task (empty arrays when it
    has no records), records sorted by (start, end) whichever part or block they came from.
    Memory: 56 bytes per kept record.
    """
    if isinstance(tasks, pd.DataFrame):
        job = tasks["job_id"].to_numpy(np.int64)
        task = tasks["task_index"].to_numpy(np.int64)
    else:
        pairs = np.asarray(list(tasks), dtype=np.int64).reshape(-1, 2)
        job, task = pairs[:, 0], pairs[:, 1]
    keys = np.unique(pack(job, task, "tasks", None))
    stats = ReadStats()
    records = collect_records(resolve_parts(paths, "task_usage"), keys, block_bytes, stats)
    out = {}
    for i, key in enumerate(keys):
        lo, hi = records.bounds[i], records.bounds[i + 1]
        j, t = unpack(np.array([key]))
        out[(int(j[0]), int(t[0]))] = TaskUsage(records.start[lo:hi], records.end[lo:hi],
                                                records.values[lo:hi])
    return out


class Records(NamedTuple):
    """Records of the requested tasks, grouped by task (in key order) and sorted by (start,
    end) within each: group i is rows bounds[i]:bounds[i+1]."""
    start: np.ndarray
    end: np.ndarray
    values: np.ndarray
    bounds: np.ndarray


def collect_records(paths: Sequence[Path], keys: np.ndarray, block_bytes: int,
                    stats: ReadStats, say: Callable[[str], None] = lambda m: None) -> Records:
    """Pass 3 itself: the records in ``paths`` of the tasks with the (sorted) ``keys``."""
    keys = np.asarray(keys, np.int64)
    pieces: List[Tuple[np.ndarray, ...]] = []
    for cols, key in iter_usage(paths if len(keys) else [], block_bytes, stats, say):
        idx, hit = lookup(keys, key)
        if hit.any():
            values = np.stack([cols[c][hit] for c in FEATURE_COLUMNS], axis=1)
            pieces.append((idx[hit].astype(np.int32), cols[0][hit], cols[1][hit],
                           values.astype(np.float32)))
    if pieces:
        idx, start, end, values = (np.concatenate([p[i] for p in pieces]) for i in range(4))
    else:
        idx, start, end = (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        values = np.zeros((0, len(FEATURES)), np.float32)
    del pieces
    order = np.lexsort((end, start, idx))
    idx = idx[order]
    bounds = np.searchsorted(idx, np.arange(len(keys) + 1))
    return Records(start[order], end[order], values[order], bounds)


def exact_summary(records: Records, groups: Sequence[int]) -> Dict[str, np.ndarray]:
    """count / flags / max_end of the given record groups, from their sorted records."""
    num_groups = len(records.bounds) - 1
    sizes = np.diff(records.bounds)
    group_of = np.repeat(np.arange(num_groups), sizes)
    broken = np.zeros(len(group_of), bool)
    broken[1:] = (group_of[1:] == group_of[:-1]) & (records.end[:-1] != records.start[1:])
    broken |= records.end < records.start
    missing = np.isnan(records.values).any(axis=1)
    flags = np.zeros(num_groups, np.uint8)
    flags[np.bincount(group_of, weights=broken, minlength=num_groups) > 0] |= DISCONTINUOUS
    flags[np.bincount(group_of, weights=missing, minlength=num_groups) > 0] |= MISSING
    max_end = np.full(num_groups, np.iinfo(np.int64).min, np.int64)
    filled = np.flatnonzero(sizes > 0)
    if len(filled):
        max_end[filled] = np.maximum.reduceat(records.end, records.bounds[filled])
    groups = np.asarray(groups, np.int64)
    return {"count": sizes[groups], "flags": flags[groups], "max_end": max_end[groups]}


def split_rows(records: Records, groups: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """-> (the record rows of the groups, group after group; the groups' lengths)."""
    groups = np.asarray(groups, np.int64)
    lo_b, hi_b = records.bounds[groups], records.bounds[groups + 1]
    lengths = (hi_b - lo_b).astype(np.int64)
    offsets = np.repeat(lo_b - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(int(lengths.sum())) + offsets, lengths
