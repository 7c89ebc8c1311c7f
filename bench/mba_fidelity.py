"""DoppelGANger on the real MBA data at a fixed wall-time budget: the fidelity of each setting.

    python bench/mba_fidelity.py --data ../shared/data/fcc_mba --sample_lens 4,8 --seeds 0,1,2 \
        --seconds 1200 --output runs/mba_fidelity

Each (sample_len, seed) trains in its own subprocess, one after another (never two at once: the
comparison is at equal wall time on the same cores), with the repository's MBA settings (no
auxiliary critic, no auto-normalisation, batch 100; ``--set field=value`` changes any other
DGConfig field) until ``--seconds`` of wall time have passed (``TrainingTimeLimit``: the clock
starts when training starts, graph tracing included). A ``FidelityTracker`` scores every
``--track_every`` epochs against the training data; its time counts in the budget.

Figures (issue 18's definitions), for the last epoch's weights ("final") and for the weights of
the tracked epoch past the tracker's warm-up (its first 10% of the seconds) that was best by each
of :func:`criteria` ("best_acf", "best_goal", "best_targets", "best_floor", "best_auto"), from
``--score_samples`` (default ``len(real)``) samples generated with other noise than the
tracker's, against the real data (with more, also the range over consecutive draws of
``len(real)`` samples, which shows how much one draw moves a figure):
- ``acf_mse``: MSE between the autocorrelation curves of traffic (feature_0, [0,1]-scaled), lags
  1..T-2; each curve is the mean over samples of each sample's Pearson correlation of x[:-L]
  and x[L:]; ``lag4``, ``lag12``, ``lag36``: the generated curve at those lags (real beside it);
- ``w1_dsl``, ``w1_cable``: W1 of per-home total traffic ([0,1]-scaled) of DSL / cable homes
  (technology categories 0 / 3 of the released data; the paper's Table 2);
- ``jsd_<attribute>``: JSD of each attribute's categories.
The "real halves" row compares two random halves of the real data (mean over 5 splits): the
floor. Prints one row per run and the mean / min / max over seeds per setting; writes
``<output>/results.json``, and for each run the ``evaluate`` report of the weights kept by the
autocorrelation MSE (``<output>/s<S>_seed<seed>_report/``). Asserts nothing; not part of the test suite (docs/performance.md, "MBA fidelity at 1,200 s").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from compare_peers import parse_overrides  # bench/compare_peers.py: "field=value" items

ROOT = Path(__file__).resolve().parent.parent
FEATURE, TECHNOLOGY = "feature_0", "attribute_1"
DSL, CABLE = 0, 3  # technology categories of the released data (../shared/data/README.md)
LAGS = (4, 12, 36)
EVALUATION_SEED_OFFSET = 10_000
MBA_SETTINGS = {"use_aux_critic": False, "auto_normalize": False, "batch_size": 100}
COLUMNS = ["acf_mse", "lag4", "lag12", "lag36", "w1_dsl", "w1_cable", "jsd_attribute_0",
           "jsd_attribute_1", "jsd_attribute_2"]


def autocorrelation_curve(dataset):
    from doppelganger_tf.evaluation.fidelity import summarize
    return summarize(dataset, ["acf"], [FEATURE]).acf[FEATURE]


def figures(real, synthetic, real_curve=None) -> dict:
    """The issue's figures of ``synthetic`` against ``real`` (module docstring)."""
    from doppelganger_tf import evaluation as ev
    real_curve = autocorrelation_curve(real) if real_curve is None else real_curve
    curve = autocorrelation_curve(synthetic)
    w1 = ev.wasserstein_by_attribute(real, synthetic, FEATURE, TECHNOLOGY, values=[DSL, CABLE])
    result = {"acf_mse": ev.autocorrelation_mse(real_curve, curve),
              **{f"lag{lag}": float(curve[lag - 1]) for lag in LAGS},
              "w1_dsl": w1[DSL], "w1_cable": w1[CABLE]}
    for name in real.attribute_names:
        result[f"jsd_{name}"] = ev.attribute_jsd(real, synthetic, name)
    return result


def real_halves(real, splits: int = 5) -> dict:
    """The floor: figures of one random half against the other, averaged over ``splits``."""
    rows = []
    for split in range(splits):
        order = np.random.default_rng(split).permutation(len(real))
        a, b = real.subset(order[:len(real) // 2]), real.subset(order[len(real) // 2:])
        rows.append(figures(a, b))
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


# --------------------------------------------------------------------------- one run (worker)

def run_worker(args) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from doppelganger_tf import DGConfig, DoppelGANger, FidelityTracker, TrainingTimeLimit
    from doppelganger_tf.compat import keras
    from doppelganger_tf.runtime import apply_thread_setting
    from doppelganger_tf.dataset import Dataset

    apply_thread_setting(args.cpu_threads)
    real = Dataset.load(args.data)
    settings = {**MBA_SETTINGS, **parse_overrides(args.set), "sample_len": args.sample_len}
    keras.utils.set_random_seed(args.seed)
    model = DoppelGANger.from_dataset(real, DGConfig(**settings), seed=args.seed)
    model.compile()
    # keep_best="auto" logs its combination (the keeper keeps the weights) and a warm-up
    tracker = FidelityTracker(every=args.track_every, num_samples=len(real),
                              metrics=("acf", "total", "attribute"), keep_best="auto",
                              restore_best=False, by_category=True, seed=args.seed,
                              print_fn=None, generated_samples=args.tracker_samples)
    keeper = BestKeeper(tracker)
    limit = TrainingTimeLimit(args.seconds)
    started, elapsed = [], {}  # seconds from the start of training to each epoch's end
    clock = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: started.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: elapsed.__setitem__(epoch,
                                                             time.perf_counter() - started[0]))
    model.fit(real, epochs=10 ** 7, seed=args.seed, verbose=0,
              callbacks=[tracker, keeper, limit, clock])
    real_curve = autocorrelation_curve(real)
    seed = args.seed + EVALUATION_SEED_OFFSET  # not the tracker's noise: no selection bias

    def score():
        # On ``--score_samples`` generated homes; with more than the real data holds, also the
        # figures of each consecutive len(real)-sized draw, to show how much one draw moves them.
        synthetic = model.generate(args.score_samples or len(real), seed=seed)
        result = figures(real, synthetic, real_curve)
        draws = [synthetic.subset(np.arange(start, start + len(real)))
                 for start in range(0, len(synthetic) - len(real) + 1, len(real))]
        if len(draws) > 1:
            result["draws"] = [figures(real, draw, real_curve) for draw in draws]
        return result

    result = {"sample_len": args.sample_len, "seed": args.seed, "settings": settings,
              "epochs": limit.stopped_epoch + 1 if limit.stopped_epoch is not None else None,
              "train_seconds": limit.elapsed, "tracker_seconds": tracker.seconds,
              "final": score()}
    for name, (epoch, _, weights) in keeper.best.items():
        model.set_weights(weights)
        result[f"best_{name}"] = {"epoch": epoch + 1, "seconds": elapsed[epoch], **score()}
    if "acf" in keeper.best:  # the kept model's evaluate report, beside the run's figures
        from doppelganger_tf.evaluation import evaluate
        model.set_weights(keeper.best["acf"][2])
        report = Path(args.worker_output).with_name(Path(args.worker_output).stem + "_report")
        try:  # the figures above are the run's result: a failed report must not lose them
            evaluate(real, model.generate(len(real), seed=seed), report, seed=args.seed)
        except Exception as error:  # noqa: BLE001
            print(f"no report in {report}: {type(error).__name__}: {error}", flush=True)
    result["track"] = [{"epoch": epoch + 1, "seconds": elapsed[epoch],
                        **{key: values[i] for key, values in tracker.history.items()
                           if "attribute_0=" not in key and "attribute_2=" not in key}}
                       for i, epoch in enumerate(tracker.epochs)]
    return result


def criteria(logs) -> dict:
    """Selection criteria of the tracker's figures (lower is better): "acf", the
    autocorrelation MSE alone; "goal", the autocorrelation MSE over its goal (0.005) plus the
    mean DSL / cable total-traffic W1 over its goal (0.30); "targets", the mean of the three
    figures over their goals (0.005, 0.30, 0.30: what ``FidelityTracker(keep_best=[...],
    keep_best_targets=[...])`` and experiments/flags/mba_1200s.flags minimise); "floor", the
    mean of the three figures' ratios to their real-vs-real floors (what
    ``FidelityTracker(keep_best=[...])`` minimises); "auto", what
    ``FidelityTracker(keep_best="auto")`` minimises (every feature's autocorrelation, mean and
    flat share, the attributes)."""
    from doppelganger_tf.fidelity_callback import mean_ratio, target_ratio
    keys = [f"acf_mse/{FEATURE}",
            *(f"w1_total/{FEATURE}/{TECHNOLOGY}={c}" for c in (DSL, CABLE))]
    acf, *w1 = [logs[f"fidelity/{key}"] for key in keys]
    return {"acf": acf, "goal": acf / 0.005 + float(np.mean(w1)) / 0.30,
            "targets": target_ratio([acf, *w1], [0.005, 0.30, 0.30]),
            "floor": mean_ratio([logs[f"fidelity/ratio/{key}"] for key in keys]),
            "auto": logs["fidelity/keep_best_floor_ratio"]}


def BestKeeper(tracker):  # noqa: N802 (builds a Keras callback; Keras is imported in the worker)
    from doppelganger_tf.compat import keras

    class Keeper(keras.callbacks.Callback):
        """After the tracker (DoppelGANger.fit runs trackers first): for each of
        :func:`criteria`, the weights of the evaluated epoch past the tracker's warm-up where it
        was lowest."""

        def __init__(self):
            super().__init__()
            self.best = {}  # criterion -> (epoch, value, weights)

        def on_epoch_end(self, epoch, logs=None):
            if epoch not in tracker.eligible_epochs:
                return
            for name, value in criteria(logs).items():
                if name not in self.best or value < self.best[name][1]:
                    self.best[name] = (epoch, value, self.model.get_weights())

    return Keeper()


# --------------------------------------------------------------------------- the sweep

def run_sweep(args):
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    from doppelganger_tf.dataset import Dataset
    real = Dataset.load(args.data)
    results = {"floor": real_halves(real), "runs": []}
    done = out / "results.json"
    if done.exists() and args.resume:
        results["runs"] = json.loads(done.read_text())["runs"]
    for seed in args.seeds:  # each seed's settings side by side, in case the sweep is cut short
        for sample_len in args.sample_lens:
            if any(r["sample_len"] == sample_len and r["seed"] == seed for r in results["runs"]):
                continue
            run_file = out / f"s{sample_len}_seed{seed}.json"
            command = [sys.executable, __file__, "--worker", "--data", args.data,
                       "--sample_len", str(sample_len), "--seed", str(seed),
                       "--seconds", str(args.seconds), "--track_every", str(args.track_every),
                       "--tracker_samples", str(args.tracker_samples or 0),
                       "--score_samples", str(args.score_samples or 0),
                       "--cpu_threads", args.cpu_threads, "--worker_output", str(run_file)]
            for item in args.set or []:
                command += ["--set", item]
            print(f"S={sample_len} seed={seed}: training {args.seconds:.0f} s", flush=True)
            subprocess.run(command, check=True)
            results["runs"].append(json.loads(run_file.read_text()))
            done.write_text(json.dumps(results, indent=1))
    print_table(results)


def print_table(results):
    floor = results["floor"]
    print("\n" + " | ".join(["run", "epochs"] + COLUMNS))
    print("real halves | - | " + " | ".join(f"{floor[c]:.4g}" for c in COLUMNS))
    by_setting = {}
    for run in results["runs"]:
        for kind in ("final", "best_acf", "best_goal", "best_targets", "best_floor", "best_auto"):
            if kind not in run:
                continue
            epochs = run["epochs"] if kind == "final" else run[kind]["epoch"]
            print(f"S={run['sample_len']} seed={run['seed']} {kind} | {epochs} | "
                  + " | ".join(f"{run[kind][c]:.4g}" for c in COLUMNS))
            by_setting.setdefault((run["sample_len"], kind), []).append(run[kind])
            if "draws" in run[kind]:  # the spread over draws of len(real) samples
                print(f"  over {len(run[kind]['draws'])} draws as large as the real data: "
                      + " | ".join(f"{c} {min(d[c] for d in run[kind]['draws']):.3g}-"
                                   f"{max(d[c] for d in run[kind]['draws']):.3g}"
                                   for c in ("acf_mse", "w1_dsl", "w1_cable")))
    print("\nover seeds: mean [min, max]")
    for (sample_len, kind), rows in sorted(by_setting.items()):
        cells = [f"{np.mean([r[c] for r in rows]):.4g} [{min(r[c] for r in rows):.3g}, "
                 f"{max(r[c] for r in rows):.3g}]" for c in COLUMNS]
        print(f"S={sample_len} {kind} ({len(rows)} seeds) | " + " | ".join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fcc_mba"))
    parser.add_argument("--output", default="runs/mba_fidelity")
    parser.add_argument("--sample_lens", type=lambda s: [int(v) for v in s.split(",")],
                        default=[4, 8])
    parser.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")],
                        default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, default=1200.0)
    parser.add_argument("--track_every", type=int, default=500)
    parser.add_argument("--tracker_samples", type=lambda v: int(v) or None, default=None,
                        help="samples the tracker generates per evaluation (default: as many "
                             "as the real data holds)")
    parser.add_argument("--score_samples", type=lambda v: int(v) or None, default=None,
                        help="samples generated to score each kept model (default: as many as "
                             "the real data holds); more also prints the spread over draws of "
                             "that size")
    parser.add_argument("--set", action="append", help="DGConfig field=value (repeatable)")
    parser.add_argument("--cpu_threads", default="auto")
    parser.add_argument("--resume", action="store_true", help="skip runs in results.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sample_len", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker_output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = run_worker(args)
        Path(args.worker_output).write_text(json.dumps(result, indent=1, default=float))
    else:
        run_sweep(args)


if __name__ == "__main__":
    main()
