"""Every hyper-parameter of DoppelGANger in one dataclass, defaulting to the paper's WWT setup,
and the two settings of how a model runs on a machine (``lstm_implementation``, ``precision``),
which are arguments of ``DoppelGANger(...)`` rather than hyper-parameters."""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

# the run settings' values: how the LSTM runs (fused_lstm.resolve_implementation turns "auto"
# into one of the other two) and Keras dtype policies (variables stay float32 in all three)
LSTM_IMPLEMENTATIONS = ("auto", "keras", "fused")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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

    # differential privacy (DP-SGD on both critics); None = off
    dp_noise_multiplier: Optional[float] = None
    dp_l2_norm_clip: float = 1.0
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
                                "doppelganger_tf.gan.config.FIELD_RULES")
            value = getattr(self, field.name)
            try:
                setattr(self, field.name, rule.check(value))
            except (TypeError, ValueError) as error:
                # the type's name tells 2.0 from np.float64(2.0) or "2" from 2 at a glance
                got = (f"{value!r} ({type(value).__name__})" if isinstance(error, TypeError)
                       else repr(value))
                raise type(error)(f"DGConfig.{field.name} must be {rule}, got {got}") from None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DGConfig":
        """The config ``to_dict`` wrote, also one of an earlier version: a field removed since
        is dropped at its old default and an error at any other value (RETIRED_FIELDS)."""
        d = without_retired_fields(d)
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
    # noise 0 would be DP in name only (an infinite epsilon): None switches DP off
    "dp_noise_multiplier": OrNone(_POSITIVE, meaning="no DP"),
    "dp_l2_norm_clip": _POSITIVE,
    "dp_poisson_sampling": Boolean(),
}


# --- how a model runs: arguments of DoppelGANger(...), not hyper-parameters ----------------------

# the rules of DoppelGANger's run settings (their defaults: run_settings' arguments)
RUN_SETTING_RULES = {"lstm_implementation": Choice(LSTM_IMPLEMENTATIONS),
                     "precision": Choice(PRECISIONS)}


class RunSettingError(ValueError):
    """A run setting the model cannot take (its message names the setting and the choices)."""


def run_settings(config: DGConfig, lstm_implementation: str = "auto",
                 precision: str = "float32") -> dict:
    """The settings of how a model of ``config`` runs on this machine, checked; neither changes
    the model (its architecture and weights), so they are not in DGConfig.

    Args:
        config: the model's hyper-parameters (DP needs float32).
        lstm_implementation: "auto" (the fused CPU operation of fused_lstm.py where it builds
            and no GPU is present, else Keras' LSTM), "keras" or "fused" (an error where it
            cannot build). The same LSTM maths and weights; results differ in float rounding.
        precision: "float32" (the original's), or "mixed_float16" / "mixed_bfloat16": the
            hidden layers compute in half precision on float32 weights, a speed option for
            GPUs (docs/design.md, "Options").

    Returns:
        {"lstm_implementation": ..., "precision": ...} as plain strings.

    Raises:
        RunSettingError: a value outside the choices, or DP at a half precision.
    """
    settings = {}
    for name, value in (("lstm_implementation", lstm_implementation), ("precision", precision)):
        rule = RUN_SETTING_RULES[name]
        try:
            settings[name] = rule.check(value)
        except (TypeError, ValueError):
            raise RunSettingError(f"{name} must be {rule}, got {value!r}") from None
    if config.dp_noise_multiplier is not None and settings["precision"] != "float32":
        raise RunSettingError("DP training (dp_noise_multiplier set) runs in float32: its noise "
                              "is calibrated to float32 gradients; set precision='float32', "
                              f"got {settings['precision']!r}")
    return settings


def take_run_settings(config: dict):
    """(``config`` less the run settings, those it held): a saved config of doppelganger_tf
    0.2 or earlier, when they were DGConfig fields, keeps running as it ran."""
    rest = {k: v for k, v in config.items() if k not in RUN_SETTING_RULES}
    return rest, {k: v for k, v in config.items() if k in RUN_SETTING_RULES}


# --- fields removed from DGConfig -----------------------------------------------------------------

class RetiredFieldError(ValueError):
    """A DGConfig field removed since, at a value other than its old default."""


@dataclass(frozen=True)
class Retired:
    """A DGConfig field removed in doppelganger_tf ``version``. At ``default``, what every model
    had unless it asked otherwise, a config holding it (e.g. a saved model's) loads as before;
    another value cannot be honoured: ``message`` says why it went and what to do."""
    default: object
    why: str
    fix: str  # formatted with name=, value= and default= (the default as JSON writes it)
    version: str = "0.3.0"
    moved: bool = False  # still an option, elsewhere (``fix`` says where)

    def is_default(self, value) -> bool:
        if isinstance(self.default, bool):  # not 0, "false" or None
            return isinstance(value, (bool, np.bool_)) and bool(value) == self.default
        return isinstance(value, str) and value == self.default

    def message(self, name, value) -> str:
        what = ("moved out of DGConfig" if self.moved else "was removed") + \
            f" in doppelganger_tf {self.version}"
        return (f"DGConfig.{name}={value!r} {what} ({self.why}); "
                + self.fix.format(name=name, value=value, default=json.dumps(self.default)))


_MOVED_FIX = ("pass it to the model instead: DoppelGANger.from_dataset(data, config, "
              "{name}={value!r}) (also DoppelGANger(...) and DoppelGANger.load(path, "
              "{name}=...); the experiment scripts' --{name} flag is unchanged)")
_TRAINING_ONLY_FIX = ("it changed only how a model trained, not what it generates: to load a "
                      "model saved with it, set \"{name}\": {default} in its model.json; to "
                      "train with it, use doppelganger_tf 0.2.0")

RETIRED_FIELDS = {
    "reuse_fake_batch": Retired(
        False, why="it measured worse: ~19% faster, but a worse autocorrelation MSE on every "
        "seed (MBA: 0.048 against 0.014 on average); docs/performance.md, 'Options measured "
        "and not kept'", fix=_TRAINING_ONLY_FIX),
    "exact_sample_range": Retired(
        False, why="it measured worse: mixed per-sample levels, worse linear forecasts and a "
        "higher autocorrelation MSE; docs/performance.md, 'Options measured and not kept'",
        fix="it changed what the model generates, which this version cannot reproduce: load "
        "the model with doppelganger_tf 0.2.0, or train a new one without it "
        "(generator_average_decay=0.98 brings the per-sample levels closer)"),
    "dp_clipping": Retired(
        "ghost", why="tensorflow-privacy's vectorized optimizer clips as the default ghost "
        "clipping does, ~11x slower and on the reference stack only: it remains a cross-check "
        "in the tests",
        fix=_TRAINING_ONLY_FIX),
    "lstm_implementation": Retired(
        "auto", why="it says how the LSTM runs, not what the model is", fix=_MOVED_FIX,
        moved=True),
    "precision": Retired(
        "float32", why="it says how the networks compute on a machine, not what the model is",
        fix=_MOVED_FIX, moved=True),
}


def without_retired_fields(fields: dict) -> dict:
    """``fields`` (DGConfig's, by name) less the RETIRED_FIELDS at their old default; at another
    value one is a RetiredFieldError saying why it went and what to do."""
    for name in sorted(RETIRED_FIELDS.keys() & fields.keys()):
        if not RETIRED_FIELDS[name].is_default(fields[name]):
            raise RetiredFieldError(RETIRED_FIELDS[name].message(name, fields[name]))
    return {k: v for k, v in fields.items() if k not in RETIRED_FIELDS}


def _without_retired_fields(init):
    """DGConfig's constructor, taking a retired field as from_dict does: code written for an
    earlier version gets the reason and the fix rather than "unexpected keyword argument"."""
    @functools.wraps(init)
    def __init__(self, *args, **fields):
        init(self, *args, **without_retired_fields(fields))
    return __init__


DGConfig.__init__ = _without_retired_fields(DGConfig.__init__)
