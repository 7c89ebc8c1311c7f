"""Peak memory (resident set) of training at N=50,000 and of generation, at the WWT shape.

    python bench/memory.py [--train_samples 50000] [--steps 20] [--generate 20000,100000]

Each scenario runs in its own subprocess, so each peak is its own: "data" builds the random
WWT-shape Dataset only (T=550, one continuous feature, attributes 9/3/2); "train" builds it,
then the model, and runs `steps` training steps through fit(); "generate_to n" streams n samples
to disk in batches of 1000 (memory should stay flat in n); "generate n" returns them in memory
(grows with n). Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(scenario: str, n: int, steps: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import train_step
    from doppelganger_tf.runtime import set_cpu_threads

    set_cpu_threads()  # the setting the experiment scripts use

    spec = train_step.SHAPES["wwt"]
    size = n if scenario in ("data", "train") else 1000
    dataset = train_step.random_dataset(spec["length"], spec["features"], spec["categories"],
                                        spec["normalization"], n=size)
    result = {"after_data_mib": peak_mib()}
    if scenario == "data":
        return result
    import tensorflow as tf

    from doppelganger_tf import DoppelGANger
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(dataset, spec["config"], seed=0)
    model.compile()
    if scenario == "train":
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    elif scenario == "generate_to":
        with tempfile.TemporaryDirectory() as tmp:
            model.generate_to(Path(tmp) / "generated", n, seed=0)
    else:
        model.generate(n, seed=0)
    return result


def child(script, *args) -> dict:
    """Run ``script`` with ``args`` in a fresh interpreter (so its peak is its own); its last
    line of output, JSON, or None when it failed (its stderr tail printed)."""
    command = [sys.executable, str(script), *map(str, args)]
    out = subprocess.run(command, capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if out.returncode:
        print(out.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(scenario, n, steps):
    return child(__file__, "--worker", scenario, "--n", n, "--steps", steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train_samples", type=int, default=50000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--generate", default="20000,100000")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.n, args.steps)
        print(json.dumps({**result, "peak_mib": peak_mib()}))
        return
    rows = [("data", args.train_samples), ("train", args.train_samples)]
    for n in (int(v) for v in args.generate.split(",")):
        rows += [("generate_to", n), ("generate", n)]
    print(f"{'scenario':<12} {'n':>8} {'peak MiB':>9}")
    for scenario, n in rows:
        result = run(scenario, n, args.steps)
        peak = "failed" if result is None else f"{result['peak_mib']:.0f}"
        print(f"{scenario:<12} {n:>8} {peak:>9}", flush=True)


if __name__ == "__main__":
    main()
