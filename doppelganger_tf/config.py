"""Every hyper-parameter of DoppelGANger in one dataclass, defaulting to the paper's WWT setup."""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

# DGConfig.lstm_implementation's values (fused_lstm.resolve_implementation turns "auto" into one
# of the other two)
LSTM_IMPLEMENTATIONS = ("auto", "keras", "fused")
# DGConfig.precision's values: Keras dtype policies (variables stay float32 in all three)
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# DGConfig.dp_clipping's values
DP_CLIPPINGS = ("ghost", "vectorized")


@dataclass
class DGConfig:
    # batch generation: records emitted per LSTM step (T must be divisible by it)
    sample_len: int = 10

    # noise dimensions (all N(0, 1))
    attribute_noise_dim: int = 5
    minmax_noise_dim: int = 5
    feature_noise_dim: int = 5

    # attribute (metadata) generator and min/max generator: Dense -> ReLU -> BatchNorm blocks
    attribute_hidden_layers: int = 2
    attribute_hidden_units: int = 100
    minmax_hidden_layers: int = 2
    minmax_hidden_units: int = 100
    batch_norm_momentum: float = 0.9
    batch_norm_epsilon: float = 1e-5

    # feature (measurement) generator
    feature_lstm_units: int = 100
    feature_lstm_layers: int = 1
    # how the LSTM runs (the same model and weights either way): "auto" = the fused CPU
    # operation (fused_lstm.py, built with g++ on first use) on machines without a GPU where it
    # builds, else Keras' LSTM (cuDNN on GPUs); "keras"; "fused" (an error where it cannot build)
    lstm_implementation: str = "auto"
    # arithmetic of the networks (a speed option for GPUs, not the original's float32):
    # "mixed_float16" / "mixed_bfloat16" compute the hidden layers in half precision with
    # float32 weights; output activations, critic scores, losses and the gradient penalty's
    # norm stay float32, and float16 runs scale the losses (Keras' LossScaleOptimizer). The
    # fused CPU LSTM always runs in float32. DP runs need float32.
    precision: str = "float32"

    # critics: hidden Dense(ReLU) layers then Dense(1), no normalisation
    critic_hidden_layers: int = 4
    critic_hidden_units: int = 200
    use_aux_critic: bool = True  # the auxiliary critic on attributes only
    aux_critic_hidden_layers: int = 4
    aux_critic_hidden_units: int = 200
    aux_critic_loss_weight: float = 1.0  # alpha in g_loss = -D(fake) - alpha * D_aux(fake)

    # WGAN-GP
    gradient_penalty_weight: float = 10.0
    aux_gradient_penalty_weight: float = 10.0

    # per-sample auto-normalisation of continuous features (the min/max "fake metadata")
    auto_normalize: bool = True
    # False = the original (per-sample min/max over all T_max steps, padding included);
    # True = over active steps only, padding kept at zero (better for variable-length data)
    auto_normalize_masked: bool = False
    # True = each generated series' normalised continuous values are stretched to span exactly
    # the normalisation's range (as every real series does after auto-normalisation), in
    # training and generation, so the generated min/max attributes are the series' own min/max
    # (a deviation; docs/design.md "Options"); False = the original
    exact_sample_range: bool = False
    # decay of an exponential moving average of the generator's weights, updated after every
    # generator step; generation uses the average (a GAN practice the original did not use:
    # it damps the step-to-step drift of what the generator produces; docs/design.md
    # "Options"); 0 = off, the original
    generator_average_decay: float = 0.0

    # optimisation (Adam for all three networks)
    generator_learning_rate: float = 1e-3
    critic_learning_rate: float = 1e-3
    aux_critic_learning_rate: float = 1e-3
    adam_beta_1: float = 0.5
    adam_beta_2: float = 0.999
    adam_epsilon: float = 1e-8
    batch_size: int = 100
    critic_steps: int = 1  # critic updates per batch
    generator_steps: int = 1  # generator updates per batch
    # the original draws batches with replacement; False shuffles without replacement
    sample_with_replacement: bool = True
    # speed option (not the original): the generator step reuses the last critic step's fake
    # batch (scored by the updated critics) instead of running the generator again on the
    # batch's noise with a fresh LSTM initial state (the original), saving one generator
    # forward pass per batch
    reuse_fake_batch: bool = False

    # differential privacy (DP-SGD on both critics); None = off
    dp_noise_multiplier: Optional[float] = None
    dp_l2_norm_clip: float = 1.0
    # how per-example gradients are clipped (same result, different cost): "ghost" = per-example
    # norms from activations and their gradients (about one plain step), "vectorized" =
    # tensorflow-privacy's VectorizedDPKerasAdamOptimizer (a per-example Jacobian, many times slower: docs/benchmarks.md)
    dp_clipping: str = "ghost"
    # DP runs draw each batch by Poisson sampling (every example independently with probability
    # batch_size / N), the sampling the accountant's analysis assumes, so epsilon is exact;
    # False keeps the fixed-size batches above (the original's: its epsilon assumed Poisson
    # sampling anyway, see docs/privacy.md)
    dp_poisson_sampling: bool = True

    def __post_init__(self):
        for field in dataclasses.fields(self):
            rule = FIELD_RULES.get(field.name)
            if rule is None:  # so that a new field cannot skip validation
                raise TypeError(f"DGConfig.{field.name} has no rule: add one to "
                                "doppelganger_tf.config.FIELD_RULES")
            value = getattr(self, field.name)
            try:
                setattr(self, field.name, rule.check(value))
            except (TypeError, ValueError) as error:
                # the type's name tells 2.0 from np.float64(2.0) or "2" from 2 at a glance
                got = (f"{value!r} ({type(value).__name__})" if isinstance(error, TypeError)
                       else repr(value))
                raise type(error)(f"DGConfig.{field.name} must be {rule}, got {got}") from None
        if self.dp_noise_multiplier is not None and self.precision != "float32":
            raise ValueError("DP training (dp_noise_multiplier set) runs in float32: its noise is "
                             "calibrated to float32 gradients; set precision='float32', got "
                             f"{self.precision!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DGConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown DGConfig fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)

    def replace(self, **changes) -> "DGConfig":
        return dataclasses.replace(self, **changes)


# The rules FIELD_RULES is made of. check() returns the value normalised to a plain Python type
# (so that to_dict() stays JSON-serialisable and an int given for a float field is stored as a
# float), or raises TypeError (wrong type) / ValueError (out of range) without a message:
# DGConfig words it from str(rule), so that a rule inside OrNone is described with its "or None".

@dataclass(frozen=True)
class Integer:
    """An int (numpy integers too) >= min. Not a bool (True is a 1 only by accident) and not a
    float, even 2.0: a float in an int field is more often a misplaced argument than a count."""
    min: int

    def check(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError
        if value < self.min:
            raise ValueError
        return int(value)

    def __str__(self):
        return f"an integer >= {self.min}"


@dataclass(frozen=True)
class Real:
    """A finite real number (ints and numpy scalars too, not bools), stored as a float, within
    low..high where given; closed says which given ends are allowed: "both", "left" (low),
    "right" (high) or "neither". Always finite: an inf or NaN hyper-parameter trains into NaN."""
    low: Optional[float] = None
    high: Optional[float] = None
    closed: str = "both"

    def __post_init__(self):
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError("Real.closed must be 'both', 'left', 'right' or 'neither', got "
                             f"{self.closed!r}")

    def check(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError
        try:
            value = float(value)
        except OverflowError:  # an int beyond float's range
            raise ValueError from None
        low_ok = (self.low is None or value > self.low
                  or (value == self.low and self.closed in ("both", "left")))
        high_ok = (self.high is None or value < self.high
                   or (value == self.high and self.closed in ("both", "right")))
        if not (math.isfinite(value) and low_ok and high_ok):
            raise ValueError
        return value

    def __str__(self):
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        if self.low is not None and self.high is not None:
            return f"a number in {left}{self.low}, {self.high}{right}"
        if self.low is not None:
            return f"a finite number {'>=' if left == '[' else '>'} {self.low}"
        if self.high is not None:
            return f"a finite number {'<=' if right == ']' else '<'} {self.high}"
        return "a finite number"


@dataclass(frozen=True)
class Boolean:
    """True or False (numpy bools too). Not 0/1, None or strings: bool("no") is True."""

    def check(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError
        return bool(value)

    def __str__(self):
        return "True or False"


@dataclass(frozen=True)
class Choice:
    """One of the strings in options."""
    options: tuple

    def check(self, value):
        if not isinstance(value, str):
            raise TypeError
        if value not in self.options:
            raise ValueError
        return str(value)  # a plain str, not a numpy.str_

    def __str__(self):
        return f"one of {self.options}"


@dataclass(frozen=True)
class OrNone:
    """None (which means `meaning`) or a value that rule accepts."""
    rule: object
    meaning: str

    def check(self, value):
        return None if value is None else self.rule.check(value)

    def __str__(self):
        return f"None ({self.meaning}) or {self.rule}"


_POSITIVE = Real(low=0, closed="neither")  # > 0 and finite
_NON_NEGATIVE = Real(low=0)  # >= 0 and finite

# The rule of every DGConfig field: DGConfig.__post_init__ checks each field with its rule and
# refuses a field without one (tests/test_config.py checks that the keys are the fields).
FIELD_RULES = {
    "sample_len": Integer(min=1),
    "attribute_noise_dim": Integer(min=1),
    "minmax_noise_dim": Integer(min=1),
    "feature_noise_dim": Integer(min=1),
    "attribute_hidden_layers": Integer(min=0),  # 0 = the output layers straight on the noise
    "attribute_hidden_units": Integer(min=1),
    "minmax_hidden_layers": Integer(min=0),
    "minmax_hidden_units": Integer(min=1),
    # a weight in Keras' moving average: moving = momentum * moving + (1 - momentum) * batch
    "batch_norm_momentum": Real(low=0, high=1),
    "batch_norm_epsilon": _POSITIVE,  # added to the variance before its square root
    "feature_lstm_units": Integer(min=1),
    "feature_lstm_layers": Integer(min=1),
    "lstm_implementation": Choice(LSTM_IMPLEMENTATIONS),
    "precision": Choice(PRECISIONS),
    "critic_hidden_layers": Integer(min=0),
    "critic_hidden_units": Integer(min=1),
    "use_aux_critic": Boolean(),
    "aux_critic_hidden_layers": Integer(min=0),
    "aux_critic_hidden_units": Integer(min=1),
    # a negative alpha would reward the generator for being told apart by the auxiliary critic
    "aux_critic_loss_weight": _NON_NEGATIVE,
    "gradient_penalty_weight": _NON_NEGATIVE,  # 0 = no penalty; negative rewards steep critics
    "aux_gradient_penalty_weight": _NON_NEGATIVE,
    "auto_normalize": Boolean(),
    "auto_normalize_masked": Boolean(),
    "exact_sample_range": Boolean(),
    # at 1 the average would never move from the initial weights
    "generator_average_decay": Real(low=0, high=1, closed="left"),
    "generator_learning_rate": _POSITIVE,
    "critic_learning_rate": _POSITIVE,
    "aux_critic_learning_rate": _POSITIVE,
    # Adam's decay rates: at 1 its bias correction divides by 1 - beta**t = 0
    "adam_beta_1": Real(low=0, high=1, closed="left"),
    "adam_beta_2": Real(low=0, high=1, closed="left"),
    "adam_epsilon": _POSITIVE,
    "batch_size": Integer(min=1),
    "critic_steps": Integer(min=1),
    "generator_steps": Integer(min=1),
    "sample_with_replacement": Boolean(),
    "reuse_fake_batch": Boolean(),
    # noise 0 would be DP in name only (an infinite epsilon): None switches DP off
    "dp_noise_multiplier": OrNone(_POSITIVE, meaning="no DP"),
    "dp_l2_norm_clip": _POSITIVE,
    "dp_clipping": Choice(DP_CLIPPINGS),
    "dp_poisson_sampling": Boolean(),
}
