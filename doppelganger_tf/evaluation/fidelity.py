"""Fidelity of generated data as a flat dict of scalars: the metric layer under
:func:`.report.evaluate` and the fidelity callback of ``fit``.

Every figure is a distance between a real and a synthetic Dataset of the same specs (0 when they
are identical, larger is worse), named ``<kind>/<variable>``:

==================================  ===========  =================================================
key                                 family       figure
==================================  ===========  =================================================
``acf_mse/<feature>``               acf          MSE between the average autocorrelation curves
                                                 (lags 1..max_lag, default T-2)
``w1_mean/<feature>``               mean         W1 of the per-sample means
``w1_total/<feature>``              total        W1 of the per-sample totals (sums)
``w1_midrange/<feature>``           midrange     W1 of the per-sample (max + min) / 2
``jsd/<discrete attribute>``        attribute    Jensen-Shannon divergence (bits) of the categories
``w1/<continuous attribute>``       attribute    W1 of the attribute (one key per column)
``length_w1``                       length       W1 of the series lengths, in steps (only when the
                                                 real series vary in length)
``feature_corr/<a>~<b>``            correlation  W1 of the per-sample Pearson correlations of two
                                                 features (at least two continuous features)
``flat/<feature>``                  flat         |synthetic - real| share of flat series: series
                                                 constant over the second half of their active
                                                 steps (:data:`FLAT_TOLERANCE`)
==================================  ===========  =================================================

Series figures are computed on the Dataset's encoded values of the continuous features, i.e.
globally scaled to [0, 1] or [-1, 1] by the feature's normalisation (the scale of the paper's
autocorrelation and Table 2), over each sample's active steps only; both Datasets must therefore
share the features' min/max (a model's generated data do). The autocorrelation curve is
:func:`.metrics.autocorrelation`: for each lag L the mean over samples of each sample's Pearson
correlation between x[:-L] and x[L:] (undefined, e.g. too short: 0), except that series
constant over all their active steps are left out of the average (their correlation is
undefined, not "no correlation"; without the exclusion a generator of flat series matched any
noisy real curve, whose correlations are near 0: issue 30); they count in the "flat" figure
instead, and a side with no other series has the curve 0. Discrete features have no series
figure.

Flat series. A series is flat where its values over the second half of its active steps
(rounded up, at least 2 steps) span at most :data:`FLAT_TOLERANCE` of the feature's scaled range
(1 for [0, 1], 2 for [-1, 1]): the tolerance is far above float32 rounding (6e-8 near 1), which
a generator whose output saturates or settles on a fixed point stays within, and far below the
span of a varying real series in the repository's data (MBA traffic: at least 0.001 over a
second half; MBA's other feature is exactly constant in 77% of its series: flat on both sides,
and in the real share the figure compares with). The second half, not the
whole series: a generator that starts a series and then settles on a constant (93% of the
series of a run kept at epoch 0 in issue 30, none of the real ones) shows it there. The figure
compares the shares; :func:`flat_share` gives each side's.

Per-dataset work (autocorrelation curves, per-sample statistics) is done once by
:func:`summarize`; :func:`compare` turns two summaries into the dict, so a caller comparing many
synthetic sets with one real set (the callback, the report's floor) summarises the real set once
and passes its :class:`FidelitySummary` as ``real`` to :func:`fidelity_metrics`.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

from .distances import autocorrelation_mse, jensen_shannon_divergence, wasserstein1
from .summary import (FLAT_TAIL, FLAT_TOLERANCE, METRIC_FAMILIES, SAMPLE_STATISTICS,
                      FidelitySummary, attribute_columns, average_curve, check_max_lag,
                      check_metric_families, check_same_specs, continuous_features, flat_share,
                      name_tuple, summarize)

# the summaries and their checks live in summary; they are importable from here too
__all__ = ["FLAT_TAIL", "FLAT_TOLERANCE", "FLOOR_SPLITS", "METRIC_FAMILIES", "MIN_FLOOR_FRACTION",
           "SAMPLE_STATISTICS", "FidelitySummary", "attribute_columns", "average_curve",
           "check_max_lag", "check_metric_families", "check_same_specs", "compare",
           "continuous_features", "fidelity_metrics", "figure_order", "flat_share",
           "minimum_floor", "noise_floors", "summarize"]


def _defined(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def _w1(a: np.ndarray, b: np.ndarray) -> float:
    """W1, or NaN where either side has no value (e.g. no sample of a category)."""
    return wasserstein1(a, b) if a.size and b.size else float("nan")


def compare(real: FidelitySummary, synthetic: FidelitySummary, by_category: bool = False,
            include_length: Optional[bool] = None) -> Dict[str, float]:
    """The figures (module docstring) between two summaries made with the same settings.

    by_category: also the W1 of each per-sample statistic within each category of each
    discrete attribute, ``w1_<statistic>/<feature>/<attribute>=<category>`` (NaN where either
    side has no sample of it). include_length: whether to report ``length_w1`` (default: when
    the real series vary in length, so the keys stay the same from call to call).
    """
    settings = ("families", "features", "attributes", "max_lag")
    for name in settings:
        if getattr(real, name) != getattr(synthetic, name):
            raise ValueError(f"the summaries were made with different {name}: "
                             f"{getattr(real, name)} vs {getattr(synthetic, name)}; summarise "
                             "both with the same settings")
    check_same_specs(real, synthetic)
    families = real.families
    result: Dict[str, float] = {}
    for f in real.acf:
        result[f"acf_mse/{f}"] = autocorrelation_mse(real.acf[f], synthetic.acf[f])
    for statistic, per_feature in real.statistics.items():
        for f, values in per_feature.items():
            result[f"w1_{statistic}/{f}"] = _w1(values, synthetic.statistics[statistic][f])
        if not by_category:
            continue
        for f, values in per_feature.items():
            for name, (labels, codes, _) in real.discrete.items():
                synthetic_codes = synthetic.discrete[name][1]
                synthetic_values = synthetic.statistics[statistic][f]
                for code, label in enumerate(labels):
                    result[f"w1_{statistic}/{f}/{name}={label}"] = _w1(
                        values[codes == code], synthetic_values[synthetic_codes == code])
    if "attribute" in families:
        for name, (_, _, counts) in real.discrete.items():
            result[f"jsd/{name}"] = jensen_shannon_divergence(counts, synthetic.discrete[name][2])
        for column, values in real.continuous.items():
            result[f"w1/{column}"] = _w1(values, synthetic.continuous[column])
    if include_length is None:
        include_length = real.lengths_vary
    if "length" in families and include_length:
        result["length_w1"] = wasserstein1(real.lengths, synthetic.lengths)
    for (a, b), values in real.correlations.items():
        # undefined correlations (a constant series) are left out, as feature_correlation does
        result[f"feature_corr/{a}~{b}"] = _w1(_defined(values),
                                              _defined(synthetic.correlations[(a, b)]))
    for f in real.flat:
        result[f"flat/{f}"] = abs(flat_share(synthetic, f) - flat_share(real, f))
    return result


# random halves the floor averages over: one split's floor is one noisy draw (report.py)
FLOOR_SPLITS = 5


# the smallest floor, as a share of each figure's unit (minimum_floor)
MIN_FLOOR_FRACTION = 1e-3


# figures that are squared differences: their sampling noise shrinks as 1/n, not 1/sqrt(n)
_SQUARED = ("acf_mse", "jsd")


def figure_order(key: str) -> int:
    """2 for a figure that grows as the square of a difference (the autocorrelation MSE, the
    JSD: both about a sum of squared differences of frequencies), 1 for the others (W1s, the
    difference of flat shares), whose sampling noise is about ``sqrt(1/m + 1/k)`` for samples
    of sizes m and k."""
    return 2 if key.split("/", 1)[0] in _SQUARED else 1


def _figure_unit(key: str, summary: FidelitySummary) -> float:
    """The unit a figure's smallest floor is a share of: the scaled range's width for the W1 of
    a level or a continuous attribute (times T for totals, sums over up to T steps), T for the
    lengths, 1 for the autocorrelation MSE, the JSD (bits), correlations and shares."""
    kind, _, rest = key.partition("/")
    if kind in ("w1_mean", "w1_midrange", "w1_total"):
        feature = next(f for f in summary.features if rest == f or rest.startswith(f + "/"))
        width = summary.widths[feature]
        return width * summary.max_length if kind == "w1_total" else width
    if kind == "w1":
        return summary.widths[rest]
    if kind == "length_w1":
        return float(summary.max_length)
    return 1.0


def minimum_floor(key: str, summary: FidelitySummary) -> float:
    """The smallest floor of a figure: (MIN_FLOOR_FRACTION x its unit) to the power of its
    order, e.g. 1e-3 of the scaled range for a W1 of levels, 1e-6 for the autocorrelation MSE
    (curves 0.001 apart at every lag) and the JSD, 1e-3 for the flat share. Far below the
    floors measured on the repository's data (ACF MSE 1e-4-5e-4, JSD 0.002-0.06, W1 of levels
    0.013-0.03 between halves of 250-300 samples), it bites where the real data barely vary:
    an attribute of one category, no flat real series, levels within 0.1% of the range (MBA's
    mostly-zero second feature: W1 of the mean 0.00065, raised to 0.001). There a ratio stays
    finite, and says how far the figure is from a difference nobody could see."""
    return (MIN_FLOOR_FRACTION * _figure_unit(key, summary)) ** figure_order(key)


def noise_floors(summary: FidelitySummary, compared: int, *, splits: int = FLOOR_SPLITS,
                 seed: int = 0, by_category: bool = False) -> Dict[str, float]:
    """The real-vs-real floor of each figure: what a generator drawing fresh real samples would
    score, so that figure / floor reads "times the noise".

    Each figure :func:`compare` gives is measured between two random halves of the
    summarised (real) samples (a fresh permutation per split), averaged over ``splits``
    splits (the finite values; NaN where none), then rescaled from the halves' sizes (a, b)
    to the comparison's (n = ``summary.num_samples``, ``compared``) by the way sampling noise
    shrinks with size: ``((1/n + 1/compared) / (1/a + 1/b)) ** (order / 2)``
    (:func:`figure_order`); e.g. x0.71 for a W1 and x0.5 for the ACF MSE when ``compared`` is
    n. Last, each floor is at least :func:`minimum_floor`.

    Args:
        summary: The real data's :class:`FidelitySummary`.
        compared: The number of samples the figures will compare with the summary's.
        splits: Random splits to average over.
        seed: Seeds the splits.
        by_category: Also the floors of the per-category W1s.

    Returns:
        {figure key: floor}.

    Raises:
        ValueError: When the summary holds fewer than 2 samples.
    """
    n = summary.num_samples
    if n < 2:
        raise ValueError(f"the floor needs at least 2 real samples (two halves), got {n}")
    rng = np.random.default_rng(seed)
    half = n // 2
    runs = []
    for _ in range(splits):
        order = rng.permutation(n)
        runs.append(compare(summary.subset(np.sort(order[:half])),
                            summary.subset(np.sort(order[half:])), by_category=by_category,
                            include_length=summary.lengths_vary))
    shrink = (1 / n + 1 / compared) / (1 / half + 1 / (n - half))
    floors = {}
    for key in runs[0]:
        finite = [run[key] for run in runs if np.isfinite(run[key])]
        if not finite:
            floors[key] = float("nan")
            continue
        floor = float(np.mean(finite)) * shrink ** (figure_order(key) / 2)
        floors[key] = max(floor, minimum_floor(key, summary))
    return floors


def fidelity_metrics(real, synthetic, metrics: Optional[Sequence[str]] = None,
                     features: Optional[Sequence[str]] = None, max_lag: Optional[int] = None,
                     *, attributes: Optional[Sequence[str]] = None,
                     by_category: bool = False) -> Dict[str, float]:
    """Distances between the real and the synthetic Dataset, one float per figure.

    Series figures are on the scaled encoded values ([0, 1] or [-1, 1]) over active steps.
    NaN marks a figure without data (e.g. no defined per-sample correlation).

    Args:
        real: The real Dataset, or a :class:`FidelitySummary` from :func:`summarize`
            (summarise the real data once when comparing it with many synthetic sets); the
            settings are then the summary's, and any given here must agree.
        synthetic: The synthetic Dataset, with the same specs.
        metrics: Metric families; default: all of :data:`METRIC_FAMILIES`.
        features: Continuous features (raw column names); default: all.
        max_lag: Autocorrelation lags 1..max_lag; default: T - 2.
        attributes: Attribute names; default: all.
        by_category: Also the per-sample statistics' W1 within each category of each discrete
            attribute (keys ``w1_<statistic>/<feature>/<attribute>=<category>``).

    Returns:
        {key: float}, with the keys of the module docstring.

    Raises:
        ValueError: For Datasets of different specs (naming the first difference), or
            settings that differ from a given summary's.
    """
    if isinstance(real, FidelitySummary):
        given = {"metrics": (check_metric_families(metrics) if metrics is not None else None,
                             real.families),
                 "features": (name_tuple(features), real.features),
                 "max_lag": (max_lag, real.max_lag),
                 "attributes": (name_tuple(attributes), real.attributes)}
        for name, (value, used) in given.items():
            if value is not None and value != used:
                raise ValueError(f"{name}={value!r} differs from the real summary's {used!r}; "
                                 "pass None to use the summary's settings")
        check_same_specs(real, synthetic)
        return compare(real, summarize(synthetic, real.families, real.features, real.max_lag,
                                       real.attributes), by_category=by_category)
    check_same_specs(real, synthetic)
    return compare(summarize(real, metrics, features, max_lag, attributes),
                   summarize(synthetic, metrics, features, max_lag, attributes),
                   by_category=by_category)
