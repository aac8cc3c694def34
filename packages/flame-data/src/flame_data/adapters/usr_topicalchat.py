"""USR Topical-Chat (as packaged by UniEval): three annotators rated six responses per dialogue
context, given a grounding fact, on six qualities; the package keeps their mean."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


@register
class USRTopicalChat(RatingsAdapter):
    name = "usr_topicalchat"
    title = "USR Topical-Chat human ratings"
    homepage = "https://github.com/Shikib/usr"
    license = "MIT"
    subject = "response"
    task_intro = "Read a dialogue, a fact the next response may draw on, and a candidate next response."
    aspects = (
        Aspect(
            "understandability",
            (0, 1),
            "Understandable: is the response understandable in the context of the history?",
        ),
        Aspect("naturalness", (1, 3), "Natural: is the response naturally written, as a person would say it?"),
        Aspect(
            "coherence",
            (1, 3),
            "Maintains context: does the response serve as a valid continuation of the conversation?",
        ),
        Aspect("engagingness", (1, 3), "Engaging: is the response dull or interesting?"),
        Aspect(
            "groundedness",
            (0, 1),
            "Uses knowledge: given the fact, does the response use it correctly?",
            category="factuality",
        ),
        Aspect("overall", (1, 5), "Overall: the overall impression of the response."),
    )
    pairwise_aspects = ("overall",)

    def read(self, directory: Path) -> Iterator[Row]:
        for where, members, wheres in readers.grouped(readers.json_records(directory / "topical_chat.json"), "source"):
            yield Row(where, members, wheres)

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        context = [
            ("dialogue", text(item, "source").strip()),
            ("fact", get(item, "context", str).strip()),
        ]
        scores = get(item, "scores", dict)
        rated = Rated(
            text(item, "system_output").strip(),
            {a.name: number(scores.get(a.name), a.name, low=a.scale[0], high=a.scale[1]) for a in self.aspects},
        )
        return context, rated
