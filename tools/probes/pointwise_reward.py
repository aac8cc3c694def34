"""Does the pairwise reward head rank pointwise responses better than the rater head or length?

Per pointwise item of a mixture's split: the rater head's expected score, the response's length, and
the reward head's P(response better than a fixed refusal) for the same prompt (monotone in the
response's reward, up to the refusal's reward under that prompt); then the mean over tasks of
Spearman against the human scores, and blends rater + w * logit(reward). Choose w on dev, never on
test. Exploration for issue #15 (the rater head's pointwise ranking is near length alone):

    uv run flame data build --out mix --on-error skip
    uv run python tools/probes/pointwise_reward.py --mixture mix --split dev --per-task 16 --seed 1
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from flame_judge.benchmark import judge_items, load_mixture_items
from flame_judge.judge import Judge, PairwiseRequest
from flame_judge.metrics import spearman

REFERENCE = "I cannot help with that."
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _mean_spearman(rows: list[dict], key) -> float:
    by_task: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(r)
    values = [spearman([key(r) for r in rs], [r["human"] for r in rs]) for rs in by_task.values()]
    finite = [v for v in values if v == v]  # a task whose human scores are all equal has none
    return sum(finite) / len(finite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", required=True)
    parser.add_argument("--model", default=None, help="judge (default: the shipped default judge)")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--per-task", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dump", type=Path, help="write the per-item numbers to this JSON file")
    args = parser.parse_args()

    items = load_mixture_items(
        args.mixture, split=args.split, per_task=args.per_task, seed=args.seed, task_types=["pointwise"]
    )
    judge = Judge.load(args.model)
    requests = [PairwiseRequest("\n\n".join(v for _, v in i.fields[:-1]), i.fields[-1][1], REFERENCE) for i in items]
    reward = [v.prob_a for s in range(0, len(requests), 64) for v in judge.pairwise_batch(requests[s : s + 64])]
    rater = judge_items(judge, items, name="rater").score
    rows = [
        {"task": i.subset, "human": i.human_score, "reward": r, "rater": q, "length": len(i.fields[-1][1])}
        for i, r, q in zip(items, reward, rater, strict=True)
    ]
    if args.dump:
        args.dump.write_text(json.dumps(rows) + "\n")
    tasks = len({r["task"] for r in rows})
    print(f"{len(rows)} pointwise {args.split} items of {tasks} tasks; mean over tasks of Spearman vs human:")
    print(f"  length alone                     {_mean_spearman(rows, lambda r: r['length']):.3f}")
    print(f"  reward head (vs a fixed refusal) {_mean_spearman(rows, lambda r: r['reward']):.3f}")
    for w in WEIGHTS:
        name = "rater head" if w == 0 else f"rater + {w:g} * logit(reward)"
        print(f"  {name:<32} {_mean_spearman(rows, lambda r, w=w: r['rater'] + w * _logit(r['reward'])):.3f}")


if __name__ == "__main__":
    main()
