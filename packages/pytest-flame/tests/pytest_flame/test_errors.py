from __future__ import annotations

import pytest


def test_failure_message_explains_the_verdict_and_points_at_the_test_line(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "fake")
    result.stdout.fnmatch_lines(
        [
            '>       assert_judged_better(BAD, GOOD, prompt=PROMPT, criteria="helpfulness")',
            "E       pytest_flame.session.JudgedAssertionError: flame judged the candidate NOT better than the baseline (criteria: helpfulness)",
            "E         P(candidate better) = 0.*, needs > 0.500 (margin 0.000)",
            "E         candidate shown first: *; baseline shown first: * (orders agree)",
            "E         model: fake@0 (computed)",
            "E         prompt:    How do I reset my password?",
            "E         candidate: Our office is open from nine to five.",
            "E         baseline:  To reset your password, open settings and choose reset password.",
            "test_suite.py:11: JudgedAssertionError",
        ]
    )
    result.stdout.no_fnmatch_line("*assertions.py*")


def test_wrong_argument_types_are_plain_errors(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        from pytest_flame import assert_judged_better

        def test_bad_call():
            assert_judged_better(None, "b", prompt="q")
        """
    )
    result = pytester.runpytest("--flame-model", "fake")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*TypeError: pytest-flame: candidate must be a string, got NoneType*"])


def test_pointwise_and_faithful_assertions(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        from pytest_flame import assert_judged, assert_judged_faithful

        def test_score():
            v = assert_judged("reset password in settings", prompt="reset password?", criteria="help", min_score=1)
            assert 1 <= v.score <= 5

        def test_score_too_high():
            assert_judged("no", prompt="reset password?", criteria="help", min_score=5)

        def test_faithful():
            assert_judged_faithful("The sky is blue.", source="The sky is blue today.")

        def test_unfaithful():
            assert_judged_faithful("Cats can fly.", source="The sky is blue today.")
        """
    )
    result = pytester.runpytest("--flame-model", "fake")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*flame scored the response * on 1-5 for help, below min_score 5*"])
    result.stdout.fnmatch_lines(["*flame judged the response NOT faithful to the source*"])


def test_outside_pytest_the_assertion_says_what_is_missing(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_disabled():
            from pytest_flame import assert_judged_better
            assert_judged_better("a", "b", prompt="q")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:flame")
    result.stdout.fnmatch_lines(["*pytest-flame is not active*"])
