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
from conftest import TINY, tiny_config

OUTPUTS = [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE),
           Output(OutputType.DISCRETE, 3), gen_flag_output()]


def fused_or_skip():
    """Skip where there is no C++ compiler; where there is one, a failed build fails the test
    (else CI would stay green on a machine where the fast path is gone)."""
    compiler = os.environ.get("CXX") or "g++"
    if shutil.which(compiler) is None:
        pytest.skip(f"no C++ compiler {compiler!r} on PATH to build the fused LSTM")
    try:
        fused_lstm.load_kernels()
        return
    except fused_lstm.FusedLSTMUnavailable as error:
        message = str(error)
    # outside the except clause, so that the failure shows the message once
    pytest.fail(f"the fused LSTM does not build with {compiler!r}: {message}", pytrace=False)


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
        config = tiny_config(sample_len=2)
        tf.keras.utils.set_random_seed(0)  # the same initial weights
        model = DoppelGANger.from_dataset(data, config, seed=0, lstm_implementation=name)
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
    # the compiler's output and the remembered failure, no library or temporary file
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".failed", ".log"]


def fake_compiler(folder, probe="", build_output=""):
    """A shell script standing in for g++: answers --version, prints `probe` for a macro
    listing (-dM -E) and fails with `build_output` for a build, counting builds in builds.txt."""
    script = folder / "fake-g++"
    script.write_text(f"""#!/bin/sh
case "$*" in
  *--version*) echo "fake-g++ 1.0"; exit 0 ;;
  *-dM*) {probe or 'exit 1'} ;;
esac
echo build >> "{folder}/builds.txt"
cat <<'OUTPUT' >&2
{build_output}
OUTPUT
exit 1
""")
    script.chmod(0o755)
    return str(script)


def builds(folder):
    path = folder / "builds.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_failed_build_shows_the_first_error_and_is_remembered(tmp_path, monkeypatch):
    noise = [f"header.h:{i}: warning: 'Status' is deprecated" for i in range(300)]
    output = "\n".join(noise[:150] + ["In file included from op.h:27,", "  from lstm.cc:18:",
                                       "PacketMathFP16.h:740:49: error: expected initializer",
                                       "  740 | predux_half_dowto4<Packet32h>"]
                       + noise[150:] + ["later.h:9: error: a consequence"] + noise[:5])
    compiler = fake_compiler(tmp_path, build_output=output)
    cache = tmp_path / "cache"
    monkeypatch.delenv(fused_lstm.REBUILD_VARIABLE, raising=False)
    with pytest.raises(fused_lstm.FusedLSTMUnavailable) as failure:
        fused_lstm.load_kernels(compiler=compiler, directory=str(cache))
    message = str(failure.value)
    assert "PacketMathFP16.h:740:49: error: expected initializer" in message
    assert "from lstm.cc:18:" in message  # the lines around it
    assert "later.h" not in message and len(message.splitlines()) < 12
    library = fused_lstm.library_path(compiler, cache)
    log = library.with_suffix(".log")
    assert str(log) in message and output in log.read_text()
    assert not library.exists() and builds(tmp_path) == 1
    marker = fused_lstm.failure_marker(library)
    assert marker.read_text() == message

    # a new process (load_kernels remembers per process; _build_and_load is what it runs once)
    # finds the failure without compiling again, and says how to try again
    with pytest.raises(fused_lstm.FusedLSTMUnavailable) as remembered:
        fused_lstm._build_and_load(compiler, cache)
    assert str(remembered.value).startswith(message)
    assert str(marker) in str(remembered.value)
    assert fused_lstm.REBUILD_VARIABLE + "=1" in str(remembered.value)
    assert builds(tmp_path) == 1
    # the variable, or deleting the marker, builds again
    monkeypatch.setenv(fused_lstm.REBUILD_VARIABLE, "1")
    with pytest.raises(fused_lstm.FusedLSTMUnavailable, match="error: expected initializer"):
        fused_lstm._build_and_load(compiler, cache)
    assert builds(tmp_path) == 2
    monkeypatch.delenv(fused_lstm.REBUILD_VARIABLE)
    marker.unlink()
    with pytest.raises(fused_lstm.FusedLSTMUnavailable, match="error: expected initializer"):
        fused_lstm._build_and_load(compiler, cache)
    assert builds(tmp_path) == 3 and marker.exists()


def test_a_compiler_that_prints_no_error_line_shows_its_last_lines(tmp_path):
    output = "\n".join(f"line {i}" for i in range(100)) + "\ncollect2: ld returned 1"
    compiler = fake_compiler(tmp_path, build_output=output)
    with pytest.raises(fused_lstm.FusedLSTMUnavailable) as failure:
        fused_lstm.load_kernels(compiler=compiler, directory=str(tmp_path / "cache"))
    assert "collect2: ld returned 1" in str(failure.value)
    assert "line 50" not in str(failure.value)


@pytest.mark.parametrize("refuses", [False, True])
def test_avx512fp16_is_turned_off_where_native_turns_it_on(tmp_path, refuses):
    """TensorFlow 2.21's Eigen headers do not compile with AVX512-FP16 under g++ 12; the kernel
    computes in float32, so the build turns FP16 off where the compiler can."""
    # lists __AVX512FP16__ unless -mno-avx512fp16 is given; refuses that flag if told to
    probe = ('case "$*" in *-mno-avx512fp16*) ' + ("exit 1" if refuses else "exit 0") + " ;; "
             "esac; echo '#define __AVX512FP16__ 1'; exit 0")
    compiler = fake_compiler(tmp_path, probe=probe)
    flags = fused_lstm._build_command(compiler, tmp_path / "x.so")
    assert "-march=native" in flags
    assert ("-mno-avx512fp16" in flags) == (not refuses)
    # and a compiler whose -march=native has no FP16 keeps its flags as they are
    plain = tmp_path / "plain"
    plain.mkdir()
    flags = fused_lstm._build_command(fake_compiler(plain, probe="exit 0"), plain / "x.so")
    assert "-march=native" in flags and "-mno-avx512fp16" not in flags


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


def test_the_model_rejects_an_unknown_implementation():
    with pytest.raises(ValueError, match="lstm_implementation must be one of"):
        DoppelGANger.from_dataset(tiny_data(), DGConfig(sample_len=2),
                                  lstm_implementation="cudnn")


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


def test_data_without_attributes_train_and_generate_with_the_fused_lstm():
    """No attributes and no min/max ones: the LSTM's context has width 0, a matmul oneDNN
    aborts the whole process on (run in a child, so that a crash is a failure, not a lost
    test run)."""
    import subprocess
    import sys
    import textwrap
    fused_or_skip()
    script = f"TINY = {TINY!r}\n" + textwrap.dedent("""
        import numpy as np
        from doppelganger_tf import DGConfig, Dataset, DoppelGANger
        data = Dataset.from_arrays(np.random.default_rng(0).normal(size=(20, 8, 1)))
        config = DGConfig(**{**TINY, "auto_normalize": False, "use_aux_critic": False})
        model = DoppelGANger.from_dataset(data, config, seed=0, lstm_implementation="fused")
        model.compile()
        model.fit(data, epochs=1, verbose=0)
        print("generated", len(model.generate(5, seed=0)))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and "generated 5" in result.stdout, result.stderr[-2000:]
