"""DialSummEval: three annotators rated 14 summaries (13 systems and the reference) of each of 100
SAMSum dialogues on consistency, relevance, fluency and coherence (1-5); the mean is used. The
SAMSum dialogues are CC BY-NC-ND, so this dataset is excluded by the default license filter."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.errors import RowError
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


@register
class DialSummEval(RatingsAdapter):
    name = "dialsummeval"
    title = "DialSummEval human judgments of SAMSum summaries"
    homepage = "https://github.com/kite99520/DialSummEval"
    license = "CC-BY-NC-ND-4.0"
    subject = "summary"
    task_intro = "Read a chat dialogue and a summary of it."
    aspects = (
        Aspect(
            "consistency",
            (1, 5),
            "Consistency: the facts in the summary are consistent with the dialogue.",
            category="factuality",
        ),
        Aspect("relevance", (1, 5), "Relevance: the summary selects the important content of the dialogue."),
        Aspect("fluency", (1, 5), "Fluency: the summary's sentences are well formed."),
        Aspect("coherence", (1, 5), "Coherence: the summary is well structured and organized."),
    )
    pairwise_aspects = ("consistency", "relevance")

    def read(self, directory: Path) -> Iterator[Row]:
        for where, members, wheres in readers.grouped(readers.jsonl(directory / "human_judgment.jsonl"), "id"):
            yield Row(where, members, wheres)

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        dialogue = "\n".join(t.strip() for t in text(item, "dialogue").split("|") if t.strip())
        votes = get(item, "annotations", list)
        if not votes or not all(isinstance(v, dict) for v in votes):
            raise RowError("expected a list of rating objects", field="annotations")
        scores = {
            a.name: sum(number(v.get(a.name), a.name, low=1, high=5) for v in votes) / len(votes) for a in self.aspects
        }
        return [("dialogue", dialogue)], Rated(text(item, "summary").strip(), scores)
