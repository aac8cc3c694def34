"""The examples/faq_bot suite runs end to end against the real default judge (flame-smol).

The new answers are better than the old ones and length does not decide (some are shorter, one
test pits a short right answer against a longer wrong one), so the suite must pass on the real judge; a
warm re-run reproduces every outcome from the cache, and the deliberately failing demo fails with
the verdict explained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "faq_bot"


def test_example_suite_runs_on_the_real_model_and_replays_from_the_cache(pytester: pytest.Pytester):
    cache = str(pytester.path / "judgments.sqlite")
    args = (str(EXAMPLES / "test_faq_bot.py"), "--flame-cache", cache, "-p", "no:cacheprovider")
    first = pytester.runpytest_subprocess(*args)
    outcomes = first.parseoutcomes()
    assert outcomes == {"passed": 7, "xfailed": 1}  # the refund case: see test_faq_bot.py
    first.stdout.fnmatch_lines(["8 judgments: 7 passed, 1 failed; 0 from cache; model flame-smol@*"])
    second = pytester.runpytest_subprocess(*args)
    assert second.parseoutcomes() == outcomes
    second.stdout.fnmatch_lines(["8 judgments: * 8 from cache; *"])


def test_failing_demo_fails_with_an_explanation(pytester: pytest.Pytester):
    result = pytester.runpytest_subprocess(
        str(EXAMPLES / "failing_demo.py"),
        "--flame-cache",
        str(pytester.path / "c.sqlite"),
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*flame judged the candidate NOT better than the baseline (criteria: helpfulness)",
            "*P(candidate better) = *, needs > 0.600 (margin 0.100)",
            "*each response scored alone by the judge's reward head (no presentation order)",
            "*failing_demo.py:20: JudgedAssertionError",
        ]
    )
