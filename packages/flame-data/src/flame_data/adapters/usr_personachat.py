"""USR PersonaChat: three annotators rated five responses (two human, three model) per dialogue
context on six qualities; the mean over annotators is used."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.errors import RowError
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register

KEYS = {
    "understandable": "Understandable",
    "natural": "Natural",
    "maintains_context": "Maintains Context",
    "engaging": "Engaging",
    "uses_knowledge": "Uses Knowledge",
    "overall": "Overall",
}


def mean_rating(values: Any, key: str, low: int, high: int) -> float:
    if not isinstance(values, list) or not values:
        raise RowError("expected a list of annotator ratings", field=key)
    return sum(number(v, key, low=low, high=high) for v in values) / len(values)


@register
class USRPersonaChat(RatingsAdapter):
    name = "usr_personachat"
    title = "USR PersonaChat human ratings"
    homepage = "https://github.com/Shikib/usr"
    license = "none"
    subject = "response"
    task_intro = "Read a dialogue, the speaker's persona facts and a candidate next response."
    aspects = (
        Aspect(
            "understandable",
            (0, 1),
            "Understandable: is the response understandable in the context of the history?",
        ),
        Aspect("natural", (1, 3), "Natural: is the response naturally written, as a person would say it?"),
        Aspect(
            "maintains_context",
            (1, 3),
            "Maintains context: does the response serve as a valid continuation of the conversation?",
        ),
        Aspect("engaging", (1, 3), "Engaging: is the response dull or interesting?"),
        Aspect(
            "uses_knowledge",
            (0, 1),
            "Uses knowledge: given the persona facts, does the response use them?",
            category="factuality",
        ),
        Aspect("overall", (1, 5), "Overall: the overall impression of the response.", min_gap=1.0),
    )
    pairwise_aspects = ("overall",)

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "pc_usr_data.json"):
            yield Row(where, data)

    def parse(self, row: Any) -> tuple[Sequence[tuple[str, str]], Sequence[Rated]]:
        context = [("dialogue", text(row, "context").strip()), ("persona", get(row, "fact", str).strip())]
        rated = []
        for item in get(row, "responses", list):
            scores = {a.name: mean_rating(get(item, KEYS[a.name], list), KEYS[a.name], *a.scale) for a in self.aspects}
            rated.append(Rated(text(item, "response").strip(), scores))
        return context, rated
