"""The JSON report every converter writes: what it read, kept and dropped, and why."""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List

from doppelganger_tf.atomic import atomic_file

MAX_EXAMPLES = 5


class Report:
    """Counts per filter, in the order the filters run, plus free-form facts (settings, sizes).

    ``drop(reason, n)`` records n samples removed by a filter; ``note(key, value)`` records a
    fact; ``kept`` is set by the converter to the number of samples it wrote.
    """

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.dropped: "OrderedDict[str, int]" = OrderedDict()
        self.facts: Dict[str, Any] = {}
        self.kept = 0

    def drop(self, reason: str, count: int = 1) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def note(self, key: str, value: Any) -> None:
        self.facts[key] = value

    def nonzero_drops(self) -> Dict[str, int]:
        return {k: v for k, v in self.dropped.items() if v}

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "kept": int(self.kept), "dropped": dict(self.dropped),
                **self.facts}

    def write(self, path) -> None:
        with atomic_file(Path(path)) as f:
            json.dump(self.to_dict(), f, indent=2, default=str)


class Examples:
    """The first :data:`MAX_EXAMPLES` example lines of each drop reason (``items``: reason ->
    lines, in the order the reasons first occurred), for the report."""

    def __init__(self):
        self.items: "OrderedDict[str, List[str]]" = OrderedDict()

    def add(self, reason: str, text: str) -> None:
        bucket = self.items.setdefault(reason, [])
        if len(bucket) < MAX_EXAMPLES:
            bucket.append(text)
