"""Score labelled FLAMe examples (mixture rows) with a judge backend and measure agreement per task.

Used by training-time dev evaluation and tail-patch selection; the metrics are those of
`flame_judge.metrics` (pairwise: both orders, an exact 0.5 is half credit), as in `flame eval`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flame_data.registry import tasks as registered_tasks
from flame_judge.metrics import balanced_accuracy, pairwise_accuracy, spearman
from flame_judge.scoring import GenerativeBackend


@dataclass(frozen=True)
class TaskScore:
    task: str
    task_type: str
    metric: str
    value: float
    n: int


@dataclass(frozen=True)
class RowScore:
    """What the judge said about one row: its label distribution as presented, and for a pairwise
    row P(A better) with A shown first and with A shown second (responses swapped)."""

    distribution: Mapping[str, float]
    prob_a_first: float | None = None
    prob_a_second: float | None = None


def _softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def _distributions(
    backend: GenerativeBackend, rows: Sequence[dict[str, Any]], *, batch_size: int | None, both_orders: bool
) -> tuple[list[dict[str, float]], list[dict[str, float] | None]]:
    specs = {name: spec for name, (spec, _) in registered_tasks().items()}
    queries, swapped = [], []
    for row in rows:
        fields = [(f[0], f[1]) for f in json.loads(row["fields"])]
        spec = specs[row["task"]]
        queries.append(backend.prepare(spec, fields))
        if both_orders and row["task_type"] == "pairwise":
            (la, a), (lb, b) = fields[-2], fields[-1]
            swapped.append((len(queries) - 1, backend.prepare(spec, [*fields[:-2], (la, b), (lb, a)])))
    logps = backend.score([*queries, *(q for _, q in swapped)], batch_size=batch_size)
    dists = [
        dict(zip(q.labels, _softmax(lp), strict=True)) for q, lp in zip(queries, logps[: len(queries)], strict=True)
    ]
    second: list[dict[str, float] | None] = [None] * len(rows)
    for (i, q), lp in zip(swapped, logps[len(queries) :], strict=True):
        second[i] = dict(zip(q.labels, _softmax(lp), strict=True))
    return dists, second


def score_rows(
    backend: GenerativeBackend, rows: Sequence[dict[str, Any]], *, batch_size: int | None = None
) -> list[dict[str, float]]:
    """Per row: the label distribution (normalized over the task's labels), pairwise rows in the
    order given only. `score_both_orders` is what agreement needs; this stays for label inspection."""
    return _distributions(backend, rows, batch_size=batch_size, both_orders=False)[0]


def score_both_orders(
    backend: GenerativeBackend, rows: Sequence[dict[str, Any]], *, batch_size: int | None = None
) -> list[RowScore]:
    """Per row a `RowScore`; pairwise rows are also scored with their two responses swapped."""
    dists, second = _distributions(backend, rows, batch_size=batch_size, both_orders=True)
    out = []
    for dist, swapped in zip(dists, second, strict=True):
        if swapped is None:
            out.append(RowScore(dist))
            continue
        first = dist["A"] / (dist["A"] + dist["B"])  # A shown first
        after = swapped["B"] / (swapped["A"] + swapped["B"])  # A shown second, in the B slot
        out.append(RowScore(dist, first, after))
    return out


def _orders(scored: RowScore | Mapping[str, float]) -> tuple[float, float]:
    """(P(A better) shown first, shown second); a bare one-order distribution counts for both."""
    if isinstance(scored, RowScore) and scored.prob_a_first is not None and scored.prob_a_second is not None:
        return scored.prob_a_first, scored.prob_a_second
    dist = scored.distribution if isinstance(scored, RowScore) else scored
    p = dist["A"] / (dist["A"] + dist["B"])
    return p, p


def task_scores(
    rows: Sequence[dict[str, Any]], scores: Sequence[RowScore] | Sequence[dict[str, float]]
) -> list[TaskScore]:
    """Pairwise accuracy (`metrics.pairwise_accuracy`: both orders, ties 0.5, tie gold left out),
    pointwise Spearman, classification balanced accuracy.

    `scores` come from `score_both_orders`; plain distributions from `score_rows` are still accepted
    and count their one order as both (the credit is then that of a single order).
    """
    by_task: dict[str, list[tuple[dict[str, Any], RowScore | Mapping[str, float]]]] = {}
    for row, scored in zip(rows, scores, strict=True):
        by_task.setdefault(row["task"], []).append((row, scored))
    out = []
    for task, items in sorted(by_task.items()):
        kind = items[0][0]["task_type"]
        gold = [json.loads(r["target_fields"])[0][1] for r, _ in items]
        dists = [s.distribution if isinstance(s, RowScore) else s for _, s in items]
        if kind == "pairwise":
            orders = [_orders(s) for _, s in items]
            value = pairwise_accuracy([f for f, _ in orders], [s for _, s in orders], gold)
            out.append(TaskScore(task, kind, "accuracy", value, sum(g in ("A", "B") for g in gold)))
        elif kind == "pointwise":
            expected = [sum(int(k) * p for k, p in d.items()) for d in dists]
            human = [
                float(json.loads(r["metadata"]).get("human_score", g)) for (r, _), g in zip(items, gold, strict=True)
            ]
            out.append(TaskScore(task, kind, "spearman", spearman(expected, human), len(items)))
        elif kind == "classification":
            pred = [max(d, key=d.__getitem__) for d in dists]
            out.append(TaskScore(task, kind, "balanced_accuracy", balanced_accuracy(pred, gold), len(items)))
    return out


def summarize(scores: Sequence[TaskScore]) -> dict[str, float]:
    """Mean of the per-task values by task type (NaNs left out)."""
    names = {"pairwise": "accuracy", "pointwise": "spearman", "classification": "balanced_accuracy"}
    out: dict[str, float] = {}
    for kind, metric in names.items():
        values = [s.value for s in scores if s.task_type == kind and not math.isnan(s.value)]
        if values:
            out[f"{kind}_{metric}"] = sum(values) / len(values)
    return out
