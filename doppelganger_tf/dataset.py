"""The Dataset container: encoded features, attributes and generation flags, with their specs.

The paper calls attributes *metadata* and features *measurements*.  The canonical format
(DESIGN.md section 3, the original release's format):

- ``features`` float32 [N, T, K_enc]: discrete features one-hot, continuous ones globally scaled
  to [0, 1] (ZERO_ONE) or [-1, 1] (MINUSONE_ONE); zero after each series ends.
- ``attributes`` float32 [N, A_enc], encoded the same way.
- ``gen_flags`` float32 [N, T]: 1 while the series is active, then 0 (length >= 1).
- ``feature_min`` / ``feature_max`` float64 [K_enc] (``attribute_min`` / ``attribute_max``
  [A_enc]): the raw-unit global min/max of each encoded column (0/1 for discrete columns), used to
  return data in real units.  ``None`` means the scaled values already are the final units.

Build a Dataset from raw values with :meth:`Dataset.from_arrays` or :meth:`Dataset.from_dataframe`;
get real units back with :meth:`Dataset.to_dataframe`, :meth:`Dataset.feature_values` and
:meth:`Dataset.attribute_values`.  Storage: :meth:`Dataset.save` writes our layout,
:meth:`Dataset.save_original` the original release's, :class:`DatasetStreamWriter` a dataset too
large for memory batch by batch (one ``.npy`` file per array), and :meth:`Dataset.load` reads all
three (the ``.npy`` layout memory-mapped).
"""
from __future__ import annotations

import json
import math
import os
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from .atomic import atomic_directory, recover
from .outputs import (Normalization, Output, OutputType, dump_original_specs,
                      load_original_specs, output_blocks, total_dim)
from .transforms import (gen_flags_from_lengths, global_scale, global_unscale,
                         lengths_from_gen_flags, RESOLUTION, scaling_loss)

RANGE_TOL = 1e-5  # slack on normalisation ranges and one-hot values (float32 rounding)

FORMAT_NAME = "doppelganger_tf-dataset"
FORMAT_VERSION = 1
DATA_FILE = "data.npz"
SPECS_FILE = "specs.json"
ORIGINAL_DATA_FILE = "data_train.npz"
ORIGINAL_FEATURE_SPECS = "data_feature_output.pkl"
ORIGINAL_ATTRIBUTE_SPECS = "data_attribute_output.pkl"


class Dataset:
    """Encoded training data plus the specs needed to decode it (see the module docstring).

    ``feature_outputs`` / ``attribute_outputs`` list the :class:`Output` of each variable in column
    order; outputs without a name get ``feature_<i>`` / ``attribute_<i>``.  The constructor
    validates everything and raises ``ValueError`` saying what is wrong and how to fix it
    (``validate=False`` skips that, for arrays that are valid by construction).
    """

    def __init__(self, features, attributes, gen_flags, feature_outputs: Sequence[Output],
                 attribute_outputs: Sequence[Output], feature_min=None, feature_max=None,
                 attribute_min=None, attribute_max=None, validate: bool = True):
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.attributes = np.ascontiguousarray(attributes, dtype=np.float32)
        self.gen_flags = np.ascontiguousarray(gen_flags, dtype=np.float32)
        self.feature_outputs = _named_outputs(feature_outputs, "feature")
        self.attribute_outputs = _named_outputs(attribute_outputs, "attribute")
        self.feature_min = _optional_float64(feature_min)
        self.feature_max = _optional_float64(feature_max)
        self.attribute_min = _optional_float64(attribute_min)
        self.attribute_max = _optional_float64(attribute_max)
        if validate:  # False only for arrays valid by construction (a model's generated data)
            self.validate()

    # --- shape and names ------------------------------------------------------------------------

    @property
    def num_samples(self) -> int:
        return self.features.shape[0]

    @property
    def max_length(self) -> int:
        """T: the number of time steps of every (padded) series."""
        return self.features.shape[1]

    @property
    def lengths(self) -> np.ndarray:
        """int64 [N]: the number of active steps of each series."""
        return lengths_from_gen_flags(self.gen_flags)

    @property
    def num_feature_columns(self) -> int:
        """K_enc: encoded feature columns (one-hot columns counted one by one)."""
        return self.features.shape[2]

    @property
    def num_attribute_columns(self) -> int:
        """A_enc: encoded attribute columns."""
        return self.attributes.shape[1]

    @property
    def feature_names(self) -> List[str]:
        return [o.name for o in self.feature_outputs]

    @property
    def attribute_names(self) -> List[str]:
        return [o.name for o in self.attribute_outputs]

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        def describe(outputs):
            return ", ".join(f"{o.name}: {o.type.value}[{o.dim}]" for o in outputs)
        return (f"Dataset(N={self.num_samples}, T={self.max_length}, "
                f"features=[{describe(self.feature_outputs)}], "
                f"attributes=[{describe(self.attribute_outputs)}])")

    def subset(self, indices) -> "Dataset":
        """A new Dataset of the samples picked by ``indices`` (integers, a boolean mask or a
        slice), with the same specs and min/max."""
        if not isinstance(indices, slice):
            indices = np.atleast_1d(np.asarray(indices))
        return Dataset(self.features[indices], self.attributes[indices], self.gen_flags[indices],
                       self.feature_outputs, self.attribute_outputs, self.feature_min,
                       self.feature_max, self.attribute_min, self.attribute_max)

    # --- validation -----------------------------------------------------------------------------

    def validate(self, sample_len: Optional[int] = None) -> None:
        """Check shapes, values and specs; raise ``ValueError`` naming the problem and the fix.

        With ``sample_len`` (records generated per LSTM step), also check that T is a multiple
        of it.
        """
        self._check_specs()
        self._check_shapes()
        self._check_finite()
        self._check_gen_flags()
        self._check_encoded_values()
        self._check_ranges()
        if sample_len is not None:
            check_sample_len(self.max_length, sample_len)

    def _check_specs(self):
        for what, outputs in (("feature", self.feature_outputs),
                              ("attribute", self.attribute_outputs)):
            flagged = [o.name for o in outputs if o.is_gen_flag]
            if flagged:
                raise ValueError(
                    f"{what} output {flagged[0]!r} has is_gen_flag=True; generation-flag outputs "
                    f"are added by the model, remove them from the {what} outputs (and their "
                    "columns from the data)")
        seen = set()
        for out in self.feature_outputs + self.attribute_outputs:
            for name in dict.fromkeys([out.name] + out.column_names()):
                if name in seen:
                    raise ValueError(f"duplicate output name {name!r}; give every feature and "
                                     "attribute (and its columns) a distinct name")
                seen.add(name)

    def _check_shapes(self):
        for name, array, ndim, layout in (("features", self.features, 3, "[N, T, K_enc]"),
                                          ("attributes", self.attributes, 2, "[N, A_enc]"),
                                          ("gen_flags", self.gen_flags, 2, "[N, T]")):
            if array.ndim != ndim:
                raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {array.shape}")
        n, t, k = self.features.shape
        if n == 0:
            raise ValueError("the dataset is empty (N == 0 samples); give at least one series")
        for name, array in (("attributes", self.attributes), ("gen_flags", self.gen_flags)):
            if array.shape[0] != n:
                raise ValueError(f"{name} has {array.shape[0]} samples but features has {n}; "
                                 "all arrays need the same first dimension N")
        if self.gen_flags.shape[1] != t:
            raise ValueError(f"gen_flags has T={self.gen_flags.shape[1]} steps but features has "
                             f"T={t}; both must cover the same (padded) time axis")
        if k == 0:
            raise ValueError("the dataset has no feature columns; DoppelGANger needs at least "
                             "one time-series feature")
        for what, array, outputs in (("feature", self.features, self.feature_outputs),
                                     ("attribute", self.attributes, self.attribute_outputs)):
            expected = total_dim(outputs)
            if array.shape[-1] != expected:
                raise ValueError(
                    f"the {what}s have {array.shape[-1]} encoded columns but the {what} outputs "
                    f"add up to {expected} ({[(o.name, o.dim) for o in outputs]}); the last "
                    "dimension must equal the sum of the outputs' dims")

    def _check_finite(self):
        for name, array in (("features", self.features), ("attributes", self.attributes),
                            ("gen_flags", self.gen_flags)):
            bad = ~np.isfinite(array)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite values (first "
                                 f"at index {where}); fill them or drop those samples")

    def _check_gen_flags(self):
        g = self.gen_flags
        not_binary = (g != 0) & (g != 1)
        if not_binary.any():
            n, t = np.argwhere(not_binary)[0]
            raise ValueError(f"gen_flags must hold only 0 and 1; sample {n}, step {t} holds "
                             f"{g[n, t]:g}")
        rises = np.diff(g, axis=1) > 0
        if rises.any():
            n = int(np.flatnonzero(rises.any(axis=1))[0])
            raise ValueError(f"gen_flags of sample {n} is not a prefix of ones (a 0 is followed "
                             "by a 1); each series must be active from step 0 to its end, "
                             "then inactive")
        empty = g[:, 0] == 0
        if empty.any():
            raise ValueError(f"sample {int(np.flatnonzero(empty)[0])} has a zero-length series "
                             f"({int(empty.sum())} such samples); every series needs at least "
                             "one active step, drop the empty ones")

    def _check_encoded_values(self):
        active = self.gen_flags > 0.5
        nonzero_after_end = ~active & np.any(self.features != 0, axis=2)
        if nonzero_after_end.any():
            n, t = np.argwhere(nonzero_after_end)[0]
            raise ValueError(f"features are non-zero after the end of sample {n} (step {t}); "
                             "features must be zero where gen_flags is 0 (multiply them by "
                             "gen_flags[..., None])")

        def locate(row):  # only computed for an error: the index arrays would be N*T long
            n, t = np.argwhere(active)[row]
            return f"sample {n}, step {t}"

        _check_encoding(self.features[active], self.feature_outputs, "feature", locate)
        _check_encoding(self.attributes, self.attribute_outputs, "attribute",
                        lambda r: f"sample {r}")

    def _check_ranges(self):
        for what, low, high, outputs in (
                ("feature", self.feature_min, self.feature_max, self.feature_outputs),
                ("attribute", self.attribute_min, self.attribute_max, self.attribute_outputs)):
            if (low is None) != (high is None):
                raise ValueError(f"give both {what}_min and {what}_max, or neither (None means "
                                 "the scaled values are the final units)")
            if low is None:
                continue
            columns = total_dim(outputs)
            for name, array in ((f"{what}_min", low), (f"{what}_max", high)):
                if array.shape != (columns,):
                    raise ValueError(
                        f"{name} has shape {array.shape}, expected ({columns},): one raw-unit "
                        f"value per encoded {what} column (0/1 for discrete columns)")
                if not np.isfinite(array).all():
                    raise ValueError(f"{name} holds NaN or infinite values")
            for out, start, stop in output_blocks(outputs):
                if out.is_continuous and np.any(high[start:stop] <= low[start:stop]):
                    raise ValueError(
                        f"{what}_max must exceed {what}_min for continuous {what} {out.name!r} "
                        f"(min {low[start:stop].tolist()}, max {high[start:stop].tolist()})")
                with np.errstate(over="ignore"):
                    width = high[start:stop] - low[start:stop]
                if out.is_continuous and not np.isfinite(width).all():
                    raise ValueError(
                        f"{what}_max - {what}_min overflows float64 for continuous {what} "
                        f"{out.name!r} (min {low[start:stop].tolist()}, max "
                        f"{high[start:stop].tolist()}), so its values cannot be decoded; "
                        + _precision_fix(float(low[start:stop].min())))

    # --- real units -----------------------------------------------------------------------------

    def feature_values(self) -> Dict[str, np.ndarray]:
        """Features in real units: column name -> [N, T] array.

        Continuous columns are float64 with NaN after each series ends; discrete ones are
        object arrays of category labels with None after the end.  A continuous output of dim d
        gives columns ``<name>_0`` .. ``<name>_<d-1>``.
        """
        after_end = self.gen_flags < 0.5
        values = {}
        for out, name, column in _decoded_columns(self.features, self.feature_outputs,
                                                  self.feature_min, self.feature_max):
            if not out.is_continuous:
                column = column.astype(object)
            column[after_end] = np.nan if out.is_continuous else None
            values[name] = column
        return values

    def attribute_values(self) -> pd.DataFrame:
        """Attributes in real units: a DataFrame [N, P], one column per raw attribute column
        (category labels for discrete ones), indexed by sample 0..N-1."""
        columns = {name: column for _, name, column in _decoded_columns(
            self.attributes, self.attribute_outputs, self.attribute_min, self.attribute_max)}
        return pd.DataFrame(columns, index=pd.RangeIndex(self.num_samples))

    def to_dataframe(self, id_column: str = "id", time_column: Optional[str] = "time"
                     ) -> pd.DataFrame:
        """Long form in real units: one row per active step, ordered by sample then time.

        Columns: ``id_column`` (the sample index 0..N-1), ``time_column`` (the step index
        0..length-1, omitted when None; original time stamps are not kept), the attribute
        columns (repeated on every row of a sample), then the feature columns.  Discrete values
        are category labels.
        """
        sample_idx, step_idx = np.nonzero(self.gen_flags > 0.5)
        columns = {id_column: sample_idx}
        if time_column is not None:
            columns[time_column] = step_idx
        taken = [n for o in self.attribute_outputs + self.feature_outputs
                 for n in o.column_names() if n in columns]
        if taken:
            raise ValueError(f"the data has a column named {taken[0]!r}; pick another "
                             "id_column/time_column")
        for _, name, column in _decoded_columns(self.attributes, self.attribute_outputs,
                                                self.attribute_min, self.attribute_max):
            columns[name] = column[sample_idx]
        for _, name, column in _decoded_columns(self.features[sample_idx, step_idx],
                                                self.feature_outputs, self.feature_min,
                                                self.feature_max):
            columns[name] = column
        return pd.DataFrame(columns)

    def scaling(self) -> Dict[str, Optional[np.ndarray]]:
        """The raw-unit min/max arrays (keyword arguments of the constructor)."""
        return {"feature_min": self.feature_min, "feature_max": self.feature_max,
                "attribute_min": self.attribute_min, "attribute_max": self.attribute_max}

    # --- building from raw values ---------------------------------------------------------------

    @classmethod
    def from_arrays(cls, features, attributes=None, *, feature_names=None, attribute_names=None,
                    discrete_features=(), discrete_attributes=(),
                    normalization=Normalization.ZERO_ONE, lengths=None, feature_outputs=None,
                    attribute_outputs=None, feature_min=None, feature_max=None,
                    attribute_min=None, attribute_max=None) -> "Dataset":
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
        return cls._from_raw_columns(
            feature_columns, lengths, max_length, attribute_columns,
            feature_names=feature_names, attribute_names=attribute_names,
            discrete_features=discrete_features, discrete_attributes=discrete_attributes,
            normalization=normalization, feature_outputs=feature_outputs,
            attribute_outputs=attribute_outputs, feature_range=(feature_min, feature_max),
            attribute_range=(attribute_min, attribute_max))

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame, *, id_column, feature_columns,
                       attribute_columns=(), time_column=None, discrete_features=(),
                       discrete_attributes=(), normalization=Normalization.ZERO_ONE,
                       max_length: Optional[int] = None, sample_len: Optional[int] = None
                       ) -> "Dataset":
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
            _check_positive_int(max_length, "max_length")
            if longest > max_length:
                raise ValueError(
                    f"id {ids[int(lengths.argmax())]!r} has {longest} rows, more than "
                    f"max_length={max_length}; truncate the series first (e.g. "
                    f"df.groupby({id_column!r}).head({max_length}) after sorting by time) or "
                    "raise max_length")
        total = longest if max_length is None else int(max_length)
        if sample_len is not None:
            _check_positive_int(sample_len, "sample_len")
            total = -(-total // sample_len) * sample_len
        return cls._from_raw_columns(
            [sorted_column(c) for c in feature_columns], lengths, total, attribute_values,
            feature_names=[str(c) for c in feature_columns],
            attribute_names=[str(c) for c in attribute_columns],
            discrete_features=discrete_features, discrete_attributes=discrete_attributes,
            normalization=normalization, feature_outputs=None, attribute_outputs=None,
            feature_range=(None, None), attribute_range=(None, None))

    @classmethod
    def _from_raw_columns(cls, feature_columns, lengths, max_length, attribute_columns, *,
                          feature_names, attribute_names, discrete_features, discrete_attributes,
                          normalization, feature_outputs, attribute_outputs, feature_range,
                          attribute_range) -> "Dataset":
        """Encode raw columns: features as flat columns over the active steps (sample-major),
        attributes as columns over samples."""
        gen_flags = gen_flags_from_lengths(lengths, max_length)
        active = gen_flags > 0.5
        sample_idx, step_idx = np.nonzero(active)
        flat, feature_outputs, feature_min, feature_max = _encode_columns(
            feature_columns, feature_names, discrete_features, normalization, feature_outputs,
            feature_range, "feature", lambda r: f"sample {sample_idx[r]}, step {step_idx[r]}",
            len(sample_idx))
        attributes, attribute_outputs, attribute_min, attribute_max = _encode_columns(
            attribute_columns, attribute_names, discrete_attributes, normalization,
            attribute_outputs, attribute_range, "attribute", lambda r: f"sample {r}",
            len(lengths))
        features = np.zeros(active.shape + (flat.shape[1],), np.float32)
        features[active] = flat
        return cls(features, attributes, gen_flags, feature_outputs, attribute_outputs,
                   feature_min, feature_max, attribute_min, attribute_max)

    # --- storage --------------------------------------------------------------------------------

    def save(self, path) -> None:
        """Write our layout: directory ``path`` holding ``data.npz`` (features, attributes,
        gen_flags and the min/max arrays when present) and ``specs.json``.  Atomic: written
        into a temporary sibling directory that then replaces ``path`` (which may only hold a
        dataset saved before)."""
        with atomic_directory(path, replaceable={DATA_FILE, SPECS_FILE}) as directory:
            np.savez_compressed(directory / DATA_FILE, **self._arrays(original=False))
            (directory / SPECS_FILE).write_text(self._specs_json())

    def save_original(self, directory) -> None:
        """Write the original release's layout, readable by its code: ``data_train.npz``
        (data_feature, data_attribute, data_gen_flag, data_feature_min/max and
        data_attribute_min/max when present) and ``data_{feature,attribute}_output.pkl``
        (protocol-2 pickles of ``output.Output`` objects).  Names and categories, which those
        pickles cannot hold, go to a ``specs.json`` beside them that :meth:`load` reads back.
        Atomic like :meth:`save`."""
        names = {ORIGINAL_DATA_FILE, ORIGINAL_FEATURE_SPECS, ORIGINAL_ATTRIBUTE_SPECS, SPECS_FILE}
        with atomic_directory(directory, replaceable=names) as target:
            np.savez_compressed(target / ORIGINAL_DATA_FILE, **self._arrays(original=True))
            (target / ORIGINAL_FEATURE_SPECS).write_bytes(
                dump_original_specs(self.feature_outputs))
            (target / ORIGINAL_ATTRIBUTE_SPECS).write_bytes(
                dump_original_specs(self.attribute_outputs))
            (target / SPECS_FILE).write_text(self._specs_json())

    @classmethod
    def load(cls, path) -> "Dataset":
        """Read a directory written by :meth:`save` (``data.npz`` + ``specs.json``) or in the
        original release's layout (``data_train.npz`` + ``data_*_output.pkl``, e.g. written by
        :meth:`save_original`)."""
        path = Path(path)
        recover(path)  # a save killed between its renames left the previous version aside
        if not path.exists():
            raise FileNotFoundError(f"no saved dataset at {path}")
        if not path.is_dir():
            raise ValueError(f"{path} is a file; Dataset.load expects the directory holding "
                             f"{DATA_FILE} (our layout) or {ORIGINAL_DATA_FILE} (original layout)")
        if (path / DATA_FILE).exists():
            data_file = path / DATA_FILE
            arrays = _read_npz(data_file, {k: k for k in _ARRAY_KEYS})
            feature_outputs, attribute_outputs = _read_specs_json(path / SPECS_FILE)
        elif (path / _npy_name("features")).exists():
            data_file = path / _npy_name("features")
            arrays = _read_npy_layout(path)
            feature_outputs, attribute_outputs = _read_specs_json(path / SPECS_FILE)
        elif (path / ORIGINAL_DATA_FILE).exists():
            data_file = path / ORIGINAL_DATA_FILE
            arrays = _read_npz(data_file, {k: _ORIGINAL_KEYS[k] for k in _ARRAY_KEYS})
            feature_outputs = _read_original_specs(path / ORIGINAL_FEATURE_SPECS)
            attribute_outputs = _read_original_specs(path / ORIGINAL_ATTRIBUTE_SPECS)
            if (path / SPECS_FILE).exists():
                named_features, named_attributes = _read_specs_json(path / SPECS_FILE)
                feature_outputs = _same_encoding(feature_outputs, named_features,
                                                 path / ORIGINAL_FEATURE_SPECS, path / SPECS_FILE)
                attribute_outputs = _same_encoding(attribute_outputs, named_attributes,
                                                   path / ORIGINAL_ATTRIBUTE_SPECS,
                                                   path / SPECS_FILE)
        else:
            raise FileNotFoundError(
                f"{path} holds neither {DATA_FILE} (doppelganger_tf layout), "
                f"{_npy_name('features')} (streamed layout) nor {ORIGINAL_DATA_FILE} (the "
                "original release's layout)")
        try:
            return cls(feature_outputs=feature_outputs, attribute_outputs=attribute_outputs,
                       **arrays)
        except ValueError as exc:
            raise ValueError(f"{data_file}: {exc}") from exc

    def _arrays(self, original: bool) -> Dict[str, np.ndarray]:
        """The arrays to store, keyed as in our layout or the original one (min/max only when
        present)."""
        arrays = {k: getattr(self, k) for k in _ARRAY_KEYS if getattr(self, k) is not None}
        return {_ORIGINAL_KEYS[k] if original else k: v for k, v in arrays.items()}

    def _specs_json(self) -> str:
        return json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION,
                           "feature_outputs": [o.to_dict() for o in self.feature_outputs],
                           "attribute_outputs": [o.to_dict() for o in self.attribute_outputs]},
                          indent=2)


class DatasetStreamWriter:
    """Write ``num_samples`` samples into directory ``path`` batch by batch, memory flat in N:
    each array goes to its own ``<name>.npy`` (plus ``specs.json``), appended row block by row
    block with plain writes (a memory map would keep every written page resident), which
    :meth:`Dataset.load` reads back memory-mapped. Atomic: the directory appears only once all
    samples were appended and the block exited cleanly::

        with DatasetStreamWriter("out/generated", 1_000_000) as writer:
            for batch in batches:          # Datasets with the same specs
                writer.append(batch)
    """

    def __init__(self, path, num_samples: int):
        _check_positive_int(num_samples, "num_samples")
        self.path = Path(path)
        self.num_samples = int(num_samples)
        self.written = 0
        self._arrays = None
        self._specs = None
        self._directory_context = None
        self._directory = None

    def __enter__(self) -> "DatasetStreamWriter":
        names = {SPECS_FILE, *(_npy_name(k) for k in _ARRAY_KEYS)}
        self._directory_context = atomic_directory(self.path, replaceable=names)
        self._directory = self._directory_context.__enter__()
        return self

    def append(self, batch: "Dataset") -> None:
        if self._directory is None:
            raise RuntimeError("use DatasetStreamWriter in a with-block")
        if self.written + len(batch) > self.num_samples:
            raise ValueError(f"appending {len(batch)} samples would exceed the declared "
                             f"num_samples={self.num_samples} ({self.written} written)")
        if self._arrays is None:
            self._start(batch)
        elif batch._specs_json() != self._specs or batch.max_length != self._max_length:
            raise ValueError("every appended batch must have the specs and length of the first")
        for key in ("features", "attributes", "gen_flags"):
            self._arrays[key].write(np.ascontiguousarray(getattr(batch, key), "<f4").tobytes())
        self.written += len(batch)

    def _start(self, first: "Dataset") -> None:
        self._specs = first._specs_json()
        self._max_length = first.max_length
        (self._directory / SPECS_FILE).write_text(self._specs)
        self._arrays = {}
        for key in ("features", "attributes", "gen_flags"):
            handle = open(self._directory / _npy_name(key), "wb")
            self._arrays[key] = handle
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                      "fortran_order": False,
                      "shape": (self.num_samples, *getattr(first, key).shape[1:])}
            np.lib.format.write_array_header_2_0(handle, header)
        for key in _ARRAY_KEYS[3:]:  # the raw-unit min/max, when present
            if getattr(first, key) is not None:
                np.save(self._directory / _npy_name(key), getattr(first, key))

    def __exit__(self, exc_type, exc, tb):
        if exc is None and self.written != self.num_samples:
            exc = ValueError(f"only {self.written} of the declared {self.num_samples} samples "
                             "were appended; nothing was written")
        if self._arrays is not None:
            for handle in self._arrays.values():
                if exc is None:
                    handle.flush()
                    os.fsync(handle.fileno())
                handle.close()
            self._arrays = None
        if exc is None:
            self._directory_context.__exit__(None, None, None)
            return False
        self._directory_context.__exit__(type(exc), exc, exc.__traceback__)  # drops the temp dir
        if exc_type is None:
            raise exc
        return False


def _npy_name(key: str) -> str:
    return f"{key}.npy"


def _read_npy_layout(path: Path) -> Dict[str, np.ndarray]:
    """The arrays of a streamed dataset, memory-mapped read-only."""
    arrays = {}
    for key in _ARRAY_KEYS:
        file = path / _npy_name(key)
        if not file.exists():
            if key in ("features", "attributes", "gen_flags"):
                raise FileNotFoundError(f"{file} is missing: {path} is an incomplete streamed "
                                        "dataset; write it again")
            continue
        try:
            arrays[key] = np.load(file, mmap_mode="r" if key == "features" else None,
                                  allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"cannot read {file}: {exc}; it is corrupt, write it again") from exc
    return arrays


# Stored arrays (the first three required), and their names in the original layout.
_ARRAY_KEYS = ("features", "attributes", "gen_flags", "feature_min", "feature_max",
               "attribute_min", "attribute_max")
_ORIGINAL_KEYS = {"features": "data_feature", "attributes": "data_attribute",
                  "gen_flags": "data_gen_flag", "feature_min": "data_feature_min",
                  "feature_max": "data_feature_max", "attribute_min": "data_attribute_min",
                  "attribute_max": "data_attribute_max"}


def check_sample_len(max_length: int, sample_len: int) -> None:
    """Raise ValueError unless ``sample_len`` is a positive integer dividing ``max_length``."""
    _check_positive_int(sample_len, "sample_len")
    if max_length % sample_len:
        divisors = [d for d in range(1, max_length + 1) if max_length % d == 0]
        padded = -(-max_length // sample_len) * sample_len
        raise ValueError(
            f"the series length T={max_length} is not divisible by sample_len={sample_len}; use "
            f"a sample_len that divides T (one of {divisors}) or pad the series to T={padded} "
            f"(e.g. Dataset.from_dataframe(..., sample_len={sample_len}))")


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


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
        _check_encoding(encoded, outputs, "attribute", lambda r: f"row {r}")
        return encoded
    if attribute_min is None:
        # the model's data were given already scaled: scaling is the identity
        attribute_min = np.concatenate([np.full(o.dim, o.normalization.low if o.is_continuous
                                                else 0.0) for o in outputs]) if outputs else None
        attribute_max = np.ones(width) if outputs else None
    rows = len(attributes)
    columns, outputs, names = _raw_attribute_columns(attributes, rows, outputs, None, ())
    # no precision warning: the range is the model's, which its training data already checked
    encoded, _, _, _ = _encode_columns(
        columns, names, (), Normalization.ZERO_ONE, outputs, (attribute_min, attribute_max),
        "attribute", lambda r: f"row {r}", rows, check_precision=False)
    return encoded.astype(np.float32)


# --- helpers: specs and encoded blocks -----------------------------------------------------------

def _named_outputs(outputs: Sequence[Output], prefix: str) -> List[Output]:
    named = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Output):
            raise TypeError(f"{prefix}_outputs[{i}] is a {type(out).__name__}, not an Output")
        named.append(out if out.name is not None else out.with_name(f"{prefix}_{i}"))
    return named


def _optional_float64(values) -> Optional[np.ndarray]:
    return None if values is None else np.array(values, dtype=np.float64)


def _check_encoding(rows: np.ndarray, outputs, what: str, locate: Callable[[int], str]):
    """Check encoded rows [M, columns]: continuous values in range, discrete blocks one-hot."""
    for out, start, stop in output_blocks(outputs):
        block = rows[:, start:stop]
        if out.is_continuous:
            low = out.normalization.low
            bad = (block < low - RANGE_TOL) | (block > 1.0 + RANGE_TOL)
            if bad.any():
                row, col = np.argwhere(bad)[0]
                raise ValueError(
                    f"continuous {what} {out.name!r} holds {block[row, col]:.6g} at "
                    f"{locate(row)}, outside its normalisation range [{low:g}, 1] "
                    f"({out.normalization.name}); scale it globally to that range first "
                    "(Dataset.from_arrays does) or declare the matching normalization")
        else:
            binary = (np.abs(block) <= RANGE_TOL) | (np.abs(block - 1.0) <= RANGE_TOL)
            bad = ~binary.all(axis=1) | ((block > 0.5).sum(axis=1) != 1)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                nonzero = {int(i): float(block[row, i]) for i in np.flatnonzero(block[row])}
                raise ValueError(
                    f"discrete {what} {out.name!r} is not one-hot at {locate(row)} (non-zero "
                    f"columns: {nonzero}); each active row of a discrete block needs exactly "
                    "one 1 and zeros elsewhere (Dataset.from_arrays encodes categories)")


def _decode_block(block: np.ndarray, out: Output, low, high) -> np.ndarray:
    """Encoded columns [..., dim] of one output -> labels [...] (DISCRETE) or real values
    [..., dim] (float64, CONTINUOUS)."""
    if not out.is_continuous:
        return _label_array(out.labels())[np.argmax(block, axis=-1)]
    if low is None:
        return block.astype(np.float64)
    return global_unscale(block, low, high, out.normalization)


def _label_array(labels) -> np.ndarray:
    """Category labels as an array: numeric ones keep a numeric dtype (fast, and what pandas
    expects); strings and mixed labels stay Python objects."""
    typed = np.asarray(labels)
    if typed.dtype.kind in "biuf":
        return typed
    objects = np.empty(len(labels), dtype=object)
    objects[:] = list(labels)
    return objects


def _decoded_columns(encoded: np.ndarray, outputs, low, high):
    """Yield (output, raw column name, real values [...]) for each raw column of ``outputs``."""
    for out, start, stop in output_blocks(outputs):
        values = _decode_block(encoded[..., start:stop], out,
                               None if low is None else low[start:stop],
                               None if high is None else high[start:stop])
        if out.is_continuous:
            for i, name in enumerate(out.column_names()):
                yield out, name, values[..., i]
        else:
            yield out, out.name, values


# --- helpers: raw input ---------------------------------------------------------------------------

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
        if lengths is None:
            lengths = np.full(n, max_length, dtype=np.int64)
        else:
            lengths = np.asarray(lengths)
            if (lengths.shape != (n,) or not np.all(np.isfinite(lengths))
                    or np.any(lengths != np.round(lengths))):
                raise ValueError(f"lengths must be {n} integers, one per series; got "
                                 f"{lengths!r:.200}")
            lengths = lengths.astype(np.int64)
            if np.any((lengths < 1) | (lengths > max_length)):
                raise ValueError(f"lengths must be between 1 and T={max_length} (a zero-length "
                                 f"series must be dropped); got {lengths.min()}..{lengths.max()}")
        flat = array[gen_flags_from_lengths(lengths, max_length) > 0.5]
    return [flat[:, j] for j in range(flat.shape[1])], lengths, max_length


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


def _resolve_names(outputs, names, discrete, count: int, what: str):
    """-> (named outputs or None, raw column names)."""
    if outputs is not None:
        if names is not None or len(discrete):
            raise ValueError(f"{what}_outputs already name the columns and say which are "
                             f"discrete; do not also pass {what}_names or discrete_{what}s")
        outputs = _named_outputs(outputs, what)
        return outputs, [n for o in outputs for n in o.column_names()]
    if names is None:
        return None, [f"{what}_{i}" for i in range(count)]
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{what}_names has {len(names)} names but there are {count} {what} "
                         "columns")
    return None, names


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


def _encode_columns(columns, names, discrete, normalization, outputs, value_range, what,
                    locate, num_rows, check_precision: bool = True):
    """Raw columns -> (encoded [num_rows, K] float32, outputs, min [K], max [K]).

    Without ``outputs`` every raw column becomes one output (discrete when listed in
    ``discrete``); with them, the columns follow their column_names() and ``value_range`` may
    give the min/max to scale with.  ``check_precision``: warn about continuous columns float32
    cannot resolve (see :func:`_scale`).
    """
    low, high = value_range
    if (low is None) != (high is None):
        raise ValueError(f"give both {what}_min and {what}_max, or neither")
    if outputs is None:
        if low is not None:
            raise ValueError(f"{what}_min/{what}_max are only used with {what}_outputs; without "
                             "them the min/max are computed from the data")
        chosen = _discrete_indices(discrete, names, what)
        outputs = []
        for i, (name, values) in enumerate(zip(names, columns)):
            if i in chosen:
                categories = _categories(values, name, what, locate)
                outputs.append(Output(OutputType.DISCRETE, len(categories), name=name,
                                      categories=categories))
            else:
                outputs.append(Output(OutputType.CONTINUOUS, 1, normalization, name=name))
    elif len(columns) != len(names):
        raise ValueError(f"there are {len(columns)} {what} columns but {what}_outputs describe "
                         f"{len(names)}: {names}")
    if low is not None:
        low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        expected = (total_dim(outputs),)
        if low.shape != expected or high.shape != expected:
            raise ValueError(f"{what}_min/{what}_max must have shape {expected}, one value per "
                             f"encoded column; got {low.shape} and {high.shape}")

    blocks, lows, highs = [], [], []
    raw = iter(zip(names, columns))
    for out, start, _ in output_blocks(outputs):
        if not out.is_continuous:
            name, values = next(raw)
            blocks.append(_one_hot(values, out, what, locate))
            lows.extend([0.0] * out.dim)
            highs.extend([1.0] * out.dim)
            continue
        for j in range(out.dim):
            name, values = next(raw)
            given = None if low is None else (low[start + j], high[start + j])
            scaled, lo, hi = _scale(values, name, what, locate, out.normalization, given,
                                    check_precision)
            blocks.append(scaled[:, None])
            lows.append(lo)
            highs.append(hi)
    encoded = (np.concatenate(blocks, axis=1) if blocks
               else np.zeros((num_rows, 0), np.float32))
    return encoded, outputs, np.array(lows, np.float64), np.array(highs, np.float64)


def _discrete_indices(discrete, names: List[str], what: str) -> set:
    chosen = set()
    for item in discrete:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= item < len(names):
                raise ValueError(f"discrete_{what}s has index {item}, out of range for "
                                 f"{len(names)} {what} columns")
            chosen.add(int(item))
        elif str(item) in names:
            chosen.add(names.index(str(item)))
        else:
            article = "an" if what == "attribute" else "a"
            raise ValueError(f"discrete_{what}s names {item!r}, which is not {article} {what} "
                             f"column ({names})")
    return chosen


def _is_missing_or_infinite(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and not math.isfinite(value)


def _factorize(values, name: str, what: str, locate):
    """Raw labels [M] -> (codes [M], distinct values as Python scalars); rejects missing and
    infinite values."""
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    uniques = list(uniques.tolist())  # Python scalars, so categories are JSON-serialisable
    for i, value in enumerate(uniques):
        if _is_missing_or_infinite(value):
            row = int(np.flatnonzero(codes == i)[0])
            raise ValueError(f"discrete {what} column {name!r} holds a missing or infinite "
                             f"value ({value!r}, first at {locate(row)}); fill or drop it")
    return codes, uniques


def _categories(values, name: str, what: str, locate) -> tuple:
    """The sorted distinct values of a discrete column."""
    _, uniques = _factorize(values, name, what, locate)
    try:
        return tuple(sorted(uniques))
    except TypeError:
        kinds = sorted({type(u).__name__ for u in uniques})
        raise ValueError(f"discrete {what} column {name!r} mixes value types {kinds}; convert "
                         "it to one type") from None


def _one_hot(values, out: Output, what: str, locate) -> np.ndarray:
    """Raw labels [M] -> one-hot [M, dim] float32 over ``out.labels()``."""
    codes, uniques = _factorize(values, out.name, what, locate)
    position = {c: i for i, c in enumerate(out.labels())}
    unknown = [u for u in uniques if u not in position]
    if unknown:
        raise ValueError(f"discrete {what} column {out.name!r} holds {unknown[0]!r}, which is "
                         f"not among its categories {list(out.labels())}; map it to a known "
                         "category or rebuild the specs")
    index = np.array([position[u] for u in uniques], dtype=np.int64)[codes]
    one_hot = np.zeros((len(index), out.dim), np.float32)
    one_hot[np.arange(len(index)), index] = 1.0
    return one_hot


def _scale(values, name: str, what: str, locate, normalization: Normalization, given,
           check_precision: bool = True):
    """Raw continuous values [M] -> (globally scaled float32 [M], min, max).

    Refuses a range whose width overflows float64 and, with ``check_precision``, warns when
    float32 cannot resolve the values (see :func:`transforms.scaling_loss`)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"continuous {what} column {name!r} holds non-numeric values ({exc}); "
                         f"list it in discrete_{what}s or convert it to numbers") from None
    finite = np.isfinite(x)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{what} column {name!r} holds {int((~finite).sum())} NaN or infinite "
                         f"values (first at {locate(row)}); fill or drop them")
    if given is None:
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            raise ValueError(f"continuous {what} column {name!r} is constant ({lo:g}) over the "
                             "whole dataset, so it carries no information; drop it"
                             + (" or make it an attribute" if what == "feature" else ""))
    else:
        lo, hi = float(given[0]), float(given[1])
        if hi <= lo:
            raise ValueError(f"{what}_max must exceed {what}_min for column {name!r} "
                             f"(got {lo:g}, {hi:g})")
    if not math.isfinite(hi - lo):
        # scaling divides by max - min: an infinite width would turn the values into NaN
        raise ValueError(f"continuous {what} column {name!r} spans {lo:g}..{hi:g}: max - min "
                         "overflows float64, so it cannot be scaled; "
                         f"{_precision_fix(lo)}")
    scaled = global_scale(x, lo, hi, normalization)
    if given is not None:
        outside = (scaled < normalization.low - RANGE_TOL) | (scaled > 1.0 + RANGE_TOL)
        if outside.any():
            raise ValueError(f"{what} column {name!r} spans {x.min():g}..{x.max():g}, beyond the "
                             f"given {what}_min/{what}_max range {lo:g}..{hi:g}; pass a wider "
                             "range or clip the values")
    loss = scaling_loss(x, scaled, lo, hi, normalization) if check_precision else None
    if loss is not None:
        collapsed = (f", and {loss['collapsed']} of its {loss['distinct']} distinct values share "
                     "a float32 code with another value" if loss["collapsed"] else "")
        _warn(f"continuous {what} column {name!r} spans {lo:g}..{hi:g}, too wide for float32 "
              f"scaling: its typical values ({loss['kind']} {loss['low']:.6g}.."
              f"{loss['high']:.6g}) decode up to {loss['max_error']:.3g} away from the input, "
              f"more than {RESOLUTION:.1%} of that range{collapsed}; {_precision_fix(lo)}")
    return scaled, lo, hi


def _precision_fix(lo: float) -> str:
    """The advice for a column too wide for float32 scaling."""
    transform = ("np.log1p(x)" if lo >= 0 else
                 "np.sign(x) * np.log1p(np.abs(x)), which keeps negative values")
    return (f"apply a log transform ({transform}) or clip the extreme values before building "
            "the Dataset")


def _warn(message: str) -> None:
    """A UserWarning attributed to the first caller outside this package (the user's
    from_arrays / from_dataframe line), whatever the depth of the helpers in between."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


# --- helpers: files -------------------------------------------------------------------------------

def _read_npz(file: Path, keys: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Read the arrays named by ``keys`` (our name -> stored name; the first three required)."""
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing")
    try:
        # our own handle: np.load leaks the file it opened when the archive is corrupt
        with open(file, "rb") as handle:
            contents = np.load(handle, allow_pickle=False)
            stored = ({name: contents[name] for name in contents.files}
                      if isinstance(contents, np.lib.npyio.NpzFile) else None)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {file}: {exc}; it is corrupt or not an .npz "
                         "archive") from exc
    if stored is None:
        raise ValueError(f"{file} holds a single array, not an .npz archive of arrays")
    missing = [name for name in list(keys.values())[:3] if name not in stored]
    if missing:
        raise ValueError(f"{file} lacks the arrays {missing} (it holds {sorted(stored)})")
    return {ours: stored[name] for ours, name in keys.items() if name in stored}


def _read_specs_json(file: Path) -> Tuple[List[Output], List[Output]]:
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing; a saved dataset keeps its output specs "
                                "there")
    try:
        spec = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(spec, dict) or spec.get("format") != FORMAT_NAME:
        raise ValueError(f"{file} is not a doppelganger_tf dataset spec (expected "
                         f"\"format\": {FORMAT_NAME!r})")
    if spec.get("version") != FORMAT_VERSION:
        raise ValueError(f"{file} has format version {spec.get('version')!r}; this "
                         f"doppelganger_tf reads version {FORMAT_VERSION}")
    try:
        return ([Output.from_dict(d) for d in spec["feature_outputs"]],
                [Output.from_dict(d) for d in spec["attribute_outputs"]])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{file} has invalid output specs: {exc!r}") from exc


def _read_original_specs(file: Path) -> List[Output]:
    if not file.exists():
        raise FileNotFoundError(f"{file} is missing; the original layout keeps the output specs "
                                f"there, beside {ORIGINAL_DATA_FILE}")
    return load_original_specs(file)


def _same_encoding(from_pickle: List[Output], from_json: List[Output], pickle_file: Path,
                   json_file: Path) -> List[Output]:
    """The named specs of ``specs.json``, after checking they encode like the pickles."""
    def key(out):
        return (out.type, out.dim, out.normalization if out.is_continuous else None,
                out.is_gen_flag)
    if [key(o) for o in from_pickle] != [key(o) for o in from_json]:
        raise ValueError(f"{json_file} does not describe the same outputs as {pickle_file}; "
                         f"delete {json_file.name} to use the pickles alone")
    return from_json


# Stand-ins for the original release's ``output`` module, so that its code can unpickle ours.
