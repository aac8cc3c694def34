"""`Judge`: pairwise, pointwise and classification verdicts from a local model, with a cache."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data import templates
from flame_data.schema import TaskSpec
from flame_judge.cache import JudgmentCache, cache_key
from flame_judge.errors import InvalidRequestError
from flame_judge.paths import default_judgment_cache
from flame_judge.scoring import GenerativeBackend, LabelQuery
from flame_judge.validation import check_criteria, check_labels, check_scale, check_text, request_where
from flame_judge.verdicts import (
    ClassificationVerdict,
    JudgeKind,
    PairwiseVerdict,
    PointwiseVerdict,
    frozen_mapping,
)

if TYPE_CHECKING:
    from flame_judge.backends import RewardScorer
    from flame_judge.calibration import Calibration
    from flame_judge.rater import RaterBackend

DEFAULT_MAX_INPUT_TOKENS = 2048  # label scoring's token budget unless Judge.load is given one


@dataclass(frozen=True)
class PairwiseRequest:
    prompt: str
    a: str
    b: str
    criteria: str | None = None


@dataclass(frozen=True)
class PointwiseRequest:
    prompt: str
    response: str
    criteria: str | None = None
    scale: tuple[int, int] = (1, 5)


@dataclass(frozen=True)
class ClassificationRequest:
    context: str
    response: str
    labels: tuple[str, ...] = ("yes", "no")
    criteria: str | None = None


@dataclass(frozen=True)
class Source:
    """Who gave a verdict: shared by every verdict a judge (or a fake) builds."""

    model: str
    fingerprint: str
    kind: JudgeKind = "generative"


def pairwise_verdict(
    r: PairwiseRequest,
    p_first: float,
    p_second: float,
    src: Source,
    cached: bool,
    *,
    truncated: tuple[str, ...] = (),
) -> PairwiseVerdict:
    """P(A better) from each order, averaged (a reward judge passes the same P twice); the winner by the average."""
    prob_a = (p_first + p_second) / 2
    winner = "A" if prob_a > 0.5 else "B" if prob_a < 0.5 else "tie"
    return PairwiseVerdict(
        winner,
        prob_a,
        p_first,
        p_second,
        r.prompt,
        r.a,
        r.b,
        r.criteria,
        src.model,
        src.fingerprint,
        src.kind,
        cached,
        truncated,
    )


@dataclass(frozen=True)
class TaskProbs:
    """One request's probabilities over its task's labels, cache use, the cut fields, and what gave them."""

    labels: tuple[str, ...]
    probs: list[float]
    cached: bool
    truncated: tuple[str, ...]
    kind: JudgeKind


@dataclass(frozen=True)
class PairScore:
    """One pair's probabilities: P(A better) with A shown first and second, cache use, and the cut fields."""

    prob_a_first: float
    prob_a_second: float
    cached: bool
    truncated: tuple[str, ...] = ()


def pointwise_verdict(
    r: PointwiseRequest, dist: dict[str, float], src: Source, cached: bool, *, truncated: tuple[str, ...] = ()
) -> PointwiseVerdict:
    score = sum(int(label) * prob for label, prob in dist.items())
    return PointwiseVerdict(
        score,
        frozen_mapping(dist),
        r.scale,
        r.prompt,
        r.response,
        r.criteria,
        src.model,
        src.fingerprint,
        src.kind,
        cached,
        truncated,
    )


def classification_verdict(
    r: ClassificationRequest, dist: dict[str, float], src: Source, cached: bool, *, truncated: tuple[str, ...] = ()
) -> ClassificationVerdict:
    return ClassificationVerdict(
        max(dist, key=lambda k: dist[k]),
        frozen_mapping(dist),
        r.context,
        r.response,
        r.criteria,
        src.model,
        src.fingerprint,
        src.kind,
        cached,
        truncated,
    )


def check_pairwise(r: object, where: str = "pairwise") -> PairwiseRequest:
    """`r` checked field by field (InvalidRequestError says which field and what to pass)."""
    if not isinstance(r, PairwiseRequest):
        raise InvalidRequestError(f"{where}: expected a PairwiseRequest, got {type(r).__name__}")
    for name in ("prompt", "a", "b"):
        check_text(where, name, getattr(r, name))
    check_criteria(where, r.criteria)
    return r


def check_pointwise(r: object, where: str = "pointwise") -> PointwiseRequest:
    if not isinstance(r, PointwiseRequest):
        raise InvalidRequestError(f"{where}: expected a PointwiseRequest, got {type(r).__name__}")
    check_text(where, "prompt", r.prompt)
    check_text(where, "response", r.response)
    check_criteria(where, r.criteria)
    scale = check_scale(where, r.scale)
    return (
        r
        if r.scale == scale and isinstance(r.scale, tuple)
        else PointwiseRequest(r.prompt, r.response, r.criteria, scale)
    )


def check_classification(r: object, where: str = "classify") -> ClassificationRequest:
    if not isinstance(r, ClassificationRequest):
        raise InvalidRequestError(f"{where}: expected a ClassificationRequest, got {type(r).__name__}")
    check_text(where, "context", r.context)
    check_text(where, "response", r.response)
    check_criteria(where, r.criteria)
    labels = check_labels(where, r.labels)
    return r if r.labels == labels else ClassificationRequest(r.context, r.response, labels, r.criteria)


def trained_input_tokens(directory: Path, default: int = 2048) -> int:
    """The input length a judge was trained with, from its flame.json (`config.max_length`)."""
    import json

    try:
        meta = json.loads((directory / "flame.json").read_text())
    except (OSError, ValueError):
        return default
    for section, key in (("config", "max_length"), ("reward_model", "max_input_tokens")):
        try:
            return int(meta[section][key])
        except (KeyError, TypeError, ValueError):
            continue
    return default


def _trained_input_tokens(model: str | os.PathLike[str] | None) -> int:
    """`trained_input_tokens` of the judge a model spec names (a served model: the default budget)."""
    from flame_judge.loading import parse_spec, resolve

    spec = parse_spec(model)
    if spec.engine == "remote" or spec.target is None:
        return DEFAULT_MAX_INPUT_TOKENS
    found = resolve(spec.target)
    return trained_input_tokens(found.adapter or found.directory)


def _softmax(logps: Sequence[float]) -> list[float]:
    top = max(logps)
    exps = [math.exp(v - top) for v in logps]
    total = sum(exps)
    return [e / total for e in exps]


class Judge:
    """A loaded judge. A single call is a batch of one; batch calls keep the input order."""

    def __init__(
        self,
        backend: GenerativeBackend,
        *,
        cache: JudgmentCache | None = None,
        reward: RewardScorer | None = None,
        calibration: Calibration | None = None,
        rater: RaterBackend | None = None,
    ) -> None:
        from flame_judge.cache import numerics
        from flame_judge.loading import weights_dtype

        self.backend = backend
        self.cache = cache
        self.reward = reward  # when set, pairwise verdicts are reward-kind (a Bradley-Terry head or a reward model)
        self.rater = rater  # when set, pointwise / classification verdicts it supports come from its heads
        if calibration is not None:
            calibration.check(backend.fingerprint)
        self.calibration = calibration  # temperature scaling applied to every verdict
        device = backend.loaded.device
        self.numerics = numerics(device.type, weights_dtype(device))  # part of every cache key

    @classmethod
    def load(
        cls,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        cache: bool | str | os.PathLike[str] = True,
        max_input_tokens: int | None = None,
        batch_tokens: int = 16384,
        eager: bool = False,
        calibration: Calibration | str | os.PathLike[str] | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> Judge:
        """Open `model`: None (the default judge), a known name, a local directory, a hub id (`org/name`,
        from the local Hugging Face cache), `vllm:` any of those (vLLM in-process), or a served model
        (`http://host:port/v1#served-name`). See `flame_judge.loading.ModelSpec`.

        A one-label `*ForSequenceClassification` folder is a reward-kind judge. `engine_options` go to the
        engine (vLLM: `LLM(...)` keyword arguments such as `tensor_parallel_size`; remote: `timeout_s`,
        `retries`). `calibration`: a `flame calibrate` result (or its calibration.json) fitted for this judge.

        `max_input_tokens` is the token budget of one model input; None gives each path the budget the
        judge was trained with: label scoring its flame.json `config.max_length` (else
        DEFAULT_MAX_INPUT_TOKENS), a reward head the budget it was fitted at (384 for flame-smol). What a
        budget cut is named in each verdict's `truncated`. The weights load on the first request the
        cache cannot answer (`eager=True`: now).
        """
        from flame_judge.backends.build import build

        if calibration is not None and not hasattr(calibration, "temperatures"):
            from flame_judge.calibration import Calibration

            calibration = Calibration.read(calibration)  # type: ignore[arg-type]
        backend, reward, rater = build(
            model,
            device=device,
            max_input_tokens=max_input_tokens or _trained_input_tokens(model),
            reward_max_input_tokens=max_input_tokens,
            batch_tokens=batch_tokens,
            eager=eager,
            options=dict(engine_options or {}),
        )
        store = None
        if cache is not False:
            store = JudgmentCache(default_judgment_cache() if cache is True else Path(cache))
        return cls(backend, cache=store, reward=reward, calibration=calibration, rater=rater)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def fingerprint(self) -> str:
        return self.backend.fingerprint

    @property
    def kind(self) -> JudgeKind:
        """How pairwise verdicts are made: "reward" (a Bradley-Terry head) or "generative" (A/B labels)."""
        return "reward" if self.reward is not None else "generative"

    @property
    def gives_labels(self) -> bool:
        """Whether it gives pointwise and classification verdicts (label probabilities): False for a
        reward model on its own, which only compares responses."""
        return self.backend.engine.model_kind == "generative"

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.backend.engine.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scoring with the cache -------------------------------------------------------------

    def _label_probs(
        self, queries: Sequence[LabelQuery], *, batch_size: int | None = None
    ) -> list[tuple[list[float], bool]]:
        """Per query: probabilities normalized over its labels, and whether it came from the cache."""
        keys = [cache_key(self.fingerprint, "generative", q.text, q.labels, numerics=self.numerics) for q in queries]
        hits = self.cache.get_many(keys) if self.cache is not None else {}
        todo = {k: q for k, q in zip(keys, queries, strict=True) if k not in hits}
        computed: dict[str, list[float]] = {}
        if todo:
            scores = self.backend.score(list(todo.values()), batch_size=batch_size)
            computed = dict(zip(todo, scores, strict=True))
            if self.cache is not None:
                self.cache.put_many(computed, fingerprint=self.fingerprint)
        return [(_softmax(hits[k]), True) if k in hits else (_softmax(computed[k]), False) for k in keys]

    def distributions(
        self, requests: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], *, batch_size: int | None = None
    ) -> list[tuple[dict[str, float], bool]]:
        """Label distribution (and whether it came from the cache) for any task's labelled inputs."""
        return [(dict(zip(t.labels, t.probs, strict=True)), t.cached) for t in self._task_probs(requests, batch_size)]

    def _task_probs(
        self, requests: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], batch_size: int | None = None
    ) -> list[TaskProbs]:
        """Each request's label distribution: from the rater head where it judges the task, else from
        the label tokens."""
        out: list[TaskProbs | None] = [None] * len(requests)
        rater = self.rater
        rated = [i for i, (spec, _) in enumerate(requests) if rater is not None and rater.supports(spec)]
        if rater is not None and rated:
            items = [(requests[i][0], rater.prepare(*requests[i])) for i in rated]
            keys = [
                cache_key(
                    self.fingerprint, f"head-{spec.task_type}", q.key, spec.outputs[0].labels, numerics=self.numerics
                )
                for spec, q in items
            ]
            hits = self.cache.get_many(keys) if self.cache is not None else {}
            todo = [(k, item) for k, item in zip(keys, items, strict=True) if k not in hits]
            computed: dict[str, list[float]] = {}
            if todo:
                logps = rater.log_probs([item for _, item in todo], batch_size=batch_size)
                computed = {k: lp for (k, _), lp in zip(todo, logps, strict=True)}
                if self.cache is not None:
                    self.cache.put_many(computed, fingerprint=self.fingerprint)
            for i, k, (spec, q) in zip(rated, keys, items, strict=True):
                logp = hits[k] if k in hits else computed[k]
                out[i] = TaskProbs(spec.outputs[0].labels, _softmax(logp), k in hits, q.query.truncated, "head")
        rest = [i for i in range(len(requests)) if out[i] is None]
        queries = [self._query(*requests[i]) for i in rest]
        for i, q, (p, hit) in zip(rest, queries, self._label_probs(queries, batch_size=batch_size), strict=True):
            out[i] = TaskProbs(q.labels, p, hit, q.truncated, "generative")
        assert all(t is not None for t in out)
        return out  # type: ignore[return-value]

    def _query(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> LabelQuery:
        return self.backend.prepare(spec, inputs)

    # -- pairwise -----------------------------------------------------------------------------

    def pairwise(self, prompt: str, a: str, b: str, *, criteria: str | None = None) -> PairwiseVerdict:
        return self.pairwise_batch([PairwiseRequest(prompt, a, b, criteria)])[0]

    def pairwise_batch(
        self, requests: Sequence[PairwiseRequest], *, batch_size: int | None = None
    ) -> list[PairwiseVerdict]:
        requests = [check_pairwise(r, request_where("pairwise", i, len(requests))) for i, r in enumerate(requests)]
        items = []
        for r in requests:
            items.append((templates.pairwise_task(r.criteria), templates.pairwise_inputs(r.prompt, r.a, r.b)))
        src = Source(self.name, self.fingerprint, self.kind)
        return [
            pairwise_verdict(
                r,
                self._calibrated_pair(s.prob_a_first),
                self._calibrated_pair(s.prob_a_second),
                src,
                s.cached,
                truncated=s.truncated,
            )
            for r, s in zip(requests, self.pair_scores(items, batch_size=batch_size), strict=True)
        ]

    def pair_probs(
        self, items: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], *, batch_size: int | None = None
    ) -> list[tuple[float, float, bool]]:
        """Per pairwise task input (the two responses last): P(A better) with A shown first, with A
        shown second, and whether it came from the cache. A reward judge has no order: both are equal.
        """
        return [(s.prob_a_first, s.prob_a_second, s.cached) for s in self.pair_scores(items, batch_size=batch_size)]

    def pair_scores(
        self, items: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], *, batch_size: int | None = None
    ) -> list[PairScore]:
        """`pair_probs` with the names of the input fields each pair had cut to fit the budget."""
        if self.reward is not None:
            return self._reward_scores(items, batch_size=batch_size)
        requests: list[tuple[TaskSpec, Sequence[tuple[str, str]]]] = []
        for spec, fields in items:
            (la, a), (lb, b) = fields[-2], fields[-1]
            requests.append((spec, fields))
            requests.append((spec, (*fields[:-2], (la, b), (lb, a))))
        queries = [self._query(spec, inputs) for spec, inputs in requests]
        probs = self._label_probs(queries, batch_size=batch_size)
        out = []
        for k, (_, fields) in enumerate(items):
            (first, hit1), (second, hit2) = probs[2 * k], probs[2 * k + 1]
            la, lb = fields[-2][0], fields[-1][0]
            labels = queries[2 * k].labels
            pa, pb = labels.index("A"), labels.index("B")
            # The swapped order shows B under A's label: name its cuts after the request's fields.
            swapped = {la: lb, lb: la}
            cut = {*queries[2 * k].truncated, *(swapped.get(n, n) for n in queries[2 * k + 1].truncated)}
            out.append(
                PairScore(
                    first[pa] / (first[pa] + first[pb]),  # A shown first
                    second[pb] / (second[pa] + second[pb]),  # A shown second
                    hit1 and hit2,
                    tuple(name for name, _ in fields if name in cut),
                )
            )
        return out

    def _reward_scores(
        self, items: Sequence[tuple[TaskSpec, Sequence[tuple[str, str]]]], *, batch_size: int | None = None
    ) -> list[PairScore]:
        from flame_judge.reward import prob_a

        reward = self.reward
        if reward is None:
            raise InvalidRequestError(f"{self.name} has no reward head to score pairs with")
        pairs = [reward.prepare(spec, fields) for spec, fields in items]
        queries = [q for pair in pairs for q in pair]
        keys = [cache_key(self.fingerprint, "reward", q.key, (), numerics=self.numerics) for q in queries]
        hits = self.cache.get_many(keys) if self.cache is not None else {}
        todo = {k: q for k, q in zip(keys, queries, strict=True) if k not in hits}
        computed: dict[str, list[float]] = {}
        if todo:
            scores = reward.score(list(todo.values()), batch_size=batch_size)
            computed = {k: [r] for k, r in zip(todo, scores, strict=True)}
            if self.cache is not None:
                self.cache.put_many(computed, fingerprint=self.fingerprint)
        rewards = [(hits[k] if k in hits else computed[k])[0] for k in keys]
        out = []
        for k, ((_, fields), (qa, qb)) in enumerate(zip(items, pairs, strict=True)):
            p = prob_a(rewards[2 * k], rewards[2 * k + 1])
            cut = set(qa.context_cut)  # the same for both responses
            cut |= {fields[-2][0]} if qa.response_cut else set()
            cut |= {fields[-1][0]} if qb.response_cut else set()
            hit = keys[2 * k] in hits and keys[2 * k + 1] in hits
            out.append(PairScore(p, p, hit, tuple(name for name, _ in fields if name in cut)))
        return out

    # -- pointwise ----------------------------------------------------------------------------

    def pointwise(
        self, prompt: str, response: str, *, criteria: str | None = None, scale: tuple[int, int] = (1, 5)
    ) -> PointwiseVerdict:
        return self.pointwise_batch([PointwiseRequest(prompt, response, criteria, check_scale("pointwise", scale))])[0]

    def pointwise_batch(
        self, requests: Sequence[PointwiseRequest], *, batch_size: int | None = None
    ) -> list[PointwiseVerdict]:
        requests = [check_pointwise(r, request_where("pointwise", i, len(requests))) for i, r in enumerate(requests)]
        items = [
            (templates.pointwise_task(r.criteria, r.scale), templates.pointwise_inputs(r.prompt, r.response))
            for r in requests
        ]
        return [
            pointwise_verdict(
                r,
                self._calibrated("pointwise", dict(zip(t.labels, t.probs, strict=True))),
                Source(self.name, self.fingerprint, t.kind),
                t.cached,
                truncated=t.truncated,
            )
            for r, t in zip(requests, self._task_probs(items, batch_size), strict=True)
        ]

    # -- classification -----------------------------------------------------------------------

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

    def classify_batch(
        self, requests: Sequence[ClassificationRequest], *, batch_size: int | None = None
    ) -> list[ClassificationVerdict]:
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
            classification_verdict(
                r,
                self._calibrated("classify", dict(zip(t.labels, t.probs, strict=True))),
                Source(self.name, self.fingerprint, t.kind),
                t.cached,
                truncated=t.truncated,
            )
            for r, t in zip(requests, self._task_probs(items, batch_size), strict=True)
        ]

    def _calibrated_pair(self, prob_a: float) -> float:
        return prob_a if self.calibration is None else self.calibration.pair(prob_a)

    def _calibrated(self, kind: str, dist: dict[str, float]) -> dict[str, float]:
        return dist if self.calibration is None else self.calibration.distribution(kind, dist)
