"""Distances between real and generated data, array level: the autocorrelation curves' MSE, the
Jensen-Shannon divergence of histograms, the Wasserstein-1 and Kolmogorov-Smirnov distances of
1-D samples (with their empirical CDFs and shared histograms) and the distances of the series
lengths."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from .series_statistics import length_histogram


def autocorrelation_mse(curve_a, curve_b) -> float:
    """Mean squared error between two autocorrelation curves.

    Args:
        curve_a: A curve.
        curve_b: A curve of the same shape.

    Returns:
        The MSE.

    Raises:
        ValueError: When the shapes differ.
    """
    a, b = np.asarray(curve_a), np.asarray(curve_b)
    if a.shape != b.shape:
        raise ValueError(f"curves differ in shape: {a.shape} vs {b.shape}")
    return float(np.mean((a - b) ** 2))


def jensen_shannon_divergence(p, q) -> float:
    """Jensen-Shannon divergence (not its square root, the distance) in bits, base 2.

    Args:
        p: A 1-D histogram; normalised to sum to 1.
        q: A histogram of the same length.

    Returns:
        0 for identical histograms, 1 for disjoint ones.

    Raises:
        ValueError: For histograms of different shapes, not 1-D, negative or with a zero total.
    """
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


def _sample_1d(values, what: str) -> np.ndarray:
    x = np.asarray(values, np.float64).ravel()
    if x.size == 0:
        raise ValueError(f"{what} is empty; need at least one value")
    if not np.isfinite(x).all():
        raise ValueError(f"{what} holds NaN or infinite values; drop them first")
    return x


def wasserstein1(a, b) -> float:
    """Wasserstein-1 (earth mover's) distance between the empirical distributions of two samples.

    Computed by ``scipy.stats.wasserstein_distance``.

    Args:
        a: A 1-D sample.
        b: A 1-D sample of any length.

    Returns:
        The distance, in the units of the values: shifting one sample by c gives abs(c).
    """
    from scipy.stats import wasserstein_distance
    return float(wasserstein_distance(_sample_1d(a, "the first sample"),
                                      _sample_1d(b, "the second sample")))


def totals_wasserstein(real_totals, gen_totals) -> float:
    """W1 between the per-sample totals of a feature, real against generated (paper Table 2).

    Args:
        real_totals: [N].
        gen_totals: [M].

    Returns:
        The distance in the units of the totals given: the paper's Table 2 numbers are on totals
        of the [0, 1]-scaled feature (:func:`feature_totals` with ``scaled=True``).
    """
    return wasserstein1(real_totals, gen_totals)


def ks_statistic(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov statistic.

    Args:
        a: A 1-D sample.
        b: A 1-D sample.

    Returns:
        The largest vertical gap between the two empirical CDFs, in [0, 1] (0 for identical
        samples).
    """
    from scipy.stats import ks_2samp
    return float(ks_2samp(_sample_1d(a, "the first sample"),
                          _sample_1d(b, "the second sample")).statistic)


def cdf_distances(a, b) -> Dict[str, float]:
    """Distances between the empirical CDFs of two 1-D samples (paper Fig. 7/8).

    Args:
        a: A 1-D sample.
        b: A 1-D sample.

    Returns:
        ``{"ks": Kolmogorov-Smirnov statistic, "wasserstein": W1}``.
    """
    return {"ks": ks_statistic(a, b), "wasserstein": wasserstein1(a, b)}


def empirical_cdf(values) -> Tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of a 1-D sample.

    Args:
        values: The sample.

    Returns:
        (sorted values [n], cumulative fractions [n]: i/n for the i-th smallest, i = 1..n).
    """
    x = np.sort(_sample_1d(values, "values"))
    return x, np.arange(1, x.size + 1) / x.size


def shared_histograms(samples: Dict[str, np.ndarray], bins: int = 20,
                      value_range: Optional[Tuple[float, float]] = None
                      ) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Histograms of several 1-D samples on common bins (e.g. the (max+min)/2 values of real
    and generated data, paper Fig. 6).

    Args:
        samples: {label: values}.
        bins: The number of equal-width bins.
        value_range: The bins' (low, high); default: the min..max over all samples.

    Returns:
        ({label: int64 counts [bins]}, edges [bins + 1]).

    Raises:
        ValueError: Without samples.
    """
    arrays = {label: _sample_1d(v, f"sample {label!r}") for label, v in samples.items()}
    if not arrays:
        raise ValueError("give at least one sample")
    if value_range is None:
        low = min(float(v.min()) for v in arrays.values())
        high = max(float(v.max()) for v in arrays.values())
        if high <= low:
            low, high = low - 0.5, high + 0.5
        value_range = (low, high)
    edges = np.histogram_bin_edges(np.zeros(1), bins=bins, range=value_range)
    counts = {label: np.histogram(v, bins=edges)[0].astype(np.int64)
              for label, v in arrays.items()}
    return counts, edges


def length_jsd(real_lengths, gen_lengths, max_length: int) -> float:
    """Jensen-Shannon divergence (bits) between two sets of lengths' histograms over 1..max_length.

    Args:
        real_lengths: The real series' lengths.
        gen_lengths: The generated series' lengths.
        max_length: T.

    Returns:
        The divergence.
    """
    return jensen_shannon_divergence(length_histogram(real_lengths, max_length),
                                     length_histogram(gen_lengths, max_length))


def length_wasserstein(real_lengths, gen_lengths) -> float:
    """W1 between two length distributions.

    Args:
        real_lengths: The real series' lengths.
        gen_lengths: The generated series' lengths.

    Returns:
        The distance, in time steps.
    """
    return wasserstein1(real_lengths, gen_lengths)
