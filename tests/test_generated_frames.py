"""A model trained on a DataFrame generates data in that frame's columns, dtypes and calendar,
also after save/load and through generate_to (issue 19, the model side)."""
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from doppelganger_tf import DGConfig, DoppelGANger
from doppelganger_tf.dataset import Dataset

TINY = dict(sample_len=4, batch_size=10, attribute_hidden_units=8, minmax_hidden_units=8,
            feature_lstm_units=8, critic_hidden_units=8, aux_critic_hidden_units=8)
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
    model = DoppelGANger.from_dataset(data, DGConfig(**TINY), seed=0)
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
