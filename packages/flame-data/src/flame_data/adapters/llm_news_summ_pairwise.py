"""Benchmarking LLMs for news summarization (Zhang et al.): annotators compared a freelance writer's
summary with text-davinci-002's for the same XSum article, overall and for informativeness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/Tiiiger/benchmark_llm_summarization"


def _winner(value: Any, field: str) -> str:
    if value is True:
        return "first"
    if value is False:
        return "second"
    if value == "Equally Good":
        return "tie"
    raise RowError(f"expected true, false or 'Equally Good', got {value!r}", field=field)


@register
class LLMNewsSumm(Adapter):
    name = "llm_news_summ_pairwise"
    title = "Freelance writer vs GPT-3 news summaries, human pairwise judgments"
    homepage = HOMEPAGE
    license = "none"
    tasks = (
        pairwise_spec(
            "llm_news_summ_pairwise/overall",
            "Read a news article and decide which of two summaries is better overall, or whether they are "
            "equally good.",
            "Annotators weighed faithfulness to the article, coherence and coverage of the key information.",
            tie=True,
            category="general",
            license="none",
            source=HOMEPAGE,
        ),
        pairwise_spec(
            "llm_news_summ_pairwise/informativeness",
            "Read a news article and decide which of two summaries is more informative, or whether they are "
            "equally informative.",
            "Informativeness: how well the summary captures the most important information of the article.",
            tie=True,
            category="general",
            license="none",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "pairwise_evaluation_results.json.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        article = text(row, "article_text")
        writer, model = text(row, "writer_summary").strip(), text(row, "text-davinci-002_summary").strip()
        for task, key in zip(self.tasks, ("overall_writer_better", "informative_writer_better"), strict=True):
            if key not in row:
                raise RowError("missing", field=key)
            winner = _winner(row[key], key)
            yield pairwise(
                task.name,
                [("article", article)],
                writer,
                model,
                winner,  # type: ignore[arg-type]
                labels=("summary A", "summary B"),
                evaluator=get(row, "evaluator_id", (int, str), optional=True),
            )
