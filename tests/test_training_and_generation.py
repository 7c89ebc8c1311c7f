"""DoppelGANger model: training through fit(), generation, persistence, checkpoints."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, TrainingCheckpoint
from doppelganger_tf.networks import activity_mask
from doppelganger_tf.transforms import decode_gen_flags, encode_gen_flags

from conftest import TINY, toy_config, toy_dataset

@pytest.fixture
def toy():
    return toy_dataset()


def trained_model(dataset, config=None, epochs=1, seed=0, **run_settings):
    tf.keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(dataset, config or toy_config(), seed=seed, **run_settings)
    model.compile()
    model.fit(dataset, epochs=epochs, seed=seed, verbose=0)
    return model


def test_activity_mask_matches_numpy_decoding():
    rng = np.random.default_rng(0)
    flags = rng.uniform(size=(50, 12, 2)).astype(np.float32)
    np.testing.assert_array_equal(activity_mask(tf.constant(flags)).numpy(),
                                  decode_gen_flags(flags))
    lengths = np.array([1, 4, 12])
    gen = (np.arange(12)[None, :] < lengths[:, None]).astype(np.float32)
    np.testing.assert_array_equal(activity_mask(tf.constant(encode_gen_flags(gen, 4))).numpy(),
                                  gen)


def test_fit_reports_losses_and_generate_shapes(toy):
    model = trained_model(toy, epochs=2)
    history = model.history.history
    assert set(history) == {"d_loss", "g_loss", "gp", "aux_d_loss"}
    assert len(history["d_loss"]) == 2 and all(np.isfinite(v) for v in history["d_loss"])
    generated = model.generate(25, seed=3)
    generated.validate()  # generation skips the checks: its output must pass them
    assert generated.features.shape == (25, 12, 2)
    assert generated.attributes.shape == (25, toy.attributes.shape[1])
    assert set(generated.attribute_values()["kind"]) <= {"a", "b", "c"}
    frame = generated.to_dataframe()
    assert len(frame) == generated.lengths.sum()
    # real units: the continuous attribute stays in the training data's range
    sizes = generated.attribute_values()["size"]
    assert sizes.min() >= 1.0 - 1e-6 and sizes.max() <= 5.0 + 1e-6


def test_fit_trains_on_the_dataset_it_is_given_each_time(toy):
    """The step gathers its batches from arrays it captured: the same dataset again reuses the
    traced step, a different one must be trained on (not the arrays of the first)."""
    other = toy_dataset(n=40, seed=5)

    def weights_after(second):
        tf.keras.utils.set_random_seed(0)
        model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
        model.compile()
        model.fit(toy, epochs=1, steps_per_epoch=2, seed=0, verbose=0)
        step = model.train_function
        model.fit(second, epochs=1, steps_per_epoch=2, seed=0, verbose=0)
        return model.critic.trainable_variables[0].numpy(), model.train_function is step

    same_data, kept_for_same = weights_after(toy)
    other_data, kept_for_other = weights_after(other)
    assert kept_for_same and not kept_for_other
    assert not np.allclose(same_data, other_data)

def test_generate_is_seeded(toy):
    model = trained_model(toy)
    a, b, c = (model.generate(30, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.attributes, b.attributes)
    assert not np.array_equal(a.features, c.features)


def test_generate_to_streams_the_same_samples_to_disk(toy, tmp_path):
    model = trained_model(toy)
    wanted = model.generate(45, seed=3, batch_size=20, length=7)
    path = model.generate_to(tmp_path / "generated", 45, seed=3, batch_size=20, length=7)
    streamed = Dataset.load(path)
    np.testing.assert_array_equal(streamed.features, wanted.features)
    np.testing.assert_array_equal(streamed.attributes, wanted.attributes)
    np.testing.assert_array_equal(streamed.lengths, np.full(45, 7))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        model.generate_to(tmp_path / "other", 5, batch_size=0)
    assert not (tmp_path / "other").exists()


def test_a_diverged_model_generating_nan_is_named(toy):
    model = trained_model(toy)
    head = model.feature_generator.head
    head.kernel.assign(np.full(head.kernel.shape, np.nan, np.float32))
    with pytest.raises(ValueError, match="diverged"):
        model.generate(5, seed=0)


def test_generation_in_pieces_gives_the_same_samples(toy, monkeypatch):
    import doppelganger_tf.generation as generation_module

    model = trained_model(toy)
    whole = model.generate(22, seed=4, batch_size=10)  # one piece per batch
    # three pieces per batch of 10 (4, 3, 3 rows); the last batch of 2 rows has an empty one
    monkeypatch.setattr(generation_module, "GENERATION_CHUNK", 4)
    pieces = model.generate(22, seed=4, batch_size=10)
    np.testing.assert_array_equal(pieces.gen_flags, whole.gen_flags)
    np.testing.assert_allclose(pieces.features, whole.features, atol=1e-5)
    np.testing.assert_allclose(pieces.attributes, whole.attributes, atol=1e-5)


def test_conditional_and_forced_length_generation(toy):
    model = trained_model(toy)
    wanted = pd.DataFrame({"kind": ["c"] * 10 + ["a"] * 5, "size": np.linspace(1.5, 4.5, 15)})
    generated = model.generate(attributes=wanted, seed=1)
    got = generated.attribute_values()
    assert list(got["kind"]) == list(wanted["kind"])
    np.testing.assert_allclose(got["size"], wanted["size"], rtol=1e-5)
    # an encoded array works too
    again = model.generate(attributes=generated.attributes, seed=1)
    np.testing.assert_array_equal(again.attributes, generated.attributes)

    forced = model.generate(6, length=[1, 2, 5, 12, 7, 3], seed=2)
    for dataset in (generated, again, forced):
        dataset.validate()
    np.testing.assert_array_equal(forced.lengths, [1, 2, 5, 12, 7, 3])
    assert np.all(forced.features[0, 1:] == 0)
    with pytest.raises(ValueError, match="zebra|categor"):
        model.generate(attributes=pd.DataFrame({"kind": ["zebra"], "size": [2.0]}))


def test_lengths_beyond_the_training_length_extrapolate_with_a_warning(toy, tmp_path):
    model = trained_model(toy)  # T = 12, S = 4 (toy_config): 20 steps are 5 LSTM steps
    with pytest.warns(UserWarning, match="beyond the training length T=12.*extrapolation"):
        longer = model.generate(5, length=[13, 20, 5, 14, 3], seed=4)
    longer.validate()
    assert longer.max_length == 20 and longer.features.shape == (5, 20, 2)
    np.testing.assert_array_equal(longer.lengths, [13, 20, 5, 14, 3])
    assert np.all(longer.features[2, 5:] == 0) and np.all(longer.gen_flags[1] == 1)
    assert np.all(np.isfinite(longer.features)) and np.any(longer.features[1, 12:] != 0)
    # within T: no warning, the training length as before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        within = model.generate(5, length=12, seed=4)
    assert within.max_length == 12
    with pytest.warns(UserWarning, match="beyond the training length"):
        path = model.generate_to(tmp_path / "generated", 4, length=18, seed=1, batch_size=3)
    streamed = Dataset.load(path)
    assert streamed.max_length == 18 and np.all(streamed.lengths == 18)


def test_variable_length_data_and_masked_autonorm():
    data = toy_dataset(variable_length=True)
    model = trained_model(data, toy_config(auto_normalize_masked=True))
    generated = model.generate(40, seed=0)
    assert generated.lengths.min() >= 1 and generated.lengths.max() <= 12
    # everything after each series' end is zero
    after = np.arange(12)[None, :] >= generated.lengths[:, None]
    assert np.all(generated.features[after] == 0)


def test_bad_model_inputs(toy):
    with pytest.raises(ValueError, match="not divisible by sample_len"):
        DoppelGANger.from_dataset(toy, toy_config(sample_len=5))
    model = DoppelGANger.from_dataset(toy, toy_config())
    other = toy_dataset(length=16)
    with pytest.raises(ValueError, match="T=16"):
        model.prepare(other)
    with pytest.raises(ValueError, match="n must be >= 1"):
        model.generate(0)
    with pytest.raises(ValueError, match="n=4 but 15"):
        model.generate(4, attributes=np.tile(toy.attributes[:1], (15, 1)))


def test_save_load_round_trip(toy, tmp_path):
    model = trained_model(toy)
    before = model.generate(40, seed=11)
    model.save(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")
    after = loaded.generate(40, seed=11)
    np.testing.assert_array_equal(before.features, after.features)
    np.testing.assert_array_equal(before.attributes, after.attributes)
    assert loaded.config == model.config
    # saving again replaces the model atomically; nothing else is left behind
    model.save(tmp_path / "model")
    assert sorted(os.listdir(tmp_path)) == ["model"]
    payload = json.loads((tmp_path / "model" / "model.json").read_text())
    assert payload["max_length"] == 12
    (tmp_path / "model" / "model.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        DoppelGANger.load(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="not a saved"):
        DoppelGANger.load(tmp_path / "nothing")


def test_checkpoint_resume_continues_from_saved_step(toy, tmp_path):
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    model.compile()
    checkpoint = TrainingCheckpoint(tmp_path / "ckpt")
    assert checkpoint.restore(model) == 0
    model.fit(toy, epochs=2, callbacks=[checkpoint], verbose=0)
    steps_per_epoch = model.steps_per_epoch(len(toy))
    assert int(model.generator_optimizer.iterations) == 2 * steps_per_epoch
    saved = [w.copy() for w in model.get_weights()]

    # a new process would build a fresh model: restore into it
    fresh = DoppelGANger.from_dataset(toy, toy_config(), seed=123)
    fresh.compile()
    resume = TrainingCheckpoint(tmp_path / "ckpt")
    start = resume.restore(fresh)
    assert start == 2
    assert int(fresh.generator_optimizer.iterations) == 2 * steps_per_epoch
    assert int(fresh.critic_optimizer.iterations) == 2 * steps_per_epoch
    for a, b in zip(saved, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.rng.state.numpy(), fresh.rng.state.numpy())
    history = fresh.fit(toy, epochs=3, initial_epoch=start, callbacks=[resume], verbose=0)
    assert history.epoch == [2]
    assert int(fresh.generator_optimizer.iterations) == 3 * steps_per_epoch
    assert resume.latest.endswith("ckpt-3")


def test_mirrored_strategy_trains_on_two_logical_cpus():
    # logical devices must be configured before TensorFlow starts: use a fresh interpreter
    script = f"TINY = {TINY!r}\n" + textwrap.dedent("""
        import numpy as np, pandas as pd, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from doppelganger_tf import DGConfig, Dataset, DoppelGANger
        rng = np.random.default_rng(0)
        data = Dataset.from_arrays(rng.normal(size=(40, 8, 1)),
                                   pd.DataFrame({"k": rng.choice(["x", "y"], 40)}),
                                   discrete_attributes=["k"])
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            model = DoppelGANger.from_dataset(data, DGConfig(**TINY), seed=0)
            model.compile()
        before = [w.copy() for w in model.critic.get_weights()]
        history = model.fit(data, epochs=2, verbose=0)
        assert model.distribute_strategy.num_replicas_in_sync == 2
        assert all(np.isfinite(history.history["d_loss"]))
        assert any(not np.array_equal(a, b) for a, b in zip(before, model.critic.get_weights()))
        print("REPLICAS", model.distribute_strategy.num_replicas_in_sync,
              "GEN", model.generate(5, seed=0).features.shape)
        # the streamed input: each replica's part of the pipeline's rows
        before = [w.copy() for w in model.critic.get_weights()]
        streamed = model.fit(data, epochs=1, steps_per_epoch=2, verbose=0, input_mode="streamed")
        assert all(np.isfinite(streamed.history["d_loss"]))
        assert any(not np.array_equal(a, b) for a, b in zip(before, model.critic.get_weights()))
        # the generator's weight average is updated per replica in cross-replica context
        with strategy.scope():
            averaged = DoppelGANger.from_dataset(
                data, DGConfig(**TINY, generator_average_decay=0.9), seed=0)
            averaged.compile()
        averaged.fit(data, epochs=1, verbose=0)
        live, mean = averaged.generator.get_weights(), averaged.averaged_generator.get_weights()
        assert all(np.isfinite(w).all() for w in mean)
        assert any(not np.array_equal(a, b) for a, b in zip(live, mean))
        print("AVERAGED", averaged.generate(5, seed=0).features.shape)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REPLICAS 2 GEN (5, 8, 1)" in result.stdout
    assert "AVERAGED (5, 8, 1)" in result.stdout


def test_real_mba_trains_one_epoch_and_generates(shared_data):
    data = Dataset.load(shared_data / "fcc_mba")
    assert data.features.shape == (600, 56, 2)
    # the original repo's MBA settings: S=8, no auxiliary critic, no auto-normalisation
    config = DGConfig(sample_len=8, use_aux_critic=False, auto_normalize=False)
    model = trained_model(data, config, epochs=1)
    assert int(model.generator_optimizer.iterations) == 6
    generated = model.generate(600, seed=0)
    assert generated.features.shape == (600, 56, 2)
    assert generated.attributes.shape == (600, 73)
    assert np.all((generated.features >= 0) & (generated.features <= 1))
    for start, stop in [(0, 15), (15, 20), (20, 73)]:  # ISP, technology, state: one-hot
        np.testing.assert_array_equal(generated.attributes[:, start:stop].sum(axis=1), 1)
    traffic = generated.feature_values()[generated.feature_names[0]]
    active = ~np.isnan(traffic)
    assert np.all(traffic[active] >= data.feature_min[0] - 1e-3)
    assert np.all(traffic[active] <= data.feature_max[0] * (1 + 1e-6))


def test_progress_logger_reports_eta(toy):
    from doppelganger_tf.callbacks import ProgressLogger
    lines = []
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    model.compile()
    model.fit(toy, epochs=3, initial_epoch=1, verbose=0,
              callbacks=[ProgressLogger(every=1, print_fn=lines.append)])
    assert [line.split()[1] for line in lines] == ["2/3", "3/3"]
    assert "d_loss=" in lines[0] and "ETA" in lines[0]


def test_training_batches_sample_as_configured(toy):
    """With replacement (the original): indices in range, repeats across an epoch's batches;
    without: each epoch's N // B batches are distinct examples."""
    n, batch = len(toy), toy_config().batch_size
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    drawn = np.concatenate([b["indices"].numpy() for b in
                            model.training_batches(toy, seed=3).take(2 * n // batch)])
    assert drawn.shape == (2 * n,) and drawn.min() >= 0 and drawn.max() < n
    assert len(np.unique(drawn)) < len(drawn)
    again = np.concatenate([b["indices"].numpy() for b in
                            model.training_batches(toy, seed=3).take(2 * n // batch)])
    np.testing.assert_array_equal(drawn, again)  # seeded
    model = DoppelGANger.from_dataset(toy, toy_config(sample_with_replacement=False), seed=0)
    epochs = [b["indices"].numpy() for b in
              model.training_batches(toy, seed=3).take(3 * (n // batch))]
    for e in range(3):
        epoch = np.concatenate(epochs[e * (n // batch):(e + 1) * (n // batch)])
        assert sorted(epoch) == list(range(n))
    assert not np.array_equal(np.concatenate(epochs[:n // batch]),
                              np.concatenate(epochs[n // batch:2 * (n // batch)]))


@pytest.mark.parametrize("per_call, steps_per_epoch", [(4, 10), (10, 3), (1, 2)])
def test_steps_per_execution_runs_every_step_once(toy, per_call, steps_per_epoch):
    """Several steps per train-function call (a graph loop, traced once): each epoch still
    runs exactly its steps, including a last call with fewer steps than the others."""
    model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
    model.compile(steps_per_execution=per_call)
    traced = []
    train_step = model.train_step

    def counting_step(data):
        traced.append(1)
        return train_step(data)

    model.train_step = counting_step
    model.fit(toy, epochs=2, steps_per_epoch=steps_per_epoch, verbose=0)
    assert len(traced) == 1  # one copy of the step in the graph
    for optimizer in (model.generator_optimizer, model.critic_optimizer,
                      model.aux_critic_optimizer):
        assert int(optimizer.iterations.numpy()) == 2 * steps_per_epoch
    assert all(np.isfinite(model.history.history["d_loss"]))


def test_steps_per_execution_trains_as_one_step_per_call(toy):
    """The graph loop is the same training: same seeds, same weights (up to float order)."""
    weights = []
    for per_call in (1, 4):
        tf.keras.utils.set_random_seed(0)
        model = DoppelGANger.from_dataset(toy, toy_config(), seed=0)
        model.compile(steps_per_execution=per_call)
        model.fit(toy, epochs=2, steps_per_epoch=5, verbose=0, seed=1)
        weights.append([w.numpy() for w in model.weights])
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("critic_steps, generator_steps", [(1, 1), (2, 1)])
def test_generator_forward_passes_per_training_step(toy, critic_steps, generator_steps):
    """As the original, the generator runs once for each critic step and once for each
    generator step. Counted at trace time (one trace = one step's graph)."""
    model = DoppelGANger.from_dataset(
        toy, toy_config(critic_steps=critic_steps, generator_steps=generator_steps), seed=0)
    model.compile()
    calls = []
    forward = model.feature_generator.call

    def counting_call(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    model.feature_generator.call = counting_call
    model.fit(toy, epochs=1, steps_per_epoch=3, verbose=0)
    assert len(calls) == critic_steps + generator_steps
    assert np.isfinite(model.history.history["g_loss"][0])


def test_dp_training_runs_inside_fit(toy):
    model = DoppelGANger.from_dataset(toy, toy_config(dp_noise_multiplier=1.0), seed=0)
    model.compile()
    # ghost clipping noises the gradients itself and applies them with plain Adam
    # (test_dp_clipping.py cross-checks it against tensorflow-privacy's DP optimizer)
    assert type(model.critic_optimizer) is type(model.generator_optimizer)
    before = [w.copy() for w in model.critic.get_weights()]
    history = model.fit(toy, epochs=1, steps_per_epoch=3, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.critic.get_weights()))


@pytest.fixture(scope="module")
def float32_losses():
    """First-epoch losses of the float32 tiny model on toy_dataset() (seed 0)."""
    return {k: v[0] for k, v in trained_model(toy_dataset()).history.history.items()}


@pytest.mark.parametrize("precision, half", [("mixed_float16", "float16"),
                                             ("mixed_bfloat16", "bfloat16")])
def test_mixed_precision_trains_in_half_with_float32_weights_and_outputs(
        toy, tmp_path, float32_losses, precision, half):
    model = trained_model(toy, precision=precision)
    # the hidden layers compute in half precision on float32 weights; scores stay float32
    assert model.critic.hidden[0].compute_dtype == half
    assert model.feature_generator.lstms[0].compute_dtype == half
    assert model.attribute_generator.hidden[0].compute_dtype == half
    assert {tf.as_dtype(v.dtype) for v in model.weights} == {tf.float32}
    assert model.critic.score.compute_dtype == "float32"
    # float16 needs loss scaling (bfloat16 has float32's range)
    scaling = isinstance(model.critic_optimizer, tf.keras.mixed_precision.LossScaleOptimizer)
    assert scaling == (precision == "mixed_float16")
    # the same model and seed in float32: the first epoch's losses agree to half precision
    for name in ("d_loss", "gp", "aux_d_loss"):
        ours, theirs = model.history.history[name][0], float32_losses[name]
        assert np.isfinite(ours) and abs(ours - theirs) <= 0.05 * abs(theirs), name
    generated = model.generate(30, seed=3)
    assert generated.features.dtype == np.float32
    generated.validate()
    model.save(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.precision == precision and loaded.config == model.config
    np.testing.assert_array_equal(loaded.generate(30, seed=3).features, generated.features)
    # a run setting, not part of the model: the same weights load to run in float32
    as_float32 = DoppelGANger.load(tmp_path / "model", precision="float32")
    assert as_float32.precision == "float32"
    assert as_float32.critic.hidden[0].compute_dtype == "float32"
    for a, b in zip(as_float32.critic.get_weights(), loaded.critic.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_precision_is_checked(toy):
    with pytest.raises(ValueError, match=r"^precision must be one of \('float32', "
                                         r"'mixed_float16', 'mixed_bfloat16'\), got 'float16'"):
        DoppelGANger.from_dataset(toy, toy_config(), precision="float16")
    with pytest.raises(ValueError, match="DP training .* float32"):
        DoppelGANger.from_dataset(toy, toy_config(dp_noise_multiplier=1.0),
                                  precision="mixed_float16")
