import os
import pickle
import sys
import types

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.dataset import Dataset
from doppelganger_tf.outputs import Normalization, Output, OutputType, load_original_specs
from doppelganger_tf.transforms import gen_flags_from_lengths

CONT = OutputType.CONTINUOUS
DISC = OutputType.DISCRETE
NORMALIZATIONS = [Normalization.ZERO_ONE, Normalization.MINUSONE_ONE]


# --- a small encoded dataset for the validation tests ---------------------------------------------

def encoded_parts():
    """N=3, T=4 (lengths 4, 2, 1); features: a ZERO_ONE value and a 2-way category; attributes:
    a 3-way category and a MINUSONE_ONE value."""
    flags = gen_flags_from_lengths([4, 2, 1], 4)
    features = np.zeros((3, 4, 3), np.float32)
    features[:, :, 0] = 0.5 * flags
    features[:, :, 1] = flags
    attributes = np.array([[1, 0, 0, -0.5], [0, 1, 0, 0.5], [0, 0, 1, 1.0]], np.float32)
    return dict(features=features, attributes=attributes, gen_flags=flags,
                feature_outputs=[Output(CONT, 1, Normalization.ZERO_ONE), Output(DISC, 2)],
                attribute_outputs=[Output(DISC, 3), Output(CONT, 1, Normalization.MINUSONE_ONE)])


def test_constructor_names_outputs_and_reports_shape():
    ds = Dataset(**encoded_parts())
    assert ds.feature_names == ["feature_0", "feature_1"]
    assert ds.attribute_names == ["attribute_0", "attribute_1"]
    assert (len(ds), ds.num_samples, ds.max_length) == (3, 3, 4)
    assert (ds.num_feature_columns, ds.num_attribute_columns) == (3, 4)
    np.testing.assert_array_equal(ds.lengths, [4, 2, 1])
    assert ds.feature_min is None
    ds.validate(sample_len=2)


def test_without_min_max_the_scaled_values_are_the_units():
    df = Dataset(**encoded_parts()).to_dataframe()
    assert len(df) == 7
    np.testing.assert_allclose(df["feature_0"], 0.5)
    assert set(df["feature_1"]) == {0}
    np.testing.assert_allclose(df.groupby("id")["attribute_1"].first(), [-0.5, 0.5, 1.0])
    assert df.groupby("id")["attribute_0"].first().tolist() == [0, 1, 2]


def test_subset():
    ds = Dataset(**encoded_parts())
    sub = ds.subset([2, 0])
    np.testing.assert_array_equal(sub.lengths, [1, 4])
    np.testing.assert_array_equal(sub.attributes, ds.attributes[[2, 0]])
    assert sub.feature_outputs == ds.feature_outputs
    assert len(ds.subset(np.array([True, False, True]))) == 2
    assert len(ds.subset(1)) == 1


def broken(**changes):
    parts = encoded_parts()
    for key, change in changes.items():
        parts[key] = change(parts[key]) if callable(change) else change
    return parts


def set_item(index, value):
    def change(array):
        array = array.copy()
        array[index] = value
        return array
    return change


@pytest.mark.parametrize("parts, match", [
    (broken(features=lambda f: f[:, :, 0]), "3-D"),
    (broken(attributes=lambda a: a[:2]), "2 samples but features has 3"),
    (broken(gen_flags=lambda g: np.concatenate([g, np.zeros((3, 1))], axis=1)), "T=5"),
    (broken(feature_outputs=[Output(CONT, 1, "zero_one"), Output(DISC, 3)]), "sum of the"),
    (broken(attribute_outputs=[Output(DISC, 3)]), "attributes have 4 encoded columns"),
    (broken(features=set_item((0, 1, 0), np.nan)), "NaN"),
    (broken(attributes=set_item((1, 3), np.inf)), "infinite"),
    (broken(gen_flags=set_item((0, 3), 0.5)), "only 0 and 1"),
    (broken(gen_flags=set_item((2, 2), 1.0)), "prefix of ones"),
    (broken(gen_flags=set_item((2, 0), 0.0)), "zero-length"),
    (broken(features=lambda f: f[:0], attributes=lambda a: a[:0], gen_flags=lambda g: g[:0]),
     "empty"),
    (broken(features=set_item((0, 0, 0), 1.5)), "normalisation range"),
    (broken(features=set_item((0, 0, 0), -0.1)), "normalisation range"),
    (broken(attributes=set_item((0, 3), -1.2)), "normalisation range"),
    (broken(attributes=set_item((0, 1), 1.0)), "not one-hot"),
    (broken(attributes=set_item((0, 0), 0.0)), "not one-hot"),
    (broken(attributes=set_item((0, 0), 0.7)), "not one-hot"),
    (broken(features=set_item((0, 2, 1), 0.0)), "not one-hot"),
    (broken(features=set_item((1, 3, 2), 1.0)), "after the end"),
    (broken(feature_outputs=[Output(CONT, 1, "zero_one"), Output(DISC, 2, is_gen_flag=True)]),
     "is_gen_flag"),
    (broken(feature_outputs=[Output(CONT, 1, "zero_one", name="x"), Output(DISC, 2)],
            attribute_outputs=[Output(DISC, 3, name="x"), Output(CONT, 1, "minusone_one")]),
     "duplicate"),
    (broken(feature_min=np.zeros(2), feature_max=np.ones(2)), "shape"),
    (broken(feature_min=np.zeros(3)), "both"),
    (broken(attribute_min=np.zeros(4), attribute_max=np.r_[1, 1, 1, 0.0]), "must exceed"),
])
def test_validation_errors(parts, match):
    with pytest.raises(ValueError, match=match):
        Dataset(**parts)


def test_validate_sample_len():
    ds = Dataset(**encoded_parts())
    with pytest.raises(ValueError, match=r"T=4 is not divisible by sample_len=3") as info:
        ds.validate(sample_len=3)
    assert "[1, 2, 4]" in str(info.value) and "pad" in str(info.value)
    with pytest.raises(ValueError, match="positive integer"):
        ds.validate(sample_len=0)


def test_rejects_non_outputs():
    with pytest.raises(TypeError, match="not an Output"):
        Dataset(**broken(feature_outputs=["continuous", Output(DISC, 2)]))


# --- from_arrays ----------------------------------------------------------------------------------

def raw_example(seed=0):
    """Variable-length raw series (a float, an event label) and mixed attributes."""
    rng = np.random.default_rng(seed)
    lengths = [5, 2, 7, 1]
    features = []
    for length in lengths:
        series = np.empty((length, 2), dtype=object)
        series[:, 0] = rng.uniform(-3.0, 1e4, size=length)
        series[:, 1] = rng.choice(["idle", "busy", "down"], size=length)
        features.append(series)
    features[0][0, 1] = "down"  # make sure every label occurs
    features[0][1, 1] = "idle"
    features[0][2, 1] = "busy"
    attributes = pd.DataFrame({"isp": ["b", "a", "b", "c"], "speed": [10.0, 25.5, 3.2, 100.0],
                               "tier": [2, 1, 2, 3]})
    return features, attributes, lengths


def assert_frame_matches(df, features, attributes):
    """``df`` (from to_dataframe) holds the raw values of ``features`` and ``attributes``."""
    for n, series in enumerate(features):
        rows = df[df["id"] == n]
        np.testing.assert_array_equal(rows["time"], np.arange(len(series)))
        values = series[:, 0].astype(float)
        np.testing.assert_allclose(rows["value"], values, rtol=1e-5, atol=1e-6 * np.ptp(values))
        assert rows["event"].tolist() == series[:, 1].tolist()
        for column in attributes.columns:
            expected = attributes[column].iloc[n]
            if isinstance(expected, str):  # pytest.approx takes numbers only (pytest >= 9.2)
                assert rows[column].tolist() == [expected] * len(series)
            else:
                assert rows[column].tolist() == pytest.approx([expected] * len(series), rel=1e-5)


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_from_arrays_variable_length_mixed_types(norm):
    features, attributes, lengths = raw_example()
    ds = Dataset.from_arrays(features, attributes, feature_names=["value", "event"],
                             discrete_features=["event"], discrete_attributes=["isp", 2],
                             normalization=norm)
    assert ds.max_length == 7
    np.testing.assert_array_equal(ds.lengths, lengths)
    assert ds.feature_outputs == [
        Output(CONT, 1, norm, name="value"),
        Output(DISC, 3, name="event", categories=("busy", "down", "idle"))]
    assert ds.attribute_outputs == [
        Output(DISC, 3, name="isp", categories=("a", "b", "c")),
        Output(CONT, 1, norm, name="speed"),
        Output(DISC, 3, name="tier", categories=(1, 2, 3))]
    assert ds.features[:, :, 0].min() == pytest.approx(norm.low)
    assert ds.features[:, :, 0].max() == pytest.approx(1.0)
    np.testing.assert_allclose(ds.attribute_min, [0, 0, 0, 3.2, 0, 0, 0])
    np.testing.assert_allclose(ds.attribute_max, [1, 1, 1, 100.0, 1, 1, 1])

    df = ds.to_dataframe()
    assert list(df.columns) == ["id", "time", "isp", "speed", "tier", "value", "event"]
    assert len(df) == sum(lengths)
    assert df["tier"].dtype == np.int64
    assert_frame_matches(df, features, attributes)
    pd.testing.assert_frame_equal(ds.attribute_values(), attributes, check_exact=False,
                                  rtol=1e-5)
    values = ds.feature_values()
    assert np.isnan(values["value"][1, 2:]).all() and values["event"][1, 2] is None
    assert values["event"][0, :3].tolist() == ["down", "idle", "busy"]


def test_from_arrays_array_input_with_lengths_ignores_padding():
    rng = np.random.default_rng(1)
    raw = rng.normal(50.0, 10.0, size=(3, 6, 2))
    raw[0, 4:] = np.nan  # beyond the length: ignored
    raw[2, 1:] = 1e9
    ds = Dataset.from_arrays(raw, np.array([[1.0], [2.0], [3.0]]), lengths=[4, 6, 1])
    assert ds.feature_names == ["feature_0", "feature_1"]
    assert ds.attribute_names == ["attribute_0"]
    active = gen_flags_from_lengths([4, 6, 1], 6) > 0
    np.testing.assert_allclose(ds.feature_min, raw[active].min(axis=0))
    np.testing.assert_allclose(ds.feature_max, raw[active].max(axis=0))
    values = ds.feature_values()
    np.testing.assert_allclose(values["feature_1"][active], raw[..., 1][active], rtol=1e-5)
    assert np.all(ds.features[~active] == 0)


def test_from_arrays_without_attributes():
    ds = Dataset.from_arrays([np.arange(4.0), np.arange(2.0)])
    assert ds.attributes.shape == (2, 0) and ds.attribute_outputs == []
    df = ds.to_dataframe()
    assert list(df.columns) == ["id", "time", "feature_0"]
    np.testing.assert_allclose(df["feature_0"], [0, 1, 2, 3, 0, 1], atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(features=[np.array([1.0, 2.0]), np.array([5.0, 5.0])],
          attributes=[[1.0], [1.0]]), "constant"),
    (dict(features=[np.array([1.0, 2.0]), np.array([5.0, 5.0])],
          attributes=[[1.0], [1.0]], discrete_attributes=[0]), None),
    (dict(features=[np.array([1.0, np.nan]), np.array([3.0])]), "'feature_0'.*NaN"),
    (dict(features=[np.array([1.0, 2.0])], attributes=[[np.inf]]), "'attribute_0'.*infinite"),
    (dict(features=[np.array([1.0, 2.0]), np.array([3.0])], attributes=[["a"], [None]],
          discrete_attributes=[0]), "'attribute_0'.*missing"),
    (dict(features=[np.array(["x", "y"])]), "non-numeric"),
    (dict(features=[np.zeros((0, 1))]), "zero-length"),
    (dict(features=np.ones((2, 3))), r"\[N, T, F\]"),
    (dict(features=np.ones((2, 3, 1)), lengths=[3, 0]), "between 1 and T"),
    (dict(features=[np.ones(2)], attributes=[[1.0], [2.0]]), "2 rows but there are 1"),
    (dict(features=[np.ones(2), np.zeros(2)], discrete_features=["speed"]), "not a feature"),
    (dict(features=[np.array([1, 2]), np.array(["a", "b"], dtype=object)],
          discrete_features=[0]), "mixes value types"),
])
def test_from_arrays_errors(kwargs, match):
    if match is None:  # a constant discrete column is fine
        Dataset.from_arrays(**kwargs)
        return
    with pytest.raises(ValueError, match=match):
        Dataset.from_arrays(**kwargs)


def test_from_arrays_with_given_specs():
    features, attributes, _ = raw_example()
    trained = Dataset.from_arrays(features, attributes, feature_names=["value", "event"],
                                  discrete_features=["event"], discrete_attributes=["isp"])
    new_features, new_attributes, _ = raw_example(seed=5)
    for series in new_features:  # stay within the trained min/max
        series[:, 0] = np.clip(series[:, 0].astype(float), trained.feature_min[0],
                               trained.feature_max[0])
    specs = dict(feature_outputs=trained.feature_outputs,
                 attribute_outputs=trained.attribute_outputs,
                 feature_min=trained.feature_min, feature_max=trained.feature_max)
    # attribute columns are picked by name; attribute min/max are recomputed
    ds = Dataset.from_arrays(new_features, new_attributes[["tier", "speed", "isp"]], **specs)
    assert ds.feature_outputs == trained.feature_outputs
    np.testing.assert_array_equal(ds.feature_min, trained.feature_min)
    assert_frame_matches(ds.to_dataframe(), new_features, new_attributes)

    new_features[1][0, 1] = "rebooting"
    with pytest.raises(ValueError, match="'event' holds 'rebooting'"):
        Dataset.from_arrays(new_features, new_attributes, **specs)
    new_features[1][0, 1] = "idle"
    new_features[2][0, 0] = 2e4
    with pytest.raises(ValueError, match="'value'.*beyond the given"):
        Dataset.from_arrays(new_features, new_attributes, **specs)
    with pytest.raises(ValueError, match="do not also pass"):
        Dataset.from_arrays(new_features, new_attributes, feature_names=["a", "b"], **specs)
    with pytest.raises(ValueError, match="only used with"):
        Dataset.from_arrays(new_features, new_attributes, feature_min=trained.feature_min,
                            feature_max=trained.feature_max)


# --- from_dataframe / to_dataframe ----------------------------------------------------------------

def long_frame():
    rng = np.random.default_rng(7)
    rows = []
    for unit, (length, isp) in {"u7": (4, "cable"), "u3": (6, "dsl"), "u9": (1, "fiber")}.items():
        for t in range(length):
            rows.append({"unit": unit, "hour": 100 + 6 * t, "isp": isp,
                         "bytes": rng.uniform(1e6, 6e9), "loss": rng.uniform(0, 0.2),
                         "state": rng.choice(["ok", "lost"])})
    return pd.DataFrame(rows)


def test_from_dataframe_round_trip_shuffled_with_time():
    df = long_frame()
    shuffled = df.sample(frac=1.0, random_state=0)
    ds = Dataset.from_dataframe(shuffled, id_column="unit", time_column="hour",
                                feature_columns=["bytes", "loss", "state"],
                                attribute_columns=["isp"], discrete_features=["state"],
                                discrete_attributes=["isp"], normalization="minusone_one")
    ids = list(pd.unique(shuffled["unit"]))  # sample i is the i-th id seen
    np.testing.assert_array_equal(ds.lengths, [df["unit"].eq(u).sum() for u in ids])
    # numbered=True: samples 0..N-1 and steps 0..length-1 (the only output before issue 19)
    out = ds.to_dataframe(id_column="unit", time_column="step", numbered=True)
    expected = df.assign(unit=df["unit"].map({u: i for i, u in enumerate(ids)}))
    expected = expected.sort_values(["unit", "hour"]).reset_index(drop=True)
    expected["step"] = expected.groupby("unit").cumcount()
    expected = expected[["unit", "step", "isp", "bytes", "loss", "state"]]
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-5, atol=1e-6)
    # by default the input's ids and times come back (tests/test_dataframes.py has the rest)
    original = ds.to_dataframe()
    expected = df.assign(order=df["unit"].map({u: i for i, u in enumerate(ids)}))
    expected = expected.sort_values(["order", "hour"]).drop(columns="order")
    pd.testing.assert_frame_equal(original, expected.reset_index(drop=True),
                                  check_exact=False, rtol=1e-5, atol=1e-6)


def test_from_dataframe_keeps_file_order_without_time():
    df = long_frame()
    ds = Dataset.from_dataframe(df.iloc[::-1], id_column="unit", feature_columns=["bytes"])
    first = ds.feature_values()["bytes"][0]  # u9 comes first in reversed order, one row
    np.testing.assert_allclose(first[0], df["bytes"].iloc[-1], rtol=1e-5)
    second = ds.feature_values()["bytes"][1, :6]  # u3, reversed
    np.testing.assert_allclose(second, df[df.unit == "u3"]["bytes"][::-1], rtol=1e-5)


def test_from_dataframe_padding_and_max_length():
    df = long_frame()
    ds = Dataset.from_dataframe(df, id_column="unit", feature_columns=["loss"], sample_len=4)
    assert ds.max_length == 8
    ds.validate(sample_len=4)
    assert Dataset.from_dataframe(df, id_column="unit", feature_columns=["loss"],
                                  max_length=10, sample_len=4).max_length == 12
    with pytest.raises(ValueError, match="more than max_length=5.*truncate"):
        Dataset.from_dataframe(df, id_column="unit", feature_columns=["loss"], max_length=5)


def test_from_dataframe_errors():
    df = long_frame()
    changed = df.copy()
    changed.loc[changed.index[5], "isp"] = "satellite"
    with pytest.raises(ValueError, match="'isp' is not constant within id 'u3'"):
        Dataset.from_dataframe(changed, id_column="unit", feature_columns=["bytes"],
                               attribute_columns=["isp"])
    numbered = changed.assign(unit=changed["unit"].str[1:].astype(int))  # not np.int64(3)
    with pytest.raises(ValueError, match="'isp' is not constant within id 3;"):
        Dataset.from_dataframe(numbered, id_column="unit", feature_columns=["bytes"],
                               attribute_columns=["isp"])
    with pytest.raises(ValueError, match="'u7' has two rows at hour=106"):
        Dataset.from_dataframe(pd.concat([df, df.iloc[[1]]]), id_column="unit",
                               time_column="hour", feature_columns=["bytes"])
    with pytest.raises(ValueError, match=r"feature_columns names column 'speed', not in the "
                                         r"DataFrame \(it has the columns \['unit'"):
        Dataset.from_dataframe(df, id_column="unit", feature_columns=["speed"])
    with pytest.raises(ValueError, match=r"attribute_columns names columns \['a', 'b'\], not"):
        Dataset.from_dataframe(df, id_column="unit", feature_columns="bytes",
                               attribute_columns=["a", "isp", "b"])
    with pytest.raises(ValueError, match="id_column takes one column name"):
        Dataset.from_dataframe(df, id_column=["unit"], feature_columns="bytes")


def test_from_dataframe_takes_single_names():
    # a string is one column, not its letters (which were reported as missing columns)
    df = long_frame()
    ds = Dataset.from_dataframe(df, id_column="unit", time_column="hour",
                                feature_columns="state", attribute_columns="isp",
                                discrete_features="state", discrete_attributes="isp")
    assert ds.feature_names == ["state"] and ds.attribute_names == ["isp"]
    assert not ds.feature_outputs[0].is_continuous and not ds.attribute_outputs[0].is_continuous
    listed = Dataset.from_dataframe(df, id_column="unit", time_column="hour",
                                    feature_columns=["state"], attribute_columns=["isp"],
                                    discrete_features=["state"], discrete_attributes=["isp"])
    np.testing.assert_array_equal(ds.features, listed.features)
    np.testing.assert_array_equal(ds.attributes, listed.attributes)
    with pytest.raises(ValueError, match="feature_columns names column 'views', not in"):
        Dataset.from_dataframe(df, id_column="unit", feature_columns="views")
    with pytest.raises(ValueError, match="discrete_features names 'isp', which is not a feature"):
        Dataset.from_dataframe(df, id_column="unit", feature_columns="bytes",
                               discrete_features="isp")


def test_from_arrays_takes_single_names():
    features, attributes, _ = raw_example()
    ds = Dataset.from_arrays([f[:, :1].astype(float) for f in features], attributes[["isp"]],
                             feature_names="value", discrete_attributes="isp")
    assert ds.feature_names == ["value"] and ds.attribute_names == ["isp"]
    assert ds.attribute_outputs[0].categories == ("a", "b", "c")
    again = Dataset.from_arrays([f[:, :1].astype(float) for f in features], attributes[["isp"]],
                                feature_outputs=ds.feature_outputs[0],
                                attribute_outputs=ds.attribute_outputs[0])
    assert again.feature_outputs == ds.feature_outputs
    ints = Dataset.from_arrays([f[:, 1:] for f in features], discrete_features=0)
    assert not ints.feature_outputs[0].is_continuous
    with pytest.raises(ValueError, match="discrete_attributes names 'speed', which is not an "
                                         "attribute column"):
        Dataset.from_arrays(np.arange(8.0).reshape(4, 2, 1), attributes[["isp"]],
                            discrete_attributes="speed")


# --- precision of float32 scaling -----------------------------------------------------------------

def one_series(values, **kwargs):
    return Dataset.from_arrays(np.asarray(values, float).reshape(1, -1, 1),
                               feature_names=["views"], **kwargs)


def test_extreme_value_warns_that_the_other_values_collapse():
    values = np.r_[np.arange(100.0), 1e300]
    with pytest.warns(UserWarning) as record:
        ds = one_series(values)
    assert len(record) == 1 and record[0].filename == __file__  # points at the user's call
    message = str(record[0].message)
    for part in ["feature column 'views' spans 0..1e+300", "interquartile range 25..75",
                 "decode up to 75 away from the input, more than 0.1% of that range",
                 "100 of its 101 distinct values share a float32 code",
                 "log transform (np.log1p(x)) or clip"]:
        assert part in message, message
    # what the warning is about: everything but the extreme value decodes as the minimum
    assert set(ds.feature_values()["views"][0, :100]) == {0.0}


def test_extreme_attribute_warns_with_the_signed_log_advice():
    attributes = pd.DataFrame({"income": np.r_[np.linspace(-50.0, 50.0, 40), -1e12]})
    with pytest.warns(UserWarning, match=r"attribute column 'income' spans -1e\+12..50.*"
                                         r"np.sign\(x\) \* np.log1p"):
        Dataset.from_arrays(np.ones((41, 2, 1)) * np.arange(41.0)[:, None, None], attributes,
                            normalization="minusone_one")


@pytest.mark.parametrize("values", [[0.0, 1e308, -1.7e308, 5.0], [-1e308, 1e308]])
def test_range_overflowing_float64_is_refused_by_name(values):
    # before: "features holds 1 NaN or infinite values", which the input never held
    with pytest.raises(ValueError, match=r"column 'views' spans -1.*e\+308..1e\+308: max - min "
                                         r"overflows float64.*log transform.*clip") as info:
        one_series(values)
    assert "NaN" not in str(info.value)
    with pytest.raises(ValueError, match="attribute_max - attribute_min overflows float64 for "
                                         "continuous attribute 'attribute_1'"):
        Dataset(**encoded_parts(), feature_min=[0, 0, 1], feature_max=[1, 1, 1],
                attribute_min=[0, 0, 0, -1e308], attribute_max=[1, 1, 1, 1e308])


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_ordinary_and_skewed_data_do_not_warn(norm, recwarn):
    rng = np.random.default_rng(4)
    one_series(rng.normal(size=5000), normalization=norm)
    one_series(np.r_[np.zeros(900), rng.exponential(5.0, 100)], normalization=norm)  # sparse
    one_series(rng.uniform(1e6, 1e6 + 1.0, 5000), normalization=norm)  # offset, narrow
    # in [0, 1] float32 keeps the relative precision of large values: a heavy tail is fine
    one_series(rng.lognormal(0.0, 3.0, 5000), normalization=Normalization.ZERO_ONE)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_to_dataframe_name_clash():
    ds = Dataset.from_arrays([np.arange(3.0)], feature_names=["time"])
    with pytest.raises(ValueError, match="pick another"):
        ds.to_dataframe()
    assert list(ds.to_dataframe(time_column="step").columns) == ["id", "step", "time"]


# --- storage ------------------------------------------------------------------------------------

def example_dataset():
    features, attributes, _ = raw_example()
    return Dataset.from_arrays(features, attributes, feature_names=["value", "event"],
                               discrete_features=["event"], discrete_attributes=["isp"])


def assert_same(a, b):
    for key in ("features", "attributes", "gen_flags", "feature_min", "feature_max",
                "attribute_min", "attribute_max"):
        x, y = getattr(a, key), getattr(b, key)
        assert (x is None) == (y is None), key
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=key)
    assert a.feature_outputs == b.feature_outputs
    assert a.attribute_outputs == b.attribute_outputs


def test_save_load_round_trip(tmp_path):
    ds = example_dataset()
    target = tmp_path / "saved"
    ds.save(target)
    assert sorted(os.listdir(target)) == ["data.npz", "specs.json"]
    assert_same(Dataset.load(target), ds)
    smaller = ds.subset([1, 2])
    smaller.save(target)  # replaces the earlier save
    assert_same(Dataset.load(target), smaller)
    assert os.listdir(tmp_path) == ["saved"]  # no temporary directories left behind


def test_save_without_min_max(tmp_path):
    ds = Dataset(**encoded_parts())
    ds.save(tmp_path / "d")
    assert_same(Dataset.load(tmp_path / "d"), ds)


def test_save_refuses_to_replace_other_directories(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="notes.txt"):
        example_dataset().save(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_failed_save_keeps_the_previous_one(tmp_path, monkeypatch):
    ds = example_dataset()
    ds.save(tmp_path / "d")

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(OSError, match="disk full"):
        ds.subset([0]).save(tmp_path / "d")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["d"]
    assert_same(Dataset.load(tmp_path / "d"), ds)


def test_save_original_round_trip(tmp_path):
    ds = example_dataset()
    ds.save_original(tmp_path / "orig")
    assert_same(Dataset.load(tmp_path / "orig"), ds)
    for name, outputs in (("data_feature_output.pkl", ds.feature_outputs),
                          ("data_attribute_output.pkl", ds.attribute_outputs)):
        specs = load_original_specs(tmp_path / "orig" / name)
        assert specs == [Output(o.type, o.dim, o.normalization, is_gen_flag=o.is_gen_flag)
                         for o in outputs]
    # without our specs.json only the original pickles count: default names, index labels
    os.remove(tmp_path / "orig" / "specs.json")
    bare = Dataset.load(tmp_path / "orig")
    np.testing.assert_array_equal(bare.features, ds.features)
    assert bare.feature_names == ["feature_0", "feature_1"]
    assert bare.feature_outputs[1].labels() == (0, 1, 2)


def original_output_module():
    """The original release's output.py, as its code sees it when unpickling."""
    import enum
    module = types.ModuleType("output")

    class OutputType(enum.Enum):
        CONTINUOUS = "CONTINUOUS"
        DISCRETE = "DISCRETE"

    class Normalization(enum.Enum):
        ZERO_ONE = "ZERO_ONE"
        MINUSONE_ONE = "MINUSONE_ONE"

    class Output(object):
        def __init__(self, type_, dim, normalization=None, is_gen_flag=False):
            self.type_, self.dim = type_, dim
            self.normalization, self.is_gen_flag = normalization, is_gen_flag

    module.OutputType, module.Normalization, module.Output = OutputType, Normalization, Output
    return module


def test_original_code_can_unpickle_our_specs(tmp_path, monkeypatch):
    ds = Dataset(**encoded_parts())
    ds.save_original(tmp_path / "orig")
    module = original_output_module()
    monkeypatch.setitem(sys.modules, "output", module)
    with open(tmp_path / "orig" / "data_attribute_output.pkl", "rb") as f:
        specs = pickle.load(f)
    assert [type(s) for s in specs] == [module.Output] * 2
    assert specs[0].type_ is module.OutputType.DISCRETE and specs[0].dim == 3
    assert specs[0].normalization is None
    assert specs[1].normalization is module.Normalization.MINUSONE_ONE
    assert specs[1].is_gen_flag is False
    with np.load(tmp_path / "orig" / "data_train.npz") as data:
        np.testing.assert_array_equal(data["data_feature"], ds.features)
        np.testing.assert_array_equal(data["data_gen_flag"], ds.gen_flags)


def test_original_specs_module_is_not_left_registered(tmp_path):
    Dataset(**encoded_parts()).save_original(tmp_path / "orig")
    assert "output" not in sys.modules


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved dataset"):
        Dataset.load(tmp_path / "absent")
    (tmp_path / "file.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="expects the directory"):
        Dataset.load(tmp_path / "file.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="neither data.npz"):
        Dataset.load(tmp_path / "empty")

    ds = example_dataset()
    ds.save(tmp_path / "ours")
    (tmp_path / "ours" / "specs.json").write_text("{not json")
    with pytest.raises(ValueError, match="specs.json is not valid JSON"):
        Dataset.load(tmp_path / "ours")
    (tmp_path / "ours" / "specs.json").write_text('{"format": "doppelganger_tf-dataset", '
                                                  '"version": 9}')
    with pytest.raises(ValueError, match="version 9"):
        Dataset.load(tmp_path / "ours")
    os.remove(tmp_path / "ours" / "specs.json")
    with pytest.raises(FileNotFoundError, match="specs.json is missing"):
        Dataset.load(tmp_path / "ours")
    (tmp_path / "ours" / "data.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="cannot read .*data.npz"):
        Dataset.load(tmp_path / "ours")
    with open(tmp_path / "ours" / "data.npz", "wb") as f:
        np.save(f, ds.features)
    with pytest.raises(ValueError, match="data.npz holds a single array"):
        Dataset.load(tmp_path / "ours")

    ds.save_original(tmp_path / "orig")
    np.savez(tmp_path / "orig" / "data_train.npz", data_feature=ds.features)
    with pytest.raises(ValueError, match=r"lacks the arrays \['data_attribute', 'data_gen_flag'\]"):
        Dataset.load(tmp_path / "orig")
    ds.save_original(tmp_path / "orig")
    (tmp_path / "orig" / "data_feature_output.pkl").write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match="data_feature_output.pkl"):
        Dataset.load(tmp_path / "orig")
    os.remove(tmp_path / "orig" / "data_feature_output.pkl")
    with pytest.raises(FileNotFoundError, match="data_feature_output.pkl is missing"):
        Dataset.load(tmp_path / "orig")


def test_load_reports_invalid_contents_with_file_name(tmp_path):
    ds = example_dataset()
    ds.save(tmp_path / "d")
    with np.load(tmp_path / "d" / "data.npz") as data:
        arrays = dict(data)
    arrays["gen_flags"][0, 0] = 0.0
    np.savez(tmp_path / "d" / "data.npz", **arrays)
    with pytest.raises(ValueError, match="data.npz: .*prefix of ones"):
        Dataset.load(tmp_path / "d")


# --- the real MBA release ----------------------------------------------------------------------

def test_load_real_mba(shared_data, tmp_path):
    ds = Dataset.load(shared_data / "fcc_mba")
    assert ds.features.shape == (600, 56, 2)
    assert ds.attributes.shape == (600, 73)
    assert ds.feature_min.shape == ds.feature_max.shape == (2,)
    assert ds.attribute_min is None
    assert [o.dim for o in ds.attribute_outputs] == [15, 5, 53]
    ds.validate(sample_len=8)

    df = ds.to_dataframe()
    assert len(df) == 600 * 56
    traffic = df["feature_0"]
    # raw bytes: the release's global max is 6.13e9; this training split reaches 0.85 of it
    assert ds.feature_max[0] == pytest.approx(6.13e9, rel=1e-3)
    assert traffic.max() == pytest.approx(ds.features[..., 0].max() * (ds.feature_max[0] -
                                          ds.feature_min[0]) + ds.feature_min[0], rel=1e-6)
    assert 5e9 < traffic.max() <= ds.feature_max[0]
    assert traffic.min() >= ds.feature_min[0]
    # technology block: category indices (the release has no labels), see data/README.md
    technology = ds.attribute_values()["attribute_1"]
    assert technology.value_counts().to_dict() == {3: 327, 0: 108, 1: 88, 4: 77}

    ds.save_original(tmp_path / "copy")
    assert_same(Dataset.load(tmp_path / "copy"), ds)


# --- streamed layout ----------------------------------------------------------------------------

def mixed_dataset():
    features, attributes, _ = raw_example(seed=1)
    return Dataset.from_arrays(features, attributes, feature_names=["value", "event"],
                               discrete_features=["event"], discrete_attributes=["isp", 2])


def test_stream_writer_round_trip_memory_mapped(tmp_path):
    from doppelganger_tf.dataset import DatasetStreamWriter
    whole = mixed_dataset()
    with DatasetStreamWriter(tmp_path / "streamed", len(whole)) as writer:
        for start in range(0, len(whole), 3):  # uneven last batch
            writer.append(whole.subset(slice(start, start + 3)))
    back = Dataset.load(tmp_path / "streamed")
    assert isinstance(back.features.base, np.memmap) or isinstance(back.features, np.memmap)
    np.testing.assert_array_equal(back.features, whole.features)
    np.testing.assert_array_equal(back.attributes, whole.attributes)
    np.testing.assert_array_equal(back.gen_flags, whole.gen_flags)
    pd.testing.assert_frame_equal(back.to_dataframe(), whole.to_dataframe())


def test_stream_writer_is_atomic_and_checks_its_batches(tmp_path):
    from doppelganger_tf.dataset import DatasetStreamWriter
    whole = mixed_dataset()
    target = tmp_path / "streamed"
    with pytest.raises(ValueError, match="only 3 of the declared"):
        with DatasetStreamWriter(target, len(whole)) as writer:
            writer.append(whole.subset(slice(0, 3)))
    assert not target.exists() and not list(tmp_path.iterdir())  # no temporary left behind
    with pytest.raises(RuntimeError, match="killed"):
        with DatasetStreamWriter(target, len(whole)) as writer:
            writer.append(whole.subset(slice(0, 3)))
            raise RuntimeError("killed")
    assert not target.exists()
    with pytest.raises(ValueError, match="exceed the declared"):
        with DatasetStreamWriter(target, 2) as writer:
            writer.append(whole.subset(slice(0, 3)))


def test_load_reports_a_corrupt_streamed_array(tmp_path):
    from doppelganger_tf.dataset import DatasetStreamWriter
    whole = mixed_dataset()
    with DatasetStreamWriter(tmp_path / "d", len(whole)) as writer:
        writer.append(whole)
    (tmp_path / "d" / "attributes.npy").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="attributes.npy.*corrupt"):
        Dataset.load(tmp_path / "d")
    (tmp_path / "d" / "attributes.npy").unlink()
    with pytest.raises(FileNotFoundError, match="incomplete streamed dataset"):
        Dataset.load(tmp_path / "d")


# --- per-type encodings -------------------------------------------------------------------------

def test_each_output_type_encodes_and_decodes_itself():
    from doppelganger_tf.encoding import (ContinuousEncoding, DiscreteEncoding, check_encoded,
                                          encoding_of)
    cpu = Output(CONT, 2, Normalization.MINUSONE_ONE, name="cpu")
    state = Output(DISC, 3, name="state", categories=("down", "idle", "busy"))
    assert encoding_of(cpu) is ContinuousEncoding and encoding_of(state) is DiscreteEncoding

    def at(row):
        return f"row {row}"
    raw_cpu = [("cpu_0", np.array([0.0, 5.0, 10.0])), ("cpu_1", np.array([2.0, 3.0, 4.0]))]
    block, low, high = ContinuousEncoding.encode(cpu, raw_cpu, None, "feature", at, True)
    np.testing.assert_allclose(block, [[-1, -1], [0, 0], [1, 1]])
    assert (low, high) == ([0.0, 2.0], [10.0, 4.0])
    decoded = ContinuousEncoding.decode(cpu, block, np.array(low), np.array(high))
    assert [name for name, _ in decoded] == ["cpu_0", "cpu_1"]
    for (_, values), (_, raw) in zip(decoded, raw_cpu):
        np.testing.assert_allclose(values, raw)

    labels = np.array(["busy", "down", "busy"], dtype=object)
    block, low, high = DiscreteEncoding.encode(state, [("state", labels)], None, "feature", at,
                                               True)
    np.testing.assert_array_equal(block, [[0, 0, 1], [1, 0, 0], [0, 0, 1]])
    assert (low, high) == ([0.0] * 3, [1.0] * 3)
    [(name, values)] = DiscreteEncoding.decode(state, block, None, None)
    assert name == "state" and values.tolist() == labels.tolist()

    check_encoded(np.array([[0.5, -1.0, 0, 1, 0]], np.float32), [cpu, state], "feature", at)
    with pytest.raises(ValueError, match="'state' is not one-hot at row 0"):
        check_encoded(np.array([[0.5, -1.0, 0, 1, 1]], np.float32), [cpu, state], "feature", at)
