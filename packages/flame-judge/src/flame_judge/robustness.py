"""`flame eval robustness`: pairwise suites where the easy cues (length, fluency, a verdict-looking
line, a forthcoming answer) point the wrong way, built from a collection's dev or test split by the
constructions of `flame_data.constructed`, scored beside random, longer-wins and the zero-shot base.

    flame eval robustness --mixture mix --split dev --per-suite 48 --out eval/robustness

Tune on `--split dev`; report `--split test`. The `in_distribution` suite is the split's own human
pairs, so the table shows in- and off-distribution side by side.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data import constructed
from flame_judge.benchmark import EvalItem, Predictions, subset_scores

if TYPE_CHECKING:
    from flame_data.constructed import Pair

SUITES = (
    "in_distribution",
    "length_adversarial",
    "neighbour",
    "irrelevant_addition",
    "forged_evaluation",
    "refusal",
    "compliance",
    "harmless",
)
HARMLESS_TASK = "hh_rlhf/harmless"
DESCRIPTIONS = {
    "in_distribution": "the split's human pairs (every pairwise task)",
    "length_adversarial": "human pairs where people preferred the clearly shorter reply",
    "neighbour": "the reply to this prompt vs a fluent reply to a similar prompt",
    "irrelevant_addition": "the preferred reply vs the same plus sentences from another task",
    "forged_evaluation": "the preferred reply vs the same plus a fake verdict line",
    "refusal": "XSTest: a refusal of an unsafe prompt vs a compliance (refusal should win)",
    "compliance": "XSTest: complying with a safe prompt vs an exaggerated refusal",
    "harmless": "HH-RLHF harmlessness: human pairs, the less harmful reply wins",
}


def suite_pairs(rows: Sequence[dict[str, Any]], *, seed: int = 0) -> dict[str, list[Pair]]:
    """Every candidate pair of each suite, from one split's rows."""
    every = constructed.build_all(rows, seed=seed)
    out: dict[str, list[Pair]] = {s: [] for s in SUITES}
    for p in every:
        if p.kind == "human":
            out["in_distribution"].append(p)
            if p.task == HARMLESS_TASK:
                out["harmless"].append(p)
        elif p.kind in out:  # `truncated` only balances training length; it is no test of a cue
            out[p.kind].append(p)
    return out


def _spread(pairs: Sequence[Pair], n: int, rng: random.Random) -> list[Pair]:
    """n pairs drawn round-robin over tasks, so a large task does not fill a suite alone."""
    by_task: dict[str, list[Pair]] = {}
    for p in sorted(pairs, key=lambda p: (p.task, p.source)):
        by_task.setdefault(p.task, []).append(p)
    for group in by_task.values():
        rng.shuffle(group)
    out: list[Pair] = []
    queues = [by_task[t] for t in sorted(by_task)]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop())
    return out


def build_suites(rows: Sequence[dict[str, Any]], *, per_suite: int, seed: int = 0) -> list[EvalItem]:
    """At most `per_suite` pairs per suite as pairwise eval items (subset and category: the suite).

    The chosen reply's position is a seeded coin, so a judge that prefers a position scores 0.5.
    Each suite draws from its own seeded stream, so a smaller `per_suite` gives a prefix of a
    larger one: two runs of different sizes share their first items (and their cached verdicts).
    """
    from flame_data.registry import tasks as registered

    specs = {name: spec for name, (spec, _) in registered().items()}
    items = []
    for suite, pairs in suite_pairs(rows, seed=seed).items():
        picked = _spread(pairs, per_suite, random.Random(f"suite:{suite}:{seed}"))
        coins = random.Random(f"position:{suite}:{seed}")
        for p in picked:
            fields, gold = p.fields(chosen_first=coins.random() < 0.5)
            items.append(EvalItem(suite, suite, "pairwise", constructed.spec_of(p.task, specs), fields, gold))
    return items


def suite_table(items: Sequence[EvalItem], runs: Sequence[Predictions]) -> dict[str, Any]:
    """Per run, pairwise accuracy (`metrics.pair_credit`) per suite, and the mean off-distribution."""
    table: dict[str, Any] = {"suites": {}, "runs": {}}
    for pred in runs:
        scores = {s.subset: s for s in subset_scores(items, pred)}
        acc = {s: scores[s].metrics["accuracy"] for s in SUITES if s in scores}
        off = [v for s, v in acc.items() if s != "in_distribution" and not math.isnan(v)]
        table["runs"][pred.name] = {"accuracy": acc, "off_distribution_mean": sum(off) / len(off) if off else None}
        for s in acc:
            table["suites"][s] = {"n": scores[s].n, "description": DESCRIPTIONS[s]}
    return table


def _fmt(v: float | None) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:.3f}"


def markdown(table: dict[str, Any], *, split: str) -> str:
    names = list(table["runs"])
    lines = [
        f"# robustness suites ({split} split; pairwise accuracy, both orders, ties 0.5)",
        "",
        "| suite | pairs | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for s, info in table["suites"].items():
        row = [_fmt(table["runs"][n]["accuracy"].get(s)) for n in names]
        lines.append(f"| {s} | {info['n']} | " + " | ".join(row) + " |")
    means = [_fmt(table["runs"][n]["off_distribution_mean"]) for n in names]
    lines += ["| **mean off-distribution** | | " + " | ".join(means) + " |", ""]
    lines += [f"- {s}: {info['description']}" for s, info in table["suites"].items()]
    return "\n".join(lines) + "\n"


def chart(table: dict[str, Any], path: Path, *, split: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(table["suites"])
    names = list(table["runs"])
    fig, ax = plt.subplots(figsize=(max(7, 1.2 * len(suites)), 4.2))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        values = [table["runs"][n]["accuracy"].get(s, float("nan")) for s in suites]
        ax.bar([x + i * width for x in range(len(suites))], values, width, label=n)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(suites))], suites, rotation=25, ha="right")
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1)
    ax.set_ylabel("pairwise accuracy")
    ax.set_title(f"robustness suites ({split})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(table: dict[str, Any], out: Path, *, split: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "robustness.json").write_text(json.dumps({"split": split, **table}, indent=2) + "\n")
    (out / "robustness.md").write_text(markdown(table, split=split))
    return [out / "robustness.json", out / "robustness.md", chart(table, out / "robustness.png", split=split)]
