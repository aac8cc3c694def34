"""Two xdist workers, one shared judgment cache, one summary on the controller."""

from __future__ import annotations

import sqlite3

import pytest

pytestmark = pytest.mark.slow

MANY = """
import pytest
from pytest_flame import assert_judged

@pytest.mark.parametrize("i", range(6))
def test_score(i):
    assert_judged(f"Answer number {i}.", prompt=f"Question {i}?", criteria="clarity", min_score=1)
"""


def test_xdist_shares_one_cache_and_reports_once(pytester: pytest.Pytester):
    pytester.makepyfile(test_many=MANY)
    cache = pytester.path / "judgments.sqlite"
    result = pytester.runpytest_subprocess("-n", "2", "--flame-cache", str(cache))
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["6 judgments: 6 passed, 0 failed; 0 from cache; *"])
    assert sum("= flame judgments =" in line for line in result.outlines) == 1
    with sqlite3.connect(cache) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0] == 6
    again = pytester.runpytest_subprocess("-n", "2", "--flame-cache", str(cache))
    again.stdout.fnmatch_lines(["6 judgments: 6 passed, 0 failed; 6 from cache; *"])
