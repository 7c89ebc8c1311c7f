"""GCUT: Google cluster-data 2011-2 ``task_events`` + ``task_usage`` -> canonical dataset.

The raw trace (bucket ``clusterdata-2011-2``, downloaded by the user with ``gsutil``; see
docs/data_prep_gcut.md) has 500 parts per table, ``<table>/part-NNNNN-of-00500.csv.gz``: gzip
CSV without a header, parts in time order.  ``task_events`` has 13 columns (timestamp, missing
info, job ID, task index, machine ID, event type, ...), ``task_usage`` 20 (start time, end time,
job ID, task index, machine ID, then the usage measurements).  Times are microseconds.

One sample per task (job ID, task index), as in the paper (Lin et al., IMC 2020, Appendix A):

- metadata (attribute) ``end_event_type``: the task's LAST terminal event among EVICT (2),
  FAIL (3), FINISH (4), KILL (5), by timestamp (ties: the later row in part/file order).  One
  DISCRETE attribute of dim 4, category order :data:`END_EVENTS` = FAIL, KILL, EVICT, FINISH (the
  original spec pickle has dim 4 and no labels, and the original release ships no GCUT data, so
  nothing pins another order).  LOST and the other event types never end a task here.
- measurements (features): the 9 series of the paper's Table 6, in :data:`FEATURES` order, one
  record per ``task_usage`` row (a 5-minute measurement window), each CONTINUOUS ZERO_ONE of
  dim 1, scaled with one global min/max per feature over the written samples.  Values are kept
  as float32 (the trace prints about 4 significant digits).

Filters (each dropped task is counted once, under the first that fails, in this order):
``no_end_event`` (the task has rows in task_events but no terminal event), ``no_usage_records``,
``discontinuous_usage`` (after sorting its records by (start, end), some record's end differs
from the next one's start, or a record ends before it starts), ``end_time_mismatch`` (the end
event's time is more than ``end_time_tolerance`` seconds away from the last record's end),
``missing_usage_values`` (an empty field in one of the 9 used columns; only with
``missing_values="drop"``, the default), ``longer_than_max_length`` (more records than
``max_length``: such tasks are dropped, never truncated, so the series still ends at the end
event its attribute names), then ``not_sampled`` (``num_samples`` tasks are drawn uniformly,
seeded, from the remaining ones).

Streaming and memory (flat in the number of parts): every part is read in blocks of
``block_bytes`` of decompressed text.  Pass 1 over task_events keeps, per task, 17 bytes (packed
key, time, type).  Pass 2 over task_usage keeps a 46-byte summary per task with an end event
(record count, last record, max end, flags) and checks continuity online; pass 3 reads
task_usage again and keeps the records (56 bytes each) of the sampled tasks only, plus those of
any task whose records arrived out of time order (checked exactly there; none in a time-ordered
trace).  The written dataset is dense: N x T x 9 float32.

Malformed input raises ``ValueError`` naming the file (and the line): a truncated or corrupt
gzip part, a row without exactly 13 / 20 fields, a missing or non-integer ID / time / event
type, a non-numeric or infinite measurement, an event type outside 0..8, a negative time, IDs
outside the packable range.  An empty part (0 bytes, or a gzip holding nothing) is read as
having no rows and listed in the report under ``empty_parts``.

Run ``python -m data_prep.gcut --task_events DIR --task_usage DIR --output OUT``; it writes
``OUT/train`` (and ``OUT/test`` with ``--test_fraction``), ``OUT/report.json`` and
``OUT/tasks.csv`` (split, job ID, task index, end event and length of each sample).
"""
from __future__ import annotations

import glob
import gzip
import io
import os
import sys
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from data_prep.report import Report, command_line_errors, finish_run
from doppelganger_tf.atomic import atomic_file
from doppelganger_tf.dataset import Dataset, check_sample_len
from doppelganger_tf.outputs import Normalization, Output, OutputType
from doppelganger_tf.transforms import gen_flags_from_lengths, global_scale

# --- the trace's layout ---------------------------------------------------------------------------

TASK_EVENTS_COLUMNS = (
    "timestamp", "missing_info", "job_id", "task_index", "machine_id", "event_type", "user",
    "scheduling_class", "priority", "cpu_request", "memory_request", "disk_request",
    "different_machine_constraint")
TASK_USAGE_COLUMNS = (
    "start_time", "end_time", "job_id", "task_index", "machine_id", "mean_cpu_usage_rate",
    "canonical_memory_usage", "assigned_memory_usage", "unmapped_page_cache",
    "total_page_cache", "maximum_memory_usage", "mean_disk_io_time", "mean_local_disk_space_used",
    "maximum_cpu_usage", "maximum_disk_io_time", "cycles_per_instruction",
    "memory_accesses_per_instruction", "sample_portion", "aggregation_type", "sampled_cpu_usage")

EVENT_TYPES = {0: "SUBMIT", 1: "SCHEDULE", 2: "EVICT", 3: "FAIL", 4: "FINISH", 5: "KILL",
               6: "LOST", 7: "UPDATE_PENDING", 8: "UPDATE_RUNNING"}
# The attribute's categories, in column order.
END_EVENTS = ("FAIL", "KILL", "EVICT", "FINISH")
END_EVENT_CODES = {"EVICT": 2, "FAIL": 3, "FINISH": 4, "KILL": 5}
ATTRIBUTE_NAME = "end_event_type"

# (feature name, task_usage column index): the paper's Table 6, in its order.
FEATURES = (
    ("cpu_rate", 5),                # mean CPU usage rate
    ("maximum_cpu_rate", 13),       # maximum CPU usage
    ("sampled_cpu_usage", 19),
    ("canonical_memory_usage", 6),
    ("assigned_memory_usage", 7),
    ("maximum_memory_usage", 10),
    ("unmapped_page_cache", 8),
    ("total_page_cache", 9),
    ("local_disk_space", 12),       # mean local disk space used
)
FEATURE_NAMES = tuple(name for name, _ in FEATURES)
FEATURE_COLUMNS = tuple(column for _, column in FEATURES)

MICROSECONDS = 1_000_000
MEASUREMENT_WINDOW_S = 300
DEFAULT_END_TIME_TOLERANCE_S = 300.0
DEFAULT_BLOCK_BYTES = 4 << 20  # peak memory is about 10 x this, see the docs
MISSING_VALUE_POLICIES = ("drop", "zero")
PART_PATTERN = "part-*-of-*.csv*"

# Drop reasons in the order the filters run.
DROP_REASONS = ("no_end_event", "no_usage_records", "discontinuous_usage", "end_time_mismatch",
                "missing_usage_values", "longer_than_max_length")
NOT_SAMPLED = "not_sampled"

# (job ID, task index) packed into one int64: job ID < 2**42, task index < 2**21.
_TASK_BITS = 21
_JOB_LIMIT = 1 << 42
_TASK_LIMIT = 1 << _TASK_BITS

# trace event code -> attribute category index (-1: not a terminal event)
_CATEGORY_OF_CODE = np.full(len(EVENT_TYPES), -1, np.int8)
for _i, _name in enumerate(END_EVENTS):
    _CATEGORY_OF_CODE[END_EVENT_CODES[_name]] = _i

# per-task flags of the usage summary
_DISCONTINUOUS = np.uint8(1)
_UNORDERED = np.uint8(2)   # records arrived out of (start, end) order: checked exactly later
_MISSING = np.uint8(4)

# verdict codes: index into DROP_REASONS[1:] plus these
_VALID = 0
_UNDETERMINED = -1
_NO_USAGE, _DISCONTINUOUS_V, _END_MISMATCH, _MISSING_V, _TOO_LONG = 1, 2, 3, 4, 5


class TaskUsage(NamedTuple):
    """The usage records of one task, sorted by (start, end): ``start`` / ``end`` int64 [n]
    (microseconds), ``values`` float32 [n, 9] in :data:`FEATURES` order (NaN: empty field)."""
    start: np.ndarray
    end: np.ndarray
    values: np.ndarray


# --- public API -----------------------------------------------------------------------------------

def resolve_parts(spec, table: str = "input") -> List[Path]:
    """A directory, a glob, a path, or a list / comma-separated string of those -> the part
    files, sorted by name (the trace's zero-padded part numbers sort in time order), without
    duplicates.  A directory contributes its ``part-*-of-*.csv[.gz]`` files (or, when it has
    none, every ``*.csv.gz`` / ``*.csv``).  Raises ValueError when nothing matches."""
    if spec is None:
        raise ValueError(f"no {table} parts given")
    items: List = []
    for item in ([spec] if isinstance(spec, (str, os.PathLike)) else list(spec)):
        if isinstance(item, str) and "," in item:
            items.extend(s.strip() for s in item.split(",") if s.strip())
        else:
            items.append(item)
    found: Dict[str, Path] = {}
    for item in items:
        path = Path(item)
        if path.is_dir():
            matches = sorted(path.glob(PART_PATTERN))
            if not matches:
                matches = sorted(list(path.glob("*.csv.gz")) + list(path.glob("*.csv")))
            if not matches:
                raise ValueError(f"{table}: the directory {path} holds no part files "
                                 f"({PART_PATTERN} or *.csv.gz)")
        elif path.is_file():
            matches = [path]
        else:
            matches = [Path(p) for p in sorted(glob.glob(str(item))) if Path(p).is_file()]
            if not matches:
                raise ValueError(f"{table}: {item} is neither a file, a directory nor a glob "
                                 "matching files")
        for match in matches:
            found.setdefault(str(match.resolve()), match)
    if not found:
        raise ValueError(f"no {table} parts given")
    return sorted(found.values(), key=lambda p: (p.name, str(p)))


def read_end_events(paths, *, block_bytes: int = DEFAULT_BLOCK_BYTES) -> pd.DataFrame:
    """Pass 1: stream ``task_events`` parts; one row per task seen, sorted by (job, task).

    Columns: ``job_id``, ``task_index`` (int64), ``end_event`` (categorical over
    :data:`END_EVENTS`; NaN when the task has no EVICT/FAIL/FINISH/KILL event), ``end_time``
    (nullable Int64 microseconds of that event).  The task's last terminal event by timestamp is
    used; at equal timestamps the later row (in part, then file order) wins.  ``attrs`` holds
    ``rows``, ``parts`` and ``empty_parts``.  Malformed input raises ValueError (see the module
    docstring).
    """
    events = _scan_end_events(resolve_parts(paths, "task_events"), block_bytes)
    job, task = _unpack(events.keys)
    frame = pd.DataFrame({
        "job_id": job, "task_index": task,
        "end_event": pd.Categorical.from_codes(events.category.astype(np.int64),
                                               categories=list(END_EVENTS)),
        "end_time": pd.arrays.IntegerArray(events.time.copy(), events.category < 0),
    })
    frame.attrs.update(rows=events.rows, parts=events.parts, empty_parts=events.empty_parts)
    return frame


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
    keys = np.unique(_pack(job, task, "tasks", None))
    stats = _ReadStats()
    records = _collect_records(resolve_parts(paths, "task_usage"), keys, block_bytes, stats)
    out = {}
    for i, key in enumerate(keys):
        lo, hi = records.bounds[i], records.bounds[i + 1]
        j, t = _unpack(np.array([key]))
        out[(int(j[0]), int(t[0]))] = TaskUsage(records.start[lo:hi], records.end[lo:hi],
                                                records.values[lo:hi])
    return out


def feature_outputs() -> List[Output]:
    """The 9 feature specs (CONTINUOUS ZERO_ONE, dim 1), in :data:`FEATURES` order."""
    return [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name=name)
            for name in FEATURE_NAMES]


def attribute_outputs() -> List[Output]:
    """The one attribute spec: ``end_event_type``, DISCRETE over :data:`END_EVENTS`."""
    return [Output(OutputType.DISCRETE, len(END_EVENTS), name=ATTRIBUTE_NAME,
                   categories=END_EVENTS)]


def convert(task_events, task_usage, *, num_samples: int = 100000, seed: int = 0,
            max_length: Optional[int] = None, sample_len: Optional[int] = None,
            end_time_tolerance: float = DEFAULT_END_TIME_TOLERANCE_S,
            missing_values: str = "drop", test_fraction: float = 0.0,
            block_bytes: int = DEFAULT_BLOCK_BYTES,
            progress: Optional[Callable[[str], None]] = None
            ) -> Tuple[Dict[str, Dataset], Report]:
    """Convert GCUT parts; returns ``({"train": Dataset}, report)`` (plus ``"test"`` when
    ``test_fraction > 0``).

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
    Raises ValueError on malformed input (naming the file and line), bad arguments, or when no
    task survives.  :func:`convert_with_tasks` also returns which task each sample is.
    """
    datasets, report, _ = convert_with_tasks(
        task_events, task_usage, num_samples=num_samples, seed=seed, max_length=max_length,
        sample_len=sample_len, end_time_tolerance=end_time_tolerance,
        missing_values=missing_values, test_fraction=test_fraction, block_bytes=block_bytes,
        progress=progress)
    return datasets, report


def convert_with_tasks(task_events, task_usage, *, num_samples: int = 100000, seed: int = 0,
                       max_length: Optional[int] = None, sample_len: Optional[int] = None,
                       end_time_tolerance: float = DEFAULT_END_TIME_TOLERANCE_S,
                       missing_values: str = "drop", test_fraction: float = 0.0,
                       block_bytes: int = DEFAULT_BLOCK_BYTES,
                       progress: Optional[Callable[[str], None]] = None
                       ) -> Tuple[Dict[str, Dataset], Report, pd.DataFrame]:
    """:func:`convert`, plus a DataFrame with one row per sample: ``split``, ``sample`` (its
    index in that split's dataset), ``job_id``, ``task_index``, ``end_event``, ``length``
    (the train samples, then the test samples)."""
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
    events = _scan_end_events(event_parts, block_bytes, say)
    has_end = events.category >= 0
    report.drop("no_end_event", int((~has_end).sum()))
    candidates = _Candidates(events.keys[has_end], events.category[has_end],
                             events.time[has_end])
    report.note("task_events", {"parts": events.parts, "rows": events.rows,
                                "empty_parts": events.empty_parts,
                                "tasks": int(len(events.keys)),
                                "tasks_with_end_event": int(len(candidates.keys))})
    report.note("end_events_all_tasks", _category_counts(candidates.category))

    # pass 2: a compact summary of every candidate's usage records
    say(f"pass 2/3: {len(usage_parts)} task_usage parts (summaries)")
    usage_stats = _ReadStats()
    summary = _summarize_usage(usage_parts, candidates, events, block_bytes, usage_stats, say)
    verdict = _verdicts(summary.count, summary.flags, summary.max_end, candidates.time,
                        tolerance_us, max_length, missing_values)

    # choose what to read again: the first num_samples known-valid tasks in a seeded random
    # order, plus every task whose order-dependent checks are undetermined.  The first
    # num_samples valid tasks in that order are always among them.
    priority = np.random.default_rng(seed).permutation(len(candidates.keys))
    known_valid = np.flatnonzero(verdict == _VALID)
    first_known = known_valid[np.argsort(priority[known_valid], kind="stable")][:num_samples]
    undetermined = np.flatnonzero(verdict == _UNDETERMINED)
    wanted = np.union1d(first_known, undetermined)
    say(f"pass 3/3: {len(usage_parts)} task_usage parts (records of {len(wanted)} tasks)")
    records = _collect_records(usage_parts, candidates.keys[wanted], block_bytes, _ReadStats(),
                               say)
    # record group i holds candidate wanted[i] (wanted is sorted, like the keys)

    if len(undetermined):
        exact = _exact_summary(records, np.searchsorted(wanted, undetermined))
        verdict[undetermined] = _verdicts(
            exact["count"], exact["flags"], exact["max_end"], candidates.time[undetermined],
            tolerance_us, max_length, missing_values)
        notes.append(f"{len(undetermined)} tasks had usage records out of time order across "
                     "blocks or parts; they were checked exactly on their sorted records")
    report.note("tasks_with_unordered_records", int(len(undetermined)))
    for code, reason in enumerate(DROP_REASONS[1:], start=1):
        report.drop(reason, int((verdict == code).sum()))

    valid = np.flatnonzero(verdict == _VALID)
    if len(valid) == 0:
        raise ValueError(
            f"no task passed the filters (dropped: {report.nonzero_drops()}); check that "
            "task_events and task_usage come from the same trace (the same parts' time range)")
    chosen = valid[np.argsort(priority[valid], kind="stable")][:num_samples]
    report.drop(NOT_SAMPLED, len(valid) - len(chosen))
    if len(chosen) < num_samples:
        notes.append(f"only {len(valid)} tasks passed the filters, fewer than num_samples="
                     f"{num_samples}: all of them were kept")
    # the split follows the same random order; each split is written in (job, task) order
    num_test = int(len(chosen) * test_fraction)
    if test_fraction > 0 and (num_test == 0 or num_test == len(chosen)):
        raise ValueError(f"{len(chosen)} sampled tasks cannot be split with test_fraction="
                         f"{test_fraction} (train {len(chosen) - num_test}, test {num_test}); "
                         "use more tasks or test_fraction=0 for no test set")
    split_members = {"train": np.sort(chosen[num_test:])}
    if test_fraction > 0:
        split_members["test"] = np.sort(chosen[:num_test])

    # the length distribution before the max_length cap (record counts need no order)
    usable = np.flatnonzero((verdict == _VALID) | (verdict == _TOO_LONG))
    report.note("lengths_before_max_length", _length_stats(summary.count[usable], max_length))
    report.note("end_events_valid_tasks", _category_counts(candidates.category[valid]))
    report.note("task_usage", {
        "parts": usage_stats.parts, "rows": usage_stats.rows,
        "empty_parts": usage_stats.empty_parts,
        "rows_of_tasks_with_end_event": summary.rows_matched,
        "rows_of_tasks_without_end_event": summary.rows_no_end_event,
        "rows_of_tasks_not_in_task_events": summary.rows_unknown_task})

    datasets, lengths = _build_datasets(
        records, {name: (np.searchsorted(wanted, members), candidates.category[members])
                  for name, members in split_members.items()},
        max_length, sample_len, missing_values, report, notes)
    tables = []
    for name, members in split_members.items():
        job, task = _unpack(candidates.keys[members])
        tables.append(pd.DataFrame({
            "split": name, "sample": np.arange(len(members)), "job_id": job, "task_index": task,
            "end_event": [END_EVENTS[c] for c in candidates.category[members]],
            "length": lengths[name]}))
        report.note(f"{name}_size", int(len(members)))
    tasks = pd.concat(tables, ignore_index=True)
    report.kept = len(chosen)
    report.note("sampled", int(len(chosen)))
    report.note("end_events_sampled", _category_counts(candidates.category[chosen]))
    report.note("lengths_of_sampled_tasks", _length_stats(tasks["length"].to_numpy()))
    report.note("notes", notes)
    return datasets, report, tasks


# --- reading parts --------------------------------------------------------------------------------

class _ReadStats:
    def __init__(self):
        self.parts = 0
        self.rows = 0
        self.empty_parts: List[str] = []


def _open_part(path: Path):
    """A binary handle on the part (gzip or plain text), or None for a 0-byte file."""
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if not magic:
        return None
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if path.name.endswith(".gz"):
        raise ValueError(f"{path}: not a gzip file (it does not start with the gzip magic "
                         "bytes); download this part again")
    return open(path, "rb")


def _raw_blocks(path: Path, block_bytes: int) -> Iterator[Tuple[int, bytes]]:
    """Yield (line number of its first line, bytes ending with a newline) per block of about
    ``block_bytes`` decompressed bytes.  Truncated/corrupt gzip data -> ValueError."""
    handle = _open_part(path)
    if handle is None:
        return
    line = 1
    rest = b""
    with handle:
        while True:
            try:
                data = handle.read(block_bytes)
            except (EOFError, OSError, zlib.error) as exc:
                raise ValueError(
                    f"{path}: truncated or corrupt gzip data after line {line - 1} ({exc}); "
                    "download this part again") from None
            if not data:
                break
            data = rest + data if rest else data
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                if len(rest) > 64 * max(block_bytes, 1 << 16):
                    raise ValueError(f"{path}: line {line} is longer than "
                                     f"{len(rest)} bytes; this is not a trace part")
                continue
            block, rest = data[:cut + 1], data[cut + 1:]
            yield line, block
            line += block.count(b"\n")
    if rest:
        yield line, rest + b"\n"


def _check_field_counts(path: Path, block: bytes, first_line: int, columns: Sequence[str],
                        table: str) -> int:
    """Every line of ``block`` must have exactly len(columns) comma-separated fields (the
    trace has no quoted fields).  Returns the number of lines.  Checked on the bytes because
    pandas silently pads short rows with NaN."""
    buf = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(buf == 10)
    commas = np.flatnonzero(buf == 44)
    per_line = np.diff(np.searchsorted(commas, ends), prepend=0)
    del commas
    bad = np.flatnonzero(per_line != len(columns) - 1)
    if len(bad):
        i = int(bad[0])
        start = int(ends[i - 1]) + 1 if i else 0
        text = block[start:int(ends[i])].rstrip(b"\r").decode("utf-8", "replace")
        what = "an empty line" if not text.strip() else f"{per_line[i] + 1} fields"
        raise ValueError(f"{path}: line {first_line + i}: {what}, expected {len(columns)} "
                         f"(the {table} schema); the line reads {text[:200]!r}")
    return len(ends)


def _parse_block(path: Path, block: bytes, first_line: int, columns: Sequence[str],
                 ints: Sequence[int], floats: Sequence[int]) -> Dict[int, np.ndarray]:
    """Parse the used columns of a checked block: ``ints`` as int64 (required), ``floats`` as
    float64 (an empty field is NaN; text or +-inf is an error)."""
    usecols = sorted(set(ints) | set(floats))
    dtype = {c: np.int64 for c in ints}
    dtype.update({c: np.float64 for c in floats})
    try:
        frame = pd.read_csv(io.BytesIO(block), header=None, names=list(range(len(columns))),
                            usecols=usecols, dtype=dtype, keep_default_na=False,
                            na_values=[""], engine="c")
    except (ValueError, OverflowError, TypeError) as exc:
        _raise_bad_value(path, block, first_line, columns, ints, floats, exc)
    out = {c: frame[c].to_numpy() for c in usecols}
    for c in floats:
        infinite = np.isinf(out[c])
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise ValueError(f"{path}: line {first_line + row}: column {c + 1} "
                             f"({columns[c]}) is {out[c][row]}, not a finite number")
    return out


def _raise_bad_value(path, block, first_line, columns, ints, floats, exc):
    """Find the first field that made the typed parse fail and raise a ValueError naming it."""
    usecols = sorted(set(ints) | set(floats))
    frame = pd.read_csv(io.BytesIO(block), header=None, names=list(range(len(columns))),
                        usecols=usecols, dtype=str, keep_default_na=False, engine="c")
    first_bad = None
    for c in usecols:
        text = frame[c].str.strip()
        if c in ints:
            # a copy: pandas 3 (copy-on-write) hands out read-only views
            ok = text.str.fullmatch(r"[+-]?\d{1,19}").to_numpy(copy=True)
            for row in np.flatnonzero(ok & (text.str.len().to_numpy() >= 19)):
                if not -2 ** 63 <= int(text.iloc[row]) < 2 ** 63:
                    ok[row] = False
            kind = "an integer (this column is required)"
        else:
            # an empty field is a missing value; anything else must be a finite number
            number = pd.to_numeric(text.where(text != "", "0"), errors="coerce").to_numpy()
            ok = np.isfinite(number) & ~text.str.lower().isin(["nan", "+nan", "-nan"]).to_numpy()
            kind = "a finite number or empty"
        bad = np.flatnonzero(~ok)
        if len(bad) and (first_bad is None or bad[0] < first_bad[0]):
            first_bad = (int(bad[0]), c, text.iloc[int(bad[0])], kind)
    if first_bad is None:
        raise ValueError(f"{path}: lines {first_line}.. cannot be parsed ({exc})") from None
    row, c, value, kind = first_bad
    raise ValueError(f"{path}: line {first_line + row}: column {c + 1} ({columns[c]}) holds "
                     f"{value!r}, which is not {kind}") from None


def _iter_part(path: Path, columns: Sequence[str], table: str, ints: Sequence[int],
               floats: Sequence[int], block_bytes: int, stats: _ReadStats
               ) -> Iterator[Tuple[int, Dict[int, np.ndarray]]]:
    """Yield (first line number, parsed used columns) per block of one part."""
    stats.parts += 1
    rows = 0
    for first_line, block in _raw_blocks(path, block_bytes):
        rows += _check_field_counts(path, block, first_line, columns, table)
        yield first_line, _parse_block(path, block, first_line, columns, ints, floats)
    stats.rows += rows
    if rows == 0:
        stats.empty_parts.append(path.name)


def _pack(job: np.ndarray, task: np.ndarray, path, first_line: Optional[int]) -> np.ndarray:
    job = np.asarray(job, np.int64)
    task = np.asarray(task, np.int64)
    bad = (job < 0) | (job >= _JOB_LIMIT) | (task < 0) | (task >= _TASK_LIMIT)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = f"{path}: line {first_line + row}" if first_line is not None else f"{path}"
        raise ValueError(f"{where}: job ID {job[row]} / task index {task[row]} is outside the "
                         f"supported range (0 <= job ID < 2**42, 0 <= task index < 2**21)")
    return (job << _TASK_BITS) | task


def _unpack(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(keys, np.int64)
    return keys >> _TASK_BITS, keys & (_TASK_LIMIT - 1)


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """-> (index into sorted_keys, found mask)."""
    pos = np.searchsorted(sorted_keys, keys)
    pos_c = np.minimum(pos, max(len(sorted_keys) - 1, 0))
    found = (pos < len(sorted_keys)) & (sorted_keys[pos_c] == keys) if len(sorted_keys) \
        else np.zeros(len(keys), bool)
    return pos_c, found


# --- pass 1: end events ---------------------------------------------------------------------------

class _EndEvents(NamedTuple):
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


def _scan_end_events(paths: Sequence[Path], block_bytes: int,
                     say: Callable[[str], None] = lambda m: None) -> _EndEvents:
    stats = _ReadStats()
    table = _LastEventTable()
    time_c, job_c, task_c, type_c = 0, 2, 3, 5
    for n, path in enumerate(paths, start=1):
        for first_line, cols in _iter_part(path, TASK_EVENTS_COLUMNS, "task_events",
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
            key = _pack(cols[job_c], cols[task_c], path, first_line)
            category = _CATEGORY_OF_CODE[etype]
            table.add(key, np.where(category >= 0, time, -1), category)
        say(f"  task_events {n}/{len(paths)}: {path.name}")
    keys, time, category = table.result()
    return _EndEvents(keys, time, category, stats.rows, stats.parts, stats.empty_parts)


# --- pass 2: usage summaries ----------------------------------------------------------------------

class _Candidates(NamedTuple):
    keys: np.ndarray      # sorted int64
    category: np.ndarray  # int8
    time: np.ndarray      # int64 end event time


class _Summary:
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
        flags[1:][broken] |= _DISCONTINUOUS
        flags[end < start] |= _DISCONTINUOUS
        flags[missing] |= _MISSING
        block_flags = np.bitwise_or.reduceat(flags, first)
        # across blocks: the block's first record must follow the task's last one
        seen = self.count[tasks] > 0
        prev_start, prev_end = self.last_start[tasks], self.last_end[tasks]
        fs, fe = start[first], end[first]
        unordered = seen & ((fs < prev_start) | ((fs == prev_start) & (fe < prev_end)))
        touching = fs == prev_end
        block_flags[unordered] |= _UNORDERED
        block_flags[seen & ~unordered & ~touching] |= _DISCONTINUOUS
        self.flags[tasks] |= block_flags
        self.count[tasks] += (last - first + 1).astype(np.int32)
        ls, le = start[last], end[last]
        later = ~unordered | (ls > prev_start) | ((ls == prev_start) & (le > prev_end))
        self.last_start[tasks] = np.where(later, ls, prev_start)
        self.last_end[tasks] = np.where(later, le, prev_end)
        self.max_end[tasks] = np.maximum(self.max_end[tasks], np.maximum.reduceat(end, first))
        self.rows_matched += len(idx)


def _summarize_usage(paths: Sequence[Path], candidates: _Candidates, events: _EndEvents,
                     block_bytes: int, stats: _ReadStats,
                     say: Callable[[str], None] = lambda m: None) -> _Summary:
    summary = _Summary(len(candidates.keys))
    for n, path in enumerate(paths, start=1):
        for first_line, cols in _iter_part(path, TASK_USAGE_COLUMNS, "task_usage", (0, 1, 2, 3),
                                           FEATURE_COLUMNS, block_bytes, stats):
            key = _pack(cols[2], cols[3], path, first_line)
            idx, hit = _lookup(candidates.keys, key)
            if not hit.all():
                _, known = _lookup(events.keys, key[~hit])
                summary.rows_no_end_event += int(known.sum())
                summary.rows_unknown_task += int((~known).sum())
            if not hit.any():
                continue
            missing = np.zeros(int(hit.sum()), bool)
            for c in FEATURE_COLUMNS:
                missing |= np.isnan(cols[c][hit])
            summary.update(idx[hit], cols[0][hit], cols[1][hit], missing)
        say(f"  task_usage {n}/{len(paths)}: {path.name}")
    return summary


def _verdicts(count, flags, max_end, end_time, tolerance_us: int, max_length, missing_values):
    """Per task: _VALID, the code of the first failing filter, or _UNDETERMINED."""
    count = np.asarray(count)
    flags = np.asarray(flags, np.uint8)
    verdict = np.full(len(count), _VALID, np.int8)
    undecided = np.ones(len(count), bool)

    def fail(mask, code):
        mask = mask & undecided
        verdict[mask] = code
        undecided[mask] = False

    fail(count == 0, _NO_USAGE)
    fail((flags & _UNORDERED) > 0, _UNDETERMINED)
    fail((flags & _DISCONTINUOUS) > 0, _DISCONTINUOUS_V)
    # |end_time - max_end| > tol, without overflowing on the trace's 2**63-1 "after the end"
    max_end = np.where(count > 0, max_end, 0)
    far = np.where(end_time >= max_end, (end_time - tolerance_us) > max_end,
                   (max_end - tolerance_us) > end_time)
    fail(far, _END_MISMATCH)
    if missing_values == "drop":
        fail((flags & _MISSING) > 0, _MISSING_V)
    if max_length is not None:
        fail(count > max_length, _TOO_LONG)
    return verdict


# --- pass 3: records of chosen tasks --------------------------------------------------------------

class _Records(NamedTuple):
    """Records of the requested tasks, grouped by task (in key order) and sorted by (start,
    end) within each: group i is rows bounds[i]:bounds[i+1]."""
    start: np.ndarray
    end: np.ndarray
    values: np.ndarray
    bounds: np.ndarray


def _collect_records(paths: Sequence[Path], keys: np.ndarray, block_bytes: int,
                     stats: _ReadStats, say: Callable[[str], None] = lambda m: None
                     ) -> _Records:
    keys = np.asarray(keys, np.int64)
    pieces: List[Tuple[np.ndarray, ...]] = []
    for n, path in enumerate(paths, start=1):
        if len(keys) == 0:
            break
        for first_line, cols in _iter_part(path, TASK_USAGE_COLUMNS, "task_usage", (0, 1, 2, 3),
                                           FEATURE_COLUMNS, block_bytes, stats):
            key = _pack(cols[2], cols[3], path, first_line)
            idx, hit = _lookup(keys, key)
            if hit.any():
                values = np.stack([cols[c][hit] for c in FEATURE_COLUMNS], axis=1)
                pieces.append((idx[hit].astype(np.int32), cols[0][hit], cols[1][hit],
                               values.astype(np.float32)))
        say(f"  task_usage {n}/{len(paths)}: {path.name}")
    if pieces:
        idx, start, end, values = (np.concatenate([p[i] for p in pieces]) for i in range(4))
    else:
        idx, start, end = (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        values = np.zeros((0, len(FEATURES)), np.float32)
    del pieces
    order = np.lexsort((end, start, idx))
    idx = idx[order]
    bounds = np.searchsorted(idx, np.arange(len(keys) + 1))
    return _Records(start[order], end[order], values[order], bounds)


def _exact_summary(records: _Records, groups: Sequence[int]) -> Dict[str, np.ndarray]:
    """count / flags / max_end of the given record groups, from their sorted records."""
    num_groups = len(records.bounds) - 1
    sizes = np.diff(records.bounds)
    group_of = np.repeat(np.arange(num_groups), sizes)
    broken = np.zeros(len(group_of), bool)
    broken[1:] = (group_of[1:] == group_of[:-1]) & (records.end[:-1] != records.start[1:])
    broken |= records.end < records.start
    missing = np.isnan(records.values).any(axis=1)
    flags = np.zeros(num_groups, np.uint8)
    flags[np.bincount(group_of, weights=broken, minlength=num_groups) > 0] |= _DISCONTINUOUS
    flags[np.bincount(group_of, weights=missing, minlength=num_groups) > 0] |= _MISSING
    max_end = np.full(num_groups, np.iinfo(np.int64).min, np.int64)
    filled = np.flatnonzero(sizes > 0)
    if len(filled):
        max_end[filled] = np.maximum.reduceat(records.end, records.bounds[filled])
    groups = np.asarray(groups, np.int64)
    return {"count": sizes[groups], "flags": flags[groups], "max_end": max_end[groups]}


# --- building the dataset -------------------------------------------------------------------------

def _split_rows(records: _Records, groups: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """-> (the record rows of the groups, group after group; the groups' lengths)."""
    groups = np.asarray(groups, np.int64)
    lo_b, hi_b = records.bounds[groups], records.bounds[groups + 1]
    lengths = (hi_b - lo_b).astype(np.int64)
    offsets = np.repeat(lo_b - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(int(lengths.sum())) + offsets, lengths


def _raw_values(records: _Records, rows: np.ndarray, missing_values: str) -> np.ndarray:
    flat = records.values[rows].astype(np.float64)
    return np.nan_to_num(flat, nan=0.0) if missing_values == "zero" else flat


def _build_datasets(records: _Records, splits: Dict[str, Tuple[np.ndarray, np.ndarray]],
                    max_length: Optional[int], sample_len: Optional[int], missing_values: str,
                    report: Report, notes: List[str]
                    ) -> Tuple[Dict[str, Dataset], Dict[str, np.ndarray]]:
    """``splits``: name -> (record groups, categories).  Dense [N, T, 9] features scaled with
    one global min/max per feature over the records of ALL splits (so the splits share one
    scaling), one T for all splits, one-hot attributes; each split is built in place (no second
    dense copy)."""
    rows_of = {name: _split_rows(records, groups) for name, (groups, _) in splits.items()}
    low = np.full(len(FEATURES), np.inf)
    high = np.full(len(FEATURES), -np.inf)
    filled = 0
    for rows, _ in rows_of.values():
        if missing_values == "zero":
            filled += int(np.isnan(records.values[rows]).sum())
        flat = _raw_values(records, rows, missing_values)
        low, high = np.minimum(low, flat.min(axis=0)), np.maximum(high, flat.max(axis=0))
        del flat
    if filled:
        notes.append(f"{filled} empty measurement fields were read as 0 (missing_values='zero')")
    constant = [FEATURE_NAMES[j] for j in np.flatnonzero(high <= low)]
    if constant:
        notes.append(f"features {constant} are constant over the written samples; they were "
                     "scaled with max = min + 1 (all zeros)")
        high = np.where(high <= low, low + 1.0, high)
    report.note("scaling", {"normalization": "zero_one",
                            "feature_min": dict(zip(FEATURE_NAMES, low.tolist())),
                            "feature_max": dict(zip(FEATURE_NAMES, high.tolist())),
                            "computed_on": "every record of the written samples (all splits)"})

    longest = max(int(lengths.max()) for _, lengths in rows_of.values())
    total = int(max_length) if max_length is not None else longest
    if sample_len is not None:
        total = -(-total // int(sample_len)) * int(sample_len)
    datasets, split_lengths, dense_bytes = {}, {}, 0
    for name, (groups, categories) in splits.items():
        rows, lengths = rows_of[name]
        gen_flags = gen_flags_from_lengths(lengths, total)
        features = np.zeros((len(lengths), total, len(FEATURES)), np.float32)
        flat = _raw_values(records, rows, missing_values)
        scaled = np.empty(flat.shape, np.float32)
        for j in range(len(FEATURES)):
            scaled[:, j] = global_scale(flat[:, j], low[j], high[j], Normalization.ZERO_ONE)
        del flat
        features[gen_flags > 0.5] = scaled
        del scaled
        attributes = np.zeros((len(lengths), len(END_EVENTS)), np.float32)
        attributes[np.arange(len(lengths)), np.asarray(categories, np.int64)] = 1.0
        datasets[name] = Dataset(features, attributes, gen_flags, feature_outputs(),
                                 attribute_outputs(), feature_min=low, feature_max=high,
                                 attribute_min=np.zeros(len(END_EVENTS)),
                                 attribute_max=np.ones(len(END_EVENTS)))
        if sample_len is not None:
            check_sample_len(total, int(sample_len))
        split_lengths[name] = lengths
        dense_bytes += int(features.nbytes)
    report.note("max_length_T", int(total))
    report.note("dense_feature_bytes", dense_bytes)
    return datasets, split_lengths


# --- small helpers --------------------------------------------------------------------------------

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



def _check_arguments(num_samples, seed, max_length, sample_len, end_time_tolerance,
                     missing_values, block_bytes, test_fraction):
    def positive_int(value, name, optional=False):
        if optional and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer{' or None' if optional else ''}"
                             f", got {value!r}")

    positive_int(num_samples, "num_samples")
    positive_int(max_length, "max_length", optional=True)
    positive_int(sample_len, "sample_len", optional=True)
    positive_int(block_bytes, "block_bytes")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    try:
        tol = float(end_time_tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"end_time_tolerance must be a number of seconds, got "
                         f"{end_time_tolerance!r}") from None
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"end_time_tolerance must be finite and >= 0 seconds, got {tol}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
            or not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be a number in [0, 1), got {test_fraction!r}")
    if missing_values not in MISSING_VALUE_POLICIES:
        raise ValueError(f"missing_values must be one of {MISSING_VALUE_POLICIES}, got "
                         f"{missing_values!r}")


def write_tasks(path, tasks: pd.DataFrame) -> None:
    """Write which task each sample is (``tasks.csv``), atomically."""
    with atomic_file(Path(path)) as f:
        tasks.to_csv(f, index=False)


# --- command line ---------------------------------------------------------------------------------

def define_flags() -> None:
    """Define this script's absl flags (called only when run as a script, so that several
    converters can be imported in one process)."""
    from absl import flags
    flags.DEFINE_string("task_events", None, "task_events parts: a directory, a glob or a "
                        "comma-separated list (part-NNNNN-of-00500.csv.gz).")
    flags.DEFINE_string("task_usage", None, "task_usage parts: a directory, a glob or a "
                        "comma-separated list.")
    flags.DEFINE_string("output", None, "Output directory: train/, report.json, tasks.csv.")
    flags.DEFINE_integer("seed", 0, "Seed of the uniform task sampling.")
    flags.DEFINE_integer("num_samples", 100000, "Tasks to sample after the filters (all when "
                         "fewer remain).")
    flags.DEFINE_integer("max_length", None, "Drop tasks with more usage records than this "
                         "(counted as longer_than_max_length); also sets T. Default: no cap, "
                         "T = the longest sampled task.")
    flags.DEFINE_integer("sample_len", None, "Round T up to a multiple of this (padding).")
    flags.DEFINE_float("end_time_tolerance_s", DEFAULT_END_TIME_TOLERANCE_S,
                       "Keep a task only when its end event lies within this many seconds of "
                       "its last usage record's end.")
    flags.DEFINE_enum("missing_values", "drop", list(MISSING_VALUE_POLICIES),
                      "A task with an empty field in a used usage column: drop it, or read the "
                      "field as 0.")
    flags.DEFINE_float("test_fraction", 0.0, "Hold out this fraction of the sampled tasks as "
                       "<output>/test (same scaling and T as train). Default: train only.")
    flags.DEFINE_bool("original_layout", False, "Also write <output>/original/<split> in the "
                      "original release's layout.")
    flags.mark_flags_as_required(["task_events", "task_usage", "output"])


def main(argv) -> None:
    from absl import app, flags
    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    with command_line_errors("data_prep.gcut"):
        datasets, report, tasks = convert_with_tasks(
            FLAGS.task_events, FLAGS.task_usage, num_samples=FLAGS.num_samples,
            seed=FLAGS.seed, max_length=FLAGS.max_length, sample_len=FLAGS.sample_len,
            end_time_tolerance=FLAGS.end_time_tolerance_s, missing_values=FLAGS.missing_values,
            test_fraction=FLAGS.test_fraction, progress=progress)
    sizes = ", ".join(f"{name} {len(d)}" for name, d in datasets.items())
    finish_run("data_prep.gcut", FLAGS.output, datasets, report, FLAGS.original_layout,
               f"kept {report.kept} tasks ({sizes}; T={datasets['train'].max_length})",
               extra=lambda out: write_tasks(out / "tasks.csv", tasks))

if __name__ == "__main__":
    from absl import app as _app
    define_flags()
    _app.run(main)
