"""Confidence intervals for aggregate judged assertions, in pure Python (no numpy or scipy).

- `wilson_interval`: the Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3).
  A win rate with ties counted as 0.5 is a mean of scores in {0, 0.5, 1}; its variance is
  p(1 - p) - t/4 (t = share of ties), never more than the p(1 - p) Wilson assumes, so with ties the
  interval is conservative (at least as wide as it needs to be), never optimistic.
- `t_interval`: Student's t interval for a mean (pointwise scores), with the t quantile computed from
  the regularized incomplete beta function (continued fraction, as in Numerical Recipes 6.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"pytest-flame: confidence must be in (0, 1), got {confidence!r}")


def wilson_interval(rate: float, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval for a proportion `rate` observed over `n` trials."""
    _check_confidence(confidence)
    if n <= 0:
        raise ValueError("pytest-flame: a win rate needs at least one case")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    z2n = z * z / n
    centre = (rate + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(max(rate * (1 - rate), 0.0) / n + z2n / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1 - front * _beta_cf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF)."""
    if not 0 < p < 1:
        raise ValueError(f"quantile level must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if t_cdf(mid, df) < p else (low, mid)
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


def t_interval(values: Sequence[float], *, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Student's t interval for the mean of `values` (needs at least two values)."""
    _check_confidence(confidence)
    n = len(values)
    if n < 2:
        raise ValueError("pytest-flame: a mean score interval needs at least two cases")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half
