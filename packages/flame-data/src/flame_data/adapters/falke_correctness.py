"""Falke et al. 2019: crowd majority judgments of summary-sentence correctness on CNN/DM. Only
val_sentence_pairs.json is self-contained (source sentence, a correct and an incorrect summary
sentence); the other files hold article hashes without article text and yield nothing here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, pairwise, pairwise_spec, text
from flame_data.registry import register
from flame_data.schema import Example


@register
class FalkeCorrectness(Adapter):
    name = "falke_correctness"
    title = "Falke et al. summary correctness (sentence pairs)"
    homepage = "https://github.com/W4ngatang/qags"
    license = "CC-BY-SA-4.0"
    tasks = (
        pairwise_spec(
            "falke_correctness/faithful_sentence",
            "Read a sentence from a news article and two summary sentences derived from it, and decide which "
            "summary sentence is correct, that is, supported by the article sentence.",
            "An incorrect sentence changes or adds facts (wrong entity, negation, changed relation).",
            category="factuality",
            license="CC-BY-SA-4.0",
            source="https://github.com/W4ngatang/qags",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "val_sentence_pairs.json"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        yield pairwise(
            self.tasks[0].name,
            [("article sentence", text(row, "article_sent"))],
            text(row, "correct_sent").strip(),
            text(row, "incorrect_sent").strip(),
            "first",
            labels=("summary sentence A", "summary sentence B"),
        )
