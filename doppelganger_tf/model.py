"""DoppelGANger as a Keras model: WGAN-GP training through ``fit()``, generation, save/load."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

from . import arguments, compat, dp_clipping, privacy, saved_weights, transforms
from .atomic import atomic_directory, recover
from .callbacks import StopOnDivergence
from .compat import keras
from .config import DGConfig
from .dataset import Dataset, encode_attribute_table
from .fused_lstm import resolve_implementation
from .networks import Critic, FeatureGenerator, MLPGenerator, gen_flag_output
from .outputs import Output
from .precision import loss_scaled, scale_loss, unscale_gradients

MODEL_FORMAT = "doppelganger_tf-model"
# rows per independent piece of a generation batch (see _generate_fn), which TensorFlow runs
# side by side on the cores (pieces of 100 to 512 rows measured the same)
GENERATION_CHUNK = 256
# training steps per call of Keras' train function (compile's steps_per_execution): the steps
# run in one graph loop, without Python's per-call dispatch (~5% of a WWT-shape step on CPU)
STEPS_PER_EXECUTION = 10
CONFIG_FILE = "model.json"
# format 2: our own weights file, read alike by Keras 2 and 3 (saved_weights.py)
FORMAT_VERSION = 2
WEIGHTS_FILE = "model.weights.npz"
# format 1 (before 0.2): Keras 2's own weights file, which Keras 3 cannot read
KERAS2_WEIGHTS_FILE = "model.weights.h5"


def gather_batch(features, attributes, indices):
    """The training batch {"features", "attributes"} of the prepared arrays' rows ``indices``."""
    return {"features": tf.gather(features, indices),
            "attributes": tf.gather(attributes, indices)}


def seeded_normal(seed_pair):
    """normal(shape) drawing a distinct stateless N(0, 1) stream per call (per noise tensor of a
    generation batch) from one seed pair: the same seed gives the same noise."""
    counter = iter(range(1 << 20))

    def normal(shape):
        return tf.random.stateless_normal(shape, seed=seed_pair + tf.constant(
            [0, next(counter) << 32], tf.int64))
    return normal


class DoppelGANger(keras.Model):
    """DoppelGANger (Lin et al., IMC 2020).

    Build with :meth:`from_dataset`, then ``compile()`` (the paper's Adam settings by default) and
    ``fit(dataset, epochs=...)``; ``generate(n)`` returns a :class:`Dataset` in real units.
    """

    def __init__(self, feature_outputs: Sequence[Output], attribute_outputs: Sequence[Output],
                 max_length: int, config: Optional[DGConfig] = None, *, scaling=None,
                 seed: Optional[int] = None, **kwargs):
        kwargs.setdefault("name", "doppelganger")
        super().__init__(**kwargs)
        self.config = config if config is not None else DGConfig()
        cfg = self.config
        if max_length % cfg.sample_len:
            divisors = [d for d in range(1, max_length + 1) if max_length % d == 0]
            raise ValueError(f"the series length T={max_length} is not divisible by "
                             f"sample_len={cfg.sample_len}; use one of {divisors} or pad the "
                             "series to a multiple of sample_len")
        if any(o.is_gen_flag for o in feature_outputs):
            raise ValueError("feature outputs must not contain generation flags: the model adds them")
        self.max_length = int(max_length)
        self.feature_outputs = tuple(feature_outputs)
        self.attribute_outputs = tuple(attribute_outputs)
        self.minmax_outputs = tuple(transforms.minmax_attribute_outputs(feature_outputs)
                                    if cfg.auto_normalize else ())
        # raw-unit min/max per encoded column, to return generated data in real units
        self.scaling = {k: (None if v is None else np.asarray(v, np.float64))
                        for k, v in (scaling or {}).items()}
        self.num_attribute_columns = sum(o.dim for o in self.attribute_outputs)
        self.num_minmax_columns = sum(o.dim for o in self.minmax_outputs)
        self._steps = self.max_length // cfg.sample_len

        bn = dict(bn_momentum=cfg.batch_norm_momentum, bn_epsilon=cfg.batch_norm_epsilon)
        # the networks' dtype policy (DGConfig.precision); this model's own inputs, outputs and
        # losses stay float32
        policy = keras.mixed_precision.Policy(cfg.precision)
        self.attribute_generator = (MLPGenerator(
            self.attribute_outputs, cfg.attribute_hidden_layers, cfg.attribute_hidden_units,
            name="attribute_generator", dtype=policy, **bn) if self.attribute_outputs else None)
        self.minmax_generator = (MLPGenerator(
            self.minmax_outputs, cfg.minmax_hidden_layers, cfg.minmax_hidden_units,
            name="minmax_generator", dtype=policy, **bn) if self.minmax_outputs else None)
        self.feature_generator = FeatureGenerator(
            list(self.feature_outputs) + [gen_flag_output()], cfg.sample_len,
            cfg.feature_lstm_units, cfg.feature_lstm_layers,
            lstm_implementation=resolve_implementation(cfg.lstm_implementation),
            name="feature_generator", dtype=policy)
        self.critic = Critic(cfg.critic_hidden_layers, cfg.critic_hidden_units, name="critic",
                             dtype=policy)
        all_attr_columns = self.num_attribute_columns + self.num_minmax_columns
        self.aux_critic = (Critic(cfg.aux_critic_hidden_layers, cfg.aux_critic_hidden_units,
                                  name="aux_critic", dtype=policy)
                           if cfg.use_aux_critic and all_attr_columns > 0 else None)
        self.rng = (tf.random.Generator.from_seed(seed) if seed is not None
                    else tf.random.Generator.from_non_deterministic_state())
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ["d_loss", "g_loss", "gp"] + (["aux_d_loss"] if self.aux_critic else [])}
        # tf.functions by (conditional, chunks); untracked: Keras would save a tracked dict
        compat.set_untracked(self, "_generate_fns", {})
        self._build_networks()

    # --- construction ----------------------------------------------------------------------------

    @classmethod
    def from_dataset(cls, dataset: Dataset, config: Optional[DGConfig] = None, **kwargs):
        """A model whose outputs, length and real-unit scaling are those of ``dataset``."""
        config = config if config is not None else DGConfig()
        dataset.validate(config.sample_len)
        return cls(dataset.feature_outputs, dataset.attribute_outputs, dataset.max_length,
                   config, scaling=dataset.scaling(), **kwargs)

    @property
    def num_feature_columns(self) -> int:
        """Encoded feature columns the generator emits, the two generation flags included."""
        return self.feature_generator.record_dim

    def _noise_dims(self):
        cfg = self.config
        return {"attribute_noise": (cfg.attribute_noise_dim,),
                "minmax_noise": (cfg.minmax_noise_dim,),
                "feature_noise": (self._steps, cfg.feature_noise_dim),
                "initial_state": (cfg.feature_lstm_layers, 2, cfg.feature_lstm_units)}

    def sample_noise(self, batch_size, normal=None, keys=None):
        """All generator noise for one batch (or the ``keys`` of it), drawn with
        ``normal(shape)`` (default: self.rng)."""
        normal = normal or (lambda shape: self.rng.normal(shape))
        return {k: normal([batch_size, *dims]) for k, dims in self._noise_dims().items()
                if keys is None or k in keys}

    def _build_networks(self):
        """Create every variable now (inside the current strategy scope), so weights can be loaded
        and optimizer slots created before the first step."""
        # the model has no weights of its own: its networks build on their first call (Keras 3
        # would otherwise warn that a default build() leaves state unbuilt)
        self.built = True
        noise = {k: tf.zeros([2, *dims]) for k, dims in self._noise_dims().items()}
        features, _, soft_attributes, _ = self(noise, training=False)
        self.critic(features, soft_attributes)
        if self.aux_critic is not None:
            self.aux_critic(None, soft_attributes)

    def generator_variables(self):
        nets = [self.attribute_generator, self.minmax_generator, self.feature_generator]
        return [v for net in nets if net is not None for v in net.trainable_variables]

    # --- forward pass ----------------------------------------------------------------------------

    def call(self, noise, given_attributes=None, training=None, hard_features_out=False,
             differentiable=None):
        """Generator forward pass.

        Returns (features [B, T, K+2] unmasked, activity mask [B, T], soft attributes [B, A+M],
        hard attributes [B, A+M]); "soft" is what the critics see, "hard" (one-hot argmax for
        categorical outputs) is what the downstream generators and the user receive.  The
        features are soft unless ``hard_features_out`` (generation: no softmax is computed).
        differentiable=False: no gradient will be taken through the feature generator (the
        fused LSTM then keeps no activations); default: unless training is False.
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
        states = [(state[:, i, 0], state[:, i, 1]) for i in range(self.config.feature_lstm_layers)]
        soft_features, hard_features, mask = self.feature_generator(
            hard, noise["feature_noise"], states, training=training,
            differentiable=differentiable)
        return (hard_features if hard_features_out else soft_features), mask, soft, hard

    def _fake_batch(self, noise, differentiable=True):
        """A generator run (training mode) on the batch's noise with the LSTM's initial state
        drawn afresh, as the original, whose optimiser runs all get the batch's fed noise while
        the initial state is drawn inside its graph on every run. differentiable=False for the
        critic steps' fakes, through which no gradient flows."""
        batch = tf.shape(noise["attribute_noise"])[0]
        run_noise = {**noise, **self.sample_noise(batch, keys=["initial_state"])}
        features, mask, soft, _ = self(run_noise, training=True, differentiable=differentiable)
        return features * mask[..., None], soft

    # --- training --------------------------------------------------------------------------------

    def compile(self, generator_optimizer=None, critic_optimizer=None,
                aux_critic_optimizer=None, steps_per_execution=STEPS_PER_EXECUTION, **kwargs):
        """Adam(lr 1e-3, beta1 0.5, beta2 0.999, epsilon 1e-8) for each network by default.

        ``steps_per_execution`` training steps run per call of the train function (Keras then
        calls batch-level callbacks once per call; epoch-level ones are unaffected)."""
        cfg = self.config

        def adam(lr):
            return keras.optimizers.Adam(learning_rate=lr, beta_1=cfg.adam_beta_1,
                                         beta_2=cfg.adam_beta_2, epsilon=cfg.adam_epsilon)

        critic_adam = adam
        if self.uses_dp:
            if tf.distribute.get_strategy().num_replicas_in_sync > 1:
                raise ValueError("DP training runs on one device: per-example clipping does not "
                                 "combine with gradients summed over replicas")
            if cfg.dp_clipping == "vectorized":
                critic_adam = functools.partial(privacy.dp_adam, cfg)
            # "ghost": plain Adam on gradients this model clips and noises (_dp_gradients)
        self.generator_optimizer = loss_scaled(
            generator_optimizer or adam(cfg.generator_learning_rate), cfg.precision)
        self.critic_optimizer = loss_scaled(
            critic_optimizer or critic_adam(cfg.critic_learning_rate), cfg.precision)
        self.aux_critic_optimizer = None
        if self.aux_critic is not None:
            self.aux_critic_optimizer = loss_scaled(
                aux_critic_optimizer or critic_adam(cfg.aux_critic_learning_rate),
                cfg.precision)
        # no XLA unless asked: Keras 3's "auto" would turn it on where a GPU is visible, and
        # the fused CPU LSTM has no XLA kernel (on CPUs XLA is ~100x slower for the rollout)
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=self.generator_optimizer,
                        steps_per_execution=steps_per_execution, **kwargs)
        compat.set_untracked(self, "_requested_steps_per_execution", steps_per_execution)
        # slots up front: checkpoints restore into them and the step is traced once
        for opt, variables in self._optimizer_pairs():
            if hasattr(opt, "build"):
                opt.build(variables)

    def make_train_function(self, force=False):
        """Keras' train function; on Keras 2 with ``steps_per_execution`` > 1 one whose steps
        are traced once (compat.make_train_function)."""
        return compat.make_train_function(self, super().make_train_function, force)

    def _optimizer_pairs(self):
        pairs = [(self.generator_optimizer, self.generator_variables()),
                 (self.critic_optimizer, self.critic.trainable_variables)]
        if self.aux_critic is not None:
            pairs.append((self.aux_critic_optimizer, self.aux_critic.trainable_variables))
        return pairs

    @property
    def metrics(self):
        return list(self._trackers.values())

    def critic_loss_per_example(self, critic, real_features, real_attributes, fake_features,
                                fake_attributes, gp_weight, alpha=None):
        """WGAN-GP critic loss per example [B] (its mean is the batch loss) and the GP term [B].

        One alpha ~ U(0,1) per sample ([B, 1], drawn when not given), shared by the feature and
        attribute parts; the gradient norm is taken per sample over both jointly."""
        if alpha is None:
            alpha = self.rng.uniform([tf.shape(real_attributes)[0], 1])
        # interpolating the flat critic input column by column is interpolating features and
        # attributes with the same alpha; its gradient's norm is the joint per-sample norm
        real_x = critic.flat_input(real_features, real_attributes)
        fake_x = critic.flat_input(fake_features, fake_attributes)
        interpolates = real_x + alpha * (fake_x - real_x)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolates)
            interp_score = critic.score_flat(interpolates)
        sq_norm = tf.reduce_sum(tf.square(gp_tape.gradient(interp_score, interpolates)), axis=1)
        gp = tf.square(tf.sqrt(sq_norm + dp_clipping.GP_EPSILON) - 1.0)
        loss = critic.score_flat(fake_x) - critic.score_flat(real_x) + gp_weight * gp
        return loss, gp

    @property
    def uses_dp(self) -> bool:
        return self.config.dp_noise_multiplier is not None

    @property
    def poisson_sampling(self) -> bool:
        """Whether training batches are Poisson samples (DP runs, by default)."""
        return self.uses_dp and self.config.dp_poisson_sampling

    def _dp_gradients(self, critic, real_f, real_a, fake_f, fake_a, gp_weight):
        """DP-SGD gradient of the critic loss ("ghost" clipping): per-example clipped sum plus
        Gaussian noise, over the batch; also the loss [B] and GP term [B]."""
        cfg = self.config
        alpha = self.rng.uniform([tf.shape(real_a)[0], 1])
        real_x, fake_x = critic.flat_input(real_f, real_a), critic.flat_input(fake_f, fake_a)
        interpolates = real_x + alpha * (fake_x - real_x)
        dense = critic.dense_pairs()
        sums, loss, gp, _ = dp_clipping.clipped_gradient_sum(
            dense, real_x, fake_x, interpolates, gp_weight, cfg.dp_l2_norm_clip)
        # Poisson batches vary in size: divide by the expected size, which leaks nothing
        denominator = cfg.batch_size if self.poisson_sampling else tf.shape(real_a)[0]
        grads = dp_clipping.noised_mean(sums, denominator, cfg.dp_l2_norm_clip,
                                        cfg.dp_noise_multiplier, self.rng)
        variables = [v for pair in dense for v in pair]
        return grads, variables, loss, gp

    def _critic_update(self, critic, optimizer, real_f, real_a, fake_f, fake_a, gp_weight,
                       replicas):
        if self.uses_dp and self.config.dp_clipping == "ghost":
            grads, variables, per_example, gp = self._dp_gradients(critic, real_f, real_a,
                                                                   fake_f, fake_a, gp_weight)
            optimizer.apply_gradients(zip(grads, variables))
            return tf.reduce_mean(per_example), tf.reduce_mean(gp)
        with tf.GradientTape() as tape:
            per_example, gp = self.critic_loss_per_example(critic, real_f, real_a, fake_f,
                                                           fake_a, gp_weight)
            loss = tf.reduce_mean(per_example)
            scaled = scale_loss(optimizer, loss / replicas)  # gradients sum over replicas
        if self.uses_dp:
            # the DP optimizer clips per example: it needs the loss vector, never its mean
            optimizer.minimize(per_example, critic.trainable_variables, tape=tape)
        else:
            grads = unscale_gradients(optimizer,
                                      tape.gradient(scaled, critic.trainable_variables))
            optimizer.apply_gradients(zip(grads, critic.trainable_variables))
        return loss, tf.reduce_mean(gp)

    def _generator_loss(self, fake_f, fake_a):
        loss = -tf.reduce_mean(self.critic(fake_f, fake_a))
        if self.aux_critic is not None:
            loss -= self.config.aux_critic_loss_weight * tf.reduce_mean(
                self.aux_critic(None, fake_a))
        return loss

    def _apply_generator_gradients(self, tape, loss, scaled_loss):
        variables = self.generator_variables()
        grads = unscale_gradients(self.generator_optimizer, tape.gradient(scaled_loss, variables))
        self.generator_optimizer.apply_gradients(zip(grads, variables))
        self._trackers["g_loss"].update_state(loss)

    def _critic_step(self, real_f, real_a, fake_f, fake_a, replicas):
        """Update both critics on one fake batch (no gradient flows back to the generator)."""
        cfg = self.config
        fake_f, fake_a = tf.stop_gradient(fake_f), tf.stop_gradient(fake_a)
        d_loss, gp = self._critic_update(self.critic, self.critic_optimizer, real_f, real_a,
                                         fake_f, fake_a, cfg.gradient_penalty_weight, replicas)
        self._trackers["d_loss"].update_state(d_loss)
        self._trackers["gp"].update_state(gp)
        if self.aux_critic is not None:
            aux_loss, _ = self._critic_update(self.aux_critic, self.aux_critic_optimizer, None,
                                              real_a, None, fake_a,
                                              cfg.aux_gradient_penalty_weight, replicas)
            self._trackers["aux_d_loss"].update_state(aux_loss)

    def train_step(self, data):
        if "indices" in data:  # from training_batches: gather the batch from the source arrays
            data = gather_batch(*compat.get_untracked(self, "_source"), data["indices"])
        cfg = self.config
        real_f, real_a = data["features"], data["attributes"]
        batch = tf.shape(real_f)[0]
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        shared = cfg.reuse_fake_batch  # the last critic step's fakes also train the generator
        # one draw of attribute, min/max and feature noise per batch, which every critic and
        # generator run of this batch reads (the original's feed_dict); see _fake_batch
        noise = self.sample_noise(batch, keys=["attribute_noise", "minmax_noise",
                                               "feature_noise"])
        for _ in range(cfg.critic_steps - shared):
            self._critic_step(real_f, real_a, *self._fake_batch(noise, differentiable=False),
                              replicas)
        generator_steps = cfg.generator_steps
        if shared:
            with tf.GradientTape() as tape:
                fake_f, fake_a = self._fake_batch(noise)
                with tape.stop_recording():
                    self._critic_step(real_f, real_a, fake_f, fake_a, replicas)
                loss = self._generator_loss(fake_f, fake_a)  # scored by the updated critics
                scaled = scale_loss(self.generator_optimizer, loss / replicas)
            self._apply_generator_gradients(tape, loss, scaled)
            generator_steps -= 1
        for _ in range(generator_steps):
            with tf.GradientTape() as tape:
                loss = self._generator_loss(*self._fake_batch(noise))
                # gradients are summed over replicas
                scaled = scale_loss(self.generator_optimizer, loss / replicas)
            self._apply_generator_gradients(tape, loss, scaled)
        return {name: t.result() for name, t in self._trackers.items()}

    def prepare(self, dataset: Dataset):
        """Dataset -> the arrays the critics see: (features incl. gen-flag columns, attributes
        incl. min/max attributes when auto-normalisation is on)."""
        self.check_compatible(dataset)
        features, attributes = dataset.features, dataset.attributes
        if self.config.auto_normalize and self.minmax_outputs:
            features, extra = transforms.normalize_per_sample(
                features, dataset.gen_flags, self.feature_outputs,
                masked=self.config.auto_normalize_masked)
            attributes = np.concatenate([attributes, extra], axis=1)
        flags = transforms.encode_gen_flags(dataset.gen_flags, self.config.sample_len)
        features = np.concatenate([features, flags], axis=2).astype(np.float32)
        return features, attributes.astype(np.float32)

    def check_compatible(self, dataset: Dataset):
        dataset.validate(self.config.sample_len)
        if dataset.max_length != self.max_length:
            raise ValueError(f"the dataset has T={dataset.max_length} but the model was built for "
                             f"T={self.max_length}")
        for kind, mine, theirs in [("feature", self.feature_outputs, dataset.feature_outputs),
                                   ("attribute", self.attribute_outputs,
                                    dataset.attribute_outputs)]:
            if [(o.type, o.dim, o.normalization) for o in mine] != \
                    [(o.type, o.dim, o.normalization) for o in theirs]:
                raise ValueError(f"the dataset's {kind} outputs differ from the model's: build "
                                 "the model from this dataset (DoppelGANger.from_dataset)")

    def training_data(self, dataset: Dataset, seed: Optional[int] = None) -> tf.data.Dataset:
        """An endless tf.data pipeline of training batches {"features", "attributes"}: drawn with
        replacement (the original) or shuffled without it (config.sample_with_replacement);
        Poisson samples of expected size batch_size in DP runs (config.dp_poisson_sampling).
        ``fit(dataset)`` draws the same batches through :meth:`training_batches`."""
        features, attributes = (tf.constant(a) for a in self.prepare(dataset))
        data = self._batch_indices(len(dataset), seed).map(
            lambda i: gather_batch(features, attributes, i), num_parallel_calls=tf.data.AUTOTUNE)
        return data.prefetch(tf.data.AUTOTUNE)

    def training_batches(self, dataset: Dataset, seed: Optional[int] = None) -> tf.data.Dataset:
        """What ``fit(dataset)`` feeds the training step: the batches of :meth:`training_data`
        as {"indices"} into the prepared arrays, which the step gathers itself (a pipeline that
        gathers costs ~4% of a WWT-shape step). The step captures the arrays, so a different
        dataset makes Keras trace it anew."""
        if compat.get_untracked(self, "_source_dataset") is not dataset:
            # kept out of Keras' tracking (not weights): the prepared arrays of this dataset
            compat.set_untracked(self, "_source",
                                 tuple(tf.constant(a) for a in self.prepare(dataset)))
            compat.set_untracked(self, "_source_dataset", dataset)
            self.train_function = None
        return self._batch_indices(len(dataset), seed).map(lambda i: {"indices": i}).prefetch(2)

    def _batch_indices(self, n: int, seed: Optional[int]) -> tf.data.Dataset:
        """Endless index vectors of the training batches (see training_data).

        Each pipeline element is one whole batch (or epoch) drawn by one stateless op from a
        seed pair: a pipeline that pulls one element per index (``Dataset.random().batch(B)``)
        costs tf.data ~B element steps per batch on the cores the training step needs."""
        seeds = tf.data.Dataset.random(seed=seed).batch(2)  # stateless seed pairs
        if self.poisson_sampling:
            rate = min(1.0, self.config.batch_size / n)
            return seeds.map(lambda pair: tf.reshape(tf.where(
                tf.random.stateless_uniform([n], seed=pair) < rate), [-1]))
        if self.config.sample_with_replacement:
            batch = self.config.batch_size
            return seeds.map(lambda pair: tf.random.stateless_uniform(
                [batch], seed=pair, minval=0, maxval=n, dtype=tf.int64))
        # without replacement: each epoch is a permutation cut into N // B batches (the rest
        # of it is left out, as the original's epoch)
        batch = min(self.config.batch_size, n)
        per_epoch = n // batch

        def epoch(pair):
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), pair)
            return tf.data.Dataset.from_tensor_slices(
                tf.reshape(order[:per_epoch * batch], [per_epoch, batch]))
        return seeds.flat_map(epoch)

    def steps_per_epoch(self, num_samples: int) -> int:
        """N / batch, as the original's epoch."""
        return max(1, num_samples // self.config.batch_size)

    def fit(self, x=None, y=None, epochs=1, steps_per_epoch=None, initial_epoch=0, seed=None,
            stop_on_divergence=True, **kwargs):
        """Keras ``fit``; ``x`` may be a :class:`Dataset` (sampled by :meth:`training_batches`,
        one epoch = N / batch steps) or any input Keras accepts yielding the prepared dicts.

        stop_on_divergence: raise :class:`callbacks.TrainingDiverged` at the first non-finite
        loss (callbacks.StopOnDivergence) instead of training NaN weights on."""
        compat.check_callbacks(kwargs.get("callbacks"))
        if seed is not None:
            seed = arguments.seed(seed)
        if stop_on_divergence:
            kwargs["callbacks"] = [StopOnDivergence(), *(kwargs.get("callbacks") or [])]
        # batches are drawn at random already (Keras 3 warns that it ignores shuffle=True)
        kwargs.setdefault("shuffle", False)
        if isinstance(x, Dataset):
            steps_per_epoch = steps_per_epoch or self.steps_per_epoch(len(x))
            # a resumed run continues with a different (but seeded) batch order
            data_seed = None if seed is None else seed + initial_epoch
            x = self.training_batches(x, seed=data_seed)
        compat.fit_steps_per_execution(
            self, compat.get_untracked(self, "_requested_steps_per_execution", 1),
            steps_per_epoch)
        return super().fit(x, y, epochs=epochs, steps_per_epoch=steps_per_epoch,
                           initial_epoch=initial_epoch, **kwargs)

    # --- generation ------------------------------------------------------------------------------

    def _generate_fn(self, conditional: bool, chunks: int):
        """tf.function (seed pair, size[, attributes]) -> the generator's outputs for ``size``
        samples: the noise is drawn inside the graph, and the batch runs as ``chunks``
        independent pieces that TensorFlow executes concurrently (generation of one sample does
        not depend on the others)."""
        key = (conditional, chunks)
        if key not in self._generate_fns:
            seed_spec = tf.TensorSpec([2], tf.int64)
            size_spec = tf.TensorSpec([], tf.int32)

            def generate(seed_pair, size, attributes=None):
                noise = self.sample_noise(size, seeded_normal(seed_pair))
                # chunk sizes differ by at most one row (zero rows when size < chunks)
                sizes = size // chunks + tf.cast(tf.range(chunks) < size % chunks, tf.int32)
                pieces = {k: tf.split(v, sizes) for k, v in noise.items()}
                if attributes is not None:
                    attributes = tf.split(attributes, sizes)
                outs = [self({k: v[i] for k, v in pieces.items()},
                             None if attributes is None else attributes[i], training=False,
                             hard_features_out=True)
                        for i in range(chunks)]
                return [tf.concat(parts, axis=0) for parts in zip(*outs)]

            if conditional:
                attr_spec = tf.TensorSpec([None, self.num_attribute_columns], tf.float32)
                fn = tf.function(generate, input_signature=[seed_spec, size_spec, attr_spec])
            else:
                fn = tf.function(lambda seed_pair, size: generate(seed_pair, size),
                                 input_signature=[seed_spec, size_spec])
            self._generate_fns[key] = fn
        return self._generate_fns[key]

    def generate(self, n: Optional[int] = None, attributes=None, length=None,
                 seed: Optional[int] = None, batch_size: int = 1000, clip: bool = True
                 ) -> Dataset:
        """Generate ``n`` samples as a :class:`Dataset` in real units.

        attributes: condition on these attributes instead of generating them (the paper's
            "different metadata distribution"): an encoded array [n, A_enc] or a pandas
            DataFrame of raw attribute values with the attribute names as columns.
        length: force the series length (an int or [n] ints in 1..T) instead of the generated
            generation flags.
        seed: the same seed (and batch_size) gives the same data, also after save/load.
        clip: clip continuous values to the declared range (auto-normalisation can produce
            values slightly beyond the training data's global min/max).

        For more samples than fit in memory use :meth:`generate_to`.
        """
        batches = self._generated_batches(n, attributes, length, seed, batch_size, clip)
        # post-processed batch by batch (small temporaries), joined once
        parts = [self._postprocess(*batch, clip) for batch in batches]
        arrays = [parts[0][i] if len(parts) == 1 else np.concatenate([p[i] for p in parts])
                  for i in range(3)]
        return self._dataset(*arrays)

    def generate_to(self, path, n: int, attributes=None, length=None,
                    seed: Optional[int] = None, batch_size: int = 1000, clip: bool = True
                    ) -> Path:
        """Generate ``n`` samples straight to the directory ``path`` (one ``.npy`` per array,
        read back with ``Dataset.load``), holding one batch in memory at a time; the same
        samples as ``generate`` with the same arguments. Atomic: nothing appears at ``path``
        unless all ``n`` were written."""
        from .dataset import DatasetStreamWriter

        batches = self._generated_batches(n, attributes, length, seed, batch_size, clip)
        with DatasetStreamWriter(path, n) as writer:
            for features, mask, hard, lengths in batches:
                writer.append(self._dataset(*self._postprocess(features, mask, hard, lengths,
                                                               clip)))
        return Path(path)

    def _generated_batches(self, n, attributes, length, seed, batch_size, clip):
        """The arguments checked now; then an iterator of (features, mask, hard attributes,
        forced lengths or None) per batch."""
        arguments.boolean("clip", clip)
        given = None
        if attributes is not None:
            given = encode_attribute_table(attributes, self.attribute_outputs,
                                           self.scaling.get("attribute_min"),
                                           self.scaling.get("attribute_max"))
            if n is None:
                n = len(given)
            elif arguments.integer("n", n) != len(given):
                raise ValueError(f"n={n} but {len(given)} attribute rows were given")
        if n is None:
            raise ValueError("give n, the number of samples to generate (or attributes to "
                             "condition on, one row per sample)")
        n = arguments.integer("n", n, minimum=1)
        batch_size = arguments.integer("batch_size", batch_size, minimum=1)
        lengths = None if length is None else arguments.lengths(length, n, self.max_length)
        seed = (int(np.random.SeedSequence().entropy % (2 ** 31)) if seed is None
                else arguments.seed(seed))
        return self._generator_runs(n, given, lengths, seed, batch_size)

    def _generator_runs(self, n, given, lengths, seed, batch_size):
        chunks = -(-min(batch_size, n) // GENERATION_CHUNK)
        for batch_index, start in enumerate(range(0, n, batch_size)):
            size = min(batch_size, n - start)
            inputs = [tf.constant([seed, batch_index], tf.int64), tf.constant(size, tf.int32)]
            if given is not None:
                inputs.append(tf.constant(given[start:start + size]))
            out = self._generate_fn(given is not None, chunks)(*inputs)
            features, mask, _, hard = (np.asarray(t) for t in out)  # views, no copies
            yield (features, mask, hard,
                   None if lengths is None else lengths[start:start + size])

    def _postprocess(self, features, mask, hard_attributes, lengths, clip):
        """The generator's outputs -> (features, attributes, gen_flags) in the dataset's encoding:
        min/max renormalisation, one-hot / clipped values, zero after each series' end."""
        gen_flags = (mask if lengths is None
                     else transforms.gen_flags_from_lengths(lengths, self.max_length))
        features = features[..., :-2]  # drop the generation-flag columns
        if self.minmax_outputs:
            features = transforms.renormalize_per_sample(
                features, hard_attributes[:, self.num_attribute_columns:], gen_flags,
                self.feature_outputs)
        features = transforms.harden(features, self.feature_outputs, clip,
                                     copy=not self.minmax_outputs)
        features *= gen_flags[..., None]  # hardened one-hots after the end are zeroed too
        attributes = transforms.harden(hard_attributes[:, :self.num_attribute_columns],
                                       self.attribute_outputs, clip)
        return features, attributes, gen_flags

    def _dataset(self, features, attributes, gen_flags) -> Dataset:
        """Generated arrays as a Dataset. They are valid by construction (tests check that),
        except where a diverged model generates NaN, so only that is checked: the full
        validation would take ~10% of the generation time."""
        if not (np.isfinite(features).all() and np.isfinite(attributes).all()):
            raise ValueError("the model generated NaN or infinite values: its weights are not "
                             "finite (training diverged); retrain, e.g. from an earlier "
                             "checkpoint or with a lower learning rate")
        return Dataset(features, attributes, gen_flags, list(self.feature_outputs),
                       list(self.attribute_outputs), **self.scaling, validate=False)

    # --- persistence -----------------------------------------------------------------------------

    def get_config(self):
        return {"config": self.config.to_dict(),
                "feature_outputs": [o.to_dict() for o in self.feature_outputs],
                "attribute_outputs": [o.to_dict() for o in self.attribute_outputs],
                "max_length": self.max_length,
                "scaling": {k: (None if v is None else v.tolist())
                            for k, v in self.scaling.items()}}

    @classmethod
    def from_config(cls, d, **kwargs):
        return cls([Output.from_dict(o) for o in d["feature_outputs"]],
                   [Output.from_dict(o) for o in d["attribute_outputs"]],
                   int(d["max_length"]), DGConfig.from_dict(d["config"]),
                   scaling=d.get("scaling"), **kwargs)

    def save(self, path, overwrite: bool = True, **kwargs):
        """Write the model (config, output specs, scaling, weights) to the directory ``path``,
        atomically: an interrupted save leaves any previous model there intact."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        with atomic_directory(path, replaceable={CONFIG_FILE, WEIGHTS_FILE,
                                                 KERAS2_WEIGHTS_FILE}) as tmp:
            payload = {"format": MODEL_FORMAT, "version": FORMAT_VERSION, **self.get_config()}
            if self.privacy_record is not None:  # DP parameters and epsilon spent
                payload["privacy"] = self.privacy_record
            (tmp / CONFIG_FILE).write_text(json.dumps(payload, indent=2))
            saved_weights.save(self, tmp / WEIGHTS_FILE)

    @classmethod
    def load(cls, path) -> "DoppelGANger":
        path = Path(path)
        recover(path)  # a save killed between its renames left the previous version aside
        config_path = path / CONFIG_FILE
        if not config_path.is_file():
            raise FileNotFoundError(f"{config_path} not found: {path} is not a saved "
                                    "DoppelGANger model (save one with model.save(path))")
        try:
            payload = json.loads(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{config_path} is corrupt ({exc}); save the model again") from exc
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"{config_path} is not a {MODEL_FORMAT} file")
        version = payload.get("version")
        if version not in (1, FORMAT_VERSION):
            raise ValueError(f"{config_path} has format version {version!r}; this "
                             f"doppelganger_tf reads versions 1 and {FORMAT_VERSION}: upgrade "
                             "doppelganger_tf to load it")
        if version == 1 and compat.KERAS_3:
            raise ValueError(f"{path} was saved in format 1, whose weights only Keras 2 reads "
                             f"(this is Keras {compat.KERAS_VERSION}): load it on "
                             f"{compat.REFERENCE_STACK} and save it again there; format "
                             f"{FORMAT_VERSION} loads on both stacks")
        try:
            model = cls.from_config(payload)
        except KeyError as exc:
            raise ValueError(f"{config_path} lacks the entry {exc}: it is damaged; save the "
                             "model again") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{config_path} does not describe a valid model ({exc}); save "
                             "the model again") from exc
        if version == 1:
            weights = path / KERAS2_WEIGHTS_FILE
            try:
                model.load_weights(str(weights))
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                raise ValueError(f"{weights} is missing or damaged ({type(exc).__name__}: "
                                 f"{exc}); save the model again") from None
        else:
            saved_weights.load(model, path / WEIGHTS_FILE)
        model.privacy_record = payload.get("privacy")
        return model

    @property
    def privacy_record(self) -> Optional[dict]:
        """DP parameters and epsilon spent (set by ``callbacks.PrivacyBudget``, saved in
        model.json), or None. A copy: assign a new dict to change it."""
        text = compat.get_untracked(self, "_privacy_record_json")
        return None if text is None else json.loads(text)

    @privacy_record.setter
    def privacy_record(self, record: Optional[dict]):
        # kept as JSON text: Keras would track a dict attribute as a checkpoint dependency
        if record is not None and not isinstance(record, dict):
            raise TypeError(f"privacy_record must be a dict or None, got {type(record).__name__}")
        compat.set_untracked(self, "_privacy_record_json",
                             None if record is None else json.dumps(record, default=float))

