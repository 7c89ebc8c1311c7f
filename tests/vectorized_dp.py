"""tensorflow-privacy's VectorizedDPKerasAdamOptimizer as a critic update: a cross-check of the
model's ghost clipping (doppelganger_tf/dp_clipping.py), for the tests and bench/dp_step.py.

It was ``DGConfig(dp_clipping="vectorized")`` until doppelganger_tf 0.3.0; it clips as ghost
clipping does but through a per-example Jacobian (many times slower), and tensorflow-privacy
installs only on the reference stack, so it is no model option.
"""
import tensorflow as tf

from doppelganger_tf import compat, wgan_gp


def dp_adam(config, learning_rate):
    """tensorflow-privacy's vectorized DP Adam with ``config``'s clip norm, noise multiplier and
    Adam settings, one microbatch per example: its ``minimize`` takes the per-example loss."""
    tf_privacy = compat.require_tensorflow_privacy("the vectorized DP cross-check")
    return tf_privacy.VectorizedDPKerasAdamOptimizer(
        l2_norm_clip=config.dp_l2_norm_clip, noise_multiplier=config.dp_noise_multiplier,
        num_microbatches=None, learning_rate=learning_rate, beta_1=config.adam_beta_1,
        beta_2=config.adam_beta_2, epsilon=config.adam_epsilon)


class VectorizedDPCriticUpdate:
    """A critic update (critic_updates.PlainCriticUpdate's call) by the DP optimizer: it clips
    each example's gradient and adds the noise itself, so it takes the loss vector."""

    def __call__(self, critic, optimizer, real, fake, gp_weight, alpha):
        with tf.GradientTape() as tape:
            per_example, gp = wgan_gp.critic_loss_per_example(critic.score_flat, real, fake,
                                                              gp_weight, alpha)
        optimizer.minimize(per_example, critic.trainable_variables, tape=tape)
        return tf.reduce_mean(per_example), tf.reduce_mean(gp)


def compile_with_vectorized_dp(model, **compile_kwargs):
    """``model.compile(**compile_kwargs)`` with both critics trained by tensorflow-privacy's
    vectorized DP optimizer instead of ghost clipping (a DP config: dp_noise_multiplier set)."""
    cfg = model.config
    if not model.uses_dp:
        raise ValueError("the vectorized DP cross-check needs a DP config: set "
                         "dp_noise_multiplier")
    model.compile(critic_optimizer=dp_adam(cfg, cfg.critic_learning_rate),
                  aux_critic_optimizer=dp_adam(cfg, cfg.aux_critic_learning_rate),
                  **compile_kwargs)
    # the training step calls whatever update compile() chose
    compat.set_untracked(model, "critic_update", VectorizedDPCriticUpdate())
