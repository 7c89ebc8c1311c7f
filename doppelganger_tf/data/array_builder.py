"""A Dataset from arrays and lists (:meth:`Dataset.from_arrays`), and attributes to condition
on encoded as a Dataset's are (:func:`encode_attribute_table`).

The user's values are read into raw columns (features as flat columns over the active steps,
sample-major; attributes as columns over samples), which :mod:`doppelganger_tf.data.encoding`
encodes; the DataFrame builders (:mod:`doppelganger_tf.data.frame_builder`) end here too."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np
import pandas as pd

from . import column_types
from .column_arguments import column_transforms, listed_columns
from .encoding import check_encoded, encode_columns
from .outputs import Normalization, Output, named_outputs, total_dim
from .transforms import gen_flags_from_lengths

if TYPE_CHECKING:  # only for annotations: the container module imports this one
    from .dataset import Dataset


def from_arrays(cls: Type[Dataset], features, attributes=None, *, feature_names=None,
                attribute_names=None, discrete_features=(), discrete_attributes=(),
                normalization=Normalization.ZERO_ONE, lengths=None, feature_outputs=None,
                attribute_outputs=None, feature_min=None, feature_max=None,
                attribute_min=None, attribute_max=None, transforms=None) -> Dataset:
    """Build a Dataset from raw (unscaled, unencoded) values.

    Categorical columns are one-hot encoded over their sorted unique values; the others are
    continuous, scaled with ``normalization`` by their global min/max (over active steps for
    features). A UserWarning says when float32 scaling cannot resolve a column's typical
    values (an extreme value squashing the rest: ``transforms="log1p"`` or clipping fixes it).
    Each list argument also takes a single name (``discrete_attributes="isp"``).

    Args:
        features: An array [N, T, F] or a list of N arrays [T_i, F] (variable length; T is the
            largest T_i).
        attributes: [N, P] as a numpy or object array, a list of rows or a DataFrame (whose
            column names are used); None for no attributes.
        feature_names: Names of the F feature columns.
        attribute_names: Names of the P attribute columns.
        discrete_features: Names or indices of the categorical feature columns.
        discrete_attributes: Names or indices of the categorical attribute columns.
        normalization: The continuous columns' range, [0, 1] or [-1, 1].
        lengths: [N] series lengths for an array ``features``; values after each length are
            ignored.
        feature_outputs: Specs to use as they are (e.g. a trained model's) instead of
            inferring them: the columns must follow their ``column_names()``, values must be
            among their categories, and continuous columns go through their transforms.
        attribute_outputs: The same for the attributes (a DataFrame's columns are picked by
            name).
        feature_min: Per encoded feature column, in transformed units, with ``feature_outputs``;
            default: the column's own min.
        feature_max: As ``feature_min``, the max.
        attribute_min: As ``feature_min``, for the attributes.
        attribute_max: As ``feature_max``, for the attributes.
        transforms: A log per continuous feature column, as in :meth:`from_dataframe` but
            none by default (array input is often transformed by hand already): None or
            "none", one of "log1p", "signed_log1p", "auto" for every continuous feature
            column, or a dict {feature name: transform} (the others get none).

    Returns:
        The Dataset.

    Raises:
        ValueError: For a constant continuous column, a continuous column whose width overflows
            float64, values outside given outputs' categories, or ``transforms`` given together
            with ``feature_outputs`` (which carry their own).
    """
    feature_names = column_list(feature_names, "feature_names")
    attribute_names = column_list(attribute_names, "attribute_names")
    discrete_features = column_list(discrete_features, "discrete_features")
    discrete_attributes = column_list(discrete_attributes, "discrete_attributes")
    if isinstance(feature_outputs, Output):
        feature_outputs = [feature_outputs]
    if isinstance(attribute_outputs, Output):
        attribute_outputs = [attribute_outputs]
    feature_columns, lengths, max_length = _raw_feature_columns(features, lengths)
    feature_outputs, feature_names = _resolve_names(
        feature_outputs, feature_names, discrete_features, len(feature_columns), "feature")
    attribute_columns, attribute_outputs, attribute_names = _raw_attribute_columns(
        attributes, len(lengths), attribute_outputs, attribute_names, discrete_attributes)
    if feature_outputs is not None and transforms not in (None, "none"):
        raise ValueError("feature_outputs carry their own transforms (Output.transform); do not "
                         "also pass transforms")
    arguments, _ = encode_raw_columns(
        feature_columns, lengths, max_length, attribute_columns,
        feature_names=feature_names, attribute_names=attribute_names,
        discrete_features=discrete_features, discrete_attributes=discrete_attributes,
        normalization=normalization, feature_outputs=feature_outputs,
        attribute_outputs=attribute_outputs, feature_range=(feature_min, feature_max),
        attribute_range=(attribute_min, attribute_max),
        transforms=("none" if transforms is None else transforms, "none"))
    return cls(**arguments)


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
    for name, values in zip(names, columns):  # numpy would drop an imaginary part
        column_types.check_values(values, f"attribute column {name!r}", one_kind=False)
    # no precision warning: the range is the model's, which its training data already checked
    encoded, _, _, _ = encode_columns(
        columns, names, (), Normalization.ZERO_ONE, outputs, (attribute_min, attribute_max),
        "attribute", lambda r: f"row {r}", rows, check_precision=False)
    return encoded.astype(np.float32)


def encode_raw_columns(feature_columns, lengths, max_length, attribute_columns, *,
                        feature_names, attribute_names, discrete_features, discrete_attributes,
                        normalization, feature_outputs, attribute_outputs, feature_range,
                        attribute_range, missing_category=(), transforms=("none", "none")
                        ) -> Tuple[dict, Dict[str, str]]:
    """Encode raw columns (features as flat columns over the active steps, sample-major,
    attributes as columns over samples) -> (the Dataset constructor's arguments, why each
    continuous feature column has its transform).  ``transforms``: (the argument, what the
    columns a dict does not list get); unused with ``feature_outputs``."""
    feature_columns = _checked_raw_columns(feature_columns, feature_names, discrete_features,
                                           feature_outputs, "feature")
    chosen, reasons = None, {}
    if feature_outputs is None:
        discrete = listed_columns(discrete_features, feature_names, "discrete_features",
                                  "feature")
        chosen, reasons = column_transforms(transforms[0], feature_names, feature_columns,
                                            discrete, transforms[1])
    attribute_columns = _checked_raw_columns(attribute_columns, attribute_names,
                                             discrete_attributes, attribute_outputs,
                                             "attribute")
    gen_flags = gen_flags_from_lengths(lengths, max_length)
    active = gen_flags > 0.5
    sample_idx, step_idx = np.nonzero(active)
    flat, feature_outputs, feature_min, feature_max = encode_columns(
        feature_columns, feature_names, discrete_features, normalization, feature_outputs,
        feature_range, "feature", lambda r: f"sample {sample_idx[r]}, step {step_idx[r]}",
        len(sample_idx), transforms=chosen)
    attributes, attribute_outputs, attribute_min, attribute_max = encode_columns(
        attribute_columns, attribute_names, discrete_attributes, normalization,
        attribute_outputs, attribute_range, "attribute", lambda r: f"sample {r}",
        len(lengths), missing_category=missing_category)
    features = np.zeros(active.shape + (flat.shape[1],), np.float32)
    features[active] = flat
    return dict(features=features, attributes=attributes, gen_flags=gen_flags,
                feature_outputs=feature_outputs, attribute_outputs=attribute_outputs,
                feature_min=feature_min, feature_max=feature_max, attribute_min=attribute_min,
                attribute_max=attribute_max), reasons


def _checked_raw_columns(columns, names, discrete, outputs, what: str) -> list:
    """Raw columns checked before encoding: no complex values, discrete ones of one kind of
    value and with -0.0 as 0.0, and a warning for integers float64 rounds in continuous
    ones."""
    if outputs is not None:
        listed = {n for o in outputs if not o.is_continuous for n in o.column_names()}
    else:
        listed = {names[i] for i in listed_columns(discrete, names, f"discrete_{what}s", what)}
    checked = []
    for name, values in zip(names, columns):
        is_discrete = name in listed
        column_types.check_values(values, f"{'discrete ' if is_discrete else ''}{what} column "
                                  f"{name!r}", one_kind=is_discrete,
                                  fix=column_types.mixed_kind_fix(name, what))
        if is_discrete:
            values = column_types.positive_zero(values)
        else:
            column_types.warn_inexact_integers(values, f"continuous {what} column {name!r}")
        checked.append(values)
    return checked


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


def column_list(value, argument: str) -> Optional[list]:
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
