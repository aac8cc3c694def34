"""Human grades of generated code (Evtikhiev et al., "Out of the BLEU"): several graders scored how
helpful each system's snippet is for a CoNaLa intent (0-4) or for a Hearthstone card (0-4).
Mean grades give pointwise examples and, per intent, pairs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number
from flame_data.errors import RowError
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register


def _mean(grades: Any, key: str) -> float | None:
    if grades is None:
        return None
    if not isinstance(grades, dict) or not grades:
        raise RowError("expected grader -> grade", field=key)
    return sum(number(g, key, low=0, high=4) for g in grades.values()) / len(grades)


@register
class CoNaLaGrades(RatingsAdapter):
    name = "conala_code_human_grades"
    title = "Human usefulness grades of generated code (CoNaLa, Hearthstone)"
    homepage = "https://github.com/JetBrains-Research/codegen-metrics"
    license = "Apache-2.0"
    subject = "code"
    task_intro = "Read a programming task and a code snippet written for it."
    aspects = (
        Aspect(
            "usefulness",
            (0, 4),
            "How helpful is the snippet for solving the task? 4 = solves it; 3 = needs "
            "slight changes; 2 = needs significant changes; 1 = easier to write from scratch; 0 = not helpful "
            "or irrelevant.",
            category="coding",
        ),
    )
    pairwise_aspects = ("usefulness",)

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "conala-human-grades.json.gz"):
            yield Row(where, {"kind": "conala", **data} if isinstance(data, dict) else data)
        for where, data in readers.json_records(directory / "hs-human-grades.json.gz"):
            yield Row(where, {"kind": "hs", **data} if isinstance(data, dict) else data)

    def parse(self, row: Any) -> tuple[Sequence[tuple[str, str]], Sequence[Rated]]:
        kind = get(row, "kind", str)
        rated = []
        for key, value in row.items():
            if not key.startswith("grade-"):
                continue
            system = key.removeprefix("grade-")
            code = row.get(system)
            if system == "snippet" and isinstance(code, list):
                code = "\n".join(str(c) for c in code)
            if kind == "hs" and system == "snippet":
                continue  # the card's reference class is the task description itself
            if not isinstance(code, str):
                raise RowError(f"no code for graded system {system!r}", field=system)
            rated.append(Rated(code.strip(), {"usefulness": _mean(value, key)}))
        if kind == "conala":
            return [("task", get(row, "intent", str))], rated
        # Hearthstone: the task is implementing the card; the reference implementation shows the card.
        return [
            (
                "task",
                "Implement this Hearthstone card as a Python class, like the reference:\n" + get(row, "snippet", str),
            )
        ], rated
