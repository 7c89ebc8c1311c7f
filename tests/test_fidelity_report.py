"""The fidelity figures (evaluation.fidelity), the report beside its real-vs-real floor
(evaluation.report.evaluate) and its command line (python -m doppelganger_tf.evaluate), on tiny
hand-made data with known values."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.evaluation import (METRIC_FAMILIES, check_metric_families, evaluate,
                                        fidelity_metrics, jensen_shannon_divergence, summarize)
from doppelganger_tf.evaluation.fidelity import compare, flat_share
from doppelganger_tf.outputs import Normalization, Output, OutputType

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make(series, lengths=None, groups=None, level=None, names=("x",), categories=("A", "B")):
    """A Dataset of already scaled values: ``series`` [N, T] or [N, T, K] in [0, 1] (features
    ``names``), a discrete attribute "group" (category indices ``groups``, default all 0) and a
    continuous attribute "level" (default 0.5)."""
    x = np.asarray(series, np.float32)
    x = x[..., None] if x.ndim == 2 else x
    n, t, _ = x.shape
    lengths = np.full(n, t) if lengths is None else np.asarray(lengths)
    flags = (np.arange(t)[None, :] < lengths[:, None]).astype(np.float32)
    groups = np.zeros(n, int) if groups is None else np.asarray(groups)
    level = np.full(n, 0.5) if level is None else np.asarray(level)
    attributes = np.concatenate([np.eye(len(categories))[groups], level[:, None]], axis=1)
    return Dataset(x * flags[..., None], attributes, flags,
                   [Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name=name)
                    for name in names],
                   [Output(OutputType.DISCRETE, len(categories), name="group",
                           categories=categories),
                    Output(OutputType.CONTINUOUS, 1, Normalization.ZERO_ONE, name="level")])


def sines(n, t=40, period=8, seed=0, shift=0.0):
    """Sines of the period with random phases and amplitudes, scaled into [0, 1]; two features
    (the second a noisy copy of the first), random groups, levels and lengths."""
    rng = np.random.default_rng(seed)
    steps = np.arange(t)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    amplitude = rng.uniform(0.1, 0.3, (n, 1))
    x = 0.5 + shift + amplitude * np.sin(2 * np.pi * steps / period + phase)
    y = np.clip(x + 0.05 * rng.normal(size=x.shape), 0, 1)
    return make(np.stack([x, y], axis=2), lengths=rng.integers(t // 2, t + 1, n),
                groups=rng.integers(0, 2, n), level=rng.uniform(0, 1, n), names=("x", "y"))


# --- fidelity_metrics: known values ---------------------------------------------------------------

def test_identical_data_give_zero_for_every_distance():
    real = sines(30)
    scores = fidelity_metrics(real, real)
    assert set(scores) == {"acf_mse/x", "acf_mse/y", "w1_mean/x", "w1_mean/y", "w1_total/x",
                           "w1_total/y", "w1_midrange/x", "w1_midrange/y", "jsd/group",
                           "w1/level", "length_w1", "feature_corr/x~y", "flat/x", "flat/y"}
    assert all(value == pytest.approx(0.0, abs=1e-12) for value in scores.values()), scores
    by_category = compare(summarize(real), summarize(real), by_category=True)
    assert "w1_total/x/group=A" in by_category and "w1_midrange/y/group=B" in by_category
    assert all(value == pytest.approx(0.0, abs=1e-12) for value in by_category.values())


def test_constant_series_have_known_statistics_and_no_autocorrelation():
    real = make(np.array([[0.2] * 6, [0.4] * 6]), lengths=[6, 3])
    synthetic = make(np.array([[0.3] * 6, [0.5] * 6]), lengths=[6, 3])
    scores = fidelity_metrics(real, synthetic)
    assert scores["acf_mse/x"] == 0  # every curve is 0: undefined for a constant
    assert scores["w1_mean/x"] == pytest.approx(0.1)
    assert scores["w1_midrange/x"] == pytest.approx(0.1)
    # totals over the active steps only: real 1.2, 1.2; synthetic 1.8, 1.5
    assert scores["w1_total/x"] == pytest.approx((0.6 + 0.3) / 2)
    assert scores["length_w1"] == 0
    assert "feature_corr/x~x" not in scores  # one feature: no pair


def test_flat_series_are_counted_and_left_out_of_the_autocorrelation():
    """Flat: constant (within 1e-6 of the scaled range) over the second half of the active
    steps. Flat over all of it: also left out of the average autocorrelation curve, which is
    then the curve of the varying series alone, not pulled towards 0."""
    t = np.arange(12)
    wave = 0.5 + 0.4 * np.sin(2 * np.pi * t / 4 + np.array([[0.0], [1.0]]))
    settles = wave[0].copy()
    settles[6:] = 0.3  # varies, then settles: flat over its second half only
    almost = np.full(12, 0.7)
    almost[::2] += 5e-7  # a span of 5e-7: within the tolerance
    real = make(np.vstack([wave, [settles]]))
    synthetic = make(np.vstack([wave, [settles], np.full((2, 12), 0.2), [almost]]))
    real_summary, synthetic_summary = summarize(real), summarize(synthetic)
    np.testing.assert_array_equal(synthetic_summary.flat["x"], [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(synthetic_summary.constant["x"], [0, 0, 0, 1, 1, 1])
    assert flat_share(real_summary, "x") == pytest.approx(1 / 3)
    assert flat_share(synthetic_summary, "x") == pytest.approx(4 / 6)
    scores = compare(real_summary, synthetic_summary)
    assert scores["flat/x"] == pytest.approx(1 / 3)
    # the three constant series are left out: the same curve as the real data's
    np.testing.assert_allclose(synthetic_summary.acf["x"], real_summary.acf["x"], atol=1e-12)
    assert scores["acf_mse/x"] == pytest.approx(0, abs=1e-12)
    # a subset recomputes the curve without the constant series too
    np.testing.assert_allclose(synthetic_summary.subset([0, 3, 4]).acf["x"],
                               summarize(synthetic.subset([0, 3, 4])).acf["x"], atol=1e-12)
    # lengths: the second half of 5 active steps is the last 3; one step is never flat
    short = make(np.array([[0.1, 0.9, 0.4, 0.4, 0.4, 0.8], [0.2] * 6]), lengths=[5, 1])
    np.testing.assert_array_equal(summarize(short, ["flat"]).flat["x"], [1, 0])


def test_a_sine_has_autocorrelation_one_at_its_period_and_minus_one_at_half():
    # T - lag is a multiple of 4 (half the period) at lags 4 and 8: the correlation is exact
    t = np.arange(40)
    real = make(0.5 + 0.4 * np.sin(2 * np.pi * t / 8 + np.array([[0.0], [1.0], [2.5]])))
    curve = summarize(real, ["acf"]).acf["x"]
    assert curve.shape == (38,)
    # float32 storage rounds the values: equal to float32 precision
    assert curve[7] == pytest.approx(1.0, abs=1e-6)
    assert curve[3] == pytest.approx(-1.0, abs=1e-6)
    flat = make(np.full((3, 40), 0.5))
    assert fidelity_metrics(real, flat, ["acf"]) == {
        "acf_mse/x": pytest.approx(np.mean(curve ** 2))}
    assert fidelity_metrics(real, flat, ["acf"], max_lag=8) == {
        "acf_mse/x": pytest.approx(np.mean(curve[:8] ** 2))}


def test_attributes_lengths_and_correlations_have_known_distances():
    ramp = np.linspace(0.1, 0.9, 8)
    real = make(np.stack([np.tile(ramp, (4, 1))] * 2, axis=2), lengths=[4, 6, 8, 8],
                groups=[0, 0, 1, 1], level=[0.0, 0.25, 0.5, 0.5], names=("a", "b"))
    # b runs against a (correlation -1 instead of 1), lengths one step longer (the last
    # stays at 8), groups all A, levels 0.25 higher
    opposite = np.stack([np.tile(ramp, (4, 1)), np.tile(ramp[::-1], (4, 1))], axis=2)
    synthetic = make(opposite, lengths=[5, 7, 8, 8], groups=[0, 0, 0, 0],
                     level=[0.25, 0.5, 0.75, 0.75], names=("a", "b"))
    scores = fidelity_metrics(real, synthetic, ["attribute", "length", "correlation"])
    assert scores["jsd/group"] == pytest.approx(jensen_shannon_divergence([2, 2], [4, 0]))
    assert scores["jsd/group"] == pytest.approx(0.311278, abs=1e-6)
    assert scores["w1/level"] == pytest.approx(0.25)
    assert scores["length_w1"] == pytest.approx(0.5)
    assert scores["feature_corr/a~b"] == pytest.approx(2.0)
    assert set(scores) == {"jsd/group", "w1/level", "length_w1", "feature_corr/a~b"}


def test_per_category_distances_compare_the_samples_of_each_category():
    real = make(np.array([[0.1] * 4, [0.2] * 4, [0.5] * 4, [0.7] * 4]), groups=[0, 0, 1, 1])
    # A shifted by 0.1; no B sample at all
    synthetic = make(np.array([[0.2] * 4, [0.3] * 4]), groups=[0, 0])
    scores = compare(summarize(real, ["mean"]), summarize(synthetic, ["mean"]),
                     by_category=True)
    assert scores["w1_mean/x/group=A"] == pytest.approx(0.1)
    assert np.isnan(scores["w1_mean/x/group=B"])


def test_length_w1_only_when_the_real_lengths_vary():
    real = make(np.full((2, 5), 0.5))
    synthetic = make(np.full((2, 5), 0.5), lengths=[2, 5])
    assert "length_w1" not in fidelity_metrics(real, synthetic, ["length"])
    assert fidelity_metrics(synthetic, real, ["length"]) == {"length_w1": 1.5}


def test_features_and_families_are_checked():
    assert check_metric_families(None) == METRIC_FAMILIES
    assert check_metric_families(["length", "acf"]) == ("acf", "length")
    with pytest.raises(ValueError, match=r"unknown metric families \['acfs'\]; choose from acf, "
                                         r"mean, total, midrange, attribute, length, correlation, "
                                         r"flat"):
        check_metric_families(["acf", "acfs"])
    real = sines(6)
    with pytest.raises(ValueError, match="no feature named 'z'"):
        fidelity_metrics(real, real, features=["z"])
    with pytest.raises(ValueError, match="max_lag must be an integer in 1..T-2 = 38"):
        fidelity_metrics(real, real, max_lag=39)
    with pytest.raises(ValueError, match="no attribute named"):
        fidelity_metrics(real, real, attributes=["colour"])
    assert set(fidelity_metrics(real, real, ["mean"], features="y")) == {"w1_mean/y"}


@pytest.mark.parametrize("synthetic, message", [
    (make(np.full((2, 6), 0.5)), "the series length T"),
    (make(np.full((2, 5), 0.5), names=("z",)), r"feature names: \['x'\] vs \['z'\]"),
    (make(np.full((2, 5), 0.5), categories=("A", "C")), "attribute 'group'"),
])
def test_data_of_other_specs_are_refused_naming_the_first_difference(synthetic, message):
    real = make(np.full((2, 5), 0.5))
    with pytest.raises(ValueError, match=f"the real and synthetic data differ in {message}"):
        fidelity_metrics(real, synthetic)
    with pytest.raises(ValueError, match=message):
        evaluate(real, synthetic)


def test_a_real_summary_computed_once_gives_the_same_figures():
    real, synthetic = sines(20, seed=0), sines(15, seed=1, shift=0.1)
    summary = summarize(real, ["acf", "total"], ["x"], max_lag=10)
    assert fidelity_metrics(summary, synthetic) == fidelity_metrics(real, synthetic,
                                                                    ["acf", "total"], ["x"], 10)
    with pytest.raises(ValueError, match="differs from the real summary"):
        fidelity_metrics(summary, synthetic, max_lag=5)


def test_a_summary_subset_is_the_summary_of_the_subset():
    real = sines(25, seed=4)
    indices = [1, 3, 4, 10, 20, 24]
    picked, direct = summarize(real).subset(indices), summarize(real.subset(indices))
    for f in ("x", "y"):
        np.testing.assert_allclose(picked.acf[f], direct.acf[f], rtol=0, atol=1e-12)
        for statistic in ("mean", "total", "midrange"):
            np.testing.assert_array_equal(picked.statistics[statistic][f],
                                          direct.statistics[statistic][f])
    np.testing.assert_array_equal(picked.discrete["group"][2], direct.discrete["group"][2])
    np.testing.assert_array_equal(picked.correlations[("x", "y")],
                                  direct.correlations[("x", "y")])
    assert compare(picked, direct) == pytest.approx(
        {key: 0.0 for key in compare(direct, direct)}, abs=1e-12)


# --- the report -------------------------------------------------------------------------------

def test_report_puts_the_floor_beside_every_figure_and_writes_its_files(tmp_path):
    real = sines(80, seed=0)
    fresh = sines(60, seed=1)  # new draws of the same distribution
    shifted = sines(60, seed=1, shift=0.15)
    good = evaluate(real, fresh, plots=False)
    report = evaluate(real, shifted, tmp_path / "report", seed=3)
    assert report["samples"] == {"real": 80, "synthetic": 60, "real_reference_half": 40,
                                 "real_other_half": 40, "synthetic_compared": 40}
    assert set(report["metrics"]) == {
        "acf", "mean", "total", "midrange", "mean_by_category", "total_by_category",
        "midrange_by_category", "attribute", "length", "correlation", "flat", "memorization"}
    for rows in report["metrics"].values():
        for key, row in rows.items():
            assert row["floor"] is not None and row["floor"] >= 0, key
            if row["ratio"] is not None:
                assert row["ratio"] == pytest.approx(row["synthetic"] / row["floor"]), key
    # the shift shows far above the noise; fresh real-like draws stay near it
    assert report["metrics"]["mean"]["w1_mean/x"]["ratio"] > 5
    assert good["metrics"]["mean"]["w1_mean/x"]["ratio"] < 3
    assert "w1_total/y/group=B" in report["metrics"]["total_by_category"]
    assert len(report["autocorrelation"]["x"]["synthetic"]) == 38
    # same seed, same report; the files hold exactly what was returned
    assert evaluate(real, shifted, seed=3, plots=False)["metrics"] == report["metrics"]
    one_split = evaluate(real, shifted, seed=3, plots=False, floor_splits=1)
    assert one_split["settings"]["floor_splits"] == 1
    assert one_split["metrics"]["mean"]["w1_mean/x"] != report["metrics"]["mean"]["w1_mean/x"]
    written = json.loads((tmp_path / "report" / "report.json").read_text())
    assert written == report
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert markdown.count("| metric | synthetic | floor | ratio |") == len(report["metrics"])
    assert "| w1_mean/x |" in markdown and "largest gaps" in markdown
    # the flat shares beside their difference (no flat series on either side here)
    assert report["metrics"]["flat"]["flat/x"] == {"synthetic": 0.0, "floor": 0.0, "ratio": None,
                                                   "synthetic_share": 0.0, "real_share": 0.0}
    assert "| metric | synthetic | floor | ratio | synthetic share | real share |" in markdown
    assert {"acf_x.png", "mean_x_cdf.png", "attribute_group.png", "attribute_level_cdf.png",
            "length.png", "correlation_x_y_cdf.png", "memorization.png"} <= set(report["figures"])
    for name in report["figures"]:
        assert (tmp_path / "report" / name).read_bytes()[:8] == PNG_SIGNATURE
    assert not [p for p in (tmp_path / "report").iterdir() if p.name.startswith(".")]


def test_memorisation_ratio_is_zero_for_copies_and_near_one_for_new_samples():
    real = sines(100, seed=0)
    copies = real.subset(np.arange(0, 100, 2))
    report = evaluate(real, copies, plots=False)
    memo, rows = report["memorization"], report["metrics"]["memorization"]
    assert memo["ratio"] == 0 and memo["synthetic_median_distance"] == 0
    assert rows["exact_copy_fraction"]["synthetic"] == 1
    assert rows["exact_copy_fraction"]["floor"] == 0  # no real sample has a twin
    assert 0.6 < evaluate(real, sines(100, seed=1), plots=False)["memorization"]["ratio"] < 1.6


def test_report_arguments_are_checked(tmp_path):
    real = sines(10)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file; give a directory"):
        evaluate(real, real, tmp_path / "file")
    with pytest.raises(ValueError, match="max_samples must be an integer >= 2"):
        evaluate(real, real, max_samples=1)
    with pytest.raises(ValueError, match="the floor needs at least 2"):
        evaluate(real.subset([0]), real)
    small = evaluate(real, real, max_samples=6, features=["y"], attributes=["group"],
                     plots=False)
    assert small["samples"]["real"] == 6 and set(small["autocorrelation"]) == {"y"}
    assert set(small["metrics"]["attribute"]) == {"jsd/group"}


# --- the command line and the package's names -----------------------------------------------------

def test_command_line_writes_the_report(tmp_path):
    sines(30, seed=0).save(tmp_path / "real")
    sines(20, seed=1).save(tmp_path / "synthetic")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "doppelganger_tf.evaluate", "--real", str(tmp_path / "real"),
         "--synthetic", str(tmp_path / "synthetic"), "--output", str(out), "--features", "x",
         "--no_plots"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "acf_mse/x: " in result.stdout and "wrote " in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["features"] == ["x"] and report["figures"] == []
    assert (out / "report.md").exists()


def test_command_line_errors_are_one_line(tmp_path, capsys):
    from doppelganger_tf.evaluate import main
    make(np.full((2, 5), 0.5)).save(tmp_path / "real")
    make(np.full((2, 6), 0.5)).save(tmp_path / "long")
    out = tmp_path / "out"
    assert main(["--real", str(tmp_path / "missing"), "--synthetic", str(tmp_path / "real"),
                 "--output", str(out)]) == 1
    assert capsys.readouterr().err == (f"doppelganger_tf.evaluate: error: --real: no saved "
                                       f"dataset at {tmp_path / 'missing'}\n")
    assert main(["--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "long"),
                 "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("doppelganger_tf.evaluate: error: the real and synthetic data differ "
                          "in the series length T (max_length): 5 vs 6;") and err.count("\n") == 1
    assert not out.exists()


def test_noise_floors_make_fresh_real_draws_score_about_one():
    """The floor between halves, rescaled to the comparison's sizes: fresh draws of the real
    distribution score about 1x it (the median ratio of five figures over 12 seeds: 0.97 and
    0.97 here; 0.67 and 0.48 without the rescaling), whether as many or three times as many
    samples are compared as the reference holds. One figure of one draw is noisier: an ACF MSE
    ratio ranged 0.5-7.5 over 6 seeds."""
    from doppelganger_tf.evaluation import noise_floors
    for count in (150, 450):
        ratios = []
        for seed in range(12):
            reference = summarize(sines(150, seed=seed))
            floors = noise_floors(reference, count, seed=seed)
            scores = compare(reference, summarize(sines(count, seed=100 + seed)))
            ratios += [scores[key] / floors[key] for key in
                       ("acf_mse/x", "w1_mean/x", "w1_total/y", "w1/level", "length_w1")]
        assert 0.8 < np.median(ratios) < 1.2, (count, np.median(ratios))
