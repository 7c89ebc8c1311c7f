"""Memorisation check (paper Figs. 21-23): the nearest real samples of each generated sample.

If generated series were copies of training series, their nearest real neighbours would be at
distance ~0.  numpy only.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def _flatten(x, what: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    if a.ndim < 1 or a.shape[0] == 0:
        raise ValueError(f"{what} must be a non-empty array [count, ...], got shape {a.shape}")
    a = a.reshape(a.shape[0], -1)
    if not np.isfinite(a).all():
        raise ValueError(f"{what} holds NaN or infinite values (e.g. NaN after each series' "
                         "end); pad them first, e.g. np.nan_to_num(x, nan=0.0)")
    return a


def nearest_neighbours(generated, real, k: int = 3, block_size: int = 1024
                       ) -> Tuple[np.ndarray, np.ndarray]:
    """The k real samples closest to each generated sample.

    The distance is the squared error summed over the flattened series (squared Euclidean).
    The work goes by blocks of ``block_size`` generated x ``block_size`` real samples (one
    [block, block] distance matrix at a time, never an M x N x D array). Candidates are picked
    with the fast ||g||^2 + ||r||^2 - 2 g.r expansion, then their distances are recomputed
    exactly from the differences, so an exact copy has distance 0.

    Args:
        generated: [M, ...] (e.g. [M, T] for one feature, or [M, T, K]), free of NaN.
        real: [N, ...] of the same trailing shape, free of NaN.
        k: Neighbours per generated sample; capped at N.
        block_size: Samples per block.

    Returns:
        (indices int64 [M, k] into ``real``, distances float64 [M, k]), nearest first (ties: the
        lower index first).

    Raises:
        ValueError: For samples of different sizes, or k or block_size below 1.
    """
    gen = _flatten(generated, "generated")
    ref = _flatten(real, "real")
    if gen.shape[1] != ref.shape[1]:
        raise ValueError(f"generated and real samples differ in size: {gen.shape[1]} vs "
                         f"{ref.shape[1]} values per sample")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    if block_size < 1:
        raise ValueError(f"block_size must be positive, got {block_size}")
    n = ref.shape[0]
    k = min(k, n)
    # a few spare candidates guard against rounding in the expansion reordering near-ties
    keep = min(n, k + 8)
    ref_sq = np.einsum("ij,ij->i", ref, ref)
    indices = np.empty((gen.shape[0], k), np.int64)
    distances = np.empty((gen.shape[0], k), np.float64)
    for g0 in range(0, gen.shape[0], block_size):
        g = gen[g0:g0 + block_size]
        g_sq = np.einsum("ij,ij->i", g, g)
        best_idx = np.empty((len(g), 0), np.int64)
        best_d = np.empty((len(g), 0), np.float64)
        for r0 in range(0, n, block_size):
            r = ref[r0:r0 + block_size]
            d = g_sq[:, None] + ref_sq[None, r0:r0 + len(r)] - 2.0 * (g @ r.T)
            cand_d = np.concatenate([best_d, d], axis=1)
            cand_i = np.concatenate(
                [best_idx, np.broadcast_to(np.arange(r0, r0 + len(r)), d.shape)], axis=1)
            if cand_d.shape[1] > keep:
                part = np.argpartition(cand_d, keep - 1, axis=1)[:, :keep]
                cand_d = np.take_along_axis(cand_d, part, axis=1)
                cand_i = np.take_along_axis(cand_i, part, axis=1)
            best_d, best_idx = cand_d, cand_i
        exact = np.stack([((g - ref[best_idx[:, j]]) ** 2).sum(axis=1)
                          for j in range(best_idx.shape[1])], axis=1)
        order = np.lexsort((best_idx, exact), axis=-1)[:, :k]
        indices[g0:g0 + len(g)] = np.take_along_axis(best_idx, order, axis=1)
        distances[g0:g0 + len(g)] = np.take_along_axis(exact, order, axis=1)
    return indices, distances
