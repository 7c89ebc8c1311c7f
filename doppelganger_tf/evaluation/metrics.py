"""Metrics comparing generated and real time series (numpy/scipy only; no TensorFlow).

The Dataset-level helpers are defined here (``feature_*``, ``attribute_*``, ``*_by_attribute``,
``*_distances``): they pick the columns out of :class:`doppelganger_tf.data.dataset.Dataset` objects
and call the array-level functions, which take plain arrays ([N, T] series, 1-D samples,
histograms) and live in :mod:`~doppelganger_tf.evaluation.series_statistics` (statistics of
series) and :mod:`~doppelganger_tf.evaluation.distances` (distances between samples and
histograms); every one is importable from here.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..data.outputs import output_blocks
from .distances import (autocorrelation_mse, cdf_distances, empirical_cdf,
                        jensen_shannon_divergence, ks_statistic, length_jsd, length_wasserstein,
                        shared_histograms, totals_wasserstein, wasserstein1)
from .series_statistics import (AUTOCORRELATION_BLOCK, autocorrelation, flat_samples,
                                length_histogram, pearson_per_sample, series_midrange,
                                series_totals)

# the array-level functions live in series_statistics and distances; all are importable from here
__all__ = [
    "AUTOCORRELATION_BLOCK", "autocorrelation", "autocorrelation_mse", "jensen_shannon_divergence",
    "wasserstein1", "totals_wasserstein", "ks_statistic", "cdf_distances", "empirical_cdf",
    "shared_histograms", "series_totals", "series_midrange", "flat_samples", "pearson_per_sample",
    "length_histogram", "length_jsd", "length_wasserstein", "feature_column", "feature_series",
    "feature_totals", "feature_midrange", "feature_correlation", "attribute_categories",
    "attribute_codes", "attribute_histogram", "same_categories", "attribute_jsd",
    "wasserstein_by_attribute", "midrange_wasserstein", "length_distances",
    "correlation_distances",
]


def feature_column(dataset, feature_name: str) -> Tuple[object, int]:
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
    _, column = feature_column(dataset, feature_name)
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


def same_categories(real_ds, gen_ds, name: str) -> List:
    """The categories of attribute ``name``, which both Datasets must share (a ValueError
    naming both lists otherwise)."""
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
    same_categories(real_ds, gen_ds, name)
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
    categories = same_categories(real_ds, gen_ds, attribute_name)
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
