"""`FakeJudge`: deterministic verdicts without a model, for fast tests of code built on the judge.

It scores text by a stable hash and a few visible cues (length and keyword overlap with the prompt),
so tests can build cases whose verdict they know. Real tests of the judge itself use the real model.
A subclass that overrides `prefer` (pairwise) or `label_probs` (pointwise, classification) is a
deliberately biased judge: the bias probes are tested that way.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flame_data import templates
from flame_data.schema import TaskSpec
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
from flame_judge.verdicts import ClassificationVerdict, JudgeKind, PairwiseVerdict, PointwiseVerdict

if TYPE_CHECKING:
    from flame_judge.calibration import Calibration


def _quality(prompt: str, response: str) -> float:
    """A deterministic score in (-inf, inf): overlap with the prompt words, a little length, a hash."""
    words = {w.lower().strip(".,!?") for w in prompt.split()} - {""}
    said = {w.lower().strip(".,!?") for w in response.split()} - {""}
    overlap = len(words & said) / max(len(words), 1)
    noise = int(hashlib.sha256(f"{prompt}\0{response}".encode()).hexdigest()[:8], 16) / 2**32
    return 3.0 * overlap + 0.3 * math.log1p(len(said)) + 0.1 * noise


class FakeJudge:
    """Same methods and verdict types as `Judge`; `calls` counts requests judged."""

    name = "fake"
    fingerprint = "fake@0"
    kind: JudgeKind = "generative"
    gives_labels: bool = True  # as `Judge.gives_labels`

    def __init__(self, *, calibration: Calibration | None = None) -> None:
        self.calls = 0
        if calibration is not None:
            calibration.check(self.fingerprint)
        self.calibration = calibration

    def pairwise(self, prompt: str, a: str, b: str, *, criteria: str | None = None) -> PairwiseVerdict:
        return self.pairwise_batch([PairwiseRequest(prompt, a, b, criteria)])[0]

    def pairwise_batch(self, requests: Sequence[PairwiseRequest], **_: object) -> list[PairwiseVerdict]:
        requests = [check_pairwise(r, request_where("pairwise", i, len(requests))) for i, r in enumerate(requests)]
        items = [(templates.pairwise_task(r.criteria), templates.pairwise_inputs(r.prompt, r.a, r.b)) for r in requests]
        probs = self.pair_probs(items)
        if self.calibration is not None:
            probs = [(self.calibration.pair(f), self.calibration.pair(s), hit) for f, s, hit in probs]
        return [
            pairwise_verdict(r, first, second, self.source, cached=False)
            for r, (first, second, _) in zip(requests, probs, strict=True)
        ]

    @property
    def source(self) -> Source:
        return Source(self.name, self.fingerprint, self.kind)

    def prefer(self, context: str, first: str, second: str) -> float:
        """P(the response shown first is better); override to build a biased fake."""
        return 1 / (1 + math.exp(-(_quality(context, first) - _quality(context, second))))

    def pair_probs(
        self, items: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], **_: object
    ) -> list[tuple[float, float, bool]]:
        """Like `Judge.pair_probs`: P(A better) with A shown first, with A shown second, cached."""
        out = []
        for _spec, fields in items:
            self.calls += 1
            context = "\n".join(value for _, value in fields[:-2])
            a, b = fields[-2][1], fields[-1][1]
            out.append((self.prefer(context, a, b), 1 - self.prefer(context, b, a), False))
        return out

    def label_probs(self, spec: TaskSpec, fields: Sequence[tuple[str, str]]) -> dict[str, float]:
        """The label distribution for a pointwise or classification task; override to bias it."""
        labels = spec.outputs[0].labels
        context = "\n".join(value for _, value in fields[:-1])
        response = fields[-1][1]
        if spec.task_type == "pointwise":
            values = [float(label) for label in labels]
            low, high = min(values), max(values)
            centre = low + (high - low) / (1 + math.exp(-(_quality(context, response) - 1.5)))
            weights = [math.exp(-((v - centre) ** 2)) for v in values]
            total = sum(weights)
            return {label: w / total for label, w in zip(labels, weights, strict=True)}
        # Supported (first label) when most response words appear in the context.
        said = [w.lower().strip(".,!?") for w in response.split()]
        known = {w.lower().strip(".,!?") for w in context.split()}
        share = sum(w in known for w in said) / max(len(said), 1)
        first = 0.05 + 0.9 * share
        rest = (1 - first) / (len(labels) - 1)
        return {label: (first if i == 0 else rest) for i, label in enumerate(labels)}

    def distributions(
        self, requests: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], **_: object
    ) -> list[tuple[dict[str, float], bool]]:
        """Like `Judge.distributions`: the label distribution of any task's inputs, and cached (never)."""
        self.calls += len(requests)
        return [(self.label_probs(spec, fields), False) for spec, fields in requests]

    def pointwise(
        self, prompt: str, response: str, *, criteria: str | None = None, scale: tuple[int, int] = (1, 5)
    ) -> PointwiseVerdict:
        return self.pointwise_batch([PointwiseRequest(prompt, response, criteria, check_scale("pointwise", scale))])[0]

    def pointwise_batch(self, requests: Sequence[PointwiseRequest], **_: object) -> list[PointwiseVerdict]:
        requests = [check_pointwise(r, request_where("pointwise", i, len(requests))) for i, r in enumerate(requests)]
        items = [
            (templates.pointwise_task(r.criteria, r.scale), templates.pointwise_inputs(r.prompt, r.response))
            for r in requests
        ]
        return [
            pointwise_verdict(r, self._calibrated("pointwise", dist), self.source, cached=False)
            for r, (dist, _) in zip(requests, self.distributions(items), strict=True)
        ]

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
        items = [
            (
                templates.classification_task(r.labels, r.criteria),
                templates.classification_inputs(r.context, r.response),
            )
            for r in requests
        ]
        return [
            classification_verdict(r, self._calibrated("classify", dist), self.source, cached=False)
            for r, (dist, _) in zip(requests, self.distributions(items), strict=True)
        ]

    def _calibrated(self, kind: str, dist: dict[str, float]) -> dict[str, float]:
        return dist if self.calibration is None else self.calibration.distribution(kind, dist)

    def close(self) -> None:
        """Nothing to release; present for parity with `Judge`."""
