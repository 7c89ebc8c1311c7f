"""A fidelity report of synthetic data against real data, every figure beside the real-vs-real
noise floor: :func:`evaluate` (``python -m doppelganger_tf.evaluate``; docs/evaluation.md).

How the floor is made comparable. The real data are split into two seeded random halves: the
*reference* half A and the *other* half B. Every distance is measured against A: the synthetic
figure compares the synthetic data with A, the floor compares B with A, each with the same
number of samples (the smaller of |B| and the synthetic count; a seeded random subset of the
larger). The floor is thus what a perfect generator, one that draws fresh real samples, scores;
a synthetic figure near its floor cannot be told apart from sampling noise, and ``ratio`` =
synthetic / floor reads as "how many times the noise". Both figures are means over
``floor_splits`` (default 5) such splits, each against the same reference halves: one split's
floor is itself one noisy draw, and a floor near 0 by chance (a JSD of two categories often is)
would make any ratio large. The per-dataset statistics are computed once; a split only picks
samples.

Memorisation: each synthetic sample's Euclidean distance to its nearest real sample (over all
the real data given, which should be the training data), against each real sample's distance to
its nearest *other* real sample (leave one out: a reference of N - 1 samples, nearly the same
size). Their medians' ratio is about 1 for a generator that draws new samples from the real
distribution, well below 1 (towards 0) when synthetic samples are copies or near-copies of
training samples, and above 1 when they are farther from the real data than real samples are from
each other (low fidelity). Series are the scaled continuous features over all T steps, padding
as 0.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .. import arguments
from ..persistence.atomic import atomic_file
from .fidelity import (METRIC_FAMILIES, SAMPLE_STATISTICS, FidelitySummary, check_max_lag,
                       check_same_specs, compare, continuous_features, flat_share, summarize)
from .memorization import nearest_neighbours
from .metrics import feature_series, length_histogram

# the tables of the report: the metric families, memorisation, then (the long ones, last)
# each per-sample statistic again per category of each discrete attribute
REPORT_SECTIONS = (METRIC_FAMILIES + ("memorization",)
                   + tuple(f"{s}_by_category" for s in SAMPLE_STATISTICS))
# the nearest-neighbour search costs queries x real samples x values: a median over this many
# queries is already precise, while the reference stays every real sample (copies of any of them
# must be found)
MEMORIZATION_QUERIES = 5000

_FAMILY_TITLES = {
    "acf": "Autocorrelation (MSE between the average curves)",
    "mean": "Per-sample mean (W1)",
    "total": "Per-sample total (W1)",
    "midrange": "Per-sample (max+min)/2 (W1)",
    "mean_by_category": "Per-sample mean by category (W1)",
    "total_by_category": "Per-sample total by category (W1)",
    "midrange_by_category": "Per-sample (max+min)/2 by category (W1)",
    "attribute": "Attributes (JSD in bits for discrete, W1 for continuous)",
    "length": "Series length (W1 in steps)",
    "correlation": "Cross-feature correlation (W1 of the per-sample Pearson correlations)",
    "flat": "Flat series (constant over the second half of their active steps; the figure is "
            "the difference of the shares)",
    "memorization": "Memorisation (nearest real neighbour)",
}


def check_dataset(data, name: str) -> None:
    """TypeError naming the fix unless ``data`` is a Dataset (e.g. a DataFrame was given)."""
    from ..data.dataset import Dataset
    if not isinstance(data, Dataset):
        raise TypeError(
            f"evaluate compares two doppelganger_tf Datasets; {name} is a "
            f"{type(data).__name__}. Pass Datasets: model.generate(...) returns one; build the "
            "real one with Dataset.from_dataframe(df, id_column=..., time_column=..., "
            "feature_columns=..., attribute_columns=...), and load generated data with "
            "Dataset.load (a directory written by generate_to or Dataset.save)")


def evaluate(real, synthetic, output=None, *, features: Optional[Sequence[str]] = None,
             attributes: Optional[Sequence[str]] = None, seed: int = 0,
             max_samples: Optional[int] = None, plots: bool = True,
             max_lag: Optional[int] = None, floor_splits: int = 5) -> dict:
    """Compare ``synthetic`` with ``real`` on every fidelity figure, each beside its
    real-vs-real floor (module docstring).

    Series figures are on the scaled encoded values ([0, 1] or [-1, 1]) over active steps, as
    in :mod:`.fidelity`, whose key names the metrics use (per category of a discrete
    attribute: ``w1_<statistic>/<feature>/<attribute>=<category>``).

    Args:
        real: The real Dataset.
        synthetic: The generated Dataset, with the same specs.
        output: A directory to write ``report.json`` (the returned dict), ``report.md`` (one
            table per family: metric, synthetic, floor, ratio) and, with ``plots``, PNG
            figures; every file is written atomically. None writes nothing.
        features: Continuous feature columns to score (raw names); default: all.
        attributes: Attribute names to score; default: all.
        seed: Seeds the halves and subsets.
        max_samples: Use at most this many real and this many synthetic samples (a seeded
            random subset), to bound the time on large data.
        plots: Write the PNG figures with ``output``.
        max_lag: Autocorrelation lags 1..max_lag; default: T - 2.
        floor_splits: How many random splits of the real data the figures and floors average
            over.

    Returns:
        ``{"samples", "settings", "floor", "metrics": {table: {key: {"synthetic", "floor",
        "ratio"}}}, "autocorrelation": {feature: {"real", "real_other_half", "synthetic":
        curve}}, "memorization", "figures"}``. The tables are the :data:`REPORT_SECTIONS`
        that have rows; "real" is the reference half; the "flat" table's rows also hold
        "synthetic_share" and "real_share", the shares of flat series among the synthetic
        samples compared and among all the real ones. Figures without data (e.g. a category
        one side lacks) and ratios without a positive floor are None.

    Raises:
        ValueError: For data that are not Datasets of the same specs, an ``output`` that is
            a file, fewer than 2 real samples, or settings out of range.
    """
    for name, data in (("real", real), ("synthetic", synthetic)):
        check_dataset(data, name)
    check_same_specs(real, synthetic)
    if output is not None and Path(output).exists() and not Path(output).is_dir():
        raise ValueError(f"output {output} is a file; give a directory")
    seed = arguments.count("seed", seed, minimum=0)
    if max_samples is not None:
        max_samples = arguments.count("max_samples", max_samples, minimum=2)
    if len(real) < 2:
        raise ValueError(f"the real data hold {len(real)} sample; the floor needs at least 2 "
                         "(two halves)")
    features = continuous_features(real, features)
    max_lag = check_max_lag(max_lag, real.max_length)
    floor_splits = arguments.count("floor_splits", floor_splits, minimum=1)
    rng = np.random.default_rng(seed)
    real = _at_most(real, max_samples, rng)
    synthetic = _at_most(synthetic, max_samples, rng)
    half = len(real) // 2
    # the floor and the synthetic figure compare equally many samples with a reference half
    count = min(len(real) - half, len(synthetic))
    compared = _at_most(synthetic, count, rng)
    settings = dict(metrics=None, features=features, max_lag=max_lag, attributes=attributes)
    real_summary = summarize(real, **settings)  # the halves are subsets of it: no recomputing
    syn_summary = summarize(compared, **settings)
    # a one-off report also shows lengths when only the synthetic ones vary
    lengths_vary = bool(np.any(real.lengths < real.max_length)
                        or np.any(synthetic.lengths < synthetic.max_length))
    scores, floors = [], []
    for split in range(floor_splits):
        order = rng.permutation(len(real))
        reference = real_summary.subset(np.sort(order[:half]))
        other = real_summary.subset(np.sort(order[half:half + count]))
        scores.append(compare(reference, syn_summary, by_category=True,
                              include_length=lengths_vary))
        floors.append(compare(reference, other, by_category=True, include_length=lengths_vary))
        if split == 0:  # the halves the figures show
            ref_summary, other_summary = reference, other
    metrics: Dict[str, Dict[str, dict]] = {family: {} for family in REPORT_SECTIONS}
    for key in scores[0]:
        metrics[_section(key, features)][key] = _row(_mean(s[key] for s in scores),
                                                     _mean(f[key] for f in floors))
    for f in real_summary.flat:  # the shares beside their difference
        metrics["flat"][f"flat/{f}"].update(synthetic_share=flat_share(syn_summary, f),
                                            real_share=flat_share(real_summary, f))
    memorization = _memorization(real, synthetic, features, seed) if features else None
    if memorization is not None:
        for key, (value, floor) in memorization.pop("figures").items():
            metrics["memorization"][key] = _row(value, floor)

    report = {
        "samples": {"real": len(real), "synthetic": len(synthetic),
                    "real_reference_half": half, "real_other_half": count,
                    "synthetic_compared": count},
        "settings": {"seed": seed, "floor_splits": floor_splits, "max_samples": max_samples,
                     "max_lag": max_lag,
                     "features": list(features),
                     "attributes": None if attributes is None else list(ref_summary.attributes)},
        "floor": ("each figure compares the synthetic data with a seeded random half of the "
                  "real data (the reference half); the floor compares the other half with the "
                  "reference half, with as many samples as the synthetic side; both are means "
                  f"over {floor_splits} seeded random splits"),
        "metrics": {family: rows for family, rows in metrics.items() if rows},
        "autocorrelation": {f: {"real": ref_summary.acf[f], "real_other_half": other_summary.acf[f],
                                "synthetic": syn_summary.acf[f]} for f in ref_summary.acf},
        "memorization": memorization,
        "figures": [],
    }
    if output is not None:
        output = Path(output)
        output.mkdir(parents=True, exist_ok=True)
        if plots:
            report["figures"] = _figures(output, real, synthetic, ref_summary, other_summary,
                                         syn_summary, lengths_vary, memorization, features)
    report = _jsonable(report)
    if output is not None:
        with atomic_file(output / "report.json") as f:
            json.dump(report, f, indent=2)
        with atomic_file(output / "report.md") as f:
            f.write(markdown(report))
    return report


# --- helpers of evaluate --------------------------------------------------------------------------

def _at_most(dataset, count: Optional[int], rng: np.random.Generator):
    """``dataset``, or a seeded random subset of ``count`` samples (in their order) if larger."""
    if count is None or len(dataset) <= count:
        return dataset
    return dataset.subset(np.sort(rng.choice(len(dataset), count, replace=False)))


def _section(key: str, features: Sequence[str]) -> str:
    """The report table of a :func:`.fidelity.compare` key."""
    kind = key.split("/", 1)[0]
    if kind == "acf_mse":
        return "acf"
    if kind.startswith("w1_") and kind[3:] in SAMPLE_STATISTICS:
        overall = key in {f"{kind}/{f}" for f in features}
        return kind[3:] if overall else f"{kind[3:]}_by_category"
    if kind in ("jsd", "w1"):
        return "attribute"
    if kind == "length_w1":
        return "length"
    if kind == "feature_corr":
        return "correlation"
    if kind == "flat":
        return "flat"
    raise AssertionError(f"no family for metric {key!r}")  # a new key needs a family here


def _mean(values) -> float:
    """Mean of the figures that exist (NaN: a category missing from a half), else NaN."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _row(value: float, floor: float) -> dict:
    usable = math.isfinite(value) and math.isfinite(floor) and floor > 0
    return {"synthetic": value, "floor": floor, "ratio": value / floor if usable else None}


def _memorization(real, synthetic, features: Sequence[str], seed: int) -> dict:
    """Nearest-real-neighbour distances (module docstring); "figures" holds (synthetic, floor)
    pairs for the metric table."""
    def matrix(dataset):
        return np.concatenate([np.nan_to_num(feature_series(dataset, f)) for f in features],
                              axis=1)

    rng = np.random.default_rng([seed, 1])
    real_x, synthetic_x = matrix(real), matrix(synthetic)
    queries = np.sort(rng.permutation(len(synthetic))[:MEMORIZATION_QUERIES])
    indices, squared = nearest_neighbours(synthetic_x[queries], real_x, k=1)
    synthetic_d = np.sqrt(squared[:, 0])
    real_queries = np.sort(rng.permutation(len(real))[:MEMORIZATION_QUERIES])
    # each real sample finds itself first (distance 0, lowest index among exact duplicates):
    # take its nearest other sample
    real_idx, real_sq = nearest_neighbours(real_x[real_queries], real_x, k=2)
    itself = real_idx[:, 0] == real_queries
    real_d = np.sqrt(np.where(itself, real_sq[:, 1], real_sq[:, 0]))
    synthetic_median, real_median = float(np.median(synthetic_d)), float(np.median(real_d))
    closest = np.argsort(synthetic_d, kind="stable")[:3]
    return {
        "distance": "Euclidean over the scaled continuous features, all T steps, padding 0",
        "synthetic_median_distance": synthetic_median,
        "real_median_distance": real_median,
        "ratio": synthetic_median / real_median if real_median > 0 else None,
        "synthetic_queries": int(len(queries)), "real_queries": int(len(real_queries)),
        # the synthetic samples closest to a real one, for a look at the figure
        "closest": [{"synthetic": int(queries[i]), "real": int(indices[i, 0]),
                     "distance": float(synthetic_d[i])} for i in closest],
        "figures": {
            "nn_distance_median": (synthetic_median, real_median),
            "exact_copy_fraction": (float(np.mean(synthetic_d == 0)), float(np.mean(real_d == 0))),
        },
    }


def _jsonable(value):
    """Plain JSON types: arrays to lists, numpy scalars to Python, NaN / inf to None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


# --- figures --------------------------------------------------------------------------------------

def safe_file_stem(name) -> str:
    """``name`` (e.g. a column name from the data) with every character outside
    [A-Za-z0-9_.=-] replaced by "_": safe in a file name on every system, never a path."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", str(name))


def _figures(output: Path, real, synthetic, ref: FidelitySummary, other: FidelitySummary,
             syn: FidelitySummary, lengths_vary: bool, memorization: dict,
             features: Sequence[str]) -> List[str]:
    from . import plots

    labels = ("real", "real (other half)", "synthetic")
    names: List[str] = []

    def path(stem: str) -> Path:
        name = safe_file_stem(stem)
        while f"{name}.png" in names:  # two names that sanitise alike
            name += "_"
        names.append(f"{name}.png")
        return output / names[-1]

    def three(values):
        return dict(zip(labels, values))

    for f in ref.acf:
        plots.plot_autocorrelation(three([ref.acf[f], other.acf[f], syn.acf[f]]),
                                   path(f"acf_{f}"), title=f"Autocorrelation of {f} (scaled)")
    for statistic in ref.statistics:
        for f in ref.statistics[statistic]:
            plots.plot_cdfs(three([s.statistics[statistic][f] for s in (ref, other, syn)]),
                            path(f"{statistic}_{f}_cdf"),
                            xlabel=f"per-sample {_STATISTIC_WORDS[statistic]} of {f} (scaled)",
                            title=f"{f}: per-sample {_STATISTIC_WORDS[statistic]}")
    for name, (categories, _, _) in ref.discrete.items():
        plots.plot_attribute_histograms(three([s.discrete[name][2] for s in (ref, other, syn)]),
                                        categories, path(f"attribute_{name}"),
                                        title=f"Attribute {name}")
    for column in ref.continuous:
        plots.plot_cdfs(three([s.continuous[column] for s in (ref, other, syn)]),
                        path(f"attribute_{column}_cdf"), xlabel=f"{column} (scaled)",
                        title=f"Attribute {column}")
    if lengths_vary:
        plots.plot_length_histograms(
            three([length_histogram(s.lengths, s.max_length) for s in (ref, other, syn)]),
            path("length"))
    for (a, b), values in ref.correlations.items():
        plots.plot_cdfs(three([values, other.correlations[(a, b)], syn.correlations[(a, b)]]),
                        path(f"correlation_{a}~{b}_cdf"),
                        xlabel=f"per-sample Pearson correlation of {a} and {b}")
    closest = memorization["closest"] if memorization is not None else []
    if closest:
        f = features[0]
        plots.plot_nearest_neighbours(
            np.nan_to_num(feature_series(synthetic, f))[[c["synthetic"] for c in closest]],
            np.nan_to_num(feature_series(real, f)), [[c["real"]] for c in closest],
            path("memorization"), num_samples=len(closest),
            title=f"The synthetic samples closest to a real one, and it ({f})")
    return names


_STATISTIC_WORDS = {"mean": "mean", "total": "total", "midrange": "(max+min)/2"}


# --- report.md ------------------------------------------------------------------------------------

def markdown(report: dict) -> str:
    """report.md of a report dict: the samples, then one table per metric family (metric,
    synthetic, floor, ratio), the per-category figures in tables of their own."""
    samples = report["samples"]
    lines = ["# Fidelity report", "",
             f"Real samples: {samples['real']} (reference half {samples['real_reference_half']}, "
             f"other half {samples['real_other_half']}); synthetic samples: "
             f"{samples['synthetic']} ({samples['synthetic_compared']} compared).", "",
             "Every figure is a distance (0 = identical). *floor*: the same figure between two "
             "halves of the real data, the noise a perfect generator would show; *ratio*: "
             "synthetic / floor (near 1: as good as real data; docs/evaluation.md). Series "
             "figures are on the scaled values ([0, 1] or [-1, 1]).", ""]
    for family, rows in report["metrics"].items():
        lines += [f"## {_FAMILY_TITLES[family]}", "", _table(rows)]
        if family == "acf":
            lines += _largest_gaps(report["autocorrelation"])
        if family == "memorization":
            m = report["memorization"]
            lines += [f"Median distance to the nearest real sample: synthetic "
                      f"{_number(m['synthetic_median_distance'])}, real (to its nearest other "
                      f"real sample) {_number(m['real_median_distance'])}; the ratio is the "
                      "memorisation ratio: about 1 = new samples, well below 1 = copies of "
                      "training samples, above 1 = farther from the real data than real samples "
                      "are from each other.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _table(rows: Dict[str, dict]) -> str:
    shares = all("real_share" in row for row in rows.values())  # the flat table
    lines = ["| metric | synthetic | floor | ratio |" + (
        " synthetic share | real share |" if shares else ""),
        "|---|---|---|---|" + ("---|---|" if shares else "")]
    for key, row in rows.items():
        line = (f"| {key} | {_number(row['synthetic'])} | {_number(row['floor'])} | "
                f"{_number(row['ratio'])} |")
        if shares:
            line += f" {_number(row['synthetic_share'])} | {_number(row['real_share'])} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _largest_gaps(curves: Dict[str, dict], count: int = 3) -> List[str]:
    lines = []
    for feature, c in curves.items():
        real, synthetic = np.asarray(c["real"], float), np.asarray(c["synthetic"], float)
        worst = np.argsort(-np.abs(synthetic - real), kind="stable")[:count]
        gaps = ", ".join(f"lag {i + 1}: {synthetic[i]:.3f} vs real {real[i]:.3f}" for i in worst)
        lines.append(f"- {feature}, largest gaps: {gaps}")
    return lines + [""] if lines else []


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"
