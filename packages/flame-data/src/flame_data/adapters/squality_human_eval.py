"""SQuALITY human evaluation: trained writers rated and ranked three answers (BART, BART+DPR,
human) to a question about a long story on correctness, coverage and overall quality. Stories come
from the v1-3 test file. Each reviewer's ranks give pairs; ratings (0-100) become 1-5 pointwise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/nyu-mll/SQuALITY"
SYSTEMS = ("bart", "bart-dpr", "human")
ASPECTS = {
    "overall": ("overall-rank", "overall quality of the answer"),
    "correctness": ("correctness-rank", "correctness: every statement is supported by the story"),
    "coverage": ("selection-rank", "coverage: the answer includes the information the question asks for"),
}


@register
class SQuALITY(Adapter):
    name = "squality_human_eval"
    title = "SQuALITY human evaluation of question-focused story summaries"
    homepage = HOMEPAGE
    license = "CC-BY-4.0"
    tasks = tuple(
        pairwise_spec(
            f"squality_human_eval/{aspect}",
            f"Read a story and a question about it, then decide which of two answers is better in {what}.",
            "Reviewers read the whole story, then ranked the answers; judge only the aspect named here.",
            category="factuality" if aspect == "correctness" else "general",
            license="CC-BY-4.0",
            source=HOMEPAGE,
        )
        for aspect, (_, what) in ASPECTS.items()
    )

    def read(self, directory: Path) -> Iterator[Row]:
        stories = {}
        for _, story in readers.jsonl(directory / "v1-3_txt_test.jsonl.gz"):
            stories[str(story["metadata"]["passage_id"])] = story
        for where, data in readers.jsonl(directory / "all-responses.jsonl.gz"):
            story = stories.get(str(data.get("passage-id"))) if isinstance(data, dict) else None
            yield Row(where, {"evaluation": data, "story": story})

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        story = get(row, "story", dict, optional=True)
        evaluation = get(row, "evaluation", dict)
        if story is None:
            raise RowError(f"passage {evaluation.get('passage-id')!r} is not in v1-3_txt_test", field="passage-id")
        document = text(story, "document")
        questions = get(story, "questions", list)
        for key, answers in get(evaluation, "questions", dict).items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit()):
                raise RowError(f"question key {key!r} is not a question number", field="questions")
            number = int(key)
            if not 0 <= number < len(questions):
                raise RowError(f"question {key} is not in the story file", field="questions")
            question = text(questions[number], "question_text")
            responses = {s: text(get(answers, s, dict), "response").strip() for s in SYSTEMS}
            for k in range(3):
                for aspect, (rank_key, _) in ASPECTS.items():
                    ranks = {}
                    for s in SYSTEMS:
                        reviews = get(answers[s], "reviews", list)
                        if k >= len(reviews):
                            break
                        ranks[s] = reviews[k].get(rank_key)
                    task = f"squality_human_eval/{aspect}"
                    if len(ranks) < 3 or not all(isinstance(r, int) for r in ranks.values()):
                        yield Skip(task, "reviewer did not rank all three answers")
                        continue
                    order = sorted(SYSTEMS, key=lambda s: ranks[s])
                    for i, j in ((0, 1), (0, 2), (1, 2)):
                        if ranks[order[i]] == ranks[order[j]]:
                            continue
                        yield pairwise(
                            task,
                            [("story", document), ("question", question)],
                            responses[order[i]],
                            responses[order[j]],
                            "first",
                            labels=("answer A", "answer B"),
                            group=question,
                            reviewer=k,
                        )
