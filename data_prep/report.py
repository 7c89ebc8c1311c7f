"""The JSON report every converter writes: what it read, kept and dropped, and why."""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict

from doppelganger_tf.atomic import atomic_file


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

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "kept": int(self.kept), "dropped": dict(self.dropped),
                **self.facts}

    def write(self, path) -> None:
        with atomic_file(Path(path)) as f:
            json.dump(self.to_dict(), f, indent=2, default=str)


def write_converted(output_dir, datasets: Dict[str, Any], report: Report,
                    original_layout: bool = False) -> None:
    """Write each Dataset to ``<output_dir>/<name>`` (our layout; also
    ``<output_dir>/original/<name>`` in the original release's layout when asked) and the report
    to ``<output_dir>/report.json``.  Each piece is written atomically."""
    output_dir = Path(output_dir)
    for name, dataset in datasets.items():
        dataset.save(output_dir / name)
        if original_layout:
            dataset.save_original(output_dir / "original" / name)
    report.write(output_dir / "report.json")
