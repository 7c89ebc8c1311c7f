"""The fused LSTM operation (fused_lstm.py) against Keras' LSTM, and its build's failure modes."""
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, Normalization, Output, OutputType
from doppelganger_tf import fused_lstm
from doppelganger_tf.networks import FeatureGenerator, gen_flag_output

OUTPUTS = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
           Output(OutputType.DISCRETE, 3), gen_flag_output()]


def fused_or_skip():
    try:
        fused_lstm.load_kernels()
    except fused_lstm.FusedLSTMUnavailable as error:
        pytest.skip(f"the fused LSTM cannot be built here: {error}")


@pytest.mark.parametrize("layers", [1, 2])
def test_fused_feature_generator_matches_keras_outputs_and_gradients(layers):
    fused_or_skip()
    rng = np.random.default_rng(0)
    batch, steps, units = 7, 5, 6
    attributes = tf.constant(rng.normal(size=(batch, 4)), tf.float32)
    noise = tf.constant(rng.normal(size=(batch, steps, 3)), tf.float32)
    states = [tuple(tf.constant(rng.normal(size=(batch, units)), tf.float32) for _ in range(2))
              for _ in range(layers)]
    generators = {name: FeatureGenerator(OUTPUTS, 2, units, layers, lstm_implementation=name)
                  for name in ["keras", "fused"]}
    for generator in generators.values():
        generator(attributes, noise, states)  # builds the weights
    for keras_layer, fused_layer in zip(generators["keras"].lstms + [generators["keras"].head],
                                        generators["fused"].lstms + [generators["fused"].head]):
        fused_layer.set_weights(keras_layer.get_weights())
    weights = tf.constant(rng.normal(size=(batch, steps * 2, 6)), tf.float32)
    results = {}
    for name, generator in generators.items():
        with tf.GradientTape() as tape:
            tape.watch(attributes)
            soft, hard, mask = generator(attributes, noise, states)
            loss = tf.reduce_sum(soft * weights)
        gradients = tape.gradient(loss, [attributes] + generator.trainable_weights)
        assert all(g is not None for g in gradients)
        generated = generator(attributes, noise, states, training=False)  # keeps no activations
        results[name] = [tf.convert_to_tensor(t)
                         for t in [soft, hard, mask, *generated] + gradients]
    assert len(results["keras"]) == len(results["fused"])
    for want, got in zip(results["keras"], results["fused"]):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)


def test_differentiating_a_generation_run_of_the_fused_lstm_is_refused():
    fused_or_skip()
    generator = FeatureGenerator(OUTPUTS, 2, 4, 1, lstm_implementation="fused")
    attributes, noise = tf.ones([3, 2]), tf.ones([3, 4, 2])
    states = [(tf.zeros([3, 4]), tf.zeros([3, 4]))]
    generator(attributes, noise, states)
    with tf.GradientTape() as tape:
        soft, _, _ = generator(attributes, noise, states, training=False)
        loss = tf.reduce_sum(soft * soft)
    with pytest.raises(ValueError, match="training=True"):
        tape.gradient(loss, generator.trainable_weights)


def test_fused_operation_names_a_wrong_shape():
    fused_or_skip()
    units = 4
    with pytest.raises(tf.errors.InvalidArgumentError, match="context must be"):
        fused_lstm.lstm_sequence(tf.zeros([3, 4 * units + 1]), tf.zeros([2, 3, 1]),
                                 tf.zeros([1, 4 * units]), tf.zeros([units, 4 * units]),
                                 tf.zeros([3, units]), tf.zeros([3, units]))


def tiny_data():
    rng = np.random.default_rng(3)
    return Dataset.from_arrays(rng.uniform(size=(30, 8, 1)),
                               pd.DataFrame({"k": rng.choice(["a", "b"], 30)}),
                               discrete_attributes=["k"])


def test_a_model_trains_to_the_same_weights_with_either_lstm():
    fused_or_skip()
    data = tiny_data()
    trained = {}
    for name in ["keras", "fused"]:
        config = DGConfig(sample_len=2, batch_size=10, attribute_hidden_units=8,
                          minmax_hidden_units=8, feature_lstm_units=8, critic_hidden_units=8,
                          aux_critic_hidden_units=8, lstm_implementation=name)
        tf.keras.utils.set_random_seed(0)  # the same initial weights
        model = DoppelGANger.from_dataset(data, config, seed=0)
        assert model.feature_generator.lstm_implementation == name
        model.compile(steps_per_execution=1)
        model.fit(data, epochs=1, steps_per_epoch=3, verbose=0, seed=0)
        trained[name] = model.get_weights()
    assert len(trained["keras"]) == len(trained["fused"])
    for want, got in zip(trained["keras"], trained["fused"]):
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_a_compiler_that_fails_is_reported_and_leaves_no_library(tmp_path):
    with pytest.raises(fused_lstm.FusedLSTMUnavailable, match="building the fused LSTM failed"):
        fused_lstm.load_kernels(compiler="false", directory=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_second_build_loaded_into_one_process_is_reported(tmp_path):
    fused_or_skip()
    compiler = os.environ.get("CXX") or "g++"  # what fused_or_skip loaded with
    shutil.copy(fused_lstm.library_path(compiler, fused_lstm.cache_dir()),
                fused_lstm.library_path(compiler, tmp_path))
    with pytest.raises(fused_lstm.FusedLSTMUnavailable, match="already loaded"):
        fused_lstm.load_kernels(compiler=compiler, directory=str(tmp_path))
    # and the loaded one still works (a second load would have registered its kernels twice)
    units = 2
    h = fused_lstm.lstm_sequence(tf.zeros([1, 4 * units]), tf.zeros([3, 1, 0]),
                                 tf.zeros([0, 4 * units]), tf.zeros([units, 4 * units]),
                                 tf.zeros([1, units]), tf.zeros([1, units]))
    assert h.shape == (3, 1, units)


def test_auto_uses_keras_when_the_operation_cannot_be_built(monkeypatch):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("with a GPU, auto is Keras' LSTM anyway")
    monkeypatch.setenv("CXX", "no-such-compiler-for-doppelganger")
    with pytest.warns(RuntimeWarning, match="no-such-compiler-for-doppelganger"):
        assert fused_lstm.resolve_implementation("auto") == "keras"
    with pytest.raises(fused_lstm.FusedLSTMUnavailable, match="no C\\+\\+ compiler"):
        fused_lstm.resolve_implementation("fused")
    assert fused_lstm.resolve_implementation("keras") == "keras"


def test_config_rejects_an_unknown_implementation():
    with pytest.raises(ValueError, match="lstm_implementation"):
        DGConfig(lstm_implementation="cudnn")


def test_the_build_cache_key_tells_tensorflow_versions_flags_and_cpus_apart(monkeypatch, tmp_path):
    """A cache folder shared between machines or TensorFlow versions must never hand one a
    library built for another (a wrong ABI, or an illegal instruction from -march=native)."""
    if shutil.which("g++") is None:
        pytest.skip("no g++ on this machine")

    def path(version="2.15.1", flags=("-I/site/tensorflow/include",), cpu="flags: avx2"):
        monkeypatch.setattr(tf, "__version__", version)
        monkeypatch.setattr(tf.sysconfig, "get_compile_flags", lambda: list(flags))
        monkeypatch.setattr(fused_lstm, "_cpu_identity", lambda: cpu)
        return fused_lstm.library_path("g++", tmp_path)

    base = path()
    assert path() == base  # the same machine and TensorFlow find their build again
    others = [path(version="2.21.0"), path(flags=("-I/other/tensorflow/include",)),
              path(flags=("-I/site/tensorflow/include", "-D_GLIBCXX_USE_CXX11_ABI=1")),
              path(cpu="flags: avx2 avx512f")]
    assert len({base, *others}) == 5, others
    # a build of the fake other version lying in the shared folder is not the one loaded
    other_build = path(version="2.21.0")
    other_build.write_bytes(b"not a library for this TensorFlow")
    assert path() != other_build and not path().exists()
