"""The five networks of DoppelGANger: attribute generator, min/max generator, feature generator,
critic and auxiliary critic (DESIGN.md section 4)."""
from __future__ import annotations

from typing import Sequence, Tuple

import tensorflow as tf

from .outputs import Normalization, Output, OutputType

keras = tf.keras


def apply_output_activations(logits, outputs: Sequence[Output]) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-output activations over the last axis of ``logits``.

    Returns (soft, hard): soft uses softmax / sigmoid / tanh; hard replaces each softmax block by
    its one-hot argmax (what the downstream generators receive).  The argmax is taken of the
    logits (the softmax keeps their order), so a graph that uses only ``hard`` computes no
    softmax.
    """
    soft, hard, start = [], [], 0
    for out in outputs:
        block = logits[..., start:start + out.dim]
        start += out.dim
        if out.type is OutputType.DISCRETE:
            probs = tf.nn.softmax(block)
            soft.append(probs)
            hard.append(tf.one_hot(tf.argmax(block, axis=-1), out.dim, dtype=probs.dtype))
        else:
            act = tf.sigmoid(block) if out.normalization is Normalization.ZERO_ONE else tf.tanh(block)
            soft.append(act)
            hard.append(act)
    return tf.concat(soft, axis=-1), tf.concat(hard, axis=-1)


class MLPGenerator(keras.layers.Layer):
    """Noise (+ conditioning) -> outputs, through [Dense -> ReLU -> BatchNorm] x layers.

    Used twice: for the attributes (input: noise) and for the min/max attributes (input: noise and
    the generated attributes).  Returns (soft, hard) as :func:`apply_output_activations`.
    """

    def __init__(self, outputs: Sequence[Output], hidden_layers: int, hidden_units: int,
                 bn_momentum: float, bn_epsilon: float, **kwargs):
        super().__init__(**kwargs)
        self.outputs = list(outputs)
        self.hidden = []
        for i in range(hidden_layers):
            self.hidden.append(keras.layers.Dense(hidden_units, activation="relu",
                                                  name=f"dense_{i}"))
            self.hidden.append(keras.layers.BatchNormalization(
                momentum=bn_momentum, epsilon=bn_epsilon, name=f"batch_norm_{i}"))
        self.head = keras.layers.Dense(sum(o.dim for o in self.outputs), name="head")

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x, training=training)
        return apply_output_activations(self.head(x), self.outputs)


class FeatureGenerator(keras.layers.Layer):
    """LSTM over T/S steps; each step emits S records of all feature columns (gen flags included).

    Input at every step = [all attributes incl. min/max (hard), that step's feature noise]; the
    paper's configuration has no output feedback, so the rollout is one sequence-level LSTM call.
    Returns the unmasked features [B, T, K] as soft values (what the critics see) and hard ones
    (categorical columns one-hot: what generation returns), and the activity mask [B, T].
    """

    def __init__(self, outputs: Sequence[Output], sample_len: int, lstm_units: int,
                 lstm_layers: int, **kwargs):
        super().__init__(**kwargs)
        self.outputs = list(outputs)
        if not self.outputs[-1].is_gen_flag:
            raise ValueError("the last feature output must be the generation flag")
        self.sample_len = sample_len
        self.record_dim = sum(o.dim for o in self.outputs)
        self.lstms = [keras.layers.LSTM(lstm_units, return_sequences=True, unit_forget_bias=True,
                                        name=f"lstm_{i}") for i in range(lstm_layers)]
        self.head = keras.layers.Dense(sample_len * self.record_dim, name="head")

    def call(self, attributes, noise, initial_states, training=None):
        steps = tf.shape(noise)[1]
        context = tf.repeat(attributes[:, None, :], steps, axis=1)
        x = tf.concat([context, noise], axis=-1)
        for lstm, (h0, c0) in zip(self.lstms, initial_states):
            x = lstm(x, initial_state=[h0, c0], training=training)
        logits = self.head(x)  # [B, T/S, S * K]
        logits = tf.reshape(logits, [tf.shape(logits)[0], steps * self.sample_len,
                                     self.record_dim])
        soft, hard = apply_output_activations(logits, self.outputs)
        return soft, hard, activity_mask(logits[..., -2:])


def activity_mask(flag_columns):
    """[B, T, 2] generated flags (probabilities or logits) -> [B, T] activity: active while all
    earlier steps said "continue" (argmax 0); the step that says "end" is the last active one."""
    says_continue = tf.cast(tf.equal(tf.argmax(flag_columns, axis=-1), 0), flag_columns.dtype)
    return tf.math.cumprod(says_continue, axis=1, exclusive=True)


class Critic(keras.layers.Layer):
    """WGAN critic: [flatten(features), attributes] -> hidden Dense(ReLU) layers -> Dense(1).

    The auxiliary critic is the same network fed attributes only (``features=None``)."""

    def __init__(self, hidden_layers: int, hidden_units: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [keras.layers.Dense(hidden_units, activation="relu", name=f"dense_{i}")
                       for i in range(hidden_layers)]
        self.score = keras.layers.Dense(1, name="score")

    @staticmethod
    def flat_input(features, attributes):
        """What the first layer reads: [flatten(features), attributes] (attributes alone for
        the auxiliary critic)."""
        if features is None:
            return attributes
        flat = tf.reshape(features, [-1, features.shape[1] * features.shape[2]])
        return tf.concat([flat, attributes], axis=-1)

    def dense_pairs(self):
        """(kernel, bias) of every layer, the score layer last (for DP's per-example clipping)."""
        return [(layer.kernel, layer.bias) for layer in [*self.hidden, self.score]]

    def call(self, features, attributes):
        x = self.flat_input(features, attributes)
        for layer in self.hidden:
            x = layer(x)
        return self.score(x)[:, 0]


def gen_flag_output() -> Output:
    return Output(OutputType.DISCRETE, 2, name="__gen_flag", is_gen_flag=True)
