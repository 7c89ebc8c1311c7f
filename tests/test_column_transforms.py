"""Per-column transforms (issue 30, item 3): a log applied before the min/max scaling and
inverted on the way out, chosen by the readers' transforms= (default "auto"); generated data come
back in the input's units through every exit (to_dataframe, feature_values, generate_to CSV and
Parquet, saved Datasets and models)."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import ColumnTransform, DoppelGANger, Output, OutputType
from doppelganger_tf.dataset import Dataset
from doppelganger_tf.transforms import (AUTO_ATOM_GAP, AUTO_ATOM_SHARE, AUTO_TAIL_RATIO,
                                       choose_transform, snap_atoms)
from conftest import tiny_config

LENGTH = 8


def heavy_frame(n=20, seed=0):
    """n series of LENGTH steps: ``views`` (int64 counts, a few series 1000x the others),
    ``flow`` (float64 of both signs, heavy-tailed), ``load`` (uniform) and an attribute."""
    rng = np.random.default_rng(seed)
    level = np.where(np.arange(n) < 2, 5e4, 50.0)  # two series near the maximum
    views = np.round(level[:, None] * rng.lognormal(0, 0.3, (n, LENGTH))).astype(np.int64)
    flow = rng.standard_t(1.0, (n, LENGTH)) * 10.0
    flow[0, 0], flow[1, 1] = 2e4, -3e4  # far out on both sides
    return pd.DataFrame({"host": np.repeat([f"h{i}" for i in range(n)], LENGTH),
                         "hour": np.tile(np.arange(LENGTH), n),
                         "views": views.ravel(), "flow": flow.ravel(),
                         "load": rng.uniform(0, 1, n * LENGTH),
                         "kind": np.repeat(rng.choice(["a", "b"], n), LENGTH)})


def read(frame, **kwargs):
    return Dataset.from_dataframe(frame, id_column="host", time_column="hour",
                                  feature_columns=["views", "flow", "load"],
                                  attribute_columns="kind", **kwargs)


def describe(ds) -> str:
    text = []
    ds.describe(print_fn=text.append)
    return text[0]


def decoded_by_hand(ds, name):
    """A feature's values in input units, decoded here from the encoded values: unscale with
    the (transformed-unit) min/max, clip, invert the log."""
    column = [o.name for o in ds.feature_outputs].index(name)  # 1-column outputs
    out = ds.feature_outputs[column]
    lo, hi = ds.feature_min[column], ds.feature_max[column]
    y = np.clip(lo + ds.features[:, :, column].astype(np.float64) * (hi - lo), lo, hi)
    x = out.transform.scale * np.expm1(np.abs(y)) * (np.sign(y) if out.transform.signed else 1)
    return np.where(ds.gen_flags > 0.5, x, np.nan)


# --- the transform itself -------------------------------------------------------------------------

@pytest.mark.parametrize("transform, values", [
    (ColumnTransform("log1p"), [0.0, 1e-9, 3.0, 1e6, 1.7e308]),
    (ColumnTransform("log1p", 1e-3), [0.0, 2e-4, 0.5, 1e300]),
    (ColumnTransform("signed_log1p"), [-1e300, -2.5, -0.0, 0.0, 1e-12, 7.0, 1.7e308]),
    (ColumnTransform("signed_log1p", 0.01), [-40.0, -1e-3, 0.0, 3e-3, 9e5]),
])
def test_inverse_undoes_forward(transform, values):
    x = np.array(values)
    y = transform.forward(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(transform.inverse(y), x, rtol=1e-12)


def test_inverse_never_overflows():
    # beyond float64: expm1 would give inf, the inverse the largest float instead
    big = ColumnTransform("signed_log1p").inverse(np.array([-800.0, 710.0, 1e4]))
    assert np.isfinite(big).all() and big[0] < 0 < big[1]
    assert np.isfinite(ColumnTransform("log1p", 10.0).inverse(np.array([709.7]))).all()


def test_output_spec_holds_the_transform_in_json():
    out = Output(OutputType.CONTINUOUS, 1, "zero_one", name="views", transform="log1p")
    assert out.transform == ColumnTransform("log1p")
    assert out.to_dict()["transform"] == "log1p"
    scaled = Output("continuous", 1, "zero_one", name="mem",
                    transform=ColumnTransform("log1p", 1e-4))
    assert scaled.to_dict()["transform"] == {"kind": "log1p", "scale": 1e-4}
    for spec in (out, scaled):
        assert Output.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
        assert spec.with_name("other").transform == spec.transform
    plain = Output("continuous", 1, "zero_one", name="x", transform="none")
    assert plain.transform is None and "transform" not in plain.to_dict()  # specs as before


@pytest.mark.parametrize("make, message", [
    (lambda: Output("discrete", 2, name="isp", transform="log1p"),
     "discrete Output 'isp' cannot have a transform"),
    (lambda: Output("continuous", 1, "zero_one", name="x", transform="log"),
     r"unknown transform 'log' for column 'x'; use one of \['none', 'log1p'"),
    (lambda: Output("continuous", 1, "zero_one", name="x", transform="auto"),
     "transform 'auto' for column 'x' is chosen from the data"),
    (lambda: ColumnTransform("log1p", 0.0), "scale of a log1p transform must be a finite"),
    (lambda: ColumnTransform("exp"), "unknown transform kind 'exp'"),
])
def test_specs_refuse_bad_transforms(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- "auto" ---------------------------------------------------------------------------------------

def test_auto_takes_the_log_of_heavy_tails_only():
    rng = np.random.default_rng(0)
    n = 80 * 336
    # most series around 1e-3 of the column's maximum, a few near it (the case)
    level = np.where(rng.uniform(size=80) < 0.06, rng.uniform(0.5, 1.0, 80),
                     rng.lognormal(np.log(1e-3), 0.5, 80))
    memory = (level[:, None] * rng.lognormal(0, 0.2, (80, 336))).ravel()
    transform, why = choose_transform(memory)
    assert transform.kind == "log1p" and transform.scale < 1e-3  # a scale: log1p(1e-3) ~ 1e-3
    assert why.startswith("auto: the largest value is") and "x the median nonzero value" in why
    # the same in megabytes: counts-like units keep numpy's log1p
    assert choose_transform(memory * 65536)[0] == ColumnTransform("log1p")
    signed, why = choose_transform(rng.standard_t(1.0, n))
    assert signed.kind == "signed_log1p" and "|value|" in why
    for plain in (rng.uniform(0, 1, n), rng.normal(100, 10, n), rng.exponential(1, n),
                  rng.poisson(5, n), np.sin(np.arange(n) / 4.0)):
        transform, why = choose_transform(plain)
        assert transform is None and why.endswith(f"under {AUTO_TAIL_RATIO:g}x")
    assert choose_transform(np.zeros(10)) == (None, "auto: no nonzero values")


def test_the_readers_default_is_auto_and_describe_says_why():
    ds = read(heavy_frame())
    transforms = {o.name: o.transform for o in ds.feature_outputs}
    assert transforms["views"] == ColumnTransform("log1p")
    assert transforms["flow"].kind == "signed_log1p"
    assert transforms["load"] is None
    text = describe(ds)
    views = next(line for line in text.splitlines() if "'views'" in line)
    assert "transform log1p (auto: the largest value is" in views
    assert "x the median nonzero value)" in views
    frame = heavy_frame()
    assert f"range {frame['views'].min()}..{frame['views'].max()} " in views  # not the log's
    flow = next(line for line in text.splitlines() if "'flow'" in line)
    assert "transform signed_log1p" in flow and "|value|" in flow
    load = next(line for line in text.splitlines() if "'load'" in line)
    assert load.endswith("missing 0")  # no transform, nothing added
    # the min/max are in transformed units
    column = ds.feature_names.index("views")
    assert ds.feature_max[column] == pytest.approx(np.log1p(frame["views"].max()))


def test_transforms_by_name_none_and_dict():
    frame = heavy_frame()
    none = read(frame, transforms="none")
    assert all(o.transform is None for o in none.feature_outputs)
    chosen = read(frame, transforms={"load": "log1p", "views": "none"})
    transforms = {o.name: o.transform for o in chosen.feature_outputs}
    # listed columns get theirs, the others the default ("auto")
    assert transforms == {"views": None, "flow": transforms["flow"],
                          "load": ColumnTransform("log1p")}
    assert transforms["flow"].kind == "signed_log1p"
    assert "transform log1p (given in transforms)" in describe(chosen)
    scaled = read(frame, transforms={"views": ColumnTransform("log1p", 10.0)})
    assert "transform log1p(x / 10)" in describe(scaled)


def test_other_readers_take_transforms():
    frame = heavy_frame()
    wide = frame.pivot(index="host", columns="hour", values="views").reset_index()
    ds = Dataset.from_wide_dataframe(wide, id_column="host", feature_name="views")
    assert ds.feature_outputs[0].transform == ColumnTransform("log1p")
    pd.testing.assert_frame_equal(ds.to_dataframe(), wide.rename_axis(columns=None),
                                  check_dtype=True)
    off = Dataset.from_wide_dataframe(wide, id_column="host", feature_name="views",
                                      transforms={"views": "none"})
    assert off.feature_outputs[0].transform is None
    one = frame[frame["host"].isin(["h0", "h4", "h5", "h6"])]  # one series of four high
    windows = Dataset.from_long_series(one, window=4, time_column="hour", id_column="host",
                                       feature_columns=["views", "load"])
    assert windows.feature_outputs[0].transform == ColumnTransform("log1p")
    arrays = Dataset.from_arrays(np.abs(frame["flow"].to_numpy()).reshape(-1, LENGTH, 1),
                                 feature_names=["flow"])
    assert arrays.feature_outputs[0].transform is None  # arrays: none unless asked
    auto = Dataset.from_arrays(np.abs(frame["flow"].to_numpy()).reshape(-1, LENGTH, 1),
                               feature_names=["flow"], transforms="auto")
    assert auto.feature_outputs[0].transform.kind == "log1p"
    np.testing.assert_allclose(auto.feature_values()["flow"],
                               np.abs(frame["flow"].to_numpy()).reshape(-1, LENGTH), rtol=1e-5)


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("transforms, message", [
    ({"views": "log"}, r"unknown transform 'log' for column 'views'; use one of \['none', "
                       r"'log1p', 'signed_log1p', 'auto'\]"),
    ("sqrt", "unknown transform 'sqrt'"),
    ({"views": 3}, "transforms takes, per column, one of"),
    ({"kind": "log1p"}, "transforms names 'kind', which is not a feature column"),
    ({"state": "log1p"}, "feature column 'state', which is discrete .*drop it from transforms"),
    ({"flow": "log1p"}, r"feature column 'flow' has \d+ negative values \(-[\d.e+]+ first, at "
                        r"sample \d+, step \d+\), but log1p takes values >= 0: use "
                        r"transforms=\{'flow': 'signed_log1p'\}"),
])
def test_bad_transforms_are_refused_by_name(transforms, message):
    frame = heavy_frame().assign(state=lambda f: np.where(f["load"] > 0.5, "up", "down"))
    with pytest.raises(ValueError, match=message):
        Dataset.from_dataframe(frame, id_column="host", time_column="hour",
                               feature_columns=["views", "flow", "state"],
                               attribute_columns="kind", transforms=transforms)


def test_arrays_with_specs_take_their_transforms_not_another():
    ds = read(heavy_frame())
    with pytest.raises(ValueError, match="feature_outputs carry their own transforms"):
        Dataset.from_arrays(np.ones((2, LENGTH, 3)), feature_outputs=ds.feature_outputs,
                            transforms="log1p")
    # with the specs and min/max of the data, raw values encode as the data's did
    raw = np.stack([ds.feature_values()[n] for n in ds.feature_names], axis=2)
    again = Dataset.from_arrays(raw, feature_outputs=ds.feature_outputs,
                                feature_min=ds.feature_min, feature_max=ds.feature_max)
    np.testing.assert_allclose(again.features, ds.features, atol=1e-6)


def test_the_precision_warning_names_the_transforms_argument():
    values = np.r_[np.arange(100.0), 1e300].reshape(1, -1, 1)
    with pytest.warns(UserWarning, match=r"transforms=\{'views': 'log1p'\} applies the log"):
        Dataset.from_arrays(values, feature_names=["views"])
    with warnings.catch_warnings():  # the log resolves what the linear scaling could not
        warnings.simplefilter("error")
        Dataset.from_arrays(values, feature_names=["views"], transforms="log1p")


# --- round trips ----------------------------------------------------------------------------------

def test_data_read_come_back_as_the_input_through_save_and_load(tmp_path):
    frame = heavy_frame()
    ds = read(frame)
    out = ds.to_dataframe()
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    pd.testing.assert_series_equal(out["views"], frame["views"])  # integers, rounded back
    np.testing.assert_allclose(out["flow"], frame["flow"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(ds.feature_values()["views"],
                               frame["views"].to_numpy().reshape(-1, LENGTH), rtol=1e-5)
    ds.save(tmp_path / "ours")
    assert '"transform": "log1p"' in (tmp_path / "ours" / "specs.json").read_text()
    ds.save_original(tmp_path / "original")  # the pickles cannot hold it: specs.json does
    for layout in ("ours", "original"):
        loaded = Dataset.load(tmp_path / layout)
        assert loaded.feature_outputs == ds.feature_outputs
        pd.testing.assert_frame_equal(loaded.to_dataframe(), out)
        assert "transform log1p (auto: " in describe(loaded)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    frame = heavy_frame(seed=1)
    data = read(frame)
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile()
    model.fit(data, epochs=2, verbose=0)
    return frame, data, model


def check_input_units(out, frame, generated):
    """Generated rows in the input's columns, dtypes and units."""
    assert list(out.columns) == list(frame.columns)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    for name in ("views", "flow"):
        by_hand = decoded_by_hand(generated, name)
        expected = by_hand[generated.gen_flags > 0.5]
        if name == "views":
            expected = np.round(expected)
        np.testing.assert_allclose(out[name].to_numpy(np.float64), expected, rtol=1e-9)
        # within the input's range (views: 24..73,938, where log units would be 3.2..11.2)
        assert frame[name].min() - 1e-6 <= out[name].min()
        assert out[name].max() <= frame[name].max() * (1 + 1e-6) + 1e-6


def test_generated_data_come_back_in_the_input_units_everywhere(trained, tmp_path):
    frame, data, model = trained
    generated = model.generate(12, seed=1)
    assert generated.feature_outputs == data.feature_outputs
    out = generated.to_dataframe(seed=0)
    check_input_units(out, frame, generated)
    values = generated.feature_values()
    np.testing.assert_allclose(values["views"], decoded_by_hand(generated, "views"), rtol=1e-9)
    np.testing.assert_allclose(values["flow"], decoded_by_hand(generated, "flow"), rtol=1e-9)

    generated.save(tmp_path / "generated")  # a generated Dataset saved and loaded
    pd.testing.assert_frame_equal(Dataset.load(tmp_path / "generated").to_dataframe(seed=0),
                                  out)
    model.save(tmp_path / "model")
    saved = json.loads((tmp_path / "model" / "model.json").read_text())
    assert [o.get("transform") for o in saved["feature_outputs"]][:2] == [
        "log1p", data.feature_outputs[1].transform.to_json()]
    loaded = DoppelGANger.load(tmp_path / "model")
    assert loaded.feature_outputs == model.feature_outputs
    pd.testing.assert_frame_equal(loaded.generate(12, seed=1).to_dataframe(seed=0), out)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ""])
def test_generate_to_writes_input_units(trained, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow")
    frame, _, model = trained
    path = model.generate_to(tmp_path / f"generated{suffix}", 7, seed=2, batch_size=3)
    expected = model.generate(7, seed=2, batch_size=3)
    if suffix == "":  # a streamed Dataset directory
        out = Dataset.load(path).to_dataframe(seed=0)
    elif suffix == ".csv":
        out = pd.read_csv(path)
    else:
        out = pd.read_parquet(path)
    check_input_units(out, frame, expected)
    np.testing.assert_allclose(out["flow"], expected.to_dataframe(seed=0)["flow"], rtol=1e-9)


# --- atoms: a value many records hold exactly (a usage's zeros) -----------------------------------

def test_an_atom_is_encoded_apart_and_comes_back_exactly():
    linear = ColumnTransform("linear", atom=0.0, gap=0.5)
    np.testing.assert_array_equal(linear.forward([0.0, 0.0, 1e-3, 2.0]), [-0.5, -0.5, 1e-3, 2.0])
    # every value at or below the atom's image is the atom, exactly; above it, the map's inverse
    np.testing.assert_array_equal(linear.inverse([-0.5, -0.2, 0.0, 1e-9, 2.0]),
                                  [0.0, 0.0, 0.0, 1e-9, 2.0])
    log = ColumnTransform("log1p", 0.01, atom=0.0, gap=1.0)
    x = np.array([0.0, 0.003, 0.5, 7.0])
    y = log.forward(x)
    assert y[0] == -1.0 and y[1] > 0
    np.testing.assert_allclose(log.inverse(y), x, rtol=1e-12)
    assert log.inverse(np.array([-0.4]))[0] == 0.0
    assert log.text() == "log1p(x / 0.01), atom 0"
    assert ColumnTransform.parse(json.loads(json.dumps(log.to_json()))) == log


@pytest.mark.parametrize("make, message", [
    (lambda: ColumnTransform("linear", 2.0), "a linear transform has no scale"),
    (lambda: ColumnTransform("linear", atom=0.0), "the gap below a transform's atom must be"),
    (lambda: ColumnTransform("log1p", gap=0.1), r"a transform's gap \(0.1\) needs an atom"),
    (lambda: ColumnTransform("log1p", atom=-1.0, gap=0.1), "atom must be >= 0"),
    (lambda: ColumnTransform("linear", atom=float("nan"), gap=0.1), "atom must be a finite"),
])
def test_bad_atoms_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_auto_gives_an_atom_to_a_column_often_at_its_minimum():
    rng = np.random.default_rng(0)
    usage = rng.lognormal(0.0, 0.5, 10_000)
    usage[:1_700] = 0.0
    transform, why = choose_transform(usage)
    assert transform.kind == "linear" and transform.atom == 0.0
    assert transform.gap == pytest.approx(AUTO_ATOM_GAP * usage.max())  # a tenth of the span
    assert "under 100x; 17% of the values are 0, the minimum (at least 10%)" in why
    heavy = rng.lognormal(0.0, 3.0, 10_000)
    heavy[:3_000] = 0.0
    transform, _ = choose_transform(heavy)
    assert transform.kind == "log1p" and transform.atom == 0.0  # the log and the atom
    # under the share, the minimum is only the lowest value; a constant column has no atom
    assert choose_transform(rng.poisson(5, 10_000))[0] is None
    few = rng.lognormal(0.0, 0.5, 10_000)
    few[: int(10_000 * AUTO_ATOM_SHARE) - 1] = 0.0
    assert choose_transform(few)[0] is None
    assert choose_transform(np.full(50, 3.0))[0] is None
    assert choose_transform(np.linspace(0.0, 1.0, 8))[0] is None  # one value in 8 is no mass
    # whole numbers (counts) come back rounded in an integer column, which gives the minimum
    assert choose_transform(np.round(usage * 3))[0] is None


def zero_frame(n=20, seed=0):
    """n series of LENGTH steps of ``busy`` (float64 usage, about 30% zeros) and ``jobs``
    (int64, about 40% zeros), and an attribute."""
    rng = np.random.default_rng(seed)
    busy = rng.lognormal(0.0, 0.5, (n, LENGTH)) * (rng.random((n, LENGTH)) > 0.3)
    jobs = rng.poisson(1.0, (n, LENGTH)).astype(np.int64)
    return pd.DataFrame({"host": np.repeat([f"h{i}" for i in range(n)], LENGTH),
                         "hour": np.tile(np.arange(LENGTH), n),
                         "busy": busy.ravel(), "jobs": jobs.ravel(),
                         "kind": np.repeat(rng.choice(["a", "b"], n), LENGTH)})


def read_zeros(frame):
    return Dataset.from_dataframe(frame, id_column="host", time_column="hour",
                                  feature_columns=["busy", "jobs"], attribute_columns="kind")


def test_atoms_are_read_decoded_saved_and_generated_exactly(tmp_path):
    frame = zero_frame()
    ds = read_zeros(frame)
    busy = ds.feature_outputs[0].transform
    assert busy.kind == "linear" and busy.atom == 0.0
    assert "atom 0 (auto: " in describe(ds)
    # the zeros sit at the bottom of the scaled range, the other values a gap above them
    scaled = ds.features[:, :, 0][frame["busy"].to_numpy().reshape(-1, LENGTH) == 0]
    assert np.all(scaled == 0.0)
    assert ds.features[:, :, 0][ds.features[:, :, 0] > 0].min() > 0.05
    out = ds.to_dataframe()
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert (out["busy"] == 0.0).sum() == (frame["busy"] == 0.0).sum()
    np.testing.assert_allclose(out["busy"], frame["busy"], rtol=1e-5, atol=1e-6)
    pd.testing.assert_series_equal(out["jobs"], frame["jobs"])
    assert ds.feature_outputs[1].transform is None  # integers: rounding gives their zeros
    ds.save(tmp_path / "ours")
    loaded = Dataset.load(tmp_path / "ours")
    assert loaded.feature_outputs == ds.feature_outputs
    pd.testing.assert_frame_equal(loaded.to_dataframe(), out)

    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(ds, tiny_config(), seed=0)
    model.compile()
    model.fit(ds, epochs=1, verbose=0)
    generated = model.generate(10, seed=1)
    # generated encoded values that decode to the atom are at its code: the figures, which
    # read the encoded values, see what decoding gives
    encoded = generated.features[:, :, 0][generated.gen_flags > 0.5]
    is_atom = generated.feature_values()["busy"][generated.gen_flags > 0.5] == 0.0
    assert np.all(encoded[is_atom] == 0.0) and np.all(encoded[~is_atom] > 0.0)
    threshold, code = busy.atom_codes()
    assert (threshold, code) == (0.0, -busy.gap)
    # outputs at or below the atom's image come back as the atom exactly, the rest above it
    generated.features[:3, :, 0] = [[0.0], [0.04], [0.5]]
    values = generated.feature_values()["busy"]
    assert np.all(values[:2][generated.gen_flags[:2] > 0.5] == 0.0)
    assert np.all(values[2][generated.gen_flags[2] > 0.5] > 0.0)
    assert np.nanmin(values) >= 0.0
    written = pd.read_csv(model.generate_to(tmp_path / "generated.csv", 10, seed=1))
    assert written["busy"].min() >= 0.0 and written["jobs"].min() >= 0


def test_values_below_an_atom_are_refused():
    frame = zero_frame()
    frame.loc[3, "busy"] = -0.5
    with pytest.raises(ValueError, match=r"feature column 'busy' has 1 values below its "
                                         r"transform's atom 0 \(-0.5 first"):
        Dataset.from_dataframe(frame, id_column="host", time_column="hour",
                               feature_columns=["busy", "jobs"], attribute_columns="kind",
                               transforms={"busy": ColumnTransform("linear", atom=0.0, gap=0.5)})


def test_generated_values_that_decode_to_the_atom_are_set_to_its_code():
    atom = Output("continuous", 1, "zero_one", name="busy",
                  transform=ColumnTransform("linear", atom=0.0, gap=1.0))
    plain = Output("continuous", 1, "zero_one", name="load")
    # busy's transformed range is -1 (the atom's code) .. 9: its threshold, 0, scales to 0.1
    values = np.array([[0.0, 0.05], [0.05, 0.05], [0.1, 0.5], [0.11, 0.0]], np.float32)
    snap_atoms(values, [atom, plain], np.array([-1.0, 0.0]), np.array([9.0, 1.0]))
    np.testing.assert_array_equal(values, np.array([[0.0, 0.05], [0.0, 0.05], [0.0, 0.5],
                                                    [0.11, 0.0]], np.float32))
