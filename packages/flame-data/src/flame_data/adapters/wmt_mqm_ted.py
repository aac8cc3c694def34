"""WMT21 TED talks MQM (Freitag et al.): professional translators marked every error in each
system's translation of a segment with a category and a severity. A segment's MQM score sums the
error weights (Major 5, Minor 1, Minor fluency/punctuation 0.1, Non-translation 25); it becomes a
1-5 quality rating (5 = no error ... 1 = score above 10) and, across systems for the same source
segment, pairs whose scores differ by at least 5 (one major error)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import (
    Adapter,
    Row,
    Skip,
    get,
    pairs_from_scores,
    pairwise_spec,
    pointwise,
    pointwise_spec,
)
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

HOMEPAGE = "https://github.com/google/wmt-mqm-human-evaluation"
PAIRS = {"ende": ("English", "German"), "zhen": ("Chinese", "English")}
SPAN = re.compile(r"</?v>")


def weight(category: str, severity: str) -> float:
    severity = severity.strip().lower()
    if severity in ("no-error", "neutral", "") or category.strip().lower() == "no-error":
        return 0.0
    if category.strip().lower().startswith("non-translation"):
        return 25.0
    if severity == "major":
        return 5.0
    if severity == "minor":
        return 0.1 if category.strip().lower().startswith("fluency/punctuation") else 1.0
    raise RowError(f"unknown severity {severity!r}", field="severity")


def rating(mqm: float) -> int:
    """MQM penalty (lower is better) -> 1-5 quality (5 = no error)."""
    for bound, value in ((0.0, 5), (1.0, 4), (5.0, 3), (10.0, 2)):
        if mqm <= bound:
            return value
    return 1


@register
class WMTMQMTed(Adapter):
    name = "wmt_mqm_ted"
    title = "WMT21 TED talks MQM expert annotations"
    homepage = HOMEPAGE
    license = "Apache-2.0"
    tasks = (
        pointwise_spec(
            "wmt_mqm_ted/quality",
            "Read a source sentence and its translation, then rate the translation's quality from 1 to 5.",
            "Translators marked accuracy errors (mistranslation, omission, addition), fluency errors (grammar, "
            "spelling, register, punctuation) and terminology errors, each minor or major. 5 = no error; "
            "4 = only minor errors; 3 = one major error; 2 = two major errors; 1 = worse.",
            scale=(1, 5),
            category="general",
            license="Apache-2.0",
            source=HOMEPAGE,
        ),
        pairwise_spec(
            "wmt_mqm_ted/quality_pairwise",
            "Read a source sentence and two translations of it, and decide which translation is better.",
            "Prefer the translation with fewer and less severe accuracy, fluency and terminology errors.",
            category="general",
            license="Apache-2.0",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for pair in PAIRS:
            segments: dict[str, dict[str, Any]] = defaultdict(lambda: {"outputs": {}})
            for where, data in readers.table(
                directory / pair / f"mqm_ted_{pair}.tsv.gz", delimiter="\t", quoting=csv.QUOTE_NONE
            ):
                key = f"{data.get('doc_id')}:{data.get('seg_id')}"
                segment = segments[key]
                segment.setdefault("where", where)
                segment["source"] = data.get("source")
                segment["outputs"].setdefault(data.get("system"), []).append(data)
            for segment in segments.values():
                yield Row(segment.pop("where"), {"pair": pair, **segment})

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        pair = get(row, "pair", str)
        if pair not in PAIRS:
            raise RowError(f"expected one of {sorted(PAIRS)}, got {pair!r}", field="pair")
        source_lang, target_lang = PAIRS[pair]
        source = get(row, "source", str)
        scored = []
        for system, marks in get(row, "outputs", dict).items():
            if not isinstance(marks, list) or not marks:
                raise RowError("expected a list of annotation rows", field=f"outputs.{system}")
            target = SPAN.sub("", get(marks[0], "target", str)).strip()
            mqm = sum(weight(get(m, "category", str), get(m, "severity", str)) for m in marks)
            inputs = [(f"source ({source_lang})", source), (f"translation ({target_lang})", target)]
            yield pointwise(
                "wmt_mqm_ted/quality", inputs, rating(mqm), scale=(1, 5), group=source, mqm=mqm, system=system
            )
            scored.append((target, -mqm))
        yield from pairs_from_scores(
            "wmt_mqm_ted/quality_pairwise",
            [(f"source ({source_lang})", source)],
            scored,
            min_gap=5.0,
            labels=("translation A", "translation B"),
        )
