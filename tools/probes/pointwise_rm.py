"""Probe: how a reward model trained on pointwise pairs (`flame reward train --set
pointwise_per_task=N`) ranks pointwise rows, beside response length, per task.

Each row is rendered as the trainer rendered it (the task's own template or, with --generic, the
judge's `judge.pointwise` template; cut as the label path cuts it) and scored alone; the table is
the Spearman of the reward with the human score per task and the mean over tasks, as
`tools/probes/rater_dev.py` reports the rater heads on the same rows:

    flame reward export runs/pw1 --out runs/pw1/judge --name flame-pw
    uv run python tools/probes/pointwise_rm.py --model runs/pw1/judge --base flame-smol \\
        --mixture mix --split dev --per-task 48 16 --seed 5 0
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from transformers import AutoModelForSequenceClassification

from flame_data.registry import tasks as registered
from flame_judge.loading import load
from flame_judge.metrics import spearman
from flame_judge.reward import RewardView
from flame_train.rater import Row, rater_rows, row_input


def sample(mixture: str, split: str, per_task: list[int], seeds: list[int]) -> list[Row]:
    """The union of rater_rows draws (distinct ids), as the rater dev features were read."""
    seen: dict[str, Row] = {}
    for n, seed in zip(per_task, seeds, strict=True):
        for row in rater_rows(mixture, split, per_task=n, seed=seed, task_types=("pointwise",)):
            seen.setdefault(row.id, row)
    return list(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description="a pointwise-pair reward model's Spearman per task, beside length")
    parser.add_argument("--model", required=True, help="an exported reward model folder (flame reward export)")
    parser.add_argument("--base", default="flame-smol", help="the model spec the run trained over (its tokenizer)")
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--per-task", type=int, nargs="+", default=[48])
    parser.add_argument("--seed", type=int, nargs="+", default=[5])
    parser.add_argument("--max-input-tokens", type=int, default=384)
    parser.add_argument("--generic", action="store_true", help="render with the judge's own pointwise template")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = sample(args.mixture, args.split, args.per_task, args.seed)
    specs = {n: s for n, (s, _) in registered().items()}
    view = RewardView(load(args.base, device="cpu"), args.max_input_tokens)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, dtype=torch.float32).eval()
    tasks: dict[str, list[tuple[float, float, float]]] = {}
    started = time.monotonic()
    with torch.no_grad():
        for row in rows:
            row = Row(row.id, row.task, row.fields, row.gold, row.human_score, generic=args.generic)
            ids = view.label_input(*row_input(row, specs[row.task]))
            reward = float(model(input_ids=torch.tensor([ids])).logits[0, 0])
            human = row.human_score if row.human_score is not None else float(row.gold)
            tasks.setdefault(row.task, []).append((reward, float(view.tokens(row.fields[-1][1])), human))
    spent = time.monotonic() - started
    print(f"{len(rows)} {args.split} rows of {len(tasks)} pointwise tasks, scored in {spent:.0f} s")
    print(f"{'task':40s}{'rows':>6s}{'reward':>9s}{'length':>9s}")
    table = {}
    for task, values in sorted(tasks.items()):
        r, n, h = zip(*values, strict=True)
        table[task] = (spearman(r, h), spearman(n, h))
        print(f"{task[:40]:40s}{len(values):6d}{table[task][0]:9.3f}{table[task][1]:9.3f}")
    for col, name in ((0, "reward"), (1, "length")):
        finite = [v[col] for v in table.values() if not math.isnan(v[col])]
        print(f"mean Spearman over tasks, {name}: {sum(finite) / len(finite):.3f}")


if __name__ == "__main__":
    main()
