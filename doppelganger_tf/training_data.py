"""What ``DoppelGANger.fit`` feeds the training step: a Dataset encoded as the critics see it,
and an endless stream of batches of its row indices (the step gathers the rows itself: a
pipeline that gathers them costs ~4% of a WWT-shape step, docs/benchmarks.md)."""
from __future__ import annotations

from typing import Optional

import numpy as np
import tensorflow as tf

from . import transforms
from .dataset import Dataset


def check_compatible(model, dataset: Dataset):
    """Raise unless ``dataset`` has the length and output types ``model`` was built for."""
    dataset.validate(model.config.sample_len)
    if dataset.max_length != model.max_length:
        raise ValueError(f"the dataset has T={dataset.max_length} but the model was built for "
                         f"T={model.max_length}")
    for kind, mine, theirs in [("feature", model.feature_outputs, dataset.feature_outputs),
                               ("attribute", model.attribute_outputs,
                                dataset.attribute_outputs)]:
        if [(o.type, o.dim, o.normalization) for o in mine] != \
                [(o.type, o.dim, o.normalization) for o in theirs]:
            raise ValueError(f"the dataset's {kind} outputs differ from the model's: build "
                             "the model from this dataset (DoppelGANger.from_dataset)")


def critic_inputs(model, dataset: Dataset):
    """Dataset -> the arrays the critics see: (features with the two generation-flag columns,
    attributes with the min/max attributes when auto-normalisation is on), float32."""
    check_compatible(model, dataset)
    features, attributes = dataset.features, dataset.attributes
    if model.config.auto_normalize and model.minmax_outputs:
        features, extra = transforms.normalize_per_sample(
            features, dataset.gen_flags, model.feature_outputs,
            masked=model.config.auto_normalize_masked)
        attributes = np.concatenate([attributes, extra], axis=1)
    flags = transforms.encode_gen_flags(dataset.gen_flags, model.config.sample_len)
    features = np.concatenate([features, flags], axis=2).astype(np.float32)
    return features, attributes.astype(np.float32)


def sampling(config) -> str:
    """How ``config`` draws training batches: "poisson" (DP runs, by default), "with_replacement"
    (the original) or "shuffle" (see batch_indices)."""
    if config.dp_noise_multiplier is not None and config.dp_poisson_sampling:
        return "poisson"
    return "with_replacement" if config.sample_with_replacement else "shuffle"


def steps_per_epoch(num_samples: int, batch_size: int) -> int:
    """N / batch, as the original's epoch."""
    return max(1, num_samples // batch_size)


def batch_indices(n: int, batch_size: int, sampling: str,
                  seed: Optional[int]) -> tf.data.Dataset:
    """Endless index vectors of training batches over ``n`` rows.

    sampling: "poisson" (each row with probability batch_size / n: DP runs, for exact
    accounting), "with_replacement" (the original) or "shuffle" (epochs shuffled without
    replacement, the last N mod batch rows of each left out as in the original's epoch).
    Each pipeline element is one whole batch drawn by one stateless op from a seed pair: a
    pipeline that pulls one element per index costs tf.data ~batch element steps per batch on
    the cores the training step needs."""
    seeds = tf.data.Dataset.random(seed=seed).batch(2)  # stateless seed pairs
    if sampling == "poisson":
        rate = min(1.0, batch_size / n)
        return seeds.map(lambda pair: tf.reshape(tf.where(
            tf.random.stateless_uniform([n], seed=pair) < rate), [-1]))
    if sampling == "with_replacement":
        return seeds.map(lambda pair: tf.random.stateless_uniform(
            [batch_size], seed=pair, minval=0, maxval=n, dtype=tf.int64))
    batch = min(batch_size, n)
    per_epoch = n // batch

    def epoch(pair):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), pair)
        return tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[:per_epoch * batch], [per_epoch, batch]))
    return seeds.flat_map(epoch)


class TrainingData:
    """A Dataset prepared for ``model``'s training step: its critic inputs as constants, which
    the step captures (a new TrainingData makes Keras trace the step anew)."""

    def __init__(self, model, dataset: Dataset):
        self.dataset = dataset
        self.features, self.attributes = (tf.constant(a) for a in critic_inputs(model, dataset))
        self.batch_size = model.config.batch_size
        self.sampling = model.sampling

    def batches(self, seed: Optional[int] = None) -> tf.data.Dataset:
        """Endless {"indices"} elements, one training batch each."""
        return batch_indices(len(self.dataset), self.batch_size, self.sampling, seed).map(
            lambda i: {"indices": i}).prefetch(2)

    def gather(self, indices):
        """(real features, real attributes) of the rows ``indices``."""
        return tf.gather(self.features, indices), tf.gather(self.attributes, indices)
