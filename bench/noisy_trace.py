"""The automatic path on a large, noisy trace scored against a held-out half (issue 30).

    python bench/noisy_trace.py [--seconds 600] [--seed 0] [--series 5700] [--transforms auto]

Builds a constructed dataset shaped like the issue's 5-minute CPU-usage trace: ``--series``
series of one day (288 steps) of ``cpu`` (a non-negative usage), nearly white noise around each
series' own level (lag-1 autocorrelation about 0.1), about 17% zeros, levels spread
log-normally, and one categorical attribute ``cell`` of 11 values that shifts the level.
The first half of the series train the model; the second half is the held-out real data.

Then the code of docs/quickstart.md on the automatic path: ``Dataset.from_dataframe`` with
its defaults (``--transforms none`` turns the column's transform off; ``--no_atom`` keeps
"auto"'s log but not its atom at 0), ``suggest_config(data, seconds)``, ``FidelityTracker(keep_best="auto")``,
``fit``, ``generate`` as many series as the held-out half holds.

Prints what the suggestion chose, the kept epoch, and, in the input's units, the mean
per-series total and the W1 of the per-series totals against the held-out half, each beside
its floor (the same figure between the training half and the held-out half), and the share of
zeros; then ``evaluate``'s figures (generated against the held-out half, the floor from its
own halves). Asserts nothing; not part of the test suite.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time

import numpy as np
import pandas as pd

STEPS = 288  # one day of 5-minute windows
CELLS = 11
ZERO_SHARE = 0.17


def constructed_frame(series: int, seed: int) -> pd.DataFrame:
    """Noisy non-negative usage around log-normal per-series levels, zeros, an 11-value cell."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, CELLS + 1)  # a few cells hold most machines
    cell = rng.choice(CELLS, series, p=popularity / popularity.sum())
    cell_shift = np.linspace(-0.6, 0.6, CELLS)[rng.permutation(CELLS)]
    level = rng.lognormal(np.log(0.07) + cell_shift[cell], 0.8)
    noise = np.empty((series, STEPS))
    noise[:, 0] = rng.normal(size=series)
    for t in range(1, STEPS):  # AR(1), phi 0.1: close to white, as the trace's lag 1 (0.09)
        noise[:, t] = 0.1 * noise[:, t - 1] + rng.normal(size=series)
    usage = level[:, None] * np.exp(0.6 * noise - 0.18)  # log-normal noise of mean about 1
    usage[rng.random((series, STEPS)) < ZERO_SHARE] = 0.0
    return pd.DataFrame({
        "machine": np.repeat([f"m{i:05d}" for i in range(series)], STEPS),
        "window": np.tile(np.arange(STEPS), series),
        "cpu": usage.ravel(),
        "cell": np.repeat([f"cell{c:02d}" for c in cell], STEPS)})


def totals(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby("machine", sort=False)["cpu"].sum().to_numpy()


def w1(a, b) -> float:
    from scipy.stats import wasserstein_distance
    return float(wasserstein_distance(a, b))


def dataset(frame: pd.DataFrame, transforms, sample_len=None):
    from doppelganger_tf import Dataset
    return Dataset.from_dataframe(frame, id_column="machine", time_column="window",
                                  feature_columns="cpu", attribute_columns="cell",
                                  transforms=transforms, sample_len=sample_len)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0,
                        help="training budget, wall time (TrainingTimeLimit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--series", type=int, default=5700,
                        help="series in all; half train, half are held out")
    parser.add_argument("--transforms", default="auto", help="the readers' transforms=")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=INT",
                        help="override a DGConfig field of the suggestion (integers), e.g. "
                             "feature_noise_dim=45")
    parser.add_argument("--no_atom", action="store_true",
                        help="with --transforms auto: keep its log, drop its atom at 0")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from doppelganger_tf import set_cpu_threads
    set_cpu_threads()
    import tensorflow as tf
    from doppelganger_tf import DoppelGANger, FidelityTracker, suggest_config
    from doppelganger_tf.evaluation import evaluate

    frame = constructed_frame(args.series, args.seed)
    transforms = args.transforms
    if args.no_atom and transforms == "auto":
        from doppelganger_tf import ColumnTransform
        from doppelganger_tf.transforms import choose_transform
        chosen, _ = choose_transform(frame["cpu"].to_numpy())
        transforms = {"cpu": "none" if chosen is None or chosen.kind == "linear"
                      else ColumnTransform(chosen.kind, chosen.scale)}
    # the series are drawn independently: the first half trains, the second is held out; both
    # are encoded together, so that they share their min/max and transform
    half = args.series // 2
    is_held = frame["machine"] >= f"m{half:05d}"
    train_frame, held_frame = frame[~is_held], frame[is_held]

    def split(sample_len=None):
        data = dataset(frame, transforms, sample_len)
        return data.subset(np.arange(half)), data.subset(np.arange(half, args.series))

    data, held_data = split()
    text = []
    data.describe(print_fn=text.append)
    print(next(row.strip() for row in text[0].splitlines() if "'cpu'" in row))
    suggestion = suggest_config(data, seconds=args.seconds)
    print(suggestion)
    if suggestion.rebuild:  # T must be a multiple of the suggested S
        data, held_data = split(suggestion.config.sample_len)
    config = dataclasses.replace(suggestion.config, **{
        field: int(value) for field, value in (item.split("=", 1) for item in args.set)})
    if args.set:
        print(f"overridden: {', '.join(args.set)}")
    tf.keras.utils.set_random_seed(args.seed)
    model = DoppelGANger.from_dataset(data, config, seed=args.seed)
    model.compile()
    tracker = FidelityTracker(keep_best="auto")
    started = time.perf_counter()
    history = model.fit(data, epochs=suggestion.epochs, verbose=0,
                        callbacks=[tracker, *suggestion.callbacks()])
    trained = time.perf_counter() - started
    kept = None if tracker.restored_epoch is None else tracker.restored_epoch + 1
    print(f"\ntrained {len(history.epoch)} epochs in {trained:.0f} s; keep-best kept epoch "
          f"{kept} (counted from 1)")

    generated = model.generate(len(held_data), seed=args.seed + 1)
    out = generated.to_dataframe(seed=args.seed + 1)
    real_totals, train_totals, gen_totals = totals(held_frame), totals(train_frame), totals(out)
    print(f"mean per-series total: generated {gen_totals.mean():.4g}, held-out "
          f"{real_totals.mean():.4g}, training half {train_totals.mean():.4g}")
    print(f"  |difference| {abs(gen_totals.mean() - real_totals.mean()):.4g}; floor (training "
          f"vs held-out) {abs(train_totals.mean() - real_totals.mean()):.4g}")
    value, floor = w1(gen_totals, real_totals), w1(train_totals, real_totals)
    print(f"W1 of per-series totals: {value:.4g} = {value / floor:.1f}x the floor {floor:.4g}")
    print(f"share of zero values: generated {np.mean(out['cpu'] == 0):.1%}, held-out "
          f"{np.mean(held_frame['cpu'] == 0):.1%}; generated cpu {out['cpu'].min():.3g}.."
          f"{out['cpu'].max():.3g}, held-out {held_frame['cpu'].min():.3g}.."
          f"{held_frame['cpu'].max():.3g}")
    report = evaluate(held_data, generated, plots=False, seed=args.seed)
    print("evaluate (generated against the held-out half; floor from its halves):")
    for table in report["metrics"].values():
        for key, row in table.items():
            if "/" in key and "=" in key:
                continue  # per-category rows: the overall ones are enough here
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
            print(f"  {key}: {row['synthetic']:.4g} (floor {row['floor']:.4g}, {ratio})")


if __name__ == "__main__":
    main()
