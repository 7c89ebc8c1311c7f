"""Training input at scale (training_data.py): the "streamed" input mode reads each batch's rows
from the Dataset's (memory-mapped) arrays in the pipeline and must train exactly as the
"memory" mode, which holds the encoded dataset whole."""
import numpy as np
import pandas as pd
import pytest

from doppelganger_tf import dataset as dataset_module
from doppelganger_tf import training_data
from doppelganger_tf.compat import get_untracked, keras
from doppelganger_tf.dataset import Dataset, DatasetStreamWriter
from doppelganger_tf.model import DoppelGANger
from conftest import tiny_config


def variable_length_data(n=30, t=8, seed=0):
    """Two continuous features (one in [-1, 1]), a discrete one, lengths 1..t, two attributes."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, t + 1, n)
    lengths[0] = t
    values = rng.lognormal(size=(n, t, 2))
    values[..., 1] *= np.where(rng.random((n, 1)) < 0.5, -1, 1)
    kind = rng.integers(0, 3, (n, t)).astype(float)
    attributes = pd.DataFrame({"k": rng.choice(["x", "y", "z"], n), "size": rng.random(n)})
    return Dataset.from_arrays(np.concatenate([values, kind[..., None]], axis=2), attributes,
                               lengths=lengths, discrete_features=[2], discrete_attributes=["k"])


def streamed_copy(data, path, batch=7):
    """``data`` written in the streamed layout and loaded back (features memory-mapped)."""
    with DatasetStreamWriter(path, len(data)) as writer:
        for start in range(0, len(data), batch):
            writer.append(data.subset(slice(start, start + batch)))
    return Dataset.load(path)


@pytest.fixture(scope="module")
def data():
    return variable_length_data()


@pytest.fixture(scope="module")
def loaded(data, tmp_path_factory):
    return streamed_copy(data, tmp_path_factory.mktemp("streamed") / "data")


def model_for(data, **config):
    keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(
        data, tiny_config(**{"sample_len": 2, "batch_size": 8, **config}), seed=0)
    model.compile(steps_per_execution=2)
    return model


def test_loaded_streamed_layout_is_memory_mapped(data, loaded):
    assert training_data.is_memory_mapped(loaded.features)
    assert not training_data.is_memory_mapped(data.features)
    np.testing.assert_array_equal(loaded.features, data.features)


@pytest.mark.parametrize("config", [
    dict(),                                                   # with replacement: repeated rows
    dict(sample_with_replacement=False),                      # shuffled epochs
    dict(auto_normalize_masked=True, use_aux_critic=False),
    dict(auto_normalize=False),
    dict(dp_noise_multiplier=1.0, dp_l2_norm_clip=1.0),       # Poisson: batches of any size
])
def test_streamed_batches_are_the_gathered_rows(data, loaded, config):
    model = model_for(data, **config)
    memory = training_data.TrainingData(model, data)
    streamed = training_data.StreamedTrainingData(model, loaded)
    pairs = zip(memory.batches(seed=5).take(6), streamed.batches(seed=5).take(6))
    for indices, batch in pairs:
        features, attributes = memory.gather(indices["indices"])
        assert batch["features"].shape[1:] == features.shape[1:]
        np.testing.assert_array_equal(batch["features"].numpy(), features.numpy())
        np.testing.assert_array_equal(batch["attributes"].numpy(), attributes.numpy())


def test_encoding_a_batch_equals_encoding_the_whole(data):
    """Per-sample auto-normalisation: a batch's rows encode as in the whole (any order, with
    repeats)."""
    model = model_for(data)
    whole_f, whole_a = model.prepare(data)
    rows = np.array([5, 0, 5, 29, 3])
    part_f, part_a = training_data.CriticEncoding.of(model)(
        data.features[rows], data.attributes[rows], data.gen_flags[rows])
    np.testing.assert_array_equal(part_f, whole_f[rows])
    np.testing.assert_array_equal(part_a, whole_a[rows])


@pytest.mark.parametrize("config", [dict(), dict(sample_with_replacement=False,
                                                 critic_steps=2)])
def test_memory_and_streamed_training_give_identical_weights(data, loaded, config):
    weights = {}
    for mode, source in [("memory", data), ("streamed", loaded)]:
        model = model_for(data, **config)
        model.fit(source, epochs=2, steps_per_epoch=2, seed=3, input_mode=mode, verbose=0)
        assert get_untracked(model, "_training_data").mode == mode
        weights[mode] = model.get_weights()
    assert len(weights["memory"]) == len(weights["streamed"])
    for a, b in zip(weights["memory"], weights["streamed"]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in
               zip(weights["memory"], model_for(data, **config).get_weights()))  # it trained


def test_auto_streams_a_memory_mapped_dataset(data, loaded, monkeypatch):
    model = model_for(data)
    first = next(iter(model.training_batches(loaded, seed=0)))
    assert set(first) == {"features", "attributes"}
    assert first["features"].shape == (8, 8, data.num_feature_columns + 2)
    assert set(next(iter(model.training_batches(data, seed=0)))) == {"indices"}
    assert training_data.input_mode(model, loaded) == "streamed"
    assert training_data.input_mode(model, data) == "memory"
    assert training_data.input_mode(model, loaded, "memory") == "memory"
    # in memory, but its encoded form above the threshold
    assert training_data.critic_input_bytes(model, data) == \
        sum(a.nbytes for a in model.prepare(data))
    monkeypatch.setattr(training_data, "STREAM_ABOVE_BYTES",
                        training_data.critic_input_bytes(model, data) - 1)
    assert training_data.input_mode(model, data) == "streamed"
    history = model.fit(loaded, epochs=1, steps_per_epoch=2, seed=0, verbose=0)  # auto
    assert get_untracked(model, "_training_data").mode == "streamed"
    assert np.isfinite(history.history["d_loss"]).all()


def test_unknown_input_mode_is_refused(data):
    model = model_for(data)
    with pytest.raises(ValueError, match=r"unknown input_mode 'disk'; choose from auto, "
                                         r"memory, streamed"):
        model.fit(data, epochs=1, steps_per_epoch=1, input_mode="disk", verbose=0)


def test_streamed_input_checks_the_dataset_against_the_model(data, loaded):
    other = variable_length_data(t=4)
    model = model_for(other)
    with pytest.raises(ValueError, match="T=8 but the model was built for T=4"):
        model.fit(loaded, epochs=1, steps_per_epoch=1, input_mode="streamed", verbose=0)


def corrupt(kind, features, attributes, gen_flags):
    """One problem, in a late sample (several validation chunks in)."""
    t = features.shape[1]
    short = next(i for i in range(20, len(features)) if gen_flags[i].sum() < t)  # padded
    if kind == "nan":
        features[3, 0, 0], features[23, 0, 0] = np.nan, np.inf
        return r"features holds 2 NaN or infinite values \(first at index \(3, 0, 0\)\)"
    if kind == "not binary":
        gen_flags[26, 0] = 0.5
        return r"sample 26, step 0 holds 0.5"
    if kind == "empty":
        gen_flags[[17, 27]], features[[17, 27]] = 0, 0
        return r"sample 17 has a zero-length series \(2 such samples\)"
    if kind == "rise":
        gen_flags[short, t - 1] = 1
        return rf"gen_flags of sample {short} is not a prefix of ones"
    if kind == "after end":
        features[short, t - 1, 0] = 0.3
        return rf"non-zero after the end of sample {short} \(step {t - 1}\)"
    if kind == "range":
        features[24, 0, 0] = 1.5
        return r"holds 1.5 at sample 24, step 0"
    attributes[28, :3] = [0.5, 0.5, 0]
    return r"'k' is not one-hot at sample 28"


@pytest.mark.parametrize("kind", ["nan", "not binary", "empty", "rise", "after end", "range",
                                  "one-hot"])
def test_validation_in_chunks_names_the_problem_as_whole(data, kind, monkeypatch):
    arrays = [np.array(a) for a in (data.features, data.attributes, data.gen_flags)]
    message = corrupt(kind, *arrays)

    def error():
        with pytest.raises(ValueError, match=message) as caught:
            Dataset(*arrays, data.feature_outputs, data.attribute_outputs)
        return str(caught.value)

    whole = error()
    assert len(dataset_module.row_chunks(arrays[0])) == 1
    for rows in (1, 4):  # chunks of one and of four samples
        monkeypatch.setattr(dataset_module, "VALIDATION_CHUNK_BYTES", rows * arrays[0][:1].nbytes)
        assert len(dataset_module.row_chunks(arrays[0])) == -(-len(data) // rows)
        assert error() == whole
