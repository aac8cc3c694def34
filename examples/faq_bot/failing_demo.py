"""A deliberately failing judged test, to show what a failure looks like:

    uv run pytest examples/faq_bot/failing_demo.py

The "rewrite" here is the old, unhelpful answer, so the judge must not prefer it by a clear margin.
The margin (0.1) asks for a clear preference: a near coin-flip verdict would fail too.
"""

from __future__ import annotations

import pytest
from faq_bot import new_bot, old_bot

from pytest_flame import assert_judged_better


@pytest.mark.flame(margin=0.1)
def test_regression_is_caught():
    question = "How do I reset my password?"
    assert_judged_better(old_bot(question), new_bot(question), prompt=question, criteria="helpfulness")
