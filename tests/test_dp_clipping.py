"""Ghost clipping: the per-example clipped gradient sum of the WGAN-GP critic loss, computed
without per-example gradients, equals the one from per-example tapes; noise is added at the
DP-SGD scale, from the generator it is given. On the reference stack, tensorflow-privacy's
vectorized DP optimizer (tests/vectorized_dp.py) cross-checks the clipping and the noise."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from doppelganger_tf import DGConfig, DoppelGANger, compat, critic_updates, dp_clipping, wgan_gp
from conftest import toy_config, toy_dataset
from vectorized_dp import compile_with_vectorized_dp, dp_adam

needs_tensorflow_privacy = pytest.mark.skipif(
    not compat.has_tensorflow_privacy(),
    reason="tensorflow-privacy is not installed: its vectorized DP optimizer is a cross-check "
           f"on {compat.REFERENCE_STACK} only")

BATCH = 6


@pytest.fixture(scope="module")
def critic_inputs():
    toy = toy_dataset()
    model = DoppelGANger.from_dataset(toy, toy_config(dp_noise_multiplier=1.0), seed=0)
    features, attributes = model.prepare(toy)
    fake = model.generator(model.generator.sample_noise(BATCH, model.rng.normal), training=False)
    fake_f, fake_a = fake.features, fake.soft_attributes
    alpha = tf.constant(np.random.default_rng(0).uniform(size=(BATCH, 1)), tf.float32)
    return model, tf.constant(features[:BATCH]), tf.constant(attributes[:BATCH]), fake_f, \
        fake_a, alpha


def critic_loss(critic, real_f, real_a, fake_f, fake_a, alpha):
    """The model's WGAN-GP critic loss per example and its gradient penalty."""
    return wgan_gp.critic_loss_per_example(critic.score_flat, critic.flat_input(real_f, real_a),
                                           critic.flat_input(fake_f, fake_a), 10.0, alpha)


def per_example_gradients(model, critic, real_f, real_a, fake_f, fake_a, alpha):
    """Reference: one tape per example through the model's own WGAN-GP loss."""
    variables = [v for pair in critic.dense_pairs() for v in pair]
    grads = []
    for i in range(BATCH):
        part = slice(i, i + 1)
        with tf.GradientTape() as tape:
            loss, _ = critic_loss(
                critic, None if real_f is None else real_f[part], real_a[part],
                None if fake_f is None else fake_f[part], fake_a[part], alpha[part])
        grads.append([g.numpy() for g in tape.gradient(loss, variables)])
    return grads


@pytest.mark.parametrize("which", ["critic", "aux_critic"])
def test_ghost_clipping_equals_per_example_clipping(critic_inputs, which):
    model, real_f, real_a, fake_f, fake_a, alpha = critic_inputs
    critic = getattr(model, which)
    if which == "aux_critic":  # the auxiliary critic reads attributes only
        real_f = fake_f = None
    reference = per_example_gradients(model, critic, real_f, real_a, fake_f, fake_a, alpha)
    reference_norms = np.array([np.sqrt(sum(np.sum(g ** 2) for g in r)) for r in reference])
    clip = float(np.median(reference_norms))  # half the examples get clipped

    real_x, fake_x = critic.flat_input(real_f, real_a), critic.flat_input(fake_f, fake_a)
    sums, loss, gp, norms = dp_clipping.clipped_gradient_sum(
        critic.dense_pairs(), real_x, fake_x, real_x + alpha * (fake_x - real_x), 10.0, clip)
    np.testing.assert_allclose(norms.numpy(), reference_norms, rtol=1e-4)
    scale = clip / np.maximum(reference_norms, clip)
    assert (scale < 1).any() and (scale == 1).any()
    for k, got in enumerate(sums):
        want = sum(scale[i] * reference[i][k] for i in range(BATCH))
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5 * max(1.0, np.abs(want).max()))
    # every clipped per-example gradient that reaches the sum has norm <= C
    assert np.all(scale * reference_norms <= clip * (1 + 1e-6))
    expected_loss, expected_gp = critic_loss(critic, real_f, real_a, fake_f, fake_a, alpha)
    np.testing.assert_allclose(loss.numpy(), expected_loss.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gp.numpy(), expected_gp.numpy(), rtol=1e-5, atol=1e-6)


SHAPES = ([200, 50], [50])  # a kernel and its bias: 10,050 noise draws


def noise_of(sums, seed, batch=100, clip=0.5, z=4.0):
    """noised_mean of ``sums`` with a generator seeded ``seed``, minus the exact mean: the
    noise it added, per coordinate, as one flat array."""
    rng = tf.random.Generator.from_seed(seed)
    noised = dp_clipping.noised_mean(sums, batch, l2_norm_clip=clip, noise_multiplier=z, rng=rng)
    return np.concatenate([(g - s / batch).numpy().ravel() for g, s in zip(noised, sums)])


def test_noised_mean_adds_gaussian_noise_at_the_dp_sgd_scale():
    sums = [tf.random.stateless_normal(shape, [1, 2]) for shape in SHAPES]
    noise = noise_of(sums, seed=0)
    # per coordinate: z * C / batch = 4 * 0.5 / 100; the std of 10,050 draws is within ~0.7%
    # of the truth, so 3% tells the scale apart from a missing clip, batch or multiplier factor
    assert np.std(noise) == pytest.approx(0.02, rel=0.03)
    assert abs(np.mean(noise)) < 4 * 0.02 / np.sqrt(noise.size)
    # and normal, not merely of the right spread
    assert stats.kstest(noise / 0.02, "norm").pvalue > 1e-3
    # the noise is added to each clipped sum: the same seed on zero sums draws the same noise
    np.testing.assert_allclose(noise, noise_of([tf.zeros(shape) for shape in SHAPES], seed=0),
                               atol=1e-6)


def test_noised_mean_is_reproduced_by_the_generators_seed():
    sums = [tf.ones(shape) for shape in SHAPES]
    np.testing.assert_array_equal(noise_of(sums, seed=7), noise_of(sums, seed=7))
    assert not np.allclose(noise_of(sums, seed=7), noise_of(sums, seed=8))
    # the generator's state advances: two calls draw different noise; inside a tf.function
    # (as in a training step) the draws are the same as eagerly
    eager, graph = tf.random.Generator.from_seed(3), tf.random.Generator.from_seed(3)
    call = tf.function(lambda rng: dp_clipping.noised_mean(sums, 10, 1.0, 1.0, rng),
                       autograph=False)
    first, second = [np.concatenate([g.numpy().ravel() for g in call(graph)]) for _ in "12"]
    assert not np.allclose(first, second)
    np.testing.assert_allclose(
        first, np.concatenate([g.numpy().ravel() for g in
                               dp_clipping.noised_mean(sums, 10, 1.0, 1.0, eager)]), rtol=1e-6)


def test_noised_mean_wants_a_generator():
    with pytest.raises(TypeError, match="tf.random.Generator"):
        dp_clipping.noised_mean([tf.zeros([3])], 10, 1.0, 1.0, rng=None)


@needs_tensorflow_privacy
def test_noised_mean_has_the_noise_scale_of_tensorflow_privacys_gaussian_sum_query():
    from tensorflow_privacy import GaussianSumQuery
    clip, z, batch = 0.5, 4.0, 100
    zeros = [tf.zeros(shape) for shape in SHAPES]
    tf.random.set_seed(0)  # GaussianSumQuery draws from the global seed
    query = GaussianSumQuery(clip, z * clip)
    theirs, _, _ = query.get_noised_result(zeros, query.initial_global_state())
    theirs = np.concatenate([g.numpy().ravel() / batch for g in theirs])
    ours = noise_of(zeros, seed=0, batch=batch, clip=clip, z=z)
    # two samples of 10,050 draws: their stds agree to ~1% if the scales are the same
    assert np.std(ours) == pytest.approx(np.std(theirs), rel=0.04)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


class CapturingOptimizer:
    """Stands in for Adam: keeps the gradients a critic update applies."""

    def apply_gradients(self, pairs):
        self.grads = [g.numpy() for g, _ in pairs]


def dp_gradient(model, real_f, real_a, fake_f, fake_a, alpha):
    """(the noised gradient the model's ghost-clipping update applies, its loss mean)."""
    update = critic_updates.critic_update(model.config, model.rng, model.sampling == "poisson")
    optimizer = CapturingOptimizer()
    loss, _ = update(model.critic, optimizer, model.critic.flat_input(real_f, real_a),
                     model.critic.flat_input(fake_f, fake_a), 10.0, alpha)
    return optimizer.grads, loss


def test_model_dp_gradient_is_noised_at_the_dp_sgd_scale(critic_inputs):
    model, real_f, real_a, fake_f, fake_a, alpha = critic_inputs
    grads, loss = dp_gradient(model, real_f, real_a, fake_f, fake_a, alpha)
    assert len(grads) == len(model.critic.trainable_variables)
    noise_std = np.std(np.concatenate([g.ravel() for g in grads]))
    # clip 1, z 1, Poisson batches (the DP default): noise std 1 / the EXPECTED batch size per
    # coordinate, whatever this batch's size; the clipped mean is far smaller
    assert model.sampling == "poisson"
    assert noise_std == pytest.approx(1.0 / model.config.batch_size, rel=0.2)
    assert loss.shape == ()


def test_model_dp_gradient_is_reproduced_by_the_models_seed(critic_inputs):
    # the noise comes from the model's generator
    model, real_f, real_a, fake_f, fake_a, alpha = critic_inputs
    runs = []
    for seed in (5, 5, 6):
        model.rng.reset_from_seed(seed)
        grads, _ = dp_gradient(model, real_f, real_a, fake_f, fake_a, alpha)
        runs.append(np.concatenate([g.ravel() for g in grads]))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_a_dp_step_moves_the_critic_weights_by_the_noise_scale():
    """With a huge noise multiplier and plain SGD, one fit() step moves every critic weight by
    lr * z * C / B (the clipped signal is negligible beside it); the generator is not noised."""
    toy = toy_dataset()
    z, clip, lr = 1000.0, 1.0, 1e-3
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(
        toy, toy_config(dp_noise_multiplier=z, dp_l2_norm_clip=clip), seed=0)
    model.compile(critic_optimizer=tf.keras.optimizers.SGD(lr),
                  aux_critic_optimizer=tf.keras.optimizers.SGD(lr))
    before = {net: [w.copy() for w in getattr(model, net).get_weights()]
              for net in ("critic", "aux_critic")}
    model.fit(toy, epochs=1, steps_per_epoch=1, seed=0, verbose=0)
    expected = lr * z * clip / model.config.batch_size  # Poisson: the expected batch size
    for net, old in before.items():
        moves = np.concatenate([(new - w).ravel() for new, w in
                                zip(getattr(model, net).get_weights(), old)])
        assert np.std(moves) == pytest.approx(expected, rel=0.1), net
        assert abs(np.mean(moves)) < 0.1 * expected


# --- the cross-check: tensorflow-privacy's vectorized DP optimizer (reference stack) ------------

@needs_tensorflow_privacy
def test_ghost_clipping_applies_the_gradient_of_tensorflow_privacys_vectorized_optimizer(
        critic_inputs):
    """Without noise (z tiny), both apply the mean of the per-example gradients each clipped to
    C: the model's ghost clipping, and tf-privacy's per-example Jacobian."""
    model, real_f, real_a, fake_f, fake_a, alpha = critic_inputs
    critic = model.critic
    real_x, fake_x = critic.flat_input(real_f, real_a), critic.flat_input(fake_f, fake_a)
    *_, norms = dp_clipping.clipped_gradient_sum(
        critic.dense_pairs(), real_x, fake_x, wgan_gp.interpolate(real_x, fake_x, alpha), 10.0,
        1.0)
    clip = float(np.median(norms))  # half the examples get clipped
    config = model.config.replace(dp_noise_multiplier=1e-9, dp_l2_norm_clip=clip,
                                  dp_poisson_sampling=False)  # divide by this batch's size
    optimizer = CapturingOptimizer()
    update = critic_updates.critic_update(config, model.rng, poisson_batches=False)
    update(critic, optimizer, real_x, fake_x, 10.0, alpha)
    ghost = dict(zip([v.ref() for pair in critic.dense_pairs() for v in pair], optimizer.grads))

    with tf.GradientTape() as tape:
        per_example, _ = wgan_gp.critic_loss_per_example(critic.score_flat, real_x, fake_x, 10.0,
                                                         alpha)
    variables = critic.trainable_variables
    theirs = dp_adam(config, 1e-3)._compute_gradients(per_example, variables, tape=tape)
    assert len(theirs) == len(ghost)
    for grad, variable in theirs:
        np.testing.assert_allclose(ghost[variable.ref()], grad.numpy(), rtol=1e-4, atol=1e-7)


def dp_adam_gradient(config, per_example_loss, variable):
    """The gradient tf-privacy's DP optimizer of ``config`` would apply (before Adam)."""
    optimizer = dp_adam(config, 1e-3)
    with tf.GradientTape() as tape:
        loss = per_example_loss(variable)
    (grad, _), = optimizer._compute_gradients(loss, [variable], tape=tape)
    return grad.numpy()


@needs_tensorflow_privacy
def test_tensorflow_privacys_optimizer_clips_per_example_and_adds_noise():
    w = tf.Variable(tf.ones([50]))
    x = tf.constant(np.random.default_rng(0).normal(size=(100, 50)) * 100, tf.float32)

    def huge(v):  # per-example gradients of norm ~1000, far beyond the clip norm
        return tf.reduce_sum(x * v, axis=1)

    clip = 0.5
    quiet = dp_adam_gradient(DGConfig(dp_noise_multiplier=1e-9, dp_l2_norm_clip=clip), huge, w)
    # the applied gradient is the mean of per-example gradients each clipped to norm <= clip
    assert np.linalg.norm(quiet) <= clip + 1e-5
    assert np.linalg.norm(quiet) > 0.01 * clip

    def zero(v):  # per-example gradients exactly 0: anything left is the added noise
        return tf.reduce_sum(0.0 * x * v, axis=1)

    noisy = dp_adam_gradient(DGConfig(dp_noise_multiplier=4.0, dp_l2_norm_clip=clip), zero, w)
    # noise std per coordinate = z * C / batch = 4 * 0.5 / 100
    assert np.std(noisy) == pytest.approx(4.0 * clip / 100, rel=0.35)


@needs_tensorflow_privacy
def test_a_model_trains_with_the_vectorized_dp_optimizer_inside_fit():
    toy = toy_dataset()
    model = DoppelGANger.from_dataset(toy, toy_config(dp_noise_multiplier=1.0), seed=0)
    compile_with_vectorized_dp(model)
    assert type(model.critic_optimizer).__module__.startswith("tensorflow_privacy")
    assert type(model.aux_critic_optimizer).__module__.startswith("tensorflow_privacy")
    assert not type(model.generator_optimizer).__module__.startswith("tensorflow_privacy")
    before = [w.copy() for w in model.critic.get_weights()]
    history = model.fit(toy, epochs=1, steps_per_epoch=3, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.critic.get_weights()))


def test_the_vectorized_cross_check_without_tensorflow_privacy_names_the_stack(monkeypatch):
    # on the reference stack too: pretend tensorflow-privacy is absent, as on the current one
    monkeypatch.setattr(compat, "has_tensorflow_privacy", lambda: False)
    with pytest.raises(RuntimeError, match="needs tensorflow-privacy") as error:
        dp_adam(DGConfig(dp_noise_multiplier=1.0), 1e-3)
    assert compat.REFERENCE_STACK in str(error.value)
