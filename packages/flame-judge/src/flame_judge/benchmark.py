"""`flame eval`: a judge's agreement with human labels on the collection's test splits or on any
JSONL benchmark, beside baselines scored on the same items (random, longer-response-wins, and the
zero-shot base model), aggregated by capability category as RewardBench does.

Plain JSONL format (one object per line; `subset` and `category` optional):
    {"type": "pairwise", "prompt": ..., "a": ..., "b": ..., "label": "A" | "B" | "tie"}
    {"type": "pointwise", "prompt": ..., "response": ..., "score": 4, "scale": [1, 5], "criteria": ...}
    {"type": "classification", "context": ..., "response": ..., "label": "yes", "labels": ["yes", "no"]}
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data import templates
from flame_data.schema import TaskSpec
from flame_judge.errors import InvalidRequestError
from flame_judge.metrics import (
    balanced_accuracy,
    calibration,
    ece_noise,
    kendall_tau_b,
    pair_credit,
    pearson,
    roc_auc,
    spearman,
)

if TYPE_CHECKING:
    from flame_judge.judge import Judge


@dataclass(frozen=True)
class EvalItem:
    """One labelled item; `fields` are the task's labelled inputs (pairwise: the two responses last)."""

    subset: str
    category: str
    task_type: str
    spec: TaskSpec
    fields: tuple[tuple[str, str], ...]
    gold: str  # pairwise A/B/tie, classification label, pointwise the human score as text
    human_score: float | None = None


@dataclass
class Predictions:
    """Per item, what a judge (or baseline) said."""

    name: str
    pair_credit: list[float | None] = field(default_factory=list)  # 1 / 0.5 / 0 (None: tie gold or not pairwise)
    prob_a: list[float | None] = field(default_factory=list)  # pairwise: both-order P(A better)
    consistent: list[bool | None] = field(default_factory=list)
    score: list[float | None] = field(default_factory=list)  # pointwise
    label: list[str | None] = field(default_factory=list)  # classification
    label_probs: list[dict[str, float] | None] = field(default_factory=list)


def load_mixture_items(
    mixture: str | Path,
    *,
    split: str = "test",
    tasks: Sequence[str] = (),
    per_task: int = 256,
    seed: int = 0,
    task_types: Sequence[str] = (),
) -> list[EvalItem]:
    """A seeded sample of at most `per_task` items per task from a built mixture's split.

    `task_types` filters after sampling, so the items kept are exactly those a full run scores.
    """
    try:
        from datasets import load_from_disk
    except ImportError as exc:
        raise InvalidRequestError("reading a mixture needs datasets: pip install 'flame-judge[eval]'") from exc
    from flame_data.registry import tasks as registered

    specs = {name: spec for name, (spec, _) in registered().items()}
    data: Any = load_from_disk(str(Path(mixture) / "data"))[split]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in data.to_list():
        if (not tasks or row["task"] in tasks) and row["task_type"] != "open_ended":
            by_task.setdefault(row["task"], []).append(row)
    rng = random.Random(seed)
    items = []
    for task in sorted(by_task):
        rows = sorted(by_task[task], key=lambda r: r["id"])
        for row in rng.sample(rows, min(per_task, len(rows))):
            if task_types and row["task_type"] not in task_types:
                continue
            gold = json.loads(row["target_fields"])[0][1]
            human = json.loads(row["metadata"]).get("human_score")
            items.append(
                EvalItem(
                    task,
                    row["category"],
                    row["task_type"],
                    specs[task],
                    tuple((f[0], f[1]) for f in json.loads(row["fields"])),
                    gold,
                    float(human) if human is not None else (float(gold) if row["task_type"] == "pointwise" else None),
                )
            )
    return items


def load_jsonl_items(path: str | Path) -> tuple[list[EvalItem], list[dict[str, Any]]]:
    """(items, rejects with line numbers and reasons) from a plain JSONL benchmark file."""
    items, rejects = [], []
    name = Path(path).stem
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                items.append(_item(json.loads(line), name))
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                rejects.append({"file": str(path), "line": number, "error": reason})
    return items, rejects


def _text(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    return value


def _item(row: Any, default_subset: str) -> EvalItem:
    if not isinstance(row, dict):
        raise ValueError(f"a row must be a JSON object, got {type(row).__name__}")
    kind, subset = row.get("type"), str(row.get("subset", default_subset))
    category = str(row.get("category", "general"))
    if kind == "pairwise":
        label = row["label"]
        if label not in ("A", "B", "tie"):
            raise ValueError(f"field 'label' must be A, B or tie, got {label!r}")
        spec = templates.pairwise_task(row.get("criteria"))
        fields = templates.pairwise_inputs(_text(row, "prompt"), _text(row, "a"), _text(row, "b"))
        return EvalItem(subset, category, "pairwise", spec, fields, label)
    if kind == "pointwise":
        scale = tuple(row.get("scale", (1, 5)))
        score = row["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or not scale[0] <= score <= scale[1]:
            raise ValueError(f"field 'score' must be a number within {list(scale)}, got {score!r}")
        spec = templates.pointwise_task(row.get("criteria"), (int(scale[0]), int(scale[1])))
        fields = templates.pointwise_inputs(_text(row, "prompt"), _text(row, "response"))
        return EvalItem(subset, category, "pointwise", spec, fields, str(score), float(score))
    if kind == "classification":
        labels = tuple(row.get("labels", ("yes", "no")))
        if row["label"] not in labels:
            raise ValueError(f"field 'label' {row['label']!r} is not one of {list(labels)}")
        spec = templates.classification_task(labels, row.get("criteria"))
        fields = templates.classification_inputs(_text(row, "context"), _text(row, "response"))
        return EvalItem(subset, category, "classification", spec, fields, row["label"])
    raise ValueError(f"field 'type' must be pairwise, pointwise or classification, got {kind!r}")


def _swapped(fields: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    (la, a), (lb, b) = fields[-2], fields[-1]
    return (*fields[:-2], (la, b), (lb, a))


def judge_items(
    judge: Judge, items: Sequence[EvalItem], *, name: str, batch: int = 64, progress: bool = True
) -> Predictions:
    """Score every item (pairwise: both orders for a generative judge, each response alone for a reward
    judge), in batches so the cache keeps finished work."""
    from tqdm import tqdm

    out = Predictions(name)
    bar = tqdm(total=len(items), desc=f"judging ({name})", unit="item", disable=not progress)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        pairs = iter(judge.pair_probs([(i.spec, i.fields) for i in chunk if i.task_type == "pairwise"]))
        others = [(i.spec, i.fields) for i in chunk if i.task_type != "pairwise"]
        dists = iter([d for d, _ in judge.distributions(others)])
        for item in chunk:
            if item.task_type == "pairwise":
                a1, a2, _ = next(pairs)
                _pairwise(out, item, a1, a2)
                continue
            first = next(dists)
            if item.task_type == "pointwise":
                _blank(out, score=sum(float(k) * p for k, p in first.items()), label_probs=first)
            else:
                _blank(out, label=max(first, key=first.__getitem__), label_probs=first)
        bar.update(len(chunk))
    bar.close()
    return out


def _blank(out: Predictions, **values: Any) -> None:
    for key in ("pair_credit", "prob_a", "consistent", "score", "label", "label_probs"):
        getattr(out, key).append(values.get(key))


def _pairwise(out: Predictions, item: EvalItem, a_first: float, a_second: float) -> None:
    """Credit by `metrics.pair_credit` (both orders, ties 0.5)."""
    pick1, pick2 = ("A" if a_first > 0.5 else "B"), ("A" if a_second > 0.5 else "B")
    credit = pair_credit(a_first, a_second, item.gold)
    _blank(out, pair_credit=credit, prob_a=(a_first + a_second) / 2, consistent=pick1 == pick2)


def baseline_random(items: Sequence[EvalItem], seed: int = 0) -> Predictions:
    rng = random.Random(seed)
    out = Predictions("random")
    for item in items:
        if item.task_type == "pairwise":
            p = rng.random()
            _pairwise(out, item, p, p)
        elif item.task_type == "pointwise":
            _blank(out, score=rng.random())
        else:
            labels = item.spec.outputs[0].labels
            probs = [rng.random() for _ in labels]
            dist = {k: v / sum(probs) for k, v in zip(labels, probs, strict=True)}
            _blank(out, label=max(dist, key=dist.__getitem__), label_probs=dist)
    return out


def baseline_longer(items: Sequence[EvalItem]) -> Predictions:
    """The longer response wins; pointwise: length as the score; classification: the majority label."""
    out = Predictions("longer wins")
    majority: dict[str, str] = {}
    for subset in {i.subset for i in items if i.task_type == "classification"}:
        golds = [i.gold for i in items if i.subset == subset]
        majority[subset] = max(set(golds), key=golds.count)
    for item in items:
        if item.task_type == "pairwise":
            la, lb = len(item.fields[-2][1]), len(item.fields[-1][1])
            p = 0.5 if la == lb else float(la > lb)
            _pairwise(out, item, p, p)
        elif item.task_type == "pointwise":
            _blank(out, score=float(len(item.fields[-1][1])))
        else:
            labels = item.spec.outputs[0].labels
            dist = {k: float(k == majority[item.subset]) for k in labels}
            _blank(out, label=majority[item.subset], label_probs=dist)
    return out


# -- metrics ----------------------------------------------------------------------------------------


@dataclass
class SubsetScore:
    subset: str
    category: str
    task_type: str
    n: int
    metrics: dict[str, float]

    @property
    def headline(self) -> float:
        key = {"pairwise": "accuracy", "pointwise": "spearman", "classification": "balanced_accuracy"}[self.task_type]
        return self.metrics[key]


def subset_scores(items: Sequence[EvalItem], pred: Predictions) -> list[SubsetScore]:
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item.subset, []).append(i)
    out = []
    for subset, idx in sorted(groups.items()):
        first = items[idx[0]]
        m: dict[str, float] = {}
        if first.task_type == "pairwise":
            credits = [pred.pair_credit[i] for i in idx if pred.pair_credit[i] is not None]
            m["accuracy"] = sum(c for c in credits if c is not None) / len(credits) if credits else float("nan")
            m["order_consistency"] = sum(bool(pred.consistent[i]) for i in idx) / len(idx)
            n = len(credits)
        elif first.task_type == "pointwise":
            x = [float(pred.score[i] or 0.0) for i in idx]
            y = [float(items[i].human_score or 0.0) for i in idx]
            m.update(spearman=spearman(x, y), kendall=kendall_tau_b(x, y), pearson=pearson(x, y))
            n = len(idx)
        else:
            gold = [items[i].gold for i in idx]
            m["balanced_accuracy"] = balanced_accuracy([str(pred.label[i]) for i in idx], gold)
            first_label = first.spec.outputs[0].labels[0]
            probs = [(pred.label_probs[i] or {}).get(first_label, 0.0) for i in idx]
            m["roc_auc"] = roc_auc(probs, [g == first_label for g in gold])
            n = len(idx)
        out.append(SubsetScore(subset, first.category, first.task_type, n, m))
    return out


def by_category(scores: Sequence[SubsetScore], task_type: str) -> dict[str, float]:
    """Example-count-weighted average of subset headline scores per category, plus 'overall'."""
    cats: dict[str, list[tuple[float, int]]] = {}
    for s in scores:
        if s.task_type == task_type and not math.isnan(s.headline) and s.n:
            cats.setdefault(s.category, []).append((s.headline, s.n))
    out = {c: sum(v * n for v, n in vs) / sum(n for _, n in vs) for c, vs in sorted(cats.items())}
    every = [v for vs in cats.values() for v in vs]
    if every:
        out["overall"] = sum(v * n for v, n in every) / sum(n for _, n in every)
    return out


Confidences = tuple[list[float], list[bool]]
"""Per verdict: the probability of the judge's verdict, and whether that verdict was right."""


def pairwise_confidence(items: Sequence[EvalItem], pred: Predictions) -> Confidences:
    conf, correct = [], []
    for item, p in zip(items, pred.prob_a, strict=True):
        if item.task_type != "pairwise" or item.gold == "tie" or p is None:
            continue
        conf.append(max(p, 1 - p))
        correct.append(("A" if p >= 0.5 else "B") == item.gold)
    return conf, correct


def classification_confidence(items: Sequence[EvalItem], pred: Predictions) -> Confidences:
    """The most probable label: right when it is the gold label."""
    conf, correct = [], []
    for item, label, probs in zip(items, pred.label, pred.label_probs, strict=True):
        if item.task_type != "classification" or not probs or label is None:
            continue
        conf.append(max(probs.values()))
        correct.append(label == item.gold)
    return conf, correct


def pointwise_confidence(items: Sequence[EvalItem], pred: Predictions) -> Confidences:
    """The most probable score: right when it is a scale label nearest the human score (which may fall
    between labels, as an average of raters does). A run without a distribution (the baselines) has
    none."""
    conf, correct = [], []
    for item, probs in zip(items, pred.label_probs, strict=True):
        if item.task_type != "pointwise" or not probs:
            continue
        human = item.human_score if item.human_score is not None else float(item.gold)
        gap = {label: abs(float(label) - human) for label in probs}
        top = max(probs, key=probs.__getitem__)
        conf.append(probs[top])
        correct.append(gap[top] == min(gap.values()))
    return conf, correct


CONFIDENCE = {
    "pairwise": pairwise_confidence,
    "pointwise": pointwise_confidence,
    "classification": classification_confidence,
}


@dataclass(frozen=True)
class VerdictCalibration:
    ece: float
    bins: list[tuple[float, float, int]]  # (mean confidence, accuracy, count) per non-empty bin
    noise: tuple[float, float]  # metrics.ece_noise: a calibrated judge's ECE on these items (mean, 95th pct)


def verdict_calibration(task_type: str, items: Sequence[EvalItem], pred: Predictions) -> VerdictCalibration:
    """ECE of one verdict type's run, its reliability bins and its sampling noise (nan and no bins
    where the run gives no probabilities for that type)."""
    conf, correct = CONFIDENCE[task_type](items, pred)
    if not conf:
        return VerdictCalibration(float("nan"), [], (float("nan"), float("nan")))
    ece, bins = calibration(conf, correct)
    return VerdictCalibration(ece, bins, ece_noise(conf))
