"""The measurements behind suggest_config's rules (doppelganger_tf/suggestion.py, docs/tuning.md).

    python bench/suggestion_rules.py [--data ../shared/data]
        [--sections period,noise,levels,sample,datasets]
    python bench/suggestion_rules.py --sections batch
    python bench/suggestion_rules.py --sections train [--steps 2000] [--seed 0]
        [--arms off,on,on+average]

Sections (all numpy, seconds on 2 cores; no training):
- period: constructed series with known periods (sine or one peak per cycle, random phase per
  series, noise, fixed and variable lengths): the peak suggest_config finds, its height and
  prominence, and the S it suggests (with the T it needs);
- noise: series without a period (white noise, AR(1) 0.5 / 0.9 / 0.99, random walk, trend plus
  noise), 5 seeds each: the most prominent local maximum of the average autocorrelation, to set
  MIN_PEAK_PROMINENCE above it;
- levels: the between-series share of variance of constructed data with known level spreads
  (the share is known: spread^2 / (spread^2 + within variance)) and of the datasets below;
- sample: the measurements on 2,000 drawn series (what suggest_config reads of larger data)
  against all 10,000 synthetic WWT pages;
- datasets: the full suggestion on the real MBA data (<data>/fcc_mba), the synthetic WWT data
  (500 pages x 553 days, the README job's; 1,000 x 550, the paper's length), a GCUT sample built
  with data_prep.gcut from the real task_events part (<data>/raw_formats/gcut: real tasks, end
  events, durations and per-task CPU / memory / disk requests; NO task_usage part is stored, so
  each task's usage records are constructed: its request times log-normal noise, one record
  per 5-minute window of its real duration) and the issue's small dataset shape (80 hourly
  series x 14 days, a daily cycle, a heavy-tailed level, one categorical attribute).

Not in the default sections, because they train (a minute, a few minutes on 2 cores):
- batch: milliseconds per training step at batch 10, 20, 40 and 80 on the issue's shape (the
  suggested config otherwise);
- train: auto-normalisation off, on, and on with the weight average 0.98 (nothing else
  changed: no attributes, no auxiliary critic) on constructed data with a 4-step cycle and a per-series level of
  std 0.3 / 1 / 4 (between-series share 0.1 / 0.55 / 0.95), --steps generator steps each at
  S=8, batch 100, 400 series of 56 steps, seed --seed; scored on 400 generated series against the
  real ones: W1 of the per-series mean and of the per-series std (each over its real-vs-real
  floor, two random halves, mean of 5 splits) and the autocorrelation MSE.

Prints tables; asserts nothing (tests/test_suggestion.py checks the rules on small cases).
"""
from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from doppelganger_tf import Dataset  # noqa: E402
from doppelganger_tf import suggestion as sg  # noqa: E402
from doppelganger_tf.synthetic import wwt_like_dataset  # noqa: E402


# --- constructed data ---------------------------------------------------------------------------

def cycle_data(period, length, n=200, amplitude=1.0, noise=0.5, shape="sine", level=0.0,
               lengths=None, seed=0, attributes=None):
    """n series of `length` steps: level_i + a cycle of `period` (random phase) + noise; `shape`
    "sine" or "peak" (one high step per cycle, as MBA's evening traffic); `level` the std of
    the per-series level; `lengths` (low, high) draws variable lengths."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)[None, :] + rng.integers(0, max(period, 1), (n, 1))
    if period is None:
        wave = np.zeros((n, length))
    elif shape == "sine":
        wave = np.sin(2 * np.pi * t / period)
    else:
        wave = (t % period == 0) * 2.0 - 2.0 / period
    x = rng.normal(0, level, (n, 1)) + amplitude * wave + rng.normal(0, noise, (n, length))
    lens = None if lengths is None else rng.integers(lengths[0], lengths[1] + 1, n)
    return Dataset.from_arrays(x[..., None], attributes, lengths=lens)


def no_period_data(kind, length=200, n=200, seed=0):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, length))
    if kind == "white":
        x = e
    elif kind.startswith("ar"):
        phi, x = float(kind[2:]), np.zeros_like(e)
        x[:, 0] = e[:, 0]
        for k in range(1, length):
            x[:, k] = phi * x[:, k - 1] + e[:, k]
    elif kind == "walk":
        x = e.cumsum(1)
    else:  # trend plus noise
        x = rng.normal(0, 0.05, (n, 1)) * np.arange(length)[None, :] + e
    return Dataset.from_arrays(x[..., None])


# --- sections -----------------------------------------------------------------------------------

PERIOD_CASES = [  # (name, period, T, keyword arguments of cycle_data)
    ("weekly sine, daily steps", 7, 56, {}),
    ("weekly sine, T=550 (needs padding)", 7, 550, {}),
    ("weekly sine, weak (amplitude 0.3, noise 1)", 7, 140, {"amplitude": 0.3, "noise": 1.0}),
    ("weekly sine, lengths 30-120", 7, 120, {"lengths": (30, 120)}),
    ("4-step peak (MBA-like)", 4, 56, {"shape": "peak"}),
    ("4-step sine", 4, 56, {}),
    ("4-step sine, T=28", 4, 28, {}),
    ("daily cycle of hourly steps", 24, 336, {}),
    ("daily cycle, 15-minute steps", 96, 672, {}),
    ("13-step cycle", 13, 130, {}),
    ("3-step cycle", 3, 60, {}),
]


def section_period(args):
    print("\n## Constructed periods (200 series, noise std 0.5 unless said)\n")
    print("| case | period | T | found lag | height | prominence | S | T needed | LSTM steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, period, length, kwargs in PERIOD_CASES:
        s = sg.suggest_config(cycle_data(period, length, **kwargs))
        peak = s.measurements["peak"]
        found = s.measurements["period"]
        height = f"{peak['height']:.2f}" if found else "-"
        if found:
            prom = f"{peak['prominence']:.2f}"
        else:  # the most prominent maximum, below the threshold
            d = cycle_data(period, length, **kwargs)
            curve = sg.average_autocorrelation(
                *sg._active_values(d, 0, np.arange(len(d)), d.lengths), length // 2)
            prom = f"({most_prominent(curve):.2f})"
        S = s.config.sample_len
        print(f"| {name} | {period} | {length} | {found or 'none'} | {height} | {prom} | {S} | "
              f"{s.padded_length} | {s.padded_length // S} |")


def most_prominent(curve):
    """The largest prominence of any local maximum (the same measure as find_period)."""
    best = 0.0
    for lag in range(2, len(curve) - 1):
        if curve[lag] > curve[lag - 1] and curve[lag] >= curve[lag + 1]:
            best = max(best, curve[lag] - curve[1:lag].min())
    return best


NOISE_SIZES = ((200, 200), (80, 336), (30, 200), (10, 60), (10, 500), (3, 300))


def section_noise(args):
    print("\n## No period: the most prominent local maximum of the average autocorrelation "
          "(lags up to half the length), max over 20 seeds\n")
    print("| series | series x steps | prominence | x sqrt(steps) | periods found |")
    print("|---|---|---|---|---|")
    for kind in ("white", "ar0.5", "ar0.9", "ar0.99", "walk", "trend"):
        for n, length in NOISE_SIZES:
            proms, found = [], 0
            for seed in range(20):
                d = no_period_data(kind, length, n, seed)
                values = sg._active_values(d, 0, np.arange(n), d.lengths)
                proms.append(most_prominent(sg.average_autocorrelation(*values, length // 2)))
                found += sg.suggest_config(d).measurements["period"] is not None
            print(f"| {kind} | {n} x {length} | {max(proms):.3f} | "
                  f"{max(proms) * np.sqrt(n * length):.1f} | {found} of 20 |")


def section_levels(args):
    print("\n## Between-series share of variance, constructed (200 x 56, sine amplitude 1, "
          "noise 0.5: within variance 0.75)\n")
    print("| level std | expected share | measured |")
    print("|---|---|---|")
    for level in (0.3, 0.6, 1.0, 2.0, 4.0, 8.0):
        d = cycle_data(4, 56, level=level, seed=1)
        share = sg.suggest_config(d).measurements["level_share"]["share"]
        print(f"| {level} | {level ** 2 / (level ** 2 + 0.75):.2f} | {share:.2f} |")


def section_sample(args):
    """The measurements on MAX_SERIES drawn series against all of a larger dataset."""
    data = wwt_like_dataset(10000, 553, seed=0)
    lengths, columns = data.lengths, sg.continuous_columns(data)
    print(f"\n## Reading {sg.MAX_SERIES:,} of 10,000 synthetic WWT pages (5 draws)\n")
    print("| series read | period | height | prominence | level share |")
    print("|---|---|---|---|---|")
    draws = [("all", np.arange(len(data)))] + [
        (f"draw {seed}", np.sort(np.random.default_rng(seed).choice(len(data), sg.MAX_SERIES,
                                                                    replace=False)))
        for seed in range(5)]
    for name, rows in draws:
        period, peak = sg.dominant_period(data, columns, rows, lengths[rows])
        share = sg.level_share(data, columns, rows, lengths[rows])["share"]
        print(f"| {name} | {period} | {peak['height']:.4f} | {peak['prominence']:.4f} | "
              f"{share:.4f} |")


def gcut_sample(data_root: Path, workdir: Path):
    """data_prep.gcut on the real task_events part and constructed task_usage records."""
    from data_prep.gcut import convert
    events_path = data_root / "raw_formats/gcut/task_events-part-00001-of-00500.csv.gz"
    events = pd.read_csv(events_path, header=None)
    scheduled = events[events[5] == 1].groupby([2, 3]).agg(
        start=(0, "min"), cpu=(9, "last"), memory=(10, "last"), disk=(11, "last"))
    ends = events[events[5].isin([2, 3, 4, 5])].sort_values(0, kind="stable")
    tasks = scheduled.join(ends.groupby([2, 3])[0].last().rename("end"), how="inner")
    tasks = tasks[(tasks.end > tasks.start) & (tasks[["cpu", "memory", "disk"]] > 0).all(1)]
    window = 300 * 1_000_000
    rng = np.random.default_rng(0)
    lines = []
    for (job, task), row in tasks.iterrows():
        n = max(1, int(np.ceil((row.end - row.start) / window)))
        for r in range(n):
            end = int(row.end) - (n - 1 - r) * window
            noise = rng.lognormal(0, 0.3, 9)
            # Table 6 order: 3 CPU, 3 memory, 2 page cache, 1 disk figure
            base = [row.cpu] * 3 + [row.memory] * 5 + [row.disk]
            fields = [""] * 20
            fields[:5] = [str(end - window), str(end), str(job), str(task), "1"]
            for value, column in zip(np.array(base) * noise, (5, 13, 19, 6, 7, 10, 8, 9, 12)):
                fields[column] = f"{value:.6g}"
            fields[11], fields[14:19] = "0", ["0", "1", "0.01", "0", "1"]
            lines.append(",".join(fields) + "\n")
    usage = workdir / "task_usage-part-00001-of-00500.csv.gz"
    with gzip.open(usage, "wt") as f:
        f.writelines(lines)
    result = convert(str(events_path), str(usage), num_samples=100000, seed=0, max_length=50)
    return result.datasets["train"]


def issue_shape(seed=0):
    """80 hourly series x 14 days: a daily cycle, log-normal levels spread over two orders of
    magnitude (heavy-tailed), one categorical attribute of 4 values."""
    rng = np.random.default_rng(seed)
    n, length = 80, 336
    site = rng.integers(0, 4, n)
    level = np.exp(rng.normal(1.5 + 0.5 * site, 1.0, n))
    hour = (np.arange(length)[None, :] + rng.integers(0, 3, (n, 1))) % 24
    day = 1 + 0.6 * np.sin(2 * np.pi * (hour - 8) / 24)
    x = level[:, None] * day * rng.lognormal(0, 0.2, (n, length))
    return Dataset.from_arrays(x[..., None], pd.DataFrame({"site": site.astype(str)}),
                               feature_names=["power_kw"], discrete_attributes="site")


def section_datasets(args):
    data_root = Path(args.data)
    cases = [("synthetic WWT, 500 x 553 (README job)", lambda: wwt_like_dataset(500, 553)),
             ("synthetic WWT, 1,000 x 550", lambda: wwt_like_dataset(1000, 550)),
             ("issue's shape: 80 hourly x 336", issue_shape)]
    if (data_root / "fcc_mba").is_dir():
        cases.insert(0, ("real MBA", lambda: Dataset.load(data_root / "fcc_mba")))
    else:
        print(f"(no {data_root / 'fcc_mba'}: MBA skipped)")
    if (data_root / "raw_formats/gcut").is_dir():
        workdir = Path(tempfile.mkdtemp(prefix="gcut_suggestion_"))
        cases.append(("GCUT sample (real tasks, constructed usage)",
                      lambda: gcut_sample(data_root, workdir)))
    for name, build in cases:
        data = build()
        started = time.perf_counter()
        s = sg.suggest_config(data)
        took = time.perf_counter() - started
        print(f"\n## {name}: {data!r}"[:400])
        print(f"lengths {int(data.lengths.min())}..{int(data.lengths.max())}, median "
              f"{np.median(data.lengths):g}; suggest_config took {took:.2f} s")
        print(s)
        print(f"  (with seconds=1200: {sg.suggest_config(data, seconds=1200).reasons['budget']})")


def _per_series(values):
    """Per-series mean and std of [N, T] values with NaN after each series' end."""
    return np.nanmean(values, 1), np.nanstd(values, 1)


def _floor(real, statistic, seed=0):
    """W1 of a per-series statistic between two random halves of the real series (5 splits)."""
    from scipy.stats import wasserstein_distance
    rng = np.random.default_rng(seed)
    figures = []
    for _ in range(5):
        order = rng.permutation(len(real))
        half = len(real) // 2
        figures.append(wasserstein_distance(statistic[order[:half]], statistic[order[half:]]))
    return float(np.mean(figures))


def _acf(values, max_lag):
    mask = ~np.isnan(values)
    lengths = mask.sum(1)
    return sg.average_autocorrelation(np.nan_to_num(values), mask, lengths, max_lag)


def section_batch(args):
    """Milliseconds per training step against the batch size, at the issue's small shape."""
    import os
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as section_train, for equal timings
    import keras

    from doppelganger_tf import DoppelGANger, set_cpu_threads
    set_cpu_threads()
    data = issue_shape()
    config = sg.suggest_config(data).config
    print(f"\n## Step time against the batch: {data!r}, S={config.sample_len}\n")
    print("| batch | ms per step (5 repetitions of 20 steps) | ms per series |")
    print("|---|---|---|")
    for batch in (10, 20, 40, 80):
        keras.utils.set_random_seed(0)
        model = DoppelGANger.from_dataset(data, config.replace(batch_size=batch))
        model.compile()
        per_epoch = model.steps_per_epoch(len(data))
        model.fit(data, epochs=max(1, 5 // per_epoch), verbose=0)  # tracing, warm-up
        times = []
        for _ in range(5):
            started = time.perf_counter()
            model.fit(data, epochs=max(1, 20 // per_epoch), verbose=0)
            steps = max(1, 20 // per_epoch) * per_epoch
            times.append(1000 * (time.perf_counter() - started) / steps)
        print(f"| {batch} | {', '.join(f'{t:.1f}' for t in times)} | "
              f"{np.median(times) / batch:.2f} |", flush=True)


ARMS = {"off": {"auto_normalize": False},
        "on": {"auto_normalize": True},
        "on+average": {"auto_normalize": True, "generator_average_decay": 0.98}}


def section_train(args):
    import os
    # with oneDNN on (TensorFlow's default on this CPU), generate() of a model without
    # attributes and without auto-normalisation (no min/max attributes either) aborts the
    # process ("dnnl::error: could not create a primitive descriptor for an inner product"),
    # on both stacks; these data have no attributes, so oneDNN is off here
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    from doppelganger_tf import DGConfig, DoppelGANger, set_cpu_threads
    from scipy.stats import wasserstein_distance
    set_cpu_threads()
    arms = args.arms.split(",")
    print(f"\n## Auto-normalisation on / off: {args.steps} steps, seed {args.seed}\n")
    print("| level std | share | arm | W1 mean (floor) | ratio | W1 std (floor) | ratio "
          "| ACF MSE | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for level in (0.3, 1.0, 4.0):
        data = cycle_data(4, 56, n=400, level=level, seed=args.seed)
        share = sg.suggest_config(data).measurements["level_share"]["share"]
        real = data.feature_values()["feature_0"]
        real_mean, real_std = _per_series(real)
        floors = (_floor(real, real_mean), _floor(real, real_std))
        real_acf = _acf(real, 27)
        for arm in arms:
            keras.utils.set_random_seed(args.seed)
            config = DGConfig(sample_len=8, use_aux_critic=False, **ARMS[arm])
            model = DoppelGANger.from_dataset(data, config)
            model.compile()
            started = time.perf_counter()
            model.fit(data, epochs=args.steps // model.steps_per_epoch(len(data)),
                      seed=args.seed, verbose=0)
            took = time.perf_counter() - started
            fake = model.generate(len(data), seed=args.seed + 1).feature_values()["feature_0"]
            fake_mean, fake_std = _per_series(fake)
            w1_mean = wasserstein_distance(real_mean, fake_mean)
            w1_std = wasserstein_distance(real_std, fake_std)
            mse = float(np.mean((_acf(fake, 27)[1:] - real_acf[1:]) ** 2))
            print(f"| {level} | {share:.2f} | {arm} | {w1_mean:.3f} ({floors[0]:.3f}) | "
                  f"{w1_mean / floors[0]:.1f} | {w1_std:.3f} ({floors[1]:.3f}) | "
                  f"{w1_std / floors[1]:.1f} | {mse:.4f} | {took:.0f} |", flush=True)

SECTIONS = {"period": section_period, "noise": section_noise, "levels": section_levels,
            "sample": section_sample,
            "datasets": section_datasets, "train": section_train, "batch": section_batch}
DEFAULT_SECTIONS = "period,noise,levels,sample,datasets"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO_ROOT.parent / "shared" / "data"),
                        help="the shared real-data folder (fcc_mba, raw_formats/gcut)")
    parser.add_argument("--sections", default=DEFAULT_SECTIONS,
                        help=f"comma-separated, of {', '.join(SECTIONS)} (batch and train train)")
    parser.add_argument("--steps", type=int, default=2000, help="train: generator steps a run")
    parser.add_argument("--seed", type=int, default=0, help="train: data, weights, batches")
    parser.add_argument("--arms", default="off,on,on+average",
                        help=f"train: comma-separated, of {', '.join(ARMS)}")
    args = parser.parse_args()
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}: choose from {', '.join(SECTIONS)}")
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
