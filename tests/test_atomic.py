"""atomic_directory and recover(): a save killed at any instant leaves the old or the new
version, and the next save or load cleans up.

A kill is simulated at each step of the protocol by a forked child that exits (os._exit: no
finally blocks run, as with SIGKILL) right after a chosen rename; tests/test_kill.py kills
real saves at random instants."""
import os
import shutil
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf import Dataset, atomic
from doppelganger_tf.atomic import atomic_directory, recover

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def small_dataset(seed):
    rng = np.random.default_rng(seed)
    return Dataset.from_arrays(rng.normal(size=(6, 5, 1)),
                               pd.DataFrame({"k": rng.choice(["x", "y"], 6)}),
                               discrete_attributes=["k"])


def same(a, b):
    return np.array_equal(a.features, b.features) and np.array_equal(a.attributes, b.attributes)


def leftovers(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def exchange_supported(tmp_path):
    a, b = tmp_path / "probe_a", tmp_path / "probe_b"
    a.mkdir()
    b.mkdir()
    try:
        return atomic._exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


def save_killed(path, seed, when, exchange=True):
    """Dataset.save(path) of small_dataset(seed) in a forked child that dies (os._exit: no
    cleanup runs, as with SIGKILL) ``when``: "before-swap" (data written and synced),
    "after-rename-1" / "after-rename-2" (after that os.rename), "after-exchange". With
    exchange=False it saves as on a filesystem without renameat2 (two renames)."""
    data = small_dataset(seed)
    with warnings.catch_warnings():  # Python 3.12 warns on forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: patch its own copy of the module, save, die at the step
        try:
            exchange_names, rename, renames = atomic._exchange, os.rename, []
            if not exchange:
                atomic._exchange = lambda a, b: False
            elif when == "after-exchange":
                atomic._exchange = lambda a, b: exchange_names(a, b) and os._exit(7)
            if when == "before-swap":
                atomic._put_in_place = lambda tmp, target: os._exit(7)

            def dying_rename(a, b):
                rename(a, b)
                renames.append(b)
                if when == f"after-rename-{len(renames)}":
                    os._exit(7)

            os.rename = dying_rename
            data.save(path)
        finally:
            os._exit(1)  # the save ended without being killed
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7, "the save was not killed"


def kinds(path):
    return [name.rpartition("-")[0] for name in leftovers(path)]


@pytest.mark.parametrize("when", ["before-swap", "after-rename-1"])
def test_kill_before_the_new_version_is_in_place_keeps_the_old(tmp_path, when):
    path = tmp_path / "data"
    small_dataset(0).save(path)
    save_killed(path, seed=1, when=when, exchange=False)
    if when == "after-rename-1":  # the path is missing until recovered
        assert not path.exists()
        assert kinds(path) == [".data.old", ".data.tmp"]
        assert recover(path).name.startswith(".data.old-")
    else:
        assert kinds(path) == [".data.tmp"]
        assert recover(path) is None
    assert leftovers(path) == []
    assert same(Dataset.load(path), small_dataset(0))


def test_kill_between_renames_is_recovered_by_the_next_save(tmp_path):
    path = tmp_path / "data"
    small_dataset(0).save(path)
    save_killed(path, seed=1, when="after-rename-1", exchange=False)
    assert not path.exists()
    small_dataset(2).save(path)
    assert leftovers(path) == []
    assert same(Dataset.load(path), small_dataset(2))


def test_kill_after_the_swap_leaves_the_new_version(tmp_path):
    path = tmp_path / "data"
    small_dataset(0).save(path)
    # two renames: killed after the second, before the previous version is removed
    save_killed(path, seed=1, when="after-rename-2", exchange=False)
    assert kinds(path) == [".data.old"]
    assert same(Dataset.load(path), small_dataset(1))
    assert recover(path) is None and leftovers(path) == []
    if exchange_supported(tmp_path):  # killed just after exchanging the two names
        save_killed(path, seed=2, when="after-exchange")
        assert kinds(path) == [".data.tmp"]  # holding the previous version
        assert same(Dataset.load(path), small_dataset(2))
        recover(path)
        assert leftovers(path) == []


def test_with_exchange_the_path_is_never_missing(tmp_path):
    if not exchange_supported(tmp_path):
        pytest.skip(f"the filesystem of {tmp_path} cannot exchange two names (renameat2)")
    path = tmp_path / "data"
    small_dataset(0).save(path)
    for when in ("before-swap", "after-exchange"):
        save_killed(path, seed=1, when=when)
        assert same(Dataset.load(path), small_dataset(0 if when == "before-swap" else 1))
    small_dataset(2).save(path)
    assert leftovers(path) == []


def test_a_save_killed_by_todays_code_between_its_renames_is_recovered(tmp_path):
    """The layout the former atomic_directory left: path missing, the previous version as
    .NAME.old-<token> and the new one, complete or not, as .NAME.tmp-<same token>."""
    path = tmp_path / "data"
    small_dataset(0).save(tmp_path / "old")
    small_dataset(1).save(tmp_path / "new")
    os.rename(tmp_path / "old", tmp_path / ".data.old-0123456789ab")
    os.rename(tmp_path / "new", tmp_path / ".data.tmp-0123456789ab")
    assert recover(path) == tmp_path / ".data.old-0123456789ab"
    assert same(Dataset.load(path), small_dataset(0))
    assert leftovers(path) == []


def test_loaders_recover_a_save_killed_between_renames(tmp_path):
    """Dataset.load and DoppelGANger.load call recover(path) themselves."""
    import tensorflow as tf
    from conftest import toy_config, toy_dataset

    from doppelganger_tf import DoppelGANger
    from doppelganger_tf.saved_weights import named_weights
    path = tmp_path / "data"
    small_dataset(0).save(path)
    save_killed(path, seed=1, when="after-rename-1", exchange=False)
    assert same(Dataset.load(path), small_dataset(0))
    assert leftovers(path) == []

    model = DoppelGANger.from_dataset(toy_dataset(n=20), toy_config(), seed=0)
    variables = named_weights(model)  # what model.save writes
    saved = {name: v.numpy() for name, v in variables.items()}
    model.save(tmp_path / "old")
    for variable in variables.values():
        variable.assign_add(tf.ones_like(variable))
    model.save(tmp_path / "new")
    # the layout a kill between the two renames leaves
    os.rename(tmp_path / "old", tmp_path / ".model.old-00000000000a")
    os.rename(tmp_path / "new", tmp_path / ".model.tmp-00000000000b")
    loaded = named_weights(DoppelGANger.load(tmp_path / "model"))
    for name, value in saved.items():
        np.testing.assert_array_equal(value, loaded[name].numpy())
    assert leftovers(tmp_path / "model") == []


def test_a_live_savers_directories_are_left_alone(tmp_path):
    path = tmp_path / "out"
    with atomic_directory(path) as tmp:
        (tmp / "a.txt").write_text("new")
        assert recover(path) is None  # another process would see the same lock
        assert tmp.exists()
        with atomic_directory(path) as other:  # a concurrent saver
            (other / "a.txt").write_text("other")
        assert tmp.exists() and (path / "a.txt").read_text() == "other"
    assert (path / "a.txt").read_text() == "new"
    assert leftovers(path) == []


def test_recover_waits_for_a_live_saver_between_its_two_renames(tmp_path):
    path = tmp_path / "out"
    old = tmp_path / ".out.old-00000000000c"
    old.mkdir()
    (old / "a.txt").write_text("old")
    new = tmp_path / ".out.tmp-00000000000d"
    new.mkdir()
    (new / "a.txt").write_text("new")
    lock = atomic._lock(old, wait=True)  # what the saver holds while path is missing

    def finish_the_swap():
        time.sleep(0.3)
        os.rename(new, path)
        atomic._unlock(lock)
        shutil.rmtree(old, ignore_errors=True)  # as the real saver does once the new version is in place

    saver = threading.Thread(target=finish_the_swap)
    saver.start()
    assert recover(path) is None  # waited: it did not move the old version back
    saver.join()
    assert (path / "a.txt").read_text() == "new"
    # recover() may also have removed the old version once unlocked: either way none is left
    assert leftovers(path) == []


def test_a_failing_block_leaves_the_path_and_no_temporary(tmp_path):
    path = tmp_path / "out"
    with atomic_directory(path) as tmp:
        (tmp / "a.txt").write_text("one")
    with pytest.raises(RuntimeError, match="stop"):
        with atomic_directory(path) as tmp:
            (tmp / "a.txt").write_text("two")
            raise RuntimeError("stop")
    assert (path / "a.txt").read_text() == "one"
    assert leftovers(path) == []
    assert recover(tmp_path / "missing" / "x") is None  # no parent: nothing to do


def test_the_new_version_is_synced_before_it_is_put_in_place(tmp_path, monkeypatch):
    synced, order = [], []
    fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), fsync(fd))[1])
    put = atomic._put_in_place
    monkeypatch.setattr(atomic, "_put_in_place",
                        lambda tmp, path: (order.append(len(synced)), put(tmp, path))[1])
    with atomic_directory(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("a")
        (tmp / "b.txt").write_text("b")
    assert order[0] >= 3  # both files and the directory, before the swap
    assert len(synced) > order[0]  # and the parent directory after it


def test_unrelated_names_are_never_touched(tmp_path):
    path = tmp_path / "data"
    for name in (".data.tmp-xyz", ".data.old-12.bak", ".other.old-0123", ".data.backup"):
        (tmp_path / name).mkdir()
    (tmp_path / ".data.old-0000000000ff").write_text("a file, not a leftover directory")
    recover(path)
    small_dataset(0).save(path)
    assert leftovers(path) == sorted([".data.tmp-xyz", ".data.old-12.bak", ".data.backup",
                                      ".data.old-0000000000ff"])
