"""Generation: a trained DoppelGANger's samples as a Dataset in real units, in memory
(``DoppelGANger.generate``) or streamed to disk (``generate_to``).

Each batch's noise is drawn inside one graph from a stateless seed pair (seed, batch index), so
the same seed and batch size give the same samples, also after save/load.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from . import arguments, transforms
from .conversion import to_dataframe
from .dataset import Dataset, encode_attribute_table
from .frame_files import file_kind, frame_writer

# rows per independent piece of a generation batch, which TensorFlow runs side by side on the
# cores (pieces of 100 to 512 rows measured the same)
GENERATION_CHUNK = 256


def seeded_normal(seed_pair):
    """normal(shape) drawing a distinct stateless N(0, 1) stream per call (per noise tensor of a
    generation batch) from one seed pair: the same seed gives the same noise."""
    counter = iter(range(1 << 20))

    def normal(shape):
        return tf.random.stateless_normal(shape, seed=seed_pair + tf.constant(
            [0, next(counter) << 32], tf.int64))
    return normal


class Sampler:
    """Draws samples from ``model``'s generator network and turns them into Datasets: min/max
    renormalisation, one-hot / clipped values, zeros after each series' end, real units."""

    def __init__(self, model):
        self.model = model
        self._functions = {}  # tf.functions by (conditional, chunks, LSTM steps)

    def generate(self, n, attributes, length, seed, batch_size, clip) -> Dataset:
        batches = self._batches(n, attributes, length, seed, batch_size, clip)
        # post-processed batch by batch (small temporaries), joined once
        parts = [self._postprocess(*batch, clip) for batch in batches]
        arrays = [parts[0][i] if len(parts) == 1 else np.concatenate([p[i] for p in parts])
                  for i in range(3)]
        return self._dataset(*arrays)

    def generate_to(self, path, n, attributes, length, seed, batch_size, clip) -> Path:
        from .dataset import DatasetStreamWriter

        seed = self._seed(seed)  # drawn once: the files' time stamps follow it too
        batches = self._batches(n, attributes, length, seed, batch_size, clip)
        kind = file_kind(path)
        if kind == "dataset":
            with DatasetStreamWriter(path, n) as writer:
                for batch in batches:
                    writer.append(self._dataset(*self._postprocess(*batch, clip)))
            return Path(path)
        with frame_writer(path, kind) as write:
            start = 0
            for index, batch in enumerate(batches):
                data = self._dataset(*self._postprocess(*batch, clip))
                # long layout; the batch's ids follow the previous batches' (unique over n);
                # its series' starts drawn with (seed, batch index)
                write(to_dataframe(data, layout="long", seed=[seed, index],
                                   ids_from=(start, n)))
                start += len(data)
        return Path(path)

    def _batches(self, n, attributes, length, seed, batch_size, clip):
        """The arguments checked now; then an iterator of (features, mask, hard attributes,
        forced lengths or None) per batch."""
        model = self.model
        arguments.boolean("clip", clip)
        given = None
        if attributes is not None:
            given = encode_attribute_table(attributes, model.attribute_outputs,
                                           model.scaling.get("attribute_min"),
                                           model.scaling.get("attribute_max"))
            if n is None:
                n = len(given)
            elif arguments.integer("n", n) != len(given):
                raise ValueError(f"n={n} but {len(given)} attribute rows were given")
        if n is None:
            raise ValueError("give n, the number of samples to generate (or attributes to "
                             "condition on, one row per sample)")
        n = arguments.integer("n", n, minimum=1)
        batch_size = arguments.integer("batch_size", batch_size, minimum=1)
        lengths = None if length is None else arguments.lengths(length, n)
        total = model.max_length if lengths is None else max(model.max_length, lengths.max())
        if total > model.max_length:
            warnings.warn(f"length {total} is beyond the training length T={model.max_length}: "
                          "the feature generator runs on past T, which it never did in "
                          "training (extrapolation; check the result, e.g. with "
                          "doppelganger_tf.evaluation.evaluate on a real set of that length)",
                          UserWarning, stacklevel=4)
        return self._generator_runs(n, given, lengths, total, self._seed(seed), batch_size)

    @staticmethod
    def _seed(seed) -> int:
        """The given seed checked, or a fresh one."""
        return (int(np.random.SeedSequence().entropy % (2 ** 31)) if seed is None
                else arguments.seed(seed))

    def _generator_runs(self, n, given, lengths, total, seed, batch_size):
        """Per batch: the generator's outputs over ``total`` steps (the LSTM rolls out
        ceil(total / S) steps; the last one's records past ``total`` are cut)."""
        chunks = -(-min(batch_size, n) // GENERATION_CHUNK)
        steps = -(-total // self.model.config.sample_len)
        for batch_index, start in enumerate(range(0, n, batch_size)):
            size = min(batch_size, n - start)
            inputs = [tf.constant([seed, batch_index], tf.int64), tf.constant(size, tf.int32)]
            if given is not None:
                inputs.append(tf.constant(given[start:start + size]))
            out = self._function(given is not None, chunks, steps)(*inputs)
            features, mask, _, hard = (np.asarray(t) for t in out)  # views, no copies
            yield (features[:, :total], mask[:, :total], hard,
                   None if lengths is None else lengths[start:start + size])

    def _function(self, conditional: bool, chunks: int, steps: int):
        """tf.function (seed pair, size[, attributes]) -> the generator's outputs for ``size``
        samples: the noise is drawn inside the graph, and the batch runs as ``chunks``
        independent pieces that TensorFlow executes concurrently (generation of one sample does
        not depend on the others)."""
        key = (conditional, chunks, steps)
        if key in self._functions:
            return self._functions[key]
        generator = self.model.sampling_generator
        seed_spec = tf.TensorSpec([2], tf.int64)
        size_spec = tf.TensorSpec([], tf.int32)

        def generate(seed_pair, size, attributes=None):
            noise = generator.sample_noise(size, seeded_normal(seed_pair), steps=steps)
            # chunk sizes differ by at most one row (zero rows when size < chunks)
            sizes = size // chunks + tf.cast(tf.range(chunks) < size % chunks, tf.int32)
            pieces = {k: tf.split(v, sizes) for k, v in noise.items()}
            if attributes is not None:
                attributes = tf.split(attributes, sizes)
            outs = [generator({k: v[i] for k, v in pieces.items()},
                              None if attributes is None else attributes[i], training=False,
                              hard_features_out=True)
                    for i in range(chunks)]
            return [tf.concat(parts, axis=0) for parts in zip(*outs)]

        if conditional:
            attr_spec = tf.TensorSpec([None, self.model.num_attribute_columns], tf.float32)
            function = tf.function(generate, input_signature=[seed_spec, size_spec, attr_spec])
        else:
            def unconditional(seed_pair, size):  # a def: autograph cannot parse a lambda's source
                return generate(seed_pair, size)
            function = tf.function(unconditional, input_signature=[seed_spec, size_spec])
        self._functions[key] = function
        return function

    def _postprocess(self, features, mask, hard_attributes, lengths, clip):
        """The generator's outputs -> (features, attributes, gen_flags) in the dataset's
        encoding: min/max renormalisation, one-hot / clipped values, zero after each series'
        end."""
        model = self.model
        gen_flags = (mask if lengths is None
                     else transforms.gen_flags_from_lengths(lengths, features.shape[1]))
        features = features[..., :-2]  # drop the generation-flag columns
        if model.minmax_outputs:
            features = transforms.renormalize_per_sample(
                features, hard_attributes[:, model.num_attribute_columns:], gen_flags,
                model.feature_outputs)
        features = transforms.harden(features, model.feature_outputs, clip,
                                     copy=not model.minmax_outputs)
        features *= gen_flags[..., None]  # hardened one-hots after the end are zeroed too
        attributes = transforms.harden(hard_attributes[:, :model.num_attribute_columns],
                                       model.attribute_outputs, clip)
        return features, attributes, gen_flags

    def _dataset(self, features, attributes, gen_flags) -> Dataset:
        """Generated arrays as a Dataset. They are valid by construction (tests check that),
        except where a diverged model generates NaN, so only that is checked: the full
        validation would take ~10% of the generation time."""
        if not (np.isfinite(features).all() and np.isfinite(attributes).all()):
            raise ValueError("the model generated NaN or infinite values: its weights are not "
                             "finite (training diverged); retrain, e.g. from an earlier "
                             "checkpoint or with a lower learning rate")
        model = self.model
        return Dataset(features, attributes, gen_flags, list(model.feature_outputs),
                       list(model.attribute_outputs), **model.scaling, validate=False,
                       frame=model.frame)
