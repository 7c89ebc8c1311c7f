import numpy as np
import pytest

from doppelganger_tf.outputs import Normalization, Output, OutputType
from doppelganger_tf.transforms import (check_sample_len, decode_gen_flags, encode_gen_flags,
                                        gen_flags_from_lengths, global_scale, global_unscale,
                                        lengths_from_gen_flags, minmax_attribute_outputs,
                                        normalize_per_sample, renormalize_per_sample,
                                        scaling_loss, typical_range)

NORMALIZATIONS = [Normalization.ZERO_ONE, Normalization.MINUSONE_ONE]


def continuous(norm, dim=1):
    return Output(OutputType.CONTINUOUS, dim, norm)


# --- precision of global scaling ------------------------------------------------------------------

def loss_of(values, norm):
    values = np.asarray(values, np.float64)
    lo, hi = values.min(), values.max()
    return scaling_loss(values, global_scale(values, lo, hi, norm), lo, hi, norm)


def test_typical_range_ignores_extreme_values():
    assert typical_range(np.r_[np.arange(100.0), 1e300]) == (25.0, 75.0, "interquartile range")
    # mostly one value: up to the IQR of the others, or to the next most common value
    low, high, kind = typical_range(np.r_[np.zeros(90), np.arange(1.0, 11.0), 1e300])
    assert (low, kind) == (0.0, "most common value 0 and the interquartile range of the others")
    assert 5 < high < 9
    assert typical_range(np.r_[np.zeros(90), np.ones(10), 1e300])[:2] == (0.0, 1.0)
    assert typical_range(np.full(5, 3.0))[:2] == (3.0, 3.0)


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_scaling_loss_counts_collapsed_values(norm):
    loss = loss_of(np.r_[np.arange(100.0), 1e300], norm)
    assert loss["collapsed"] == 100 and loss["distinct"] == 101
    assert loss["max_error"] == pytest.approx(75.0)
    assert loss_of(np.r_[np.zeros(90), np.ones(10), 1e300], norm)["collapsed"] == 2
    assert loss_of(np.random.default_rng(0).normal(size=10_000), norm) is None


def test_scaling_loss_only_counts_the_typical_values():
    # a heavy tail: [0, 1] keeps the typical (small) values exact, [-1, 1] rounds them off
    # against -1 (float32 spacing 2**-24 of the range)
    values = np.r_[np.random.default_rng(1).lognormal(0.0, 1.0, 20_000), 1e8]
    assert loss_of(values, Normalization.ZERO_ONE) is None
    assert loss_of(values, Normalization.MINUSONE_ONE)["collapsed"] > 10_000
    # no value collapses, but integers decode more than 0.1% of the IQR (0.05) off
    loss = loss_of(np.r_[np.arange(101.0), 1e7], Normalization.MINUSONE_ONE)
    assert loss["collapsed"] == 0 and 0.05 < loss["max_error"] < 0.5


# --- generation flags ----------------------------------------------------------------------------

# (length, continue column, end column) for T=6, S=3, worked out by hand
HAND_FLAGS = [
    (1, [0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]),
    (6, [1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1]),
    (4, [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]),
]


def test_gen_flags_from_lengths_and_back():
    flags = gen_flags_from_lengths([1, 6, 4], 6)
    np.testing.assert_array_equal(flags, [[1, 0, 0, 0, 0, 0], [1] * 6, [1, 1, 1, 1, 0, 0]])
    assert flags.dtype == np.float32
    np.testing.assert_array_equal(lengths_from_gen_flags(flags), [1, 6, 4])


@pytest.mark.parametrize("length, cont, end", HAND_FLAGS)
def test_encode_gen_flags_by_hand(length, cont, end):
    encoded = encode_gen_flags(gen_flags_from_lengths([length], 6), sample_len=3)
    assert encoded.shape == (1, 6, 2)
    np.testing.assert_array_equal(encoded[0, :, 0], cont)
    np.testing.assert_array_equal(encoded[0, :, 1], end)


def test_decode_gen_flags_gives_back_lengths():
    encoded = np.stack([np.stack([c, e], axis=1) for _, c, e in HAND_FLAGS]).astype(np.float32)
    decoded = decode_gen_flags(encoded)
    np.testing.assert_array_equal(lengths_from_gen_flags(decoded), [1, 6, 4])
    np.testing.assert_array_equal(decoded, gen_flags_from_lengths([1, 6, 4], 6))


def test_decode_stops_at_first_end_even_if_continue_follows():
    # soft generator outputs: continue, end, continue, continue, end, continue
    columns = np.array([[[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9],
                         [0.8, 0.2]]])
    np.testing.assert_array_equal(decode_gen_flags(columns), [[1, 1, 0, 0, 0, 0]])


def test_encode_gen_flags_rejects_indivisible_length():
    with pytest.raises(ValueError, match="T=6.*sample_len=4"):
        encode_gen_flags(np.ones((2, 6)), sample_len=4)


def test_one_sample_len_check_for_everyone():
    # Dataset.validate, the model and encode_gen_flags all call transforms.check_sample_len
    from doppelganger_tf import dataset
    assert dataset.check_sample_len is check_sample_len
    with pytest.raises(ValueError, match=r"one of \[1, 2, 3, 6\]\) or pad the series to T=8"):
        encode_gen_flags(np.ones((2, 6)), sample_len=4)
    with pytest.raises(ValueError, match="sample_len must be a positive integer, got 0"):
        encode_gen_flags(np.ones((2, 6)), sample_len=0)
    check_sample_len(6, np.int64(3))


# --- global scaling ------------------------------------------------------------------------------

@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_global_scale_round_trip(norm):
    rng = np.random.default_rng(0)
    raw = rng.uniform(-50.0, 3000.0, size=(20, 7))
    lo, hi = raw.min(), raw.max()
    scaled = global_scale(raw, lo, hi, norm)
    assert scaled.dtype == np.float32
    assert scaled.min() == pytest.approx(norm.low) and scaled.max() == pytest.approx(1.0)
    np.testing.assert_allclose(global_unscale(scaled, lo, hi, norm), raw, rtol=1e-5,
                               atol=1e-6 * (hi - lo))


def test_global_scale_per_column_ranges():
    raw = np.array([[0.0, 10.0], [5.0, 30.0]])
    scaled = global_scale(raw, np.array([0.0, 10.0]), np.array([10.0, 30.0]),
                          Normalization.MINUSONE_ONE)
    np.testing.assert_allclose(scaled, [[-1.0, -1.0], [0.0, 1.0]])


# --- auto-normalisation --------------------------------------------------------------------------

def test_autonorm_exact_formulas_by_hand():
    x = np.array([[0.2, 0.6, 0.4]], np.float32)[:, :, None]
    flags = np.ones((1, 3), np.float32)
    out = continuous(Normalization.ZERO_ONE)
    z, extra = normalize_per_sample(x, flags, [out])
    hi, lo = 0.6 + 1e-4, 0.2 - 1e-4
    np.testing.assert_allclose(extra, [[(hi + lo) / 2, (hi - lo) / 2]], rtol=1e-6)
    np.testing.assert_allclose(z[0, :, 0], (np.array([0.2, 0.6, 0.4]) - lo) / (hi - lo),
                               rtol=1e-6)
    assert 0.0 < z.min() and z.max() < 1.0

    z, extra = normalize_per_sample(x * 2 - 1, flags, [continuous(Normalization.MINUSONE_ONE)])
    hi, lo = 0.2 + 1e-4, -0.6 - 1e-4
    np.testing.assert_allclose(extra, [[(hi + lo) / 2, (hi - lo) / 2]], rtol=1e-5)
    expected = (np.array([-0.6, 0.2, -0.2]) - lo) / (hi - lo) * 2 - 1
    np.testing.assert_allclose(z[0, :, 0], expected, rtol=1e-5, atol=1e-6)
    assert -1.0 < z.min() and z.max() < 1.0


def test_autonorm_masked_ignores_padding_by_hand():
    x = np.array([[0.5, 0.7, 0.0]], np.float32)[:, :, None]
    flags = np.array([[1, 1, 0]], np.float32)
    out = [continuous(Normalization.ZERO_ONE)]
    z, extra = normalize_per_sample(x, flags, out, masked=True)
    np.testing.assert_allclose(extra, [[0.6, 0.1 + 1e-4]], rtol=1e-5)
    assert z[0, 2, 0] == 0.0
    _, extra = normalize_per_sample(x, flags, out, masked=False)  # the original: padding counts
    np.testing.assert_allclose(extra, [[0.35, 0.35 + 1e-4]], rtol=1e-5)


def test_autonorm_skips_discrete_columns_and_orders_extras():
    outputs = [continuous(Normalization.MINUSONE_ONE), Output(OutputType.DISCRETE, 2),
               continuous(Normalization.ZERO_ONE, dim=2)]
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, size=(4, 5, 5)).astype(np.float32)
    x[:, :, 1:3] = np.eye(2)[rng.integers(0, 2, size=(4, 5))]
    z, extra = normalize_per_sample(x, np.ones((4, 5)), outputs)
    np.testing.assert_array_equal(z[:, :, 1:3], x[:, :, 1:3])
    assert extra.shape == (4, 6)
    extra_outputs = minmax_attribute_outputs(
        [o.with_name(n) for o, n in zip(outputs, ["a", "b", "c"])])
    assert [o.name for o in extra_outputs] == ["a__mid", "a__half", "c_0__mid", "c_0__half",
                                               "c_1__mid", "c_1__half"]
    assert [o.normalization for o in extra_outputs[:2]] == NORMALIZATIONS[::-1]


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_autonorm_round_trip_random(norm):
    rng = np.random.default_rng(2)
    x = rng.uniform(norm.low, 1.0, size=(8, 12, 3)).astype(np.float32)
    outputs = [continuous(norm), continuous(norm, dim=2)]
    flags = np.ones((8, 12), np.float32)
    z, extra = normalize_per_sample(x, flags, outputs)
    assert z.min() >= norm.low and z.max() <= 1.0
    np.testing.assert_allclose(renormalize_per_sample(z, extra, flags, outputs), x, atol=1e-5)


@pytest.mark.parametrize("norm", NORMALIZATIONS)
def test_autonorm_constant_series(norm):
    x = np.full((1, 6, 1), 0.3, np.float32)
    flags = np.ones((1, 6), np.float32)
    z, extra = normalize_per_sample(x, flags, [continuous(norm)])
    assert np.isfinite(z).all()
    np.testing.assert_allclose(extra, [[0.3, 1e-4]], rtol=1e-5)
    np.testing.assert_allclose(renormalize_per_sample(z, extra, flags, [continuous(norm)]), x,
                               atol=1e-5)


@pytest.mark.parametrize("norm", NORMALIZATIONS)
@pytest.mark.parametrize("masked", [False, True])
def test_autonorm_round_trip_variable_length(norm, masked):
    rng = np.random.default_rng(3)
    lengths = [7, 3, 1, 5]
    flags = gen_flags_from_lengths(lengths, 7)
    x = rng.uniform(norm.low, 1.0, size=(4, 7, 2)).astype(np.float32) * flags[:, :, None]
    outputs = [continuous(norm, dim=2)]
    z, extra = normalize_per_sample(x, flags, outputs, masked=masked)
    assert np.isfinite(z).all() and np.isfinite(extra).all()
    if masked:
        assert np.all(z[flags == 0] == 0)
        active_max = np.where(flags[:, :, None] > 0, x, -np.inf).max(axis=1)
        np.testing.assert_allclose(extra[:, 0] + extra[:, 1], active_max[:, 0] + 1e-4,
                                   rtol=1e-5)
    np.testing.assert_allclose(renormalize_per_sample(z, extra, flags, outputs), x, atol=1e-5)
