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


@pytest.fixture
def shared_data():
    """Path to ../shared/data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set DGTF_SHARED_DATA to use it)")
    return SHARED_DATA


def assert_trains_a_few_steps(dataset, **config):
    """A converted dataset must load into a tiny DoppelGANger and train two finite steps."""
    import numpy as np

    from doppelganger_tf.config import DGConfig
    from doppelganger_tf.model import DoppelGANger

    tiny = dict(batch_size=2, attribute_hidden_units=8, minmax_hidden_units=8,
                feature_lstm_units=8, critic_hidden_units=8, aux_critic_hidden_units=8)
    model = DoppelGANger.from_dataset(dataset, DGConfig(**{**tiny, **config}))
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
