"""Recurrent neural network baseline (Lin et al., IMC 2020, section 5.1.2 and Appendix B).

The paper: an RNN (LSTM, 100 units) "trained via teacher forcing by feeding in the true time
series at every time step and predicting the value of the time series at the next time step";
to generate, "its predicted output is used as the input for the next time step"; the metadata
come from the training data's multinomial distribution and condition the RNN.

Here: ``LSTM(100)`` whose input at step t is ``[record t-1, attributes]`` and whose Dense head
predicts record t, where a *record* is a step's encoded feature columns plus DoppelGANger's two
generation-flag columns (continue / ends here), so lengths are generated: a series ends at the
first step whose predicted flags say "end".

Choices and deviations:

- The first record comes from a Gaussian fitted to the training series' first records (as the
  AR baseline's, with one record), since a deterministic RNN started from a fixed token would
  give one series per attribute vector.  The LSTM starts from a zero state.
- Loss: squared error on continuous columns (after sigmoid / tanh) plus softmax cross-entropy on
  categorical feature blocks and the generation flags, on the active target steps only (sample
  weights = gen_flags[:, 1:]).  Keras averages over all B x (T-1) positions.
- Predicted records are fed back as the model's hard outputs (activated continuous values,
  one-hot categories); generation is deterministic given the first record and the attributes.
- Metadata: whole training attribute rows drawn with replacement, as for the HMM.
- Optimiser Adam(1e-3, epsilon 1e-8), batches of ``batch_size`` series drawn with replacement,
  one epoch = N / batch_size steps; ``default_epochs`` is 10 (the paper gives no number).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import tensorflow as tf

from ..compat import keras
from ..data.dataset import Dataset
from .base import (Baseline, InitialRecordGaussian, adam, dataset_records, hard_records,
                   random_batches, record_loss, split_records)


class RNNBaseline(Baseline):
    """LSTM with teacher forcing over records (features + generation flags), conditioned on the
    attributes at every step.

    Args:
        lstm_units: Units of the LSTM.
        batch_size: Training batch size.
        learning_rate: Adam's learning rate.
    """

    default_epochs = 10

    def __init__(self, lstm_units: int = 100, batch_size: int = 100,
                 learning_rate: float = 1e-3):
        super().__init__()
        self.lstm_units = lstm_units
        self.batch_size = batch_size
        self.learning_rate = learning_rate

    def _fit(self, dataset: Dataset, epochs: int, seed: Optional[int], verbose: int) -> None:
        records = dataset_records(dataset)
        n, t_max, record_dim = records.shape
        self.initial = InitialRecordGaussian(records, 1, self.record_outputs)
        self.lstm = keras.layers.LSTM(self.lstm_units, return_sequences=True, return_state=True,
                                      name="lstm")
        self.head = keras.layers.Dense(record_dim, name="head")
        inputs = keras.Input([None, record_dim + dataset.num_attribute_columns])
        self.network = keras.Model(inputs, self.head(self.lstm(inputs)[0]), name="rnn")
        self.network.compile(optimizer=adam(self.learning_rate),
                             loss=record_loss(self.record_outputs))
        self._step = tf.function(self._predict_next, reduce_retracing=True)
        if t_max < 2:
            return  # one-step series: the initial Gaussian generates everything
        attributes = np.repeat(dataset.attributes[:, None, :], t_max - 1, axis=1)
        inputs = tf.constant(np.concatenate([records[:, :-1], attributes], axis=2))
        targets = tf.constant(records[:, 1:])
        weights = tf.constant(dataset.gen_flags[:, 1:])
        data, steps = random_batches(
            n, self.batch_size, seed,
            lambda rows: (tf.gather(inputs, rows), tf.gather(targets, rows),
                          tf.gather(weights, rows)))
        # the batches are random already (Keras 3 warns that it ignores shuffle=True)
        self.network.fit(data, epochs=epochs, steps_per_epoch=steps, verbose=verbose,
                         shuffle=False)

    def _predict_next(self, inputs, h, c):
        """One step: [n, record + attributes], state -> (next record [n, R] (hard), state)."""
        sequence, h, c = self.lstm(inputs[:, None, :], initial_state=[h, c])
        return hard_records(self.head(sequence[:, 0]), self.record_outputs), h, c

    def _generate(self, n: int, rng: np.random.Generator):
        attributes = self.sample_attributes(n, rng)
        attrs = tf.constant(attributes, tf.float32)
        record = self.initial.sample(n, rng)[:, 0]
        records = [record]
        h = c = tf.zeros([n, self.lstm_units])
        for _ in range(1, self.max_length):
            inputs = tf.concat([tf.constant(record, tf.float32), attrs], axis=1)
            record, h, c = self._step(inputs, h, c)
            record = record.numpy()
            records.append(record)
        features, gen_flags = split_records(np.stack(records, axis=1))
        return features, attributes, gen_flags
