"""Series that are 0 throughout, with and without the atom of transforms="auto".

    python bench/zero_atom.py [--seconds 150] [--seed 0] [--runs auto,none]

Builds a CONSTRUCTED dataset shaped like MBA's ping loss (0 in most homes): 400 series x 56
steps of ``x``, half of them 0 at every step, the other half a weekly cycle around a log-normal
level, and an attribute ``kind`` that tells them apart in part. Then, per run, the quickstart's
code on the automatic path (``transforms`` "auto", which gives ``x`` an atom at 0, or "none"),
``suggest_config(data, seconds)``, ``FidelityTracker(keep_best="auto")``, and 2,000 generated
series in the input's units.

Prints, per run: the share of zero values and of series that are 0 throughout (generated and
real), the mean and median per-series total, and the tracker's restore line. Asserts nothing;
not part of the test suite.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

SERIES, STEPS, GENERATED = 400, 56, 2000


def constructed_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idle = rng.random(SERIES) < 0.5
    t = np.arange(STEPS)
    level = rng.lognormal(-1.0, 0.5, SERIES)
    x = (level[:, None] * (1.2 + np.sin(2 * np.pi * (t / 7 + rng.random((SERIES, 1)))))
         * rng.lognormal(0.0, 0.2, (SERIES, STEPS)))
    x[idle] = 0.0
    kind = np.where(idle, rng.choice(["a", "b"], SERIES, p=[0.8, 0.2]),
                    rng.choice(["a", "b"], SERIES, p=[0.3, 0.7]))
    return pd.DataFrame({"id": np.repeat(np.arange(SERIES), STEPS), "t": np.tile(t, SERIES),
                         "x": x.ravel(), "kind": np.repeat(kind, STEPS)})


def run(frame: pd.DataFrame, transforms: str, seconds: float, seed: int) -> None:
    import tensorflow as tf
    from doppelganger_tf import Dataset, DoppelGANger, FidelityTracker, suggest_config

    data = Dataset.from_dataframe(frame, id_column="id", time_column="t", feature_columns="x",
                                  attribute_columns="kind", transforms=transforms)
    text = []
    data.describe(print_fn=text.append)
    print(f"\n== transforms={transforms!r}")
    print(next(row.strip() for row in text[0].splitlines() if "'x'" in row))
    suggestion = suggest_config(data, seconds=seconds)
    tf.keras.utils.set_random_seed(seed)
    model = DoppelGANger.from_dataset(data, suggestion.config, seed=seed)
    model.compile()
    model.fit(data, epochs=suggestion.epochs, verbose=0,
              callbacks=[FidelityTracker(keep_best="auto"), *suggestion.callbacks()])
    out = model.generate(GENERATED, seed=seed + 1).to_dataframe(seed=seed + 1)
    real = frame.groupby("id")["x"]
    generated = out.groupby("id")["x"]
    print(f"zero values: generated {np.mean(out['x'] == 0):.1%}, real "
          f"{np.mean(frame['x'] == 0):.1%}; series 0 throughout: generated "
          f"{np.mean(generated.max() == 0):.1%}, real {np.mean(real.max() == 0):.1%}")
    print(f"per-series total: mean {generated.sum().mean():.3f} (real {real.sum().mean():.3f}),"
          f" median {generated.sum().median():.3f} (real {real.sum().median():.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="auto,none", help="transforms= of each run")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from doppelganger_tf import set_cpu_threads
    set_cpu_threads()
    frame = constructed_frame(args.seed)
    for transforms in args.runs.split(","):
        run(frame, transforms, args.seconds, args.seed)


if __name__ == "__main__":
    main()
