"""MR-Ben: experts judged whether sampled model solutions (Claude 2, GPT-3.5, Mistral) to exam
questions in six subjects are correct, and wrote the first error step and the reason. 15 questions
overlap JudgeBench (SOURCE.md lists them); they are dropped here to keep that benchmark clean."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

SUBJECTS = ("math", "coding", "physics", "chemistry", "biology", "medicine")
HOLDOUT = frozenset(
    {
        "a0b2da26-1416-4e53-83be-6b49fa8971b0",
        "48fcc859-0283-4962-ad47-aa0912cf7e8f",
        "a8cbb4c9-8fc4-4e48-8684-3fc165cd64af",
        "96f4e69f-8765-4466-824a-484e420b2f65",
        "e03edcd4-c1e3-429d-8497-5f3689c69906",
        "dadb614d-ec5e-43c2-8db7-98076da03944",
        "9a32e86a-e05d-468b-9966-171f26e523a8",
        "7df3020f-d6f2-45ca-854f-6c01d30f168c",
        "3bcf8cc2-bd87-447f-bc9b-b36f96bd46bb",
        "58129571-2dff-4496-bb28-74f281900dd8",
        "cb22c3c5-8567-4d7e-9f6f-9fd3190ee28d",
        "25b8e857-ca60-4992-a6c3-2c09f3edb93f",
        "841b2f89-0df4-4fa0-a42c-4706e6306d19",
        "fa8d1876-f634-4ff3-a934-9cc1ea9f81e8",
        "8c0d094a-c73e-4a21-80a4-7819dbd88257",
    }
)


def steps_text(raw: Any, field: str) -> str:
    """Steps stored as a list, or as the text of a Python list."""
    if isinstance(raw, str):
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
    if isinstance(raw, list):
        return "\n".join(str(s) for s in raw)
    raise RowError("expected a list of steps", field=field)


@register
class MRBen(Adapter):
    name = "mr_ben"
    title = "MR-Ben: expert-annotated correctness of reasoning chains"
    homepage = "https://github.com/dvlab-research/Mr-Ben"
    license = "MIT"
    tasks = (
        classification_spec(
            "mr_ben/solution_correct",
            "Read an exam question and a step-by-step solution, and decide whether the solution is correct: "
            "its reasoning has no error and its final answer is right.",
            "Experts checked every step; a solution with any wrong step is incorrect even if its answer is "
            "right. When incorrect, explain the first error.",
            labels=("correct", "incorrect"),
            explanation=True,
            category="math",
            license="MIT",
            source="https://github.com/dvlab-research/Mr-Ben",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for subject in SUBJECTS:
            for where, solutions in readers.json_records(directory / f"{subject}.json.gz"):
                for i, solution in enumerate(solutions if isinstance(solutions, list) else [solutions]):
                    yield Row(f"{where}[{i}]", solution)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        task = self.tasks[0].name
        if get(row, "Question_UUID", str) in HOLDOUT:
            yield Skip(task, "question overlaps the JudgeBench holdout")
            return
        verdict = get(row, "Model_Solution_Correctness", str).strip().lower()
        if verdict not in ("correct", "incorrect"):
            raise RowError(f"expected correct or incorrect, got {verdict!r}", field="Model_Solution_Correctness")
        question = text(row, "Question")
        options = get(row, "Options", str, optional=True)
        if options and options.strip():
            question = f"{question}\n{options.strip()}"
        solution = steps_text(get(row, "Model_Solution_Steps", (str, list)), "Model_Solution_Steps")
        reason = None
        if verdict == "incorrect":
            step = row.get("Model_Solution_First_Error_Step")
            why = steps_text(row.get("Model_Solution_Error_Reason") or "", "Model_Solution_Error_Reason").strip()
            reason = f"The first error is in step {step}. {why}".strip()
        yield classification(
            task,
            [("question", question), ("solution", solution)],
            verdict,
            explanation=reason or "Every step is correct.",
            subject=row.get("Subject"),
        )
