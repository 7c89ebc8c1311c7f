"""Differential privacy: DP-SGD on the critics through tensorflow-privacy, epsilon accounting.

Only the critics read real data, so only their updates are privatised (DESIGN.md section 7): each
per-example critic loss gradient (gradient-penalty term included) is clipped to
``dp_l2_norm_clip`` and Gaussian noise with standard deviation ``dp_noise_multiplier * clip`` is
added before Adam. The generator sees real data only through the critics (post-processing).
Per-example gradients are vectorised (``VectorizedDPKerasAdamOptimizer``, a Jacobian through
``pfor``): measured ~2x faster than tf-privacy's microbatch loop at the WWT shape.
"""
from __future__ import annotations

import math


def dp_adam(config, learning_rate: float):
    """tensorflow-privacy's vectorised DP Adam with the config's clip norm and noise multiplier
    (one microbatch per example). Its ``minimize`` takes the per-example loss VECTOR."""
    from tensorflow_privacy import VectorizedDPKerasAdamOptimizer

    return VectorizedDPKerasAdamOptimizer(
        l2_norm_clip=config.dp_l2_norm_clip, noise_multiplier=config.dp_noise_multiplier,
        num_microbatches=None, learning_rate=learning_rate, beta_1=config.adam_beta_1,
        beta_2=config.adam_beta_2, epsilon=config.adam_epsilon)


def original_epsilon(num_samples: int, batch_size: int, epochs: float, noise_multiplier: float,
                     delta: float = 1e-5, aux_critic: bool = True) -> float:
    """Epsilon as the original DoppelGANger code accounted it.

    tensorflow-privacy's (deprecated) ``compute_dp_sgd_privacy``: the RDP accountant for Poisson
    sampling with q = batch / N over epochs * N / batch steps, at ``delta``; the noise multiplier
    is halved when the auxiliary critic is on, because both critics read the same batch.
    """
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import (
        compute_dp_sgd_privacy)

    if num_samples < 1 or batch_size < 1 or epochs <= 0 or noise_multiplier <= 0:
        raise ValueError("num_samples, batch_size, epochs and noise_multiplier must be positive")
    effective = noise_multiplier / 2.0 if aux_critic else noise_multiplier
    eps, _ = compute_dp_sgd_privacy(num_samples, batch_size, effective, epochs, delta)
    return float(eps) if math.isfinite(eps) else math.inf
