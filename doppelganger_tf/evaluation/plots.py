"""PNG figures mirroring the paper's evaluation figures (matplotlib, imported lazily).

Each function takes plain arrays / dicts (compute them with :mod:`.metrics`, :mod:`.downstream`
and :mod:`.memorization`), writes one PNG atomically to ``path`` and returns ``path`` as a
``Path``.  Figures are drawn on a stand-alone ``matplotlib.figure.Figure`` with an Agg canvas:
no pyplot, no global backend change, no open windows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Sequence

import numpy as np

from ..persistence.atomic import atomic_file


def _figure(width: float = 6.4, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> Path:
    path = Path(path)
    fig.tight_layout()
    with atomic_file(path, "wb") as f:
        fig.savefig(f, format="png")
    return path


def _check_nonempty(d: dict, what: str):
    if not d:
        raise ValueError(f"{what} is empty; give at least one entry")


def plot_autocorrelation(curves: Dict[str, np.ndarray], path,
                         title: str = "Autocorrelation") -> Path:
    """Autocorrelation curves (paper Figs. 1/4): label -> curve [L] for lags 1..L, one line
    each."""
    _check_nonempty(curves, "curves")
    fig = _figure()
    ax = fig.subplots()
    for label, curve in curves.items():
        curve = np.asarray(curve, np.float64)
        ax.plot(np.arange(1, len(curve) + 1), curve, label=str(label), linewidth=1.2)
    ax.set_xlabel("Time lag (steps)")
    ax.set_ylabel("Autocorrelation")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_cdfs(samples: Dict[str, np.ndarray], path, xlabel: str, title: str = "CDF") -> Path:
    """Empirical CDFs of 1-D samples (paper Figs. 7/8, e.g. total bandwidth or per-sample
    Pearson correlations): label -> values, one step line each; NaN values are dropped."""
    _check_nonempty(samples, "samples")
    fig = _figure()
    ax = fig.subplots()
    for label, values in samples.items():
        x = np.sort(np.asarray(values, np.float64).ravel())
        x = x[np.isfinite(x)]
        if x.size == 0:
            continue
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=str(label))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("CDF")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_attribute_histograms(hists: Dict[str, np.ndarray], categories: Sequence, path,
                              title: str = "Attribute distribution", xlabel: str = "Category",
                              normalize: bool = True) -> Path:
    """Side-by-side bars of category (or bin) counts (paper Figs. 5/6): label -> counts [C]
    aligned with ``categories`` (C labels, e.g. bin centres for (max+min)/2 histograms).  With
    ``normalize`` each histogram is shown as fractions of its total, so Datasets of different
    sizes compare."""
    _check_nonempty(hists, "hists")
    categories = list(categories)
    fig = _figure(min(20.0, max(6.4, 0.3 * len(categories) * len(hists))), 4.0)
    ax = fig.subplots()
    width = 0.8 / len(hists)
    positions = np.arange(len(categories))
    for i, (label, counts) in enumerate(hists.items()):
        counts = np.asarray(counts, np.float64)
        if counts.shape != (len(categories),):
            raise ValueError(f"histogram {label!r} has shape {counts.shape}, expected "
                             f"({len(categories)},) to match the categories")
        if normalize and counts.sum() > 0:
            counts = counts / counts.sum()
        ax.bar(positions - 0.4 + width * (i + 0.5), counts, width=width, label=str(label))
    ax.set_xticks(positions)
    ax.set_xticklabels([_label(c) for c in categories], rotation=45 if len(categories) > 6 else 0,
                       ha="right" if len(categories) > 6 else "center")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Fraction of samples" if normalize else "Samples")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def _label(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.3g}"
    return str(value)


def plot_length_histograms(hists: Dict[str, np.ndarray], path, title: str = "Series length",
                           normalize: bool = True) -> Path:
    """Length distributions (paper Fig. 9): label -> counts [T] for lengths 1..T (as from
    ``metrics.length_histogram``), drawn as step lines; ``normalize`` shows fractions."""
    _check_nonempty(hists, "hists")
    fig = _figure()
    ax = fig.subplots()
    for label, counts in hists.items():
        counts = np.asarray(counts, np.float64).ravel()
        if normalize and counts.sum() > 0:
            counts = counts / counts.sum()
        ax.step(np.arange(1, counts.size + 1), counts, where="mid", label=str(label))
    ax.set_xlabel("Length (steps)")
    ax.set_ylabel("Fraction of samples" if normalize else "Samples")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_nearest_neighbours(generated, real, indices, path, num_samples: int = 3,
                            title: str = "Generated samples and their nearest real samples"
                            ) -> Path:
    """Memorisation check (paper Figs. 21-23): for the first ``num_samples`` generated series
    [M, T], one panel with the generated series (thick black) and its nearest real series
    (thin, from ``real`` [N, T] at ``indices`` [M, k], e.g. from
    ``memorization.nearest_neighbours``).  NaN steps (after a series' end) are not drawn."""
    generated = np.asarray(generated, np.float64)
    real = np.asarray(real, np.float64)
    indices = np.asarray(indices, np.int64)
    if generated.ndim != 2 or real.ndim != 2:
        raise ValueError(f"generated and real must be [count, T], got {generated.shape} and "
                         f"{real.shape}")
    if indices.ndim != 2 or indices.shape[0] != generated.shape[0]:
        raise ValueError(f"indices must be [M={generated.shape[0]}, k], got {indices.shape}")
    rows = max(1, min(num_samples, generated.shape[0]))
    fig = _figure(7.0, 2.2 * rows)
    axes = np.atleast_1d(fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])
    for i, ax in enumerate(axes):
        for j, idx in enumerate(indices[i]):
            ax.plot(real[idx], linewidth=1.0, alpha=0.8, label=f"real #{idx} (nearest {j + 1})")
        ax.plot(generated[i], color="black", linewidth=2.0, label=f"generated #{i}")
        ax.set_ylabel("Value")
        ax.legend(fontsize=7, loc="upper right")
    axes[0].set_title(title)
    axes[-1].set_xlabel("Time step")
    return _save(fig, path)


def plot_accuracies(acc: Dict[str, Dict[str, float]], path,
                    title: str = "Train on generated, test on real",
                    ylabel: str = "Accuracy") -> Path:
    """Downstream accuracies (paper Fig. 13): model (e.g. "real", "DoppelGANger", "HMM") ->
    algorithm -> accuracy, drawn as bars grouped by algorithm, one colour per model."""
    _check_nonempty(acc, "acc")
    algorithms = list(dict.fromkeys(a for scores in acc.values() for a in scores))
    fig = _figure(max(6.4, 1.2 * len(algorithms)), 4.0)
    ax = fig.subplots()
    width = 0.8 / len(acc)
    positions = np.arange(len(algorithms))
    for i, (model, scores) in enumerate(acc.items()):
        values = [scores.get(a, np.nan) for a in algorithms]
        ax.bar(positions - 0.4 + width * (i + 0.5), values, width=width, label=str(model))
    ax.set_xticks(positions)
    ax.set_xticklabels([a.replace("_", "\n") for a in algorithms])
    ax.set_ylabel(ylabel)
    finite = [v for scores in acc.values() for v in scores.values() if np.isfinite(v)]
    if finite and 0 <= min(finite) and max(finite) <= 1:
        ax.set_ylim(0, 1.15)  # room for the legend above the bars
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title(title)
    ax.legend(loc="upper center", ncol=min(len(acc), 4), fontsize=8)
    return _save(fig, path)


def plot_membership(train_sizes: Sequence[int], success_rates: Dict[str, Sequence[float]], path,
                    title: str = "Membership inference vs training-set size") -> Path:
    """Membership-inference success rate against the number of training samples (paper
    Fig. 15), log x axis, one line per entry of ``success_rates`` (e.g. "attack", "held-out
    control"; NaN points are skipped) and the 50% chance level."""
    _check_nonempty(success_rates, "success_rates")
    sizes = np.asarray(train_sizes, np.float64)
    fig = _figure()
    ax = fig.subplots()
    for label, rates in success_rates.items():
        rates = np.asarray(rates, np.float64)
        if rates.shape != sizes.shape:
            raise ValueError(f"success_rates[{label!r}] has {rates.size} values for "
                             f"{sizes.size} training-set sizes")
        ax.plot(sizes, 100 * rates, marker="o", label=str(label))
    ax.axhline(50, color="gray", linestyle="--", linewidth=1.0, label="random guess (50%)")
    ax.set_xscale("log")
    ax.set_xlabel("Number of training samples")
    ax.set_ylabel("Attack success rate (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_dp_sweep(curves: Dict[str, np.ndarray], epsilons: Dict[str, float],
                  mses: Dict[str, float], path,
                  title: str = "Fidelity vs privacy (autocorrelation)") -> Path:
    """Paper Fig. 16: left, autocorrelation curves (label -> curve, "real" included); right,
    autocorrelation MSE against epsilon (log scale) for the labels in ``epsilons``."""
    _check_nonempty(curves, "curves")
    fig = _figure(11.0, 4.0)
    left, right = fig.subplots(1, 2)
    for label, curve in curves.items():
        curve = np.asarray(curve, np.float64)
        left.plot(np.arange(1, len(curve) + 1), curve, label=str(label),
                  linewidth=2.0 if label == "real" else 1.1,
                  color="black" if label == "real" else None)
    left.set_xlabel("Time lag (steps)")
    left.set_ylabel("Autocorrelation")
    left.set_title(title)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    points = [(epsilons[k], mses[k], k) for k in epsilons
              if k in mses and np.isfinite(epsilons[k]) and epsilons[k] > 0]
    if points:
        points.sort()
        right.plot([p[0] for p in points], [p[1] for p in points], marker="o")
        for eps, mse, label in points:
            right.annotate(str(label), (eps, mse), fontsize=7, xytext=(3, 3),
                           textcoords="offset points")
        right.set_xscale("log")
    right.set_xlabel("epsilon (delta 1e-5 unless stated)")
    right.set_ylabel("Autocorrelation MSE")
    right.set_title("MSE vs epsilon")
    right.grid(alpha=0.3)
    return _save(fig, path)
