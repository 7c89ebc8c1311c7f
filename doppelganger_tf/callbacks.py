"""Keras callbacks for DoppelGANger training."""
from __future__ import annotations

import time
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


class ProgressLogger(keras.callbacks.Callback):
    """One line per ``every`` epochs: losses, elapsed time and the projected time to finish
    (long runs print this instead of Keras' progress bar)."""

    def __init__(self, every: int = 1, print_fn=print):
        super().__init__()
        self.every = max(1, int(every))
        self.print_fn = print_fn
        self._started = None
        self._first_epoch = None
        self._total = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._first_epoch = None
        self._total = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self._total:
            return
        elapsed = time.perf_counter() - self._started
        per_epoch = elapsed / max(1, done - self._first_epoch)
        remaining = per_epoch * (self._total - done) if self._total else float("nan")
        losses = " ".join(f"{k}={v:.4g}" for k, v in (logs or {}).items())
        self.print_fn(f"epoch {done}/{self._total} {losses} | {elapsed:.0f}s elapsed, "
                      f"{per_epoch:.2f}s/epoch, ETA {remaining:.0f}s")
