"""DoppelGANger as a Keras model: the generator network against a critic and an auxiliary
critic, trained with WGAN-GP through ``fit()``.

Generation lives in generation.py, the training input in training_data.py, the losses in
wgan_gp.py, the critics' (plain or DP) updates in critic_updates.py, saving in saved_model.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

import numpy as np
import tensorflow as tf

from .. import arguments, compat
from ..compat import keras
from ..data import transforms
from ..data.dataset import Dataset, check_sample_len
from ..data.frames import FrameInfo
from ..data.outputs import Output
from ..dp import privacy
from ..persistence import saved_model
from . import fit_callbacks, training_data, wgan_gp
from .config import DGConfig, run_settings
from .critic_updates import adam, critic_update
from .divergence import StopOnDivergence
from .fused_lstm import resolve_implementation
from .generation import Sampler
from .networks import Critic, Generator, update_average
from .precision import apply_gradients, with_loss_scaling

# training steps per call of Keras' train function (compile's steps_per_execution): the steps
# run in one graph loop, without Python's per-call dispatch (docs/performance.md)
STEPS_PER_EXECUTION = 10
# noise drawn once per batch and read by every critic and generator run of it (the original's
# feed_dict); the LSTM's initial state is drawn afresh for each run (see _fake_batch)
BATCH_NOISE = ("attribute_noise", "minmax_noise", "feature_noise")


class CriticInput(NamedTuple):
    """A batch as the critics read it: features [B, T, K+2] (generation flags last, zero
    after each series' end) and attributes [B, A+M] (the min/max ones last)."""
    features: tf.Tensor
    attributes: tf.Tensor


class DoppelGANger(keras.Model):
    """DoppelGANger (Lin et al., IMC 2020).

    Build with :meth:`from_dataset`, then ``compile()`` (the paper's Adam settings by default) and
    ``fit(dataset, epochs=...)``; ``generate(n)`` returns a :class:`Dataset` in real units.

    seed: seeds the model's own random generator (training noise, gradient-penalty
    interpolation, DP noise). The initial weights come from Keras' global seed: call
    ``keras.utils.set_random_seed`` first for a fully repeatable run.

    lstm_implementation, precision: how the model runs on this machine, not what it is
    (config.run_settings): "auto" / "keras" / "fused", and "float32" / "mixed_float16" /
    "mixed_bfloat16". ``save`` records them and ``load`` runs with them unless told otherwise.
    """

    def __init__(self, feature_outputs: Sequence[Output], attribute_outputs: Sequence[Output],
                 max_length: int, config: Optional[DGConfig] = None, *, scaling=None,
                 frame: Optional[FrameInfo] = None, seed: Optional[int] = None,
                 lstm_implementation: str = "auto", precision: str = "float32", **kwargs):
        kwargs.setdefault("name", "doppelganger")
        super().__init__(**kwargs)
        self.config = cfg = config if config is not None else DGConfig()
        settings = run_settings(cfg, lstm_implementation, precision)
        self.lstm_implementation = settings["lstm_implementation"]
        self.precision = settings["precision"]
        check_sample_len(max_length, cfg.sample_len)
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
        # the columns, dtypes and time axis of the training frame (no training ids or starts
        # besides the distinct starts): generated data come back alike (frames.FrameInfo)
        compat.set_untracked(self, "frame", None if frame is None else frame.template())
        self.num_attribute_columns = sum(o.dim for o in self.attribute_outputs)
        self.num_minmax_columns = sum(o.dim for o in self.minmax_outputs)
        # the networks' dtype policy; the model's own inputs, outputs and losses stay float32
        policy = keras.mixed_precision.Policy(self.precision)
        lstm = resolve_implementation(self.lstm_implementation)
        self.generator = Generator(
            self.feature_outputs, self.attribute_outputs, self.minmax_outputs, self.max_length,
            cfg, lstm, name="generator", dtype=policy)
        self.critic = Critic(cfg.critic_hidden_layers, cfg.critic_hidden_units, name="critic",
                             dtype=policy)
        critic_attributes = self.num_attribute_columns + self.num_minmax_columns
        self.aux_critic = (Critic(cfg.aux_critic_hidden_layers, cfg.aux_critic_hidden_units,
                                  name="aux_critic", dtype=policy)
                           if cfg.use_aux_critic and critic_attributes > 0 else None)
        # DGConfig.generator_average_decay: a second generator holding the moving average of
        # the generator's weights, the one generation uses
        self.averaged_generator = (Generator(
            self.feature_outputs, self.attribute_outputs, self.minmax_outputs, self.max_length,
            cfg, lstm, name="averaged_generator", dtype=policy)
            if cfg.generator_average_decay > 0 else None)
        self.rng = (tf.random.Generator.from_seed(seed) if seed is not None
                    else tf.random.Generator.from_non_deterministic_state())
        self._trackers = {name: keras.metrics.Mean(name=name) for name in
                          ["d_loss", "g_loss", "gp"] + (["aux_d_loss"] if self.aux_critic else [])}
        # generation's tf.functions; untracked: Keras would save them with the weights
        compat.set_untracked(self, "sampler", Sampler(self))
        self._build_networks()

    @classmethod
    def from_dataset(cls, dataset: Dataset, config: Optional[DGConfig] = None, **kwargs):
        """A model whose outputs, length and real-unit scaling are those of ``dataset``;
        ``kwargs``: the constructor's (``seed``, ``lstm_implementation``, ``precision``)."""
        config = config if config is not None else DGConfig()
        dataset.validate(config.sample_len)
        return cls(dataset.feature_outputs, dataset.attribute_outputs, dataset.max_length,
                   config, scaling=dataset.scaling(), frame=dataset.frame, **kwargs)

    def _build_networks(self):
        """Create every variable now (inside the current strategy scope), so weights can be loaded
        and optimizer slots created before the first step."""
        # the model has no weights of its own: its networks build on their first call (Keras 3
        # would otherwise warn that a default build() leaves state unbuilt)
        self.built = True
        noise = self.generator.sample_noise(2, tf.zeros)
        fake = self.generator(noise, training=False)
        self.critic(fake.features, fake.soft_attributes)
        if self.aux_critic is not None:
            self.aux_critic(None, fake.soft_attributes)
        if self.averaged_generator is not None:  # built last: the others' initial weights
            self.averaged_generator(noise, training=False)  # are those of an unaveraged model
            self.averaged_generator.set_weights(self.generator.get_weights())

    # the generator's parts, by their old names
    attribute_generator = property(lambda self: self.generator.attribute_generator)
    minmax_generator = property(lambda self: self.generator.minmax_generator)
    feature_generator = property(lambda self: self.generator.feature_generator)

    @property
    def sampling_generator(self) -> Generator:
        """The generator network generation runs: the weights' moving average where
        DGConfig.generator_average_decay is on, else the generator itself."""
        return self.averaged_generator or self.generator

    def _averaged_part(self, name):
        return None if self.averaged_generator is None else getattr(self.averaged_generator, name)

    # the averaged generator's parts (saved_weights.NETWORKS names them; None when off)
    averaged_attribute_generator = property(lambda self: self._averaged_part("attribute_generator"))
    averaged_minmax_generator = property(lambda self: self._averaged_part("minmax_generator"))
    averaged_feature_generator = property(lambda self: self._averaged_part("feature_generator"))

    @property
    def num_feature_columns_with_flags(self) -> int:
        """Encoded feature columns the generator emits: the data's and the two generation
        flags."""
        return self.feature_generator.record_dim

    def call(self, noise, *args, **kwargs):
        """The generator's forward pass (networks.Generator.call)."""
        return self.generator(noise, *args, **kwargs)

    # --- training --------------------------------------------------------------------------------

    @property
    def uses_dp(self) -> bool:
        return self.config.dp_noise_multiplier is not None

    @property
    def sampling(self) -> str:
        """How training batches are drawn (training_data.sampling)."""
        return training_data.sampling(self.config)

    def compile(self, generator_optimizer=None, critic_optimizer=None,
                aux_critic_optimizer=None, steps_per_execution=STEPS_PER_EXECUTION, **kwargs):
        """Adam(lr 1e-3, beta1 0.5, beta2 0.999, epsilon 1e-8) for each network by default; the
        critics' update (plain or DP) follows the config.

        ``steps_per_execution`` training steps run per call of the train function (Keras then
        calls batch-level callbacks once per call; epoch-level ones are unaffected)."""
        cfg = self.config
        update = critic_update(cfg, self.rng, self.sampling == "poisson")
        compat.set_untracked(self, "critic_update", update)
        self.generator_optimizer = with_loss_scaling(
            generator_optimizer or adam(cfg, cfg.generator_learning_rate), self.precision)
        self.critic_optimizer = with_loss_scaling(
            critic_optimizer or update.optimizer(cfg.critic_learning_rate), self.precision)
        self.aux_critic_optimizer = None
        if self.aux_critic is not None:
            self.aux_critic_optimizer = with_loss_scaling(
                aux_critic_optimizer or update.optimizer(cfg.aux_critic_learning_rate),
                self.precision)
        # no XLA unless asked: Keras 3's "auto" would turn it on where a GPU is visible, and
        # the fused CPU LSTM has no XLA kernel (on CPUs XLA is far slower for the rollout: docs/performance.md)
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=self.generator_optimizer,
                        steps_per_execution=steps_per_execution, **kwargs)
        compat.set_untracked(self, "_requested_steps_per_execution", steps_per_execution)
        # slots up front: checkpoints restore into them and the step is traced once
        for optimizer, network in [(self.generator_optimizer, self.generator),
                                   (self.critic_optimizer, self.critic),
                                   (self.aux_critic_optimizer, self.aux_critic)]:
            if network is not None and hasattr(optimizer, "build"):  # legacy ones have none
                optimizer.build(network.trainable_variables)

    def make_train_function(self, force=False):
        """Keras' train function; on Keras 2 with ``steps_per_execution`` > 1 one whose steps
        are traced once (compat.make_train_function)."""
        return compat.make_train_function(self, super().make_train_function, force)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras 3 only (Keras 2 never calls it). Every network and optimizer is built already
        (_build_networks, compile), so no input batch is needed: Keras' own version first
        averages one batch over the replicas, which MultiWorkerMirroredStrategy cannot do for
        a dict of index vectors."""
        super()._maybe_symbolic_build(iterator=None, data_batch=data_batch)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def train_step(self, data):
        """One batch of training: WGAN-GP (Gulrajani et al., 2017) with the paper's auxiliary
        critic, in the original's order.

        z is the batch's noise (attribute, min/max and feature noise), drawn once and read by
        every run of the generator G on this batch, as the original's one feed_dict per batch;
        each run draws the LSTM's initial state afresh. D scores [features, attributes], D_aux
        (with ``use_aux_critic``) the attributes alone. Per batch:

        1. ``critic_steps`` times, on a fresh fake batch G(z): D takes one step on
           mean D(fake) - mean D(real) + lambda * mean (||grad D(x)|| - 1)^2 at
           x = real + u (fake - real), u ~ U(0, 1) per sample (lambda:
           ``gradient_penalty_weight``); D_aux one step on the same with the attributes alone
           (``aux_gradient_penalty_weight``). With DP (``dp_noise_multiplier``) each
           example's gradient of that loss is clipped to ``dp_l2_norm_clip`` and Gaussian
           noise is added to their sum (DP-SGD, critic_updates.py).
        2. ``generator_steps`` times, on a fresh fake batch G(z): G takes one step on
           -mean D(fake) - alpha * mean D_aux(fake) (alpha: ``aux_critic_loss_weight``),
           the masked features being what D sees; then the generator's weight average follows
           (``generator_average_decay``).

        Args:
            data: one element of ``training_batches``: {"indices"} (the "memory" input mode)
                or {"features", "attributes"} (the "streamed" mode).

        Returns:
            {name: running mean} of d_loss, g_loss, gp and, with D_aux, aux_d_loss (the
            critics' figures of every critic step, g_loss of every generator step).
        """
        cfg = self.config
        real = self._real_batch(data)
        noise = self.generator.sample_noise(tf.shape(real.features)[0], self.rng.normal,
                                            keys=BATCH_NOISE)
        for _ in range(cfg.critic_steps):
            fake = self._fake_batch(noise, differentiable=False)
            d_loss, gp = self._update_critic(self.critic, self.critic_optimizer,
                                             cfg.gradient_penalty_weight,
                                             Critic.flat_input(*real), Critic.flat_input(*fake))
            self._record(d_loss=d_loss, gp=gp)
            if self.aux_critic is not None:
                aux_d_loss, _ = self._update_critic(self.aux_critic, self.aux_critic_optimizer,
                                                    cfg.aux_gradient_penalty_weight,
                                                    real.attributes, fake.attributes)
                self._record(aux_d_loss=aux_d_loss)
        for _ in range(cfg.generator_steps):
            with tf.GradientTape() as tape:
                fake = self._fake_batch(noise)
                g_loss = self._generator_loss(fake)
            apply_gradients(self.generator_optimizer, tape, g_loss,
                            self.generator.trainable_variables)
            self._record(g_loss=g_loss)
            if self.averaged_generator is not None:
                update_average(self.averaged_generator, self.generator,
                               cfg.generator_average_decay)
        return compat.step_logs({name: t.result() for name, t in self._trackers.items()})

    def _real_batch(self, data) -> "CriticInput":
        """The batch's real critic inputs: rows gathered from the encoded dataset (the
        "memory" input mode) or the batch itself (the "streamed" mode)."""
        if "indices" in data:
            return CriticInput(*compat.get_untracked(self, "_training_data").gather(
                data["indices"]))
        return CriticInput(data["features"], data["attributes"])

    def _fake_batch(self, noise, differentiable=True) -> "CriticInput":
        """A generator run (training mode) on the batch's noise, the LSTM's initial state drawn
        afresh as in the original: the critics' fake inputs, the features masked after each
        series' end. differentiable=False where no gradient flows back."""
        batch = tf.shape(noise["attribute_noise"])[0]
        run_noise = {**noise, **self.generator.sample_noise(batch, self.rng.normal,
                                                            keys=["initial_state"])}
        out = self.generator(run_noise, training=True, differentiable=differentiable)
        fake = CriticInput(out.features * out.mask[..., None], out.soft_attributes)
        return fake if differentiable else CriticInput(*map(tf.stop_gradient, fake))

    def _update_critic(self, critic, optimizer, gp_weight, real, fake):
        """One step of ``critic`` on flat real and fake inputs (the critic update compile()
        chose: plain or DP), the penalty's interpolation drawn per sample; (loss, gp) means."""
        alpha = self.rng.uniform([tf.shape(real)[0], 1])
        return self.critic_update(critic, optimizer, real, fake, gp_weight, alpha)

    def _generator_loss(self, fake):
        """-mean D(fake) - alpha * mean D_aux(fake) (wgan_gp.generator_loss)."""
        loss = wgan_gp.generator_loss(self.critic(*fake))
        if self.aux_critic is not None:
            loss += self.config.aux_critic_loss_weight * wgan_gp.generator_loss(
                self.aux_critic(None, fake.attributes))
        return loss

    def _record(self, **values):
        """Add this step's figures to their running means (the metrics ``fit`` logs)."""
        for name, value in values.items():
            self._trackers[name].update_state(value)

    def fit(self, x=None, y=None, epochs=1, steps_per_epoch=None, initial_epoch=0, seed=None,
            stop_on_divergence=True, input_mode="auto", **kwargs):
        """Keras ``fit`` on a :class:`Dataset` ``x`` (one epoch = N / batch steps).

        seed: the batches' order (a resumed run, ``initial_epoch`` > 0, continues with another).
        stop_on_divergence: raise :class:`callbacks.TrainingDiverged` at the first non-finite
        loss (callbacks.StopOnDivergence) instead of training NaN weights on.
        input_mode: how the training rows reach the step (training_data.py). "memory": the
        dataset, encoded as the critics see it (float32, with two generation-flag feature
        columns and the min/max attributes of auto-normalisation), is held whole as constants
        and the step gathers each batch's rows, the fastest. "streamed": the input pipeline
        reads each batch's rows from the dataset's arrays and encodes only them (a few batches
        ahead), so a dataset larger than memory, loaded memory-mapped from the streamed layout
        (``DatasetStreamWriter``, ``generate_to``; ``Dataset.load``), is never copied whole.
        "auto" (default): streamed when the features are memory-mapped or the encoded dataset
        would exceed ``training_data.STREAM_ABOVE_BYTES`` (1 GiB), memory otherwise. Both modes
        draw the same batches for a seed and train the same weights."""
        if not isinstance(x, Dataset):
            raise TypeError(f"fit trains on a doppelganger_tf Dataset, got {type(x).__name__}; "
                            "build one with Dataset.from_dataframe or Dataset.from_arrays")
        compat.check_callbacks(kwargs.get("callbacks"))
        if seed is not None:
            seed = arguments.seed(seed)
        # in the order their modules ask for (fidelity trackers first): fit_callbacks.py
        callbacks = fit_callbacks.arranged(kwargs.get("callbacks"))
        if stop_on_divergence:
            callbacks.insert(0, StopOnDivergence())
        kwargs["callbacks"] = callbacks
        # batches are drawn at random already (Keras 3 warns that it ignores shuffle=True)
        kwargs.setdefault("shuffle", False)
        if self.uses_dp:  # epsilon is accounted for this training set's size (privacy.py)
            privacy.bind_training_set(self, len(x))
        steps_per_epoch = steps_per_epoch or self.steps_per_epoch(len(x))
        batches = self.training_batches(x, seed=None if seed is None else seed + initial_epoch,
                                        input_mode=input_mode)
        compat.fit_steps_per_execution(
            self, compat.get_untracked(self, "_requested_steps_per_execution", 1),
            steps_per_epoch)
        return super().fit(batches, y, epochs=epochs, steps_per_epoch=steps_per_epoch,
                           initial_epoch=initial_epoch, **kwargs)

    def training_batches(self, dataset: Dataset, seed: Optional[int] = None,
                         input_mode: str = "auto") -> tf.data.Dataset:
        """What ``fit(dataset, input_mode=...)`` feeds the training step: {"indices"}
        (training_data.TrainingData) or {"features", "attributes"}
        (training_data.StreamedTrainingData) elements, one batch each."""
        mode = training_data.input_mode(self, dataset, input_mode)
        current = compat.get_untracked(self, "_training_data")
        if current is None or current.dataset is not dataset or current.mode != mode:
            compat.set_untracked(self, "_training_data",
                                 training_data.training_data(self, dataset, mode))
            self.train_function = None
        return compat.get_untracked(self, "_training_data").batches(seed)

    def prepare(self, dataset: Dataset):
        """The arrays the critics see of ``dataset`` (training_data.critic_inputs)."""
        return training_data.critic_inputs(self, dataset)

    def check_compatible(self, dataset: Dataset):
        training_data.check_compatible(self, dataset)

    def steps_per_epoch(self, num_samples: int) -> int:
        return training_data.steps_per_epoch(num_samples, self.config.batch_size)

    # --- generation (generation.py) -------------------------------------------------------------

    def generate(self, n: Optional[int] = None, attributes=None, length=None,
                 seed: Optional[int] = None, batch_size: int = 1000, clip: bool = True
                 ) -> Dataset:
        """``n`` samples as a :class:`Dataset` in real units (for more than fit in memory:
        :meth:`generate_to`). attributes: condition on these (the paper's "different metadata
        distribution"; an encoded array [n, A_enc] or a DataFrame of raw values by attribute
        name). length: force the series lengths (an int or [n] ints >= 1; above the training
        length T the feature generator runs on past T, an extrapolation it was never trained
        for, with a UserWarning). seed: the same
        seed and batch_size give the same data, also after save/load. clip: clip continuous
        values to the declared range (auto-normalisation can overshoot it slightly).

        Warns when the model was never trained (its samples would be noise); refuses, before
        any work, a result larger than the memory available (resources.py)."""
        return self.sampler.generate(n, attributes, length, seed, batch_size, clip)

    def generate_to(self, path, n: int, attributes=None, length=None,
                    seed: Optional[int] = None, batch_size: int = 1000, clip: bool = True,
                    *, shard: Optional[int] = None, num_shards: Optional[int] = None,
                    overwrite: bool = True) -> Path:
        """Generate ``n`` samples straight to ``path``, holding one batch in memory at a time;
        the same samples as ``generate`` with the same arguments. ``path``: a directory (one
        ``.npy`` per array, read back memory-mapped with ``Dataset.load``), or a file ending in
        ``.csv`` or ``.parquet`` (Parquet needs pyarrow): the long layout of
        ``Dataset.to_dataframe``, in the training frame's columns and dtypes, ids unique over
        all ``n``, each batch's series starts drawn with (seed, batch index). Atomic: nothing
        appears at ``path`` unless all ``n`` were written.

        ``shard=i, num_shards=k``: write only part i (0..k-1) of the run, so that k processes
        or hosts write it together; the k parts hold exactly the samples of the unsharded run
        (give the same model, ``n``, ``seed``, which is then required, ``batch_size``,
        ``attributes``, ``length`` and ``clip`` to every shard). Part i is a contiguous range
        of whole batches (the batches' seeds as unsharded; a part is empty when k exceeds the
        number of batches), the parts in shard order. A directory ``path`` holds the whole
        run: the first shard creates its arrays at full size, each writes its rows in place
        and then a completion marker (``shards/shard-0000i-of-0000k.json``), and
        ``Dataset.load(path)`` names the shards not finished until all are, then reads the
        features as one memory-mapped array. A shard run with other arguments is refused; a
        killed shard is rerun as it was. A ``.csv`` / ``.parquet`` ``path`` gets one file per
        shard, ``out-0000i-of-0000k.csv`` (each atomic), whose concatenation in shard order is
        the unsharded file (with a header per file). See sharded_storage.py.

        overwrite: replace what is at ``path`` (the default, as ``save``), or refuse when it
        exists. Before any work it refuses a path under a file, a suffix other than none,
        ``.csv`` or ``.parquet``, and a run whose estimated size exceeds the free disk space
        (resources.py)."""
        return self.sampler.generate_to(path, n, attributes, length, seed, batch_size, clip,
                                        shard, num_shards, overwrite)

    # --- persistence (saved_model.py) ------------------------------------------------------------

    def get_config(self):
        return saved_model.model_config(self)

    @classmethod
    def from_config(cls, d, **kwargs):
        return saved_model.model_from_config(cls, d, **kwargs)

    def save(self, path, overwrite: bool = True, **kwargs):
        """Write the model to the directory ``path``, atomically (saved_model.py)."""
        saved_model.save(self, path, overwrite)

    @classmethod
    def load(cls, path, **run_settings) -> "DoppelGANger":
        """The model saved in the directory ``path``. ``run_settings``: ``lstm_implementation``
        and ``precision`` to run it with instead of those it was saved with."""
        return saved_model.load(cls, path, **run_settings)

    @property
    def training_steps(self) -> Optional[int]:
        """Generator updates this model's weights have had: its optimizer's (``fit``, or a
        restored checkpoint) plus those recorded by the saved model it was loaded from. None
        for a model loaded from an older save that did not record them."""
        optimizer = getattr(self, "generator_optimizer", None)
        own = 0 if optimizer is None else int(optimizer.iterations.numpy())
        loaded = compat.get_untracked(self, "_loaded_training_steps", 0)
        return None if loaded is None else loaded + own

    @property
    def loaded_training_steps(self) -> Optional[int]:
        return compat.get_untracked(self, "_loaded_training_steps", 0)

    @loaded_training_steps.setter
    def loaded_training_steps(self, steps: Optional[int]):
        compat.set_untracked(self, "_loaded_training_steps", steps)

    @property
    def dp_num_samples(self) -> Optional[int]:
        """The number of training series a DP model's ``fit`` was given (its epsilon's N), or
        None before its first ``fit`` in this process (privacy.bind_training_set)."""
        return compat.get_untracked(self, "_dp_num_samples")

    @dp_num_samples.setter
    def dp_num_samples(self, value: Optional[int]):
        compat.set_untracked(self, "_dp_num_samples", None if value is None else int(value))

    @property
    def privacy_record(self) -> Optional[dict]:
        """DP parameters and epsilon spent (callbacks.PrivacyBudget; saved), or None. A copy."""
        text = compat.get_untracked(self, "_privacy_record_json")
        return None if text is None else json.loads(text)

    @privacy_record.setter
    def privacy_record(self, record: Optional[dict]):
        # kept as JSON text: Keras would track a dict attribute as a checkpoint dependency
        if record is not None and not isinstance(record, dict):
            raise TypeError(f"privacy_record must be a dict or None, got {type(record).__name__}")
        compat.set_untracked(self, "_privacy_record_json",
                             None if record is None else json.dumps(record, default=float))
