"""WMT21 TED talks MQM (Freitag et al.): professional translators marked every error in each
system's translation of a segment with a category and a severity. A segment's MQM score sums the
error weights (Major 5, Minor 1, Minor fluency/punctuation 0.1, Non-translation 25); it becomes a
1-5 quality rating (5 = no error ... 1 = score above 10) and, across systems for the same source
segment, pairs whose scores differ by at least 5 (one major error)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import (
    Adapter,
    Rejected,
    Row,
    Skip,
    get,
    pairs_from_scores,
    pairwise_spec,
    parse_members,
    pointwise,
    pointwise_spec,
)
from flame_data.errors import RowError
from flame_data.readers import DAMAGED
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
        # One row per source segment, holding every annotation record of every system's translation of
        # it, each at its own line: a translation's score needs all of its records (see `convert`).
        for pair in PAIRS:
            segments: dict[str, tuple[str, list[Any], list[str]]] = {}
            path = directory / pair / f"mqm_ted_{pair}.tsv.gz"
            for where, data in readers.table(path, delimiter="\t", quoting=csv.QUOTE_NONE, keep_damaged=True):
                key = f"{data.get('doc_id')}:{data.get('seg_id')}"
                segment = segments.setdefault(key, (where, [], []))
                segment[1].append({**data, "pair": pair})
                segment[2].append(where)
            for where, records, wheres in segments.values():
                yield Row(where, records, tuple(wheres))

    def convert(self, row: Any) -> Iterator[Example | Skip | Rejected]:
        # A translation's MQM score sums its error rows, so one bad row makes the score unknowable:
        # that translation is rejected whole (each row at its line), the segment's others are kept.
        records = yield from parse_members(row, _record, unit=_system, unit_name="translation")
        if not records:
            return
        pair, source = records[0][0], records[0][1]
        source_lang, target_lang = PAIRS[pair]
        translations: dict[str, tuple[str, float]] = {}
        for _, _, system, target, penalty in records:
            first, total = translations.get(system, (target, 0.0))  # the text as the first record has it
            translations[system] = (first, total + penalty)
        scored = []
        for system, (target, mqm) in translations.items():
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


def _system(record: Any) -> str:
    """Which translation of the segment an annotation record is about (its system)."""
    system = get(record, "system", str)
    if any("\udc80" <= c <= "\udcff" for c in system):  # undecodable bytes in the name: it could be any
        raise RowError(f"{record.get(DAMAGED)}, in the system name", field="system")
    return system


def _record(record: Any) -> tuple[str, str, str, str, float]:
    """(pair, source, system, translation, error weight) of one annotation record; RowError if malformed."""
    if isinstance(record, dict) and DAMAGED in record:
        raise RowError(str(record[DAMAGED]))
    pair = get(record, "pair", str)
    if pair not in PAIRS:
        raise RowError(f"expected one of {sorted(PAIRS)}, got {pair!r}", field="pair")
    target = SPAN.sub("", get(record, "target", str)).strip()
    penalty = weight(get(record, "category", str), get(record, "severity", str))
    source = SPAN.sub("", get(record, "source", str)).strip()  # an omission is marked in the source
    return pair, source, get(record, "system", str), target, penalty
