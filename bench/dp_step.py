"""DP training step against the plain one at the paper's WWT shape.

    python bench/dp_step.py [--repetitions 2] [--steps 20] [--warmup 3]

Variants, interleaved in one process: plain (no DP), DP with ghost clipping (the model's,
doppelganger_tf/dp_clipping.py) and DP with tensorflow-privacy's VectorizedDPKerasAdamOptimizer
(a per-example Jacobian, the tests' cross-check in tests/vectorized_dp.py; only where
tensorflow-privacy is installed, the reference stack).
Both DP variants privatise both critics (noise multiplier 1, clip 1) and
draw Poisson batches of expected size 100. Prints the median ms per step and the ratio to plain;
asserts nothing.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from train_step import time_training_steps  # noqa: E402

from doppelganger_tf import compat  # noqa: E402
from doppelganger_tf.runtime import THREAD_SETTING_HELP, apply_thread_setting  # noqa: E402

VARIANTS = {
    "plain": {},
    "DP, ghost clipping": dict(dp_noise_multiplier=1.0),
}


def load_test_helper(name):
    """tests/<name>.py, loaded from its file: the vectorized DP update is a test helper, not a
    model option (nor on this folder's import path)."""
    path = Path(__file__).resolve().parent.parent / "tests" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if compat.has_tensorflow_privacy():
    VARIANTS["DP, tf-privacy vectorized"] = dict(
        dp_noise_multiplier=1.0,
        compile_model=load_test_helper("vectorized_dp").compile_with_vectorized_dp)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cpu_threads", default="auto", help=THREAD_SETTING_HELP)
    args = parser.parse_args()
    apply_thread_setting(args.cpu_threads)
    times = {name: [] for name in VARIANTS}
    for _ in range(args.repetitions):
        for name, overrides in VARIANTS.items():
            times[name] += time_training_steps("wwt", args.steps, args.warmup, **overrides)
    plain = np.median(times["plain"])
    print("WWT shape (batch 100, T=550, S=10, aux critic, auto-normalisation); "
          f"{args.repetitions} x {args.steps} timed steps each")
    for name, values in times.items():
        median = np.median(values)
        print(f"{name:<28} {median * 1e3:7.1f} ms/step  {median / plain:5.2f}x plain")


if __name__ == "__main__":
    main()
