"""Seconds per training step and generated samples per second at the paper's shapes.

    python bench/train_step.py [--shapes wwt,mba] [--steps 100] [--warmup 5] [--cpu_threads auto]
                               [--steps_per_execution N] [--precision mixed_float16]

    # on a GPU: mixed precision, the projected WWT-scale time (issue 5's GPU figure)
    python bench/train_step.py --shapes wwt --precision mixed_float16 --steps 300

WWT: batch 100, T=550, S=10, one continuous feature, attributes 9/3/2, aux critic and
auto-normalisation on.  MBA: batch 100, T=56, S=8, two continuous features, attributes 15/5/53,
aux critic and auto-normalisation off (the original's MBA settings).  Data are random (the step's
cost does not depend on the values).  Threads: doppelganger_tf.set_cpu_threads (the experiment
scripts' setting) unless --cpu_threads says otherwise (on a GPU, TensorFlow's defaults).  For
the WWT shape it also prints the projected time of the paper's full WWT training: 50,000 samples,
400 epochs, batch 100 = 200,000 steps at the median step time.  Prints figures; asserts nothing.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import tensorflow as tf
from absl import app, flags

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, Normalization, compat
from doppelganger_tf.config import LSTM_IMPLEMENTATIONS, PRECISIONS
from doppelganger_tf.model import STEPS_PER_EXECUTION
from doppelganger_tf.runtime import THREAD_SETTING_HELP, apply_thread_setting

import flops  # noqa: E402  (bench/flops.py)

FLAGS = flags.DEFINE_string("shapes", "wwt,mba", "comma-separated shapes to run: wwt, mba")
STEPS = flags.DEFINE_integer("steps", 100, "timed training steps")
WARMUP = flags.DEFINE_integer("warmup", 5, "untimed steps first (tracing, allocation)")
CPU_THREADS = flags.DEFINE_string("cpu_threads", "auto", THREAD_SETTING_HELP)
PER_CALL = flags.DEFINE_integer("steps_per_execution", None,
                                "training steps per train-function call (default: compile's)")
GEN_N = flags.DEFINE_integer("generate", 20000, "samples to generate for the generation rate")
LSTM = flags.DEFINE_enum("lstm_implementation", "auto", list(LSTM_IMPLEMENTATIONS),
                         "DoppelGANger's lstm_implementation")
PRECISION = flags.DEFINE_enum("precision", "float32", list(PRECISIONS),
                              "DoppelGANger's precision (mixed_float16: for GPUs)")
# the paper's WWT run: 50,000 samples x 400 epochs at batch 100
WWT_SCALE_STEPS = 50_000 * 400 // 100

SHAPES = {
    "wwt": dict(length=550, features=1, categories=(9, 3, 2), normalization="minusone_one",
                config=DGConfig(sample_len=10, use_aux_critic=True, auto_normalize=True)),
    "mba": dict(length=56, features=2, categories=(15, 5, 53), normalization="zero_one",
                config=DGConfig(sample_len=8, use_aux_critic=False, auto_normalize=False)),
}


def random_dataset(length, features, categories, normalization, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(n, length, features))
    attributes = pd.DataFrame({f"a{i}": rng.integers(0, k, n) for i, k in enumerate(categories)})
    # make sure every category occurs, so the one-hot widths are the paper's
    for i, k in enumerate(categories):
        attributes.loc[:k - 1, f"a{i}"] = np.arange(k)
    return Dataset.from_arrays(values, attributes, discrete_attributes=list(attributes.columns),
                               normalization=Normalization(normalization))


def build_training(spec, batch_size=None, steps_per_execution=None, lstm_implementation="auto",
                   precision="float32", compile_model=None, **config_overrides):
    """(model, dataset, data iterator, compiled train function) for one shape, run with
    ``lstm_implementation`` and ``precision``; each call of the function runs
    ``steps_per_execution`` steps (default: what ``compile`` sets). ``compile_model(model,
    steps_per_execution=...)``: compiles instead of ``model.compile`` (bench/dp_step.py)."""
    config = spec["config"]
    if batch_size is not None:
        config_overrides["batch_size"] = batch_size
    if config_overrides:
        config = config.replace(**config_overrides)
    dataset = random_dataset(spec["length"], spec["features"], spec["categories"],
                             spec["normalization"], n=max(1000, config.batch_size))
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(dataset, config, seed=0,
                                      lstm_implementation=lstm_implementation,
                                      precision=precision)
    (compile_model or DoppelGANger.compile)(
        model, steps_per_execution=steps_per_execution or STEPS_PER_EXECUTION)
    data = iter(model.training_batches(dataset, seed=0))  # what fit(dataset) feeds the step
    return model, dataset, data, model.make_train_function()


def time_steps(model, data, step, steps, warmup):
    """Seconds per training step, after at least `warmup` untimed steps: one figure per call of
    the train function (its time / the steps it runs), over at least `steps` steps."""
    per_call = compat.steps_per_execution(model)
    for _ in range(-(-warmup // per_call)):
        step(data)
    times = []
    for _ in range(max(1, -(-steps // per_call))):
        start = time.perf_counter()
        logs = step(data)
        float(logs["g_loss"])  # wait for the steps to finish
        times.append((time.perf_counter() - start) / per_call)
    return times


def time_training_steps(shape_name, steps, warmup, batch_size=None, **config_overrides):
    """Seconds per training step at shape `shape_name` (a key of SHAPES), as time_steps.
    `batch_size` and `config_overrides` (DGConfig fields, or build_training's run settings and
    compile_model) change the shape's configuration."""
    model, _, data, step = build_training(SHAPES[shape_name], batch_size, **config_overrides)
    return time_steps(model, data, step, steps, warmup)


def thread_text(threads):
    return "TensorFlow default" if threads is None else "intra_op %d, inter_op %d" % threads


def bench_shape(name, spec, peak, compute_dtype):
    model, _, data, step = build_training(spec, steps_per_execution=PER_CALL.value,
                                          lstm_implementation=LSTM.value,
                                          precision=PRECISION.value)
    times = time_steps(model, data, step, STEPS.value, WARMUP.value)
    per_call = compat.steps_per_execution(model)
    step_flops = flops.training_step_flops(model, spec["config"].batch_size)["step"]
    model.generate(1000, seed=0)  # trace
    start = time.perf_counter()
    model.generate(GEN_N.value, seed=1)
    gen_rate = GEN_N.value / (time.perf_counter() - start)
    times = np.array(times)
    print(f"{name} (LSTM: {model.feature_generator.lstm_implementation}, "
          f"{model.precision}): T={spec['length']} "
          f"S={spec['config'].sample_len} batch="
          f"{spec['config'].batch_size}  train step median {np.median(times) * 1e3:.1f} ms "
          f"(p10 {np.percentile(times, 10) * 1e3:.1f}, p90 {np.percentile(times, 90) * 1e3:.1f}, "
          f"n={len(times)} calls of {per_call} steps)  generation {gen_rate:,.0f} samples/s")
    rate = step_flops / np.median(times) / 1e9
    print(f"  {step_flops / 1e9:.2f} GFLOP of matmuls per step -> {rate:.0f} GFLOP/s, "
          f"{100 * rate / peak:.0f}% of the {peak:.0f} GFLOP/s large-matmul peak "
          f"({compute_dtype})")
    if name == "wwt":
        hours = WWT_SCALE_STEPS * np.median(times) / 3600
        print(f"  WWT scale ({WWT_SCALE_STEPS:,} steps: 50,000 samples x 400 epochs, batch 100): "
              f"{hours:.2f} h ({60 * hours:.0f} min) at the median step")
    sys.stdout.flush()


def main(argv):
    del argv
    threads = apply_thread_setting(CPU_THREADS.value)
    print(f"tensorflow {tf.__version__}, {os.cpu_count()} CPUs, "
          f"devices {[d.device_type for d in tf.config.list_physical_devices()]}, threads "
          f"{thread_text(threads)}")
    # the peak of the arithmetic the hidden layers run in (float16 / bfloat16 when mixed) on a
    # GPU; CPUs emulate half precision (minutes for the peak's matmuls), so float32's there
    compute_dtype = tf.keras.mixed_precision.Policy(PRECISION.value).compute_dtype
    if not tf.config.list_physical_devices("GPU"):
        compute_dtype = "float32"
    peak = flops.matmul_peak_gflops(dtype=tf.as_dtype(compute_dtype))
    for name in FLAGS.value.split(","):
        bench_shape(name.strip(), SHAPES[name.strip()], peak, compute_dtype)


if __name__ == "__main__":
    app.run(main)
