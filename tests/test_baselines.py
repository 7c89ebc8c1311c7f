"""The paper's baselines (doppelganger_tf.baselines): interface, validity of the generated data,
reproducibility, and one learning check each for the HMM and the AR / RNN models."""
import numpy as np
import pandas as pd
import pytest

from doppelganger_tf import Dataset, Output
from doppelganger_tf.baselines import ARBaseline, HMMBaseline, NaiveGANBaseline, RNNBaseline

T = 8
CONTINUOUS_FEATURES = [Output("continuous", 1, "minusone_one", name="x"),
                       Output("continuous", 1, "zero_one", name="y")]
STATE = Output("discrete", 2, name="state", categories=(0, 1))

# tiny networks and few epochs: these check the plumbing, not the quality
SMALL = {HMMBaseline: dict(n_components=3),
         ARBaseline: dict(hidden_units=32, batch_size=20),
         RNNBaseline: dict(lstm_units=16, batch_size=20),
         NaiveGANBaseline: dict(hidden_units=32, noise_dim=8, batch_size=20)}
ATTRIBUTE_ROWS_FROM_TRAINING = (HMMBaseline, ARBaseline, RNNBaseline)


def tiny_dataset(variant="fixed", n=40, seed=0, level=None):
    """N series of T steps: x (MINUSONE_ONE) and y (ZERO_ONE); attributes kind (3 categories)
    and size (continuous).  "variable": lengths 1..T; "mixed": variable lengths, a categorical
    feature and no attributes.  ``level`` [n]: x is constant per sample at that level."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T))
    if level is not None:
        x = level[:, None] + 0.01 * x
    columns = [x, rng.uniform(size=(n, T))]
    outputs = list(CONTINUOUS_FEATURES)
    lengths = None
    attributes = pd.DataFrame({"kind": rng.choice(["a", "b", "c"], size=n),
                               "size": rng.uniform(1.0, 5.0, size=n)})
    if variant in ("variable", "mixed"):
        lengths = rng.integers(1, T + 1, size=n)
        lengths[:2] = [1, T]
    if variant == "mixed":
        columns.append(rng.integers(0, 2, size=(n, T)).astype(float))
        outputs.append(STATE)
        attributes = None
    return Dataset.from_arrays(np.stack(columns, axis=2), attributes, feature_outputs=outputs,
                               discrete_attributes=["kind"] if attributes is not None else (),
                               lengths=lengths)


@pytest.mark.parametrize("variant", ["fixed", "variable", "mixed"])
@pytest.mark.parametrize("cls", [HMMBaseline, ARBaseline, RNNBaseline, NaiveGANBaseline],
                         ids=lambda c: c.__name__)
def test_fit_and_generate_valid_reproducible_data(cls, variant):
    data = tiny_dataset(variant)
    model = cls(**SMALL[cls])
    assert model.fit(data, epochs=2, seed=0, verbose=0) is model
    generated = model.generate(30, seed=1)

    # a valid Dataset (the constructor validated it) in the training encoding and scaling
    assert isinstance(generated, Dataset)
    assert generated.features.shape == (30, T, data.num_feature_columns)
    assert generated.attributes.shape == (30, data.num_attribute_columns)
    assert generated.feature_outputs == data.feature_outputs
    assert generated.attribute_outputs == data.attribute_outputs
    for key, value in data.scaling().items():
        np.testing.assert_array_equal(generated.scaling()[key], value)
    assert generated.lengths.min() >= 1 and generated.lengths.max() <= T
    frame = generated.to_dataframe()
    assert len(frame) == generated.lengths.sum()
    if variant == "mixed":
        assert set(frame["state"]) <= {0, 1}
    else:
        assert set(generated.attribute_values()["kind"]) <= {"a", "b", "c"}
    if cls in ATTRIBUTE_ROWS_FROM_TRAINING and data.num_attribute_columns:
        training_rows = {tuple(row) for row in data.attributes}
        assert all(tuple(row) in training_rows for row in generated.attributes)

    again = model.generate(30, seed=1)
    for name in ("features", "attributes", "gen_flags"):
        np.testing.assert_array_equal(getattr(again, name), getattr(generated, name))
    other = model.generate(30, seed=2)
    assert not np.array_equal(other.features, generated.features)


def test_generate_requires_fit_and_valid_arguments():
    with pytest.raises(RuntimeError, match="fit"):
        HMMBaseline().generate(3)
    data = tiny_dataset()
    with pytest.raises(ValueError, match="epochs"):
        HMMBaseline().fit(data, epochs=0)
    with pytest.raises(TypeError, match="Dataset"):
        HMMBaseline().fit(data.features)
    with pytest.raises(ValueError, match="positive"):
        HMMBaseline(n_components=2).fit(data, epochs=1, seed=0).generate(0)


def test_hmm_fit_is_seeded_and_lengths_follow_the_training_distribution():
    data = tiny_dataset("variable")
    first = HMMBaseline(n_components=3).fit(data, seed=3).generate(500, seed=0)
    second = HMMBaseline(n_components=3).fit(data, seed=3).generate(500, seed=0)
    np.testing.assert_array_equal(first.features, second.features)
    assert set(first.lengths) <= set(data.lengths)


def test_hmm_learns_two_regimes():
    """Half the series sit near -0.8, half near +0.8: the generated per-sample means must cover
    both regimes (a one-state HMM would put them all near 0)."""
    n = 40
    regime = np.random.default_rng(5).integers(0, 2, size=n)
    data = tiny_dataset(n=n, level=np.where(regime == 1, 0.8, -0.8))
    generated = HMMBaseline().fit(data, seed=0).generate(200, seed=0)
    means = (generated.features[..., 0] * generated.gen_flags).sum(axis=1) / generated.lengths
    assert 0.25 < np.mean(means < -0.4) < 0.75
    assert 0.25 < np.mean(means > 0.4) < 0.75


@pytest.mark.parametrize("cls, config, epochs", [
    (ARBaseline, dict(batch_size=20), 20),
    (RNNBaseline, dict(batch_size=20, learning_rate=3e-3), 40),
], ids=["AR", "RNN"])
def test_autoregressive_models_learn_constant_series(cls, config, epochs):
    """Trained on series constant per sample (levels spread over [-0.9, 0.9]), the generated
    series must stay near their start and keep the spread of levels.  Untrained models jump
    from the Gaussian first records to one common value (max step ~0.4-0.5, drift ~0.45,
    spread of final values < 0.1)."""
    n = 100
    level = np.random.default_rng(7).uniform(-0.9, 0.9, size=n)
    data = tiny_dataset(n=n, seed=7, level=level)
    generated = cls(**config).fit(data, epochs=epochs, seed=0).generate(100, seed=0)
    x = generated.features[..., 0]
    assert np.mean(generated.lengths == T) > 0.9  # every training series has length T
    assert np.abs(np.diff(x, axis=1)).max(axis=1).mean() < 0.25
    assert np.abs(x[:, -1] - x[:, 0]).mean() < 0.25
    assert x[:, -1].std() > 0.3
