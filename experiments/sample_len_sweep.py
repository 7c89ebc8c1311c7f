"""The paper's autotuning of the batch-generation size S (Figure 4).

    python experiments/sample_len_sweep.py --data DIR --output DIR --sample_lens 1,4,8 \
        --feature feature_0 --epochs 200

Trains DoppelGANger once per S (each must divide T), measures the autocorrelation MSE of one
feature against the real data, writes sweep.json, sweep.md and figure4_sample_len.png, and
names the best S.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from absl import app, flags, logging  # noqa: E402

from experiments import common  # noqa: E402

FLAGS = flags.FLAGS


def run():
    from doppelganger_tf.dataset import Dataset
    from doppelganger_tf.evaluation import autocorrelation, autocorrelation_mse
    from doppelganger_tf.evaluation.plots import plot_autocorrelation

    train = Dataset.load(FLAGS.data)
    feature = FLAGS.feature or train.feature_names[0]
    if feature not in train.feature_names:
        raise ValueError(f"--feature {feature!r} is not one of {train.feature_names}")
    real_curve = autocorrelation(train.feature_values()[feature], train.lengths)
    curves = {"real": real_curve}
    rows = {}
    for sample_len in FLAGS.sample_lens:
        s = int(sample_len)
        if train.max_length % s:
            logging.warning("skipping S=%d: it does not divide T=%d", s, train.max_length)
            continue
        FLAGS.sample_len = s
        out = Path(FLAGS.output) / f"S{s}"
        model = common.train_doppelganger(train, out)
        generated = model.generate(FLAGS.num_generate or len(train), seed=FLAGS.seed)
        curve = autocorrelation(generated.feature_values()[feature], generated.lengths)
        curves[f"S={s}"] = curve
        rows[f"S={s}"] = {"sample_len": s, "autocorrelation_mse": autocorrelation_mse(real_curve,
                                                                                      curve)}
        logging.info("S=%d: autocorrelation MSE %.5f", s, rows[f"S={s}"]["autocorrelation_mse"])
    if not rows:
        raise ValueError(f"no S in {FLAGS.sample_lens} divides T={train.max_length}")
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
    app.run(common.main_wrapper(run))
