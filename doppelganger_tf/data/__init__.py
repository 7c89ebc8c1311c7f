"""The data: the :class:`~doppelganger_tf.data.dataset.Dataset` container, its builders from
arrays and DataFrames, the column specs and encodings, time axes, missing values and the
embedded synthetic data. numpy / pandas only: nothing here imports TensorFlow."""
