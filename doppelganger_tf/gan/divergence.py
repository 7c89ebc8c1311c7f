"""The model's guard against divergence: ``DoppelGANger.fit`` adds :class:`StopOnDivergence`
(unless ``stop_on_divergence=False``), which raises :class:`TrainingDiverged` at the first
non-finite loss. The training callbacks (doppelganger_tf/training/stopping.py,
doppelganger_tf/training/callbacks.py) export the same classes."""
from __future__ import annotations

import numpy as np

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
