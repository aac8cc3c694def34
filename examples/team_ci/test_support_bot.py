"""A team's judged CI suite: run with `uv run pytest examples/team_ci` (see README.md here)."""

from __future__ import annotations

from support_bot import ANSWERS, new_bot, old_bot

from pytest_flame import assert_judged_better, assert_judged_faithful, assert_win_rate

REFUND_POLICY = (
    "Refunds: once a returned item reaches our warehouse, the refund is paid to the original payment "
    "method within 5 business days."
)
CASES = [(question, new_bot(question), old_bot(question)) for question in sorted(ANSWERS)]


def test_new_bot_beats_the_old_one_over_30_questions():
    # One verdict is noisy; a win rate whose 95% interval clears 0.6 is not.
    result = assert_win_rate(CASES, at_least=0.6, criteria="helpfulness")
    assert result.n == 30


def test_shorter_but_correct_shipping_answer_wins():
    question = "How long does standard shipping take?"
    assert_judged_better(new_bot(question), old_bot(question), prompt=question, criteria="helpfulness")


def test_refund_answer_is_faithful_to_the_policy():
    assert_judged_faithful(new_bot("When will I get my refund?"), source=REFUND_POLICY)
