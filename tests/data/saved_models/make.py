"""Write the saved model of this stack that tests/test_saved_models.py loads on every stack.

Run once per stack from the repository root (the reference stack's Python 3.11 and the current
stack's Python 3.12+); it writes tests/data/saved_models/<stack>/:
    python tests/data/saved_models/make.py
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, compat  # noqa: E402

# what the test regenerates from each saved model
SEED, COUNT = 3, 25


def training_data() -> Dataset:
    rng = np.random.default_rng(0)
    length = 8
    wave = np.sin(np.arange(length)[None, :] / 2 + rng.uniform(0, 6, size=(40, 1)))
    level = rng.uniform(1, 5, size=(40, 1))
    features = np.stack([wave * level, rng.normal(size=(40, length))], axis=2)
    attributes = pd.DataFrame({"kind": rng.choice(["a", "b", "c"], 40), "size": level[:, 0]})
    return Dataset.from_arrays(features, attributes, discrete_attributes=["kind"])


def main():
    stack = "current" if compat.KERAS_3 else "reference"
    tf.keras.utils.set_random_seed(0)
    data = training_data()
    model = DoppelGANger.from_dataset(data, DGConfig(
        sample_len=4, batch_size=10, attribute_hidden_units=8, minmax_hidden_units=8,
        feature_lstm_units=8, critic_hidden_units=8, aux_critic_hidden_units=8), seed=0)
    model.compile()
    model.fit(data, epochs=3, verbose=0)
    out = HERE / stack
    model.save(out / "model")
    generated = model.generate(COUNT, seed=SEED)
    np.savez(out / "generated.npz", features=generated.features,
             attributes=generated.attributes, gen_flags=generated.gen_flags)
    (out / "STACK").write_text(f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, "
                               f"Keras {compat.KERAS_VERSION}\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
