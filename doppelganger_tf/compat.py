"""What differs between the two supported stacks, in one place.

Reference stack: Python 3.9-3.11, TensorFlow 2.15, its Keras 2 (``tf.keras``), numpy 1 and
tensorflow-privacy 0.9.0. Current stack: Python 3.12+, TensorFlow 2.21, Keras 3, numpy 2, no
tensorflow-privacy (it requires TensorFlow <= 2.15). The rest of the package imports ``keras``
from here and asks this module where the two differ; every use of a Keras private name is below,
and ``tests/test_compat.py`` checks each one on the installed Keras, naming its version.
"""
from __future__ import annotations

import importlib
import importlib.util

import tensorflow as tf

# the Keras that TensorFlow uses (tf.keras): Keras 2 with TensorFlow 2.15, Keras 3 from 2.16 on
keras = tf.keras
KERAS_VERSION: str = importlib.import_module(keras.__name__.split(".")[0]).__version__
KERAS_3: bool = int(KERAS_VERSION.split(".")[0]) >= 3

REFERENCE_STACK = ("the reference stack (Python 3.9-3.11, which `pip install -e .` gives "
                   "TensorFlow 2.15 and tensorflow-privacy 0.9.0)")


def has_tensorflow_privacy() -> bool:
    """Whether tensorflow-privacy is installed (it is on the reference stack only)."""
    return importlib.util.find_spec("tensorflow_privacy") is not None


def require_tensorflow_privacy(feature: str):
    """Import and return tensorflow_privacy, or raise naming ``feature`` and the stack that
    has it."""
    if not has_tensorflow_privacy():
        raise RuntimeError(
            f"{feature} needs tensorflow-privacy, which installs only with TensorFlow <= 2.15 "
            f"(this is TensorFlow {tf.__version__}): use {REFERENCE_STACK}")
    return importlib.import_module("tensorflow_privacy")


def check_callbacks(callbacks):
    """Raise naming the import to use when a callback belongs to another Keras than the one
    TensorFlow runs (a tf_keras callback on Keras 3, or the other way round): Keras would
    fail later with an unrelated error."""
    for callback in callbacks or ():
        if not isinstance(callback, keras.callbacks.Callback):
            kind = type(callback)
            raise TypeError(
                f"callback {kind.__module__}.{kind.__name__} is not a keras.callbacks.Callback "
                f"of the Keras this model runs on (Keras {KERAS_VERSION}, TensorFlow's "
                f"tf.keras): create it from tf.keras.callbacks (e.g. "
                f"tf.keras.callbacks.{kind.__name__}), or subclass tf.keras.callbacks.Callback")


def keras_internals_error(what: str) -> RuntimeError:
    return RuntimeError(f"{what} is not in Keras {KERAS_VERSION} (TensorFlow {tf.__version__}); "
                        "doppelganger_tf's compat.py must be updated for this Keras version")


# --- attributes Keras must not track ---------------------------------------------------------------

def tf_variable(variable):
    """The tf.Variable behind a Keras weight: Keras 2's weights are tf.Variables; Keras 3's
    wrap one (``.value``), which tf.distribute's per-device updates need."""
    return variable if isinstance(variable, tf.Variable) else variable.value


def set_untracked(layer, name: str, value):
    """Set ``layer.name = value`` past Keras' and TensorFlow's attribute tracking: the value is
    not saved with the weights or checkpoints, and containers are not wrapped (a tracked dict of
    tf.functions cannot be checkpointed)."""
    object.__setattr__(layer, name, value)


def get_untracked(layer, name: str, default=None):
    """What :func:`set_untracked` stored, or ``default``."""
    return vars(layer).get(name, default)


# --- layers ---------------------------------------------------------------------------------------

def set_layer_list(owner, name: str, layers):
    """``owner.name = list(layers)``, visible to checkpoints on both Keras versions: Keras 3
    tracks a list of layers for its weights but tf.train.Checkpoint does not follow it (a
    restored model would keep fresh BatchNorm statistics), so there each layer is also an
    attribute ``name_<i>`` (Keras counts each layer once)."""
    layers = list(layers)
    setattr(owner, name, layers)
    if KERAS_3:
        for i, layer in enumerate(layers):
            setattr(owner, f"{name}_{i}", layer)


def time_major_lstm(units: int, **kwargs):
    """A Keras LSTM layer (full sequence out, unit forget bias) for :func:`run_time_major_lstm`:
    time-major itself on Keras 2 (cuDNN's layout, no transposes); Keras 3 has batch-major
    LSTMs only."""
    if not KERAS_3:
        kwargs["time_major"] = True
    return keras.layers.LSTM(units, return_sequences=True, unit_forget_bias=True, **kwargs)


def run_time_major_lstm(lstm, x, initial_state, training=None):
    """h [T, B, U] of ``lstm`` (from :func:`time_major_lstm`) on time-major x [T, B, D]."""
    if not KERAS_3:
        return lstm(x, initial_state=initial_state, training=training)
    h = lstm(tf.transpose(x, [1, 0, 2]), initial_state=initial_state, training=training)
    return tf.transpose(h, [1, 0, 2])


# --- loss scaling (mixed_float16) -----------------------------------------------------------------

LossScaleOptimizer = keras.mixed_precision.LossScaleOptimizer


def scale_loss(optimizer, loss):
    """The loss to differentiate: scaled by a loss-scaling optimizer's current scale."""
    if not isinstance(optimizer, LossScaleOptimizer):
        return loss
    return optimizer.scale_loss(loss) if KERAS_3 else optimizer.get_scaled_loss(loss)


def unscale_gradients(optimizer, grads):
    """Gradients of a scaled loss as ``apply_gradients`` takes them: Keras 2 wants them
    unscaled; Keras 3's LossScaleOptimizer unscales (and checks) them itself."""
    if KERAS_3 or not isinstance(optimizer, LossScaleOptimizer):
        return grads
    return optimizer.get_unscaled_gradients(grads)


# --- the multi-step train function (Keras 2) ------------------------------------------------------

def make_train_function(model, keras_make_train_function, force=False):
    """``model``'s train function. With ``steps_per_execution`` > 1 Keras 2 runs the steps in a
    graph loop whose logs it defines inside the loop, so AutoGraph traces the step twice
    (twice the graph, ~3 s more tracing per fit on the test models); the loop here defines
    them first. Keras 3 loops with tf.while_loop and traces once: its own function is kept.

    keras_make_train_function: Keras' own (``super().make_train_function``)."""
    if KERAS_3:
        keras_make_train_function(force)
        return model.train_function
    if model.train_function is not None and not force:
        return model.train_function
    internals = ("_steps_per_execution", "_cluster_coordinator", "autotune_steps_per_execution")
    missing = [name for name in internals if not hasattr(model, name)]
    if missing:
        raise keras_internals_error(f"Model.{missing[0]}")
    per_call = model._steps_per_execution
    if (per_call is None or int(per_call.numpy()) == 1 or model.run_eagerly
            or model._cluster_coordinator or model.autotune_steps_per_execution):
        return keras_make_train_function(force)
    # without steps_per_execution Keras 2 builds its one-step function
    set_untracked(model, "_steps_per_execution", None)
    try:
        keras_make_train_function(force=True)
    finally:
        set_untracked(model, "_steps_per_execution", per_call)
    if not hasattr(model, "train_tf_function"):
        raise keras_internals_error("Model.train_tf_function")
    one_step = model.train_tf_function.python_function
    trackers = model.metrics

    def train_function(iterator):
        logs = {tracker.name: tracker.result() for tracker in trackers}
        for _ in tf.range(per_call):
            logs = one_step(iterator)
        return logs

    model.train_tf_function = tf.function(train_function, reduce_retracing=True)
    model.train_function = model.train_tf_function
    return model.train_function


def step_logs(logs: dict) -> dict:
    """A training step's {name: scalar} for Keras. Keras 3 averages them over the workers of a
    multi-worker job along axis 0, which a scalar lacks: there each becomes a vector of one."""
    strategy = tf.distribute.get_strategy()
    multi_worker = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    if not (KERAS_3 and multi_worker):
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def steps_per_execution(model) -> int:
    """Training steps per call of ``model``'s train function (a variable on Keras 2, an int on
    Keras 3)."""
    value = model.steps_per_execution
    return int(value if KERAS_3 else value.numpy())


def fit_steps_per_execution(model, requested: int, steps_per_epoch):
    """Set ``model``'s steps per train-function call for a ``fit`` of ``steps_per_epoch`` steps
    an epoch. Keras 3 runs ``steps_per_execution`` steps per call even past an epoch's end
    when the input is endless (ours is), so an epoch of 3 steps would train 10: there the
    calls take the largest divisor of ``steps_per_epoch`` up to ``requested``. Keras 2 cuts
    the last call of an epoch short itself. Under a strategy with several replicas Keras 3's
    multi-step loop fails ("You must feed a value for placeholder tensor", keras-team/keras
    issue 19246), so there each call runs one step."""
    if not KERAS_3 or not steps_per_epoch:
        return
    steps_per_epoch = int(steps_per_epoch)
    most = int(requested)
    if model.distribute_strategy.num_replicas_in_sync > 1:
        most = 1
    per_call = max(d for d in range(1, min(most, steps_per_epoch) + 1)
                   if steps_per_epoch % d == 0)
    if model.steps_per_execution != per_call:
        model.steps_per_execution = per_call
        model.train_function = None  # traced for the former count
