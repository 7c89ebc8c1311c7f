"""compat.py: each place where the two Keras versions differ, checked on the installed one.

A failure here after a Keras or TensorFlow upgrade names the version that broke it."""
import sys

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, TrainingCheckpoint, compat
from conftest import sine_dataset, tiny_config

STACK = f"Keras {compat.KERAS_VERSION}, TensorFlow {tf.__version__}"


@pytest.fixture(scope="module")
def data():
    return sine_dataset()


def new_model(data, **config):
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(**config), seed=0)
    model.compile()
    return model


def test_the_keras_in_use_is_the_stacks():
    major = int(compat.KERAS_VERSION.split(".")[0])
    tf_minor = int(tf.__version__.split(".")[1])
    assert compat.KERAS_3 == (major >= 3), STACK
    # TensorFlow >= 2.16 comes with Keras 3 (tf.keras is Keras 3 unless TF_USE_LEGACY_KERAS)
    assert compat.KERAS_3 == (tf_minor >= 16), STACK
    if sys.version_info >= (3, 12):
        assert compat.KERAS_3, f"Python 3.12+ is the current stack (Keras 3); got {STACK}"


def test_untracked_attributes_stay_out_of_checkpoints(data, tmp_path):
    """The generation cache is a dict of tf.functions: tracked, it made the next checkpoint
    fail ("Unable to save the object ... a dictionary wrapper")."""
    model = new_model(data)
    model.generate(4, seed=1)
    assert type(model.sampler._functions) is dict, STACK
    assert len(model.sampler._functions) == 1, STACK
    checkpoint = TrainingCheckpoint(tmp_path / "ckpt")
    model.fit(data, epochs=1, callbacks=[checkpoint], verbose=0)
    assert checkpoint.latest is not None, STACK
    assert TrainingCheckpoint(tmp_path / "ckpt").restore(new_model(data)) == 1, STACK


def test_layer_lists_are_restored_from_checkpoints(data, tmp_path):
    """BatchNorm statistics live in layers held in a list (never in an optimizer): a
    restored model must get them back (Keras 3's checkpoints skip lists of layers)."""
    model = new_model(data)
    model.fit(data, epochs=1, verbose=0)
    tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    fresh = new_model(data)
    tf.train.Checkpoint(model=fresh).read(str(tmp_path / "ckpt")).assert_consumed()
    moving = [(layer, fresh_layer) for layer, fresh_layer in zip(
        model.attribute_generator.hidden, fresh.attribute_generator.hidden)
        if "batch_norm" in layer.name]
    assert moving
    for layer, fresh_layer in moving:
        assert not np.allclose(layer.moving_mean.numpy(), 0), STACK  # training moved it
        np.testing.assert_array_equal(fresh_layer.moving_mean.numpy(),
                                      layer.moving_mean.numpy(), err_msg=STACK)


def test_time_major_lstm_runs_time_major():
    lstm = compat.time_major_lstm(3)
    x = tf.random.stateless_normal([5, 2, 4], seed=[0, 1])  # [T, B, D]
    state = [tf.zeros([2, 3]), tf.zeros([2, 3])]
    h = compat.run_time_major_lstm(lstm, x, state)
    assert h.shape == (5, 2, 3), STACK
    # the same weights run one sample at a time, batch-major, by the LSTM cell itself
    kernel, recurrent, bias = (w.numpy() for w in lstm.weights)
    hs, c = np.zeros([2, 3], np.float32), np.zeros([2, 3], np.float32)
    for t in range(5):
        z = x[t].numpy() @ kernel + hs @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)

        def sigmoid(v):
            return 1 / (1 + np.exp(-v))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        hs = sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(h[t].numpy(), hs, atol=1e-5, err_msg=STACK)


def test_loss_scaling_applies_the_unscaled_gradient():
    """scale_loss + unscale_gradients + apply_gradients = a plain step on the true gradient,
    whichever of the two Keras versions splits the unscaling."""
    true_gradient = np.array([0.25, -1.5], np.float32)
    results = []
    for scaled in (False, True):
        variable = tf.Variable([1.0, 2.0])
        optimizer = compat.keras.optimizers.SGD(learning_rate=0.1)
        if scaled:
            optimizer = compat.LossScaleOptimizer(optimizer)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(variable * true_gradient)
            scaled_loss = compat.scale_loss(optimizer, loss)
        if scaled:
            # a large dynamic scale
            assert abs(float(scaled_loss)) > 1000 * abs(float(loss)), STACK
        grads = compat.unscale_gradients(optimizer, tape.gradient(scaled_loss, [variable]))
        optimizer.apply_gradients(zip(grads, [variable]))
        results.append(variable.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, err_msg=STACK)
    np.testing.assert_allclose(results[0], [1.0, 2.0] - 0.1 * true_gradient, rtol=1e-6)


@pytest.mark.skipif(compat.KERAS_3, reason="Keras 3's own train function traces the step once")
def test_keras2_internals_of_the_multi_step_train_function(data):
    model = new_model(data)
    for name in ("_steps_per_execution", "_cluster_coordinator",
                 "autotune_steps_per_execution"):
        assert hasattr(model, name), f"Model.{name} is gone in {STACK}: update compat.py"
    model.make_train_function()
    assert hasattr(model, "train_tf_function"), f"Model.train_tf_function is gone in {STACK}"
    assert int(model._steps_per_execution.numpy()) > 1


@pytest.mark.parametrize("steps_per_epoch", [3, 7, 12])
def test_an_epoch_runs_its_steps_whatever_the_steps_per_call(data, steps_per_epoch):
    """Keras 3 runs steps_per_execution steps per call even past the end of an epoch of an
    endless input; an epoch must still train exactly steps_per_epoch steps."""
    model = new_model(data)  # 10 steps per call by default
    model.fit(data, epochs=2, steps_per_epoch=steps_per_epoch, verbose=0)
    assert int(model.critic_optimizer.iterations.numpy()) == 2 * steps_per_epoch, STACK


def test_user_keras_callbacks_and_optimizer(data, tmp_path):
    """Callbacks and optimizers imported as TensorFlow's documentation shows (``import keras``
    and ``tf.keras``) work with compile()/fit() on either stack."""
    import keras

    log = tmp_path / "log.csv"
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile(generator_optimizer=keras.optimizers.Adam(1e-3),
                  critic_optimizer=tf.keras.optimizers.Adam(1e-3))
    history = model.fit(data, epochs=2, verbose=0, callbacks=[
        # GAN losses have no "better" direction Keras can infer: Keras 3 needs the mode
        keras.callbacks.EarlyStopping(monitor="d_loss", mode="min", patience=5),
        keras.callbacks.CSVLogger(str(log)),
        tf.keras.callbacks.TensorBoard(str(tmp_path / "tensorboard")),
    ])
    assert len(history.history["d_loss"]) == 2, STACK
    table = pd.read_csv(log)
    assert list(table["epoch"]) == [0, 1], STACK
    assert {"d_loss", "g_loss", "gp"} <= set(table.columns), STACK
    np.testing.assert_allclose(table["d_loss"], history.history["d_loss"], rtol=1e-5)
    assert any((tmp_path / "tensorboard").rglob("events.out.tfevents*")), STACK


def test_a_callback_of_another_keras_is_named(data):
    class Foreign:  # e.g. a tf_keras callback handed to a Keras 3 model
        pass
    model = new_model(data)
    with pytest.raises(TypeError, match="keras.callbacks.Callback"):
        model.fit(data, epochs=1, verbose=0, callbacks=[Foreign()])
