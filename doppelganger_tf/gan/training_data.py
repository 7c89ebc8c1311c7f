"""What ``DoppelGANger.fit`` feeds the training step, in one of two input modes:

- "memory" (:class:`TrainingData`): the Dataset encoded as the critics see it, held as
  constants, and an endless stream of batches of its row indices (the step gathers the rows
  itself: a pipeline that gathers them costs ~4% of a WWT-shape step);
- "streamed" (:class:`StreamedTrainingData`): the same index stream, but the pipeline reads
  each batch's rows from the Dataset's arrays (memory-mapped when it was loaded from the
  streamed layout, ``DatasetStreamWriter``) and encodes only them, so a dataset larger than
  memory trains without being copied whole.

Both give the step the same rows, in the same order, with the same values: the critics'
encoding (:class:`CriticEncoding`) works per sample. :func:`input_mode` picks one
("auto": streamed for memory-mapped data or critic inputs above STREAM_ABOVE_BYTES).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from ..data import transforms
from ..data.dataset import Dataset
from ..data.outputs import Output

INPUT_MODES = ("auto", "memory", "streamed")
# input_mode="auto" streams a dataset held in memory too when its critic inputs (float32, the
# features with two flag columns, the attributes with the min/max ones) would exceed this
STREAM_ABOVE_BYTES = 1 << 30


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


@dataclasses.dataclass(frozen=True)
class CriticEncoding:
    """Rows of a Dataset -> what the critics see of them: (features with the two
    generation-flag columns, attributes with the min/max attributes when auto-normalisation is
    on), float32. Every part works per sample (the min/max of a sample's own series, its own
    flags), so encoding a batch of rows gives exactly the rows of the encoded whole."""
    feature_outputs: Tuple[Output, ...]
    auto_normalize: bool
    masked: bool
    sample_len: int
    minmax_columns: int  # the min/max attributes added (model.num_minmax_columns), or 0

    @classmethod
    def of(cls, model) -> "CriticEncoding":
        cfg = model.config
        auto_normalize = bool(cfg.auto_normalize and model.minmax_outputs)
        return cls(tuple(model.feature_outputs), auto_normalize, bool(cfg.auto_normalize_masked),
                   int(cfg.sample_len), model.num_minmax_columns if auto_normalize else 0)

    def __call__(self, features, attributes, gen_flags):
        if self.auto_normalize:
            features, extra = transforms.normalize_per_sample(
                features, gen_flags, self.feature_outputs, masked=self.masked)
            attributes = np.concatenate([attributes, extra], axis=1)
        flags = transforms.encode_gen_flags(gen_flags, self.sample_len)
        features = np.concatenate([features, flags], axis=2).astype(np.float32)
        return features, np.asarray(attributes, np.float32)

    def widths(self, dataset: Dataset) -> Tuple[int, int]:
        """(feature columns, attribute columns) of the encoded rows."""
        return (dataset.num_feature_columns + 2,
                dataset.num_attribute_columns + self.minmax_columns)


def critic_inputs(model, dataset: Dataset):
    """Dataset -> the arrays the critics see (:class:`CriticEncoding`), all rows at once."""
    check_compatible(model, dataset)
    return CriticEncoding.of(model)(dataset.features, dataset.attributes, dataset.gen_flags)


def is_memory_mapped(array) -> bool:
    """Whether ``array`` is (a view of) an ``np.memmap``: Dataset.load of the streamed layout
    (the Dataset holds an ndarray view of the map)."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = getattr(array, "base", None)
    return False


def critic_input_bytes(model, dataset: Dataset) -> int:
    """Bytes of ``critic_inputs(model, dataset)`` (what the "memory" input mode holds)."""
    features, attributes = CriticEncoding.of(model).widths(dataset)
    return 4 * len(dataset) * (dataset.max_length * features + attributes)


def input_mode(model, dataset: Dataset, mode: str = "auto") -> str:
    """"memory" or "streamed": ``mode`` itself, or for "auto" streamed when the dataset's
    features are memory-mapped (Dataset.load of the streamed layout) or its critic inputs
    would exceed STREAM_ABOVE_BYTES, memory otherwise."""
    if mode not in INPUT_MODES:
        raise ValueError(f"unknown input_mode {mode!r}; choose from {', '.join(INPUT_MODES)} "
                         "(\"streamed\" reads each batch's rows from the dataset's arrays, "
                         "\"memory\" holds the encoded dataset whole)")
    if mode != "auto":
        return mode
    if is_memory_mapped(dataset.features) or \
            critic_input_bytes(model, dataset) > STREAM_ABOVE_BYTES:
        return "streamed"
    return "memory"


def sampling(config) -> str:
    """How ``config`` draws training batches: "poisson" (DP runs, by default), "with_replacement"
    (the original) or "shuffle" (see batch_indices)."""
    if config.dp_noise_multiplier is not None and config.dp_poisson_sampling:
        return "poisson"
    return "with_replacement" if config.sample_with_replacement else "shuffle"


def poisson_rate(num_samples: int, batch_size: int) -> float:
    """The probability with which a Poisson batch holds each row: B / N (1 when B >= N). The
    privacy accountant reads it from here (privacy.accounting_event), so the epsilon reported is
    the one for the batches drawn."""
    return min(1.0, batch_size / num_samples)


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
        rate = poisson_rate(n, batch_size)
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
    """A Dataset prepared for ``model``'s training step ("memory" input mode): its critic
    inputs as constants, which the step captures (a new TrainingData makes Keras trace the step
    anew); the pipeline yields {"indices"} and the step gathers those rows."""

    mode = "memory"

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


class StreamedTrainingData:
    """A Dataset read batch by batch for ``model``'s training step ("streamed" input mode):
    the pipeline draws the same index vectors as :class:`TrainingData`, reads those rows from
    the Dataset's arrays (memory-mapped ones page in only the rows read) and encodes them as
    :func:`critic_inputs` would, so only a few batches are ever held; it yields {"features",
    "attributes"}, the rows in the order of the indices.

    The reads run in Python (tf.numpy_function) on tf.data's threads: ~2 ms per batch of 100
    WWT-shape rows, ~12 ms per 1,000 (docs/performance.md, "Memory"). ``fit`` frees its iterators when it
    returns; an iterator of :meth:`batches` kept alive until the interpreter exits can hang
    the exit (TensorFlow cannot finish a Python call during shutdown): delete it first."""

    mode = "streamed"
    # batches read and encoded ahead of the step (a few batch-sized arrays; the pipeline's
    # Python reads run on tf.data's threads while the step runs)
    PREFETCH = 4

    def __init__(self, model, dataset: Dataset):
        check_compatible(model, dataset)  # (in chunks: memory-mapped data are not loaded)
        self.dataset = dataset
        self.encoding = CriticEncoding.of(model)
        self.batch_size = model.config.batch_size
        self.sampling = model.sampling
        features, attributes = self.encoding.widths(dataset)
        self._shapes = ([dataset.max_length, features], [attributes])

    def rows(self, indices) -> Tuple[np.ndarray, np.ndarray]:
        """The critic inputs (features, attributes) of the rows ``indices``, in that order.
        Each distinct row is read once, in increasing order (sequential reads of a map)."""
        indices = np.asarray(indices, np.int64)
        unique, inverse = np.unique(indices, return_inverse=True)
        data = self.dataset
        features, attributes = self.encoding(data.features[unique], data.attributes[unique],
                                             data.gen_flags[unique])
        inverse = inverse.reshape(-1)
        return features[inverse], attributes[inverse]

    def _read(self, indices):
        features, attributes = tf.numpy_function(
            self.rows, [indices], [tf.float32, tf.float32], stateful=False,
            name="read_training_rows")
        features.set_shape(indices.shape.concatenate(self._shapes[0]))
        attributes.set_shape(indices.shape.concatenate(self._shapes[1]))
        return {"features": features, "attributes": attributes}

    def batches(self, seed: Optional[int] = None) -> tf.data.Dataset:
        """Endless {"features", "attributes"} elements, one training batch each."""
        return batch_indices(len(self.dataset), self.batch_size, self.sampling, seed).map(
            self._read, num_parallel_calls=2, deterministic=True).prefetch(self.PREFETCH)


def training_data(model, dataset: Dataset, mode: str = "auto"):
    """:class:`TrainingData` or :class:`StreamedTrainingData`, as :func:`input_mode` picks."""
    if input_mode(model, dataset, mode) == "streamed":
        return StreamedTrainingData(model, dataset)
    return TrainingData(model, dataset)
