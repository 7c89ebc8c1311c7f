"""Mixed precision (DoppelGANger's ``precision`` run setting) and the one optimizer step that
every network of the training step takes (:func:`apply_gradients`).

float16's smallest normal number is ~6e-5, so small gradients flush to zero; Keras'
LossScaleOptimizer multiplies the loss by a large dynamic scale before differentiation, divides
the gradients by it afterwards, and skips (and lowers the scale on) steps whose gradients
overflow.  bfloat16 has float32's exponent range and needs none of this.
"""
from __future__ import annotations

import tensorflow as tf

from ..compat import LossScaleOptimizer, scale_loss, unscale_gradients

__all__ = ["with_loss_scaling", "apply_gradients", "scale_loss", "unscale_gradients"]


def with_loss_scaling(optimizer, precision: str):
    """The optimizer to train with at ``precision``: for mixed_float16, ``optimizer`` wrapped in
    Keras' dynamic loss scaling, which keeps float16 gradients from underflowing and skips steps
    whose gradients overflow; else ``optimizer`` itself. :func:`apply_gradients` takes either."""
    if precision != "mixed_float16" or isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    return LossScaleOptimizer(optimizer)


def apply_gradients(optimizer, tape, loss, variables):
    """One step of ``optimizer`` on the gradient of ``loss`` (a scalar ``tape`` recorded) for
    ``variables``.

    Two scalings, both invisible in the result: the loss is divided by the replicas in sync,
    because tf.distribute sums their gradients (the sum is then the gradient of the global
    batch's mean), and multiplied by a loss-scaling optimizer's scale, which it divides out of
    the gradients again (Keras 2 through ``unscale_gradients``, Keras 3 inside
    ``apply_gradients``).
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    # the scaling is recorded on the caller's tape, entered again (as Keras 2's own
    # LossScaleOptimizer.minimize does), so that callers record only their loss
    with tape:
        scaled = scale_loss(optimizer, loss / tf.cast(replicas, tf.float32))
    grads = unscale_gradients(optimizer, tape.gradient(scaled, variables))
    optimizer.apply_gradients(zip(grads, variables))
