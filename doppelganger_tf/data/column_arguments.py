"""The builders' per-column arguments resolved: which columns an argument such as
``discrete_features`` lists (by name or index), and each feature column's transform (the
``transforms`` argument, "auto" decided from the column's values)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .column_transform import TRANSFORM_NAMES, ColumnTransform
from .transforms import choose_transform


def column_transforms(argument, names: List[str], columns, discrete: set, default: str
                      ) -> Tuple[List[Optional[ColumnTransform]], Dict[str, str]]:
    """The ``transforms`` argument of the readers -> (a ColumnTransform or None per feature
    column of ``names``, {column: why} for each continuous column).

    ``argument``: one transform name (or ColumnTransform) for every continuous feature column,
    or a dict {column name: transform} whose unlisted columns get ``default``.  "auto" is
    decided from the column's ``columns`` values (:func:`transforms.choose_transform`);
    ``discrete``: the indices of the discrete columns, which take no transform."""
    if isinstance(argument, dict):
        absent = [c for c in argument if str(c) not in names]
        if absent:
            raise ValueError(f"transforms names {absent[0]!r}, which is not a feature column "
                             f"({names}); transforms apply to continuous feature columns")
        requested = {str(c): v for c, v in argument.items()}
        for i in discrete:
            if names[i] in requested and requested[names[i]] not in ("none", None):
                raise ValueError(
                    f"transforms gives {requested[names[i]]!r} to feature column "
                    f"{names[i]!r}, which is discrete (categories take no transform); drop it "
                    f"from transforms, or list it in continuous_features if it holds numbers")
        requested = [requested.get(name, default) for name in names]
    else:
        requested = [argument] * len(names)
    chosen, reasons = [], {}
    for i, (name, spec) in enumerate(zip(names, requested)):
        if i in discrete:
            chosen.append(None)
            continue
        if isinstance(spec, str) and spec == "auto":
            transform, reasons[name] = choose_transform(_finite_numbers(columns[i]))
        else:
            if not isinstance(spec, (str, ColumnTransform, type(None))):
                raise ValueError(f"transforms takes, per column, one of "
                                 f"{list(TRANSFORM_NAMES)} or a ColumnTransform; got "
                                 f"{spec!r} for {name!r}")
            transform = ColumnTransform.parse(spec, name)
            reasons[name] = "given in transforms"
        chosen.append(transform)
    return chosen, reasons


def _finite_numbers(values) -> np.ndarray:
    """A continuous column's finite values as float64 (none when they are not numbers: encoding
    then refuses the column, naming the problem)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.zeros(0)
    return x[np.isfinite(x)]


def listed_columns(items, names: List[str], argument: str, what: str) -> set:
    """The indices of the raw ``what`` columns (feature / attribute) that the ``argument``
    (e.g. ``discrete_features``) lists by name or index."""
    chosen = set()
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= item < len(names):
                raise ValueError(f"{argument} has index {item}, out of range for "
                                 f"{len(names)} {what} columns")
            chosen.add(int(item))
        elif str(item) in names:
            chosen.add(names.index(str(item)))
        else:
            article = "an" if what == "attribute" else "a"
            raise ValueError(f"{argument} names {item!r}, which is not {article} {what} "
                             f"column ({names})")
    return chosen
