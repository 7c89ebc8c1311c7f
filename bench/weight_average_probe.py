"""Would a moving average of the generator's weights fix the per-sample levels? One training of
the README's main job (embedded synthetic WWT data, 500 training pages, 400 epochs, auxiliary
critic, auto-normalisation), scored with the live weights and with averages of several decays.

    python bench/weight_average_probe.py SEED [EPOCHS [SAMPLE_LEN [DAYS]]]

The averages are kept by a callback after every call of the train function (one epoch of 5
steps here), with the decays DECAYS per call; the package's option
(``DGConfig.generator_average_decay``) averages per generator step instead. Each set of weights
generates 500 samples (seed + 1000), scored against the training pages with
``fidelity_metrics``; "floor" scores the held-out half against them. Single-threaded: it was
run beside other work. Prints one line per set of weights and writes
``weight_average_s<SEED>.json`` in the current directory. Asserts nothing (docs/performance.md,
"Options measured and not kept").
"""
import json
import sys
from pathlib import Path

import tensorflow as tf

from doppelganger_tf import DGConfig, DoppelGANger
from doppelganger_tf.evaluation.fidelity import fidelity_metrics
from doppelganger_tf.synthetic import wwt_like_dataset
from real_halves import split_real_halves  # bench/real_halves.py: the same halves as wwt.py


DECAYS = (0.9, 0.98, 0.995)  # per call of the train function
KEYS = ("acf_mse/views", "w1_midrange/views", "w1_mean/views", "jsd/domain")
FAMILIES = ("acf", "mean", "midrange", "attribute")


class WeightAverages(tf.keras.callbacks.Callback):
    """Moving averages of the generator's trainable weights, one per decay."""

    def on_train_begin(self, logs=None):
        self.weights = self.model.generator.trainable_weights
        self.averages = {d: [tf.Variable(w) for w in self.weights] for d in DECAYS}

    def on_train_batch_end(self, batch, logs=None):
        for decay, averages in self.averages.items():
            for average, weight in zip(averages, self.weights):
                average.assign(decay * average + (1 - decay) * weight)


def main():
    given = [int(v) for v in sys.argv[1:5]]
    seed, epochs, sample_len, days = given + [400, 10, 550][len(given) - 1:]
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    train, test = split_real_halves(wwt_like_dataset(1000, days, seed), seed)
    tf.keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(train, DGConfig(sample_len=sample_len, batch_size=100),
                                      seed=seed)
    model.compile()
    averages = WeightAverages()
    model.fit(train, epochs=epochs, seed=seed, verbose=0, callbacks=[averages])

    def score(label):
        figures = fidelity_metrics(train, model.generate(len(train), seed=seed + 1000),
                                   metrics=FAMILIES)
        print(label, " ".join(f"{k}={figures[k]:.4f}" for k in KEYS), flush=True)
        return figures

    results = {"live": score("live")}
    live = [w.numpy() for w in averages.weights]
    for decay, values in averages.averages.items():
        for weight, average in zip(averages.weights, values):
            weight.assign(average)
        results[f"average {decay}"] = score(f"average {decay}")
    for weight, value in zip(averages.weights, live):
        weight.assign(value)
    results["floor"] = fidelity_metrics(train, test, metrics=FAMILIES)
    print("floor", " ".join(f"{k}={results['floor'][k]:.4f}" for k in KEYS))
    Path(f"weight_average_s{seed}.json").write_text(json.dumps(results, default=float))


if __name__ == "__main__":
    main()
