"""FED (Mehri & Eskenazi 2020): five annotators rated system and human turns (turn level) and whole
conversations (dialog level) with Meena, Mitsuku and humans on many qualities. Ratings given as
"N/A (...)" strings are treated as missing; the mean of the rest is used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pointwise, pointwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/Shikib/fed"
TURN = {
    "Interesting": ((0, 2), "Is the response dull or interesting?"),
    "Engaging": ((0, 2), "Is the response engaging?"),
    "Specific": ((0, 2), "Is the response generic or specific to the conversation?"),
    "Relevant": ((0, 2), "Is the response relevant to the conversation?"),
    "Correct": ((0, 2), "Is the response correct or was there a misunderstanding of the conversation?"),
    "Semantically appropriate": ((0, 2), "Is the response semantically appropriate?"),
    "Understandable": ((0, 1), "Is the response understandable?"),
    "Fluent": ((0, 2), "Is the response fluently written?"),
    "Overall": ((0, 4), "Overall impression of the response."),
}
DIALOG = {
    "Coherent": (
        (0, 2),
        "Throughout the dialog, is the system coherent and maintaining a good conversation flow?",
    ),
    "Error recovery": ((0, 2), "Is the system able to recover from errors that it makes?"),
    "Consistent": (
        (0, 1),
        "Is the system consistent in the information it provides throughout the conversation?",
    ),
    "Diverse": ((0, 2), "Is there diversity in the system's responses?"),
    "Depth": ((0, 2), "Does the system discuss topics in depth?"),
    "Likeable": ((0, 2), "Does the system display a likeable personality?"),
    "Understanding": ((0, 2), "Does the system understand the user well?"),
    "Flexible": ((0, 2), "Is the system flexible and adaptable to the user and their interests?"),
    "Informative": ((0, 2), "Is the system informative throughout the conversation?"),
    "Inquisitive": ((0, 2), "Is the system inquisitive throughout the conversation?"),
    "Overall": ((0, 4), "Overall impression of the dialog."),
}


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def _specs() -> tuple:
    specs = []
    for level, table, what in (
        ("turn", TURN, "the system's last response"),
        ("dialog", DIALOG, "the system in the whole dialog"),
    ):
        for quality, (scale, question) in table.items():
            specs.append(
                pointwise_spec(
                    f"fed/{level}_{_slug(quality)}",
                    f"Read a conversation between a user and a system and rate {what} for {quality.lower()} on a scale "
                    f"from {scale[0]} to {scale[1]}.",
                    question,
                    scale=scale,
                    category="general",
                    license="none",
                    source=HOMEPAGE,
                )
            )
    return tuple(specs)


@register
class FED(Adapter):
    name = "fed"
    title = "FED: fine-grained evaluation of dialog"
    homepage = HOMEPAGE
    license = "none"
    tasks = _specs()

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "fed_data.json"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        context = text(row, "context")
        response = get(row, "response", str, optional=True)
        level, table = ("turn", TURN) if response is not None else ("dialog", DIALOG)
        inputs = [("conversation", context)] + ([("response", response)] if response is not None else [])
        annotations = get(row, "annotations", dict)
        for quality, (scale, _) in table.items():
            task = f"fed/{level}_{_slug(quality)}"
            values = annotations.get(quality)
            if not isinstance(values, list):
                yield Skip(task, "quality not annotated")
                continue
            numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            if any(not (isinstance(v, str) and v.startswith("N/A")) for v in values if v not in numbers):
                raise RowError(f"unexpected rating in {values!r}", field=quality)
            if not numbers:
                yield Skip(task, "every rating is N/A")
                continue
            mean = sum(numbers) / len(numbers)
            if not scale[0] <= mean <= scale[1]:
                raise RowError(f"mean {mean} is outside {scale}", field=quality)
            yield pointwise(task, inputs, mean, scale=scale, group=context, raters=len(numbers))
