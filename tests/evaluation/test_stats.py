"""The statistics against independent computation: hand-worked cases from the published
formulas, a published worked example (Newcombe 1998), and scipy's own slower routes, with
small n, all-missing, ties and zero variance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from vrp_desktop.evaluation import stats
from vrp_desktop.evaluation.inequality import mean_gap, rate_gap, welch_interval, wilson

NAN = float("nan")
#: t(0.975, 4) from printed tables (2.776), to more places
T_975_4 = 2.7764451051977987


def test_paired_change_hand_worked():
    # change = [-2,-1,-3,-1,-3]: mean -2, SD 1; baseline SD sqrt(10), exit SD 3
    base, post = [10, 12, 14, 16, 18], [8, 11, 11, 15, 15]
    got = stats.paired_change(base, post)
    assert got.n == 5
    assert got.mean_baseline == 14 and got.mean_exit == 12 and got.mean_change == -2
    assert got.sd_change == pytest.approx(1.0)
    half = T_975_4 * 1 / math.sqrt(5)
    assert got.ci_low == pytest.approx(-2 - half, abs=1e-9)
    assert got.ci_high == pytest.approx(-2 + half, abs=1e-9)
    assert got.d_av == pytest.approx(-2 / ((math.sqrt(10) + 3) / 2))


def test_paired_change_small_missing_and_zero_variance():
    empty = stats.paired_change([NAN, 3], [4, NAN])
    assert empty.n == 0 and empty.mean_change is None and empty.ci_low is None
    one = stats.paired_change([3, NAN], [5, 9])
    assert (one.n, one.mean_change, one.ci_low, one.d_av) == (1, 2, None, None)
    two = stats.paired_change([1, 3], [2, 6])  # changes 1 and 3: mean 2, SD sqrt(2)
    t_975_1 = 12.706204736174698
    assert two.ci_high == pytest.approx(2 + t_975_1 * math.sqrt(2) / math.sqrt(2))
    same = stats.paired_change([1, 2, 3], [2, 3, 4])  # everyone +1: no spread in change
    assert (same.ci_low, same.ci_high) == (1, 1) and same.d_av == pytest.approx(1.0)
    flat = stats.paired_change([5, 5, 5], [7, 7, 7])  # no spread at either occasion
    assert flat.mean_change == 2 and flat.d_av is None and flat.ci_low == 2


def test_jacobson_truax_threshold_and_classification():
    # SDQ total, r = .80, SD = 5.2: S_diff = sqrt(2) * 5.2 * sqrt(.2) = 3.28877
    threshold = stats.reliable_change_threshold(0.80, 5.2)
    assert threshold == pytest.approx(1.959964 * 5.2 * math.sqrt(0.4), rel=1e-6)
    assert threshold == pytest.approx(6.446, abs=1e-3)
    assert stats.reliable_change_threshold(None, 5.2) is None
    assert stats.reliable_change_threshold(0.8, None) is None
    changes = [-7, -6.4, 0, 6.5, 7, NAN]
    got = stats.classify(changes, "lower", threshold)
    assert (got.improved, got.unchanged, got.deteriorated) == (1, 2, 2)
    assert stats.classify(changes, "higher", threshold).improved == 2
    assert stats.classify(changes, None, threshold) is None
    # a meaningful-change threshold is met at the threshold itself (ties count)
    assert stats.classify([3, 2.99, -3], "higher", 3, inclusive=True).improved == 1
    assert stats.classify([3, 2.99, -3], "higher", 3, inclusive=True).deteriorated == 1
    assert stats.classify([3, -3], "higher", 3).improved == 0


def test_rank_correlation_ties_and_no_spread():
    # average ranks of x = [1, 2.5, 2.5, 4]; Pearson of ranks = 4.5 / sqrt(4.5 * 5)
    got = stats.rank_correlation([1, 2, 2, 3], [1, 2, 3, 4])
    assert got.rho == pytest.approx(4.5 / math.sqrt(22.5))
    assert stats.rank_correlation([2, 2, 2, 2], [1, 2, 3, 4]).rho is None
    assert stats.rank_correlation([1, 2], [1, 2]).rho is None  # fewer than 3


def test_mean_interval_and_median():
    got = stats.mean_interval([1, 2, 3, 4, 5])
    half = T_975_4 * math.sqrt(2.5) / math.sqrt(5)
    assert (got.mean, got.ci_low, got.ci_high) == pytest.approx((3, 3 - half, 3 + half))
    assert stats.mean_interval([NAN]).n == 0
    assert stats.median([3, 1, NAN, 2]) == 2 and stats.median([]) is None


def test_wilson_equals_scipy():
    for k, n in ((0, 10), (1, 7), (56, 70), (48, 80), (10, 10)):
        ci = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_newcombe_published_example():
    # Newcombe (1998) Stat Med 17:873, 56/70 against 48/80: difference 0.2, method 10
    # interval 0.0524 to 0.3339. As a gap to the whole (150 people) both scale by 80/150.
    got = rate_gap(56, 70, 104, 150)
    scale = 80 / 150
    assert got.value == pytest.approx(0.8) and got.whole == pytest.approx(104 / 150)
    assert got.gap == pytest.approx(0.8 - 104 / 150)
    assert got.gap == pytest.approx(scale * 0.2)
    assert got.ci_low / scale == pytest.approx(0.0524, abs=5e-5)
    assert got.ci_high / scale == pytest.approx(0.3339, abs=5e-5)


def test_welch_equals_scipy_and_gap_relation():
    rng = np.random.default_rng(4)
    g, r = rng.normal(1, 2, 9), rng.normal(0, 1, 30)
    ci = sps.ttest_ind(g, r, equal_var=False).confidence_interval(0.95)
    assert welch_interval(g, r) == pytest.approx((ci.low, ci.high), abs=1e-10)
    got = mean_gap(g, r)
    whole = np.concatenate([g, r]).mean()
    assert got.gap == pytest.approx(g.mean() - whole)
    assert got.gap == pytest.approx(30 / 39 * (g.mean() - r.mean()))
    assert got.ci_low == pytest.approx(30 / 39 * ci.low)


def test_gaps_edge_cases():
    assert rate_gap(0, 0, 5, 10).gap is None
    everyone = rate_gap(5, 10, 5, 10)  # the group is the whole
    assert everyone.gap == 0 and everyone.ci_low is None
    assert mean_gap([], [1, 2]).gap is None
    flat = mean_gap([2, 2, 2], [1, 1, 1])
    assert flat.gap == pytest.approx(0.5) and flat.ci_low == flat.ci_high == flat.gap
    assert mean_gap([1], [1, 2, 3]).ci_low is None  # one person: no interval


@pytest.mark.parametrize("seed", range(6))
def test_closed_form_t_interval_equals_scipys_tests(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    base = rng.integers(0, 40, n).astype(float)  # whole scores: many ties
    post = base + rng.normal(0, 3 + seed, n).round()
    if seed == 0:
        post = base + np.array([1.0, 2.0] * (n // 2) + [1.0] * (n % 2))
    got = stats.paired_change(base, post)
    want = sps.ttest_rel(post, base).confidence_interval(0.95)
    assert got.ci_low == pytest.approx(want.low, rel=1e-12, abs=1e-12)
    assert got.ci_high == pytest.approx(want.high, rel=1e-12, abs=1e-12)
    one = stats.mean_interval(post - base)
    want1 = sps.ttest_1samp(post - base, 0.0).confidence_interval(0.95)
    assert (one.ci_low, one.ci_high) == pytest.approx((want1.low, want1.high), rel=1e-12)
