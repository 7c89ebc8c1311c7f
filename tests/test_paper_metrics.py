"""The paper's evaluation metrics (doppelganger_tf.evaluation) beyond the autocorrelation and
JSD basics (tests/test_autocorrelation_and_jsd.py): Wasserstein distances, histograms, correlations,
CDF distances, classifiers, ranking, forecasting, nearest neighbours and the plots."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.dataset import Dataset
from doppelganger_tf.evaluation import (
    attribute_categories, attribute_histogram, attribute_jsd, cdf_distances,
    classifier_accuracies, correlation_distances, empirical_cdf, feature_correlation,
    feature_midrange, feature_series, feature_totals, forecasting_r2, forecasting_windows,
    ks_statistic, length_distances, length_histogram, length_jsd, length_wasserstein,
    midrange_wasserstein, nearest_neighbours, pearson_per_sample, plot_accuracies,
    plot_attribute_histograms, plot_autocorrelation, plot_cdfs, plot_length_histograms,
    plot_nearest_neighbours, ranking_correlation, series_matrix, series_midrange,
    series_totals, shared_histograms, totals_wasserstein, wasserstein1,
    wasserstein_by_attribute)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- a tiny real / generated pair (bandwidth in 0..10, technology DSL or cable) -------------------

def _real():
    values = np.array([[0, 1, 1], [2, 2, 2], [10, 0, 0], [5, 5, 99]], float)[..., None]
    attrs = pd.DataFrame({"tech": ["DSL", "DSL", "cable", "cable"]})
    # sample 3 ends after 2 steps: its 99 is padding and must be ignored
    return Dataset.from_arrays(values, attrs, feature_names=["bw"], discrete_attributes=["tech"],
                               lengths=np.array([3, 3, 3, 2]))


def _generated(real, values, techs, lengths=None):
    return Dataset.from_arrays(np.asarray(values, float)[..., None], pd.DataFrame({"tech": techs}),
                               feature_outputs=real.feature_outputs,
                               attribute_outputs=real.attribute_outputs, lengths=lengths,
                               **real.scaling())


@pytest.fixture
def pair():
    real = _real()
    # DSL totals 3, 7 (real 2, 6: shifted by 1); cable totals 12, 12 (real 10, 10)
    gen = _generated(real, [[1, 1, 1], [3, 2, 2], [4, 4, 4], [4, 4, 4]],
                     ["DSL", "DSL", "cable", "cable"])
    return real, gen


def test_wasserstein_of_a_shifted_sample_is_the_shift():
    x = np.random.default_rng(0).normal(size=50)
    assert wasserstein1(x, x + 2.5) == pytest.approx(2.5)
    assert totals_wasserstein(x, x - 0.75) == pytest.approx(0.75)
    assert wasserstein1([0.0], [0.0, 1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="NaN"):
        wasserstein1([np.nan, 1.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        wasserstein1([], [1.0])


def test_feature_totals_scaled_and_real(pair):
    real, _ = pair
    np.testing.assert_allclose(feature_totals(real, "bw", scaled=False), [2, 6, 10, 10])
    np.testing.assert_allclose(feature_totals(real, "bw"), [0.2, 0.6, 1.0, 1.0], atol=1e-6)
    series = feature_series(real, "bw", scaled=False)
    assert np.isnan(series[3, 2]) and series[3, 1] == 5
    with pytest.raises(ValueError, match="no feature named"):
        feature_totals(real, "nope")
    with pytest.raises(ValueError, match="no feature named"):
        feature_totals(real, "tech")  # an attribute, not a feature
    with_state = Dataset.from_arrays(np.array([[[1.0, 0], [2.0, 1]]]), feature_names=["x", "on"],
                                     discrete_features=["on"])
    with pytest.raises(ValueError, match="discrete"):
        feature_totals(with_state, "on")


def test_wasserstein_by_attribute(pair):
    real, gen = pair
    scaled = wasserstein_by_attribute(real, gen, "bw", "tech")
    assert list(scaled) == ["DSL", "cable"]
    assert scaled["DSL"] == pytest.approx(0.1, abs=1e-6)
    assert scaled["cable"] == pytest.approx(0.2, abs=1e-6)
    units = wasserstein_by_attribute(real, gen, "bw", "tech", scaled=False)
    assert units == pytest.approx({"DSL": 1.0, "cable": 2.0})
    ranged = wasserstein_by_attribute(real, gen, "bw", "tech", values=["DSL"], scaled=False,
                                      normalize="range")  # real totals span 2..10
    assert ranged == pytest.approx({"DSL": 1 / 8})
    with pytest.raises(ValueError, match="not categories"):
        wasserstein_by_attribute(real, gen, "bw", "tech", values=["fibre"])
    with pytest.raises(ValueError, match="normalize"):
        wasserstein_by_attribute(real, gen, "bw", "tech", normalize="zscore")


def test_wasserstein_by_attribute_missing_category_is_nan(pair):
    real, _ = pair
    only_dsl = _generated(real, [[1, 1, 1]], ["DSL"])
    result = wasserstein_by_attribute(real, only_dsl, "bw", "tech", scaled=False)
    # real DSL totals 2, 6 vs generated 3: |F - G| is 1/2 on [2, 3] and 1/2 on [3, 6]
    assert result["DSL"] == pytest.approx(0.5 * 1 + 0.5 * 3)
    assert np.isnan(result["cable"])


def test_attribute_histogram_and_jsd(pair):
    real, gen = pair
    assert attribute_categories(real, "tech") == ["DSL", "cable"]
    np.testing.assert_array_equal(attribute_histogram(real, "tech"), [2, 2])
    assert attribute_jsd(real, gen, "tech") == pytest.approx(0.0)
    only_dsl = _generated(real, [[1, 1, 1]], ["DSL"])
    np.testing.assert_array_equal(attribute_histogram(only_dsl, "tech"), [1, 0])
    # real half/half vs all DSL: 0.5*KL([.5,.5]||[.75,.25]) + 0.5*KL([1,0]||[.75,.25])
    expected = 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)) \
        + 0.5 * np.log2(1 / 0.75)
    assert attribute_jsd(real, only_dsl, "tech") == pytest.approx(expected)
    with pytest.raises(ValueError, match="no attribute named"):
        attribute_histogram(real, "isp")


def test_jsd_identical_and_disjoint_lengths():
    assert length_jsd([1, 2, 2, 3], [3, 2, 1, 2], 3) == pytest.approx(0.0)
    assert length_jsd([1, 1], [3, 3], 3) == pytest.approx(1.0)


def test_length_histograms(pair):
    real, gen = pair
    np.testing.assert_array_equal(length_histogram(real.lengths, 3), [0, 1, 3])
    np.testing.assert_array_equal(length_histogram([1, 4, 4, 2], 5), [1, 1, 0, 2, 0])
    with pytest.raises(ValueError, match="1..3"):
        length_histogram([0, 2], 3)
    assert length_wasserstein([1, 2, 3], [2, 3, 4]) == pytest.approx(1.0)
    distances = length_distances(real, gen)  # real lengths 3,3,3,2 vs generated all 3
    assert distances["wasserstein"] == pytest.approx(0.25)
    assert 0 < distances["jsd"] < 1


def test_midrange(pair):
    x = np.array([[1.0, 5.0, 3.0], [2.0, -4.0, np.nan]])
    np.testing.assert_allclose(series_midrange(x), [3.0, -1.0])
    np.testing.assert_allclose(series_midrange(x, lengths=np.array([3, 1])), [3.0, 2.0])
    np.testing.assert_allclose(series_totals(x), [9.0, -2.0])
    real, gen = pair
    np.testing.assert_allclose(feature_midrange(real, "bw", scaled=False), [0.5, 2, 5, 5])
    # generated midranges 1, 2.5, 4, 4 vs real 0.5, 2, 5, 5 (sorted pairwise gaps .5 .5 1 1)
    assert midrange_wasserstein(real, gen, "bw", scaled=False) == pytest.approx(0.75)
    assert midrange_wasserstein(real, gen, "bw") == pytest.approx(0.075, abs=1e-6)
    counts, edges = shared_histograms({"real": [0.5, 2, 5, 5], "gen": [1, 2.5, 4, 4]}, bins=3,
                                      value_range=(0, 6))
    np.testing.assert_array_equal(edges, [0, 2, 4, 6])
    np.testing.assert_array_equal(counts["real"], [1, 1, 2])
    np.testing.assert_array_equal(counts["gen"], [1, 1, 2])


def _two_feature_dataset(a, b, lengths=None):
    return Dataset.from_arrays(np.stack([a, b], axis=-1), feature_names=["cpu", "mem"],
                               lengths=lengths)


def test_feature_correlation_perfect_and_anti():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 10))
    pos = _two_feature_dataset(a, 2 * a + 1)
    np.testing.assert_allclose(feature_correlation(pos, "cpu", "mem"), np.ones(6))
    neg = _two_feature_dataset(a, -3 * a)
    np.testing.assert_allclose(feature_correlation(neg, "cpu", "mem"), -np.ones(6))
    # an undefined correlation (constant series, or a single step) is dropped
    b = a.copy()
    b[2] = 7.0
    lengths = np.full(6, 10)
    lengths[4] = 1
    mixed = _two_feature_dataset(a, b, lengths)
    corr = feature_correlation(mixed, "cpu", "mem")
    assert corr.shape == (4,)
    np.testing.assert_allclose(corr, 1.0)
    raw = pearson_per_sample(a, b, lengths)
    assert np.isnan(raw[2]) and np.isnan(raw[4])
    distances = correlation_distances(pos, neg, "cpu", "mem")
    assert distances == pytest.approx({"ks": 1.0, "wasserstein": 2.0})


def test_ks_and_cdf_distances():
    x = np.random.default_rng(2).normal(size=40)
    assert ks_statistic(x, x) == 0.0
    assert cdf_distances(x, x) == {"ks": 0.0, "wasserstein": 0.0}
    assert ks_statistic([0, 1], [5, 6]) == 1.0
    values, fractions = empirical_cdf([3, 1, 2, 2])
    np.testing.assert_array_equal(values, [1, 2, 2, 3])
    np.testing.assert_allclose(fractions, [0.25, 0.5, 0.75, 1.0])


# --- downstream -----------------------------------------------------------------------------------

def _labelled(rng, n, t=8):
    labels = np.array(["idle", "busy"])[np.arange(n) % 2]
    values = rng.normal(0.0, 0.3, size=(n, t, 1)) + 3.0 * (labels == "busy")[:, None, None]
    return Dataset.from_arrays(values, pd.DataFrame({"state": labels}),
                               feature_names=["load"], discrete_attributes=["state"])


def test_classifier_accuracies_on_separable_data():
    rng = np.random.default_rng(3)
    train, test = _labelled(rng, 60), _labelled(rng, 40)
    acc = classifier_accuracies(train, test, "state", max_iter=100)
    assert set(acc) == {"mlp", "naive_bayes", "logistic_regression", "decision_tree",
                        "linear_svm"}
    assert sum(a > 0.9 for a in acc.values()) >= 4, acc
    # a training set with one class: every model predicts it (half the test set is right)
    one_class = train.subset(np.flatnonzero(np.arange(60) % 2 == 0))
    assert set(classifier_accuracies(one_class, test, "state").values()) == {0.5}


def test_series_matrix_real_units_and_padding(pair):
    real, _ = pair
    x = series_matrix(real)
    assert x.shape == (4, 3)
    np.testing.assert_allclose(x[3], [5, 5, 0])  # zero after the end, not 99
    np.testing.assert_allclose(series_matrix(real, scaled=True)[3], [0.5, 0.5, 0], atol=1e-6)


def test_ranking_correlation():
    real = {"mlp": 0.9, "naive_bayes": 0.6, "logistic_regression": 0.8, "decision_tree": 0.7}
    assert ranking_correlation(real, dict(real)) == pytest.approx(1.0)
    same_order = {k: v / 2 for k, v in real.items()}
    assert ranking_correlation(real, same_order) == pytest.approx(1.0)
    reversed_ = {k: -v for k, v in real.items()}
    assert ranking_correlation(real, reversed_) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="different algorithms"):
        ranking_correlation(real, {"mlp": 0.5})


def _sines(rng, n, t=60):
    steps = np.arange(t)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    amplitude = rng.uniform(0.5, 2.0, size=(n, 1))
    return amplitude * np.sin(2 * np.pi * steps / 12 + phase)


def test_forecasting_r2_on_a_sine():
    rng = np.random.default_rng(4)
    train = Dataset.from_arrays(_sines(rng, 80)[..., None], feature_names=["views"])
    test = Dataset.from_arrays(_sines(rng, 30)[..., None], feature_names=["views"])
    r2 = forecasting_r2(train, test, "views", history=40, horizon=10, max_iter=50)
    assert set(r2) == {"mlp", "linear_regression", "kernel_ridge"}
    assert r2["linear_regression"] > 0.9, r2
    assert all(np.isfinite(v) for v in r2.values())


def test_forecasting_windows_skip_short_series():
    x = np.arange(12, dtype=float).reshape(2, 6)
    x[1, 4:] = np.nan  # sample 1 has only 4 steps
    inputs, targets = forecasting_windows(x, history=3, horizon=2)
    np.testing.assert_array_equal(inputs, [[0, 1, 2]])
    np.testing.assert_array_equal(targets, [[3, 4]])
    with pytest.raises(ValueError, match="exceeds"):
        forecasting_windows(x, history=5, horizon=2)


# --- memorisation ---------------------------------------------------------------------------------

def _brute_force(generated, real, k):
    d = ((generated[:, None, :] - real[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


@pytest.mark.parametrize("block_size", [1, 3, 1024])
def test_nearest_neighbours_exact(block_size):
    rng = np.random.default_rng(5)
    real = rng.normal(size=(10, 6)) * 100
    generated = np.stack([real[3], real[7] + 0.01, rng.normal(size=6) * 100])
    indices, distances = nearest_neighbours(generated, real, k=3, block_size=block_size)
    assert indices.shape == distances.shape == (3, 3)
    assert indices[0, 0] == 3 and distances[0, 0] == 0.0
    assert indices[1, 0] == 7 and distances[1, 0] == pytest.approx(6 * 0.01 ** 2)
    expected_idx, expected_d = _brute_force(generated, real, 3)
    np.testing.assert_array_equal(indices, expected_idx)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-12)


def test_nearest_neighbours_blocks_shapes_and_ties():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(37, 4, 2))  # [N, T, K] is flattened
    generated = rng.normal(size=(23, 4, 2))
    indices, distances = nearest_neighbours(generated, real, k=5, block_size=4)
    expected_idx, expected_d = _brute_force(generated.reshape(23, -1), real.reshape(37, -1), 5)
    np.testing.assert_array_equal(indices, expected_idx)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-10)
    twins = np.zeros((4, 3))  # all tied: lower index first; k capped at N
    indices, distances = nearest_neighbours(np.zeros((1, 3)), twins, k=9, block_size=2)
    np.testing.assert_array_equal(indices, [[0, 1, 2, 3]])
    np.testing.assert_array_equal(distances, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbours(np.full((1, 3), np.nan), twins)
    with pytest.raises(ValueError, match="differ in size"):
        nearest_neighbours(np.zeros((1, 2)), twins)


# --- plots ----------------------------------------------------------------------------------------

def _is_png(path):
    data = path.read_bytes()
    return len(data) > 100 and data[:8] == PNG_SIGNATURE


@pytest.mark.filterwarnings("ignore:.*deprecated - use:DeprecationWarning")  # pyparsing 3.3
def test_plots_write_png(tmp_path):
    rng = np.random.default_rng(7)
    curve = np.cos(np.arange(1, 20) / 3)
    paths = [
        plot_autocorrelation({"real": curve, "DoppelGANger": curve * 0.9}, tmp_path / "fig1.png"),
        plot_cdfs({"real": rng.normal(size=30), "generated": [np.nan, *rng.normal(size=30)]},
                  tmp_path / "fig7.png", xlabel="Total bandwidth"),
        plot_attribute_histograms({"real": [3, 5], "generated": [4, 4]}, ["DSL", "cable"],
                                  tmp_path / "fig5.png"),
        plot_length_histograms({"real": [0, 1, 3], "generated": [1, 1, 2]},
                               tmp_path / "sub" / "fig9.png"),
        plot_nearest_neighbours(rng.normal(size=(4, 12)), rng.normal(size=(9, 12)),
                                np.array([[1, 2, 3]] * 4), tmp_path / "fig21.png",
                                num_samples=2),
        plot_accuracies({"real": {"mlp": 0.9, "decision_tree": 0.8},
                         "DoppelGANger": {"mlp": 0.85, "decision_tree": 0.7}},
                        tmp_path / "fig13.png"),
    ]
    for path in paths:
        assert _is_png(path), path
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in paths)  # no temporary files left behind
    with pytest.raises(ValueError, match="match the categories"):
        plot_attribute_histograms({"real": [1, 2, 3]}, ["a", "b"], tmp_path / "bad.png")


def test_evaluation_does_not_import_tensorflow_or_matplotlib():
    code = ("import sys, doppelganger_tf.evaluation; "
            "print('tensorflow' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
