"""DataFrames in and out as users have them (issue 19): ids and times kept (long and wide
layouts), inferred column types and describe(), windows of long series, missing values.
numpy / pandas only: no TensorFlow."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.dataset import Dataset, DatasetStreamWriter


def generated_like(ds, seed=0):
    """What generation returns for a model trained on ``ds``: samples of the same specs (here
    ``ds``'s own rows, shuffled) carrying the training frame's template (no ids, no starts)."""
    order = np.random.default_rng(seed).permutation(len(ds))
    return Dataset(ds.features[order], ds.attributes[order], ds.gen_flags[order],
                   ds.feature_outputs, ds.attribute_outputs, **ds.scaling(),
                   frame=ds.frame.template())


def sorted_input(df, id_column, time_column):
    """``df`` ordered as to_dataframe orders rows: ids by first appearance, then time."""
    first = {v: i for i, v in enumerate(pd.unique(df[id_column]))}
    order = df[id_column].map(first)
    return (df.assign(_order=order).sort_values(["_order", time_column], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def long_frame(times, ids, lengths=None, seed=0):
    """One row per step: ``times[i]`` are series i's time values; int views, a float,
    a bool and a string feature, a category and an object attribute."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, (series_id, stamps) in enumerate(zip(ids, times)):
        n = len(stamps)
        parts.append(pd.DataFrame({
            "page": [series_id] * n, "day": stamps,
            "views": rng.integers(0, 1000, n), "rate": rng.uniform(-1, 1, n),
            "busy": rng.integers(0, 2, n).astype(bool),
            "state": rng.choice(["up", "down"], n),
            "domain": ["en", "fr", "de"][i % 3], "agent": ["bot", "user"][i % 2]}))
    df = pd.concat(parts, ignore_index=True)
    df["page"] = df["page"].astype(pd.Series(ids).dtype)
    df["domain"] = df["domain"].astype("category")
    return df


def build(df, **kwargs):
    return Dataset.from_dataframe(df, id_column="page", time_column="day",
                                  feature_columns=["views", "rate", "busy", "state"],
                                  attribute_columns=["domain", "agent"], **kwargs)


DAYS = pd.date_range("2015-07-01", periods=12, freq="D")
CASES = {
    # a shared calendar: every series on the same days (the WWT file)
    "datetime-shared": ([DAYS] * 4, ["en.Main_Page", "fr.Paris", "de.Berlin", "x"]),
    # per-series starts, a 15-minute step, time-zone-aware, variable lengths
    "datetime-tz-starts": ([pd.date_range(start, periods=n, freq="15min", tz="Europe/Paris")
                            for start, n in (("2021-03-27 22:00", 9), ("2021-03-28 01:00", 12),
                                             ("2021-03-27 22:00", 5), ("2021-03-28 06:15", 7))],
                           [17, 4, 99, 5]),
    # integer time (hours since an epoch) with per-series starts, nullable integer ids
    "integer-starts": ([np.arange(s, s + 6 * n, 6) for s, n in ((100, 5), (112, 8), (88, 3),
                                                                  (100, 8))],
                       pd.array([10, 20, 30, 40], dtype="Int64")),
    # string time stamps: a shared calendar kept as strings
    "string-calendar": ([[f"d{k:02d}" for k in range(n)] for n in (7, 7, 4, 7)],
                        ["a", "b", "c", "d"]),
    # float time (seconds) with per-series starts, float ids
    "float-starts": ([0.5 + 0.1 * np.arange(n) + s for s, n in ((0.0, 6), (0.3, 4), (0.0, 6),
                                                                (1.2, 5))],
                     [1.5, 2.5, 3.5, 4.5]),
    # local midnights across a daylight-saving change: 23 and 25 hour days
    "datetime-tz-daily": ([pd.date_range(start, periods=n, freq="D", tz="Europe/Paris")
                           for start, n in (("2021-03-25", 6), ("2021-03-26", 5),
                                            ("2021-10-29", 4), ("2021-03-25", 3))],
                          ["p", "q", "r", "s"]),
    # month starts: a calendar frequency, not a constant duration
    "month-starts": ([pd.date_range(start, periods=n, freq="MS")
                      for start, n in (("2020-01-01", 6), ("2020-03-01", 6), ("2020-11-01", 4),
                                       ("2020-01-01", 3))], ["m1", "m2", "m3", "m4"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_long_round_trip_keeps_ids_times_and_dtypes(case):
    times, ids = CASES[case]
    df = long_frame(times, ids)
    ds = build(df.sample(frac=1.0, random_state=1))
    out = ds.to_dataframe()
    expected = sorted_input(df.sample(frac=1.0, random_state=1), "page", "day")
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-5, atol=1e-5)
    # saved and loaded: the same frame again
    assert ds.subset([2, 0]).to_dataframe()["page"].unique().tolist() == \
        [expected["page"].unique()[2], expected["page"].unique()[0]]


@pytest.mark.parametrize("case", list(CASES))
def test_generated_data_have_the_input_columns_dtypes_and_calendar(case):
    times, ids = CASES[case]
    df = long_frame(times, ids)
    ds = build(df)
    generated = generated_like(ds)
    out = generated.to_dataframe(seed=3)
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    # new, unique ids of the input's type
    new_ids = out["page"].unique()
    assert len(new_ids) == len(ds) and not set(new_ids) & {i for i in df["page"] if
                                                           isinstance(i, str)}
    # every generated series' times are a run of the input's grid, from a training start
    starts = df.groupby("page", sort=False)["day"].first()
    for _, series in out.groupby("page", sort=False):
        assert series["day"].iloc[0] in set(starts)
        if case == "datetime-shared":
            assert series["day"].tolist() == list(DAYS[:len(series)])
        elif case == "month-starts":
            assert (series["day"].dt.day == 1).all()
            assert (series["day"].diff().dropna() >= pd.Timedelta("28D")).all()
        elif case == "string-calendar":
            assert series["day"].tolist() == times[0][:len(series)]
        elif case == "datetime-tz-daily":
            assert (series["day"].dt.hour == 0).all()
            local = series["day"].dt.tz_localize(None)  # wall-clock days, 23 or 25 hours long
            assert (local.diff().dropna() == pd.Timedelta("1D")).all()
        elif case == "float-starts":
            np.testing.assert_allclose(np.diff(series["day"]), 0.1)
        else:
            step = np.diff(np.asarray(times[0]))[0]
            assert (np.diff(series["day"].to_numpy()) == step).all()
    pd.testing.assert_frame_equal(out, generated.to_dataframe(seed=3))  # the seed draws starts
    if case in ("datetime-tz-starts", "integer-starts", "float-starts", "datetime-tz-daily"):
        drawn = [generated.to_dataframe(seed=s).groupby("page")["day"].first().tolist()
                 for s in range(4)]
        assert len({tuple(d) for d in drawn}) > 1


def test_a_shared_calendar_is_reproduced_for_every_generated_series():
    # WWT: the same 550 dates for every page
    dates = pd.date_range("2015-07-01", periods=550, freq="D")
    df = long_frame([dates] * 3, ["p1", "p2", "p3"])
    ds = build(df, sample_len=10)
    assert ds.frame.axis.mode == "regular" and len(ds.frame.axis.starts) == 1
    out = generated_like(ds).to_dataframe(seed=0)
    for _, series in out.groupby("page"):
        assert series["day"].tolist() == list(dates)


def test_integer_ids_and_describe_of_the_time_axis():
    df = long_frame([np.arange(0, 10), np.arange(3, 12), np.arange(5, 8)], [7, 3, 11])
    ds = build(df)
    out = generated_like(ds).to_dataframe()
    assert out["page"].dtype == np.int64 and sorted(out["page"].unique()) == [0, 1, 2]
    text = []
    ds.describe(print_fn=text.append)
    assert "time column 'day' (int64): regular step 1, 3 distinct starts (0 .. 5); generated " \
           "series draw theirs from them" in text[0]


def test_irregular_steps_are_numbered_and_said_so():
    df = long_frame([[0, 1, 5, 6], [2, 3, 4, 10]], ["a", "b"])
    ds = build(df)
    assert ds.frame.axis.mode == "numbered"
    pd.testing.assert_frame_equal(ds.to_dataframe().drop(columns="day"),
                                  df.drop(columns="day"), check_exact=False, rtol=1e-5)
    assert ds.to_dataframe()["day"].tolist() == [0, 1, 2, 3] * 2
    text = []
    ds.describe(print_fn=text.append)
    assert "irregular steps" in text[0] and "numbered 0..L-1" in text[0]


def test_a_calendar_shorter_than_a_generated_series_is_cut_with_a_warning():
    df = long_frame([["x", "y", "z"], ["x", "y"]], ["a", "b"])
    ds = build(df, sample_len=2)  # T = 4 > 3 calendar values
    flags = np.ones_like(ds.gen_flags)
    features = ds.features.copy()
    features[:, 2:] = features[:, :1]
    generated = Dataset(features, ds.attributes, flags, ds.feature_outputs,
                        ds.attribute_outputs, **ds.scaling(), frame=ds.frame.template())
    with pytest.warns(UserWarning, match="2 series are longer than the 3 steps of the calendar"):
        out = generated.to_dataframe()
    assert out["day"].tolist() == ["x", "y", "z"] * 2


def test_renamed_numbered_and_array_built_output():
    df = long_frame([DAYS[:3]] * 2, ["a", "b"])
    ds = build(df)
    out = ds.to_dataframe(id_column="series", time_column="date")
    assert list(out.columns[:2]) == ["series", "date"] and out["series"].iloc[0] == "a"
    assert "day" not in ds.to_dataframe(time_column=None).columns
    numbered = ds.to_dataframe(numbered=True)
    assert list(numbered.columns) == ["id", "time", "domain", "agent", "views", "rate", "busy",
                                      "state"]
    assert numbered["id"].tolist() == [0, 0, 0, 1, 1, 1]
    plain = Dataset.from_arrays([np.arange(3.0), np.arange(2.0)], feature_names=["v"])
    assert plain.frame is None
    assert plain.to_dataframe().to_dict("list") == {"id": [0, 0, 0, 1, 1], "time": [0, 1, 2, 0, 1],
                                                    "v": [0.0, 1.0, 2.0, 0.0, 1.0]}


def test_no_time_column_keeps_file_order_and_omits_time():
    df = long_frame([DAYS[:3], DAYS[:2]], ["a", "b"]).drop(columns="day")
    ds = Dataset.from_dataframe(df, id_column="page", feature_columns=["views"])
    out = ds.to_dataframe()
    assert list(out.columns) == ["page", "views"] and out["views"].tolist() == df["views"].tolist()
    assert list(ds.to_dataframe(time_column="step")["step"]) == [0, 1, 2, 0, 1]


# --- wide frames ----------------------------------------------------------------------------------

def wide_frame(labels, n=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(rng.integers(0, 500, (n, len(labels))).astype(dtype),
                          columns=pd.Index(labels))
    head = pd.DataFrame({"Page": [f"page_{i}.wikipedia.org" for i in range(n)],
                         "access": ["desktop", "mobile"] * (n // 2)})
    return pd.concat([head, values], axis=1)


@pytest.mark.parametrize("labels", [
    [f"2015-07-{d:02d}" for d in range(1, 11)],          # the Kaggle WWT file: date strings
    list(pd.date_range("2015-07-01", periods=10)),        # parsed dates
    list(range(1990, 2000)),                              # integers
], ids=["strings", "timestamps", "integers"])
def test_wide_round_trip(labels):
    df = wide_frame(labels)
    ds = Dataset.from_wide_dataframe(df, id_column="Page", attribute_columns="access",
                                     feature_name="views", time_name="date")
    assert ds.feature_names == ["views"] and ds.max_length == 10
    assert not ds.attribute_outputs[0].is_continuous
    pd.testing.assert_frame_equal(ds.to_dataframe(), df, check_exact=False, rtol=1e-5)
    out = generated_like(ds).to_dataframe(seed=0)
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.tolist() == df.dtypes.tolist()
    assert out["Page"].str.startswith("generated_").all()
    long = ds.to_dataframe(layout="long")
    assert list(long.columns) == ["Page", "access", "date", "views"]
    assert long["date"].tolist()[:10] == labels and long["date"].dtype == pd.Index(labels).dtype


def test_wide_integers_and_shorter_generated_series():
    df = wide_frame(list(range(6)), dtype=np.int64)
    ds = Dataset.from_wide_dataframe(df, id_column="Page", attribute_columns=["access"])
    pd.testing.assert_frame_equal(ds.to_dataframe(), df)
    flags = np.where(np.arange(6) < 4, 1.0, 0.0)[None].repeat(4, 0)
    shorter = Dataset(ds.features * flags[..., None], ds.attributes, flags, ds.feature_outputs,
                      ds.attribute_outputs, **ds.scaling(), frame=ds.frame.template())
    out = shorter.to_dataframe()
    assert out[4].isna().all() and out[3].notna().all()
    assert out[0].dtype == "Int64"  # an integer column with missing cells


def test_wide_from_long_and_its_errors():
    df = long_frame([DAYS[:4], DAYS[:3]], ["a", "b"])
    one = Dataset.from_dataframe(df, id_column="page", time_column="day",
                                 feature_columns="rate", attribute_columns="agent")
    wide = one.to_dataframe(layout="wide")
    assert list(wide.columns) == ["page", "agent"] + list(DAYS[:4])
    assert np.isnan(wide.iloc[1, -1]) and wide.iloc[0, 2] == pytest.approx(df["rate"].iloc[0])
    with pytest.raises(ValueError, match=r"layout='wide' takes data with one feature; this "
                                         r"data has 4 .*layout='long'"):
        build(df).to_dataframe(layout="wide")
    with pytest.raises(ValueError, match="layout='tall' is not an option"):
        one.to_dataframe(layout="tall")
    bad = wide_frame(["x", "y"])
    with pytest.raises(ValueError, match="'page_0.wikipedia.org' is on two rows"):
        Dataset.from_wide_dataframe(pd.concat([bad, bad]), id_column="Page",
                                    attribute_columns="access")
    with pytest.raises(ValueError, match=r"time_columns names column 'z', not in"):
        Dataset.from_wide_dataframe(bad, id_column="Page", time_columns=["x", "z"])


# --- inferred column types and describe() ---------------------------------------------------------

def typed_frame():
    n = 12
    return pd.DataFrame({
        "id": np.repeat(["a", "b", "c"], 4), "t": np.tile(np.arange(4), 3),
        "obj": np.array(["x", "y", "z"] * 4, dtype=object),
        "txt": pd.array(["p", "q"] * 6, dtype="string"),
        "flag": [True, False, False] * 4,
        "cat": pd.Categorical(["lo", "hi", "lo", "mid"] * 3, categories=["lo", "mid", "hi"],
                              ordered=True),
        "level": [1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4, 4],        # few integers: a hint
        "three": [0.5, 1.5, 2.5] * 4,                          # three floats: a hint
        "value": np.linspace(0.0, 1.0, n),                     # continuous, no hint
    })


def test_column_types_are_inferred_from_dtypes():
    df = typed_frame()
    features = ["obj", "txt", "flag", "cat", "level", "three", "value"]
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns=features)
    kinds = {o.name: ("continuous" if o.is_continuous else "discrete")
             for o in ds.feature_outputs}
    assert kinds == {"obj": "discrete", "txt": "discrete", "flag": "discrete",
                     "cat": "discrete", "level": "continuous", "three": "continuous",
                     "value": "continuous"}
    pd.testing.assert_frame_equal(ds.to_dataframe(), df, check_exact=False, rtol=1e-5)
    explicit = Dataset.from_dataframe(df, id_column="id", time_column="t",
                                      feature_columns=features, discrete_features="level",
                                      continuous_features=["flag"])
    assert not explicit.feature_outputs[4].is_continuous
    assert explicit.feature_outputs[2].is_continuous
    assert explicit.to_dataframe()["flag"].tolist() == df["flag"].tolist()
    with pytest.raises(ValueError, match="'level' is listed in both discrete_features and "
                                         "continuous_features"):
        Dataset.from_dataframe(df, id_column="id", feature_columns="level",
                               discrete_features="level", continuous_features="level")
    with pytest.raises(ValueError, match="continuous_features names 'nope', which is not a "
                                         "feature column"):
        Dataset.from_dataframe(df, id_column="id", feature_columns="level",
                               continuous_features="nope")
    with pytest.raises(ValueError, match="continuous feature column 'obj' holds non-numeric"):
        Dataset.from_dataframe(df, id_column="id", feature_columns="obj",
                               continuous_features="obj")
    stamped = df.assign(when=pd.Timestamp("2020-01-01") + pd.to_timedelta(df["t"], "D"))
    with pytest.raises(ValueError, match="feature column 'when' holds datetime64.*convert it"):
        Dataset.from_dataframe(stamped, id_column="id", feature_columns=["value", "when"])


def test_describe_prints_each_decision_with_ranges_categories_and_hints():
    df = typed_frame()
    df.loc[5, "value"] = np.nan
    ds = Dataset.from_dataframe(df, id_column="id", time_column="t",
                                feature_columns=["level", "three", "value", "txt"],
                                attribute_columns=[], discrete_features="txt",
                                missing="interpolate")
    lines = []
    ds.describe(print_fn=lines.append)
    text = lines[0]
    for part in [
        "3 series, T=4 steps (lengths 4..4, median 4)",
        f"id column 'id' ({df['id'].dtype}); generated ids are new",  # object, or pandas 3's str
        "time column 't' (int64): regular step 1, every series starts at 0",
        "missing values: missing='interpolate', 1 missing cells in the input; 1 feature cells "
        "interpolated (value: 1)",
        "feature   'level': continuous, range 1..4 (inferred from dtype int64); missing 0",
        "hint: only 4 distinct values (1, 2, 3, 4): if they are categories, pass "
        "discrete_features=['level']",
        "hint: only 3 distinct values (0.5, 1.5, 2.5): if they are categories, pass "
        "discrete_features=['three']",
        "feature   'value': continuous, range 0..1 (inferred from dtype float64); missing 1",
        "feature   'txt': discrete, 2 categories ['p', 'q'] (discrete_features, dtype string)",
    ]:
        assert part in text, (part, text)
    assert text.count("hint:") == 2
    plain = []
    Dataset.from_arrays([np.arange(3.0)], feature_names=["v"]).describe(print_fn=plain.append)
    assert "feature   'v': continuous, range 0..2 (given); missing 0" in plain[0]


# --- missing values -------------------------------------------------------------------------------

def gappy_frame():
    df = pd.DataFrame({"id": np.repeat(["a", "b", "c"], 5), "t": np.tile(np.arange(5), 3),
                       "x": [np.nan, 1.0, np.nan, 3.0, np.nan,
                             0.0, 1.0, 2.0, 3.0, 4.0,
                             5.0, np.nan, np.nan, 8.0, 9.0],
                       "s": ["u", None, "v", "v", None, "u", "u", "v", "v", "u",
                             "v", "v", "u", "u", "u"],
                       "isp": ["A", "A", "A", "A", "A", "B", "B", "B", "B", "B",
                               None, None, None, None, None]})
    return df


def from_gappy(df, **kwargs):
    return Dataset.from_dataframe(df, id_column="id", time_column="t", feature_columns=["x", "s"],
                                  attribute_columns="isp", **kwargs)


def test_missing_values_are_refused_by_default_naming_id_time_and_options():
    with pytest.raises(ValueError, match=r"feature column 'x' has 5 missing values \(first at id "
                                         r"'a' at t=0\); fill them, or pass missing='interpolate'"
                                         r".*missing='drop_series'"):
        from_gappy(gappy_frame())
    with pytest.raises(ValueError, match="missing='often' is not an option"):
        from_gappy(gappy_frame(), missing="often")


def test_interpolate_fills_inside_series_and_keeps_a_missing_attribute_category():
    ds = from_gappy(gappy_frame(), missing="interpolate")
    out = ds.to_dataframe()
    # linear inside a series, edge fill at its ends
    np.testing.assert_allclose(out["x"], [1, 1, 2, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
                               atol=1e-5)
    assert out["s"].tolist() == ["u", "u", "v", "v", "v", "u", "u", "v", "v", "u",
                                 "v", "v", "u", "u", "u"]  # previous value (next at the start)
    # a missing discrete attribute is a category of its own and comes back missing
    assert ds.attribute_outputs[0].categories == ("A", "B", None)
    assert out["isp"].tolist()[:10] == ["A"] * 5 + ["B"] * 5 and out["isp"][10:].isna().all()
    report = ds.frame.report["missing"]
    assert report["counts"] == {"x": 5, "s": 2, "isp": 1}  # cells; series for attributes
    assert report["filled"] == {"x": 5, "s": 2} and report["missing_category"] == {"isp": 1}
    text = []
    ds.describe(print_fn=text.append)
    assert "missing attribute values kept as a category (isp: 1)" in text[0]
    assert "attribute 'isp': discrete, 3 categories ['A', 'B', <missing>]" in text[0]


def test_interpolate_refuses_an_all_missing_series_naming_its_id():
    df = gappy_frame()
    df.loc[df["id"] == "b", "x"] = np.nan
    with pytest.raises(ValueError, match=r"id 'b' has no value at all in feature column 'x' "
                                         r"\(all 5 steps missing\).*missing='drop_series'"):
        from_gappy(df, missing="interpolate")
    with pytest.raises(ValueError, match="continuous attribute column 'size' is missing for 1 "
                                         "series \\(first: id 'c'\\)"):
        Dataset.from_dataframe(gappy_frame().assign(size=[1.0] * 10 + [np.nan] * 5),
                               id_column="id", feature_columns="x", attribute_columns="size",
                               missing="interpolate")


def test_drop_series_drops_and_reports_by_id():
    ds = from_gappy(gappy_frame(), missing="drop_series")
    assert len(ds) == 1 and ds.frame.ids == ("b",)
    assert ds.frame.report["missing"]["dropped"] == ["a", "c"]
    text = []
    ds.describe(print_fn=text.append)
    assert "2 series dropped (ids 'a', 'c')" in text[0]
    everything = gappy_frame().assign(x=np.nan)
    with pytest.raises(ValueError, match="every series has a missing value"):
        from_gappy(everything, missing="drop_series")


def test_missing_cells_of_a_wide_frame():
    df = wide_frame(["d1", "d2", "d3", "d4"])
    df.iloc[0, 2] = np.nan  # page_0 at d1: a leading gap, as pages created late in WWT
    with pytest.raises(ValueError, match="'value' has 1 missing values \\(first at id "
                                         "'page_0.wikipedia.org' at time='d1'\\)"):
        Dataset.from_wide_dataframe(df, id_column="Page", attribute_columns="access")
    filled = Dataset.from_wide_dataframe(df, id_column="Page", attribute_columns="access",
                                         missing="interpolate").to_dataframe()
    assert filled["d1"].iloc[0] == pytest.approx(df["d2"].iloc[0], rel=1e-5)
    dropped = Dataset.from_wide_dataframe(df, id_column="Page", attribute_columns="access",
                                          missing="drop_series")
    assert dropped.frame.ids == tuple(df["Page"][1:])


# --- windows of long series -----------------------------------------------------------------------

def sensor(days=3, tz=None):
    stamps = pd.date_range("2021-06-01", periods=96 * days, freq="15min", tz=tz)
    rng = np.random.default_rng(5)
    return pd.DataFrame({"at": stamps, "temp": 20 + np.sin(np.arange(len(stamps)) / 10)
                         + rng.normal(0, 0.1, len(stamps))})


def test_one_long_series_cut_into_windows_with_their_start_attribute():
    df = sensor()
    ds = Dataset.from_long_series(df.iloc[::-1], time_column="at", feature_columns="temp",
                                  window=96, stride=24, start_attribute="start")
    assert len(ds) == (288 - 96) // 24 + 1 and ds.max_length == 96
    out = ds.to_dataframe()
    assert list(out.columns) == ["window", "at", "temp", "start"]
    first = out[out["window"] == 1]
    assert first["at"].iloc[0] == df["at"].iloc[24] and (first["start"] == df["at"].iloc[24]).all()
    np.testing.assert_allclose(first["temp"], df["temp"][24:120], rtol=1e-5)
    assert out["start"].dtype == df["at"].dtype
    # generated windows start at the training start nearest to their start attribute
    generated = generated_like(ds).to_dataframe(seed=0)
    for _, window in generated.groupby("window"):
        assert window["at"].iloc[0] == window["start"].iloc[0]
        assert (window["at"].diff().dropna() == pd.Timedelta("15min")).all()
    text = []
    ds.describe(print_fn=text.append)
    assert "windows: 9 of 96 steps every 24 steps from 1 series (0 rows in no window)" in text[0]
    assert "attribute 'start' holds each series' start" in text[0]


def test_several_series_cut_into_windows():
    a, b = sensor(1), sensor(1)
    a["room"], b["room"] = "kitchen", "attic"
    df = pd.concat([a.iloc[:50], b.iloc[:30]], ignore_index=True)
    ds = Dataset.from_long_series(df, id_column="room", time_column="at",
                                  feature_columns="temp", attribute_columns="room", window=20)
    assert len(ds) == 2 + 1  # the rows after the last whole window are left out
    assert ds.attribute_values()["room"].tolist() == ["kitchen", "kitchen", "attic"]
    assert ds.frame.report["windows"]["unused_rows"] == 10 + 10
    assert len(ds.frame.axis.starts) == 2  # windows start at two times (rows 0 and 20)
    with pytest.raises(ValueError, match="no series has window=60 rows \\(the longest has 50\\)"):
        Dataset.from_long_series(df, id_column="room", time_column="at",
                                 feature_columns="temp", window=60)
    with pytest.raises(ValueError, match="window_column='temp' is already a column"):
        Dataset.from_long_series(df, time_column="at", feature_columns="temp", window=5,
                                 id_column="room", window_column="temp")


def test_windows_and_missing_values():
    df = sensor(1)
    df.loc[10, "temp"] = np.nan
    filled = Dataset.from_long_series(df, time_column="at", feature_columns="temp", window=8,
                                      missing="interpolate")
    assert len(filled) == 12 and filled.frame.report["missing"]["filled"] == {"temp": 1}
    dropped = Dataset.from_long_series(df, time_column="at", feature_columns="temp", window=8,
                                       missing="drop_series")
    assert len(dropped) == 11 and dropped.frame.report["missing"]["dropped"] == [1]


# --- storage --------------------------------------------------------------------------------------

def test_save_load_keep_the_frame_in_every_layout(tmp_path):
    df = long_frame(*CASES["datetime-tz-starts"])
    ds = build(df)
    expected = ds.to_dataframe()
    ds.save(tmp_path / "ours")
    pd.testing.assert_frame_equal(Dataset.load(tmp_path / "ours").to_dataframe(), expected)
    ds.save_original(tmp_path / "original")
    pd.testing.assert_frame_equal(Dataset.load(tmp_path / "original").to_dataframe(), expected)
    with DatasetStreamWriter(tmp_path / "streamed", len(ds)) as writer:
        writer.append(ds.subset([0, 1]))
        writer.append(ds.subset([2, 3]))
    pd.testing.assert_frame_equal(Dataset.load(tmp_path / "streamed").to_dataframe(), expected)
    generated = generated_like(ds)
    with DatasetStreamWriter(tmp_path / "generated", len(ds)) as writer:
        writer.append(generated)
    loaded = Dataset.load(tmp_path / "generated")
    assert loaded.frame == generated.frame
    pd.testing.assert_frame_equal(loaded.to_dataframe(seed=2), generated.to_dataframe(seed=2))
    # a save from before frames existed loads without one (numbered output)
    spec_file = tmp_path / "ours" / "specs.json"
    spec = json.loads(spec_file.read_text())
    del spec["frame"]
    spec_file.write_text(json.dumps(spec))
    old = Dataset.load(tmp_path / "ours")
    assert old.frame is None and old.to_dataframe()["id"].tolist()[:2] == [0, 0]


def test_frame_template_holds_no_training_ids():
    ds = build(long_frame(*CASES["datetime-shared"]))
    template = ds.frame.template()
    assert template.ids is None and template.starts is None and template.report is None
    assert "en.Main_Page" not in json.dumps(template.to_dict())
    with pytest.raises(ValueError, match="holds 4 series ids for 2 samples"):
        Dataset(ds.features[:2], ds.attributes[:2], ds.gen_flags[:2], ds.feature_outputs,
                ds.attribute_outputs, **ds.scaling(), frame=ds.frame)


def test_no_warnings_on_ordinary_frames():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for case in CASES:
            ds = build(long_frame(*CASES[case]))
            generated_like(ds).to_dataframe(seed=0)
            ds.describe(print_fn=lambda text: None)


def test_the_examples_of_docs_data_md_run(capsys):
    from pathlib import Path
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    exec(compile(code, "docs/data.md", "exec"), {"np": np, "pd": pd, "Dataset": Dataset})
    printed = capsys.readouterr().out  # the describe() example prints what the page shows
    for line in printed.strip().splitlines():  # but "str" for "object" on pandas 3
        assert line.replace("(str)", "(object)").replace("dtype str", "dtype object") in text
