"""Every hyper-parameter of DoppelGANger in one dataclass, defaulting to the paper's WWT setup."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Optional

# DGConfig.lstm_implementation's values (fused_lstm.resolve_implementation turns "auto" into one
# of the other two)
LSTM_IMPLEMENTATIONS = ("auto", "keras", "fused")
# DGConfig.precision's values: Keras dtype policies (variables stay float32 in all three)
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
    # tensorflow-privacy's VectorizedDPKerasAdamOptimizer (a per-example Jacobian, ~10x)
    dp_clipping: str = "ghost"
    # DP runs draw each batch by Poisson sampling (every example independently with probability
    # batch_size / N), the sampling the accountant's analysis assumes, so epsilon is exact;
    # False keeps the fixed-size batches above (the original's: its epsilon assumed Poisson
    # sampling anyway, see docs/privacy.md)
    dp_poisson_sampling: bool = True

    def __post_init__(self):
        positive = ["sample_len", "attribute_noise_dim", "minmax_noise_dim", "feature_noise_dim",
                    "attribute_hidden_units", "minmax_hidden_units", "feature_lstm_units",
                    "feature_lstm_layers", "critic_hidden_units", "aux_critic_hidden_units",
                    "batch_size", "critic_steps", "generator_steps"]
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DGConfig.{name} must be a positive integer, got {value!r}")
        for name in ["attribute_hidden_layers", "minmax_hidden_layers", "critic_hidden_layers",
                     "aux_critic_hidden_layers"]:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"DGConfig.{name} must be an integer >= 0, got {value!r}")
        if self.dp_noise_multiplier is not None and not self.dp_noise_multiplier > 0:
            raise ValueError("DGConfig.dp_noise_multiplier must be > 0 (or None for no DP), got "
                             f"{self.dp_noise_multiplier!r}")
        if self.lstm_implementation not in LSTM_IMPLEMENTATIONS:
            raise ValueError(f"DGConfig.lstm_implementation must be one of "
                             f"{LSTM_IMPLEMENTATIONS}, got {self.lstm_implementation!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"DGConfig.precision must be one of {PRECISIONS}, got "
                             f"{self.precision!r}")
        if self.dp_noise_multiplier is not None and self.precision != "float32":
            raise ValueError("DP training (dp_noise_multiplier set) runs in float32: its noise is "
                             "calibrated to float32 gradients; set precision='float32', got "
                             f"{self.precision!r}")
        if self.dp_clipping not in ("ghost", "vectorized"):
            raise ValueError("DGConfig.dp_clipping must be 'ghost' or 'vectorized', got "
                             f"{self.dp_clipping!r}")
        if not self.dp_l2_norm_clip > 0:
            raise ValueError(f"DGConfig.dp_l2_norm_clip must be > 0, got {self.dp_l2_norm_clip!r}")
        for name in ["generator_learning_rate", "critic_learning_rate", "aux_critic_learning_rate",
                     "adam_epsilon"]:
            if not getattr(self, name) > 0:
                raise ValueError(f"DGConfig.{name} must be > 0, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DGConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown DGConfig fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def replace(self, **changes) -> "DGConfig":
        return dataclasses.replace(self, **changes)
