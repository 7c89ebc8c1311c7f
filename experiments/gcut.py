"""Google cluster usage (GCUT) experiment: DoppelGANger and the paper's baselines, side by side.

    python -m data_prep.gcut --task_events ... --task_usage ... --output runs/gcut_data
    python experiments/gcut.py --flagfile=experiments/flags/gcut_quick.flags \
        --data runs/gcut_data/train --test_data runs/gcut_data/test --output runs/gcut

Metrics (results.json, results.md): length distribution distances (the paper's Figure 9:
Jensen-Shannon divergence and W1 of series lengths), the end-event-type divergence, the
autocorrelation MSE of CPU rate and, with --test_data, train-on-generated / test-on-real accuracy
of five classifiers predicting the end event type from the usage series (Figure 13) and the
Spearman correlation between the classifiers' ranking on real and on generated data (Table 5).
"""
from __future__ import annotations

from pathlib import Path

from absl import flags

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS


def define_gcut_flags():
    common.define_flags(sample_len=10, aux_critic=False, auto_normalize=False, epochs=400,
                        reports=True)
    flags.DEFINE_string("cpu_feature", "cpu_rate", "the feature whose autocorrelation is compared")
    flags.DEFINE_string("end_event_attribute", "end_event_type", "the attribute to predict")


def evaluate(real, generated) -> dict:
    from doppelganger_tf import evaluation as ev

    lengths = ev.length_distances(real, generated)
    return {"length_jsd": lengths["jsd"], "length_w1": lengths["wasserstein"],
            "jsd_end_event": ev.attribute_jsd(real, generated, FLAGS.end_event_attribute),
            "autocorrelation_mse_cpu": ev.autocorrelation_mse(
                common.autocorrelation_of(real, FLAGS.cpu_feature),
                common.autocorrelation_of(generated, FLAGS.cpu_feature))}


def classification(datasets, test):
    """{model: {classifier: accuracy on real test data}} trained on each model's data."""
    from doppelganger_tf import evaluation as ev
    return {name: ev.classifier_accuracies(d, test, FLAGS.end_event_attribute)
            for name, d in datasets.items()}


def prepare():
    """Check the flags and read the data, before --output is created."""
    from doppelganger_tf.dataset import Dataset

    common.check_flags()
    real = common.apply_suggested_settings(Dataset.load(FLAGS.data))
    test = Dataset.load(FLAGS.test_data) if FLAGS.test_data else None
    names = dict(cpu_feature=FLAGS.cpu_feature, end_event_attribute=FLAGS.end_event_attribute)
    common.check_data(real, **names)
    if test is not None:
        common.check_names(test, **names)
    return real, test


def run(data):
    from doppelganger_tf import evaluation as ev

    real, test = data
    runs = common.run_models(real)
    rows = common.metric_rows(real, runs, evaluate)
    datasets = {"real": real, **{name: run["generated"] for name, run in runs.items()}}
    out = Path(FLAGS.output)
    if test is not None:
        accuracies = classification(datasets, test)
        for name in runs:
            rows[name].update({f"accuracy_{k}": v for k, v in accuracies[name].items()})
            rows[name]["ranking_spearman"] = ev.ranking_correlation(accuracies["real"],
                                                                    accuracies[name])
        rows["real halves"].update({f"accuracy_{k}": v for k, v in accuracies["real"].items()})
        ev.plot_accuracies(accuracies, out / "figure13_classifier_accuracy.png",
                           title="GCUT: end-event classification (train on each, test on real)")
    columns = sorted({c for row in rows.values() for c in row} - {"train_time_s"},
                     key=lambda c: (c == "wall_time_s", c))
    common.write_results("GCUT", rows, columns, notes=(
        "'real halves' compares two random halves of the real data (its accuracies: "
        "classifiers trained on the real training data)."))
    ev.plot_length_histograms({k: ev.length_histogram(d.lengths, d.max_length)
                               for k, d in datasets.items()}, out / "figure9_length_hist.png")
    ev.plot_autocorrelation({k: common.autocorrelation_of(d, FLAGS.cpu_feature)
                             for k, d in datasets.items()}, out / "figure1_autocorrelation.png",
                            title="GCUT: autocorrelation of CPU rate")
    ev.plot_attribute_histograms({k: ev.attribute_histogram(d, FLAGS.end_event_attribute)
                                  for k, d in datasets.items()},
                                 ev.attribute_categories(real, FLAGS.end_event_attribute),
                                 out / "figure5_end_event_hist.png", title="GCUT: end event")
    common.nearest_neighbour_figures(real, runs, FLAGS.cpu_feature, out)
    common.write_reports(real, runs)
    common.show_results()


if __name__ == "__main__":
    define_gcut_flags()
    common.run_main(run, prepare)
