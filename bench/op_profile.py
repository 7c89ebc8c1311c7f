"""Where a training step's or generation's time goes: TensorFlow's profiler, summed per operation.

(Named op_profile, not profile: bench/ is on the path of the scripts run from it, and a
bench/profile.py would shadow Python's own profile module, which cProfile imports.)

    python bench/op_profile.py                              # WWT shape, training, 3 calls of 10 steps
    python bench/op_profile.py --what generate --samples 5000
    python bench/op_profile.py --shape mba --top 40

Runs the work once untimed (tracing), then under TensorFlow's profiler, and prints the wall time
per step (or per 1,000 samples) and each operation's thread time: summed over its runs, per
step (per 1,000 samples), by operation type and by name. Thread time counts a whole operation,
including the time an operation spends waiting for work it handed to another thread, so it can
exceed the work done. The profiler's function and executor frames are left out. Prints figures; asserts nothing.
"""
from __future__ import annotations

import collections
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import train_step as ts  # noqa: E402  (also defines train_step.py's flags; unused here)

from doppelganger_tf import compat  # noqa: E402

SHAPE = flags.DEFINE_enum("shape", "wwt", ["wwt", "mba"], "shape (bench/train_step.py SHAPES)")
WHAT = flags.DEFINE_enum("what", "train", ["train", "generate"], "what to profile")
CALLS = flags.DEFINE_integer("calls", 3, "profiled calls of the train function")
SAMPLES = flags.DEFINE_integer("samples", 5000, "profiled generated samples")
TOP = flags.DEFINE_integer("top", 25, "rows per table")


def operation_type(event_name: str):
    """"scope/name:Type" -> "Type"; None for the profiler's other frames ("EagerLocalExecute:
    __inference_...", "KernelAndDeviceFunc::Run", "ExecutorState::Process", ...)."""
    name, _, kind = event_name.rpartition(":")
    if not name or not kind or name.endswith(":") or " " in event_name:
        return None
    return kind


def operation_thread_times(logdir: Path):
    """{operation name: picoseconds} and {operation type: picoseconds} from the host plane of
    the profile in logdir."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(next(logdir.rglob("*.xplane.pb")).read_bytes())
    by_name, by_type = collections.Counter(), collections.Counter()
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "")
                kind = operation_type(name)
                if kind is not None:
                    by_name[name] += event.duration_ps
                    by_type[kind] += event.duration_ps
    return by_name, by_type


def main(_):
    from doppelganger_tf.runtime import set_cpu_threads
    set_cpu_threads()
    model, _, data, step = ts.build_training(ts.SHAPES[SHAPE.value])
    if WHAT.value == "train":
        step(data)
        per_call = compat.steps_per_execution(model)

        def work():
            for _ in range(CALLS.value):
                logs = step(data)
            float(logs["g_loss"])
        units, unit = CALLS.value * per_call, "step"
    else:
        model.generate(1000, seed=0)

        def work():
            model.generate(SAMPLES.value, seed=1)
        units, unit = SAMPLES.value / 1000, "1,000 samples"
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        work()
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        by_name, by_type = operation_thread_times(Path(logdir))
    total = sum(by_name.values())
    print(f"{SHAPE.value} {WHAT.value} (LSTM: {model.feature_generator.lstm_implementation}): "
          f"wall {1e3 * wall / units:.1f} ms per {unit}; operations' thread time "
          f"{total / 1e9 / units:.1f} ms per {unit}")
    for title, table in (("by type", by_type), ("by name", by_name)):
        print(f"--- thread time per {unit}, {title}")
        for name, picoseconds in table.most_common(TOP.value):
            print(f"{picoseconds / 1e9 / units:8.2f} ms  {100 * picoseconds / total:5.1f}%  "
                  f"{name[-110:]}")


if __name__ == "__main__":
    app.run(main)
