"""Cache options against the real default model: a warm re-run does no model work."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

TWO = """
from pytest_flame import assert_judged_better

def test_spaghetti():
    assert_judged_better("Boil it for 9 to 11 minutes.", "Forever.", prompt="How long do I boil spaghetti?")

def test_capital():
    assert_judged_better("Paris.", "Lyon.", prompt="What is the capital of France?", criteria="correctness")
"""


def test_warm_rerun_comes_from_the_cache(pytester: pytest.Pytester):
    pytester.makepyfile(test_two=TWO)
    cache = str(pytester.path / "judgments.sqlite")
    first = pytester.runpytest_subprocess("--flame-cache", cache)
    first.stdout.fnmatch_lines(["2 judgments: * 0 from cache; model flame-smol@*"])
    second = pytester.runpytest_subprocess("--flame-cache", cache)
    second.stdout.fnmatch_lines(["2 judgments: * 2 from cache; *"])
    assert second.parseoutcomes() == first.parseoutcomes()  # same verdicts: nothing flakes


def test_mirrored_pair_reuses_the_same_model_inputs(suite: pytest.Pytester):
    # test_bad_beats_good asks the same two orders as test_good_beats_bad, so it is served from the cache.
    result = suite.runpytest_subprocess("--flame-cache", str(suite.path / "judgments.sqlite"))
    result.stdout.fnmatch_lines(["2 judgments: * 1 from cache; *"])


def test_no_cache_recomputes(pytester: pytest.Pytester):
    pytester.makepyfile(test_two=TWO)
    cache = str(pytester.path / "judgments.sqlite")
    pytester.runpytest_subprocess("--flame-cache", cache)
    again = pytester.runpytest_subprocess("--flame-cache", cache, "--flame-no-cache")
    again.stdout.fnmatch_lines(["2 judgments: * 0 from cache; *"])
