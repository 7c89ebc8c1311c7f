"""Training on several devices or machines with ``tf.distribute`` (docs/scaling.md): the
strategy an experiment asks for, the TF_CONFIG a multi-worker job needs, and which process of
such a job writes files (the chief; the others' writes go to throw-away paths).

Every worker of a ``MultiWorkerMirroredStrategy`` job runs the same script; the model is built
and compiled in the strategy's scope, each step's gradients are summed over all replicas, so
every worker holds the same weights after every step.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy DoppelGANger trains under.

    Args:
        name: "default" (one device: TensorFlow's default strategy), "mirrored" (every local
            GPU, or the CPU) or "multi_worker" (the cluster that TF_CONFIG describes, this
            process one of its workers).

    Returns:
        The strategy.

    Raises:
        ValueError: For an unknown name, or a multi-worker job whose TF_CONFIG is missing or
            malformed (:func:`tf_config`).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        tf_config()  # a clear error before TensorFlow's own
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")


def tf_config(environ=None) -> dict:
    """The TF_CONFIG of a multi-worker job, checked.

    Args:
        environ: The environment to read; default: ``os.environ``.

    Returns:
        {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}
        (a "chief" entry is allowed too).

    Raises:
        ValueError: When TF_CONFIG is not set, not JSON, has no worker list, or its task does
            not name one of the cluster's members; the message shows a correct example.
    """
    environ = os.environ if environ is None else environ
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    text = environ.get("TF_CONFIG")
    if not text:
        raise ValueError("the multi_worker strategy reads the cluster from the TF_CONFIG "
                         f"environment variable, which is not set: set it in each worker, "
                         f"e.g. {example} (index 1 in the second; docs/scaling.md)")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}): set it like {example}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster.get("worker"):
        raise ValueError(f"TF_CONFIG has no \"cluster\" with a \"worker\" list of host:port "
                         f"addresses: set it like {example}")
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise ValueError(f"TF_CONFIG's \"task\" must name this process's type among the "
                         f"cluster's {sorted(cluster)} and its index, e.g. "
                         '{"type": "worker", "index": 0}')
    index = task.get("index")
    members = cluster[task["type"]]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(members):
        raise ValueError(f"TF_CONFIG's task index {index!r} is not one of the "
                         f"{len(members)} {task['type']} addresses (0 to {len(members) - 1})")
    return config


def is_chief(strategy=None) -> bool:
    """Whether this process writes a job's files.

    Args:
        strategy: The strategy; default: the current one.

    Returns:
        True, except on the workers of a multi-worker job other than the chief (worker 0
        when no "chief" task is listed).
    """
    strategy = strategy or tf.distribute.get_strategy()
    return bool(strategy.extended.should_checkpoint)


def worker_id(strategy=None) -> str:
    """"<task type>-<index>" of this process in a multi-worker job, "" elsewhere."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return ""
    return f"{resolver.task_type}-{resolver.task_id}"


def scratch_path(path, strategy=None) -> Path:
    """Where this process writes what lands at ``path``: ``path`` on the chief, a sibling of
    it named after the worker elsewhere (the other workers must take part in a checkpoint's
    save, which may need their collective operations, but must not write the chief's files);
    delete it afterwards."""
    path = Path(path)
    if is_chief(strategy):
        return path
    return path.parent / f".{path.name}.{worker_id(strategy) or 'worker'}-scratch"
