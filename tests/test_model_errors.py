"""DoppelGANger on bad arguments, damaged saved models and diverging training: an error that
names the argument or file and what to do, never a silent coercion or a raw library error."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, TrainingCheckpoint
from conftest import sine_dataset, tiny_config

SAVED = Path(__file__).resolve().parent / "data" / "saved_models" / "reference" / "model"


@pytest.fixture(scope="module")
def model():
    return DoppelGANger.load(SAVED)


@pytest.fixture(scope="module")
def data():
    return sine_dataset()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n=2.7), TypeError, "n must be an integer"),
    (dict(n="4"), TypeError, "n must be an integer"),
    (dict(n=True), TypeError, "n must be an integer"),
    (dict(n=0), ValueError, "n must be >= 1"),
    (dict(n=None), ValueError, "give n"),
    (dict(n=3, length=2.5), TypeError, "length must be an integer or 3 integers"),
    (dict(n=3, length=[1, 2]), ValueError, "length must be one integer or 3 integers"),
    (dict(n=3, length=[1, 2, "a"]), TypeError, "length must be an integer"),
    (dict(n=3, length=True), TypeError, "length must be an integer"),
    (dict(n=3, length=0), ValueError, r"length must be >= 1"),
    (dict(n=3, seed=1.5), TypeError, "seed must be an integer"),
    (dict(n=3, seed="abc"), TypeError, "seed must be an integer"),
    (dict(n=3, seed=2 ** 70), ValueError, "seed must be <= "),
    (dict(n=3, seed=-1), ValueError, "seed must be >= 0"),
    (dict(n=3, batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(n=3, batch_size=2.0), TypeError, "batch_size must be an integer"),
    (dict(n=3, clip="yes"), TypeError, "clip must be True or False"),
])
def test_generate_refuses_what_it_would_have_coerced(model, kwargs, error, message, tmp_path):
    with pytest.raises(error, match=message):
        model.generate(**kwargs)
    with pytest.raises(error, match=message):  # before anything is written
        model.generate_to(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_generate_takes_numpy_integers(model):
    lengths = np.array([1, 8, 3], np.int32)
    generated = model.generate(np.int64(3), length=lengths, seed=np.uint8(4),
                               batch_size=np.int16(2))
    np.testing.assert_array_equal(generated.lengths, lengths)
    np.testing.assert_array_equal(model.generate(3, length=[1, 8, 3], seed=4,
                                                 batch_size=2).features, generated.features)


def damaged_copy(tmp_path, damage):
    """A copy of the saved test model with ``damage(directory)`` applied."""
    where = tmp_path / "model"
    shutil.copytree(SAVED, where)
    damage(where)
    return where


def edit_config(change):
    def damage(where):
        payload = json.loads((where / "model.json").read_text())
        (where / "model.json").write_text(json.dumps(change(payload)))
    return damage


def weights_bytes(transform):
    def damage(where):
        weights = where / "model.weights.npz"
        weights.write_bytes(transform(weights.read_bytes()))
    return damage


def garble(content):
    middle = len(content) // 2
    return content[:middle] + bytes(b ^ 0x5A for b in content[middle:middle + 200]) + \
        content[middle + 200:]


@pytest.mark.parametrize("damage, error, message", [
    (lambda where: (where / "model.weights.npz").unlink(), FileNotFoundError,
     "model.weights.npz is missing"),
    (weights_bytes(lambda content: b""), ValueError, "model.weights.npz is damaged"),
    (weights_bytes(lambda content: content[:len(content) // 2]), ValueError,
     "model.weights.npz is damaged"),
    (weights_bytes(garble), ValueError, "model.weights.npz is damaged"),
    (lambda where: (where / "model.json").write_text("[1, 2]"), ValueError,
     "is not a doppelganger_tf-model file"),
    (lambda where: (where / "model.json").write_bytes(b"\xff\xfe{"), ValueError,
     "model.json is corrupt"),
    (edit_config(lambda d: {k: v for k, v in d.items() if k != "max_length"}), ValueError,
     "lacks the entry 'max_length'"),
    (edit_config(lambda d: {**d, "config": {**d["config"], "feature_lstm_units": 9}}),
     ValueError, "has shape .* save the model again"),
    (edit_config(lambda d: {**d, "feature_outputs": 7}), ValueError,
     "does not describe a valid model"),
])
def test_a_damaged_saved_model_is_named(tmp_path, damage, error, message):
    with pytest.raises(error, match=message):
        DoppelGANger.load(damaged_copy(tmp_path, damage))


def test_generating_between_fits_keeps_checkpointing(data, tmp_path):
    """The most common thing a user does mid-training: look at samples, then continue."""
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile()
    checkpoint = TrainingCheckpoint(tmp_path / "ckpt")
    model.fit(data, epochs=1, callbacks=[checkpoint], verbose=0)
    model.generate(5, seed=1)
    model.fit(data, epochs=2, initial_epoch=1, callbacks=[checkpoint], verbose=0)
    assert TrainingCheckpoint(tmp_path / "ckpt").restore(model) == 2


def test_fit_stops_at_the_first_non_finite_loss(data):
    from doppelganger_tf.callbacks import TrainingDiverged

    def diverged_model():
        tf.keras.utils.set_random_seed(0)
        model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
        model.compile(steps_per_execution=1)
        kernel = model.critic.hidden[0].kernel
        kernel.assign(tf.fill(kernel.shape, np.nan))  # as after an exploding update
        return model

    model = diverged_model()
    with pytest.raises(TrainingDiverged, match=r"in epoch 1 \(by step 1 of it\): .*d_loss=nan"):
        model.fit(data, epochs=3, verbose=0)
    assert int(model.critic_optimizer.iterations) == 1  # stopped after the first step
    # opted out: trains on (the NaN losses are the user's to see)
    history = diverged_model().fit(data, epochs=2, verbose=0, stop_on_divergence=False)
    assert np.isnan(history.history["d_loss"]).all()


def test_fit_checks_its_seed(data):
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile()
    with pytest.raises(TypeError, match="seed must be an integer"):
        model.fit(data, epochs=1, seed=0.5, verbose=0)
