"""GCUT's Datasets from the chosen tasks' records: the specs, one global scaling and one T for
all splits, and the table naming the task of each sample."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from data_prep import assemble
from data_prep.gcut.records import Records, split_rows
from data_prep.gcut.trace import ATTRIBUTE_NAME, END_EVENTS, FEATURE_NAMES, FEATURES, unpack
from data_prep.report import Report
from doppelganger_tf import Dataset, Normalization, Output, OutputType


def feature_outputs() -> List[Output]:
    """The 9 feature specs (CONTINUOUS ZERO_ONE, dim 1), in :data:`FEATURES` order."""
    return [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name=name)
            for name in FEATURE_NAMES]


def attribute_outputs() -> List[Output]:
    """The one attribute spec: ``end_event_type``, DISCRETE over :data:`END_EVENTS`."""
    return [Output(OutputType.DISCRETE, len(END_EVENTS), name=ATTRIBUTE_NAME,
                   categories=END_EVENTS)]


def build_datasets(records: Records, splits: Dict[str, Tuple[np.ndarray, np.ndarray]],
                   max_length: Optional[int], sample_len: Optional[int], missing_values: str,
                   report: Report, notes: List[str]
                   ) -> Tuple[Dict[str, Dataset], Dict[str, np.ndarray]]:
    """``splits``: name -> (record groups, categories) -> (name -> Dataset, name -> lengths).

    The features are scaled with one global min/max per feature over the records of ALL splits
    and padded to one T, so the splits share both; attributes are one-hot."""
    rows_of = {name: split_rows(records, groups) for name, (groups, _) in splits.items()}
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
    if sample_len is not None:  # padded up: T is a multiple of sample_len by construction
        total = -(-total // int(sample_len)) * int(sample_len)
    datasets, split_lengths, dense_bytes = {}, {}, 0
    for name, (_, categories) in splits.items():
        rows, lengths = rows_of[name]
        offsets = np.r_[0, np.cumsum(lengths)]

        def raw(start, stop, rows=rows, offsets=offsets, categories=categories):
            values = _raw_values(records, rows[offsets[start]:offsets[stop]], missing_values)
            series = np.split(values, offsets[start + 1:stop] - offsets[start])
            labels = [END_EVENTS[c] for c in categories[start:stop]]
            return series, pd.DataFrame({ATTRIBUTE_NAME: labels})

        datasets[name] = assemble.build(len(lengths), total, raw,
                                        feature_outputs=feature_outputs(),
                                        attribute_outputs=attribute_outputs(),
                                        feature_min=low, feature_max=high,
                                        block_rows=assemble.BUILD_BLOCK_ROWS)
        split_lengths[name] = lengths
        dense_bytes += int(datasets[name].features.nbytes)
    report.note("max_length_T", int(total))
    report.note("dense_feature_bytes", dense_bytes)
    return datasets, split_lengths


def tasks_table(keys: np.ndarray, categories: np.ndarray, splits: Dict[str, np.ndarray],
                lengths: Dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per sample, train then test: ``split``, ``sample`` (its index in that split's
    Dataset), ``job_id``, ``task_index``, ``end_event``, ``length``.  ``splits``: name -> the
    candidate indices of its tasks."""
    tables = []
    for name, members in splits.items():
        job, task = unpack(keys[members])
        tables.append(pd.DataFrame({
            "split": name, "sample": np.arange(len(members)), "job_id": job, "task_index": task,
            "end_event": [END_EVENTS[c] for c in categories[members]],
            "length": lengths[name]}))
    return pd.concat(tables, ignore_index=True)


def _raw_values(records: Records, rows: np.ndarray, missing_values: str) -> np.ndarray:
    """The records' 9 values (float32, as read), an empty field read as 0 under "zero"."""
    values = records.values[rows]
    return np.nan_to_num(values, nan=0.0) if missing_values == "zero" else values
