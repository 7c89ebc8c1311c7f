"""A saved DoppelGANger: a directory holding ``model.json`` (config, output specs, real-unit
scaling, the privacy record) and the networks' weights (saved_weights.py), written atomically.

Format 2 (from doppelganger_tf 0.2) stores the weights in our own ``model.weights.npz``, read
alike on both supported stacks; format 1 stored Keras 2's own ``model.weights.h5``, which is
still read.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..data import encoding
from ..data.dataset import Dataset
from ..data.frames import FrameInfo
from ..data.outputs import Output
from ..dp import privacy
from ..gan.config import (RUN_SETTING_RULES, DGConfig, RetiredFieldError, RunSettingError,
                     take_run_settings)
from ..training import distribution
from . import saved_weights
from .atomic import atomic_directory, recover

MODEL_FORMAT = "doppelganger_tf-model"
CONFIG_FILE = "model.json"
FORMAT_VERSION = 2
WEIGHTS_FILE = "model.weights.npz"
KERAS2_WEIGHTS_FILE = "model.weights.h5"  # format 1


def model_config(model) -> dict:
    """What ``model.json`` keeps of a model besides its weights (``DoppelGANger.get_config``)."""
    return {"config": model.config.to_dict(),
            # how it ran, so that a loaded model runs alike unless load() is told otherwise
            "run_settings": {"lstm_implementation": model.lstm_implementation,
                             "precision": model.precision},
            "feature_outputs": [o.to_dict() for o in model.feature_outputs],
            "attribute_outputs": [o.to_dict() for o in model.attribute_outputs],
            "max_length": model.max_length,
            "scaling": {k: (None if v is None else v.tolist())
                        for k, v in model.scaling.items()},
            "frame": None if model.frame is None else model.frame.to_dict()}


def model_from_config(cls, d: dict, **kwargs):
    """A model of class ``cls`` built from :func:`model_config`'s dict, untrained; ``kwargs``
    (the constructor's) override the run settings it records."""
    # saves of doppelganger_tf 0.2 and earlier keep the run settings in their config
    config, settings = take_run_settings(d["config"])
    settings.update(d.get("run_settings") or {})
    return cls([Output.from_dict(o) for o in d["feature_outputs"]],
               [Output.from_dict(o) for o in d["attribute_outputs"]],
               int(d["max_length"]), DGConfig.from_dict(config),
               scaling=d.get("scaling"),
               frame=None if d.get("frame") is None else FrameInfo.from_dict(d["frame"]),
               **{**settings, **kwargs})


def save(model, path, overwrite: bool = True):
    """Write ``model`` to the directory ``path``; an interrupted save leaves any previous model
    there intact. In a multi-worker job every worker must call it (reading the weights of
    BatchNorm's per-replica statistics is a collective operation), and only the chief writes
    ``path``: the others write a scratch copy beside it and delete it
    (distribution.scratch_path)."""
    path = Path(path)
    target = distribution.scratch_path(path, model.distribute_strategy)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    with atomic_directory(target, replaceable={CONFIG_FILE, WEIGHTS_FILE,
                                               KERAS2_WEIGHTS_FILE}) as tmp:
        weights = saved_weights.serialized(model)
        payload = {"format": MODEL_FORMAT, "version": FORMAT_VERSION, **model.get_config(),
                   # ties the weights file to this model.json (checked at load)
                   "weights_sha256": saved_weights.digest(weights),
                   "training_steps": model.training_steps}
        record = current_privacy_record(model)
        if record is not None:  # DP parameters and epsilon spent
            payload["privacy"] = record
        (tmp / CONFIG_FILE).write_text(json.dumps(payload, indent=2))
        (tmp / WEIGHTS_FILE).write_bytes(weights)
    if target != path:
        shutil.rmtree(target, ignore_errors=True)


def current_privacy_record(model):
    """The privacy record to save: the model's own, recomputed (at its delta) where the model
    trained on after it was made (e.g. a ``fit`` without ``PrivacyBudget``), and made (at delta
    1e-5) for a DP model that trained without one, so that no saved DP model under-states what
    it spent."""
    record = model.privacy_record
    if not model.uses_dp:
        return record
    steps = privacy.steps_spent(model)
    known = model.dp_num_samples
    if record is not None and record.get("steps") == steps and \
            known in (None, record.get("num_samples")):
        return record
    if steps == 0 or (known is None and record is None):
        return record
    delta = 1e-5 if record is None else record.get("delta", 1e-5)
    kept = {} if record is None or "target_epsilon" not in record else \
        {"target_epsilon": record["target_epsilon"]}
    return privacy.model_record(model, delta, **kept)


def load(model_class, path, **run_settings):
    """The model saved in the directory ``path``, as an instance of ``model_class``, run with
    ``run_settings`` (``lstm_implementation``, ``precision``) where given, else as saved."""
    unknown = set(run_settings) - set(RUN_SETTING_RULES)
    if unknown:
        raise TypeError(f"load() takes the run settings {sorted(RUN_SETTING_RULES)}, got "
                        f"{sorted(unknown)}")
    path = Path(path)
    recover(path)  # a save killed between its renames left the previous version aside
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found: {path} is not a saved "
                                "DoppelGANger model (save one with model.save(path))")
    try:
        payload = json.loads(config_path.read_text())
    # RecursionError: nested too deeply for the parser
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{config_path} is corrupt ({type(exc).__name__}: {exc}); save the "
                         "model again") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{config_path} is not a {MODEL_FORMAT} file")
    version = payload.get("version")
    if version not in (1, FORMAT_VERSION):
        raise ValueError(f"{config_path} has format version {version!r}; this "
                         f"doppelganger_tf reads versions 1 and {FORMAT_VERSION}: upgrade "
                         "doppelganger_tf to load it")
    try:
        model = model_class.from_config(payload, **run_settings)
    except RetiredFieldError as exc:  # not damage: the message says what to do
        raise RetiredFieldError(f"{config_path}: {exc}") from None
    except RunSettingError as exc:
        if run_settings:  # the caller's
            raise
        raise ValueError(f"{config_path} is damaged: {exc}. Save the model again") from None
    except KeyError as exc:
        raise ValueError(f"{config_path} lacks the entry {exc}: it is damaged; save the "
                         "model again") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{config_path} does not describe a valid model ({exc}); save "
                         "the model again") from exc
    try:
        check_arrays(model)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"{config_path} is damaged: {exc}. Save the model again") from None
    if version == 1:
        saved_weights.load_keras2_file(model, path / KERAS2_WEIGHTS_FILE)
    else:
        saved_weights.load(model, path / WEIGHTS_FILE, payload.get("weights_sha256"))
    model.privacy_record = payload.get("privacy")
    # older saves do not say: then unknown (generate warns only when it is known to be 0)
    steps = payload.get("training_steps")
    model.loaded_training_steps = None if steps is None else int(steps)
    return model


def check_arrays(model) -> None:
    """Check model.json's arrays against its output specs: the raw-unit scaling (one finite
    value per encoded column), then decode one sample with them and the frame description, so
    a damaged file is refused here rather than inside ``generate``."""
    for what, outputs in (("feature", model.feature_outputs),
                          ("attribute", model.attribute_outputs)):
        encoding.check_scaling(model.scaling.get(f"{what}_min"),
                               model.scaling.get(f"{what}_max"), outputs, what)
    features = model.num_feature_columns_with_flags - 2
    sample = Dataset(np.zeros((1, model.max_length, features), np.float32),
                     np.zeros((1, model.num_attribute_columns), np.float32),
                     np.ones((1, model.max_length), np.float32), model.feature_outputs,
                     model.attribute_outputs, **model.scaling, validate=False,
                     frame=model.frame)
    sample.to_dataframe()
