"""Keras' LSTM against the fused LSTM operation (DoppelGANger's lstm_implementation), in one
process.

    python bench/lstm_implementations.py                 # WWT shape, 8 blocks of 20 steps each
    python bench/lstm_implementations.py --shape mba --blocks 12

Two models of the same shape and initial weights, one per implementation, alternate blocks of
training steps (so that the machine's drift hits both alike), then of generation; prints each
block's ms/step and samples/s, and the fused/Keras ratio per block with its median.
"""
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

import train_step as ts  # noqa: E402  (also defines train_step.py's flags; unused here)

SHAPE = flags.DEFINE_enum("shape", "wwt", ["wwt", "mba"], "shape (bench/train_step.py SHAPES)")
BLOCKS = flags.DEFINE_integer("blocks", 8, "alternating blocks per implementation")
STEPS = flags.DEFINE_integer("block_steps", 20, "training steps per block")
GENERATE = flags.DEFINE_integer("block_samples", 5000, "samples generated per generation block")
IMPLEMENTATIONS = ["keras", "fused"]


def report(what, unit, figures, ratio_of):
    for name in IMPLEMENTATIONS:
        print(f"{what} {name:5s} {unit}: " + " ".join(f"{x:.1f}" for x in figures[name])
              + f"  median {np.median(figures[name]):.1f}")
    ratios = [ratio_of(k, f) for k, f in zip(figures["keras"], figures["fused"])]
    print(f"{what} fused/keras time per block: " + " ".join(f"{r:.2f}" for r in ratios)
          + f"  median {np.median(ratios):.3f}")


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(_):
    import tensorflow as tf

    from doppelganger_tf import fused_lstm
    from doppelganger_tf.runtime import set_cpu_threads
    set_cpu_threads()
    compiler = os.environ.get("CXX") or "g++"
    fused_lstm.load_kernels()  # raises with the compiler's error where it does not build
    print(f"python {platform.python_version()}, tensorflow {tf.__version__}, {cpu_name()} "
          f"({os.cpu_count()} CPUs), fused LSTM built with {compiler} "
          f"{' '.join(fused_lstm._target_flags(compiler))}")
    models = {}
    for name in IMPLEMENTATIONS:
        model, _, data, step = ts.build_training(ts.SHAPES[SHAPE.value],
                                                 lstm_implementation=name)
        assert model.feature_generator.lstm_implementation == name, "fused LSTM unavailable"
        step(data)
        model.generate(1000, seed=0)  # traces generation
        models[name] = (model, data, step)
    step_ms = {name: [] for name in IMPLEMENTATIONS}
    rate = {name: [] for name in IMPLEMENTATIONS}
    for _ in range(BLOCKS.value):
        for name, (model, data, step) in models.items():
            step_ms[name].append(1e3 * np.mean(ts.time_steps(model, data, step, STEPS.value, 1)))
        for name, (model, _, _) in models.items():
            start = time.perf_counter()
            model.generate(GENERATE.value, seed=1)
            rate[name].append(GENERATE.value / (time.perf_counter() - start))
    print(f"shape {SHAPE.value}, {BLOCKS.value} blocks of {STEPS.value} training steps and "
          f"{GENERATE.value} generated samples")
    report("training", "ms/step", step_ms, lambda keras, fused: fused / keras)
    report("generation", "samples/s", rate, lambda keras, fused: keras / fused)


if __name__ == "__main__":
    app.run(main)
