"""BIG-Bench Mistake: PaLM 2 chain-of-thought traces on five BIG-Bench tasks, annotated with the
first logical mistake (or none). dyck_languages is labelled mostly by a script, not by people
(SOURCE.md), so only the four human-annotated tasks are used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HUMAN_FILES = ("word_sorting", "tracking_shuffled_objects", "logical_deduction", "multistep_arithmetic")


@register
class BigBenchMistake(Adapter):
    name = "bigbench_mistake"
    title = "BIG-Bench Mistake: first logical mistake in CoT traces"
    homepage = "https://github.com/WHGTyen/BIG-Bench-Mistake"
    license = "Apache-2.0"
    tasks = (
        classification_spec(
            "bigbench_mistake/trace_correct",
            "Read a task and a numbered chain-of-thought solution, and decide whether the reasoning contains a "
            "logical mistake.",
            "Annotators looked for the first step that is logically wrong given the task and the earlier steps; "
            "answer no if there is such a step, yes if every step is correct.",
            labels=("yes", "no"),
            category="math",
            license="Apache-2.0",
            source="https://github.com/WHGTyen/BIG-Bench-Mistake",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for name in HUMAN_FILES:
            for where, data in readers.jsonl(directory / f"{name}.jsonl.gz"):
                yield Row(where, {"task_name": name, **data} if isinstance(data, dict) else data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        steps = get(row, "steps", list)
        if not steps or not all(isinstance(s, str) for s in steps):
            raise RowError("expected a list of step texts", field="steps")
        mistake = row.get("mistake_index")
        if mistake is not None and (
            isinstance(mistake, bool) or not isinstance(mistake, int) or not 0 <= mistake < len(steps)
        ):
            raise RowError(f"expected a step index below {len(steps)} or null, got {mistake!r}", field="mistake_index")
        trace = "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(steps))
        yield classification(
            self.tasks[0].name,
            [("task", text(row, "input")), ("reasoning", trace)],
            "yes" if mistake is None else "no",
            bigbench_task=row.get("task_name"),
        )
