"""The networks' weights on disk in a format of our own, which Keras 2 and Keras 3 read alike.

Keras' own weight files name each weight by where its saver found it while walking the
model's attributes, and the two Keras versions walk differently (Keras 2.15 files are not
readable by Keras 3), so a saved model would be tied to the stack that wrote it. Here each
weight is one array in an ``.npz`` file, named ``network/layer/weight`` from names this package
sets itself (``attribute_generator/dense_0/kernel``, ``feature_generator/lstm_0/kernel``).
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Dict

import numpy as np

# the model attributes that hold networks (None where a model has no such network)
NETWORKS = ("attribute_generator", "minmax_generator", "feature_generator", "critic",
            "aux_critic")


def _weight_name(variable) -> str:
    """A variable's own name without scopes or the ':0' suffix (Keras 2 adds both)."""
    return variable.name.split("/")[-1].split(":")[0]


def named_weights(model) -> Dict[str, object]:
    """{"network/layer/weight": variable} of every network of ``model``."""
    named = {}
    for network_name in NETWORKS:
        network = getattr(model, network_name, None)
        if network is None:
            continue
        for layer in network.weight_layers():
            for variable in layer.weights:
                key = f"{network_name}/{layer.name}/{_weight_name(variable)}"
                if key in named:
                    raise RuntimeError(f"two weights are both named {key}")
                named[key] = variable
    return named


def save(model, path):
    """Write every network weight of ``model`` to the ``.npz`` file ``path``."""
    with open(path, "wb") as f:  # a file object: numpy would add ".npz" to a name without it
        np.savez(f, **{key: np.asarray(v.numpy()) for key, v in named_weights(model).items()})


def load(model, path):
    """Assign the weights in ``path`` (written by :func:`save`) to ``model``'s networks; the
    names and shapes must match exactly."""
    path = Path(path)
    expected = named_weights(model)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the saved model in {path.parent} is "
                                "incomplete; save the model again")
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    # what numpy and zipfile raise for an empty, truncated or garbled file
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {error}); save the "
                         "model again (or restore it from a TrainingCheckpoint)") from None
    missing, unknown = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or unknown:
        raise ValueError(f"{path} does not hold this model's weights (missing {missing[:3]}, "
                         f"unknown {unknown[:3]}): its model.json and weights do not belong "
                         "together; save the model again")
    for key, variable in expected.items():
        if tuple(arrays[key].shape) != tuple(variable.shape):
            raise ValueError(f"{path}: {key} has shape {arrays[key].shape}, the model "
                             f"expects {tuple(variable.shape)}; save the model again")
        variable.assign(arrays[key])
