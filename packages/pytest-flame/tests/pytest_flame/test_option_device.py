from __future__ import annotations

import pytest
import torch


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is missing")
def test_unavailable_device_is_an_error_not_a_failure(suite: pytest.Pytester):
    result = suite.runpytest("--flame-device", "cuda")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*CUDA is not available*"])


def test_device_from_ini_reaches_the_judge(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nflame_model = fake\nflame_device = cpu\n")
    pytester.makepyfile(
        """
        import pytest
        from pytest_flame.session import SESSION_KEY

        def test_settings(request):
            model, device, margin = request.config.stash[SESSION_KEY].settings_for(request.node)
            assert (model, device, margin) == ("fake", "cpu", 0.0)
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
