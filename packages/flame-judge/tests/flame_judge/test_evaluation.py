"""Dev evaluation (`flame_judge.evaluation`) uses the one pairwise metric: both orders, ties 0.5."""

from __future__ import annotations

import json

import pytest

from flame_judge.evaluation import RowScore, score_both_orders, score_rows, summarize, task_scores

TASK = "alce_human_utility/utility_pairwise"


def row(gold: str, a: str = "Paris.", b: str = "Lyon.") -> dict[str, str]:
    fields = [["question", "What is the capital of France?"], ["response A", a], ["response B", b]]
    return {
        "task": TASK,
        "task_type": "pairwise",
        "fields": json.dumps(fields),
        "target_fields": json.dumps([["answer", gold]]),
        "metadata": "{}",
    }


def test_pairwise_accuracy_credits_both_orders_and_ties_half():
    rows = [row("A"), row("A"), row("B"), row("tie")]
    scores = [
        RowScore({"A": 0.9, "B": 0.1}, 0.9, 0.8),  # both orders right: 1
        RowScore({"A": 0.9, "B": 0.1}, 0.9, 0.2),  # position bias, one order right: 0.5
        RowScore({"A": 0.5, "B": 0.5}, 0.5, 0.5),  # an exact tie: 0.5 (was counted as A, so 0)
        RowScore({"A": 0.9, "B": 0.1}, 0.9, 0.9),  # tie gold: left out
    ]
    (score,) = task_scores(rows, scores)
    assert score.value == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert score.n == 3
    assert summarize([score]) == {"pairwise_accuracy": pytest.approx(2 / 3)}


def test_one_order_distributions_are_still_accepted_with_ties_half():
    rows = [row("B"), row("A")]
    (score,) = task_scores(rows, [{"A": 0.5, "B": 0.5}, {"A": 0.7, "B": 0.3}])
    assert score.value == pytest.approx((0.5 + 1) / 2)


def test_score_both_orders_reads_the_swapped_rendering(tiny_backend):
    rows = [row("A"), row("B", a="A long and careful answer: the capital is Paris.", b="Lyon.")]
    scored = score_both_orders(tiny_backend, rows)
    one_order = score_rows(tiny_backend, rows)
    swapped = [row("A", a=json.loads(r["fields"])[2][1], b=json.loads(r["fields"])[1][1]) for r in rows]
    mirrored = score_rows(tiny_backend, swapped)
    for s, first, second in zip(scored, one_order, mirrored, strict=True):
        assert s.distribution == pytest.approx(first)
        assert s.prob_a_first == pytest.approx(first["A"] / (first["A"] + first["B"]))
        # A sits in the B slot of the swapped rendering.
        assert s.prob_a_second == pytest.approx(second["B"] / (second["A"] + second["B"]))
        assert s.prob_a_first != s.prob_a_second  # a random model has a position preference
