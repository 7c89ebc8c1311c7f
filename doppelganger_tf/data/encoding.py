"""How each output's raw columns become encoded columns, and back.

A CONTINUOUS :class:`~doppelganger_tf.data.outputs.Output` of dim d stands for d numeric raw
columns, each globally scaled to [0, 1] or [-1, 1] with its own raw-unit min/max (after the output's
:class:`~doppelganger_tf.data.outputs.ColumnTransform`, when it has one: the min/max are then in
transformed units, and decoding inverts the transform after unscaling); a DISCRETE one stands for
one raw column of category labels, one-hot over its ``dim`` categories.  Each type's encoding
(:class:`ContinuousEncoding`, :class:`DiscreteEncoding`) owns both directions and the checks of its
encoded values, and :func:`encoding_of` picks an output's, so that the code handling whole tables
(:func:`encode_columns`, :func:`decoded_columns`, :func:`check_encoded`) has no branch on the type.

Encoding refuses what cannot be decoded (missing values, unknown categories, a range whose width
overflows float64) and warns, naming the column, when float32 cannot resolve a column's typical
values (see :func:`doppelganger_tf.data.transforms.scaling_loss`).
"""
from __future__ import annotations

import math
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from .column_arguments import column_transforms, listed_columns
from .outputs import ColumnTransform, Normalization, Output, OutputType, output_blocks, total_dim
from .transforms import RESOLUTION, global_scale, global_unscale, scaling_loss
from .user_warning import warn_user

# column_transforms and listed_columns live in column_arguments and are importable from here too
__all__ = ["ContinuousEncoding", "DiscreteEncoding", "RANGE_TOL", "check_encoded", "check_min_max",
           "check_scaling", "column_transforms", "decoded_columns", "encode_columns", "encoding_of",
           "listed_columns"]

RANGE_TOL = 1e-5  # slack on normalisation ranges and one-hot values (float32 rounding)

# Arguments shared by the methods below: ``what`` is "feature" or "attribute" (for messages);
# ``locate(row)`` names the sample (and step) of a row of the flat columns (for messages).
Locate = Callable[[int], str]
RawColumn = Tuple[str, np.ndarray]  # (raw column name, values [M])


class ContinuousEncoding:
    """Numeric raw columns, each scaled by its global min/max to the normalisation range."""

    @staticmethod
    def new_output(name: str, values, normalization: Normalization, what: str,
                   locate: Locate, missing_category: bool = False,
                   transform: Optional[ColumnTransform] = None) -> Output:
        """The output of one raw column (the values are only read when encoding)."""
        return Output(OutputType.CONTINUOUS, 1, normalization, name=name, transform=transform)

    @staticmethod
    def encode(out: Output, columns: Sequence[RawColumn], given, what: str, locate: Locate,
               check_precision: bool) -> Tuple[np.ndarray, List[float], List[float]]:
        """The output's raw columns -> (scaled float32 [M, dim], min [dim], max [dim]).

        ``given``: (min [dim], max [dim]) to scale with, or None for each column's own."""
        scaled, lows, highs = [], [], []
        for j, (name, values) in enumerate(columns):
            column_range = None if given is None else (given[0][j], given[1][j])
            column, lo, hi = _scale(values, name, what, locate, out.normalization, column_range,
                                    check_precision, out.transform)
            scaled.append(column)
            lows.append(lo)
            highs.append(hi)
        return np.stack(scaled, axis=1), lows, highs

    @staticmethod
    def decode(out: Output, block: np.ndarray, low, high) -> List[RawColumn]:
        """Encoded [..., dim] -> (raw column name, float64 values [...]) per column; without
        min/max the scaled values are the units.  A transform is inverted after unscaling,
        on values clipped to the min/max (float32 rounding may step past them, and its
        inverse grows fast beyond)."""
        values = (block.astype(np.float64) if low is None
                  else global_unscale(block, low, high, out.normalization))
        if out.transform is not None:
            if low is not None:
                values = np.clip(values, low, high)
            values = out.transform.inverse(values)
        return [(name, values[..., i]) for i, name in enumerate(out.column_names())]

    @staticmethod
    def blank_after_end(column: np.ndarray, after_end: np.ndarray) -> np.ndarray:
        """A decoded column [N, T] with NaN after each series ends."""
        column[after_end] = np.nan
        return column

    @staticmethod
    def check(out: Output, block: np.ndarray, what: str, locate: Locate) -> None:
        """Encoded rows [M, dim] must lie in the normalisation range."""
        low = out.normalization.low
        bad = (block < low - RANGE_TOL) | (block > 1.0 + RANGE_TOL)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"continuous {what} {out.name!r} holds {block[row, col]:.6g} at "
                f"{locate(row)}, outside its normalisation range [{low:g}, 1] "
                f"({out.normalization.name}); scale it globally to that range first "
                "(Dataset.from_arrays does) or declare the matching normalization")

    @staticmethod
    def check_range(out: Output, low: np.ndarray, high: np.ndarray, what: str) -> None:
        """The raw-unit min/max [dim] must be ordered and their width finite (to decode)."""
        if np.any(high <= low):
            raise ValueError(
                f"{what}_max must exceed {what}_min for continuous {what} {out.name!r} "
                f"(min {low.tolist()}, max {high.tolist()})")
        with np.errstate(over="ignore"):
            width = high - low
        if not np.isfinite(width).all():
            raise ValueError(
                f"{what}_max - {what}_min overflows float64 for continuous {what} "
                f"{out.name!r} (min {low.tolist()}, max {high.tolist()}), so its values cannot "
                "be decoded; " + _precision_fix(float(low.min()), out.name, what,
                                                out.transform))


class DiscreteEncoding:
    """One raw column of category labels, one-hot over the output's categories."""

    @staticmethod
    def new_output(name: str, values, normalization: Normalization, what: str,
                   locate: Locate, missing_category: bool = False,
                   transform: Optional[ColumnTransform] = None) -> Output:
        """The output of one raw column: its sorted distinct values are the categories (with
        ``missing_category``, missing values are one more category, ``None``, placed last).
        ``transform`` is always None (:func:`column_transforms` refuses one)."""
        categories = _categories(values, name, what, locate, missing_category)
        return Output(OutputType.DISCRETE, len(categories), name=name, categories=categories)

    @staticmethod
    def encode(out: Output, columns: Sequence[RawColumn], given, what: str, locate: Locate,
               check_precision: bool) -> Tuple[np.ndarray, List[float], List[float]]:
        """The output's raw column -> (one-hot float32 [M, dim], zeros, ones): the raw-unit
        min/max of one-hot columns are 0 and 1."""
        (_, values), = columns
        return _one_hot(values, out, what, locate), [0.0] * out.dim, [1.0] * out.dim

    @staticmethod
    def decode(out: Output, block: np.ndarray, low, high) -> List[RawColumn]:
        """Encoded [..., dim] -> [(output name, the label of each row's largest column)]."""
        return [(out.name, _label_array(out.labels())[np.argmax(block, axis=-1)])]

    @staticmethod
    def blank_after_end(column: np.ndarray, after_end: np.ndarray) -> np.ndarray:
        """A decoded column [N, T] as Python objects, with None after each series ends."""
        column = column.astype(object)
        column[after_end] = None
        return column

    @staticmethod
    def check(out: Output, block: np.ndarray, what: str, locate: Locate) -> None:
        """Encoded rows [M, dim] must be one-hot."""
        binary = (np.abs(block) <= RANGE_TOL) | (np.abs(block - 1.0) <= RANGE_TOL)
        bad = ~binary.all(axis=1) | ((block > 0.5).sum(axis=1) != 1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            nonzero = {int(i): float(block[row, i]) for i in np.flatnonzero(block[row])}
            raise ValueError(
                f"discrete {what} {out.name!r} is not one-hot at {locate(row)} (non-zero "
                f"columns: {nonzero}); each active row of a discrete block needs exactly "
                "one 1 and zeros elsewhere (Dataset.from_arrays encodes categories)")

    @staticmethod
    def check_range(out: Output, low: np.ndarray, high: np.ndarray, what: str) -> None:
        """Nothing to check: the min/max of one-hot columns only travel along."""


_ENCODINGS = {OutputType.CONTINUOUS: ContinuousEncoding, OutputType.DISCRETE: DiscreteEncoding}


def encoding_of(out: Output):
    """The encoding of ``out``'s type."""
    return _ENCODINGS[out.type]


# --- whole tables ---------------------------------------------------------------------------------

def encode_columns(columns, names, discrete, normalization, outputs, value_range, what,
                   locate: Locate, num_rows: int, check_precision: bool = True,
                   missing_category=(), transforms=None):
    """Raw columns -> (encoded [num_rows, K] float32, outputs, min [K], max [K]).

    Without ``outputs`` every raw column becomes one output (discrete when listed in
    ``discrete``; the discrete columns named in ``missing_category`` get a category ``None`` for
    their missing values; ``transforms``, one ColumnTransform or None per column, from
    :func:`column_transforms`); with them, the columns follow their column_names(), are
    transformed as the outputs say and ``value_range`` may give the min/max to scale with
    (in transformed units).  ``check_precision``: warn about continuous columns float32 cannot
    resolve (see :func:`_scale`).
    """
    low, high = value_range
    if (low is None) != (high is None):
        raise ValueError(f"give both {what}_min and {what}_max, or neither")
    if outputs is None:
        if low is not None:
            raise ValueError(f"{what}_min/{what}_max are only used with {what}_outputs; without "
                             "them the min/max are computed from the data")
        chosen = listed_columns(discrete, names, f"discrete_{what}s", what)
        transforms = [None] * len(names) if transforms is None else transforms
        outputs = [_ENCODINGS[OutputType.DISCRETE if i in chosen else OutputType.CONTINUOUS]
                   .new_output(name, values, normalization, what, locate,
                               missing_category=name in missing_category,
                               transform=transforms[i])
                   for i, (name, values) in enumerate(zip(names, columns))]
    elif len(columns) != len(names):
        raise ValueError(f"there are {len(columns)} {what} columns but {what}_outputs describe "
                         f"{len(names)}: {names}")
    if low is not None:
        low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        expected = (total_dim(outputs),)
        if low.shape != expected or high.shape != expected:
            raise ValueError(f"{what}_min/{what}_max must have shape {expected}, one value per "
                             f"encoded column; got {low.shape} and {high.shape}")

    blocks, lows, highs = [], [], []
    raw = iter(zip(names, columns))
    for out, start, stop in output_blocks(outputs):
        own = [next(raw) for _ in out.column_names()]
        given = None if low is None else (low[start:stop], high[start:stop])
        block, block_low, block_high = encoding_of(out).encode(out, own, given, what, locate,
                                                               check_precision)
        blocks.append(block)
        lows.extend(block_low)
        highs.extend(block_high)
    encoded = (np.concatenate(blocks, axis=1) if blocks
               else np.zeros((num_rows, 0), np.float32))
    return encoded, outputs, np.array(lows, np.float64), np.array(highs, np.float64)


def decoded_columns(encoded: np.ndarray, outputs: Sequence[Output], low, high):
    """Yield (encoding, raw column name, real values [...]) for each raw column of ``outputs``,
    from encoded values [..., K] and the raw-unit min/max [K] (or None)."""
    for out, start, stop in output_blocks(outputs):
        encoding = encoding_of(out)
        for name, values in encoding.decode(out, encoded[..., start:stop],
                                            None if low is None else low[start:stop],
                                            None if high is None else high[start:stop]):
            yield encoding, name, values


def check_encoded(rows: np.ndarray, outputs: Sequence[Output], what: str,
                  locate: Locate) -> None:
    """Check encoded rows [M, K]: continuous values in range, discrete blocks one-hot."""
    for out, start, stop in output_blocks(outputs):
        encoding_of(out).check(out, rows[:, start:stop], what, locate)


def check_min_max(low: np.ndarray, high: np.ndarray, outputs: Sequence[Output],
                 what: str) -> None:
    """Check the raw-unit min/max [K] of each output's columns (see ``check_range``)."""
    for out, start, stop in output_blocks(outputs):
        encoding_of(out).check_range(out, low[start:stop], high[start:stop], what)


def check_scaling(low, high, outputs: Sequence[Output], what: str) -> None:
    """Check the raw-unit ``{what}_min`` / ``{what}_max`` arrays (or None for both) of encoded
    columns described by ``outputs``: one finite value per encoded column, each max above its
    min for continuous outputs (a Dataset's and a saved model's scaling)."""
    if (low is None) != (high is None):
        raise ValueError(f"give both {what}_min and {what}_max, or neither (None means "
                         "the scaled values are the final units)")
    if low is None:
        return
    columns = sum(o.dim for o in outputs)
    for name, array in ((f"{what}_min", low), (f"{what}_max", high)):
        if np.shape(array) != (columns,):
            raise ValueError(
                f"{name} has shape {np.shape(array)}, expected ({columns},): one raw-unit "
                f"value per encoded {what} column (0/1 for discrete columns)")
        if not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinite values")
    check_min_max(np.asarray(low), np.asarray(high), outputs, what)


# --- categories -----------------------------------------------------------------------------------

def _is_missing_or_infinite(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and not math.isfinite(value)


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _factorize(values, name: str, what: str, locate: Locate, missing_category: bool = False):
    """Raw labels [M] -> (codes [M], distinct values as Python scalars); rejects missing and
    infinite values, except that with ``missing_category`` every missing value (NaN, None,
    pd.NA, NaT) becomes the one value None."""
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    uniques = list(uniques.tolist())  # Python scalars, so categories are JSON-serialisable
    if missing_category:
        missing = [i for i, u in enumerate(uniques) if _is_missing(u)]
        if missing:
            kept = [i for i in range(len(uniques)) if i not in missing]
            remap = np.empty(len(uniques), np.int64)
            remap[kept] = np.arange(len(kept))
            remap[missing] = len(kept)
            codes = remap[codes]
            uniques = [uniques[i] for i in kept] + [None]
    for i, value in enumerate(uniques):
        if value is None and missing_category:
            continue
        if _is_missing_or_infinite(value):
            row = int(np.flatnonzero(codes == i)[0])
            raise ValueError(f"discrete {what} column {name!r} holds a missing or infinite "
                             f"value ({value!r}, first at {locate(row)}); fill or drop it")
    return codes, uniques


def _categories(values, name: str, what: str, locate: Locate,
                missing_category: bool = False) -> tuple:
    """The sorted distinct values of a discrete column (None, the missing category, last)."""
    _, uniques = _factorize(values, name, what, locate, missing_category)
    present = [u for u in uniques if u is not None]
    try:
        return tuple(sorted(present)) + ((None,) if len(present) < len(uniques) else ())
    except TypeError:
        kinds = sorted({type(u).__name__ for u in uniques})
        raise ValueError(f"discrete {what} column {name!r} mixes value types {kinds}; convert "
                         "it to one type") from None


def _one_hot(values, out: Output, what: str, locate: Locate) -> np.ndarray:
    """Raw labels [M] -> one-hot [M, dim] float32 over ``out.labels()``."""
    codes, uniques = _factorize(values, out.name, what, locate, None in out.labels())
    position = {c: i for i, c in enumerate(out.labels())}
    unknown = [u for u in uniques if u not in position]
    if unknown:
        raise ValueError(f"discrete {what} column {out.name!r} holds {unknown[0]!r}, which is "
                         f"not among its categories {list(out.labels())}; map it to a known "
                         "category or rebuild the specs")
    index = np.array([position[u] for u in uniques], dtype=np.int64)[codes]
    one_hot = np.zeros((len(index), out.dim), np.float32)
    one_hot[np.arange(len(index)), index] = 1.0
    return one_hot


def _label_array(labels) -> np.ndarray:
    """Category labels as an array: numeric ones keep a numeric dtype (fast, and what pandas
    expects); strings and mixed labels stay Python objects."""
    typed = np.asarray(labels)
    if typed.dtype.kind in "biuf":
        return typed
    objects = np.empty(len(labels), dtype=object)
    objects[:] = list(labels)
    return objects


# --- scaling --------------------------------------------------------------------------------------

def _scale(values, name: str, what: str, locate: Locate, normalization: Normalization, given,
           check_precision: bool = True, transform: Optional[ColumnTransform] = None):
    """Raw continuous values [M] -> (globally scaled float32 [M], min, max), after
    ``transform`` when given (min and max then in transformed units).

    Refuses a range whose width overflows float64 and, with ``check_precision``, warns when
    float32 cannot resolve the values (see :func:`transforms.scaling_loss`)."""
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"continuous {what} column {name!r} holds non-numeric values ({exc}); "
                         f"list it in discrete_{what}s or convert it to numbers") from None
    finite = np.isfinite(x)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{what} column {name!r} holds {int((~finite).sum())} NaN or infinite "
                         f"values (first at {locate(row)}); fill or drop them")
    if transform is not None:
        x = _transformed(x, transform, name, what, locate)
    if given is None:
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            raise ValueError(f"continuous {what} column {name!r} is constant ({lo:g}) over the "
                             "whole dataset, so it carries no information; drop it"
                             + (" or make it an attribute" if what == "feature" else ""))
    else:
        lo, hi = float(given[0]), float(given[1])
        if hi <= lo:
            raise ValueError(f"{what}_max must exceed {what}_min for column {name!r} "
                             f"(got {lo:g}, {hi:g})")
    if not math.isfinite(hi - lo):
        # scaling divides by max - min: an infinite width would turn the values into NaN
        raise ValueError(f"continuous {what} column {name!r} spans {lo:g}..{hi:g}: max - min "
                         "overflows float64, so it cannot be scaled; "
                         f"{_precision_fix(lo, name, what, transform)}")
    scaled = global_scale(x, lo, hi, normalization)
    if given is not None:
        outside = (scaled < normalization.low - RANGE_TOL) | (scaled > 1.0 + RANGE_TOL)
        if outside.any():
            raise ValueError(f"{what} column {name!r} spans {x.min():g}..{x.max():g}, beyond the "
                             f"given {what}_min/{what}_max range {lo:g}..{hi:g}; pass a wider "
                             "range or clip the values")
    loss = scaling_loss(x, scaled, lo, hi, normalization) if check_precision else None
    if loss is not None:
        collapsed = (f", and {loss['collapsed']} of its {loss['distinct']} distinct values share "
                     "a float32 code with another value" if loss["collapsed"] else "")
        warn_user(f"continuous {what} column {name!r} spans {lo:g}..{hi:g}, too wide for float32 "
              f"scaling: its typical values ({loss['kind']} {loss['low']:.6g}.."
              f"{loss['high']:.6g}) decode up to {loss['max_error']:.3g} away from the input, "
              f"more than {RESOLUTION:.1%} of that range{collapsed}; "
              f"{_precision_fix(lo, name, what, transform)}")
    return scaled, lo, hi


def _transformed(x: np.ndarray, transform: ColumnTransform, name: str, what: str,
                 locate: Locate) -> np.ndarray:
    """A column's finite float64 values through its transform; log1p refuses negative ones,
    an atom values below it."""
    if transform.atom is not None and (x < transform.atom).any():
        row = int(np.flatnonzero(x < transform.atom)[0])
        raise ValueError(f"{what} column {name!r} has {int((x < transform.atom).sum())} values "
                         f"below its transform's atom {transform.atom:g} ({x[row]:g} first, at "
                         f"{locate(row)}); the atom must be the column's minimum: give a "
                         "transform without it, or with the lowest value as its atom")
    if not transform.signed and (x < 0).any():
        row = int(np.flatnonzero(x < 0)[0])
        raise ValueError(f"{what} column {name!r} has {int((x < 0).sum())} negative values "
                         f"({x[row]:g} first, at {locate(row)}), but log1p takes values >= 0: "
                         f"use transforms={{{name!r}: 'signed_log1p'}} (sign(x) * log1p(|x|)) "
                         "for a column with negative values")
    return transform.forward(x)


def _precision_fix(lo: float, name=None, what: str = "feature",
                   transform: Optional[ColumnTransform] = None) -> str:
    """The advice for a column too wide for float32 scaling (``lo``: its minimum)."""
    if transform is not None and transform.kind != "linear":  # already a log: only clipping
        return (f"clip the extreme values before building the Dataset (the column is already "
                f"transformed by {transform.text()})")
    log = ("np.log1p(x)" if lo >= 0 else
           "np.sign(x) * np.log1p(np.abs(x)), which keeps negative values")
    advice = f"apply a log transform ({log}) or clip the extreme values before building the Dataset"
    if what == "feature" and name is not None:
        kind = "log1p" if lo >= 0 else "signed_log1p"
        advice += (f" (transforms={{{name!r}: {kind!r}}} applies the log and inverts it on the "
                   "way out)")
    return advice
