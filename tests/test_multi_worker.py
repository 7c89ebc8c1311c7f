"""Training on two worker processes with MultiWorkerMirroredStrategy (docs/scaling.md): both
workers hold the same model after every step, the result is that of one process running the
same two replicas, only the chief writes checkpoints and the saved model, and a restarted job
resumes from the chief's checkpoint. Each process is tests/multi_worker_job.py."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from doppelganger_tf import compat
from doppelganger_tf.distribution import is_chief, make_strategy, scratch_path, tf_config

JOB = Path(__file__).with_name("multi_worker_job.py")
TIMEOUT_S = 240  # per phase; a phase takes ~10-30 s on 2 cores


def free_ports(count):
    """Ports free now (bound by the OS, then released for the workers)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_processes(commands, directory):
    """Run ``commands`` side by side; fail with their logs when one fails or the phase times
    out (every process is killed then: no worker is left waiting for its peer)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("TF_CONFIG", None)
    logs = [directory / f"log-{i}.txt" for i in range(len(commands))]
    processes = [subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                  env=env) for command, log in zip(commands, logs)]
    deadline = time.monotonic() + TIMEOUT_S
    try:
        for process in processes:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    failed = [(c, log) for c, p, log in zip(commands, processes, logs) if p.returncode != 0]
    assert not failed, "\n\n".join(f"{' '.join(map(str, c))}:\n{log.read_text()[-3000:]}"
                                   for c, log in failed)


def worker_commands(directory, epochs):
    ports = ",".join(map(str, free_ports(2)))
    return [[sys.executable, str(JOB), "--role", "worker", "--task", str(task), "--ports", ports,
             "--dir", str(directory), "--epochs", str(epochs)] for task in (0, 1)]


def arrays(file):
    with np.load(file) as contents:
        return [contents[f"arr_{i}"] for i in range(len(contents.files))]


def test_two_workers_train_one_model_and_resume(tmp_path):
    job, reference = tmp_path / "job", tmp_path / "reference"
    job.mkdir()
    reference.mkdir()
    run_processes(worker_commands(job, 2) + [
        [sys.executable, str(JOB), "--role", "reference", "--dir", str(reference),
         "--epochs", "2"]], tmp_path)
    results = [json.loads((job / f"result-worker{t}.json").read_text()) for t in (0, 1)]
    # 40 samples, global batch 10: 4 steps an epoch over two replicas of 5
    assert results[0] == results[1] == {"start": 0, "replicas": 2, "iterations": 8}
    trainable = [arrays(job / f"trainable-worker{t}.npz") for t in (0, 1)]
    for a, b in zip(*trainable):  # the summed gradients keep the workers in step
        np.testing.assert_array_equal(a, b)
    # BatchNorm's moving statistics (used by generation only) are per replica: Keras 2 reads
    # their mean over the replicas on every worker, Keras 3 each replica's own, so there the
    # chief's (the first replica's, as in one process) are the ones saved
    if not compat.KERAS_3:
        for a, b in zip(*[arrays(job / f"non_trainable-worker{t}.npz") for t in (0, 1)]):
            np.testing.assert_array_equal(a, b)
    # one process running the same two replicas (two logical CPUs) trains the same model: the
    # noise streams are per replica and BatchNorm normalises each replica's half-batch, which
    # is why a one-replica run at the same global batch differs
    for name in ("trainable", "non_trainable"):
        for a, b in zip(arrays(job / f"{name}-worker0.npz"),
                        arrays(reference / f"{name}-reference.npz")):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(job / "generated-worker0.npy"),
                               np.load(reference / "generated-reference.npy"), atol=1e-5)
    # the chief alone wrote the checkpoints and the model; the other's scratch copies are gone
    assert sorted(p.name for p in (job / "ckpt").glob("*.index")) == ["ckpt-1.index",
                                                                      "ckpt-2.index"]
    assert (job / "model" / "model.json").is_file()
    assert not [p.name for p in job.iterdir() if "scratch" in p.name]

    # the job restarted with more epochs resumes from the chief's last checkpoint
    run_processes(worker_commands(job, 3), tmp_path)
    results = [json.loads((job / f"result-worker{t}.json").read_text()) for t in (0, 1)]
    assert results[0] == results[1] == {"start": 2, "replicas": 2, "iterations": 12}
    for t in (0, 1):
        for a, b in zip(arrays(job / f"restored-worker{t}.npz"), trainable[0]):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(*[arrays(job / f"trainable-worker{t}.npz") for t in (0, 1)]):
        np.testing.assert_array_equal(a, b)
    assert (job / "ckpt" / "ckpt-3.index").is_file()
    assert not [p.name for p in job.iterdir() if "scratch" in p.name]


def test_tf_config_errors_name_the_fix():
    with pytest.raises(ValueError, match="TF_CONFIG environment variable, which is not set"):
        tf_config({})
    with pytest.raises(ValueError, match="not valid JSON"):
        tf_config({"TF_CONFIG": "{cluster"})
    with pytest.raises(ValueError, match='"worker" list'):
        tf_config({"TF_CONFIG": json.dumps({"cluster": {}, "task": {}})})
    with pytest.raises(ValueError, match="task index 2 is not one of the 2 worker"):
        tf_config({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                            "task": {"type": "worker", "index": 2}})})
    good = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    assert tf_config({"TF_CONFIG": json.dumps(good)}) == good
    with pytest.raises(ValueError, match="unknown strategy 'tpu'"):
        make_strategy("tpu")


def test_one_process_is_its_own_chief(tmp_path):
    strategy = make_strategy("default")
    assert is_chief(strategy)
    assert scratch_path(tmp_path / "model", strategy) == tmp_path / "model"
