"""Tail-patch mixture optimization (FLAMe-Opt-RM): from a partially trained checkpoint, fine-tune a
short "tail patch" on each candidate task alone, measure the patch's effect on a target dev set per
capability category, rate each task (helpful +2, somewhat helpful +1, no effect 0, harmful -1),
group tasks into bundles and write a weighted mixture.

    flame tailpatch --checkpoint runs/flame/step-000500 --set mixture=mix --out opt_rates.json \\
        --set max_steps=20 --set batch_size=8
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from flame_train.config import TrainConfig
from flame_train.data import load_rates, load_split
from flame_train.errors import ConfigError

RATINGS = {2: "helpful", 1: "somewhat helpful", 0: "no effect", -1: "harmful"}


@dataclass(frozen=True)
class Thresholds:
    """Change in target accuracy (absolute) that earns each rating."""

    helpful: float = 0.02
    somewhat: float = 0.005
    harmful: float = -0.005

    def rate(self, delta: float) -> int:
        if math.isnan(delta):
            return 0
        if delta >= self.helpful:
            return 2
        if delta >= self.somewhat:
            return 1
        if delta <= self.harmful:
            return -1
        return 0


@dataclass(frozen=True)
class BundleWeights:
    """Mixture weight multipliers per bundle, as in the paper's FLAMe-Opt-RM recipe."""

    general: float = 4.0  # helpful (>= +1) in every target category
    category: float = 2.0  # helpful (+2) in at least one category, never harmful
    other: float = 1.0  # neither helpful nor harmful
    harmful: float = 0.0  # harmful in most categories


@dataclass
class TailPatchReport:
    checkpoint: str
    categories: list[str]
    baseline: dict[str, float]
    deltas: dict[str, dict[str, float]] = field(default_factory=dict)
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)
    bundles: dict[str, str] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)


def bundle_of(ratings: dict[str, int]) -> str:
    values = list(ratings.values())
    if values and sum(v == -1 for v in values) > len(values) / 2:
        return "harmful"
    if values and all(v >= 1 for v in values):
        return "general"
    if any(v == 2 for v in values) and all(v >= 0 for v in values):
        return "category"
    return "other"


def score_checkpoint(checkpoint: str, rows: Sequence[dict[str, Any]], max_length: int) -> dict[str, float]:
    """Pairwise accuracy (both orders, `flame_judge.metrics`) per category of a checkpoint reloaded
    from disk, its whole chain of bases merged."""
    from flame_judge.loading import load
    from flame_judge.scoring import GenerativeBackend
    from flame_train.dev import category_accuracy

    backend = GenerativeBackend(load(checkpoint, device="auto", eager=True), max_input_tokens=max_length)
    return category_accuracy(backend, rows)


def patch_config(base: TrainConfig, checkpoint: str, task: str, output_dir: str) -> TrainConfig:
    """The tail patch of `task`: `base`'s options, from `checkpoint`, on `task` alone, no periodic
    evaluation or checkpoints. An `encoded` file of the whole mixture serves one task as well."""
    return replace(
        base, init_checkpoint=checkpoint, tasks=[task], output_dir=output_dir, eval_every=0, save_every=0, rates=None
    )


def run_tailpatch(
    checkpoint: str,
    base: TrainConfig,
    *,
    candidates: Sequence[str] = (),
    target_tasks: Sequence[str] = (),
    thresholds: Thresholds = Thresholds(),
    weights: BundleWeights = BundleWeights(),
    log: Callable[[str], None] = print,
) -> TailPatchReport:
    """Rate every candidate task by its tail patch's effect on the target dev rows."""
    from flame_train.trainer import Trainer

    dev = load_split(base.mixture, "dev", target_tasks)
    targets = [r for r in dev if r["task_type"] == "pairwise"]
    per_task: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(targets, key=lambda r: r["id"]):
        if len(per_task.setdefault(r["task"], [])) < base.eval_examples_per_task:
            per_task[r["task"]].append(r)
    rows = [r for rs in per_task.values() for r in rs]
    if not rows:
        raise ConfigError("no pairwise dev rows to measure tail patches on; check target_tasks and the mixture")
    train_tasks = sorted({r["task"] for r in load_split(base.mixture, "train")})
    candidates = list(candidates) or train_tasks
    baseline = score_checkpoint(checkpoint, rows, base.max_length)
    report = TailPatchReport(checkpoint, sorted(baseline), baseline)
    log(f"baseline {checkpoint}: {json.dumps(baseline)}")
    for task in candidates:
        with tempfile.TemporaryDirectory() as out:
            result = Trainer(patch_config(base, checkpoint, task, out), log=lambda s: None).train(final_eval=False)
            scores = score_checkpoint(result["checkpoint"], rows, base.max_length)
        report.deltas[task] = {c: scores.get(c, math.nan) - baseline[c] for c in baseline}
        report.ratings[task] = {c: thresholds.rate(d) for c, d in report.deltas[task].items()}
        report.bundles[task] = bundle_of(report.ratings[task])
        log(f"{task}: {report.bundles[task]} {json.dumps(report.ratings[task])}")
    mixture_rates = load_rates(base.mixture, None, train_tasks)
    bundle_weight = asdict(weights)
    raw = {t: mixture_rates.get(t, 0.0) * bundle_weight[report.bundles.get(t, "other")] for t in train_tasks}
    total = sum(raw.values())
    if total <= 0:
        raise ConfigError("every task was rated harmful or has no examples; no mixture to write")
    report.rates = {t: v / total for t, v in sorted(raw.items()) if v > 0}
    return report


def write_report(report: TailPatchReport, out: Path) -> None:
    """`out`: {"rates": ...} usable as `flame train --set rates=out`; the full report beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rates": report.rates}, indent=2) + "\n")
    out.with_suffix(".report.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
