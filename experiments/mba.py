"""FCC MBA (broadband) experiment: DoppelGANger and the paper's baselines, side by side.

    python experiments/mba.py --flagfile=experiments/flags/mba_quick.flags \
        --data ../shared/data/fcc_mba --output runs/mba_quick

Metrics (results.json, results.md): the paper's Table 2 — Wasserstein-1 distance of per-home
total traffic (on the [0,1]-scaled feature, the paper's scale) for DSL and cable homes — plus the
autocorrelation MSE of traffic, attribute Jensen-Shannon divergences, the (max+min)/2 W1 and the
distance between the CDFs of the per-home traffic/loss Pearson correlation. The row
"real halves" compares two random halves of the real data: the floor a model can reach.
Figures: figure1_autocorrelation.png, table2_total_traffic_cdf_{dsl,cable}.png,
figure6_midrange_hist.png, figure8_traffic_loss_correlation_cdf.png,
figure5_technology_hist.png, figure21_nearest_neighbours_<model>.png.
"""
from __future__ import annotations

import math
from pathlib import Path

from absl import flags

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS


def define_mba_flags():
    # the original repo's MBA settings: S=8, no auxiliary critic, no auto-normalisation
    common.define_flags(sample_len=8, aux_critic=False, auto_normalize=False, epochs=17000,
                        reports=True)
    flags.DEFINE_string("traffic_feature", "feature_0", "feature holding total traffic (the "
                        "released data: feature_0)")
    flags.DEFINE_string("loss_feature", "feature_1", "feature holding the ping loss rate")
    flags.DEFINE_string("technology_attribute", "attribute_1", "attribute holding the access "
                        "technology (the released data: attribute_1)")
    flags.DEFINE_string("dsl_category", "0", "technology category of DSL (released data: 0)")
    flags.DEFINE_string("cable_category", "3", "technology category of cable (released data: 3)")


def _category(dataset, attribute, label):
    """A flag's category label -> the dataset's label (the released data's are integers)."""
    from doppelganger_tf.evaluation import attribute_categories
    for category in attribute_categories(dataset, attribute):
        if str(category) == label:
            return category
    raise ValueError(f"category {label!r} (--dsl_category / --cable_category) is not one of "
                     f"attribute {attribute!r}'s {attribute_categories(dataset, attribute)}")


def evaluate(real, generated) -> dict:
    from doppelganger_tf import evaluation as ev

    traffic, loss = FLAGS.traffic_feature, FLAGS.loss_feature
    tech = FLAGS.technology_attribute
    dsl, cable = (_category(real, tech, c) for c in (FLAGS.dsl_category, FLAGS.cable_category))
    w1 = ev.wasserstein_by_attribute(real, generated, traffic, tech, values=[dsl, cable])
    metrics = {"w1_total_traffic_dsl": w1[dsl], "w1_total_traffic_cable": w1[cable],
               "autocorrelation_mse_traffic": ev.autocorrelation_mse(
                   common.autocorrelation_of(real, traffic),
                   common.autocorrelation_of(generated, traffic)),
               "w1_midrange_traffic": ev.midrange_wasserstein(real, generated, traffic)}
    for name in real.attribute_names:
        metrics[f"jsd_{name}"] = ev.attribute_jsd(real, generated, name)
    metrics["ks_traffic_loss_correlation"] = ev.correlation_distances(
        real, generated, traffic, loss)["ks"]
    return metrics


def technology_reasons(name: str, generated, row: dict) -> dict:
    """{(name, column): why} for a per-technology W1 that is NaN: the model generated no home of
    that technology (a barely trained generator's attributes can miss a category)."""
    from doppelganger_tf import evaluation as ev

    tech = FLAGS.technology_attribute
    codes = ev.attribute_codes(generated, tech)
    categories = ev.attribute_categories(generated, tech)
    reasons = {}
    for label, technology in ((FLAGS.dsl_category, "dsl"), (FLAGS.cable_category, "cable")):
        column = f"w1_total_traffic_{technology}"
        value = row.get(column)
        if value is not None and math.isnan(value):
            index = categories.index(_category(generated, tech, label))
            reasons[name, column] = (
                f"{int((codes == index).sum())} of its {len(generated)} generated homes have "
                f"{tech}={label} ({technology.upper()}): no total traffic to compare")
    return reasons


def figures(real, runs, out: Path):
    from doppelganger_tf import evaluation as ev

    traffic, tech = FLAGS.traffic_feature, FLAGS.technology_attribute
    datasets = {"real": real, **{name: run["generated"] for name, run in runs.items()}}
    ev.plot_autocorrelation({k: common.autocorrelation_of(d, traffic)
                             for k, d in datasets.items()},
                            out / "figure1_autocorrelation.png",
                            title="MBA: autocorrelation of total traffic")
    for label in (FLAGS.dsl_category, FLAGS.cable_category):
        category = _category(real, tech, label)
        totals = {}
        for k, d in datasets.items():
            codes = ev.attribute_codes(d, tech)
            index = ev.attribute_categories(d, tech).index(category)
            totals[k] = ev.feature_totals(d, traffic)[codes == index]
        name = "dsl" if label == FLAGS.dsl_category else "cable"
        ev.plot_cdfs(totals, out / f"table2_total_traffic_cdf_{name}.png",
                     xlabel="per-home total traffic (scaled)", title=f"MBA {name}: total traffic")
    ev.plot_cdfs({k: ev.feature_midrange(d, traffic) for k, d in datasets.items()},
                 out / "figure6_midrange_hist.png", xlabel="(max+min)/2 of traffic (scaled)",
                 title="MBA: per-home (max+min)/2")
    ev.plot_cdfs({k: ev.feature_correlation(d, traffic, FLAGS.loss_feature)
                  for k, d in datasets.items()},
                 out / "figure8_traffic_loss_correlation_cdf.png",
                 xlabel="per-home Pearson correlation of traffic and loss")
    ev.plot_attribute_histograms({k: ev.attribute_histogram(d, tech)
                                  for k, d in datasets.items()},
                                 ev.attribute_categories(real, tech),
                                 out / "figure5_technology_hist.png", title="MBA: technology")
    common.nearest_neighbour_figures(real, runs, traffic, out)


def prepare():
    """Check the flags and read the data, before --output is created."""
    from doppelganger_tf.dataset import Dataset

    common.check_flags()
    real = common.apply_suggested_settings(Dataset.load(FLAGS.data))
    common.check_data(real, traffic_feature=FLAGS.traffic_feature,
                      loss_feature=FLAGS.loss_feature,
                      technology_attribute=FLAGS.technology_attribute)
    for label in (FLAGS.dsl_category, FLAGS.cable_category):
        _category(real, FLAGS.technology_attribute, label)
    return real


def run(real):
    runs = common.run_models(real)
    rows = common.metric_rows(real, runs, evaluate)
    columns = ["w1_total_traffic_dsl", "w1_total_traffic_cable", "autocorrelation_mse_traffic",
               "w1_midrange_traffic"] + [f"jsd_{n}" for n in real.attribute_names] + [
        "ks_traffic_loss_correlation", "wall_time_s"]
    reasons = {}
    for name, model_run in runs.items():
        reasons.update(technology_reasons(name, model_run["generated"], rows[name]))
    common.write_results("MBA", rows, columns, reasons=reasons, notes=(
        "W1 distances are on the [0,1]-scaled traffic feature (the paper's Table 2 scale: DG "
        "0.68 DSL / 0.74 cable). 'real halves' compares two random halves of the real data."))
    figures(real, runs, Path(FLAGS.output))
    common.write_reports(real, runs)
    common.show_results()


if __name__ == "__main__":
    define_mba_flags()
    common.run_main(run, prepare)
