"""End-to-end demo on the embedded synthetic WWT-schema data: train, generate, save, plot.

    doppelganger-demo --output demo_output            (or: python -m doppelganger_tf.demo ...)

Trains DoppelGANger on seeded synthetic page-view series (see doppelganger_tf.data.synthetic; NOT
real Wikipedia data), then writes into --output:
  model/              the trained model (DoppelGANger.load(path) reads it back)
  checkpoints/        training checkpoints; rerunning the same command resumes from them
  generated.csv       generated samples in long form (page, day, domain, access, agent, views)
  history.json        per-epoch losses
  demo.png            real vs generated: sample series, autocorrelation, attribute frequencies
Views are modelled as log1p(views) (the heavy tail spans five orders of magnitude) and turned
back into views on output.
"""
from __future__ import annotations

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

ATTRIBUTES = ["domain", "access", "agent"]


def define_flags():
    """Defined only when run as a program, so importing this module defines no flags."""
    flags.DEFINE_string("output", "demo_output", "directory for everything the demo writes")
    flags.DEFINE_integer("num_samples", 1000, "synthetic pages to train on")
    flags.DEFINE_integer("length", 550, "days per page (WWT: 550)")
    flags.DEFINE_integer("epochs", 200, "training epochs (one epoch = N / batch steps)")
    flags.DEFINE_integer("sample_len", 10, "records generated per LSTM step")
    flags.DEFINE_integer("seed", 0, "seed for data, weights and generation")
    flags.DEFINE_integer("verbose", 2, "Keras fit verbosity (0 silent, 1 bar, 2 per epoch)")


def write_figure(real, generated, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .persistence.atomic import atomic_file
    from .evaluation import autocorrelation, autocorrelation_mse

    real_views = real.feature_values()["views"]
    gen_views = generated.feature_values()["views"]
    real_acf = autocorrelation(real_views, real.lengths)
    gen_acf = autocorrelation(gen_views, generated.lengths)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, values, title in [(axes[0, 0], real_views, "real (synthetic data)"),
                              (axes[0, 1], gen_views, "generated")]:
        for row in values[:4]:
            ax.plot(np.expm1(row), linewidth=0.8)
        ax.set_yscale("log")
        ax.set_title(f"{title}: 4 sample series")
        ax.set_xlabel("day")
        ax.set_ylabel("views")
    ax = axes[1, 0]
    ax.plot(np.arange(1, len(real_acf) + 1), real_acf, label="real")
    ax.plot(np.arange(1, len(gen_acf) + 1), gen_acf, label="generated")
    ax.set_title(f"average autocorrelation of log views (MSE {autocorrelation_mse(real_acf, gen_acf):.4f})")
    ax.set_xlabel("lag (days)")
    ax.legend()
    ax = axes[1, 1]
    real_attr, gen_attr = real.attribute_values(), generated.attribute_values()
    labels, real_freq, gen_freq = [], [], []
    for column in ATTRIBUTES:
        for category in sorted(real_attr[column].unique()):
            labels.append(f"{category}")
            real_freq.append(np.mean(real_attr[column] == category))
            gen_freq.append(np.mean(gen_attr[column] == category))
    pos = np.arange(len(labels))
    ax.bar(pos - 0.2, real_freq, 0.4, label="real")
    ax.bar(pos + 0.2, gen_freq, 0.4, label="generated")
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_title("attribute frequencies")
    ax.legend()
    fig.tight_layout()
    with atomic_file(path, "wb") as f:
        fig.savefig(f, format="png", dpi=90)
    plt.close(fig)
    return autocorrelation_mse(real_acf, gen_acf)


def run(output, num_samples, length, epochs, sample_len, seed, verbose=2):
    from .persistence.atomic import atomic_file
    from .training.callbacks import TrainingCheckpoint
    from .compat import keras
    from .gan.config import DGConfig
    from .gan.model import DoppelGANger
    from .data.synthetic import wwt_like_dataset

    os.makedirs(output, exist_ok=True)
    dataset = wwt_like_dataset(num_samples, length, seed)
    print(f"synthetic WWT-schema data: {len(dataset)} pages x {dataset.max_length} days")
    keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(dataset, DGConfig(sample_len=sample_len), seed=seed)
    model.compile()
    checkpoint = TrainingCheckpoint(os.path.join(output, "checkpoints"), every_n_epochs=10)
    start_epoch = checkpoint.restore(model)
    if start_epoch:
        print(f"resuming from the checkpoint after epoch {start_epoch}")
    started = time.time()
    history = model.fit(dataset, epochs=epochs, initial_epoch=start_epoch, seed=seed,
                        callbacks=[checkpoint], verbose=verbose)
    print(f"trained epochs {start_epoch}..{epochs} in {time.time() - started:.0f} s")
    with atomic_file(os.path.join(output, "history.json")) as f:
        json.dump({k: [float(v) for v in vals] for k, vals in history.history.items()}, f)
    model.save(os.path.join(output, "model"))

    generated = model.generate(len(dataset), seed=seed)
    frame = generated.to_dataframe(id_column="page", time_column="day")
    frame["views"] = np.expm1(frame["views"]).clip(lower=0)
    with atomic_file(os.path.join(output, "generated.csv")) as f:
        frame.to_csv(f, index=False)
    mse = write_figure(dataset, generated, os.path.join(output, "demo.png"))
    print(f"autocorrelation MSE real vs generated: {mse:.5f}")
    print(f"wrote {output}/model, generated.csv, history.json, demo.png")
    return mse


def main(argv):
    del argv
    from .training.runtime import set_cpu_threads
    set_cpu_threads()  # before any TensorFlow work
    f = flags.FLAGS
    run(f.output, f.num_samples, f.length, f.epochs, f.sample_len, f.seed, f.verbose)


def run_from_command_line():
    define_flags()
    app.run(main)


if __name__ == "__main__":
    run_from_command_line()
