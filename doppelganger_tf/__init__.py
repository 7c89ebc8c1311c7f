"""doppelganger_tf: DoppelGANger (Lin et al., IMC 2020) in TensorFlow 2 / Keras.

The main names are importable from the package; they load lazily, so the numpy-only modules
(data.outputs, data.transforms, data.dataset, training.suggestion, data.synthetic) do not import
TensorFlow, nor does importing the package.

The modules are grouped by concern (docs/design.md): ``data`` (the Dataset, its builders and
encodings), ``persistence`` (files on disk), ``gan`` (the model, its networks and generation),
``training`` (callbacks, checkpoints, the input pipeline, distribution), ``dp`` (differential
privacy), ``evaluation`` and ``baselines``. The flat module paths of 0.3.0
(``doppelganger_tf.dataset``, ...) still import, as the same module objects
(:mod:`.old_paths`).
"""
import importlib

from . import old_paths

old_paths.install()

__version__ = "0.3.0"

_EXPORTS = {
    "Output": "data.outputs", "OutputType": "data.outputs", "Normalization": "data.outputs",
    "ColumnTransform": "data.outputs",
    "load_original_specs": "data.outputs",
    "Dataset": "data.dataset",
    "DGConfig": "gan.config",
    "DoppelGANger": "gan.model",
    "TrainingCheckpoint": "training.callbacks",
    "TrainingTimeLimit": "training.callbacks",
    "FidelityTracker": "training.fidelity_callback",
    "set_cpu_threads": "training.runtime",
    "suggest_config": "training.suggestion", "Suggestion": "training.suggestion",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    if f"{__name__}.{name}" in old_paths.MOVED:  # doppelganger_tf.dataset, not imported yet
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
