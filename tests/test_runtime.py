"""CPU thread settings (doppelganger_tf.runtime). Thread pools are fixed per process once
TensorFlow starts, so the settings are checked in fresh interpreters."""
import json
import os
import subprocess
import sys

import pytest

from doppelganger_tf.runtime import apply_thread_setting, recommended_cpu_threads


def run_python(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                                 "CUDA_VISIBLE_DEVICES": ""}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_recommended_threads_split_the_cores_between_two_concurrent_operations():
    assert recommended_cpu_threads(2) == (1, 2)
    assert recommended_cpu_threads(1) == (1, 2)
    assert recommended_cpu_threads(16) == (8, 2)


def test_set_cpu_threads_before_tensorflow_starts_sets_both_pools():
    result = run_python(
        "import json, tensorflow as tf\n"
        "from doppelganger_tf import set_cpu_threads\n"
        "applied = set_cpu_threads(1, 3)\n"
        "tf.constant(1.0) + 1.0\n"
        "print(json.dumps([applied, tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads()]))")
    assert json.loads(result.stdout.splitlines()[-1]) == [[1, 3], 1, 3]


def test_set_cpu_threads_after_tensorflow_started_warns_and_keeps_the_pools():
    result = run_python(
        "import json, warnings, tensorflow as tf\n"
        "from doppelganger_tf import set_cpu_threads\n"
        "tf.constant(1.0) + 1.0\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    kept = set_cpu_threads(1, 2)\n"
        "print(json.dumps([kept, [str(w.message) for w in caught]]))")
    kept, messages = json.loads(result.stdout.splitlines()[-1])
    assert kept == [0, 0]  # TensorFlow's defaults stay
    assert len(messages) == 1 and "before any TensorFlow work" in messages[0]


def test_thread_setting_text_is_checked():
    assert apply_thread_setting("default") is None
    with pytest.raises(ValueError, match="INTRA,INTER"):
        apply_thread_setting("two")
    with pytest.raises(ValueError, match=">= 1"):
        apply_thread_setting("0,2")
