"""DoppelGANger's networks: the generator (attribute generator -> min/max generator -> feature
generator, docs/design.md "Architecture") and the critic, also used as the auxiliary critic."""
from __future__ import annotations

from typing import NamedTuple, Sequence, Tuple

import tensorflow as tf

from ..compat import keras, run_time_major_lstm, set_layer_list, tf_variable, time_major_lstm
from ..data.outputs import Normalization, Output, OutputType
from .config import LSTM_IMPLEMENTATIONS
from .fused_lstm import lstm_sequence

# what a FeatureGenerator runs: DGConfig's "auto" is resolved first (fused_lstm.py)
RESOLVED_LSTM_IMPLEMENTATIONS = tuple(i for i in LSTM_IMPLEMENTATIONS if i != "auto")


def apply_output_activations(logits, outputs: Sequence[Output], axis: int = -1
                             ) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-output activations of ``logits``, whose ``axis`` holds the outputs' columns.

    Returns (soft, hard): soft uses softmax / sigmoid / tanh; hard replaces each softmax block by
    its one-hot argmax (what the downstream generators receive).  The argmax is taken of the
    logits (the softmax keeps their order), so a graph that uses only ``hard`` computes no
    softmax.  A two-way softmax is computed as sigmoid(a - b), 1 - sigmoid(a - b) (the same
    values; one elementwise pass instead of a reduction over two columns).
    """
    soft, hard = [], []
    blocks = tf.split(logits, [out.dim for out in outputs], axis=axis)
    for out, block in zip(outputs, blocks):
        if out.type is OutputType.DISCRETE:
            if out.dim == 2:
                first, second = tf.split(block, 2, axis=axis)
                p_first = tf.sigmoid(first - second)
                probs = tf.concat([p_first, 1.0 - p_first], axis=axis)
                first_wins = tf.cast(first >= second, probs.dtype)  # argmax picks the first tie
                hard.append(tf.concat([first_wins, 1.0 - first_wins], axis=axis))
            else:
                probs = tf.nn.softmax(block, axis=axis)
                hard.append(tf.one_hot(tf.argmax(block, axis=axis), out.dim, axis=axis,
                                       dtype=probs.dtype))
            soft.append(probs)
        else:
            act = tf.sigmoid(block) if out.normalization is Normalization.ZERO_ONE else tf.tanh(block)
            soft.append(act)
            hard.append(act)
    return tf.concat(soft, axis=axis), tf.concat(hard, axis=axis)


class MLPGenerator(keras.layers.Layer):
    """Noise (+ conditioning) -> outputs, through [Dense -> ReLU -> BatchNorm] x layers.

    Used twice: for the attributes (input: noise) and for the min/max attributes (input: noise and
    the generated attributes).  Returns (soft, hard) as :func:`apply_output_activations`.
    """

    def __init__(self, outputs: Sequence[Output], hidden_layers: int, hidden_units: int,
                 bn_momentum: float, bn_epsilon: float, **kwargs):
        # inputs stay as given (float32): the Keras layers inside cast to the policy's dtype
        super().__init__(autocast=False, **kwargs)
        self.outputs = list(outputs)
        hidden = []
        for i in range(hidden_layers):
            hidden.append(keras.layers.Dense(hidden_units, activation="relu",
                                             name=f"dense_{i}", dtype=self.dtype_policy))
            hidden.append(keras.layers.BatchNormalization(
                momentum=bn_momentum, epsilon=bn_epsilon, name=f"batch_norm_{i}",
                dtype=self.dtype_policy))
        set_layer_list(self, "hidden", hidden)
        self.head = keras.layers.Dense(sum(o.dim for o in self.outputs), name="head",
                                       dtype=self.dtype_policy)

    def weight_layers(self):
        """The layers holding this network's weights, in order (saved_weights.py names them)."""
        return [*self.hidden, self.head]

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.hidden:
            x = layer(x, training=training)
        # activations in float32 under a mixed-precision policy (a no-op in float32)
        return apply_output_activations(tf.cast(self.head(x), tf.float32), self.outputs)


class FeatureGenerator(keras.layers.Layer):
    """LSTM over T/S steps; each step emits S records of all feature columns (gen flags included).

    Input at every step = [all attributes incl. min/max (hard), that step's feature noise]; the
    paper's configuration has no output feedback, so the rollout is one sequence-level LSTM call.
    Returns the unmasked features [B, T, K] as soft values (what the critics see) and hard ones
    (categorical columns one-hot: what generation returns), and the activity mask [B, T].
    """

    def __init__(self, outputs: Sequence[Output], sample_len: int, lstm_units: int,
                 lstm_layers: int, lstm_implementation: str = "keras", **kwargs):
        # inputs stay as given (float32): the Keras layers inside cast to the policy's dtype
        super().__init__(autocast=False, **kwargs)
        if lstm_implementation not in RESOLVED_LSTM_IMPLEMENTATIONS:
            raise ValueError("lstm_implementation must be 'keras' or 'fused' (resolve 'auto' "
                             f"with fused_lstm.resolve_implementation), got {lstm_implementation!r}")
        # "fused": the same LSTM layers' weights, run by fused_lstm.lstm_sequence
        self.lstm_implementation = lstm_implementation
        self.outputs = list(outputs)
        if not self.outputs[-1].is_gen_flag:
            raise ValueError("the last feature output must be the generation flag")
        self.sample_len = sample_len
        self.record_dim = sum(o.dim for o in self.outputs)
        set_layer_list(self, "lstms", [time_major_lstm(lstm_units, name=f"lstm_{i}",
                                                       dtype=self.dtype_policy)
                                       for i in range(lstm_layers)])
        self.head = keras.layers.Dense(sample_len * self.record_dim, name="head",
                                       dtype=self.dtype_policy)
        # head column s * K + k (record s, column k) in the order k * S + s
        self._column_major = tf.constant([s * self.record_dim + k for k in range(self.record_dim)
                                          for s in range(sample_len)], tf.int32)

    def weight_layers(self):
        """The layers holding this network's weights, in order (saved_weights.py names them)."""
        return [*self.lstms, self.head]

    def call(self, attributes, noise, initial_states, training=None, differentiable=None):
        """differentiable=False: no gradient will be taken through this call (the fused LSTM
        then keeps no activations); default: unless training is False (generation)."""
        steps = tf.shape(noise)[1]
        if differentiable is None:
            differentiable = training is not False
        # time-major through the LSTM ([T/S, B, ...], cuDNN's own layout): its output sequence
        # needs no transpose, the records get one at the end anyway
        noise = tf.transpose(noise, [1, 0, 2])
        if self.lstm_implementation == "fused":
            x = self._fused_lstms(attributes, noise, initial_states, differentiable)
        else:
            x = tf.concat([tf.repeat(attributes[None], steps, axis=0), noise], axis=-1)
            compute = self.compute_dtype  # Keras casts x, not the initial states
            for lstm, (h0, c0) in zip(self.lstms, initial_states):
                x = run_time_major_lstm(lstm, x, [tf.cast(h0, compute), tf.cast(c0, compute)],
                                        training=training)
        # the head's S * K columns regrouped column-major ([K, S] instead of [S, K]: the same
        # weights, read through a fixed permutation), so that each output's activation and the
        # flag comparison read runs of S contiguous values; one transpose puts the records back
        if not self.head.built:
            self.head.build(x.shape)
        # (read outside the head's call, so cast to the policy's compute dtype by hand; the
        # fused LSTM's float32 output too; all no-ops in float32)
        x = tf.cast(x, self.compute_dtype)
        blocked_kernel = tf.cast(tf.gather(self.head.kernel, self._column_major, axis=1), x.dtype)
        blocked_bias = tf.cast(tf.gather(self.head.bias, self._column_major), x.dtype)
        logits = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), blocked_kernel) + blocked_bias
        logits = tf.cast(logits, tf.float32)  # activations and flags in float32
        logits = tf.reshape(logits, [steps, -1, self.record_dim, self.sample_len])
        soft, hard = apply_output_activations(logits, self.outputs, axis=2)
        flag_continue, flag_end = tf.unstack(logits[:, :, -2:], axis=2)  # [T/S, B, S] each
        says_continue = tf.reshape(tf.transpose(tf.cast(flag_continue >= flag_end, soft.dtype),
                                                [1, 0, 2]), [-1, steps * self.sample_len])
        return (self._records(soft, steps), self._records(hard, steps),
                running_activity(says_continue))

    def _fused_lstms(self, attributes, noise, initial_states, differentiable=True):
        """The Keras layers' LSTM maths through fused_lstm.lstm_sequence. The first layer's
        input is [attributes, noise_t] at every step: the attributes' part of its product is
        computed once per sequence (the op's per-sample context term), the noise's per step."""
        x, context_columns = noise, attributes.shape[-1]
        # the operation is float32 only; under a mixed policy the weights read as the compute
        # dtype inside this layer's call, so they are cast back (no-ops in float32)
        def f32(t):
            return tf.cast(t, tf.float32)

        for i, (lstm, (h0, c0)) in enumerate(zip(self.lstms, initial_states)):
            if not lstm.built:
                inputs = context_columns + x.shape[-1] if i == 0 else x.shape[-1]
                lstm.build(tf.TensorShape([None, None, inputs]))
            cell = lstm.cell
            full_kernel, bias = f32(cell.kernel), f32(cell.bias)
            if i == 0 and context_columns:
                context = tf.matmul(f32(attributes), full_kernel[:context_columns]) + bias
                kernel = full_kernel[context_columns:]
            elif i == 0:  # no attributes: oneDNN aborts the process on a matmul of width 0
                context = tf.broadcast_to(bias, [tf.shape(h0)[0], bias.shape[0]])
                kernel = full_kernel
            else:
                context = tf.broadcast_to(bias, [tf.shape(h0)[0], bias.shape[0]])
                kernel = full_kernel
            x = lstm_sequence(context, f32(x), kernel, f32(cell.recurrent_kernel), f32(h0),
                              f32(c0), differentiable)
        return x

    def _records(self, blocked, steps):
        """[T/S, B, K, S] -> [B, T, K]."""
        return tf.reshape(tf.transpose(blocked, [1, 0, 3, 2]),
                          [-1, steps * self.sample_len, self.record_dim])


def activity_mask(flag_columns):
    """[B, T, 2] generated flags (probabilities or logits) -> [B, T] activity: active while all
    earlier steps said "continue" (argmax 0); the step that says "end" is the last active one."""
    says_continue = tf.cast(tf.equal(tf.argmax(flag_columns, axis=-1), 0), flag_columns.dtype)
    return running_activity(says_continue)


def running_activity(says_continue):
    """[B, T] 1 where a step's flag says "continue" -> [B, T] activity (see activity_mask)."""
    return tf.math.cumprod(says_continue, axis=1, exclusive=True)


class GeneratorOutput(NamedTuple):
    """What a Generator run returns. "Soft" is what the critics see; "hard" (one-hot argmax for
    categorical outputs) is what the downstream generators and the user receive."""
    features: tf.Tensor  # [B, T, K+2], the two generation-flag columns last; not masked
    mask: tf.Tensor  # [B, T]: 1 while the series is active (running_activity of the flags)
    soft_attributes: tf.Tensor  # [B, A+M]: the attributes and the min/max ones
    hard_attributes: tf.Tensor  # [B, A+M]


class Generator(keras.layers.Layer):
    """The three generators wired as the paper's decoupled generation: noise -> attributes
    (MLP) -> per-sample min/max "fake metadata" (MLP, conditioned on the attributes) -> the
    series (LSTM, conditioned on both at every step).

    The attribute and min/max generators are None where the data have no attributes or
    auto-normalisation is off; ``lstm_implementation`` is "keras" or "fused"
    (fused_lstm.resolve_implementation).
    """

    def __init__(self, feature_outputs: Sequence[Output], attribute_outputs: Sequence[Output],
                 minmax_outputs: Sequence[Output], max_length: int, config,
                 lstm_implementation: str, **kwargs):
        # inputs stay as given (float32): the Keras layers inside cast to the policy's dtype
        super().__init__(autocast=False, **kwargs)
        cfg = config
        self.config = cfg
        self.steps = max_length // cfg.sample_len
        policy = self.dtype_policy
        bn = dict(bn_momentum=cfg.batch_norm_momentum, bn_epsilon=cfg.batch_norm_epsilon)
        self.attribute_generator = (MLPGenerator(
            attribute_outputs, cfg.attribute_hidden_layers, cfg.attribute_hidden_units,
            name="attribute_generator", dtype=policy, **bn) if attribute_outputs else None)
        self.minmax_generator = (MLPGenerator(
            minmax_outputs, cfg.minmax_hidden_layers, cfg.minmax_hidden_units,
            name="minmax_generator", dtype=policy, **bn) if minmax_outputs else None)
        self.feature_generator = FeatureGenerator(
            list(feature_outputs) + [gen_flag_output()], cfg.sample_len, cfg.feature_lstm_units,
            cfg.feature_lstm_layers, lstm_implementation=lstm_implementation,
            name="feature_generator", dtype=policy)

    def networks(self):
        """The generators that exist, in the order of the flow."""
        return [net for net in (self.attribute_generator, self.minmax_generator,
                                self.feature_generator) if net is not None]

    def noise_shapes(self, steps=None):
        """{noise name: shape of one sample's noise}, all N(0, 1); ``steps``: the LSTM steps
        (default T/S; more generate past the training length)."""
        cfg = self.config
        return {"attribute_noise": (cfg.attribute_noise_dim,),
                "minmax_noise": (cfg.minmax_noise_dim,),
                "feature_noise": (steps or self.steps, cfg.feature_noise_dim),
                "initial_state": (cfg.feature_lstm_layers, 2, cfg.feature_lstm_units)}

    def sample_noise(self, batch_size, normal, keys=None, steps=None):
        """The noise of one batch (only ``keys``, when given), each drawn by normal(shape)."""
        return {k: normal([batch_size, *shape]) for k, shape in self.noise_shapes(steps).items()
                if keys is None or k in keys}

    def call(self, noise, given_attributes=None, training=None, hard_features_out=False,
             differentiable=None) -> "GeneratorOutput":
        """One run of the three generators on ``noise`` (``sample_noise``'s dict).

        Args:
            noise: {noise name: [B, ...]} as ``sample_noise`` draws it.
            given_attributes: condition on these encoded attributes [B, A] instead of
                generating them.
            training: Keras' flag: True normalises with the batch's statistics (and updates
                BatchNorm's moving ones), False (generation) with the moving ones.
            hard_features_out: return the features hard (one-hot argmax for categorical
                columns; generation: no softmax is computed) instead of soft.
            differentiable: False where no gradient will be taken through the feature
                generator (the fused LSTM then keeps no activations); default: unless
                ``training`` is False.

        Returns:
            a :class:`GeneratorOutput`.
        """
        batch = tf.shape(noise["attribute_noise"])[0]
        if given_attributes is not None:
            soft = hard = tf.cast(given_attributes, tf.float32)
        elif self.attribute_generator is not None:
            soft, hard = self.attribute_generator(noise["attribute_noise"], training=training)
        else:
            soft = hard = tf.zeros([batch, 0])
        hard = tf.stop_gradient(hard)
        if self.minmax_generator is not None:
            mm_soft, mm_hard = self.minmax_generator(
                tf.concat([noise["minmax_noise"], hard], axis=-1), training=training)
            soft = tf.concat([soft, mm_soft], axis=-1)
            hard = tf.stop_gradient(tf.concat([hard, mm_hard], axis=-1))
        state = noise["initial_state"]
        states = [(state[:, i, 0], state[:, i, 1])
                  for i in range(self.config.feature_lstm_layers)]
        soft_features, hard_features, mask = self.feature_generator(
            hard, noise["feature_noise"], states, training=training,
            differentiable=differentiable)
        features = hard_features if hard_features_out else soft_features
        return GeneratorOutput(features, mask, soft, hard)


class Critic(keras.layers.Layer):
    """WGAN critic: [flatten(features), attributes] -> hidden Dense(ReLU) layers -> Dense(1).

    The auxiliary critic is the same network fed attributes only (``features=None``)."""

    def __init__(self, hidden_layers: int, hidden_units: int, **kwargs):
        # inputs stay as given (float32): the Keras layers inside cast to the policy's dtype
        super().__init__(autocast=False, **kwargs)
        set_layer_list(self, "hidden", [keras.layers.Dense(hidden_units, activation="relu",
                                                           name=f"dense_{i}",
                                                           dtype=self.dtype_policy)
                                        for i in range(hidden_layers)])
        # scores in float32 under any policy: the losses and the gradient penalty read them
        self.score = keras.layers.Dense(1, name="score", dtype="float32")

    @staticmethod
    def flat_input(features, attributes):
        """What the first layer reads: [flatten(features), attributes] (attributes alone for
        the auxiliary critic)."""
        if features is None:
            return attributes
        flat = tf.reshape(features, [-1, features.shape[1] * features.shape[2]])
        return tf.concat([flat, attributes], axis=-1)

    def weight_layers(self):
        """The layers holding this network's weights, in order (saved_weights.py names them)."""
        return [*self.hidden, self.score]

    def dense_pairs(self):
        """(kernel, bias) of every layer, the score layer last (for DP's per-example clipping)."""
        return [(layer.kernel, layer.bias) for layer in [*self.hidden, self.score]]

    def call(self, features, attributes):
        return self.score_flat(self.flat_input(features, attributes))

    def score_flat(self, x):
        """Scores [B] of already flattened inputs x = flat_input(features, attributes)."""
        for layer in self.hidden:
            x = layer(x)
        return self.score(x)[:, 0]


def gen_flag_output() -> Output:
    return Output(OutputType.DISCRETE, 2, name="__gen_flag", is_gen_flag=True)


def update_average(averaged: Generator, live: Generator, decay: float):
    """One step of the generator's weight average (DGConfig.generator_average_decay):
    average = decay * average + (1 - decay) * weights for the trainable weights; the BatchNorm
    moving statistics are copied (they describe the live weights' activations, which the
    average's follow closely)."""
    # the non-trainable ones copied exactly (BatchNorm statistics; Keras 3's int64
    # seed-generator states, which a float product would round)
    pairs = ([(a, w, decay) for a, w in zip(averaged.trainable_variables,
                                            live.trainable_variables)]
             + [(a, w, None) for a, w in zip(averaged.non_trainable_variables,
                                             live.non_trainable_variables)])

    def assign(average, weight, keep):
        if keep is None:
            return average.assign(weight)
        return average.assign(keep * average + (1.0 - keep) * weight)

    def update(strategy=None):
        for average, weight, keep in pairs:
            if strategy is None:
                assign(average, weight, keep)
            else:  # mirrored variables are updated per device, in cross-replica context
                strategy.extended.update(tf_variable(average), assign,
                                         args=(tf_variable(weight), keep))

    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        tf.distribute.get_replica_context().merge_call(update)
    else:
        update()
