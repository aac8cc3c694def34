"""ALCE human utility ratings: an annotator rated how useful each of four systems' answers is for
an ASQA or ELI5 question (1-5, citations ignored). Answers to the same question also give pairs."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Row, get, number, text
from flame_data.errors import RowError
from flame_data.ratings import Aspect, Rated, RatingsAdapter
from flame_data.registry import register

CITATION = re.compile(r"\s*\[\d+\]")


@register
class ALCEUtility(RatingsAdapter):
    name = "alce_human_utility"
    title = "ALCE human utility ratings of QA answers"
    homepage = "https://github.com/princeton-nlp/ALCE"
    license = "MIT"
    subject = "answer"
    task_intro = "Read a question and a long-form answer to it."
    aspects = (
        Aspect(
            "utility",
            (1, 5),
            "Utility: how useful the answer is for the question, ignoring citations; "
            "1 = not useful at all, 5 = fully answers it.",
        ),
    )
    pairwise_aspects = ("utility",)

    def read(self, directory: Path) -> Iterator[Row]:
        data = readers.json_file(directory / "human_eval_utility_completed.json.gz")
        if not isinstance(data, dict):
            raise RowError("expected an object keyed by dataset", where="human_eval_utility_completed.json.gz")
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        wheres: dict[tuple[str, str], list[str]] = defaultdict(list)
        for dataset, runs in data.items():
            for run_name, run in (runs or {}).items():
                for qid, item in (run or {}).items():
                    if qid == "overall_results":  # the run's automatic metrics, not a rated answer
                        continue
                    groups[(dataset, str(qid))].append(item)
                    wheres[(dataset, str(qid))].append(
                        f"human_eval_utility_completed.json.gz[{dataset}][{run_name}][{qid}]"
                    )
        for (dataset, qid), items in groups.items():
            yield Row(f"human_eval_utility_completed.json.gz[{dataset}][{qid}]", items, tuple(wheres[(dataset, qid)]))

    def parse_member(self, item: Any) -> tuple[Sequence[tuple[str, str]], Rated]:
        score = get(item, "utility_score", (int, float, str), optional=True)
        answer = CITATION.sub("", get(item, "output", str)).strip()
        rated = Rated(answer, {"utility": None if score is None else number(score, "utility_score", low=1, high=5)})
        return [("question", text(item, "question"))], rated
