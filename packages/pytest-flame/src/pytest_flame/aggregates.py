"""Statistical assertions over many cases: `assert_win_rate` (pairwise) and `assert_mean_score` (pointwise).

A single verdict is too noisy to gate a release on; a rate over many cases with a confidence interval
is not. All cases are judged in one batch, and the assertion passes only when the interval's lower
bound clears the bar, so a lucky few cases cannot carry it. No re-run marker is needed: verdicts are
deterministic, so judging the same case twice gives the same answer and adds no information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_flame.assertions import _check_text, _short
from pytest_flame.session import JudgedAssertionError, Judgment, Stopwatch, current_session, finish
from pytest_flame.stats import t_interval, wilson_interval

if TYPE_CHECKING:
    from flame_judge.verdicts import PairwiseVerdict, PointwiseVerdict

WORST = 3  # cases shown in a failure message


@dataclass(frozen=True)
class WinRate:
    """The candidate's win rate over the baseline (ties 0.5) with its two-sided Wilson interval."""

    rate: float
    low: float
    high: float
    n: int
    confidence: float
    verdicts: tuple[PairwiseVerdict, ...]


@dataclass(frozen=True)
class MeanScore:
    """The mean pointwise score with its two-sided Student's t interval."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    verdicts: tuple[PointwiseVerdict, ...]


def _cases(cases: object, width: int, names: tuple[str, ...]) -> list[tuple[str, ...]]:
    if isinstance(cases, str | bytes) or not isinstance(cases, Sequence):
        raise TypeError(f"pytest-flame: cases must be a sequence of {names} tuples, got {type(cases).__name__}")
    out = []
    for number, case in enumerate(cases):
        if isinstance(case, str) or not isinstance(case, Sequence) or len(case) != width:
            raise TypeError(f"pytest-flame: case {number} must be a {names} tuple, got {case!r:.80}")
        for name, value in zip(names, case, strict=True):
            _check_text(f"case {number} {name}", value)
        out.append(tuple(case))
    return out


def _level(name: str, value: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"pytest-flame: {name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def _source(answers: Sequence[Any]) -> str:
    sources = {a.source for a in answers}
    return sources.pop() if len(sources) == 1 else "mixed"


def _record(
    session: Any,
    assertion: str,
    answers: Sequence[Any],
    *,
    passed: bool,
    value: float,
    threshold: float,
    criteria: str | None,
    seconds: float,
    details: dict[str, Any],
    entries: list[Any],
) -> None:
    """One Judgment for an aggregate assertion over `answers`, with each case's lock entry."""
    item = session.current
    session.record(
        Judgment(
            nodeid=item.nodeid if item is not None else "",
            assertion=assertion,
            passed=passed,
            value=value,
            threshold=threshold,
            criteria=criteria,
            model=answers[0].verdict.fingerprint,
            cached=all(a.source != "computed" for a in answers),
            seconds=seconds,
            details=details,
            source=_source(answers),
            new=sum(a.new for a in answers),
            from_lock=sum(a.source == "lock" for a in answers),
        ),
        entries,
    )


def assert_win_rate(
    cases: Sequence[tuple[str, str, str]], *, at_least: float, confidence: float = 0.95, criteria: str | None = None
) -> WinRate:
    """Assert the candidate beats the baseline often enough over `cases` of (prompt, candidate, baseline).

    Each case scores 1 (candidate better), 0.5 (a tie: exactly 0.5, or the two presentation orders
    disagree; `flame_judge.metrics.pair_credit`) or 0. Passes when the lower bound of the two-sided
    Wilson score interval at `confidence` is at least `at_least`.
    """
    __tracebackhide__ = True
    from flame_judge.judge import PairwiseRequest
    from flame_judge.metrics import pair_credit

    rows = _cases(cases, 3, ("prompt", "candidate", "baseline"))
    bar = _level("at_least", at_least, 0.0, 1.0)
    level = _level("confidence", confidence, 0.0, 1.0)
    if not rows:
        raise ValueError("pytest-flame: assert_win_rate needs at least one case")
    session = current_session()
    requests = [PairwiseRequest(p, c, b, criteria) for p, c, b in rows]
    with Stopwatch() as clock:
        answers = session.verdicts("pairwise", requests, assertion="assert_win_rate")
    verdicts = tuple(a.verdict for a in answers)
    credits = [float(pair_credit(v.prob_a_first, v.prob_a_second, "A") or 0.0) for v in verdicts]
    rate = sum(credits) / len(credits)
    low, high = wilson_interval(rate, len(credits), confidence=level)
    passed = low >= bar
    table = [
        {
            "prompt": v.prompt,
            "candidate": v.a,
            "baseline": v.b,
            "prob_candidate": v.prob_a,
            "prob_candidate_first": v.prob_a_first,
            "prob_candidate_second": v.prob_a_second,
            "credit": c,
            "source": a.source,
        }
        for v, c, a in zip(verdicts, credits, answers, strict=True)
    ]
    _record(
        session,
        "assert_win_rate",
        answers,
        passed=passed,
        value=low,
        threshold=bar,
        criteria=criteria,
        seconds=clock.seconds,
        details={
            "rate": rate,
            "interval": [low, high],
            "interval_method": "wilson",
            "confidence": level,
            "n": len(credits),
            "ties": sum(c == 0.5 for c in credits),
            "cases": table,
        },
        entries=[finish(a.entry, threshold=0.5, passed=c == 1.0) for a, c in zip(answers, credits, strict=True)],
    )
    if not passed:
        ties = sum(c == 0.5 for c in credits)
        worst = sorted(range(len(verdicts)), key=lambda i: verdicts[i].prob_a)[:WORST]
        lines = [
            f"  {rank}. P(candidate better) = {verdicts[i].prob_a:.3f}; prompt: {_short(verdicts[i].prompt)}\n"
            f"     candidate: {_short(verdicts[i].a)}\n     baseline:  {_short(verdicts[i].b)}"
            for rank, i in enumerate(worst, start=1)
        ]
        raise JudgedAssertionError(
            f"flame: the candidate's win rate is too uncertain or too low (criteria: {criteria or 'overall quality'})\n"
            f"  win rate = {rate:.3f} over n = {len(credits)} cases (ties count 0.5; {ties} ties)\n"
            f"  {level:.0%} Wilson interval [{low:.3f}, {high:.3f}]; needs a lower bound >= {bar:.3f}\n"
            f"  model: {verdicts[0].fingerprint}\n  worst cases:\n" + "\n".join(lines)
        )
    return WinRate(rate, low, high, len(credits), level, verdicts)


def assert_mean_score(
    cases: Sequence[tuple[str, str]],
    *,
    at_least: float,
    criteria: str | None = None,
    scale: tuple[int, int] = (1, 5),
    confidence: float = 0.95,
) -> MeanScore:
    """Assert the mean pointwise score over `cases` of (prompt, response) is high enough: the lower
    bound of the two-sided Student's t interval at `confidence` is at least `at_least`."""
    __tracebackhide__ = True
    from flame_judge.judge import PointwiseRequest

    rows = _cases(cases, 2, ("prompt", "response"))
    low_s, high_s = scale
    bar = _level("at_least", at_least, low_s, high_s)
    level = _level("confidence", confidence, 0.0, 1.0)
    if len(rows) < 2:
        raise ValueError("pytest-flame: assert_mean_score needs at least two cases")
    session = current_session()
    requests = [PointwiseRequest(p, r, criteria, (low_s, high_s)) for p, r in rows]
    with Stopwatch() as clock:
        answers = session.verdicts("pointwise", requests, assertion="assert_mean_score")
    verdicts = tuple(a.verdict for a in answers)
    scores = [v.score for v in verdicts]
    mean = sum(scores) / len(scores)
    low, high = t_interval(scores, confidence=level)
    passed = low >= bar
    _record(
        session,
        "assert_mean_score",
        answers,
        passed=passed,
        value=low,
        threshold=bar,
        criteria=criteria,
        seconds=clock.seconds,
        details={
            "mean": mean,
            "interval": [low, high],
            "interval_method": "student-t",
            "confidence": level,
            "n": len(scores),
            "cases": [
                {"prompt": v.prompt, "response": v.response, "score": v.score, "source": a.source}
                for v, a in zip(verdicts, answers, strict=True)
            ],
        },
        entries=[finish(a.entry, threshold=None, passed=None) for a in answers],
    )
    if not passed:
        worst = sorted(range(len(verdicts)), key=lambda i: scores[i])[:WORST]
        lines = [
            f"  {rank}. score {scores[i]:.2f}; prompt: {_short(verdicts[i].prompt)}\n"
            f"     response: {_short(verdicts[i].response)}"
            for rank, i in enumerate(worst, start=1)
        ]
        raise JudgedAssertionError(
            f"flame: the mean score is too uncertain or too low (criteria: {criteria or 'overall quality'}, "
            f"scale {low_s}-{high_s})\n"
            f"  mean = {mean:.3f} over n = {len(scores)} cases\n"
            f"  {level:.0%} t interval [{low:.3f}, {high:.3f}]; needs a lower bound >= {bar:.3f}\n"
            f"  model: {verdicts[0].fingerprint}\n  lowest scores:\n" + "\n".join(lines)
        )
    return MeanScore(mean, low, high, len(scores), level, verdicts)
