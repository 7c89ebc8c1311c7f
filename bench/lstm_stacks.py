"""bench/lstm_implementations.py on several Python environments (the two stacks), in one run.

    python bench/lstm_stacks.py                                   # .venv and .venv-3.13, 2 rounds
    python bench/lstm_stacks.py --rounds 3 --blocks 8 --pythons .venv/bin/python,other/bin/python

Each round runs bench/lstm_implementations.py once per interpreter (the order alternates between
rounds, so that a drift of the machine's speed does not favour one stack), each run alternating
blocks of Keras' LSTM and the fused operation in one process. Prints every run's summary and a
table of the medians: training ms/step with each LSTM and fused/Keras (the median of the
per-block ratios), generated samples/s with each. Prints figures; asserts nothing.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "lstm_implementations.py"
MEDIAN = re.compile(r"^(training|generation) (fused/keras|keras|fused) .*median ([0-9.]+)$")


def run(python, args):
    command = [python, str(SCRIPT), "--shape", args.shape, "--blocks", str(args.blocks),
               "--block_steps", str(args.block_steps), "--block_samples", str(args.block_samples)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    lines = result.stdout.splitlines()
    stack = next(line for line in lines if line.startswith("python "))
    medians = {}
    for line in lines:
        match = MEDIAN.match(line)
        if match:
            medians[match[1], match[2]] = float(match[3])
    return stack, medians, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pythons", default=".venv/bin/python,.venv-3.13/bin/python",
                        help="comma-separated interpreters (relative to the repository root)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shape", default="wwt", choices=["wwt", "mba"])
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--block_steps", type=int, default=20)
    parser.add_argument("--block_samples", type=int, default=2000)
    args = parser.parse_args()
    pythons = args.pythons.split(",")
    results = {python: [] for python in pythons}
    stacks = {}
    for round_ in range(args.rounds):
        for python in (pythons if round_ % 2 == 0 else pythons[::-1]):
            stack, medians, output = run(python, args)
            stacks[python] = stack
            results[python].append(medians)
            print(f"--- round {round_ + 1}, {python}\n{output}", flush=True)
    keys = [("training", "keras"), ("training", "fused"), ("training", "fused/keras"),
            ("generation", "keras"), ("generation", "fused")]
    print("| stack | round | Keras ms/step | fused ms/step | fused/Keras | generation Keras/s "
          "| generation fused/s |")
    print("|---|---|---|---|---|---|---|")
    for python in pythons:
        for round_, medians in enumerate(results[python] + [None]):
            if medians is None:  # the median over the rounds
                medians = {key: statistics.median(m[key] for m in results[python])
                           for key in keys}
                round_ = "median"
            else:
                round_ += 1
            figures = [f"{medians[key]:.1f}" if key[1] != "fused/keras" else
                       f"{medians[key]:.3f}" for key in keys]
            print(f"| {stacks[python].split(',')[1].strip()} | {round_} | "
                  + " | ".join(figures) + " |")
    for python in pythons:
        print(f"{python}: {stacks[python]}")


if __name__ == "__main__":
    main()
