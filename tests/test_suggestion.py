"""suggest_config on constructed data with known periods, level spreads and sizes (no training),
and on the real MBA and synthetic WWT data; Dataset.describe() prints it."""
import numpy as np
import pandas as pd
import pytest

from doppelganger_tf import Dataset, DGConfig, Suggestion, suggest_config
from doppelganger_tf import suggestion as sg
from doppelganger_tf.transforms import check_sample_len


def cycle(period, length, n=120, level=0.0, noise=0.5, lengths=None, attributes=True, seed=0,
          shape="sine"):
    """n series: a per-series level (std ``level``) + a cycle of ``period`` steps (random phase;
    None: no cycle) + noise; with a categorical attribute unless ``attributes=False``."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)[None, :] + rng.integers(0, period or 1, (n, 1))
    if period is None:
        wave = 0.0
    elif shape == "sine":
        wave = np.sin(2 * np.pi * t / period)
    else:  # one high step per cycle, as MBA's daily traffic
        wave = (t % period == 0) * 2.0
    x = rng.normal(0, level, (n, 1)) + wave + rng.normal(0, noise, (n, length))
    lens = None if lengths is None else rng.integers(lengths[0], lengths[1] + 1, n)
    attrs = (pd.DataFrame({"kind": rng.choice(["a", "b", "c"], n)}) if attributes else None)
    return Dataset.from_arrays(x[..., None], attrs, lengths=lens,
                               discrete_attributes="kind" if attributes else ())


def aligned(s, period):
    return s % period == 0 or period % s == 0


def assert_valid(s: Suggestion, data):
    """S divides the T it needs (the data's own T, or the T it names for a rebuild), and the
    LSTM runs a sensible number of steps."""
    assert isinstance(s.config, DGConfig)
    check_sample_len(s.padded_length, s.config.sample_len)
    assert s.rebuild == (s.padded_length != data.max_length)
    assert s.padded_length >= int(data.lengths.max())
    assert s.config.batch_size <= len(data)


# --- sample_len from the period -------------------------------------------------------------

@pytest.mark.parametrize("length", [56, 140, 550])
def test_weekly_cycle_gets_an_s_aligned_with_7(length):
    data = cycle(7, length)
    s = suggest_config(data)
    assert s.measurements["period"] == 7
    assert aligned(s.config.sample_len, 7), s.reasons
    assert s.config.sample_len > 1  # 1 "divides" 7, but leaves the cycle to the LSTM
    assert_valid(s, data)


def test_weekly_cycle_on_550_steps_asks_for_padding_to_553():
    """No S aligned with 7 divides 550 in a sensible number of steps: the data are padded to
    553 (the README job's length), and the reason says how."""
    data = cycle(7, 550)
    s = suggest_config(data)
    assert (s.config.sample_len, s.padded_length, s.rebuild) == (7, 553, True)
    reason = s.reasons["sample_len=7"]
    assert "from_dataframe(..., sample_len=7)" in reason and "553" in reason


@pytest.mark.parametrize("shape", ["sine", "peak"])
def test_four_step_cycle_gets_an_s_aligned_with_4(shape):
    data = cycle(4, 56, shape=shape)
    s = suggest_config(data)
    assert s.measurements["period"] == 4
    assert aligned(s.config.sample_len, 4)
    # MBA: S=8 (two cycles per step) where S=4 overshot the cycle
    assert s.config.sample_len == 8
    assert_valid(s, data)


def test_cycle_in_variable_length_series():
    data = cycle(7, 120, lengths=(30, 120))
    s = suggest_config(data)
    assert s.measurements["period"] == 7 and aligned(s.config.sample_len, 7)
    assert_valid(s, data)


@pytest.mark.parametrize("period,length", [(24, 336), (96, 672), (13, 130), (3, 60)])
def test_other_periods(period, length):
    """Long cycles get an S that divides them (the 96-step cycle's flat top included), short
    ones a multiple."""
    data = cycle(period, length)
    s = suggest_config(data)
    assert s.measurements["period"] == period
    assert aligned(s.config.sample_len, period)
    assert sg.MIN_LSTM_STEPS <= s.padded_length // s.config.sample_len <= sg.MAX_LSTM_STEPS
    assert_valid(s, data)


@pytest.mark.parametrize("kind", ["white", "random walk", "ar"])
def test_no_period_gets_the_default(kind):
    rng = np.random.default_rng(1)
    e = rng.normal(size=(150, 200))
    if kind == "random walk":
        e = e.cumsum(1)
    elif kind == "ar":
        for k in range(1, e.shape[1]):
            e[:, k] += 0.9 * e[:, k - 1]
    data = Dataset.from_arrays(e[..., None])
    s = suggest_config(data)
    assert s.measurements["period"] is None
    assert s.config.sample_len == 10  # the paper's, dividing T=200: 20 LSTM steps
    assert "no autocorrelation peak" in s.reasons["sample_len=10"]
    assert_valid(s, data)


def test_no_period_in_few_series():
    """The noise threshold grows with fewer series: 10 series of white noise show no period,
    10 series of a clear weekly cycle still do."""
    rng = np.random.default_rng(3)
    assert suggest_config(Dataset.from_arrays(rng.normal(size=(10, 60, 1)))
                          ).measurements["period"] is None
    assert suggest_config(cycle(7, 60, n=10)).measurements["period"] == 7


@pytest.mark.parametrize("length,expected", [(50, 10), (56, 8), (30, 6), (3, 1), (2000, 25)])
def test_default_sample_len_keeps_the_lstm_steps_in_range(length, expected):
    """Without a period: the largest S up to 10 dividing T with 4-80 LSTM steps (T=50: the
    paper's GCUT S=10), else the smallest S above 10 (T=2000: 80 steps), else 1."""
    data = Dataset.from_arrays(np.random.default_rng(0).normal(size=(20, length, 1)))
    s = suggest_config(data)
    assert s.config.sample_len == expected
    assert_valid(s, data)


def test_short_series_have_no_period():
    data = cycle(None, 5, lengths=(1, 5))
    s = suggest_config(data)
    assert s.measurements["period"] is None
    assert "too short for a period" in s.reasons[f"sample_len={s.config.sample_len}"]
    assert_valid(s, data)


def test_discrete_features_only():
    data = Dataset.from_arrays(np.random.default_rng(0).integers(0, 3, (30, 20, 1)),
                               discrete_features=[0])
    s = suggest_config(data)
    assert s.measurements["period"] is None and s.config.auto_normalize is False
    assert "no continuous feature" in str(s)


# --- auto-normalisation and the auxiliary critic --------------------------------------------

def test_widely_spread_levels_get_auto_normalisation_and_the_aux_critic():
    s = suggest_config(cycle(4, 56, level=4.0))  # 95% of the variance between series
    assert s.measurements["level_share"]["share"] > 0.9
    assert s.config.auto_normalize and s.config.use_aux_critic
    assert s.config.generator_average_decay == sg.AVERAGE_DECAY


def test_narrow_levels_get_one_global_scale():
    s = suggest_config(cycle(4, 56, level=0.3))  # 10% between series
    assert s.measurements["level_share"]["share"] < 0.2
    assert not s.config.auto_normalize and not s.config.use_aux_critic
    # the weight average is on with one global scale too (the MBA measurement)
    assert s.config.generator_average_decay == sg.AVERAGE_DECAY
    assert f"generator_average_decay={sg.AVERAGE_DECAY}" in str(s)


def test_no_attributes_no_aux_critic():
    for level in (0.3, 4.0):
        s = suggest_config(cycle(4, 56, level=level, attributes=False))
        assert not s.config.use_aux_critic
        assert s.reasons["use_aux_critic=False"] == "no attributes to judge"


def test_short_series_are_not_auto_normalised():
    data = cycle(None, 8, level=4.0)
    s = suggest_config(data)
    assert s.measurements["level_share"]["share"] > 0.9
    assert not s.config.auto_normalize
    assert "too short for per-series min/max" in s.reasons["auto_normalize=False"]


# --- batch and budget -----------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 80, 99, 100, 101, 250])
def test_batch_never_above_the_series(n):
    data = Dataset.from_arrays(np.random.default_rng(0).normal(size=(n, 20, 1)))
    s = suggest_config(data)
    assert s.config.batch_size == min(n, 100)
    assert s.steps_per_epoch == max(1, n // s.config.batch_size)


def test_budget_in_steps_covers_small_data_and_scales_with_n_over_batch():
    """Small data: at least 5,000 generator steps however few steps an epoch has (80 series:
    5,000 epochs, not the quickstart's old 400); large data: the paper's 400 epochs, so the
    steps grow with N / batch."""
    for n in (80, 600):
        s = suggest_config(Dataset.from_arrays(np.zeros((n, 4, 1)) + np.arange(4)[:, None]))
        assert s.steps == sg.MIN_TRAINING_STEPS
        assert s.epochs * s.steps_per_epoch >= s.steps > (s.epochs - 1) * s.steps_per_epoch
    budgets = {}
    for n in (3000, 6000):
        s = suggest_config(Dataset.from_arrays(np.zeros((n, 4, 1)) + np.arange(4)[:, None]))
        budgets[n] = s.steps
        assert s.epochs == sg.PAPER_EPOCHS and s.steps == 400 * (n // 100)
    assert budgets[6000] == 2 * budgets[3000]


def test_time_budget_bounds_the_epochs():
    data = cycle(7, 56)
    plain, timed = suggest_config(data), suggest_config(data, seconds=600)
    assert timed.seconds == 600.0 and plain.seconds is None
    assert timed.epochs == plain.epochs * sg.TIME_BUDGET_STEP_FACTOR
    assert "600 s of training" in timed.reasons["budget"]
    assert plain.callbacks() == []
    (limit,) = timed.callbacks()
    assert type(limit).__name__ == "TrainingTimeLimit" and limit.seconds == 600.0


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), True, "600"])
def test_bad_seconds_name_the_fix(seconds):
    with pytest.raises(ValueError, match="positive number of seconds"):
        suggest_config(cycle(7, 56), seconds=seconds)


# --- what the user sees ---------------------------------------------------------------------

def test_describe_prints_each_choice_with_its_reason():
    data = cycle(7, 56, level=4.0)
    lines = []
    data.describe(print_fn=lines.append)
    text = "\n".join(lines)
    s = suggest_config(data)
    assert "Suggested settings:" in text
    assert text.index("columns:") < text.index("Suggested settings:")
    for choice, reason in s.reasons.items():
        assert f"  {choice}: {reason}" in text
    assert "sample_len=7" in text and "peaks at lag 7" in text
    assert "batch_size=100" in text and "5,000 generator steps" in text
    data.describe(print_fn=lines.append, seconds=300)
    assert "300 s of training" in lines[-1]


def test_large_data_are_read_in_a_sample(monkeypatch):
    """Past MAX_SERIES the measurements read a seeded draw of series: describe() stays fast."""
    monkeypatch.setattr(sg, "MAX_SERIES", 50)
    data = cycle(7, 56, n=300)
    s = suggest_config(data)
    assert s.measurements["series_read"] == 50 and s.measurements["period"] == 7
    assert s.steps_per_epoch == 3  # the budget counts every series


# --- the repository's data ------------------------------------------------------------------

def test_mba_gets_the_hand_tuned_settings(shared_data):
    """The real MBA data: S=8, no auxiliary critic, no auto-normalisation, batch 100, as
    experiments/flags/mba_1200s.flags."""
    s = suggest_config(Dataset.load(shared_data / "fcc_mba"))
    assert s.measurements["period"] == 4
    c = s.config
    assert (c.sample_len, c.use_aux_critic, c.auto_normalize, c.generator_average_decay,
            c.batch_size) == (8, False, False, 0.98, 100)


def test_synthetic_wwt_gets_the_readme_job_settings():
    """The README job's data (500 pages x 553 days): S=7, the auxiliary critic,
    auto-normalisation and the weight average 0.98, 1,000 epochs, as wwt_quick.flags."""
    from doppelganger_tf.synthetic import wwt_like_dataset
    s = suggest_config(wwt_like_dataset(500, 553, seed=0))
    c = s.config
    assert (c.sample_len, c.use_aux_critic, c.auto_normalize, c.generator_average_decay,
            c.batch_size, s.epochs) == (7, True, True, 0.98, 100, 1000)


def test_the_measurement_script_runs():
    """bench/suggestion_rules.py's cheap sections still run against the module."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "bench/suggestion_rules.py", "--sections",
                             "period,levels"], cwd=root, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| 4-step peak (MBA-like) | 4 | 56 | 4 |" in result.stdout, result.stdout
