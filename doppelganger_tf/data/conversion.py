"""Raw data <-> Dataset, importable from one place: the builders (:meth:`Dataset.from_arrays`,
:meth:`Dataset.from_dataframe`, :meth:`Dataset.from_wide_dataframe`,
:meth:`Dataset.from_long_series`), real units back (:meth:`Dataset.to_dataframe`,
:meth:`Dataset.feature_values`, :meth:`Dataset.attribute_values`) and the encoding of attributes
to condition on (:func:`encode_attribute_table`).

Each lives with its concern: :mod:`~doppelganger_tf.data.array_builder` (arrays and lists, and the
raw columns every builder ends in), :mod:`~doppelganger_tf.data.frame_builder` (DataFrames: long,
wide, windows of long series; its argument checks in :mod:`~doppelganger_tf.data.frame_arguments`)
and :mod:`~doppelganger_tf.data.real_units` (the way back).
"""
from __future__ import annotations

from .array_builder import encode_attribute_table, from_arrays
from .frame_builder import from_dataframe, from_long_series, from_wide_dataframe
from .real_units import DEFAULT, attribute_values, feature_values, to_dataframe

__all__ = ["DEFAULT", "attribute_values", "encode_attribute_table", "feature_values", "from_arrays",
           "from_dataframe", "from_long_series", "from_wide_dataframe", "to_dataframe"]
