"""The networks' weights on disk in a format of our own, which Keras 2 and Keras 3 read alike.

Keras' own weight files name each weight by where its saver found it while walking the
model's attributes, and the two Keras versions walk differently (Keras 2.15 files are not
readable by Keras 3), so a saved model would be tied to the stack that wrote it. Here each
weight is one array in an ``.npz`` file, named ``network/layer/weight`` from names this package
sets itself (``attribute_generator/dense_0/kernel``, ``feature_generator/lstm_0/kernel``).
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Dict

import numpy as np

from .storage import UnreadableArrays, npz_arrays

# the model attributes that hold networks (None where a model has no such network)
NETWORKS = ("attribute_generator", "minmax_generator", "feature_generator", "critic",
            "aux_critic", "averaged_attribute_generator", "averaged_minmax_generator",
            "averaged_feature_generator")


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


def serialized(model) -> bytes:
    """Every network weight of ``model`` as the bytes of an ``.npz`` file (built in memory: a
    write that fails, e.g. on a full disk, then fails in one plain ``write``, not inside
    zipfile, whose clean-up would mask the error)."""
    buffer = io.BytesIO()
    np.savez(buffer, **{key: np.asarray(v.numpy()) for key, v in named_weights(model).items()})
    return buffer.getvalue()


def digest(data: bytes) -> str:
    """The SHA-256 of a weights file's bytes, which model.json records to tie the two."""
    return hashlib.sha256(data).hexdigest()


def save(model, path) -> str:
    """Write every network weight of ``model`` to the ``.npz`` file ``path``; returns the
    file's digest."""
    data = serialized(model)
    with open(path, "wb") as f:
        f.write(data)
    return digest(data)


def load(model, path, expected_digest=None):
    """Assign the weights in ``path`` (written by :func:`save`) to ``model``'s networks; the
    names and shapes must match exactly, and the file's digest ``expected_digest`` (what
    model.json recorded at save) where given."""
    path = Path(path)
    expected = named_weights(model)
    _check_present(path)
    data = path.read_bytes()
    if expected_digest is not None and digest(data) != expected_digest:
        raise ValueError(f"{path} is not the weights file saved with {path.parent / 'model.json'}"
                         " (its SHA-256 differs from the one recorded there): it was replaced "
                         "or damaged. Put back the file saved with this model.json, or save "
                         "the model again")
    try:
        arrays = npz_arrays(io.BytesIO(data))
    except UnreadableArrays as error:
        why = f" ({error.detail})" if error.kind else f": {error.reason}"
        raise ValueError(f"{path} is damaged{why}; save the model again (or restore it from a "
                         "TrainingCheckpoint)") from None
    if arrays is None:
        raise ValueError(f"{path} is damaged (a single array, not an .npz archive); save the "
                         "model again (or restore it from a TrainingCheckpoint)")
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


# --- format 1: Keras 2's own weights file (doppelganger_tf 0.1) ----------------------------------

# how Keras 2.15's weights file names a layer held in a list, after its class (a counter is
# appended from the second of a class on: dense, dense_1, ...)
_KERAS2_NAMES = {"Dense": "dense", "BatchNormalization": "batch_normalization", "LSTM": "lstm"}


def _keras2_paths(network) -> Dict[str, object]:
    """{path inside the network's group of a Keras 2 weights file: variable}."""
    paths = {}
    for list_name in ("hidden", "lstms"):
        counts: Dict[str, int] = {}
        for layer in getattr(network, list_name, ()):
            base = _KERAS2_NAMES[type(layer).__name__]
            index = counts[base] = counts.get(base, -1) + 1
            group = f"{list_name}/{base}" + (f"_{index}" if index else "")
            if base == "lstm":
                group += "/cell"
            paths.update({f"{group}/vars/{i}": v for i, v in enumerate(layer.weights)})
    for name in ("head", "score"):  # the output layer, held as an attribute
        layer = getattr(network, name, None)
        if layer is not None and hasattr(layer, "weights"):
            paths.update({f"{name}/vars/{i}": v for i, v in enumerate(layer.weights)})
    return paths


def load_keras2_file(model, path):
    """Assign the weights of a Keras 2 weights file (format 1) to ``model``'s networks.

    That file names each network after where Keras 2's saver met it while walking the model
    ("layers/mlp_generator", "minmax_generator", "layers/critic_1", ...), which no later model
    structure reproduces; each network is found instead as the one group whose weights have
    exactly its paths and shapes."""
    import h5py

    path = Path(path)
    _check_present(path)
    try:
        with h5py.File(path, "r") as stored:
            groups = {}  # group name -> {path inside it: array}

            def collect(name, item):
                if isinstance(item, h5py.Dataset):
                    head, _, rest = name.partition("/")
                    if head == "layers":  # layers/<name>/...
                        second, _, rest = rest.partition("/")
                        head = f"layers/{second}"
                    groups.setdefault(head, {})[rest] = item[()]
            stored.visititems(collect)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {error}); save the "
                         "model again") from None
    used = set()
    for network_name in NETWORKS:
        network = getattr(model, network_name, None)
        if network is None:
            continue
        expected = _keras2_paths(network)
        matches = [group for group, arrays in groups.items() if group not in used
                   and set(arrays) == set(expected)
                   and all(arrays[k].shape == tuple(v.shape) for k, v in expected.items())]
        if len(matches) != 1:
            raise ValueError(f"{path}: {'no' if not matches else 'more than one'} group of "
                             f"weights fits the model's {network_name}: the file and its "
                             "model.json do not belong together; save the model again")
        used.add(matches[0])
        for key, variable in expected.items():
            variable.assign(groups[matches[0]][key])


def _check_present(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the saved model in {path.parent} is "
                                "incomplete; save the model again")
