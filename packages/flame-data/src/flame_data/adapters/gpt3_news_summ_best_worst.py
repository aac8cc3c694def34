"""News summarization in the era of GPT-3 (Goyal et al.): for each CNN and BBC article three
annotators marked the best and the worst of three summaries (GPT-3, BRIO, T0). Each judgment gives
pairs best > other and other > worst; a judgment naming a system both best and worst is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

SYSTEMS = ("gpt3", "brio", "t0")


@register
class GPT3NewsBestWorst(Adapter):
    name = "gpt3_news_summ_best_worst"
    title = "Best/worst judgments of GPT-3, BRIO and T0 news summaries"
    homepage = "https://tagoyal.github.io/zeroshot-news-annotations.html"
    license = "CC-BY-4.0"
    tasks = (
        pairwise_spec(
            "gpt3_news_summ_best_worst/overall",
            "Read a news article and decide which of two summaries is better.",
            "Annotators chose the best and the worst of three summaries, judging overall quality: faithful "
            "to the article, covering its main points, fluent and concise.",
            category="general",
            license="CC-BY-4.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for file in ("cnn_human.json.gz", "bbc_human.json.gz"):
            for where, data in readers.json_records(directory / file):
                yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        article = text(row, "article")
        summaries = {}
        for system in SYSTEMS:
            entry = get(row, system, dict)
            summaries[system] = text(entry, "text").strip()
        task = self.tasks[0].name
        for k, judgment in enumerate(get(row, "annotators", list)):
            best = get(judgment, "best_summary", list)
            worst = get(judgment, "worst_summary", list)
            if not all(isinstance(s, str) for s in best + worst) or not set(best) | set(worst) <= set(SYSTEMS):
                raise RowError(f"unknown system in {best + worst}", field="annotators")
            if len(best) != 1 or len(worst) != 1 or best == worst:
                yield Skip(task, "judgment without one distinct best and one distinct worst summary")
                continue
            middle = next(s for s in SYSTEMS if s not in (best[0], worst[0]))
            order = [best[0], middle, worst[0]]
            for i, j in ((0, 1), (0, 2), (1, 2)):
                yield pairwise(
                    task,
                    [("article", article)],
                    summaries[order[i]],
                    summaries[order[j]],
                    "first",
                    labels=("summary A", "summary B"),
                    annotator=k,
                )
