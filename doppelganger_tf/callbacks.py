"""Keras callbacks for DoppelGANger training."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import tensorflow as tf

from .compat import keras


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


class PrivacyBudget(keras.callbacks.Callback):
    """Epsilon spent so far by a DP model, after every epoch: put into the epoch logs
    (``logs["epsilon"]``, so ``History`` keeps it), printed, and stored on the model
    (``model.privacy_record``, which ``save()`` writes into model.json).

    Steps spent = the critic optimizer's update count / ``critic_steps``: exact across
    resumed runs whose checkpoint restored the optimizers (TrainingCheckpoint does), and
    across several ``fit`` calls; it is never taken below the epochs this run covers
    (``initial_epoch`` included) in case a run was resumed without its optimizer state.

    target_epsilon: stop training (``model.stop_training``) at the end of the epoch after which
    one more epoch would exceed it, so the target is never passed. Training that would
    exceed it already in its first epoch raises instead of running.
    """

    def __init__(self, num_samples: int, delta: float = 1e-5,
                 target_epsilon: Optional[float] = None, print_fn=print):
        super().__init__()
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be the training set size (>= 1), got "
                             f"{num_samples!r}")
        if target_epsilon is not None and not target_epsilon > 0:
            raise ValueError(f"target_epsilon must be > 0 (or None), got {target_epsilon!r}")
        self.num_samples = int(num_samples)
        self.delta = float(delta)
        self.target_epsilon = target_epsilon
        self.print_fn = print_fn
        self.stopped_early = False
        self._first_epoch = None
        self._steps_per_epoch = None

    def _config(self):
        model = self.model
        if not getattr(model, "uses_dp", False):
            raise ValueError("PrivacyBudget needs a model trained with DP: build it with "
                             "DGConfig(dp_noise_multiplier=...) (no DP means no epsilon)")
        return model.config

    def _epsilon(self, steps):
        from .privacy import epsilon_spent
        return epsilon_spent(self.num_samples, self._config().batch_size, steps,
                             self._config(), self.delta,
                             aux_critic=self.model.aux_critic is not None)

    def steps_spent(self, epochs_done: Optional[int] = None) -> int:
        """Training steps (real batches) the critics have read so far."""
        counted = int(self.model.critic_optimizer.iterations.numpy()) // \
            self._config().critic_steps
        if epochs_done is not None and self._steps_per_epoch:
            counted = max(counted, epochs_done * self._steps_per_epoch)
        return counted

    def on_train_begin(self, logs=None):
        self._config()
        self._first_epoch = None
        self._steps_per_epoch = self.params.get("steps") or \
            self.model.steps_per_epoch(self.num_samples)
        self.stopped_early = False
        if self.target_epsilon is not None:
            spent = self.steps_spent()
            nxt = self._epsilon(spent + self._steps_per_epoch)
            if nxt > self.target_epsilon:
                raise ValueError(
                    f"one more epoch ({self._steps_per_epoch} steps after {spent}) would spend "
                    f"epsilon {nxt:.4g} > target_epsilon {self.target_epsilon}: raise the "
                    "noise multiplier or the target, or train fewer steps per epoch")

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        from .privacy import privacy_record
        steps = self.steps_spent(epochs_done=epoch + 1)
        record = privacy_record(self._config(), self.num_samples, steps, self.delta,
                                aux_critic=self.model.aux_critic is not None,
                                target_epsilon=self.target_epsilon)
        eps = record["epsilon"]
        if logs is not None:
            logs["epsilon"] = eps
        message = (f"epoch {epoch + 1}: epsilon {eps:.4g} (delta {self.delta:g}) after "
                   f"{steps} steps; original accounting {record['epsilon_original']:.4g}")
        if self.target_epsilon is not None:
            nxt = self._epsilon(steps + self._steps_per_epoch)
            if nxt > self.target_epsilon:
                self.model.stop_training = True
                self.stopped_early = True
                message += (f"; stopping: the next epoch would reach {nxt:.4g} > target "
                            f"{self.target_epsilon}")
        record["stopped_early"] = self.stopped_early
        self.model.privacy_record = record
        self.print_fn(message)
