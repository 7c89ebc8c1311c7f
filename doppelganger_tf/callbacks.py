"""Keras callbacks for DoppelGANger training."""
from __future__ import annotations

import json
import math
import numbers
import os
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import tensorflow as tf

from . import distribution
from .atomic import atomic_file
from .compat import keras


class TrainingCheckpoint(keras.callbacks.Callback):
    """Checkpoint everything a resumed run needs: weights, optimizer slots, the noise RNG, the
    epoch.

    Resume an interrupted run with the same callback::

        checkpoint = TrainingCheckpoint("run/ckpt")
        start = checkpoint.restore(model)          # 0 when there is nothing to resume
        model.fit(data, epochs=400, initial_epoch=start, callbacks=[checkpoint])

    TensorFlow writes each checkpoint fully before pointing its index (the ``checkpoint`` file)
    at it, so a run killed mid-save resumes from the previous one. An index that lists
    anything but this directory's ckpt-N (TensorFlow would restore it, and its saves delete
    the files of the old entries, wherever they are) counts as damaged and is rewritten before
    any save reads it. In a multi-worker job (docs/scaling.md) every worker runs the callback:
    the chief writes the checkpoints; the others save to a scratch directory beside it,
    deleted at once, and restore from the chief's (a shared file system, or a copy, on
    separate hosts).

    Args:
        directory: Where the checkpoints go.
        every_n_epochs: Checkpoint every this many epochs.
        max_to_keep: The newest checkpoints to keep; None keeps all.

    Raises:
        TypeError: When ``every_n_epochs`` or ``max_to_keep`` is not an int.
        ValueError: When either is below 1.
    """

    INDEX_FILE = "checkpoint"  # TensorFlow's record of the checkpoints, newest last
    PREFIX = "ckpt"  # checkpoint N is ckpt-N.index + ckpt-N.data-*

    def __init__(self, directory, every_n_epochs: int = 1, max_to_keep: Optional[int] = 2):
        super().__init__()
        self.every_n_epochs = self._positive_int(every_n_epochs, "every_n_epochs",
                                                 "checkpoint every this many epochs")
        self.max_to_keep = None if max_to_keep is None else self._positive_int(
            max_to_keep, "max_to_keep", "the newest checkpoints to keep; None keeps all")
        self.directory = Path(directory)
        self._check_directory()
        self._epoch = None
        self._manager = None
        self._bound_model = None

    @staticmethod
    def _positive_int(value, name, meaning):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"TrainingCheckpoint: {name} must be an int >= 1 ({meaning}), "
                            f"got {value!r} ({type(value).__name__})")
        if value < 1:
            raise ValueError(f"TrainingCheckpoint: {name} must be >= 1 ({meaning}), got {value}")
        return int(value)

    def _check_directory(self):
        if self.directory.exists() and not self.directory.is_dir():
            raise NotADirectoryError(
                f"checkpoint directory {self.directory} is a file: give TrainingCheckpoint a "
                "directory (created when missing), or move the file away")

    def _bind(self, model):
        if self._bound_model is model:
            return
        if getattr(model, "generator_optimizer", None) is None:
            raise ValueError("compile() the model before checkpointing or restoring it")
        self._check_directory()
        self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        checkpoint = tf.train.Checkpoint(model=model, epoch=self._epoch)
        # the chief's directory, or this worker's scratch one (distribution.scratch_path)
        self._save_directory = distribution.scratch_path(self.directory,
                                                         model.distribute_strategy)
        # before the manager reads the index: it would delete the files of what it lists
        self._drop_foreign_entries(Path(self._save_directory))
        self._manager = tf.train.CheckpointManager(checkpoint, str(self._save_directory),
                                                   max_to_keep=self.max_to_keep,
                                                   checkpoint_name=self.PREFIX)
        self._bound_model = model

    @property
    def latest(self):
        """The newest checkpoint the index file lists.

        Returns:
            Its path prefix, or None, also when the index is missing or damaged, or names
            paths other than this directory's ckpt-N (``restore`` then finds the checkpoints
            in the directory).
        """
        listed, problem, _ = self._listed(self.directory)
        return None if problem or not listed else tf.train.latest_checkpoint(str(self.directory))

    def restore(self, model) -> int:
        """Load the newest intact checkpoint into ``model``.

        A damaged newest checkpoint (unreadable index, missing or truncated files) is never
        taken for "nothing to resume": the newest intact one is restored instead, with a
        warning saying what was skipped.

        Args:
            model: The DoppelGANger to load into, built and compiled as the run was.

        Returns:
            The epoch to resume from (``fit``'s ``initial_epoch``); 0 when the directory holds
            no checkpoint.

        Raises:
            ValueError: When no checkpoint is intact (naming the damaged files), or the index
                is damaged and no checkpoint file is left.
        """
        self._check_directory()
        candidates, index_problem = self._candidates()
        if not candidates:
            if index_problem:
                raise ValueError(f"{index_problem}, and {self.directory} holds no "
                                 f"{self.PREFIX}-N.index checkpoint: delete that file to start "
                                 "training over, or point TrainingCheckpoint at the run's "
                                 "checkpoint directory")
            self._bound_model = None
            self._bind(model)
            return 0
        skipped = []
        for prefix in candidates:
            damage = self._damage(prefix)
            if damage is None:
                break
            skipped.append(damage)
        else:
            raise ValueError(f"no intact checkpoint in {self.directory}: " + "; ".join(skipped)
                             + ". Restore the files from a backup, or delete the directory "
                             "to start training over")
        notes = ([index_problem] if index_problem else []) + skipped
        if index_problem and distribution.is_chief(model.distribute_strategy):
            # so the next saves keep (and prune) the checkpoints found
            self._rewrite_index(prefix, candidates)
        if notes:
            warnings.warn(f"TrainingCheckpoint: {'; '.join(notes)}. Restored {prefix}, the "
                          "newest intact checkpoint" + (", and wrote a new index file listing "
                                                        "the checkpoints found" if index_problem
                                                        else ""), RuntimeWarning, stacklevel=2)
        self._bound_model = None  # a fresh manager reads the index as it is now
        self._bind(model)
        try:
            self._manager.checkpoint.restore(prefix).assert_existing_objects_matched()
        except (ValueError, AssertionError, tf.errors.InvalidArgumentError) as error:
            if self._has_ungrouped_generators(prefix):
                raise ValueError(
                    f"checkpoint {prefix} was written by an earlier doppelganger_tf, whose model "
                    "held its three generator networks directly (now grouped in "
                    "model.generator): finish that run with the version that started it and "
                    "save the model (saved models load in every version), or start a new "
                    "checkpoint directory") from None
            detail = str(error)
            detail = detail if len(detail) < 400 else detail[:400] + " ..."
            raise ValueError(
                f"checkpoint {prefix} does not fit this model ({detail}): it was written by a "
                "model of another configuration; restore into a model built with the same "
                "DGConfig and training data as the run that wrote it, or give this run a new "
                "checkpoint directory") from None
        return int(self._epoch.numpy())

    @staticmethod
    def _has_ungrouped_generators(prefix) -> bool:
        """Whether the checkpoint names the generators as the model's own children (the layout
        before the Generator network grouped them)."""
        try:
            names = [name for name, _ in tf.train.list_variables(prefix)]
        except (tf.errors.OpError, ValueError):
            return False
        return any(name.startswith("model/feature_generator/") for name in names)

    def _candidates(self):
        """(checkpoint prefixes to try, newest first; what is wrong with the index file or
        None). A sound index lists them; without one, those found in the directory."""
        index = self.directory / self.INDEX_FILE
        found = self._found(self.directory)
        if not index.exists():
            return found, (f"the index file {index} is missing" if found else None)
        listed, problem, _ = self._listed(self.directory)
        return (found, problem) if problem else (listed, None)

    def _found(self, directory):
        """The prefixes of the ckpt-N.index files in ``directory``, newest first."""
        prefixes = [str(p)[:-len(".index")] for p in directory.glob(f"{self.PREFIX}-*.index")]
        return sorted((p for p in prefixes if self._number(p) >= 0), key=self._number,
                      reverse=True)

    def _listed(self, directory):
        """(the prefixes the index file of ``directory`` lists, newest first; what is wrong
        with it or None; whether that is entries other than ckpt-N of ``directory``).
        ([], None, False) without an index file."""
        index = directory / self.INDEX_FILE
        if not index.exists():
            return [], None, False
        try:
            state = tf.train.get_checkpoint_state(str(directory))
            problem = "TensorFlow could not parse it"
        except (ValueError, tf.errors.OpError) as error:  # e.g. an empty file
            state, problem = None, str(error)
        if state is None or not state.model_checkpoint_path:
            return [], f"the index file {index} is damaged ({problem})", False
        # TensorFlow takes any path here (absolute, ../, a glob pattern): restore would read
        # it, and a save would delete <path>.index and <path>.data-* of the older ones
        entries = dict.fromkeys([state.model_checkpoint_path, *state.all_model_checkpoint_paths])
        foreign = [p for p in entries if not self._is_own(p, directory)]
        if foreign:
            shown = ", ".join(repr(p) for p in foreign[:3])
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            what = (f"is not a {self.PREFIX}-N checkpoint of {directory} (a save would "
                    "delete the files it names)" if len(foreign) == 1 else
                    f"are not {self.PREFIX}-N checkpoints of {directory} (a save would delete "
                    "the files they name)")
            return [], f"the index file {index} lists {shown}{more}, which {what}: ignored " \
                       "the index", True
        listed = [p for p in state.all_model_checkpoint_paths if p != state.model_checkpoint_path]
        return [state.model_checkpoint_path, *reversed(listed)], None, False

    def _is_own(self, prefix, directory) -> bool:
        """Whether ``prefix`` names checkpoint ckpt-N (N digits) of ``directory``."""
        prefix = str(prefix)
        return (re.fullmatch(rf"{re.escape(self.PREFIX)}-[0-9]+", os.path.basename(prefix))
                is not None and os.path.realpath(os.path.dirname(prefix) or ".")
                == os.path.realpath(directory))

    def _drop_foreign_entries(self, directory):
        """Rewrite an index file of ``directory`` that lists paths other than its ckpt-N
        (delete it when there are no checkpoints to list), and warn naming them."""
        _, problem, foreign = self._listed(directory)
        if not foreign:
            return
        found = self._found(directory)
        if found:
            self._rewrite_index(found[0], found, directory)
        else:
            (directory / self.INDEX_FILE).unlink()
        warnings.warn(f"TrainingCheckpoint: {problem}, and "
                      + ("wrote a new index file listing the checkpoints found"
                         if found else "deleted it (the directory holds no checkpoint)"),
                      RuntimeWarning, stacklevel=3)

    @staticmethod
    def _number(prefix):
        """N of a checkpoint prefix ".../ckpt-N" (-1 for another name)."""
        number = str(prefix).rpartition("-")[2]
        return int(number) if number.isascii() and number.isdigit() else -1

    @staticmethod
    def _damage(prefix):
        """What is wrong with checkpoint ``prefix`` (files missing, or a tensor that does not
        read back: truncated, checksum mismatch), or None when every tensor reads."""
        index = Path(prefix + ".index")
        if not index.is_file():
            return f"{index} is missing"
        data = sorted(index.parent.glob(f"{index.name[:-len('.index')]}.data-*"))
        if not data:
            return f"{prefix}.data-00000-of-00001 is missing"
        try:
            reader = tf.train.load_checkpoint(prefix)
        except Exception as error:  # TensorFlow raises several kinds; all mean unreadable
            return f"{index} is unreadable ({TrainingCheckpoint._first_line(error)})"
        try:
            for name in reader.get_variable_to_dtype_map():
                reader.get_tensor(name)
        except Exception as error:
            files = ", ".join(p.name for p in data)
            return (f"checkpoint {prefix} does not read back: {files} is damaged "
                    f"({TrainingCheckpoint._first_line(error)})")
        return None

    @staticmethod
    def _first_line(error):
        text = str(error).strip().splitlines()
        return f"{type(error).__name__}: {text[0] if text else ''}"

    def _rewrite_index(self, chosen, candidates, directory=None):
        """A new index file (in ``directory``, by default the checkpoint directory) listing
        ``chosen`` and the older checkpoints found, so the next saves prune them as usual
        (TensorFlow's CheckpointState text format; its own writer, update_checkpoint_state,
        is deprecated)."""
        directory = self.directory if directory is None else directory
        kept = [Path(p) for p in reversed(candidates) if self._number(p) <= self._number(chosen)]
        times = [Path(f"{p}.index").stat().st_mtime for p in kept]
        lines = [f"model_checkpoint_path: {json.dumps(Path(chosen).name)}"]
        lines += [f"all_model_checkpoint_paths: {json.dumps(p.name)}" for p in kept]
        lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
        lines.append(f"last_preserved_timestamp: {min(times) - 1!r}")  # all prunable
        with atomic_file(directory / self.INDEX_FILE) as f:
            f.write("\n".join(lines) + "\n")

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        self._bind(self.model)
        self._epoch.assign(epoch + 1)
        self._manager.save(checkpoint_number=epoch + 1)
        if self._save_directory != self.directory:  # a worker's scratch copy
            shutil.rmtree(self._save_directory, ignore_errors=True)


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss: the weights are no longer finite."""


class StopOnDivergence(keras.callbacks.Callback):
    """Stop ``fit`` at the first non-finite loss: once a weight is NaN every later step is wasted.

    ``DoppelGANger.fit`` adds it unless ``stop_on_divergence=False``. It checks the losses
    after every call of the train function (``steps_per_execution`` steps).

    Raises:
        TrainingDiverged: Naming the epoch and the losses.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        losses = {name: float(value) for name, value in (logs or {}).items()}
        if all(np.isfinite(value) for value in losses.values()):
            return
        shown = ", ".join(f"{name}={value:.4g}" for name, value in losses.items())
        raise TrainingDiverged(
            f"training diverged in epoch {self._epoch + 1} (by step {batch + 1} of it): "
            f"{shown}. The weights are no longer finite, so further steps are wasted: resume "
            "from the last checkpoint (TrainingCheckpoint.restore) with lower learning rates "
            "(DGConfig.*_learning_rate), or pass fit(..., stop_on_divergence=False) to train on")


class TrainingTimeLimit(keras.callbacks.Callback):
    """A training budget in wall time rather than in epochs.

    Stops ``fit`` at the end of the first epoch that ends ``seconds`` or more after training
    began (the clock starts at ``on_train_begin``, so the first call's graph tracing counts).
    After ``fit``, :attr:`stopped_epoch` is the 0-based epoch it stopped at (None when the
    epochs ran out first) and :attr:`elapsed` the seconds from the start to the last epoch's
    end.

    Args:
        seconds: The budget.

    Raises:
        ValueError: When ``seconds`` is not a finite, positive number.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if (isinstance(seconds, bool) or not isinstance(seconds, numbers.Real)
                or not np.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"TrainingTimeLimit: seconds must be a finite, positive number of "
                             f"seconds of wall time, got {seconds!r} (for no limit, leave the "
                             "callback out)")
        self.seconds = float(seconds)
        self.stopped_epoch = None
        self.elapsed = 0.0
        self._started = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed = time.perf_counter() - self._started
        if self.elapsed >= self.seconds:
            self.stopped_epoch = epoch
            self.model.stop_training = True


class ProgressLogger(keras.callbacks.Callback):
    """Print losses, elapsed time and the projected time to finish, in place of Keras' progress
    bar for long runs.

    Args:
        every: Print every this many epochs (and after the last).
        print_fn: Receives each line.
    """

    def __init__(self, every: int = 1, print_fn=print):
        super().__init__()
        self.every = max(1, int(every))
        self.print_fn = print_fn
        self._started = None
        self._first_epoch = None
        self._total = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()
        self._first_epoch = None
        self._total = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self._total:
            return
        elapsed = time.perf_counter() - self._started
        per_epoch = elapsed / max(1, done - self._first_epoch)
        remaining = per_epoch * (self._total - done) if self._total else float("nan")
        losses = " ".join(f"{k}={v:.4g}" for k, v in (logs or {}).items())
        self.print_fn(f"epoch {done}/{self._total} {losses} | {elapsed:.0f}s elapsed, "
                      f"{per_epoch:.2f}s/epoch, ETA {remaining:.0f}s")


class PrivacyBudget(keras.callbacks.Callback):
    """Account the epsilon a DP model has spent, after every epoch.

    Epsilon goes into the epoch logs (``logs["epsilon"]``, so ``History`` keeps it), is
    printed, and is stored on the model (``model.privacy_record``, which ``save()`` writes
    into model.json). Steps spent are the critic optimizer's update count / ``critic_steps``:
    exact across several ``fit`` calls and resumed runs whose checkpoint restored the
    optimizers (TrainingCheckpoint does), and never fewer than the epochs this run covers
    (``initial_epoch`` included).

    Args:
        num_samples: N, the number of training series epsilon is accounted for; default: the
            size of the Dataset ``fit`` trains on (``model.dp_num_samples``), which a given
            value must equal (a larger N under-reports epsilon).
        delta: The delta of the reported (epsilon, delta).
        target_epsilon: Stop training (``model.stop_training``) at the end of the epoch after
            which one more epoch would exceed it, so the target is never passed.
        print_fn: Receives each epoch's line.

    Raises:
        ValueError: For a ``num_samples``, ``delta`` or ``target_epsilon`` out of range; a
            ``num_samples`` other than the training set's size (before the first step); and
            when the first epoch would already exceed ``target_epsilon``.
    """

    def __init__(self, num_samples: Optional[int] = None, delta: float = 1e-5,
                 target_epsilon: Optional[float] = None, print_fn=print):
        super().__init__()
        from .privacy import check_delta
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(
                num_samples, numbers.Integral) or num_samples < 1):
            raise ValueError(f"num_samples must be the training set's size (an int >= 1), or "
                             f"None to take it from the data fit trains on; got {num_samples!r}")
        if target_epsilon is not None and (
                isinstance(target_epsilon, bool) or not isinstance(target_epsilon, numbers.Real)
                or not 0 < target_epsilon < math.inf):
            raise ValueError(f"target_epsilon must be a finite number > 0 (or None), got "
                             f"{target_epsilon!r}")
        self.num_samples = None if num_samples is None else int(num_samples)
        self.delta = check_delta(delta)
        self.target_epsilon = target_epsilon
        self.print_fn = print_fn
        self.stopped_early = False
        self._first_epoch = None
        self._steps_per_epoch = None

    def _config(self):
        model = self.model
        if not getattr(model, "uses_dp", False):
            raise ValueError("PrivacyBudget needs a model trained with DP: build it with "
                             "DGConfig(dp_noise_multiplier=...) (no DP means no epsilon)")
        return model.config

    def _training_set_size(self) -> int:
        """N: the size of the data this fit trains on (checked against ``num_samples``)."""
        size = getattr(self.model, "dp_num_samples", None)
        if size is None:
            raise ValueError("PrivacyBudget works inside DoppelGANger.fit, which tells it the "
                             "training set's size")
        if self.num_samples is not None and self.num_samples != size:
            raise ValueError(
                f"PrivacyBudget(num_samples={self.num_samples}) but fit trains on {size} "
                f"series: epsilon must be accounted for the real training set (a larger N "
                f"under-reports it). Pass num_samples={size} or leave it out")
        return size

    def _epsilon(self, steps):
        from .privacy import epsilon_spent
        return epsilon_spent(self._training_set_size(), self._config().batch_size, steps,
                             self._config(), self.delta,
                             aux_critic=self.model.aux_critic is not None)

    def steps_spent(self, epochs_done: Optional[int] = None) -> int:
        """Training steps (real batches) the critics have read so far.

        Args:
            epochs_done: Epochs this run has finished; the count is never below them.

        Returns:
            The steps.
        """
        from .privacy import steps_spent
        counted = steps_spent(self.model)
        if epochs_done is not None and self._steps_per_epoch:
            counted = max(counted, epochs_done * self._steps_per_epoch)
        return counted

    def on_train_begin(self, logs=None):
        self._config()
        size = self._training_set_size()
        self._first_epoch = None
        self._steps_per_epoch = self.params.get("steps") or self.model.steps_per_epoch(size)
        self.stopped_early = False
        if self.target_epsilon is not None:
            spent = self.steps_spent()
            nxt = self._epsilon(spent + self._steps_per_epoch)
            if nxt > self.target_epsilon:
                raise ValueError(
                    f"one more epoch ({self._steps_per_epoch} steps after {spent}) would spend "
                    f"epsilon {nxt:.4g} > target_epsilon {self.target_epsilon}: raise the "
                    "noise multiplier or the target, or train fewer steps per epoch")

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:  # a resumed run starts past epoch 0
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        from .privacy import privacy_record
        steps = self.steps_spent(epochs_done=epoch + 1)
        record = privacy_record(self._config(), self._training_set_size(), steps, self.delta,
                                aux_critic=self.model.aux_critic is not None,
                                target_epsilon=self.target_epsilon)
        eps = record["epsilon"]
        if logs is not None:
            logs["epsilon"] = eps
        message = (f"epoch {epoch + 1}: epsilon {eps:.4g} (delta {self.delta:g}) after "
                   f"{steps} steps; original accounting {record['epsilon_original']:.4g}")
        if self.target_epsilon is not None:
            nxt = self._epsilon(steps + self._steps_per_epoch)
            if nxt > self.target_epsilon:
                self.model.stop_training = True
                self.stopped_early = True
                message += (f"; stopping: the next epoch would reach {nxt:.4g} > target "
                            f"{self.target_epsilon}")
        record["stopped_early"] = self.stopped_early
        self.model.privacy_record = record
        self.print_fn(message)
