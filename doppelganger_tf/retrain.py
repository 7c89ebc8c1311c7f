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

    from doppelganger_tf.retrain import retrain_attribute_generator, target_from_probabilities
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

import time
from typing import Dict, Mapping, Optional, Union

import numpy as np
import pandas as pd
import tensorflow as tf

from .compat import keras
from .dataset import Dataset, encode_attribute_table
from .networks import Critic
from .precision import loss_scaled, scale_loss, unscale_gradients

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
    nets = [model.minmax_generator, model.feature_generator, model.critic, model.aux_critic]
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


def retrain_attribute_generator(model, target, epochs: int = 200,
                                batch_size: Optional[int] = None, seed: int = 0,
                                steps_per_epoch: Optional[int] = None,
                                critic_steps: Optional[int] = None, log_every: int = 0,
                                print_fn=print) -> Dict[str, list]:
    """Retrain ``model.attribute_generator`` (in place) so that the metadata it generates follow
    ``target``; the min/max and feature generators and both critics stay bit-identical.

    target: samples of the desired metadata distribution -- see :func:`encode_target` and
        :func:`target_from_probabilities`.
    epochs: ``steps_per_epoch`` steps each (default ``len(target) // batch_size``, at least 1),
        batches of target rows drawn with replacement as the original's training.
    batch_size / critic_steps: default to the model's config (paper: 100 and 1).
    seed: fixes the fresh critic's initial weights, the noise and the batches.
    log_every: print the losses every this many epochs (0: silent).

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

    generator = model.attribute_generator
    critic = _seeded_critic(cfg, encoded.shape[1], seed)

    def adam(lr):
        return keras.optimizers.Adam(learning_rate=lr, beta_1=cfg.adam_beta_1,
                                     beta_2=cfg.adam_beta_2, epsilon=cfg.adam_epsilon)

    # the attribute generator computes in float16 in mixed_float16 models: scale its loss
    generator_optimizer = loss_scaled(adam(cfg.generator_learning_rate), cfg.precision)
    critic_optimizer = adam(cfg.aux_critic_learning_rate)
    rng = tf.random.Generator.from_seed(seed)  # our own: the model's rng state is left alone
    real_rows = tf.constant(encoded)
    num_rows = len(encoded)
    noise_dim = cfg.attribute_noise_dim
    gp_weight = cfg.aux_gradient_penalty_weight

    def fake_attributes():
        # training=True: the attribute generator's own BatchNorm adapts, as in the main training
        soft, _ = generator(rng.normal([batch, noise_dim]), training=True)
        return soft

    @tf.function
    def train_step():
        d_loss = gp = tf.constant(0.0)
        for _ in range(n_critic):
            real = tf.gather(real_rows, rng.uniform([batch], 0, num_rows, dtype=tf.int64))
            fake = tf.stop_gradient(fake_attributes())
            with tf.GradientTape() as tape:
                # features=None: the attribute-only loss, as the auxiliary critic's
                per_example, gp_terms = model.critic_loss_per_example(
                    critic, None, real, None, fake, gp_weight, alpha=rng.uniform([batch, 1]))
                d_loss = tf.reduce_mean(per_example)
            grads = tape.gradient(d_loss, critic.trainable_variables)
            critic_optimizer.apply_gradients(zip(grads, critic.trainable_variables))
            gp = tf.reduce_mean(gp_terms)
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(critic(None, fake_attributes()))
            scaled = scale_loss(generator_optimizer, g_loss)
        grads = unscale_gradients(generator_optimizer,
                                  tape.gradient(scaled, generator.trainable_variables))
        generator_optimizer.apply_gradients(zip(grads, generator.trainable_variables))
        return tf.stack([d_loss, g_loss, gp])

    history = {"d_loss": [], "g_loss": [], "gp": []}
    started = time.perf_counter()
    for epoch in range(int(epochs)):
        losses = np.mean([train_step().numpy() for _ in range(steps)], axis=0)
        for key, value in zip(history, losses):
            history[key].append(float(value))
        if log_every and ((epoch + 1) % log_every == 0 or epoch + 1 == epochs):
            print_fn(f"retrain epoch {epoch + 1}/{epochs}: d_loss {losses[0]:.4f} "
                     f"g_loss {losses[1]:.4f} gp {losses[2]:.4f} "
                     f"({time.perf_counter() - started:.0f} s)")

    after = _snapshot(frozen)
    for net, old, new in zip(frozen, before, after):
        if len(old) != len(new) or not all(np.array_equal(a, b) for a, b in zip(old, new)):
            raise RuntimeError(f"retraining changed {net.name}'s weights; only the attribute "
                               "generator may change (this is a bug, please report it)")
    return history
