"""Fidelity during training: a Keras callback that generates a sample every few epochs, scores
it against real data with :func:`doppelganger_tf.evaluation.fidelity.fidelity_metrics`, puts the
figures and their ratios to the real-vs-real floor into the epoch logs (so ``History``,
``CSVLogger``, ``TensorBoard`` and ``ProgressLogger`` show them) and can keep the weights of the
best epoch::

    tracker = FidelityTracker(every=50, keep_best="auto")
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

from .. import arguments
from ..compat import get_untracked, keras
from ..data.dataset import Dataset
from ..evaluation.fidelity import compare, fidelity_metrics, noise_floors, summarize
from ..gan import fit_callbacks
from .fidelity_options import (AUTO, AUTO_FAMILIES, DEFAULT_EVERY, DEFAULT_METRICS,
                               DEFAULT_NUM_SAMPLES, DEFAULT_WARMUP, FLOOR_COMBINED, LISTED_RATIOS,
                               PREFIX, RATIO, SECONDS, TARGET_COMBINED, check_count,
                               check_families, check_keep_best, check_reference, check_targets,
                               check_warmup)
from .fidelity_scores import (auto_keys, finite_or, floor_ratio, mean_ratio, target_ratio,
                              times)

# the settings (fidelity_options) and scores (fidelity_scores) are importable from here too
__all__ = ["AUTO", "AUTO_FAMILIES", "DEFAULT_EVERY", "DEFAULT_METRICS", "DEFAULT_NUM_SAMPLES",
           "DEFAULT_WARMUP", "FLOOR_COMBINED", "FidelityTracker", "PREFIX", "RATIO", "SECONDS",
           "TARGET_COMBINED", "auto_keys", "floor_ratio", "mean_ratio", "target_ratio",
           "trackers_first"]


class FidelityTracker(keras.callbacks.Callback):
    """Track fidelity figures during training, and keep the weights of the best epoch.

    Every ``every`` epochs it generates samples (the same noise seed each time) and computes
    the fidelity ``metrics`` against a reference set. The figures go into the epoch logs as
    ``"fidelity/<key>"`` (e.g. ``fidelity/acf_mse/views``, ``fidelity/jsd/domain``), each
    figure's ratio to its real-vs-real floor as ``"fidelity/ratio/<key>"`` ("times the
    noise"), with ``fidelity/seconds``, the evaluation's wall time.

    The floor: at the start of training the reference subset is split into two random halves
    (seeded by ``seed``) and each figure is computed between them, averaged over 5 splits and
    rescaled to the tracker's sample sizes: what a generator drawing fresh real samples would
    score (``evaluation.fidelity.noise_floors``; a floor is never below
    ``evaluation.fidelity.minimum_floor``, e.g. 1e-3 for the flat share when no real series is
    flat, so no ratio is infinite).

    Evaluated epochs: the first epoch of each ``fit`` (so loggers that fix their columns at the
    first epoch, like ``CSVLogger``, get every key), each epoch whose number (1-based, counted
    across resumed runs like ``TrainingCheckpoint``) is a multiple of ``every``, the last epoch
    of the fit, and the epoch after which a callback stopped training (at train end when the
    stop came after the tracker's turn: then in :attr:`history` only). Other epochs carry no
    fidelity keys, as Keras' ``validation_freq`` leaves out ``val_*`` keys: CSVLogger writes
    "NA" there, and History's lists for these keys hold the evaluated epochs only.
    ``DoppelGANger.fit`` moves trackers ahead of the other callbacks, so that those reading the
    logs (CSVLogger, TensorBoard, ProgressLogger, EarlyStopping) see the figures. A DP model's
    epsilon does not cover what the tracker reads: it warns.

    Args:
        reference: The real data to compare with, e.g. a held-out set with the training data's
            specs and scaling (take it from the same Dataset with ``Dataset.subset``); None:
            the training data of the ``fit``. Either way ``num_samples`` of its samples (all
            when it has fewer), drawn once with ``seed``.
        every: Evaluate every this many epochs (>= 1).
        num_samples: Samples generated per evaluation (capped at the reference's size).
        metrics: Families of ``evaluation.fidelity.METRIC_FAMILIES`` ("acf", "mean", "total",
            "midrange", "attribute", "length", "correlation", "flat").
        keep_best: Which epoch's weights to keep: a copy of every network's weights
            (``model.get_weights()``) at the evaluated epoch where it was best, restored when
            training ends as Keras' ``EarlyStopping(restore_best_weights=True)`` does (the
            optimizers' state is not restored). ``"auto"`` (recommended): the lowest mean
            ratio to the floor of :func:`auto_keys` (the autocorrelation, the per-series mean
            and the flat share of every feature, every attribute and the lengths when they
            vary; their families are added to ``metrics``). A logs key (with or without the
            "fidelity/" prefix, e.g. "acf_mse/views"): that figure alone. Several keys (a list,
            or one string with commas): the lowest mean of their ratios to the floor, logged as
            ``fidelity/keep_best_floor_ratio``. A mean rather than a geometric mean, which a
            figure near 0 takes down without bound (an untrained model of flat series kept by
            its autocorrelation), or the worst ratio, which reads one figure at a time.
        mode: "min" (every fidelity figure is a distance) or "max", for one keep_best key.
        restore_best: False keeps the best weights in :attr:`best_weights` without restoring.
        seed: Seeds the generation noise, the reference subset and the floor's halves.
        features: Features to score (``fidelity_metrics``'s); default: all.
        max_lag: The autocorrelation's largest lag; default: T - 2.
        batch_size: Generation batch size.
        by_category: Also the per-sample statistics' W1 within each category of each discrete
            attribute, e.g. ``fidelity/w1_total/traffic/technology=DSL`` (with the "mean",
            "total" or "midrange" family).
        print_fn: Receives the line saying which epoch's weights were kept and why, when
            training ends; None: quiet (:attr:`message` keeps it).
        generated_samples: Samples generated per evaluation instead of ``num_samples``, any
            number (e.g. 5x the reference's size): the figures then read the model more than
            the draw of noise, which matters for keep_best when a figure's sampling noise is
            close to the differences between epochs.
        keep_best_targets: One positive target per keep_best key (a list, or one string with
            commas): the epoch with the lowest mean of each figure over its target is kept,
            logged as ``fidelity/keep_best_target_ratio`` (below 1: the targets are met on
            average).
        warmup: Epochs not eligible for keep_best at the start of training: a share of the
            epochs (a float in [0, 1); default 0.1: the first 10% of ``fit``'s epochs, at
            least one, or of a ``TrainingTimeLimit``'s seconds when that comes first) or a
            number of epochs (an int; 0: none). An untrained generator can score well on some
            figure; when the run ends inside the warm-up, the last epoch's weights are kept.

    Attributes:
        epochs: The 0-based epochs evaluated.
        history: {logs key: values at those epochs}.
        best_epoch: 0-based, as EarlyStopping's.
        best_value: The kept epoch's value of what keep_best compares.
        best_weights: The kept weights.
        restored_epoch: The epoch whose weights were restored.
        keep_best_keys: The figures keep_best combines.
        floors: {key: real-vs-real floor}.
        message: The line on the kept epoch.
        seconds: The tracker's whole time in this fit: the evaluations, and drawing and
            summarising the reference and its floor at the start, which
            ``fidelity/seconds`` leaves out.

    Raises:
        TypeError: For a ``reference`` that is not a Dataset, or arguments of the wrong type.
        ValueError: For arguments out of range or that do not go together (e.g.
            ``keep_best_targets`` without keep_best keys, several keys with ``mode="max"``),
            and, at the start of ``fit``, figures or features the data do not have.
    """

    def __init__(self, reference: Optional[Dataset] = None, every: int = DEFAULT_EVERY,
                 num_samples: int = DEFAULT_NUM_SAMPLES,
                 metrics: Sequence[str] = DEFAULT_METRICS, keep_best=None,
                 mode: str = "min", restore_best: bool = True, seed: int = 0,
                 features: Optional[Sequence[str]] = None, max_lag: Optional[int] = None,
                 batch_size: int = 1000, by_category: bool = False, print_fn=print,
                 generated_samples: Optional[int] = None, keep_best_targets=None,
                 warmup=DEFAULT_WARMUP):
        super().__init__()
        if reference is not None and not isinstance(reference, Dataset):
            raise TypeError(f"FidelityTracker: reference must be a doppelganger_tf Dataset "
                            f"(held-out real data) or None for the training data, got "
                            f"{type(reference).__name__}")
        self.reference = reference
        self.every = check_count("every", every, "evaluate every this many epochs")
        self.num_samples = check_count("num_samples", num_samples,
                                         "samples generated per evaluation")
        self.batch_size = check_count("batch_size", batch_size, "generation batch size")
        self.generated_samples = None if generated_samples is None else check_count(
            "generated_samples", generated_samples, "samples generated per evaluation")
        if mode not in ("min", "max"):
            raise ValueError(f"FidelityTracker: mode must be 'min' (lower is better, as for "
                             f"every fidelity distance) or 'max', got {mode!r}")
        self.mode = mode
        self.auto = isinstance(keep_best, str) and keep_best.strip() == AUTO
        # the figures keep_best combines (prefixed logs keys); "auto" names them at train begin
        self.keep_best_keys = [] if self.auto else check_keep_best(keep_best)
        self.metrics = check_families(metrics, AUTO_FAMILIES if self.auto else ())
        self.keep_best_targets = check_targets(keep_best_targets, self.auto,
                                               len(self.keep_best_keys))
        combined = self.auto or len(self.keep_best_keys) > 1
        if (combined or self.keep_best_targets is not None) and mode != "min":
            raise ValueError("FidelityTracker: keep_best='auto', several keys or "
                             "keep_best_targets keep the lowest mean ratio of the figures "
                             "(distances) to their floors or targets: use mode='min'")
        # the logs key whose value picks the best epoch (None: keep nothing)
        self.keep_best = (PREFIX + TARGET_COMBINED if self.keep_best_targets is not None
                          else PREFIX + FLOOR_COMBINED if combined
                          else self.keep_best_keys[0] if self.keep_best_keys else None)
        self.warmup = check_warmup(warmup)
        self.restore_best = arguments.boolean("restore_best", restore_best)
        self.seed = arguments.seed(seed)
        self.features = None if features is None else (
            [features] if isinstance(features, str) else list(features))
        self.max_lag = None if max_lag is None else arguments.integer("max_lag", max_lag, 1)
        self.by_category = arguments.boolean("by_category", by_category)
        self.print_fn = print_fn
        # the seconds of a TrainingTimeLimit among fit's callbacks (trackers_first sets it)
        self.time_limit: Optional[float] = None
        # (source Dataset, its subset, the subset's FidelitySummary, the floors)
        self._reference = None
        self._reset()

    # --- state ----------------------------------------------------------------------------------

    def _reset(self):
        self.epochs: List[int] = []
        self.history: Dict[str, List[float]] = {}
        self.best_epoch: Optional[int] = None
        self.best_value: Optional[float] = None
        self.best_weights = None
        self.restored_epoch: Optional[int] = None
        self.message: Optional[str] = None
        self.seconds = 0.0
        self._first_epoch = None
        self._last_epoch_seen = None
        self._eligible: List[int] = []  # evaluated epochs past the warm-up
        self._started = None

    @property
    def eligible_epochs(self) -> List[int]:
        """The evaluated epochs (0-based) past the warm-up, in this fit, when keep_best is set."""
        return list(self._eligible)

    @property
    def floors(self) -> Dict[str, float]:
        """Each figure's real-vs-real floor (keys without the prefix), once training began."""
        return {} if self._reference is None else dict(self._reference[3])

    def on_train_begin(self, logs=None):
        self._reset()
        self._started = time.perf_counter()
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
            check_reference(source, self.model)
        if self._reference is None or self._reference[0] is not source:
            started = time.perf_counter()
            subset = self._subset(source)  # drawn, summarised and floored once per reference
            try:
                summary = summarize(subset, self.metrics, self.features, self.max_lag)
            except ValueError as error:  # features or max_lag that do not fit the data
                raise ValueError(f"FidelityTracker: {error}") from None
            self._reference = (source, subset, summary, self._floors(summary))
            self.seconds += time.perf_counter() - started
        self._check_keep_best()
        if getattr(model, "uses_dp", False):
            warnings.warn(
                "FidelityTracker on a DP model: the figures it logs, and the weights keep_best "
                "picks, are computed from the reference data (the training data by default) "
                "outside the DP accounting, so the model's epsilon does not cover them; give "
                "reference= public data, or leave the tracker out of a private run",
                RuntimeWarning, stacklevel=2)

    def _floors(self, summary) -> Dict[str, float]:
        if summary.num_samples < 2:
            if self.auto or len(self.keep_best_keys) > 1:
                raise ValueError(f"FidelityTracker: the reference holds {summary.num_samples} "
                                 "sample; keep_best divides each figure by a floor measured "
                                 "between two halves of it: give a reference of at least 2 "
                                 "samples (hundreds for a steady floor)")
            return {}
        return noise_floors(summary, self._generated_count(summary.num_samples),
                            seed=self.seed, by_category=self.by_category)

    def _generated_count(self, reference_size: int) -> int:
        return reference_size if self.generated_samples is None else self.generated_samples

    def _check_keep_best(self):
        """Before training: keep_best must name keys the metrics produce on this data; "auto"
        names its keys here."""
        if self.keep_best is None:
            return
        summary = self._reference[2]
        figures = compare(summary, summary, by_category=self.by_category)
        if self.auto:
            self.keep_best_keys = [PREFIX + key for key in auto_keys(summary, figures)]
            if not self.keep_best_keys:
                raise ValueError("FidelityTracker: keep_best='auto' found no figure to keep the "
                                 "best epoch by on this data (no continuous feature, attribute "
                                 "of several categories or varying length): name a key, or "
                                 "leave keep_best out")
            return
        produced = [PREFIX + key for key in figures] + [PREFIX + RATIO + key for key in figures]
        for key in self.keep_best_keys:
            if key in produced:
                continue
            raise ValueError(
                f"FidelityTracker: keep_best={key[len(PREFIX):]!r} is not a key that "
                f"metrics={self.metrics} produce on this data; they produce "
                f"{list(figures)}. Name one of those (with or without the {PREFIX!r} prefix), "
                "add its family to metrics, or use keep_best='auto'")

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

    def warmup_bounds(self):
        """(epochs, seconds): an epoch is eligible for keep_best once its number (1-based)
        exceeds ``epochs`` or it ends ``seconds`` or more after training began (None: no bound
        in seconds); the warm-up ends at whichever comes first, never before the first epoch's
        end when it is a share (that epoch's time is mostly tracing the graph)."""
        if isinstance(self.warmup, int):
            return self.warmup, None
        total = (self.params or {}).get("epochs") or 0
        epochs = max(1, math.ceil(self.warmup * total)) if self.warmup > 0 else 0
        seconds = None if self.time_limit is None else self.warmup * self.time_limit
        return epochs, seconds

    def _past_warmup(self, epoch) -> bool:
        epochs, seconds = self.warmup_bounds()
        return epoch + 1 > epochs or (
            seconds is not None and epoch > 0
            and time.perf_counter() - self._started >= seconds)

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
        eligible = self._past_warmup(epoch)  # before the evaluation's own time
        figures = self.evaluate()
        if self.keep_best is not None and eligible:
            self._eligible.append(epoch)
            self._track_best(epoch, figures)
        seconds = time.perf_counter() - started  # the weights' copy included
        self.seconds += seconds
        figures[PREFIX + SECONDS] = seconds
        self.epochs.append(epoch)
        for key, value in figures.items():
            self.history.setdefault(key, []).append(value)
        return figures

    def evaluate(self) -> Dict[str, float]:
        """The figures for the model's weights now, their ratios to the floor and keep_best's
        combination, keyed as in the logs (without ``fidelity/seconds``)."""
        _, reference, summary, floors = self._reference
        generated = self.model.generate(self._generated_count(len(reference)), seed=self.seed,
                                        batch_size=self.batch_size)
        scores = fidelity_metrics(summary, generated,  # the reference summarised once
                                  by_category=self.by_category)
        figures = {PREFIX + key: float(value) for key, value in scores.items()}
        for key, value in scores.items():
            figures[PREFIX + RATIO + key] = floor_ratio(value, floors.get(key, float("nan")))
        if self.keep_best_targets is not None:
            kept = [figures.get(key, float("nan")) for key in self.keep_best_keys]
            figures[PREFIX + TARGET_COMBINED] = target_ratio(kept, self.keep_best_targets)
        elif self.keep_best == PREFIX + FLOOR_COMBINED:
            figures[PREFIX + FLOOR_COMBINED] = mean_ratio(
                [figures.get(self._ratio_key(key), float("nan")) for key in self.keep_best_keys])
        return figures

    @staticmethod
    def _ratio_key(key: str) -> str:
        """The logs key of a figure's ratio to its floor (a ratio's own key stays)."""
        name = key[len(PREFIX):]
        return key if name.startswith(RATIO) else PREFIX + RATIO + name

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
        if self.keep_best is None or not self.restore_best or not self.epochs:
            return
        if not self._eligible:  # the run ended inside the warm-up: its last weights stay
            self.best_epoch = self.restored_epoch = self.epochs[-1]
            self.best_value = self.history[self.keep_best][-1]
            self._say(f"FidelityTracker: the run ended inside keep-best's warm-up "
                      f"({self._warmup_words()}), where no epoch is eligible: keeping the "
                      f"last epoch's weights (epoch {self.best_epoch + 1})")
            return
        if self.best_weights is None:
            warnings.warn(f"FidelityTracker: {self.keep_best[len(PREFIX):]} was never finite "
                          "after the warm-up, so no best weights were kept; the model keeps "
                          "its last weights", RuntimeWarning, stacklevel=2)
            return
        if self.best_epoch != self._last_epoch_seen:
            self.model.set_weights(self.best_weights)
        self.restored_epoch = self.best_epoch
        self._say(self._restore_message())

    def _warmup_words(self) -> str:
        epochs, seconds = self.warmup_bounds()
        words = f"the first {epochs} epoch{'s' if epochs != 1 else ''}"
        return words if seconds is None else f"{words} or {seconds:.0f} s"

    def _at(self, key, epoch) -> float:
        """The value of a logs key at an evaluated epoch (NaN when never logged)."""
        if key not in self.history:
            return float("nan")
        return self.history[key][self.epochs.index(epoch)]

    def _restore_message(self) -> str:
        """Which epoch's weights are kept, and why, in one line."""
        best, last = self.best_epoch, self.epochs[-1]
        kept = (f"kept the weights of the last epoch ({best + 1})" if best == last
                else f"restored the weights of epoch {best + 1} of the {last + 1} trained")
        head = f"FidelityTracker: {kept}"
        if self.keep_best == PREFIX + FLOOR_COMBINED:
            ratios = {key[len(PREFIX):]: self._at(self._ratio_key(key), best)
                      for key in self.keep_best_keys}
            worst = sorted(ratios.items(), key=lambda item: -finite_or(item[1], -1.0))
            listed = ", ".join(f"{key} {times(value)}" for key, value in
                               worst[:LISTED_RATIOS])
            more = ", ..." if len(worst) > LISTED_RATIOS else ""
            text = (f"{head}: its figures were {times(self.best_value)} the real-vs-real floor "
                    f"on average ({listed}{more})")
            if best != last:
                text += f"; the last epoch's were {times(self.history[self.keep_best][-1])}"
            return text
        name = self.keep_best[len(PREFIX):]
        if self.keep_best == PREFIX + TARGET_COMBINED:
            what = "the mean ratio of " + ", ".join(k[len(PREFIX):] for k in self.keep_best_keys)
            text = f"{head}, the best by {what} to their targets ({self.best_value:.4g})"
            if best != last:
                text += f"; the last epoch's: {self.history[self.keep_best][-1]:.4g}"
            return text

        def figure(epoch):
            ratio = self._at(self._ratio_key(self.keep_best), epoch)
            value = f"{self._at(self.keep_best, epoch):.4g}"
            if math.isfinite(ratio) and not name.startswith(RATIO):
                value += f", {times(ratio)} the real-vs-real floor"
            return value

        text = f"{head}, the best by {name} ({figure(best)})"
        if best != last:
            text += f"; the last epoch's: {figure(last)}"
        return text

    def _say(self, message):
        self.message = message
        if self.print_fn is not None:
            self.print_fn(message)


@fit_callbacks.register
def trackers_first(callbacks) -> list:
    """``callbacks`` (a list or None) with the FidelityTrackers moved to the front, in their
    order: Keras calls callbacks in list order, and those that read the logs (CSVLogger,
    TensorBoard, ProgressLogger, EarlyStopping) must see the figures the trackers add. Each
    tracker also learns the seconds of a TrainingTimeLimit among them (the shortest), for its
    warm-up: Keras gives a callback no list of the others. ``DoppelGANger.fit`` applies it
    (registered in doppelganger_tf/gan/fit_callbacks.py when this module is imported)."""
    from .stopping import TrainingTimeLimit
    callbacks = list(callbacks or [])
    trackers = [c for c in callbacks if isinstance(c, FidelityTracker)]
    limits = [c.seconds for c in callbacks if isinstance(c, TrainingTimeLimit)]
    for tracker in trackers:
        tracker.time_limit = min(limits) if limits else None
    return trackers + [c for c in callbacks if not isinstance(c, FidelityTracker)]
