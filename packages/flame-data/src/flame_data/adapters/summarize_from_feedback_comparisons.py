"""OpenAI "Learning to summarize from human feedback" comparisons: a trained contractor chose the
better of two summaries of a Reddit post or a CNN/DM article (five evaluation batch files).
cnndm0.json repeats batch0_cnndm.json row for row, so it is read once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

FILES = ("batch13.json.gz", "batch18.json.gz", "batch0_cnndm.json.gz", "edit_b2_eval_test.json")


@register
class SummarizeFromFeedback(Adapter):
    name = "summarize_from_feedback_comparisons"
    title = "Learning to summarize from human feedback: pairwise comparisons"
    homepage = "https://github.com/openai/summarize-from-feedback"
    license = "MIT"
    tasks = (
        pairwise_spec(
            "summarize_from_feedback_comparisons/overall",
            "Read a post or news article and decide which of two summaries is better.",
            "Labelers judged how well each summary conveys the most important information of the text: it "
            "should be accurate, cover the key points, and be concise and coherent.",
            category="general",
            license="MIT",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for file in FILES:
            for where, data in readers.jsonl(directory / file):
                yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        info = get(row, "info", dict)
        source = info.get("post") or info.get("article")
        if not isinstance(source, str) or not source.strip():
            raise RowError("has neither a 'post' nor an 'article' text", field="info")
        summaries = get(row, "summaries", list)
        if len(summaries) != 2 or not all(isinstance(s, dict) and isinstance(s.get("text"), str) for s in summaries):
            raise RowError("expected two summaries with a 'text'", field="summaries")
        choice = get(row, "choice", int)
        if choice not in (0, 1):
            raise RowError(f"expected 0 or 1, got {choice}", field="choice")
        title = info.get("title") if isinstance(info.get("title"), str) else ""
        context = [("title", title), ("text", source)] if title else [("text", source)]
        first, second = summaries[0]["text"].strip(), summaries[1]["text"].strip()
        task = self.tasks[0].name
        if first == second:
            yield Skip(task, "identical summaries")
            return
        extra = row.get("extra")
        confidence = extra.get("confidence") if isinstance(extra, dict) else None
        yield pairwise(
            task,
            context,
            first,
            second,
            "first" if choice == 0 else "second",
            labels=("summary A", "summary B"),
            confidence=confidence,
        )
