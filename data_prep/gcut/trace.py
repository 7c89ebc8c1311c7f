"""The trace's layout (tables, event types, the 9 features) and reading its parts: finding
them, streaming each in blocks of whole lines, checking and parsing the used columns, and packing
(job ID, task index) into one int64 key."""
from __future__ import annotations

import glob
import io
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from data_prep import arguments, csv_reader

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

# (job ID, task index) packed into one int64: job ID < 2**42, task index < 2**21.
_TASK_BITS = 21
_JOB_LIMIT = 1 << 42
_TASK_LIMIT = 1 << _TASK_BITS


# --- finding and reading parts --------------------------------------------------------------------

def resolve_parts(spec, table: str = "input") -> List[Path]:
    """A directory, a glob, a path, or a list / comma-separated string of those -> the part
    files, sorted by name (the trace's zero-padded part numbers sort in time order), without
    duplicates.  A directory contributes its ``part-*-of-*.csv[.gz]`` files (or, when it has
    none, every ``*.csv.gz`` / ``*.csv``).  Raises ValueError when nothing matches."""
    found: Dict[str, Path] = {}
    for path in arguments.paths(spec, f"{table} parts"):
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
            matches = [Path(p) for p in sorted(glob.glob(str(path))) if Path(p).is_file()]
            if not matches:
                raise ValueError(f"{table}: {path} is neither a file, a directory nor a glob "
                                 "matching files")
        for match in matches:
            found.setdefault(str(match.resolve()), match)
    return sorted(found.values(), key=lambda p: (p.name, str(p)))


class ReadStats:
    def __init__(self):
        self.parts = 0
        self.rows = 0
        self.empty_parts: List[str] = []


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


def iter_part(path: Path, columns: Sequence[str], table: str, ints: Sequence[int],
              floats: Sequence[int], block_bytes: int, stats: ReadStats
              ) -> Iterator[Tuple[int, Dict[int, np.ndarray]]]:
    """Yield (first line number, parsed used columns) per block of one part."""
    stats.parts += 1
    rows = 0
    for first_line, block in csv_reader.blocks(path, block_bytes=block_bytes,
                                               describe="a trace part",
                                               fix="download this part again"):
        rows += _check_field_counts(path, block, first_line, columns, table)
        yield first_line, _parse_block(path, block, first_line, columns, ints, floats)
    stats.rows += rows
    if rows == 0:
        stats.empty_parts.append(path.name)


def iter_usage(paths: Sequence[Path], block_bytes: int, stats: ReadStats,
               say: Callable[[str], None]) -> Iterator[Tuple[Dict[int, np.ndarray], np.ndarray]]:
    """(parsed used columns, task keys) per block of the ``task_usage`` parts; ``say`` reports
    each part read."""
    for n, path in enumerate(paths, start=1):
        for first_line, cols in iter_part(path, TASK_USAGE_COLUMNS, "task_usage", (0, 1, 2, 3),
                                          FEATURE_COLUMNS, block_bytes, stats):
            yield cols, pack(cols[2], cols[3], path, first_line)
        say(f"  task_usage {n}/{len(paths)}: {path.name}")


# --- task keys ------------------------------------------------------------------------------------

def pack(job: np.ndarray, task: np.ndarray, path, first_line: Optional[int]) -> np.ndarray:
    job = np.asarray(job, np.int64)
    task = np.asarray(task, np.int64)
    bad = (job < 0) | (job >= _JOB_LIMIT) | (task < 0) | (task >= _TASK_LIMIT)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = f"{path}: line {first_line + row}" if first_line is not None else f"{path}"
        raise ValueError(f"{where}: job ID {job[row]} / task index {task[row]} is outside the "
                         f"supported range (0 <= job ID < 2**42, 0 <= task index < 2**21)")
    return (job << _TASK_BITS) | task


def unpack(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(keys, np.int64)
    return keys >> _TASK_BITS, keys & (_TASK_LIMIT - 1)


def lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """-> (index into sorted_keys, found mask)."""
    pos = np.searchsorted(sorted_keys, keys)
    pos_c = np.minimum(pos, max(len(sorted_keys) - 1, 0))
    found = (pos < len(sorted_keys)) & (sorted_keys[pos_c] == keys) if len(sorted_keys) \
        else np.zeros(len(keys), bool)
    return pos_c, found
