"""`FakeJudge`: deterministic verdicts without a model, for fast tests of code built on the judge.

It scores text by a stable hash and a few visible cues (length and keyword overlap with the prompt),
so tests can build cases whose verdict they know. Real tests of the judge itself use the real model.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flame_judge.judge import (
    ClassificationRequest,
    PairwiseRequest,
    PointwiseRequest,
    Source,
    check_classification,
    check_pairwise,
    check_pointwise,
    classification_verdict,
    pairwise_verdict,
    pointwise_verdict,
)
from flame_judge.validation import check_labels, check_scale, request_where
from flame_judge.verdicts import ClassificationVerdict, PairwiseVerdict, PointwiseVerdict

if TYPE_CHECKING:
    from flame_judge.calibration import Calibration


def _quality(prompt: str, response: str) -> float:
    """A deterministic score in (-inf, inf): overlap with the prompt words, a little length, a hash."""
    words = {w.lower().strip(".,!?") for w in prompt.split()} - {""}
    said = {w.lower().strip(".,!?") for w in response.split()} - {""}
    overlap = len(words & said) / max(len(words), 1)
    noise = int(hashlib.sha256(f"{prompt}\0{response}".encode()).hexdigest()[:8], 16) / 2**32
    return 3.0 * overlap + 0.3 * math.log1p(len(said)) + 0.1 * noise


SOURCE = Source("fake", "fake@0")


class FakeJudge:
    """Same methods and verdict types as `Judge`; `calls` counts requests judged."""

    name = "fake"
    fingerprint = "fake@0"
    kind = "generative"

    def __init__(self, *, calibration: Calibration | None = None) -> None:
        self.calls = 0
        if calibration is not None:
            calibration.check(self.fingerprint)
        self.calibration = calibration

    def pairwise(self, prompt: str, a: str, b: str, *, criteria: str | None = None) -> PairwiseVerdict:
        return self.pairwise_batch([PairwiseRequest(prompt, a, b, criteria)])[0]

    def pairwise_batch(self, requests: Sequence[PairwiseRequest], **_: object) -> list[PairwiseVerdict]:
        requests = [check_pairwise(r, request_where("pairwise", i, len(requests))) for i, r in enumerate(requests)]
        out = []
        for r in requests:
            self.calls += 1
            p = 1 / (1 + math.exp(-(_quality(r.prompt, r.a) - _quality(r.prompt, r.b))))
            p = p if self.calibration is None else self.calibration.pair(p)
            out.append(pairwise_verdict(r, p, p, SOURCE, cached=False))
        return out

    def pointwise(
        self, prompt: str, response: str, *, criteria: str | None = None, scale: tuple[int, int] = (1, 5)
    ) -> PointwiseVerdict:
        return self.pointwise_batch([PointwiseRequest(prompt, response, criteria, check_scale("pointwise", scale))])[0]

    def pointwise_batch(self, requests: Sequence[PointwiseRequest], **_: object) -> list[PointwiseVerdict]:
        requests = [check_pointwise(r, request_where("pointwise", i, len(requests))) for i, r in enumerate(requests)]
        out = []
        for r in requests:
            self.calls += 1
            low, high = r.scale
            centre = low + (high - low) / (1 + math.exp(-(_quality(r.prompt, r.response) - 1.5)))
            weights = {str(v): math.exp(-((v - centre) ** 2)) for v in range(low, high + 1)}
            total = sum(weights.values())
            dist = {k: w / total for k, w in weights.items()}
            dist = dist if self.calibration is None else self.calibration.distribution("pointwise", dist)
            out.append(pointwise_verdict(r, dist, SOURCE, cached=False))
        return out

    def classify(
        self,
        context: str,
        response: str,
        *,
        labels: Sequence[str] = ("yes", "no"),
        criteria: str | None = None,
    ) -> ClassificationVerdict:
        return self.classify_batch(
            [ClassificationRequest(context, response, check_labels("classify", labels), criteria)]
        )[0]

    def classify_batch(self, requests: Sequence[ClassificationRequest], **_: object) -> list[ClassificationVerdict]:
        requests = [
            check_classification(r, request_where("classify", i, len(requests))) for i, r in enumerate(requests)
        ]
        out = []
        for r in requests:
            self.calls += 1
            # Supported (first label) when most response words appear in the context.
            said = [w.lower().strip(".,!?") for w in r.response.split()]
            known = {w.lower().strip(".,!?") for w in r.context.split()}
            share = sum(w in known for w in said) / max(len(said), 1)
            first = 0.05 + 0.9 * share
            rest = (1 - first) / (len(r.labels) - 1)
            dist = {label: (first if i == 0 else rest) for i, label in enumerate(r.labels)}
            dist = dist if self.calibration is None else self.calibration.distribution("classify", dist)
            out.append(classification_verdict(r, dist, SOURCE, cached=False))
        return out

    def close(self) -> None:
        """Nothing to release; present for parity with `Judge`."""
