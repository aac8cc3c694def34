"""Tulu 1 human evaluation: AI2 researchers compared two completions of a prompt on a 5-point
preference scale (a better / a slightly better / tie / ...) and marked each as acceptable or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import (
    Adapter,
    Row,
    Skip,
    classification,
    classification_spec,
    get,
    pairwise,
    pairwise_spec,
    text,
)
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

PREFERENCE = {
    "a-is-better": "first",
    "a-is-slightly-better": "first",
    "tie": "tie",
    "b-is-slightly-better": "second",
    "b-is-better": "second",
}


@register
class Tulu1HumanEval(Adapter):
    name = "tulu1_human_eval"
    title = "Tulu 1 human evaluation (preferences and acceptability)"
    homepage = "https://github.com/allenai/open-instruct"
    license = "Apache-2.0"
    tasks = (
        pairwise_spec(
            "tulu1_human_eval/preference",
            "Compare two completions of a user prompt and decide which is better, or whether they tie.",
            "Evaluators judged which completion better follows the prompt and is more helpful, correct and "
            "well written; a tie means no clear difference.",
            tie=True,
            category="general",
            license="Apache-2.0",
            source=homepage,
        ),
        classification_spec(
            "tulu1_human_eval/acceptable",
            "Decide whether the completion is an acceptable answer to the user prompt.",
            "An acceptable completion follows the instruction and gives a correct, useful answer without "
            "serious errors.",
            labels=("yes", "no"),
            category="instruction_following",
            license="Apache-2.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "eval_annotations_tulu_1.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        prompt = text(row, "prompt")
        a, b = get(row, "completion_a", str).strip(), get(row, "completion_b", str).strip()
        pref = get(row, "preference", str)
        if pref not in PREFERENCE:
            raise RowError(f"expected one of {sorted(PREFERENCE)}, got {pref!r}", field="preference")
        if a == b:
            yield Skip(self.tasks[0].name, "identical completions")
        else:
            strength = "slight" if "slightly" in pref else ("tie" if pref == "tie" else "clear")
            yield pairwise(
                self.tasks[0].name,
                [("prompt", prompt)],
                a,
                b,
                PREFERENCE[pref],  # type: ignore[arg-type]
                labels=("completion A", "completion B"),
                strength=strength,
            )
        for key, completion in (("completion_a_is_acceptable", a), ("completion_b_is_acceptable", b)):
            verdict = get(row, key, str).strip().lower()
            if verdict not in ("yes", "no"):
                raise RowError(f"expected yes or no, got {verdict!r}", field=key)
            yield classification(
                self.tasks[1].name, [("prompt", prompt), ("completion", completion)], verdict, group=prompt
            )
