"""Auto-J pairwise test set: humans labelled which of two responses to a prompt is better, or a tie,
across 58 real-world scenarios."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

WINNER = {0: "first", 1: "second", 2: "tie"}


@register
class AutoJ(Adapter):
    name = "autoj_pairwise_test"
    title = "Auto-J pairwise response comparison (human labels)"
    homepage = "https://github.com/GAIR-NLP/auto-j"
    license = "none"
    tasks = (
        pairwise_spec(
            "autoj_pairwise_test/overall",
            "Compare two responses to a user query and decide which is better, or whether they tie.",
            "Annotators compared the responses on the criteria that matter for the query's scenario (for "
            "example accuracy for questions, faithfulness for summaries, harmlessness for risky requests).",
            tie=True,
            category="general",
            license="none",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "testdata_pairwise.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        label = get(row, "label", int)
        if label not in WINNER:
            raise RowError(f"expected 0, 1 or 2, got {label}", field="label")
        a, b = get(row, "response 1", str).strip(), get(row, "response 2", str).strip()
        if a == b:
            yield Skip(self.tasks[0].name, "identical responses")
            return
        yield pairwise(
            self.tasks[0].name,
            [("query", text(row, "prompt"))],
            a,
            b,
            WINNER[label],  # type: ignore[arg-type]
            scenario=get(row, "scenario", str, optional=True),
        )
