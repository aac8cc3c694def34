"""TTCW (Art or Artifice?): creative-writing experts answered 14 Torrance-style tests (yes/no with
an explanation) for 48 short stories. The 12 New Yorker stories are links only and are skipped;
each expert verdict on an LLM story becomes one example with the expert's explanation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example


@register
class TTCW(Adapter):
    name = "ttcw_creativity_expert_judgments"
    title = "TTCW expert creativity judgments of short stories"
    homepage = "https://github.com/salesforce/creativity_eval"
    license = "BSD-3-Clause"
    tasks = (
        classification_spec(
            "ttcw_creativity_expert_judgments/creativity_test",
            "Read a short story and one test of creative writing, and decide whether the story passes the test. "
            "Explain your verdict.",
            "Each test asks one question about fluency, flexibility, originality or elaboration (for example "
            "whether the ending feels natural and earned); answer as an expert creative writer would.",
            labels=("yes", "no"),
            explanation=True,
            category="general",
            license="BSD-3-Clause",
            source="https://github.com/salesforce/creativity_eval",
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        stories = {str(s.get("story_id")): s for _, s in readers.json_records(directory / "ttcw_short_stories.json.gz")}
        tests = {str(t.get("ttcw_idx")): t for _, t in readers.json_records(directory / "ttcw_all_tests.json")}
        for where, data in readers.json_records(directory / "ttcw_annotations.json.gz"):
            if not isinstance(data, dict):
                yield Row(where, data)
                continue
            yield Row(
                where,
                {
                    **data,
                    "story": stories.get(str(data.get("story_id"))),
                    "test": tests.get(str(data.get("ttcw_idx"))),
                },
            )

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        task = self.tasks[0].name
        story, test = get(row, "story", dict, optional=True), get(row, "test", dict, optional=True)
        if story is None or test is None:
            raise RowError("story or test id not found in the stories/tests files", field="story_id")
        content = text(story, "content")
        if content.startswith("http"):
            yield Skip(task, "story text not included (New Yorker link)")
            return
        verdict = get(row, "binary_verdict", str).strip().lower()
        if verdict not in ("yes", "no"):
            raise RowError(f"expected Yes or No, got {verdict!r}", field="binary_verdict")
        question = f"{text(test, 'question')}\n{get(test, 'full_prompt', str).strip()}"
        explanation = " ".join(get(row, "explanation", str).split()) or None
        yield classification(
            task,
            [("story", content), ("test", question)],
            verdict,
            explanation=explanation or "",
            group=content,
            expert=row.get("expert_idx"),
        )
