"""The networks' output layer: activations per output block, and the feature generator's head
read with its columns regrouped (it must equal the plain Dense head)."""
import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import Normalization, Output, OutputType
from doppelganger_tf.compat import run_time_major_lstm
from doppelganger_tf.networks import FeatureGenerator, apply_output_activations, gen_flag_output

OUTPUTS = [Output(OutputType.CONTINUOUS, 2, Normalization.MINUSONE_ONE, name="c"),
           Output(OutputType.DISCRETE, 3, name="d"),
           Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name="z"),
           gen_flag_output()]


def reference_activations(logits):
    """numpy, last axis: tanh | softmax(3) | sigmoid | softmax(2); and the hard version."""
    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def one_hot(x):
        return np.eye(x.shape[-1])[x.argmax(axis=-1)]

    c, d, z, g = logits[..., 0:2], logits[..., 2:5], logits[..., 5:6], logits[..., 6:8]
    soft = np.concatenate([np.tanh(c), softmax(d), 1 / (1 + np.exp(-z)), softmax(g)], axis=-1)
    hard = np.concatenate([np.tanh(c), one_hot(d), 1 / (1 + np.exp(-z)), one_hot(g)], axis=-1)
    return soft, hard


def test_activations_match_the_reference_on_the_last_axis_and_on_a_middle_axis():
    logits = np.random.default_rng(0).normal(scale=3.0, size=(4, 5, 8)).astype(np.float32)
    want_soft, want_hard = reference_activations(logits)
    soft, hard = apply_output_activations(tf.constant(logits), OUTPUTS)
    np.testing.assert_allclose(soft.numpy(), want_soft, atol=1e-6)
    np.testing.assert_array_equal(hard.numpy()[..., 2:5], want_hard[..., 2:5])
    # the same columns on axis 1 of [4, 8, 5]
    soft, hard = apply_output_activations(tf.constant(logits.transpose(0, 2, 1)), OUTPUTS,
                                          axis=1)
    np.testing.assert_allclose(soft.numpy().transpose(0, 2, 1), want_soft, atol=1e-6)
    np.testing.assert_allclose(hard.numpy().transpose(0, 2, 1), want_hard, atol=1e-6)


@pytest.mark.parametrize("sample_len", [1, 3])
def test_feature_generator_equals_the_plain_dense_head(sample_len):
    generator = FeatureGenerator(OUTPUTS, sample_len, lstm_units=6, lstm_layers=1)
    rng = np.random.default_rng(1)
    batch, steps = 5, 4
    attributes = tf.constant(rng.normal(size=(batch, 3)), tf.float32)
    noise = tf.constant(rng.normal(size=(batch, steps, 2)), tf.float32)
    states = [(tf.constant(rng.normal(size=(batch, 6)), tf.float32),
               tf.constant(rng.normal(size=(batch, 6)), tf.float32))]
    soft, hard, mask = generator(attributes, noise, states)
    # reference: LSTM outputs -> Dense head -> [B, T, K] records -> activations on the last axis
    lstm, head = generator.lstms[0], generator.head
    x = tf.concat([tf.repeat(attributes[:, None], steps, axis=1), noise], axis=-1)
    hidden = tf.transpose(run_time_major_lstm(lstm, tf.transpose(x, [1, 0, 2]),
                                              list(states[0])), [1, 0, 2])
    logits = (tf.matmul(tf.reshape(hidden, [-1, 6]), head.kernel) + head.bias).numpy()
    logits = logits.reshape(batch, steps * sample_len, 8)
    want_soft, want_hard = reference_activations(logits)
    np.testing.assert_allclose(soft.numpy(), want_soft, atol=1e-5)
    np.testing.assert_allclose(hard.numpy(), want_hard, atol=1e-5)
    says_continue = logits[..., 6] >= logits[..., 7]
    want_mask = np.cumprod(np.concatenate([np.ones((batch, 1)), says_continue[:, :-1]], 1), 1)
    np.testing.assert_array_equal(mask.numpy(), want_mask)
