"""Retraining the attribute (metadata) generator toward another metadata distribution (§6.1).

A data holder may want to share a model of its time series without revealing a business-sensitive
attribute distribution (e.g. the share of each customer segment).  DoppelGANger decouples the
metadata from the measurements: the attribute generator draws the metadata, and the min/max and
feature generators produce measurements *conditioned* on them.  Retraining only the attribute
generator, against a fresh attribute-only WGAN-GP critic fed samples of the desired distribution,
changes which metadata the model generates while every conditional distribution of the
measurements (and of the min/max "fake metadata") stays exactly as trained: those two generators
are never run in training mode here, so their weights, BatchNorm statistics included, stay
bit-identical (checked at the end).

    from doppelganger_tf.training.retrain import (retrain_attribute_generator,
                                                  target_from_probabilities)
    target = target_from_probabilities(train, {"domain": {"en.wikipedia.org": 0.5,
                                                          "ja.wikipedia.org": 0.5}})
    history = retrain_attribute_generator(model, target, epochs=200, seed=0)
    model.generate(1000, seed=0)   # metadata now follow ``target``

Privacy: retraining reads only ``target``, never the training data, so for a DP-trained model it
is post-processing and spends no privacy budget *as long as the target is not built from the real
data* (build it from the model's own samples, ``target_from_probabilities(model.generate(n), ...)``,
or from public knowledge).  Do not call ``model.fit`` afterwards: its critics were trained on the
real metadata and would pull the attribute generator back.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Union

import numpy as np
import pandas as pd
import tensorflow as tf

from .. import compat
from ..compat import keras
from ..data.dataset import Dataset, encode_attribute_table
from ..gan import wgan_gp
from ..gan.critic_updates import adam
from ..gan.networks import Critic
from ..gan.precision import apply_gradients, with_loss_scaling
from .callbacks import ProgressLogger

UNIFORM = "uniform"
# the raking (iterative proportional fitting) of several attributes' targets stops here
_RAKING_TOLERANCE = 1e-9
_RAKING_ITERATIONS = 1000


# --- the target distribution ----------------------------------------------------------------------

def parse_probabilities(text: str) -> Dict[str, Union[str, Dict[str, float]]]:
    """Parse ``"attr:cat=p,cat=p;attr2:uniform"`` into ``{attr: {cat: p}}`` (``"uniform"`` for
    a uniform distribution over all of that attribute's categories).

    Attributes are separated by ``;``, categories by ``,``; a category label is everything before
    its last ``=`` (so labels may contain ``=`` and ``:`` but not ``,`` or ``;``).  Labels stay
    strings here; :func:`target_from_probabilities` matches them to the categories."""
    result: Dict[str, Union[str, Dict[str, float]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, spec = part.partition(":")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            raise ValueError(f"cannot read the target {part!r}: write attribute:category=p,"
                             "category=p (or attribute:uniform), attributes separated by ';'")
        if name in result:
            raise ValueError(f"attribute {name!r} appears twice in the target {text!r}")
        if spec.lower() == UNIFORM:
            result[name] = UNIFORM
            continue
        probs: Dict[str, float] = {}
        for item in filter(None, (i.strip() for i in spec.split(","))):
            label, eq, value = item.rpartition("=")
            if not eq or not label.strip():
                raise ValueError(f"cannot read {item!r} in the target of {name!r}: write "
                                 "category=probability, e.g. en.wikipedia.org=0.5")
            try:
                probs[label.strip()] = float(value)
            except ValueError:
                raise ValueError(f"the probability of {label.strip()!r} in the target of "
                                 f"{name!r} is {value!r}, not a number") from None
        result[name] = probs
    if not result:
        raise ValueError(f"the target {text!r} names no attribute; write "
                         "attribute:category=p,category=p or attribute:uniform")
    return result


def _resolve_probabilities(name, spec, out) -> np.ndarray:
    """{label: p} or "uniform" -> probabilities [C] in ``out``'s category order."""
    labels = list(out.labels())
    if isinstance(spec, str):
        if spec.lower() != UNIFORM:
            raise ValueError(f"the target of {name!r} is {spec!r}; give {{category: p}} or "
                             f"{UNIFORM!r}")
        return np.full(len(labels), 1.0 / len(labels))
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"the target of {name!r} must be a non-empty {{category: probability}} "
                         f"mapping or {UNIFORM!r}, got {spec!r}")
    probs = np.zeros(len(labels))
    as_text = {str(label): i for i, label in enumerate(labels)}
    for label, p in spec.items():
        if label in labels:
            index = labels.index(label)
        elif str(label) in as_text:  # labels parsed from text are strings
            index = as_text[str(label)]
        else:
            raise ValueError(f"attribute {name!r} has no category {label!r}; its categories "
                             f"are {labels}")
        p = float(p)
        if not np.isfinite(p) or p < 0:
            raise ValueError(f"the probability of {label!r} in the target of {name!r} is {p}; "
                             "probabilities must be finite and >= 0")
        probs[index] = p
    total = probs.sum()
    if abs(total - 1.0) > 1e-3:
        raise ValueError(f"the target probabilities of {name!r} sum to {total:.6g}, not 1; "
                         "categories left out get probability 0, so list every category you "
                         "want and make the probabilities sum to 1")
    return probs / total


def target_from_probabilities(base: Dataset, probabilities: Mapping, n: Optional[int] = None,
                              seed: int = 0) -> pd.DataFrame:
    """Samples of a target metadata distribution: ``n`` attribute rows (raw values, a DataFrame
    for :func:`retrain_attribute_generator`) drawn from ``base``'s rows, reweighted so that each
    attribute named in ``probabilities`` follows its given category distribution.

    probabilities: ``{attribute: {category: p}}`` or ``{attribute: "uniform"}`` (see also
        :func:`parse_probabilities`); categories left out get probability 0.
    base: a Dataset whose other attributes keep their conditional distribution given the
        retargeted ones: the training data, or -- for a DP model, so that no real data are read --
        the model's own samples (``model.generate(n)``).
    n: rows to draw (default ``len(base)``).

    The weights are the reweighting of ``base``'s rows closest to uniform (in KL divergence) that
    meets every target marginal, found by iterative proportional fitting; with one retargeted
    attribute this is exactly "pick the category from the target, then a random base row of that
    category".  A target category absent from ``base`` has no rows to draw and is an error.
    """
    if not isinstance(base, Dataset):
        raise TypeError(f"base must be a Dataset (the training data or model.generate(n)), got "
                        f"{type(base).__name__}")
    if not isinstance(probabilities, Mapping) or not probabilities:
        raise ValueError("probabilities must be a non-empty {attribute: {category: p}} mapping")
    n = len(base) if n is None else int(n)
    if n < 1:
        raise ValueError(f"n must be a positive number of rows, got {n}")
    outputs = {o.name: (o, start) for o, start in zip(
        base.attribute_outputs, np.cumsum([0] + [o.dim for o in base.attribute_outputs]))}
    codes, targets = [], []
    for name, spec in probabilities.items():
        if name not in outputs:
            raise ValueError(f"no attribute named {name!r}; the attributes are "
                             f"{base.attribute_names}")
        out, start = outputs[name]
        if out.is_continuous:
            raise ValueError(f"attribute {name!r} is continuous; category probabilities need a "
                             "discrete attribute (give a target DataFrame for continuous ones)")
        probs = _resolve_probabilities(name, spec, out)
        code = np.argmax(base.attributes[:, start:start + out.dim], axis=1)
        missing = [out.labels()[c] for c in np.flatnonzero(probs > 0)
                   if not np.any(code == c)]
        if missing:
            raise ValueError(f"the base data hold no sample with {name}={missing[0]!r}, so its "
                             "other attributes cannot be drawn; give a target DataFrame with "
                             "such rows instead, or a base Dataset that has them")
        codes.append(code)
        targets.append(probs)
    weights = _rake(codes, targets)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(base), size=n, p=weights)
    return base.attribute_values().iloc[rows].reset_index(drop=True)


def _rake(codes, targets) -> np.ndarray:
    """Iterative proportional fitting: row weights (summing to 1) whose category marginals
    equal ``targets``, starting from uniform weights."""
    weights = np.full(len(codes[0]), 1.0 / len(codes[0]))
    for _ in range(_RAKING_ITERATIONS):
        for code, probs in zip(codes, targets):
            mass = np.bincount(code, weights, minlength=len(probs))
            factor = np.divide(probs, mass, out=np.zeros_like(probs), where=mass > 0)
            weights = weights * factor[code]
        worst = max(np.abs(np.bincount(c, weights, minlength=len(p)) - p).max()
                    for c, p in zip(codes, targets))
        if worst < _RAKING_TOLERANCE:
            return weights / weights.sum()
    raise ValueError("the target probabilities of the attributes cannot all be met by "
                     "reweighting the base rows (some combinations they need never occur "
                     f"together; largest marginal error {worst:.3g}); give a target DataFrame "
                     "instead")


def encode_target(model, target) -> np.ndarray:
    """The target metadata samples as the model's encoded attributes, float32 [n, A_enc].

    target: a DataFrame of raw attribute values with exactly the model's attribute columns
    (category labels for discrete ones, real units for continuous ones), a Dataset (its
    attributes), or an array (encoded [n, A_enc] or raw [n, P] in the model's column order)."""
    if model.attribute_generator is None:
        raise ValueError("the model has no attributes (metadata), so there is no attribute "
                         "generator to retrain")
    names = [c for o in model.attribute_outputs for c in o.column_names()]
    if isinstance(target, Dataset):
        target = target.attribute_values()
    if isinstance(target, pd.DataFrame):
        columns = [str(c) for c in target.columns]
        missing = [c for c in names if c not in columns]
        extra = [c for c in columns if c not in names]
        if missing or extra:
            raise ValueError(f"the target's columns {columns} do not match the model's attribute "
                             f"columns {names} (missing {missing}, unknown {extra}); give one "
                             "column per model attribute")
        target = target.rename(columns=str)[names]
    elif not isinstance(target, np.ndarray):
        raise TypeError(f"target must be a pandas DataFrame, a Dataset or a numpy array, got "
                        f"{type(target).__name__}")
    if len(target) < 1:
        raise ValueError("the target holds no rows; give samples of the desired distribution")
    return encode_attribute_table(target, model.attribute_outputs,
                                  model.scaling.get("attribute_min"),
                                  model.scaling.get("attribute_max"))


# --- retraining -----------------------------------------------------------------------------------

def frozen_networks(model):
    """The networks retraining must leave untouched: min/max generator (when present), feature
    generator, critic and auxiliary critic."""
    nets = [model.minmax_generator, model.feature_generator, model.critic, model.aux_critic,
            model.averaged_minmax_generator, model.averaged_feature_generator]
    if model.averaged_generator is not None:  # the live one stays; generation uses the average
        nets.append(model.attribute_generator)
    return [net for net in nets if net is not None]


def _snapshot(nets):
    return [[np.array(w) for w in net.get_weights()] for net in nets]


def _seeded_critic(config, num_columns: int, seed: int) -> Critic:
    """A fresh attribute-only critic (the auxiliary critic's shape), initialised from ``seed``
    (glorot-uniform kernels, zero biases as Keras' defaults) without touching global seeds."""
    critic = Critic(config.aux_critic_hidden_layers, config.aux_critic_hidden_units,
                    name="retrain_critic")
    critic(None, tf.zeros([1, num_columns]))
    for i, (kernel, bias) in enumerate(critic.dense_pairs()):
        init = keras.initializers.GlorotUniform(seed=seed * 1009 + i)
        kernel.assign(init(kernel.shape))
        bias.assign(tf.zeros_like(bias))
    return critic


class AttributeRetraining(keras.Model):
    """WGAN-GP of ``generator`` (a model's attribute generator) against a fresh attribute-only
    ``critic`` on rows of the target distribution, trained with ``fit`` (callbacks, History).

    Each step: ``critic_steps`` critic updates, each on a batch of target rows drawn with
    replacement (as the original's training) against the generator's soft output, then one
    generator update (-mean critic(fake)). The input ``fit`` is given is ignored: every random
    draw comes from this model's own generator ``rng``."""

    def __init__(self, generator, critic, target_rows, batch_size: int, critic_steps: int,
                 noise_dim: int, gp_weight: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic
        self.batch_size, self.critic_steps = batch_size, critic_steps
        self.noise_dim, self.gp_weight = noise_dim, gp_weight
        compat.set_untracked(self, "target_rows", tf.constant(target_rows))
        self.num_rows = len(target_rows)
        self.rng = tf.random.Generator.from_seed(seed)  # the model's own rng is left alone
        self._trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss",
                                                                           "gp")}
        self.built = True  # its networks are built

    @property
    def metrics(self):
        return list(self._trackers.values())

    def compile(self, generator_optimizer, critic_optimizer, **kwargs):
        super().compile(optimizer=generator_optimizer, jit_compile=False, **kwargs)
        self.generator_optimizer, self.critic_optimizer = generator_optimizer, critic_optimizer

    def _fake_attributes(self):
        # training=True: the attribute generator's own BatchNorm adapts, as in the main training
        soft, _ = self.generator(self.rng.normal([self.batch_size, self.noise_dim]),
                                 training=True)
        return soft

    def train_step(self, data):
        for _ in range(self.critic_steps):
            real = tf.gather(self.target_rows, self.rng.uniform([self.batch_size], 0,
                                                                self.num_rows, dtype=tf.int64))
            fake = tf.stop_gradient(self._fake_attributes())
            alpha = self.rng.uniform([self.batch_size, 1])
            with tf.GradientTape() as tape:
                per_example, gp = wgan_gp.critic_loss_per_example(
                    self.critic.score_flat, real, fake, self.gp_weight, alpha)
                d_loss = tf.reduce_mean(per_example)
            apply_gradients(self.critic_optimizer, tape, d_loss, self.critic.trainable_variables)
        with tf.GradientTape() as tape:
            g_loss = wgan_gp.generator_loss(self.critic(None, self._fake_attributes()))
        apply_gradients(self.generator_optimizer, tape, g_loss,
                        self.generator.trainable_variables)
        # the last critic update's figures, as the main training's
        for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("gp", tf.reduce_mean(gp))):
            self._trackers[name].update_state(value)
        return {name: t.result() for name, t in self._trackers.items()}


def retrain_attribute_generator(model, target, epochs: int = 200,
                                batch_size: Optional[int] = None, seed: int = 0,
                                steps_per_epoch: Optional[int] = None,
                                critic_steps: Optional[int] = None, log_every: int = 0,
                                print_fn=print, callbacks=()) -> Dict[str, list]:
    """Retrain ``model.attribute_generator`` (in place) so that the metadata it generates follow
    ``target``; the min/max and feature generators and both critics stay bit-identical. With
    DGConfig.generator_average_decay on, the averaged attribute generator (the one generation
    uses) is retrained instead, and the live one stays as trained.

    target: samples of the desired metadata distribution -- see :func:`encode_target` and
        :func:`target_from_probabilities`.
    epochs: ``steps_per_epoch`` steps each (default ``len(target) // batch_size``, at least 1),
        batches of target rows drawn with replacement as the original's training.
    batch_size / critic_steps: default to the model's config (paper: 100 and 1).
    seed: fixes the fresh critic's initial weights, the noise and the batches.
    log_every: print the losses every this many epochs (0: silent).
    callbacks: more Keras callbacks for the :class:`AttributeRetraining` fit.

    WGAN-GP as the auxiliary critic of the main training: a fresh attribute-only critic (the
    aux critic's shape and gradient-penalty weight) sees target rows as real and the attribute
    generator's soft output as fake; generator loss = -mean critic(fake).  Adam with the config's
    learning rates and betas.  Returns the per-epoch means ``{"d_loss", "g_loss", "gp"}``.
    """
    encoded = encode_target(model, target)
    cfg = model.config
    batch = int(batch_size or cfg.batch_size)
    n_critic = int(critic_steps or cfg.critic_steps)
    if int(epochs) < 1 or batch < 1 or n_critic < 1:
        raise ValueError(f"epochs, batch_size and critic_steps must be positive, got {epochs}, "
                         f"{batch}, {n_critic}")
    steps = int(steps_per_epoch or max(1, len(encoded) // batch))
    frozen = frozen_networks(model)
    before = _snapshot(frozen)

    retraining = AttributeRetraining(
        model.sampling_generator.attribute_generator, _seeded_critic(cfg, encoded.shape[1], seed), encoded, batch,
        n_critic, cfg.attribute_noise_dim, cfg.aux_gradient_penalty_weight, seed,
        name="attribute_retraining")
    # the attribute generator computes in float16 in mixed_float16 models: scale its loss
    retraining.compile(with_loss_scaling(adam(cfg, cfg.generator_learning_rate), model.precision),
                       adam(cfg, cfg.aux_critic_learning_rate))
    loggers = [ProgressLogger(log_every, print_fn)] if log_every else []
    history = retraining.fit(tf.data.Dataset.from_tensors(0).repeat(), epochs=int(epochs),
                             steps_per_epoch=steps, verbose=0, shuffle=False,
                             callbacks=[*loggers, *callbacks])

    after = _snapshot(frozen)
    for net, old, new in zip(frozen, before, after):
        if len(old) != len(new) or not all(np.array_equal(a, b) for a, b in zip(old, new)):
            raise RuntimeError(f"retraining changed {net.name}'s weights; only the attribute "
                               "generator may change (this is a bug, please report it)")
    return {name: [float(v) for v in history.history[name]] for name in ("d_loss", "g_loss",
                                                                          "gp")}
