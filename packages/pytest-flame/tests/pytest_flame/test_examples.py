"""The examples/faq_bot suite runs end to end against the real default judge (flame-smol).

Its verdicts are whatever that judge decides (they are near coin flips, see its model card), so
what is checked here is the plugin path: every judged test ends in a verdict, none in an error, and
a warm re-run reproduces every outcome from the cache.
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
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 7
    assert "errors" not in outcomes
    first.stdout.fnmatch_lines(["7 judgments: * 0 from cache; model flame-smol@*"])
    second = pytester.runpytest_subprocess(*args)
    assert second.parseoutcomes() == outcomes
    second.stdout.fnmatch_lines(["7 judgments: * 7 from cache; *"])


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
            "*failing_demo.py:20: JudgedAssertionError",
        ]
    )
