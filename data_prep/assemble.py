"""One way from the samples a converter chose to its Datasets: the seeded draw, the train/test
split, and the encoding with ``Dataset.from_arrays`` under fixed specs and a global min/max."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from doppelganger_tf import Dataset, Output

# samples encoded per Dataset.from_arrays call: bounds its float64 intermediates
BUILD_BLOCK_ROWS = 10000


def uniform_sample(population: int, num_samples: int, seed: int) -> np.ndarray:
    """``num_samples`` of ``range(population)`` drawn uniformly without replacement (all of them
    when fewer), in the random order of one seeded permutation."""
    return np.random.default_rng(seed).permutation(population)[:num_samples]


def shortfall_note(found: int, num_samples: int, noun: str, verb: str = "passed"
                   ) -> Optional[str]:
    """The report's note when the filters left fewer samples than asked for, else None."""
    if found >= num_samples:
        return None
    return (f"only {found} {noun} {verb} the filters, fewer than num_samples={num_samples}: all "
            "of them were kept")


def split(chosen: np.ndarray, test_fraction: float, noun: str) -> Dict[str, np.ndarray]:
    """The drawn samples, in their random order -> ``{"train": ..., "test": ...}``: the first
    ``test_fraction`` of them are the test set, each split sorted (input order).  No "test" when
    ``test_fraction`` is 0; a split that would leave either side empty is an error."""
    num_test = int(len(chosen) * test_fraction)
    if test_fraction > 0 and (num_test == 0 or num_test == len(chosen)):
        raise ValueError(f"{len(chosen)} sampled {noun} cannot be split with test_fraction="
                         f"{test_fraction} (train {len(chosen) - num_test}, test {num_test}); "
                         f"use more {noun} or test_fraction=0 for no test set")
    splits = OrderedDict([("train", np.sort(chosen[num_test:]))])
    if test_fraction > 0:
        splits["test"] = np.sort(chosen[:num_test])
    return splits


RawBlock = Tuple[object, object]  # (features: [n, T, F] or n arrays [T_i, F]; attributes)


def build(num_samples: int, max_length: int, raw: Callable[[int, int], RawBlock], *,
          feature_outputs: Sequence[Output], attribute_outputs: Sequence[Output],
          feature_min, feature_max, block_rows: Optional[int]) -> Dataset:
    """Encode ``num_samples`` samples into one Dataset of T = ``max_length``.

    ``raw(start, stop)`` gives the raw values of samples ``start..stop-1`` as
    ``Dataset.from_arrays`` takes them (features; attributes by name).  They are encoded
    ``block_rows`` at a time (None: all at once) with the given specs and feature min/max, so
    every block is scaled alike, and copied into the result (shorter series padded with zeros,
    generation flag 0): one dense copy plus one block's intermediates at the peak.
    """
    block_rows = block_rows or num_samples
    result = None
    for start in range(0, num_samples, block_rows):
        stop = min(start + block_rows, num_samples)
        features, attributes = raw(start, stop)
        part = Dataset.from_arrays(features, attributes, feature_outputs=feature_outputs,
                                   attribute_outputs=attribute_outputs, feature_min=feature_min,
                                   feature_max=feature_max)
        del features, attributes
        if stop - start == num_samples and part.max_length == max_length:
            return part  # a single block already is the dataset
        if result is None:
            result = {"features": np.zeros((num_samples, max_length, part.num_feature_columns),
                                           np.float32),
                      "attributes": np.zeros((num_samples, part.num_attribute_columns),
                                             np.float32),
                      "gen_flags": np.zeros((num_samples, max_length), np.float32),
                      "specs": (part.feature_outputs, part.attribute_outputs),
                      "scaling": part.scaling()}
        steps = part.max_length
        result["features"][start:stop, :steps] = part.features
        result["gen_flags"][start:stop, :steps] = part.gen_flags
        result["attributes"][start:stop] = part.attributes
        del part
    return Dataset(result["features"], result["attributes"], result["gen_flags"],
                   *result["specs"], **result["scaling"])
