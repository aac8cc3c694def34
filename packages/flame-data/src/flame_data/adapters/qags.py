"""QAGS (Wang et al., 2020): three MTurk workers judged whether each summary sentence (CNN/DM
Bottom-Up, XSum BART) is supported by the article; the majority of three is the label."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, Vote, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example


@register
class QAGS(Adapter):
    name = "qags"
    title = "QAGS factual-consistency annotations (CNN/DM, XSum)"
    homepage = "https://github.com/W4ngatang/qags"
    license = "none"
    tasks = (
        classification_spec(
            "qags/consistency",
            "Read a news article and one sentence of a summary of it, and decide whether the sentence is "
            "supported by the article.",
            "Answer yes only if all the information in the sentence can be found in or inferred from the article.",
            labels=("yes", "no"),
            category="factuality",
            license="none",
            source="https://github.com/W4ngatang/qags",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for file in ("mturk_cnndm.jsonl", "mturk_xsum.jsonl"):
            for where, data in readers.jsonl(directory / file):
                yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        article = text(row, "article")
        for sentence in get(row, "summary_sentences", list):
            responses = get(sentence, "responses", list)
            votes = [get(r, "response", str).strip().lower() for r in responses]
            if not votes or any(v not in ("yes", "no") for v in votes):
                raise RowError(f"expected yes/no responses, got {votes}", field="responses")
            vote = Vote(votes)
            if vote.majority is None:
                yield Skip(self.tasks[0].name, "annotators split evenly")
                continue
            yield classification(
                self.tasks[0].name,
                [("article", article), ("summary sentence", text(sentence, "sentence"))],
                vote.majority,
                group=article,
                agreement=vote.agreement,
            )
