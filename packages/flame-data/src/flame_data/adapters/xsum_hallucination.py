"""XSum hallucination annotations (Maynez et al., 2020).

Yields nothing here: every row references its XSum source document by `bbcid`, and the articles are
not part of the local copy, so no (document, summary) input can be built. With the XSum corpus at
hand, join on bbcid to use `is_factual` (classification) and the Faithful/Factual scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data.adapter import Adapter, Row, Skip
from flame_data.registry import register
from flame_data.schema import Example


@register
class XSumHallucination(Adapter):
    name = "xsum_hallucination"
    title = "XSum hallucination annotations (articles absent)"
    homepage = "https://github.com/google-research-datasets/xsum_hallucination_annotations"
    license = "CC-BY-4.0"
    tasks = ()

    def read(self, directory: Path) -> Iterator[Row]:
        return iter(())

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        return iter(())
