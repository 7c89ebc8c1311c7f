"""Seeded SYNTHETIC data in the schema of the Wikipedia Web Traffic (WWT) dataset.

THESE DATA ARE SYNTHETIC.  They are produced by a hand-written stochastic model below and are
*not* real Wikipedia page-view data; no real data were used to fit them.  The real WWT dataset
(Kaggle "Web Traffic Time Series Forecasting", used by DoppelGANger, Lin et al. IMC 2020) cannot
be redistributed, so this module gives the package an embedded default dataset with the same
schema and with qualitatively similar structure, for the demo and the tests.  Numbers computed
on it (fidelity metrics, training curves) say nothing about results on the real data.

Schema (as in the real WWT data)
--------------------------------
* one sample per (synthetic) Wikipedia page;
* one feature: daily page views, ``length`` days starting on 2015-07-01 (550 days = up to
  2016-12-31 by default), float64, non-negative, integer-valued (rounded counts);
* three categorical attributes (strings), see :func:`wwt_schema`:

  - ``domain``: de/en/es/fr/ja/ru/zh.wikipedia.org, commons.wikimedia.org, www.mediawiki.org,
    drawn with the unequal frequencies of the real data (en most common, mediawiki rarest);
  - ``access``: all-access, desktop, mobile-web;
  - ``agent``: all-agents, spider.  As in the real data, spider pages only occur with
    all-access, so access and agent are dependent (about 24 % spider, 27 % all-access/all-agents,
    24 % desktop, 25 % mobile-web).

Model of one page's series (in log space, then exponentiated and rounded)
------------------------------------------------------------------------
``log v_t = log level + trend_t + yearly_t + weekly_t + noise_t + spikes_t``

* **level**: log-normal per page (sigma = 1.8 in natural log), so the per-page mean spans several
  orders of magnitude (median a few hundred views/day, tail beyond 1e5).  Its median depends on
  the domain (en highest, mediawiki lowest) and on access (desktop and mobile-web are each a
  domain-dependent share of the all-access level); spider pages are ~25x lower.
* **trend**: a random linear drift plus a few random low-frequency sinusoids (periods >= 2*length/4).
* **yearly cycle** (period 365.25 days, aligned with the calendar from 2015-07-01): a smooth annual
  cosine whose phase and strength depend on the domain, a holiday dip (Christmas/New Year, and
  Chinese New Year around early February for zh) and a summer dip (strong for the European
  domains, weak for ja/zh).  Strength varies per page and is weaker for spiders.
* **weekly cycle** (period 7, aligned with real weekdays; 2015-07-01 is a Wednesday): desktop
  traffic drops at the weekend, mobile-web traffic rises at the weekend; all-access is the log of
  the share-weighted sum of the two, i.e. "desktop + mobile"; www.mediawiki.org and
  commons.wikimedia.org have a stronger working-week pattern.  Spider pages have a much weaker
  weekly cycle.  Amplitude varies per page.
* **noise**: multiplicative (log-normal) AR(1) noise, larger for low-traffic and spider pages.
* **spikes**: rare bursts (Bernoulli onsets, about one per 500 days for all-agents pages and
  several times more for spiders) multiplying views by ~2x..30x and decaying over a few days.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments give identical
arrays, and different seeds give different data.  Pure, vectorised numpy (no TensorFlow).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import pandas as pd

__all__ = [
    "DOMAINS", "ACCESSES", "AGENTS", "START_DATE",
    "wwt_schema", "make_wwt_like", "make_wwt_like_dataframe", "wwt_like_dataset",
]

START_DATE = "2015-07-01"  # day 0 of the series (a Wednesday), as in the real WWT data

DOMAINS: Tuple[str, ...] = (
    "de.wikipedia.org", "en.wikipedia.org", "es.wikipedia.org", "fr.wikipedia.org",
    "ja.wikipedia.org", "ru.wikipedia.org", "zh.wikipedia.org",
    "commons.wikimedia.org", "www.mediawiki.org",
)
ACCESSES: Tuple[str, ...] = ("all-access", "desktop", "mobile-web")
AGENTS: Tuple[str, ...] = ("all-agents", "spider")

# --- per-domain parameters (indexed like DOMAINS) -------------------------------------------------
# relative frequencies, roughly those of the real dataset's page counts
_DOMAIN_FREQ = np.array([18547, 24108, 14069, 17802, 20431, 15022, 17229, 10555, 7300], float)
# median all-access all-agents level (views/day) of a page
_DOMAIN_MEDIAN = np.array([1000., 2600., 750., 850., 1300., 900., 550., 260., 130.])
# share of all-access traffic that comes from desktop (the rest is mobile-web)
_DESKTOP_SHARE = np.array([0.55, 0.50, 0.45, 0.55, 0.35, 0.45, 0.50, 0.75, 0.90])
# annual cosine: amplitude (log) and day-of-year of its peak
_ANNUAL_AMP = np.array([0.12, 0.08, 0.14, 0.12, 0.06, 0.10, 0.07, 0.05, 0.10])
_ANNUAL_PEAK = np.array([30., 75., 100., 40., 200., 20., 270., 150., 300.])
# winter holiday dip: depth (log), centre (day of year), width (days)
_HOLIDAY_DEPTH = np.array([0.35, 0.30, 0.30, 0.30, 0.25, 0.35, 0.30, 0.15, 0.45])
_HOLIDAY_CENTER = np.array([361., 361., 361., 361., 1., 2., 39., 361., 361.])
_HOLIDAY_WIDTH = np.array([6., 6., 6., 6., 3., 5., 6., 6., 7.])
# summer dip (centre ~ 1 August, width ~ 3 weeks): depth (log)
_SUMMER_DEPTH = np.array([0.25, 0.12, 0.30, 0.30, 0.03, 0.15, 0.05, 0.10, 0.25])
# weekend effect: desktop weekend drop, mobile-web weekend rise (log)
_DESKTOP_WEEKEND = np.array([0.30, 0.25, 0.30, 0.30, 0.25, 0.25, 0.20, 0.45, 0.70])
_MOBILE_WEEKEND = np.array([0.25, 0.20, 0.20, 0.22, 0.30, 0.22, 0.15, 0.10, 0.05])

# --- per-(access, agent) combination ------------------------------------------------------------
# (access index, agent index, probability); spider occurs only with all-access, as in WWT
_COMBOS = np.array([[0, 0], [1, 0], [2, 0], [0, 1]])
_COMBO_FREQ = np.array([0.27, 0.24, 0.25, 0.24])

_SPIDER_LEVEL = 0.04       # spider level relative to all-agents
_SPIDER_WEEKLY = 0.2       # spider weekly amplitude relative to all-agents
_SPIDER_YEARLY = 0.35      # spider yearly amplitude relative to all-agents
_LEVEL_SIGMA = 1.8         # log-normal sigma of the per-page level
_YEAR = 365.25
_START_DOY = 181           # 2015-07-01 is day 181 of the year (0-based)
_START_DOW = 2             # 2015-07-01 is a Wednesday (Monday = 0)

# working-week shape (Mon..Fri), before the access-specific weekend effect
_DESKTOP_WEEKDAY = np.array([0.06, 0.05, 0.03, 0.01, -0.06])
_MOBILE_WEEKDAY = np.array([-0.03, -0.05, -0.05, -0.04, 0.00])


def wwt_schema() -> Dict[str, List[str]]:
    """Category lists of the WWT attributes, in a fixed order: ``{'domain', 'access', 'agent'}``."""
    return {"domain": list(DOMAINS), "access": list(ACCESSES), "agent": list(AGENTS)}


def _circ_gauss(doy: np.ndarray, center, width) -> np.ndarray:
    """Gaussian bump on the yearly circle (period 365.25 days)."""
    d = np.abs(doy - center) % _YEAR
    d = np.minimum(d, _YEAR - d)
    return np.exp(-0.5 * (d / width) ** 2)


def _check_args(num_samples, length) -> Tuple[int, int]:
    n, t = int(num_samples), int(length)
    if n != num_samples or n < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    if t != length or t < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    return n, t


def make_wwt_like(num_samples: int = 1000, length: int = 550,
                  seed: int = 0) -> Tuple[np.ndarray, pd.DataFrame]:
    """Synthetic (NOT real) WWT-schema data; see the module docstring for the model.

    Returns ``(views, attributes)``: ``views`` float64 ``[num_samples, length, 1]`` of
    non-negative, integer-valued daily page views (day 0 = 2015-07-01); ``attributes`` a
    DataFrame with ``num_samples`` rows (index = page id 0..N-1) and string columns
    ``'domain'``, ``'access'``, ``'agent'`` whose values are in :func:`wwt_schema`.
    Fully determined by ``seed``.
    """
    n, length = _check_args(num_samples, length)
    rng = np.random.default_rng(seed)

    # --- attributes ------------------------------------------------------------------------------
    dom = rng.choice(len(DOMAINS), size=n, p=_DOMAIN_FREQ / _DOMAIN_FREQ.sum())
    combo = _COMBOS[rng.choice(len(_COMBOS), size=n, p=_COMBO_FREQ)]
    acc, agt = combo[:, 0], combo[:, 1]
    spider = agt == 1
    desktop, mobile = acc == 1, acc == 2

    t = np.arange(length, dtype=np.float64)
    doy = (_START_DOY + t) % _YEAR                       # [T] day of year
    dow = (_START_DOW + np.arange(length)) % 7           # [T] day of week, Monday = 0
    col = (slice(None), None)                            # per-page vector -> [N, 1]

    # --- level -----------------------------------------------------------------------------------
    share = _DESKTOP_SHARE[dom]
    access_mult = np.where(desktop, share, np.where(mobile, 1.0 - share, 1.0))
    log_level = (np.log(_DOMAIN_MEDIAN[dom] * access_mult)
                 + np.where(spider, np.log(_SPIDER_LEVEL), 0.0)
                 + _LEVEL_SIGMA * rng.standard_normal(n))

    # --- trend -----------------------------------------------------------------------------------
    slope = rng.normal(0.0, 0.35, n)
    trend = slope[col] * (t / max(length - 1, 1) - 0.5)
    for k in range(1, 5):
        amp = rng.normal(0.0, 0.12 / k, n)
        phase = rng.uniform(0.0, 2 * np.pi, n)
        trend += amp[col] * np.sin(np.pi * k * t / length + phase[col])

    # --- yearly cycle ----------------------------------------------------------------------------
    y_strength = rng.lognormal(0.0, 0.3, n) * np.where(spider, _SPIDER_YEARLY, 1.0)
    annual = _ANNUAL_AMP[dom][col] * np.cos(2 * np.pi * (doy - _ANNUAL_PEAK[dom][col]) / _YEAR)
    holiday = -_HOLIDAY_DEPTH[dom][col] * _circ_gauss(
        doy, _HOLIDAY_CENTER[dom][col], _HOLIDAY_WIDTH[dom][col])
    summer = -_SUMMER_DEPTH[dom][col] * _circ_gauss(doy, 213.0, 21.0)
    yearly = y_strength[col] * (annual + holiday + summer)

    # --- weekly cycle ----------------------------------------------------------------------------
    w_amp = rng.lognormal(0.0, 0.25, n)
    desk_wd = np.broadcast_to(_DESKTOP_WEEKDAY, (n, 5))
    mob_wd = np.broadcast_to(_MOBILE_WEEKDAY, (n, 5))
    dw, mw = _DESKTOP_WEEKEND[dom][col], _MOBILE_WEEKEND[dom][col]
    desk_prof = w_amp[col] * np.concatenate([desk_wd, -dw, -0.9 * dw], axis=1)    # [N, 7]
    mob_prof = w_amp[col] * np.concatenate([mob_wd, mw, 1.1 * mw], axis=1)        # [N, 7]
    all_prof = np.log(share[col] * np.exp(desk_prof) + (1.0 - share[col]) * np.exp(mob_prof))
    prof = np.where(desktop[col], desk_prof, np.where(mobile[col], mob_prof, all_prof))
    prof = prof * np.where(spider, _SPIDER_WEEKLY, 1.0)[col]
    prof -= prof.mean(axis=1, keepdims=True)
    weekly = prof[:, dow]                                                          # [N, T]

    # --- noise (AR(1), log space) and spikes -----------------------------------------------------
    # noisier for low-traffic and spider pages
    sigma = (0.06 + 0.5 / np.sqrt(np.exp(log_level) + 1.0)) * rng.lognormal(0.0, 0.3, n)
    sigma *= np.where(spider, 1.8, 1.0)
    phi = rng.uniform(0.2, 0.7, n)
    eps = rng.standard_normal((n, length)) * (sigma * np.sqrt(1.0 - phi ** 2))[col]
    spike_rate = np.where(spider, 0.01, 0.002)
    onsets = rng.random((n, length)) < spike_rate[col]
    heights = np.where(onsets, rng.uniform(0.7, 3.4, (n, length)), 0.0)
    decay = rng.uniform(0.2, 0.6, n)
    noise = np.empty((n, length))
    spikes = np.empty((n, length))
    noise[:, 0] = rng.standard_normal(n) * sigma
    spikes[:, 0] = heights[:, 0]
    for i in range(1, length):
        noise[:, i] = phi * noise[:, i - 1] + eps[:, i]
        spikes[:, i] = decay * spikes[:, i - 1] + heights[:, i]

    log_views = log_level[col] + trend + yearly + weekly + noise + spikes
    views = np.rint(np.exp(log_views))[:, :, None].astype(np.float64)

    attributes = pd.DataFrame({
        "domain": np.asarray(DOMAINS, dtype=object)[dom],
        "access": np.asarray(ACCESSES, dtype=object)[acc],
        "agent": np.asarray(AGENTS, dtype=object)[agt],
    })
    attributes.index.name = "page"
    return views, attributes


def make_wwt_like_dataframe(num_samples: int = 1000, length: int = 550,
                            seed: int = 0) -> pd.DataFrame:
    """The data of :func:`make_wwt_like` (the same values) in long form. SYNTHETIC data, not real
    WWT.

    Args:
        num_samples: Pages.
        length: Days per page.
        seed: Seeds the data.

    Returns:
        One row per page per day, pages in order and days in order within a page; columns
        ``page`` (int id 0..N-1), ``day`` (0..length-1, day 0 = 2015-07-01), ``domain``,
        ``access``, ``agent`` (strings) and ``views`` (float64).

    Raises:
        ValueError: When ``num_samples`` or ``length`` is not a positive integer.
    """
    views, attrs = make_wwt_like(num_samples, length, seed)
    n, length = views.shape[0], views.shape[1]
    page = np.repeat(np.arange(n), length)
    return pd.DataFrame({
        "page": page,
        "day": np.tile(np.arange(length), n),
        "domain": attrs["domain"].to_numpy()[page],
        "access": attrs["access"].to_numpy()[page],
        "agent": attrs["agent"].to_numpy()[page],
        "views": views[:, :, 0].reshape(-1),
    })


def wwt_like_dataset(num_samples: int = 1000, length: int = 550, seed: int = 0):
    """The data of :func:`make_wwt_like` as a Dataset. SYNTHETIC data, not real WWT.

    Args:
        num_samples: Pages.
        length: Days per page.
        seed: Seeds the data.

    Returns:
        A :class:`~doppelganger_tf.data.dataset.Dataset` whose feature "views" holds log1p(views)
        scaled to [-1, 1] (expm1 turns generated values back into views), with the attributes
        domain, access and agent.

    Raises:
        ValueError: When ``num_samples`` or ``length`` is not a positive integer.
    """
    from .dataset import Dataset
    from .outputs import Normalization

    views, attributes = make_wwt_like(num_samples, length, seed=seed)
    return Dataset.from_arrays(np.log1p(views), attributes.reset_index(drop=True),
                               feature_names=["views"],
                               discrete_attributes=list(attributes.columns),
                               normalization=Normalization.MINUSONE_ONE)
