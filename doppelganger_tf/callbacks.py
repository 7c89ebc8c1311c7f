"""Keras callbacks for DoppelGANger training."""
from __future__ import annotations

from pathlib import Path

import tensorflow as tf

keras = tf.keras


class TrainingCheckpoint(keras.callbacks.Callback):
    """Checkpoint everything a resumed run needs (weights, optimizer slots, the noise RNG,
    the epoch) every ``every_n_epochs`` epochs, keeping the newest ``max_to_keep``.

    Resume an interrupted run with the same callback::

        checkpoint = TrainingCheckpoint("run/ckpt")
        start = checkpoint.restore(model)          # 0 when there is nothing to resume
        model.fit(data, epochs=400, initial_epoch=start, callbacks=[checkpoint])

    TensorFlow writes each checkpoint fully before pointing the "latest" record at it, so a run
    killed mid-save resumes from the previous one.
    """

    def __init__(self, directory, every_n_epochs: int = 1, max_to_keep: int = 2):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.directory = Path(directory)
        self.every_n_epochs = every_n_epochs
        self.max_to_keep = max_to_keep
        self._epoch = None
        self._manager = None
        self._bound_model = None

    def _bind(self, model):
        if self._bound_model is model:
            return
        if getattr(model, "generator_optimizer", None) is None:
            raise ValueError("compile() the model before checkpointing or restoring it")
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        checkpoint = tf.train.Checkpoint(model=model, epoch=self._epoch)
        self._manager = tf.train.CheckpointManager(checkpoint, str(self.directory),
                                                   max_to_keep=self.max_to_keep)
        self._bound_model = model

    @property
    def latest(self):
        """Path prefix of the newest checkpoint, or None."""
        return tf.train.latest_checkpoint(str(self.directory))

    def restore(self, model) -> int:
        """Load the newest checkpoint into ``model``; returns the epoch to resume from."""
        self._bind(model)
        latest = self._manager.latest_checkpoint
        if latest is None:
            return 0
        self._manager.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self._epoch.numpy())

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        self._bind(self.model)
        self._epoch.assign(epoch + 1)
        self._manager.save(checkpoint_number=epoch + 1)
