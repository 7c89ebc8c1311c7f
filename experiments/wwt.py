"""Wikipedia Web Traffic experiment: DoppelGANger and the paper's baselines, side by side.

    python experiments/wwt.py --flagfile=experiments/flags/wwt_quick.flags --output runs/wwt
    python experiments/wwt.py --flagfile=experiments/flags/wwt_paper.flags \
        --data runs/wwt_data/train --test_data runs/wwt_data/test --output runs/wwt_paper

--data is a Dataset directory written by data_prep.wwt, or "synthetic" for the embedded
seeded synthetic WWT-schema data (not real Wikipedia data; log1p views) so the script runs
offline. Metrics: autocorrelation MSE of views (the paper's Table 3), attribute Jensen-Shannon
divergences, (max+min)/2 W1 (Figure 6) and, when the series are long enough, forecasting R^2
trained on each model's data and tested on held-out real data (Figure 24).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from absl import flags, logging

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS


def define_wwt_flags():
    common.define_flags(sample_len=10, aux_critic=True, auto_normalize=True, epochs=400,
                        data_default="synthetic", reports=True)
    flags.DEFINE_integer("synthetic_samples", 1000, "pages of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_integer("synthetic_length", 550, "days of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_string("views_feature", "views", "the page-view feature")
    flags.DEFINE_integer("forecast_history", 500, "forecasting: days given (paper: 500)",
                         lower_bound=1)
    flags.DEFINE_integer("forecast_horizon", 50, "forecasting: days predicted (paper: 50)",
                         lower_bound=1)


def load_data():
    """(train, held-out real or None)."""
    from doppelganger_tf.dataset import Dataset

    if FLAGS.data == "synthetic":
        from doppelganger_tf.synthetic import wwt_like_dataset
        both = wwt_like_dataset(2 * FLAGS.synthetic_samples, FLAGS.synthetic_length, FLAGS.seed)
        return common.split_real_halves(both, FLAGS.seed)
    test = Dataset.load(FLAGS.test_data) if FLAGS.test_data else None
    return Dataset.load(FLAGS.data), test


def evaluate(real, generated, test) -> dict:
    from doppelganger_tf import evaluation as ev

    views = FLAGS.views_feature
    metrics = {"autocorrelation_mse": ev.autocorrelation_mse(
        common.autocorrelation_of(real, views), common.autocorrelation_of(generated, views)),
        "w1_midrange": ev.midrange_wasserstein(real, generated, views)}
    for name in real.attribute_names:
        metrics[f"jsd_{name}"] = ev.attribute_jsd(real, generated, name)
    if test is not None and _can_forecast(real):
        metrics.update({f"forecast_r2_{k}": v for k, v in forecast(generated, test).items()})
    return metrics


def _can_forecast(dataset) -> bool:
    return dataset.max_length >= FLAGS.forecast_history + FLAGS.forecast_horizon


def forecast(train, test) -> dict:
    """R^2 per regressor, NaN when ``train`` has no series long enough (e.g. a model that
    generates short series)."""
    from doppelganger_tf import evaluation as ev

    if not (train.lengths >= FLAGS.forecast_history + FLAGS.forecast_horizon).sum() >= 2:
        logging.warning("too few generated series of %d+ steps to train a forecaster",
                        FLAGS.forecast_history + FLAGS.forecast_horizon)
        return {name: float("nan") for name in ev.REGRESSOR_NAMES}
    return ev.forecasting_r2(train, test, FLAGS.views_feature, FLAGS.forecast_history,
                             FLAGS.forecast_horizon)


def forecast_reasons(name: str, train, row: dict) -> dict:
    """{(name, column): why} for the forecasting cells of ``row`` that are blank (no series of
    ``train`` long enough to cut a window from) or outliers (an R^2 below common.OUTLIER_R2,
    where most of ``train``'s series settle on a constant), measured on ``train``."""
    from doppelganger_tf import evaluation as ev

    need = FLAGS.forecast_history + FLAGS.forecast_horizon
    reasons = {}
    for regressor in ev.REGRESSOR_NAMES:
        column = f"forecast_r2_{regressor}"
        value = row.get(column)
        if value is None:
            continue
        if math.isnan(value):
            lengths = train.lengths
            reasons[name, column] = (
                f"{int((lengths >= need).sum())} of its {len(lengths)} generated series reach "
                f"the {need} days of one forecasting window (--forecast_history + "
                f"--forecast_horizon), too few to train a forecaster on: its series are "
                f"{lengths.min()}-{lengths.max()} days long (they end where its generation "
                f"flags say so)")
        elif value < common.OUTLIER_R2:
            share = settled_share(train, FLAGS.forecast_horizon)
            if share < 0.5:
                continue  # the table's generic reason
            reasons[name, column] = (
                f"{share:.0%} of its generated series settle on one constant value (over their "
                f"last {FLAGS.forecast_horizon} days), so the windows the forecaster learns from "
                f"vary in few directions"
                + ("; unregularised least squares then fits huge weights, which real windows "
                   "turn into wild forecasts (kernel ridge and the MLP, regularised, are not "
                   "thrown off)" if regressor == "linear_regression" else
                   ", unlike real ones"))
    return reasons


def settled_share(dataset, days: int) -> float:
    """The share of series whose views do not change (by more than 1e-6 of the scaled range)
    over their last ``days`` active steps; series shorter than that are left out."""
    from doppelganger_tf import evaluation as ev

    series = ev.feature_series(dataset, FLAGS.views_feature)  # scaled, NaN after the end
    tails = [values[length - days:length] for values, length in zip(series, dataset.lengths)
             if length >= days]
    if not tails:
        return 0.0
    return float(np.mean([np.ptp(tail) <= 1e-6 for tail in tails]))


def figures(real, runs, test, out: Path):
    from doppelganger_tf import evaluation as ev
    from doppelganger_tf.evaluation.report import safe_file_stem

    views = FLAGS.views_feature
    datasets = {"real": real, **{name: run["generated"] for name, run in runs.items()}}
    ev.plot_autocorrelation({k: common.autocorrelation_of(d, views) for k, d in datasets.items()},
                            out / "figure1_autocorrelation.png",
                            title="WWT: autocorrelation of daily views")
    ev.plot_cdfs({k: ev.feature_midrange(d, views) for k, d in datasets.items()},
                 out / "figure6_midrange_cdf.png", xlabel="(max+min)/2 of views (scaled)",
                 title="WWT: per-page (max+min)/2")
    for name in real.attribute_names:
        stem = safe_file_stem(name)  # a name from the data
        ev.plot_attribute_histograms({k: ev.attribute_histogram(d, name)
                                      for k, d in datasets.items()},
                                     ev.attribute_categories(real, name),
                                     out / f"figure5_{stem}_hist.png", title=f"WWT: {name}")
    if test is not None and _can_forecast(real):
        r2 = {k: forecast(d, test) for k, d in datasets.items()}
        ev.plot_accuracies(r2, out / "figure24_forecasting_r2.png",
                           title="WWT: forecasting (train on each, test on real)",
                           ylabel="R^2")
    common.nearest_neighbour_figures(real, runs, views, out)


def prepare():
    """Check the flags and read the data, before --output is created."""
    common.check_flags()
    real, test = load_data()
    if FLAGS.data == "synthetic":  # a T the suggested sample_len needs: built at that length
        built = {}

        def rebuild():
            built["real"], built["test"] = load_data()
            return built["real"]
        real = common.apply_suggested_settings(real, rebuild, "synthetic_length")
        test = built.get("test", test)
    else:
        real = common.apply_suggested_settings(real)
    common.check_data(real, views_feature=FLAGS.views_feature)
    return real, test


def run(data):
    real, test = data
    runs = common.run_models(real)
    rows = {name: {**evaluate(real, run["generated"], test),
                   "train_time_s": run["train_time_s"], "wall_time_s": run["wall_time_s"]}
            for name, run in runs.items()}
    if test is not None:
        # fidelity of held-out real data; its forecaster trains on the real training data
        rows["real (held-out)"] = evaluate(real, test, test)
        if _can_forecast(real):
            rows["real (held-out)"].update(
                {f"forecast_r2_{k}": v for k, v in forecast(real, test).items()})
    columns = sorted({c for row in rows.values() for c in row} - {"train_time_s"},
                     key=lambda c: (c == "wall_time_s", c))
    reasons = {}
    for name, model_run in runs.items():
        reasons.update(forecast_reasons(name, model_run["generated"], rows[name]))
    common.write_results("WWT", rows, columns, reasons=reasons, notes=(
        "How to read it: autocorrelation_mse (lower is better; the paper's Table 3: DG 0.0009) "
        "says how well each model keeps the series' structure over time, the weekly cycle at "
        "every lag and its slow decay (figure1_autocorrelation.png); w1_midrange compares the "
        "per-page levels, jsd_* the attributes; forecast_r2_* trains a forecaster on each "
        "model's data and tests it on held-out real data (higher is better). "
        "'real (held-out)' compares the training data with held-out real data: the floor."
        + (" Data: the embedded SYNTHETIC WWT-schema data, not real Wikipedia views. What "
           "DG is for shows in the autocorrelation: it keeps the weekly cycle over the whole "
           "length (one week per LSTM step at --sample_len=7), which the HMM, whose daily "
           "hidden state forgets it within weeks, and the other baselines do not: with "
           "experiments/flags/wwt_quick.flags' settings, seeds 0-2 gave DG 0.0043-0.0060 "
           "against the best baseline's (HMM) 0.0147-0.0186. The per-page levels are DG's "
           "weak point: in its report (dg/report/report.md) the W1 of the per-page mean was "
           "0.9-1.5x the real-vs-real floor and of the (max+min)/2 1.8-2.7x on seeds 0-2 "
           "(docs/tuning.md, 'The automatic path against the hand-tuned flagfiles')."
           if FLAGS.data == "synthetic" else "")))
    figures(real, runs, test, Path(FLAGS.output))
    common.write_reports(real, runs)
    common.show_results()


if __name__ == "__main__":
    define_wwt_flags()
    common.run_main(run, prepare)
