"""Shepherd human feedback: annotators rated model answers to QA and reasoning questions on
justification and on correctness/relevance (1-5) and wrote critiques per error type. CC BY-NC 4.0:
excluded by the default license filter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, open_ended_spec, pointwise, pointwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example, OutputField

HOMEPAGE = "https://github.com/facebookresearch/Shepherd"
JOBS = {
    "justification": (
        "CLASSIFICATION_JOB",
        "Does the answer answer the question in a well-justified manner? 1 = "
        "incomprehensible or wrong, 5 = completely clear and justified.",
    ),
    "correctness": (
        "CLASSIFICATION_JOB_1",
        "Is the answer correct and relevant to the question? 1 = completely irrelevant, 5 = answers the question.",
    ),
}


@register
class Shepherd(Adapter):
    name = "shepherd_human_feedback"
    title = "Shepherd human critiques and ratings of model answers"
    homepage = HOMEPAGE
    license = "CC-BY-NC-4.0"
    tasks = (
        *(
            pointwise_spec(
                f"shepherd_human_feedback/{aspect}",
                f"Read a question, its gold answer and a candidate answer, and rate the candidate's {aspect} "
                "from 1 to 5.",
                question,
                scale=(1, 5),
                category="general",
                license="CC-BY-NC-4.0",
                source=HOMEPAGE,
            )
            for aspect, (_, question) in JOBS.items()
        ),
        open_ended_spec(
            "shepherd_human_feedback/critique",
            "Read a question and a candidate answer, and write a critique that points out the answer's errors.",
            "Name each problem (coherence and deduction, commonsense, arithmetic, veracity, redundancy, "
            "consistency with the context) and say how to fix it.",
            outputs=(OutputField("critique", "free text"),),
            category="general",
            license="CC-BY-NC-4.0",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        feedback = {str(d.get("id")): d for _, d in readers.jsonl(directory / "human_data_for_model.jsonl.gz")}
        for where, data in readers.jsonl(directory / "human_data_raw.jsonl.gz"):
            yield Row(
                where,
                {"raw": data, "flat": feedback.get(str(data.get("id")) if isinstance(data, dict) else "")},
            )

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        raw = get(row, "raw", dict)
        meta = get(raw, "metadata", dict)
        inputs = [
            ("question", text(meta, "context")),
            ("gold answer", get(meta, "output_correct", str)),
            ("candidate answer", text(meta, "output_candidate")),
        ]
        jobs = get(get(raw, "latestLabel", dict), "jsonResponse", dict)
        for aspect, (job, _) in JOBS.items():
            task = f"{self.name}/{aspect}"
            rated = jobs.get(job)
            categories = rated.get("categories") if isinstance(rated, dict) else None
            if not categories:
                yield Skip(task, "not rated")
                continue
            if not isinstance(categories, list) or not isinstance(categories[0], dict):
                raise RowError("expected a list of rating categories", field=job)
            name = str(categories[0].get("name", ""))
            if not (name[:1].isascii() and name[:1].isdigit()):
                raise RowError(f"expected a rating like '2_...', got {name!r}", field=job)
            yield pointwise(task, inputs, int(name[0]), scale=(1, 5))
        flat = get(row, "flat", dict, optional=True)
        critique = (flat or {}).get("feedback")
        if isinstance(critique, str) and critique.strip():
            yield Example(
                f"{self.name}/critique",
                (inputs[0], inputs[2]),
                (("critique", " ".join(critique.split())),),
                {"group": inputs[0][1]},
            )
        else:
            yield Skip(f"{self.name}/critique", "no critique")
