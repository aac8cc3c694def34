"""Reward-model training throughput (tokens/s), three ways side by side in one run, on the same pairs:

    nice -n 10 uv run python tools/bench/reward_model_throughput.py --mixture mix --steps 4

1. LoRA on every layer (backward through the whole stack), the plain end-to-end recipe;
2. LoRA on the top `--top` layers, the frozen lower layers run forward only (no gradient), first epoch;
3. the same, reading the lower layers' states from the on-disk cache (every later epoch).

Each variant trains `--steps` steps of `--batch` pairs; the first step is excluded (warm-up).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from flame_data.constructed import read_split
from flame_train.reward_model import RewardModelConfig, RewardTrainer


def rate(trainer: RewardTrainer, steps: int) -> float:
    stamps, tokens = [], []
    for _ in range(steps):
        trainer.train_step()
        stamps.append(time.perf_counter())
        tokens.append(trainer.tokens_seen)
    return (tokens[-1] - tokens[0]) / (stamps[-1] - stamps[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    keep = ("hh_rlhf/helpful", "summeval/relevance_pairwise", "conala_code_human_grades/usefulness_pairwise")
    rows = [r for r in read_split(args.mixture, "train") if r["task"] in keep]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = RewardModelConfig(
            mixture=args.mixture,
            output_dir=f"{tmp}/all",
            batch_pairs=args.batch,
            threads=args.threads,
            per_task=40,
            neighbour=0,
            distractor=0,
            safety_repeat=0,
            generic_share=0.0,
        )
        full = RewardTrainer(dataclasses.replace(base, top_layers=30, cache_lower=False), rows=rows, log=print)
        results["LoRA on all 30 layers"] = rate(full, args.steps)
        del full
        top = RewardTrainer(
            dataclasses.replace(base, output_dir=f"{tmp}/top", top_layers=args.top), rows=rows, log=print
        )
        results[f"top {args.top} layers, lower forward only"] = rate(top, args.steps)
        top.step = 0  # the same pairs again: every lower state now comes from the cache
        results[f"top {args.top} layers, lower states cached"] = rate(top, args.steps)
    first = next(iter(results.values()))
    print(f"\n{args.steps - 1} timed steps of {args.batch} pairs each (both responses), bf16 autocast {base.bf16}")
    print("| variant | tokens/s | vs all layers |\n|---|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value:.0f} | {value / first:.2f}x |")


if __name__ == "__main__":
    main()
