"""WGAN-GP (Gulrajani et al., 2017) as small functions, shared by every GAN of the package:
DoppelGANger's critic and auxiliary critic, their DP ghost clipping (dp_clipping.py), the
attribute retraining (retrain.py) and the naive-GAN baseline.

The critic minimises D(fake) - D(real) + lambda * (||grad_x D(x_hat)|| - 1)^2 at points x_hat
between a real and a fake sample; the generator minimises -D(fake).
"""
from __future__ import annotations

import tensorflow as tf

GP_EPSILON = 1e-8  # inside the gradient norm's square root, as in the original


def interpolate(real, fake, alpha):
    """Points between real and fake samples [B, D]: real + alpha * (fake - real), alpha [B, 1]
    drawn from U(0, 1) per sample."""
    return real + alpha * (fake - real)


def penalty(input_gradient):
    """(||g|| - 1)^2 per example [B] of the critic's gradient g [B, D] w.r.t. its input; the
    epsilon keeps the norm's derivative finite at g = 0."""
    norm = tf.sqrt(tf.reduce_sum(tf.square(input_gradient), axis=1) + GP_EPSILON)
    return tf.square(norm - 1.0)


def gradient_penalty(score, interpolates):
    """The penalty [B] of ``score`` (a function of the critic's flat input returning [B]) at
    ``interpolates``."""
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = score(interpolates)
    return penalty(tape.gradient(scores, interpolates))


def critic_loss(real_scores, fake_scores, gp, gp_weight):
    """The critic's loss per example [B]: D(fake) - D(real) + gp_weight * gp (its batch mean is
    the WGAN-GP critic loss; DP-SGD clips the gradient of each example's term)."""
    return fake_scores - real_scores + gp_weight * gp


def critic_loss_per_example(score, real, fake, gp_weight, alpha):
    """(loss [B], gradient penalty [B]) of the critic ``score`` on flat real and fake inputs
    [B, D], interpolated with ``alpha`` [B, 1]."""
    gp = gradient_penalty(score, interpolate(real, fake, alpha))
    # fake before real: the order of the critic's uses sets the order in which their gradient
    # terms are summed, kept as it was for bit-identical training
    fake_scores = score(fake)
    return critic_loss(score(real), fake_scores, gp, gp_weight), gp


def generator_loss(fake_scores):
    """The generator's loss: -mean D(fake)."""
    return -tf.reduce_mean(fake_scores)
