"""Which DataFrame columns are discrete and which continuous, their dtypes, and the report of it.

:func:`decide` chooses each value column's type: a column named in a ``discrete_*`` or
``continuous_*`` argument has that type; any other is inferred from its dtype: object, string,
bool and ``category`` columns are discrete, numeric ones continuous.  A numeric column with few
distinct values (at most 10 integers, or at most 3 values of any kind) stays continuous, but its
decision carries a hint naming the argument that makes it discrete.  Datetime and timedelta
columns are neither: an error names the fix.

:func:`dtype_info` keeps a column's dtype (JSON-able), and :func:`restore` casts decoded values
back to it.  :func:`describe_text` is the text of :meth:`Dataset.describe`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .encoding import listed_columns

FEW_INTEGERS = 10  # a numeric column with at most this many distinct integers gets a hint
FEW_VALUES = 3     # ... and one with at most this many distinct values of any kind


@dataclass(frozen=True)
class Decision:
    """The type chosen for one value column and why."""
    name: str
    role: str          # "feature" or "attribute"
    discrete: bool
    reason: str        # "discrete_features", "inferred from dtype object", ...
    dtype: str
    hint: Optional[str] = None

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "discrete": self.discrete,
                "reason": self.reason, "dtype": self.dtype, "hint": self.hint}

    @classmethod
    def from_dict(cls, d: dict) -> "Decision":
        return cls(**d)


def decide(columns: Dict[str, pd.Series], role: str, discrete: Sequence, continuous: Sequence,
           dtypes: Optional[dict] = None) -> List[Decision]:
    """The decision for each value column of ``role`` ("feature" or "attribute"): ``columns``
    maps the column name to its values (a Series, whose dtype is read unless ``dtypes`` gives
    it), ``discrete`` / ``continuous`` are the explicit arguments (names, or indices into
    ``columns``)."""
    names = list(columns)
    listed_discrete = _resolve(discrete, names, role, "discrete")
    listed_continuous = _resolve(continuous, names, role, "continuous")
    both = [n for n in names if n in listed_discrete and n in listed_continuous]
    if both:
        raise ValueError(f"{role} column {both[0]!r} is listed in both discrete_{role}s and "
                         f"continuous_{role}s; list it in one")
    decisions = []
    for name, values in columns.items():
        dtype = (dtypes or {}).get(name, values.dtype)
        if name in listed_discrete:
            decisions.append(Decision(name, role, True, f"discrete_{role}s", str(dtype)))
        elif name in listed_continuous:
            decisions.append(Decision(name, role, False, f"continuous_{role}s", str(dtype)))
        else:
            decisions.append(_infer(name, role, values, dtype))
    return decisions


def _infer(name: str, role: str, values: pd.Series, dtype) -> Decision:
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype) \
            or isinstance(dtype, pd.PeriodDtype):
        raise ValueError(
            f"{role} column {name!r} holds {dtype} values, which are neither categories nor "
            "numbers; convert it (e.g. to days since a date: (df[c] - start) / "
            "pd.Timedelta('1D')), or pass it as the time_column if it is the time stamp")
    if isinstance(dtype, pd.CategoricalDtype) or ptypes.is_bool_dtype(dtype) \
            or not ptypes.is_numeric_dtype(dtype):
        return Decision(name, role, True, f"inferred from dtype {dtype}", str(dtype))
    return Decision(name, role, False, f"inferred from dtype {dtype}", str(dtype),
                    _few_values_hint(name, role, values))


def _few_values_hint(name: str, role: str, values: pd.Series) -> Optional[str]:
    distinct = pd.unique(values.dropna().to_numpy(dtype=np.float64, na_value=np.nan))
    integers = bool(np.all(distinct == np.round(distinct)))
    if len(distinct) > (FEW_INTEGERS if integers else FEW_VALUES) or len(distinct) < 2:
        return None
    shown = ", ".join(f"{v:g}" for v in np.sort(distinct))
    return (f"only {len(distinct)} distinct values ({shown}): if they are categories, pass "
            f"discrete_{role}s=[{name!r}]")


def _resolve(items: Sequence, names: List[str], role: str, kind: str) -> set:
    """The names of the ``role`` columns that ``<kind>_<role>s`` lists by name or index."""
    return {names[i] for i in listed_columns(items, names, f"{kind}_{role}s", role)}


# --- dtypes ---------------------------------------------------------------------------------------

def dtype_info(dtype) -> dict:
    """A JSON-able description of ``dtype`` (with its categories for ``category``)."""
    info = {"dtype": str(dtype)}
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories.tolist()
        if all(isinstance(c, (str, int, float, bool)) for c in categories):
            info.update(categories=[c.item() if hasattr(c, "item") else c for c in categories],
                        ordered=bool(dtype.ordered))
    return info


def restore(values, info: Optional[dict]):
    """Decoded values (float64 for continuous columns, labels for discrete ones, None or NaN
    where missing) -> a Series of the input's dtype where pandas can hold them: integers are
    rounded; missing values in an integer or bool column give pandas' nullable Int64 /
    boolean; anything that does not convert stays as decoded."""
    series = pd.Series(values)
    if info is None:
        return series
    dtype = info["dtype"]
    if dtype == "category":
        if "categories" in info:
            cat = pd.CategoricalDtype(info["categories"], ordered=info.get("ordered", False))
            try:
                return series.astype(object).astype(cat)
            except (TypeError, ValueError):
                return series
        return series.astype("category")
    try:
        target = ptypes.pandas_dtype(dtype)
    except (TypeError, ValueError, ImportError):
        return series
    if series.dtype == target:
        return series
    missing = series.isna()
    if ptypes.is_integer_dtype(target) and not ptypes.is_bool_dtype(target):
        if series.dtype.kind == "f":
            series = series.round()
        if missing.any() and isinstance(target, np.dtype):
            target = pd.Int64Dtype()
    elif ptypes.is_bool_dtype(target) and missing.any() and isinstance(target, np.dtype):
        target = pd.BooleanDtype()
    try:
        return series.astype(target)
    except (TypeError, ValueError, OverflowError):
        return series


# --- Dataset.describe -----------------------------------------------------------------------------

def describe_text(dataset) -> str:
    """The report of :meth:`Dataset.describe`: the series, the time axis, the missing-value
    handling and one line per column (type, why, categories or range, missing values)."""
    frame = dataset.frame
    lengths = dataset.lengths
    lines = [f"{dataset.num_samples} series, T={dataset.max_length} steps (lengths "
             f"{int(lengths.min())}..{int(lengths.max())}, median {np.median(lengths):g})"]
    report = frame.report if frame is not None and frame.report else {}
    if frame is not None:
        lines.append(frame.axis.summary())
    if report.get("windows"):
        w = report["windows"]
        lines.append(f"windows: {w['windows']} of {w['window']} steps every {w['stride']} steps "
                     f"from {w['sources']} series ({w['unused_rows']} rows in no window)")
    missing = report.get("missing")
    if missing:
        lines.append(_missing_line(missing))
    decisions = {d["name"]: d for d in report.get("columns", [])}
    counts = (missing or {}).get("counts", {})
    rows = []
    for role, outputs, low, high in (
            ("feature", dataset.feature_outputs, dataset.feature_min, dataset.feature_max),
            ("attribute", dataset.attribute_outputs, dataset.attribute_min,
             dataset.attribute_max)):
        start = 0
        for out in outputs:
            decision = decisions.get(out.name, {})
            if out.is_continuous:
                span = ("scaled" if low is None else
                        ", ".join(f"{low[j]:.6g}..{high[j]:.6g}"
                                  for j in range(start, start + out.dim)))
                what = f"continuous, range {span}"
            else:
                labels = ["<missing>" if c is None else repr(c) for c in out.labels()]
                shown = ", ".join(labels[:8]) + (f", ... ({len(labels)})" if len(labels) > 8
                                                   else "")
                what = f"discrete, {out.dim} categories [{shown}]"
            start += out.dim
            why = decision.get("reason", "given")
            dtype = (f", dtype {decision['dtype']}" if decision.get("dtype")
                     and "dtype" not in why else "")
            count = counts.get(out.name, 0)
            rows.append(f"  {role:<9} {out.name!r}: {what} ({why}{dtype}); "
                        f"missing {count}")
            if decision.get("hint"):
                rows.append(f"            hint: {decision['hint']}")
    return "\n".join(lines + ["columns:"] + rows)


def _missing_line(missing: dict) -> str:
    policy = missing["policy"]
    total = sum(missing.get("counts", {}).values())
    parts = [f"missing values: missing={policy!r}, {total} missing cells in the input"]
    if missing.get("filled"):
        parts.append(f"{sum(missing['filled'].values())} feature cells interpolated "
                     f"({', '.join(f'{k}: {v}' for k, v in missing['filled'].items())})")
    if missing.get("missing_category"):
        parts.append("missing attribute values kept as a category ("
                     + ", ".join(f"{k}: {v}" for k, v in missing["missing_category"].items())
                     + ")")
    dropped = missing.get("dropped") or []
    if dropped:
        shown = ", ".join(repr(i) for i in dropped[:10])
        more = f", ... ({len(dropped)} in all)" if len(dropped) > 10 else ""
        parts.append(f"{len(dropped)} series dropped (ids {shown}{more})")
    return "; ".join(parts)
