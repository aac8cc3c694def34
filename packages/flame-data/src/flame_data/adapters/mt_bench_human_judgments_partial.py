"""MT-Bench human judgments (about half of the expert split): an expert judged which of two
assistants answered a given turn of a two-turn conversation better, or a tie. The source lists the
preferred model mostly second; `pairwise` reshuffles positions by content hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairwise, pairwise_spec
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

WINNER = {"model_a": "first", "model_b": "second", "tie": "tie"}


def _turns(conversation: Any, field: str) -> list[tuple[str, str]]:
    if not isinstance(conversation, list) or not conversation:
        raise RowError("expected a list of messages", field=field)
    out = []
    for message in conversation:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise RowError("each message needs a 'role' and a text 'content'", field=field)
        out.append((str(message.get("role")), message["content"]))
    return out


@register
class MTBenchHuman(Adapter):
    name = "mt_bench_human_judgments_partial"
    title = "MT-Bench expert pairwise votes (partial)"
    homepage = "https://huggingface.co/datasets/lmsys/mt_bench_human_judgments"
    license = "CC-BY-4.0"
    tasks = (
        pairwise_spec(
            "mt_bench_human_judgments_partial/overall",
            "Compare how two AI assistants answered the last user turn of a conversation (with their own "
            "earlier answers shown) and decide which answer is better, or whether they tie.",
            "Experts judged helpfulness, relevance, accuracy, depth, creativity and level of detail of the "
            "answer to the final user question, taking the earlier turns as context.",
            tie=True,
            category="general",
            license="CC-BY-4.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "human_votes_subset.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        winner = get(row, "winner", str)
        if winner not in WINNER:
            raise RowError(f"expected model_a, model_b or tie, got {winner!r}", field="winner")
        turn = get(row, "turn", int)
        a = _turns(get(row, "conversation_a", list), "conversation_a")
        b = _turns(get(row, "conversation_b", list), "conversation_b")
        end = 2 * turn
        if turn not in (1, 2) or len(a) < end or len(b) < end:
            raise RowError(f"turn {turn} is not in both conversations", field="turn")
        users_a = [c for r, c in a[:end] if r == "user"]
        if users_a != [c for r, c in b[:end] if r == "user"]:
            raise RowError("the two conversations ask different user questions")
        if turn == 1:
            context = [("user", users_a[0])]
            first, second = a[1][1].strip(), b[1][1].strip()
        else:
            # Each assistant answered turn 2 after its own turn-1 answer, so both exchanges are shown.
            context = [("user turn 1", users_a[0]), ("user turn 2", users_a[1])]
            first = f"[turn 1] {a[1][1].strip()}\n[turn 2] {a[3][1].strip()}"
            second = f"[turn 1] {b[1][1].strip()}\n[turn 2] {b[3][1].strip()}"
        if first == second:
            yield Skip(self.tasks[0].name, "identical answers")
            return
        yield pairwise(
            self.tasks[0].name,
            context,
            first,
            second,
            WINNER[winner],  # type: ignore[arg-type]
            labels=("answer A", "answer B"),
            judge=get(row, "judge", str, optional=True),
            turn=turn,
        )
