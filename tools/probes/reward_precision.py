"""Probe: how far do reward-head verdicts move between bf16-autocast and fp32 features?

The shipped head was fitted on features read under bf16 autocast; judging now reads them in fp32
(batch-invariant). This scores the same pairwise items of a built mixture both ways and prints the
largest change of P(A better), how many verdicts flip, and the agreement with people of each.

    uv run python tools/probes/reward_precision.py --mixture mix --split dev --per-task 2
"""

from __future__ import annotations

import argparse
import time

import torch

from flame_judge import Judge
from flame_judge.benchmark import load_mixture_items
from flame_judge.metrics import pairwise_accuracy
from flame_judge.reward import prob_a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--per-task", type=int, default=2)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    judge = Judge.load(args.model, cache=False, eager=True)
    if judge.reward is None:
        raise SystemExit(f"{judge.name} has no reward head")
    items = load_mixture_items(args.mixture, split=args.split, per_task=args.per_task, task_types=["pairwise"])
    queries = [q for i in items for q in judge.reward.prepare(i.spec, i.fields)]
    probs = {}
    for name, autocast in (("fp32", False), ("bf16 autocast", True)):
        start = time.perf_counter()
        with torch.autocast(judge.backend.loaded.device.type, dtype=torch.bfloat16, enabled=autocast):
            rewards = judge.reward.score(queries)
        probs[name] = [prob_a(rewards[2 * k], rewards[2 * k + 1]) for k in range(len(items))]
        print(f"{name}: {len(queries)} responses in {time.perf_counter() - start:.0f} s")
    gold = [i.gold for i in items]
    fp32, bf16 = probs["fp32"], probs["bf16 autocast"]
    flips = sum((a > 0.5) != (b > 0.5) for a, b in zip(fp32, bf16, strict=True))
    print(f"{len(items)} pairs from {len({i.subset for i in items})} tasks ({args.split} split)")
    print(f"max |P(A) fp32 - P(A) bf16| = {max(abs(a - b) for a, b in zip(fp32, bf16, strict=True)):.4f}")
    print(f"mean |difference| = {sum(abs(a - b) for a, b in zip(fp32, bf16, strict=True)) / len(items):.4f}")
    print(f"verdicts that flip: {flips} / {len(items)}")
    for name, p in probs.items():
        print(f"agreement with people, {name}: {pairwise_accuracy(p, p, gold):.3f}")


if __name__ == "__main__":
    main()
