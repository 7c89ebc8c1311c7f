"""Fidelity during training: a Keras callback that generates a sample every few epochs, scores
it against real data with :func:`doppelganger_tf.evaluation.fidelity.fidelity_metrics`, puts the
figures into the epoch logs (so ``History``, ``CSVLogger``, ``TensorBoard`` and
``ProgressLogger`` show them) and can keep the weights of the best epoch::

    tracker = FidelityTracker(every=50, keep_best="acf_mse/views")
    model.fit(data, epochs=400, callbacks=[tracker, keras.callbacks.CSVLogger("log.csv")])
    tracker.best_epoch, tracker.best_value     # the weights now are that epoch's

docs/design.md ("Fidelity during training") has the choices and the measured cost.
"""
from __future__ import annotations

import math
import time
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from . import arguments
from .compat import get_untracked, keras
from .dataset import Dataset
from .evaluation.fidelity import (check_metric_families, compare, fidelity_metrics,
                                  summarize)

# cheap families by default: ACF of each feature, W1 of per-sample (max+min)/2, and the
# attributes' JSD / W1 (the paper's headline figures; "total" and "mean" are as cheap)
DEFAULT_METRICS = ("acf", "midrange", "attribute")
# epochs between evaluations by default: an evaluation of 500 samples measured 1.3% of the
# training time at the repository's MBA settings and 3.0% on the synthetic WWT data of 550 days
# (docs/design.md, "Fidelity during training"; bench/fidelity_cost.py)
DEFAULT_EVERY = 50
DEFAULT_NUM_SAMPLES = 500
PREFIX = "fidelity/"
SECONDS = "seconds"  # the logs key (after the prefix) of an evaluation's wall time
# the logs key (after the prefix) of the combined figure when keep_best names several keys
COMBINED = "keep_best_geomean"
# ... and when keep_best_targets gives each key a target
TARGET_COMBINED = "keep_best_target_ratio"
# a figure of exactly 0 counts as this in the geometric mean (its log must stay finite)
GEOMEAN_FLOOR = 1e-12


class FidelityTracker(keras.callbacks.Callback):
    """Every ``every`` epochs, generate ``num_samples`` samples (the same noise seed each time)
    and compute the fidelity ``metrics`` against a reference set; the figures go into the epoch
    logs as ``"fidelity/<key>"`` (e.g. ``fidelity/acf_mse/views``, ``fidelity/jsd/domain``),
    with ``fidelity/seconds``, the evaluation's wall time.

    Evaluated epochs: the first epoch of each ``fit`` (so loggers that fix their columns at the
    first epoch, like ``CSVLogger``, get every key), each epoch whose number (1-based, counted
    across resumed runs like ``TrainingCheckpoint``) is a multiple of ``every``, the last epoch
    of the fit, and the epoch after which a callback stopped training (at train end when the
    stop came after the tracker's turn: then in :attr:`history` only). Other epochs carry no
    fidelity keys, as Keras' ``validation_freq`` leaves out ``val_*`` keys: CSVLogger
    writes "NA" there, and History's lists for these keys hold the evaluated epochs only
    (:attr:`epochs` says which). ``DoppelGANger.fit`` moves trackers ahead of the other
    callbacks, so that those reading the logs (CSVLogger, TensorBoard, ProgressLogger,
    EarlyStopping) see the figures: Keras calls callbacks in list order.

    reference: the real data to compare with, e.g. a held-out set with the training data's
        specs and scaling (take it from the same Dataset with ``Dataset.subset``). None: the
        training data of the ``fit``. Either way ``num_samples`` of its samples (all when it
        has fewer), drawn once with ``seed``.
    every: evaluate every this many epochs (>= 1).
    num_samples: samples generated per evaluation (capped at the reference's size).
    generated_samples: samples generated per evaluation instead, any number (e.g. 5x the
        reference's size): the figures then read the model more than the draw of noise, which
        matters for keep_best when a figure's sampling noise is close to the differences
        between epochs (W1 within a category of a few hundred samples). Default: as many as
        the reference subset holds.
    metrics: families of ``evaluation.fidelity.METRIC_FAMILIES`` ("acf", "mean", "total",
        "midrange", "attribute", "length", "correlation").
    keep_best: a logs key (with or without the "fidelity/" prefix, e.g. "acf_mse/views"):
        keep a copy of the model's weights (every network: ``model.get_weights()``) at the
        evaluated epoch where it was best, and restore them when training ends (as Keras'
        ``EarlyStopping(restore_best_weights=True)``; the optimizers' state is not restored).
        Several keys (a list, or one string with commas): the epoch with the lowest geometric
        mean of their figures, logged as ``fidelity/keep_best_geomean``. The geometric mean
        needs no scales: halving any one figure counts the same, so a distance of 0.005 and one
        of 0.3 weigh alike (e.g. ``["acf_mse/views", "w1_midrange/views"]`` keeps an epoch good
        at both, where the fidelity of each swings from evaluation to evaluation).
    keep_best_targets: one positive target per keep_best key (a list, or one string with
        commas), e.g. the values a figure must reach: the epoch with the lowest mean of each
        figure over its target, logged as ``fidelity/keep_best_target_ratio`` (below 1: the
        figures meet their targets on average). Unlike the geometric mean, a figure far above
        its target then counts more than one already below it.
    mode: "min" (every fidelity figure is a distance) or "max", for keep_best (one key only).
    restore_best: False keeps the best weights in :attr:`best_weights` without restoring them.
    seed: the generation noise and the reference subset.
    features, max_lag: passed to ``fidelity_metrics`` (features to score: default all; the
        autocorrelation's largest lag: default T - 2).
    batch_size: generation batch size.
    by_category: also the per-sample statistics' W1 within each category of each discrete
        attribute, e.g. ``fidelity/w1_total/traffic/technology=DSL`` (with the "mean",
        "total" or "midrange" family).
    print_fn: where the message saying which epoch's weights were restored goes (None: quiet).

    After ``fit``: :attr:`epochs` (0-based epochs evaluated), :attr:`history` (logs key ->
    values at those epochs), :attr:`best_epoch` (0-based, as EarlyStopping's),
    :attr:`best_value`, :attr:`restored_epoch`, :attr:`seconds` (the tracker's whole time in
    this fit: the evaluations, and drawing and summarising the reference at the start, which
    ``fidelity/seconds`` leaves out). A DP model's epsilon does not cover what the tracker
    reads: it warns.
    """

    def __init__(self, reference: Optional[Dataset] = None, every: int = DEFAULT_EVERY,
                 num_samples: int = DEFAULT_NUM_SAMPLES,
                 metrics: Sequence[str] = DEFAULT_METRICS, keep_best: Optional[str] = None,
                 mode: str = "min", restore_best: bool = True, seed: int = 0,
                 features: Optional[Sequence[str]] = None, max_lag: Optional[int] = None,
                 batch_size: int = 1000, by_category: bool = False, print_fn=print,
                 generated_samples: Optional[int] = None, keep_best_targets=None):
        super().__init__()
        if reference is not None and not isinstance(reference, Dataset):
            raise TypeError(f"FidelityTracker: reference must be a doppelganger_tf Dataset "
                            f"(held-out real data) or None for the training data, got "
                            f"{type(reference).__name__}")
        self.reference = reference
        self.every = self._integer("every", every, "evaluate every this many epochs")
        self.num_samples = self._integer("num_samples", num_samples,
                                         "samples generated per evaluation")
        self.batch_size = self._integer("batch_size", batch_size, "generation batch size")
        self.generated_samples = None if generated_samples is None else self._integer(
            "generated_samples", generated_samples, "samples generated per evaluation")
        self.metrics = self._families(metrics)
        if mode not in ("min", "max"):
            raise ValueError(f"FidelityTracker: mode must be 'min' (lower is better, as for "
                             f"every fidelity distance) or 'max', got {mode!r}")
        self.mode = mode
        self.keep_best_keys = self._keep_best_keys(keep_best)
        if len(self.keep_best_keys) > 1 and mode != "min":
            raise ValueError("FidelityTracker: keep_best with several keys keeps the lowest "
                             "geometric mean of their figures (distances): use mode='min'")
        self.keep_best_targets = self._targets(keep_best_targets)
        if self.keep_best_targets is not None and mode != "min":
            raise ValueError("FidelityTracker: keep_best_targets keeps the lowest mean ratio of "
                             "the figures (distances) to their targets: use mode='min'")
        # the logs key whose value picks the best epoch (None: keep nothing)
        self.keep_best = (None if not self.keep_best_keys
                          else PREFIX + TARGET_COMBINED if self.keep_best_targets is not None
                          else self.keep_best_keys[0] if len(self.keep_best_keys) == 1
                          else PREFIX + COMBINED)
        self.restore_best = arguments.boolean("restore_best", restore_best)
        self.seed = arguments.seed(seed)
        self.features = None if features is None else (
            [features] if isinstance(features, str) else list(features))
        self.max_lag = None if max_lag is None else arguments.integer("max_lag", max_lag, 1)
        self.by_category = arguments.boolean("by_category", by_category)
        self.print_fn = print_fn
        self._reference = None  # (source Dataset, its subset, the subset's FidelitySummary)
        self._reset()

    # --- arguments ------------------------------------------------------------------------------

    @staticmethod
    def _integer(name, value, meaning):
        try:
            return arguments.integer(name, value, minimum=1)
        except (TypeError, ValueError) as error:
            raise type(error)(f"FidelityTracker: {error} ({meaning})") from None

    @staticmethod
    def _families(metrics) -> tuple:
        try:
            return check_metric_families(metrics)
        except ValueError as error:
            raise ValueError(f"FidelityTracker: {error} (the tracker's default: "
                             f"{DEFAULT_METRICS})") from None

    def _keep_best_keys(self, keep_best) -> List[str]:
        """keep_best as a list of prefixed logs keys (empty: keep nothing)."""
        if keep_best is None:
            return []
        if isinstance(keep_best, str):
            keys = [part.strip() for part in keep_best.split(",")]
        elif isinstance(keep_best, (list, tuple)) and keep_best:
            keys = list(keep_best)
        else:
            raise TypeError(f"FidelityTracker: keep_best must be a logs key such as "
                            f"'acf_mse/<feature>', a list of them (or None), got {keep_best!r}")
        keys = [self._logs_key(key) for key in keys]
        if len(set(keys)) != len(keys):
            raise ValueError(f"FidelityTracker: keep_best names a key twice: {keys}")
        return keys

    def _targets(self, targets) -> Optional[List[float]]:
        """keep_best_targets as a list of floats, one per keep_best key (None: no targets)."""
        if targets is None:
            return None
        if isinstance(targets, str):
            try:
                targets = [float(part) for part in targets.split(",")]
            except ValueError:
                raise ValueError(f"FidelityTracker: keep_best_targets={targets!r} must be "
                                 f"numbers separated by commas, e.g. '0.005,0.3'") from None
        try:
            targets = [float(value) for value in targets]
        except (TypeError, ValueError):
            raise TypeError(f"FidelityTracker: keep_best_targets must be a list of positive "
                            f"numbers, one per keep_best key, got {targets!r}") from None
        if len(targets) != len(self.keep_best_keys):
            raise ValueError(f"FidelityTracker: keep_best_targets has {len(targets)} values "
                             f"for {len(self.keep_best_keys)} keep_best keys; give one target "
                             f"per key, in the keys' order")
        if not all(math.isfinite(value) and value > 0 for value in targets):
            raise ValueError(f"FidelityTracker: keep_best_targets={targets} must all be "
                             f"positive and finite (each figure is divided by its target)")
        return targets

    @staticmethod
    def _logs_key(key) -> str:
        if not isinstance(key, str) or not key:
            raise TypeError(f"FidelityTracker: keep_best must be a logs key such as "
                            f"'acf_mse/<feature>', a list of them (or None), got {key!r}")
        key = key if key.startswith(PREFIX) else PREFIX + key
        if key in (PREFIX + SECONDS, PREFIX + COMBINED, PREFIX + TARGET_COMBINED):
            raise ValueError(f"FidelityTracker: keep_best={key!r} is the evaluation time or the "
                             "tracker's own combination, not a fidelity figure: name one of the "
                             "metrics' keys, e.g. 'acf_mse/<feature>'")
        return key

    # --- state ----------------------------------------------------------------------------------

    def _reset(self):
        self.epochs: List[int] = []
        self.history: Dict[str, List[float]] = {}
        self.best_epoch: Optional[int] = None
        self.best_value: Optional[float] = None
        self.best_weights = None
        self.restored_epoch: Optional[int] = None
        self.seconds = 0.0
        self._first_epoch = None
        self._last_epoch_seen = None

    def on_train_begin(self, logs=None):
        self._reset()
        model = self.model
        if not callable(getattr(model, "generate", None)) or not hasattr(model, "scaling"):
            raise TypeError(f"FidelityTracker works with a DoppelGANger model, got "
                            f"{type(model).__name__}")
        source = self.reference
        if source is None:
            training = get_untracked(model, "_training_data")
            if training is None:
                raise ValueError("FidelityTracker: no training data found on the model: train "
                                 "with DoppelGANger.fit(dataset, ...), or pass reference=")
            source = training.dataset
        else:
            self._check_reference(source)
        if self._reference is None or self._reference[0] is not source:
            started = time.perf_counter()
            subset = self._subset(source)  # drawn and summarised once per reference
            try:
                summary = summarize(subset, self.metrics, self.features, self.max_lag)
            except ValueError as error:  # features or max_lag that do not fit the data
                raise ValueError(f"FidelityTracker: {error}") from None
            self._reference = (source, subset, summary)
            self.seconds += time.perf_counter() - started
        self._check_keep_best()
        if getattr(model, "uses_dp", False):
            warnings.warn(
                "FidelityTracker on a DP model: the figures it logs, and the weights keep_best "
                "picks, are computed from the reference data (the training data by default) "
                "outside the DP accounting, so the model's epsilon does not cover them; give "
                "reference= public data, or leave the tracker out of a private run",
                RuntimeWarning, stacklevel=2)

    def _check_reference(self, reference: Dataset):
        model = self.model
        problems = []
        if reference.max_length != model.max_length:
            problems.append(f"T={reference.max_length}, the model's is {model.max_length}")
        for kind, mine in (("feature", model.feature_outputs),
                           ("attribute", model.attribute_outputs)):
            theirs = getattr(reference, f"{kind}_outputs")
            if list(theirs) != list(mine):
                problems.append(f"its {kind} outputs {[o.name for o in theirs]} differ from "
                                f"the model's {[o.name for o in mine]} (names, types, dims or "
                                "categories)")
        scaling = reference.scaling()
        for name, expected in model.scaling.items():
            given = scaling.get(name)
            if (given is None) != (expected is None) or (given is not None and (
                    np.shape(given) != np.shape(expected)
                    or not np.allclose(given, expected, rtol=1e-6, atol=0))):
                problems.append(f"its {name} differs from the training data's, so its scaled "
                                "values are not comparable")
        if problems:
            raise ValueError(
                "FidelityTracker: reference= does not match the model: " + "; ".join(problems)
                + ". Take the held-out set from the same Dataset as the training data "
                "(Dataset.subset), or build it with the training data's specs and scaling: "
                "Dataset.from_arrays(..., feature_outputs=train.feature_outputs, "
                "attribute_outputs=train.attribute_outputs, **train.scaling())")

    def _check_keep_best(self):
        """Before training: keep_best must name a key the metrics produce on this data."""
        if not self.keep_best_keys:
            return
        summary = self._reference[2]
        produced = [PREFIX + key for key in compare(summary, summary,
                                                    by_category=self.by_category)]
        for key in self.keep_best_keys:
            if key in produced:
                continue
            raise ValueError(
                f"FidelityTracker: keep_best={key[len(PREFIX):]!r} is not a key that "
                f"metrics={self.metrics} produce on this data; they produce "
                f"{[k[len(PREFIX):] for k in produced]}. Name one of those (with or without "
                f"the {PREFIX!r} prefix), or add its family to metrics")

    def _subset(self, dataset: Dataset) -> Dataset:
        if len(dataset) <= self.num_samples:
            return dataset
        rng = np.random.default_rng(self.seed)
        return dataset.subset(np.sort(rng.choice(len(dataset), self.num_samples,
                                                 replace=False)))

    # --- evaluation -----------------------------------------------------------------------------

    def _due(self, epoch) -> bool:
        total = self.params.get("epochs") if self.params else None
        return (epoch == self._first_epoch or (epoch + 1) % self.every == 0
                or (total is not None and epoch + 1 >= total)
                or bool(getattr(self.model, "stop_training", False)))

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._last_epoch_seen = epoch
        if self._due(epoch):
            figures = self._evaluate_epoch(epoch)
            if logs is not None:
                logs.update(figures)

    def _evaluate_epoch(self, epoch) -> Dict[str, float]:
        """Evaluate the weights of ``epoch`` (just ended), record the figures and the best."""
        started = time.perf_counter()
        figures = self.evaluate()
        kept = [figures.get(key, float("nan")) for key in self.keep_best_keys]
        if self.keep_best_targets is not None:
            figures[PREFIX + TARGET_COMBINED] = target_ratio(kept, self.keep_best_targets)
        elif len(self.keep_best_keys) > 1:
            figures[PREFIX + COMBINED] = geometric_mean(kept)
        if self.keep_best is not None:
            self._track_best(epoch, figures)
        seconds = time.perf_counter() - started  # the weights' copy included
        self.seconds += seconds
        figures[PREFIX + SECONDS] = seconds
        self.epochs.append(epoch)
        for key, value in figures.items():
            self.history.setdefault(key, []).append(value)
        return figures

    def evaluate(self) -> Dict[str, float]:
        """The figures for the model's weights now, keyed as in the logs (without
        ``fidelity/seconds``)."""
        _, reference, summary = self._reference
        count = len(reference) if self.generated_samples is None else self.generated_samples
        generated = self.model.generate(count, seed=self.seed,
                                        batch_size=self.batch_size)
        scores = fidelity_metrics(summary, generated,  # the reference summarised once
                                  by_category=self.by_category)
        return {PREFIX + key: float(value) for key, value in scores.items()}

    def _track_best(self, epoch, figures):
        value = figures.get(self.keep_best, float("nan"))
        if not math.isfinite(value):
            return
        if self.best_value is None or (value < self.best_value if self.mode == "min"
                                       else value > self.best_value):
            self.best_epoch, self.best_value = epoch, value
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        last = self._last_epoch_seen
        if last is not None and (not self.epochs or self.epochs[-1] != last):
            # stopped by a callback that ran after this one (fit puts trackers first): the
            # last weights are evaluated now, into this tracker's history and best only, as
            # that epoch's logs have been written
            self._evaluate_epoch(last)
        if self.keep_best is None or not self.restore_best:
            return
        name = self.keep_best[len(PREFIX):]
        if self.best_weights is None:
            if self.epochs:
                warnings.warn(f"FidelityTracker: {name} was never finite, so no best weights "
                              "were kept; the model keeps its last weights", RuntimeWarning,
                              stacklevel=2)
            return
        if self.best_epoch == self._last_epoch_seen:
            self._say(f"FidelityTracker: the last epoch ({self.best_epoch + 1}) is the best by "
                      f"{name} ({self.best_value:.4g}); keeping its weights")
            self.restored_epoch = self.best_epoch
            return
        self.model.set_weights(self.best_weights)
        self.restored_epoch = self.best_epoch
        last = self.history[self.keep_best][-1]
        self._say(f"FidelityTracker: restored the weights of epoch {self.best_epoch + 1}, the "
                  f"best by {name} ({self.best_value:.4g}; at the last evaluated epoch, "
                  f"{self.epochs[-1] + 1}: {last:.4g})")

    def _say(self, message):
        if self.print_fn is not None:
            self.print_fn(message)


def geometric_mean(values) -> float:
    """exp(mean(log v)) of non-negative figures, a 0 counted as GEOMEAN_FLOOR; NaN when any is
    not finite (an evaluation that could not compute one of them is never the best)."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return float("nan")
    return float(np.exp(np.mean(np.log(np.maximum(values, GEOMEAN_FLOOR)))))


def target_ratio(values, targets) -> float:
    """The mean of each figure over its target (below 1: the targets are met on average); NaN
    when any figure is (an evaluation that could not compute one of them is never the best)."""
    return float(np.mean(np.divide(np.asarray(values, dtype=np.float64), targets)))


def trackers_first(callbacks) -> list:
    """``callbacks`` (a list or None) with the FidelityTrackers moved to the front, in their
    order: Keras calls callbacks in list order, and those that read the logs (CSVLogger,
    TensorBoard, ProgressLogger, EarlyStopping) must see the figures the trackers add."""
    callbacks = list(callbacks or [])
    trackers = [c for c in callbacks if isinstance(c, FidelityTracker)]
    return trackers + [c for c in callbacks if not isinstance(c, FidelityTracker)]
