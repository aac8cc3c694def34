"""Expert preferences on long-form QA answers (Xu et al., 2023): a domain expert chose the better of
two answers to an ELI5-style question and wrote a justification."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, open_ended_spec, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example, OutputField

DEFINITION = "Read a question and two long-form answers and decide which answer a domain expert would prefer."
INSTRUCTIONS = (
    "Experts in the question's field compared the answers on factual correctness, completeness, relevance "
    "and clarity of explanation, and preferred the one more useful to the asker."
)


@register
class LFQAExpert(Adapter):
    name = "lfqa_expert_preferences"
    title = "Expert pairwise preferences on long-form QA"
    homepage = "https://github.com/carriex/lfqa_eval"
    license = "none"
    tasks = (
        pairwise_spec(
            "lfqa_expert_preferences/overall",
            DEFINITION,
            INSTRUCTIONS,
            category="general",
            license="none",
            source=homepage,
        ),
        open_ended_spec(
            "lfqa_expert_preferences/justification",
            DEFINITION + " Explain why.",
            INSTRUCTIONS,
            outputs=(OutputField("answer", "", ("A", "B")), OutputField("explanation", "free text")),
            category="general",
            license="none",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "experts_pairwise_human_preferences.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        question = text(row, "question")
        a, b = text(row, "answer_a").strip(), text(row, "answer_b").strip()
        pref = get(row, "overall_preference", int)
        if pref not in (-1, 1):
            raise RowError(f"expected -1 or 1, got {pref}", field="overall_preference")
        winner = "first" if pref == -1 else "second"
        context = [("question", question)]
        if a == b:
            yield Skip(self.tasks[0].name, "identical answers")
            return
        yield pairwise(self.tasks[0].name, context, a, b, winner, labels=("answer A", "answer B"))
        why = get(row, "justification", str, optional=True)
        if why and why.strip():
            # A justification that names "answer A/B" only fits the source order.
            named = re.search(r"\b[AB]\b", why) is not None
            yield pairwise(
                self.tasks[1].name,
                context,
                a,
                b,
                winner,
                labels=("answer A", "answer B"),
                explanation=" ".join(why.split()),
                shuffle=not named,
            )
        else:
            yield Skip(self.tasks[1].name, "no justification")
