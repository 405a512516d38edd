"""The report's statistics: 95 % intervals, changes and their significance, one well-known method per measure.

- A share (an answer's %, the top-2-box of a row, complaints among respondents): **Wilson score interval**, good at
  small n and near 0 or 100 %; the change of a share between two periods: **Newcombe's hybrid score interval**
  (method 10, built from the two Wilson intervals).
- A mean of ratings (a question row, the satisfaction index, a department's index): **bootstrap by respondent**
  (the respondents of a period are resampled with replacement, `resamples` times, from a fixed seed, so a report
  is reproducible): the ratings one person gives are not independent, so a person is resampled with all of them.
  The interval is the estimate ± 1.96 bootstrap standard errors; the change between two periods (independent
  samples) has the standard error √(SE₁² + SE₂²); a department against the rest of the office uses the same
  resamples for both (the difference is computed in every resample).
- A change is **significant** when its 95 % interval excludes 0 (equivalently its two-sided p < 0.05).
- Findings ("what needs action") test many things at once; there the **Holm** step-down procedure keeps the chance
  of reporting any pure-noise finding at 5 % (`holm`).

Below `min_n` a share is only counted ("3 z 5") and a mean is not given; between `min_n` and `warn_n` a value is
shown with a small-sample warning. Pure functions, no I/O; numpy for the resampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Literal

import numpy as np

Z95 = NormalDist().inv_cdf(0.975)
_NORMAL = NormalDist()

MeasureKind = Literal["share", "mean", "index"]
WILSON = "wilson"
NEWCOMBE = "newcombe"
BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class Measure:
    """One figure of the report and its comparison with the previous period.

    `value` is None when there is nothing to show: no answers, or fewer than the minimum n (then a share keeps its
    `count` of `n`). Shares are in %, means on the question's scale, the index on 0-100. `change` is `value` minus
    `previous_value`, with its 95 % interval; `significant` means that interval excludes 0."""

    kind: MeasureKind
    n: int
    value: float | None
    interval: tuple[float, float] | None = None
    count: int | None = None            # shares: how many of n
    method: str = ""
    small_sample: bool = False          # shown, but n is under the warning threshold
    previous_n: int = 0
    previous_value: float | None = None
    previous_count: int | None = None
    change: float | None = None
    change_interval: tuple[float, float] | None = None
    significant: bool = False
    change_p_value: float | None = None
    change_method: str = ""

    @property
    def shown(self) -> bool:
        return self.value is not None

    @property
    def direction(self) -> int:
        """+1 significant rise, -1 significant fall, 0 no significant change (or nothing to compare)."""
        if not self.significant or self.change is None:
            return 0
        return 1 if self.change > 0 else -1


@dataclass(frozen=True)
class Difference:
    """A contrast that is not a change in time (a department against the rest of the office)."""

    value: float | None
    interval: tuple[float, float] | None
    significant: bool
    p_value: float | None
    method: str


# --- shares ----------------------------------------------------------------------------------------------------

def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes of n, as proportions (0-1)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for p1 - p2, as proportions."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _p_of_z(z: float) -> float:
    return 2 * (1 - _NORMAL.cdf(abs(z)))


def newcombe_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p of 'no change' consistent with `newcombe`: 2(1 - Φ(z*)) for the z* at which the interval just
    touches 0 (found by bisection; the interval widens monotonically with z)."""
    d = k1 / n1 - k2 / n2
    if d == 0:
        return 1.0

    def excludes(z: float) -> bool:
        lo, hi = newcombe(k1, n1, k2, n2, z)
        return lo > 0 if d > 0 else hi < 0

    lo, hi = 0.0, 12.0
    if excludes(hi):
        return _p_of_z(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        if excludes(mid):
            lo = mid
        else:
            hi = mid
    return _p_of_z(lo)


def wilson_p(k: int, n: int, p0: float) -> float:
    """Two-sided score-test p of 'the true share is p0' (the test the Wilson interval inverts)."""
    if n <= 0 or not 0 < p0 < 1:
        return 1.0
    return _p_of_z((k / n - p0) / math.sqrt(p0 * (1 - p0) / n))


def share(k: int, n: int, prev: tuple[int, int] | None, min_n: int, warn_n: int) -> Measure:
    """A share in % with its Wilson interval, and its change against `prev` = (k, n) with Newcombe's interval.
    Below min_n only the count is kept; a change needs both periods at or above min_n."""
    pk, pn = prev if prev is not None else (None, 0)
    m = Measure("share", n, None, count=k, method=WILSON, previous_n=pn, previous_count=pk)
    if n >= min_n and n > 0:
        lo, hi = wilson(k, n)
        m = replace(m, value=100.0 * k / n, interval=(100 * lo, 100 * hi), small_sample=n < warn_n)
    if pk is not None and pn >= min_n and pn > 0:
        m = replace(m, previous_value=100.0 * pk / pn)
        if m.value is not None:
            lo, hi = newcombe(k, n, pk, pn)
            m = replace(m, change=m.value - 100.0 * pk / pn, change_interval=(100 * lo, 100 * hi),
                        significant=lo > 0 or hi < 0, change_p_value=newcombe_p(k, n, pk, pn), change_method=NEWCOMBE)
    return m


# --- means (bootstrap by respondent) ---------------------------------------------------------------------------------

def normal_p(diff: float, se: float) -> float:
    if se <= 0 or math.isnan(se):
        return 0.0 if diff != 0 else 1.0
    return _p_of_z(diff / se)


def _clip(lo: float, hi: float, bounds: tuple[float, float]) -> tuple[float, float]:
    return (max(bounds[0], lo), min(bounds[1], hi))


@dataclass(frozen=True)
class Estimate:
    """A mean-type estimate of one period before it becomes a Measure: value, bootstrap SE, n (respondents)."""

    value: float | None
    se: float
    n: int


def mean_measure(kind: MeasureKind, cur: Estimate, prev: Estimate | None, min_n: int, warn_n: int,
                 bounds: tuple[float, float]) -> Measure:
    """A mean (or index) with the interval value ± 1.96 SE, and its change against `prev` (independent samples)."""
    m = Measure(kind, cur.n, None, method=BOOTSTRAP, previous_n=prev.n if prev else 0)
    if cur.value is not None and cur.n >= min_n:
        m = replace(m, value=cur.value, interval=_clip(cur.value - Z95 * cur.se, cur.value + Z95 * cur.se, bounds),
                    small_sample=cur.n < warn_n)
    if prev is not None and prev.value is not None and prev.n >= min_n:
        m = replace(m, previous_value=prev.value)
        if m.value is not None:
            d = m.value - prev.value
            se = math.sqrt(cur.se ** 2 + prev.se ** 2)
            lo, hi = d - Z95 * se, d + Z95 * se
            m = replace(m, change=d, change_interval=(lo, hi), significant=lo > 0 or hi < 0, change_p_value=normal_p(d, se),
                        change_method=BOOTSTRAP)
    return m


def difference(value: float | None, se: float) -> Difference:
    if value is None or math.isnan(value):
        return Difference(None, None, False, None, BOOTSTRAP)
    lo, hi = value - Z95 * se, value + Z95 * se
    return Difference(value, (lo, hi), lo > 0 or hi < 0, normal_p(value, se), BOOTSTRAP)


def bootstrap_ratios(num: np.ndarray, den: np.ndarray, resamples: int, seed: Sequence[int],
                     max_cells: int = 4_000_000) -> np.ndarray:
    """Replicates of K ratio estimators sum(num[:, k]) / sum(den[:, k]) over N respondents (rows), resampling the
    respondents with replacement: a (resamples x K) array (NaN where a resample has no denominator).

    Each resample is a vector of multiplicities (how often each respondent was drawn); a block of them times the
    (N x 2K) matrix of numerators and denominators gives every measure of the block in one product."""
    n, k = num.shape
    out = np.full((resamples, k), np.nan)
    if n == 0 or resamples <= 0:
        return out
    rng = np.random.default_rng(list(seed))
    # single precision for the products: sums of at most ~10⁶ with 7 significant digits, far finer than any SE
    both = np.hstack([num, den]).astype(np.float32)
    block = max(1, min(resamples, max_cells // n))
    done = 0
    while done < resamples:
        b = min(block, resamples - done)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        weights = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float32)
        sums = (weights @ both).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[done:done + b] = sums[:, :k] / sums[:, k:]
        done += b
    return out


def replicate_se(reps: np.ndarray) -> float:
    """Standard deviation of bootstrap replicates (NaN replicates, resamples without the subgroup, are skipped)."""
    ok = reps[~np.isnan(reps)]
    return float(np.std(ok, ddof=1)) if ok.size > 1 else 0.0


# --- many tests at once ------------------------------------------------------------------------------------------------

def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected with the family-wise error rate kept at alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    rejected = [False] * m
    for rank, i in enumerate(order):
        if p_values[i] > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected
