from __future__ import annotations

import pytest


def test_fake_model_from_the_command_line(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "fake")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*= flame judgments =*", "2 judgments: 1 passed, 1 failed; 0 from cache; model fake@0"]
    )


def test_model_from_ini(suite: pytest.Pytester):
    suite.makeini("[pytest]\nflame_model = fake\n")
    suite.runpytest().assert_outcomes(passed=1, failed=1)


def test_missing_model_is_an_error_with_the_reason(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "no-such-model")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*could not be loaded*neither a known name*"])
    result.stdout.no_fnmatch_line("*FAILED*")


def test_flame_judge_fixture_gives_the_session_judge(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_fixture(flame_judge):
            assert flame_judge.name == "fake"
            assert flame_judge.pairwise("q", "a", "b").winner in {"A", "B", "tie"}
        """
    )
    pytester.runpytest("--flame-model", "fake").assert_outcomes(passed=1)
