"""The paper's autotuning of the batch-generation size S (Figure 4).

    python experiments/sample_len_sweep.py --data DIR --output DIR --sample_lens 1,4,8 \
        --feature feature_0 --epochs 200

Trains DoppelGANger once per S (each must divide T), measures the autocorrelation MSE of one
feature against the real data, writes sweep.json, sweep.md and figure4_sample_len.png, and
names the best S.
"""
from __future__ import annotations

from pathlib import Path

from absl import flags, logging

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS


def sample_lens():
    """The values of --sample_lens, as positive integers."""
    try:
        values = list(dict.fromkeys(int(s) for s in FLAGS.sample_lens))
    except ValueError:
        raise ValueError(f"--sample_lens must be integers, got {FLAGS.sample_lens}") from None
    if not values or min(values) < 1:
        raise ValueError(f"--sample_lens must be positive integers, got {FLAGS.sample_lens}")
    return values


def prepare():
    """Check the flags and read the data, before --output is created: (data, feature, the S
    values that divide T)."""
    from doppelganger_tf.dataset import Dataset

    values = sample_lens()
    common.check_flags(dg_only=True, distributed=False)
    # the sweep sets S itself: the suggestion's other settings
    train = common.apply_suggested_settings(
        Dataset.load(FLAGS.data), fields=[f for f in common.SUGGESTED_FIELDS if f != "sample_len"],
        dg_only=True)
    feature = FLAGS.feature or train.feature_names[0]
    common.check_names(train, feature=feature)
    dividing = [s for s in values if train.max_length % s == 0]
    if not dividing:
        raise ValueError(f"no S in --sample_lens={','.join(FLAGS.sample_lens)} divides the "
                         f"series length T={train.max_length}")
    for s in values:
        if s not in dividing:
            logging.warning("skipping S=%d: it does not divide T=%d", s, train.max_length)
    return train, feature, dividing


def run(prepared):
    from doppelganger_tf.evaluation import autocorrelation, autocorrelation_mse
    from doppelganger_tf.evaluation.plots import plot_autocorrelation

    train, feature, dividing = prepared
    real_curve = autocorrelation(train.feature_values()[feature], train.lengths)
    curves = {"real": real_curve}
    rows = {}
    for s in dividing:
        FLAGS.sample_len = s
        out = Path(FLAGS.output) / f"S{s}"
        model = common.train_doppelganger(train, out)
        generated = model.generate(FLAGS.num_generate or len(train), seed=FLAGS.seed)
        curve = autocorrelation(generated.feature_values()[feature], generated.lengths)
        curves[f"S={s}"] = curve
        rows[f"S={s}"] = {"sample_len": s, "autocorrelation_mse": autocorrelation_mse(real_curve,
                                                                                      curve)}
        logging.info("S=%d: autocorrelation MSE %.5f", s, rows[f"S={s}"]["autocorrelation_mse"])
    best = min(rows.values(), key=lambda r: r["autocorrelation_mse"])
    out = Path(FLAGS.output)
    common.write_json(out / "sweep.json", {"feature": feature, "rows": rows,
                                           "best_sample_len": best["sample_len"]})
    (out / "sweep.md").write_text(
        common.markdown_table(rows, ["sample_len", "autocorrelation_mse"])
        + f"\nbest S = {best['sample_len']}\n")
    plot_autocorrelation(curves, out / "figure4_sample_len.png")
    print(f"best sample_len: {best['sample_len']}")


if __name__ == "__main__":
    common.define_flags(sample_len=10, aux_critic=True, auto_normalize=True, epochs=200)
    flags.DEFINE_list("sample_lens", ["1", "5", "10", "25", "50"], "values of S to try")
    flags.DEFINE_string("feature", None, "feature whose autocorrelation is compared "
                        "(default: the first)")
    common.run_main(run, prepare)
