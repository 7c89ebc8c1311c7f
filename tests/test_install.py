"""The pinned dependency set must give a working tensorflow-privacy (it breaks silently with the
wrong TensorFlow / numpy / tensorflow-probability versions)."""
import numpy as np
import tensorflow as tf


def test_pinned_versions():
    assert tf.__version__.startswith("2.15."), tf.__version__
    assert np.__version__.startswith("1."), np.__version__


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
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for folder in ("bench", "experiments", "data_prep"):
        clashes = {p.stem for p in (root / folder).glob("*.py")} & set(sys.stdlib_module_names)
        assert not clashes, (folder, clashes)
