"""Probe: how far does a reward judge's scalar go as a pointwise rater and a binary classifier?

Scores each response of a mixture's pointwise and binary classification rows alone with a reward
judge (flame's reward view of the row's own task, as `flame reward train` renders it) and reports,
per task and example-weighted overall, beside "longer is better" on the same rows:

- pointwise: Spearman of the reward with the human score (`metrics.spearman`);
- classification: ROC-AUC and balanced accuracy of the reward for the task's label, with the
  direction (which label a higher reward means) and the threshold fitted on the --fit split only.

A measurement for choosing whether heads on the reward model pay, not a product:

    uv run python tools/probes/reward_as_rater.py --model runs/reward-model/judge --mixture mix --per-task 32
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from collections import defaultdict
from typing import Any

from flame_data.registry import tasks as registered
from flame_judge import Judge
from flame_judge.metrics import balanced_accuracy, roc_auc, spearman
from flame_train.data import load_split

Row = tuple[str, list[tuple[str, str]], str]  # task, input fields (response last), gold label or score


def rows(mixture: str, split: str, per_task: int, seed: int) -> dict[str, list[Row]]:
    by_task: dict[str, list[Row]] = defaultdict(list)
    for row in load_split(mixture, split):
        if row["task_type"] not in ("pointwise", "classification"):
            continue
        target = json.loads(row["target_fields"])
        if len(target) != 1:  # a score or label plus an explanation: not a single verdict
            continue
        by_task[row["task"]].append((row["task"], [tuple(f) for f in json.loads(row["fields"])], target[0][1]))
    rng = random.Random(seed)
    out = {}
    for task, items in sorted(by_task.items()):
        rng.shuffle(items)
        out[task] = items[:per_task]
    return out


def rewards(judge: Judge, items: list[Row], specs: dict[str, Any]) -> list[float]:
    """The reward of each row's response, the row's fields before it as the context."""
    scorer = judge.reward
    assert scorer is not None, f"{judge.name} is not a reward judge"
    queries = []
    for task, fields, _ in items:
        view = dataclasses.replace(specs[task], task_type="pairwise")  # reward_task reads its definition only
        queries.append(scorer.prepare(view, [*fields, fields[-1]])[0])
    return scorer.score(queries)


def words(items: list[Row]) -> list[float]:
    return [float(len(fields[-1][1].split())) for _, fields, _ in items]


def classify(fit: tuple[list[float], list[str]], test: tuple[list[float], list[str]]) -> tuple[float, float] | None:
    """(ROC-AUC, balanced accuracy) on `test` of a threshold on the score, direction and threshold from `fit`."""
    (fs, fl), (ts, tl) = fit, test
    labels = sorted(set(fl) | set(tl))
    if len(labels) != 2 or len(set(fl)) != 2 or len(set(tl)) != 2:
        return None
    high = max(labels, key=lambda lab: roc_auc(fs, [x == lab for x in fl]))  # the label a higher score means
    low = next(lab for lab in labels if lab != high)
    best = max(sorted(set(fs)), key=lambda t: balanced_accuracy([high if s >= t else low for s in fs], fl))
    return roc_auc(ts, [x == high for x in tl]), balanced_accuracy([high if s >= best else low for s in ts], tl)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", required=True, help="a reward judge (a reward-model folder, or a judge that ships one)"
    )
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--split", default="test")
    parser.add_argument("--fit", default="train", help="split the classification direction and threshold come from")
    parser.add_argument("--per-task", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    specs = {name: spec for name, (spec, _) in registered().items()}
    judge = Judge.load(args.model, device="cpu")
    test = rows(args.mixture, args.split, args.per_task, args.seed)
    start = time.perf_counter()
    point: list[tuple[str, int, float, float]] = []
    clf: list[tuple[str, int, float, float, float, float]] = []
    fit_rows = rows(args.mixture, args.fit, args.per_task, args.seed)
    for task, items in test.items():
        kind = specs[task].task_type
        gold = [g for _, _, g in items]
        if kind == "pointwise":
            score = rewards(judge, items, specs)
            point.append(
                (
                    task,
                    len(items),
                    spearman(score, [float(g) for g in gold]),
                    spearman(words(items), [float(g) for g in gold]),
                )
            )
        elif fit_rows.get(task):
            fit = fit_rows[task]
            got = classify((rewards(judge, fit, specs), [g for *_, g in fit]), (rewards(judge, items, specs), gold))
            by_length = classify((words(fit), [g for *_, g in fit]), (words(items), gold))
            if got is not None and by_length is not None:
                clf.append((task, len(items), *got, *by_length))
        print(f"{task}: done ({time.perf_counter() - start:.0f} s)", flush=True)
    print(f"\n{judge.name} ({judge.fingerprint}), {args.split} split, {args.per_task} rows per task\n")
    print("| pointwise task | n | Spearman (reward) | Spearman (length) |\n|---|---|---|---|")
    for task, n, s, ls in point:
        print(f"| {task} | {n} | {s:.3f} | {ls:.3f} |")
    total = sum(n for _, n, *_ in point)
    print(
        f"| **overall (example-weighted)** | {total} | {sum(n * s for _, n, s, _ in point) / total:.3f} | "
        f"{sum(n * ls for _, n, _, ls in point) / total:.3f} |"
    )
    print(
        "\n| classification task | n | ROC-AUC (reward) | bal. acc. (reward) | ROC-AUC (length) | bal. acc. (length) |"
    )
    print("|---|---|---|---|---|---|")
    for task, n, auc, bal, lauc, lbal in clf:
        print(f"| {task} | {n} | {auc:.3f} | {bal:.3f} | {lauc:.3f} | {lbal:.3f} |")
    total = sum(n for _, n, *_ in clf)
    means = [sum(n * values[k] for _, n, *values in clf) / total for k in range(4)]
    print(f"| **overall (example-weighted)** | {total} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
