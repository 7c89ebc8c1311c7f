"""How a critic learns from one batch, chosen once in ``DoppelGANger.compile()``: plainly, or
with DP-SGD (per-example clipping by ghost clipping, then Gaussian noise). The training step
calls whichever it was given."""
from __future__ import annotations

import tensorflow as tf

from ..compat import keras
from ..dp import dp_clipping
from . import wgan_gp
from .precision import apply_gradients


def adam(config, learning_rate):
    """Adam with the config's betas and epsilon (the paper's optimizer for every network)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=config.adam_beta_1,
                                 beta_2=config.adam_beta_2, epsilon=config.adam_epsilon)


class PlainCriticUpdate:
    """The WGAN-GP critic step: the gradient of the batch's mean loss, applied by Adam."""

    def __init__(self, config):
        self.config = config

    def optimizer(self, learning_rate):
        return adam(self.config, learning_rate)

    def __call__(self, critic, optimizer, real, fake, gp_weight, alpha):
        """Update ``critic`` on flat real and fake inputs [B, D]; returns (loss, gp) means."""
        with tf.GradientTape() as tape:
            per_example, gp = wgan_gp.critic_loss_per_example(critic.score_flat, real, fake,
                                                              gp_weight, alpha)
            loss = tf.reduce_mean(per_example)
        apply_gradients(optimizer, tape, loss, critic.trainable_variables)
        return loss, tf.reduce_mean(gp)


class GhostClippedCriticUpdate(PlainCriticUpdate):
    """DP-SGD by ghost clipping (dp_clipping.py): each example's gradient clipped to
    ``dp_l2_norm_clip`` without materialising it, the sum noised from the model's generator,
    then plain Adam."""

    def __init__(self, config, rng, poisson_batches: bool):
        super().__init__(config)
        self.rng = rng
        self.poisson_batches = poisson_batches

    def __call__(self, critic, optimizer, real, fake, gp_weight, alpha):
        cfg = self.config
        dense = critic.dense_pairs()
        sums, per_example, gp, _ = dp_clipping.clipped_gradient_sum(
            dense, real, fake, wgan_gp.interpolate(real, fake, alpha), gp_weight,
            cfg.dp_l2_norm_clip)
        # Poisson batches vary in size: divide by the expected size, which leaks nothing
        denominator = cfg.batch_size if self.poisson_batches else tf.shape(real)[0]
        grads = dp_clipping.noised_mean(sums, denominator, cfg.dp_l2_norm_clip,
                                        cfg.dp_noise_multiplier, self.rng)
        # already the batch's mean gradient: DP runs on one replica in float32, so none of
        # precision.apply_gradients' scalings applies
        optimizer.apply_gradients(zip(grads, [v for pair in dense for v in pair]))
        return tf.reduce_mean(per_example), tf.reduce_mean(gp)


def critic_update(config, rng, poisson_batches: bool):
    """The update that ``config`` asks for (DGConfig.dp_noise_multiplier)."""
    if config.dp_noise_multiplier is None:
        return PlainCriticUpdate(config)
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        raise ValueError("DP training runs on one device: per-example clipping does not "
                         "combine with gradients summed over replicas")
    return GhostClippedCriticUpdate(config, rng, poisson_batches)
