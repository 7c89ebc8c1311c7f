"""Metrics comparing generated and real time series (numpy only)."""
from __future__ import annotations

from typing import Optional

import numpy as np


def autocorrelation(series, lengths: Optional[np.ndarray] = None, max_lag: Optional[int] = None):
    """Average autocorrelation curve of one feature, lags 1..max_lag (default T-2).

    series: [N, T]. For each sample and lag, the Pearson correlation between x[:-lag] and x[lag:]
    over the sample's active steps (``lengths``; default all T); undefined (constant or too
    short) -> 0. Returns the mean over samples, shape [max_lag].
    """
    x = np.asarray(series, np.float64)
    if x.ndim != 2:
        raise ValueError(f"series must be [N, T], got shape {x.shape}")
    n, t = x.shape
    lengths = np.full(n, t) if lengths is None else np.asarray(lengths)
    max_lag = t - 2 if max_lag is None else int(max_lag)
    if max_lag < 1:
        raise ValueError(f"need T >= 3 for an autocorrelation curve, got T={t}")
    steps = np.arange(t)
    curve = np.zeros(max_lag)
    for lag in range(1, max_lag + 1):
        # pairs (x[s], x[s+lag]) with both steps active
        valid = (steps[None, : t - lag] + lag) < lengths[:, None]
        a, b = x[:, : t - lag], x[:, lag:]
        count = valid.sum(axis=1)
        safe = np.maximum(count, 1)
        mean_a = np.where(valid, a, 0).sum(1) / safe
        mean_b = np.where(valid, b, 0).sum(1) / safe
        da = np.where(valid, a - mean_a[:, None], 0)
        db = np.where(valid, b - mean_b[:, None], 0)
        cov = (da * db).sum(1)
        denom = np.sqrt((da ** 2).sum(1) * (db ** 2).sum(1))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where((denom > 1e-12) & (count > 1), cov / denom, 0.0)
        curve[lag - 1] = corr.mean()
    return curve


def autocorrelation_mse(curve_a, curve_b) -> float:
    """Mean squared error between two autocorrelation curves."""
    a, b = np.asarray(curve_a), np.asarray(curve_b)
    if a.shape != b.shape:
        raise ValueError(f"curves differ in shape: {a.shape} vs {b.shape}")
    return float(np.mean((a - b) ** 2))


def jensen_shannon_divergence(p, q) -> float:
    """Jensen-Shannon divergence (not its square root, the distance) in bits, base 2: 0 for
    identical histograms, 1 for disjoint ones. Inputs are normalised to sum to 1."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"histograms must be 1-D of equal length, got {p.shape} and {q.shape}")
    if p.sum() <= 0 or q.sum() <= 0 or (p < 0).any() or (q < 0).any():
        raise ValueError("histograms must be non-negative with a positive total")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)
