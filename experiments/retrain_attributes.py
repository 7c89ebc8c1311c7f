"""Hiding the metadata distribution (the paper's §6.1): retrain only the attribute generator.

    python experiments/retrain_attributes.py \
        --flagfile=experiments/flags/retrain_attributes_quick.flags --output runs/retrain
    python experiments/retrain_attributes.py --model runs/wwt/dg/model --data runs/wwt_data/train \
        --target "domain:en.wikipedia.org=0.5,ja.wikipedia.org=0.5" --output runs/retrain_wwt

Trains DoppelGANger on --data (default: the embedded SYNTHETIC WWT-schema data), or loads a model
saved with ``model.save`` (--model), then retrains its attribute generator toward --target while
the min/max and feature generators stay frozen (doppelganger_tf.retrain). Reports, before and
after retraining: the JSD of each attribute's histogram to the target and to the training data;
and, per category of each retargeted attribute, the conditional feature statistics (share, mean
of the scaled feature, autocorrelation) of the original and the retrained model, with the
original model against itself on other noise as the sampling-noise floor.

--target syntax: ``attribute:category=p,category=p`` or ``attribute:uniform``; several
attributes separated by ``;``. Empty (default): a made-up shift of the discrete attribute with
the most categories (WWT: domain): its rarest category takes half of the samples, the others
share the rest in their training proportions.
"""
from __future__ import annotations

import time
from pathlib import Path

from absl import flags, logging

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS


def define_retrain_flags():
    flags.DEFINE_string("data", "synthetic", "training Dataset directory, or 'synthetic' for the "
                        "embedded seeded synthetic WWT-schema data")
    flags.DEFINE_string("output", None, "directory for the models, results and figures")
    flags.DEFINE_string("model", None, "a saved DoppelGANger directory (model.save) to retrain "
                        "instead of training one on --data")
    flags.DEFINE_integer("synthetic_samples", 1000, "pages of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_integer("synthetic_length", 550, "days of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_integer("epochs", 400, "DoppelGANger training epochs (N / batch steps each)",
                         lower_bound=1)
    common.define_dg_flags(sample_len=10, aux_critic=True, auto_normalize=True,
                           helps={"batch_size": "batch size of training and retraining"})
    flags.DEFINE_string("target", "", "the target metadata distribution: "
                        "'attr:cat=p,cat=p;attr2:uniform' (empty: the rarest category of the "
                        "discrete attribute with the most categories takes half of the "
                        "samples, the others keep their relative shares)")
    flags.DEFINE_enum("target_base", "real", ["real", "generated"], "rows the target's other "
                      "attributes are resampled from: the training data, or the original "
                      "model's samples (no real data read: use this for a DP model)")
    flags.DEFINE_integer("target_samples", None, "rows of target samples (default: as many as "
                         "the training data)", lower_bound=1)
    flags.DEFINE_integer("retrain_epochs", 200, "retraining epochs (target_samples / batch "
                         "steps each)", lower_bound=1)
    flags.DEFINE_integer("num_generate", None, "samples generated before and after retraining "
                         "(default: as many as the training data)", lower_bound=1)
    flags.DEFINE_string("feature", None, "continuous feature for the conditional statistics "
                        "(default: the first continuous feature)")
    flags.DEFINE_integer("seed", 0, "seed for weights, batches, targets and generation")
    flags.DEFINE_integer("log_every", 10, "print losses every this many epochs", lower_bound=1)
    flags.mark_flag_as_required("output")


def load_data():
    from doppelganger_tf.dataset import Dataset

    if FLAGS.data == "synthetic":
        from doppelganger_tf.synthetic import wwt_like_dataset
        return wwt_like_dataset(FLAGS.synthetic_samples, FLAGS.synthetic_length, FLAGS.seed)
    return Dataset.load(FLAGS.data)


def load_model(train):
    """The saved model of --model (None without it), checked against the data."""
    from doppelganger_tf.model import DoppelGANger

    if not FLAGS.model:
        return None
    model = DoppelGANger.load(FLAGS.model)
    model.check_compatible(train)
    return model


def original_model(train, loaded, out: Path):
    """The model to retrain: ``loaded`` (from --model), or one trained on ``train`` and
    saved."""
    from doppelganger_tf.callbacks import ProgressLogger
    from doppelganger_tf.compat import keras
    from doppelganger_tf.model import DoppelGANger

    if loaded is not None:
        return loaded, 0.0
    started = time.perf_counter()
    keras.utils.set_random_seed(FLAGS.seed)
    model = DoppelGANger.from_dataset(train, common.dg_config(), seed=FLAGS.seed,
                                      **common.dg_run_settings())
    model.compile()
    model.fit(train, epochs=FLAGS.epochs, seed=FLAGS.seed, verbose=0,
              callbacks=[ProgressLogger(FLAGS.log_every, logging.info)])
    model.save(out / "model")
    return model, time.perf_counter() - started


def target_probabilities(train):
    import numpy as np

    from doppelganger_tf.retrain import parse_probabilities

    if FLAGS.target:
        return parse_probabilities(FLAGS.target)
    discrete = [o for o in train.attribute_outputs if not o.is_continuous]
    if not discrete:
        raise ValueError("the data have no discrete attribute to retarget; pass --target")
    # a made-up, clearly visible shift: the rarest category takes half of the samples, the
    # others share the rest in their training proportions
    widest = max(discrete, key=lambda o: o.dim)
    shares = histogram(train.attribute_values(), widest)
    rarest = int(np.argmin(np.where(shares > 0, shares, np.inf)))
    probs = np.where(np.arange(len(shares)) == rarest, 0.5,
                     0.5 * shares / (1.0 - shares[rarest]))
    return {widest.name: {label: float(p) for label, p in zip(widest.labels(), probs) if p > 0}}


def pick_feature(train) -> str:
    if FLAGS.feature:
        common.check_names(train, feature=FLAGS.feature)
        return FLAGS.feature
    for out in train.feature_outputs:
        if out.is_continuous:
            return out.column_names()[0]
    raise ValueError("the data have no continuous feature; conditional statistics need one")


def histogram(frame, out):
    """Category shares of one discrete attribute in a DataFrame of raw attribute values."""
    import numpy as np

    labels = list(out.labels())
    counts = frame[out.name].value_counts().reindex(labels, fill_value=0).to_numpy(np.float64)
    return counts / max(counts.sum(), 1.0)


def attribute_distances(frames, outputs):
    """{attribute: distances of the original / retrained model to the target and to the data}:
    JSD (bits) for discrete attributes, W1 of the raw values for continuous ones."""
    from doppelganger_tf import evaluation as ev

    rows = {}
    for out in outputs:
        for column in out.column_names():
            if out.is_continuous:
                metric = "w1"

                def distance(a, b, column=column):
                    return ev.wasserstein1(frames[a][column], frames[b][column])
            else:
                metric = "jsd"

                def distance(a, b, out=out):
                    return ev.jensen_shannon_divergence(histogram(frames[a], out),
                                                        histogram(frames[b], out))
            rows[column] = {
                "metric": metric,
                "data_vs_target": distance("data", "target"),
                "original_vs_target": distance("original", "target"),
                "retrained_vs_target": distance("retrained", "target"),
                "original_vs_data": distance("original", "data"),
                "retrained_vs_data": distance("retrained", "data")}
    return rows


def conditional_statistics(datasets, out, feature):
    """Per category of ``out``: shares, mean scaled feature and autocorrelation of each Dataset
    restricted to that category; autocorrelation MSEs of the retrained model (and of the
    original model on other noise, the floor) against the original model."""
    import numpy as np

    from doppelganger_tf import evaluation as ev

    def pieces(dataset, code):
        mask = ev.attribute_codes(dataset, out.name) == code
        if mask.sum() < 2:
            return None, None, int(mask.sum())
        part = dataset.subset(np.flatnonzero(mask))
        series = ev.feature_series(part, feature)
        curve = ev.autocorrelation(np.nan_to_num(series), part.lengths)
        return float(np.nanmean(series)), curve, int(mask.sum())

    rows = {}
    for code, label in enumerate(out.labels()):
        stats = {name: pieces(d, code) for name, d in datasets.items()}
        row = {f"share_{name}": count / len(datasets[name])
               for name, (_, _, count) in stats.items()}
        row.update({f"mean_{name}": mean for name, (mean, _, _) in stats.items()})
        base = stats["original"][1]
        for name in ("retrained", "original_other_noise", "data"):
            curve = stats[name][1]
            row[f"acf_mse_{name}_vs_original"] = (
                None if base is None or curve is None else ev.autocorrelation_mse(base, curve))
        rows[str(label)] = row
    return rows


def _spec(probabilities) -> str:
    """The --target text of ``probabilities``."""
    return ";".join(f"{name}:{spec}" if isinstance(spec, str) else
                    f"{name}:" + ",".join(f"{k}={v:.4g}" for k, v in spec.items())
                    for name, spec in probabilities.items())


def table(first: str, rows, columns) -> str:
    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, str):
            return value
        return f"{value:.3g}" if abs(value) >= 1000 or 0 < abs(value) < 1e-3 else f"{value:.4f}"

    lines = [f"| {first} | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for key, row in rows.items():
        lines.append(f"| {key} | " + " | ".join(cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def prepare():
    """Check the flags, read the data (and --model), before --output is created."""
    from doppelganger_tf.dataset import check_sample_len
    from doppelganger_tf.retrain import target_from_probabilities

    started = time.perf_counter()
    if not FLAGS.model:
        common.dg_run_settings()  # DGConfig and the run settings name the value they reject
    train = load_data()
    if not train.attribute_outputs:
        raise ValueError("the data have no attributes (metadata): nothing to retrain")
    probabilities = target_probabilities(train)
    target = None
    if FLAGS.target_base == "real":  # drawn now: a target naming no attribute is refused early
        target = target_from_probabilities(train, probabilities,
                                           FLAGS.target_samples or len(train), seed=FLAGS.seed)
    else:  # drawn from the model's samples later; its attributes can be checked now
        for name in probabilities:
            if name not in train.attribute_names:
                raise ValueError(f"--target names {name!r}, not an attribute of the data; the "
                                 f"attributes are {train.attribute_names}")
    feature = pick_feature(train)
    loaded = load_model(train)
    if loaded is None:
        check_sample_len(train.max_length, FLAGS.sample_len)
    return dict(started=started, train=train, probabilities=probabilities, target=target,
                feature=feature, loaded=loaded)


def run(prepared):
    from doppelganger_tf import evaluation as ev
    from doppelganger_tf.evaluation.report import safe_file_stem
    from doppelganger_tf.atomic import atomic_file
    from doppelganger_tf.retrain import retrain_attribute_generator, target_from_probabilities

    out = Path(FLAGS.output)
    started, train = prepared["started"], prepared["train"]
    probabilities, feature = prepared["probabilities"], prepared["feature"]
    model, train_time = original_model(train, prepared["loaded"], out)
    n = FLAGS.num_generate or len(train)

    if model.uses_dp and FLAGS.target_base == "real":
        logging.warning("a DP model's target is resampled from the real training data, which "
                        "spends privacy; pass --target_base=generated to use only its samples")
    target = prepared["target"]  # drawn from the training data already
    if target is None:
        target = target_from_probabilities(model.generate(len(train), seed=FLAGS.seed + 1),
                                           probabilities, FLAGS.target_samples or len(train),
                                           seed=FLAGS.seed)
    with atomic_file(out / "target.csv") as f:
        target.to_csv(f, index=False)
    original = model.generate(n, seed=FLAGS.seed + 2)
    original_other_noise = model.generate(n, seed=FLAGS.seed + 3)

    logging.info("retraining the attribute generator toward %s", probabilities)
    retrain_started = time.perf_counter()
    history = retrain_attribute_generator(model, target, epochs=FLAGS.retrain_epochs,
                                          batch_size=FLAGS.batch_size, seed=FLAGS.seed,
                                          log_every=FLAGS.log_every, print_fn=logging.info)
    retrain_time = time.perf_counter() - retrain_started
    model.save(out / "retrained_model")
    # independent noise: retrained-vs-original is then comparable with the noise floor
    retrained = model.generate(n, seed=FLAGS.seed + 4)
    retrained.save(out / "retrained_generated")

    frames = {"data": train.attribute_values(), "target": target,
              "original": original.attribute_values(), "retrained": retrained.attribute_values()}
    distances = attribute_distances(frames, train.attribute_outputs)
    datasets = {"data": train, "original": original, "original_other_noise": original_other_noise,
                "retrained": retrained}
    outputs = {o.name: o for o in train.attribute_outputs}
    conditional = {name: conditional_statistics(datasets, outputs[name], feature)
                   for name in probabilities}
    for name, rows in conditional.items():
        for row, share in zip(rows.values(), histogram(target, outputs[name])):
            row["share_target"] = float(share)
    for name in probabilities:
        ev.plot_attribute_histograms(
            {label: histogram(frames[key], outputs[name]) for label, key in
             [("training data", "data"), ("target", "target"), ("original model", "original"),
              ("retrained model", "retrained")]},
            outputs[name].labels(),
            # the name comes from the data: only safe characters in the file name
            out / f"retrain_{safe_file_stem(name)}_hist.png",
            title=f"{name}: retraining the attribute generator")
    wall = time.perf_counter() - started

    common.write_json(out / "results.json", {
        "data": FLAGS.data, "feature": feature,
        "target": {k: (v if isinstance(v, str) else dict(v)) for k, v in probabilities.items()},
        "flags": common.script_flag_values(),
        "attributes": distances, "conditional": conditional, "history": history,
        "train_time_s": train_time, "retrain_time_s": retrain_time, "wall_time_s": wall})
    with atomic_file(out / "results.md") as f:
        f.write("# Retraining the attribute generator toward a target distribution\n\n")
        f.write(f"Target: `{FLAGS.target or _spec(probabilities)}`. Distances of each attribute "
                "(JSD in bits for discrete, W1 of raw values for continuous):\n\n")
        f.write(table("attribute", distances, ["metric", "data_vs_target", "original_vs_target",
                                               "retrained_vs_target", "original_vs_data",
                                               "retrained_vs_data"]))
        for name, rows in conditional.items():
            f.write(f"\nPer {name}: shares, mean scaled {feature}, and autocorrelation MSE "
                    "against the original model (the feature generator is frozen, so "
                    "the retrained model should differ from the original only as much as the "
                    "original on other noise does):\n\n")
            f.write(table(name, rows, [
                "share_data", "share_target", "share_original", "share_retrained", "mean_data",
                "mean_original", "mean_original_other_noise", "mean_retrained",
                "acf_mse_retrained_vs_original",
                "acf_mse_original_other_noise_vs_original", "acf_mse_data_vs_original"]))
        f.write(f"\nTraining {train_time:.0f} s, retraining {retrain_time:.0f} s, wall "
                f"{wall:.0f} s.")
        if FLAGS.data == "synthetic":
            f.write(" Data: the embedded SYNTHETIC WWT-schema data, not real Wikipedia views.")
        f.write("\n")
    common.show_results()


if __name__ == "__main__":
    define_retrain_flags()
    common.run_main(run, prepare)
