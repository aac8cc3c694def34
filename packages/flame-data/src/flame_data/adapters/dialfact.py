"""DialFact (300-example test sample): crowdworkers verified a dialogue response against Wikipedia
evidence (supports / refutes / not enough information) and marked whether it is verifiable at all.
The `fever_score` field is an automatic verifier's output and is not used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flame_data import readers
from flame_data.adapter import Adapter, Row, Skip, classification, classification_spec, get, text
from flame_data.errors import RowError
from flame_data.registry import register
from flame_data.schema import Example

VERDICT = {"SUPPORTS": "supported", "REFUTES": "refuted", "NOT ENOUGH INFO": "not enough information"}
HOMEPAGE = "https://github.com/salesforce/DialFact"


@register
class DialFact(Adapter):
    name = "dialfact"
    title = "DialFact: fact-checking in dialogue (test sample)"
    homepage = HOMEPAGE
    license = "BSD-3-Clause"
    tasks = (
        classification_spec(
            "dialfact/verification",
            "Read a dialogue, a response and Wikipedia evidence, and decide whether the evidence supports the "
            "response, refutes it, or is not enough to tell.",
            "Judge only the factual claims of the response against the evidence given; personal opinions are "
            "not verifiable.",
            labels=("supported", "refuted", "not enough information"),
            category="factuality",
            license="BSD-3-Clause",
            source=HOMEPAGE,
        ),
        classification_spec(
            "dialfact/verifiable",
            "Read a dialogue and a response and decide whether the response makes a verifiable factual claim "
            "(yes) or only personal statements (no).",
            "A verifiable claim can be checked against a knowledge source such as Wikipedia.",
            labels=("yes", "no"),
            category="factuality",
            license="BSD-3-Clause",
            source=HOMEPAGE,
        ),
    )

    def read(self, directory: Path) -> Iterator[Row]:
        for where, data in readers.jsonl(directory / "dialfact_test_sample300.jsonl"):
            yield Row(where, data)

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        turns = get(row, "context", list)
        if not all(isinstance(t, str) for t in turns):
            raise RowError("expected a list of utterances", field="context")
        dialogue = "\n".join(t.strip() for t in turns)
        response = text(row, "response")
        label = get(row, "response_label", str)
        if label not in VERDICT:
            raise RowError(f"expected one of {sorted(VERDICT)}, got {label!r}", field="response_label")
        kind = get(row, "type_label", str)
        if kind not in ("factual", "personal"):
            raise RowError(f"expected factual or personal, got {kind!r}", field="type_label")
        evidence = get(row, "evidence_touse", (str, list), optional=True) or ""
        if isinstance(evidence, list):
            evidence = "\n".join(str(e) for e in evidence)
        yield classification(
            self.tasks[0].name,
            [("dialogue", dialogue), ("evidence", evidence), ("response", response)],
            VERDICT[label],
        )
        yield classification(
            self.tasks[1].name,
            [("dialogue", dialogue), ("response", response)],
            "yes" if kind == "factual" else "no",
        )
