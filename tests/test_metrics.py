import numpy as np
import pytest

from doppelganger_tf.evaluation import (autocorrelation, autocorrelation_mse,
                                        jensen_shannon_divergence)


def test_autocorrelation_of_a_periodic_series():
    t = np.arange(40)
    curve = autocorrelation(np.sin(2 * np.pi * t / 8)[None, :])
    assert curve.shape == (38,)
    assert curve[7] == pytest.approx(1.0, abs=1e-9)   # lag 8: in phase
    assert curve[3] == pytest.approx(-1.0, abs=1e-9)  # lag 4: half a period


def test_autocorrelation_undefined_is_zero_and_padding_is_ignored():
    x = np.zeros((2, 10))
    x[1, :6] = [1, 2, 3, 4, 5, 6]
    x[1, 6:] = 99  # padding: must be ignored with lengths
    curve = autocorrelation(x, lengths=np.array([10, 6]))
    # sample 0 is constant (undefined -> 0); sample 1 is a line (corr 1) for lags 1..4
    np.testing.assert_allclose(curve[:4], 0.5)
    np.testing.assert_allclose(curve[4:], 0.0)  # too few pairs


def test_autocorrelation_mse():
    assert autocorrelation_mse([0, 1], [0, 1]) == 0
    assert autocorrelation_mse([0, 1], [1, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="shape"):
        autocorrelation_mse([0, 1], [0, 1, 2])


def test_jensen_shannon_divergence():
    assert jensen_shannon_divergence([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert jensen_shannon_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        jensen_shannon_divergence([1, 0], [1, 0, 0])
