"""Saves and training SIGKILLed at random (seeded) instants leave a complete version behind.

How this stays fast: starting a TensorFlow process costs seconds, and a kill needs a new
process each time.

- Saves: this test process forks a child that runs the real ``Dataset.save`` /
  ``DoppelGANger.save`` in a loop (versions 0, 1, 2, 0, ... so old and new differ) and is
  SIGKILLed after a random delay; this process then loads the path. A fork costs
  milliseconds. The model's child only reads and assigns variables (eager ops that run on
  the calling thread), which works in a forked child of a process that ran TensorFlow.
- Training: a graph run in such a forked child hangs (TensorFlow's thread pools do not
  survive a fork), so each training run is forked from a "zygote" subprocess that imported
  TensorFlow but never ran it: a fresh process in all that matters, without the import.

Each kill lands anywhere in a save: while writing (a temporary is left), during the swap, or
while the previous version is removed; test_atomic.py kills at each swap step on purpose.
Both ways of putting a version in place are killed: exchanging the two names (Linux) and two
renames (elsewhere; then the loader's recover() puts the previous version back).
"""
import contextlib
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger, TrainingCheckpoint, atomic
from conftest import toy_config, toy_dataset

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")


def fork(function):
    """Run ``function(write_fd)`` in a forked child; returns (pid, read_fd)."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():  # Python 3.12 warns on forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child never returns into pytest; exit status 1: it died by itself
        try:
            os.close(read_fd)
            function(write_fd)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(1)
    os.close(write_fd)
    return pid, read_fd


def read_line_from(fd):
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        assert byte, "the child died before it started saving"
        line += byte
    return line.decode().strip()


def read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            os.close(fd)
            return b"".join(chunks).decode()
        chunks.append(chunk)


def skip_without_exchange(tmp_path, exchange):
    a, b = tmp_path / "probe_a", tmp_path / "probe_b"
    a.mkdir()
    b.mkdir()
    if exchange and not atomic._exchange(a, b):
        pytest.skip(f"the filesystem of {tmp_path} cannot exchange two names (renameat2)")
    a.rmdir()
    b.rmdir()


def kill_saves(path, save, identify, versions, kills, max_delay, seed, exchange):
    """SIGKILL ``kills`` children that each save versions k, k+1, ... (``save(k % n)``) in a
    loop, after a random delay up to ``max_delay`` s; after each kill the path must load as
    the last version the child finished or the one it was writing (``identify(path)`` gives
    the version loaded). Returns what the kills hit, for the assertion messages."""
    rng = np.random.default_rng(seed)
    save(0)
    on_disk, k, hits = 0, 1, {"saves done": 0, "left a temporary": 0, "left an old": 0,
                              "path missing": 0}

    def loop(write_fd, first):
        if not exchange:
            atomic._exchange = lambda a, b: False  # as on a filesystem without renameat2
        for i in range(first, first + 100000):
            os.write(write_fd, b"b%d\n" % i)
            save(i % versions)
            os.write(write_fd, b"d%d\n" % i)

    for kill in range(kills):
        pid, read_fd = fork(lambda fd, first=k: loop(fd, first))
        started = read_line_from(read_fd)  # forking this big process takes a while: time
        time.sleep(rng.uniform(0.0, max_delay))  # the kill from the child's first save
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        events = [started, *read_all(read_fd).split()]
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
            f"the saver died by itself (status {status}) after {events[-3:]}"
        begun = [int(e[1:]) for e in events if e[0] == "b"]
        done = [int(e[1:]) for e in events if e[0] == "d"]
        hits["saves done"] += len(done)
        kinds = {name.split(".")[-1].split("-")[0] for name in os.listdir(path.parent)
                 if name.startswith(f".{path.name}.")}
        hits["left a temporary"] += "tmp" in kinds
        hits["left an old"] += "old" in kinds
        hits["path missing"] += not path.exists()
        allowed = {done[-1] % versions if done else on_disk}
        if begun and (not done or begun[-1] != done[-1]):
            allowed.add(begun[-1] % versions)
        if not exchange:
            atomic.recover(path)  # what DoppelGANger.load / Dataset.load do first
        loaded = identify(path)
        assert loaded in allowed, (f"kill {kill}: loaded version {loaded}, expected one of "
                                   f"{sorted(allowed)} (saves begun {begun[-2:]}, done "
                                   f"{done[-2:]}; left {sorted(kinds)})")
        on_disk = loaded
        k = (begun[-1] if begun else k) + 1
    if exchange:  # the path named a complete version at every instant
        assert hits["path missing"] == 0, hits
    # the next save cleans up whatever the last kill left
    save(0)
    assert not [name for name in os.listdir(path.parent) if name.startswith(f".{path.name}.")]
    return hits


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_dataset_saves_killed_at_random_instants(tmp_path, exchange):
    from doppelganger_tf import Dataset
    skip_without_exchange(tmp_path, exchange)
    versions = [toy_dataset(n=30, seed=seed) for seed in range(3)]
    path = tmp_path / "data"

    def identify(p):
        loaded = Dataset.load(p)
        matches = [i for i, v in enumerate(versions) if np.array_equal(loaded.features, v.features)
                   and np.array_equal(loaded.attributes, v.attributes)]
        assert len(matches) == 1, "the loaded dataset is none of the saved versions"
        return matches[0]

    hits = kill_saves(path, lambda i: versions[i].save(path), identify, versions=3, kills=30,
                      max_delay=0.1, seed=1, exchange=exchange)
    print("dataset kills:", hits)
    assert hits["saves done"] >= 30, hits  # the children did run the save code
    assert hits["left a temporary"] >= 5, hits  # and were killed mid-save


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_model_saves_killed_at_random_instants(tmp_path, exchange):
    from doppelganger_tf.saved_weights import named_weights  # what model.save writes
    skip_without_exchange(tmp_path, exchange)
    model = DoppelGANger.from_dataset(toy_dataset(n=20), toy_config(), seed=0)
    variables = named_weights(model)
    versions = [{name: v.numpy() + i for name, v in variables.items()} for i in range(3)]
    path = tmp_path / "model"

    def save(i):
        for name, variable in variables.items():
            variable.assign(versions[i][name])
        model.save(path)

    def identify(p):
        loaded = {name: v.numpy() for name, v in named_weights(DoppelGANger.load(p)).items()}
        matches = [i for i, v in enumerate(versions)
                   if all(np.array_equal(v[name], loaded[name]) for name in v)]
        assert len(matches) == 1, "the loaded weights are none of the saved versions"
        return matches[0]

    hits = kill_saves(path, save, identify, versions=3, kills=8, max_delay=0.3, seed=2,
                      exchange=exchange)
    print("model kills:", hits)
    assert hits["saves done"] >= 8, hits
    assert hits["left a temporary"] >= 1, hits


# --- training -------------------------------------------------------------------------------

ZYGOTE = textwrap.dedent("""
    # imports TensorFlow once; on each stdin line "<round>" forks a training run, prints its
    # pid, waits for it and prints its exit status
    import os, sys, traceback
    ROOT, CKPT, SIDE = sys.argv[1:4]
    sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
    import numpy as np, tensorflow as tf
    from doppelganger_tf import DoppelGANger, TrainingCheckpoint
    from conftest import toy_config, toy_dataset
    data = toy_dataset(n=40)

    def snapshot(model, name, **extra):
        tmp = os.path.join(SIDE, f".{name}.tmp")
        with open(tmp, "wb") as f:  # weights as each checkpoint holds them, for the test
            np.savez(f, *model.get_weights(), rng=model.rng.state.numpy(),
                     iterations=int(model.generator_optimizer.iterations), **extra)
        os.replace(tmp, os.path.join(SIDE, name))

    class Recorder(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # runs before the checkpoint's save
            snapshot(self.model, f"epoch-{epoch + 1}.npz")

    def train(round_):
        tf.keras.utils.set_random_seed(round_)
        model = DoppelGANger.from_dataset(data, toy_config(), seed=0)
        model.compile()
        checkpoint = TrainingCheckpoint(CKPT)
        start = checkpoint.restore(model)
        snapshot(model, f"restored-{round_}.npz", start=start)
        model.fit(data, epochs=100000, initial_epoch=start, callbacks=[Recorder(), checkpoint],
                  verbose=0)

    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                train(int(line))
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(3)
        print(pid, flush=True)
        print(os.waitpid(pid, 0)[1], flush=True)
""")


def wait_for(path, process, newer_than=0.0, timeout=300):
    deadline = time.monotonic() + timeout
    while not path.exists() or path.stat().st_mtime < newer_than:
        assert process.poll() is None and time.monotonic() < deadline, \
            f"{path.name} never appeared"
        time.sleep(0.02)


def read_line(process, timeout=300):
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the training zygote does not answer"
    return process.stdout.readline().strip()


def load_snapshot(path):
    """(weights, {"rng", "iterations", ...}) of a file written by the zygote's snapshot()."""
    with np.load(path) as stored:
        count = sum(name.startswith("arr_") for name in stored.files)
        return ([stored[f"arr_{i}"] for i in range(count)],
                {k: stored[k] for k in stored.files if not k.startswith("arr_")})


def check_restore(side, restored_file, reached):
    """The restore lost at most one epoch and holds exactly what that epoch's checkpoint
    saved."""
    weights, extra = load_snapshot(restored_file)
    start = int(extra["start"])
    assert reached - 1 <= start <= reached, f"resumed from epoch {start}, reached {reached}"
    if start == 0:
        return start  # nothing to compare with: the kill came before the first checkpoint
    saved, saved_extra = load_snapshot(side / f"epoch-{start}.npz")
    assert len(saved) == len(weights)
    for a, b in zip(saved, weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(saved_extra["rng"], extra["rng"])
    assert int(saved_extra["iterations"]) == int(extra["iterations"])
    return start


def test_training_killed_at_random_instants_resumes_from_its_checkpoint(tmp_path):
    ckpt, side = tmp_path / "ckpt", tmp_path / "side"
    side.mkdir()
    log = open(tmp_path / "zygote.log", "w")
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(ROOT), str(ckpt), str(side)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                              text=True)
    rng = np.random.default_rng(3)
    reached, starts, pid = 0, [], None
    try:
        for round_ in range(3):
            zygote.stdin.write(f"{round_}\n")
            zygote.stdin.flush()
            pid = int(read_line(zygote))
            restored = side / f"restored-{round_}.npz"
            wait_for(restored, zygote)
            if round_:
                starts.append(check_restore(side, restored, reached))
            else:
                assert int(load_snapshot(restored)[1]["start"]) == 0
            # kill once this run is past its first checkpoint (whose first save traces the
            # save function: slow) and one more epoch; not an earlier run's file
            second = side / f"epoch-{(starts[-1] if starts else 0) + 2}.npz"
            wait_for(second, zygote, newer_than=restored.stat().st_mtime)
            time.sleep(rng.uniform(0.0, 0.4))
            os.kill(pid, signal.SIGKILL)
            status = int(read_line(zygote))
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                (tmp_path / "zygote.log").read_text()[-3000:]
            reached = max(int(p.stem.split("-")[1]) for p in side.glob("epoch-*.npz"))
            print(f"run {round_}: killed after epoch {reached}")
    finally:
        if pid is not None:  # a failed check leaves the run going
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        zygote.stdin.close()
        zygote.wait(timeout=60)
        log.close()
    # a fresh model in this process restores the last run
    tf.keras.utils.set_random_seed(9)
    model = DoppelGANger.from_dataset(toy_dataset(n=40), toy_config(), seed=1)
    model.compile()
    start = TrainingCheckpoint(ckpt).restore(model)
    np.savez(side / "final.npz", *model.get_weights(), rng=model.rng.state.numpy(),
             iterations=int(model.generator_optimizer.iterations), start=start)
    starts.append(check_restore(side, side / "final.npz", reached))
    print("resumed from epochs", starts)
