"""SimpEval (LENS paper): people rated simplifications of Wikipedia sentences. simplikert_2022 holds
per-worker Likert ratings of adequacy (1-5), fluency (1-5) and simplicity (-2..2, shifted here to
1-5); the SimpEval files hold 0-100 overall ratings of several outputs per sentence, used as pairs
(mean ratings at least 20 points apart)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import (
    Adapter,
    Rejected,
    Row,
    Skip,
    get,
    number,
    pairs_from_scores,
    pairwise_spec,
    parse_members,
    pointwise,
    pointwise_spec,
    text,
)
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/Yao-Dou/LENS"
INTRO = "Read a complex sentence and a simplified rewrite of it."
LIKERT = {
    "adequacy": ("Adequacy: the rewrite preserves the meaning of the original.", (1, 5), 0),
    "fluency": ("Fluency: the rewrite is fluent, grammatical English.", (1, 5), 0),
    "simplicity": (
        "Simplicity: how much simpler the rewrite is than the original (1 = much harder, 3 = the same, "
        "5 = much simpler).",
        (1, 5),
        3,
    ),
}


def _rated_rewrite(item: Any) -> tuple[str, str, float]:
    """(original, rewrite, mean 0-100 rating) of one SimpEval record."""
    original = text(item, "original")
    ratings = [
        number(v, k, low=0, high=100)
        for k, v in item.items()
        if k.startswith("rating_") and "z" not in k and v not in ("", None)
    ]
    if not ratings:
        raise RowError("no ratings", field="rating_1")
    return original, get(item, "generation", str).strip(), sum(ratings) / len(ratings)


@register
class SimpEval(Adapter):
    name = "simpeval_human_ratings"
    title = "SimpEval human ratings of sentence simplifications"
    homepage = HOMEPAGE
    license = "none"
    tasks = (
        *(
            pointwise_spec(
                f"simpeval_human_ratings/{aspect}",
                f"{INTRO} Rate its {aspect} from 1 to 5.",
                question,
                scale=scale,
                category="general",
                license="none",
                source=HOMEPAGE,
            )
            for aspect, (question, scale, _) in LIKERT.items()
        ),
        pairwise_spec(
            "simpeval_human_ratings/overall_pairwise",
            "Read a complex sentence and decide which of two simplified rewrites is the better simplification.",
            "Raters judged the rewrites together: meaning preserved, fluent, and simpler than the original.",
            category="general",
            license="none",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.table(directory / "simplikert_2022.csv.gz"):
            yield Row(where, {"kind": "likert", **data})
        for file in ("simpeval_2022.csv.gz", "simpeval_past.csv.gz"):
            for where, members, wheres in readers.grouped(readers.table(directory / file), "original_id"):
                yield Row(where, {"kind": "ratings", "items": members}, wheres)

    def convert(self, row: Any) -> Iterator[Example | Skip | Rejected]:
        if get(row, "kind", str) == "likert":
            inputs = [("original", text(row, "Input.original")), ("rewrite", text(row, "Input.simplified"))]
            for aspect, (_, scale, shift) in LIKERT.items():
                low = -2 if shift else 1
                value = number(get(row, f"Answer.{aspect}", str), f"Answer.{aspect}", low=low, high=low + 4)
                yield pointwise(f"{self.name}/{aspect}", inputs, value + shift, scale=scale, worker=row.get("WorkerId"))
            return
        members = yield from parse_members(get(row, "items", list), _rated_rewrite)
        if not members:
            return
        yield from pairs_from_scores(
            f"{self.name}/overall_pairwise",
            [("original", members[0][0])],
            [(rewrite, score) for _, rewrite, score in members],
            min_gap=20.0,
            labels=("rewrite A", "rewrite B"),
        )
