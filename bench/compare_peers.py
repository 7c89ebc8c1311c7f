"""Our training step against gretel-synthetics' PyTorch DGAN, at the paper's WWT shape.

    python bench/compare_peers.py [--repetitions 3] [--steps 40] [--warmup 5] [--batch_sizes 100]

Both sides train DoppelGANger at the same shape (T=550, sample_len 10, one continuous feature
scaled to [-1, 1] with per-example min/max scaling, three categorical attributes with 9/3/2
categories, auxiliary critic) and network sizes (noise 5, attribute and min/max generators
2 x 100 with batch norm, LSTM 1 x 100, critics 4 x 200 hidden, Adam 1e-3 / beta1 0.5, gradient
penalty 10, one critic and one generator update per batch) on random data.  Each measurement runs
in its own subprocess: ours with this interpreter (or --ours_python) through
bench/train_step.py's build_training and time_steps, gretel's with bench/_envs/gretel/bin/python through
bench/_gretel_step.py (see its docstring for how a gretel batch is timed).  Our figure per
batch is the time of a train-function call (what fit runs) over the steps it runs
(DoppelGANger.compile's steps_per_execution unless --ours_steps_per_execution says otherwise).
The two alternate, ours first in odd repetitions and gretel first in even ones.  Prints ms per
batch (median of the timed figures after warm-up) per repetition and over all repetitions, and
gretel/ours.
Asserts nothing; not part of the test suite.  See docs/performance.md.

The gretel environment is created on first use and reused afterwards.  gretel-synthetics
0.22.20's declared requirements (sdv<0.18, rdt<1.3) have no release for Python 3.11, so the
package is installed with --no-deps next to the libraries its timeseries_dgan module imports
(torch, numpy<1.24, pandas<2, scipy<1.11, category-encoders 2.4.0).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
GRETEL_ENV = BENCH / "_envs" / "gretel"
GRETEL_PYTHON = GRETEL_ENV / "bin" / "python"
GRETEL_VERSION = "0.22.20"
# what gretel_synthetics.timeseries_dgan imports, at versions within gretel-synthetics 0.22.20's
# pins (numpy<1.24, pandas<2, scipy<1.11, category-encoders==2.4.0) that exist for Python 3.11
GRETEL_DEPS = ["numpy==1.23.5", "pandas==1.5.3", "scipy==1.10.1", "category-encoders==2.4.0",
               "tqdm>=4.66,<5"]
DEFAULT_TORCH = "torch==2.13.0"
SHAPE = "wwt"
SHAPE_TEXT = ("WWT shape: T=550, sample_len=10, 1 continuous feature (per-example scaling), "
              "attributes 9/3/2, auxiliary critic")


# --------------------------------------------------------------------------- our side (worker)

def run_ours_worker(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import flops  # bench/flops.py
    import train_step  # bench/train_step.py
    from doppelganger_tf.runtime import apply_thread_setting

    threads = apply_thread_setting(args.ours_threads)
    overrides = parse_overrides(args.ours_config)
    model, _, data, step = train_step.build_training(
        train_step.SHAPES[SHAPE], args.batch, args.ours_steps_per_execution, **overrides)
    times = train_step.time_steps(model, data, step, args.steps, args.warmup)
    # gretel's critic reads fewer columns (no generation flags for fixed-length data): its
    # step's FLOPs are ours with its critic input width (see print_table)
    gretel_width = (model.max_length * (model.num_feature_columns_with_flags - 2)
                    + model.num_attribute_columns + model.num_minmax_columns)
    print(json.dumps({"side": "ours", "batch": args.batch, "times": times,
                      "overrides": overrides,
                      "step_flops": flops.training_step_flops(model, args.batch)["step"],
                      "critic_input_dim": flops.critic_input_width(model),
                      "gretel_step_flops": flops.training_step_flops(
                          model, args.batch, critic_input=gretel_width)["step"],
                      "matmul_peak_gflops": flops.matmul_peak_gflops(),
                      "versions": {"tensorflow": tf.__version__},
                      "threads": train_step.thread_text(threads),
                      "lstm": model.feature_generator.lstm_implementation,
                      "python": sys.version.split()[0]}))


def parse_overrides(items):
    overrides = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


# --------------------------------------------------------------------------- gretel environment

def gretel_env_ready():
    if not GRETEL_PYTHON.exists():
        return False
    check = ("from importlib.metadata import version; "
             "import gretel_synthetics.timeseries_dgan.dgan, torch; "
             "print(version('gretel-synthetics'))")
    result = subprocess.run([str(GRETEL_PYTHON), "-c", check], capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == GRETEL_VERSION


def pip(*arguments):
    command = [str(GRETEL_PYTHON), "-m", "pip", "install", "--disable-pip-version-check",
               *arguments]
    print("  $", " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def ensure_gretel_env(base_python, torch_spec):
    """Path of the gretel environment's python, creating the environment if needed; None (after
    printing why) if it cannot be installed."""
    if gretel_env_ready():
        return GRETEL_PYTHON
    print(f"creating the gretel environment in {GRETEL_ENV} "
          f"(gretel-synthetics {GRETEL_VERSION}, {torch_spec}); a minute or two", file=sys.stderr,
          flush=True)
    GRETEL_ENV.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        lambda: subprocess_output([base_python, "-m", "venv", "--clear", str(GRETEL_ENV)]),
        lambda: pip(torch_spec, *GRETEL_DEPS),
        lambda: pip("--no-deps", f"gretel-synthetics=={GRETEL_VERSION}"),
    ]
    for step in steps:
        code, output = step()
        if code != 0:
            errors = [line for line in output.splitlines()
                      if "ERROR" in line or "error" in line.lower()] or output.splitlines()
            print("\ngretel-synthetics could not be installed, so only our side is timed. "
                  "The failing step said:\n  " + "\n  ".join(errors[-8:]) +
                  f"\n(where {torch_spec} is not to be had, pass another, e.g. "
                  "--torch 'torch>=2.1'; rerunning retries the installation)", file=sys.stderr)
            return None
    if not gretel_env_ready():
        print("the gretel environment was installed but gretel_synthetics.timeseries_dgan does "
              "not import; only our side is timed", file=sys.stderr)
        return None
    return GRETEL_PYTHON


def subprocess_output(command):
    print("  $", " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


# --------------------------------------------------------------------------- driver

def run_side(side, batch, args, gretel_python):
    common = ["--batch", str(batch), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    if side == "ours":
        command = [args.ours_python, str(Path(__file__).resolve()), "--worker", "ours", *common]
        for item in args.ours_config or []:
            command += ["--ours_config", item]
        command += ["--ours_threads", args.ours_threads]
        if args.ours_steps_per_execution is not None:
            command += ["--ours_steps_per_execution", str(args.ours_steps_per_execution)]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    else:
        command = [str(gretel_python), str(BENCH / "_gretel_step.py"), *common,
                   "--threads", str(args.torch_threads),
                   "--critic_hidden", str(args.gretel_critic_hidden)]
        env = dict(os.environ)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = "\n    ".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        print(f"  {side} batch {batch} failed (exit {result.returncode}):\n    {tail}",
              file=sys.stderr, flush=True)
        return None
    record = json.loads(lines[-1])
    record["wall_s"] = wall
    print(f"  {side:6s} batch {batch:5d}: median {statistics.median(record['times']) * 1e3:7.1f} "
          f"ms/batch over {len(record['times'])} timed batches ({wall:.0f} s with start-up)",
          file=sys.stderr, flush=True)
    return record


def ms(times):
    return statistics.median(times) * 1e3 if times else None


def fmt(value, spec=".1f"):
    return "n/a" if value is None else format(value, spec)


def print_table(results, batch_sizes, repetitions, same_flops):
    """ms/batch per side and their ratio; GFLOP/s = the step's matmul FLOPs (bench/flops.py,
    counted for each side's critic input width) / time, for gretel only when both run the
    paper's architecture (``same_flops``); % of peak = of the best large-matmul rate measured in
    our workers."""
    header = (f"{'batch':>5}  {'repetition':>10}  {'ours ms/batch':>13}  "
              f"{'gretel ms/batch':>15}  {'gretel/ours':>11}  {'ours GFLOP/s':>12}  "
              f"{'gretel GFLOP/s':>14}  {'ours % of peak':>14}")
    print(header)
    print("-" * len(header))
    records = [r for r in results.values() if r and r["side"] == "ours"]
    peak = max((r["matmul_peak_gflops"] for r in records), default=None)
    gretel_width = next((r.get("critic_input_dim") for r in results.values()
                         if r and r["side"] == "gretel"), None)
    for batch in batch_sizes:
        ours_record = next((r for r in records if r["batch"] == batch), None)
        step_flops = ours_record["step_flops"] if ours_record else None
        gretel_flops = ours_record.get("gretel_step_flops") if ours_record else None

        def rate(milliseconds, side):
            if step_flops is None or milliseconds is None or (side == "gretel" and not same_flops):
                return None
            return (gretel_flops if side == "gretel" else step_flops) / (milliseconds / 1e3) / 1e9

        def line(label, ours, gretel):
            ratio = gretel / ours if ours and gretel else None
            ours_rate = rate(ours, "ours")
            share = 100 * ours_rate / peak if ours_rate and peak else None
            print(f"{batch:>5}  {label:>10}  {fmt(ours):>13}  {fmt(gretel):>15}  "
                  f"{fmt(ratio, '.2f'):>11}  {fmt(rate(ours, 'ours')):>12}  "
                  f"{fmt(rate(gretel, 'gretel')):>14}  {fmt(share):>14}")

        pooled = {"ours": [], "gretel": []}
        ratios = []
        for rep in range(repetitions):
            row = {}
            for side in ("ours", "gretel"):
                record = results.get((batch, rep, side))
                times = record["times"] if record else []
                pooled[side] += times
                row[side] = ms(times)
            line(str(rep + 1), row["ours"], row["gretel"])
            if row["ours"] and row["gretel"]:
                ratios.append(row["gretel"] / row["ours"])
        line("all", ms(pooled["ours"]), ms(pooled["gretel"]))
        if ratios:
            # each repetition's two runs are adjacent in time: on a machine whose speed drifts,
            # their ratio is steadier than the ratio of pooled medians
            print(f"{batch:>5}  median of the per-repetition gretel/ours: "
                  f"{statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
        if step_flops:
            print(f"{batch:>5}  step = {step_flops / 1e9:.2f} GFLOP of matmuls (critic input "
                  f"{ours_record.get('critic_input_dim')} columns); gretel's step "
                  f"{fmt(gretel_flops / 1e9 if gretel_flops else None, '.2f')} GFLOP (critic "
                  f"input {gretel_width}); large-matmul peak {fmt(peak)} GFLOP/s")


def git_state():
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "doppelganger_tf"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return commit + (" (doppelganger_tf/ has uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def main():
    parser = argparse.ArgumentParser(
        description="Compare our training step with gretel-synthetics' DGAN (ms per batch).")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="timed batches per run")
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches first")
    parser.add_argument("--batch_sizes", default="100",
                        help="comma-separated batch sizes, e.g. 100,1000")
    parser.add_argument("--torch_threads", type=int, default=os.cpu_count(),
                        help="torch.set_num_threads for gretel (default: number of cores)")
    parser.add_argument("--ours_threads", default="auto",
                        help="our TensorFlow CPU threads: 'auto' (doppelganger_tf."
                             "set_cpu_threads, the setting the experiment scripts use), "
                             "'default' (TensorFlow's own) or INTRA,INTER")
    parser.add_argument("--ours_steps_per_execution", type=int, default=None,
                        help="our training steps per train-function call (default: what "
                             "DoppelGANger.compile sets, as fit uses it); our figure per "
                             "batch is a call's time / its steps")
    parser.add_argument("--gretel_critic_hidden", type=int, default=4,
                        help="hidden layers of gretel's critics: 4 as the paper and ours "
                             "(default; patches gretel's class) or 5 as gretel ships them")
    parser.add_argument("--ours_python", default=sys.executable,
                        help="interpreter with doppelganger_tf installed (default: this one)")
    parser.add_argument("--ours_config", action="append", metavar="FIELD=VALUE",
                        help="DGConfig override for our side, e.g. critic_steps=2, or a run "
                             "setting, e.g. lstm_implementation=keras (repeatable)")
    parser.add_argument("--base_python", default="python3",
                        help="interpreter that creates the gretel environment")
    parser.add_argument("--torch", default=DEFAULT_TORCH, dest="torch_spec",
                        help="torch requirement installed into the gretel environment")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument("--worker", choices=["ours"], help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "ours":
        run_ours_worker(args)
        return

    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    gretel_python = ensure_gretel_env(args.base_python, args.torch_spec)
    sides = ("ours", "gretel") if gretel_python else ("ours",)

    results = {}
    for rep in range(args.repetitions):
        order = sides if rep % 2 == 0 else tuple(reversed(sides))
        print(f"repetition {rep + 1}/{args.repetitions} ({' then '.join(order)})",
              file=sys.stderr, flush=True)
        for batch in batch_sizes:
            for side in order:
                results[(batch, rep, side)] = run_side(side, batch, args, gretel_python)

    some = {side: next((r for r in results.values() if r and r["side"] == side), None)
            for side in ("ours", "gretel")}
    print()
    print(SHAPE_TEXT)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
          f"python {platform.python_version()}")
    ours_overrides = parse_overrides(args.ours_config)
    print(f"ours: doppelganger_tf at {git_state()}, tensorflow "
          f"{some['ours']['versions']['tensorflow'] if some['ours'] else '?'} (threads: "
          f"{some['ours']['threads'] if some['ours'] else '?'}; LSTM: "
          f"{some['ours'].get('lstm', '?') if some['ours'] else '?'})"
          + (f", DGConfig overrides {ours_overrides}" if ours_overrides else ""))
    if some["gretel"]:
        g = some["gretel"]
        versions = ", ".join(f"{k} {v}" for k, v in g["versions"].items())
        print(f"gretel: {versions}; torch threads {g['threads']}; critics "
              f"{g['critic_hidden_layers']} x 200 hidden, critic input {g['critic_input_dim']}")
    elif gretel_python is None:
        print("gretel: not installed (see the message above); only our side was run")
    print(f"{args.repetitions} repetitions, {args.warmup} warm-up + {args.steps} timed batches "
          f"per run; ms/batch = median of the timed batches ('all': of every repetition's)")
    print()
    print_table(results, batch_sizes, args.repetitions,
                same_flops=args.gretel_critic_hidden == 4 and not ours_overrides)

    if args.json:
        rows = [dict(record, repetition=rep + 1) for (batch, rep, side), record
                in sorted(results.items()) if record]
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
