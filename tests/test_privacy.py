"""Privacy: epsilon accounting, the PrivacyBudget callback, the saved privacy record and the
Figure 16 sweep script. The accounting is dp_accounting's on both stacks; tensorflow-privacy,
on the reference stack only, serves as a cross-check."""
import json
import math

import numpy as np
import pytest
from scipy import optimize, stats

from doppelganger_tf import compat
from doppelganger_tf.privacy import (DPParams, epsilon_spent, original_epsilon,
                                     original_epsilon_for_steps)

from conftest import ROOT, run_experiment

N, B, STEPS = 50000, 100, 7500  # the paper's WWT DP runs: 15 epochs

needs_tf_privacy = pytest.mark.skipif(
    not compat.has_tensorflow_privacy(),
    reason=f"tensorflow-privacy is not installed: it is a cross-check on {compat.REFERENCE_STACK}")


def tight_gaussian_epsilon(mu, delta):
    """Exact epsilon of a Gaussian mechanism with sensitivity / sigma = mu (Balle & Wang 2018):
    delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)."""
    def gap(eps):
        return (stats.norm.cdf(-eps / mu + mu / 2)
                - math.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2) - delta)
    return optimize.brentq(gap, 0, 500)


def test_shuffle_bound_matches_a_hand_computed_gaussian():
    # B divides N: each example is in one batch per epoch -> epochs x critics Gaussians at
    # noise z/2 (replace-one sensitivity 2C), i.e. one Gaussian with mu = 2 sqrt(k) / z
    z, epochs, critics = 8.0, 3, 2
    params = DPParams(z, critics, "shuffle")
    eps = epsilon_spent(1000, 100, 30, params, 1e-5, accounting="shuffle_no_amplification")
    k = epochs * critics
    # RDP of that Gaussian, alpha * k * 4 / (2 z^2), through the conversion by hand
    alphas = np.linspace(1.02, 200, 200000)
    by_hand = np.min(alphas * k * 4 / (2 * z ** 2) + np.log1p(-1 / alphas)
                     - np.log(1e-5 * alphas) / (alphas - 1))
    assert eps == pytest.approx(by_hand, rel=0.02)
    # an RDP conversion is an upper bound on the exact epsilon, and not a loose one here
    exact = tight_gaussian_epsilon(2 * math.sqrt(k) / z, 1e-5)
    assert exact < eps < 1.5 * exact
    # one extra step starts a 4th epoch: one more appearance
    assert epsilon_spent(1000, 100, 31, params, 1e-5,
                         accounting="shuffle_no_amplification") > eps
    # B not dividing N: a batch can straddle two epochs and hold an example twice
    assert epsilon_spent(1000, 300, 10, params, 1e-5,
                         accounting="shuffle_no_amplification") > \
        epsilon_spent(900, 300, 9, params, 1e-5, accounting="shuffle_no_amplification")


def test_epsilon_moves_the_right_way():
    base = epsilon_spent(N, B, STEPS, DPParams(2.0, 2))
    assert 0 < base < math.inf
    # z very large: only the conversion term log(1/delta)/(alpha-1) at the largest order is left
    assert epsilon_spent(N, B, STEPS, DPParams(200.0, 2)) < 0.03 < base
    assert epsilon_spent(N, B, 2 * STEPS, DPParams(2.0, 2)) > base  # more steps
    assert epsilon_spent(N, B, STEPS, DPParams(2.0, 1)) < base  # no auxiliary critic
    assert epsilon_spent(N, B, STEPS, DPParams(4.0, 2)) < base  # more noise
    assert epsilon_spent(N, 2 * B, STEPS, DPParams(2.0, 2)) > base  # bigger sampling rate
    assert epsilon_spent(N, B, 0, DPParams(2.0, 2)) == 0.0


def test_config_sets_the_composition():
    from doppelganger_tf import DGConfig
    cfg = DGConfig(dp_noise_multiplier=2.0)
    assert epsilon_spent(N, B, STEPS, cfg) == epsilon_spent(N, B, STEPS, DPParams(2.0, 2))
    assert epsilon_spent(N, B, STEPS, cfg, aux_critic=False) == \
        epsilon_spent(N, B, STEPS, DPParams(2.0, 1))
    assert epsilon_spent(N, B, STEPS, cfg.replace(critic_steps=2)) == \
        epsilon_spent(N, B, STEPS, DPParams(2.0, 4))
    with pytest.raises(ValueError, match="dp_noise_multiplier"):
        epsilon_spent(N, B, STEPS, DGConfig())
    with pytest.raises(ValueError, match="shuffled epochs only"):
        epsilon_spent(N, B, STEPS, cfg, accounting="shuffle_no_amplification")


def test_an_integer_noise_multiplier_is_accounted_as_its_float():
    # dp_accounting drops the critics' composition for a non-float multiplier (2.84 -> 1.12)
    assert epsilon_spent(N, B, STEPS, DPParams(1, 2)) == epsilon_spent(N, B, STEPS,
                                                                      DPParams(1.0, 2))
    assert epsilon_spent(N, B, STEPS, {"noise_multiplier": np.float32(2), "critic_updates": 2}) \
        == epsilon_spent(N, B, STEPS, DPParams(2.0, 2))


def test_composing_critics_is_tighter_than_halving_the_noise():
    # both critics on one batch compose to z/sqrt(2); the original halved z (z/2)
    composed = epsilon_spent(N, B, STEPS, DPParams(2.0, 2), accounting="poisson")
    halved = original_epsilon_for_steps(N, B, STEPS, 2.0)
    assert composed < halved
    # with one critic the Poisson accounting is the original's exactly
    assert epsilon_spent(N, B, STEPS, DPParams(2.0, 1), accounting="poisson") == \
        pytest.approx(original_epsilon_for_steps(N, B, STEPS, 2.0, aux_critic=False), rel=1e-9)


@pytest.mark.parametrize("z", [0.1, 1.0, 4.0])
def test_original_epsilon_for_steps_matches_the_epoch_version(z):
    assert original_epsilon_for_steps(N, B, STEPS, z) == \
        pytest.approx(original_epsilon(N, B, 15, z), rel=1e-12)
    assert original_epsilon_for_steps(N, B, 0, z) == 0.0


# the paper's Table (WWT, N=50,000, batch 100, 15 epochs, delta 1e-5, z halved for the
# auxiliary critic)
PAPER_EPSILONS = {0.01: 1.873e8, 0.1: 1.642e6, 1.0: 9.41, 2.0: 1.117, 4.0: 0.349}


@pytest.mark.parametrize("z", sorted(PAPER_EPSILONS))
def test_original_epsilon_reproduces_the_papers_table(z):
    # z=1: dp-accounting 0.4.3 (reference stack) gives 9.394, 0.6.0 gives 9.408 (its series
    # for fractional RDP orders changed); the other values agree to 4 digits on both
    assert original_epsilon(N, B, 15, z) == pytest.approx(PAPER_EPSILONS[z], rel=5e-3)
    # one critic reads each batch: the noise is not halved, so less is spent
    assert original_epsilon(N, B, 15, z, aux_critic=False) < original_epsilon(N, B, 15, z)


def test_original_epsilon_checks_its_arguments():
    with pytest.raises(ValueError, match="must not exceed num_samples"):
        original_epsilon(100, 200, 1, 1.0)
    with pytest.raises(ValueError, match="must be positive"):
        original_epsilon(N, B, 0, 1.0)
    with pytest.raises(ValueError, match="noise_multiplier"):
        original_epsilon_for_steps(N, B, 10, 0.0)
    with pytest.raises(ValueError, match="delta"):
        original_epsilon(N, B, 15, 1.0, delta=0.0)


@needs_tf_privacy
@pytest.mark.parametrize("n, batch, epochs", [(N, B, 15), (1000, 30, 2.5), (777, 64, 0.3)])
@pytest.mark.parametrize("z", [0.1, 1.0, 4.0])
def test_original_epsilon_is_tensorflow_privacys_compute_dp_sgd_privacy(n, batch, epochs, z):
    # fractional epochs check the step count (ceil of epochs * n / batch) too
    from tensorflow_privacy.privacy.analysis.compute_dp_sgd_privacy_lib import (
        compute_dp_sgd_privacy)
    for aux_critic, effective in [(True, z / 2), (False, z)]:
        theirs, _ = compute_dp_sgd_privacy(n, batch, effective, epochs, 1e-5)
        assert original_epsilon(n, batch, epochs, z, aux_critic=aux_critic) == \
            pytest.approx(theirs, rel=1e-12)


# --- the callback and the saved record (tiny models, see tests/conftest.py) --------------------

def dp_model(dataset, **changes):
    import tensorflow as tf
    from conftest import toy_config

    from doppelganger_tf import DoppelGANger
    tf.keras.utils.set_random_seed(0)
    model = DoppelGANger.from_dataset(dataset, toy_config(**changes), seed=0)
    model.compile()
    return model


def test_dp_runs_draw_poisson_batches_and_account_them_exactly(toy):
    model = dp_model(toy, dp_noise_multiplier=1.0)
    sizes = [len(batch["indices"]) for batch in model.training_batches(toy, seed=0).take(300)]
    # each of the 60 examples joins a batch with probability 20/60: Binomial(60, 1/3)
    assert np.mean(sizes) == pytest.approx(20, abs=0.6)
    assert np.var(sizes) == pytest.approx(60 * (1 / 3) * (2 / 3), rel=0.3)
    assert epsilon_spent(len(toy), 20, 9, model.config) == \
        epsilon_spent(len(toy), 20, 9, model.config, accounting="poisson")
    fixed = dp_model(toy, dp_noise_multiplier=1.0, dp_poisson_sampling=False)
    assert {len(b["indices"]) for b in fixed.training_batches(toy, seed=0).take(5)} == {20}
    assert epsilon_spent(len(toy), 20, 9, fixed.config) == epsilon_spent(
        len(toy), 20, 9, fixed.config, accounting="sampled_without_replacement")


def test_budget_resumes_logs_stops_before_the_target_and_is_saved(toy, tmp_path):
    from doppelganger_tf import DoppelGANger
    from doppelganger_tf.callbacks import PrivacyBudget
    model = dp_model(toy, dp_noise_multiplier=1.0)
    model.fit(toy, epochs=1, seed=0, verbose=0)  # an earlier run: 3 steps already spent

    def eps(steps):
        return epsilon_spent(len(toy), 20, steps, model.config)

    target = (eps(9) + eps(12)) / 2  # epoch 3 ends below it, epoch 4 would pass it
    lines = []
    budget = PrivacyBudget(target_epsilon=target, print_fn=lines.append)  # N from fit
    history = model.fit(toy, epochs=6, initial_epoch=1, seed=0, verbose=0, callbacks=[budget])
    # resumed at epoch 1: steps are counted from the optimizer (3 + 3 per epoch)
    np.testing.assert_allclose(history.history["epsilon"], [eps(6), eps(9)], rtol=1e-9)
    assert budget.stopped_early and len(history.history["d_loss"]) == 2
    assert "stopping" in lines[-1] and "epsilon" in lines[0]
    record = model.privacy_record
    assert record["steps"] == 9 and record["epsilon"] <= target
    assert record["noise_multiplier"] == 1.0 and record["l2_norm_clip"] == 1.0
    assert record["sampling"] == "poisson" and record["num_samples"] == len(toy)
    assert "exact" in record["accounting"]
    assert record["epsilon_original"] == pytest.approx(
        original_epsilon_for_steps(len(toy), 20, 9, 1.0))
    assert record["stopped_early"] is True

    model.save(tmp_path / "m")
    stored = json.loads((tmp_path / "m" / "model.json").read_text())["privacy"]
    assert stored == record
    assert DoppelGANger.load(tmp_path / "m").privacy_record == record

    # a target the next epoch would already pass: refuse to train at all
    before = int(model.critic_optimizer.iterations.numpy())
    with pytest.raises(ValueError, match="target_epsilon"):
        model.fit(toy, epochs=8, initial_epoch=3, verbose=0,
                  callbacks=[PrivacyBudget(len(toy), target_epsilon=eps(10))])
    assert int(model.critic_optimizer.iterations.numpy()) == before


def test_budget_takes_n_from_the_data_and_refuses_another_before_the_first_step(toy):
    from doppelganger_tf.callbacks import PrivacyBudget
    model = dp_model(toy, dp_noise_multiplier=1.0)
    # N = 100,000 for 60 series would report a far smaller epsilon: refused, nothing trained
    with pytest.raises(ValueError, match=r"num_samples=100000.* 60 series.*num_samples=60"):
        model.fit(toy, epochs=1, verbose=0, callbacks=[PrivacyBudget(100_000)])
    assert int(model.critic_optimizer.iterations.numpy()) == 0
    history = model.fit(toy, epochs=1, seed=0, verbose=0, callbacks=[PrivacyBudget(60)])
    assert history.history["epsilon"] == [pytest.approx(epsilon_spent(60, 20, 3, model.config))]
    assert model.privacy_record["num_samples"] == 60 == model.dp_num_samples


def test_a_dp_model_refuses_to_go_on_with_a_training_set_of_another_size(toy, tmp_path):
    from doppelganger_tf import DoppelGANger
    model = dp_model(toy, dp_noise_multiplier=1.0)
    model.fit(toy, epochs=1, seed=0, verbose=0)
    half = toy.subset(np.arange(30))
    with pytest.raises(ValueError, match="60 series and is now given 30"):
        model.fit(half, epochs=1, verbose=0)
    model.save(tmp_path / "m")  # the record says N = 60: a loaded copy refuses too
    loaded = DoppelGANger.load(tmp_path / "m")
    loaded.compile()
    loaded.critic_optimizer.iterations.assign(3)
    with pytest.raises(ValueError, match="60 series and is now given 30"):
        loaded.fit(half, epochs=1, verbose=0)


def test_a_dp_model_saved_without_a_budget_callback_records_what_it_spent(toy, tmp_path):
    from doppelganger_tf import DoppelGANger
    from doppelganger_tf.callbacks import PrivacyBudget
    model = dp_model(toy, dp_noise_multiplier=1.0)
    model.fit(toy, epochs=2, seed=0, verbose=0)  # no PrivacyBudget: 6 steps
    model.save(tmp_path / "plain")
    record = DoppelGANger.load(tmp_path / "plain").privacy_record
    assert record["steps"] == 6 and record["num_samples"] == 60 and record["delta"] == 1e-5
    assert record["epsilon"] == pytest.approx(epsilon_spent(60, 20, 6, model.config))
    # a record made by the callback, then more training without it: saved up to date
    model.fit(toy, epochs=3, initial_epoch=2, seed=0, verbose=0,
              callbacks=[PrivacyBudget(delta=1e-6)])
    model.fit(toy, epochs=4, initial_epoch=3, seed=0, verbose=0)
    model.save(tmp_path / "more")
    record = DoppelGANger.load(tmp_path / "more").privacy_record
    assert record["steps"] == 12 and record["delta"] == 1e-6
    assert record["epsilon"] == pytest.approx(epsilon_spent(60, 20, 12, model.config, 1e-6))


@pytest.mark.parametrize("arguments, message", [
    ({"delta": 0}, "delta must lie strictly between 0 and 1"),
    ({"delta": 1.5}, "delta must lie strictly between 0 and 1"),
    ({"delta": "x"}, "delta must lie strictly between 0 and 1"),
    ({"num_samples": 0}, "num_samples must be the training set's size"),
    ({"num_samples": 2.5}, "num_samples must be the training set's size"),
    ({"target_epsilon": float("inf")}, "target_epsilon must be a finite number > 0"),
    ({"target_epsilon": 0}, "target_epsilon must be a finite number > 0")])
def test_budget_checks_its_arguments_when_built(arguments, message):
    from doppelganger_tf.callbacks import PrivacyBudget
    with pytest.raises(ValueError, match=message):
        PrivacyBudget(**arguments)


def test_the_accounted_sampling_is_the_one_the_training_pipeline_draws(toy, monkeypatch):
    """What the reported epsilon assumes (docs/privacy.md, "What the reported epsilon
    assumes"): fit draws its batches through training_data.batch_indices over the training
    set's N rows with the config's sampling, and Poisson batches hold each row independently
    with the record's sampling_rate. Fails if the pipeline changes under the accountant."""
    import itertools

    from doppelganger_tf import training_data
    from doppelganger_tf.callbacks import PrivacyBudget
    calls = []
    original = training_data.batch_indices

    def spy(n, batch_size, sampling, seed):
        calls.append((n, batch_size, sampling))
        return original(n, batch_size, sampling, seed)
    monkeypatch.setattr(training_data, "batch_indices", spy)
    model = dp_model(toy, dp_noise_multiplier=1.0)
    model.fit(toy, epochs=1, seed=0, verbose=0, callbacks=[PrivacyBudget()])
    record = model.privacy_record
    assert calls == [(60, 20, "poisson")] == [(record["num_samples"], record["batch_size"],
                                               record["sampling"])]
    assert record["sampling_rate"] == pytest.approx(20 / 60) and "Poisson" in record["batches"]

    draws = 3000
    member = np.zeros((draws, 60), bool)
    for row, batch in enumerate(itertools.islice(original(60, 20, "poisson", 0).as_numpy_iterator(),
                                                 draws)):
        assert len(np.unique(batch)) == len(batch)  # no row twice in one batch
        member[row, batch] = True
    q = record["sampling_rate"]
    tolerance = 4 * np.sqrt(q * (1 - q) / draws)  # 4 standard errors
    assert np.all(np.abs(member.mean(axis=0) - q) < tolerance)  # every row at rate q
    # independently of the other rows and of the previous step
    both = (member[:, :-1] & member[:, 1:]).mean(axis=0)
    assert abs(both.mean() - q * q) < 0.01
    again = (member[:-1] & member[1:]).mean()
    assert abs(again - q * q) < 0.01


def test_budget_refuses_a_model_without_dp(toy, tmp_path):
    from doppelganger_tf import DoppelGANger
    from doppelganger_tf.callbacks import PrivacyBudget
    model = dp_model(toy)
    with pytest.raises(ValueError, match="dp_noise_multiplier"):
        model.fit(toy, epochs=1, verbose=0, callbacks=[PrivacyBudget(len(toy))])
    model.save(tmp_path / "plain")  # no record: none written, none loaded
    assert "privacy" not in json.loads((tmp_path / "plain" / "model.json").read_text())
    assert DoppelGANger.load(tmp_path / "plain").privacy_record is None


def test_dp_sweep_script_end_to_end(tmp_path):
    out = tmp_path / "sweep"
    run_experiment("dp_sweep.py",
                   "--flagfile", str(ROOT / "experiments/flags/dp_sweep_quick.flags"),
                   "--output", str(out), "--synthetic_samples=40", "--synthetic_length=20",
                   "--batch_size=20", "--epochs=1", "--noise_multipliers=1,50")
    rows = json.loads((out / "results.json").read_text())["models"]
    assert set(rows) == {"z=1", "z=50", "non-DP"}
    # 40 samples / batch 20 = 2 steps; epsilon as the accountant says, less with more noise
    assert rows["z=1"]["steps"] == 2
    assert rows["z=1"]["epsilon"] == pytest.approx(
        epsilon_spent(40, 20, 2, DPParams(1.0, 2)), rel=1e-9)
    assert rows["z=50"]["epsilon"] < rows["z=1"]["epsilon"]
    assert rows["z=1"]["epsilon_original"] == pytest.approx(
        original_epsilon_for_steps(40, 20, 2, 1.0), rel=1e-9)
    assert "epsilon" not in rows["non-DP"]
    assert all(row["autocorrelation_mse"] >= 0 and row["wall_time_s"] > 0
               for row in rows.values())
    assert "| z=50 |" in (out / "results.md").read_text()
    curves = json.loads((out / "curves.json").read_text())
    assert set(curves) == {"real", "z=1", "z=50", "non-DP"} and len(curves["real"]) == 18
    assert (out / "figure16_dp_autocorrelation.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((out / "z1" / "model" / "model.json").read_text())
    assert saved["privacy"]["noise_multiplier"] == 1.0
