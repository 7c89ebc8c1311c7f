"""Keras callbacks for DoppelGANger training, importable from one place.

:class:`ProgressLogger` is defined here; the others live with their concern and are re-exported:
:class:`~doppelganger_tf.checkpoint.TrainingCheckpoint` (resumable runs),
:class:`~doppelganger_tf.stopping.StopOnDivergence`,
:class:`~doppelganger_tf.stopping.TrainingDiverged` and
:class:`~doppelganger_tf.stopping.TrainingTimeLimit` (ending training early) and
:class:`~doppelganger_tf.privacy_budget.PrivacyBudget` (epsilon spent).
"""
from __future__ import annotations

import time

from .checkpoint import TrainingCheckpoint
from .compat import keras
from .privacy_budget import PrivacyBudget
from .stopping import StopOnDivergence, TrainingDiverged, TrainingTimeLimit

__all__ = ["PrivacyBudget", "ProgressLogger", "StopOnDivergence", "TrainingCheckpoint",
           "TrainingDiverged", "TrainingTimeLimit"]


class ProgressLogger(keras.callbacks.Callback):
    """Print losses, elapsed time and the projected time to finish, in place of Keras' progress
    bar for long runs.

    Args:
        every: Print every this many epochs (and after the last).
        print_fn: Receives each line.
    """

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
