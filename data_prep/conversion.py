"""What a converter returns: its Datasets, its report and which source each sample came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pandas as pd

from data_prep.report import Report
from doppelganger_tf.atomic import atomic_file
from doppelganger_tf import Dataset


@dataclass
class Conversion:
    """``datasets``: split name -> Dataset (``"train"``, and ``"test"`` where there is one).
    ``report``: what was read, kept and dropped, and why.  ``samples``: one row per sample,
    ``split`` and ``sample`` (its index in that split's Dataset) then the columns naming its
    source (a page, a unit, a task); :meth:`write` saves it as ``samples_file`` when that is
    set."""
    datasets: Dict[str, Dataset]
    report: Report
    samples: pd.DataFrame
    samples_file: Optional[str] = None

    def by_split(self, column: str) -> Dict[str, List]:
        """``{split: [the column's value for each sample, in sample order]}``."""
        return {name: self.samples.loc[self.samples["split"] == name, column].tolist()
                for name in self.datasets}

    def sizes(self) -> str:
        """``"train 40, test 40"``."""
        return ", ".join(f"{name} {len(d)}" for name, d in self.datasets.items())

    def write(self, output_dir, original_layout: bool = False) -> Path:
        """Write each Dataset to ``<output_dir>/<split>`` (and, with ``original_layout``, to
        ``<output_dir>/original/<split>`` in the original release's layout), the report to
        ``report.json`` and the samples to ``samples_file``.  Each file or directory is
        written atomically."""
        output_dir = Path(output_dir)
        for name, dataset in self.datasets.items():
            dataset.save(output_dir / name)
            if original_layout:
                dataset.save_original(output_dir / "original" / name)
        self.report.write(output_dir / "report.json")
        if self.samples_file is not None:
            with atomic_file(output_dir / self.samples_file) as f:
                self.samples.to_csv(f, index=False, lineterminator="\n")
        return output_dir
