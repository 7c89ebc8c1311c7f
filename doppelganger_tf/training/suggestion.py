"""Settings suggested from the data: :func:`suggest_config` (issue 30, item 2).

A new dataset needs a sample_len S, a choice of auxiliary critic and auto-normalisation, a batch
size and a training budget. Each is chosen here from a measurement on the data, by a rule that
docs/tuning.md backs with the repository's runs (the numbers in the comments come from there;
``python bench/suggestion_rules.py`` measures the data side again).

numpy only (no TensorFlow): ``Dataset.describe()`` prints the suggestion.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from .. import arguments
from ..data.outputs import output_blocks
from ..gan.config import DGConfig

# --- sample_len ---------------------------------------------------------------------------------

# The paper's S for WWT and GCUT (MBA: 8). Among the S that fit the period, the largest up to
# this one: MBA (period 4) S=8 reached ACF MSE 0.0025-0.0034 where S=4 overshot the daily cycle
# (lag-4 autocorrelation 0.70 against the real 0.46, ACF MSE 0.0097).
TARGET_SAMPLE_LEN = 10
# LSTM steps T/S: the paper's GCUT ran 5 (T=50, S=10), MBA 7, WWT 55; the README's job runs 79
# (T=553, S=7). Fewer than 4 steps leave the LSTM nothing to carry; more than 80 were not tried.
MIN_LSTM_STEPS = 4
MAX_LSTM_STEPS = 80

# --- period detection ---------------------------------------------------------------------------

# a peak of the average autocorrelation counts when it rises this much above the lowest value
# at a shorter lag: MBA traffic's lag-4 peak is 0.63 above its trough, the synthetic WWT views'
# lag-7 peak 0.21; in 200 series x 200 steps without a period (white noise, AR(1) 0.5-0.99,
# random walk, trend; 20 seeds) no local maximum rose more than 0.057 (bench/suggestion_rules.py)
MIN_PEAK_PROMINENCE = 0.1
# ... and this many times 1 / sqrt(active steps read), the average's noise: with few series it
# is larger (white noise, 10 series x 60 steps: 0.20); the most prominent maximum without a
# period over 20 seeds and sizes from 3 x 300 to 200 x 200 was 15.1 / sqrt(steps) (AR(1) 0.9,
# 10 x 500)
NOISE_PROMINENCE = 16.0
# series read for the measurements (a seeded draw when there are more), so that describe()
# stays fast on large data: on 10,000 synthetic WWT pages five draws of 2,000 read the peak's
# height and prominence within 0.008 and the level share within 0.0005 of all 10,000
MAX_SERIES = 2000

# --- auto-normalisation and the auxiliary critic ----------------------------------------------

# share of a feature's variance that lies between the series' means: synthetic WWT views 0.98
# (the paper normalises WWT per series), MBA traffic 0.37 and ping loss 0.10 (the paper does
# not). Constructed runs (docs/tuning.md): at shares 0.1-0.6 auto-normalisation put the
# per-series means and stds further from the real ones; at 0.95 one global scale lost the
# series' own variation (per-series std 206-221x its floor, 54-64x with it and the average)
LEVEL_SHARE_FOR_AUTO_NORMALIZE = 0.8
# a series' own min/max need a few values to mean something: with shorter series the min/max
# attributes are the values themselves
MIN_LENGTH_FOR_AUTO_NORMALIZE = 10
# the generator's weight average, on for every dataset. With auto-normalisation it brought the
# README job's per-page levels within 2x the floor (1.2-2.3x without) on three seeds; with one
# global scale (the real MBA data, 1,200 s, seeds 0-2) the last epoch's weights met the paper's
# goals on 2 seeds, none without (docs/tuning.md, "Auto-normalisation and the weight average")
AVERAGE_DECAY = 0.98
WEIGHT_AVERAGE_REASON = (
    "generation uses a moving average of the generator's weights, which damps its drift from "
    "step to step: the last epoch's weights met the MBA goals on 2 of 3 seeds with it (0 "
    "without), and the README job's per-page mean came within 2x the real-vs-real floor")

# --- batch and budget -----------------------------------------------------------------------------

# the paper's batch; a smaller one for fewer series than this costs per series seen: at the
# issue's shape (80 series x 336 steps, S=8) a step took 10.9 ms at batch 10 and 32.7 ms at 80
# (medians, bench/suggestion_rules.py --sections batch)
PAPER_BATCH_SIZE = 100
# issue 30's user got usable output on 80 series only at 3,000 steps (not at 300), and the
# README's job was 2x below the HMM's autocorrelation MSE on one seed of three at 2,000 steps,
# on all three (2.3-3.1x) at 5,000
MIN_TRAINING_STEPS = 5000
# the paper's epochs for its large datasets (WWT and GCUT: 50,000 series, 400 epochs)
PAPER_EPOCHS = 400
# with a time budget the time decides; the epochs only bound it, at this many times the step
# budget: 250,000 steps for small data, above the paper's longest trainings (WWT and GCUT:
# 200,000 steps) and above what a 1,200 s MBA run makes on 2 cores (~21,000 epochs of 6 steps)
TIME_BUDGET_STEP_FACTOR = 50


@dataclass
class Suggestion:
    """What :func:`suggest_config` suggests; ``str()`` gives one line per choice with its reason.

    Attributes:
        config: The suggested :class:`DGConfig`.
        epochs: Training epochs; with ``seconds``, an upper bound.
        steps: Generator steps in all (``epochs`` x ``steps_per_epoch``).
        steps_per_epoch: N // batch_size.
        seconds: The wall-time budget asked for, or None.
        padded_length: The T the data need for ``config.sample_len``.
        rebuild: True when ``padded_length`` is not the Dataset's T: build it again with
            ``sample_len=config.sample_len``.
        reasons: {choice: one line with the numbers behind it}.
        measurements: The figures read from the data (period, peak, level share...).
    """
    config: DGConfig
    epochs: int
    steps: int
    steps_per_epoch: int
    seconds: Optional[float]
    padded_length: int
    rebuild: bool
    reasons: Dict[str, str]
    measurements: Dict[str, object] = field(default_factory=dict)

    def callbacks(self) -> list:
        """The callbacks that enforce the budget.

        Returns:
            ``[TrainingTimeLimit(seconds)]`` with a time budget, else ``[]``.
        """
        if self.seconds is None:
            return []
        from .stopping import TrainingTimeLimit  # imports TensorFlow: only when asked
        return [TrainingTimeLimit(self.seconds)]

    def __str__(self) -> str:
        lines = ["Suggested settings:"]
        lines += [f"  {choice}: {reason}" for choice, reason in self.reasons.items()]
        return "\n".join(lines)


def suggest_config(data, seconds: Optional[float] = None) -> Suggestion:
    """Suggest a :class:`DGConfig` and a training budget from the data.

    ``sample_len`` comes from the series' dominant period and T, auto-normalisation and the
    auxiliary critic from how widely the series' levels spread and from the attributes, then
    the batch and at least 5,000 generator steps; each choice comes with its reason
    (docs/tuning.md: the rules, the measurements behind them, when to override).

    Args:
        data: The training Dataset.
        seconds: A training budget in wall time; the suggestion's ``callbacks()`` then hold
            a ``TrainingTimeLimit(seconds)`` and ``epochs`` is an upper bound.

    Returns:
        The :class:`Suggestion`.

    Raises:
        ValueError: When ``seconds`` is not a positive number.
    """
    seconds = _check_seconds(seconds)
    columns = continuous_columns(data)
    lengths = np.asarray(data.lengths)
    rows = _rows(len(data))
    period, peak = dominant_period(data, columns, rows, lengths[rows])
    sample_len, padded, sample_reason = choose_sample_len(
        data.max_length, int(lengths.max()), period, peak)
    share = level_share(data, columns, rows, lengths[rows])
    auto_norm, norm_reason = choose_auto_normalize(share, float(np.median(lengths)))
    aux, aux_reason = choose_aux_critic(len(data.attribute_outputs), auto_norm)
    batch, batch_reason = choose_batch_size(len(data))
    per_epoch = max(1, len(data) // batch)  # the model's epoch: N // batch steps
    steps, epochs, budget_reason = choose_budget(per_epoch, batch, len(data), seconds)
    config = DGConfig(sample_len=sample_len, use_aux_critic=aux, auto_normalize=auto_norm,
                      generator_average_decay=AVERAGE_DECAY, batch_size=batch)
    reasons = {f"sample_len={sample_len}": sample_reason,
               f"auto_normalize={auto_norm}": norm_reason,
               f"use_aux_critic={aux}": aux_reason}
    reasons[f"generator_average_decay={AVERAGE_DECAY}"] = WEIGHT_AVERAGE_REASON
    reasons[f"batch_size={batch}"] = batch_reason
    reasons["budget"] = budget_reason
    measurements = {"period": period, "peak": peak, "level_share": share,
                    "series_read": len(rows), "median_length": float(np.median(lengths))}
    return Suggestion(config=config, epochs=epochs, steps=steps, steps_per_epoch=per_epoch,
                      seconds=seconds, padded_length=padded, rebuild=padded != data.max_length,
                      reasons=reasons, measurements=measurements)


def _check_seconds(seconds) -> Optional[float]:
    if seconds is None:
        return None
    if not arguments.is_positive_number(seconds):
        raise ValueError(f"suggest_config: seconds must be a positive number of seconds of wall "
                         f"time, or None for a budget in steps; got {seconds!r}")
    return float(seconds)


def continuous_columns(data) -> List[int]:
    """Encoded feature columns of the continuous outputs (the ones with a shape in time)."""
    return [col for out, start, stop in output_blocks(data.feature_outputs)
            if out.is_continuous for col in range(start, stop)]


def _rows(n: int) -> np.ndarray:
    """The series the measurements read: all, or a seeded draw of MAX_SERIES (sorted, so that
    memory-mapped data are read in order)."""
    if n <= MAX_SERIES:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, MAX_SERIES, replace=False))


def _active_values(data, column: int, rows: np.ndarray, lengths: np.ndarray):
    """(values [n, T] float64 with zeros after each series' end, mask [n, T], lengths [n]) of
    one encoded column of the series ``rows`` (whose lengths are ``lengths``)."""
    values = np.asarray(data.features[rows, :, column], np.float64)
    mask = np.arange(values.shape[1])[None, :] < lengths[:, None]
    return np.where(mask, values, 0.0), mask, lengths


# --- the period ---------------------------------------------------------------------------------

def average_autocorrelation(values, mask, lengths, max_lag: int) -> Optional[np.ndarray]:
    """The mean over series of each series' autocorrelation at lags 0..max_lag (its own mean
    removed, the biased estimator: sum x_t x_(t+k) / sum x_t^2 over its active steps, so that
    far lags, read over fewer pairs, weigh less). Constant series carry no shape and are left
    out; None when all are constant."""
    centred = np.where(mask, values - values.sum(1, keepdims=True) / lengths[:, None], 0.0)
    size = 1 << int(math.ceil(math.log2(2 * values.shape[1])))  # no wrap-around in the FFT
    spectrum = np.fft.rfft(centred, size, axis=1)
    products = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, :max_lag + 1]
    # a relative floor: a series whose variance is float32 rounding is constant
    varying = products[:, 0] > 1e-12 * np.maximum(1.0, (values ** 2).sum(1))
    if not varying.any():
        return None
    return (products[varying] / products[varying, :1]).mean(0)


def find_period(curve: np.ndarray, min_prominence: float = MIN_PEAK_PROMINENCE):
    """(lag, height, prominence) of the highest peak of an autocorrelation curve that rises at
    least ``min_prominence`` above the lowest value at a shorter lag, or None. The highest,
    not the first: the biased estimator makes the fundamental higher than its multiples, and a
    weaker half-period bump loses to it."""
    best = None
    for lag in range(2, len(curve) - 1):
        if not (curve[lag] > curve[lag - 1] and curve[lag] >= curve[lag + 1]):
            continue
        prominence = curve[lag] - curve[1:lag].min()
        if prominence >= min_prominence and (best is None or curve[lag] > best[1]):
            best = (refine_period(curve, lag), float(curve[lag]), float(prominence))
    return best


def refine_period(curve: np.ndarray, lag: int) -> int:
    """The lag within 5% (at least 1) of a peak whose multiples have the highest mean
    autocorrelation: the top of a long cycle's peak is flat (a 96-step cycle: lags 95 and 96
    differ by 0.0003, below the noise), its third multiple is not."""
    width = max(1, lag // 20)
    candidates = range(max(2, lag - width), min(len(curve) - 1, lag + width) + 1)
    return max(candidates, key=lambda c: (curve[c::c].mean(), -abs(c - lag)))


def dominant_period(data, columns, rows, lengths):
    """(period or None, peak description) over the continuous features: each column's average
    autocorrelation up to half the median length (two cycles must fit), the most prominent
    peak above the noise."""
    if not columns:
        return None, {"why": "no continuous feature"}
    max_lag = int(np.median(lengths)) // 2
    if max_lag < 3:
        return None, {"why": f"median length {np.median(lengths):g}: too short for a period"}
    threshold = max(MIN_PEAK_PROMINENCE, NOISE_PROMINENCE / math.sqrt(lengths.sum()))
    best, names = None, _column_names(data)
    for column in columns:
        curve = average_autocorrelation(*_active_values(data, column, rows, lengths), max_lag)
        peak = None if curve is None else find_period(curve, threshold)
        if peak is not None and (best is None or peak[2] > best["prominence"]):
            best = {"column": names[column], "lag": peak[0], "height": peak[1],
                    "prominence": peak[2], "max_lag": max_lag}
    if best is None:
        return None, {"why": f"no autocorrelation peak {threshold:.2g} above its trough up to "
                             f"lag {max_lag}", "max_lag": max_lag}
    return best["lag"], best


def _column_names(data) -> Dict[int, str]:
    names = {}
    for out, start, stop in output_blocks(data.feature_outputs):
        for col in range(start, stop):
            names[col] = out.name if out.dim == 1 else f"{out.name}_{col - start}"
    return names


def choose_sample_len(length: int, longest: int, period: Optional[int], peak: dict):
    """(S, the T it needs, reason). S divides T, or else T is padded up to a multiple of S
    (the data rebuilt). Preferred in turn: S aligned with the period (S divides it or it divides
    S) with MIN..MAX_LSTM_STEPS steps; without padding; the largest S up to TARGET_SAMPLE_LEN
    (else the smallest above it)."""
    def needed(s):  # the T sample_len=s needs
        return length if length % s == 0 else -(-longest // s) * s

    def aligned(s):
        return period is None or s % period == 0 or period % s == 0

    every = range(1, length + 1)
    in_range = [s for s in every if MIN_LSTM_STEPS <= needed(s) // s <= MAX_LSTM_STEPS]
    pool = [s for s in in_range if aligned(s)] or in_range or [1]
    pool = [s for s in pool if needed(s) == length] or pool
    small = [s for s in pool if s <= TARGET_SAMPLE_LEN]
    s = max(small) if small else min(pool)
    padded = needed(s)
    steps = f"{padded // s} LSTM steps"
    fit = (f"T={length}" if padded == length else
           f"rebuild the data with sample_len={s}, which pads T={length} to {padded} "
           f"(Dataset.from_dataframe(..., sample_len={s}))")
    if period is None:
        why = peak.get("why", "no period")
        return s, padded, (f"{why}; S={s} divides {fit}, {steps} (the paper's S is "
                           f"{TARGET_SAMPLE_LEN} on T=550 and T=50)")
    found = (f"{peak['column']}'s autocorrelation peaks at lag {period} ({peak['height']:.2f}, "
             f"{peak['prominence']:.2f} above its trough)")
    if not aligned(s):
        return s, padded, (f"{found}, but no S that divides or is a multiple of {period} gives "
                           f"{MIN_LSTM_STEPS}-{MAX_LSTM_STEPS} LSTM steps on {fit}: S={s}, "
                           f"{steps}")
    relation = ("one cycle per step" if s == period else
                f"{s // period} cycles per step" if s % period == 0 else
                f"{period // s} steps per cycle")
    return s, padded, f"{found}; S={s}: {relation}, {steps}, {fit}"


# --- per-series levels --------------------------------------------------------------------------

def level_share(data, columns, rows, lengths) -> Optional[Dict[str, object]]:
    """The largest, over continuous feature columns, share of the variance that lies between
    the series' means (var of the means / (that + mean within-series variance)), on the
    encoded values the model sees; None without continuous features."""
    best, names = None, _column_names(data)
    for column in columns:
        values, mask, _ = _active_values(data, column, rows, lengths)
        means = values.sum(1) / lengths
        within = (np.where(mask, values - means[:, None], 0.0) ** 2).sum(1) / lengths
        between = means.var()
        total = between + within.mean()
        share = float(between / total) if total > 0 else 0.0
        if best is None or share > best["share"]:
            best = {"column": names[column], "share": share}
    return best


def choose_auto_normalize(share, median_length: float):
    """(auto_normalize, reason): on when the series' levels differ much more than each series
    varies (share >= LEVEL_SHARE_FOR_AUTO_NORMALIZE) and the series are long enough for their
    own min/max."""
    if share is None:
        return False, "no continuous feature to normalise"
    figure = (f"{share['share']:.0%} of {share['column']}'s variance lies between the series' "
              f"means")
    if median_length < MIN_LENGTH_FOR_AUTO_NORMALIZE:
        return False, (f"median length {median_length:g} < {MIN_LENGTH_FOR_AUTO_NORMALIZE}: too "
                       f"short for per-series min/max ({figure})")
    if share["share"] >= LEVEL_SHARE_FOR_AUTO_NORMALIZE:
        return True, (f"{figure} (>= {LEVEL_SHARE_FOR_AUTO_NORMALIZE:.0%}; synthetic WWT "
                      f"views 98%): each series scaled by its own min/max")
    return False, (f"{figure} (< {LEVEL_SHARE_FOR_AUTO_NORMALIZE:.0%}; MBA traffic 37%): one "
                   f"global scale")


def choose_aux_critic(num_attributes: int, auto_normalize: bool):
    """(use_aux_critic, reason): a critic of the attributes (and the min/max ones) alone, on
    when there are attributes and auto-normalisation adds min/max ones, as the paper's WWT
    setting; MBA's attributes matched the real-vs-real floor without it."""
    if num_attributes == 0:
        return False, "no attributes to judge"
    attributes = _count(num_attributes, "attribute")
    if auto_normalize:
        return True, (f"{attributes} plus the per-series min/max that auto-normalisation "
                      f"generates: judged on their own, as the paper's WWT setting")
    return False, (f"{attributes} and no min/max ones: the main critic sees them (MBA's "
                   f"attribute JSDs reached the real-vs-real floor without it)")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# --- batch and budget ---------------------------------------------------------------------------

def choose_batch_size(num_samples: int):
    """(batch, reason): the paper's 100, never more than the series (a larger batch draws the
    same series twice in one batch)."""
    if num_samples >= PAPER_BATCH_SIZE:
        return PAPER_BATCH_SIZE, (f"the paper's; {num_samples:,} series give "
                                  f"{_count(num_samples // PAPER_BATCH_SIZE, 'step')} an epoch")
    return num_samples, (f"all {num_samples} series (fewer than the paper's "
                         f"{PAPER_BATCH_SIZE}): a smaller batch sees fewer series a second (8x "
                         f"the batch took 3x the time at 80 series x 336 steps); one step an "
                         f"epoch")


def choose_budget(per_epoch: int, batch: int, num_samples: int, seconds: Optional[float]):
    """(steps, epochs, reason): the larger of MIN_TRAINING_STEPS and the paper's PAPER_EPOCHS
    epochs, as epochs of ``per_epoch`` steps; with ``seconds``, the time decides and the epochs
    bound it at TIME_BUDGET_STEP_FACTOR times that."""
    steps = max(MIN_TRAINING_STEPS, PAPER_EPOCHS * per_epoch)
    epochs = -(-steps // per_epoch)
    basis = (f"{steps:,} generator steps = {epochs:,} epochs of {_count(per_epoch, 'step')} "
             f"({num_samples:,} series // batch {batch})")
    why = (f"at least {MIN_TRAINING_STEPS:,} steps: 80 series needed 3,000 (300 were not "
           f"usable), the README's job 5,000" if steps == MIN_TRAINING_STEPS else
           f"the paper's {PAPER_EPOCHS} epochs")
    if seconds is None:
        return steps, epochs, f"{basis}; {why}"
    bound = epochs * TIME_BUDGET_STEP_FACTOR
    return steps, bound, (f"{seconds:,g} s of training (callbacks(): TrainingTimeLimit); "
                          f"epochs={bound:,} only bounds it, {TIME_BUDGET_STEP_FACTOR}x the "
                          f"budget in steps: {basis}; {why}")
