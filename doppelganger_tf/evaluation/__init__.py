"""The paper's fidelity, downstream and memorisation metrics (its fidelity evaluation, section
5), its membership-inference attack (section 6.1, docs/membership.md), and plots.

numpy / scipy / scikit-learn only (matplotlib imported inside the plotting functions); importing
this package never imports TensorFlow.

- :mod:`.metrics`: autocorrelation, Wasserstein-1, Jensen-Shannon, Kolmogorov-Smirnov; attribute,
  length and (max+min)/2 histograms; per-sample totals, flat series and feature correlations.
- :mod:`.downstream`: train-on-generated / test-on-real classification and forecasting.
- :mod:`.memorization`: nearest real neighbours of generated samples.
- :mod:`.membership`: the critic-score membership-inference attack (Figure 15).
- :mod:`.plots`: PNG figures mirroring the paper's.
- :mod:`.fidelity`: the fidelity figures of any two Datasets as one flat dict
  (:func:`fidelity_metrics`; the fidelity callback logs them during training) and their
  real-vs-real floors (:func:`noise_floors`).
- :mod:`.report`: :func:`evaluate`, a report of every figure beside its real-vs-real floor
  (report.json, report.md, PNG figures; docs/evaluation.md).
"""
from .downstream import (CLASSIFIER_NAMES, REGRESSOR_NAMES, classifier_accuracies,
                         evaluate_classifiers, evaluate_regressors, forecasting_r2,
                         forecasting_windows, make_classifiers, make_regressors,
                         ranking_correlation, series_matrix)
from .fidelity import (METRIC_FAMILIES, FidelitySummary, check_metric_families,
                       fidelity_metrics, flat_share, noise_floors, summarize)
from .membership import critic_scores, threshold_attack
from .memorization import nearest_neighbours
from .metrics import (attribute_categories, attribute_codes, attribute_histogram, attribute_jsd,
                      autocorrelation, autocorrelation_mse, cdf_distances,
                      correlation_distances, empirical_cdf, feature_correlation,
                      feature_midrange, feature_series, feature_totals, flat_samples,
                      jensen_shannon_divergence, ks_statistic, length_distances,
                      length_histogram, length_jsd, length_wasserstein, midrange_wasserstein,
                      pearson_per_sample, series_midrange, series_totals, shared_histograms,
                      totals_wasserstein, wasserstein1, wasserstein_by_attribute)
from .plots import (plot_accuracies, plot_attribute_histograms, plot_autocorrelation, plot_cdfs,
                    plot_length_histograms, plot_membership, plot_nearest_neighbours)
from .report import evaluate

__all__ = [
    # fidelity report and its metric layer
    "evaluate", "fidelity_metrics", "METRIC_FAMILIES", "check_metric_families", "summarize",
    "FidelitySummary", "noise_floors", "flat_share",
    # metrics
    "autocorrelation", "autocorrelation_mse", "jensen_shannon_divergence", "wasserstein1",
    "totals_wasserstein", "ks_statistic", "cdf_distances", "empirical_cdf", "shared_histograms",
    "series_totals", "series_midrange", "flat_samples", "pearson_per_sample", "length_histogram",
    "length_jsd", "length_wasserstein", "feature_series", "feature_totals", "feature_midrange",
    "feature_correlation", "attribute_categories", "attribute_codes", "attribute_histogram",
    "attribute_jsd", "wasserstein_by_attribute", "midrange_wasserstein", "length_distances",
    "correlation_distances",
    # downstream
    "CLASSIFIER_NAMES", "REGRESSOR_NAMES", "series_matrix", "forecasting_windows",
    "make_classifiers", "make_regressors", "evaluate_classifiers", "evaluate_regressors",
    "classifier_accuracies", "ranking_correlation", "forecasting_r2",
    # memorisation
    "nearest_neighbours",
    # membership inference
    "critic_scores", "threshold_attack",
    # plots
    "plot_autocorrelation", "plot_cdfs", "plot_attribute_histograms", "plot_length_histograms",
    "plot_nearest_neighbours", "plot_accuracies", "plot_membership",
]
