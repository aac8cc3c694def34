"""SummEval expert annotations: three experts rated 16 system summaries of each of 100 CNN/DM
articles on coherence, consistency, fluency and relevance (1-5; the mirror keeps their mean)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


@register
class SummEval(RatingsAdapter):
    name = "summeval"
    title = "SummEval expert ratings of CNN/DM summaries"
    homepage = "https://github.com/Yale-LILY/SummEval"
    license = "MIT"
    subject = "summary"
    task_intro = "Read a news article and a summary of it."
    aspects = (
        Aspect(
            "coherence",
            (1, 5),
            "Coherence: the summary is well structured and organized, building from "
            "sentence to sentence into a coherent body of information about the topic, not a heap of facts.",
        ),
        Aspect(
            "consistency",
            (1, 5),
            "Consistency: the summary states only facts that are supported by the "
            "article; penalize any hallucinated or contradicted fact.",
            category="factuality",
        ),
        Aspect(
            "fluency",
            (1, 5),
            "Fluency: the summary's sentences are well formed, free of grammar, spelling "
            "and formatting problems that hinder reading.",
        ),
        Aspect(
            "relevance",
            (1, 5),
            "Relevance: the summary keeps the important content of the article and "
            "leaves out redundant or unimportant information.",
        ),
    )
    pairwise_aspects = ("coherence", "consistency", "fluency", "relevance")

    def read(self, directory: Path) -> Iterator[Row]:
        for where, members, wheres in readers.grouped(
            readers.jsonl(directory / "summeval_expert_avg.jsonl.gz"), "article_id"
        ):
            yield Row(where, members, wheres)

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        article = text(item, "article")
        scores = {a.name: number(get(item, a.name, (int, float)), a.name, low=1, high=5) for a in self.aspects}
        return [("article", article)], Rated(text(item, "summary").strip(), scores)
