"""Worker for bench/compare_peers.py: times gretel-synthetics' PyTorch DGAN training batches.

Runs inside the gretel virtual environment (bench/_envs/gretel), never in ours:

    bench/_envs/gretel/bin/python bench/_gretel_step.py --batch 100 --steps 20 --warmup 5

Shape: the paper's WWT shape by default (T=550, sample_len 10, one continuous feature scaled to
[-1, 1] with per-example scaling, three discrete attributes with 9/3/2 categories, auxiliary
attribute discriminator), with the paper's network sizes.  Data are random (a batch's cost does
not depend on the values).

How a batch is timed: DGAN.train_numpy is called with epochs=1 on exactly
batch * (1 + warmup + steps) examples; DGAN._train invokes `progress_callback` once at the end of
every batch, and we stamp time.perf_counter() there.  The interval between two consecutive stamps
is one whole iteration of gretel's own training loop (DataLoader fetch, noise, generator forward,
critic and auxiliary-critic updates with gradient penalties, generator update).  The first batch
(no start stamp) and the next `warmup` intervals are dropped; data preparation and model building
(everything train_numpy does before its loop) fall before the first stamp and are not timed.

Prints one JSON object on the last line of stdout.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20, help="timed batches")
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches after the first")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch.set_num_threads (default: number of cores)")
    parser.add_argument("--length", type=int, default=550)
    parser.add_argument("--sample_len", type=int, default=10)
    parser.add_argument("--categories", default="9,3,2")
    parser.add_argument("--noise_dim", type=int, default=5,
                        help="attribute_noise_dim and feature_noise_dim")
    parser.add_argument("--critic_hidden", type=int, default=4,
                        help="hidden layers of both critics; gretel builds 5 (hard-coded), the "
                             "paper and doppelganger_tf 4; any other value than 5 patches "
                             "gretel's Discriminator class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    warnings.filterwarnings("ignore")  # pin_memory without CUDA, deprecated torch.cuda.amp
    logging.disable(logging.INFO)

    import numpy as np
    import torch
    from gretel_synthetics.timeseries_dgan import dgan as dgan_module
    from gretel_synthetics.timeseries_dgan.config import DGANConfig, Normalization, OutputType

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if args.critic_hidden != 5:
        stock = dgan_module.Discriminator

        class Discriminator(stock):
            def __init__(self, input_dim, num_layers=5, num_units=200):
                super().__init__(input_dim, num_layers=args.critic_hidden, num_units=num_units)

        dgan_module.Discriminator = Discriminator

    categories = [int(c) for c in args.categories.split(",")]
    n = args.batch * (1 + args.warmup + args.steps)
    rng = np.random.default_rng(args.seed)
    features = rng.lognormal(size=(n, args.length, 1))
    attributes = np.stack([rng.integers(0, k, n) for k in categories], axis=1)
    for i, k in enumerate(categories):  # every category occurs: one-hot widths 9/3/2
        attributes[:k, i] = np.arange(k)

    config = DGANConfig(
        max_sequence_len=args.length,
        sample_len=args.sample_len,
        attribute_noise_dim=args.noise_dim,
        feature_noise_dim=args.noise_dim,
        attribute_num_layers=2,  # gretel counts hidden layers: 2 x 100 as the paper
        attribute_num_units=100,
        feature_num_layers=1,
        feature_num_units=100,
        use_attribute_discriminator=True,
        normalization=Normalization.MINUSONE_ONE,
        apply_feature_scaling=True,
        apply_example_scaling=True,
        gradient_penalty_coef=10.0,
        attribute_gradient_penalty_coef=10.0,
        attribute_loss_coef=1.0,
        generator_learning_rate=1e-3,
        generator_beta1=0.5,
        discriminator_learning_rate=1e-3,
        discriminator_beta1=0.5,
        attribute_discriminator_learning_rate=1e-3,
        attribute_discriminator_beta1=0.5,
        batch_size=args.batch,
        epochs=1,
        discriminator_rounds=1,
        generator_rounds=1,
        cuda=False,
        mixed_precision_training=False,
    )
    model = dgan_module.DGAN(config)

    stamps = []

    def on_batch(info):
        stamps.append(time.perf_counter())

    start = time.perf_counter()
    model.train_numpy(features, feature_types=[OutputType.CONTINUOUS], attributes=attributes,
                      attribute_types=[OutputType.DISCRETE] * len(categories),
                      progress_callback=on_batch)
    total = time.perf_counter() - start

    intervals = np.diff(stamps)
    times = intervals[args.warmup:].tolist()
    critic_layers = [m for m in model.feature_discriminator.seq if isinstance(m, torch.nn.Linear)]
    from importlib.metadata import version
    print(json.dumps({
        "side": "gretel",
        "batch": args.batch,
        "times": times,
        "batches": len(stamps),
        "train_numpy_s": total,
        "untimed_before_first_batch_end_s": stamps[0] - start if stamps else None,
        "critic_input_dim": critic_layers[0].in_features,
        "critic_hidden_layers": len(critic_layers) - 1,
        "generator_params": sum(p.numel() for p in model.generator.parameters()),
        "critic_params": sum(p.numel() for p in model.feature_discriminator.parameters()),
        "aux_critic_params": sum(p.numel() for p in model.attribute_discriminator.parameters()),
        "threads": torch.get_num_threads(),
        "versions": {name: version(name) for name in
                     ("gretel-synthetics", "torch", "numpy", "pandas", "category-encoders")},
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
