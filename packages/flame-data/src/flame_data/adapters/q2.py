"""Q2 (Honovich et al.): responses of two dialogue systems (DodecaDialogue, MemNet) on Wizard of
Wikipedia, annotated as factually consistent or not with the knowledge sentence. The per-system
files are used; cross_annotation.csv repeats 300 of their rows per system and is not read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.registry import register
from flame_data.schema import Example

FILES = {
    "dodeca_consistent.csv": "yes",
    "dodeca_inconsistent.csv": "no",
    "memnet_consistent.csv": "yes",
    "memnet_inconsistent.csv": "no",
}


@register
class Q2(Adapter):
    name = "q2"
    title = "Q2 factual consistency annotations of knowledge-grounded dialogue"
    homepage = "https://github.com/orhonovich/q-squared"
    license = "MIT"
    tasks = (
        classification_spec(
            "q2/consistency",
            "Read a knowledge sentence, the user's message and a system response, and decide whether the "
            "response is factually consistent with the knowledge.",
            "Inconsistent responses state facts that the knowledge contradicts or does not support.",
            labels=("yes", "no"),
            category="factuality",
            license="MIT",
            source="https://github.com/orhonovich/q-squared",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for file, label in FILES.items():
            for where, data in readers.table(directory / file):
                yield Row(where, {"label": label, **data})

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        inputs = [
            ("knowledge", text(row, "knowledge")),
            ("message", get(row, "message", str)),
            ("response", text(row, "response")),
        ]
        yield classification(self.tasks[0].name, inputs, get(row, "label", str), topic=row.get("topic"))
