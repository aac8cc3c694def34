"""Probe: pointwise heads compared on rater features already read, without reading them again.

For each judge's rater head (and its reward head, where it reads the same layers), the Spearman of
the expected score with the human score per pointwise task, the mean over tasks (as `flame eval`'s
summary) and the mean log-loss of the gold label, beside the response-length feature of the rows:

    uv run python tools/probes/rater_dev.py --features runs/heads/features/rater-dev-pw48 \\
        --judges packages/flame-judge/src/flame_judge/judges/flame-smol runs/heads/pw-both

Features must be read with `flame rater features` (length feature on, as it always is); a head
fitted with --no-length reads them without that last column.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import torch

from flame_data.registry import tasks as registered
from flame_data.schema import TaskSpec
from flame_judge.metrics import spearman
from flame_judge.rater import RaterHead
from flame_judge.reward import HEAD_FILE, RewardHead
from flame_train.rater import RowFeatures, merge_rows, read_rows

Scorer = Callable[[TaskSpec, torch.Tensor, list[int]], tuple[torch.Tensor, float | None]]


def by_task(rows: RowFeatures) -> dict[str, list[int]]:
    specs = {n: s for n, (s, _) in registered().items()}
    out: dict[str, list[int]] = {}
    for i, task in enumerate(rows.tasks):
        if specs[task].task_type == "pointwise":
            out.setdefault(task, []).append(i)
    return out


def rater_scorer(head: RaterHead, rows: RowFeatures) -> Scorer:
    def score(spec: TaskSpec, x: torch.Tensor, idx: list[int]) -> tuple[torch.Tensor, float | None]:
        logp = head.log_probs(spec, x if head.config.features.length_feature else x[:, :-1])
        labels = spec.outputs[0].labels
        expected = (logp.exp() * torch.tensor([float(v) for v in labels], dtype=torch.float64)).sum(1)
        gold = torch.tensor([labels.index(rows.manifest["gold"][i]) for i in idx])
        return expected, -float(logp.gather(1, gold[:, None]).sum())

    return score


def reward_scorer(head: RewardHead) -> Scorer:
    return lambda _spec, x, _idx: (head(x if head.config.length_feature else x[:, :-1]), None)


def main() -> None:
    parser = argparse.ArgumentParser(description="pointwise heads compared on rater features already read")
    parser.add_argument("--features", nargs="+", required=True, help="rater features folders (merged)")
    parser.add_argument("--judges", nargs="+", required=True, help="judge folders with a rater head")
    args = parser.parse_args()
    rows = merge_rows([read_rows(d) for d in args.features])
    specs = {n: s for n, (s, _) in registered().items()}
    human = [
        float(h) if h is not None else float(g)
        for h, g in zip(rows.manifest["human_score"], rows.manifest["gold"], strict=True)
    ]
    tasks = by_task(rows)
    scorers: dict[str, Scorer] = {"length": lambda _s, x, _i: (x[:, -1], None)}
    for judge in map(Path, args.judges):
        scorers[judge.name] = rater_scorer(RaterHead.load(judge), rows)
        if (judge / HEAD_FILE).is_file():
            reward = RewardHead.load(judge)
            if reward.config.layers == RaterHead.load(judge).config.features.layers:
                scorers[f"{judge.name}:reward"] = reward_scorer(reward)
    table: dict[str, dict[str, float]] = {}
    print(f"{sum(map(len, tasks.values()))} pointwise rows of {len(tasks)} tasks")
    for name, scorer in scorers.items():
        values, loss, counted = {}, 0.0, 0
        for task, idx in sorted(tasks.items()):
            scores, nll = scorer(specs[task], rows.x[idx], idx)
            values[task] = spearman(scores.tolist(), [human[i] for i in idx])
            if nll is not None:
                loss, counted = loss + nll, counted + len(idx)
        table[name] = values
        finite = [v for v in values.values() if not math.isnan(v)]
        extra = f"  log-loss {loss / counted:.3f}" if counted else ""
        print(f"{name:32s} mean Spearman over tasks {sum(finite) / len(finite):.3f}{extra}")
    print("task".ljust(36) + "".join(n[:12].rjust(13) for n in table))
    for task in sorted(tasks):
        print(task[:36].ljust(36) + "".join(f"{table[n][task]:13.3f}" for n in table))


if __name__ == "__main__":
    main()
