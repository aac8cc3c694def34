"""FRANK: human factuality annotations of CNN/DM and XSum summaries.

Yields nothing here: the article and summary texts live in data/benchmark_data.json, which is not in
the local copy (only the per-(article, system) scores are). Point this adapter's folder at a full
download of https://github.com/artidoro/frank and extend `read` to join on (hash, model_name).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data.adapter import Adapter, Row, Skip
from flame_data.registry import register
from flame_data.schema import Example


@register
class FRANK(Adapter):
    name = "frank"
    title = "FRANK factuality annotations (scores only; text absent)"
    homepage = "https://github.com/artidoro/frank"
    license = "MIT"
    tasks = ()

    def read(self, directory: Path) -> Iterator[Row]:
        return iter(())

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        return iter(())
