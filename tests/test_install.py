"""The installed dependencies must be one of the two supported sets (doppelganger_tf/compat.py),
whole: a mixed set breaks silently (tensorflow-privacy with the wrong TensorFlow / numpy /
tensorflow-probability, Keras 2 code on Keras 3)."""
import sys

import numpy as np
import pytest
import tensorflow as tf

from doppelganger_tf import compat

REFERENCE = sys.version_info < (3, 12)
STACK = compat.REFERENCE_STACK if REFERENCE else "the current stack (Python 3.12+)"


def major(version: str) -> int:
    return int(version.split(".")[0])


def test_the_installed_stack_is_one_supported_set():
    found = (f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, Keras "
             f"{compat.KERAS_VERSION}, numpy {np.__version__}, tensorflow-privacy "
             f"{'installed' if compat.has_tensorflow_privacy() else 'absent'}")
    if REFERENCE:
        expected = ((3, 9) <= sys.version_info[:2], tf.__version__.startswith("2.15."),
                    major(np.__version__) == 1, not compat.KERAS_3,
                    compat.has_tensorflow_privacy())
        want = "TensorFlow 2.15.x, Keras 2, numpy 1.x and tensorflow-privacy"
    else:
        # tensorflow-privacy requires TensorFlow <= 2.15: installed here it would be broken
        expected = (tf.__version__.startswith("2.21."), major(np.__version__) == 2,
                    compat.KERAS_3, major(compat.KERAS_VERSION) == 3,
                    not compat.has_tensorflow_privacy())
        want = "TensorFlow 2.21.x, Keras 3, numpy 2.x and no tensorflow-privacy"
    assert all(expected), f"{STACK} needs {want}; found {found}"


def test_dp_accounting_imports_and_accounts():
    # the accountant behind every epsilon, on both stacks
    import dp_accounting
    accountant = dp_accounting.rdp.RdpAccountant()
    accountant.compose(dp_accounting.GaussianDpEvent(1.0))
    assert 0 < accountant.get_epsilon(1e-5) < float("inf")


@pytest.mark.skipif(not compat.has_tensorflow_privacy(),
                    reason=f"tensorflow-privacy is installed on {compat.REFERENCE_STACK} only")
def test_tensorflow_privacy_imports_and_its_dp_optimizer_builds():
    import tensorflow_privacy
    from tensorflow_privacy import VectorizedDPKerasAdamOptimizer

    optimizer = VectorizedDPKerasAdamOptimizer(l2_norm_clip=1.0, noise_multiplier=1.0,
                                               num_microbatches=None, learning_rate=1e-3)
    variable = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        loss = tf.square(variable)  # a per-example loss vector, as DP-SGD requires
    optimizer.minimize(loss, [variable], tape=tape)
    assert np.all(np.isfinite(variable.numpy()))
    assert hasattr(tensorflow_privacy, "compute_dp_sgd_privacy_statement")


def test_no_script_folder_module_shadows_the_standard_library():
    # bench/ and experiments/ are on sys.path when their scripts run: a bench/profile.py once
    # hid Python's profile module from cProfile (and so from torch) in compare_peers.py's runs
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for folder in ("bench", "experiments", "data_prep"):
        clashes = {p.stem for p in (root / folder).glob("*.py")} & set(sys.stdlib_module_names)
        assert not clashes, (folder, clashes)
