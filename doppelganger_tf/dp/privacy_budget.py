"""The privacy accountant of a DP training run: :class:`PrivacyBudget` reports (and can cap)
the epsilon spent after every epoch."""
from __future__ import annotations

from typing import Optional

from .. import arguments
from ..compat import keras


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
        if num_samples is not None:
            try:
                num_samples = arguments.count("num_samples", num_samples)
            except ValueError:
                raise ValueError(f"num_samples must be the training set's size (an int >= 1), "
                                 f"or None to take it from the data fit trains on; got "
                                 f"{num_samples!r}") from None
        if target_epsilon is not None and not arguments.is_positive_number(target_epsilon):
            raise ValueError(f"target_epsilon must be a finite number > 0 (or None), got "
                             f"{target_epsilon!r}")
        self.num_samples = num_samples
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
