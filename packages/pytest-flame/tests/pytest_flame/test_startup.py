"""The plugin loads at every pytest start-up, so it must not import torch or transformers there."""

from __future__ import annotations

import pytest


def test_plugin_start_up_imports_no_torch(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import sys

        def test_modules():
            assert "pytest_flame.plugin" in sys.modules
            assert "torch" not in sys.modules
            assert "transformers" not in sys.modules
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
