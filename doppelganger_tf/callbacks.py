"""Keras callbacks for DoppelGANger training, importable from one place.

:class:`~doppelganger_tf.progress.TrainingProgress` (also as ``ProgressLogger``, its earlier
name: one line per report with the losses and a budget-aware ETA),
:class:`~doppelganger_tf.checkpoint.TrainingCheckpoint` (resumable runs),
:class:`~doppelganger_tf.stopping.StopOnDivergence`,
:class:`~doppelganger_tf.stopping.TrainingDiverged` and
:class:`~doppelganger_tf.stopping.TrainingTimeLimit` (ending training early) and
:class:`~doppelganger_tf.privacy_budget.PrivacyBudget` (epsilon spent).
"""
from __future__ import annotations


from .checkpoint import TrainingCheckpoint
from .privacy_budget import PrivacyBudget
from .progress import TrainingProgress
from .stopping import StopOnDivergence, TrainingDiverged, TrainingTimeLimit

__all__ = ["PrivacyBudget", "ProgressLogger", "StopOnDivergence", "TrainingCheckpoint",
           "TrainingDiverged", "TrainingProgress", "TrainingTimeLimit"]

# the earlier name of TrainingProgress (progress.py), which replaced its own display: one
# progress callback for the experiment scripts, the command line and users' fits
ProgressLogger = TrainingProgress
