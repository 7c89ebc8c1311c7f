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

Modules, one per step: :mod:`.trace` (the layout, finding and reading parts), :mod:`.events`
(pass 1), :mod:`.usage` (pass 2 and the filters' verdicts), :mod:`.records` (pass 3),
:mod:`.build` (the Datasets and the tasks table), :mod:`.converter` (the whole conversion),
``__main__`` (the command line).
"""
from data_prep.gcut.build import attribute_outputs, feature_outputs
from data_prep.gcut.converter import convert
from data_prep.gcut.events import read_end_events
from data_prep.gcut.records import TaskUsage, collect_usage
from data_prep.gcut.trace import (ATTRIBUTE_NAME, DEFAULT_BLOCK_BYTES,
                                  DEFAULT_END_TIME_TOLERANCE_S, END_EVENT_CODES, END_EVENTS,
                                  EVENT_TYPES, FEATURE_COLUMNS, FEATURE_NAMES, FEATURES,
                                  MEASUREMENT_WINDOW_S, MICROSECONDS, MISSING_VALUE_POLICIES,
                                  PART_PATTERN, TASK_EVENTS_COLUMNS, TASK_USAGE_COLUMNS,
                                  resolve_parts)
from data_prep.gcut.usage import DROP_REASONS, NOT_SAMPLED

__all__ = ["ATTRIBUTE_NAME", "DEFAULT_BLOCK_BYTES", "DEFAULT_END_TIME_TOLERANCE_S", "DROP_REASONS",
           "END_EVENT_CODES", "END_EVENTS", "EVENT_TYPES", "FEATURES", "FEATURE_COLUMNS",
           "FEATURE_NAMES", "MEASUREMENT_WINDOW_S", "MICROSECONDS", "MISSING_VALUE_POLICIES",
           "NOT_SAMPLED", "PART_PATTERN", "TASK_EVENTS_COLUMNS", "TASK_USAGE_COLUMNS",
           "TaskUsage", "attribute_outputs", "collect_usage", "convert", "feature_outputs",
           "read_end_events", "resolve_parts"]
