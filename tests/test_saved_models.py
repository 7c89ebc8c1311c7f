"""A model saved on either supported stack loads on the other and generates the same samples.

tests/data/saved_models/<stack>/ holds a small model saved on each stack with the samples it
generated there (written by tests/data/saved_models/make.py); every stack loads both."""
from pathlib import Path

import numpy as np
import pytest

from doppelganger_tf import DoppelGANger, compat
from doppelganger_tf.model import KERAS2_WEIGHTS_FILE

SAVED = Path(__file__).resolve().parent / "data" / "saved_models"
SEED, COUNT = 3, 25  # as make.py


@pytest.mark.parametrize("stack", ["reference", "current"])
def test_a_model_saved_on_either_stack_generates_the_same_samples(stack):
    where = SAVED / stack
    model = DoppelGANger.load(where / "model")
    expected = np.load(where / "generated.npz")
    generated = model.generate(COUNT, seed=SEED)
    saved_on = (where / "STACK").read_text().strip()
    message = f"saved on {saved_on}, loaded on Keras {compat.KERAS_VERSION}"
    # the same weights and noise; the kernels (oneDNN, Eigen versions) may round differently
    np.testing.assert_array_equal(generated.gen_flags, expected["gen_flags"], err_msg=message)
    np.testing.assert_array_equal(generated.attributes[:, :3], expected["attributes"][:, :3],
                                  err_msg=message)  # the one-hot category
    np.testing.assert_allclose(generated.attributes, expected["attributes"], rtol=1e-4,
                               atol=1e-5, err_msg=message)
    np.testing.assert_allclose(generated.features, expected["features"], rtol=1e-4, atol=1e-5,
                               err_msg=message)


@pytest.mark.skipif(not compat.KERAS_3, reason="Keras 2 reads format 1 itself")
def test_a_format_1_model_names_the_stack_that_reads_it(tmp_path):
    """Format 1 (doppelganger_tf 0.1) stored Keras 2's own weights file, which Keras 3
    cannot read: load says so and what to do."""
    import json
    import shutil

    shutil.copytree(SAVED / "reference" / "model", tmp_path / "old")
    config = tmp_path / "old" / "model.json"
    payload = json.loads(config.read_text())
    payload["version"] = 1
    config.write_text(json.dumps(payload))
    (tmp_path / "old" / "model.weights.npz").rename(tmp_path / "old" / KERAS2_WEIGHTS_FILE)
    with pytest.raises(ValueError, match="format 1.*Keras 2.*save it again there"):
        DoppelGANger.load(tmp_path / "old")


@pytest.mark.skipif(compat.KERAS_3, reason="format 1 holds Keras 2's weights file")
def test_a_format_1_model_still_loads_on_keras_2(tmp_path):
    import json
    import shutil

    model = DoppelGANger.load(SAVED / "reference" / "model")
    shutil.copytree(SAVED / "reference" / "model", tmp_path / "old")
    (tmp_path / "old" / "model.weights.npz").unlink()
    model.save_weights(str(tmp_path / "old" / KERAS2_WEIGHTS_FILE))  # what format 1 wrote
    config = tmp_path / "old" / "model.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "version": 1}))
    old = DoppelGANger.load(tmp_path / "old")
    np.testing.assert_array_equal(old.generate(COUNT, seed=SEED).features,
                                  model.generate(COUNT, seed=SEED).features)
    old.save(tmp_path / "old")  # saved again: format 2, the Keras 2 file replaced
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["model.json",
                                                                   "model.weights.npz"]
