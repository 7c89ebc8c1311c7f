"""Differential privacy: DP-SGD on the critics and its epsilon accounting.

Only the critics read real data, so only their updates are privatised (docs/design.md,
"Differential privacy"; details in docs/privacy.md): each per-example critic loss gradient
(gradient-penalty term included) is clipped to ``dp_l2_norm_clip`` and Gaussian noise with
standard deviation ``dp_noise_multiplier * clip`` is added before Adam. The generator sees real
data only through the critics (post-processing). DP runs draw Poisson batches so that the
accounting below is exact.

What comes from where, on both supported stacks (compat.py) unless said otherwise:
- per-example clipping: "ghost" clipping (dp_clipping.py: per-example norms from activations
  and their gradients, close to the cost of a plain step: docs/performance.md, "DP step"), the
  default;
- the noise: our own Gaussian draw from the model's seeded ``tf.random.Generator``
  (``dp_clipping.noised_mean``);
- the accounting: dp_accounting's RDP accountant, below; the original's epsilon too
  (:func:`original_epsilon` composes the event of tf-privacy's ``compute_dp_sgd_privacy``
  itself, so it needs no tf-privacy);
- tensorflow-privacy (reference stack only) is a cross-check in the tests: its vectorized
  DP optimizer against ghost clipping, its GaussianSumQuery against our noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional


def original_epsilon(num_samples: int, batch_size: int, epochs: float, noise_multiplier: float,
                     delta: float = 1e-5, aux_critic: bool = True) -> float:
    """Epsilon as the original DoppelGANger code accounted it.

    What tensorflow-privacy 0.9.0's (deprecated) ``compute_dp_sgd_privacy`` computes, without
    it: the RDP accountant for Poisson sampling with q = batch / N over
    ``ceil(epochs * N / batch)`` steps, at ``delta``, with the original's noise multiplier
    (:func:`original_noise_multiplier`: halved with the auxiliary critic). On the reference
    stack a test checks it against tf-privacy's function.
    """
    if num_samples < 1 or batch_size < 1 or epochs <= 0 or noise_multiplier <= 0:
        raise ValueError("num_samples, batch_size, epochs and noise_multiplier must be positive")
    if batch_size > num_samples:
        # tf-privacy refuses a sampling rate above 1 too
        raise ValueError(f"batch_size ({batch_size}) must not exceed num_samples "
                         f"({num_samples})")
    # tf-privacy's step count, float expression and rounding included
    steps = int(math.ceil(epochs * num_samples / batch_size))
    return original_epsilon_for_steps(num_samples, batch_size, steps, noise_multiplier, delta,
                                      aux_critic)


# --- accounting for the sampling this package actually uses ----------------------------------------

#: how DoppelGANger.training_data draws batches (DGConfig.dp_poisson_sampling,
#: DGConfig.sample_with_replacement)
SAMPLINGS = ("poisson", "with_replacement", "shuffle")
#: the accounting that fits each sampling (exact for Poisson; see epsilon_spent)
DEFAULT_ACCOUNTING = {"poisson": "poisson", "with_replacement": "sampled_without_replacement",
                      "shuffle": "sampled_without_replacement"}
#: what epsilon_spent can account (see its docstring)
ACCOUNTINGS = ("sampled_without_replacement", "poisson", "shuffle_no_amplification")
# orders of tf-privacy 0.9.0's compute_dp_sgd_privacy
RDP_ORDERS = tuple([1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5] + list(range(5, 64))
                   + [128, 256, 512])


@dataclass(frozen=True)
class DPParams:
    """What the accountant needs to know about one DP training run.

    critic_updates: DP critic updates per training step, all on the SAME real batch
        (``critic_steps`` x the number of critics: 2 with the auxiliary critic).
    sampling: how batches are drawn: "poisson" (DP runs by default: each example independently
        with probability B/N), "with_replacement" (the original: ``batch_size`` indices
        uniformly with replacement per step) or "shuffle" (epochs shuffled without replacement).
    """
    noise_multiplier: float
    critic_updates: int = 2
    sampling: str = "poisson"

    def __post_init__(self):
        # dp_accounting composes Gaussians only when their multiplier is a Python float: an int
        # (or np.float32) silently drops the composition and under-reports epsilon
        try:
            z = float(self.noise_multiplier)
        except (TypeError, ValueError):
            z = math.nan
        if not z > 0:
            raise ValueError(f"noise_multiplier must be > 0, got {self.noise_multiplier!r} "
                             "(a model without DP has no epsilon)")
        object.__setattr__(self, "noise_multiplier", z)
        if int(self.critic_updates) < 1:
            raise ValueError(f"critic_updates must be >= 1, got {self.critic_updates!r}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")


def dp_params(config_or_params, aux_critic: Optional[bool] = None) -> DPParams:
    """DPParams from a :class:`DGConfig` (``aux_critic`` overrides ``config.use_aux_critic``:
    a model has no auxiliary critic when the data have no attributes), a DPParams or a dict
    of DPParams fields."""
    if isinstance(config_or_params, DPParams):
        return config_or_params
    if isinstance(config_or_params, dict):
        return DPParams(**config_or_params)
    cfg = config_or_params
    if getattr(cfg, "dp_noise_multiplier", None) is None:
        raise ValueError("this configuration does not train with DP: set "
                         "DGConfig(dp_noise_multiplier=...) to get an epsilon")
    from ..gan.training_data import sampling as pipeline_sampling
    critics = 2 if _has_aux_critic(cfg, aux_critic) else 1
    # the sampling the input pipeline uses for this config: one source for both
    sampling = pipeline_sampling(cfg)
    return DPParams(noise_multiplier=float(cfg.dp_noise_multiplier),
                    critic_updates=int(cfg.critic_steps) * critics, sampling=sampling)


def _has_aux_critic(config, aux_critic: Optional[bool]) -> bool:
    """``aux_critic`` where given (a model built on data without attributes has no auxiliary
    critic whatever its config says), else ``config.use_aux_critic``."""
    return bool(config.use_aux_critic if aux_critic is None else aux_critic)


def original_noise_multiplier(noise_multiplier: float, aux_critic: bool) -> float:
    """The noise multiplier the original's accounting used: halved when the auxiliary critic is
    on, because both critics read the same batch (looser than composing the two critics' updates,
    as :func:`epsilon_spent` does)."""
    return float(noise_multiplier) / 2.0 if aux_critic else float(noise_multiplier)


def _check_counts(num_samples: int, batch_size: int, steps, delta: float):
    if num_samples < 1 or batch_size < 1:
        raise ValueError(f"num_samples ({num_samples}) and batch_size ({batch_size}) must be "
                         "positive")
    if steps < 0 or int(steps) != steps:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")


def _rdp_epsilon(event, delta: float, relation=None, orders=RDP_ORDERS) -> float:
    """Epsilon at ``delta`` of a dp_accounting event by the RDP accountant (add-or-remove-one
    unless ``relation`` says otherwise); inf where the accountant finds no bound."""
    import dp_accounting
    relation = relation or dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE
    accountant = dp_accounting.rdp.RdpAccountant(list(orders), relation)
    accountant.compose(event)
    eps = accountant.get_epsilon(delta)
    return float(eps) if math.isfinite(eps) else math.inf


def _critic_event(noise_multiplier: float, updates: int):
    """All DP critic updates of one step: Gaussians on the same batch, composed inside the
    sampled event (the accountant turns them into one Gaussian of multiplier z/sqrt(updates))."""
    import dp_accounting
    return dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(noise_multiplier),
                                             updates)


def accounting_event(num_samples: int, batch_size: int, steps: int, params: DPParams,
                     accounting: str = "sampled_without_replacement"):
    """(dp_accounting DpEvent, NeighboringRelation) that :func:`epsilon_spent` composes."""
    import dp_accounting
    relation = dp_accounting.NeighboringRelation
    batch = min(batch_size, num_samples)
    z, updates = params.noise_multiplier, params.critic_updates
    if accounting == "sampled_without_replacement":
        # replace-one: one example's clipped gradient moves the sum by up to 2C, and the
        # accountant's noise multiplier is relative to that sensitivity
        step = dp_accounting.SampledWithoutReplacementDpEvent(
            num_samples, batch, _critic_event(z / 2.0, updates))
        return dp_accounting.SelfComposedDpEvent(step, steps), relation.REPLACE_ONE
    if accounting == "poisson":
        from ..gan.training_data import poisson_rate  # the rate the pipeline draws with
        step = dp_accounting.PoissonSampledDpEvent(poisson_rate(num_samples, batch_size),
                                                   _critic_event(z, updates))
        return dp_accounting.SelfComposedDpEvent(step, steps), relation.ADD_OR_REMOVE_ONE
    if accounting == "shuffle_no_amplification":
        if params.sampling != "shuffle":
            raise ValueError("shuffle_no_amplification bounds shuffled epochs only; this run "
                             f"samples {params.sampling.replace('_', ' ')} (set "
                             "DGConfig(dp_poisson_sampling=False, sample_with_replacement=False)"
                             " to shuffle)")
        # batches cut a stream of shuffled epochs: an example appears at most once per epoch
        # touched; a batch straddling two epochs (B not dividing N) can hold it twice
        # (sensitivity 4C = the RDP of four single appearances instead of two)
        touched = -(-steps * batch // num_samples)
        appearances = touched + (2 * (touched // 2) if num_samples % batch else 0)
        return (dp_accounting.SelfComposedDpEvent(_critic_event(z / 2.0, updates), appearances),
                relation.REPLACE_ONE)
    raise ValueError(f"accounting must be one of {ACCOUNTINGS}, got {accounting!r}")


def epsilon_spent(num_samples: int, batch_size: int, steps: int, config_or_params,
                  delta: float = 1e-5, *, accounting: Optional[str] = None,
                  aux_critic: Optional[bool] = None, orders=RDP_ORDERS) -> float:
    """Epsilon (at ``delta``) spent by ``steps`` DP training steps, by dp_accounting's RDP
    accountant (the accountant tensorflow-privacy 0.9.0 uses).

    config_or_params: a DGConfig (noise multiplier, ``critic_steps``, ``use_aux_critic``,
        ``sample_with_replacement``), a :class:`DPParams` or a dict of its fields.

    Each step, every critic takes ``critic_steps`` DP updates on the same real batch: these
    Gaussians compose INSIDE one sampled event (2 critics: z/sqrt(2); the original halved z,
    which is looser).

    accounting (default: the one that fits the run's sampling, DEFAULT_ACCOUNTING):
      "poisson": Poisson sampling with q = B/N, ADD-OR-REMOVE-ONE: exact for DP runs, which
        draw Poisson batches (DGConfig.dp_poisson_sampling); also what tf-privacy's
        compute_dp_sgd_privacy and the original report.
      "sampled_without_replacement": each step is a batch of B distinct examples
        drawn uniformly without replacement (Wang, Balle & Kasiviswanathan 2019), neighbouring
        relation REPLACE-ONE (N public, one example's value changes). This is the closest
        event the RDP accountant supports for our fixed-size batches: dp_accounting has no
        RDP for SampledWithReplacementDpEvent, and for shuffled epochs it treats consecutive
        batches as independent. Exact for a with-replacement batch without a repeated index;
        a repeat (one example drawn twice, probability about B^2/(2 N^2) per example and
        step) is not covered, so the value is an approximation, not a proof (docs/privacy.md).
        The default for fixed-size batches (dp_poisson_sampling=False).
      "shuffle_no_amplification": a proven bound for shuffled epochs (REPLACE-ONE) that
        claims no amplification by sampling: each epoch an example is in one batch.
    """
    _check_counts(num_samples, batch_size, steps, delta)
    params = dp_params(config_or_params, aux_critic)
    accounting = accounting or DEFAULT_ACCOUNTING[params.sampling]
    if steps == 0:
        return 0.0
    event, relation = accounting_event(num_samples, batch_size, int(steps), params, accounting)
    return _rdp_epsilon(event, delta, relation, orders)


def original_epsilon_for_steps(num_samples: int, batch_size: int, steps: int,
                               noise_multiplier: float, delta: float = 1e-5,
                               aux_critic: bool = True) -> float:
    """:func:`original_epsilon` after exactly ``steps`` steps (its epochs = steps * B / N,
    without the rounding a float number of epochs could add)."""
    _check_counts(num_samples, batch_size, steps, delta)
    if not noise_multiplier > 0:
        raise ValueError(f"noise_multiplier must be > 0, got {noise_multiplier!r}")
    if steps == 0:
        return 0.0
    import dp_accounting
    # the event and orders (RDP_ORDERS) of tf-privacy 0.9.0's compute_dp_sgd_privacy; a batch
    # larger than the data samples everything, as in epsilon_spent
    q = min(batch_size, num_samples) / num_samples
    event = dp_accounting.SelfComposedDpEvent(dp_accounting.PoissonSampledDpEvent(
        q, dp_accounting.GaussianDpEvent(original_noise_multiplier(noise_multiplier,
                                                                   aux_critic))), int(steps))
    return _rdp_epsilon(event, delta)


#: how each sampling draws a step's batch (training_data.batch_indices), as the record says it
BATCHES = {
    "poisson": "Poisson: each training example independently with probability sampling_rate",
    "with_replacement": "batch_size indices drawn uniformly with replacement",
    "shuffle": "consecutive slices of shuffled epochs (without replacement)"}


def check_delta(delta) -> float:
    """``delta`` as a float in (0, 1), or a ValueError naming the fix."""
    try:
        value = float(delta)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(delta, bool) or not 0 < value < 1:
        raise ValueError(f"delta must lie strictly between 0 and 1, got {delta!r} (commonly "
                         "1e-5, or below 1 / the number of training series)")
    return value


def privacy_record(config, num_samples: int, steps: int, delta: float = 1e-5, *,
                   aux_critic: Optional[bool] = None, **extra) -> dict:
    """The privacy parameters and epsilon spent after ``steps`` steps on ``num_samples``
    training series, as plain JSON values (what ``DoppelGANger.save`` writes under "privacy"
    in model.json). For a model, :func:`model_record` takes both from the model itself."""
    aux_critic = _has_aux_critic(config, aux_critic)
    params = dp_params(config, aux_critic)
    batch = int(config.batch_size)
    steps_per_epoch = max(1, num_samples // batch)
    from ..gan.training_data import poisson_rate
    record = {
        "noise_multiplier": params.noise_multiplier,
        "l2_norm_clip": float(config.dp_l2_norm_clip),
        "delta": check_delta(delta),
        "sampling": params.sampling,
        "batches": BATCHES[params.sampling],
        "num_samples": int(num_samples),
        "sampling_rate": poisson_rate(num_samples, batch),
        "batch_size": batch,
        "critic_updates_per_step": params.critic_updates,
        "steps": int(steps),
        "epochs": int(steps) / steps_per_epoch,
        "accounting": "dp_accounting RDP, " + {
            "poisson": "Poisson sampling, add-or-remove-one (exact for this run)",
            "sampled_without_replacement": "sampled without replacement, replace-one "
                                           "(approximates fixed-size batches)"}[
            DEFAULT_ACCOUNTING[params.sampling]],
        "epsilon": epsilon_spent(num_samples, batch, steps, params, delta),
        "epsilon_poisson": epsilon_spent(num_samples, batch, steps, params, delta,
                                         accounting="poisson"),
        "epsilon_original": original_epsilon_for_steps(
            num_samples, batch, steps, params.noise_multiplier, delta, aux_critic=aux_critic),
    }
    if params.sampling == "shuffle":
        record["epsilon_shuffle_no_amplification"] = epsilon_spent(
            num_samples, batch, steps, params, delta, accounting="shuffle_no_amplification")
    record.update(extra)
    return record


# --- what a model has spent -----------------------------------------------------------------------

def steps_spent(model) -> int:
    """Training steps (real batches) the critics of ``model`` have read: the critic
    optimizer's updates / ``critic_steps`` (restored with the optimizer from a checkpoint)."""
    optimizer = getattr(model, "critic_optimizer", None)
    if optimizer is None:
        return 0
    return int(optimizer.iterations.numpy()) // int(model.config.critic_steps)


def bind_training_set(model, num_samples: int):
    """Called by ``DoppelGANger.fit`` for a DP model: remember the number of training series
    N that epsilon is accounted for. A model that has spent steps on data of another N (in this
    process, or as its saved privacy record says) is refused: the accountant composes steps
    over one dataset, and N sets the sampling rate."""
    num_samples = int(num_samples)
    known = model.dp_num_samples
    if known is None and model.privacy_record is not None:
        known = model.privacy_record.get("num_samples")
    if known is not None and int(known) != num_samples and steps_spent(model) > 0:
        raise ValueError(
            f"this DP model has spent {steps_spent(model)} steps on a training set of {known} "
            f"series and is now given {num_samples}: epsilon is accounted over one training "
            "set. Train on the same data, or build a new model for the new data")
    model.dp_num_samples = num_samples


def model_record(model, delta: float = 1e-5, **extra) -> dict:
    """:func:`privacy_record` of what ``model`` has spent: N = the size of the training set
    its ``fit`` was given (:func:`bind_training_set`), steps from its critic optimizer."""
    num_samples = model.dp_num_samples
    if num_samples is None and model.privacy_record is not None:
        num_samples = model.privacy_record.get("num_samples")
    if num_samples is None:
        raise ValueError("this model has not been trained (fit) in this process and has no "
                         "privacy record: its training set size is unknown")
    return privacy_record(model.config, int(num_samples), steps_spent(model), delta,
                          aux_critic=model.aux_critic is not None, **extra)
