"""What the FidelityTracker callback costs next to training, at two shapes.

    python bench/fidelity_cost.py --shape wwt [--epochs 20 --every 5]
    python bench/fidelity_cost.py --shape mba --data ../shared/data/fcc_mba [--epochs 600]

wwt: the embedded SYNTHETIC WWT-schema data (doppelganger_tf.synthetic, --num_samples pages of
--length days) with the WWT settings (S=10, auxiliary critic, auto-normalisation). mba: a
Dataset directory (the real FCC MBA data) with the repository's MBA settings (S=8, no auxiliary
critic, no auto-normalisation). Batch 100 and the package's default networks either way.

Trains --epochs epochs with the tracker at --every (default metrics, 500 samples), then prints
the training time per epoch (fit time minus the tracker's), the tracker's seconds per
evaluation (the first one apart: it traces the generation graph) and its share of the training
time at --every and at the default every (FidelityTracker's DEFAULT_EVERY). Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def epoch_timer():
    from doppelganger_tf.compat import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self._start = [], None

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
    return Timer()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["wwt", "mba"], default="wwt")
    parser.add_argument("--data", help="Dataset directory (required for --shape mba)")
    parser.add_argument("--num_samples", type=int, default=1000, help="wwt: synthetic pages")
    parser.add_argument("--length", type=int, default=550, help="wwt: days per page")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 20 (wwt), 600 (mba)")
    parser.add_argument("--every", type=int, default=None, help="default: 5 (wwt), 50 (mba)")
    parser.add_argument("--samples", type=int, default=500, help="tracker num_samples")
    args = parser.parse_args()

    from doppelganger_tf.runtime import set_cpu_threads
    set_cpu_threads()  # as the experiment scripts

    from doppelganger_tf import DGConfig, Dataset, DoppelGANger
    from doppelganger_tf.compat import keras
    from doppelganger_tf.fidelity_callback import DEFAULT_EVERY, FidelityTracker

    if args.shape == "wwt":
        from doppelganger_tf.synthetic import wwt_like_dataset
        data = wwt_like_dataset(args.num_samples, args.length, seed=0)
        config = DGConfig(sample_len=10, use_aux_critic=True, auto_normalize=True,
                          batch_size=100)
        epochs, every = args.epochs or 20, args.every or 5
    else:
        if not args.data:
            parser.error("--shape mba needs --data (e.g. ../shared/data/fcc_mba)")
        data = Dataset.load(args.data)
        config = DGConfig(sample_len=8, use_aux_critic=False, auto_normalize=False,
                          batch_size=100)
        epochs, every = args.epochs or 600, args.every or 50
    print(f"{args.shape}: {data!r}")
    keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, config, seed=0)
    model.compile()
    tracker = FidelityTracker(every=every, num_samples=args.samples, print_fn=None)
    timer = epoch_timer()  # before the tracker: its epochs end before the evaluation
    started = time.perf_counter()
    model.fit(data, epochs=epochs, seed=0, verbose=0, callbacks=[timer, tracker])
    fit_seconds = time.perf_counter() - started
    evaluations = np.array(tracker.history["fidelity/seconds"])
    training = fit_seconds - tracker.seconds  # includes the train step's tracing
    per_epoch = float(np.median(timer.seconds[1:]))  # the first traces the step
    later = evaluations[1:] if len(evaluations) > 1 else evaluations
    per_eval = float(np.median(later))
    steps = model.steps_per_epoch(len(data))
    print(f"epochs {epochs} ({steps} steps each), fit {fit_seconds:.1f} s, of which the "
          f"tracker {tracker.seconds:.2f} s ({len(evaluations)} evaluations at epochs "
          f"{[e + 1 for e in tracker.epochs]})")
    print(f"training {per_epoch * 1e3:.1f} ms/epoch (median); evaluation: first "
          f"{evaluations[0]:.3f} s (traces generation), then median {per_eval:.3f} s (min "
          f"{later.min():.3f}, max {later.max():.3f}); reference summary "
          f"{tracker.seconds - evaluations.sum():.3f} s")
    print(f"share of the training time in this run: {tracker.seconds / training:.1%}")
    for k in sorted({every, DEFAULT_EVERY}):
        print(f"steady-state share at every={k}: {per_eval / (k * per_epoch):.1%}")
    last = {key: values[-1] for key, values in tracker.history.items()}
    print("last figures: " + ", ".join(f"{k[len('fidelity/'):]}={v:.4g}"
                                       for k, v in sorted(last.items())))


if __name__ == "__main__":
    main()
