from __future__ import annotations

import pytest

# A judged test whose verdicts the fake judge (`--flame-model fake`) makes predictable: it prefers
# the answer sharing more words with the prompt.
SUITE = """
from pytest_flame import assert_judged_better

PROMPT = "How do I reset my password?"
GOOD = "To reset your password, open settings and choose reset password."
BAD = "Our office is open from nine to five."

def test_good_beats_bad():
    assert_judged_better(GOOD, BAD, prompt=PROMPT, criteria="helpfulness")

def test_bad_beats_good():
    assert_judged_better(BAD, GOOD, prompt=PROMPT, criteria="helpfulness")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_suite=SUITE)
    return pytester
