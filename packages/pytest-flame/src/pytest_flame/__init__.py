"""pytest-flame: judged assertions for pytest, backed by a local FLAMe judge."""

from pytest_flame.aggregates import MeanScore, WinRate, assert_mean_score, assert_win_rate
from pytest_flame.assertions import assert_judged, assert_judged_better, assert_judged_faithful
from pytest_flame.session import JudgedAssertionError, JudgeUnavailableError, Judgment, LockMismatchError

__all__ = [
    "JudgeUnavailableError",
    "JudgedAssertionError",
    "Judgment",
    "LockMismatchError",
    "MeanScore",
    "WinRate",
    "assert_judged",
    "assert_judged_better",
    "assert_judged_faithful",
    "assert_mean_score",
    "assert_win_rate",
]
