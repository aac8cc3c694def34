"""QA-Feedback (FineGrainedRLHF) dev split: for each long-form question, humans compared four
sampled answers pairwise (1 = first better, 2 = second, 0 = no preference), given Wikipedia passages."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

WINNER = {1: "first", 2: "second", 0: "tie"}
PAIRS = list(combinations(range(1, 5), 2))  # (1,2) (1,3) (1,4) (2,3) (2,4) (3,4), the order of `preference`


@register
class QAFeedback(Adapter):
    name = "qa_feedback_finegrained"
    title = "QA-Feedback: fine-grained human feedback on long-form QA (dev)"
    homepage = "https://github.com/allenai/FineGrainedRLHF"
    license = "Apache-2.0"
    tasks = (
        pairwise_spec(
            "qa_feedback_finegrained/overall",
            "Given a question and supporting Wikipedia passages, compare two answers and decide which is "
            "better, or whether neither is preferred.",
            "Annotators preferred answers that are relevant, factually grounded in the passages, complete and "
            "free of redundant or incoherent text.",
            tie=True,
            category="factuality",
            license="Apache-2.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.json_records(directory / "dev_feedback.json.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        question = text(row, "question")
        passages = get(row, "passages", list)
        if not all(isinstance(p, list) and all(isinstance(s, str) for s in p) for p in passages):
            raise RowError("expected a list of [title, sentence, ...] lists", field="passages")
        passage_text = "\n".join(f"{p[0]}: {' '.join(p[1:])}" for p in passages if p)
        answers = [get(row, f"prediction {i}", str).strip() for i in range(1, 5)]
        prefs = get(row, "preference", list)
        if len(prefs) != 6 or any(isinstance(p, bool) or not isinstance(p, int) or p not in WINNER for p in prefs):
            raise RowError(f"expected 6 values in 0, 1, 2; got {prefs!r}", field="preference")
        task = self.tasks[0].name
        context = [("question", question), ("passages", passage_text)]
        for (i, j), pref in zip(PAIRS, prefs, strict=True):
            a, b = answers[i - 1], answers[j - 1]
            if a == b:
                yield Skip(task, "identical answers")
                continue
            yield pairwise(task, context, a, b, WINNER[pref], labels=("answer A", "answer B"), group=question)  # type: ignore[arg-type]
