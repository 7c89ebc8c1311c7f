"""Matmul floating-point operations of one training step, and this machine's matmul peak.

The count is analytic, from the model's real layer sizes: a dense layer on n rows with i inputs
and o outputs costs 2*n*i*o FLOPs forward; an LSTM step costs 2*n*(in + H)*4H; elementwise work
(activations, Adam, the gradient-penalty norm) is left out (memory-bound, small in FLOPs).
Backward passes are counted with the usual rules:

- a layer whose weights get gradients: backward = 2x its forward (input and weight gradients);
- the gradient penalty: the interpolates' forward (1x) and their input-gradient pass (1x), then
  the backward of both (2x each);
- the generator step back-propagates through the critics' input gradients only (1x).

One step (one critic and one generator update per batch, fresh noise each) is then
    generator: 2 forwards + 1 backward (2x)               = 4 G
    each critic: critic update 4 forwards + 8 (backward)  = 12 C, generator step 1 + 1 = 2 C
so 4 G + 14 C (+ 14 C_aux); each further critic step adds 1 G + 12 C, each further generator
step 3 G + 2 C.
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from doppelganger_tf.runtime import cpu_count


def dense_flops(rows: int, sizes) -> int:
    """Forward FLOPs of a stack of dense layers with widths ``sizes`` (input first)."""
    return sum(2 * rows * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def generator_forward_flops(model, batch: int) -> int:
    cfg = model.config
    attributes, minmax = model.num_attribute_columns, model.num_minmax_columns
    total = 0
    if model.attribute_generator is not None:
        total += dense_flops(batch, [cfg.attribute_noise_dim]
                             + [cfg.attribute_hidden_units] * cfg.attribute_hidden_layers
                             + [attributes])
    if model.minmax_generator is not None:
        total += dense_flops(batch, [cfg.minmax_noise_dim + attributes]
                             + [cfg.minmax_hidden_units] * cfg.minmax_hidden_layers + [minmax])
    steps, units = model.max_length // cfg.sample_len, cfg.feature_lstm_units
    width = attributes + minmax + cfg.feature_noise_dim
    for _ in range(cfg.feature_lstm_layers):
        total += steps * 2 * batch * (width + units) * 4 * units
        width = units
    total += steps * 2 * batch * units * cfg.sample_len * model.num_feature_columns_with_flags
    return total


def critic_input_width(model) -> int:
    """Columns the main critic reads: flattened features (generation flags included) and
    attributes with the min/max ones."""
    return (model.max_length * model.num_feature_columns_with_flags + model.num_attribute_columns
            + model.num_minmax_columns)


def critic_forward_flops(model, batch: int, aux: bool = False, input_width=None) -> int:
    """Forward FLOPs of the main (or auxiliary) critic; ``input_width`` overrides the main
    critic's input width (a peer that feeds it fewer columns)."""
    cfg = model.config
    attribute_width = model.num_attribute_columns + model.num_minmax_columns
    if aux:
        return dense_flops(batch, [attribute_width]
                           + [cfg.aux_critic_hidden_units] * cfg.aux_critic_hidden_layers + [1])
    width = critic_input_width(model) if input_width is None else input_width
    return dense_flops(batch, [width] + [cfg.critic_hidden_units] * cfg.critic_hidden_layers
                       + [1])


def training_step_flops(model, batch: int, critic_input=None) -> dict:
    """Matmul FLOPs of one training step (see the module docstring for the rules);
    ``critic_input`` overrides the main critic's input width."""
    generator = generator_forward_flops(model, batch)
    critics = critic_forward_flops(model, batch, input_width=critic_input)
    if model.aux_critic is not None:
        critics += critic_forward_flops(model, batch, aux=True)
    cfg = model.config
    # a critic step runs the generator forward once, a generator step forward and backward
    per_critic_step = generator + 12 * critics
    per_generator_step = 3 * generator + 2 * critics
    total = cfg.critic_steps * per_critic_step + cfg.generator_steps * per_generator_step
    return {"generator_forward": generator, "critics_forward": critics, "step": total}


def matmul_peak_gflops(size: int = 2000, repeats: int = 10, dtype=tf.float32) -> float:
    """Measured GFLOP/s of large square ``dtype`` matmuls on all of this machine's cores (the
    best of ``repeats``): one matmul at a time, and as many at once as there are cores, so that
    the peak holds whatever the thread settings (with one thread per operation only concurrent
    matmuls use every core). On a GPU, TensorFlow places them there."""
    cores = cpu_count()
    best_rate = 0.0
    for concurrent in sorted({1, cores}):
        pairs = [(tf.random.normal([size, size], dtype=dtype),
                  tf.random.normal([size, size], dtype=dtype)) for _ in range(concurrent)]
        matmuls = tf.function(lambda ps: [tf.reduce_sum(tf.matmul(x, y)) for x, y in ps])
        [r.numpy() for r in matmuls(pairs)]
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            [r.numpy() for r in matmuls(pairs)]
            best = min(best, time.perf_counter() - start)
        best_rate = max(best_rate, concurrent * 2 * size ** 3 / best / 1e9)
    return best_rate
