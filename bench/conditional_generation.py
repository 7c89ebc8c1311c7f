"""Conditional generation on the real MBA data: some attributes given, series continued, gaps
filled (docs/conditional_generation.md).

    python bench/conditional_generation.py --data ../shared/data/fcc_mba --seconds 900 \
        --output runs/conditional

Holds out ``--holdout`` homes (seeded), trains DoppelGANger on the others with the repository's
MBA settings (S=8, no auxiliary critic, no auto-normalisation, batch 100) for ``--seconds`` of
wall time (or loads ``--model``), saves it, and measures:

1. Attributes: for each technology with at least ``--min_homes`` real homes, ``--requests``
   samples with only the technology given; the JSD of ISP and of state between the sampled
   rows and the real homes of that technology (all homes), beside the floor (two random
   halves of those real homes, mean of 20 splits), the draws per kept sample and the time per
   sample. Then a combination the model never generates, for the error.
2. Continuation: each held-out home's first ``--prefix`` steps given (with its attributes),
   ``--continuations`` continuations to T. Per feature, on the [0, 1]-scaled values of the steps
   after the prefix: RMSE of the continuations' median, the share of real values inside their
   10-90% band (0.8 when calibrated), and the fit's RMSE on the prefix (the model's own
   reproduction); beside a seasonal-naive forecast (the prefix's last period repeated; the
   period is suggest_config's), the repository's AR baseline (trained on the same homes, rolled
   on from the prefix) and unconditional DoppelGANger (the home's attributes given, no prefix).
3. Gaps: in each held-out home, ``--gaps`` gaps of 2-8 steps at random (all features of a
   step missing); RMSE on the missing cells of the median of ``--fills`` fills and their 10-90%
   band's coverage, against linear interpolation by position with edge fill (the rule of
   ``missing="interpolate"``).
Prints the tables and writes ``<output>/results.json``. Asserts nothing; not a unit test.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MBA_SETTINGS = {"use_aux_critic": False, "auto_normalize": False, "batch_size": 100,
                "sample_len": 8}
TECHNOLOGY, ISP, STATE = "attribute_1", "attribute_0", "attribute_2"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/fcc_mba")
    parser.add_argument("--output", default="runs/conditional")
    parser.add_argument("--model", help="a saved model to use instead of training one")
    parser.add_argument("--seconds", type=float, default=900.0)
    parser.add_argument("--holdout", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--min_homes", type=int, default=30)
    parser.add_argument("--prefix", type=int, default=28)
    parser.add_argument("--continuations", type=int, default=20)
    parser.add_argument("--gaps", type=int, default=3)
    parser.add_argument("--fills", type=int, default=10)
    parser.add_argument("--ar_epochs", type=int, default=10)
    return parser.parse_args()


def categories(dataset, name):
    from doppelganger_tf.evaluation.metrics import attribute_codes
    return attribute_codes(dataset, name)


def histogram(codes, size):
    return np.bincount(codes, minlength=size).astype(float)


def jsd(a_codes, b_codes, size):
    from doppelganger_tf.evaluation.metrics import jensen_shannon_divergence
    return jensen_shannon_divergence(histogram(a_codes, size), histogram(b_codes, size))


def attribute_table(model, real, args):
    """Item 1: the technology given, ISP and state sampled."""
    import pandas as pd
    from doppelganger_tf import conditional
    tech = categories(real, TECHNOLOGY)
    labels = {o.name: o.labels() for o in real.attribute_outputs}
    rng = np.random.default_rng(args.seed)
    rows = []
    for code in np.unique(tech):
        homes = np.flatnonzero(tech == code)
        if len(homes) < args.min_homes:
            continue
        label = labels[TECHNOLOGY][code]
        given = pd.DataFrame({TECHNOLOGY: [label] * args.requests})
        started = time.perf_counter()
        completed = conditional.complete_attributes(model, given, seed=args.seed)
        seconds = time.perf_counter() - started
        sampled = model.generate(attributes=completed.attributes, seed=args.seed)
        row = {"technology": str(label), "real_homes": int(len(homes)),
               "real_share": len(homes) / len(real),
               "model_share": completed.matched / completed.draws,
               "ms_per_sample": 1000 * seconds / args.requests,
               "exact": bool((categories(sampled, TECHNOLOGY) == code).all())}
        for name in (ISP, STATE):
            size = len(labels[name])
            real_codes = categories(real, name)[homes]
            row[f"jsd_{name}"] = jsd(categories(sampled, name), real_codes, size)
            floors = []
            for _ in range(20):
                half = rng.permutation(len(homes))
                floors.append(jsd(real_codes[half[:len(homes) // 2]],
                                  real_codes[half[len(homes) // 2:]], size))
            row[f"floor_{name}"] = float(np.mean(floors))
        rows.append(row)
    rare = rare_combination_message(model, real, labels)
    return rows, rare


def rare_combination_message(model, real, labels):
    """A technology and state no real home has, asked for with a small draw budget."""
    import pandas as pd
    from doppelganger_tf import conditional
    tech, state = categories(real, TECHNOLOGY), categories(real, STATE)
    seen = set(zip(tech.tolist(), state.tolist()))
    for t in range(len(labels[TECHNOLOGY])):
        for s in range(len(labels[STATE])):
            if (t, s) not in seen:
                given = pd.DataFrame({TECHNOLOGY: [labels[TECHNOLOGY][t]],
                                      STATE: [labels[STATE][s]]})
                try:
                    conditional.complete_attributes(model, given, seed=0, max_draws=200_000)
                except ValueError as error:
                    return str(error)
                return f"{labels[TECHNOLOGY][t]}/{labels[STATE][s]}: reached (no error)"
    return "every combination occurs in the real data"


# the band's edges are widened by 0.1% of the range: 98% of the real ping-loss values are
# exactly 0, which a sigmoid output approaches but never reaches
BAND_TOLERANCE = 1e-3


def band_figures(samples, truth, cells):
    """(RMSE of the samples' median, share of truths inside their 10-90% band) over cells.
    samples [N, m, T], truth [N, T], cells bool [N, T]."""
    median = np.median(samples, axis=1)
    low, high = np.quantile(samples, [0.1, 0.9], axis=1)
    low, high = low - BAND_TOLERANCE, high + BAND_TOLERANCE
    rmse = float(np.sqrt(np.mean((median - truth)[cells] ** 2)))
    inside = float(np.mean(((truth >= low) & (truth <= high))[cells]))
    return rmse, inside


def continuation_table(model, train, test, args):
    """Item 2."""
    from doppelganger_tf import observed
    from doppelganger_tf.baselines.ar import ARBaseline
    from doppelganger_tf.dataset import Dataset
    from doppelganger_tf.suggestion import suggest_config
    k, m, t = args.prefix, args.continuations, test.max_length
    flags = test.gen_flags.copy()
    flags[:, k:] = 0
    prefix = Dataset(test.features * flags[..., None], test.attributes, flags,
                     test.feature_outputs, test.attribute_outputs, test.feature_min,
                     test.feature_max, test.attribute_min, test.attribute_max)
    started = time.perf_counter()
    out = observed.continue_series(model, prefix, num=m, seed=args.seed, keep_observed=False)
    seconds = time.perf_counter() - started
    samples = out.features.reshape(len(test), m, t, -1)
    unconditional = model.generate(attributes=np.repeat(test.attributes, m, axis=0),
                                   seed=args.seed).features.reshape(len(test), m, t, -1)
    period = suggest_config(train).measurements["period"] or 1
    ar = ARBaseline().fit(train, epochs=args.ar_epochs, seed=args.seed)
    ar_forecast = ar.continue_series(prefix, t)
    after = np.zeros((len(test), t), bool)
    after[:, k:] = True
    on_prefix = ~after
    rows = []
    for j, o in enumerate(test.feature_outputs):
        truth = test.features[..., j]
        naive = np.concatenate([truth[:, :k]] + [truth[:, k - period:k]] * (-(-(t - k) // period)),
                               axis=1)[:, :t]
        dg_rmse, dg_inside = band_figures(samples[..., j], truth, after)
        un_rmse, un_inside = band_figures(unconditional[..., j], truth, after)
        prefix_rmse = float(np.sqrt(np.mean((samples[..., j] - truth[:, None])[
            np.broadcast_to(on_prefix[:, None], samples[..., j].shape)] ** 2)))
        rows.append({"feature": o.name, "dg_rmse": dg_rmse, "dg_in_band": dg_inside,
                     "dg_prefix_rmse": prefix_rmse, "unconditional_rmse": un_rmse,
                     "unconditional_in_band": un_inside,
                     "seasonal_naive_rmse": float(np.sqrt(np.mean(((naive - truth)[after]) ** 2))),
                     "ar_rmse": float(np.sqrt(np.mean(((ar_forecast[..., j] - truth)[after]) ** 2)))})
    return rows, {"period": int(period), "seconds": seconds,
                  "ms_per_continuation": 1000 * seconds / (len(test) * m)}


def interpolate(values, missing):
    """Linear interpolation by position between the nearest observed steps; edge fill."""
    out = values.copy()
    steps = np.arange(values.shape[1])
    for i in range(len(values)):
        known = ~missing[i]
        out[i, ~known] = np.interp(steps[~known], steps[known], values[i, known])
    return out


def gap_table(model, test, args):
    """Item 3."""
    from doppelganger_tf import observed
    rng = np.random.default_rng(args.seed + 1)
    n, t = len(test), test.max_length
    missing = np.zeros((n, t), bool)
    for i in range(n):
        for _ in range(args.gaps):
            width = int(rng.integers(2, 9))
            start = int(rng.integers(0, t - width + 1))
            missing[i, start:start + width] = True
    started = time.perf_counter()
    filled = observed.impute(model, test, missing, num=args.fills, seed=args.seed)
    seconds = time.perf_counter() - started
    samples = filled.features.reshape(n, args.fills, t, -1)
    rows = []
    for j, o in enumerate(test.feature_outputs):
        truth = test.features[..., j]
        kept = np.broadcast_to(~missing[:, None], samples[..., j].shape)
        unchanged = bool(np.array_equal(samples[..., j][kept],
                                        np.broadcast_to(truth[:, None], kept.shape)[kept]))
        dg_rmse, dg_inside = band_figures(samples[..., j], truth, missing)
        linear = interpolate(truth, missing)
        rows.append({"feature": o.name, "dg_rmse": dg_rmse, "dg_in_band": dg_inside,
                     "linear_rmse": float(np.sqrt(np.mean(((linear - truth)[missing]) ** 2))),
                     "observed_unchanged": unchanged})
    return rows, {"missing_share": float(missing.mean()), "seconds": seconds}


def train(real, args):
    from doppelganger_tf import DGConfig, DoppelGANger, TrainingTimeLimit
    from doppelganger_tf.compat import keras
    keras.utils.set_random_seed(args.seed)
    model = DoppelGANger.from_dataset(real, DGConfig(**MBA_SETTINGS), seed=args.seed)
    model.compile()
    model.fit(real, epochs=10 ** 7, seed=args.seed, verbose=0,
              callbacks=[TrainingTimeLimit(args.seconds)])
    return model


def main():
    args = parse_args()
    from doppelganger_tf import DoppelGANger
    from doppelganger_tf.dataset import Dataset
    real = Dataset.load(args.data)
    order = np.random.default_rng(args.seed).permutation(len(real))
    test, train_set = real.subset(order[:args.holdout]), real.subset(order[args.holdout:])
    output = Path(args.output)
    if args.model:
        model = DoppelGANger.load(args.model)
    else:
        started = time.perf_counter()
        model = train(train_set, args)
        print(f"trained {model.training_steps} steps in {time.perf_counter() - started:.0f} s")
        model.save(output / "model")
    attributes, rare = attribute_table(model, real, args)
    continuation, continuation_info = continuation_table(model, train_set, test, args)
    gaps, gap_info = gap_table(model, test, args)
    results = {"args": vars(args), "attributes": attributes, "rare": rare,
               "continuation": continuation, "continuation_info": continuation_info,
               "gaps": gaps, "gap_info": gap_info}
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(results, indent=1))
    print_tables(results)


def print_tables(results):
    print("\n1. technology given; ISP and state sampled (JSD vs the real homes of the technology)")
    print("| technology | real homes | JSD ISP (floor) | JSD state (floor) | "
          "model's share (real) | ms per sample | exact |")
    print("|---|---|---|---|---|---|---|")
    for r in results["attributes"]:
        print(f"| {r['technology']} | {r['real_homes']} | {r['jsd_attribute_0']:.4f} "
              f"({r['floor_attribute_0']:.4f}) | {r['jsd_attribute_2']:.4f} "
              f"({r['floor_attribute_2']:.4f}) | {r['model_share']:.3f} ({r['real_share']:.3f}) | "
              f"{r['ms_per_sample']:.3f} | {r['exact']} |")
    print(f"a combination no real home has: {results['rare']}")
    info = results["continuation_info"]
    print(f"\n2. continuation (period {info['period']}, {info['ms_per_continuation']:.1f} ms per "
          "continuation)")
    print("| feature | DG RMSE | DG in 10-90% band | DG prefix RMSE | unconditional DG RMSE "
          "(band) | seasonal naive RMSE | AR RMSE |")
    print("|---|---|---|---|---|---|---|")
    for r in results["continuation"]:
        print(f"| {r['feature']} | {r['dg_rmse']:.4f} | {r['dg_in_band']:.2f} | "
              f"{r['dg_prefix_rmse']:.4f} | {r['unconditional_rmse']:.4f} "
              f"({r['unconditional_in_band']:.2f}) | {r['seasonal_naive_rmse']:.4f} | "
              f"{r['ar_rmse']:.4f} |")
    info = results["gap_info"]
    print(f"\n3. gaps ({100 * info['missing_share']:.0f}% of the steps missing, "
          f"{info['seconds']:.1f} s)")
    print("| feature | DG RMSE | DG in 10-90% band | linear interpolation RMSE | observed unchanged |")
    print("|---|---|---|---|---|")
    for r in results["gaps"]:
        print(f"| {r['feature']} | {r['dg_rmse']:.4f} | {r['dg_in_band']:.2f} | "
              f"{r['linear_rmse']:.4f} | {r['observed_unchanged']} |")


if __name__ == "__main__":
    main()
