"""A heavy-tailed column through the automatic path, with and without its transform (issue 30).

    python bench/heavy_tail.py [--seconds 180] [--seed 0] [--runs auto,none]

Builds the issue's constructed case: 80 series x 336 hourly steps of a positive column,
``memory`` (a fraction of the largest host's, as VM traces give it), where most series sit
around 1e-3 of the column's maximum and a few (5) near it, with a daily cycle and noise, and a
categorical attribute ``pool``.  Then, per run, the code of docs/quickstart.md on the automatic
path: ``Dataset.from_dataframe`` (``transforms="auto"``, the default, or ``"none"``),
``describe()``'s line for the column, ``suggest_config(data, seconds)`` for the settings and the
time budget (``TrainingTimeLimit``), ``FidelityTracker(keep_best="auto")``, ``fit``, then
``generate`` and ``to_dataframe``.

Prints, per run, in the input's units: the mean per-series total of ``memory`` (generated
against real), its distance against the real-vs-real floor (the difference between the means of
two random halves of the real series, averaged over 20 splits), the W1 of the per-series totals
against its floor (two halves, the same splits), the share of the real heavy series' level the
generated series reach, and the generated lengths (the real ones are all 336).  Asserts nothing;
not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

SERIES, HOURS, HEAVY = 80, 336, 5
SPLITS = 20  # random halves of the real series the floors average over
GENERATED = 800  # generated series scored (10x the real ones: the real side's noise dominates)


def constructed_frame(seed: int) -> pd.DataFrame:
    """The issue's case: most series around 1e-3 of the column's maximum, a few near it."""
    rng = np.random.default_rng(seed)
    heavy = np.zeros(SERIES, bool)
    heavy[rng.choice(SERIES, HEAVY, replace=False)] = True
    level = np.where(heavy, rng.uniform(0.5, 0.9, SERIES),
                     rng.lognormal(np.log(1e-3), 0.5, SERIES))
    hours = np.arange(HOURS)
    daily = 1.0 + 0.3 * np.sin(2 * np.pi * (hours[None, :] / 24.0 + rng.uniform(0, 1, (SERIES, 1))))
    memory = level[:, None] * daily * rng.lognormal(0.0, 0.1, (SERIES, HOURS))
    # the big hosts are mostly database ones: the attribute tells something about the level
    pool = np.where(heavy, rng.choice(["db", "web"], SERIES, p=[0.8, 0.2]),
                    rng.choice(["batch", "web", "db"], SERIES, p=[0.4, 0.4, 0.2]))
    return pd.DataFrame({
        "host": np.repeat([f"vm{i:02d}" for i in range(SERIES)], HOURS),
        "time": np.tile(pd.date_range("2024-03-04", periods=HOURS, freq="h"), SERIES),
        "memory": memory.ravel(),
        "pool": np.repeat(pool, HOURS)})


def totals(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby("host", sort=False)["memory"].sum().to_numpy()


def w1(a, b) -> float:
    from scipy.stats import wasserstein_distance
    return float(wasserstein_distance(a, b))


# the figures, each a distance between two sets of per-series totals: the mean total (the
# issue's criterion; with 5 heavy series in 80 its floor is wide), the W1 of the totals and the
# W1 of their log10 (which sees the bulk of small series as well as the few large ones)
FIGURES = {
    "mean per-series total, |difference|": lambda a, b: abs(a.mean() - b.mean()),
    "W1 of per-series totals": w1,
    "W1 of log10 per-series totals": lambda a, b: w1(np.log10(a), np.log10(b)),
}


def floors(real: np.ndarray, seed: int) -> dict:
    """Each figure between two random halves of the real series, averaged over SPLITS."""
    rng = np.random.default_rng(seed)
    values = {name: [] for name in FIGURES}
    for _ in range(SPLITS):
        order = rng.permutation(len(real))
        a, b = real[order[:len(real) // 2]], real[order[len(real) // 2:]]
        for name, figure in FIGURES.items():
            values[name].append(figure(a, b))
    return {name: float(np.mean(v)) for name, v in values.items()}


def run(frame: pd.DataFrame, transforms: str, seconds: float, seed: int) -> dict:
    """The quickstart's code on the automatic path; the generated frame and what happened."""
    import tensorflow as tf
    from doppelganger_tf import Dataset, DoppelGANger, FidelityTracker
    from doppelganger_tf.suggestion import suggest_config

    data = Dataset.from_dataframe(frame, id_column="host", time_column="time",
                                  feature_columns="memory", attribute_columns="pool",
                                  transforms=transforms)
    text = []
    data.describe(print_fn=text.append)
    line = next(row.strip() for row in text[0].splitlines() if "'memory'" in row)
    suggestion = suggest_config(data, seconds=seconds)
    if suggestion.rebuild:  # T must be a multiple of the suggested S
        data = Dataset.from_dataframe(frame, id_column="host", time_column="time",
                                      feature_columns="memory", attribute_columns="pool",
                                      transforms=transforms,
                                      sample_len=suggestion.config.sample_len)
    tf.keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(data, suggestion.config, seed=seed)
    model.compile()
    tracker = FidelityTracker(every=50, keep_best="auto")
    started = time.perf_counter()
    history = model.fit(data, epochs=suggestion.epochs, verbose=0,
                        callbacks=[tracker, *suggestion.callbacks()])
    trained = time.perf_counter() - started
    generated = model.generate(GENERATED, seed=seed + 1)
    return {"describe": line, "config": suggestion.config, "epochs": len(history.epoch),
            "restored": tracker.restored_epoch, "seconds": trained,
            "out": generated.to_dataframe(seed=seed + 1), "lengths": generated.lengths}


def report(name: str, result: dict, real: np.ndarray, floor: dict) -> None:
    out = result["out"]
    generated = np.maximum(totals(out), 1e-300)  # log10 of a zero total
    lengths = result["lengths"]
    config = result["config"]
    restored = None if result["restored"] is None else result["restored"] + 1
    print(f"\n== transforms={name!r}")
    print(f"  describe: {result['describe']}")
    print(f"  settings: sample_len={config.sample_len} auto_normalize={config.auto_normalize} "
          f"batch_size={config.batch_size}; {result['epochs']} epochs in "
          f"{result['seconds']:.0f} s, keep-best kept epoch {restored} (counted from 1, as "
          "in the tracker's line)")
    print(f"  mean per-series total: generated {generated.mean():.4g} vs real {real.mean():.4g}; "
          f"median {np.median(generated):.4g} vs {np.median(real):.4g}")
    for figure, distance in FIGURES.items():
        value = distance(generated, real)
        print(f"  {figure}: {value:.4g} = {value / floor[figure]:.2f}x the floor "
              f"{floor[figure]:.4g}")
    top = np.sort(generated)[-max(1, len(generated) * HEAVY // SERIES):].mean()
    print(f"  the top {HEAVY / SERIES:.1%} of generated totals average {top:.4g} (the real "
          f"{HEAVY} heavy series {np.sort(real)[-HEAVY:].mean():.4g}); generated values "
          f"{out['memory'].min():.3g}..{out['memory'].max():.3g}")
    print(f"  generated lengths: min {lengths.min()} median {np.median(lengths):g} max "
          f"{lengths.max()}; {np.mean(lengths == HOURS):.0%} of the series are {HOURS} steps "
          f"long (all the real ones are)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0,
                        help="training budget of each run, wall time (TrainingTimeLimit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="auto,none",
                        help="the transforms= of each run, comma-separated")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from doppelganger_tf import set_cpu_threads
    set_cpu_threads()

    frame = constructed_frame(args.seed)
    real = totals(frame)
    floor = floors(real, args.seed)
    print(f"real: {SERIES} series x {HOURS} hours, memory {frame['memory'].min():.3g}.."
          f"{frame['memory'].max():.3g} (median {frame['memory'].median():.3g}); per-series "
          f"total mean {real.mean():.4g}, median {np.median(real):.4g}; floors: {SPLITS} "
          f"random splits into halves")
    for name in args.runs.split(","):
        report(name, run(frame, name, args.seconds, args.seed), real, floor)


if __name__ == "__main__":
    main()
