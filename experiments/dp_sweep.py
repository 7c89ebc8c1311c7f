"""Fidelity vs differential privacy on WWT-format data (the paper's Figure 16).

    python experiments/dp_sweep.py --flagfile=experiments/flags/dp_sweep_quick.flags \
        --output runs/dp_sweep
    python experiments/dp_sweep.py --flagfile=experiments/flags/dp_sweep_paper.flags \
        --data runs/wwt_data/train --output runs/dp_sweep_paper

Trains DoppelGANger once per noise multiplier (DP-SGD on both critics) plus a non-DP reference
row, and records epsilon (our accountant and the original's), the autocorrelation curve of the
views feature and its MSE against the training data, and the wall time. Writes results.json,
results.md, curves.json and figure16_dp_autocorrelation.png. --data is a Dataset directory
(data_prep.wwt) or "synthetic" for the embedded seeded synthetic WWT-schema data (not real
Wikipedia data).
"""
from __future__ import annotations

import time
from pathlib import Path

from absl import flags, logging

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS
NON_DP = "non-DP"


def define_dp_sweep_flags():
    common.define_flags(sample_len=10, aux_critic=True, auto_normalize=True, epochs=15,
                        data_default="synthetic")
    flags.DEFINE_list("noise_multipliers", ["0.01", "0.1", "1", "2", "4"],
                      "DP noise multipliers to train with (the paper's Figure 16)")
    flags.DEFINE_bool("non_dp_reference", True, "also train without DP (reference row)")
    flags.DEFINE_integer("synthetic_samples", 1000, "pages of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_integer("synthetic_length", 550, "days of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_string("views_feature", "views", "the feature whose autocorrelation is compared")


def load_data():
    from doppelganger_tf.dataset import Dataset
    if FLAGS.data == "synthetic":
        from doppelganger_tf.synthetic import wwt_like_dataset
        return wwt_like_dataset(FLAGS.synthetic_samples, FLAGS.synthetic_length, FLAGS.seed)
    return Dataset.load(FLAGS.data)


def settings():
    """[(row label, noise multiplier or None)] in the order they are trained."""
    try:
        values = [float(z) for z in FLAGS.noise_multipliers]
    except ValueError as exc:
        raise ValueError(f"--noise_multipliers must be numbers, got {FLAGS.noise_multipliers}"
                         ) from exc
    if any(not z > 0 for z in values):
        raise ValueError(f"--noise_multipliers must be > 0, got {values}")
    rows = [(f"z={z:g}", z) for z in values]
    if FLAGS.non_dp_reference:
        rows.append((NON_DP, None))
    if not rows:
        raise ValueError("nothing to run: give --noise_multipliers or --non_dp_reference")
    return rows


def prepare():
    """Check the flags and read the data, before --output is created: (data, settings)."""
    rows = settings()
    common.check_flags(dg_only=True, distributed=False)
    for _, z in rows:  # the config of every row (e.g. DP needs float32)
        FLAGS.dp_noise_multiplier = z
        common.dg_run_settings()
    synthetic = FLAGS.data == "synthetic"  # a T the suggested sample_len needs: built at it
    train = common.apply_suggested_settings(
        load_data(), load_data if synthetic else None, "synthetic_length" if synthetic else None,
        dg_only=True)
    common.check_data(train, dg_only=True, views_feature=FLAGS.views_feature)
    return train, rows


def run(prepared):
    from doppelganger_tf import evaluation as ev
    from doppelganger_tf.evaluation.plots import plot_dp_sweep

    train, sweep = prepared
    views = FLAGS.views_feature
    real_curve = common.autocorrelation_of(train, views)
    curves = {"real": real_curve}
    rows, epsilons, mses = {}, {}, {}
    for label, z in sweep:
        FLAGS.dp_noise_multiplier = z  # read by common.dg_config()
        out = Path(FLAGS.output) / ("non_dp" if z is None else f"z{z:g}")
        logging.info("%s: training", label)
        started = time.perf_counter()
        model = common.train_doppelganger(train, out)
        trained = time.perf_counter()
        generated = model.generate(FLAGS.num_generate or len(train), seed=FLAGS.seed)
        curve = common.autocorrelation_of(generated, views)
        mse = ev.autocorrelation_mse(real_curve, curve)
        row = {"noise_multiplier": z, "autocorrelation_mse": mse,
               "train_time_s": trained - started, "wall_time_s": time.perf_counter() - started}
        if z is not None:
            record = model.privacy_record
            row.update({"epsilon": record["epsilon"],
                        "epsilon_poisson": record["epsilon_poisson"],
                        "epsilon_original": record["epsilon_original"],
                        "steps": record["steps"], "stopped_early": record["stopped_early"]})
            epsilons[label] = record["epsilon"]
        rows[label], curves[label], mses[label] = row, curve, mse
        logging.info("%s: autocorrelation MSE %.5f%s, %.0f s", label, mse,
                     "" if z is None else f", epsilon {row['epsilon']:.4g}",
                     row["wall_time_s"])
    out = Path(FLAGS.output)
    columns = ["noise_multiplier", "epsilon", "epsilon_poisson", "epsilon_original", "steps",
               "autocorrelation_mse", "wall_time_s"]
    blank = "trained without DP: no noise, so no privacy budget to account"
    reasons = {(NON_DP, column): blank for column in columns
               if NON_DP in rows and rows[NON_DP].get(column) is None}
    common.write_results("WWT DP sweep", rows, columns, reasons=reasons, notes=(
        f"delta {FLAGS.dp_delta:g}, clip {FLAGS.dp_l2_norm_clip:g}, {len(train)} samples, "
        f"batch {FLAGS.batch_size}, {FLAGS.epochs} epochs. epsilon: dp_accounting RDP with "
        "both critics composed on the same batch, for the batches drawn: "
        + ("Poisson samples, add/remove neighbours (exact)" if FLAGS.dp_poisson_sampling else
           "fixed-size batches as sampled without replacement, replace-one neighbours "
           "(an approximation)")
        + "; epsilon_poisson: Poisson accounting; epsilon_original: the original's accounting "
        "(Poisson, z halved with the auxiliary critic). See docs/privacy.md."
        + (" Data: the embedded SYNTHETIC WWT-schema data, not real Wikipedia views."
           if FLAGS.data == "synthetic" else "")))
    common.write_json(out / "curves.json", {k: list(map(float, v)) for k, v in curves.items()})
    plot_dp_sweep(curves, epsilons, mses, out / "figure16_dp_autocorrelation.png",
                           title=f"Autocorrelation of {views} vs DP noise")
    common.show_results("figure16_dp_autocorrelation.png")


if __name__ == "__main__":
    define_dp_sweep_flags()
    common.run_main(run, prepare)
