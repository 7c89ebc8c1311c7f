"""Mixed precision (DGConfig.precision): the loss scaling that float16 training needs.

float16's smallest normal number is ~6e-5, so small gradients flush to zero; Keras'
LossScaleOptimizer multiplies the loss by a large dynamic scale before differentiation, divides
the gradients by it afterwards, and skips (and lowers the scale on) steps whose gradients
overflow.  bfloat16 has float32's exponent range and needs none of this.
"""
from __future__ import annotations

from .compat import LossScaleOptimizer, scale_loss, unscale_gradients

__all__ = ["with_loss_scaling", "scale_loss", "unscale_gradients"]


def with_loss_scaling(optimizer, precision: str):
    """The optimizer to train with at ``precision`` (DGConfig.precision): for mixed_float16,
    ``optimizer`` wrapped in Keras' dynamic loss scaling, which keeps float16 gradients from
    underflowing and skips steps whose gradients overflow; else ``optimizer`` itself.
    Differentiate ``scale_loss(optimizer, loss)`` and pass the gradients through
    ``unscale_gradients`` (the two Keras versions split the unscaling differently)."""
    if precision != "mixed_float16" or isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    return LossScaleOptimizer(optimizer)
