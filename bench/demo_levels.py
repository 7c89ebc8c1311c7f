"""The per-page levels of a README-demo DoppelGANger run, kept and final weights side by side.

    python experiments/wwt.py --flagfile=experiments/flags/wwt_quick.flags --models=dg \
        --seed=0 --output runs/demo_s0 [--track_every=50 --keep_best=...]
    python bench/demo_levels.py runs/demo_s0 --seed 0

Rebuilds the run's synthetic training and held-out pages (the flagfile's 500 + 500 pages of
553 days, ``--seed``), loads ``<run>/dg/model`` (the weights the run kept) and the last
checkpoint of ``<run>/dg/checkpoints`` (the final weights), and generates 500 pages from each
with noise other than the run's and its tracker's (seed + 10,000). Prints, per weights:
- the ``evaluate`` report's figures (synthetic against one half of the training pages, floor =
  the other half, 5 splits) for the autocorrelation MSE and the W1 of the per-page mean and
  (max+min)/2, with their ratios to the floor;
- the same W1s against all training pages, over the held-out pages' W1 (results.json's basis);
- per-page shape: quantiles of the mean and (max+min)/2, the median range max - min, and the
  median position of the mean within [min, max] (docs/performance.md, "The README's main job").
Asserts nothing; not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

FEATURE = "views"
FAMILIES = ("acf", "mean", "midrange")
KEYS = (f"acf_mse/{FEATURE}", f"w1_mean/{FEATURE}", f"w1_midrange/{FEATURE}")
NOISE_OFFSET = 10_000


def page_shape(dataset) -> str:
    x = np.asarray(dataset.features, dtype=np.float64)[..., 0]
    low, high = x.min(axis=1), x.max(axis=1)
    mean, mid, span = x.mean(axis=1), (high + low) / 2, high - low
    position = np.divide(mean - low, span, out=np.full_like(span, np.nan), where=span > 0)
    q = lambda v: " ".join(f"{np.percentile(v, p):.3f}" for p in (10, 50, 90))  # noqa: E731
    return (f"mean q10/50/90 {q(mean)} | (max+min)/2 {q(mid)} | median range "
            f"{np.median(span):.3f} | mean's median position in [min, max] "
            f"{np.nanmedian(position):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="the --output directory of experiments/wwt.py")
    parser.add_argument("--seed", type=int, required=True, help="the run's --seed")
    parser.add_argument("--pages", type=int, default=500, help="--synthetic_samples")
    parser.add_argument("--days", type=int, default=553, help="--synthetic_length")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from real_halves import split_real_halves  # bench/real_halves.py: the run's split
    from doppelganger_tf.callbacks import TrainingCheckpoint
    from doppelganger_tf.evaluation import evaluate, fidelity_metrics
    from doppelganger_tf.model import DoppelGANger
    from doppelganger_tf.synthetic import wwt_like_dataset

    train, held_out = split_real_halves(
        wwt_like_dataset(2 * args.pages, args.days, args.seed), args.seed)
    floor = fidelity_metrics(train, held_out, FAMILIES)
    print("training pages:", page_shape(train))
    print("held-out pages:", page_shape(held_out))
    print("held-out against training:", " ".join(f"{k}={floor[k]:.4f}" for k in KEYS))
    model = DoppelGANger.load(Path(args.run) / "dg" / "model")

    def score(label):
        generated = model.generate(args.pages, seed=args.seed + NOISE_OFFSET)
        with tempfile.TemporaryDirectory() as out:
            report = evaluate(train, generated, out, seed=args.seed, plots=False)["metrics"]
        figures = {key: report[family][key] for family, key in zip(FAMILIES, KEYS)}
        print(f"{label}: report " + " ".join(
            f"{k}={v['synthetic']:.4f} ({v['ratio']:.2f}x)" for k, v in figures.items()))
        against = fidelity_metrics(train, generated, FAMILIES)
        print(f"{label}: against all training pages " + " ".join(
            f"{k}={against[k]:.4f} ({against[k] / floor[k]:.2f}x held-out)" for k in KEYS))
        print(f"{label}: {page_shape(generated)}")

    score("kept weights")
    model.compile()
    epoch = TrainingCheckpoint(Path(args.run) / "dg" / "checkpoints").restore(model)
    score(f"final weights (epoch {epoch})")


if __name__ == "__main__":
    main()
