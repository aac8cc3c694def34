"""Judged assertions: `assert_judged_better`, `assert_judged`, `assert_judged_faithful`.

Each returns the verdict so a test can inspect it, raises `JudgedAssertionError` (an AssertionError)
with an explanation when the judgment does not hold, and `JudgeUnavailableError` (reported as an
ERROR) when the judge cannot run.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from pytest_flame.session import (
    JudgedAssertionError,
    JudgeUnavailableError,
    Judgment,
    Stopwatch,
    current_session,
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


def _run(call):
    """Run a judge call, turning a runtime failure of the judge into JudgeUnavailableError."""
    __tracebackhide__ = True
    from flame_judge.errors import FlameError, InvalidRequestError

    try:
        return call()
    except InvalidRequestError:
        raise
    except (FlameError, RuntimeError, MemoryError) as exc:
        raise JudgeUnavailableError(f"flame: the judge could not run: {exc}") from exc


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
    session = current_session()
    model, device, default_margin = session.settings_for(session.current)
    need = default_margin if margin is None else float(margin)
    judge = session.judge(model, device)
    with Stopwatch() as clock:
        verdict = _run(lambda: judge.pairwise(prompt, candidate, baseline, criteria=criteria))
    passed = verdict.prob_a > 0.5 + need
    session.record(
        Judgment(
            nodeid=session.current.nodeid if session.current else "",
            assertion="assert_judged_better",
            passed=passed,
            value=verdict.prob_a,
            threshold=0.5 + need,
            criteria=criteria,
            model=verdict.fingerprint,
            cached=verdict.cached,
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
        )
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
            + f"  model: {verdict.fingerprint} ({'from cache' if verdict.cached else 'computed'})\n"
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
    session = current_session()
    model, device, _ = session.settings_for(session.current)
    judge = session.judge(model, device)
    with Stopwatch() as clock:
        verdict = _run(lambda: judge.pointwise(prompt, response, criteria=criteria, scale=scale))
    passed = verdict.score >= min_score
    session.record(
        Judgment(
            nodeid=session.current.nodeid if session.current else "",
            assertion="assert_judged",
            passed=passed,
            value=verdict.score,
            threshold=float(min_score),
            criteria=criteria,
            model=verdict.fingerprint,
            cached=verdict.cached,
            seconds=clock.seconds,
            details={"distribution": dict(verdict.distribution), "prompt": prompt, "response": response},
        )
    )
    if not passed:
        dist = ", ".join(f"{k}: {v:.2f}" for k, v in verdict.distribution.items())
        raise JudgedAssertionError(
            f"flame scored the response {verdict.score:.2f} on {low}-{high} for {criteria}, "
            f"below min_score {min_score}\n"
            f"  score distribution: {dist}\n"
            f"  model: {verdict.fingerprint} ({'from cache' if verdict.cached else 'computed'})\n"
            + _texts(prompt=prompt, response=response)
        )
    return verdict


def assert_judged_faithful(response: str, *, source: str, margin: float | None = None) -> ClassificationVerdict:
    """Assert the judge finds every claim of `response` supported by `source`: P(yes) > 0.5 + margin."""
    __tracebackhide__ = True
    _check_text("response", response)
    _check_text("source", source)
    session = current_session()
    model, device, default_margin = session.settings_for(session.current)
    need = default_margin if margin is None else float(margin)
    criteria = "whether every claim in the response is supported by the context"
    judge = session.judge(model, device)
    with Stopwatch() as clock:
        verdict = _run(lambda: judge.classify(source, response, labels=("yes", "no"), criteria=criteria))
    p_yes = verdict.probabilities["yes"]
    passed = p_yes > 0.5 + need
    session.record(
        Judgment(
            nodeid=session.current.nodeid if session.current else "",
            assertion="assert_judged_faithful",
            passed=passed,
            value=p_yes,
            threshold=0.5 + need,
            criteria="faithfulness",
            model=verdict.fingerprint,
            cached=verdict.cached,
            seconds=clock.seconds,
            details={"source": source, "response": response},
        )
    )
    if not passed:
        raise JudgedAssertionError(
            f"flame judged the response NOT faithful to the source\n"
            f"  P(supported) = {p_yes:.3f}, needs > {0.5 + need:.3f} (margin {need:.3f})\n"
            f"  model: {verdict.fingerprint} ({'from cache' if verdict.cached else 'computed'})\n"
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
