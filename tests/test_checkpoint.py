"""TrainingCheckpoint with damaged or wrong inputs: it restores the newest intact checkpoint
and warns, or raises naming the file; it never starts over silently."""
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, TrainingCheckpoint
from conftest import sine_dataset, tiny_config

DATA = "data-00000-of-00001"


@pytest.fixture(scope="module")
def data():
    return sine_dataset()


def new_model(data, **config):
    model = DoppelGANger.from_dataset(data, tiny_config(**config), seed=0)
    model.compile()
    return model


class Recorder(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.saved = {}

    def on_epoch_end(self, epoch, logs=None):
        self.saved[epoch + 1] = [w.copy() for w in self.model.get_weights()]


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """A checkpoint directory holding ckpt-1 and ckpt-2, and the weights each holds."""
    directory = tmp_path_factory.mktemp("run") / "ckpt"
    tf.keras.utils.set_random_seed(0)
    model = new_model(data)
    recorder = Recorder()
    model.fit(data, epochs=2, callbacks=[recorder, TrainingCheckpoint(directory)], verbose=0)
    assert sorted(os.listdir(directory)) == ["checkpoint", f"ckpt-1.{DATA}", "ckpt-1.index",
                                             f"ckpt-2.{DATA}", "ckpt-2.index"]
    return directory, recorder.saved


@pytest.fixture(scope="module")
def target(data):
    """The model restores go into (its weights are wiped before each)."""
    return new_model(data)


@pytest.fixture
def damaged(run, tmp_path):
    directory = tmp_path / "ckpt"
    shutil.copytree(run[0], directory)
    return directory


def restore(directory, model, expected_epoch, saved, **checkpoint_args):
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    checkpoint = TrainingCheckpoint(directory, **checkpoint_args)
    assert checkpoint.restore(model) == expected_epoch
    for a, b in zip(saved[expected_epoch], model.get_weights()):
        np.testing.assert_array_equal(a, b)
    return checkpoint


def truncate(file):
    os.truncate(file, os.path.getsize(file) // 2)


def flip_a_byte(file):
    content = bytearray(file.read_bytes())
    content[len(content) // 2] ^= 0xFF
    file.write_bytes(bytes(content))


@pytest.mark.parametrize("damage", ["garbage", "empty", "missing"])
def test_a_damaged_index_file_restores_the_newest_checkpoint_and_warns(
        run, damaged, target, damage):
    """Before: a garbage index made restore() return 0 and the new run's ckpt-1, ckpt-2
    overwrite the old run; an empty one raised "Invalid checkpoint state"."""
    index = damaged / "checkpoint"
    if damage == "missing":
        index.unlink()
    else:
        index.write_text("garbage \x00\x01" if damage == "garbage" else "")
    with pytest.warns(RuntimeWarning, match=f"index file {index} is "
                      f"{'missing' if damage == 'missing' else 'damaged'}.*Restored .*ckpt-2, the "
                      "newest intact checkpoint, and wrote a new index file"):
        checkpoint = restore(damaged, target, 2, run[1])
    # the index was rewritten: the next save prunes the old checkpoints as usual
    assert tf.train.latest_checkpoint(str(damaged)).endswith("ckpt-2")
    checkpoint.set_model(target)
    checkpoint.on_epoch_end(2)
    assert sorted(os.listdir(damaged)) == ["checkpoint", f"ckpt-2.{DATA}", "ckpt-2.index",
                                           f"ckpt-3.{DATA}", "ckpt-3.index"]


@pytest.mark.parametrize("damage, named", [
    ("truncated data", f"ckpt-2.{DATA} is damaged .*Read less bytes"),  # before: IndexError
    ("flipped byte", f"ckpt-2.{DATA} is damaged .*Checksum"),
    ("missing index", "ckpt-2.index is missing"),  # before: NotFoundError
    ("missing data", f"ckpt-2.{DATA} is missing"),
    ("garbage index", "ckpt-2.index is unreadable"),
])
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_and_warns(
        run, damaged, target, damage, named):
    prefix = damaged / "ckpt-2"
    if damage == "truncated data":
        truncate(f"{prefix}.{DATA}")
    elif damage == "flipped byte":
        flip_a_byte(damaged / f"ckpt-2.{DATA}")
    elif damage == "missing index":
        os.unlink(f"{prefix}.index")
    elif damage == "missing data":
        os.unlink(f"{prefix}.{DATA}")
    else:
        (damaged / "ckpt-2.index").write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match=rf"{named}.*\. Restored .*ckpt-1, the newest intact "
                      "checkpoint$"):
        restore(damaged, target, 1, run[1])


def test_no_intact_checkpoint_raises_naming_the_files(damaged, target):
    truncate(damaged / f"ckpt-1.{DATA}")
    truncate(damaged / f"ckpt-2.{DATA}")
    with pytest.raises(ValueError, match=f"no intact checkpoint in {damaged}: .*ckpt-2.{DATA} "
                       f"is damaged.*ckpt-1.{DATA} is damaged.*delete the directory"):
        TrainingCheckpoint(damaged).restore(target)


def test_a_damaged_index_without_checkpoints_raises(damaged, target):
    for name in os.listdir(damaged):
        if name.startswith("ckpt-"):
            os.unlink(damaged / name)
    (damaged / "checkpoint").write_text("garbage")
    with pytest.raises(ValueError, match=f"index file {damaged / 'checkpoint'} is damaged.*"
                       "holds no ckpt-N.index"):
        TrainingCheckpoint(damaged).restore(target)


def test_restoring_into_a_model_of_another_size_says_so(run, data):
    """Before: "Received incompatible tensor with shape (8, 12) ..." only."""
    with pytest.raises(ValueError, match="ckpt-2 does not fit this model .*incompatible.*same "
                       "DGConfig"):
        TrainingCheckpoint(run[0]).restore(new_model(data, feature_lstm_units=12))


@pytest.mark.parametrize("arguments, error, message", [
    (dict(max_to_keep=0), ValueError, "max_to_keep must be >= 1"),  # before: accepted
    (dict(max_to_keep=-1), ValueError, "max_to_keep must be >= 1"),
    (dict(max_to_keep=2.0), TypeError, r"max_to_keep must be an integer .*got 2\.0"),
    (dict(every_n_epochs=0), ValueError, "every_n_epochs must be >= 1"),
    (dict(every_n_epochs=-3), ValueError, "every_n_epochs must be >= 1"),
    (dict(every_n_epochs=1.5), TypeError, r"every_n_epochs must be an integer .*got 1\.5"),
    (dict(every_n_epochs="2"), TypeError, "every_n_epochs must be an integer .*got '2'"),
    (dict(every_n_epochs=True), TypeError, "every_n_epochs must be an integer"),
])
def test_bad_arguments_are_refused_at_construction(tmp_path, arguments, error, message):
    with pytest.raises(error, match=message):
        TrainingCheckpoint(tmp_path / "ckpt", **arguments)
    assert not (tmp_path / "ckpt").exists()


def test_good_arguments_are_accepted(tmp_path):
    checkpoint = TrainingCheckpoint(tmp_path, every_n_epochs=np.int64(3), max_to_keep=None)
    assert (checkpoint.every_n_epochs, checkpoint.max_to_keep) == (3, None)


def test_a_file_as_the_directory_is_refused(tmp_path, target):
    """Before: restore() returned 0, and the first save failed with "is not a directory"."""
    (tmp_path / "ckpt").write_text("not a directory")
    with pytest.raises(NotADirectoryError, match=f"checkpoint directory {tmp_path / 'ckpt'} "
                       "is a file"):
        TrainingCheckpoint(tmp_path / "ckpt")
    checkpoint = TrainingCheckpoint(tmp_path / "later")
    (tmp_path / "later").write_text("appeared after construction")
    with pytest.raises(NotADirectoryError, match="is a file"):
        checkpoint.restore(target)


def test_an_empty_directory_means_a_fresh_start(tmp_path, target):
    assert TrainingCheckpoint(tmp_path / "none").restore(target) == 0
    (tmp_path / "empty").mkdir()
    assert TrainingCheckpoint(tmp_path / "empty").restore(target) == 0


def test_checkpoints_written_by_the_former_code_restore(data, tmp_path, target):
    """The former TrainingCheckpoint: a CheckpointManager with its default name, no checks."""
    tf.keras.utils.set_random_seed(1)
    model = new_model(data)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model, epoch=epoch),
                                         str(tmp_path / "old"), max_to_keep=2)
    epoch.assign(5)
    manager.save(checkpoint_number=5)
    restore(tmp_path / "old", target, 5, {5: model.get_weights()})


def test_a_checkpoint_of_the_ungrouped_generators_names_the_version_change(tmp_path, target):
    """Before the Generator network grouped them, the model held its generators directly:
    such a checkpoint cannot restore, and the error says why (not "another configuration")."""
    old_model = tf.Module()
    old_model.feature_generator = tf.Module()
    old_model.feature_generator.kernel = tf.Variable(tf.zeros([2, 2]))
    epoch = tf.Variable(3, dtype=tf.int64)
    tf.train.CheckpointManager(tf.train.Checkpoint(model=old_model, epoch=epoch),
                               str(tmp_path), max_to_keep=2,
                               checkpoint_name=TrainingCheckpoint.PREFIX).save()
    with pytest.raises(ValueError, match="earlier doppelganger_tf, whose model held its three "
                       "generator networks directly"):
        TrainingCheckpoint(tmp_path).restore(target)
