"""Missing values in the series read from a DataFrame: the ``missing=`` option of the
DataFrame constructors.

- ``"error"`` (default): any missing value (NaN, None, ``pd.NA``, ``NaT``) is an error naming the
  column, the id and the time, and the two other options;
- ``"interpolate"``: in each series, a continuous feature is interpolated linearly over the
  steps (by position) between the nearest values before and after a gap, and a gap at either end
  takes the nearest value (edge fill); a discrete feature takes the previous value (the next
  one at the start).  A series with no value at all in a feature column is an error naming its
  id.  Attributes are not interpolated: a missing discrete attribute becomes a category of its
  own (the model learns how often it is missing, and it comes back as missing), a missing
  continuous attribute is an error naming the id;
- ``"drop_series"``: every series with a missing value in any column is dropped.

Steps that a regular time axis expects but the frame lacks (rows absent, not empty cells) are
put back as rows of missing values before this runs
(:func:`doppelganger_tf.data.time_gaps.find_gaps`), so each policy treats them as it treats empty
cells; ``"error"`` says that rows were absent.

:func:`apply` returns the handled columns and a JSON-able report (``counts``: missing cells per
column in the input, ``filled``: feature cells interpolated per column, ``missing_category``:
series with a missing attribute per column, ``dropped``: the ids of the dropped series) that
:meth:`Dataset.describe` prints.  Infinite values are not missing: encoding refuses them.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

POLICIES = ("error", "interpolate", "drop_series")


def check_policy(missing) -> str:
    if missing not in POLICIES:
        raise ValueError(f"missing={missing!r} is not an option; use one of {list(POLICIES)} "
                         "('error' refuses missing values, 'interpolate' fills them inside "
                         "each series, 'drop_series' drops the series that have any)")
    return missing


def apply(policy: str, features: Dict[str, np.ndarray], discrete_features: set,
          attributes: Dict[str, np.ndarray], discrete_attributes: set, lengths: np.ndarray,
          ids: Sequence, locate_row: Callable[[int], str], absent: Optional[np.ndarray] = None,
          axis_text: str = ""
          ) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray], Optional[np.ndarray], dict]:
    """Handle the missing values of the series' columns under ``policy``.

    ``features``: flat columns over the rows (sample-major, series i having ``lengths[i]``
    rows), ``attributes``: one value per series; ``ids`` name the series and ``locate_row(r)``
    a row (e.g. "id 'u3' at hour=106") in messages.  ``absent`` (bool per row) marks rows put
    back for steps the frame skipped (all their features missing), ``axis_text`` names that
    axis ("the regular step 1:00:00 of time column 'hour'").  Returns (features, attributes,
    the boolean mask of the series to keep or None to keep all, the report).
    """
    check_policy(policy)
    feature_missing = {name: _isna(values) for name, values in features.items()}
    attribute_missing = {name: _isna(values) for name, values in attributes.items()}
    absent = (np.zeros(int(np.sum(lengths)), bool) if absent is None
              else np.asarray(absent, bool))
    # counts are of the input's empty cells: the rows put back are reported on their own
    counts = {name: int((mask & ~absent).sum()) for name, mask in feature_missing.items()
              if (mask & ~absent).any()}
    counts.update((name, int(mask.sum())) for name, mask in attribute_missing.items()
                  if mask.any())
    report = {"policy": policy, "counts": counts}
    if not counts and not absent.any():
        return features, attributes, None, report
    if policy == "error" and absent.any():
        series = len(np.unique(np.repeat(np.arange(len(lengths)), lengths)[absent]))
        steps = int(absent.sum())
        raise ValueError(
            f"{steps} step{'s' if steps > 1 else ''} of {axis_text} {'are' if steps > 1 else 'is'}"
            f" not in the frame (rows absent in {series} series, first at "
            f"{locate_row(int(np.flatnonzero(absent)[0]))}): they are read "
            "as missing values, which missing='error' (the default) refuses; pass "
            "missing='interpolate' (fills them inside each series) or missing='drop_series' "
            "(drops the series that lack any), or add the rows")
    if policy == "error":
        name = next(iter(counts))
        if name in feature_missing:
            row = int(np.flatnonzero(feature_missing[name])[0])
            where = locate_row(row)
        else:
            where = f"id {ids[int(np.flatnonzero(attribute_missing[name])[0])]!r}"
        what = "feature" if name in feature_missing else "attribute"
        raise ValueError(f"{what} column {name!r} has {counts[name]} missing values (first at "
                         f"{where}); fill them, or pass missing='interpolate' (linear inside "
                         "each series) or missing='drop_series' (drops the series that have "
                         "any)")
    if policy == "drop_series":
        sample = np.repeat(np.arange(len(lengths)), lengths)
        bad = np.zeros(len(lengths), bool)
        for mask in feature_missing.values():
            bad[sample[mask]] = True
        for mask in attribute_missing.values():
            bad |= mask
        if bad.all():
            raise ValueError("every series has a missing value, so missing='drop_series' would "
                             "drop them all; fill them or pass missing='interpolate'")
        report["dropped"] = [_json_id(ids[i]) for i in np.flatnonzero(bad)]
        return features, attributes, ~bad, report
    # interpolate
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sample = np.repeat(np.arange(len(lengths)), lengths)
    filled, new_features = {}, dict(features)
    for name, mask in feature_missing.items():
        if not mask.any():
            continue
        new_features[name] = _fill(features[name], mask, sample, first, lengths,
                                   name in discrete_features, name, ids)
        filled[name] = int(mask.sum())
    report["filled"] = filled
    category = {}
    for name, mask in attribute_missing.items():
        if not mask.any():
            continue
        if name not in discrete_attributes:
            raise ValueError(
                f"continuous attribute column {name!r} is missing for {int(mask.sum())} series "
                f"(first: id {ids[int(np.flatnonzero(mask)[0])]!r}); attributes are not "
                "interpolated: fill them, make the column discrete (a missing category), or "
                "pass missing='drop_series'")
        category[name] = int(mask.sum())
    report["missing_category"] = category
    return new_features, attributes, None, report


def _fill(values, mask, sample, first, lengths, discrete: bool, name: str, ids):
    """One flat column with its missing rows filled inside each series (see the module
    docstring)."""
    rows = np.arange(len(mask))
    before = np.maximum.accumulate(np.where(mask, -1, rows))
    after = np.minimum.accumulate(np.where(mask, len(mask), rows)[::-1])[::-1]
    start, stop = first[sample], first[sample] + lengths[sample]
    has_before = before >= start
    has_after = after < stop
    hollow = mask & ~has_before & ~has_after
    if hollow.any():
        i = int(sample[np.flatnonzero(hollow)[0]])
        raise ValueError(f"id {ids[i]!r} has no value at all in feature column {name!r} (all "
                         f"{int(lengths[i])} steps missing), so there is nothing to interpolate "
                         "from; fill it or drop that series (missing='drop_series')")
    target = np.flatnonzero(mask)
    b, a = before[target], after[target]
    hb, ha = has_before[target], has_after[target]
    if discrete:
        out = np.array(values, dtype=object)
        out[target] = np.where(hb, out[np.where(hb, b, 0)], out[np.where(ha, a, 0)])
        return out
    x = np.asarray(values, np.float64).copy()
    left = x[np.where(hb, b, a)]
    right = x[np.where(ha, a, b)]
    span = np.where(hb & ha, a - b, 1)
    weight = np.where(hb & ha, (target - b) / span, 0.0)
    x[target] = left + (right - left) * weight
    return x


def _isna(values) -> np.ndarray:
    return np.asarray(pd.isna(values), bool).reshape(-1)


def _json_id(value):
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
