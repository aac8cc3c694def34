"""HANNA: three MTurk raters scored 1,056 stories written for WritingPrompts prompts (10 systems and
the human story per prompt) on six criteria, 1-5; the mirror keeps the mean of the three."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


@register
class HANNA(RatingsAdapter):
    name = "hanna"
    title = "HANNA human ratings of generated stories"
    homepage = "https://github.com/dig-team/hanna-benchmark-asg"
    license = "MIT"
    subject = "story"
    task_intro = "Read a writing prompt and a short story written for it."
    aspects = (
        Aspect("relevance", (1, 5), "Relevance: how well the story matches its prompt."),
        Aspect("coherence", (1, 5), "Coherence: how much the story makes sense."),
        Aspect("empathy", (1, 5), "Empathy: how well the reader understood the characters' emotions."),
        Aspect("surprise", (1, 5), "Surprise: how surprising the end of the story was."),
        Aspect("engagement", (1, 5), "Engagement: how much the reader engaged with the story."),
        Aspect("complexity", (1, 5), "Complexity: how elaborate the story is."),
    )
    pairwise_aspects = ("coherence", "engagement")

    def read(self, directory: Path) -> Iterator[Row]:
        for where, members, wheres in readers.grouped(
            readers.jsonl(directory / "hanna_stories_avg.jsonl"), "prompt_id"
        ):
            yield Row(where, members, wheres)

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        rated = Rated(
            text(item, "story").strip(),
            {a.name: number(get(item, a.name, (int, float)), a.name, low=1, high=5) for a in self.aspects},
        )
        return [("prompt", text(item, "prompt"))], rated
