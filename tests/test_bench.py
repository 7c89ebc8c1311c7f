"""The benchmark scripts still run against the package's current API (they are not timed here:
speed figures live in docs/performance.md)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_train_step_benchmark_runs_a_few_steps():
    result = subprocess.run(
        [sys.executable, "bench/train_step.py", "--shapes", "mba", "--steps", "2", "--warmup",
         "1", "--generate", "200", "--steps_per_execution", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "train step median" in result.stdout and "GFLOP" in result.stdout, result.stdout
