"""`RatingsAdapter`: the common shape of datasets where people rated several responses to one input
on one or more aspects. Each aspect becomes a pointwise task on its own scale and, for aspects
listed in `pairwise_aspects`, a pairwise task over responses to the same input whose mean ratings
differ by at least `min_gap` (the paper does this for HelpSteer and summary comparisons)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from flame_data.adapter import (
    Adapter,
    Rejected,
    Skip,
    pairs_from_scores,
    pairwise_spec,
    parse_members,
    pointwise,
    pointwise_spec,
)
from flame_data.schema import Category, Example, TaskSpec


@dataclass(frozen=True)
class Aspect:
    name: str
    scale: tuple[int, int]
    question: str  # what the raters judged, in the guideline's words
    category: Category = "general"
    min_gap: float = 1.0  # for derived pairs, in scale units


@dataclass(frozen=True)
class Rated:
    """One response and its mean rating per aspect (None = not rated on that aspect)."""

    text: str
    scores: Mapping[str, float | None]


class RatingsAdapter(Adapter):
    aspects: ClassVar[tuple[Aspect, ...]]
    pairwise_aspects: ClassVar[tuple[str, ...]] = ()
    subject: ClassVar[str] = "response"  # how the rated text is labelled in CONTEXT
    task_intro: ClassVar[str]  # e.g. "Read a news article and a summary of it."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "aspects" in cls.__dict__:
            cls.tasks = cls.build_tasks()

    @classmethod
    def build_tasks(cls) -> tuple[TaskSpec, ...]:
        specs = []
        for a in cls.aspects:
            specs.append(
                pointwise_spec(
                    f"{cls.name}/{a.name}",
                    f"{cls.task_intro} Rate the {cls.subject}'s {a.name.replace('_', ' ')} on a scale from "
                    f"{a.scale[0]} (worst) to {a.scale[1]} (best).",
                    a.question,
                    scale=a.scale,
                    category=a.category,
                    license=cls.license,
                    source=cls.homepage,
                )
            )
        for a in cls.aspects:
            if a.name in cls.pairwise_aspects:
                specs.append(
                    pairwise_spec(
                        f"{cls.name}/{a.name}_pairwise",
                        f"{cls.task_intro} Decide which of two {cls.subject}s is better in {a.name.replace('_', ' ')}.",
                        a.question,
                        category=a.category,
                        license=cls.license,
                        source=cls.homepage,
                    )
                )
        return tuple(specs)

    def parse(self, row: Any) -> tuple[Sequence[tuple[str, str]], Sequence[Rated]]:
        """(shared context fields, rated responses) of one raw row; RowError if malformed.

        Grouped datasets (one record per rated response) define `parse_member` instead."""
        raise NotImplementedError

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        """For a grouped row: one record's context fields and rated response; RowError if malformed."""
        raise NotImplementedError

    def convert(self, row: Any) -> Iterator[Example | Skip | Rejected]:
        if type(self).parse_member is RatingsAdapter.parse_member:
            context, rated = self.parse(row)
        else:
            # One record per rated response: a bad record is rejected alone; the context is the first
            # good record's (a group is every record about one input).
            members = yield from parse_members(row, self.parse_member)
            if not members:
                return
            context, rated = members[0][0], [r for _, r in members]
        yield from self._examples(context, rated)

    def _examples(self, context: Sequence[tuple[str, str]], rated: Sequence[Rated]) -> Iterator[Example | Skip]:
        group = "\n".join(v for _, v in context)
        for a in self.aspects:
            task = f"{self.name}/{a.name}"
            scored = []
            for r in rated:
                score = r.scores.get(a.name)
                if score is None:
                    yield Skip(task, "not rated on this aspect")
                    continue
                scored.append((r.text, score))
                yield pointwise(task, [*context, (self.subject, r.text)], score, scale=a.scale, group=group)
            if a.name in self.pairwise_aspects:
                yield from pairs_from_scores(
                    f"{task}_pairwise",
                    context,
                    scored,
                    min_gap=a.min_gap,
                    labels=(f"{self.subject} A", f"{self.subject} B"),
                    group=group,
                )
