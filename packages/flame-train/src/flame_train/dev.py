"""Dev-set scores of a judge backend on mixture rows, for training-time evaluation and tail-patch
ratings: pairwise rows scored in both orders of their two responses and credited by THE pairwise
definition (`flame_judge.metrics.pairwise_accuracy`: both orders, exact 0.5 = half credit);
pointwise and classification rows as `flame_judge.evaluation` scores them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flame_judge.metrics import pairwise_accuracy

if TYPE_CHECKING:
    from flame_judge.evaluation import TaskScore
    from flame_judge.scoring import GenerativeBackend


def swapped(row: dict[str, Any]) -> dict[str, Any]:
    """The pairwise row with its two responses (the last two fields) exchanged, labels kept in place
    (as `Judge.pair_probs` renders the second order)."""
    fields = json.loads(row["fields"])
    (la, a), (lb, b) = fields[-2], fields[-1]
    return {**row, "fields": json.dumps([*fields[:-2], [la, b], [lb, a]])}


def pair_probs(
    backend: GenerativeBackend, rows: Sequence[dict[str, Any]]
) -> tuple[list[float], list[float], list[dict[str, float]]]:
    """For every row: P(A better) with A shown first, P(A better) with A shown second (pairwise rows;
    NaN otherwise), and the row's label distribution in its own order."""
    from flame_judge.evaluation import score_rows

    pairwise = [i for i, r in enumerate(rows) if r["task_type"] == "pairwise"]
    dists = score_rows(backend, [*rows, *(swapped(rows[i]) for i in pairwise)])
    first = [float("nan")] * len(rows)
    second = [float("nan")] * len(rows)
    for n, i in enumerate(pairwise):
        d1, d2 = dists[i], dists[len(rows) + n]
        first[i] = d1["A"] / (d1["A"] + d1["B"])
        second[i] = d2["B"] / (d2["A"] + d2["B"])  # A is shown second: its side is B
    return first, second, dists[: len(rows)]


def gold_label(row: dict[str, Any]) -> str:
    return str(json.loads(row["target_fields"])[0][1])


def task_scores(backend: GenerativeBackend, rows: Sequence[dict[str, Any]]) -> list[TaskScore]:
    """Per task: pairwise accuracy over both orders, pointwise Spearman, classification balanced accuracy."""
    from flame_judge.evaluation import TaskScore
    from flame_judge.evaluation import task_scores as single_order_scores

    first, second, dists = pair_probs(backend, rows)
    others = [(r, d) for r, d in zip(rows, dists, strict=True) if r["task_type"] != "pairwise"]
    out = single_order_scores([r for r, _ in others], [d for _, d in others])
    by_task: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r["task_type"] == "pairwise":
            by_task.setdefault(r["task"], []).append(i)
    for task, idx in by_task.items():
        gold = [gold_label(rows[i]) for i in idx]
        value = pairwise_accuracy([first[i] for i in idx], [second[i] for i in idx], gold)
        out.append(TaskScore(task, "pairwise", "accuracy", value, sum(g in ("A", "B") for g in gold)))
    return sorted(out, key=lambda s: s.task)


def dev_scores(backend: GenerativeBackend, rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean per-task value by task type, as `flame_judge.evaluation.summarize` reports it."""
    from flame_judge.evaluation import summarize

    return summarize(task_scores(backend, rows))


def category_accuracy(backend: GenerativeBackend, rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Pairwise accuracy (both orders) per capability category of pairwise `rows`."""
    first, second, _ = pair_probs(backend, rows)
    by_category: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_category.setdefault(r["category"], []).append(i)
    scores = {
        c: pairwise_accuracy([first[i] for i in idx], [second[i] for i in idx], [gold_label(rows[i]) for i in idx])
        for c, idx in sorted(by_category.items())
    }
    return {c: v for c, v in scores.items() if v == v}  # a category with only tie gold has no accuracy
