"""Statistics of series, array level: the autocorrelation curve, each sample's total, midrange,
flatness and feature-to-feature correlation over its active steps, and the histogram of series
lengths. Series are [N, T] arrays, with each sample's length or NaN past its end."""
from __future__ import annotations

from typing import Optional

import numpy as np


# samples per FFT block of autocorrelation(): bounds its [block, 2T] temporaries
AUTOCORRELATION_BLOCK = 1024


def autocorrelation(series, lengths: Optional[np.ndarray] = None, max_lag: Optional[int] = None,
                    per_sample: bool = False):
    """Average autocorrelation curve of one feature.

    For each sample and lag, the Pearson correlation between x[:-lag] and x[lag:] over the
    sample's active steps; undefined (constant or too short) counts as 0. Every lag is computed
    at once: the cross sums of x[s] x[s+lag] from one FFT per sample, the windows' sums and sums
    of squares from cumulative sums, each sample centred on its mean (so the one-pass variances
    do not cancel); tests/test_autocorrelation_and_jsd.py checks it against the direct per-lag computation.

    Args:
        series: [N, T].
        lengths: Each sample's active steps; default: all T.
        max_lag: Lags 1..max_lag; default: T - 2.
        per_sample: Return each sample's curve instead of the mean.

    Returns:
        The mean over samples, [max_lag]; with ``per_sample`` each sample's curve,
        [N, max_lag] (whose mean over axis 0 is the average curve).

    Raises:
        ValueError: When ``series`` is not [N, T] or T < 3.
    """
    x = np.asarray(series, np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be [N, T], got shape {x.shape}")
    n, t = x.shape
    lengths = np.full(n, t) if lengths is None else np.asarray(lengths)
    max_lag = t - 2 if max_lag is None else int(max_lag)
    if max_lag < 1:
        raise ValueError(f"need T >= 3 for an autocorrelation curve, got T={t}")
    curves = np.zeros((n, max_lag))
    for start in range(0, n, AUTOCORRELATION_BLOCK):
        stop = min(start + AUTOCORRELATION_BLOCK, n)
        curves[start:stop] = _autocorrelation_block(x[start:stop], lengths[start:stop], max_lag)
    return curves if per_sample else curves.mean(axis=0)


def _autocorrelation_block(x: np.ndarray, lengths: np.ndarray, max_lag: int) -> np.ndarray:
    """Each sample's autocorrelation at lags 1..max_lag, [n, max_lag] (see autocorrelation)."""
    n, t = x.shape
    lengths = np.clip(lengths.astype(np.int64), 0, t)
    active = np.arange(t)[None, :] < lengths[:, None]
    mean = np.where(active, x, 0).sum(1) / np.maximum(lengths, 1)
    x = np.where(active, x - mean[:, None], 0.0)
    size = 1 << int(2 * t - 1).bit_length()  # no wrap-around of the circular correlation
    spectrum = np.fft.rfft(x, size, axis=1)
    cross = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, 1:max_lag + 1]
    c1 = np.concatenate([np.zeros((n, 1)), np.cumsum(x, axis=1)], axis=1)  # c1[:, k] = sum x[:k]
    c2 = np.concatenate([np.zeros((n, 1)), np.cumsum(x * x, axis=1)], axis=1)
    lags = np.arange(1, max_lag + 1)[None, :]
    count = lengths[:, None] - lags  # pairs (s, s + lag) inside the series
    first = np.clip(count, 0, t)  # x[:count]
    rows = np.arange(n)[:, None]
    end = lengths[:, None]
    sum_a, sum_aa = c1[rows, first], c2[rows, first]
    sum_b = c1[rows, end] - c1[rows, np.minimum(lags, end)]  # x[lag:length]
    sum_bb = c2[rows, end] - c2[rows, np.minimum(lags, end)]
    safe = np.maximum(count, 1)
    cov = cross - sum_a * sum_b / safe
    var_a = np.maximum(sum_aa - sum_a ** 2 / safe, 0.0)
    var_b = np.maximum(sum_bb - sum_b ** 2 / safe, 0.0)
    denom = np.sqrt(var_a * var_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((denom > 1e-12) & (count > 1), cov / denom, 0.0)


def _active_mask(x: np.ndarray, lengths) -> np.ndarray:
    """Active steps: the first ``lengths[i]`` steps of each sample, or (no lengths) the finite
    ones."""
    n, t = x.shape
    if lengths is None:
        return np.isfinite(x)
    lengths = np.asarray(lengths)
    if lengths.shape != (n,):
        raise ValueError(f"lengths must have shape ({n},), got {lengths.shape}")
    if np.any((lengths < 1) | (lengths > t)):
        raise ValueError(f"lengths must lie in 1..T={t}")
    return np.arange(t)[None, :] < lengths[:, None]


def _series_2d(series, what: str = "series") -> np.ndarray:
    x = np.asarray(series, np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what} must be [N, T], got shape {x.shape}")
    return x


def series_totals(series, lengths: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-sample sum over the active steps.

    Args:
        series: [N, T].
        lengths: Sample i's active steps are its first ``lengths[i]``; default: the non-NaN
            steps, as in ``Dataset.feature_values()``.

    Returns:
        [N].
    """
    x = _series_2d(series)
    mask = _active_mask(x, lengths)
    return np.where(mask, x, 0.0).sum(axis=1)


def series_midrange(series, lengths: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-sample (max + min) / 2 over the active steps (paper Fig. 6).

    Args:
        series: [N, T].
        lengths: Active steps as in :func:`series_totals`.

    Returns:
        [N].

    Raises:
        ValueError: When a sample has no active step.
    """
    x = _series_2d(series)
    mask = _active_mask(x, lengths)
    if not mask.any(axis=1).all():
        raise ValueError(f"sample {int(np.argmin(mask.any(axis=1)))} has no active step")
    high = np.where(mask, x, -np.inf).max(axis=1)
    low = np.where(mask, x, np.inf).min(axis=1)
    return (high + low) / 2


def flat_samples(series, lengths: Optional[np.ndarray] = None, tolerance: float = 0.0,
                 tail: float = 1.0) -> np.ndarray:
    """Whether each sample is flat: its values over the last ``tail`` share of its active steps
    (rounded up, at least 2 steps) span at most ``tolerance`` (max - min).

    A sample of one active step is never flat: nothing in it could vary.

    Args:
        series: [N, T].
        lengths: Active steps as in :func:`series_totals`.
        tolerance: The largest span that counts as flat.
        tail: 1: the whole series; 0.5: its second half, where a generator whose output settles
            on a constant shows it.

    Returns:
        bool [N].

    Raises:
        ValueError: When ``tail`` is not in (0, 1].
    """
    x = _series_2d(series)
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be a share of the active steps in (0, 1], got {tail!r}")
    active = _active_mask(x, lengths)
    count = active.sum(axis=1)
    window = np.minimum(np.maximum(np.ceil(count * tail), 2), count).astype(np.int64)
    # steps from the window's start to the series' end (active steps are a prefix when
    # lengths are given; without lengths, the last `window` finite steps)
    rank = np.cumsum(active[:, ::-1], axis=1)[:, ::-1]  # active steps from here to the end
    mask = active & (rank <= window[:, None])
    high = np.where(mask, x, -np.inf).max(axis=1)
    low = np.where(mask, x, np.inf).min(axis=1)
    return (count >= 2) & (high - low <= tolerance)


def pearson_per_sample(x, y, lengths: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-sample Pearson correlation between two series over their common active steps.

    Args:
        x: [N, T].
        y: [N, T].
        lengths: Active steps as in :func:`series_totals`; without them, the steps finite in
            both.

    Returns:
        float64 [N], NaN where undefined (fewer than 2 steps or a constant series).

    Raises:
        ValueError: When x and y differ in shape.
    """
    a, b = _series_2d(x, "x"), _series_2d(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"x and y differ in shape: {a.shape} vs {b.shape}")
    mask = _active_mask(a, lengths) & _active_mask(b, lengths)
    count = mask.sum(axis=1)
    safe = np.maximum(count, 1)
    da = np.where(mask, a - np.where(mask, a, 0).sum(1, keepdims=True) / safe[:, None], 0)
    db = np.where(mask, b - np.where(mask, b, 0).sum(1, keepdims=True) / safe[:, None], 0)
    spread_a, spread_b = np.sqrt((da ** 2).sum(1)), np.sqrt((db ** 2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (da * db).sum(1) / (spread_a * spread_b)
    # a constant series leaves only rounding noise after removing its mean: compare the spread
    # with the series' own magnitude
    norm_a = np.sqrt((np.where(mask, a, 0) ** 2).sum(1))
    norm_b = np.sqrt((np.where(mask, b, 0) ** 2).sum(1))
    undefined = ((count < 2) | (spread_a <= 1e-12 * norm_a) | (spread_b <= 1e-12 * norm_b)
                 | (spread_a == 0) | (spread_b == 0))
    return np.clip(np.where(undefined, np.nan, corr), -1.0, 1.0)


def length_histogram(lengths, max_length: int) -> np.ndarray:
    """Counts of series lengths 1..max_length (paper Fig. 9).

    Args:
        lengths: The series' lengths.
        max_length: T.

    Returns:
        int64 [max_length]; entry i counts the series of length i + 1.

    Raises:
        ValueError: For no lengths, or lengths that are not integers in 1..max_length.
    """
    lengths = np.asarray(lengths).ravel()
    if lengths.size == 0:
        raise ValueError("lengths is empty")
    if np.any(lengths != np.round(lengths)) or np.any((lengths < 1) | (lengths > max_length)):
        raise ValueError(f"lengths must be integers in 1..{max_length}")
    return np.bincount(lengths.astype(np.int64) - 1, minlength=max_length).astype(np.int64)
