"""A Dataset back in real units: :meth:`Dataset.feature_values`,
:meth:`Dataset.attribute_values` and :meth:`Dataset.to_dataframe` (the frame's layout, column
order, dtypes, ids and time stamps, as the Dataset was read)."""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Dict, Optional

import numpy as np
import pandas as pd

from . import column_types, frames
from .encoding import decoded_columns
from .time_values import encode_values

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from .dataset import Dataset


def feature_values(dataset: Dataset) -> Dict[str, np.ndarray]:
    """Features in real units: column name -> [N, T] array (see Dataset.feature_values)."""
    after_end = dataset.gen_flags < 0.5
    return {name: encoding.blank_after_end(column, after_end)
            for encoding, name, column in decoded_columns(
                dataset.features, dataset.feature_outputs, dataset.feature_min,
                dataset.feature_max)}


def attribute_values(dataset: Dataset) -> pd.DataFrame:
    """Attributes in real units: a DataFrame [N, P] (see Dataset.attribute_values)."""
    columns = {name: column for _, name, column in decoded_columns(
        dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
        dataset.attribute_max)}
    return pd.DataFrame(columns, index=pd.RangeIndex(dataset.num_samples))


DEFAULT = object()  # to_dataframe's time_column when not given


def to_dataframe(dataset: Dataset, id_column=None, time_column=DEFAULT, *, layout=None,
                 seed=None, numbered: bool = False, ids_from=(0, None)) -> pd.DataFrame:
    """Real units as a DataFrame (see Dataset.to_dataframe). ``ids_from``: (first, total) of
    the new ids of generated data, so that the batches of a streamed file number their series
    on from each other (first .. first + N - 1, written as wide as total - 1)."""
    frame = None if numbered else dataset.frame
    layout = frames.check_layout(layout if layout is not None
                                 else (frame.layout if frame is not None else "long"))
    if frame is None:
        id_name = "id" if id_column is None else id_column
        time_name = "time" if time_column is DEFAULT else time_column
        if layout == "long":
            return _numbered_long(dataset, id_name, time_name, ids_from[0])
        return _wide(dataset, id_name, None, None, None, None, None)
    axis = frame.axis
    id_name = axis.id_column if id_column is None else id_column
    time_name = axis.time_column if time_column is DEFAULT else time_column
    gen_flags = dataset.gen_flags > 0.5
    limit = axis.calendar_length
    if limit is not None and gen_flags.shape[1] > limit and gen_flags[:, limit:].any():
        cut = int(gen_flags[:, limit:].any(axis=1).sum())
        warnings.warn(f"{cut} series are longer than the {limit} steps of the calendar of "
                      f"{axis.time_column!r} (T={gen_flags.shape[1]} is padded, e.g. to a "
                      f"multiple of sample_len); their steps past it are left out (generate "
                      f"with length<={limit} to avoid this)", UserWarning, stacklevel=3)
        gen_flags = gen_flags.copy()
        gen_flags[:, limit:] = False
    attributes = {name: column for _, name, column in decoded_columns(
        dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
        dataset.attribute_max)}
    ids = (axis.ids_from_json(frame.ids) if frame.ids is not None
           else axis.new_ids(dataset.num_samples, *ids_from))
    starts = _series_starts(frame, attributes, dataset.num_samples, seed)
    if axis.start_attribute is not None and starts is not None:
        attributes[axis.start_attribute] = axis.decode_values(starts)
    restored = {name: (column if name == axis.start_attribute
                       else column_types.restore(column, frame.dtypes.get(name)))
                for name, column in attributes.items()}
    if layout == "wide":
        return _wide(dataset, id_name, time_name, ids, restored, starts, frame, gen_flags)
    sample_idx, step_idx = np.nonzero(gen_flags)
    columns = {id_name: ids.iloc[sample_idx].reset_index(drop=True)}
    if time_name is not None:
        columns[time_name] = axis.time_values(starts, sample_idx, step_idx)
    _check_clash(dataset, columns)
    for name, column in restored.items():
        columns[name] = column.iloc[sample_idx].reset_index(drop=True)
    for _, name, column in decoded_columns(dataset.features[sample_idx, step_idx],
                                           dataset.feature_outputs, dataset.feature_min,
                                           dataset.feature_max):
        columns[name] = column_types.restore(column, frame.dtypes.get(name))
    return pd.DataFrame(_in_input_order(columns, frame, id_name, time_name))


def _series_starts(frame, attributes, n: int, seed) -> Optional[np.ndarray]:
    """Each sample's encoded start (regular time axis): the stored ones of the data read, else
    from the start attribute (the nearest training start) or drawn from the training starts."""
    axis = frame.axis
    if not axis.has_starts:
        return None
    if frame.starts is not None:
        return np.asarray(frame.starts, dtype=axis._encoded_dtype())
    if axis.start_attribute is not None and axis.start_attribute in attributes:
        return axis.nearest_starts(attributes[axis.start_attribute])
    return axis.draw_starts(n, np.random.default_rng(seed))


def _check_clash(dataset: Dataset, columns: dict) -> None:
    taken = [n for o in dataset.attribute_outputs + dataset.feature_outputs
             for n in o.column_names() if n in columns]
    if taken:
        raise ValueError(f"the data has a column named {taken[0]!r}; pick another "
                         "id_column/time_column")


def _in_input_order(columns: dict, frame, id_name, time_name) -> dict:
    """``columns`` ordered as the input's (id and time under their new names), the others
    after them."""
    axis = frame.axis
    renamed = {axis.id_column: id_name, axis.time_column: time_name}
    order = [renamed.get(c, c) if c in renamed else str(c) for c in frame.columns]
    ordered = {name: columns[name] for name in order if name in columns}
    ordered.update((name, value) for name, value in columns.items() if name not in ordered)
    return ordered


def _numbered_long(dataset: Dataset, id_column, time_column, first_id: int = 0) -> pd.DataFrame:
    """Long form with samples numbered first_id.. and steps 0..length-1 (data without a
    frame)."""
    sample_idx, step_idx = np.nonzero(dataset.gen_flags > 0.5)
    columns = {id_column: sample_idx + first_id}
    if time_column is not None:
        columns[time_column] = step_idx
    _check_clash(dataset, columns)
    for _, name, column in decoded_columns(dataset.attributes, dataset.attribute_outputs,
                                           dataset.attribute_min, dataset.attribute_max):
        columns[name] = column[sample_idx]
    for _, name, column in decoded_columns(dataset.features[sample_idx, step_idx],
                                           dataset.feature_outputs, dataset.feature_min,
                                           dataset.feature_max):
        columns[name] = column
    return pd.DataFrame(columns)


def _wide(dataset: Dataset, id_name, time_name, ids, attributes, starts, frame,
          gen_flags=None) -> pd.DataFrame:
    """One row per series: the id, the attributes, then one column per time value."""
    decoded = list(decoded_columns(dataset.features, dataset.feature_outputs,
                                   dataset.feature_min, dataset.feature_max))
    if len(decoded) != 1:
        raise ValueError(f"layout='wide' takes data with one feature; this data has "
                         f"{len(decoded)} ({[name for _, name, _ in decoded]}): use "
                         "layout='long' (and df.pivot(...) to widen one feature)")
    (encoding, name, values), = decoded
    if gen_flags is None:
        gen_flags = dataset.gen_flags > 0.5
    n = dataset.num_samples
    sample_idx, step_idx = np.nonzero(gen_flags)
    axis = None if frame is None else frame.axis
    if axis is None or axis.time_column is None or axis.mode != "regular" or time_name is None:
        positions = step_idx
        if axis is not None and axis.mode == "calendar" and axis.time_column is not None \
                and time_name is not None:  # every calendar value, as the input's columns
            width = axis.calendar_length
            labels = pd.Index(axis.time_values(None, np.zeros(width, np.int64),
                                               np.arange(width)))
        else:
            width = int(step_idx.max()) + 1
            labels = pd.RangeIndex(width)
    else:
        times = axis.time_values(starts, sample_idx, step_idx)
        positions, uniques = pd.factorize(encode_values(times, axis.time_kind), sort=True)
        labels = pd.Index(axis.decode_values(uniques))
        width = len(labels)
    matrix = np.empty((n, width), dtype=object if values.dtype == object else np.float64)
    matrix[:] = None if values.dtype == object else np.nan
    matrix[sample_idx, positions] = values[sample_idx, step_idx]
    flat = column_types.restore(matrix.reshape(-1), None if frame is None
                                else frame.dtypes.get(name))
    if ids is None:
        ids = pd.Series(np.arange(n))
    columns = {id_name: ids.reset_index(drop=True)}
    _check_clash(dataset, columns)
    if attributes is None:
        attributes = {name: pd.Series(column) for _, name, column in decoded_columns(
            dataset.attributes, dataset.attribute_outputs, dataset.attribute_min,
            dataset.attribute_max)}
    columns.update((k, v.reset_index(drop=True)) for k, v in attributes.items())
    if frame is not None:
        columns = _in_input_order(columns, frame, id_name, time_name)
    clash = [label for label in labels if label in columns]
    if clash:
        raise ValueError(f"the time value {clash[0]!r} is also the name of the id or an "
                         "attribute column; rename that column (id_column=...)")
    array = flat.array
    for j, label in enumerate(labels):
        columns[label] = pd.Series(array[j::width])
    return pd.DataFrame(columns)
