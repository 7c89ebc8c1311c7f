"""Callbacks that end training early: :class:`StopOnDivergence` at the first non-finite loss
(raising :class:`TrainingDiverged`), :class:`TrainingTimeLimit` at a wall-time budget."""
from __future__ import annotations

import time

import numpy as np

from .. import arguments
from ..compat import keras


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss: the weights are no longer finite."""


class StopOnDivergence(keras.callbacks.Callback):
    """Stop ``fit`` at the first non-finite loss: once a weight is NaN every later step is wasted.

    ``DoppelGANger.fit`` adds it unless ``stop_on_divergence=False``. It checks the losses
    after every call of the train function (``steps_per_execution`` steps).

    Raises:
        TrainingDiverged: Naming the epoch and the losses.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        losses = {name: float(value) for name, value in (logs or {}).items()}
        if all(np.isfinite(value) for value in losses.values()):
            return
        shown = ", ".join(f"{name}={value:.4g}" for name, value in losses.items())
        raise TrainingDiverged(
            f"training diverged in epoch {self._epoch + 1} (by step {batch + 1} of it): "
            f"{shown}. The weights are no longer finite, so further steps are wasted: resume "
            "from the last checkpoint (TrainingCheckpoint.restore) with lower learning rates "
            "(DGConfig.*_learning_rate), or pass fit(..., stop_on_divergence=False) to train on")


class TrainingTimeLimit(keras.callbacks.Callback):
    """A training budget in wall time rather than in epochs.

    Stops ``fit`` at the end of the first epoch that ends ``seconds`` or more after training
    began (the clock starts at ``on_train_begin``, so the first call's graph tracing counts).
    After ``fit``, :attr:`stopped_epoch` is the 0-based epoch it stopped at (None when the
    epochs ran out first) and :attr:`elapsed` the seconds from the start to the last epoch's
    end.

    Args:
        seconds: The budget.

    Raises:
        ValueError: When ``seconds`` is not a finite, positive number.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if not arguments.is_positive_number(seconds):
            raise ValueError(f"TrainingTimeLimit: seconds must be a finite, positive number of "
                             f"seconds of wall time, got {seconds!r} (for no limit, leave the "
                             "callback out)")
        self.seconds = float(seconds)
        self.stopped_epoch = None
        self.elapsed = 0.0
        self._started = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed = time.perf_counter() - self._started
        if self.elapsed >= self.seconds:
            self.stopped_epoch = epoch
            self.model.stop_training = True
