"""Training speed of one process against a two-worker MultiWorkerMirroredStrategy job on this
machine (docs/scaling.md).

    python bench/multi_worker_speed.py [--shape mba|wwt] [--steps 60] [--repetitions 2]

Runs, turn by turn: one process on all cores at global batch B; two worker processes (each
pinned to half the cores, as two small hosts) at global batch B (B/2 each); and two workers at
global batch 2B (B each: the same work per worker as one process). Each run traces and warms up
for one epoch first, then times ``--steps`` steps with ``fit``. Prints steps/s and samples/s;
asserts nothing. Data are random at the paper's shapes (the step's cost does not depend on the
values).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

SHAPES = {  # the paper's shapes, as bench/train_step.py
    "mba": dict(length=56, features=2, categories=(15, 5, 53), sample_len=8, aux=False,
                auto_normalize=False),
    "wwt": dict(length=550, features=1, categories=(9, 3, 2), sample_len=10, aux=True,
                auto_normalize=True),
}


def child(args):
    """One training process: a worker of the job in TF_CONFIG, or alone."""
    if args.cores:
        os.sched_setaffinity(0, {int(c) for c in args.cores.split(",")})
    import numpy as np
    import pandas as pd

    from doppelganger_tf import DGConfig, Dataset, DoppelGANger, set_cpu_threads
    from doppelganger_tf.compat import keras
    from doppelganger_tf.distribution import make_strategy

    set_cpu_threads()
    strategy = make_strategy("multi_worker" if "TF_CONFIG" in os.environ else "default")
    shape = SHAPES[args.shape]
    rng = np.random.default_rng(0)
    n = args.batch * 10
    attributes = pd.DataFrame({f"a{i}": rng.integers(0, k, n).astype(str)
                               for i, k in enumerate(shape["categories"])})
    data = Dataset.from_arrays(rng.random((n, shape["length"], shape["features"])), attributes,
                               discrete_attributes=list(attributes.columns))
    config = DGConfig(sample_len=shape["sample_len"], use_aux_critic=shape["aux"],
                      auto_normalize=shape["auto_normalize"], batch_size=args.batch)
    with strategy.scope():
        model = DoppelGANger.from_dataset(data, config, seed=0)
        model.compile()
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    # epoch 1: tracing and warm-up; epoch 2: timed
    model.fit(data, epochs=2, steps_per_epoch=args.steps, verbose=0, seed=0,
              callbacks=[EpochTimer()])
    print(json.dumps({"steps_per_s": args.steps / times[1],
                      "replicas": int(strategy.num_replicas_in_sync)}), flush=True)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def launch(args, workers, batch):
    """steps/s of one run: ``workers`` processes (0: one process, no TF_CONFIG)."""
    cores = sorted(os.sched_getaffinity(0))
    base = [sys.executable, __file__, "--child", "--shape", args.shape, "--steps",
            str(args.steps), "--batch", str(batch)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    if not workers:
        commands, envs = [base], [env]
    else:
        hosts = [f"localhost:{p}" for p in free_ports(workers)]
        share = max(1, len(cores) // workers)
        commands, envs = [], []
        for task in range(workers):
            mine = cores[task * share:(task + 1) * share] or cores
            commands.append(base + ["--cores", ",".join(map(str, mine))])
            envs.append({**env, "TF_CONFIG": json.dumps(
                {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": task}})})
    processes = [subprocess.Popen(c, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for c, e in zip(commands, envs)]
    outputs = [p.communicate(timeout=1800) for p in processes]
    for process, (_, err) in zip(processes, outputs):
        if process.returncode:
            raise RuntimeError(err[-3000:])
    return json.loads(outputs[0][0].strip().splitlines()[-1])["steps_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="mba")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per run")
    parser.add_argument("--batch", type=int, default=100, help="global batch B")
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cores", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    runs = [("1 process, all cores", 0, args.batch),
            ("2 workers, global batch B", 2, args.batch),
            ("2 workers, global batch 2B", 2, 2 * args.batch)]
    figures = {name: [] for name, _, _ in runs}
    for _ in range(args.repetitions):
        for name, workers, batch in runs:
            figures[name].append((launch(args, workers, batch), batch))
    print(f"{args.shape} shape, B={args.batch}, {len(os.sched_getaffinity(0))} cores, "
          f"{args.steps} timed steps, best of {args.repetitions}")
    base = max(s for s, _ in figures[runs[0][0]])
    for name, _, _ in runs:
        steps, batch = max(figures[name])
        print(f"  {name:<28} {steps:6.2f} steps/s  {steps * batch:8.0f} samples/s  "
              f"({steps * batch / (base * args.batch):.2f}x the samples/s of one process)")


if __name__ == "__main__":
    sys.exit(main())
