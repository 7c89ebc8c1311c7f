"""Peak memory and speed of training on a dataset stored in the streamed layout: fit's
input_mode "memory" against "streamed".

    python bench/streamed_input_memory.py [--n 10000] [--steps 50] [--warmup 10] [--dir DIR]

The dataset has the WWT shape of bench/train_step.py (T=550, one continuous feature,
attributes 9/3/2; random values, all series full length) and is written block by block with
DatasetStreamWriter (into --dir, or a temporary directory removed afterwards). The default N,
10,000, is ten times the largest dataset of the test suite (1,000 x 550 x 1 values,
tests/test_synthetic.py). Each scenario runs in its own process (bench/memory.py's child), so
each peak is its own:

- "write": the blocks written to disk (the writer holds one block);
- "load + model": Dataset.load (features memory-mapped, validated in chunks) and the model
  (WWT configuration), compiled; the floor of both training modes;
- "memory" / "streamed": the same, then `warmup` training steps and `steps` timed ones through
  fit(input_mode=...), then 300 batches drawn from the input pipeline alone (its rate: how
  fast a step it could feed).

Figures: the peak resident set (VmHWM: it counts the pages of the memory-mapped file that
were read, which the kernel can drop again), the peak anonymous memory (sampled every 5 ms:
what the process itself holds), seconds to load and to prepare the input (fit's
training_batches: encoding the whole dataset, or checking it), training steps per second, and
batches per second of the input pipeline alone. Steps per second depend on what else runs on
the machine: compare the modes within one run.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

from memory import child, peak_mib  # bench/memory.py

BLOCK = 1000  # samples per written block
INPUT_BATCHES = 300  # batches drawn from the input pipeline alone, for its rate
MODES = ("memory", "streamed")


def status_mib(key: str) -> float:
    """A field of /proc/self/status (kB) in MiB: VmHWM, RssAnon, RssFile..."""
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == key:
                return int(value.split()[0]) / 1024
    return float("nan")


class AnonymousPeak:
    """The peak of RssAnon, sampled on a thread (the kernel keeps no high-water mark of it)."""

    def __init__(self, every=0.005):
        self.peak = status_mib("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every):
        while not self._stop.wait(every):
            self.peak = max(self.peak, status_mib("RssAnon"))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, status_mib("RssAnon"))


def write(path: Path, n: int) -> dict:
    import train_step
    from doppelganger_tf.dataset import DatasetStreamWriter

    spec = train_step.SHAPES["wwt"]
    with DatasetStreamWriter(path, n) as writer:
        for start in range(0, n, BLOCK):
            writer.append(train_step.random_dataset(
                spec["length"], spec["features"], spec["categories"], spec["normalization"],
                n=min(BLOCK, n - start), seed=start // BLOCK))
    return {"disk_mib": sum(f.stat().st_size for f in path.iterdir()) / 2 ** 20}


def train(path: Path, mode: str, steps: int, warmup: int) -> dict:
    import train_step
    from doppelganger_tf.runtime import set_cpu_threads

    set_cpu_threads()  # the setting the experiment scripts use
    import tensorflow as tf

    from doppelganger_tf import Dataset, DoppelGANger, training_data

    anonymous = AnonymousPeak()
    started = time.perf_counter()
    dataset = Dataset.load(path)
    result = {"load_s": time.perf_counter() - started}
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(dataset, train_step.SHAPES["wwt"]["config"], seed=0)
    model.compile()
    result["critic_inputs_mib"] = training_data.critic_input_bytes(model, dataset) / 2 ** 20
    if mode != "baseline":
        started = time.perf_counter()
        model.training_batches(dataset, seed=0, input_mode=mode)
        result["prepare_s"] = time.perf_counter() - started
        model.fit(dataset, epochs=1, steps_per_epoch=warmup, seed=0, input_mode=mode,
                  verbose=0)
        started = time.perf_counter()
        model.fit(dataset, epochs=1, steps_per_epoch=steps, seed=1, input_mode=mode,
                  verbose=0)
        result["steps_per_s"] = steps / (time.perf_counter() - started)
        batches = iter(model.training_batches(dataset, seed=2, input_mode=mode))
        next(batches)
        started = time.perf_counter()
        for _ in range(INPUT_BATCHES):
            next(batches)
        result["input_batches_per_s"] = INPUT_BATCHES / (time.perf_counter() - started)
    result["anon_peak_mib"] = anonymous.stop()
    result["file_rss_mib"] = status_mib("RssFile")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="samples of the dataset")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--dir", help="where to write the dataset (default: a temporary "
                                      "directory, removed afterwards)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        path = Path(args.dir)
        result = (write(path, args.n) if args.worker == "write"
                  else train(path, args.worker, args.steps, args.warmup))
        print(json.dumps({**result, "peak_mib": peak_mib()}))
        return
    scratch = None if args.dir else tempfile.mkdtemp(prefix="streamed_input_")
    path = Path(args.dir or scratch) / "dataset"
    try:
        run(path, args)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def run(path: Path, args):
    common = ["--n", args.n, "--steps", args.steps, "--warmup", args.warmup, "--dir", path]
    written = child(__file__, "--worker", "write", *common)
    if written is None:
        return
    print(f"N={args.n:,} x T=550 x K=1 (WWT shape), {written['disk_mib']:.0f} MiB on disk; "
          f"writing it peaked at {written['peak_mib']:.0f} MiB")
    print(f"{'scenario':<13} {'peak MiB':>9} {'anon peak':>10} {'file MiB':>9} "
          f"{'load s':>7} {'prepare s':>10} {'steps/s':>8} {'input batches/s':>16}")
    for scenario in ("baseline",) + MODES:
        result = child(__file__, "--worker", scenario, *common)
        name = "load + model" if scenario == "baseline" else scenario
        if result is None:
            print(f"{name:<13} failed", flush=True)
            continue
        prepare = f"{result['prepare_s']:.2f}" if "prepare_s" in result else "-"
        rate = f"{result['steps_per_s']:.1f}" if "steps_per_s" in result else "-"
        feed = f"{result['input_batches_per_s']:.0f}" if "steps_per_s" in result else "-"
        print(f"{name:<13} {result['peak_mib']:>9.0f} {result['anon_peak_mib']:>10.0f} "
              f"{result['file_rss_mib']:>9.0f} {result['load_s']:>7.2f} {prepare:>10} "
              f"{rate:>8} {feed:>16}", flush=True)
    print(f"(the memory mode holds the encoded dataset, {result['critic_inputs_mib']:.0f} MiB "
          "as float32 constants)" if result else "")


if __name__ == "__main__":
    main()
