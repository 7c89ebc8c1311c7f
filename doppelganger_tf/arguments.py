"""Checks of the arguments users pass to the package (counts, lengths, seeds, flags): the one
place that says what an integer argument accepts.

Nothing is coerced silently: ``generate(2.7)``, ``generate("4")`` or ``generate(True)`` are errors
that name the argument, not 2, 4 or 1 samples.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional

import numpy as np

# seeds become int64 tensors (stateless random seeds)
SEED_LIMIT = 2 ** 63


def integer(name: str, value, minimum: Optional[int] = None,
            maximum: Optional[int] = None, meaning: Optional[str] = None) -> int:
    """``value`` as a Python int, if it is an integer (numpy's included, bool not) within
    [minimum, maximum]; else a TypeError / ValueError naming ``name`` (and saying what it
    means, when ``meaning`` is given)."""
    said = f" ({meaning})" if meaning else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer{said}, got {value!r} "
                        f"({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}{said}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}{said}, got {value}")
    return value


def count(name: str, value, minimum: int = 1) -> int:
    """``value`` as a Python int, if it is an integer (numpy's included, bool not) >= ``minimum``;
    else a ValueError naming ``name``, whatever is wrong with it (for the arguments whose checks
    have always raised ValueError: lengths, windows, sample counts, epochs)."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)
            or value < minimum):
        bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return int(value)


def is_positive_number(value) -> bool:
    """Whether ``value`` is a finite real number > 0 (numpy's included, bool not): for the
    arguments in seconds, epsilon and the like, whose callers word their own errors."""
    return (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
            and math.isfinite(value) and value > 0)


def seed(value) -> int:
    """A seed: an integer in 0 .. 2**63 - 1."""
    return integer("seed", value, 0, SEED_LIMIT - 1)


def boolean(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def lengths(value, n: int, max_length: Optional[int] = None) -> np.ndarray:
    """Per-sample series lengths [n] from one integer or n integers, each in 1..max_length
    (>= 1 when max_length is None)."""
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        shown = repr(value) if array.size <= 10 else f"values of type {array.dtype}"
        raise TypeError(f"length must be an integer or {n} integers (one per sample), got "
                        f"{shown}")
    if array.ndim == 0:
        array = np.full(n, int(array), np.int64)
    elif array.shape != (n,):
        raise ValueError(f"length must be one integer or {n} integers (one per sample), got "
                         f"an array of shape {array.shape}")
    array = array.astype(np.int64)
    if array.min() < 1 or (max_length is not None and array.max() > max_length):
        allowed = "be >= 1" if max_length is None else f"lie in 1..{max_length} (the model's T)"
        raise ValueError(f"length must {allowed}, got values in {array.min()}..{array.max()}")
    return array
