"""The scores :class:`~doppelganger_tf.training.fidelity_callback.FidelityTracker` keeps the best
epoch by: each figure's ratio to its real-vs-real floor (:func:`floor_ratio`), their mean
(:func:`mean_ratio`) or the mean ratio to given targets (:func:`target_ratio`), and the figures
``keep_best="auto"`` combines (:func:`auto_keys`)."""
from __future__ import annotations

import math
from typing import List

import numpy as np


def auto_keys(summary, figures) -> List[str]:
    """The figures keep_best="auto" combines, of those ``figures`` (a :func:`compare` dict of
    ``summary``'s settings) holds: the autocorrelation MSE, the W1 of the per-series mean and
    the flat share of every feature, the JSD of every discrete attribute of more than one
    category (one category: nothing to learn, its JSD is always 0), the W1 of every continuous
    attribute, and the lengths' W1 when they vary."""
    keys = ([f"acf_mse/{f}" for f in summary.features]
            + [f"w1_mean/{f}" for f in summary.features]
            + [f"flat/{f}" for f in summary.features]
            + [f"jsd/{name}" for name, (labels, _, _) in summary.discrete.items()
               if len(labels) > 1]
            + [f"w1/{column}" for column in summary.continuous] + ["length_w1"])
    return [key for key in keys if key in figures]


def floor_ratio(value: float, floor: float) -> float:
    """A figure over its floor; NaN where either is not finite or the floor not positive."""
    if not (math.isfinite(value) and math.isfinite(floor) and floor > 0):
        return float("nan")
    return value / floor


def mean_ratio(ratios) -> float:
    """The mean of the ratios to the floor; NaN when any is not finite (an evaluation that
    could not compute one of them is never the best)."""
    return float(np.mean(np.asarray(ratios, dtype=np.float64)))


def target_ratio(values, targets) -> float:
    """The mean of each figure over its target (below 1: the targets are met on average); NaN
    when any figure is (an evaluation that could not compute one of them is never the best)."""
    return float(np.mean(np.divide(np.asarray(values, dtype=np.float64), targets)))


def times(ratio: float) -> str:
    """A ratio for messages: "2.3x", "15x"; "-" when it is not finite."""
    if not math.isfinite(ratio):
        return "-"
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def finite_or(value: float, default: float) -> float:
    """``value`` when finite, else ``default``."""
    return value if math.isfinite(value) else default
