"""OpenAssistant: 100 English message trees in which volunteers ranked sibling assistant replies
(rank 0 = best). Each ranking group gives pairs earlier-ranked > later-ranked; synthetic seed
replies are dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, get, pairs_from_ranking, pairwise_spec
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example


@register
class OASSTTrees(Adapter):
    name = "oasst_en_100_trees"
    title = "OpenAssistant: 100 English trees with ranked replies"
    homepage = "https://github.com/LAION-AI/Open-Assistant"
    license = "Apache-2.0"
    tasks = (
        pairwise_spec(
            "oasst_en_100_trees/overall",
            "Read a conversation and decide which of two assistant replies to its last message is better.",
            "Volunteers ranked replies by overall quality: helpful, correct, honest, harmless and well written.",
            category="general",
            license="Apache-2.0",
            source=homepage,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "en_100_tree.jsonl.gz"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        root = get(row, "prompt", dict)
        yield from self._walk(root, [])

    def _walk(self, message: Any, history: list[str]) -> Iterator[Example | Skip]:
        role = get(message, "role", str)
        said = get(message, "text", str)
        path = [*history, f"{'user' if role == 'prompter' else 'assistant'}: {said}"]
        replies = get(message, "replies", list)
        ranked = [
            r
            for r in replies
            if isinstance(r, dict)
            and r.get("role") == "assistant"
            and isinstance(r.get("rank"), int)
            and not r.get("synthetic")
            and not r.get("deleted")
        ]
        if len(ranked) >= 2:
            ranked.sort(key=lambda r: r["rank"])
            texts = [get(r, "text", str).strip() for r in ranked]
            if len(set(texts)) != len(texts):
                raise RowError("two ranked replies are identical", field="replies")
            yield from pairs_from_ranking(
                self.tasks[0].name, [("conversation", "\n".join(path))], texts, labels=("reply A", "reply B")
            )
        for reply in replies:
            yield from self._walk(reply, path)
