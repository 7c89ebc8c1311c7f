"""Mixed precision (DGConfig.precision): the loss scaling that float16 training needs.

float16's smallest normal number is ~6e-5, so small gradients flush to zero; Keras'
LossScaleOptimizer multiplies the loss by a large dynamic scale before differentiation, divides
the gradients by it afterwards, and skips (and lowers the scale on) steps whose gradients
overflow.  bfloat16 has float32's exponent range and needs none of this.
"""
from __future__ import annotations

import tensorflow as tf

keras = tf.keras


def loss_scaled(optimizer, precision: str):
    """The optimizer to train with at ``precision`` (DGConfig.precision): for mixed_float16,
    ``optimizer`` wrapped in Keras' dynamic loss scaling, which keeps float16 gradients from
    underflowing and skips steps whose gradients overflow; else ``optimizer`` itself."""
    if (precision != "mixed_float16"
            or isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)):
        return optimizer
    return keras.mixed_precision.LossScaleOptimizer(optimizer)


def scale_loss(optimizer, loss):
    """The loss to differentiate: scaled by a loss-scaling optimizer's current scale."""
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        return optimizer.get_scaled_loss(loss)
    return loss


def unscale_gradients(optimizer, grads):
    if isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer):
        return optimizer.get_unscaled_gradients(grads)
    return grads
