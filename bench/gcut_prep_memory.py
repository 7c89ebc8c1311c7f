"""Peak memory of the GCUT converter (data_prep.gcut) versus the number of trace parts.

    python bench/gcut_prep_memory.py [--tasks 20000] [--records 25] [--parts 1,5,20]
                                      [--tasks_per_part 2000] [--workdir DIR]

Writes synthetic parts in the trace's documented layout (gzip CSV, no header; task_events 13
columns with SUBMIT / SCHEDULE / a terminal event per task, task_usage 20 columns with touching
5-minute records; parts split by time like the real trace) into a temporary directory, runs
``python -m data_prep.gcut`` on them in a fresh subprocess per case and prints that child's peak
resident memory and wall time: ``ru_maxrss`` from ``os.wait4`` and, as a cross-check, the
child's own ``VmHWM`` (/proc/self/status, read at exit).  On Linux a child's ru_maxrss starts from
its parent's resident size at fork (the high-water mark survives exec), so this script keeps
itself lean: the traces are generated in a separate subprocess and numpy/pandas are imported
only there.

Two series:
- fixed trace: the same tasks and records, spread over 1, 5, 20 parts: memory should stay flat;
- fixed part size: ``--tasks_per_part`` tasks per part, so the trace grows with the parts: memory
  grows only with the per-task state (17 + 46 bytes per task), not with the parts themselves.

A first row gives the interpreter + imports alone.  Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
WINDOW = 300 * 1_000_000
TRACE_START = 600 * 1_000_000
USAGE_COLUMNS = 20
EVENT_COLUMNS = 13


def make_trace(root: Path, num_tasks: int, parts: int, records: int, seed: int = 0):
    """Write ``parts`` task_events and task_usage parts holding ``num_tasks`` tasks of about
    ``records`` records each; returns the number of usage rows."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 2 * records, num_tasks)
    # start times spread so that each part holds about the same number of records
    horizon = int(lengths.sum() // max(num_tasks // 50, 1)) + 2 * records
    first = rng.integers(0, horizon, num_tasks)
    job = 6_000_000_000 + np.arange(num_tasks) // 50
    task = np.arange(num_tasks) % 50

    owner = np.repeat(np.arange(num_tasks), lengths)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    start = TRACE_START + (first[owner] + step) * WINDOW
    usage = pd.DataFrame({i: np.zeros(len(owner)) for i in range(USAGE_COLUMNS)})
    usage[0], usage[1] = start, start + WINDOW
    usage[2], usage[3], usage[4] = job[owner], task[owner], 4155527081
    for column in (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19):
        usage[column] = np.round(rng.random(len(owner)) * 0.1, 6)
    usage[17], usage[18] = 0, 1
    usage = usage.sort_values(0, kind="stable")

    begin = TRACE_START + first * WINDOW
    end = begin + lengths * WINDOW
    terminal = rng.choice([2, 3, 4, 5], num_tasks, p=[0.1, 0.02, 0.7, 0.18])
    times = np.concatenate([begin - 1_000_000, begin, end])
    kinds = np.concatenate([np.zeros(num_tasks), np.ones(num_tasks), terminal]).astype(int)
    ids = np.concatenate([np.arange(num_tasks)] * 3)
    events = pd.DataFrame({i: [""] * len(times) for i in range(EVENT_COLUMNS)})
    events[0], events[2], events[3], events[4], events[5] = (times, job[ids], task[ids],
                                                             38676295, kinds)
    events[6], events[7], events[8] = "fJYeclskJqPWsAT6TX/r9X5OiIZpSEb2PBGliYAOMxM=", 0, 2
    events[9], events[10], events[11], events[12] = 0.025, 0.08, 0.0004, 0
    events = events.sort_values(0, kind="stable")

    edges = np.linspace(TRACE_START, int(end.max()) + 1, parts + 1)
    for name, frame, column in (("task_usage", usage, 0), ("task_events", events, 0)):
        folder = root / name
        folder.mkdir(parents=True)
        which = np.clip(np.searchsorted(edges, frame[column].to_numpy(), side="right") - 1,
                        0, parts - 1)
        for p in range(parts):
            with gzip.open(folder / f"part-{p:05d}-of-00500.csv.gz", "wt",
                           compresslevel=1) as f:
                frame[which == p].to_csv(f, header=False, index=False)
    return len(usage)


# Runs a module as __main__ (or, for "import:NAME", only imports it) and writes the process's
# own VmHWM (kB) to stderr at exit.
_RUNNER = """
import atexit, importlib, runpy, sys
def _hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            sys.stderr.write('VMHWM_KB=' + line.split()[1] + chr(10))
atexit.register(_hwm)
module = sys.argv[1]
sys.argv = [module] + sys.argv[2:]
if module.startswith('import:'):
    importlib.import_module(module[len('import:'):])
else:
    runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


def peak_rss(module, args) -> tuple:
    """(ru_maxrss MiB, VmHWM MiB, seconds) of ``python -m module args`` in a child."""
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _RUNNER, module] + list(args),
                             cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        print(stderr[-2000:], file=sys.stderr)
        return float("nan"), float("nan"), seconds
    hwm = [int(line.split("=")[1]) for line in stderr.splitlines()
           if line.startswith("VMHWM_KB=")]
    return usage.ru_maxrss / 1024.0, (hwm[-1] / 1024.0 if hwm else float("nan")), seconds


def convert_args(root: Path, output: Path):
    return [f"--task_events={root / 'task_events'}", f"--task_usage={root / 'task_usage'}",
            f"--output={output}", "--num_samples=1000", "--max_length=50", "--sample_len=5"]


def generate_in_child(root: Path, tasks: int, parts: int, records: int) -> int:
    """Run make_trace in a subprocess (so this process stays small); returns usage rows."""
    out = subprocess.run([sys.executable, __file__, "--generate", str(root), str(tasks),
                          str(parts), str(records)], cwd=REPO_ROOT, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20000, help="tasks of the fixed trace")
    parser.add_argument("--records", type=int, default=25, help="mean records per task")
    parser.add_argument("--parts", default="1,5,20", help="part counts to compare")
    parser.add_argument("--tasks_per_part", type=int, default=2000,
                        help="tasks per part of the growing trace")
    parser.add_argument("--workdir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--generate", nargs=4, metavar=("ROOT", "TASKS", "PARTS", "RECORDS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        root, tasks, parts, records = args.generate
        print(make_trace(Path(root), int(tasks), int(parts), int(records)))
        return
    part_counts = [int(p) for p in args.parts.split(",")]

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        rss, hwm, seconds = peak_rss("import:data_prep.gcut", [])
        print(f"{'case':<30}{'parts':>6}{'tasks':>8}{'usage rows':>11}{'ru_maxrss MiB':>15}"
              f"{'VmHWM MiB':>11}{'seconds':>9}")
        print(f"{'interpreter + imports only':<30}{'':>6}{'':>8}{'':>11}{rss:>15.1f}"
              f"{hwm:>11.1f}{seconds:>9.1f}")
        cases = [("fixed trace, more parts", p, args.tasks) for p in part_counts]
        cases += [("fixed part size, more parts", p, p * args.tasks_per_part)
                  for p in part_counts]
        for i, (label, parts, tasks) in enumerate(cases):
            root = tmp / f"case{i}"
            rows = generate_in_child(root, tasks, parts, args.records)
            rss, hwm, seconds = peak_rss("data_prep.gcut", convert_args(root, root / "out"))
            print(f"{label:<30}{parts:>6}{tasks:>8}{rows:>11}{rss:>15.1f}{hwm:>11.1f}"
                  f"{seconds:>9.1f}", flush=True)
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
