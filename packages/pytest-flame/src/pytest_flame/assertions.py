"""Judged assertions: `assert_judged_better`, `assert_judged`, `assert_judged_faithful`.

Each returns the verdict so a test can inspect it, raises `JudgedAssertionError` (an AssertionError)
with an explanation when the judgment does not hold, and `JudgeUnavailableError` (reported as an
ERROR) when the judge cannot run.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from pytest_flame.session import (
    Answer,
    JudgedAssertionError,
    JudgeUnavailableError,
    Judgment,
    Mode,
    Stopwatch,
    current_session,
    finish,
)

if TYPE_CHECKING:
    from flame_judge.verdicts import ClassificationVerdict, PairwiseVerdict, PointwiseVerdict

SHOWN = 300  # characters of each text in a failure message


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN else flat[: SHOWN - 5] + " [...]"


def _texts(**texts: str) -> str:
    width = max(len(k) for k in texts) + 1
    return "\n".join(textwrap.indent(f"{(k + ':').ljust(width)} {_short(v)}", "  ") for k, v in texts.items())


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"pytest-flame: {name} must be a string, got {type(value).__name__}")


_SOURCE_WORDS = {"lock": "from the lock", "cache": "from cache", "computed": "computed"}


def _one(mode: Mode, request: object, assertion: str) -> Answer:
    """The verdict for one request through the session (lock, cache or judge)."""
    __tracebackhide__ = True
    return current_session().verdicts(mode, [request], assertion=assertion)[0]  # type: ignore[list-item]


def _judgment(answer: Answer, **values: object) -> Judgment:
    nodeid = current_session().current
    return Judgment(
        nodeid=nodeid.nodeid if nodeid is not None else "",
        model=answer.verdict.fingerprint,
        cached=answer.source != "computed",
        source=answer.source,
        new=int(answer.new),
        from_lock=int(answer.source == "lock"),
        **values,  # type: ignore[arg-type]
    )


def assert_judged_better(
    candidate: str, baseline: str, *, prompt: str, criteria: str | None = None, margin: float | None = None
) -> PairwiseVerdict:
    """Assert the judge prefers `candidate` over `baseline`: P(candidate better) > 0.5 + margin.

    A generative judge scores both presentation orders and averages them; a reward judge (the default)
    scores each response alone, so there is no order. `margin` defaults to `--flame-margin` or the
    test's `@pytest.mark.flame(margin=...)`.
    """
    __tracebackhide__ = True
    for name, value in (("candidate", candidate), ("baseline", baseline), ("prompt", prompt)):
        _check_text(name, value)
    from flame_judge.judge import PairwiseRequest

    session = current_session()
    _, _, default_margin = session.settings_for(session.current)
    need = default_margin if margin is None else float(margin)
    with Stopwatch() as clock:
        answer = _one("pairwise", PairwiseRequest(prompt, candidate, baseline, criteria), "assert_judged_better")
    verdict: PairwiseVerdict = answer.verdict
    passed = verdict.prob_a > 0.5 + need
    session.record(
        _judgment(
            answer,
            assertion="assert_judged_better",
            passed=passed,
            value=verdict.prob_a,
            threshold=0.5 + need,
            criteria=criteria,
            seconds=clock.seconds,
            details={
                "prob_candidate_first": verdict.prob_a_first,
                "prob_candidate_second": verdict.prob_a_second,
                "order_consistent": verdict.order_consistent,
                "kind": verdict.kind,
                "prompt": prompt,
                "candidate": candidate,
                "baseline": baseline,
            },
        ),
        [finish(answer.entry, threshold=0.5 + need, passed=passed)],
    )
    if not passed:
        if verdict.kind == "reward":
            how = "  each response scored alone by the judge's reward head (no presentation order)\n"
        else:
            orders = "orders agree" if verdict.order_consistent else "orders disagree"
            how = (
                f"  candidate shown first: {verdict.prob_a_first:.3f}; baseline shown first: "
                f"{verdict.prob_a_second:.3f} ({orders})\n"
            )
        raise JudgedAssertionError(
            "flame judged the candidate NOT better than the baseline "
            f"(criteria: {criteria or 'overall quality'})\n"
            f"  P(candidate better) = {verdict.prob_a:.3f}, needs > {0.5 + need:.3f} (margin {need:.3f})\n"
            + how
            + f"  model: {verdict.fingerprint} ({_SOURCE_WORDS[answer.source]})\n"
            + _texts(prompt=prompt, candidate=candidate, baseline=baseline)
        )
    return verdict


def assert_judged(
    response: str, *, prompt: str, criteria: str, min_score: float, scale: tuple[int, int] = (1, 5)
) -> PointwiseVerdict:
    """Assert the judge's expected score for `response` on `scale` is at least `min_score`."""
    __tracebackhide__ = True
    _check_text("response", response)
    _check_text("prompt", prompt)
    low, high = scale
    if not low <= min_score <= high:
        raise ValueError(f"pytest-flame: min_score {min_score} is outside the scale {scale}")
    from flame_judge.judge import PointwiseRequest

    session = current_session()
    with Stopwatch() as clock:
        answer = _one("pointwise", PointwiseRequest(prompt, response, criteria, (low, high)), "assert_judged")
    verdict: PointwiseVerdict = answer.verdict
    passed = verdict.score >= min_score
    session.record(
        _judgment(
            answer,
            assertion="assert_judged",
            passed=passed,
            value=verdict.score,
            threshold=float(min_score),
            criteria=criteria,
            seconds=clock.seconds,
            details={"distribution": dict(verdict.distribution), "prompt": prompt, "response": response},
        ),
        [finish(answer.entry, threshold=float(min_score), passed=passed)],
    )
    if not passed:
        dist = ", ".join(f"{k}: {v:.2f}" for k, v in verdict.distribution.items())
        raise JudgedAssertionError(
            f"flame scored the response {verdict.score:.2f} on {low}-{high} for {criteria}, "
            f"below min_score {min_score}\n"
            f"  score distribution: {dist}\n"
            f"  model: {verdict.fingerprint} ({_SOURCE_WORDS[answer.source]})\n"
            + _texts(prompt=prompt, response=response)
        )
    return verdict


def assert_judged_faithful(response: str, *, source: str, margin: float | None = None) -> ClassificationVerdict:
    """Assert the judge finds every claim of `response` supported by `source`: P(yes) > 0.5 + margin."""
    __tracebackhide__ = True
    _check_text("response", response)
    _check_text("source", source)
    from flame_judge.judge import ClassificationRequest

    session = current_session()
    _, _, default_margin = session.settings_for(session.current)
    need = default_margin if margin is None else float(margin)
    criteria = "whether every claim in the response is supported by the context"
    request = ClassificationRequest(source, response, ("yes", "no"), criteria)
    with Stopwatch() as clock:
        answer = _one("classify", request, "assert_judged_faithful")
    verdict: ClassificationVerdict = answer.verdict
    p_yes = verdict.probabilities["yes"]
    passed = p_yes > 0.5 + need
    session.record(
        _judgment(
            answer,
            assertion="assert_judged_faithful",
            passed=passed,
            value=p_yes,
            threshold=0.5 + need,
            criteria="faithfulness",
            seconds=clock.seconds,
            details={"source": source, "response": response},
        ),
        [finish(answer.entry, threshold=0.5 + need, passed=passed)],
    )
    if not passed:
        raise JudgedAssertionError(
            f"flame judged the response NOT faithful to the source\n"
            f"  P(supported) = {p_yes:.3f}, needs > {0.5 + need:.3f} (margin {need:.3f})\n"
            f"  model: {verdict.fingerprint} ({_SOURCE_WORDS[answer.source]})\n"
            + _texts(source=source, response=response)
        )
    return verdict


__all__ = [
    "JudgeUnavailableError",
    "JudgedAssertionError",
    "assert_judged",
    "assert_judged_better",
    "assert_judged_faithful",
]
