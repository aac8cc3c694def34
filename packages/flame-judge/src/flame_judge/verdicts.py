"""Frozen verdicts returned by every judge kind (generative or reward-style)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

# generative: label-token probabilities; reward: each response scored alone (pairwise); head: a rater
# head on the model's hidden states gives the pointwise or classification distribution.
JudgeKind = Literal["generative", "reward", "head"]


def frozen_mapping(values: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class PairwiseVerdict:
    """Which of two responses is better.

    A generative judge reads both presentation orders: `prob_a` = mean(`prob_a_first`,
    `prob_a_second`), P(A better) when A is shown first and 1 - P(B better) when B is shown first;
    `order_consistent` says both orders picked the same side. A reward judge (`kind == "reward"`)
    scores each response alone and compares the rewards, so it has no order: both fields hold the
    same P(A better) and `order_consistent` is true by construction (unless P is exactly 0.5).
    """

    winner: Literal["A", "B", "tie"]
    prob_a: float
    prob_a_first: float
    prob_a_second: float
    prompt: str
    a: str
    b: str
    criteria: str | None
    model: str
    fingerprint: str
    kind: JudgeKind
    cached: bool
    truncated: tuple[str, ...] = ()  # input fields cut to fit the judge's token budget ("response A", ...)

    @property
    def prob_b(self) -> float:
        return 1.0 - self.prob_a

    @property
    def order_consistent(self) -> bool:
        return (self.prob_a_first - 0.5) * (self.prob_a_second - 0.5) > 0

    @property
    def order_gap(self) -> float:
        """How far the two orders disagree (0 = identical, 1 = opposite certainties)."""
        return abs(self.prob_a_first - self.prob_a_second)


@dataclass(frozen=True)
class PointwiseVerdict:
    """A score on `scale`: the expectation over the label distribution, plus that distribution."""

    score: float
    distribution: Mapping[str, float]
    scale: tuple[int, int]
    prompt: str
    response: str
    criteria: str | None
    model: str
    fingerprint: str
    kind: JudgeKind
    cached: bool
    truncated: tuple[str, ...] = ()  # input fields cut to fit the judge's token budget

    @property
    def most_likely(self) -> int:
        return int(max(self.distribution, key=lambda k: self.distribution[k]))


@dataclass(frozen=True)
class ClassificationVerdict:
    """The most probable label and the probability of each label (normalized over the label set)."""

    label: str
    probabilities: Mapping[str, float] = field(default_factory=dict)
    context: str = ""
    response: str = ""
    criteria: str | None = None
    model: str = ""
    fingerprint: str = ""
    kind: JudgeKind = "generative"
    cached: bool = False
    truncated: tuple[str, ...] = ()  # input fields cut to fit the judge's token budget

    @property
    def confidence(self) -> float:
        return self.probabilities[self.label]


Verdict = PairwiseVerdict | PointwiseVerdict | ClassificationVerdict


def to_dict(verdict: Verdict) -> dict[str, object]:
    """A JSON-ready dict of a verdict's fields (mappings as plain dicts) and derived values."""
    out: dict[str, object] = {}
    for name in verdict.__dataclass_fields__:
        value = getattr(verdict, name)
        out[name] = dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple) else value
    if isinstance(verdict, PairwiseVerdict):
        out["order_consistent"] = verdict.order_consistent
    if isinstance(verdict, PointwiseVerdict):
        out["most_likely"] = verdict.most_likely
    return out
