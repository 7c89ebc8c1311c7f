"""Membership inference vs training-set size (the paper's Figure 15, section 6.1).

    python experiments/membership.py --flagfile=experiments/flags/membership_quick.flags \
        --output runs/membership
    python experiments/membership.py --flagfile=experiments/flags/membership_paper.flags \
        --data runs/wwt_data/train --output runs/membership_paper

For each size n in --train_sizes, DoppelGANger is trained on n real samples ("members") and
attacked with n held-out real samples ("non-members") that no model ever trained on: the LOGAN
white-box attack ranks the 2n candidates by the trained critic's score and calls the top half
members (exact definition and tie rule: doppelganger_tf/evaluation/membership.py and
docs/membership.md). Both sets have n samples, so random guessing scores 50%. A control row
attacks two disjoint held-out sets (neither trained on) in the same way: it should stay near 50%
and shows the noise of the estimate at that n.

Data: --data=synthetic (default) uses the embedded SYNTHETIC WWT-schema data (not real Wikipedia
views); otherwise a Dataset directory (e.g. from data_prep.wwt). The samples are split once,
seeded, into a training pool (each size trains on its first n: nested training sets) and a
held-out pool that no model trains on: size n takes held-out samples 0..n-1 as non-members and
n..2n-1 as the control set (skipped, NaN, where the pool is shorter than 2n). --holdout_data
takes the held-out pool from a second directory (e.g. data_prep.wwt's test set) instead.

Training length. The paper trains WWT for 400 epochs (an epoch = N / batch steps, the original
code's only knob); as far as we can tell it does not state whether Figure 15 kept the epochs or
the number of iterations fixed as N shrinks. --schedule=epochs keeps the epochs (every sample is
seen about --epochs times at every size: small sets memorise because the same networks fit fewer
samples); --schedule=steps runs the same --steps batches for every size, so a small set is seen
many more times (N=200 with batch 100 is seen steps/2 times): stronger, repetition-driven
memorisation and the same compute for every size. The paper flagfile keeps the epochs (a rerun
of the original code with a smaller training set); the quick one fixes the steps so it stays
within minutes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from absl import flags, logging

import common  # experiments/common.py: Python puts the script's folder on sys.path

FLAGS = flags.FLAGS
OWN_FLAGS = []  # this script's flags, recorded in results.json


def define_membership_flags():
    before = set(FLAGS)
    flags.DEFINE_string("data", "synthetic", "'synthetic' (embedded synthetic WWT-schema data) "
                        "or a Dataset directory (Dataset.load reads our layout or the original's)")
    flags.DEFINE_string("holdout_data", None, "optional Dataset directory of held-out samples "
                        "(non-members and control set; default: split from --data)")
    flags.DEFINE_string("output", None, "directory for results.json, results.md, the figure "
                        "and one trained model per size")
    flags.DEFINE_list("train_sizes", ["200", "1000", "5000", "10000", "20000", "50000"],
                      "training-set sizes (members); as many held-out samples are non-members")
    flags.DEFINE_integer("synthetic_samples", None, "samples of synthetic data (default: "
                         "3 x the largest size, or 2 x with --nocontrol)", lower_bound=1)
    flags.DEFINE_integer("synthetic_length", 550, "days of synthetic data (--data=synthetic)",
                         lower_bound=1)
    flags.DEFINE_enum("schedule", "epochs", ["epochs", "steps"], "keep --epochs (N / batch "
                      "steps each) or the number of --steps fixed across training-set sizes")
    flags.DEFINE_integer("epochs", 400, "training epochs per size (--schedule=epochs)",
                         lower_bound=1)
    flags.DEFINE_integer("steps", 2000, "training batches per size (--schedule=steps)",
                         lower_bound=1)
    common.define_dg_flags(sample_len=10, aux_critic=True, auto_normalize=True)
    flags.DEFINE_enum("critic", "main", ["main", "aux", "sum"], "the score the attacker ranks "
                      "by: the main critic, the auxiliary critic or their sum")
    flags.DEFINE_bool("control", True, "also attack two disjoint held-out sets (chance level)")
    flags.DEFINE_integer("seed", 0, "seed for the split, weights, batches and noise")
    flags.DEFINE_bool("resume", False, "reuse the rows of sizes already finished in --output "
                      "with the same settings")
    flags.DEFINE_integer("log_every", 500, "print losses every this many training steps",
                         lower_bound=1)
    flags.mark_flags_as_required(["output"])
    OWN_FLAGS.extend(sorted(set(FLAGS) - before))


def train_sizes():
    try:
        sizes = sorted({int(s) for s in FLAGS.train_sizes})
    except ValueError as exc:
        raise ValueError(f"--train_sizes must be integers, got {FLAGS.train_sizes}") from exc
    if not sizes or sizes[0] < 1:
        raise ValueError(f"--train_sizes must be positive integers, got {FLAGS.train_sizes}")
    return sizes


def split_pools(sizes):
    """(training pool, held-out pool): disjoint and seeded. Size n trains on the first n of the
    training pool and takes the first n held-out samples as non-members; the control set is
    held-out samples n..2n-1 (never trained on by any size)."""
    from doppelganger_tf.dataset import Dataset

    largest = sizes[-1]
    wanted = (3 if FLAGS.control else 2) * largest
    if FLAGS.data == "synthetic":
        from doppelganger_tf.synthetic import wwt_like_dataset
        data = wwt_like_dataset(FLAGS.synthetic_samples or wanted, FLAGS.synthetic_length,
                                FLAGS.seed)
    else:
        data = Dataset.load(FLAGS.data)
    rng = np.random.default_rng(FLAGS.seed)
    order = rng.permutation(len(data))
    if FLAGS.holdout_data:
        extra = Dataset.load(FLAGS.holdout_data)
        train, holdout = data.subset(order), extra.subset(rng.permutation(len(extra)))
    else:
        train, holdout = data.subset(order[:largest]), data.subset(order[largest:])
    if len(train) < largest or len(holdout) < largest:
        raise ValueError(
            f"the largest training size {largest} needs {largest} training and {largest} "
            f"held-out samples, but there are {len(train)} and {len(holdout)}: lower "
            "--train_sizes or give more data (--holdout_data, --synthetic_samples)")
    if FLAGS.control and len(holdout) < 2 * largest:
        logging.warning("%d held-out samples: the control (held-out vs held-out) needs 2n, so it "
                        "is skipped for sizes above %d", len(holdout), len(holdout) // 2)
    return train, holdout


def prepare():
    """Check the flags and read the data, before --output is created: (sizes, training pool,
    held-out pool)."""
    from doppelganger_tf.dataset import check_sample_len

    sizes = train_sizes()
    common.dg_run_settings()  # DGConfig and the run settings name the value they reject
    train_pool, holdout = split_pools(sizes)
    check_sample_len(train_pool.max_length, FLAGS.sample_len)
    return sizes, train_pool, holdout


def schedule(n: int):
    """(Keras epochs, steps per Keras epoch) for a training set of n samples."""
    if FLAGS.schedule == "steps":
        return 1, FLAGS.steps
    return FLAGS.epochs, max(1, n // FLAGS.batch_size)  # the model's N / batch epoch


def settings(n: int, sizes) -> dict:
    """What a finished row depends on (--resume reuses a row only if these match); the split
    (and the default amount of synthetic data) depends on the largest size."""
    keys = ["data", "holdout_data", "synthetic_samples", "synthetic_length", "schedule",
            "epochs", "steps", "sample_len", "batch_size", "aux_critic", "auto_normalize",
            "critic", "control", "seed"]
    # the other DoppelGANger flags count where set: rows saved before they were flags match
    changed = [name for name in [*common.dg_flag_names().values(), *common.RUN_SETTING_HELP]
               if name not in keys and FLAGS[name].value != FLAGS[name].default]
    return {"n": n, "largest_size": sizes[-1], **{k: FLAGS[k].value for k in keys + changed}}


def attack_one_size(n, train_pool, holdout, out: Path) -> dict:
    from doppelganger_tf.callbacks import ProgressLogger
    from doppelganger_tf.compat import keras
    from doppelganger_tf.evaluation import critic_scores, threshold_attack
    from doppelganger_tf.model import DoppelGANger

    members = train_pool.subset(np.arange(n))
    nonmembers = holdout.subset(np.arange(n))
    keras.utils.set_random_seed(FLAGS.seed)
    model = DoppelGANger.from_dataset(members, common.dg_config(), seed=FLAGS.seed,
                                      **common.dg_run_settings())
    model.compile()
    epochs, steps_per_epoch = schedule(n)
    total = epochs * steps_per_epoch
    logging.info("n=%d: training %d steps (each sample seen ~%.0f times)", n, total,
                 total * FLAGS.batch_size / n)
    started = time.perf_counter()
    log_epochs = max(1, FLAGS.log_every // steps_per_epoch)
    callbacks = [ProgressLogger(log_epochs, lambda s: logging.info("n=%d: %s", n, s))]
    if FLAGS.schedule == "steps":
        callbacks = [step_logger(FLAGS.log_every, n)]
    model.fit(members, epochs=epochs, steps_per_epoch=steps_per_epoch, seed=FLAGS.seed,
              verbose=0, callbacks=callbacks)
    train_time = time.perf_counter() - started
    model.save(out / "model")

    member_scores = critic_scores(model, members, critic=FLAGS.critic)
    nonmember_scores = critic_scores(model, nonmembers, critic=FLAGS.critic)
    result = threshold_attack(member_scores, nonmember_scores)
    row = {"train_size": n, "steps": total, "times_seen": total * FLAGS.batch_size / n,
           "success_rate": result["success_rate"], "auc": result["auc"],
           "member_score_mean": float(member_scores.mean()),
           "nonmember_score_mean": float(nonmember_scores.mean()),
           "train_time_s": train_time}
    if FLAGS.control:
        # two sets the model never saw: the attack's chance level and its noise at this n
        ctrl = {"success_rate": float("nan"), "auc": float("nan")}
        if len(holdout) >= 2 * n:
            ctrl = threshold_attack(critic_scores(model, holdout.subset(np.arange(n, 2 * n)),
                                                  critic=FLAGS.critic), nonmember_scores)
        row.update(control_success_rate=ctrl["success_rate"], control_auc=ctrl["auc"])
    row["wall_time_s"] = time.perf_counter() - started
    return row


def step_logger(every: int, n: int):
    """A Keras callback logging the losses every ``every`` steps of a one-epoch run."""
    from doppelganger_tf.compat import keras

    class StepLogger(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            done, total = batch + 1, self.params.get("steps")
            if done % max(1, every) and done != total:
                return
            losses = " ".join(f"{k}={float(v):.4g}" for k, v in (logs or {}).items())
            logging.info("n=%d: step %d/%s %s | %.0fs", n, done, total, losses,
                         time.perf_counter() - self.started)

    return StepLogger()


def write_outputs(rows, sizes, total_time):
    from doppelganger_tf.atomic import atomic_file
    from doppelganger_tf.evaluation import plot_membership

    out = Path(FLAGS.output)
    flag_values = {name: FLAGS[name].value for name in OWN_FLAGS}
    attack = ("LOGAN white-box attack: rank the n members and n held-out non-members by the "
              f"{FLAGS.critic} critic's score, call the top n members; success rate = fraction "
              "of correct calls (ties: expected value of a random choice); chance = 0.5")
    common.write_json(out / "results.json", {
        "dataset": "synthetic WWT-schema" if FLAGS.data == "synthetic" else FLAGS.data,
        "attack": attack, "flags": flag_values, "total_wall_time_s": total_time,
        "rows": {str(r["train_size"]): r for r in rows}})
    columns = ["train_size", "steps", "times_seen", "success_rate", "auc"]
    if FLAGS.control:
        columns += ["control_success_rate", "control_auc"]
    columns += ["train_time_s"]
    with atomic_file(out / "results.md") as f:
        f.write("# Membership inference vs training-set size (Figure 15)\n\n")
        f.write("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n")
        for r in rows:
            f.write("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |\n")
        f.write(f"\n{attack}. Paper (real WWT): ~51% at 50,000 training samples, 99.5% at 200."
                + (" Data: the embedded SYNTHETIC WWT-schema data, not real Wikipedia views."
                   if FLAGS.data == "synthetic" else "")
                + f" Schedule: {FLAGS.schedule}. Total wall time {total_time:.0f} s.\n")
    curves = {"members vs held-out": [r["success_rate"] for r in rows]}
    if FLAGS.control:
        curves["control: held-out vs held-out"] = [r["control_success_rate"] for r in rows]
    plot_membership(sizes, curves, out / "figure15_membership.png",
                    title="Membership inference vs training-set size")


def _cell(value) -> str:
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, float) and not np.isfinite(value):
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return "-"


def run(prepared):
    started = time.perf_counter()
    sizes, train_pool, holdout = prepared
    rows = []
    for n in sizes:
        out = Path(FLAGS.output) / f"n_{n}"
        row_file = out / "row.json"
        if FLAGS.resume and row_file.exists():
            saved = json.loads(row_file.read_text())
            if saved.get("settings") == settings(n, sizes):
                logging.info("n=%d: reusing %s", n, row_file)
                rows.append(saved["row"])
                continue
        row = attack_one_size(n, train_pool, holdout, out)
        common.write_json(row_file, {"settings": settings(n, sizes), "row": row})
        logging.info("n=%d: success rate %.3f (AUC %.3f)%s", n, row["success_rate"], row["auc"],
                     f", control {row['control_success_rate']:.3f}" if FLAGS.control else "")
        rows.append(row)
    write_outputs(rows, sizes, time.perf_counter() - started)
    common.show_results("figure15_membership.png")


if __name__ == "__main__":
    define_membership_flags()
    common.run_main(run, prepare)
