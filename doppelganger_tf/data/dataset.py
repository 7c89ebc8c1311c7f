"""The Dataset container: encoded features, attributes and generation flags, with their specs.

The paper calls attributes *metadata* and features *measurements*.  The canonical format
(the original release's format; docs/design.md, "Data"):

- ``features`` float32 [N, T, K_enc]: discrete features one-hot, continuous ones globally scaled
  to [0, 1] (ZERO_ONE) or [-1, 1] (MINUSONE_ONE); zero after each series ends.
- ``attributes`` float32 [N, A_enc], encoded the same way.
- ``gen_flags`` float32 [N, T]: 1 while the series is active, then 0 (length >= 1).
- ``feature_min`` / ``feature_max`` float64 [K_enc] (``attribute_min`` / ``attribute_max``
  [A_enc]): the raw-unit global min/max of each encoded column (0/1 for discrete columns), used to
  return data in real units; in transformed units for a column whose Output has a transform
  (the DataFrame readers' ``transforms=``, inverted after unscaling).  ``None`` means the scaled
  values already are the final units.

This module holds the container (arrays, specs, validation, subsets).  Build a Dataset from raw
values with :meth:`Dataset.from_arrays` or from a DataFrame (:meth:`Dataset.from_dataframe`,
long; :meth:`Dataset.from_wide_dataframe`, wide; :meth:`Dataset.from_long_series`, windows of
long series; docs/data.md), check how it was read with :meth:`Dataset.describe`, and get real
units back with :meth:`Dataset.to_dataframe`, :meth:`Dataset.feature_values` and
:meth:`Dataset.attribute_values` (:mod:`doppelganger_tf.data.conversion`, on the per-type encodings
of :mod:`doppelganger_tf.data.encoding`; the frame's columns: :mod:`doppelganger_tf.data.frames`).
Storage (:mod:`doppelganger_tf.persistence.storage`): :meth:`Dataset.save` writes our layout,
:meth:`Dataset.save_original` the original release's, :class:`DatasetStreamWriter` a dataset too
large for memory batch by batch (one ``.npy`` file per array), and :meth:`Dataset.load` reads all
three (the ``.npy`` layout memory-mapped).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from ..persistence import storage
from ..persistence.storage import DatasetStreamWriter
from . import column_types, conversion
from .conversion import encode_attribute_table
from .encoding import check_encoded, check_scaling
from .frames import FrameInfo
from .outputs import Output, named_outputs, total_dim
from .transforms import check_sample_len, lengths_from_gen_flags

# the public names of the data modules, importable from here as before the split
__all__ = ["Dataset", "DatasetStreamWriter", "FrameInfo", "check_sample_len",
           "encode_attribute_table"]


class Dataset:
    """Encoded training data plus the specs needed to decode it (see the module docstring).

    Build one from your values with :meth:`from_dataframe`, :meth:`from_wide_dataframe`,
    :meth:`from_long_series` or :meth:`from_arrays`, or read one with :meth:`load`; the
    constructor takes values already encoded and scaled.

    Args:
        features: float32 [N, T, K_enc], the encoded features, zero after each series ends.
        attributes: float32 [N, A_enc], the encoded attributes.
        gen_flags: float32 [N, T], 1 on each series' active steps, then 0.
        feature_outputs: The :class:`Output` of each feature variable, in column order; one
            without a name gets ``feature_<i>``.
        attribute_outputs: The same for the attributes (``attribute_<i>``).
        feature_min: The raw-unit min of each continuous feature column, or None.
        feature_max: The raw-unit max, or None.
        attribute_min: As ``feature_min``, for the attributes.
        attribute_max: As ``feature_max``, for the attributes.
        validate: False skips the checks, for arrays valid by construction.
        frame: What the data remember of the frame they came from (id and time columns,
            dtypes, layout), set by the DataFrame constructors; None for data built from
            arrays (then :meth:`to_dataframe` numbers series and steps). Generated data get
            the training data's ``frame.template()``.

    Raises:
        ValueError: Naming what is wrong with the arrays or specs and how to fix it.
        TypeError: When ``frame`` is not a :class:`~doppelganger_tf.data.frames.FrameInfo`.
    """

    def __init__(self, features, attributes, gen_flags, feature_outputs: Sequence[Output],
                 attribute_outputs: Sequence[Output], feature_min=None, feature_max=None,
                 attribute_min=None, attribute_max=None, validate: bool = True,
                 frame: Optional[FrameInfo] = None):
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.attributes = np.ascontiguousarray(attributes, dtype=np.float32)
        self.gen_flags = np.ascontiguousarray(gen_flags, dtype=np.float32)
        self.feature_outputs = named_outputs(feature_outputs, "feature")
        self.attribute_outputs = named_outputs(attribute_outputs, "attribute")
        self.feature_min = _optional_float64(feature_min)
        self.feature_max = _optional_float64(feature_max)
        self.attribute_min = _optional_float64(attribute_min)
        self.attribute_max = _optional_float64(attribute_max)
        if frame is not None and not isinstance(frame, FrameInfo):
            raise TypeError(f"frame is a {type(frame).__name__}, not a FrameInfo (or None)")
        self.frame = frame
        if frame is not None:
            frame.check_length(self.num_samples)
        if validate:  # False only for arrays valid by construction (a model's generated data)
            self.validate()

    # --- shape and names --------------------------------------------------------------------------

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
        """K_enc: encoded feature columns (one-hot columns counted one by one), without the two
        generation-flag columns that the model appends to the features it generates."""
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
        """The samples picked by ``indices``, with the same specs, min/max and frame description.

        Args:
            indices: Integers, a boolean mask or a slice.

        Returns:
            A new Dataset (the frame description keeps the picked series' ids and starts).
        """
        if not isinstance(indices, slice):
            indices = np.atleast_1d(np.asarray(indices))
        return Dataset(self.features[indices], self.attributes[indices], self.gen_flags[indices],
                       self.feature_outputs, self.attribute_outputs, self.feature_min,
                       self.feature_max, self.attribute_min, self.attribute_max,
                       frame=None if self.frame is None else self.frame.subset(indices))

    # --- validation -------------------------------------------------------------------------------

    def validate(self, sample_len: Optional[int] = None) -> None:
        """Check shapes, values and specs.

        Args:
            sample_len: Records generated per LSTM step; when given, T must be a multiple of
                it (the error names the ``sample_len`` to build the Dataset with).

        Raises:
            ValueError: Naming the problem and the fix.
        """
        self._check_specs()
        self._check_shapes()
        self._check_finite()
        self._check_gen_flags()
        self._check_encoded_values()
        self._check_ranges()
        if sample_len is not None:
            try:
                check_sample_len(self.max_length, sample_len)
            except ValueError as exc:
                built = (self.frame.report or {}).get("sample_len") if self.frame else None
                if built is None or built == sample_len:
                    raise
                # the likely cause: the model's config and the Dataset disagree, say so first
                raise ValueError(
                    f"this Dataset was built with sample_len={built} (T={self.max_length}), but "
                    f"sample_len={sample_len} was asked for (the model's DGConfig): use "
                    f"DGConfig(sample_len={built}), or rebuild the Dataset with "
                    f"sample_len={sample_len}. ({exc})") from None

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
            count, first = 0, None
            for rows in row_chunks(array):
                bad = ~np.isfinite(array[rows])
                found = int(bad.sum())
                if found and first is None:
                    where = np.argwhere(bad)[0]
                    first = (rows.start + int(where[0]), *(int(i) for i in where[1:]))
                count += found
            if count:
                raise ValueError(f"{name} holds {count} NaN or infinite values (first at index "
                                 f"{first}); fill them or drop those samples")

    def _check_gen_flags(self):
        g = self.gen_flags
        not_binary = rises = empty = None  # the first sample of each problem
        empty_count = 0
        for rows in row_chunks(g):
            chunk = g[rows]
            if not_binary is None:
                wrong = (chunk != 0) & (chunk != 1)
                if wrong.any():
                    n, t = np.argwhere(wrong)[0]
                    not_binary = (rows.start + int(n), int(t), chunk[n, t])
            if rises is None:
                rising = (np.diff(chunk, axis=1) > 0).any(axis=1)
                if rising.any():
                    rises = rows.start + int(np.flatnonzero(rising)[0])
            blank = chunk[:, 0] == 0
            if blank.any() and empty is None:
                empty = rows.start + int(np.flatnonzero(blank)[0])
            empty_count += int(blank.sum())
        if not_binary is not None:
            n, t, value = not_binary
            raise ValueError(f"gen_flags must hold only 0 and 1; sample {n}, step {t} holds "
                             f"{value:g}")
        if rises is not None:
            raise ValueError(f"gen_flags of sample {rises} is not a prefix of ones (a 0 is "
                             "followed by a 1); each series must be active from step 0 to its "
                             "end, then inactive")
        if empty is not None:
            raise ValueError(f"sample {empty} has a zero-length series ({empty_count} such "
                             "samples); every series needs at least one active step, drop the "
                             "empty ones")

    def _check_encoded_values(self):
        """Feature rows chunk by chunk (the first problem in sample order is named)."""
        for rows in row_chunks(self.features):
            features = self.features[rows]
            active = self.gen_flags[rows] > 0.5
            nonzero_after_end = ~active & np.any(features != 0, axis=2)
            if nonzero_after_end.any():
                n, t = np.argwhere(nonzero_after_end)[0]
                raise ValueError(f"features are non-zero after the end of sample "
                                 f"{rows.start + n} (step {t}); features must be zero where "
                                 "gen_flags is 0 (multiply them by gen_flags[..., None])")

            def locate(row, active=active, first=rows.start):
                # only computed for an error: the index arrays would be as long as the chunk
                n, t = np.argwhere(active)[row]
                return f"sample {first + n}, step {t}"

            check_encoded(features[active], self.feature_outputs, "feature", locate)
        for rows in row_chunks(self.attributes):
            check_encoded(self.attributes[rows], self.attribute_outputs, "attribute",
                          lambda r, first=rows.start: f"sample {first + r}")

    def _check_ranges(self):
        for what, low, high, outputs in (
                ("feature", self.feature_min, self.feature_max, self.feature_outputs),
                ("attribute", self.attribute_min, self.attribute_max, self.attribute_outputs)):
            check_scaling(low, high, outputs, what)

    # --- real units (conversion.py) ---------------------------------------------------------------

    def feature_values(self) -> Dict[str, np.ndarray]:
        """Features in real units.

        Returns:
            {column name: [N, T] array}. Continuous columns are float64 with NaN after each
            series ends; discrete ones are object arrays of category labels with None after
            the end. A continuous output of dim d gives columns ``<name>_0`` .. ``<name>_<d-1>``.
        """
        return conversion.feature_values(self)

    def attribute_values(self) -> pd.DataFrame:
        """Attributes in real units.

        Returns:
            A DataFrame [N, P], one column per raw attribute column (category labels for
            discrete ones), indexed by sample 0..N-1.
        """
        return conversion.attribute_values(self)

    def to_dataframe(self, id_column=None, time_column=conversion.DEFAULT, *, layout=None,
                     seed=None, numbered: bool = False) -> pd.DataFrame:
        """The data in real units as a DataFrame, ordered by sample then time.

        Data read from a DataFrame (or generated by a model trained on such data) come back
        with the input's columns, in its order and dtypes (integer columns rounded; a missing
        value in an integer or bool column makes it pandas' nullable Int64 / boolean). Ids are
        the input's for the data read; generated data get new, unique ids of the input's type
        (integers 0..N-1, or strings "generated_<i>"). Generated series on a regular time axis
        start at a start drawn from the training series' starts (in their proportions), so a
        shared calendar is reproduced exactly, and step by the input's step or frequency; on a
        shared irregular calendar they take its first values (steps past its end are left
        out, with a warning); irregular steps are numbered 0..L-1. With a start attribute
        (:meth:`from_long_series`) each series starts at the training start nearest to its
        generated attribute.

        Args:
            id_column: Renames the id column; default: the input's name, or "id".
            time_column: Renames the time column; default: the input's name, or "time";
                None leaves the time out.
            layout: "long" (one row per active step) or "wide" (one row per series: id,
                attributes, then one column per time value, missing where a series has no
                value; one feature only); default: the layout the data were read from, else
                long.
            seed: Makes the draw of generated series' starts reproducible.
            numbered: True gives the columns ``id`` (0..N-1) and ``time`` (0..length-1), the
                attributes, then the features, as decoded (as for data built from arrays).

        Returns:
            The DataFrame; discrete values are category labels.
        """
        return conversion.to_dataframe(self, id_column, time_column, layout=layout, seed=seed,
                                       numbered=numbered)

    def describe(self, print_fn=print, seconds: Optional[float] = None) -> None:
        """Print how the data were read, and the settings suggested for them. Check it before
        training.

        The text lists the series and their lengths, the id and time columns (step, calendar or
        numbered), the missing-value handling (counts, dropped ids) and one line per column
        (discrete with its categories or continuous with its range, why, and its missing
        values), with a hint for numeric columns whose few distinct values may be categories;
        then the settings :func:`~doppelganger_tf.training.suggestion.suggest_config` suggests, each
        with its reason.

        Args:
            print_fn: Receives the text.
            seconds: A training budget in wall time for the suggestion.
        """
        from ..training.suggestion import suggest_config
        print_fn(column_types.describe_text(self) + "\n"
                 + str(suggest_config(self, seconds=seconds)))

    def scaling(self) -> Dict[str, Optional[np.ndarray]]:
        """The raw-unit min/max arrays.

        Returns:
            {"feature_min", "feature_max", "attribute_min", "attribute_max": array or None}:
            keyword arguments of the constructor.
        """
        return {"feature_min": self.feature_min, "feature_max": self.feature_max,
                "attribute_min": self.attribute_min, "attribute_max": self.attribute_max}

    # --- building from raw values: documented where they are written, in conversion.py ------------

    from_arrays = classmethod(conversion.from_arrays)
    from_dataframe = classmethod(conversion.from_dataframe)
    from_wide_dataframe = classmethod(conversion.from_wide_dataframe)
    from_long_series = classmethod(conversion.from_long_series)

    # --- storage (storage.py) ---------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the data in this package's layout.

        Atomic: written into a temporary sibling directory that then replaces ``path``.

        Args:
            path: A directory (absent, or holding only a dataset saved before) that receives
                ``data.npz`` (features, attributes, gen_flags and the min/max arrays when
                present) and ``specs.json``.
        """
        storage.save(self, path)

    def save_original(self, directory) -> None:
        """Write the original release's layout, readable by its code. Atomic like :meth:`save`.

        Args:
            directory: Receives ``data_train.npz`` (data_feature, data_attribute,
                data_gen_flag, data_feature_min/max and data_attribute_min/max when present),
                ``data_{feature,attribute}_output.pkl`` (protocol-2 pickles of
                ``output.Output`` objects) and a ``specs.json`` with the names and categories
                those pickles cannot hold, which :meth:`load` reads back.
        """
        storage.save_original(self, directory)

    @classmethod
    def load(cls, path) -> "Dataset":
        """Read a saved Dataset.

        Args:
            path: A directory written by :meth:`save` (``data.npz`` + ``specs.json``), by
                :class:`DatasetStreamWriter` or ``generate_to`` (``<array>.npy`` +
                ``specs.json``, the features memory-mapped), or in the original release's
                layout (``data_train.npz`` + ``data_*_output.pkl``, e.g. written by
                :meth:`save_original`).

        Returns:
            The Dataset.

        Raises:
            FileNotFoundError: When ``path`` holds no saved dataset.
            ValueError: When ``path`` is a file, or its files are not a readable dataset
                (docs/untrusted_files.md).
        """
        return storage.load(cls, path)


# rows validated at a time (about this many bytes of an array), so that validating a
# memory-mapped dataset (Dataset.load of the streamed layout) holds one chunk's temporaries,
# not temporaries the size of the data
VALIDATION_CHUNK_BYTES = 1 << 23


def row_chunks(array: np.ndarray):
    """Slices of ``array``'s rows (its first axis), each about VALIDATION_CHUNK_BYTES."""
    row_bytes = max(1, array[:1].nbytes)
    step = max(1, VALIDATION_CHUNK_BYTES // row_bytes)
    return [slice(start, min(start + step, len(array))) for start in range(0, len(array), step)]


def _optional_float64(values) -> Optional[np.ndarray]:
    return None if values is None else np.array(values, dtype=np.float64)
