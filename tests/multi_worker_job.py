"""One process of the multi-worker tests (tests/test_multi_worker.py): a worker of a two-worker
MultiWorkerMirroredStrategy job, or the single-process reference that runs the same two replicas
with MirroredStrategy on two logical CPUs.

    python tests/multi_worker_job.py --role worker --task 0 --ports 23456,23457 --dir D --epochs 2
    python tests/multi_worker_job.py --role reference --dir D --epochs 2

Each process trains a tiny model on the same toy data with checkpoints in D/ckpt (resuming
from them when present), saves the model (the chief only), and writes its final weights to
D/trainable-<role><task>.npz and D/non_trainable-<role><task>.npz, the trainable ones
restored from the checkpoint to D/restored-<role><task>.npz, samples it generated to
D/generated-<role><task>.npy, and what it did to D/result-<role><task>.json.
"""
import argparse
import json
import os
import sys
from pathlib import Path


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["worker", "reference"], required=True)
    parser.add_argument("--task", type=int, default=0)
    parser.add_argument("--ports", default="")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    return parser.parse_args()


def main():
    args = parse()
    out = Path(args.dir)
    if args.role == "worker":
        ports = args.ports.split(",")
        os.environ["TF_CONFIG"] = json.dumps({
            "cluster": {"worker": [f"localhost:{p}" for p in ports]},
            "task": {"type": "worker", "index": args.task}})
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    if args.role == "reference":  # two replicas in one process, as the two workers have
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from doppelganger_tf import Dataset, DoppelGANger, TrainingCheckpoint
    from doppelganger_tf.compat import keras
    from doppelganger_tf.distribution import make_strategy
    from conftest import tiny_config  # tests/ is this script's folder: on sys.path

    strategy = (make_strategy("multi_worker") if args.role == "worker"
                else tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    rng = np.random.default_rng(0)
    data = Dataset.from_arrays(rng.normal(size=(40, 8, 1)),
                               pd.DataFrame({"k": rng.choice(["x", "y"], 40)}),
                               discrete_attributes=["k"])
    config = tiny_config()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = DoppelGANger.from_dataset(data, config, seed=0)
        model.compile()
    checkpoint = TrainingCheckpoint(out / "ckpt")
    start = checkpoint.restore(model)
    restored = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(data, epochs=args.epochs, initial_epoch=start, seed=0, verbose=0,
              callbacks=[checkpoint])
    name = f"{args.role}{args.task if args.role == 'worker' else ''}"
    model.save(out / "model")  # written by the chief only
    np.savez(out / f"trainable-{name}.npz", *[w.numpy() for w in model.trainable_weights])
    np.savez(out / f"non_trainable-{name}.npz",
             *[w.numpy() for w in model.non_trainable_weights])
    np.savez(out / f"restored-{name}.npz", *restored)
    # every worker generates (reading BatchNorm's per-replica statistics is collective)
    np.save(out / f"generated-{name}.npy", model.generate(6, seed=1).features)
    result = {"start": start, "replicas": int(strategy.num_replicas_in_sync),
              "iterations": int(model.generator_optimizer.iterations.numpy())}
    (out / f"result-{name}.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
