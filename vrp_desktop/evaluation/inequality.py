"""Gaps between a group and the whole, with 95% intervals (scipy.stats).

A group is part of the whole, so the two are not independent. With N people of whom n_g are in
the group and n_r = N - n_g are not, the whole's mean is a weighted mean of the group's and the
rest's, and the gap is exactly

    mean_group - mean_whole = (n_r / N) * (mean_group - mean_rest)

so its interval is the interval of the group-versus-rest difference (independent samples),
scaled by n_r / N: Welch's t for means, Newcombe's hybrid score interval (method 10, from
Wilson intervals) for proportions.

scipy offers Welch's interval and Wilson's only as a by-product of a hypothesis test
(``ttest_ind(...).confidence_interval()``, ``binomtest(...).proportion_ci()``), which costs 4 to
5 ms a call here; a partnership pack needs thousands of them, so the two closed forms are
written out below with scipy's t and normal quantiles, and the tests check them against those
scipy calls.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

from vrp_desktop.evaluation.stats import CONFIDENCE


@dataclasses.dataclass(frozen=True)
class Gap:
    value: float | None
    whole: float | None
    gap: float | None
    ci_low: float | None
    ci_high: float | None


_Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval for k of n (equal to scipy's binomtest(...).proportion_ci(
    method="wilson"))."""
    p, z2 = k / n, _Z * _Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def welch_interval(g: np.ndarray, r: np.ndarray) -> tuple[float, float] | None:
    """95% interval of mean(g) - mean(r) by Welch's t (equal to scipy's
    ttest_ind(g, r, equal_var=False).confidence_interval())."""
    return _welch(
        float(g.mean()), float(g.var(ddof=1)), g.size, float(r.mean()), float(r.var(ddof=1)), r.size
    )


def _welch(
    m_g: float, var_g: float, n_g: int, m_r: float, var_r: float, n_r: int
) -> tuple[float, float] | None:
    """``welch_interval`` from each sample's mean, variance (ddof 1) and size."""
    vg, vr = var_g / n_g, var_r / n_r
    se2 = vg + vr
    if se2 <= 0:
        return None
    df = se2 * se2 / (vg * vg / (n_g - 1) + vr * vr / (n_r - 1))
    # the t quantile from scipy.special (what stats.t.ppf calls, without its per-call checks)
    half = float(special.stdtrit(df, 0.5 + CONFIDENCE / 2)) * math.sqrt(se2)
    d = m_g - m_r
    return d - half, d + half


def rate_gap(k_group: int, n_group: int, k_all: int, n_all: int) -> Gap:
    """The group's rate k/n against the whole's, with the gap's interval."""
    if n_group == 0 or n_all == 0:
        return Gap(None, None, None, None, None)
    p_g, p_all = k_group / n_group, k_all / n_all
    k_r, n_r = k_all - k_group, n_all - n_group
    if n_r == 0:
        return Gap(p_g, p_all, 0.0, None, None)
    p_r = k_r / n_r
    lg, ug = wilson(k_group, n_group)
    lr, ur = wilson(k_r, n_r)
    d = p_g - p_r
    low = d - math.sqrt((p_g - lg) ** 2 + (ur - p_r) ** 2)
    high = d + math.sqrt((ug - p_g) ** 2 + (p_r - lr) ** 2)
    scale = n_r / n_all
    return Gap(p_g, p_all, p_g - p_all, scale * low, scale * high)


def mean_gap(group: Sequence[float], rest: Sequence[float]) -> Gap:
    """The group's mean against the whole's (group and rest together), with the gap's
    interval from Welch's t on group versus rest."""
    g = np.asarray(group, dtype=float)
    r = np.asarray(rest, dtype=float)
    if g.size == 0:
        return Gap(None, None, None, None, None)
    whole = float(np.concatenate([g, r]).mean())
    m_g = float(g.mean())
    if r.size == 0:
        return Gap(m_g, whole, 0.0, None, None)
    scale = r.size / (g.size + r.size)
    if g.size < 2 or r.size < 2:
        return Gap(m_g, whole, m_g - whole, None, None)
    # each sample's variance once (a standard deviation is 0 exactly when its variance is)
    var_g, var_r = float(g.var(ddof=1)), float(r.var(ddof=1))
    if var_g == 0 and var_r == 0:
        gap = m_g - whole
        return Gap(m_g, whole, gap, gap, gap)
    interval = _welch(m_g, var_g, g.size, float(r.mean()), var_r, r.size)
    if interval is None:
        return Gap(m_g, whole, m_g - whole, None, None)
    return Gap(m_g, whole, m_g - whole, scale * interval[0], scale * interval[1])
