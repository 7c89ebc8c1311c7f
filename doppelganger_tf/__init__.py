"""doppelganger_tf: DoppelGANger (Lin et al., IMC 2020) in TensorFlow 2 / Keras.

The main names are importable from the package; they load lazily, so the numpy-only modules
(outputs, transforms, dataset, suggestion, synthetic) do not import TensorFlow.
"""
import importlib

__version__ = "0.3.0"

_EXPORTS = {
    "Output": "outputs", "OutputType": "outputs", "Normalization": "outputs",
    "ColumnTransform": "outputs",
    "load_original_specs": "outputs",
    "Dataset": "dataset",
    "DGConfig": "config",
    "DoppelGANger": "model",
    "TrainingCheckpoint": "callbacks",
    "TrainingTimeLimit": "callbacks",
    "FidelityTracker": "fidelity_callback",
    "set_cpu_threads": "runtime",
    "suggest_config": "suggestion", "Suggestion": "suggestion",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
