"""Hostile input to the data readers (issue 29): mixed-type ids and times, complex values,
rows absent from a regular time axis, repeated column labels, a column in two roles, -0.0 as
a category, integers float64 cannot hold, and a model's sample_len that does not fit the
Dataset.  Each category is tested in every column role and every reader it reaches.
numpy / pandas only: no TensorFlow."""
import warnings

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.conversion import encode_attribute_table
from doppelganger_tf.dataset import Dataset


def generated_like(ds, seed=0):
    """What a model trained on ``ds`` generates: samples of its specs with the training
    frame's template (no ids, no starts)."""
    order = np.random.default_rng(seed).permutation(len(ds))
    return Dataset(ds.features[order], ds.attributes[order], ds.gen_flags[order],
                   ds.feature_outputs, ds.attribute_outputs, **ds.scaling(),
                   frame=ds.frame.template())


def long(ids, times, **columns):
    return pd.DataFrame({"id": ids, "t": times, **columns})


def describe(ds) -> str:
    text = []
    ds.describe(print_fn=text.append)
    return text[0]


# --- (a) values of several types in one column -------------------------------------------------

def test_a_mixed_type_time_column_is_refused_not_misordered():
    # the case: read as 0, 20, 11 before
    df = long([0, 0, 0], pd.Series([2, "1", 0], dtype=object), x=[20.0, 11.0, 0.0])
    with pytest.raises(ValueError, match=r"time column 't' mixes value types: number \(e\.g\. "
                                         r"2 at row 0\), str \(e\.g\. '1' at row 1\)"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    series = df.assign(id=None).drop(columns="id")
    with pytest.raises(ValueError, match="time column 't' mixes value types"):
        Dataset.from_long_series(series, window=2, time_column="t", feature_columns="x")
    # datetimes and strings
    stamps = pd.Series([pd.Timestamp("2020-01-01"), "2020-01-02", pd.Timestamp("2020-01-03")],
                       dtype=object)
    with pytest.raises(ValueError, match="datetime .*str .*'2020-01-02'"):
        Dataset.from_dataframe(long([0, 0, 0], stamps, x=[1.0, 2.0, 3.0]), id_column="id",
                               time_column="t", feature_columns="x")


def test_a_mixed_type_id_column_is_refused():
    # 0 and "0" print alike but were two series
    df = long(pd.Series([0, 0, "0", "0"], dtype=object), [0, 1, 0, 1], x=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"id column 'id' mixes value types: number \(e\.g\. 0 "
                                         r"at row 0\), str \(e\.g\. '0' at row 2\).*astype\(str\)"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    with pytest.raises(ValueError, match="id column 'id' mixes value types"):
        Dataset.from_long_series(df, window=2, id_column="id", time_column="t",
                                 feature_columns="x")
    wide = pd.DataFrame({"id": pd.Series([0, "0"], dtype=object), "d1": [1.0, 2.0],
                         "d2": [3.0, 4.0]})
    with pytest.raises(ValueError, match="id column 'id' mixes value types"):
        Dataset.from_wide_dataframe(wide, id_column="id")


def test_a_mixed_type_discrete_values_are_refused_with_the_values_named():
    # True == 1, so the two were one category before
    flags = pd.Series([True, True, 1, 1], dtype=object)
    df = long(["a", "a", "b", "b"], [0, 1, 0, 1], x=[1.0, 2.0, 3.0, 4.0], kind=flags,
              state=pd.Series([1.5, 2.5, "low", "high"], dtype=object))
    with pytest.raises(ValueError, match=r"discrete attribute column 'kind' mixes value types: "
                                         r"bool \(e\.g\. True at row 0\), number \(e\.g\. 1 at "
                                         r"row 2\)"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x",
                               attribute_columns="kind")
    with pytest.raises(ValueError, match=r"discrete feature column 'state' mixes value types: "
                                         r"number \(e\.g\. 1\.5 at row 0\), str \(e\.g\. 'low'"):
        Dataset.from_dataframe(df, id_column="id", time_column="t",
                               feature_columns=["x", "state"])
    # arrays: an object attribute column
    with pytest.raises(ValueError, match="discrete attribute column 'kind' mixes value types: "
                                         "bool"):
        Dataset.from_arrays(np.random.default_rng(0).random((2, 3, 1)),
                            [[True], [1]], attribute_names=["kind"], discrete_attributes="kind")
    # wide: the values as categories, the labels of the time columns
    wide = pd.DataFrame({"id": ["p", "q"], "d1": pd.Series(["up", 1], dtype=object),
                         "d2": ["down", "up"]})
    with pytest.raises(ValueError, match=r"discrete feature 'value' \(the time columns\) mixes "
                                         r"value types: str .*number \(e\.g\. 1 at id row 1, "
                                         r"time column 'd1'\)"):
        Dataset.from_wide_dataframe(wide, id_column="id")
    labels = pd.DataFrame({"id": ["p", "q"], "2015-07-01": [1.0, 2.0],
                           pd.Timestamp("2015-07-02"): [3.0, 4.0]})
    with pytest.raises(ValueError, match="the header of the time columns mixes value types"):
        Dataset.from_wide_dataframe(labels, id_column="id")


# --- (b) complex values ------------------------------------------------------------------------

COMPLEX = np.array([1 + 2j, 2 + 0j, 3 + 0j, 4 - 1j])


@pytest.mark.parametrize("role", ["id", "t", "x", "site"])
def test_b_complex_values_are_refused_in_every_role_of_a_long_frame(role):
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=[1.0, 2.0, 3.0, 4.0], site=[5.0, 5.0, 6.0, 6.0])
    df[role] = COMPLEX if role != "site" else np.array([1j, 1j, 2j, 2j])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not numpy's ComplexWarning: an error
        with pytest.raises(ValueError, match=f"column '{role}' holds complex values"):
            Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x",
                                   attribute_columns="site")
        with pytest.raises(ValueError, match=f"column '{role}' holds complex values"):
            Dataset.from_long_series(df, window=2, id_column="id", time_column="t",
                                     feature_columns="x", attribute_columns="site")


def test_b_complex_values_are_refused_in_object_columns_and_wide_frames():
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=pd.Series([1.0, 2j, 3.0, 4.0], dtype=object))
    with pytest.raises(ValueError, match=r"feature column 'x' holds complex values \(e\.g\. 2j "
                                         r"at row 1\).*x\.real, x\.imag"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    wide = pd.DataFrame({"id": ["p", "q"], "d1": [1 + 1j, 2], "d2": [3.0, 4.0],
                         "access": ["a", "b"]})
    with pytest.raises(ValueError, match="time column 'd1' of the values .* holds complex"):
        Dataset.from_wide_dataframe(wide, id_column="id", attribute_columns="access")
    wide = pd.DataFrame({"id": ["p", "q"], "d1": [1.0, 2.0], "d2": [3.0, 4.0],
                         "gain": [1 + 1j, 2]})
    with pytest.raises(ValueError, match="attribute column 'gain' holds complex values"):
        Dataset.from_wide_dataframe(wide, id_column="id", attribute_columns="gain")


def test_b_complex_arrays_are_refused_not_called_constant():
    constant = np.full((3, 4, 1), 1 + 1j)  # was "constant (1)": the real parts are
    with pytest.raises(ValueError, match="feature column 'feature_0' holds complex values"):
        Dataset.from_arrays(constant)
    with pytest.raises(ValueError, match="feature column 'level' holds complex values"):
        Dataset.from_arrays([np.array([1.0, 2.0]), np.array([1j, 3.0])], feature_names=["level"])
    features = np.random.default_rng(0).random((3, 4, 1))
    with pytest.raises(ValueError, match="attribute column 'attribute_0' holds complex"):
        Dataset.from_arrays(features, np.array([[1 + 1j], [2.0], [3.0]]))
    with pytest.raises(ValueError, match="attribute column 'z' holds complex"):
        Dataset.from_arrays(features, pd.DataFrame({"z": [1.0, 2j, 3.0]}))
    with pytest.raises(ValueError, match="discrete attribute column 'k' holds complex"):
        Dataset.from_arrays(features, [["a"], [1j], ["b"]], attribute_names=["k"],
                            discrete_attributes="k")
    ds = Dataset.from_arrays(features, np.array([[1.0], [2.0], [3.0]]))
    with pytest.raises(ValueError, match="attribute column 'attribute_0' holds complex"):
        encode_attribute_table(np.array([[1.5 + 1j]]), ds.attribute_outputs, ds.attribute_min,
                               ds.attribute_max)


# --- (c) rows absent from a regular time axis --------------------------------------------------

def meters(seed=0, absent=6):
    """The issue's case: 80 hourly series of 336 readings, ``absent`` rows not in the frame."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2021-01-04", periods=336, freq="h")
    df = pd.DataFrame({"meter": np.repeat(np.arange(80), 336), "hour": np.tile(hours, 80),
                       "kw": rng.random(80 * 336).round(3)})
    return df.drop(index=rng.choice(len(df), absent, replace=False)).reset_index(drop=True), hours


def test_c_absent_rows_are_put_back_on_the_calendar():
    df, hours = meters()
    ds = Dataset.from_dataframe(df, id_column="meter", time_column="hour",
                                feature_columns="kw", missing="interpolate")
    axis = ds.frame.axis
    assert axis.mode == "regular" and axis.step == 3600 * 10 ** 9 and len(axis.starts) == 1
    assert (ds.lengths == 336).all()  # before: 6 series were shorter, their readings moved
    out = ds.to_dataframe()
    # every reading read is at its own hour, the absent ones are interpolated between them
    merged = df.merge(out, on=["meter", "hour"], suffixes=("", "_read"), how="left")
    np.testing.assert_allclose(merged["kw_read"], merged["kw"], atol=1e-6)
    assert len(out) == 80 * 336
    text = describe(ds)
    assert "absent steps: 6 of the regular step 0 days 01:00:00 (rows not in the frame, in " \
           "6 series) put back as missing values, handled by missing='interpolate'" in text
    assert "regular step 0 days 01:00:00, every series starts at 2021-01-04" in text
    assert ds.frame.report["absent_steps"] == {"steps": 6, "series": 6, "step": "0 days 01:00:00"}
    assert ds.frame.report["missing"]["counts"] == {}  # no empty cell in the input
    generated = generated_like(ds).to_dataframe(seed=0)  # before: integers 0..L-1
    assert generated["hour"].dtype == df["hour"].dtype
    for _, series in generated.groupby("meter"):
        assert series["hour"].tolist() == list(hours[:len(series)])


def test_c_the_default_says_that_rows_were_absent_and_what_to_pass():
    df, _ = meters(absent=3)
    with pytest.raises(ValueError, match=r"3 steps of the regular step 0 days 01:00:00 of time "
                                         r"column 'hour' are not in the frame \(rows absent in 3 "
                                         r"series, first at id \d+ at hour=.*missing='error' \(the "
                                         r"default\) refuses; pass missing='interpolate'.*"
                                         r"missing='drop_series'"):
        Dataset.from_dataframe(df, id_column="meter", time_column="hour", feature_columns="kw")
    kept = Dataset.from_dataframe(df, id_column="meter", time_column="hour",
                                  feature_columns="kw", missing="drop_series")
    assert len(kept) == 77 and (kept.lengths == 336).all()
    assert len(kept.frame.report["missing"]["dropped"]) == 3


def check_put_back(df, times_per_series, **kwargs):
    """Read with missing='interpolate': every series on ``times_per_series`` (its full axis),
    generated data back on the same axis."""
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x",
                                missing="interpolate", **kwargs)
    assert ds.frame.axis.mode == "regular"
    out = ds.to_dataframe()
    for series_id, times in times_per_series.items():
        assert out.loc[out["id"] == series_id, "t"].tolist() == list(times)
    present = df.merge(out, on=["id", "t"], suffixes=("", "_read"))
    assert len(present) == len(df)
    np.testing.assert_allclose(present["x_read"], present["x"], atol=1e-5)
    generated = generated_like(ds).to_dataframe(seed=0)
    assert generated["t"].dtype == df["t"].dtype
    return ds


def test_c_numeric_time_columns_with_gaps():
    full = {"a": [0, 2, 4, 6, 8, 10, 12], "b": [4, 6, 8, 10, 12, 14]}
    df = long(["a"] * 6 + ["b"] * 6, [0, 2, 4, 8, 10, 12] + full["b"], x=np.arange(12.0))
    ds = check_put_back(df, full)
    assert ds.frame.axis.step == 2 and ds.frame.report["absent_steps"]["steps"] == 1
    # floats to a relative 1e-6; the filled axis is start + k * step
    step = 0.1
    floats = long(["a"] * 5 + ["b"] * 4, np.array([0, 1, 3, 4, 5, 2, 3, 5, 6]) * step,
                  x=np.arange(9.0))
    ds = Dataset.from_dataframe(floats, id_column="id", time_column="t", feature_columns="x",
                                missing="interpolate")
    assert ds.frame.axis.mode == "regular" and ds.frame.axis.step == pytest.approx(step)
    np.testing.assert_allclose(ds.to_dataframe()["t"], np.r_[0:6, 2:7] * step, atol=1e-12)
    # timedeltas
    spans = long(["a"] * 4 + ["b"] * 3, pd.to_timedelta([0, 5, 15, 20, 5, 10, 15], unit="min"),
                 x=np.arange(7.0))
    check_put_back(spans, {"a": pd.to_timedelta([0, 5, 10, 15, 20], unit="min"),
                           "b": pd.to_timedelta([5, 10, 15], unit="min")})


def test_c_calendar_frequencies_with_gaps():
    business = pd.bdate_range("2021-01-04", periods=12)  # weekends are not absent steps
    df = long(["a"] * 12 + ["b"] * 12, np.tile(business, 2), x=np.arange(24.0)).drop(
        index=[6, 15])
    ds = check_put_back(df, {"a": business, "b": business})
    assert ds.frame.axis.freq == "B" and ds.frame.report["absent_steps"]["steps"] == 2
    months = pd.date_range("2020-01-01", periods=10, freq="MS")
    df = long(["a"] * 10 + ["b"] * 10, np.tile(months, 2), x=np.arange(20.0)).drop(
        index=[3, 4, 12])
    assert check_put_back(df, {"a": months, "b": months}).frame.axis.freq == "MS"
    # local days across a daylight-saving change: 23-hour and 25-hour days
    days = pd.date_range("2021-03-20", periods=16, freq="D", tz="Europe/Berlin")
    df = long(["a"] * 16 + ["b"] * 16, np.tile(days, 2), x=np.arange(32.0)).drop(
        index=[8, 9, 27])
    assert check_put_back(df, {"a": days, "b": days}).frame.axis.freq == "D"


def test_c_a_calendar_shared_by_every_series_is_kept_as_it_is():
    # trading days: business days without a holiday, the same for every series
    days = pd.bdate_range("2021-03-29", periods=10).delete(4)  # Good Friday
    df = long(["a"] * 9 + ["b"] * 7, list(days) + list(days[:7]), x=np.arange(16.0))
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    assert ds.frame.axis.mode == "calendar" and "absent_steps" not in ds.frame.report
    pd.testing.assert_series_equal(ds.to_dataframe()["t"], df["t"])
    generated = generated_like(ds).to_dataframe(seed=0)
    for _, series in generated.groupby("id"):
        assert series["t"].tolist() == list(days[:len(series)])
    # one series is its own calendar
    one = long(["a"] * 5, [0, 1, 2, 4, 5], x=np.arange(5.0))
    ds = Dataset.from_dataframe(one, id_column="id", time_column="t", feature_columns="x")
    assert ds.frame.axis.mode == "calendar" and ds.to_dataframe()["t"].tolist() == [0, 1, 2, 4, 5]


def test_c_windows_of_a_long_series_with_gaps():
    at = pd.date_range("2021-06-01", periods=4 * 96, freq="15min")
    sensor = pd.DataFrame({"at": at, "temp": np.sin(np.arange(4 * 96) / 15)}).drop(
        index=[100, 101])
    with pytest.raises(ValueError, match="2 steps of the regular step 0 days 00:15:00 of time "
                                         "column 'at' are not in the frame"):
        Dataset.from_long_series(sensor, time_column="at", feature_columns="temp", window=96,
                                 stride=24)
    ds = Dataset.from_long_series(sensor, time_column="at", feature_columns="temp", window=96,
                                  stride=24, missing="interpolate")
    assert len(ds) == 13 and ds.frame.axis.mode == "regular"  # 12 before: 2 rows short
    assert ds.to_dataframe()["at"].iloc[96 * 4 + 4] == at[100]
    dropped = Dataset.from_long_series(sensor, time_column="at", feature_columns="temp",
                                       window=96, stride=24, missing="drop_series")
    assert len(dropped) == 9  # the 4 windows that hold an absent step


def test_c_irregular_times_stay_numbered():
    # differences that are not multiples of the most common one
    df = long(["a"] * 4 + ["b"] * 4, [0, 3, 5, 6, 2, 3, 7, 10], x=np.arange(8.0))
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    assert ds.frame.axis.mode == "numbered" and "absent_steps" not in ds.frame.report
    # multiples, but as many steps absent as present: too sparse to be a calendar with gaps
    df = long(["a"] * 4 + ["b"] * 4, [0, 1, 5, 9, 0, 1, 2, 6], x=np.arange(8.0))
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    assert ds.frame.axis.mode == "numbered" and len(ds.to_dataframe()) == 8


def test_c_empty_cells_and_absent_rows_are_counted_apart(tmp_path):
    df = long(["a"] * 5 + ["b"] * 6, [0, 1, 2, 4, 5, 0, 1, 2, 3, 4, 5],
              x=[0.0, np.nan, 2, 4, 5, 0, 1, 2, 3, 4, 5], s=list("uvwxyuvwxyz"))
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns=["x", "s"],
                                missing="interpolate")
    report = ds.frame.report
    assert report["missing"]["counts"] == {"x": 1}
    assert report["missing"]["filled"] == {"x": 2, "s": 1}
    assert report["absent_steps"]["steps"] == 1
    assert ds.to_dataframe()["s"].tolist()[:6] == list("uvwwxy")  # the previous category
    ds.save(tmp_path / "data")
    assert Dataset.load(tmp_path / "data").frame.report["absent_steps"]["steps"] == 1


# --- (d) repeated column labels ----------------------------------------------------------------

def test_d_repeated_labels_are_named():
    df = pd.DataFrame([[0, 0, 1.0, 2.0, "u"], [0, 1, 2.0, 3.0, "u"]],
                      columns=["id", "t", "x", "x", "isp"])
    with pytest.raises(ValueError, match=r"several columns labelled 'x'.*"
                                         r"df\.loc\[:, ~df\.columns\.duplicated\(\)\]"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    again = df.set_axis(["id", "t", "x", "isp", "isp"], axis=1)
    with pytest.raises(ValueError, match="several columns labelled 'isp'"):
        Dataset.from_dataframe(again, id_column="id", time_column="t", feature_columns="x",
                               attribute_columns="isp")
    twice = df.set_axis(["id", "id", "x", "y", "isp"], axis=1)
    with pytest.raises(ValueError, match="several columns labelled 'id'"):
        Dataset.from_long_series(twice, window=1, id_column="id", feature_columns="x")
    # an unused repeated label does no harm
    other = df.set_axis(["id", "t", "x", "y", "y"], axis=1)
    Dataset.from_dataframe(other.assign(t=[0, 1]), id_column="id", time_column="t",
                           feature_columns="x")
    wide = pd.DataFrame([["p", 1.0, 2.0], ["q", 3.0, 4.0]], columns=["id", "d1", "d1"])
    with pytest.raises(ValueError, match="several columns labelled 'd1'"):
        Dataset.from_wide_dataframe(wide, id_column="id")
    # labels that differ but name the same column as text
    named = pd.DataFrame({"id": [0, 0], "t": [0, 1], 1: [1.0, 2.0], "1": [3.0, 5.0]})
    with pytest.raises(ValueError, match="the columns 1 and '1' have the same name as text"):
        Dataset.from_dataframe(named, id_column="id", time_column="t", feature_columns=[1, "1"])


# --- (e) a column in two roles -----------------------------------------------------------------

@pytest.mark.parametrize("arguments, message", [
    (dict(feature_columns=["x", "id"]), "column 'id' is given as id_column and in "
                                        "feature_columns"),
    (dict(feature_columns="x", attribute_columns="t"), "column 't' is given as time_column and "
                                                       "in attribute_columns"),
    (dict(feature_columns=["x", "isp"], attribute_columns="isp"),
     "column 'isp' is given as feature_columns and in attribute_columns"),
    (dict(feature_columns=["x", "x"]), "feature_columns lists 'x' twice"),
    (dict(feature_columns="x", attribute_columns="id"), "column 'id' is given as id_column and "
                                                        "in attribute_columns"),
])
def test_e_a_column_in_two_roles_is_refused_when_built(arguments, message):
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=[1.0, 2.0, 3.0, 4.0], isp=list("uuvv"))
    with pytest.raises(ValueError, match=message + ".*one role"
                       if "twice" not in message else message):
        Dataset.from_dataframe(df, id_column="id", time_column="t", **arguments)


def test_e_roles_in_the_other_readers():
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="column 't' is given as time_column and in "
                                         "feature_columns"):
        Dataset.from_long_series(df, window=2, time_column="t", feature_columns=["x", "t"])
    # windows may keep their series' id as an attribute (documented)
    ds = Dataset.from_long_series(df, window=2, id_column="id", time_column="t",
                                  feature_columns="x", attribute_columns="id")
    assert ds.attribute_names == ["id"]
    wide = pd.DataFrame({"id": ["p", "q"], "d1": [1.0, 2.0], "d2": [3.0, 4.0]})
    with pytest.raises(ValueError, match="column 'id' is given as id_column and in "
                                         "attribute_columns"):
        Dataset.from_wide_dataframe(wide, id_column="id", attribute_columns="id",
                                    time_columns=["d1", "d2"])
    for argument in ("feature_name", "time_name"):
        with pytest.raises(ValueError, match=f"{argument}='id' is also the name of the id"):
            Dataset.from_wide_dataframe(wide, id_column="id", **{argument: "id"})
    with pytest.raises(ValueError, match="time_name='value' is also the name"):
        Dataset.from_wide_dataframe(wide, id_column="id", time_name="value")


# --- (f) -0.0 and 0.0 --------------------------------------------------------------------------

def test_f_signed_zeros_are_one_category_labelled_0():
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=[-0.0, 0.0, 1.0, 0.0], k=[-0.0, -0.0, 2.0, 2.0])
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x",
                                attribute_columns="k", discrete_features="x",
                                discrete_attributes="k")
    for out in ds.feature_outputs + ds.attribute_outputs:
        assert not any(np.signbit(c) for c in out.categories)
    assert ds.feature_outputs[0].categories == (0.0, 1.0)
    out = ds.to_dataframe()
    assert not np.signbit(out["x"]).any() and not np.signbit(out["k"]).any()
    arrays = Dataset.from_arrays(np.array([[[-0.0], [0.0]], [[1.0], [-0.0]]]),
                                 pd.DataFrame({"k": pd.Series([-0.0, 0.5], dtype=object)}),
                                 discrete_features=[0], discrete_attributes="k")
    assert arrays.feature_outputs[0].categories == (0.0, 1.0)
    assert not np.signbit(arrays.feature_values()["feature_0"].astype(float)).any()
    assert arrays.attribute_outputs[0].categories == (0.0, 0.5)
    assert not np.signbit(arrays.attribute_outputs[0].categories[0])


# --- (g) integers that float64 cannot hold -----------------------------------------------------

def test_g_integers_beyond_2_53_warn_with_the_column_and_value():
    big = 2 ** 53 + 1
    df = long([0, 0, 1, 1], [0, 1, 0, 1], x=np.array([big, 1, 2, 3], np.int64),
              n=np.array([5, 5, -big - 2, -big - 2], np.int64))
    with pytest.warns(UserWarning, match=rf"continuous feature column 'x' holds integers beyond "
                                         rf"2\*\*53 .*1 values are rounded \(the largest, {big}, "
                                         rf"becomes {big - 1}\).*discrete"):
        Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    with pytest.warns(UserWarning, match=f"continuous attribute column 'n' .*{-big - 2}"):
        Dataset.from_dataframe(df.assign(x=[0.5, 1, 2, 3]), id_column="id", time_column="t",
                               feature_columns="x", attribute_columns="n")
    with pytest.warns(UserWarning, match="continuous feature column 'feature_0' holds integers"):
        Dataset.from_arrays(np.array([[[big], [1]], [[2], [3]]], np.int64))
    with pytest.warns(UserWarning, match="continuous attribute column 'attribute_0' holds"):
        Dataset.from_arrays(np.random.default_rng(0).random((2, 2, 1)),
                            np.array([[np.uint64(2 ** 64 - 1)], [np.uint64(0)]], np.uint64))
    wide = pd.DataFrame({"id": ["p", "q"], "d1": np.array([big, 2], np.int64), "d2": [3, 4]})
    with pytest.warns(UserWarning, match=r"continuous feature 'value' \(the time columns\)"):
        Dataset.from_wide_dataframe(wide, id_column="id")


def test_g_integers_float64_holds_exactly_do_not_warn():
    exact = long([0, 0, 1, 1], [0, 1, 0, 1], x=np.array([2 ** 53, 2 ** 60, 1, -2 ** 53],
                                                        np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # scaling may warn about float32 resolution of such a range: only ours is checked
        warnings.filterwarnings("ignore", message=".*too wide for float32")
        Dataset.from_dataframe(exact, id_column="id", time_column="t", feature_columns="x")
        Dataset.from_dataframe(exact.assign(x=[2 ** 53 + 1, 1, 2, 3]), id_column="id",
                               time_column="t", feature_columns="x", discrete_features="x")


# --- (h) a model's sample_len that does not fit ------------------------------------------------

def test_h_the_sample_len_the_dataset_was_built_for_is_named():
    df = long(np.repeat([0, 1], 20), np.tile(np.arange(20), 2), x=np.arange(40.0))
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x",
                                sample_len=12)
    assert ds.max_length == 24
    # what DoppelGANger.from_dataset(ds, DGConfig(sample_len=10)) and fit() call
    with pytest.raises(ValueError, match=r"this Dataset was built with sample_len=12 \(T=24\), "
                                         r"but sample_len=10 was asked for .*use "
                                         r"DGConfig\(sample_len=12\), or rebuild the Dataset "
                                         r"with sample_len=10.*"
                                         r"one of \[1, 2, 3, 4, 6, 8, 12, 24\]"):
        ds.validate(sample_len=10)
    ds.validate(sample_len=12)
    ds.validate(sample_len=8)  # divides T: fine, whatever it was built for
    assert "T=24 steps, a multiple of sample_len=12" in describe(ds)
    # kept through subset; data built without sample_len get the former message
    with pytest.raises(ValueError, match="built with sample_len=12"):
        ds.subset([0]).validate(sample_len=10)
    plain = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns="x")
    with pytest.raises(ValueError, match=r"^the series length T=20 is not divisible"):
        plain.validate(sample_len=3)
