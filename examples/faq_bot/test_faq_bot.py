"""Judged tests of the FAQ bot rewrite: run with `uv run pytest examples/faq_bot`.

Length does not decide these cases: three rewrites (password, support, account deletion) are
shorter than the old answers, the old account-deletion answer is longer and wrong, and a longer
answer that contradicts the policy must lose to the short right one. Measured with flame-smol
(P(new better)): refund 0.295, shipping 0.551, support 0.592, deletion 0.506, password 0.587,
longer-but-wrong 0.639. The refund case is an expected failure: the judge prefers the terse old
answer ("Refunds are subject to our policy.") to the specific one, kept to show what the default
cannot tell. (The previous head, which read response length, passed it at 0.616 and failed the
password case at 0.496.)
"""

from __future__ import annotations

import pytest
from faq_bot import LONGER_BUT_WRONG, NEW, new_bot, old_bot

from pytest_flame import assert_judged, assert_judged_better, assert_judged_faithful

POLICY = (
    "Refund policy: unused items can be returned within 30 days of delivery for a full refund to the "
    "original payment method. Returns are started from Orders > Return item."
)


REFUND = "Can I get a refund?"
CASES = [
    pytest.param(
        q,
        marks=pytest.mark.xfail(strict=True, reason="flame-smol prefers the terse old answer: P(new better) = 0.295"),
    )
    if q == REFUND
    else q
    for q in sorted(NEW)
]


@pytest.mark.parametrize("question", CASES)
def test_new_answer_beats_old(question):
    assert_judged_better(new_bot(question), old_bot(question), prompt=question, criteria="helpfulness")


@pytest.mark.parametrize("question", sorted(LONGER_BUT_WRONG))
def test_a_longer_but_wrong_answer_loses(question):
    right, wrong = LONGER_BUT_WRONG[question]
    assert_judged_better(right, wrong, prompt=f"{POLICY}\n\nQuestion: {question}", criteria="correctness")


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
