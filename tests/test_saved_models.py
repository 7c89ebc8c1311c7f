"""A model saved on either supported stack loads on the other and generates the same samples.

tests/data/saved_models/<stack>/ holds a small model saved on each stack with the samples it
generated there (written by tests/data/saved_models/make.py), and format1/ the reference model
in doppelganger_tf 0.1's format (Keras 2's own weights file); every stack loads all three."""
from pathlib import Path

import numpy as np
import pytest

from doppelganger_tf import DoppelGANger, compat

SAVED = Path(__file__).resolve().parent / "data" / "saved_models"
SEED, COUNT = 3, 25  # as make.py


@pytest.mark.parametrize("stack", ["reference", "current", "format1"])
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


def test_a_format_1_model_is_saved_again_in_format_2(tmp_path):
    import shutil

    shutil.copytree(SAVED / "format1" / "model", tmp_path / "old")
    old = DoppelGANger.load(tmp_path / "old")
    old.save(tmp_path / "old")  # the Keras 2 weights file is replaced
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["model.json",
                                                                   "model.weights.npz"]
    np.testing.assert_array_equal(DoppelGANger.load(tmp_path / "old").generate(
        COUNT, seed=SEED).features, old.generate(COUNT, seed=SEED).features)


def test_a_format_1_file_of_another_model_is_refused(tmp_path):
    import json
    import shutil

    shutil.copytree(SAVED / "format1" / "model", tmp_path / "old")
    config = tmp_path / "old" / "model.json"
    payload = json.loads(config.read_text())
    payload["config"]["critic_hidden_units"] = 9
    config.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="no group of weights fits the model's critic"):
        DoppelGANger.load(tmp_path / "old")


# --- models saved before DGConfig lost fields (doppelganger_tf 0.3.0) ---------------------------

def old_model_with(tmp_path, **config_changes):
    """A copy of the reference model (saved by doppelganger_tf 0.2.0, which kept the run
    settings and the removed options in its config), its config changed."""
    import json
    import shutil

    shutil.copytree(SAVED / "reference" / "model", tmp_path / "old")
    config = tmp_path / "old" / "model.json"
    payload = json.loads(config.read_text())
    assert "run_settings" not in payload and payload["config"]["reuse_fake_batch"] is False
    payload["config"].update(config_changes)
    config.write_text(json.dumps(payload))
    return tmp_path / "old"


def test_an_old_model_with_the_removed_fields_at_their_defaults_loads_and_saves_without(
        tmp_path):
    import json

    model = DoppelGANger.load(old_model_with(tmp_path))
    assert (model.lstm_implementation, model.precision) == ("auto", "float32")
    model.save(tmp_path / "new")
    payload = json.loads((tmp_path / "new" / "model.json").read_text())
    assert not {"reuse_fake_batch", "dp_clipping", "precision"} & set(payload["config"])
    assert payload["run_settings"] == {"lstm_implementation": "auto", "precision": "float32"}
    np.testing.assert_array_equal(DoppelGANger.load(tmp_path / "new").generate(
        COUNT, seed=SEED).features, model.generate(COUNT, seed=SEED).features)


def test_an_old_model_runs_with_the_run_settings_of_its_config_unless_told_otherwise(tmp_path):
    path = old_model_with(tmp_path, precision="mixed_bfloat16", lstm_implementation="keras")
    model = DoppelGANger.load(path)
    assert (model.lstm_implementation, model.precision) == ("keras", "mixed_bfloat16")
    assert model.critic.hidden[0].compute_dtype == "bfloat16"
    assert DoppelGANger.load(path, precision="float32").precision == "float32"
    with pytest.raises(TypeError, match="load\\(\\) takes the run settings"):
        DoppelGANger.load(path, reuse_fake_batch=False)


@pytest.mark.parametrize("field, value, fix", [
    ("reuse_fake_batch", True, 'set "reuse_fake_batch": false in its model.json'),
    ("dp_clipping", "vectorized", 'set "dp_clipping": "ghost" in its model.json'),
    ("exact_sample_range", True, "load the model with doppelganger_tf 0.2.0"),
])
def test_an_old_model_with_a_removed_option_on_is_refused_saying_what_to_do(
        tmp_path, field, value, fix):
    from doppelganger_tf.config import RetiredFieldError

    path = old_model_with(tmp_path, **{field: value})
    with pytest.raises(RetiredFieldError) as caught:
        DoppelGANger.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path / 'model.json'}: DGConfig.{field}={value!r} was removed "
                              "in doppelganger_tf 0.3.0 ("), message
    assert fix in message
