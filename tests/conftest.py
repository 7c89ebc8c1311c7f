"""Shared test fixtures. Real data lives in ../shared/data beside the checkout (never in the repo);
tests that need it skip with a clear message when it is absent."""
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

SHARED_DATA = Path(os.environ.get(
    "DGTF_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


# The tests' model: the paper's architecture with tiny networks, so that every test trains in
# seconds. Tests that need other values pass them to tiny_config as overrides.
TINY = dict(sample_len=4, batch_size=10, attribute_hidden_units=8, minmax_hidden_units=8,
            feature_lstm_units=8, critic_hidden_units=8, aux_critic_hidden_units=8)

# The toy_dataset tests' overrides (tests/test_training_and_generation.py and the files that train
# on toy_dataset): wider networks and batches of 20, the sizes their figures were measured with
# (e.g. 60 samples in batches of 20: 3 DP steps an epoch).
TOY = dict(batch_size=20, attribute_hidden_units=16, minmax_hidden_units=16,
           feature_lstm_units=16, critic_hidden_units=32, aux_critic_hidden_units=32)


def tiny_config(**overrides):
    """DGConfig(**TINY) with ``overrides``."""
    from doppelganger_tf.config import DGConfig

    return DGConfig(**{**TINY, **overrides})


def toy_config(**overrides):
    """tiny_config with the TOY sizes and ``overrides``: the toy_dataset tests' model."""
    return tiny_config(**{**TOY, **overrides})


def toy_dataset(n=60, length=12, seed=0, variable_length=False):
    """``n`` series of ``length`` steps, a sine ("wave") and noise, with a three-category
    attribute "kind" and a continuous "size" (the sine's amplitude); with ``variable_length``
    each series has 3 to ``length`` active steps."""
    import numpy as np
    import pandas as pd

    from doppelganger_tf.dataset import Dataset
    from doppelganger_tf.outputs import Normalization

    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    size = rng.uniform(1.0, 5.0, size=n)
    t = np.arange(length)
    values = np.stack([np.sin(t[None, :] / 2.0 + rng.uniform(0, 6, (n, 1))) * size[:, None],
                       rng.normal(size=(n, length))], axis=2)
    lengths = rng.integers(3, length + 1, size=n) if variable_length else None
    attributes = pd.DataFrame({"kind": kind, "size": size})
    return Dataset.from_arrays(values, attributes, feature_names=["wave", "noise"],
                               discrete_attributes=["kind"], lengths=lengths,
                               normalization=Normalization.MINUSONE_ONE)


@pytest.fixture(scope="module")
def toy():
    """toy_dataset(): 60 samples of 12 steps (3 batches of TOY's 20), one per test module."""
    return toy_dataset()


@pytest.fixture
def shared_data():
    """Path to ../shared/data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set DGTF_SHARED_DATA to use it)")
    return SHARED_DATA


def assert_trains_a_few_steps(dataset, **config):
    """A converted dataset must load into a tiny DoppelGANger and train two finite steps."""
    import numpy as np

    from doppelganger_tf.model import DoppelGANger

    model = DoppelGANger.from_dataset(dataset, tiny_config(**{"batch_size": 2, **config}))
    model.compile()
    history = model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    assert history.history and all(np.isfinite(v).all() for v in history.history.values())


ROOT = Path(__file__).resolve().parents[1]


def run_experiment(script, *args, check=True, timeout=900):
    """Run experiments/<script> with ``args`` in a subprocess; with ``check`` it must succeed
    (its stderr tail is the failure message)."""
    result = subprocess.run([sys.executable, str(ROOT / "experiments" / script), *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if check:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


def sine_dataset():
    """40 shifted sines of 8 steps with one two-category attribute: the small Dataset the
    checkpoint, compatibility and model-error tests train on."""
    import numpy as np
    import pandas as pd

    from doppelganger_tf.dataset import Dataset

    rng = np.random.default_rng(0)
    features = np.sin(np.arange(8)[None, :, None] + rng.uniform(0, 6, size=(40, 1, 1)))
    return Dataset.from_arrays(features, pd.DataFrame({"k": rng.choice(["x", "y"], 40)}),
                               discrete_attributes=["k"])
