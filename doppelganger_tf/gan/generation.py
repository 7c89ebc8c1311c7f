"""Generation: a trained DoppelGANger's samples as a Dataset in real units, in memory
(``DoppelGANger.generate``) or streamed to disk (``generate_to``).

Each batch's noise is drawn inside one graph from a stateless seed pair (seed, batch index), so
the same seed and batch size give the same samples, also after save/load. So batches are
independent: ``generate_to(..., shard=i, num_shards=k)`` runs a contiguous range of them (the
same seeds as the whole run), and k processes write the samples of one run together
(:mod:`doppelganger_tf.persistence.sharded_storage`).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from .. import arguments
from ..data import transforms
from ..data.conversion import to_dataframe
from ..data.dataset import Dataset, encode_attribute_table
from ..persistence import sharded_storage
from ..persistence.atomic import check_parents
from ..persistence.frame_files import FILE_KINDS, file_kind, frame_writer
from . import conditional, resources
from .networks import GeneratorOutput

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


def check_output_path(path) -> str:
    """The kind of output ``generate_to`` writes at ``path`` (frame_files.file_kind), after
    refusing a path it cannot write: one under a file, or a suffix that is neither a
    Dataset directory's (none) nor a file kind's."""
    path = Path(path)
    check_parents(path)
    kind = file_kind(path)
    if kind == "dataset" and path.suffix and not path.is_dir():
        raise ValueError(f"generate_to writes a Dataset directory (a path without a suffix) or "
                         f"a file ending in {' or '.join(FILE_KINDS)}; {path} ends in "
                         f"{path.suffix!r}: rename it (e.g. {path.with_suffix('.csv')})")
    return kind


def frame_bytes(frame, kind: str) -> bytes:
    """``frame`` as the bytes a file of ``kind`` ("csv", "parquet") holds for it."""
    buffer = io.BytesIO()
    if kind == "csv":
        buffer.write(frame.to_csv(index=False).encode("utf-8"))
    else:
        try:
            frame.to_parquet(buffer, index=False)
        except ImportError:
            raise ImportError("writing Parquet needs pyarrow: pip install pyarrow (or "
                              "generate to a .csv file, or to a Dataset directory)") from None
    return buffer.getvalue()


def checked_or_fresh_seed(seed) -> int:
    """The given seed checked, or a fresh one."""
    return (int(np.random.SeedSequence().entropy % (2 ** 31)) if seed is None
            else arguments.seed(seed))


def postprocess(model, features, mask, hard_attributes, lengths, clip):
    """The generator's outputs (features with the two flag columns last, the activity mask,
    the hard attributes) -> (features, attributes, gen_flags) in the dataset's encoding:
    min/max renormalisation, one-hot / clipped values, atoms at their codes, zero after each
    series' end; series forced to ``lengths`` when given."""
    gen_flags = (mask if lengths is None
                 else transforms.gen_flags_from_lengths(lengths, features.shape[1]))
    features = features[..., :-2]  # drop the generation-flag columns
    if model.minmax_outputs:
        features = transforms.renormalize_per_sample(
            features, hard_attributes[:, model.num_attribute_columns:], gen_flags,
            model.feature_outputs)
    features = transforms.harden(features, model.feature_outputs, clip,
                                 copy=not model.minmax_outputs)
    transforms.snap_atoms(features, model.feature_outputs, model.scaling.get("feature_min"),
                          model.scaling.get("feature_max"))
    features *= gen_flags[..., None]  # hardened one-hots after the end are zeroed too
    attributes = transforms.harden(hard_attributes[:, :model.num_attribute_columns],
                                   model.attribute_outputs, clip)
    return features, attributes, gen_flags


def warn_unused_columns(attributes, outputs) -> None:
    """Warn about columns of a conditioning DataFrame that are not attributes of the model
    (they are ignored: a misspelt name would otherwise go unnoticed)."""
    if not hasattr(attributes, "columns"):
        return
    known = {name for o in outputs for name in o.column_names()}
    unused = [c for c in attributes.columns if c not in known]
    if unused:
        warnings.warn(f"the attributes frame's columns {unused[:10]} are not attributes of "
                      f"this model ({sorted(known)[:10]}) and are ignored", UserWarning,
                      stacklevel=5)


class _Plan(NamedTuple):
    """A generation's checked arguments."""
    n: int
    given: Optional[np.ndarray]  # the encoded attributes to condition on [n, A_enc], or None
    lengths: Optional[np.ndarray]  # the forced lengths [n], or None
    total: int  # time steps generated
    seed: int
    batch_size: int

    @property
    def num_batches(self) -> int:
        return -(-self.n // self.batch_size)


class Sampler:
    """Draws samples from ``model``'s generator network and turns them into Datasets: min/max
    renormalisation, one-hot / clipped values, zeros after each series' end, real units."""

    def __init__(self, model):
        self.model = model
        self._functions = {}  # tf.functions by (conditional, chunks, LSTM steps)

    def generate(self, n, attributes, length, seed, batch_size, clip) -> Dataset:
        plan = self._plan(n, attributes, length, seed, batch_size, clip)
        resources.check_memory(
            self._bytes_per_sample(plan) * plan.n, f"generate(n={plan.n})",
            "generate_to(path, n) writes them to disk with one batch in memory at a time; or "
            "generate fewer")
        features = np.empty((plan.n, plan.total, self._num_features()), np.float32)
        attributes = np.empty((plan.n, self.model.num_attribute_columns), np.float32)
        gen_flags = np.empty((plan.n, plan.total), np.float32)
        # post-processed batch by batch (small temporaries) into the result, never held twice
        start = 0
        for batch in self._generator_runs(*plan):
            parts = self._postprocess(*batch, clip)
            stop = start + len(parts[0])
            features[start:stop], attributes[start:stop], gen_flags[start:stop] = parts
            start = stop
        return self._dataset(features, attributes, gen_flags)

    def generate_to(self, path, n, attributes, length, seed, batch_size, clip, shard=None,
                    num_shards=None, overwrite=True) -> Path:
        from ..data.dataset import DatasetStreamWriter

        sharded = sharded_storage.check_shard(shard, num_shards)
        if sharded is not None and sharded[1] > 1 and seed is None:
            raise ValueError("give a seed when num_shards > 1 (e.g. seed=0): every shard must "
                             "draw from the same one, a fresh seed per process would generate "
                             "other samples")
        arguments.boolean("overwrite", overwrite)
        kind = check_output_path(path)
        seed = checked_or_fresh_seed(seed)  # drawn once: the files' time stamps follow it too
        plan = self._plan(n, attributes, length, seed, batch_size, clip)
        # a shard: whole batches of the unsharded run, contiguous, with their batch indices
        first, stop = (0, plan.num_batches) if sharded is None else \
            sharded_storage.split(plan.num_batches, *sharded)
        rows = (first * plan.batch_size, min(stop * plan.batch_size, plan.n))
        if kind != "dataset" and sharded is not None:  # a file per shard, concatenated in
            path = sharded_storage.shard_file(path, *sharded)  # shard order: the whole
        if not overwrite and Path(path).exists() and (sharded is None or kind != "dataset"):
            raise FileExistsError(f"{path} exists: pass overwrite=True to replace it, or "
                                  "choose another path")
        what = f"generate_to(n={plan.n})"
        batches = self._generator_runs(*plan, first, stop)
        if kind == "dataset":
            resources.check_disk(path, self._bytes_per_sample(plan) * (rows[1] - rows[0]),
                                 what)
            if sharded is not None:
                return self._write_shard(path, plan, batches, rows, clip, *sharded)
            with DatasetStreamWriter(path, plan.n) as writer:  # n may come from attributes
                for batch in batches:
                    writer.append(self._dataset(*self._postprocess(*batch, clip)))
            return Path(path)
        frames = self._frames(plan, batches, first, rows, clip)
        head = next(frames)
        # the first batch, serialised in memory, measures the bytes per sample of this file
        per_sample = len(frame_bytes(head, kind)) / max(1, min(plan.batch_size, plan.n))
        resources.check_disk(path, int(per_sample * (rows[1] - rows[0])), what)
        with frame_writer(path, kind) as write:
            write(head)
            for frame in frames:
                write(frame)
        return Path(path)

    def _frames(self, plan, batches, first, rows, clip):
        """The long-layout DataFrame of each batch (of a shard: ``first``, ``rows``), or the
        columns alone for an empty shard."""
        start = rows[0]
        for index, batch in enumerate(batches, start=first):
            data = self._dataset(*self._postprocess(*batch, clip))
            # the batch's ids follow the previous batches' (unique over n); its series'
            # starts drawn with (seed, batch index)
            yield to_dataframe(data, layout="long", seed=[plan.seed, index],
                               ids_from=(start, plan.n))
            start += len(data)
        if rows[0] == rows[1]:
            yield to_dataframe(self._empty(plan), layout="long", seed=[plan.seed, first],
                               ids_from=(start, plan.n))

    def _num_features(self) -> int:
        return self.model.num_feature_columns_with_flags - 2

    def _bytes_per_sample(self, plan) -> int:
        """Bytes of one generated sample in a Dataset (float32 features, flags, attributes)."""
        return 4 * (plan.total * (self._num_features() + 1) + self.model.num_attribute_columns)

    def _write_shard(self, path, plan, batches, rows, clip, shard, num_shards) -> Path:
        """Write a shard's batches, rows [start, stop) of the run, into the sharded directory
        ``path`` (sharded_storage)."""
        # what every shard must share besides n and num_shards (the large ones as digests)
        agreed = {"seed": plan.seed, "batch_size": plan.batch_size, "clip": clip,
                  "length_sha256": sharded_storage.digest(plan.lengths),
                  "attributes_sha256": sharded_storage.digest(plan.given),
                  "generator_sha256": sharded_storage.digest(
                      *self.model.sampling_generator.get_weights())}
        with sharded_storage.ShardWriter(path, self._empty(plan), plan.n, shard, num_shards,
                                         rows, agreed) as writer:
            for batch in batches:
                writer.append(self._dataset(*self._postprocess(*batch, clip)))
        return Path(path)

    def _empty(self, plan) -> Dataset:
        """A Dataset of zero generated samples: the shapes, specs and frame of the data."""
        return self._dataset(np.zeros((0, plan.total, self._num_features()), np.float32),
                             np.zeros((0, self.model.num_attribute_columns), np.float32),
                             np.zeros((0, plan.total), np.float32))

    def _plan(self, n, attributes, length, seed, batch_size, clip) -> "_Plan":
        """The arguments checked, before anything runs or is written."""
        model = self.model
        arguments.boolean("clip", clip)
        if model.training_steps == 0:
            warnings.warn("this model has not been trained (0 training steps): its samples "
                          "come from randomly initialised weights. Train it with fit(), or "
                          "load a trained model (DoppelGANger.load)", UserWarning,
                          stacklevel=4)
        seed = checked_or_fresh_seed(seed)
        given = None
        if attributes is not None:
            warn_unused_columns(attributes, model.attribute_outputs)
            if conditional.gives_some_columns(attributes, model.attribute_outputs):
                # the others are sampled given these (rejection sampling, conditional.py)
                given = conditional.complete_attributes(
                    model, conditional.attribute_part(attributes, model.attribute_outputs),
                    seed).attributes
            else:
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
        return _Plan(n, given, lengths, int(total), seed, batch_size)

    def _generator_runs(self, n, given, lengths, total, seed, batch_size, first=0, stop=None):
        """Per batch ``first`` .. ``stop - 1`` (all by default; the arguments: a _Plan's
        fields): the generator's outputs over ``total`` steps (the LSTM rolls out
        ceil(total / S) steps; the last one's records past ``total`` are cut), and the forced
        lengths or None."""
        # from n, not the shard's size: a batch's pieces, so its samples, are the same in a shard
        chunks = -(-min(batch_size, n) // GENERATION_CHUNK)
        steps = -(-total // self.model.config.sample_len)
        stop = -(-n // batch_size) if stop is None else stop
        for batch_index in range(first, stop):
            start = batch_index * batch_size
            size = min(batch_size, n - start)
            inputs = [tf.constant([seed, batch_index], tf.int64), tf.constant(size, tf.int32)]
            if given is not None:
                inputs.append(tf.constant(given[start:start + size]))
            out = self._function(given is not None, chunks, steps)(*inputs)
            features, mask, hard = (np.asarray(t) for t in  # views, no copies
                                    (out.features, out.mask, out.hard_attributes))
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
            return GeneratorOutput(*[tf.concat(parts, axis=0) for parts in zip(*outs)])

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
        """:func:`postprocess` for this model (one place a test can intercept a batch)."""
        return postprocess(self.model, features, mask, hard_attributes, lengths, clip)

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
