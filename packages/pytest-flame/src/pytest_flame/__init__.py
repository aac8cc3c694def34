"""pytest-flame: judged assertions for pytest, backed by a local FLAMe judge."""

from pytest_flame.assertions import assert_judged, assert_judged_better, assert_judged_faithful
from pytest_flame.session import JudgedAssertionError, JudgeUnavailableError, Judgment

__all__ = [
    "JudgeUnavailableError",
    "JudgedAssertionError",
    "Judgment",
    "assert_judged",
    "assert_judged_better",
    "assert_judged_faithful",
]
