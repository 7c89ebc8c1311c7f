"""Callbacks that end training early: :class:`TrainingTimeLimit` at a wall-time budget, and
:class:`StopOnDivergence` at the first non-finite loss (raising :class:`TrainingDiverged`),
which lives with the model that adds it (doppelganger_tf/gan/divergence.py) and is the same
class here."""
from __future__ import annotations

import time

from .. import arguments
from ..compat import keras
from ..gan.divergence import StopOnDivergence, TrainingDiverged

__all__ = ["StopOnDivergence", "TrainingDiverged", "TrainingTimeLimit"]


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
