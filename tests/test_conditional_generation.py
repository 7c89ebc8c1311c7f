"""Generation conditioned on some attributes, on an observed prefix, on the observed steps
around gaps (doppelganger_tf/conditional.py, doppelganger_tf/observed.py), on a tiny model."""
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger
from doppelganger_tf.conditional import complete_attributes
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.observed import continue_series, fit_noise, impute, in_model_encoding
from conftest import tiny_config

N, T = 40, 16


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    steps = np.arange(T)
    level = rng.uniform(1, 3, (N, 1))
    values = level * np.sin(2 * np.pi * steps / 4) + rng.normal(0, 0.1, (N, T)) + 5
    tech = rng.choice(["DSL", "cable", "fiber"], N)
    isp = np.where(tech == "DSL", rng.choice(["A", "B"], N), rng.choice(["C", "D"], N))
    frame = pd.DataFrame({"id": np.repeat(np.arange(N), T), "t": np.tile(steps, N),
                          "v": values.ravel(), "tech": np.repeat(tech, T),
                          "isp": np.repeat(isp, T), "speed": np.repeat(level[:, 0] * 10, T)})
    return Dataset.from_dataframe(frame, id_column="id", time_column="t", feature_columns="v",
                                  attribute_columns=["tech", "isp", "speed"])


@pytest.fixture(scope="module")
def model(data):
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(batch_size=20), seed=0)
    model.compile()
    model.fit(data, epochs=20, verbose=0)
    return model


def with_prefix(data, rows, k):
    """The first k steps of ``rows`` as observed series (inactive after k)."""
    part = data.subset(rows)
    flags = part.gen_flags.copy()
    flags[:, k:] = 0
    return Dataset(part.features * flags[..., None], part.attributes, flags,
                   part.feature_outputs, part.attribute_outputs, part.feature_min,
                   part.feature_max, part.attribute_min, part.attribute_max)


# --- some attributes given ---------------------------------------------------------------------

def test_given_attributes_are_exactly_those_asked_for(model):
    given = pd.DataFrame({"tech": ["DSL"] * 6 + ["fiber"] * 4})
    completed = complete_attributes(model, given, seed=1)
    out = model.generate(attributes=completed.attributes, seed=0).attribute_values()
    assert out["tech"].tolist() == given["tech"].tolist()
    assert set(out["isp"]) <= {"A", "B", "C", "D"}
    speeds = pd.DataFrame({"speed": [12.5, 20.0]})
    out = model.generate(attributes=complete_attributes(model, speeds, seed=1).attributes,
                         seed=0).attribute_values()
    np.testing.assert_allclose(out["speed"], [12.5, 20.0], rtol=1e-5)


def test_the_rest_follow_the_models_conditional_distribution(model):
    # rejection sampling: the sampled ISPs given tech are the model's own P(isp | tech), which
    # plain generation filtered on tech estimates independently
    plain = model.generate(6000, seed=3).attribute_values()
    expected = plain.loc[plain["tech"] == "DSL", "isp"].value_counts(normalize=True)
    completed = complete_attributes(model, pd.DataFrame({"tech": ["DSL"] * 3000}), seed=4)
    got = model.generate(attributes=completed.attributes, seed=0).attribute_values()
    shares = got["isp"].value_counts(normalize=True)
    for isp, share in expected.items():
        assert abs(shares.get(isp, 0.0) - share) < 0.05, (isp, shares.to_dict(), expected)
    assert 0 < completed.matched <= completed.draws


def test_same_seed_same_attributes(model):
    given = pd.DataFrame({"tech": ["cable"] * 5})
    a = complete_attributes(model, given, seed=7).attributes
    np.testing.assert_array_equal(a, complete_attributes(model, given, seed=7).attributes)


def test_attribute_errors(model):
    with pytest.raises(ValueError, match="not among its categories"):
        complete_attributes(model, pd.DataFrame({"tech": ["satellite"]}), seed=0)
    with pytest.raises(ValueError, match=r"columns \['colour'\] that are not the model's"):
        complete_attributes(model, pd.DataFrame({"colour": ["red"]}), seed=0)
    with pytest.raises(ValueError, match="too rarely.*raise max_draws"):
        complete_attributes(model, pd.DataFrame({"speed": [17.0]}), seed=0,
                            tolerance=1e-9, max_draws=1)


# --- continuing an observed series --------------------------------------------------------------

def test_continuation_keeps_the_prefix_and_runs_to_the_length(model, data):
    prefix = with_prefix(data, np.arange(4), 8)
    out = continue_series(model, prefix, num=3, length=T, seed=1)
    assert out.num_samples == 12 and out.max_length == T
    np.testing.assert_array_equal(out.lengths, T)
    expected = np.repeat(prefix.features[:, :8], 3, axis=0)
    np.testing.assert_array_equal(out.features[:, :8], expected)
    np.testing.assert_array_equal(out.attributes, np.repeat(prefix.attributes, 3, axis=0))
    again = continue_series(model, prefix, num=3, length=T, seed=1)
    np.testing.assert_array_equal(out.features, again.features)
    other = continue_series(model, prefix, num=3, length=T, seed=2)
    assert not np.array_equal(out.features[:, 8:], other.features[:, 8:])


def test_the_fit_reproduces_the_prefix_better_than_unfitted_noise(model, data):
    prefix = with_prefix(data, np.arange(6), 8)
    targets = in_model_encoding(model, prefix)[:, :8]
    observed = np.ones_like(targets)
    unfitted = fit_noise(model, targets, observed, prefix.attributes, 4, seed=0, iterations=0)
    fitted = fit_noise(model, targets, observed, prefix.attributes, 4, seed=0)
    assert fitted.error.mean() < 0.5 * unfitted.error.mean()
    # the model's own reproduction of the prefix (keep_observed=False) is that close
    own = continue_series(model, prefix, num=1, length=T, seed=0, keep_observed=False)
    error = np.sqrt(np.mean((own.features[:, :8] - targets) ** 2))
    assert error < 0.5 * unfitted.error.mean()


def test_continuation_errors(model, data):
    long = Dataset(np.full((1, T + 4, 1), 0.5), data.attributes[:1], np.ones((1, T + 4)),
                   data.feature_outputs, data.attribute_outputs, data.feature_min,
                   data.feature_max, data.attribute_min, data.attribute_max)
    with pytest.raises(ValueError, match="more than the model's training length T=16"):
        continue_series(model, long, length=T + 8)
    with pytest.raises(ValueError, match="ask for a length beyond the longest prefix"):
        continue_series(model, with_prefix(data, [0], 8), length=8)
    with pytest.raises(ValueError, match="num must be"):
        continue_series(model, with_prefix(data, [0], 8), num=0)


def test_a_prefix_of_other_columns_is_refused(model, data):
    other = Dataset.from_arrays(np.arange(2 * T, dtype=float).reshape(2, T, 1),
                                feature_names=["w"])
    with pytest.raises(ValueError, match="not the model's"):
        continue_series(model, other, length=T)


# --- filling gaps -------------------------------------------------------------------------------

def test_filled_gaps_leave_observed_values_unchanged(model, data):
    part = data.subset(np.arange(5))
    missing = np.zeros((5, T), bool)
    missing[:, 5:9] = True
    missing[2, 12:] = True
    out = impute(model, part, missing, num=2, seed=0)
    assert out.num_samples == 10
    observed = np.repeat(~missing, 2, axis=0)
    np.testing.assert_array_equal(out.features[..., 0][observed],
                                  np.repeat(part.features[..., 0], 2, axis=0)[observed])
    assert np.isfinite(out.features).all()
    assert not np.array_equal(out.features[0::2][missing], out.features[1::2][missing])
    same = impute(model, part, missing, num=2, seed=0)
    np.testing.assert_array_equal(out.features, same.features)
    one = impute(model, part, missing, seed=0)
    assert one.frame is part.frame  # ids and times kept


def test_impute_errors(model, data):
    part = data.subset(np.arange(2))
    with pytest.raises(ValueError, match="boolean array"):
        impute(model, part, np.zeros((2, T)))
    with pytest.raises(ValueError, match=r"give \[N, T\]"):
        impute(model, part, np.zeros((2, T - 1), bool))


def test_generate_with_some_attribute_columns_samples_the_others(model):
    given = pd.DataFrame({"tech": ["fiber"] * 8, "note": ["x"] * 8})
    with pytest.warns(UserWarning, match=r"\['note'\] are not attributes"):
        out = model.generate(attributes=given, seed=3)
    values = out.attribute_values()
    assert values["tech"].tolist() == ["fiber"] * 8
    assert set(values["isp"]) <= {"A", "B", "C", "D"}
    with pytest.warns(UserWarning):
        again = model.generate(attributes=given, seed=3)
    np.testing.assert_array_equal(out.features, again.features)
