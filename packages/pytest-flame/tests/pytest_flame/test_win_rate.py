"""Aggregate assertions: the interval maths against published values, and the assertions end to end."""

from __future__ import annotations

import json

import pytest

from pytest_flame.stats import t_interval, t_quantile, wilson_interval

# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857-872,
# Table I, method 3 (Wilson score, no continuity correction), 95%; the digits past the table's four
# are statsmodels 0.15.0 `proportion_confint(k, n, method="wilson")`.
NEWCOMBE_WILSON = [
    (81, 263, 0.2552885198782742, 0.36620957698280004),
    (15, 148, 0.06238639953073628, 0.16048724172330803),
    (0, 20, 0.0, 0.1611251580528194),
    (1, 29, 0.006113214292762667, 0.17175521879320294),
    (29, 30, 0.8332960900859081, 0.9940914096183875),
]
# Student's t 97.5% quantiles (any t table; digits from scipy 1.17.1 `stats.t.ppf(0.975, df)`).
T_975 = [(1, 12.706204736174694), (4, 2.7764451051977934), (9, 2.262157162798205), (29, 2.045229642132703)]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_WILSON)
def test_wilson_interval_matches_newcombe_1998(k, n, low, high):
    got = wilson_interval(k / n, n, confidence=0.95)
    assert got == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(("df", "value"), T_975)
def test_t_quantile_matches_the_tables(df, value):
    assert t_quantile(0.975, df) == pytest.approx(value, rel=1e-9)
    assert t_quantile(0.025, df) == pytest.approx(-value, rel=1e-9)


def test_t_interval_of_a_small_sample():
    # scipy 1.17.1: stats.t.interval(0.95, 9, loc=mean, scale=sd / sqrt(10)) for these ten scores.
    scores = [3.2, 4.1, 2.8, 3.9, 4.4, 3.6, 3.0, 4.8, 3.3, 3.7]
    assert t_interval(scores) == pytest.approx((3.2265642788959394, 4.133435721104062), abs=1e-9)


def test_ties_count_half_and_narrow_nothing():
    # 10 wins, 10 ties, 10 losses: the rate is 0.5, and the interval is Wilson's at 0.5 over 30.
    assert wilson_interval((10 + 0.5 * 10) / 30, 30) == wilson_interval(15 / 30, 30)


SUITE = """
from pytest_flame import assert_mean_score, assert_win_rate

TOPICS = ["password", "invoice", "refund", "account", "shipping", "order", "login", "email", "plan", "card"]
CASES = []
for i in range(30):
    t = TOPICS[i % 10]
    q = f"How do I change my {t} number {i}?"
    CASES.append((q, f"To change your {t} number {i}, open settings and change the {t}.", "Please hold."))

def test_candidate_wins():
    result = assert_win_rate(CASES, at_least=0.8, criteria="helpfulness")
    assert result.n == 30 and result.rate == 1.0

def test_bar_too_high_for_the_evidence():
    assert_win_rate(CASES[:5], at_least=0.7)

def test_mean_score():
    result = assert_mean_score([(q, c) for q, c, _ in CASES], at_least=2.0, criteria="helpfulness")
    assert result.low <= result.mean <= result.high

def test_mean_score_too_low():
    assert_mean_score([(q, b) for q, _, b in CASES[:10]], at_least=4.5)
"""


def test_win_rate_and_mean_score_pass_fail_and_report(pytester: pytest.Pytester):
    pytester.makepyfile(test_many=SUITE)
    result = pytester.runpytest("--flame-model", "fake", "--flame-report", "report.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "E * flame: the candidate's win rate is too uncertain or too low (criteria: overall quality)",
            "E *  win rate = 1.000 over n = 5 cases (ties count 0.5; 0 ties)",
            "E *  95% Wilson interval [[]0.566, 1.000]; needs a lower bound >= 0.700",
            "E *  worst cases:",
            "E *  1. P(candidate better) = *; prompt: How do I change my *",
        ]
    )
    result.stdout.fnmatch_lines(["E * flame: the mean score is too uncertain or too low*", "E *  95% t interval [[]*"])
    report = {
        r["nodeid"].split("::")[1]: r for r in json.loads((pytester.path / "report.json").read_text())["judgments"]
    }
    wins = report["test_candidate_wins"]
    assert wins["details"]["n"] == 30
    assert len(wins["details"]["cases"]) == 30
    assert wins["details"]["interval_method"] == "wilson"
    assert wins["value"] == wins["details"]["interval"][0]


def test_cases_of_the_wrong_shape_are_plain_errors(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        from pytest_flame import assert_win_rate

        def test_pairs_not_triples():
            assert_win_rate([("q", "a")], at_least=0.5)
        """
    )
    result = pytester.runpytest("--flame-model", "fake")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*TypeError: pytest-flame: case 0 must be a ('prompt', 'candidate', 'baseline') tuple*"]
    )
