"""The JSON report every converter writes: what it read, kept and dropped, and why."""
from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Dict, Optional

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

    def nonzero_drops(self) -> Dict[str, int]:
        return {k: v for k, v in self.dropped.items() if v}

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


@contextlib.contextmanager
def command_line_errors(program: str):
    """Bad input or an unreadable file ends a converter run with one clear line, not a trace."""
    try:
        yield
    except (ValueError, OSError) as exc:
        raise SystemExit(f"{program}: error: {exc}") from None


def finish_run(program: str, output_dir, datasets: Dict[str, Any], report: Report,
               original_layout: bool, summary: str,
               extra: Optional[Callable[[Path], None]] = None) -> None:
    """A converter's last step: write everything (``extra(output_dir)`` writes any
    converter-specific file), then print the summary line and the report's notes."""
    output_dir = Path(output_dir)
    with command_line_errors(program):
        write_converted(output_dir, datasets, report, original_layout=original_layout)
        if extra is not None:
            extra(output_dir)
    print(f"{summary}; dropped {report.nonzero_drops()}; wrote {output_dir}")
    for note in report.facts.get("notes", []):
        print(f"note: {note}")
