"""Process-wide TensorFlow thread settings that suit DoppelGANger on CPUs.

A training step at batch 100 is two chains of small operations (the critic update on one fake
batch, the generator pass on another, then the generator's backward pass), each too small for
TensorFlow's default of splitting every operation over all cores.  Giving each operation fewer
threads and running two operations at once is faster on 2 cores (docs/performance.md,
"Training step").  Generation splits each batch into independent chunks for the same
reason (``DoppelGANger.generate``).

TensorFlow fixes its thread pools when it runs its first operation, so call
:func:`set_cpu_threads` first thing, before building a Dataset's model or any tensor.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Tuple

import tensorflow as tf

# operations run at the same time: the two chains of work of a training step
CONCURRENT_OPS = 2


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def recommended_cpu_threads(cores: Optional[int] = None) -> Tuple[int, int]:
    """(intra_op, inter_op) threads for ``cores`` cores: two operations at a time, each with
    half of the cores (1 and 2 on a 2-core machine)."""
    cores = cpu_count() if cores is None else int(cores)
    return max(1, cores // CONCURRENT_OPS), CONCURRENT_OPS


def set_cpu_threads(intra_op: Optional[int] = None, inter_op: Optional[int] = None,
                    force: bool = False) -> Tuple[int, int]:
    """Set TensorFlow's thread pools for CPU training and generation.

    Call it first, before any TensorFlow work. With a GPU visible nothing changes (the
    defaults suit it) unless ``force``.

    Args:
        intra_op: Threads one operation may use; default: :func:`recommended_cpu_threads`'s.
        inter_op: Operations run at the same time; default: :func:`recommended_cpu_threads`'s.
        force: Set them even with a GPU visible.

    Returns:
        The (intra_op, inter_op) in effect. When TensorFlow has already started its pools
        cannot change any more: it warns (RuntimeWarning) and returns the settings it keeps.

    Raises:
        ValueError: When a thread count is below 1.
    """
    default_intra, default_inter = recommended_cpu_threads()
    wanted = (default_intra if intra_op is None else int(intra_op),
              default_inter if inter_op is None else int(inter_op))
    if min(wanted) < 1:
        raise ValueError(f"thread counts must be >= 1, got intra_op={wanted[0]}, "
                         f"inter_op={wanted[1]}")
    current = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    if (tf.config.list_physical_devices("GPU") and not force) or wanted == current:
        return current
    try:
        tf.config.threading.set_intra_op_parallelism_threads(wanted[0])
        tf.config.threading.set_inter_op_parallelism_threads(wanted[1])
    except RuntimeError:
        warnings.warn("TensorFlow has already started, so its thread pools keep their sizes "
                      f"(intra_op={current[0] or 'default'}, inter_op={current[1] or 'default'}); "
                      "call doppelganger_tf.set_cpu_threads() before any TensorFlow work",
                      RuntimeWarning, stacklevel=2)
        return current
    return wanted


THREAD_SETTING_HELP = ("TensorFlow CPU threads: 'auto' (doppelganger_tf.set_cpu_threads: two "
                       "operations at a time, each on half of the cores), 'default' "
                       "(TensorFlow's own) or INTRA,INTER")


def apply_thread_setting(setting: str) -> Optional[Tuple[int, int]]:
    """The command-line form: 'auto' (:func:`set_cpu_threads`), 'default' (leave TensorFlow's
    own; returns None) or 'INTRA,INTER'."""
    if setting == "default":
        return None
    if setting == "auto":
        return set_cpu_threads()
    try:
        intra, inter = (int(v) for v in setting.split(","))
    except ValueError:
        raise ValueError(f"the thread setting must be 'auto', 'default' or INTRA,INTER (two "
                         f"integers), got {setting!r}") from None
    return set_cpu_threads(intra, inter)
