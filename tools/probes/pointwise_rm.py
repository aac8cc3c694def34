"""Probe: how a reward model trained on pointwise pairs (`flame reward train --set
pointwise_per_task=N`) ranks pointwise items, beside response length, on the very items and with
the very metrics of `flame eval --mixture M --split S --task-types pointwise --per-task N`
(`benchmark.load_mixture_items`, `subset_scores`, `by_category`), so its numbers sit beside a judge's.

Each item is rendered as the trainer rendered it (the task's own template, or with --generic the
judge's `judge.pointwise` template; cut as the label path cuts it) and scored alone:

    flame reward export runs/pw1 --out runs/pw1/judge --name flame-pw
    uv run python tools/probes/pointwise_rm.py --model runs/pw1/judge --base flame-smol \\
        --mixture mix --split dev --per-task 48
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification

from flame_judge.benchmark import EvalItem, Predictions, baseline_longer, by_category, load_mixture_items, subset_scores
from flame_judge.loading import load
from flame_judge.reward import RewardView
from flame_train.rater import Row, row_input


def main() -> None:
    parser = argparse.ArgumentParser(description="a pointwise-pair reward model's Spearman per task, beside length")
    parser.add_argument("--model", required=True, help="an exported reward model folder (flame reward export)")
    parser.add_argument("--base", default="flame-smol", help="the model spec the run trained over (its tokenizer)")
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--per-task", type=int, default=64)
    parser.add_argument("--max-input-tokens", type=int, help="default: the run's own, from the export's flame.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--generic", action="store_true", help="render with the judge's own pointwise template")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    meta = json.loads((Path(args.model) / "flame.json").read_text())
    budget = args.max_input_tokens or int(meta["reward_model"]["max_input_tokens"])
    items = load_mixture_items(args.mixture, split=args.split, per_task=args.per_task, task_types=("pointwise",))
    view = RewardView(load(args.base, device="cpu"), budget)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, dtype=torch.float32).eval()
    reward = Predictions("reward model")
    started = time.monotonic()
    with torch.no_grad():
        for item in items:
            row = Row("", item.subset, item.fields, item.gold, item.human_score, generic=args.generic)
            ids = view.label_input(*row_input(row, item.spec))
            reward.score.append(float(model(input_ids=torch.tensor([ids])).logits[0, 0]))
    for key in ("pair_credit", "prob_a", "consistent", "label", "label_probs"):
        getattr(reward, key).extend([None] * len(items))
    spent = time.monotonic() - started
    print(f"{len(items)} {args.split} items of the pointwise tasks ({args.per_task} per task), scored in {spent:.0f} s")
    columns = {"reward model": subset_scores(items, reward), "length": subset_scores(items, baseline_longer(items))}
    print(f"{'task':40s}{'items':>6s}" + "".join(f"{name:>14s}" for name in columns))
    for i, first in enumerate(columns["reward model"]):
        cells = "".join(f"{scores[i].headline:14.3f}" for scores in columns.values())
        print(f"{first.subset[:40]:40s}{first.n:6d}{cells}")
    for name, scores in columns.items():
        cats = by_category(scores, "pointwise")
        print(f"Spearman by category ({name}, example-weighted): " + ", ".join(f"{k} {v:.3f}" for k, v in cats.items()))
    lengths = [float(len(item.fields[-1][1])) for item in items]
    for name, values in (("reward model", [float(v or 0.0) for v in reward.score]), ("length", lengths)):
        right, n = within_context(items, values)
        share = f"{right / n:.3f}" if n else "n/a"
        print(f"within one context ({n} pairs of items that share it, scores differ): {name} orders {share}")


def within_context(items: list[EvalItem], values: list[float]) -> tuple[float, int]:
    """Credit over item pairs of one task with the same context and different human scores: what the
    training pairs were (ties in `values` count half)."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault((item.subset, item.fields[:-1]), []).append(i)
    right, n = 0.0, 0
    for idx in groups.values():
        for k, i in enumerate(idx):
            for j in idx[k + 1 :]:
                hi, hj = human(items[i]), human(items[j])
                if hi == hj:
                    continue
                n += 1
                right += 0.5 if values[i] == values[j] else float((values[i] > values[j]) == (hi > hj))
    return right, n


def human(item: EvalItem) -> float:
    return item.human_score if item.human_score is not None else float(item.gold)


if __name__ == "__main__":
    main()
