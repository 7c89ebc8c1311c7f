"""Raw data <-> Dataset: the builders (:meth:`Dataset.from_arrays`,
:meth:`Dataset.from_dataframe`), real units back (:meth:`Dataset.to_dataframe`,
:meth:`Dataset.feature_values`, :meth:`Dataset.attribute_values`) and the encoding of attributes
to condition on (:func:`encode_attribute_table`).

This module reads the user's arrays, lists and DataFrames into raw columns (features as flat
columns over the active steps, sample-major; attributes as columns over samples) and places them
back; :mod:`doppelganger_tf.encoding` encodes and decodes the columns.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np
import pandas as pd

from .encoding import check_encoded, decoded_columns, encode_columns
from .outputs import Normalization, Output, named_outputs, total_dim
from .transforms import check_positive_int, gen_flags_from_lengths

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from .dataset import Dataset


# --- building from raw values (Dataset.from_arrays / from_dataframe) ------------------------------

def from_arrays(cls: Type[Dataset], features, attributes=None, *, feature_names=None,
                attribute_names=None, discrete_features=(), discrete_attributes=(),
                normalization=Normalization.ZERO_ONE, lengths=None, feature_outputs=None,
                attribute_outputs=None, feature_min=None, feature_max=None,
                attribute_min=None, attribute_max=None) -> Dataset:
    """Build a Dataset from raw (unscaled, unencoded) values.

    features: an array [N, T, F] (with optional ``lengths`` [N]; values after each length
        are ignored) or a list of N arrays [T_i, F] (variable length; T = max T_i).
    attributes: [N, P] (a numpy or object array, a list of rows or a pandas DataFrame, whose
        column names are used), or None for no attributes.
    discrete_features / discrete_attributes: names or indices of the categorical columns;
        they are one-hot encoded with categories = the sorted unique values.  The other
        columns are continuous and scaled with ``normalization`` by their global min/max
        (over active steps for features).  A constant continuous column is an error.
    feature_outputs / attribute_outputs: use these specs as they are (e.g. a trained model's)
        instead: the columns must follow their ``column_names()`` (a DataFrame's are picked by
        name), values must be among their categories, and continuous columns are scaled with
        the given ``*_min``/``*_max`` (per encoded column) or else their own min/max.

    Each list argument also takes a single name (``discrete_attributes="isp"``).  A
    continuous column whose width overflows float64 is an error, and a UserWarning says
    when float32 scaling cannot resolve a column's typical values (an extreme value
    squashing the rest: log-transform or clip it first).
    """
    feature_names = _column_list(feature_names, "feature_names")
    attribute_names = _column_list(attribute_names, "attribute_names")
    discrete_features = _column_list(discrete_features, "discrete_features")
    discrete_attributes = _column_list(discrete_attributes, "discrete_attributes")
    if isinstance(feature_outputs, Output):
        feature_outputs = [feature_outputs]
    if isinstance(attribute_outputs, Output):
        attribute_outputs = [attribute_outputs]
    feature_columns, lengths, max_length = _raw_feature_columns(features, lengths)
    feature_outputs, feature_names = _resolve_names(
        feature_outputs, feature_names, discrete_features, len(feature_columns), "feature")
    attribute_columns, attribute_outputs, attribute_names = _raw_attribute_columns(
        attributes, len(lengths), attribute_outputs, attribute_names, discrete_attributes)
    return cls(**_encode_raw_columns(
        feature_columns, lengths, max_length, attribute_columns,
        feature_names=feature_names, attribute_names=attribute_names,
        discrete_features=discrete_features, discrete_attributes=discrete_attributes,
        normalization=normalization, feature_outputs=feature_outputs,
        attribute_outputs=attribute_outputs, feature_range=(feature_min, feature_max),
        attribute_range=(attribute_min, attribute_max)))


def from_dataframe(cls: Type[Dataset], df: pd.DataFrame, *, id_column, feature_columns,
                   attribute_columns=(), time_column=None, discrete_features=(),
                   discrete_attributes=(), normalization=Normalization.ZERO_ONE,
                   max_length: Optional[int] = None, sample_len: Optional[int] = None
                   ) -> Dataset:
    """Build a Dataset from a long-form DataFrame: one row per time step per id.

    Samples follow the ids' order of first appearance (sample i is the i-th distinct id;
    ``pd.unique(df[id_column])`` gives the mapping).  Rows are ordered by ``time_column``
    within each id when given, else kept in file order; time values themselves are not
    stored (:meth:`to_dataframe` numbers steps 0..length-1).  Attribute columns must be
    constant within each id.  T is the longest series, or ``max_length`` (a longer series
    is an error), rounded up to a multiple of ``sample_len`` when given (the extra steps are
    padding).  Discrete/normalization arguments are as in :meth:`from_arrays`; each list
    argument also takes a single name (``feature_columns="views"``).
    """
    feature_columns = _column_list(feature_columns, "feature_columns")
    attribute_columns = _column_list(attribute_columns, "attribute_columns")
    discrete_features = _column_list(discrete_features, "discrete_features")
    discrete_attributes = _column_list(discrete_attributes, "discrete_attributes")
    _check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns)
    codes, ids = pd.factorize(df[id_column], sort=False)
    ids = ids.tolist()  # Python scalars: numpy 2 would write np.int64(7) in the messages
    if time_column is None:
        order = np.argsort(codes, kind="stable")
    else:
        keys = pd.DataFrame({"sample": codes, "time": df[time_column].to_numpy()})
        order = keys.sort_values(["sample", "time"]).index.to_numpy()
    row_sample = codes[order]
    if time_column is not None:
        times = df[time_column].to_numpy()[order]
        repeated = np.flatnonzero((row_sample[1:] == row_sample[:-1])
                                  & (times[1:] == times[:-1]))
        if len(repeated):
            row = repeated[0] + 1
            raise ValueError(f"id {ids[row_sample[row]]!r} has two rows at {time_column}="
                             f"{times[row]}; each (id, time) pair must be unique")
    lengths = np.bincount(codes, minlength=len(ids))
    first_row = np.searchsorted(row_sample, np.arange(len(ids)))

    def sorted_column(name):
        return df[name].to_numpy()[order]

    attribute_values = []
    for column in attribute_columns:
        values = sorted_column(column)
        reference = values[first_row][row_sample]
        varies = (values != reference) & ~(pd.isna(values) & pd.isna(reference))
        if varies.any():
            raise ValueError(f"attribute column {column!r} is not constant within id "
                             f"{ids[row_sample[varies.argmax()]]!r}; attributes must have "
                             "one value per id (make it a feature if it changes over time)")
        attribute_values.append(values[first_row])
    longest = int(lengths.max())
    if max_length is not None:
        check_positive_int(max_length, "max_length")
        if longest > max_length:
            raise ValueError(
                f"id {ids[int(lengths.argmax())]!r} has {longest} rows, more than "
                f"max_length={max_length}; truncate the series first (e.g. "
                f"df.groupby({id_column!r}).head({max_length}) after sorting by time) or "
                "raise max_length")
    total = longest if max_length is None else int(max_length)
    if sample_len is not None:
        check_positive_int(sample_len, "sample_len")
        total = -(-total // sample_len) * sample_len
    return cls(**_encode_raw_columns(
        [sorted_column(c) for c in feature_columns], lengths, total, attribute_values,
        feature_names=[str(c) for c in feature_columns],
        attribute_names=[str(c) for c in attribute_columns],
        discrete_features=discrete_features, discrete_attributes=discrete_attributes,
        normalization=normalization, feature_outputs=None, attribute_outputs=None,
        feature_range=(None, None), attribute_range=(None, None)))


def _check_frame_columns(df, id_column, time_column, feature_columns, attribute_columns):
    """The named columns exist (one id and time column each), the frame has rows, and every
    row has an id (and a time)."""
    for argument, column in (("id_column", id_column), ("time_column", time_column)):
        try:
            hash(column)
        except TypeError:
            raise ValueError(f"{argument} takes one column name, got {column!r}") from None
    used = [id_column] + ([time_column] if time_column is not None else [])
    for argument, columns in (("id_column", [id_column]),
                              ("time_column", used[1:]),
                              ("feature_columns", feature_columns),
                              ("attribute_columns", attribute_columns)):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{argument} names {_quoted(missing)}, not in the DataFrame "
                             f"(it has the columns {list(df.columns)})")
    if not feature_columns:
        raise ValueError("feature_columns is empty; DoppelGANger needs at least one "
                         "time-series feature")
    if len(df) == 0:
        raise ValueError("the DataFrame is empty (N == 0 samples)")
    for column in used:
        if df[column].isna().any():
            raise ValueError(f"column {column!r} has missing values; every row needs an id "
                             "(and a time when time_column is given)")


def _encode_raw_columns(feature_columns, lengths, max_length, attribute_columns, *,
                        feature_names, attribute_names, discrete_features, discrete_attributes,
                        normalization, feature_outputs, attribute_outputs, feature_range,
                        attribute_range) -> dict:
    """Encode raw columns (features as flat columns over the active steps, sample-major,
    attributes as columns over samples) -> the Dataset constructor's arguments."""
    gen_flags = gen_flags_from_lengths(lengths, max_length)
    active = gen_flags > 0.5
    sample_idx, step_idx = np.nonzero(active)
    flat, feature_outputs, feature_min, feature_max = encode_columns(
        feature_columns, feature_names, discrete_features, normalization, feature_outputs,
        feature_range, "feature", lambda r: f"sample {sample_idx[r]}, step {step_idx[r]}",
        len(sample_idx))
    attributes, attribute_outputs, attribute_min, attribute_max = encode_columns(
        attribute_columns, attribute_names, discrete_attributes, normalization,
        attribute_outputs, attribute_range, "attribute", lambda r: f"sample {r}",
        len(lengths))
    features = np.zeros(active.shape + (flat.shape[1],), np.float32)
    features[active] = flat
    return dict(features=features, attributes=attributes, gen_flags=gen_flags,
                feature_outputs=feature_outputs, attribute_outputs=attribute_outputs,
                feature_min=feature_min, feature_max=feature_max, attribute_min=attribute_min,
                attribute_max=attribute_max)


def encode_attribute_table(attributes, outputs: Sequence[Output], attribute_min=None,
                           attribute_max=None) -> np.ndarray:
    """Attributes to condition on -> encoded float32 [n, A_enc].

    ``attributes`` is either already encoded (a float array [n, A_enc]: one-hot blocks and scaled
    values, checked) or raw values: a DataFrame whose columns are the outputs' names (or a
    [n, P] array in that order), encoded with the outputs' categories and the given min/max.
    """
    outputs = list(outputs)
    width = total_dim(outputs)
    if isinstance(attributes, np.ndarray) and attributes.dtype.kind == "f" \
            and attributes.ndim == 2 and attributes.shape[1] == width:
        encoded = attributes.astype(np.float32)
        if not np.isfinite(encoded).all():
            raise ValueError("the given attributes hold NaN or inf")
        check_encoded(encoded, outputs, "attribute", lambda r: f"row {r}")
        return encoded
    if attribute_min is None:
        # the model's data were given already scaled: scaling is the identity
        attribute_min = np.concatenate([np.full(o.dim, o.normalization.low if o.is_continuous
                                                else 0.0) for o in outputs]) if outputs else None
        attribute_max = np.ones(width) if outputs else None
    rows = len(attributes)
    columns, outputs, names = _raw_attribute_columns(attributes, rows, outputs, None, ())
    # no precision warning: the range is the model's, which its training data already checked
    encoded, _, _, _ = encode_columns(
        columns, names, (), Normalization.ZERO_ONE, outputs, (attribute_min, attribute_max),
        "attribute", lambda r: f"row {r}", rows, check_precision=False)
    return encoded.astype(np.float32)


# --- real units (Dataset.feature_values / attribute_values / to_dataframe) ------------------------

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


def to_dataframe(dataset: Dataset, id_column: str = "id", time_column: Optional[str] = "time"
                 ) -> pd.DataFrame:
    """Long form in real units, one row per active step (see Dataset.to_dataframe)."""
    sample_idx, step_idx = np.nonzero(dataset.gen_flags > 0.5)
    columns = {id_column: sample_idx}
    if time_column is not None:
        columns[time_column] = step_idx
    taken = [n for o in dataset.attribute_outputs + dataset.feature_outputs
             for n in o.column_names() if n in columns]
    if taken:
        raise ValueError(f"the data has a column named {taken[0]!r}; pick another "
                         "id_column/time_column")
    for _, name, column in decoded_columns(dataset.attributes, dataset.attribute_outputs,
                                           dataset.attribute_min, dataset.attribute_max):
        columns[name] = column[sample_idx]
    for _, name, column in decoded_columns(dataset.features[sample_idx, step_idx],
                                           dataset.feature_outputs, dataset.feature_min,
                                           dataset.feature_max):
        columns[name] = column
    return pd.DataFrame(columns)


# --- raw input ------------------------------------------------------------------------------------

def _raw_feature_columns(features, lengths) -> Tuple[List[np.ndarray], np.ndarray, int]:
    """Raw features -> (F flat columns over the active steps, sample-major; lengths [N]; T)."""
    if isinstance(features, (list, tuple)):
        if lengths is not None:
            raise ValueError("lengths is only for array input; each series in a features list "
                             "has its own length")
        series = [np.asarray(s) for s in features]
        series = [s[:, None] if s.ndim == 1 else s for s in series]
        if not series:
            raise ValueError("the dataset is empty (N == 0 series)")
        for i, s in enumerate(series):
            if s.ndim != 2:
                raise ValueError(f"series {i} has shape {s.shape}; each series must be "
                                 "[T_i, F] (or [T_i] for one feature)")
            if s.shape[1] != series[0].shape[1]:
                raise ValueError(f"series {i} has {s.shape[1]} feature columns but series 0 "
                                 f"has {series[0].shape[1]}; all need the same F")
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        if np.any(lengths == 0):
            raise ValueError(f"series {int(np.argmin(lengths))} is empty (zero-length); drop "
                             "it, every series needs at least one step")
        flat = np.concatenate(series, axis=0)
        max_length = int(lengths.max())
    else:
        array = np.asarray(features)
        if array.ndim != 3:
            raise ValueError(f"features must be an array [N, T, F] or a list of [T_i, F] "
                             f"arrays, got shape {array.shape} (add a trailing axis for a "
                             "single feature: x[..., None])")
        n, max_length, _ = array.shape
        if n == 0:
            raise ValueError("the dataset is empty (N == 0 series)")
        lengths = _array_lengths(lengths, n, max_length)
        flat = array[gen_flags_from_lengths(lengths, max_length) > 0.5]
    return [flat[:, j] for j in range(flat.shape[1])], lengths, max_length


def _array_lengths(lengths, n: int, max_length: int) -> np.ndarray:
    """The ``lengths`` argument of array input -> int64 [N] (all T when None)."""
    if lengths is None:
        return np.full(n, max_length, dtype=np.int64)
    lengths = np.asarray(lengths)
    if (lengths.shape != (n,) or not np.all(np.isfinite(lengths))
            or np.any(lengths != np.round(lengths))):
        raise ValueError(f"lengths must be {n} integers, one per series; got "
                         f"{lengths!r:.200}")
    lengths = lengths.astype(np.int64)
    if np.any((lengths < 1) | (lengths > max_length)):
        raise ValueError(f"lengths must be between 1 and T={max_length} (a zero-length "
                         f"series must be dropped); got {lengths.min()}..{lengths.max()}")
    return lengths


def _raw_attribute_columns(attributes, n: int, outputs, names, discrete):
    """Raw attributes -> (P columns over samples, named outputs or None, column names).

    A DataFrame's column names are used; with ``outputs`` its columns are picked by name.
    """
    if isinstance(attributes, pd.DataFrame):
        frame = {str(c): attributes[c].to_numpy() for c in attributes.columns}
        rows = len(attributes)
        if outputs is None and names is None:
            names = list(frame)
        outputs, names = _resolve_names(outputs, names, discrete, len(frame), "attribute")
        if outputs is None:
            columns = list(frame.values())
        else:
            missing = [c for c in names if c not in frame]
            if missing:
                raise ValueError(f"the attributes DataFrame lacks the columns {missing} named "
                                 f"by attribute_outputs (it has {list(frame)})")
            columns = [frame[c] for c in names]
    else:
        if attributes is None:
            array = np.zeros((n, 0))
        elif isinstance(attributes, np.ndarray):
            array = attributes
        else:
            # object dtype keeps each column's own type when rows mix strings and numbers
            array = np.array(attributes, dtype=object)
        if array.ndim != 2:
            raise ValueError(f"attributes must be 2-D [N, P], got shape {array.shape}")
        rows = array.shape[0]
        columns = [array[:, j] for j in range(array.shape[1])]
        outputs, names = _resolve_names(outputs, names, discrete, len(columns), "attribute")
    if rows != n:
        raise ValueError(f"attributes have {rows} rows but there are {n} series; give one "
                         "attribute row per series")
    return columns, outputs, names


def _resolve_names(outputs, names, discrete, count: int, what: str):
    """-> (named outputs or None, raw column names)."""
    if outputs is not None:
        if names is not None or len(discrete):
            raise ValueError(f"{what}_outputs already name the columns and say which are "
                             f"discrete; do not also pass {what}_names or discrete_{what}s")
        outputs = named_outputs(outputs, what)
        return outputs, [n for o in outputs for n in o.column_names()]
    if names is None:
        return None, [f"{what}_{i}" for i in range(count)]
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{what}_names has {len(names)} names but there are {count} {what} "
                         "columns")
    return None, names


def _column_list(value, argument: str) -> Optional[list]:
    """A column-list argument as a list: a single name (a string, or another single label such
    as an int) is a list of one, so that "views" does not become ['v', 'i', 'e', 'w', 's'];
    tuples, arrays and other iterables are lists of names."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [value]
    if isinstance(value, (dict, pd.DataFrame)):
        raise ValueError(f"{argument} takes a column name or a list of names, got a "
                         f"{type(value).__name__}")
    return list(value)


def _quoted(names: list) -> str:
    """'x' for one name, ['x', 'y'] for several (in error messages)."""
    return f"column {names[0]!r}" if len(names) == 1 else f"columns {names}"
