"""Generation that agrees with observed measurements: continue a series from its first steps,
or fill the missing steps of a partly observed one.

Method: the generator is deterministic given its noise, so a series the model "would have
generated" to produce an observation is one whose noise explains it. Each requested sample is
a draw from the noise's posterior given the observation (N(0, 1) prior, Gaussian observation
noise of ``noise_scale``), made by perturb-and-MAP: draw a prior sample z0 and perturbed
observations y' = y + noise_scale * e, then minimise by gradient descent (Adam), with the
generator's weights fixed,

    sum over observed cells (generated(z) - y')^2 / (2 noise_scale^2) + |z - z0|^2 / 2

over the noise z (the LSTM's initial state, the per-step feature noise and the min/max
generator's noise). For a linear generator this gives exact posterior samples; here it keeps
the samples of one series apart wherever the observation leaves the model free (a plain MAP fit
would pull them all to the same mode). Then:

- continuation: the noise of the steps after the observed prefix is drawn afresh (the prior's,
  as in plain generation) and the LSTM runs on to the requested length;
- gap filling: the noise of every step is fitted (later observations inform earlier gaps through
  the LSTM), and the missing cells take the generated values.

Observed cells come back exactly as given (``keep_observed``); the fit's own reproduction of
them is measured by :func:`fit_noise`'s returned error. Attributes are given (the series' own)
or, when unknown, drawn from the model for each sample. The fit runs in the model's encoding
(every continuous column scaled to its normalisation's range by the training data's min/max).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from .. import arguments
from ..data.dataset import Dataset
from ..data.outputs import Normalization, output_blocks
from .generation import checked_or_fresh_seed, postprocess

# Adam on the noise: steps and rate that brought the fit's error to its plateau on the MBA
# data (docs/conditional_generation.md)
DEFAULT_ITERATIONS = 300
DEFAULT_LEARNING_RATE = 0.05
# the observation noise assumed by the likelihood, as a share of a column's encoded range
DEFAULT_NOISE_SCALE = 0.01


class NoiseFit(NamedTuple):
    """What :func:`fit_noise` returns."""
    noise: dict  # {noise name: float32 array [B, ...]}: the fitted noise
    attributes: Optional[np.ndarray]  # [B, A_enc] the attributes used, None without attributes
    error: np.ndarray  # [B] root mean squared error over each sample's observed cells


def in_model_encoding(model, data: Dataset) -> np.ndarray:
    """``data``'s features [N, T, K_enc] in the model's encoding: continuous columns rescaled
    from ``data``'s min/max to the model's (they differ when ``data`` was read on its own).

    Raises:
        ValueError: the feature columns are not the model's (names, types, categories).
    """
    ours = [(o.name, o.type, o.dim, o.labels() if not o.is_continuous else None, o.transform)
            for o in model.feature_outputs]
    theirs = [(o.name, o.type, o.dim, o.labels() if not o.is_continuous else None, o.transform)
              for o in data.feature_outputs]
    if ours != theirs:
        raise ValueError(f"the data's feature columns {[t[0] for t in theirs]} are not the "
                         f"model's {[o[0] for o in ours]} (names, types, categories and "
                         "transforms must match): read the data with the columns and options "
                         "the model was trained on")
    features = data.features.copy()
    low_m, high_m = model.scaling.get("feature_min"), model.scaling.get("feature_max")
    low_d, high_d = data.feature_min, data.feature_max
    if low_m is None or low_d is None or (np.array_equal(low_m, low_d)
                                           and np.array_equal(high_m, high_d)):
        return features  # the same scaling: the values exactly as given
    for o, start, _ in output_blocks(model.feature_outputs):
        if not o.is_continuous:
            continue
        bottom = o.normalization.low
        unit = (features[..., start] - bottom) / (1.0 - bottom)  # the data's [0, 1] position
        real = low_d[start] + unit * (high_d[start] - low_d[start])
        span = max(high_m[start] - low_m[start], np.finfo(np.float32).tiny)
        features[..., start] = bottom + (1.0 - bottom) * (real - low_m[start]) / span
    return features


def fit_noise(model, targets: np.ndarray, observed: np.ndarray,
              attributes: Optional[np.ndarray], steps: int, *, seed: int,
              iterations: int = DEFAULT_ITERATIONS,
              learning_rate: float = DEFAULT_LEARNING_RATE,
              noise_scale: float = DEFAULT_NOISE_SCALE) -> NoiseFit:
    """The generator's noise fitted to observed cells (the module docstring's perturb-and-MAP).

    Args:
        model: a trained DoppelGANger.
        targets: float32 [B, T', K_enc] observed values in the model's encoding (T' <= the
            generated steps x S; any value where not observed).
        observed: float32 [B, T', K_enc], 1 where ``targets`` holds an observation.
        attributes: [B, A_enc] encoded attributes to condition on, or None to draw them from
            the model (one draw per sample).
        steps: LSTM steps to generate (each emits S records; at least ceil(T' / S)).
        seed: the seed of the initial noise and of drawn attributes.
        iterations: Adam steps on the noise.
        learning_rate: Adam's step size.
        noise_scale: the observation noise the likelihood assumes (share of the encoded range).

    Returns:
        a :class:`NoiseFit`.
    """
    generator = model.sampling_generator
    batch = len(targets)
    rng = np.random.default_rng(seed)
    noise = generator.sample_noise(
        batch, lambda shape: rng.standard_normal(shape).astype(np.float32), steps=steps)
    if attributes is None and model.num_attribute_columns:
        _, hard = generator.attribute_generator(tf.constant(noise["attribute_noise"]),
                                                training=False)
        attributes = np.asarray(hard, np.float32)
    fitted = ["initial_state", "feature_noise"]
    if generator.minmax_generator is not None:
        fitted.append("minmax_noise")
    variables = {k: tf.Variable(noise[k], name=k) for k in fitted}
    anchors = {k: tf.constant(noise[k]) for k in fitted}  # z0: the prior draw
    fixed = {k: tf.constant(v) for k, v in noise.items() if k not in variables}
    given = None if attributes is None else tf.constant(attributes, tf.float32)
    length = targets.shape[1]
    perturbed = targets + noise_scale * rng.standard_normal(targets.shape).astype(np.float32)
    targets_t = tf.constant(perturbed, tf.float32)
    observed_t = tf.constant(observed, tf.float32)
    weight = 1.0 / (2.0 * noise_scale ** 2)
    adam = _Adam(list(variables.values()), learning_rate)
    renormalize = _renormalizer(model)

    def generated():
        out = generator({**variables, **fixed}, given, training=False, differentiable=True)
        return renormalize(out.features[:, :length, :-2], out.soft_attributes)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            squared = observed_t * tf.square(generated() - targets_t)
            prior = tf.add_n([0.5 * tf.reduce_sum(tf.square(v - anchors[k]))
                              for k, v in variables.items()])
            loss = weight * tf.reduce_sum(squared) + prior
        adam.apply(tape.gradient(loss, adam.variables))

    for _ in range(arguments.integer("iterations", iterations, minimum=0)):
        step()
    squared = np.asarray(observed * np.square(np.asarray(generated()) - targets))
    counts = np.maximum(observed.reshape(batch, -1).sum(axis=1), 1)
    error = np.sqrt(squared.reshape(batch, -1).sum(axis=1) / counts)
    return NoiseFit({**{k: v.numpy() for k, v in variables.items()},
                     **{k: v.numpy() for k, v in fixed.items()}}, attributes, error)


class _Adam:
    """Adam on a few variables (the same on both Keras versions, no optimizer state in the
    model): m, v moving moments, bias-corrected."""

    def __init__(self, variables, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.variables = variables
        self.rate, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.v = [tf.Variable(tf.zeros_like(v)) for v in variables]
        self.t = tf.Variable(0.0)

    def apply(self, gradients):
        self.t.assign_add(1.0)
        correction = tf.sqrt(1 - self.beta_2 ** self.t) / (1 - self.beta_1 ** self.t)
        for var, grad, m, v in zip(self.variables, gradients, self.m, self.v):
            m.assign(self.beta_1 * m + (1 - self.beta_1) * grad)
            v.assign(self.beta_2 * v + (1 - self.beta_2) * tf.square(grad))
            var.assign_sub(self.rate * correction * m / (tf.sqrt(v) + self.epsilon))


def _renormalizer(model):
    """(soft features [B, T, K_enc], soft attributes [B, A+M]) -> the features in the data's
    encoding: with auto-normalisation, each series' generated min/max put back (as
    transforms.renormalize_per_sample does, differentiably); else the features unchanged."""
    if not model.minmax_outputs:
        return lambda features, _: features
    first = model.num_attribute_columns
    columns = [(start, o.normalization) for o, start, _ in output_blocks(model.feature_outputs)
               if o.is_continuous]

    def renormalize(features, soft_attributes):
        parts = list(tf.unstack(features, axis=2))
        for i, (col, norm) in enumerate(columns):
            mid = soft_attributes[:, first + 2 * i][:, None]
            half = soft_attributes[:, first + 2 * i + 1][:, None]
            if norm is Normalization.MINUSONE_ONE:
                parts[col] = parts[col] * half + mid
            else:
                parts[col] = parts[col] * 2.0 * half + mid - half
        return tf.stack(parts, axis=2)
    return renormalize


def generate_from_noise(model, noise: dict, attributes, lengths: np.ndarray, total: int,
                        clip: bool = True):
    """The generator run on given noise -> (features [B, total, K_enc], attributes [B, A_enc],
    gen_flags [B, total]) in the data's encoding, series forced to ``lengths``."""
    given = None if attributes is None else tf.constant(attributes, tf.float32)
    out = model.sampling_generator({k: tf.constant(v) for k, v in noise.items()}, given,
                                   training=False, hard_features_out=True)
    features = np.array(out.features[:, :total])  # a writable copy: postprocess works in place
    return postprocess(model, features, np.asarray(out.mask)[:, :total],
                       np.asarray(out.hard_attributes), lengths, clip)


def observed_cells(model, mask: np.ndarray, num_series: int, length: int) -> np.ndarray:
    """A missing-value mask [N, T] (a whole step) or [N, T, F] (per feature column, in the
    order of the model's feature outputs) -> float32 [N, T, K_enc], 1 where observed.

    Raises:
        ValueError: a mask of another shape or type.
    """
    mask = np.asarray(mask)
    outputs = list(model.feature_outputs)
    if mask.dtype != bool:
        raise ValueError(f"missing must be a boolean array (True where a value is missing), "
                         f"got dtype {mask.dtype}")
    if mask.shape == (num_series, length):
        mask = np.repeat(mask[:, :, None], len(outputs), axis=2)
    if mask.shape != (num_series, length, len(outputs)):
        raise ValueError(f"missing has shape {mask.shape}; give [N, T] = "
                         f"{(num_series, length)} (whole steps) or [N, T, F] = "
                         f"{(num_series, length, len(outputs))} (per feature column)")
    observed = np.zeros((num_series, length, sum(o.dim for o in outputs)), np.float32)
    for j, (o, start, stop) in enumerate(output_blocks(outputs)):
        observed[:, :, start:stop] = (~mask[:, :, j])[:, :, None]
    return observed


def series_attributes(model, data: Dataset, use_attributes: bool) -> Optional[np.ndarray]:
    """The attributes to condition on: ``data``'s (checked against the model's) or None."""
    if not use_attributes or not model.num_attribute_columns:
        return None
    if [o.name for o in data.attribute_outputs] != [o.name for o in model.attribute_outputs] \
            or data.num_attribute_columns != model.num_attribute_columns:
        raise ValueError(f"the data's attributes {data.attribute_names} are not the model's "
                         f"{[o.name for o in model.attribute_outputs]}; pass "
                         "use_attributes=False to draw them from the model instead")
    return data.attributes


def continue_series(model, prefix: Dataset, num: int = 1, length: Optional[int] = None, *,
                    seed: Optional[int] = None, use_attributes: bool = True,
                    keep_observed: bool = True, iterations: int = DEFAULT_ITERATIONS,
                    learning_rate: float = DEFAULT_LEARNING_RATE,
                    noise_scale: float = DEFAULT_NOISE_SCALE) -> Dataset:
    """``num`` continuations of each observed series (see the module docstring).

    Args:
        model: a trained DoppelGANger.
        prefix: the observed first steps of each series, as a Dataset with the model's feature
            columns (each series' active steps are its observation; steps after them are
            ignored).
        num: continuations per series.
        length: the length of every continued series (default: the training length T).
        seed: same seed, same samples (default: a fresh one).
        use_attributes: condition on ``prefix``'s attributes (False: draw them per sample).
        keep_observed: the observed steps come back exactly as given (False: the model's fit
            of them).
        iterations: the noise fit's Adam steps (:func:`fit_noise`).
        learning_rate: the noise fit's Adam step size.
        noise_scale: the observation noise the fit assumes (share of the encoded range).

    Returns:
        a Dataset of ``len(prefix) * num`` series of ``length`` steps, in the model's encoding;
        series ``i * num + j`` is continuation ``j`` of prefix ``i``.

    Raises:
        ValueError: a prefix as long as ``length`` or longer than T, or other columns than
            the model's.
    """
    num = arguments.integer("num", num, minimum=1)
    length = model.max_length if length is None else arguments.integer("length", length,
                                                                      minimum=1)
    encoded = in_model_encoding(model, prefix)  # checks the columns first
    observed_steps = prefix.lengths
    longest = int(observed_steps.max()) if len(prefix) else 0
    if longest > model.max_length:
        raise ValueError(f"a prefix has {longest} observed steps, more than the model's "
                         f"training length T={model.max_length}: the model has never "
                         "generated past T; give the last T steps at most")
    if longest >= length:
        raise ValueError(f"a prefix has {longest} observed steps but length={length}: ask "
                         "for a length beyond the longest prefix")
    if length > model.max_length:
        warnings.warn(f"length {length} is beyond the training length T={model.max_length}: "
                      "the continuation extrapolates past what the model learned",
                      UserWarning, stacklevel=2)
    seed = checked_or_fresh_seed(seed)
    targets = encoded[:, :longest]
    observed = np.broadcast_to(prefix.gen_flags[:, :longest, None] > 0.5,
                               targets.shape).astype(np.float32)
    attributes = series_attributes(model, prefix, use_attributes)
    rows = np.repeat(np.arange(len(prefix)), num)
    sample_len = model.config.sample_len
    steps = -(-length // sample_len)
    fit = fit_noise(model, targets[rows], observed[rows],
                    None if attributes is None else attributes[rows], steps, seed=seed,
                    iterations=iterations, learning_rate=learning_rate, noise_scale=noise_scale)
    noise = dict(fit.noise)
    # after each prefix, the prior's noise: the continuation follows the learned dynamics
    first_free = -(-observed_steps[rows] // sample_len)
    fresh = np.random.default_rng([seed, 1]).standard_normal(noise["feature_noise"].shape)
    free = np.arange(steps)[None, :] >= first_free[:, None]
    noise["feature_noise"] = np.where(free[:, :, None], fresh, noise["feature_noise"]).astype(
        np.float32)
    features, attrs, gen_flags = generate_from_noise(
        model, noise, fit.attributes, np.full(len(rows), length), length)
    if keep_observed:
        cells = np.zeros(features.shape, bool)
        cells[:, :longest] = observed[rows] > 0
        features[cells] = targets[rows][observed[rows] > 0]
    return Dataset(features, attrs, gen_flags, list(model.feature_outputs),
                   list(model.attribute_outputs), **model.scaling, validate=False,
                   frame=model.frame)


def impute(model, data: Dataset, missing: np.ndarray, num: int = 1, *,
           seed: Optional[int] = None, use_attributes: bool = True,
           iterations: int = DEFAULT_ITERATIONS, learning_rate: float = DEFAULT_LEARNING_RATE,
           noise_scale: float = DEFAULT_NOISE_SCALE) -> Dataset:
    """Fill the missing cells of each series with the model's samples given the observed ones.

    Args:
        model: a trained DoppelGANger.
        data: the series, with the model's feature columns; the values at missing cells are
            ignored (e.g. those ``missing="interpolate"`` put there).
        missing: bool [N, T] (whole steps missing) or [N, T, F] (per feature column), True
            where a value is missing.
        num: samples per series (different fills of the same gaps).
        seed: same seed, same samples (default: a fresh one).
        use_attributes: condition on ``data``'s attributes (False: draw them per sample).
        iterations: the noise fit's Adam steps (:func:`fit_noise`).
        learning_rate: the noise fit's Adam step size.
        noise_scale: the observation noise the fit assumes (share of the encoded range).

    Returns:
        a Dataset of ``len(data) * num`` series (series ``i * num + j`` is fill ``j`` of series
        ``i``), observed cells unchanged, in the model's encoding; with ``num=1`` it keeps
        ``data``'s ids and times.

    Raises:
        ValueError: series longer than T, other columns than the model's, a bad mask.
    """
    num = arguments.integer("num", num, minimum=1)
    if data.max_length > model.max_length:
        raise ValueError(f"the series have {data.max_length} steps, more than the model's "
                         f"training length T={model.max_length}: impute windows of T steps")
    seed = checked_or_fresh_seed(seed)
    targets = in_model_encoding(model, data)
    active = (data.gen_flags > 0.5)[:, :, None]
    observed = observed_cells(model, missing, len(data), data.max_length) * active
    attributes = series_attributes(model, data, use_attributes)
    rows = np.repeat(np.arange(len(data)), num)
    steps = -(-data.max_length // model.config.sample_len)
    fit = fit_noise(model, targets[rows], observed[rows],
                    None if attributes is None else attributes[rows], steps, seed=seed,
                    iterations=iterations, learning_rate=learning_rate, noise_scale=noise_scale)
    features, attrs, gen_flags = generate_from_noise(model, fit.noise, fit.attributes,
                                                     data.lengths[rows], data.max_length)
    keep = observed[rows] > 0
    features[keep] = targets[rows][keep]
    frame = data.frame if num == 1 else model.frame
    return Dataset(features, attrs, gen_flags, list(model.feature_outputs),
                   list(model.attribute_outputs), **model.scaling, validate=False, frame=frame)

