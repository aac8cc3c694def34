from __future__ import annotations

import pytest

from flame_judge.judge import trained_input_tokens
from flame_judge.loading import SHIPPED


def test_the_default_is_what_the_judge_was_trained_with():
    assert trained_input_tokens(SHIPPED / "flame-smol") == 512  # flame.json: config.max_length


def test_the_option_reaches_the_session_and_a_bad_value_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nflame_max_input_tokens = 300\n")
    pytester.makepyfile(
        """
        from pytest_flame.session import SESSION_KEY

        def test_settings(request):
            assert request.config.stash[SESSION_KEY].options.max_input_tokens == 300
        """
    )
    pytester.runpytest("--flame-model", "fake").assert_outcomes(passed=1)
    result = pytester.runpytest("--flame-model", "fake", "--flame-max-input-tokens", "many")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--flame-max-input-tokens / flame_max_input_tokens must be a positive integer, got 'many'*"]
    )
