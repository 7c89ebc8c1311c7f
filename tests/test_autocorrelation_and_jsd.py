"""The autocorrelation curve (by FFT and by its lag-by-lag definition), its MSE, the
Jensen-Shannon divergence and the flat-sample share (doppelganger_tf.evaluation)."""
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


def _autocorrelation_lag_by_lag(x, lengths, max_lag):
    """The definition, one lag at a time: Pearson correlation of x[s] and x[s + lag] over the
    pairs inside each series (0 where undefined)."""
    n, t = x.shape
    steps, curves = np.arange(t), np.zeros((n, max_lag))
    for lag in range(1, max_lag + 1):
        valid = (steps[None, :t - lag] + lag) < lengths[:, None]
        a, b = x[:, :t - lag], x[:, lag:]
        count = valid.sum(axis=1)
        safe = np.maximum(count, 1)
        da = np.where(valid, a - (np.where(valid, a, 0).sum(1) / safe)[:, None], 0)
        db = np.where(valid, b - (np.where(valid, b, 0).sum(1) / safe)[:, None], 0)
        denom = np.sqrt((da ** 2).sum(1) * (db ** 2).sum(1))
        with np.errstate(invalid="ignore", divide="ignore"):
            curves[:, lag - 1] = np.where((denom > 1e-12) & (count > 1),
                                          (da * db).sum(1) / denom, 0.0)
    return curves


def test_autocorrelation_by_fft_equals_the_lag_by_lag_definition(monkeypatch):
    import doppelganger_tf.evaluation.metrics as metrics
    monkeypatch.setattr(metrics, "AUTOCORRELATION_BLOCK", 64)  # several blocks
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 40)).cumsum(axis=1) + 5.0
    x[:10] = 0.7  # constant: undefined, 0
    x[10:20] = np.arange(40) % 2  # alternating: exactly -1 / 1
    lengths = rng.integers(1, 41, size=300)
    lengths[:30] = 40
    for lag_limit in (38, 12):
        expected = _autocorrelation_lag_by_lag(x, lengths, lag_limit)
        got = autocorrelation(x, lengths, lag_limit, per_sample=True)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)
        np.testing.assert_allclose(autocorrelation(x, lengths, lag_limit), expected.mean(0),
                                   rtol=0, atol=1e-8)
    assert np.all(got[:10] == 0)


def test_flat_samples_over_the_whole_series_or_its_last_share():
    from doppelganger_tf.evaluation import flat_samples
    x = np.array([[0.3, 0.3, 0.3, 0.3, 0.3, 0.3],      # constant
                  [0.1, 0.9, 0.2, 0.5, 0.5, 0.5],      # flat over its second half only
                  [0.5, 0.5, 0.5, 0.5, 0.5, 0.6],      # varies at its end
                  [0.2, 0.2 + 1e-7, 0.2, 0.2, 0.2, 0.2]])  # within the tolerance
    np.testing.assert_array_equal(flat_samples(x, tolerance=1e-6), [1, 0, 0, 1])
    np.testing.assert_array_equal(flat_samples(x, tolerance=1e-6, tail=0.5), [1, 1, 0, 1])
    np.testing.assert_array_equal(flat_samples(x, tolerance=0.0), [1, 0, 0, 0])
    # active steps: lengths, or (without) the finite values; at least 2 steps, one never flat
    np.testing.assert_array_equal(flat_samples(x, np.array([5, 3, 5, 1]), 1e-6, tail=0.5),
                                  [1, 0, 1, 0])
    padded = np.where(np.arange(6) < np.array([[5], [3], [5], [1]]), x, np.nan)
    np.testing.assert_array_equal(flat_samples(padded, tolerance=1e-6, tail=0.5), [1, 0, 1, 0])
    with pytest.raises(ValueError, match=r"tail must be a share of the active steps in \(0, 1\]"):
        flat_samples(x, tail=0)
