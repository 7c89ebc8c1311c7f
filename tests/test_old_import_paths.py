"""The flat module paths of 0.3.0 (``doppelganger_tf.dataset``, ...) still import after the
modules moved into subpackages (issue 31, item 6), as the very module objects of the new paths,
so an old import, attribute access or ``monkeypatch.setattr`` reaches the code the package runs;
and importing the package still loads no TensorFlow."""
import importlib
import subprocess
import sys
import textwrap

import pytest

import doppelganger_tf
from doppelganger_tf.old_paths import MOVED

# numpy-only modules, checked in the test's own process; the subprocess below checks them all
NUMPY_ONLY = ["outputs", "transforms", "dataset", "atomic", "storage", "suggestion", "synthetic",
              "time_axis", "fidelity_scores"]


def test_every_old_name_is_a_new_module_that_exists():
    for old, new in MOVED.items():
        assert importlib.util.find_spec(new) is not None, new
        assert new.startswith("doppelganger_tf.") and new.count(".") == 2, new
    assert len(set(MOVED.values())) == len(MOVED)


@pytest.mark.parametrize("short", NUMPY_ONLY)
def test_old_path_is_the_same_module_object(short):
    old = f"doppelganger_tf.{short}"
    new = MOVED[old]
    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new] is module
    assert module.__name__ == new and module.__spec__.name == new
    assert getattr(doppelganger_tf, short) is module  # from doppelganger_tf import <short>


def test_every_old_path_in_a_fresh_process():
    """Every old name, by each way of importing it, in a process that starts clean (so that the
    old name is imported before, and after, the new one), and without TensorFlow until then."""
    script = textwrap.dedent("""
        import importlib, sys
        import doppelganger_tf
        assert "tensorflow" not in sys.modules, "importing doppelganger_tf imported TensorFlow"
        from doppelganger_tf.old_paths import MOVED
        from doppelganger_tf import dataset
        import doppelganger_tf.data.dataset
        assert dataset is doppelganger_tf.data.dataset
        assert "tensorflow" not in sys.modules, "doppelganger_tf.dataset imported TensorFlow"
        from doppelganger_tf.dataset import Dataset
        assert Dataset is doppelganger_tf.data.dataset.Dataset
        import doppelganger_tf.fidelity_callback as old_callback
        assert old_callback is sys.modules["doppelganger_tf.training.fidelity_callback"]
        old_callback.MARK = 1
        from doppelganger_tf.training import fidelity_callback
        assert fidelity_callback.MARK == 1
        for i, (old, new) in enumerate(sorted(MOVED.items())):
            # half of them new path first, half old path first
            first, second = (new, old) if i % 2 else (old, new)
            a, b = importlib.import_module(first), importlib.import_module(second)
            assert a is b, (old, new)
            assert a.__spec__.name == new == a.__name__, (old, a.__spec__.name)
            short = old.rsplit(".", 1)[1]
            exec(f"from doppelganger_tf import {short} as c")
            assert c is a, old
        print("ok", len(MOVED))
        """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-2:] == ["ok", str(len(MOVED))]


def test_importing_the_package_imports_no_tensorflow():
    script = ("import sys, doppelganger_tf; from doppelganger_tf import DGConfig, Dataset, "
              "suggest_config; import doppelganger_tf.dataset, doppelganger_tf.outputs; "
              "print('tensorflow' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "False"


def test_unknown_names_still_fail():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("doppelganger_tf.no_such_module")
    with pytest.raises(AttributeError):
        doppelganger_tf.no_such_module
