"""What the baselines share: the fit/generate interface and the helpers every model uses.

Interface (the same as :class:`doppelganger_tf.DoppelGANger` where it matters)::

    model = SomeBaseline(**config).fit(dataset, epochs=None, seed=None, verbose=0)
    synthetic = model.generate(n, seed=None)   # a Dataset

``generate`` returns a :class:`~doppelganger_tf.data.dataset.Dataset` in the training data's
encoding, with its output specs and raw-unit scaling, so ``synthetic.to_dataframe()`` gives real
units. ``epochs=None`` uses the model's ``default_epochs``.  A given ``seed`` makes ``fit``
repeatable (``tf.keras.utils.set_random_seed`` for the Keras models) and ``generate`` reproducible
(every random draw of ``generate`` comes from ``numpy.random.default_rng(seed)``).

Helpers, each written once here:

- sampling whole attribute rows of the training set (the paper's "training multinomial" of the
  metadata) and lengths from the empirical length distribution;
- *records*: a time step's encoded feature columns followed by the two generation-flag columns
  (``transforms.encode_gen_flags`` with ``sample_len=1``: [1, 0] the series continues after this
  step, [0, 1] it ends here, [0, 0] afterwards), which the AR, RNN and naive GAN models predict
  so that they generate lengths as DoppelGANger does;
- a Gaussian over the first records of the training series (the AR and RNN start from it);
- turning generated columns into a valid Dataset: continuous values clipped to their
  normalisation range, discrete blocks as the one-hot argmax, zero after the end;
- for the Keras models: the record loss (squared error on continuous columns, softmax
  cross-entropy on discrete blocks and the generation flags), MLPs, Adam and a seeded stream of
  training batches.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from .. import arguments
from ..compat import keras
from ..data.dataset import Dataset
from ..data.outputs import Output, output_blocks
from ..data.transforms import decode_gen_flags, encode_gen_flags, harden
from ..gan.networks import apply_output_activations, gen_flag_output


class Baseline:
    """Base class of the baselines: it keeps what ``generate`` needs from the training data,
    checks arguments and builds the output Dataset. Subclasses implement ``_fit`` and
    ``_generate``.
    """

    default_epochs: int = 1

    def __init__(self):
        self._fitted = False

    # --- public interface -----------------------------------------------------------------------

    def fit(self, dataset: Dataset, epochs: Optional[int] = None, seed: Optional[int] = None,
            verbose: int = 0) -> "Baseline":
        """Train on a Dataset.

        Args:
            dataset: The training Dataset.
            epochs: Training epochs; None uses the model's ``default_epochs``.
            seed: Makes the training repeatable.
            verbose: Keras' verbosity for the neural baselines.

        Returns:
            ``self``.

        Raises:
            TypeError: When ``dataset`` is not a Dataset.
            ValueError: When ``epochs`` is not a positive integer.
        """
        if not isinstance(dataset, Dataset):
            raise TypeError(f"fit expects a doppelganger_tf Dataset, got {type(dataset).__name__}")
        epochs = self.default_epochs if epochs is None else epochs
        epochs = arguments.count("epochs", epochs)
        self.feature_outputs: List[Output] = list(dataset.feature_outputs)
        self.attribute_outputs: List[Output] = list(dataset.attribute_outputs)
        self.max_length: int = dataset.max_length
        self.scaling: Dict[str, Optional[np.ndarray]] = dataset.scaling()
        self.training_attributes = dataset.attributes.copy()
        self.training_lengths = dataset.lengths.copy()
        if seed is not None:
            keras.utils.set_random_seed(int(seed))
        self._fit(dataset, int(epochs), seed, verbose)
        self._fitted = True
        return self

    def generate(self, n: int, seed: Optional[int] = None) -> Dataset:
        """Generate samples; the same ``seed`` gives the same data.

        Args:
            n: The number of samples.
            seed: Seeds the generation.

        Returns:
            A Dataset with the training data's specs and scaling.

        Raises:
            RuntimeError: Before ``fit``.
            ValueError: When ``n`` is not a positive number.
        """
        if not self._fitted:
            raise RuntimeError(f"{type(self).__name__} is not trained; call fit(dataset) first")
        n = arguments.count("n", n)
        rng = np.random.default_rng(seed)
        features, attributes, gen_flags = self._generate(int(n), rng)
        return self.to_dataset(features, attributes, gen_flags)

    # --- for subclasses -------------------------------------------------------------------------

    def _fit(self, dataset: Dataset, epochs: int, seed: Optional[int], verbose: int) -> None:
        raise NotImplementedError

    def _generate(self, n: int, rng: np.random.Generator
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (features [n, T, K_enc], attributes [n, A_enc], gen_flags [n, T]), possibly
        soft or out of range: :meth:`to_dataset` makes them valid."""
        raise NotImplementedError

    def sample_attributes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Whole attribute rows of the training set drawn uniformly with replacement: the empirical
        ("training multinomial") distribution of the full attribute vector.

        Args:
            n: Rows to draw.
            rng: A numpy Generator.

        Returns:
            [n, A_enc].
        """
        rows = rng.integers(0, len(self.training_attributes), size=n)
        return self.training_attributes[rows]

    def sample_lengths(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Lengths drawn from the empirical length distribution of the training set.

        Args:
            n: Lengths to draw.
            rng: A numpy Generator.

        Returns:
            [n].
        """
        return self.training_lengths[rng.integers(0, len(self.training_lengths), size=n)]

    @property
    def record_outputs(self) -> List[Output]:
        """The specs of one record.

        Returns:
            The feature outputs, then the generation-flag pair.
        """
        return self.feature_outputs + [gen_flag_output()]

    def to_dataset(self, features, attributes, gen_flags) -> Dataset:
        """Generated columns as a valid Dataset: continuous values clipped to their range,
        discrete blocks one-hot (argmax), features zero after each series ends.

        Args:
            features: [n, T, K_enc].
            attributes: [n, A_enc].
            gen_flags: [n, T].

        Returns:
            The Dataset, with the training data's specs and scaling.
        """
        gen_flags = np.asarray(gen_flags, np.float32)
        features = harden(features, self.feature_outputs) * gen_flags[:, :, None]
        attributes = harden(attributes, self.attribute_outputs)
        return Dataset(features.astype(np.float32), attributes.astype(np.float32), gen_flags,
                       self.feature_outputs, self.attribute_outputs, **self.scaling)


# --- numpy helpers -------------------------------------------------------------------------------

def dataset_records(dataset: Dataset) -> np.ndarray:
    """float32 [N, T, K_enc + 2]: the features followed by the two generation-flag columns."""
    flags = encode_gen_flags(dataset.gen_flags, 1)
    return np.concatenate([dataset.features, flags], axis=2).astype(np.float32)


def split_records(records) -> Tuple[np.ndarray, np.ndarray]:
    """Generated records [n, T, K_enc + 2] -> (features [n, T, K_enc], gen_flags [n, T]): a
    series ends at the first step whose flags say "ends here" (argmax)."""
    records = np.asarray(records)
    return records[..., :-2], decode_gen_flags(records[..., -2:])


class InitialRecordGaussian:
    """A multivariate Gaussian over the first ``steps`` records of the training series
    (flattened; padding after short series included as zeros), with a small ridge on the
    covariance.  Samples come back hardened (valid records)."""

    RIDGE = 1e-6

    def __init__(self, records: np.ndarray, steps: int, outputs: Sequence[Output]):
        self.steps = steps
        self.outputs = list(outputs)
        flat = records[:, :steps].reshape(len(records), -1).astype(np.float64)
        self.mean = flat.mean(axis=0)
        cov = np.cov(flat, rowvar=False) if len(flat) > 1 else np.zeros((flat.shape[1],) * 2)
        self.cov = np.atleast_2d(cov) + self.RIDGE * np.eye(flat.shape[1])
        self.record_dim = records.shape[2]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        flat = rng.multivariate_normal(self.mean, self.cov, size=n, method="cholesky")
        return harden(flat.reshape(n, self.steps, self.record_dim), self.outputs)


# --- Keras helpers -------------------------------------------------------------------------------

def mlp(hidden_layers: int, hidden_units: int, output_dim: int, name: str) -> keras.Sequential:
    """[Dense(hidden_units, ReLU)] x hidden_layers -> Dense(output_dim) (linear)."""
    layers = [keras.layers.Dense(hidden_units, activation="relu", name=f"dense_{i}")
              for i in range(hidden_layers)]
    return keras.Sequential(layers + [keras.layers.Dense(output_dim, name="head")], name=name)


def adam(learning_rate: float, beta_1: float = 0.9, beta_2: float = 0.999):
    """Adam with epsilon 1e-8 (the TF1 default the paper's code used; Keras' is 1e-7)."""
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=1e-8)


def record_loss(outputs: Sequence[Output]):
    """Loss over the last axis of (target, logits): squared error of the activated value
    (sigmoid / tanh) on continuous columns, softmax cross-entropy on discrete blocks (the
    generation flags included), summed over outputs.  Returns one value per record."""
    outputs = list(outputs)

    def loss(target, logits):
        soft, _ = apply_output_activations(logits, outputs)
        total = 0.0
        for out, start, stop in output_blocks(outputs):
            if out.is_continuous:
                total += tf.reduce_sum(tf.square(soft[..., start:stop] - target[..., start:stop]),
                                       axis=-1)
            else:
                total += tf.nn.softmax_cross_entropy_with_logits(target[..., start:stop],
                                                                 logits[..., start:stop])
        return total

    return loss


def hard_records(logits, outputs: Sequence[Output]):
    """Logits -> records to feed back: activated continuous values, one-hot discrete blocks."""
    return apply_output_activations(logits, list(outputs))[1]


def random_batches(num_rows: int, batch_size: int, seed: Optional[int], gather):
    """An endless, seeded tf.data stream of ``gather(indices)`` for batches of row indices drawn
    uniformly with replacement (as the original DoppelGANger samples batches), and the number
    of steps that make one epoch (about ``num_rows / batch_size``)."""
    data = (tf.data.Dataset.random(seed=seed).batch(batch_size)
            .map(lambda r: gather(tf.math.floormod(r, num_rows)),
                 num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))
    return data, max(1, -(-num_rows // batch_size))
