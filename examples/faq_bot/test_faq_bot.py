"""Judged tests of the FAQ bot rewrite: run with `uv run pytest examples/faq_bot`."""

from __future__ import annotations

import pytest
from faq_bot import NEW, new_bot, old_bot

from pytest_flame import assert_judged, assert_judged_better, assert_judged_faithful

POLICY = (
    "Refund policy: unused items can be returned within 30 days of delivery for a full refund to the "
    "original payment method. Returns are started from Orders > Return item."
)


@pytest.mark.parametrize("question", sorted(NEW))
def test_new_answer_beats_old(question):
    assert_judged_better(new_bot(question), old_bot(question), prompt=question, criteria="helpfulness")


def test_refund_answer_is_faithful_to_the_policy():
    assert_judged_faithful(new_bot("Can I get a refund?"), source=POLICY)


def test_password_answer_scores_well():
    verdict = assert_judged(
        new_bot("How do I reset my password?"),
        prompt="How do I reset my password?",
        criteria="helpfulness",
        min_score=3,
    )
    assert verdict.scale == (1, 5)
