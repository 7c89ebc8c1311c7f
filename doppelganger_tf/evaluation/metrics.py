"""Metrics comparing generated and real time series (numpy/scipy only; no TensorFlow).

Array-level functions take plain arrays ([N, T] series, 1-D samples, histograms); the
Dataset-level helpers (``feature_*``, ``attribute_*``, ``*_by_attribute``, ``*_distances``) pick
the columns out of :class:`doppelganger_tf.dataset.Dataset` objects and call them.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..outputs import output_blocks


# samples per FFT block of autocorrelation(): bounds its [block, 2T] temporaries
AUTOCORRELATION_BLOCK = 1024


def autocorrelation(series, lengths: Optional[np.ndarray] = None, max_lag: Optional[int] = None,
                    per_sample: bool = False):
    """Average autocorrelation curve of one feature.

    For each sample and lag, the Pearson correlation between x[:-lag] and x[lag:] over the
    sample's active steps; undefined (constant or too short) counts as 0. Every lag is computed
    at once: the cross sums of x[s] x[s+lag] from one FFT per sample, the windows' sums and sums
    of squares from cumulative sums, each sample centred on its mean (so the one-pass variances
    do not cancel); tests/test_metrics.py checks it against the direct per-lag computation.

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


# --- distribution distances -----------------------------------------------------------------------

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


# --- per-sample statistics of series (array level) ------------------------------------------------

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


# --- Dataset level --------------------------------------------------------------------------------

def _feature_column(dataset, feature_name: str) -> Tuple[object, int]:
    """(output, encoded column index) of a continuous raw feature column."""
    for out, start, _ in output_blocks(dataset.feature_outputs):
        names = out.column_names()
        if feature_name in names:
            if not out.is_continuous:
                raise ValueError(f"feature {feature_name!r} is discrete; this metric needs a "
                                 "continuous feature")
            return out, start + names.index(feature_name)
        if feature_name == out.name:
            raise ValueError(f"feature {feature_name!r} has {out.dim} columns; name one of "
                             f"{names}")
    columns = [n for o in dataset.feature_outputs for n in o.column_names()]
    raise ValueError(f"no feature named {feature_name!r}; the features are {columns}")


def feature_series(dataset, feature_name: str, scaled: bool = True) -> np.ndarray:
    """One continuous feature column of a Dataset, with NaN after each series' end.

    Args:
        dataset: The Dataset.
        feature_name: A raw column name (``<name>`` for a 1-column output, ``<name>_<i>``
            otherwise).
        scaled: True: the encoded values (globally scaled to [0, 1] or [-1, 1] by the feature's
            normalisation, as in the original release's data files); False: real units
            (``Dataset.feature_values()``).

    Returns:
        float64 [N, T].
    """
    _, column = _feature_column(dataset, feature_name)
    if scaled:
        x = dataset.features[:, :, column].astype(np.float64)
        x[dataset.gen_flags < 0.5] = np.nan
        return x
    return np.asarray(dataset.feature_values()[feature_name], np.float64)


def feature_totals(dataset, feature_name: str, scaled: bool = True) -> np.ndarray:
    """Per-sample sum of a continuous feature over its active steps.

    Args:
        dataset: The Dataset.
        feature_name: As in :func:`feature_series`.
        scaled: True sums the scaled values (e.g. [0, 1]), the scale of the paper's Table 2;
            False sums real units.

    Returns:
        [N].
    """
    return series_totals(feature_series(dataset, feature_name, scaled), dataset.lengths)


def feature_midrange(dataset, feature_name: str, scaled: bool = True) -> np.ndarray:
    """Per-sample (max + min) / 2 of a continuous feature over its active steps (paper Fig. 6).

    Args:
        dataset: The Dataset.
        feature_name: As in :func:`feature_series`.
        scaled: As in :func:`feature_series`.

    Returns:
        [N].
    """
    return series_midrange(feature_series(dataset, feature_name, scaled), dataset.lengths)


def feature_correlation(dataset, feature_a: str, feature_b: str) -> np.ndarray:
    """Per-sample Pearson correlation between two continuous features over the active steps
    (paper Fig. 8).

    Pearson is invariant to the min/max scaling, so the scaled values are used.

    Args:
        dataset: The Dataset.
        feature_a: A raw feature column name.
        feature_b: Another.

    Returns:
        [N'] with N' <= N: undefined values (constant series, length 1) dropped.
    """
    return _drop_nan(pearson_per_sample(feature_series(dataset, feature_a),
                                        feature_series(dataset, feature_b), dataset.lengths))


def _drop_nan(x: np.ndarray) -> np.ndarray:
    return x[~np.isnan(x)]


def _discrete_attribute(dataset, name: str) -> Tuple[object, int, int]:
    for out, start, stop in output_blocks(dataset.attribute_outputs):
        if out.name == name:
            if out.is_continuous:
                raise ValueError(f"attribute {name!r} is continuous; this needs a discrete "
                                 "(categorical) attribute")
            return out, start, stop
    raise ValueError(f"no attribute named {name!r}; the attributes are "
                     f"{dataset.attribute_names}")


def attribute_categories(dataset, name: str) -> List:
    """The category labels of a discrete attribute, in column (histogram) order.

    Args:
        dataset: The Dataset.
        name: The attribute.

    Returns:
        The labels.
    """
    return list(_discrete_attribute(dataset, name)[0].labels())


def attribute_codes(dataset, name: str) -> np.ndarray:
    """Each sample's category of a discrete attribute.

    Args:
        dataset: The Dataset.
        name: The attribute.

    Returns:
        int64 [N]: indices into :func:`attribute_categories`.
    """
    _, start, stop = _discrete_attribute(dataset, name)
    return np.argmax(dataset.attributes[:, start:stop], axis=1).astype(np.int64)


def attribute_histogram(dataset, name: str) -> np.ndarray:
    """Counts of each category of a discrete attribute (paper Fig. 5).

    Args:
        dataset: The Dataset.
        name: The attribute.

    Returns:
        int64 [C], in category order.
    """
    out, _, _ = _discrete_attribute(dataset, name)
    return np.bincount(attribute_codes(dataset, name), minlength=out.dim).astype(np.int64)


def _same_categories(real_ds, gen_ds, name: str) -> List:
    real_cats = attribute_categories(real_ds, name)
    gen_cats = attribute_categories(gen_ds, name)
    if real_cats != gen_cats:
        raise ValueError(f"attribute {name!r} has categories {real_cats} in the real data but "
                         f"{gen_cats} in the generated data; both must share the same specs")
    return real_cats


def attribute_jsd(real_ds, gen_ds, name: str) -> float:
    """Jensen-Shannon divergence between the category histograms of a discrete attribute in two
    Datasets with the same categories.

    Args:
        real_ds: The real Dataset.
        gen_ds: The generated Dataset.
        name: The attribute.

    Returns:
        The divergence in bits, 0..1.
    """
    _same_categories(real_ds, gen_ds, name)
    return jensen_shannon_divergence(attribute_histogram(real_ds, name),
                                     attribute_histogram(gen_ds, name))


def wasserstein_by_attribute(real_ds, gen_ds, feature_name: str, attribute_name: str,
                             values: Optional[Sequence] = None, scaled: bool = True,
                             normalize: Optional[str] = None) -> Dict[object, float]:
    """W1 between real and generated per-sample totals of a feature, per category of a discrete
    attribute (paper Table 2: total bandwidth of DSL and of cable users in MBA).

    For each category c, the samples whose attribute is c are taken from each Dataset, their
    totals computed with :func:`feature_totals`, and :func:`wasserstein1` of the two sets taken.

    Args:
        real_ds: The real Dataset.
        gen_ds: The generated Dataset.
        feature_name: The continuous feature.
        attribute_name: The discrete attribute.
        values: The categories; default: all, in order.
        scaled: True: totals of the scaled feature ([0, 1] for ZERO_ONE), the scale of the
            paper's numbers (DG: 0.68 DSL, 0.74 cable); both Datasets must then share the
            feature's min/max (a model's output does). False: real units.
        normalize: "range" divides every total by the range (max - min) of the real totals over
            all real samples, making W1 unit-free; None leaves them.

    Returns:
        {c: W1}, NaN where either Dataset has no sample of c.

    Raises:
        ValueError: For an unknown ``normalize`` or category, or ``normalize="range"`` when the
            real totals are all equal.
    """
    if normalize not in (None, "range"):
        raise ValueError(f"normalize must be None or 'range', got {normalize!r}")
    categories = _same_categories(real_ds, gen_ds, attribute_name)
    values = categories if values is None else list(values)
    unknown = [v for v in values if v not in categories]
    if unknown:
        raise ValueError(f"{unknown} are not categories of {attribute_name!r} ({categories})")
    real_totals = feature_totals(real_ds, feature_name, scaled)
    gen_totals = feature_totals(gen_ds, feature_name, scaled)
    if normalize == "range":
        spread = float(real_totals.max() - real_totals.min())
        if spread <= 0:
            raise ValueError("the real totals are all equal; normalize='range' is undefined")
        real_totals, gen_totals = real_totals / spread, gen_totals / spread
    real_codes = attribute_codes(real_ds, attribute_name)
    gen_codes = attribute_codes(gen_ds, attribute_name)
    result = {}
    for value in values:
        code = categories.index(value)
        r, g = real_totals[real_codes == code], gen_totals[gen_codes == code]
        result[value] = wasserstein1(r, g) if r.size and g.size else float("nan")
    return result


def midrange_wasserstein(real_ds, gen_ds, feature_name: str, scaled: bool = True) -> float:
    """W1 between the per-sample (max + min) / 2 of a feature in two Datasets (Fig. 6).

    Args:
        real_ds: The real Dataset.
        gen_ds: The generated Dataset.
        feature_name: The continuous feature.
        scaled: As in :func:`feature_series`.

    Returns:
        The distance.
    """
    return wasserstein1(feature_midrange(real_ds, feature_name, scaled),
                        feature_midrange(gen_ds, feature_name, scaled))


def length_distances(real_ds, gen_ds) -> Dict[str, float]:
    """Distances between the length distributions of two Datasets (Fig. 9).

    Args:
        real_ds: The real Dataset.
        gen_ds: The generated Dataset.

    Returns:
        ``{"jsd": JSD of the length histograms over 1..T, "wasserstein": W1 in steps}``, T the
        larger of the two Datasets' max lengths.
    """
    t = max(real_ds.max_length, gen_ds.max_length)
    return {"jsd": length_jsd(real_ds.lengths, gen_ds.lengths, t),
            "wasserstein": length_wasserstein(real_ds.lengths, gen_ds.lengths)}


def correlation_distances(real_ds, gen_ds, feature_a: str, feature_b: str) -> Dict[str, float]:
    """KS statistic and W1 between the CDFs of per-sample Pearson correlations of two features
    in two Datasets (paper Fig. 8), undefined correlations dropped.

    Args:
        real_ds: The real Dataset.
        gen_ds: The generated Dataset.
        feature_a: A continuous feature.
        feature_b: Another.

    Returns:
        ``{"ks", "wasserstein"}`` as :func:`cdf_distances`.
    """
    return cdf_distances(feature_correlation(real_ds, feature_a, feature_b),
                         feature_correlation(gen_ds, feature_a, feature_b))
