"""Tests of the seeded synthetic WWT-schema generator (doppelganger_tf.synthetic)."""

import numpy as np
import pandas as pd
import pytest

from doppelganger_tf.synthetic import (
    ACCESSES, AGENTS, DOMAINS, make_wwt_like, make_wwt_like_dataframe, wwt_schema)


@pytest.fixture(scope="module")
def data():
    return make_wwt_like(1000, 550, seed=0)


def _acf(y, lag):
    """Autocorrelation at ``lag`` of each row of y [N, T]."""
    y = y - y.mean(axis=1, keepdims=True)
    num = (y[:, lag:] * y[:, :-lag]).sum(axis=1)
    den = (y * y).sum(axis=1)
    return num / np.where(den > 0, den, np.nan)


def test_schema():
    s = wwt_schema()
    assert list(s) == ["domain", "access", "agent"]
    assert s["domain"] == list(DOMAINS) and len(s["domain"]) == 9
    assert s["access"] == ["all-access", "desktop", "mobile-web"] == list(ACCESSES)
    assert s["agent"] == ["all-agents", "spider"] == list(AGENTS)
    assert "en.wikipedia.org" in s["domain"] and "www.mediawiki.org" in s["domain"]


def test_shapes_and_dtypes(data):
    views, attrs = data
    assert isinstance(views, np.ndarray) and views.dtype == np.float64
    assert views.shape == (1000, 550, 1)
    assert isinstance(attrs, pd.DataFrame)
    assert list(attrs.columns) == ["domain", "access", "agent"]
    assert len(attrs) == 1000
    for c in attrs.columns:
        assert all(isinstance(v, str) for v in attrs[c])
    v, a = make_wwt_like(3, 10, seed=5)
    assert v.shape == (3, 10, 1) and len(a) == 3


def test_values_nonnegative_finite(data):
    views, _ = data
    assert np.all(np.isfinite(views))
    assert np.all(views >= 0)
    assert np.all(views == np.rint(views))  # counts


def test_determinism_by_seed():
    v1, a1 = make_wwt_like(200, 100, seed=3)
    v2, a2 = make_wwt_like(200, 100, seed=3)
    np.testing.assert_array_equal(v1, v2)
    pd.testing.assert_frame_equal(a1, a2)
    v3, a3 = make_wwt_like(200, 100, seed=4)
    assert not np.array_equal(v1, v3)
    assert not a1.equals(a3)


def test_categories_in_schema_and_unequal(data):
    _, attrs = data
    s = wwt_schema()
    for c in ("domain", "access", "agent"):
        assert set(attrs[c]) <= set(s[c])
        assert set(attrs[c]) == set(s[c])  # all values occur at N=1000
    dom = attrs["domain"].value_counts(normalize=True)
    assert dom.idxmax() == "en.wikipedia.org"
    assert dom.max() > 1.5 * dom.min()
    spider = (attrs["agent"] == "spider").mean()
    assert 0.15 < spider < 0.35
    # as in the real data, spider pages are all-access
    assert set(attrs.loc[attrs["agent"] == "spider", "access"]) == {"all-access"}


def test_weekly_seasonality(data):
    views, _ = data
    ly = np.log1p(views[:, :, 0])
    a3, a7 = np.nanmean(_acf(ly, 3)), np.nanmean(_acf(ly, 7))
    assert a7 > a3 + 0.1
    # also after removing a centred 7-day moving average (trend/yearly removed)
    k = np.ones(7) / 7.0
    ma = np.stack([np.convolve(r, k, mode="valid") for r in ly])
    d = ly[:, 3:-3] - ma
    assert np.nanmean(_acf(d, 7)) > np.nanmean(_acf(d, 3)) + 0.3


def test_weekend_effect_depends_on_access(data):
    views, attrs = data
    ly = np.log1p(views[:, :, 0])
    ly = ly - ly.mean(axis=1, keepdims=True)
    weekend = ((2 + np.arange(views.shape[1])) % 7) >= 5  # day 0 = Wednesday 2015-07-01
    effect = ly[:, weekend].mean(axis=1) - ly[:, ~weekend].mean(axis=1)
    ag = attrs["agent"].to_numpy() == "all-agents"
    desk = effect[(attrs["access"].to_numpy() == "desktop") & ag].mean()
    mob = effect[(attrs["access"].to_numpy() == "mobile-web") & ag].mean()
    assert desk < -0.1 and mob > 0.1


def test_heavy_tailed_scale(data):
    views, _ = data
    m = views[:, :, 0].mean(axis=1)
    assert m.max() / np.median(m) > 50
    assert 50 < np.median(m) < 2000
    assert m.max() > 1e4


def test_spider_lower_level(data):
    views, attrs = data
    m = views[:, :, 0].mean(axis=1)
    spider = attrs["agent"].to_numpy() == "spider"
    assert np.median(m[spider]) < 0.3 * np.median(m[~spider])


def test_long_dataframe_matches_arrays():
    n, t = 40, 30
    views, attrs = make_wwt_like(n, t, seed=7)
    df = make_wwt_like_dataframe(n, t, seed=7)
    assert list(df.columns) == ["page", "day", "domain", "access", "agent", "views"]
    assert len(df) == n * t
    np.testing.assert_array_equal(df["page"].to_numpy(), np.repeat(np.arange(n), t))
    np.testing.assert_array_equal(df["day"].to_numpy(), np.tile(np.arange(t), n))
    wide = df.pivot(index="page", columns="day", values="views").to_numpy()
    np.testing.assert_array_equal(wide, views[:, :, 0])
    per_page = df.groupby("page")[["domain", "access", "agent"]].first()
    np.testing.assert_array_equal(per_page.to_numpy(), attrs.to_numpy())
    assert (df.groupby("page")[["domain", "access", "agent"]].nunique() == 1).all().all()


def test_no_tensorflow_and_documented_as_synthetic():
    import doppelganger_tf.synthetic as syn
    assert "tensorflow" not in syn.__dict__
    assert "synthetic" in syn.__doc__.lower() and "not" in syn.__doc__.lower()


@pytest.mark.parametrize("bad", [(0, 10), (5, 0), (2.5, 10), (-1, 10)])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        make_wwt_like(*bad)
