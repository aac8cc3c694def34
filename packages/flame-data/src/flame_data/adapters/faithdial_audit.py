"""FaithDial data audit: BEGIN-style hallucination labels for responses of CTRL, DoHA and GPT-2 and
for the gold responses of WoW, CMU-DoG and Topical-Chat. A response is faithful when labelled
entailment only, hallucinated when any label is (partial) hallucination; generic and
uncooperative responses and unlabelled gold rows are skipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

MODELS = {"CTRL": "ctrl", "DoHA": "doha", "GPT2": "gpt2"}


def verdict(raw: str) -> str | None:
    """'no' if any label is a (partial) hallucination, 'yes' if all are entailment, None otherwise.

    Labels come comma-, semicolon- or period-separated, with spelling variants (entailmentt, hallucinated).
    """
    labels = [x.strip().lower() for x in re.split(r"[,;.]", raw) if x.strip()]
    if not labels:
        return None
    if any(x.startswith("halluc") or x == "partial hallucination" for x in labels):
        return "no"
    if all(x.startswith("entail") for x in labels):
        return "yes"
    if all(x.startswith("entail") or x in ("generic", "uncooperative") for x in labels):
        return None
    raise RowError(f"unknown label {raw!r}", field="label")


@register
class FaithDialAudit(Adapter):
    name = "faithdial_audit"
    title = "FaithDial data audit: hallucination labels in knowledge-grounded dialogue"
    homepage = "https://github.com/McGill-NLP/FaithDial"
    license = "MIT"
    tasks = (
        classification_spec(
            "faithdial_audit/faithfulness",
            "Read a knowledge snippet, the dialogue history and a response, and decide whether the response is "
            "faithful to the knowledge.",
            "Faithful (yes): everything the response states is entailed by the knowledge. Not faithful (no): it "
            "contains information that is not supported by, or contradicts, the knowledge (a hallucination).",
            labels=("yes", "no"),
            category="factuality",
            license="MIT",
            source="https://github.com/McGill-NLP/FaithDial",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for folder, column in MODELS.items():
            for path in sorted((directory / folder).glob("*.csv")):
                for where, data in readers.table(path):
                    yield Row(
                        f"{folder}/{where}",
                        {
                            "knowledge": data.get("knowledge"),
                            "history": data.get("history"),
                            "response": data.get(column),
                            "label": data.get("begin_label"),
                        },
                    )
        for path in sorted((directory / "gold").glob("*.csv")):
            for where, data in readers.table(path):
                yield Row(
                    f"gold/{where}",
                    {
                        "knowledge": data.get("evidence"),
                        "history": data.get("history"),
                        "response": data.get("response"),
                        "label": data.get("BEGIN"),
                    },
                )

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        task = self.tasks[0].name
        label = verdict(get(row, "label", str, optional=True) or "")
        if label is None:
            yield Skip(task, "no faithfulness label (unlabelled, generic or uncooperative)")
            return
        inputs = [
            ("knowledge", text(row, "knowledge")),
            ("history", get(row, "history", str, optional=True) or ""),
            ("response", text(row, "response")),
        ]
        yield classification(task, inputs, label)
