"""The seeded halves of the real data that experiments/common.py's ``split_real_halves`` draws
(the training half and the held-out floor of experiments/wwt.py), for the bench scripts that
score a run's model against the same pages. The bench scripts import only the package and
their own folder; this copy must draw what experiments/common.py draws for the same seed."""
from __future__ import annotations

import numpy as np

from doppelganger_tf.dataset import Dataset


def split_real_halves(dataset: Dataset, seed: int):
    """Two random halves of the real data: their distance is the floor a model can reach."""
    order = np.random.default_rng(seed).permutation(len(dataset))
    half = len(dataset) // 2
    return dataset.subset(order[:half]), dataset.subset(order[half:2 * half])
