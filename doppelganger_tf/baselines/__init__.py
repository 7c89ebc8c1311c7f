"""The paper's baselines (Lin et al., IMC 2020, section 5.1.2 and Appendix B).

Each has DoppelGANger's interface where it matters: ``Model(**config).fit(dataset, epochs=None,
seed=None, verbose=0)`` returns the model, ``generate(n, seed=None)`` returns a
:class:`~doppelganger_tf.data.dataset.Dataset` with the training data's specs and scaling.

- :class:`HMMBaseline` (hmm.py): Gaussian HMM over the feature vectors (hmmlearn).
- :class:`ARBaseline` (ar.py): MLP auto-regression of order 3.
- :class:`RNNBaseline` (rnn.py): LSTM(100) trained with teacher forcing.
- :class:`NaiveGANBaseline` (naive_gan.py): WGAN-GP with MLP generator and critic.

The names load lazily, so importing one baseline does not import the others' dependencies.
"""
import importlib

_EXPORTS = {"Baseline": "base", "HMMBaseline": "hmm", "ARBaseline": "ar",
            "RNNBaseline": "rnn", "NaiveGANBaseline": "naive_gan"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
