"""The settings of :class:`~doppelganger_tf.training.fidelity_callback.FidelityTracker`: its
defaults,
the logs keys it writes, and the checks of its arguments."""
from __future__ import annotations

import math
import numbers
from typing import List, Optional

import numpy as np

from .. import arguments
from ..data.dataset import Dataset
from ..evaluation.fidelity import METRIC_FAMILIES, check_metric_families

# the families by default: ACF of each feature, W1 of the per-sample mean and (max+min)/2, the
# share of flat series, the attributes' JSD / W1 and the lengths (when they vary): all cheap
DEFAULT_METRICS = ("acf", "mean", "midrange", "attribute", "length", "flat")
# epochs between evaluations by default: an evaluation of 500 samples measured 1.3% of the
# training time at the repository's MBA settings and 3.0% on the synthetic WWT data of 550 days
# (docs/design.md, "Fidelity during training"; bench/fidelity_cost.py)
DEFAULT_EVERY = 50
DEFAULT_NUM_SAMPLES = 500
PREFIX = "fidelity/"
SECONDS = "seconds"  # the logs key (after the prefix) of an evaluation's wall time
# logs keys (after the prefix) of each figure's ratio to its real-vs-real floor: RATIO + key
RATIO = "ratio/"
# keep_best="auto": the figures it combines (auto_keys) come from these families
AUTO = "auto"
AUTO_FAMILIES = ("acf", "mean", "attribute", "length", "flat")
# the logs key (after the prefix) of the combined figure of keep_best="auto" or several keys:
# the mean of their ratios to the floor
FLOOR_COMBINED = "keep_best_floor_ratio"
# ... and when keep_best_targets gives each key a target
TARGET_COMBINED = "keep_best_target_ratio"
# the share of fit's epochs (or of a TrainingTimeLimit's seconds) before any is eligible
DEFAULT_WARMUP = 0.1
# the restore message lists at most this many figures' ratios
LISTED_RATIOS = 8


def check_count(name, value, meaning) -> int:
    """An int >= 1 argument of the tracker (a TypeError / ValueError naming it and its meaning)."""
    return arguments.integer(f"FidelityTracker: {name}", value, minimum=1, meaning=meaning)


def check_families(metrics, needed=()) -> tuple:
    """The metric families to compute: those ``metrics`` names and those ``needed``, in
    :data:`METRIC_FAMILIES` order."""
    try:
        families = check_metric_families(metrics)
    except ValueError as error:
        raise ValueError(f"FidelityTracker: {error} (the tracker's default: "
                         f"{DEFAULT_METRICS})") from None
    return tuple(f for f in METRIC_FAMILIES if f in families or f in needed)


def check_keep_best(keep_best) -> List[str]:
    """keep_best as a list of prefixed logs keys (empty: keep nothing)."""
    if keep_best is None:
        return []
    if isinstance(keep_best, str):
        keys = [part.strip() for part in keep_best.split(",")]
    elif isinstance(keep_best, (list, tuple)) and keep_best:
        keys = list(keep_best)
    else:
        raise TypeError(f"FidelityTracker: keep_best must be 'auto', a logs key such as "
                        f"'acf_mse/<feature>', a list of them (or None), got {keep_best!r}")
    keys = [check_logs_key(key) for key in keys]
    if len(set(keys)) != len(keys):
        raise ValueError(f"FidelityTracker: keep_best names a key twice: {keys}")
    return keys


def check_targets(targets, auto: bool, keys: int) -> Optional[List[float]]:
    """keep_best_targets as a list of floats, one per keep_best key (None: no targets).
    ``auto``: keep_best is "auto"; ``keys``: how many keep_best keys there are."""
    if targets is None:
        return None
    if auto:
        raise ValueError("FidelityTracker: keep_best_targets needs keep_best keys to give "
                         "targets for, not 'auto' (which divides each figure by its floor)")
    if isinstance(targets, str):
        try:
            targets = [float(part) for part in targets.split(",")]
        except ValueError:
            raise ValueError(f"FidelityTracker: keep_best_targets={targets!r} must be "
                             f"numbers separated by commas, e.g. '0.005,0.3'") from None
    try:
        targets = [float(value) for value in targets]
    except (TypeError, ValueError):
        raise TypeError(f"FidelityTracker: keep_best_targets must be a list of positive "
                        f"numbers, one per keep_best key, got {targets!r}") from None
    if len(targets) != keys:
        raise ValueError(f"FidelityTracker: keep_best_targets has {len(targets)} values "
                         f"for {keys} keep_best keys; give one target "
                         f"per key, in the keys' order")
    if not all(math.isfinite(value) and value > 0 for value in targets):
        raise ValueError(f"FidelityTracker: keep_best_targets={targets} must all be "
                         f"positive and finite (each figure is divided by its target)")
    return targets


def check_warmup(warmup):
    """warmup as an int (epochs) or a float in [0, 1) (a share of the run)."""
    if isinstance(warmup, bool) or not isinstance(warmup, numbers.Real):
        raise TypeError(f"FidelityTracker: warmup must be a share of the run in [0, 1) "
                        f"(e.g. 0.1) or a number of epochs (an int), got {warmup!r}")
    if isinstance(warmup, numbers.Integral):
        if warmup < 0:
            raise ValueError(f"FidelityTracker: warmup={warmup} epochs must be >= 0")
        return int(warmup)
    if not 0 <= warmup < 1:
        raise ValueError(f"FidelityTracker: warmup={warmup!r} must be a share of the run "
                         f"in [0, 1), or an int for a number of epochs (e.g. warmup=50)")
    return float(warmup)


def check_logs_key(key) -> str:
    """A keep_best key as a logs key (with the prefix), refused when it names no figure."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"FidelityTracker: keep_best must be 'auto', a logs key such as "
                        f"'acf_mse/<feature>', a list of them (or None), got {key!r}")
    key = key if key.startswith(PREFIX) else PREFIX + key
    if key in (PREFIX + SECONDS, PREFIX + FLOOR_COMBINED, PREFIX + TARGET_COMBINED):
        raise ValueError(f"FidelityTracker: keep_best={key!r} is the evaluation time or the "
                         "tracker's own combination, not a fidelity figure: name one of the "
                         "metrics' keys, e.g. 'acf_mse/<feature>', or keep_best='auto'")
    return key


def check_reference(reference: Dataset, model) -> None:
    """The held-out ``reference`` fits ``model``: the same T, outputs and scaling (a ValueError
    listing what differs)."""
    problems = []
    if reference.max_length != model.max_length:
        problems.append(f"T={reference.max_length}, the model's is {model.max_length}")
    for kind, mine in (("feature", model.feature_outputs),
                       ("attribute", model.attribute_outputs)):
        theirs = getattr(reference, f"{kind}_outputs")
        if list(theirs) != list(mine):
            problems.append(f"its {kind} outputs {[o.name for o in theirs]} differ from "
                            f"the model's {[o.name for o in mine]} (names, types, dims or "
                            "categories)")
    scaling = reference.scaling()
    for name, expected in model.scaling.items():
        given = scaling.get(name)
        if (given is None) != (expected is None) or (given is not None and (
                np.shape(given) != np.shape(expected)
                or not np.allclose(given, expected, rtol=1e-6, atol=0))):
            problems.append(f"its {name} differs from the training data's, so its scaled "
                            "values are not comparable")
    if problems:
        raise ValueError(
            "FidelityTracker: reference= does not match the model: " + "; ".join(problems)
            + ". Take the held-out set from the same Dataset as the training data "
            "(Dataset.subset), or build it with the training data's specs and scaling: "
            "Dataset.from_arrays(..., feature_outputs=train.feature_outputs, "
            "attribute_outputs=train.attribute_outputs, **train.scaling())")
