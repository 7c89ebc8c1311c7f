"""Pass 2 over ``task_usage``: a compact summary of each candidate task's records (46 bytes per
task), continuity checked online as the records stream by, then each task's verdict: valid, the
first filter it fails, or undetermined (records out of order: checked exactly in pass 3)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from data_prep.gcut.events import EndEvents
from data_prep.gcut.trace import FEATURE_COLUMNS, ReadStats, iter_usage, lookup

# Drop reasons in the order the filters run.
DROP_REASONS = ("no_end_event", "no_usage_records", "discontinuous_usage", "end_time_mismatch",
                "missing_usage_values", "longer_than_max_length")
NOT_SAMPLED = "not_sampled"

# per-task flags of the usage summary
DISCONTINUOUS = np.uint8(1)
UNORDERED = np.uint8(2)   # records arrived out of (start, end) order: checked exactly later
MISSING = np.uint8(4)

# a task's verdict: VALID, UNDETERMINED, or the failed filter i (its drop reason DROP_REASONS[i])
VALID = 0
UNDETERMINED = -1
_NO_USAGE, _BROKEN, _END_MISMATCH, _HOLES, TOO_LONG = 1, 2, 3, 4, 5


class Candidates(NamedTuple):
    keys: np.ndarray      # sorted int64
    category: np.ndarray  # int8
    time: np.ndarray      # int64 end event time


class Summary:
    """Per candidate task: record count, last record (start, end) in (start, end) order, max
    end, flags.  46 bytes per task with the candidate arrays."""

    def __init__(self, n: int):
        self.count = np.zeros(n, np.int32)
        self.last_start = np.full(n, np.iinfo(np.int64).min, np.int64)
        self.last_end = np.full(n, np.iinfo(np.int64).min, np.int64)
        self.max_end = np.full(n, np.iinfo(np.int64).min, np.int64)
        self.flags = np.zeros(n, np.uint8)
        self.rows_matched = 0
        self.rows_no_end_event = 0
        self.rows_unknown_task = 0

    def update(self, idx, start, end, missing):
        """Fold in one block's rows of candidate tasks (any order)."""
        order = np.lexsort((end, start, idx))
        idx, start, end, missing = idx[order], start[order], end[order], missing[order]
        new_group = np.r_[True, idx[1:] != idx[:-1]]
        first = np.flatnonzero(new_group)
        last = np.r_[first[1:] - 1, len(idx) - 1]
        tasks = idx[first]
        # within the block: consecutive records of a task must touch, and end >= start
        same = ~new_group[1:]
        broken = same & (end[:-1] != start[1:])
        flags = np.zeros(len(idx), np.uint8)
        flags[1:][broken] |= DISCONTINUOUS
        flags[end < start] |= DISCONTINUOUS
        flags[missing] |= MISSING
        block_flags = np.bitwise_or.reduceat(flags, first)
        # across blocks: the block's first record must follow the task's last one
        seen = self.count[tasks] > 0
        prev_start, prev_end = self.last_start[tasks], self.last_end[tasks]
        fs, fe = start[first], end[first]
        unordered = seen & ((fs < prev_start) | ((fs == prev_start) & (fe < prev_end)))
        touching = fs == prev_end
        block_flags[unordered] |= UNORDERED
        block_flags[seen & ~unordered & ~touching] |= DISCONTINUOUS
        self.flags[tasks] |= block_flags
        self.count[tasks] += (last - first + 1).astype(np.int32)
        ls, le = start[last], end[last]
        later = ~unordered | (ls > prev_start) | ((ls == prev_start) & (le > prev_end))
        self.last_start[tasks] = np.where(later, ls, prev_start)
        self.last_end[tasks] = np.where(later, le, prev_end)
        self.max_end[tasks] = np.maximum(self.max_end[tasks], np.maximum.reduceat(end, first))
        self.rows_matched += len(idx)


def summarize_usage(paths: Sequence[Path], candidates: Candidates, events: EndEvents,
                    block_bytes: int, stats: ReadStats,
                    say: Callable[[str], None] = lambda m: None) -> Summary:
    """Pass 2 itself: the summary of every candidate's records in ``paths``."""
    summary = Summary(len(candidates.keys))
    for cols, key in iter_usage(paths, block_bytes, stats, say):
        idx, hit = lookup(candidates.keys, key)
        if not hit.all():
            _, known = lookup(events.keys, key[~hit])
            summary.rows_no_end_event += int(known.sum())
            summary.rows_unknown_task += int((~known).sum())
        if not hit.any():
            continue
        missing = np.zeros(int(hit.sum()), bool)
        for c in FEATURE_COLUMNS:
            missing |= np.isnan(cols[c][hit])
        summary.update(idx[hit], cols[0][hit], cols[1][hit], missing)
    return summary


def verdicts(count, flags, max_end, end_time, tolerance_us: int, max_length, missing_values):
    """Per task: VALID, the code of the first failing filter, or UNDETERMINED."""
    count = np.asarray(count)
    flags = np.asarray(flags, np.uint8)
    verdict = np.full(len(count), VALID, np.int8)
    undecided = np.ones(len(count), bool)

    def fail(mask, code):
        mask = mask & undecided
        verdict[mask] = code
        undecided[mask] = False

    fail(count == 0, _NO_USAGE)
    fail((flags & UNORDERED) > 0, UNDETERMINED)
    fail((flags & DISCONTINUOUS) > 0, _BROKEN)
    # |end_time - max_end| > tol, without overflowing on the trace's 2**63-1 "after the end"
    max_end = np.where(count > 0, max_end, 0)
    far = np.where(end_time >= max_end, (end_time - tolerance_us) > max_end,
                   (max_end - tolerance_us) > end_time)
    fail(far, _END_MISMATCH)
    if missing_values == "drop":
        fail((flags & MISSING) > 0, _HOLES)
    if max_length is not None:
        fail(count > max_length, TOO_LONG)
    return verdict
