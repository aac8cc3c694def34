from __future__ import annotations

import pytest


def test_unknown_marker_key_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.flame(modle="fake")
        def test_typo():
            pass
        """
    )
    result = pytester.runpytest("--flame-model", "fake")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*@pytest.mark.flame on test_*::test_typo takes only keyword arguments*['modle']*"])


def test_marker_model_overrides_the_session_model(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest
        from pytest_flame import assert_judged_better

        @pytest.mark.flame(model="fake")
        def test_marked():
            v = assert_judged_better("reset your password in settings", "hello", prompt="reset password?")
            assert v.model == "fake"
        """
    )
    # The session model does not exist; only the marker's is loaded.
    pytester.runpytest("--flame-model", "no-such-model").assert_outcomes(passed=1)


def test_marker_is_registered(pytester: pytest.Pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.flame(model=None, device=None, margin=None)*"])
