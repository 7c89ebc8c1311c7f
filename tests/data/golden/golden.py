"""The golden run of tests/test_golden.py: a tiny model trained for 3 epochs with fixed seeds and
thread settings, and the samples it generates, compared bit for bit with a recording.

    python tests/data/golden/golden.py record   # writes <stack>.npz beside this file
    python tests/data/golden/golden.py check    # exit status 0 when the run matches it

It pins behaviour across refactorings: the same code on the same machine must reproduce the
recording exactly. On another CPU (other vector instructions round differently) or with another
LSTM implementation the check allows float noise instead (it says which it applied).
"""
import hashlib
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

# before any TensorFlow work: the thread layout fixes the order of floating-point sums
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(2)

import pandas as pd  # noqa: E402

from doppelganger_tf import DGConfig, Dataset, DoppelGANger, compat  # noqa: E402
from doppelganger_tf.fused_lstm import _cpu_identity  # noqa: E402
from doppelganger_tf.saved_weights import named_weights  # noqa: E402

CONFIG = dict(sample_len=4, batch_size=10, attribute_hidden_units=8, minmax_hidden_units=8,
              feature_lstm_units=8, critic_hidden_units=8, aux_critic_hidden_units=8)
TOLERANCE = dict(rtol=1e-4, atol=1e-5)  # another CPU or LSTM implementation: float noise only


def training_data() -> Dataset:
    rng = np.random.default_rng(0)
    length = 8
    wave = np.sin(np.arange(length)[None, :] / 2 + rng.uniform(0, 6, size=(40, 1)))
    level = rng.uniform(1, 5, size=(40, 1))
    features = np.stack([wave * level, rng.normal(size=(40, length))], axis=2)
    attributes = pd.DataFrame({"kind": rng.choice(["a", "b", "c"], 40), "size": level[:, 0]})
    return Dataset.from_arrays(features, attributes, discrete_attributes=["kind"])


def run() -> dict:
    data = training_data()
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(data, DGConfig(**CONFIG), seed=0)
    model.compile()
    model.fit(data, epochs=3, seed=0, verbose=0)
    generated = model.generate(20, seed=1)
    arrays = {f"weights/{name}": v.numpy() for name, v in named_weights(model).items()}
    arrays.update({"generated/features": generated.features,
                   "generated/attributes": generated.attributes,
                   "generated/gen_flags": generated.gen_flags})
    implementation = model.feature_generator.lstm_implementation
    machine = hashlib.sha256(_cpu_identity().encode()).hexdigest()[:16]
    return arrays, f"{implementation} {machine}"


def recording_path() -> Path:
    return HERE / f"{'current' if compat.KERAS_3 else 'reference'}.npz"


def main(action: str) -> int:
    arrays, setting = run()
    if action == "record":
        np.savez(recording_path(), setting=np.array(setting), **arrays)
        print(f"recorded {recording_path()} ({setting})")
        return 0
    with np.load(recording_path()) as recorded:  # closed below: read what the message needs
        recorded_setting = str(recorded["setting"])
        exact = recorded_setting == setting
        names = sorted(set(recorded.files) - {"setting"})
        if names != sorted(arrays):
            print(f"the arrays differ: recorded {names}, now {sorted(arrays)}")
            return 1
        for name in names:
            if exact:
                same = np.array_equal(recorded[name], arrays[name])
            else:
                same = np.allclose(recorded[name], arrays[name], **TOLERANCE)
            if not same:
                diff = np.max(np.abs(recorded[name] - arrays[name]))
                print(f"{name} differs from the recording by up to {diff:.3g} "
                      f"({'bit for bit' if exact else 'beyond float noise'})")
                return 1
    print("matches the recording " + ("bit for bit" if exact else
                                      f"within {TOLERANCE} (recorded on another setting: "
                                      f"{recorded_setting} vs {setting})"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))
