"""Per-example clipping of the WGAN-GP critic gradient without materialising per-example gradients.

DP-SGD needs every example's gradient clipped to norm C before the sum is noised. A Jacobian
(tf-privacy's vectorised optimizers, ``pfor``) materialises B copies of the critic's ~0.5M
gradients, through the gradient penalty's double backward pass: many plain steps' time
(docs/performance.md, "The DP step").

The critic is a ReLU MLP, so every use of a kernel W in the per-example loss
``D(fake_i) - D(real_i) + lambda * gp_i`` is a matmul whose per-example weight gradient is an outer
product: the forward uses ``z = a W`` (on fake and real inputs) give ``a_i (x) dz_i``, and the
gradient penalty's explicit input-gradient pass ``g = h W^T`` (on the interpolates) gives
``dg_i (x) h_i`` (ReLU's second derivative is zero, so the interpolates' forward activations
carry no gradient). A per-example weight gradient is thus a sum of three outer products u_p (x) v_p, and its
squared norm is ``sum_pq (u_p . u_q)(v_p . v_q)`` ("ghost norm", Goodfellow 2015): dot products of
activations and their gradients, which one ordinary backward pass provides. The clipped sum is then
three weighted matmuls per layer. Cost: about one plain critic step.

The result is the same clipped sum as the per-example Jacobian (a test checks it against
per-example tapes). :func:`noised_mean` then adds the DP-SGD Gaussian noise itself, drawn from a
``tf.random.Generator`` (the model's, so that a seeded model reproduces), on every supported
stack; on the reference stack a test checks its scale against tensorflow-privacy's
``GaussianSumQuery``.
"""
from __future__ import annotations

from typing import List, Tuple

import tensorflow as tf

from ..gan import wgan_gp


def _forward(dense, x):
    """ReLU MLP forward keeping every matmul's input and pre-activation (the score last)."""
    inputs, pre_activations = [], []
    a = x
    for i, (kernel, bias) in enumerate(dense):
        z = tf.matmul(a, kernel) + bias
        inputs.append(a)
        pre_activations.append(z)
        a = tf.nn.relu(z) if i < len(dense) - 1 else z
    return a[:, 0], inputs, pre_activations


def _input_gradient(dense, x):
    """d score / d x per example, written out as matmuls with the transposed kernels so that
    each kernel use is visible. Returns (gradient [B, D], per layer (matmul input, output))."""
    masks = []
    a = x
    for kernel, bias in dense[:-1]:
        z = tf.matmul(a, kernel) + bias
        masks.append(tf.cast(z > 0, z.dtype))  # tf.nn.relu's derivative (0 at 0)
        a = tf.nn.relu(z)
    uses = [None] * len(dense)
    h = tf.ones([tf.shape(x)[0], 1], x.dtype)  # d score / d score
    for layer in reversed(range(len(dense))):
        g = tf.matmul(h, dense[layer][0], transpose_b=True)
        uses[layer] = (h, g)
        if layer:
            h = g * masks[layer - 1]
    return g, uses


def clipped_gradient_sum(dense: List[Tuple[tf.Variable, tf.Variable]], real_x, fake_x,
                         interpolates, gp_weight: float, l2_norm_clip: float):
    """Sum over the batch of each example's critic-loss gradient clipped to ``l2_norm_clip``.

    dense: the critic's (kernel, bias) pairs, hidden ReLU layers then the linear score layer.
    real_x, fake_x, interpolates: the critic's flat inputs [B, D].
    Returns (clipped gradient sums, in the order kernel_0, bias_0, kernel_1, ...; the per-example
    loss [B]; the gradient-penalty term [B]; the per-example gradient norms [B]).
    """
    with tf.GradientTape() as tape:
        fake_score, fake_in, fake_pre = _forward(dense, fake_x)
        real_score, real_in, real_pre = _forward(dense, real_x)
        input_grad, backward_uses = _input_gradient(dense, interpolates)
        gp = wgan_gp.penalty(input_grad)
        loss = wgan_gp.critic_loss(real_score, fake_score, gp, gp_weight)
        total = tf.reduce_sum(loss)  # examples are independent: d total / d z_i = d loss_i / d z_i
    backward_out = [g for _, g in backward_uses]
    d_fake, d_real, d_back = tape.gradient(total, [fake_pre, real_pre, backward_out],
                                           unconnected_gradients=tf.UnconnectedGradients.ZERO)
    # per layer: the kernel's per-example gradient is sum_p u_p (x) v_p
    factors = []
    squared_norm = tf.zeros_like(loss)
    for layer in range(len(dense)):
        u = tf.stack([fake_in[layer], real_in[layer], d_back[layer]])      # [3, B, in]
        v = tf.stack([d_fake[layer], d_real[layer], backward_uses[layer][0]])  # [3, B, out]
        bias_grad = d_fake[layer] + d_real[layer]
        uu = tf.einsum("pbi,qbi->bpq", u, u)
        vv = tf.einsum("pbo,qbo->bpq", v, v)
        squared_norm += tf.reduce_sum(uu * vv, axis=[1, 2])
        squared_norm += tf.reduce_sum(tf.square(bias_grad), axis=1)
        factors.append((u, v, bias_grad))
    norms = tf.sqrt(tf.maximum(squared_norm, 0.0))
    scale = l2_norm_clip / tf.maximum(norms, l2_norm_clip)  # 1 when already within the clip
    sums = []
    for u, v, bias_grad in factors:
        sums.append(tf.einsum("pbi,pbo->io", u * scale[None, :, None], v))
        sums.append(tf.einsum("bo,b->o", bias_grad, scale))
    return sums, loss, gp, norms


def noised_mean(clipped_sums, batch_size, l2_norm_clip: float, noise_multiplier: float,
                rng: tf.random.Generator):
    """(each sum of clipped gradients + N(0, (noise_multiplier * clip)^2) per coordinate)
    / batch_size.

    rng: the ``tf.random.Generator`` the noise is drawn from (the model's ``rng``): a
        generator rather than the global seed, so that a seeded model reproduces its DP steps
        and the draws advance its state inside ``tf.function`` too.
    """
    if not isinstance(rng, tf.random.Generator):
        raise TypeError(f"rng must be a tf.random.Generator (the model's self.rng), got "
                        f"{type(rng).__name__}")
    # sensitivity of the clipped sum is the clip norm (add-or-remove-one), hence std z * C
    stddev = noise_multiplier * l2_norm_clip
    means = []
    for g in clipped_sums:
        noise = rng.normal(tf.shape(g), stddev=tf.cast(stddev, g.dtype), dtype=g.dtype)
        means.append((g + noise) / tf.cast(batch_size, g.dtype))
    return means
