"""Which DataFrame columns are discrete and which continuous, their dtypes, and the report of it.

:func:`decide` chooses each value column's type: a column named in a ``discrete_*`` or
``continuous_*`` argument has that type; any other is inferred from its dtype: object, string,
bool and ``category`` columns are discrete, numeric ones continuous.  A numeric column with few
distinct values (at most 10 integers, or at most 3 values of any kind) stays continuous, but its
decision carries a hint naming the argument that makes it discrete.  Datetime and timedelta
columns are neither: an error names the fix.

:func:`dtype_info` keeps a column's dtype (JSON-able), and :func:`restore` casts decoded values
back to it.  :func:`describe_text` is the text of :meth:`Dataset.describe`.

Hostile values (issue 29) are refused or flagged before anything is converted:
:func:`check_values` refuses complex values in any column and values of several kinds (numbers
and strings, booleans and numbers...) in the columns whose values are compared (ids, times,
discrete columns); :func:`warn_inexact_integers` says when float64 rounds a continuous column's
integers; :func:`positive_zero` makes -0.0 and 0.0 one category.
"""
from __future__ import annotations

import datetime
import numbers
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .column_arguments import listed_columns
from .user_warning import warn_user

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


# --- hostile values -------------------------------------------------------------------------------

# what pandas.api.types.infer_dtype calls a column whose values are all of one kind (missing
# values skipped); anything else is scanned value by value
_ONE_KIND = {"string", "bytes", "integer", "floating", "mixed-integer-float", "decimal",
             "boolean", "datetime64", "datetime", "date", "timedelta64", "timedelta", "time",
             "period", "interval", "empty", "categorical"}
EXACT_INTEGERS = 2 ** 53  # float64 holds every integer up to this size exactly, not all above


def value_kind(value) -> str:
    """The kind of a scalar for the one-kind rule: values of one kind compare and sort with
    each other (ints with floats, Timestamps with datetimes), values of two kinds do not, or
    compare equal where they should not (True == 1, so one category)."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (complex, np.complexfloating)):
        return "complex"
    if isinstance(value, numbers.Number):  # int, float, numpy numbers, Decimal, Fraction
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, (datetime.datetime, np.datetime64)):  # pd.Timestamp included
        return "datetime"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, (datetime.timedelta, np.timedelta64)):
        return "timedelta"
    return type(value).__name__


def check_values(values, what: str, one_kind: bool, fix: str = "",
                 locate: Optional[Callable[[int], str]] = None) -> None:
    """Refuse complex values (any column: the model, its scaling and the time axis work on
    real numbers, and numpy would drop the imaginary part with only a ComplexWarning) and,
    with ``one_kind``, values of several kinds (see :func:`value_kind`): an id column with 0
    and "0" has two series that print alike, a time column with 2 and "1" cannot be sorted.

    ``values``: a Series or array; ``what`` names the column in messages ("time column 't'"),
    ``fix`` is the advice for mixed kinds, ``locate(i)`` names position i (default
    "row i")."""
    if locate is None:  # a DataFrame's rows by their index labels, as df.loc finds them
        index = values.index if isinstance(values, pd.Series) else None
        locate = ((lambda i: f"row {i}") if index is None
                  else (lambda i: f"row {frames_value(index[i])!r}"))
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):  # the categories are the distinct values
        values, locate = pd.Series(dtype.categories), (lambda i: "its categories")
        dtype = values.dtype
    if dtype is not None and ptypes.is_complex_dtype(dtype):
        array = np.asarray(values)
        pos = int(np.flatnonzero(array.imag != 0)[0]) if (array.imag != 0).any() else 0
        raise ValueError(_complex_message(what, frames_value(array[pos]) if len(array) else None,
                                          locate(pos)))
    if dtype is not None and dtype != object:
        return  # a typed column holds one kind of value
    array = np.asarray(values, dtype=object).reshape(-1)
    if ptypes.infer_dtype(array, skipna=True) in _ONE_KIND:
        return
    missing = np.asarray(pd.isna(array), bool)
    first = {}  # kind -> its first position
    for pos in np.flatnonzero(~missing):
        kind = value_kind(array[pos])
        if kind not in first:
            first[kind] = int(pos)
            if kind == "complex":
                raise ValueError(_complex_message(what, frames_value(array[pos]),
                                                  locate(int(pos))))
    if one_kind and len(first) > 1:
        shown = ", ".join(f"{kind} (e.g. {frames_value(array[pos])!r} at {locate(pos)})"
                          for kind, pos in first.items())
        raise ValueError(f"{what} mixes value types: {shown}; {fix or 'convert it to one type'}")


def frames_value(value):
    """A numpy scalar as the Python one (numpy 2 would write np.int64(7) in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _complex_message(what: str, value, where: str) -> str:
    if what.startswith(("id ", "time ", "the header")):
        advice = "ids and times must be real numbers, strings or datetimes: convert it"
    else:
        advice = ("DoppelGANger models real numbers: give its real and imaginary parts as two "
                  "columns (x.real, x.imag), or a real quantity such as abs(x)")
    return f"{what} holds complex values (e.g. {value!r} at {where}); {advice}"


def mixed_kind_fix(column, role: str) -> str:
    """The advice for a column of ``role`` ("id", "time", or a discrete "feature" /
    "attribute") whose values mix kinds."""
    if role == "time":
        return (f"convert it to one type, e.g. df[{column!r}] = pd.to_numeric(df[{column!r}]) "
                "or pd.to_datetime(df[...])")
    if role == "id":
        return (f"convert it to one type, e.g. df[{column!r}] = df[{column!r}].astype(str) "
                "(else 0 and '0' would be two series)")
    return "convert it to one type (e.g. .astype(str) for categories)"


def warn_inexact_integers(values, what: str) -> None:
    """Warn when a continuous column's integers beyond 2**53 change when read as float64, the
    type continuous columns are scaled in: naming the column, the largest value and what it
    becomes (integers up to 2**53 are exact, and so are larger ones that float64 holds)."""
    dtype = getattr(values, "dtype", None)
    if dtype is None or not ptypes.is_integer_dtype(dtype) or ptypes.is_bool_dtype(dtype):
        return
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.dropna()
    array = np.asarray(values)
    if array.dtype == object:  # a nullable column's values without its missing ones
        array = array.astype(np.int64 if (array < 0).any() else np.uint64)
    if array.dtype.kind == "u":
        big = array[array > np.uint64(EXACT_INTEGERS)]
    else:
        big = array[(array > EXACT_INTEGERS) | (array < -EXACT_INTEGERS)]
    if not len(big):
        return
    rounded = big.astype(np.float64)
    changed = [int(v) for v, r in zip(big.tolist(), rounded.tolist()) if int(r) != int(v)]
    if not changed:
        return
    largest = max(changed, key=abs)
    warn_user(f"{what} holds integers beyond 2**53 that float64, in which continuous columns are "
          f"scaled, cannot hold: {len(changed)} values are rounded (the largest, {largest}, "
          f"becomes {int(float(largest))}); if they are identifiers or codes make the column "
          "discrete, if they are measurements subtract an offset (or rescale) first")


def positive_zero(values: np.ndarray) -> np.ndarray:
    """A discrete column with every -0.0 as 0.0: they compare equal, so they are one category,
    labelled 0.0 whichever came first (pandas would keep the first one's sign)."""
    array = np.asarray(values)
    if array.dtype.kind in "fc":
        return array + 0.0  # -0.0 + 0.0 is 0.0; NaN stays NaN
    if array.dtype != object or not len(array):
        return values
    codes, uniques = pd.factorize(array, use_na_sentinel=False)
    signed = [i for i, u in enumerate(uniques.tolist())
              if isinstance(u, (float, np.floating)) and u == 0 and np.signbit(u)]
    if not signed:
        return values
    labels = np.empty(len(uniques), dtype=object)
    labels[:] = list(uniques)
    labels[signed] = 0.0
    return labels[codes]


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
    report = frame.report if frame is not None and frame.report else {}
    padded = (f", a multiple of sample_len={report['sample_len']}" if report.get("sample_len")
              else "")
    lines = [f"{dataset.num_samples} series, T={dataset.max_length} steps{padded} (lengths "
             f"{int(lengths.min())}..{int(lengths.max())}, median {np.median(lengths):g})"]
    if frame is not None:
        lines.append(frame.axis.summary())
    if report.get("absent_steps"):
        a = report["absent_steps"]
        policy = (report.get("missing") or {}).get("policy")
        lines.append(f"absent steps: {a['steps']} of the regular step {a['step']} (rows not "
                     f"in the frame, in {a['series']} series) put back as missing values"
                     + (f", handled by missing={policy!r}" if policy else ""))
    if report.get("windows"):
        w = report["windows"]
        lines.append(f"windows: {w['windows']} of {w['window']} steps every {w['stride']} steps "
                     f"from {w['sources']} series ({w['unused_rows']} rows in no window)")
    missing = report.get("missing")
    if missing:
        lines.append(_missing_line(missing))
    decisions = {d["name"]: d for d in report.get("columns", [])}
    transform_reasons = report.get("transforms") or {}
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
                span = ("scaled" if low is None else _input_range(out, low[start:start + out.dim],
                                                                  high[start:start + out.dim]))
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
                        f"missing {count}" + _transform_text(out, transform_reasons))
            if decision.get("hint"):
                rows.append(f"            hint: {decision['hint']}")
    return "\n".join(lines + ["columns:"] + rows)


def _input_range(out, low, high) -> str:
    """A continuous output's range in the input's units (its min/max are in transformed units
    when it has a transform)."""
    if out.transform is not None:
        low, high = out.transform.inverse(low), out.transform.inverse(high)
    return ", ".join(f"{lo:.6g}..{hi:.6g}" for lo, hi in zip(low, high))


def _transform_text(out, reasons: dict) -> str:
    """"; transform log1p (why)" for a transformed column, else nothing."""
    if out.transform is None:
        return ""
    why = reasons.get(out.name)
    return f"; transform {out.transform.text()}" + (f" ({why})" if why else "")


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
