"""OpenAI HumanEval problems.

Yields no training tasks: it holds problems, reference solutions and unit tests, not human
judgments. flame's code re-ranking evaluation builds candidate pools from it instead, and training
on it would contaminate RM-Bench-code (SOURCE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data.adapter import Adapter, Row, Skip
from flame_data.registry import register
from flame_data.schema import Example


@register
class HumanEval(Adapter):
    name = "humaneval"
    title = "HumanEval problems (code-task seed data, not human judgments)"
    homepage = "https://github.com/openai/human-eval"
    license = "MIT"
    tasks = ()

    def read(self, directory: Path) -> Iterator[Row]:
        return iter(())

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        return iter(())
