"""The statistics, from scipy.stats and numpy (the project's one numeric library).

Nothing here knows about the store or the small-number rule: plain arrays in, plain numbers
out, with None wherever a statistic cannot be worked out (too few people, no spread, no
published value). ``change`` is always exit minus baseline, in the score's own units.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import special, stats

CONFIDENCE = 0.95
#: two-sided 95% point of the normal distribution (1.96), as Jacobson and Truax use it
Z95 = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))


def t_interval(x: np.ndarray) -> tuple[float | None, float | None]:
    """The one-sample t 95% interval of mean(x) (n >= 2, some spread): equal to scipy's
    ``ttest_1samp(x, 0).confidence_interval()`` (and so to ``ttest_rel``'s on the changes),
    with the t quantile from scipy.special, which those call. The test route costs about 3 ms
    a call in argument checks; a partnership pack needs thousands (the tests compare them)."""
    n = x.size
    mean = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(special.stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * se
    return _finite(mean - half), _finite(mean + half)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclasses.dataclass(frozen=True)
class PairedChange:
    """Pre/post change for the people with both scores.

    ``d_av`` is Cohen's d for a repeated measure with the average of the two standard
    deviations as standardiser (Lakens 2013, eq. 10): mean change / ((SD_base + SD_exit) / 2).
    It is chosen over d_z (mean change / SD of the changes) because it does not grow with the
    correlation between the two occasions, so it reads on the same scale as the between-group
    effect sizes published for youth-violence programmes (the YEF Toolkit and the trials behind
    it); d_z describes how consistent the change is and belongs to power calculations.
    """

    n: int
    mean_baseline: float | None
    mean_exit: float | None
    mean_change: float | None
    sd_change: float | None
    ci_low: float | None
    ci_high: float | None
    d_av: float | None


def paired_change(baseline: Sequence[float], exit_: Sequence[float]) -> PairedChange:
    """n, means, mean change with its t-based 95% interval, and d_av. Pairs with a missing
    value (NaN) on either side are left out."""
    base = np.asarray(baseline, dtype=float)
    post = np.asarray(exit_, dtype=float)
    keep = ~(np.isnan(base) | np.isnan(post))
    base, post = base[keep], post[keep]
    n = int(base.size)
    if n == 0:
        return PairedChange(0, None, None, None, None, None, None, None)
    change = post - base
    mean_change = float(change.mean())
    if n < 2:
        return PairedChange(
            n, float(base.mean()), float(post.mean()), mean_change, None, None, None, None
        )
    sd_change = float(change.std(ddof=1))
    if sd_change == 0:
        # every person changed by the same amount: the t interval shrinks to that amount
        low = high = mean_change
    else:
        low, high = t_interval(change)
    spread = (float(base.std(ddof=1)) + float(post.std(ddof=1))) / 2
    d_av = mean_change / spread if spread > 0 else None
    return PairedChange(
        n, float(base.mean()), float(post.mean()), mean_change, sd_change, low, high, d_av
    )


@dataclasses.dataclass(frozen=True)
class MeanInterval:
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


def mean_interval(values: Sequence[float]) -> MeanInterval:
    """A mean with its one-sample t 95% interval (dose bands, subgroups)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return MeanInterval(0, None, None, None)
    mean = float(x.mean())
    if n < 2:
        return MeanInterval(n, mean, None, None)
    if float(x.std(ddof=1)) == 0:
        return MeanInterval(n, mean, mean, mean)
    low, high = t_interval(x)
    return MeanInterval(n, mean, low, high)


def reliable_change_threshold(reliability: float | None, norm_sd: float | None) -> float | None:
    """Jacobson and Truax (1991): a change is reliable when |change| / S_diff > 1.96, where
    S_diff = sqrt(2) * SD * sqrt(1 - r). Returns 1.96 * S_diff in score points (None when the
    published reliability or SD is not held)."""
    if reliability is None or norm_sd is None:
        return None
    s_diff = math.sqrt(2) * norm_sd * math.sqrt(1 - reliability)
    return Z95 * s_diff


@dataclasses.dataclass(frozen=True)
class Classified:
    improved: int
    unchanged: int
    deteriorated: int

    @property
    def n(self) -> int:
        return self.improved + self.unchanged + self.deteriorated


def classify(
    changes: Sequence[float], better: str | None, threshold: float, *, inclusive: bool = False
) -> Classified | None:
    """Count changes beyond ``threshold`` in the better and the worse direction.

    Reliable change is strictly beyond (``inclusive=False``, the RCI's "> 1.96"); a meaningful-
    change threshold is met at the threshold itself (``inclusive=True``). None when the score
    has no stated direction.
    """
    if better not in ("higher", "lower"):
        return None
    x = np.asarray(changes, dtype=float)
    x = x[~np.isnan(x)]
    signed = x if better == "higher" else -x
    if inclusive:
        up, down = signed >= threshold, signed <= -threshold
    else:
        up, down = signed > threshold, signed < -threshold
    improved, deteriorated = int(up.sum()), int(down.sum())
    return Classified(improved, int(x.size) - improved - deteriorated, deteriorated)


def median(values: Sequence[float]) -> float | None:
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return float(np.median(x)) if x.size else None


@dataclasses.dataclass(frozen=True)
class Correlation:
    n: int
    rho: float | None
    p_value: float | None


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> Correlation:
    """Spearman's rho (ties get average ranks); None when either side has no spread."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(n, None, None)
    result = stats.spearmanr(a, b)
    return Correlation(n, _finite(result.statistic), _finite(result.pvalue))
