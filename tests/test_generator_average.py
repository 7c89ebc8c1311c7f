"""DGConfig.generator_average_decay: a moving average of the generator's weights, which
generation runs; saved, checkpointed and retrained with the model."""
import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DGConfig, DoppelGANger, TrainingCheckpoint
from doppelganger_tf.retrain import retrain_attribute_generator
from conftest import sine_dataset, tiny_config

DECAY = 0.75


@pytest.fixture(scope="module")
def data():
    return sine_dataset()


def new_model(data, decay=DECAY, seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(
        data, tiny_config(generator_average_decay=decay), seed=seed)
    model.compile(steps_per_execution=1)
    return model


def values(variables):
    return [np.array(v.numpy()) for v in variables]


def test_off_by_default_and_the_networks_start_as_without_it(data):
    plain, averaged = new_model(data, decay=0.0), new_model(data)
    assert plain.averaged_generator is None and plain.sampling_generator is plain.generator
    assert averaged.sampling_generator is averaged.averaged_generator
    # the averaged copy is built last: the other networks' initial weights are unchanged
    for a, b in zip(plain.get_weights(), averaged.generator.get_weights()
                    + averaged.critic.get_weights() + averaged.aux_critic.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(averaged.averaged_generator.get_weights(), averaged.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_each_generator_step_moves_the_average_toward_the_weights(data):
    model = new_model(data)
    start = values(model.averaged_generator.trainable_variables)
    model.fit(data, epochs=1, steps_per_epoch=1, verbose=0)
    live = values(model.generator.trainable_variables)
    averaged = values(model.averaged_generator.trainable_variables)
    assert any(not np.allclose(a, b) for a, b in zip(start, live))
    for s, w, a in zip(start, live, averaged):
        np.testing.assert_allclose(a, DECAY * s + (1 - DECAY) * w, rtol=1e-5, atol=1e-7)
    # BatchNorm's moving statistics are the live ones
    for a, b in zip(model.averaged_generator.non_trainable_variables,
                    model.generator.non_trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # two more steps
    assert int(model.generator_optimizer.iterations) == 3


@pytest.fixture(scope="module")
def trained(data):
    model = new_model(data)
    model.fit(data, epochs=2, verbose=0)
    return model


def test_generation_runs_the_averaged_generator(trained, data):
    generated = trained.generate(12, seed=1)
    plain = new_model(data, decay=0.0)
    plain.generator.set_weights(trained.averaged_generator.get_weights())
    np.testing.assert_array_equal(plain.generate(12, seed=1).features, generated.features)
    plain.generator.set_weights(trained.generator.get_weights())
    assert not np.array_equal(plain.generate(12, seed=1).features, generated.features)


def test_save_load_and_checkpoints_keep_the_average(trained, data, tmp_path):
    trained.save(tmp_path / "model")
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.config.generator_average_decay == DECAY
    np.testing.assert_array_equal(loaded.generate(12, seed=1).features,
                                  trained.generate(12, seed=1).features)

    model = new_model(data)
    model.fit(data, epochs=2, verbose=0, callbacks=[TrainingCheckpoint(tmp_path / "ckpt")])
    fresh = new_model(data, seed=5)
    assert TrainingCheckpoint(tmp_path / "ckpt").restore(fresh) == 2
    for a, b in zip(fresh.averaged_generator.get_weights(),
                    model.averaged_generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_retraining_changes_the_averaged_attribute_generator_only(data):
    model = new_model(data)
    model.fit(data, epochs=1, verbose=0)
    live = model.attribute_generator.get_weights()
    averaged = model.averaged_attribute_generator.get_weights()
    retrain_attribute_generator(model, data, epochs=1, steps_per_epoch=2, seed=0)
    for a, b in zip(live, model.attribute_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(averaged, model.averaged_attribute_generator.get_weights()))


@pytest.mark.parametrize("decay", [1.0, -0.1, float("nan")])
def test_a_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="generator_average_decay"):
        DGConfig(generator_average_decay=decay)
