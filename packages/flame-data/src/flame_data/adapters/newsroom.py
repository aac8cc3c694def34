"""Newsroom human evaluation: three crowdworkers rated summaries from seven systems for each of 60
articles on coherence, fluency, informativeness and relevance (1-5; the mirror keeps the mean)."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


def _clean(source: str) -> str:
    return html.unescape(source.replace("</p><p>", "\n")).replace("<p>", "").replace("</p>", "").strip()


@register
class Newsroom(RatingsAdapter):
    name = "newsroom"
    title = "Newsroom human evaluation of summaries"
    homepage = "https://github.com/lil-lab/newsroom"
    license = "Apache-2.0"
    subject = "summary"
    task_intro = "Read a news article and a summary of it."
    aspects = (
        Aspect(
            "coherence",
            (1, 5),
            "Coherence: do the phrases and sentences of the summary fit together and make sense collectively?",
        ),
        Aspect(
            "fluency",
            (1, 5),
            "Fluency: are the individual sentences of the summary well written and grammatical?",
        ),
        Aspect(
            "informativeness",
            (1, 5),
            "Informativeness: how well does the summary capture the key points of the article?",
        ),
        Aspect(
            "relevance",
            (1, 5),
            "Relevance: are the details in the summary consistent with the details in the article?",
            category="factuality",
        ),
    )
    pairwise_aspects = ("informativeness",)

    def read(self, directory: Path) -> Iterator[Row]:
        for where, members, wheres in readers.grouped(
            readers.json_records(directory / "newsroom_human_eval.json"), "doc_id"
        ):
            yield Row(where, members, wheres)

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        scores = get(item, "scores", dict)
        rated = Rated(
            text(item, "system_output").strip(),
            {a.name: number(scores.get(a.name), a.name, low=1, high=5) for a in self.aspects},
        )
        return [("article", _clean(text(item, "source")))], rated
