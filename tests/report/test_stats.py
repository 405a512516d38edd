"""Every statistic of the report against figures computed by hand (or published with the method)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.base.polish import ANKIETA, ARKUSZ, count, plural
from pipeline.report import stats as S
from pipeline.report import wording as W


def test_wilson_by_hand() -> None:
    # 3 of 12, z = 1.96: centre (0.25 + z²/24) / (1 + z²/12), half z·√(0.25·0.75/12 + z²/576) / (1 + z²/12)
    z = S.Z95
    denom = 1 + z * z / 12
    centre = (0.25 + z * z / 24) / denom
    half = z * math.sqrt(0.25 * 0.75 / 12 + z * z / 576) / denom
    assert S.wilson(3, 12) == pytest.approx((centre - half, centre + half))
    assert S.wilson(3, 12) == pytest.approx((0.0890, 0.5323), abs=1e-4)
    lo, hi = S.wilson(0, 10)                  # never below 0 or a zero-width interval at 0 %
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(z * z / (10 + z * z))
    assert S.wilson(10, 10)[1] == 1.0 and S.wilson(10, 10)[0] == pytest.approx(10 / (10 + z * z))


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 - 48/80, method 10: 0.0524 to 0.3339
    assert S.newcombe(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    p = S.newcombe_p(56, 70, 48, 80)
    # the p-value is the level at which the interval just touches 0
    z = S._NORMAL.inv_cdf(1 - p / 2)
    assert S.newcombe(56, 70, 48, 80, z)[0] == pytest.approx(0.0, abs=1e-6) and p < 0.05
    assert S.newcombe_p(5, 10, 5, 10) == 1.0


def test_score_test_p_by_hand() -> None:
    # 3 of 12 against 70 %: z = (0.25 - 0.7) / √(0.7·0.3/12)
    z = (0.25 - 0.7) / math.sqrt(0.21 / 12)
    assert S.wilson_p(3, 12, 0.7) == pytest.approx(2 * (1 - S._NORMAL.cdf(abs(z))))
    assert S.wilson_p(3, 12, 0.7) < 0.001 < S.wilson_p(8, 12, 0.7)


def test_share_measure_and_the_minimum_n() -> None:
    m = S.share(45, 60, (30, 50), min_n=10, warn_n=30)
    assert (m.n, m.count, m.value) == (60, 45, 75.0) and m.interval == pytest.approx(tuple(100 * x for x in S.wilson(45, 60)))
    assert m.previous_value == 60.0 and m.change == pytest.approx(15.0)
    assert m.change_interval == pytest.approx(tuple(100 * x for x in S.newcombe(45, 60, 30, 50)))
    assert m.significant == (m.change_interval[0] > 0) and not m.small_sample
    small = S.share(3, 5, (4, 40), min_n=10, warn_n=30)
    assert small.value is None and small.interval is None and small.change is None and small.previous_value == 10.0
    assert W.value(small) == "3 z 5" and W.with_interval(small) == "3 z 5" and W.change(small) == "–"
    mid = S.share(7, 20, None, min_n=10, warn_n=30)
    assert mid.small_sample and W.value(mid) == "35,0 % †"


def test_bootstrap_se_of_a_mean_is_the_plug_in_se() -> None:
    x = np.array([5, 5, 4, 4, 4, 3, 3, 2, 5, 1, 4, 4], dtype=float)
    reps = S.bootstrap_ratios(x[:, None], np.ones((12, 1)), 4000, (7,))
    plug_in = x.std(ddof=0) / math.sqrt(12)             # what the bootstrap SE estimates: √(Σ(x-x̄)²/n) / √n
    assert S.replicate_se(reps[:, 0]) == pytest.approx(plug_in, rel=0.04)
    again = S.bootstrap_ratios(x[:, None], np.ones((12, 1)), 4000, (7,))
    assert np.array_equal(reps, again)                  # seeded: the same report twice is the same report


def test_bootstrap_by_respondent_respects_correlated_ratings() -> None:
    """An index over 5 ratings each of 40 people who rate all items alike: resampling people gives the cluster
    (linearisation) standard error, about √5 times what treating the 200 ratings as independent would give."""
    rnd = np.random.default_rng(3)
    person = rnd.integers(0, 5, 40).astype(float) * 25      # every rating of a person the same
    num, den = person * 5, np.full(40, 5.0)
    reps = S.bootstrap_ratios(num[:, None], den[:, None], 4000, (1,))
    r = num.sum() / den.sum()
    cluster = math.sqrt(((num - r * den) ** 2).sum() / den.sum() ** 2)   # Σ(yᵢ − R·mᵢ)² / (Σmᵢ)²
    naive = np.repeat(person, 5).std(ddof=0) / math.sqrt(200)
    assert S.replicate_se(reps[:, 0]) == pytest.approx(cluster, rel=0.05)
    assert cluster == pytest.approx(naive * math.sqrt(5), rel=1e-9)


def test_mean_measure_by_hand() -> None:
    cur, prev = S.Estimate(4.1, 0.05, 120), S.Estimate(3.9, 0.06, 100)
    m = S.mean_measure("mean", cur, prev, 10, 30, (1, 5))
    assert m.interval == pytest.approx((4.1 - S.Z95 * 0.05, 4.1 + S.Z95 * 0.05))
    se = math.sqrt(0.05 ** 2 + 0.06 ** 2)
    assert m.change == pytest.approx(0.2) and m.change_interval == pytest.approx((0.2 - S.Z95 * se, 0.2 + S.Z95 * se))
    assert m.significant and m.change_p_value == pytest.approx(2 * (1 - S._NORMAL.cdf(0.2 / se)))
    assert W.change(m) == "▲ +0,20" and W.verdict(m) == "istotna"
    noise = S.mean_measure("index", S.Estimate(72.0, 1.5, 150), S.Estimate(73.0, 1.4, 150), 10, 30, (0, 100))
    assert not noise.significant and W.change(noise) == "−1,0 pkt" and W.verdict(noise) == "w granicach błędu"
    assert W.change(noise, interval=True) == "−1,0 pkt (−5,0…+3,0)"
    hidden = S.mean_measure("mean", S.Estimate(4.5, 0.3, 2), prev, 10, 30, (1, 5))
    assert hidden.value is None and hidden.change is None and W.value(hidden) == "–"
    assert S.mean_measure("mean", S.Estimate(5.0, 0.0, 12), None, 10, 30, (1, 5)).interval == (5.0, 5.0)


def test_holm_by_hand() -> None:
    # sorted p: 0.005 (≤ 0.05/4), 0.01 (≤ 0.05/3), 0.03 (> 0.05/2: stop), 0.04
    assert S.holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert S.holm([0.04]) == [True] and S.holm([]) == []
    assert S.holm([0.02] * 3) == [False] * 3          # each alone would pass at 5 %


def test_polish_number_agreement() -> None:
    assert [count(n, ANKIETA) for n in (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 24, 25, 101, 102, 112, 122)] == [
        "0 ankiet", "1 ankieta", "2 ankiety", "4 ankiety", "5 ankiet", "11 ankiet", "12 ankiet", "14 ankiet",
        "21 ankiet", "22 ankiety", "24 ankiety", "25 ankiet", "101 ankiet", "102 ankiety", "112 ankiet", "122 ankiety"]
    assert count(3, "arkusz") == "3 arkusze" and plural(5, ARKUSZ) == "arkuszy"


def test_numbers_print_the_polish_way() -> None:
    assert W.num(3.0833, 2) == "3,08" and W.pct(58.333) == "58,3 %" and W.num(-0.04) == "0,0"
    assert W.signed(0.04) == "+0,0" and W.signed(-0.04) == "−0,0" and W.signed(0.0) == "0,0" and W.signed(-2.5) == "−2,5"
    assert W.span((-3.6, 1.6), signs=True) == "−3,6…+1,6" and W.span((69.8, 75.0)) == "69,8–75,0"
