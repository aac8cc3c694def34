"""CoBBLEr human ranking study: six crowd annotators each ranked 15 LLM outputs per instruction,
guided by a reference answer. In annot_*.json a higher number means better (SOURCE.md infers this
from model averages; the same order is checked in the tests). The mean rank over annotators gives
the ranking; pairs whose mean ranks differ by at least MIN_GAP become examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairs_from_scores, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

MIN_GAP = 3.0  # of 14 rank positions: pairs closer than this are too close to call


@register
class CoBBLEr(Adapter):
    name = "cobbler_human_rankings"
    title = "CoBBLEr human rankings of 15 LLM outputs"
    homepage = "https://github.com/minnesotanlp/cobbler"
    license = "none"
    tasks = (
        pairwise_spec(
            "cobbler_human_rankings/overall",
            "Read an instruction and a reference answer, then decide which of two model responses is better.",
            "Annotators ranked the responses from best to worst, using the reference answer as a guide to "
            "what a correct, complete answer contains.",
            category="general",
            license="none",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        items = readers.json_file(directory / "outputs_by_model.json")
        annotations = [readers.json_file(directory / f"annot_{k}.json") for k in range(1, 7)]
        if not isinstance(items, list) or any(not isinstance(a, list) or len(a) != len(items) for a in annotations):
            raise RowError(
                "outputs_by_model.json and annot_*.json must be lists of the same length",
                where=directory.name,
            )
        for i, item in enumerate(items):
            yield Row(f"outputs_by_model.json[{i}]", {"item": item, "ranks": [a[i] for a in annotations]})

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        item = get(row, "item", dict)
        instruction, reference = text(item, "instruction"), get(item, "reference", str)
        totals: dict[str, float] = {}
        for ranks in get(row, "ranks", list):
            if not isinstance(ranks, dict) or not all(isinstance(v, int) for v in ranks.values()):
                raise RowError("each annotator's ranks must map model -> integer position", field="ranks")
            for model, position in ranks.items():
                totals[model] = totals.get(model, 0.0) + position
        scored = []
        for model, total in totals.items():
            output = item.get(model)
            if not isinstance(output, str):
                raise RowError(f"no output for ranked model {model!r}", field="item")
            scored.append((output.strip(), total / len(row["ranks"])))
        context = [("instruction", instruction), ("reference answer", reference)]
        yield from pairs_from_scores(self.tasks[0].name, context, scored, min_gap=MIN_GAP)
