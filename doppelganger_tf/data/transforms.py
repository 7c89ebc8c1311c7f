"""Data transforms of DoppelGANger (numpy): global scaling, the "auto" choice of a column's log
transform, generation flags, auto-normalisation.

All functions follow the original implementation (docs/design.md, "The model") unless an argument
says otherwise.  Shapes: features [N, T, K], attributes [N, A], gen_flags [N, T] (1 while the
series is active, 0 after it ends).
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .. import arguments
from .outputs import ColumnTransform, Normalization, Output, OutputType, output_blocks

AUTONORM_EPS = 1e-4  # widening of each sample's [min, max], as in the original


# --- global scaling ------------------------------------------------------------------------------

def global_scale(values, vmin, vmax, normalization: Normalization):
    """Scale raw values by the global min/max.

    Args:
        values: Raw values.
        vmin: The column's min (broadcast against ``values``).
        vmax: The column's max.
        normalization: The target range.

    Returns:
        Values in [0, 1] (ZERO_ONE) or [-1, 1] (MINUSONE_ONE).
    """
    span = np.asarray(vmax, np.float64) - np.asarray(vmin, np.float64)
    scaled = (np.asarray(values, np.float64) - vmin) / span
    if normalization is Normalization.MINUSONE_ONE:
        scaled = scaled * 2.0 - 1.0
    return scaled.astype(np.float32)


def global_unscale(scaled, vmin, vmax, normalization: Normalization):
    """The inverse of :func:`global_scale`.

    Args:
        scaled: Scaled values.
        vmin: The column's min.
        vmax: The column's max.
        normalization: The range they were scaled to.

    Returns:
        float64 values in raw units.
    """
    x = np.asarray(scaled, np.float64)
    if normalization is Normalization.MINUSONE_ONE:
        x = (x + 1.0) / 2.0
    return x * (np.asarray(vmax, np.float64) - vmin) + vmin


# --- transforms="auto": which columns get a log ---------------------------------------------------

# Global min/max scaling puts a column's median nonzero magnitude at about median / max of the
# range.  When the largest magnitude is at least AUTO_TAIL_RATIO times that median, half the
# values share the bottom 1% of the generator's output range, which the GAN does not resolve
# (issue 30: a column whose series mostly sit at 1e-3 of its maximum came back at ~1/10 of the
# real per-series totals).  Measured (docs/data.md, "Transforms"): synthetic WWT views 8,810x,
# lognormal sigma=1.5 386x, sigma=2 5,830x, Pareto(1.5) 1,560x, student-t(2) 216x: log;
# MBA traffic bytes 26x, MBA ping loss 25x, GCUT CPU / memory requests 20x / 28x, exponential
# 16x, lognormal sigma=1 50x, gamma(0.5) 38x, uniform 2x, normal 6x: none.
AUTO_TAIL_RATIO = 100.0
# the log's scale: a power of ten at or below this quantile of the nonzero magnitudes (at most
# 1, numpy's log1p), so that nearly all values are in the log's range, not its linear start
AUTO_SCALE_QUANTILE = 0.1


# An atom: when at least this share of a column's values equal its minimum (a usage's zeros: the
# issue's CPU trace 17%, MBA ping loss 98%), the readers' "auto" encodes that value apart from
# the rest, AUTO_ATOM_GAP of the column's transformed span below it, so that the generator can
# produce it exactly (a sigmoid output never lands on the range's end).  Under the share, the
# minimum is only the lowest of the values (Poisson(5) counts: 0.7% zeros).
AUTO_ATOM_SHARE = 0.1
AUTO_ATOM_GAP = 0.1


def choose_transform(values) -> Tuple[Optional[ColumnTransform], str]:
    """The transform "auto" gives a continuous column, and why.

    Args:
        values: The column's finite values.

    Returns:
        (transform, reason): a :class:`ColumnTransform` log1p (values >= 0) or signed_log1p
        (some negative), with a scale for columns of small values, when the largest magnitude
        is at least ``AUTO_TAIL_RATIO`` times the median nonzero magnitude; with an atom at
        the minimum when at least ``AUTO_ATOM_SHARE`` of its values (and two) equal it and
        they are not all whole numbers ("linear" when there is no log); else None. The reason
        is the text of ``describe()``.
    """
    x = np.asarray(values, np.float64).ravel()
    x = x[np.isfinite(x)]
    log, reason = _choose_log(x)
    # whole numbers (counts) come back rounded in an integer column, which gives the minimum
    if x.size == 0 or np.all(x == np.round(x)):
        return log, reason
    lowest = float(x.min())
    count = int(np.count_nonzero(x == lowest))
    share = count / x.size
    if share < AUTO_ATOM_SHARE or count < 2 or share == 1.0:  # one value is no mass
        return log, reason
    kind, scale = ("linear", 1.0) if log is None else (log.kind, log.scale)
    mapped = ColumnTransform(kind, scale).forward(np.array([lowest, x.max()]))
    atom = ColumnTransform(kind, scale, lowest, AUTO_ATOM_GAP * float(mapped[1] - mapped[0]))
    return atom, (f"{reason}; {share:.0%} of the values are {lowest:g}, the minimum (at least "
                  f"{AUTO_ATOM_SHARE:.0%}): encoded apart, so generated values reach it exactly")


def _choose_log(x: np.ndarray) -> Tuple[Optional[ColumnTransform], str]:
    """The log of :func:`choose_transform` (finite float64 values), and why."""
    magnitude = np.abs(x)
    nonzero = magnitude[magnitude > 0]
    if nonzero.size == 0:
        return None, "auto: no nonzero values"
    ratio = float(magnitude.max() / np.median(nonzero))
    what = "value" if x.min() >= 0 else "|value|"
    measured = f"the largest {what} is {ratio:,.0f}x the median nonzero {what}"
    if ratio < AUTO_TAIL_RATIO:
        return None, f"auto: {measured}, under {AUTO_TAIL_RATIO:g}x"
    low = float(np.quantile(nonzero, AUTO_SCALE_QUANTILE))
    scale = min(1.0, 10.0 ** math.floor(math.log10(low)))
    kind = "log1p" if x.min() >= 0 else "signed_log1p"
    return ColumnTransform(kind, scale), f"auto: {measured}"


# --- precision of global scaling -----------------------------------------------------------------

# Float32 scaling must decode a column's typical values (its interquartile range) within this
# fraction of that range's width.  Ordinary data never come close (the rounding error is at most
# 2**-25 of the whole range, so the range would have to exceed ~30,000 IQRs); an extreme value
# that squashes the bulk of the column into a few float32 codes does.  Only the typical values
# count: in [0, 1] float32 keeps the relative precision of large values, whose absolute errors
# are large but harmless.
RESOLUTION = 1e-3
_SPREAD_SAMPLE = 100_000  # values the typical range is estimated from (a seeded subsample)


def typical_range(values) -> Tuple[float, float, str]:
    """Where a column's typical values lie, robust to the extreme values that squash the rest.

    Args:
        values: The column's values.

    Returns:
        (low, high, what it is): the interquartile range; for a column that is mostly one value
        (e.g. zeros), from that value to its other values' IQR, or to the next most common
        value.
    """
    x = np.asarray(values, np.float64).ravel()
    if x.size > _SPREAD_SAMPLE:  # the range only sets a tolerance: a subsample estimates it
        x = x[np.random.default_rng(0).integers(0, x.size, _SPREAD_SAMPLE)]
    q1, q3 = np.percentile(x, [25, 75])
    if q3 > q1:
        return float(q1), float(q3), "interquartile range"
    rest = x[x != q1]
    if not rest.size:
        return float(q1), float(q1), "a single value"
    r1, r3 = np.percentile(rest, [25, 75])
    if r3 == r1:  # two values make up most of the column
        return float(min(q1, r1)), float(max(q1, r1)), "two most common values"
    return (float(min(q1, r1)), float(max(q1, r3)),
            f"most common value {q1:g} and the interquartile range of the others")


def scaling_loss(values, scaled, vmin, vmax, normalization: Normalization) -> Optional[dict]:
    """How much precision float32 global scaling loses on a column.

    Args:
        values: Raw float64 values.
        scaled: ``global_scale(values, vmin, vmax, normalization)``.
        vmin: The column's min.
        vmax: The column's max.
        normalization: The range.

    Returns:
        None when the column's typical values (:func:`typical_range`) decode within
        ``RESOLUTION`` times that range's width; else a dict: ``max_error`` (their largest
        decoding error, raw units), ``low``, ``high`` and ``kind`` of the typical range,
        ``distinct`` (distinct values of the column) and ``collapsed`` (how many of them share a
        float32 code with another value).
    """
    x = np.asarray(values, np.float64).ravel()
    low, high, kind = typical_range(x)
    if high == low:  # a single value (e.g. one row to condition on): nothing to resolve
        return None
    tolerance = RESOLUTION * (high - low)
    # float32 rounds a scaled value by at most half its spacing below 1 (2**-25): when even
    # that is within the tolerance, the exact (costlier) check below cannot fail
    span = float(vmax) - float(vmin)
    bound = span * 2.0 ** -25 * (0.5 if normalization is Normalization.MINUSONE_ONE else 1.0)
    if bound <= tolerance:
        return None
    typical = (x >= low) & (x <= high)
    decoded = global_unscale(np.asarray(scaled).ravel()[typical], vmin, vmax, normalization)
    error = float(np.max(np.abs(decoded - x[typical])))
    if error <= tolerance:
        return None
    distinct = np.unique(x)
    codes = global_scale(distinct, vmin, vmax, normalization)
    same = codes[1:] == codes[:-1]  # adjacent distinct values that share a code
    shared = np.zeros(distinct.size, bool)
    shared[1:] |= same
    shared[:-1] |= same
    return {"max_error": error, "low": low, "high": high, "kind": kind,
            "distinct": int(distinct.size), "collapsed": int(shared.sum())}


# --- generation flags ----------------------------------------------------------------------------

def gen_flags_from_lengths(lengths, max_length: int) -> np.ndarray:
    """Activity flags from series lengths.

    Args:
        lengths: [N].
        max_length: T.

    Returns:
        float32 [N, T]: 1 for t < length.
    """
    lengths = np.asarray(lengths)
    return (np.arange(max_length)[None, :] < lengths[:, None]).astype(np.float32)


def lengths_from_gen_flags(gen_flags) -> np.ndarray:
    """Series lengths from activity flags.

    Args:
        gen_flags: [N, T], 1 on the active steps.

    Returns:
        int64 [N].
    """
    return np.asarray(gen_flags).sum(axis=1).round().astype(np.int64)


def check_sample_len(max_length: int, sample_len: int) -> None:
    """Check that T is a multiple of ``sample_len``: the model generates ``sample_len`` steps
    per LSTM step (:func:`encode_gen_flags` splits T into chunks). The one check of this rule.

    Args:
        max_length: T.
        sample_len: S.

    Raises:
        ValueError: Unless ``sample_len`` is a positive integer dividing ``max_length``.
    """
    arguments.count("sample_len", sample_len)
    if max_length % sample_len:
        divisors = [d for d in range(1, max_length + 1) if max_length % d == 0]
        padded = -(-max_length // sample_len) * sample_len
        raise ValueError(
            f"the series length T={max_length} is not divisible by sample_len={sample_len}; use "
            f"a sample_len that divides T (one of {divisors}) or pad the series to T={padded} "
            f"(e.g. Dataset.from_dataframe(..., sample_len={sample_len}))")


def encode_gen_flags(gen_flags, sample_len: int) -> np.ndarray:
    """The two generation-flag feature columns of a set of activity flags.

    Column 0 is 1 when the series continues after this step; column 1 is 1 from the last
    active step to the end of its S-chunk ("ends here"); both are 0 after that chunk.

    Args:
        gen_flags: [N, T] activity flags.
        sample_len: S.

    Returns:
        [N, T, 2].
    """
    gen_flags = np.asarray(gen_flags, np.float32)
    n, t = gen_flags.shape
    check_sample_len(t, sample_len)
    continues = np.concatenate([gen_flags[:, 1:], np.zeros((n, 1), np.float32)], axis=1)
    chunk_active = gen_flags.reshape(n, t // sample_len, sample_len).sum(axis=2) > 0.5
    chunk_active = np.repeat(chunk_active, sample_len, axis=1).astype(np.float32)
    return np.stack([continues, (1.0 - continues) * chunk_active], axis=2)


def decode_gen_flags(flag_columns) -> np.ndarray:
    """Activity flags from generated flag columns.

    Step t is active while every earlier step's argmax said "continue" (step 0 always is), so
    the series ends at the first step whose argmax says "ends here".

    Args:
        flag_columns: [N, T, 2].

    Returns:
        [N, T].
    """
    flag_columns = np.asarray(flag_columns)
    says_continue = (np.argmax(flag_columns, axis=2) == 0).astype(np.float32)
    n = flag_columns.shape[0]
    before = np.concatenate([np.ones((n, 1), np.float32), says_continue[:, :-1]], axis=1)
    return np.cumprod(before, axis=1)


# --- generated values -> valid encodings ---------------------------------------------------------

def harden(values, outputs: Sequence[Output], clip: bool = True, copy: bool = True
           ) -> np.ndarray:
    """Valid encoded values from generated ones: discrete blocks one-hot (argmax), continuous
    blocks clipped to their normalisation range.

    Args:
        values: Any leading shape, the outputs' columns last.
        outputs: The outputs of the columns.
        clip: False leaves continuous values unclipped.
        copy: False works in place when ``values`` already is a float32 array.

    Returns:
        float32 values.
    """
    # np.asarray copies only when it must (numpy 2's copy=False would raise instead)
    values = np.array(values, dtype=np.float32) if copy else np.asarray(values, np.float32)
    for out, start, stop in output_blocks(outputs):
        block = values[..., start:stop]
        if not out.is_continuous:
            values[..., start:stop] = np.eye(out.dim, dtype=np.float32)[block.argmax(axis=-1)]
        elif clip:
            np.clip(block, out.normalization.low, 1.0, out=block)
    return values


def snap_atoms(values, outputs: Sequence[Output], low, high) -> np.ndarray:
    """Generated encoded values that decode to a column's atom, set to the atom's own code (in
    place), so that the encoded data, which the fidelity figures read, show what decoding
    gives: a series of atoms is flat, not noise below the threshold.

    Args:
        values: float32 encoded values, the outputs' columns last.
        outputs: The outputs of the columns.
        low: The columns' min in transformed units [K], or None (then nothing changes).
        high: Their max [K].

    Returns:
        ``values``.
    """
    if low is None:
        return values
    for out, start, _ in output_blocks(outputs):
        transform = out.transform if out.is_continuous else None
        if transform is None or transform.atom is None:
            continue
        threshold, code = global_scale(np.array(transform.atom_codes()), low[start],
                                       high[start], out.normalization)
        column = values[..., start]
        column[column <= threshold] = code
    return values


# --- per-sample auto-normalisation ---------------------------------------------------------------

def minmax_attribute_outputs(feature_outputs: Sequence[Output]) -> List[Output]:
    """The extra (min/max) attribute outputs auto-normalisation adds.

    Args:
        feature_outputs: The feature outputs.

    Returns:
        Per continuous feature column, ``mid = (max+min)/2`` with the feature's normalisation
        and ``half = (max-min)/2`` in ZERO_ONE.
    """
    extra = []
    for out in feature_outputs:
        if out.type is not OutputType.CONTINUOUS:
            continue
        for name in out.column_names():
            extra.append(Output(OutputType.CONTINUOUS, 1, out.normalization, name=f"{name}__mid"))
            extra.append(Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE,
                                name=f"{name}__half"))
    return extra


def _continuous_columns(feature_outputs: Sequence[Output]):
    """(column index, normalization) of every continuous feature column."""
    return [(col, out.normalization) for out, start, stop in output_blocks(feature_outputs)
            if out.is_continuous for col in range(start, stop)]


def normalize_per_sample(features, gen_flags, feature_outputs: Sequence[Output],
                         masked: bool = False, eps: float = AUTONORM_EPS
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """Scale each sample's continuous features by its own min/max.

    Args:
        features: [N, T, K].
        gen_flags: [N, T].
        feature_outputs: The feature outputs.
        masked: False matches the original (min/max over all T_max steps, padding zeros
            included); True takes min/max over active steps only and keeps padded steps at 0.
        eps: Widens each sample's [min, max] on both sides (max + eps, min - eps), as the
            original does.

    Returns:
        (normalised features [N, T, K], extra attributes [N, 2 * n_continuous_columns]), the
        extra attributes interleaved (mid, half) per column, as :func:`minmax_attribute_outputs`.
    """
    features = np.array(features, dtype=np.float64, copy=True)
    gen_flags = np.asarray(gen_flags, np.float64)
    active = gen_flags[:, :, None] > 0.5
    extra = []
    for col, norm in _continuous_columns(feature_outputs):
        x = features[:, :, col]
        if masked:
            hi = np.where(active[:, :, 0], x, -np.inf).max(axis=1)
            lo = np.where(active[:, :, 0], x, np.inf).min(axis=1)
        else:
            hi, lo = x.max(axis=1), x.min(axis=1)
        hi, lo = hi + eps, lo - eps
        extra.append((hi + lo) / 2.0)
        extra.append((hi - lo) / 2.0)
        z = (x - lo[:, None]) / (hi - lo)[:, None]
        if norm is Normalization.MINUSONE_ONE:
            z = z * 2.0 - 1.0
        if masked:
            z = z * gen_flags
        features[:, :, col] = z
    extra = np.stack(extra, axis=1) if extra else np.zeros((features.shape[0], 0))
    return features.astype(np.float32), extra.astype(np.float32)


def renormalize_per_sample(features, extra_attributes, gen_flags,
                           feature_outputs: Sequence[Output]) -> np.ndarray:
    """The inverse of :func:`normalize_per_sample`: max = mid + half, min = mid - half; steps after
    the end of each series are zeroed.

    Args:
        features: Normalised features [N, T, K].
        extra_attributes: [N, 2 * n_continuous_columns], (mid, half) per column.
        gen_flags: [N, T].
        feature_outputs: The feature outputs.

    Returns:
        Features [N, T, K] in the global scale.
    """
    features = np.array(features, dtype=np.float32, copy=True)
    extra = np.asarray(extra_attributes, np.float32)
    for i, (col, norm) in enumerate(_continuous_columns(feature_outputs)):
        mid, half = extra[:, 2 * i], extra[:, 2 * i + 1]
        # x = min + z01 * (max - min) with z01 = z (ZERO_ONE) or (z + 1) / 2 (MINUSONE_ONE),
        # written as one scale and one offset per sample, applied in place
        if norm is Normalization.MINUSONE_ONE:
            scale, offset = half, mid
        else:
            scale, offset = 2.0 * half, mid - half
        z = features[:, :, col]
        z *= scale[:, None]
        z += offset[:, None]
    features *= np.asarray(gen_flags, np.float32)[:, :, None]
    return features
