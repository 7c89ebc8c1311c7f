"""A model trained on a DataFrame generates data in that frame's columns, dtypes and calendar,
also after save/load and through generate_to (issue 19, the model side)."""
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DoppelGANger
from doppelganger_tf.dataset import Dataset
from conftest import tiny_config

DAYS = pd.date_range("2016-01-04", periods=8, freq="D")


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    pages = [f"page_{i}" for i in range(20)]
    return pd.DataFrame({"page": np.repeat(pages, len(DAYS)),
                         "day": np.tile(DAYS, len(pages)),
                         "views": rng.integers(0, 500, 20 * len(DAYS)),
                         "access": np.repeat(rng.choice(["desktop", "mobile"], 20), len(DAYS))})


@pytest.fixture(scope="module")
def model(frame):
    data = Dataset.from_dataframe(frame, id_column="page", time_column="day",
                                  feature_columns="views", attribute_columns="access")
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, tiny_config(), seed=0)
    model.compile()
    model.fit(data, epochs=1, verbose=0)
    return model


def check_like_input(out, frame):
    assert list(out.columns) == list(frame.columns)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert not set(out["page"]) & set(frame["page"])  # new ids
    for _, series in out.groupby("page"):
        assert series["day"].tolist() == list(DAYS[:len(series)])  # the shared calendar


def test_generated_data_come_back_in_the_training_frame(model, frame, tmp_path):
    generated = model.generate(6, seed=1)
    assert generated.frame.ids is None  # the model keeps no training id
    out = generated.to_dataframe(seed=0)
    check_like_input(out, frame)

    model.save(tmp_path / "model")
    again = DoppelGANger.load(tmp_path / "model").generate(6, seed=1).to_dataframe(seed=0)
    pd.testing.assert_frame_equal(again, out)

    model.generate_to(tmp_path / "streamed", 6, seed=1)
    streamed = Dataset.load(tmp_path / "streamed").to_dataframe(seed=0)
    pd.testing.assert_frame_equal(streamed, out)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generate_to_a_csv_or_parquet_file_streams_the_training_frame(model, frame, tmp_path,
                                                                       suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet output needs pyarrow")
    path = model.generate_to(tmp_path / f"generated{suffix}", 7, seed=2, batch_size=3)
    out = (pd.read_csv(path, parse_dates=["day"]) if suffix == ".csv"
           else pd.read_parquet(path))
    if suffix == ".csv":
        out["page"] = out["page"].astype(frame["page"].dtype)
    check_like_input(out, frame)
    assert out["page"].nunique() == 7  # unique over the batches
    # the same samples as generate: the values, series by series
    expected = model.generate(7, seed=2, batch_size=3).to_dataframe(seed=0)
    np.testing.assert_array_equal(out["views"].to_numpy(), expected["views"].to_numpy())
    assert list(out.groupby("page", sort=False)["access"].first()) == list(
        expected.groupby("page", sort=False)["access"].first())
    assert not list(tmp_path.glob(".generated*"))  # no temporary file left


def test_parquet_without_pyarrow_names_the_install(model, tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ImportError, match="pip install pyarrow"):
        model.generate_to(tmp_path / "g.parquet", 3, seed=0)
    assert not (tmp_path / "g.parquet").exists()
