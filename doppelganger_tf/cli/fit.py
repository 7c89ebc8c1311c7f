"""doppelganger fit: train on a CSV or Parquet file, with a held-out share for the report,
keep-best by fidelity, checkpoints, resume, progress and the exact settings written."""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

from ..settings import TrainingOptions, load_settings, save_settings
from .common import UserError, add_data_options, cpu_threads, data_options, say

HELP = "train a model on a CSV or Parquet file"
EXAMPLES = """examples:
  doppelganger fit pages.csv --id page --time day --attributes domain access agent \\
      --missing interpolate --output run --minutes 20
  doppelganger fit pages.csv --id page --time day --output run --epochs 500 --seed 1
  doppelganger fit pages.csv --config run/settings.toml --output run2   (the same settings)

RUN receives: model/ (DoppelGANger.load), report/ (report.md: the model's samples against
the held-out series, each figure beside the real-vs-real floor), log.csv (losses and fidelity
per epoch), tensorboard/, checkpoints/ and settings.toml (every setting used; --config reads
it back). Rerunning fit on the same RUN resumes from its last checkpoint (with --epochs, up to
that many epochs); Ctrl-C saves a checkpoint first.

Settings: the command line over --config FILE over the settings suggested from the data
(describe prints them with their reasons). --epochs or --minutes on the command line replace
the file's budget.
"""
RUN_FILES = ("settings.toml", "checkpoints", "model", "report", "log.csv", "tensorboard")
# FidelityTracker's evaluations under a time budget (epochs are then unknown ahead)
FIDELITY_EVERY_UNDER_BUDGET = 50
# a progress line at least this often when the display is not a terminal (a log file)
LINE_SECONDS = 10.0
EXIT_INTERRUPTED = 130


def add_parser(subparsers):
    p = subparsers.add_parser("fit", help=HELP, description=HELP + ", with the settings "
                              "suggested from the data unless told otherwise.", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="a .csv or .parquet file")
    p.add_argument("--output", "-o", metavar="RUN", required=True,
                   help="the run directory (new, or a run to resume)")
    add_data_options(p)
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=float, help="a training budget in minutes of wall "
                        "time (training stops at the first epoch end past it)")
    budget.add_argument("--epochs", type=int, help="train this many epochs (default: the "
                        "suggestion's, at least 5,000 generator steps)")
    p.add_argument("--config", metavar="FILE", help="a settings file (TOML: [config] DGConfig "
                   "fields, [data], [training]), e.g. a run's settings.toml")
    p.add_argument("--seed", type=int, help="seed of the held-out draw, the weights, the "
                   "batches and the report's samples (default 0)")
    p.add_argument("--holdout", type=float, help="share of the series held out of training "
                   "and scored in the report (default 0.2; 0: score against the training "
                   "series)")
    p.set_defaults(run=run)
    return p


# --- settings -------------------------------------------------------------------------------------

def training_options(args, settings, resumed):
    """(TrainingOptions, whether the budget comes from the command line): the command line
    over the run's settings (resuming) or --config's over the defaults."""
    base = resumed or settings
    values = base.training.to_dict() if base is not None else TrainingOptions().to_dict()
    if args.seed is not None:
        values["seed"] = args.seed
    if args.holdout is not None:
        values["holdout"] = args.holdout
    budget_given = args.epochs is not None or args.minutes is not None
    if budget_given:
        values["epochs"], values["minutes"] = args.epochs, args.minutes
    if args.minutes is not None and not args.minutes > 0:
        raise UserError(f"--minutes must be > 0, got {args.minutes}")
    if args.epochs is not None and args.epochs < 1:
        raise UserError(f"--epochs must be >= 1, got {args.epochs}")
    try:
        return TrainingOptions(**values), budget_given
    except ValueError as error:
        raise UserError(str(error).replace("training.", "--")) from None


def held_out(count: int, share: float, seed: int):
    """(training indices, held-out indices) of ``count`` series: a seeded draw of
    round(share x count) held out (at least 2, for the report's real-vs-real floor)."""
    import numpy as np
    if share == 0:
        every = np.arange(count)
        return every, every
    held = int(round(share * count))
    if held < 2 or count - held < 2:
        raise UserError(f"--holdout {share:g} of {count} series holds out {held}: the report "
                        f"needs at least 2 held-out series and training at least 2; raise "
                        f"--holdout, or give --holdout 0 to score against the training series")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[held:]), np.sort(order[:held])


def checkpoint_epochs(directory: Path) -> int:
    """Epochs done by the newest checkpoint of ``directory`` (0 when none)."""
    import re
    numbers = [int(m.group(1)) for p in directory.glob("ckpt-*.index")
               if (m := re.fullmatch(r"ckpt-(\d+)\.index", p.name))]
    return max(numbers, default=0)


def run_state(run_dir: Path):
    """The Settings of the run in ``run_dir`` to resume, or None for a new run; refuses a
    directory that is not a run."""
    if not run_dir.exists():
        return None
    if not run_dir.is_dir():
        raise UserError(f"--output {run_dir} is a file; give a directory for the run")
    entries = [p.name for p in run_dir.iterdir()]
    if not entries:
        return None
    if "settings.toml" not in entries:
        raise UserError(f"--output {run_dir} exists and is not a doppelganger run (it has no "
                        f"settings.toml): give a new directory")
    return load_settings(run_dir / "settings.toml")


def same_config(resumed, settings, args_config):
    """Refuse a --config whose [config] differs from the run's being resumed."""
    if settings is None or not settings.config_fields:
        return
    saved = resumed.config.to_dict()
    for name, value in settings.config_fields.items():
        if saved.get(name) != value:
            raise UserError(f"the run being resumed was trained with {name}={saved.get(name)!r}"
                            f", --config {args_config} gives {value!r}: resume with the run's "
                            f"settings (leave out --config) or give another --output")


# --- training -------------------------------------------------------------------------------------

class Interrupted:
    """SIGINT while training: the first asks training to stop at the end of the current step
    (a checkpoint is then saved); a second one stops at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupted: saving a checkpoint at the end of this step (Ctrl-C again to "
              "quit without it)", file=sys.stderr, flush=True)


def callbacks_module():
    """The Keras callbacks the command adds (defined on first use: they import TensorFlow)."""
    from ..training.callbacks import TrainingCheckpoint
    from ..compat import keras

    class StopOnRequest(keras.callbacks.Callback):
        def __init__(self, interrupted):
            super().__init__()
            self.interrupted = interrupted
            self.stopped_epoch = None

        def _check(self, epoch=None):
            if self.interrupted.requested:
                self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            self._check()

        def on_epoch_end(self, epoch, logs=None):
            self._check()
            if self.interrupted.requested and self.stopped_epoch is None:
                self.stopped_epoch = epoch

    class TimedCheckpoint(TrainingCheckpoint):
        """A checkpoint when ``seconds`` have passed since the last one, at the last epoch and
        when training stops early (a time limit, Ctrl-C)."""

        def __init__(self, directory, seconds: float, clock=time.perf_counter):
            super().__init__(directory, every_n_epochs=1)
            self.seconds = seconds
            self.clock = clock
            self._last = None
            self.saved_epochs = 0

        def on_train_begin(self, logs=None):
            self._last = self.clock()

        def on_epoch_end(self, epoch, logs=None):
            last = epoch + 1 >= (self.params or {}).get("epochs", 0)
            due = self.clock() - self._last >= self.seconds
            if last or due or getattr(self.model, "stop_training", False):
                super().on_epoch_end(epoch, logs)
                self._last = self.clock()
                self.saved_epochs = epoch + 1

    return StopOnRequest, TimedCheckpoint


def run(args) -> int:
    settings = load_settings(args.config) if args.config else None
    run_dir = Path(args.output)
    resumed = run_state(run_dir)
    if resumed is not None:
        same_config(resumed, settings, args.config)
    options = data_options(args, resumed or settings)
    if resumed is not None and options != resumed.data:
        differ = [k for k, v in options.to_dict().items() if v != resumed.data.to_dict()[k]]
        raise UserError(f"the run in {run_dir} read its data with other options ({differ[0]}: "
                        f"{getattr(resumed.data, differ[0])!r}, now {getattr(options, differ[0])!r}"
                        f"): resume with the same options, or give another --output")
    training, budget_given = training_options(args, settings, resumed)
    if resumed is not None:
        for name in ("seed", "holdout"):
            if getattr(training, name) != getattr(resumed.training, name):
                raise UserError(f"the run in {run_dir} was trained with --{name} "
                                f"{getattr(resumed.training, name):g}: resume with the same "
                                f"--{name} (it draws the held-out series), or give another "
                                f"--output")
    from ..training.suggestion import suggest_config
    frame = _read(options, args.data)
    if options.layout == "long" and not options.features:  # written out in settings.toml
        options.features = options.feature_columns(frame)
    data = options.dataset(frame)
    train_rows, held_rows = held_out(len(data), training.holdout, training.seed)
    seconds = None if training.minutes is None else training.minutes * 60
    suggestion = suggest_config(data.subset(train_rows), seconds=seconds)
    if resumed is not None:
        config = resumed.config
    else:
        fields = settings.config_fields if settings is not None else {}
        try:
            config = suggestion.config.replace(**fields)
        except (TypeError, ValueError) as error:
            raise UserError(f"--config {args.config}: {error}") from None
    if training.epochs is None or (budget_given and args.minutes is not None):
        training.epochs = suggestion.epochs
    if data.max_length % config.sample_len:
        data = options.dataset(frame, sample_len=config.sample_len)
    train, held = data.subset(train_rows), data.subset(held_rows)
    every = training.fidelity_every or (FIDELITY_EVERY_UNDER_BUDGET if seconds else
                                        max(1, min(50, training.epochs // 10)))
    done = checkpoint_epochs(run_dir / "checkpoints") if resumed is not None else 0
    if done >= training.epochs:
        raise UserError(f"the run in {run_dir} has trained {done} epochs of {training.epochs}:"
                        f" nothing to resume; give --epochs above {done} to train on, or "
                        f"another --output")

    cpu_threads()
    from ..compat import keras
    from ..gan.model import DoppelGANger
    keras.utils.set_random_seed(training.seed)
    try:
        model = DoppelGANger.from_dataset(train, config, seed=training.seed)
    except (TypeError, ValueError) as error:
        raise UserError(f"the settings do not fit the data: {error}") from None
    model.compile()
    reasons = config_comments(config, suggestion, settings, args.config)
    save_settings(run_dir / "settings.toml", config, options, training, reasons=reasons,
                  header=settings_header(args))
    return train_and_report(args, run_dir, model, train, held, training, every, seconds)


def config_comments(config, suggestion, settings, config_file):
    """{field: comment} for settings.toml: the suggestion's reason where its value was kept,
    the settings file where that gave the value."""
    comments = {}
    for name, reason in suggestion.reasons.items():
        field = name.split("=")[0]
        if "=" in name and getattr(config, field) == getattr(suggestion.config, field):
            comments[field] = f"suggested: {reason}"
    for field in (settings.config_fields if settings is not None else {}):
        comments[field] = f"from {config_file}"
    return comments


def _read(options, path):
    from ..settings import read_frame
    return read_frame(path, options.time if options.layout == "long" else None)


def settings_header(args) -> str:
    return ("doppelganger fit settings: the model config, how the data were read and the "
            "training.\nRead back with: doppelganger fit DATA --config settings.toml --output "
            "RUN\n[config]: every DGConfig field (left out: None); the comments are the "
            "suggestion's reasons.")


def train_and_report(args, run_dir, model, train, held, training, every, seconds) -> int:
    from ..training.callbacks import TrainingTimeLimit
    from ..compat import keras
    from ..training.fidelity_callback import FidelityTracker
    from ..training.progress import TrainingProgress
    StopOnRequest, TimedCheckpoint = callbacks_module()

    checkpoint = TimedCheckpoint(run_dir / "checkpoints", training.checkpoint_seconds)
    start = checkpoint.restore(model)
    if start:
        say(f"resuming from the checkpoint after epoch {start} ({run_dir / 'checkpoints'})")
    say(f"training on {len(train)} series ({len(held) if training.holdout else 0} held out), "
        f"T={train.max_length}, {_budget(training, seconds)}")
    tracker = FidelityTracker(every=every, keep_best="auto", seed=training.seed, print_fn=say)
    interrupted = Interrupted()
    stopper = StopOnRequest(interrupted)
    progress = TrainingProgress(seconds=seconds, stream=sys.stderr, interval=LINE_SECONDS)
    callbacks = [tracker, stopper] + ([TrainingTimeLimit(seconds)] if seconds else []) + [
        checkpoint, progress, keras.callbacks.CSVLogger(str(run_dir / "log.csv"),
                                                        append=start > 0),
        keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False,
                                    profile_batch=0)]
    started = time.perf_counter()
    with interrupted:
        model.fit(train, epochs=training.epochs, initial_epoch=start, seed=training.seed,
                  callbacks=callbacks, verbose=0)
    trained = time.perf_counter() - started
    if interrupted.requested:
        epoch = checkpoint.saved_epochs or start
        say(f"interrupted after epoch {epoch}: checkpoint saved in {run_dir / 'checkpoints'}")
        say(f"resume with: {resume_command(args)}")
        return EXIT_INTERRUPTED
    say(f"trained epochs {start + 1}..{checkpoint.saved_epochs} in {trained:.0f} s")
    model.save(run_dir / "model")
    write_report(model, train, held, training, run_dir / "report")
    say(f"wrote {run_dir / 'model'}, {run_dir / 'report' / 'report.md'}, "
        f"{run_dir / 'log.csv'}, {run_dir / 'tensorboard'} and {run_dir / 'settings.toml'}")
    say(f"next: doppelganger generate {shlex.quote(str(run_dir / 'model'))} -n {len(train)} "
        f"--output generated.csv")
    return 0


def _budget(training, seconds) -> str:
    if seconds:
        unit = "minute" if training.minutes == 1 else "minutes"
        return f"{training.minutes:g} {unit} (at most {training.epochs:,} epochs)"
    return f"{training.epochs:,} epochs"


def write_report(model, train, held, training, directory: Path) -> dict:
    """The evaluate report of the model's samples against the held-out series (against the
    training series with --holdout 0), written atomically."""
    from ..persistence.atomic import atomic_directory
    from ..evaluation import evaluate
    real = held if training.holdout else train
    generated = model.generate(len(real), seed=training.seed)
    with atomic_directory(directory) as tmp:
        report = evaluate(real, generated, tmp, seed=training.seed)
    from .evaluate import summary_lines
    for line in summary_lines(report):
        say(line)
    return report


def resume_command(args) -> str:
    """The command that resumes this run: the same command line."""
    argv = getattr(args, "argv", None)
    if argv is None:
        return f"doppelganger fit {shlex.quote(args.data)} --output {shlex.quote(args.output)}"
    return "doppelganger " + " ".join(shlex.quote(a) for a in argv)
