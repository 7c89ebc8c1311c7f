"""A training progress display whose ETA honours a time budget: :class:`TrainingProgress`.

Under a budget in wall time (``TrainingTimeLimit``, the command line's ``--minutes``, the
experiment scripts' ``--max_train_seconds``) fit's epoch count is only a bound, often a huge
one, so "epochs left x seconds per epoch" means nothing (issue 32: an ETA of 50,253 s for a run
with 20 s left). Here the ETA is the smaller of the two ends::

    ETA = min(epochs left x seconds per epoch, seconds left of the budget)

and the epoch count shown is the epoch the run is projected to end at (``epoch 500/~530``)
rather than the bound (``epoch 500/1000000``). Each line also holds the losses and the latest
fidelity figure a :class:`~doppelganger_tf.training.fidelity_callback.FidelityTracker` logged (its
keep-best figure: the mean ratio to the real-vs-real floor).

Two ways to show it: lines through ``print_fn`` (e.g. ``logging.info``), or a stream: on a
terminal one line refreshed in place, elsewhere (a log file, a pipe) a line every
``interval`` seconds. The clock is injectable (``clock=``), so a test can fake time.

Use in a training script with a time budget::

    from doppelganger_tf.training.progress import TrainingProgress
    callbacks = [TrainingTimeLimit(seconds),
                 TrainingProgress(every=log_every, print_fn=logging.info, seconds=seconds)]
"""
from __future__ import annotations

import math
import numbers
import sys
import time
from typing import Callable, Optional

from ..compat import keras

# the logs keys the display reads a fidelity figure from, in order of preference (the
# FidelityTracker's keep-best figures: the mean ratio to a target, to the floor; else its first)
FIDELITY_KEYS = ("fidelity/keep_best_target_ratio", "fidelity/keep_best_floor_ratio")
FIDELITY_PREFIX = "fidelity/"
# a refreshing line is redrawn at most this often (seconds)
REFRESH_SECONDS = 0.25


def eta_seconds(done: int, total: Optional[int], per_epoch: Optional[float],
                elapsed: float, budget: Optional[float]) -> Optional[float]:
    """Seconds to the end of training: min(epochs left x ``per_epoch``, ``budget`` -
    ``elapsed``), either side left out when unknown (no epoch count, no budget); None when
    neither is known. ``done``: epochs finished of ``total``."""
    ends = []
    if total is not None and per_epoch is not None:
        ends.append(max(0, total - done) * per_epoch)
    if budget is not None:
        ends.append(max(0.0, budget - elapsed))
    return min(ends) if ends else None


def clock_text(seconds: Optional[float]) -> str:
    """``seconds`` as m:ss or h:mm:ss ("?" when unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class TrainingProgress(keras.callbacks.Callback):
    """Progress of ``fit``, one line per report: the epoch (of the total, or of the projected
    last epoch under a budget), the losses, the latest fidelity figure, the time elapsed and
    the ETA (module docstring).

    every: report every this many epochs (and the first and last epoch of the fit, the epoch
        training stops at, and every epoch that carries a fidelity figure).
    print_fn: where the lines go (e.g. ``logging.info``). None: to ``stream``.
    stream: default ``sys.stderr``; on a terminal one line refreshed in place (at most every
        REFRESH_SECONDS), elsewhere a line every ``interval`` seconds at most (with the
        epochs above).
    interval: with a stream that is not a terminal, the least seconds between lines (0:
        every ``every`` epochs).
    seconds: the training budget in wall time (as the TrainingTimeLimit's), counted from
        ``on_train_begin`` as TrainingTimeLimit counts it; None: no budget, the ETA comes from
        the epochs left.
    clock: a function returning seconds (default ``time.perf_counter``).

    Seconds per epoch: the mean over the epochs after the first of this fit (the first holds
    the graph tracing): until the second epoch ends the ETA is the budget's time left, or
    "?" without a budget. After ``fit``,
    :attr:`lines` holds what was reported (without the terminal's control characters).
    """

    def __init__(self, every: int = 1, print_fn: Optional[Callable[[str], None]] = None,
                 seconds: Optional[float] = None, clock: Callable[[], float] = time.perf_counter,
                 stream=None, interval: float = 0.0):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"TrainingProgress: every must be an integer >= 1 (report every "
                             f"this many epochs), got {every!r}")
        if seconds is not None and (isinstance(seconds, bool)
                                    or not isinstance(seconds, numbers.Real)
                                    or not math.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"TrainingProgress: seconds must be a positive number of seconds "
                             f"(the training budget), or None for none; got {seconds!r}")
        if (isinstance(interval, bool) or not isinstance(interval, numbers.Real)
                or not interval >= 0):
            raise ValueError(f"TrainingProgress: interval must be a number of seconds >= 0, "
                             f"got {interval!r}")
        self.every = int(every)
        self.print_fn = print_fn
        self.seconds = None if seconds is None else float(seconds)
        self.clock = clock
        self.stream = stream
        self.interval = float(interval)
        self.lines = []
        self._reset()

    def _reset(self):
        self._started = None
        self._first_epoch = None
        self._first_end = None  # clock at the end of the fit's first epoch
        self._total = None
        self._fidelity = None  # (epoch, key, value) of the latest fidelity figure
        self._last_shown = None
        self._pending = ""  # a refreshed line not ended yet

    @property
    def _refreshing(self) -> bool:
        if self.print_fn is not None:
            return False
        isatty = getattr(self._stream(), "isatty", None)
        try:
            return bool(isatty and isatty())
        except (OSError, ValueError):
            return False

    def _stream(self):
        return self.stream if self.stream is not None else sys.stderr

    # --- the figures ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return 0.0 if self._started is None else self.clock() - self._started

    def seconds_per_epoch(self, done: int) -> Optional[float]:
        """The mean seconds of this fit's epochs after its first; None before the second
        (the first mostly traces the graph: 11 s against 0.03 s for the next ones in the
        command line's walk-through, docs/cli.md)."""
        if self._first_end is None:
            return None
        after_first = done - (self._first_epoch + 1)
        if after_first <= 0:
            return None
        return (self.clock() - self._first_end) / after_first

    def eta(self, done: int) -> Optional[float]:
        return eta_seconds(done, self._total, self.seconds_per_epoch(done), self.elapsed(),
                           self.seconds)

    def projected_total(self, done: int) -> Optional[int]:
        """The epoch training is projected to end at: the epoch count, or under a budget the
        epoch the budget runs out in (TrainingTimeLimit stops at the first epoch end past it),
        whichever comes first."""
        per_epoch = self.seconds_per_epoch(done)
        if self.seconds is None:
            return self._total
        if not per_epoch:
            return None  # unknown yet: the budget's end is not an epoch count
        left = max(0.0, self.seconds - self.elapsed())
        projected = done + math.ceil(left / per_epoch)
        return projected if self._total is None else min(self._total, projected)

    def line(self, epoch: int, logs: Optional[dict]) -> str:
        """The report after epoch ``epoch`` (0-based)."""
        done = epoch + 1
        total = self.projected_total(done)
        approximate = total is not None and total != self._total
        counted = f"epoch {done}" if total is None else (
            f"epoch {done}/{'~' if approximate else ''}{total}")
        losses = " ".join(f"{key}={float(value):.4g}" for key, value in (logs or {}).items()
                          if not str(key).startswith(FIDELITY_PREFIX) and _is_number(value))
        parts = [counted] + ([losses] if losses else [])
        if self._fidelity is not None:
            at, key, value = self._fidelity
            what = ("x floor" if key.endswith("floor_ratio") else
                    "x target" if key.endswith("target_ratio") else f" {key[len(FIDELITY_PREFIX):]}")
            parts.append(f"fidelity {value:.3g}{what} (epoch {at + 1})")
        timing = f"{clock_text(self.elapsed())} elapsed, ETA {clock_text(self.eta(done))}"
        if self.seconds is not None:
            timing += f" (budget {clock_text(self.seconds)})"
        return " | ".join(parts + [timing])

    # --- Keras hooks ------------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._reset()
        self._started = self.clock()
        self._total = (self.params or {}).get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        if epoch == self._first_epoch:
            self._first_end = self.clock()
        fidelity = self._fidelity_figure(logs)
        if fidelity is not None:
            self._fidelity = (epoch,) + fidelity
        if self._due(epoch, fidelity is not None):
            self._show(self.line(epoch, logs))

    def on_train_end(self, logs=None):
        if self._pending:
            self._end_refreshed_line()

    def _due(self, epoch: int, evaluated: bool) -> bool:
        done = epoch + 1
        last = (self._total is not None and done >= self._total) or bool(
            getattr(self.model, "stop_training", False))
        if self._refreshing:
            now = self.clock()
            if last or self._last_shown is None or now - self._last_shown >= REFRESH_SECONDS:
                self._last_shown = now
                return True
            return False
        if last or epoch == self._first_epoch:
            return True
        if done % self.every and not evaluated:
            return False
        if self.print_fn is None and self.interval > 0 and self._last_shown is not None:
            return self.clock() - self._last_shown >= self.interval
        return True

    def _show(self, text: str):
        self.lines.append(text)
        if self.print_fn is not None:
            self.print_fn(text)
            return
        stream = self._stream()
        if self._refreshing:
            stream.write("\r\033[K" + text)
            self._pending = text
        else:
            stream.write(text + "\n")
            self._last_shown = self.clock()
        stream.flush()

    def _end_refreshed_line(self):
        stream = self._stream()
        stream.write("\n")
        stream.flush()
        self._pending = ""

    @staticmethod
    def _fidelity_figure(logs):
        """(key, value) of the fidelity figure the epoch's logs carry, or None."""
        logs = logs or {}
        for key in FIDELITY_KEYS:
            if key in logs and _is_number(logs[key]):
                return key, float(logs[key])
        # no keep-best figure: the tracker's first figure (not its timing)
        for key, value in logs.items():
            if (str(key).startswith(FIDELITY_PREFIX) and key != "fidelity/seconds"
                    and _is_number(value)):
                return key, float(value)
        return None


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
