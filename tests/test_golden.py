"""Training and generation reproduce a recording (tests/data/golden/golden.py) bit for bit on
the machine that recorded it: refactorings must not change what the model computes."""
import os
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "golden.py"


def test_three_epochs_and_generation_match_the_recording():
    # a process of its own: the thread settings that fix the order of float sums must come
    # before any TensorFlow work
    result = subprocess.run([sys.executable, str(GOLDEN), "check"], capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "matches the recording" in result.stdout
