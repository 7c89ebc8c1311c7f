"""The GCUT conversion: the three passes, the filters' verdicts, the seeded draw and the split,
then the Datasets and the report (see the package docstring)."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

from data_prep import arguments, assemble
from data_prep.conversion import Conversion
from data_prep.gcut.build import build_datasets, tasks_table
from data_prep.gcut.events import scan_end_events
from data_prep.gcut.records import collect_records, exact_summary
from data_prep.gcut.trace import (DEFAULT_BLOCK_BYTES, DEFAULT_END_TIME_TOLERANCE_S, END_EVENTS,
                                  FEATURE_NAMES, MICROSECONDS, MISSING_VALUE_POLICIES,
                                  ReadStats, resolve_parts)
from data_prep.gcut.usage import (DROP_REASONS, NOT_SAMPLED, TOO_LONG, UNDETERMINED, VALID,
                                  Candidates, summarize_usage, verdicts)
from data_prep.report import Report


def convert(task_events, task_usage, *, num_samples: int = 100000, seed: int = 0,
            max_length: Optional[int] = None, sample_len: Optional[int] = None,
            end_time_tolerance: float = DEFAULT_END_TIME_TOLERANCE_S,
            missing_values: str = "drop", test_fraction: float = 0.0,
            block_bytes: int = DEFAULT_BLOCK_BYTES,
            progress: Optional[Callable[[str], None]] = None) -> Conversion:
    """Convert GCUT parts -> a :class:`~data_prep.conversion.Conversion`: ``datasets``
    ``{"train": Dataset}`` (plus ``"test"`` when ``test_fraction > 0``), the report, and
    ``samples`` naming the task of each sample (``split``, ``sample``, ``job_id``,
    ``task_index``, ``end_event``, ``length``; written as ``tasks.csv``).

    task_events / task_usage: part files, directories or globs (see :func:`resolve_parts`).
    num_samples: tasks drawn uniformly without replacement (seeded by ``seed``) among the tasks
        that pass every filter; all of them when fewer (the report says so).
    max_length: tasks with more records are dropped (``longer_than_max_length``), never
        truncated; with it, T = max_length, else T = the longest written task.
    sample_len: T is rounded up to a multiple of it (the extra steps are padding).
    end_time_tolerance: seconds; a task is kept only when its end event's time lies within
        [last_end - tol, last_end + tol], last_end the end of its last usage record.
    missing_values: "drop" a task with an empty field in a used column, or read it as "zero".
    test_fraction: hold out this fraction of the sampled tasks as ``"test"`` (default 0: train
        only; the paper trains on the whole sample).  Both splits share one scaling and one T.
    progress: called with a line per pass and per part read.
    Raises ValueError on malformed input (naming the file and line), bad arguments, or when no
    task survives.
    """
    _check_arguments(num_samples, seed, max_length, sample_len, end_time_tolerance,
                     missing_values, block_bytes, test_fraction)
    say = progress or (lambda message: None)
    event_parts = resolve_parts(task_events, "task_events")
    usage_parts = resolve_parts(task_usage, "task_usage")
    tolerance_us = min(int(round(float(end_time_tolerance) * MICROSECONDS)), 1 << 62)

    report = Report("gcut")
    for reason in DROP_REASONS + (NOT_SAMPLED,):
        report.drop(reason, 0)
    report.note("settings", {
        "num_samples": int(num_samples), "seed": int(seed),
        "max_length": None if max_length is None else int(max_length),
        "max_length_policy": "drop longer tasks (never truncate)",
        "sample_len": None if sample_len is None else int(sample_len),
        "end_time_tolerance_s": float(end_time_tolerance), "missing_values": missing_values,
        "test_fraction": float(test_fraction),
        "end_event_categories": list(END_EVENTS), "features": list(FEATURE_NAMES)})
    notes: List[str] = []

    # pass 1: the last terminal event of every task
    say(f"pass 1/3: {len(event_parts)} task_events parts")
    events = scan_end_events(event_parts, block_bytes, say)
    has_end = events.category >= 0
    report.drop("no_end_event", int((~has_end).sum()))
    candidates = Candidates(events.keys[has_end], events.category[has_end],
                            events.time[has_end])
    report.note("task_events", {"parts": events.parts, "rows": events.rows,
                                "empty_parts": events.empty_parts,
                                "tasks": int(len(events.keys)),
                                "tasks_with_end_event": int(len(candidates.keys))})
    report.note("end_events_all_tasks", _category_counts(candidates.category))

    # pass 2: a compact summary of every candidate's usage records
    say(f"pass 2/3: {len(usage_parts)} task_usage parts (summaries)")
    usage_stats = ReadStats()
    summary = summarize_usage(usage_parts, candidates, events, block_bytes, usage_stats, say)
    verdict = verdicts(summary.count, summary.flags, summary.max_end, candidates.time,
                       tolerance_us, max_length, missing_values)

    # choose what to read again: the first num_samples known-valid tasks in a seeded random
    # order, plus every task whose order-dependent checks are undetermined.  The first
    # num_samples valid tasks in that order are always among them.
    priority = np.random.default_rng(seed).permutation(len(candidates.keys))
    known_valid = np.flatnonzero(verdict == VALID)
    first_known = known_valid[np.argsort(priority[known_valid], kind="stable")][:num_samples]
    undetermined = np.flatnonzero(verdict == UNDETERMINED)
    wanted = np.union1d(first_known, undetermined)
    say(f"pass 3/3: {len(usage_parts)} task_usage parts (records of {len(wanted)} tasks)")
    records = collect_records(usage_parts, candidates.keys[wanted], block_bytes, ReadStats(),
                              say)
    # record group i holds candidate wanted[i] (wanted is sorted, like the keys)

    if len(undetermined):
        exact = exact_summary(records, np.searchsorted(wanted, undetermined))
        verdict[undetermined] = verdicts(
            exact["count"], exact["flags"], exact["max_end"], candidates.time[undetermined],
            tolerance_us, max_length, missing_values)
        notes.append(f"{len(undetermined)} tasks had usage records out of time order across "
                     "blocks or parts; they were checked exactly on their sorted records")
    report.note("tasks_with_unordered_records", int(len(undetermined)))
    for code, reason in enumerate(DROP_REASONS[1:], start=1):
        report.drop(reason, int((verdict == code).sum()))

    valid = np.flatnonzero(verdict == VALID)
    if len(valid) == 0:
        raise ValueError(
            f"no task passed the filters (dropped: {report.nonzero_drops()}); check that "
            "task_events and task_usage come from the same trace (the same parts' time range)")
    chosen = valid[np.argsort(priority[valid], kind="stable")][:num_samples]
    report.drop(NOT_SAMPLED, len(valid) - len(chosen))
    shortfall = assemble.shortfall_note(len(valid), num_samples, "tasks")
    if shortfall:
        notes.append(shortfall)
    # the split follows the same random order; each split is written in (job, task) order
    split_members = assemble.split(chosen, test_fraction, "tasks")

    # the length distribution before the max_length cap (record counts need no order)
    usable = np.flatnonzero((verdict == VALID) | (verdict == TOO_LONG))
    report.note("lengths_before_max_length", _length_stats(summary.count[usable], max_length))
    report.note("end_events_valid_tasks", _category_counts(candidates.category[valid]))
    report.note("task_usage", {
        "parts": usage_stats.parts, "rows": usage_stats.rows,
        "empty_parts": usage_stats.empty_parts,
        "rows_of_tasks_with_end_event": summary.rows_matched,
        "rows_of_tasks_without_end_event": summary.rows_no_end_event,
        "rows_of_tasks_not_in_task_events": summary.rows_unknown_task})

    datasets, lengths = build_datasets(
        records, {name: (np.searchsorted(wanted, members), candidates.category[members])
                  for name, members in split_members.items()},
        max_length, sample_len, missing_values, report, notes)
    tasks = tasks_table(candidates.keys, candidates.category, split_members, lengths)
    for name, members in split_members.items():
        report.note(f"{name}_size", int(len(members)))
    report.kept = len(chosen)
    report.note("sampled", int(len(chosen)))
    report.note("end_events_sampled", _category_counts(candidates.category[chosen]))
    report.note("lengths_of_sampled_tasks", _length_stats(tasks["length"].to_numpy()))
    report.note("notes", notes)
    return Conversion(datasets, report, tasks, "tasks.csv")


def _check_arguments(num_samples, seed, max_length, sample_len, end_time_tolerance,
                     missing_values, block_bytes, test_fraction) -> None:
    arguments.positive_int(num_samples, "num_samples")
    arguments.positive_int(max_length, "max_length", optional=True)
    arguments.positive_int(sample_len, "sample_len", optional=True)
    arguments.positive_int(block_bytes, "block_bytes")
    arguments.seed(seed)
    try:
        tol = float(end_time_tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"end_time_tolerance must be a number of seconds, got "
                         f"{end_time_tolerance!r}") from None
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"end_time_tolerance must be finite and >= 0 seconds, got {tol}")
    arguments.fraction(test_fraction)
    if missing_values not in MISSING_VALUE_POLICIES:
        raise ValueError(f"missing_values must be one of {MISSING_VALUE_POLICIES}, got "
                         f"{missing_values!r}")


def _category_counts(categories: np.ndarray) -> Dict[str, int]:
    counts = np.bincount(np.asarray(categories, np.int64), minlength=len(END_EVENTS))
    return {name: int(counts[i]) for i, name in enumerate(END_EVENTS)}


def _length_stats(lengths: np.ndarray, max_length: Optional[int] = None) -> dict:
    if len(lengths) == 0:
        return {"count": 0}
    lengths = np.asarray(lengths)
    stats = {"count": int(len(lengths)), "min": int(lengths.min()),
             "median": float(np.median(lengths)), "p97": float(np.percentile(lengths, 97)),
             "max": int(lengths.max()), "fraction_le_50": float(np.mean(lengths <= 50))}
    if max_length is not None:
        stats[f"fraction_le_max_length_{max_length}"] = float(np.mean(lengths <= max_length))
    return stats
