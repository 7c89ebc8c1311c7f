"""Keras callbacks for DoppelGANger training, importable from one place.

:class:`~doppelganger_tf.training.progress.TrainingProgress` (also as ``ProgressLogger``, its
earlier name: one line per report with the losses and a budget-aware ETA),
:class:`~doppelganger_tf.training.checkpoint.TrainingCheckpoint` (resumable runs),
:class:`~doppelganger_tf.gan.divergence.StopOnDivergence`,
:class:`~doppelganger_tf.gan.divergence.TrainingDiverged` and
:class:`~doppelganger_tf.training.stopping.TrainingTimeLimit` (ending training early) and
:class:`~doppelganger_tf.dp.privacy_budget.PrivacyBudget` (epsilon spent).
"""
from __future__ import annotations

from ..dp.privacy_budget import PrivacyBudget
from .checkpoint import TrainingCheckpoint
from .progress import TrainingProgress
from .stopping import StopOnDivergence, TrainingDiverged, TrainingTimeLimit

__all__ = ["PrivacyBudget", "ProgressLogger", "StopOnDivergence", "TrainingCheckpoint",
           "TrainingDiverged", "TrainingProgress", "TrainingTimeLimit"]

# the earlier name of TrainingProgress (progress.py), which replaced its own display: one
# progress callback for the experiment scripts, the command line and users' fits
ProgressLogger = TrainingProgress
