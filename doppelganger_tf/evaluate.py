"""Command line of the fidelity report (:func:`doppelganger_tf.evaluation.evaluate`):

    python -m doppelganger_tf.evaluate --real DIR --synthetic DIR --output DIR

reads two saved Datasets (``Dataset.load``: our layout, the streamed one or the original
release's) of the same specs, writes ``report.json``, ``report.md`` and PNG figures into
``--output`` and prints the overall figures. A user error (a missing directory, data of other
specs, an unknown feature) is one line on stderr and exit status 1. docs/evaluation.md says how
to read the report. No TensorFlow is imported.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

PROGRAM = "doppelganger_tf.evaluate"


def _names(text: str) -> List[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one name (comma-separated)")
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m {PROGRAM}",
        description="Fidelity report of synthetic data against real data, every figure beside "
                    "the real-vs-real floor (two halves of the real data).")
    p.add_argument("--real", required=True, help="directory of the real Dataset (the training "
                   "data, so that the memorisation check finds copies of it)")
    p.add_argument("--synthetic", required=True, help="directory of the synthetic Dataset")
    p.add_argument("--output", required=True, help="directory for report.json, report.md and "
                   "the figures (created if missing)")
    p.add_argument("--features", type=_names, default=None,
                   help="comma-separated continuous feature columns (default: all)")
    p.add_argument("--attributes", type=_names, default=None,
                   help="comma-separated attributes (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the real halves and subsets")
    p.add_argument("--floor_splits", type=int, default=5,
                   help="random splits of the real data the figures and floors average over")
    p.add_argument("--max_samples", type=int, default=None,
                   help="use at most this many real and synthetic samples (default: all)")
    p.add_argument("--max_lag", type=int, default=None,
                   help="autocorrelation lags 1..max_lag (default: T-2)")
    p.add_argument("--no_plots", action="store_true", help="write no PNG figures")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    from .data.dataset import Dataset
    from .evaluation.report import REPORT_SECTIONS, evaluate
    try:
        real = _load(Dataset, args.real, "--real")
        synthetic = _load(Dataset, args.synthetic, "--synthetic")
        report = evaluate(real, synthetic, args.output, features=args.features,
                          attributes=args.attributes, seed=args.seed,
                          max_samples=args.max_samples, plots=not args.no_plots,
                          max_lag=args.max_lag, floor_splits=args.floor_splits)
    except (ValueError, OSError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{PROGRAM}: error: {message}", file=sys.stderr)
        return 1
    print("metric: synthetic (floor, ratio)")
    for section in REPORT_SECTIONS:
        if section.endswith("_by_category"):
            continue  # in report.md
        for key, row in report["metrics"].get(section, {}).items():
            print(f"{key}: {_number(row['synthetic'])} ({_number(row['floor'])}, "
                  f"{_number(row['ratio'])})")
    output = Path(args.output)
    print(f"wrote {output / 'report.md'}, {output / 'report.json'} and "
          f"{len(report['figures'])} figures")
    return 0


def _load(dataset_class, path: str, flag: str):
    try:
        return dataset_class.load(path)
    except (ValueError, OSError) as error:
        kind = OSError if isinstance(error, OSError) else ValueError
        raise kind(f"{flag}: {error}") from error


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"


if __name__ == "__main__":
    sys.exit(main())
