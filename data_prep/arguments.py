"""The converters' argument checks: one rule and one message per kind of argument.

Every check raises ``ValueError`` naming the argument and the value it got, so a bad flag ends a
command-line run with one line (see :mod:`data_prep.cli`).  Nothing is coerced: ``1.5``,
``"3"`` and ``True`` are not counts.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import List

import numpy as np


class MissingInput(FileNotFoundError, ValueError):
    """An input file that does not exist: a FileNotFoundError, and a ValueError like every
    other bad argument."""


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def positive_int(value, name: str, optional: bool = False) -> None:
    """A count or a size: an integer >= 1 (None too when ``optional``)."""
    if optional and value is None:
        return
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer{' or None' if optional else ''}, "
                         f"got {value!r}")


def seed(value) -> None:
    if not _is_int(value) or value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {value!r}")


def fraction(value, meaning: str = "") -> None:
    """The held-out share of the sample, in [0, 1); ``meaning`` is said in parentheses (e.g.
    what 0 does)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value < 1):
        explained = f" ({meaning})" if meaning else ""
        raise ValueError(f"test_fraction must be a number in [0, 1){explained}, got {value!r}")


def input_file(path, *, kind: str, advice: str, name: str) -> Path:
    """An existing file, not a directory: else ``no such {kind}: {path} ({advice})`` or ``{path}
    is a directory; give the path of {name}``."""
    path = Path(path)
    if not path.exists():
        raise MissingInput(f"no such {kind}: {path} ({advice})")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give the path of {name}")
    return path


def paths(value, what: str) -> List[Path]:
    """One path, a comma-separated string or a list of those -> the paths (at least one)."""
    if value is None:
        raise ValueError(f"no {what} given")
    items = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    found: List[Path] = []
    for item in items:
        if isinstance(item, str):
            found.extend(Path(p.strip()) for p in item.split(",") if p.strip())
        else:
            found.append(Path(item))
    if not found:
        raise ValueError(f"no {what} given")
    return found
