"""Score labelled FLAMe examples (mixture rows) with a judge backend and measure agreement per task.

Used by training-time dev evaluation and by `flame eval`; one definition of each metric.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flame_data.registry import tasks as registered_tasks
from flame_judge.metrics import balanced_accuracy, spearman
from flame_judge.scoring import GenerativeBackend


@dataclass(frozen=True)
class TaskScore:
    task: str
    task_type: str
    metric: str
    value: float
    n: int


def _softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def score_rows(
    backend: GenerativeBackend, rows: Sequence[dict[str, Any]], *, batch_size: int | None = None
) -> list[dict[str, float]]:
    """Per row: the label distribution (normalized over the task's labels)."""
    specs = {name: spec for name, (spec, _) in registered_tasks().items()}
    queries = []
    for row in rows:
        fields = [tuple(f) for f in json.loads(row["fields"])]
        queries.append(backend.prepare(specs[row["task"]], fields))
    logps = backend.score(queries, batch_size=batch_size)
    return [dict(zip(q.labels, _softmax(lp), strict=True)) for q, lp in zip(queries, logps, strict=True)]


def task_scores(rows: Sequence[dict[str, Any]], dists: Sequence[dict[str, float]]) -> list[TaskScore]:
    """Pairwise accuracy (non-tie gold, A vs B), pointwise Spearman, classification balanced accuracy."""
    by_task: dict[str, list[tuple[dict[str, Any], dict[str, float]]]] = {}
    for row, dist in zip(rows, dists, strict=True):
        by_task.setdefault(row["task"], []).append((row, dist))
    out = []
    for task, items in sorted(by_task.items()):
        kind = items[0][0]["task_type"]
        gold = [json.loads(r["target_fields"])[0][1] for r, _ in items]
        if kind == "pairwise":
            pairs = [
                (("A" if d["A"] >= d["B"] else "B"), g) for (_, d), g in zip(items, gold, strict=True) if g != "tie"
            ]
            value = sum(p == g for p, g in pairs) / len(pairs) if pairs else float("nan")
            out.append(TaskScore(task, kind, "accuracy", value, len(pairs)))
        elif kind == "pointwise":
            expected = [sum(int(k) * p for k, p in d.items()) for _, d in items]
            human = [
                float(json.loads(r["metadata"]).get("human_score", g)) for (r, _), g in zip(items, gold, strict=True)
            ]
            out.append(TaskScore(task, kind, "spearman", spearman(expected, human), len(items)))
        elif kind == "classification":
            pred = [max(d, key=d.__getitem__) for _, d in items]
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
