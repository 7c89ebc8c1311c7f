"""Learning, not just running: a short seeded run must pick up how an attribute shapes a series."""
import numpy as np
import pandas as pd
import tensorflow as tf

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, Normalization
from doppelganger_tf.evaluation import jensen_shannon_divergence


def test_attribute_controls_amplitude_and_class_balance_is_learned():
    n, length = 500, 20
    rng = np.random.default_rng(0)
    label = (rng.uniform(size=n) < 0.3).astype(int)  # 30% class 1
    amplitude = np.where(label == 1, 1.0, 0.3)
    t = np.arange(length)
    series = (amplitude[:, None] * np.sin(2 * np.pi * t[None, :] / 10
                                          + rng.uniform(0, 2 * np.pi, (n, 1)))
              + 0.05 * rng.normal(size=(n, length)))
    data = Dataset.from_arrays(series[:, :, None], pd.DataFrame({"label": label}),
                               discrete_attributes=["label"],
                               normalization=Normalization.MINUSONE_ONE)
    config = DGConfig(sample_len=5, batch_size=50, attribute_hidden_units=32,
                      minmax_hidden_units=32, feature_lstm_units=32, critic_hidden_units=64,
                      aux_critic_hidden_units=64)
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, config, seed=0)
    model.compile()
    model.fit(data, epochs=100, seed=0, verbose=0)

    generated = model.generate(2000, seed=1)
    gen_label = generated.attribute_values()["label"].to_numpy().astype(int)
    real_hist = np.bincount(label, minlength=2)
    gen_hist = np.bincount(gen_label, minlength=2)
    assert jensen_shannon_divergence(real_hist, gen_hist) < 0.05
    assert gen_hist.min() > 0

    values = generated.feature_values()["feature_0"]
    half_range = (np.nanmax(values, axis=1) - np.nanmin(values, axis=1)) / 2
    amp0, amp1 = half_range[gen_label == 0].mean(), half_range[gen_label == 1].mean()
    assert amp1 > amp0 + 0.3, (amp0, amp1)  # real: 0.3 vs 1.0
