"""FELM: experts split ChatGPT responses (world knowledge, science, writing, reasoning, math) into
segments and labelled each factually correct or not, with a comment on each error. A response is
factual when all its segments are. License CC BY-NC-SA 4.0: excluded by the default filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/hkust-nlp/felm"


@register
class FELM(Adapter):
    name = "felm_factuality"
    title = "FELM segment-level factuality labels on ChatGPT responses"
    homepage = HOMEPAGE
    license = "CC-BY-NC-SA-4.0"
    tasks = (
        classification_spec(
            "felm_factuality/response_factual",
            "Read a prompt and a model response and decide whether the response is free of factual errors. "
            "If not, explain the error.",
            "Experts checked every claim or reasoning step against references; any false segment makes the "
            "response non-factual.",
            labels=("yes", "no"),
            explanation=True,
            category="factuality",
            license="CC-BY-NC-SA-4.0",
            source=HOMEPAGE,
        ),
        classification_spec(
            "felm_factuality/segment_factual",
            "Read a prompt, a model response and one segment of it, and decide whether that segment is "
            "factually correct.",
            "Judge the segment against world knowledge and the earlier reasoning of the response.",
            labels=("yes", "no"),
            category="factuality",
            license="CC-BY-NC-SA-4.0",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "all.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        prompt, response = text(row, "prompt"), text(row, "response")
        segments, labels = get(row, "segmented_response", list), get(row, "labels", list)
        comments = get(row, "comment", list, optional=True) or [""] * len(labels)
        if len(segments) != len(labels) or not all(isinstance(x, bool) for x in labels):
            raise RowError(f"expected one true/false label per segment ({len(segments)})", field="labels")
        errors = [str(c) for c, ok in zip(comments, labels, strict=False) if not ok and c]
        explanation = "No factual errors." if all(labels) else ("; ".join(errors) or "A segment is factually wrong.")
        yield classification(
            self.tasks[0].name,
            [("prompt", prompt), ("response", response)],
            "yes" if all(labels) else "no",
            explanation=explanation,
            domain=row.get("domain"),
        )
        for segment, ok in zip(segments, labels, strict=True):
            yield classification(
                self.tasks[1].name,
                [("prompt", prompt), ("response", response), ("segment", str(segment))],
                "yes" if ok else "no",
                group=prompt,
            )
