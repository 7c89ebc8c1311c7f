"""Resumable training: :class:`TrainingCheckpoint` saves and restores everything a resumed
run needs (weights, optimizer slots, the noise RNG, the epoch)."""
from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Optional

import tensorflow as tf

from .. import arguments
from ..compat import keras
from ..persistence.atomic import atomic_file
from . import distribution

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
        self.every_n_epochs = arguments.integer(
            "TrainingCheckpoint: every_n_epochs", every_n_epochs, minimum=1,
            meaning="checkpoint every this many epochs")
        self.max_to_keep = None if max_to_keep is None else arguments.integer(
            "TrainingCheckpoint: max_to_keep", max_to_keep, minimum=1,
            meaning="the newest checkpoints to keep; None keeps all")
        self.directory = Path(directory)
        self._check_directory()
        self._epoch = None
        self._manager = None
        self._bound_model = None

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
