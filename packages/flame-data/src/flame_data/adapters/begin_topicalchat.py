"""BEGIN, Topical-Chat subset: the same attribution labels as `begin`, kept as its own dataset
because its license (CDLA-Sharing-1.0, share-alike) differs from the other subsets."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification_spec
from flame_data.adapters.begin import BEGIN
from flame_data.registry import register
from flame_data.schema import Example


@register
class BEGINTopicalChat(Adapter):
    name = "begin_topicalchat"
    title = "BEGIN: attribution of knowledge-grounded dialogue responses (Topical-Chat)"
    homepage = "https://github.com/google/BEGIN-dataset"
    license = "CDLA-Sharing-1.0"
    tasks = (
        classification_spec(
            "begin_topicalchat/attribution",
            BEGIN.tasks[0].definition,
            BEGIN.tasks[0].instructions,
            labels=BEGIN.tasks[0].outputs[0].labels,
            category="factuality",
            license="CDLA-Sharing-1.0",
            source="https://github.com/google/BEGIN-dataset",
        ),
    )
    folder = "begin"

    def read(self, directory: Path) -> Iterator[Row]:
        path = directory / "topicalchat" / "begin_dev_tc.tsv"
        for where, data in readers.table(path, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield Row(f"topicalchat/{where}", data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        for example in BEGIN().convert(row):
            if isinstance(example, Skip):
                yield Skip(self.tasks[0].name, example.reason)
            elif isinstance(example, Example):  # BEGIN's rows are not grouped: never Rejected
                yield Example(self.tasks[0].name, example.inputs, example.target, example.metadata)
