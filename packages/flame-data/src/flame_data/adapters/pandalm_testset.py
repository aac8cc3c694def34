"""PandaLM test set: three annotators each compared two responses to a user-oriented instruction
(1 = response 1 better, 2 = response 2 better, 0 = tie); the majority is the label."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, Vote, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

WINNER = {"1": "first", "2": "second", "0": "tie"}


@register
class PandaLM(Adapter):
    name = "pandalm_testset"
    title = "PandaLM human-annotated test set"
    homepage = "https://github.com/WeOpenML/PandaLM"
    license = "Apache-2.0"
    tasks = (
        pairwise_spec(
            "pandalm_testset/overall",
            "Compare two responses to an instruction and decide which is better, or whether they are of "
            "similar quality.",
            "Annotators judged correctness, helpfulness, conciseness and adherence to the instruction; answer "
            "tie when neither response is clearly better.",
            tie=True,
            category="general",
            license="Apache-2.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "testset-v1.json"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        instruction = text(row, "instruction")
        extra = get(row, "input", str, optional=True) or ""
        votes = []
        for key in ("annotator1", "annotator2", "annotator3"):
            value = get(row, key, (int, str))
            if str(value) not in WINNER:
                raise RowError(f"expected 0, 1 or 2, got {value!r}", field=key)
            votes.append(str(value))
        vote = Vote(votes)
        task = self.tasks[0].name
        if vote.majority is None:
            yield Skip(task, "the three annotators disagree")
            return
        context = [("instruction", instruction)] + ([("input", extra)] if extra.strip() else [])
        a, b = get(row, "response1", str).strip(), get(row, "response2", str).strip()
        if a == b:
            yield Skip(task, "identical responses")
            return
        yield pairwise(task, context, a, b, WINNER[vote.majority], agreement=vote.agreement)  # type: ignore[arg-type]
