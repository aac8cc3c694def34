"""Meta-Reasoning-MATH (ReasonEval): people checked each step of MATH solutions. In the invalid-errors
file every solution reaches the right answer, so the label judges the process: is any step wrong.
In the redundant-errors file (PRM800K ratings) the label says whether any step is redundant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/GAIR-NLP/ReasonEval"


def _steps(row: Any) -> list[str]:
    raw = get(row, "model_output_step_format", list)
    steps = [" ".join(map(str, s)) if isinstance(s, list) else s for s in raw]
    if not steps or not all(isinstance(s, str) for s in steps):
        raise RowError("expected a list of steps", field="model_output_step_format")
    return steps


@register
class MRMathSteps(Adapter):
    name = "mr_math_step_labels"
    title = "Meta-Reasoning-MATH human step labels (ReasonEval)"
    homepage = HOMEPAGE
    license = "none"
    tasks = (
        classification_spec(
            "mr_math_step_labels/steps_valid",
            "Read a math problem and a step-by-step solution that reaches the correct final answer, and decide "
            "whether every step is mathematically valid.",
            "Judge the process, not the outcome: a solution with a wrong calculation or unjustified step is "
            "invalid even though its answer is right.",
            labels=("yes", "no"),
            category="math",
            license="none",
            source=HOMEPAGE,
        ),
        classification_spec(
            "mr_math_step_labels/no_redundant_steps",
            "Read a math problem and a correct step-by-step solution, and decide whether every step makes "
            "progress toward the answer (yes) or some step is redundant (no).",
            "A redundant step is correct but does not help reach the solution.",
            labels=("yes", "no"),
            category="math",
            license="none",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for kind in ("invalid", "redundant"):
            for where, data in readers.jsonl(directory / f"mr-math_{kind}_errors.jsonl.gz"):
                yield Row(where, {"kind": kind, **data} if isinstance(data, dict) else data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        steps = _steps(row)
        inputs = [
            ("problem", text(row, "question")),
            ("solution", "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(steps))),
        ]
        if get(row, "kind", str) == "invalid":
            verdict = get(row, "model_output_solution_correctness", str)
            if verdict not in ("correct", "wrong"):
                raise RowError(f"expected correct or wrong, got {verdict!r}", field="model_output_solution_correctness")
            yield classification(self.tasks[0].name, inputs, "yes" if verdict == "correct" else "no")
            return
        rating = get(row, "rating", list)
        if len(rating) != len(steps) or any(r not in (0, 1) for r in rating):
            raise RowError(f"expected one 0/1 per step ({len(steps)}), got {rating!r}", field="rating")
        yield classification(self.tasks[1].name, inputs, "yes" if all(rating) else "no")
