"""BEGIN (Dziri et al.): annotators labelled responses of knowledge-grounded dialogue systems (WoW,
CMU-DoG, Topical-Chat) as fully attributable to the knowledge, not fully attributable, or generic.
The TopicalChat subset is CDLA-Sharing-1.0 (share-alike); the others are CC BY 4.0."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

LABELS = {
    "Fully attributable": "attributable",
    "Not fully attributable": "not attributable",
    "Generic": "generic",
}
FILES = ("wow/begin_dev_wow.tsv", "wow/begin_test_wow.tsv", "cmu-dog/begin_dev_cmu.tsv")


@register
class BEGIN(Adapter):
    name = "begin"
    title = "BEGIN: attribution of knowledge-grounded dialogue responses (WoW, CMU-DoG)"
    homepage = "https://github.com/google/BEGIN-dataset"
    license = "CC-BY-4.0"
    tasks = (
        classification_spec(
            "begin/attribution",
            "Read a knowledge snippet, the previous dialogue turn and a response, and decide whether the "
            "response is fully attributable to the knowledge, not fully attributable, or generic.",
            "Fully attributable: all of the response's factual content is supported by the knowledge. Not fully "
            "attributable: it states something the knowledge does not support. Generic: it has no factual content.",
            labels=("attributable", "not attributable", "generic"),
            category="factuality",
            license="CC-BY-4.0",
            source="https://github.com/google/BEGIN-dataset",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        # TopicalChat's subset is CDLA-Sharing-1.0; it is read by `begin_topicalchat` so the license filter sees it.
        for file in FILES:
            for where, data in readers.table(directory / file, delimiter="\t", quoting=csv.QUOTE_NONE):
                yield Row(f"{file.split('/')[0]}/{where}", data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        label = get(row, "begin_label", str).strip()
        if label not in LABELS:
            raise RowError(f"expected one of {sorted(LABELS)}, got {label!r}", field="begin_label")
        inputs = [
            ("knowledge", text(row, "knowledge")),
            ("previous turn", get(row, "message", str)),
            ("response", text(row, "response")),
        ]
        yield classification(self.tasks[0].name, inputs, LABELS[label], model=row.get("model_name"))
