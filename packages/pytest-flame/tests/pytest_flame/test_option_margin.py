from __future__ import annotations

import pytest

BORDERLINE = """
import pytest
from pytest_flame import assert_judged_better

def test_close_call():
    v = assert_judged_better("reset password now", "reset it", prompt="How do I reset my password?")
    print("PROB", v.prob_a)
"""


def _prob(pytester: pytest.Pytester) -> float:
    result = pytester.runpytest("--flame-model", "fake", "-s")
    line = next(x for x in result.outlines if x.startswith("PROB") or "PROB" in x)
    return float(line.split("PROB")[1].split()[0])


def test_margin_from_command_line_ini_and_marker(pytester: pytest.Pytester):
    pytester.makepyfile(test_close=BORDERLINE)
    prob = _prob(pytester)
    assert 0.5 < prob < 0.99
    below, above = f"{(prob - 0.5) / 2:.4f}", f"{min((prob - 0.5) * 2, 0.49):.4f}"
    pytester.runpytest("--flame-model", "fake", "--flame-margin", below).assert_outcomes(passed=1)
    pytester.runpytest("--flame-model", "fake", "--flame-margin", above).assert_outcomes(failed=1)
    pytester.makeini(f"[pytest]\nflame_margin = {above}\n")
    pytester.runpytest("--flame-model", "fake").assert_outcomes(failed=1)
    marked = BORDERLINE.replace("def test_close_call", f"@pytest.mark.flame(margin={below})\ndef test_close_call")
    pytester.makepyfile(test_close=marked)
    pytester.runpytest("--flame-model", "fake").assert_outcomes(passed=1)


def test_bad_margin_is_a_usage_error(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "fake", "--flame-margin", "lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--flame-margin / flame_margin must be a number, got 'lots'*"])
