"""WQRM study (AI-Slop to AI-Polish): writers ranked three versions of a paragraph written for one
instruction (first draft, random-CoT edit, reward-chosen edit). Each annotator's ranking gives
three pairs; the model's own wqrm_score is not used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairs_from_ranking, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

VERSIONS = ("first_draft", "random_cot", "best_cot")
RANK = {
    "Most Preferred Writing Option": 0,
    "Second Favorite Writing Option": 1,
    "Least Preferred Writing Option": 2,
}


@register
class WQRM(Adapter):
    name = "wqrm_writing_rankings"
    title = "Expert rankings of three LLM paragraph versions (WQRM)"
    homepage = "https://github.com/salesforce/creativity_eval"
    license = "BSD-3-Clause"
    tasks = (
        pairwise_spec(
            "wqrm_writing_rankings/writing_quality",
            "Read a writing instruction and decide which of two paragraphs written for it is better writing.",
            "Experienced writers preferred prose that is specific, fresh and precise, avoids cliches and "
            "padding, and fits the requested voice and plot.",
            category="general",
            license="BSD-3-Clause",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "WQRM_annotations.json.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        instruction = get(row, "instruction", dict)
        parts = [
            f"{key}: {instruction[key]}" for key in ("voice", "plot", "paragraph", "word_count") if instruction.get(key)
        ]
        if not parts:
            raise RowError("no voice, plot or paragraph", field="instruction")
        texts = {v: text(get(row, v, dict), "candidate").strip() for v in VERSIONS}
        context = [("instruction", "\n".join(parts)), ("genre", str(row.get("genre", "")))]
        for k, ranking in enumerate(get(row, "annotations", list)):
            values = list(ranking.values()) if isinstance(ranking, dict) else []
            if (
                not isinstance(ranking, dict)
                or set(ranking) != set(VERSIONS)
                or not all(isinstance(v, str) for v in values)
                or set(values) != set(RANK)
            ):
                yield Skip(self.tasks[0].name, "annotation is not a full ranking of the three versions")
                continue
            order = sorted(VERSIONS, key=lambda v: RANK[ranking[v]])
            yield from pairs_from_ranking(
                self.tasks[0].name,
                context,
                [texts[v] for v in order],
                labels=("paragraph A", "paragraph B"),
                annotator=k,
            )
