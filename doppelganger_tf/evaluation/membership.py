"""Membership inference against a trained DoppelGANger (paper section 6.1, Figure 15).

The attack is the white-box discriminator attack of LOGAN (Hayes et al., PoPETs 2019) that the
paper runs: the attacker holds the trained critic and a set of candidate real samples, half of
which were in the training set ("members") and half not ("non-members", held-out real samples).
A critic that has memorised its training data scores training samples higher, so the attacker
ranks the candidates by critic score and calls the top half members.

Exact definition (:func:`threshold_attack`): with ``n`` member scores and ``n`` non-member
scores, sort the 2n scores in decreasing order and predict "member" for the first ``n``. The
success rate is the fraction of correct predictions over all 2n candidates, which for exactly n
predicted members equals the fraction of predicted members that are real members. When the
n-th and (n+1)-th scores are tied, the attacker picks the remaining slots at random among the
tied candidates; the reported success rate is the *expected* rate of that random choice, so it
is deterministic (e.g. all scores equal -> exactly 0.5). Random guessing, or scores that carry no
information about membership, give 0.5 in expectation because the two sets are the same size.

numpy only: :func:`critic_scores` calls the model's own methods and never imports TensorFlow.
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

CRITICS = ("main", "aux", "sum")


def critic_scores(model, dataset, batch_size: int = 1000, critic: str = "main") -> np.ndarray:
    """Critic scores of real samples, as the critic saw them in training.

    The samples go through ``model.prepare`` (auto-normalisation and generation-flag columns).
    The critics have no dropout or batch norm, so scoring is deterministic and does not depend
    on the batch size.

    Args:
        model: A trained ``DoppelGANger``.
        dataset: A ``Dataset`` in the model's encoding.
        batch_size: Samples scored at a time.
        critic: "main" (features and attributes), "aux" (the auxiliary critic: attributes and
            min/max only) or "sum" (main + aux).

    Returns:
        float64 [N].

    Raises:
        ValueError: For an unknown critic, "aux" or "sum" on a model without the auxiliary
            critic, or a batch_size below 1.
    """
    if critic not in CRITICS:
        raise ValueError(f"critic must be one of {CRITICS}, got {critic!r}")
    if critic in ("aux", "sum") and getattr(model, "aux_critic", None) is None:
        raise ValueError(f"critic={critic!r} needs the auxiliary critic, but this model has none; "
                         "use critic='main' or train with DGConfig(use_aux_critic=True)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    features, attributes = model.prepare(dataset)
    parts = []
    for start in range(0, len(features), batch_size):
        f = features[start:start + batch_size]
        a = attributes[start:start + batch_size]
        score = np.zeros(len(f))
        if critic in ("main", "sum"):
            score = score + np.asarray(model.critic(f, a), np.float64)
        if critic in ("aux", "sum"):
            score = score + np.asarray(model.aux_critic(None, a), np.float64)
        parts.append(score)
    return np.concatenate(parts) if parts else np.zeros(0)


def _scores(x, what: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array of scores, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what} holds NaN or infinite scores (a diverged model?); the attack "
                         "needs finite scores")
    return a


def threshold_attack(member_scores, nonmember_scores, subsample_seed: Optional[int] = None
                     ) -> Dict[str, float]:
    """The LOGAN white-box attack on balanced candidate sets (definition in the module doc).

    Args:
        member_scores: 1-D critic scores of training samples (higher = "looks like training
            data").
        nonmember_scores: 1-D scores of held-out samples; the sets must be the same size, so
            that chance is 50%.
        subsample_seed: Instead, subsample the larger set at random (this seed) to the size of
            the smaller.

    Returns:
        {"success_rate": the expected accuracy of calling the top half members, "auc":
        P(member score > non-member score) + P(equal) / 2 (threshold-free; 0.5 = chance),
        "threshold": the n-th highest score, "num_members", "num_nonmembers"}.

    Raises:
        ValueError: For sets of different sizes without ``subsample_seed``.
    """
    members = _scores(member_scores, "member_scores")
    nonmembers = _scores(nonmember_scores, "nonmember_scores")
    if len(members) != len(nonmembers):
        if subsample_seed is None:
            raise ValueError(
                f"{len(members)} member vs {len(nonmembers)} non-member scores: the attack needs "
                "equally many of each so that random guessing scores 50%; pass equal sets or "
                "subsample_seed=<int> to subsample the larger set")
        rng = np.random.default_rng(subsample_seed)
        n = min(len(members), len(nonmembers))
        members = members[np.sort(rng.choice(len(members), n, replace=False))]
        nonmembers = nonmembers[np.sort(rng.choice(len(nonmembers), n, replace=False))]
    n = len(members)
    pooled = np.concatenate([members, nonmembers])
    threshold = np.sort(pooled)[::-1][n - 1]  # the n-th highest score
    above = pooled > threshold
    tied = pooled == threshold
    slots = n - int(above.sum())  # members still to pick, all from the tied group
    members_above = int(above[:n].sum())
    members_tied = int(tied[:n].sum())
    # expected members among `slots` drawn uniformly from the tied group
    correct_members = members_above + slots * members_tied / int(tied.sum())
    return {"success_rate": float(correct_members / n),
            "auc": _auc(members, nonmembers),
            "threshold": float(threshold),
            "num_members": n, "num_nonmembers": n}


def _auc(members: np.ndarray, nonmembers: np.ndarray) -> float:
    """Mann-Whitney: P(member > non-member) + P(equal) / 2, from average ranks (ties shared)."""
    from scipy.stats import rankdata
    ranks = rankdata(np.concatenate([members, nonmembers]))  # "average" ranks for ties
    n, m = len(members), len(nonmembers)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * m))
