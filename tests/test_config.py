"""DGConfig's validation: every field's type and range, and from_dict's round trip.

Pure Python (no TensorFlow): EXPECTED below restates each field's rule independently of
config.FIELD_RULES, and the cases are generated from it for every field."""
import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from doppelganger_tf import config as config_module
from doppelganger_tf.config import (RETIRED_FIELDS, DGConfig, RetiredFieldError,
                                    RunSettingError, run_settings)

FIELDS = [f.name for f in dataclasses.fields(DGConfig)]
INF, NAN = math.inf, math.nan


def integer(min):
    return ("int", min)


def real(low=None, high=None, low_closed=True, high_closed=True):
    return ("real", low, high, low_closed, high_closed)


BOOL = ("bool",)
POSITIVE = real(0, low_closed=False)
NON_NEGATIVE = real(0)
BETA = real(0, 1, high_closed=False)

# each field's rule, written from its meaning (see config.py's comments)
EXPECTED = {
    "sample_len": integer(1),
    "attribute_noise_dim": integer(1),
    "minmax_noise_dim": integer(1),
    "feature_noise_dim": integer(1),
    "attribute_hidden_layers": integer(0),
    "attribute_hidden_units": integer(1),
    "minmax_hidden_layers": integer(0),
    "minmax_hidden_units": integer(1),
    "batch_norm_momentum": real(0, 1),
    "batch_norm_epsilon": POSITIVE,
    "feature_lstm_units": integer(1),
    "feature_lstm_layers": integer(1),
    "critic_hidden_layers": integer(0),
    "critic_hidden_units": integer(1),
    "use_aux_critic": BOOL,
    "aux_critic_hidden_layers": integer(0),
    "aux_critic_hidden_units": integer(1),
    "aux_critic_loss_weight": NON_NEGATIVE,
    "gradient_penalty_weight": NON_NEGATIVE,
    "aux_gradient_penalty_weight": NON_NEGATIVE,
    "auto_normalize": BOOL,
    "auto_normalize_masked": BOOL,
    "generator_average_decay": BETA,  # [0, 1): at 1 the average never moves
    "generator_learning_rate": POSITIVE,
    "critic_learning_rate": POSITIVE,
    "aux_critic_learning_rate": POSITIVE,
    "adam_beta_1": BETA,
    "adam_beta_2": BETA,
    "adam_epsilon": POSITIVE,
    "batch_size": integer(1),
    "critic_steps": integer(1),
    "generator_steps": integer(1),
    "sample_with_replacement": BOOL,
    "dp_noise_multiplier": ("optional", POSITIVE),
    "dp_l2_norm_clip": POSITIVE,
    "dp_poisson_sampling": BOOL,
}


def cases(rule):
    """(accepted values, [(refused value, exception type)]) for one rule."""
    kind = rule[0]
    if kind == "optional":
        good, bad = cases(rule[1])
        return [None] + good, [(value, error) for value, error in bad if value is not None]
    if kind == "int":
        m = rule[1]
        good = [m, m + 7, np.int64(m), np.int32(m + 1)]
        bad = [(m - 1, ValueError), (m - 100, ValueError), (np.int64(m - 1), ValueError),
               (float(m + 1), TypeError), (np.float64(m + 1), TypeError), (NAN, TypeError),
               (INF, TypeError), (-INF, TypeError), (str(m + 1), TypeError), (True, TypeError),
               (np.bool_(True), TypeError), (None, TypeError)]
        return good, bad
    if kind == "real":
        _, low, high, low_closed, high_closed = rule
        bad = [(NAN, ValueError), (np.float32("nan"), ValueError), (INF, ValueError),
               (-INF, ValueError), ("0.5", TypeError), (True, TypeError),
               (np.bool_(False), TypeError), (None, TypeError), ([0.5], TypeError),
               (1j, TypeError), (10**400, ValueError)]  # an int beyond float's range
        good = []
        # the ends: allowed where closed, refused where open; one float step outside refused
        just_above, just_below = math.nextafter(low, INF), math.nextafter(low, -INF)
        good.append(low if low_closed else just_above)
        bad += [(just_below, ValueError), (low - 1, ValueError)]
        if not low_closed:
            bad.append((low, ValueError))
        if high is None:
            good += [int(low) + 3, 1e6, np.float32(0.25) + low]  # ints are numbers too
        else:
            below_high, above_high = math.nextafter(high, -INF), math.nextafter(high, INF)
            good += [high if high_closed else below_high, (low + high) / 2, np.float32(0.5)]
            bad += [(above_high, ValueError), (high + 1, ValueError)]
            if not high_closed:
                bad.append((high, ValueError))
        return good, bad
    if kind == "bool":
        return ([True, False, np.bool_(True), np.bool_(False)],
                [(value, TypeError) for value in ("no", "", "False", 0, 1, 1.0, None, NAN)])
    if kind == "choice":
        options = rule[1]
        return (list(options) + [np.str_(options[-1])],
                [("nope", ValueError), (options[0].upper() + "!", ValueError), ("", ValueError),
                 (None, TypeError), (0, TypeError), (options[0].encode(), TypeError)])
    raise AssertionError(rule)


GOOD = [(name, value) for name in FIELDS for value in cases(EXPECTED[name])[0]]
BAD = [(name, value, error) for name in FIELDS for value, error in cases(EXPECTED[name])[1]]


def test_every_field_has_a_rule_and_a_test():
    assert set(config_module.FIELD_RULES) == set(FIELDS)
    assert set(EXPECTED) == set(FIELDS)


def test_a_field_without_a_rule_is_refused(monkeypatch):
    monkeypatch.delitem(config_module.FIELD_RULES, "batch_size")
    with pytest.raises(TypeError, match="DGConfig.batch_size has no rule: add one to"):
        DGConfig()


@pytest.mark.parametrize("name, value", GOOD, ids=[f"{n}={v!r}"[:60] for n, v in GOOD])
def test_valid_values_are_stored_as_plain_python_values(name, value):
    stored = getattr(DGConfig(**{name: value}), name)
    plain = {"int": int, "real": float, "bool": bool, "choice": str}
    rule = EXPECTED[name]
    if value is None:
        assert stored is None
        return
    rule = rule[1] if rule[0] == "optional" else rule
    assert type(stored) is plain[rule[0]] and stored == value
    json.dumps(DGConfig(**{name: value}).to_dict())  # numpy scalars would not serialise


@pytest.mark.parametrize("name, value, error", BAD, ids=[f"{n}={v!r}"[:60] for n, v, _ in BAD])
def test_invalid_values_are_refused_naming_field_value_and_rule(name, value, error):
    with pytest.raises(error) as caught:
        DGConfig(**{name: value})
    message = str(caught.value)
    assert message.startswith(f"DGConfig.{name} must be "), message
    assert f"got {value!r}" in message
    # the replace() path checks the same
    with pytest.raises(error, match=re.escape(f"DGConfig.{name} must be ")):
        DGConfig().replace(**{name: value})


@pytest.mark.parametrize("changes, message", [
    (dict(adam_beta_1=1.5), "DGConfig.adam_beta_1 must be a number in [0, 1), got 1.5"),
    (dict(batch_norm_momentum=2.0), "DGConfig.batch_norm_momentum must be a number in [0, 1], "
                                    "got 2.0"),
    (dict(aux_critic_loss_weight=NAN), "DGConfig.aux_critic_loss_weight must be a finite number "
                                       ">= 0, got nan"),
    (dict(dp_l2_norm_clip=INF), "DGConfig.dp_l2_norm_clip must be a finite number > 0, got inf"),
    (dict(gradient_penalty_weight=-5), "DGConfig.gradient_penalty_weight must be a finite "
                                       "number >= 0, got -5"),
    (dict(dp_noise_multiplier=0), "DGConfig.dp_noise_multiplier must be None (no DP) or a finite "
                                  "number > 0, got 0"),
    (dict(use_aux_critic="no"), "DGConfig.use_aux_critic must be True or False, got 'no' (str)"),
    (dict(sample_len=2.0), "DGConfig.sample_len must be an integer >= 1, got 2.0 (float)"),
])
def test_the_issues_examples_read_well(changes, message):
    with pytest.raises((TypeError, ValueError)) as caught:
        DGConfig(**changes)
    assert str(caught.value) == message


# --- the run settings (arguments of the model, not DGConfig fields) -----------------------------

def test_run_settings_are_checked_and_dp_needs_float32():
    assert run_settings(DGConfig()) == {"lstm_implementation": "auto", "precision": "float32"}
    assert run_settings(DGConfig(), np.str_("fused"), "mixed_bfloat16") == {
        "lstm_implementation": "fused", "precision": "mixed_bfloat16"}
    with pytest.raises(RunSettingError) as caught:
        run_settings(DGConfig(), precision="float16")
    assert str(caught.value) == ("precision must be one of ('float32', 'mixed_float16', "
                                 "'mixed_bfloat16'), got 'float16'")
    with pytest.raises(RunSettingError, match="lstm_implementation must be one of"):
        run_settings(DGConfig(), lstm_implementation="cudnn")
    with pytest.raises(RunSettingError, match="DP training .* float32"):
        run_settings(DGConfig(dp_noise_multiplier=1.0), precision="mixed_float16")
    run_settings(DGConfig(dp_noise_multiplier=1.0), precision="float32")


@pytest.mark.parametrize("changes", [
    {},  # the paper's WWT settings
    dict(sample_len=8, use_aux_critic=False, auto_normalize=False),  # MBA
    dict(sample_len=10, use_aux_critic=False, auto_normalize=False),  # GCUT
    *[dict(dp_noise_multiplier=z) for z in (0.01, 0.1, 1.0, 2.0, 4.0)],  # the DP sweep (Fig. 16)
    dict(batch_size=1000),  # a speed option
])
def test_the_defaults_and_the_papers_settings_construct(changes):
    config = DGConfig(**changes)
    assert all(getattr(config, name) == value for name, value in changes.items())


def json_round_trip(config):
    return DGConfig.from_dict(json.loads(json.dumps(config.to_dict())))


def test_from_dict_round_trips_the_defaults():
    config = DGConfig()
    loaded = json_round_trip(config)
    assert loaded == config
    assert [type(getattr(loaded, n)) for n in FIELDS] == [type(getattr(config, n)) for n in FIELDS]


# every field changed to another valid value
CHANGED = dict(
    sample_len=5, attribute_noise_dim=3, minmax_noise_dim=4, feature_noise_dim=6,
    attribute_hidden_layers=0, attribute_hidden_units=7, minmax_hidden_layers=3,
    minmax_hidden_units=9, batch_norm_momentum=0.99, batch_norm_epsilon=1e-3,
    feature_lstm_units=11, feature_lstm_layers=2,
    critic_hidden_layers=1, critic_hidden_units=13, use_aux_critic=False,
    aux_critic_hidden_layers=0, aux_critic_hidden_units=17, aux_critic_loss_weight=0.0,
    gradient_penalty_weight=5, aux_gradient_penalty_weight=0.5, auto_normalize=False,
    auto_normalize_masked=True, generator_average_decay=0.99,
    generator_learning_rate=2e-4,
    critic_learning_rate=3e-4,
    aux_critic_learning_rate=4e-4, adam_beta_1=0.0, adam_beta_2=0.9, adam_epsilon=1e-7,
    batch_size=32, critic_steps=5, generator_steps=2, sample_with_replacement=False,
    dp_noise_multiplier=1.5, dp_l2_norm_clip=0.25, dp_poisson_sampling=False)


def test_from_dict_round_trips_a_config_with_every_field_changed():
    default = DGConfig()
    assert set(CHANGED) == set(FIELDS)
    config = DGConfig(**CHANGED)
    assert all(getattr(config, name) != getattr(default, name) for name in CHANGED)
    assert json_round_trip(config) == config
    assert type(DGConfig(**CHANGED).gradient_penalty_weight) is float  # given the int 5


def test_from_dict_takes_json_ints_for_float_fields_and_refuses_unknown_fields():
    config = DGConfig.from_dict(json.loads('{"gradient_penalty_weight": 10, "adam_epsilon": 1e-8,'
                                           ' "dp_noise_multiplier": 2}'))
    assert config.gradient_penalty_weight == 10.0 and type(config.gradient_penalty_weight) is float
    assert type(config.dp_noise_multiplier) is float
    with pytest.raises(ValueError, match="unknown DGConfig fields"):
        DGConfig.from_dict({"learning_rate": 1e-3})
    with pytest.raises(TypeError, match="DGConfig.use_aux_critic must be True or False"):
        DGConfig.from_dict({"use_aux_critic": "true"})


@pytest.mark.parametrize("stack", ["reference", "current"])
def test_the_saved_models_configs_still_load(stack):
    path = Path(__file__).parent / "data" / "saved_models" / stack / "model" / "model.json"
    saved = json.loads(path.read_text())["config"]
    # fields added since take their defaults (the original's behaviour); those removed since
    # were saved at their defaults, which are dropped
    assert set(saved) & set(RETIRED_FIELDS)
    kept = {k: v for k, v in saved.items() if k not in RETIRED_FIELDS}
    assert DGConfig.from_dict(saved).to_dict() == {**DGConfig().to_dict(), **kept}


# --- fields removed since an earlier version ----------------------------------------------------

# each removed field at its old default, as doppelganger_tf 0.2.0 wrote it into model.json
OLD_DEFAULTS = {"lstm_implementation": "auto", "precision": "float32", "exact_sample_range": False,
                "reuse_fake_batch": False, "dp_clipping": "ghost"}
# a value other than the default, the option it stood for
OLD_OPTIONS = {"lstm_implementation": "fused", "precision": "mixed_float16",
               "exact_sample_range": True, "reuse_fake_batch": True, "dp_clipping": "vectorized"}


def test_the_removed_fields_are_listed_with_their_old_defaults():
    assert set(RETIRED_FIELDS) == set(OLD_DEFAULTS)
    assert not set(RETIRED_FIELDS) & set(FIELDS)
    assert {name: retired.default for name, retired in RETIRED_FIELDS.items()} == OLD_DEFAULTS


def test_an_old_config_with_the_removed_fields_at_their_defaults_loads():
    old = {**DGConfig(sample_len=5).to_dict(), **OLD_DEFAULTS}
    assert DGConfig.from_dict(json.loads(json.dumps(old))) == DGConfig(sample_len=5)
    assert DGConfig(sample_len=5, **OLD_DEFAULTS) == DGConfig(sample_len=5)  # code of 0.2.0
    assert DGConfig.from_dict({"reuse_fake_batch": np.bool_(False)}) == DGConfig()


@pytest.mark.parametrize("name", sorted(OLD_OPTIONS))
def test_a_removed_option_names_the_version_and_what_to_do(name):
    value = OLD_OPTIONS[name]
    for load in (lambda: DGConfig.from_dict({**DGConfig().to_dict(), name: value}),
                 lambda: DGConfig(**{name: value})):
        with pytest.raises(RetiredFieldError) as caught:
            load()
        message = str(caught.value)
        assert message.startswith(f"DGConfig.{name}={value!r} ")
        assert "in doppelganger_tf 0.3.0 (" in message
        if name in ("lstm_implementation", "precision"):  # moved: where to pass it now
            assert f"DoppelGANger.from_dataset(data, config, {name}={value!r})" in message
        else:  # removed: how to load a model saved with it, or which version has it
            assert "0.2.0" in message


@pytest.mark.parametrize("value", [0, "false", None, "False"])
def test_a_removed_flag_must_be_its_exact_old_default_to_be_ignored(value):
    with pytest.raises(RetiredFieldError, match="reuse_fake_batch"):
        DGConfig.from_dict({"reuse_fake_batch": value})
