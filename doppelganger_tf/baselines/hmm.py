"""Hidden Markov model baseline (Lin et al., IMC 2020, section 5.1.2 and Appendix B).

The paper: "Hidden Markov models (HMM) ... the time series is modelled as a sequence of hidden
states with Gaussian emissions; the metadata are generated from the training data's multinomial
distribution", independent of the series.

Here: an ``hmmlearn.hmm.GaussianHMM`` with diagonal covariances over the per-step encoded feature
vectors, fitted by EM on the active steps of every series (concatenated, with per-sample lengths
so that no transition crosses two series).

Choices and deviations (the paper leaves these open):

- ``n_components=10`` hidden states by default; ``fit(epochs=...)`` is the maximum number of EM
  iterations (default 50, stopping earlier when the log-likelihood gains less than ``tol``).
- Metadata: whole attribute rows of the training set drawn with replacement, i.e. the empirical
  ("multinomial") joint distribution of all attribute columns, continuous ones included.
- Lengths: drawn from the empirical length distribution, independently of attributes and series.
- Categorical features: their one-hot columns are modelled as continuous Gaussian emissions and
  the generated block is turned back into a category by argmax; continuous values are clipped to
  their normalisation range.
- Generation samples the chain with numpy, vectorised over samples (``GaussianHMM.sample`` loops
  in Python per step and per sequence), from ``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from hmmlearn.hmm import GaussianHMM

from ..data.dataset import Dataset
from ..data.transforms import gen_flags_from_lengths
from .base import Baseline


class HMMBaseline(Baseline):
    """Gaussian HMM over the feature vectors (hmmlearn); attributes and lengths from the training
    data.

    Args:
        n_components: Hidden states (reduced to the number of training steps when fewer).
        tol: EM convergence threshold on the log-likelihood gain.
        min_covar: Floor on the emission variances.
    """

    default_epochs = 50

    def __init__(self, n_components: int = 10, tol: float = 1e-2, min_covar: float = 1e-3):
        super().__init__()
        self.n_components = n_components
        self.tol = tol
        self.min_covar = min_covar
        self.hmm: Optional[GaussianHMM] = None

    def _fit(self, dataset: Dataset, epochs: int, seed: Optional[int], verbose: int) -> None:
        steps = dataset.features[dataset.gen_flags > 0.5].astype(np.float64)  # sample-major
        self.hmm = GaussianHMM(n_components=min(self.n_components, len(steps)),
                               covariance_type="diag", min_covar=self.min_covar, n_iter=epochs,
                               tol=self.tol, random_state=seed, verbose=bool(verbose))
        self.hmm.fit(steps, lengths=dataset.lengths)

    def _generate(self, n: int, rng: np.random.Generator):
        hmm = self.hmm
        attributes = self.sample_attributes(n, rng)
        lengths = self.sample_lengths(n, rng)
        cumulative_start = np.cumsum(hmm.startprob_)
        cumulative_transitions = np.cumsum(hmm.transmat_, axis=1)
        scales = np.sqrt(np.diagonal(hmm.covars_, axis1=1, axis2=2))  # [states, K]
        last = hmm.n_components - 1
        state = np.minimum(np.searchsorted(cumulative_start, rng.random(n), side="right"), last)
        states = np.empty((n, self.max_length), np.int64)
        for t in range(self.max_length):
            if t:
                u = rng.random(n)[:, None]
                state = np.minimum((u >= cumulative_transitions[state]).sum(axis=1), last)
            states[:, t] = state
        noise = rng.standard_normal(states.shape + (hmm.means_.shape[1],))
        features = hmm.means_[states] + scales[states] * noise
        return features, attributes, gen_flags_from_lengths(lengths, self.max_length)
