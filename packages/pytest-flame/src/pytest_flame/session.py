"""Run state of one pytest session: options, loaded judges, and every judgment made.

Nothing here imports torch; a judge is loaded the first time a test needs one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flame_judge.judge import Judge
    from flame_judge.testing import FakeJudge

FAKE_MODEL = "fake"  # `--flame-model fake`: the deterministic no-model judge, for wiring checks


class JudgeUnavailableError(Exception):
    """The judge could not run (model missing, out of memory, input too long): a test ERROR, not a FAIL."""


class JudgedAssertionError(AssertionError):
    """A judged assertion that did not hold."""


@dataclass
class Judgment:
    """One judged assertion, as reported in the summary and the JSON/HTML report."""

    nodeid: str
    assertion: str
    passed: bool
    value: float  # P(candidate better), the score, or P(faithful)
    threshold: float
    criteria: str | None
    model: str
    cached: bool
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def slack(self) -> float:
        """How far the value is from flipping the outcome (small = fragile)."""
        return abs(self.value - self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Options:
    model: str | None
    device: str
    cache: str | None
    no_cache: bool
    margin: float
    report: str | None


class FlameSession:
    """Per-config state, kept in `config.stash[SESSION_KEY]`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.judgments: list[Judgment] = []
        self.current: pytest.Item | None = None
        self._judges: dict[tuple[str | None, str], Judge | FakeJudge] = {}
        self._failed_loads: dict[tuple[str | None, str], str] = {}

    def settings_for(self, item: pytest.Item | None) -> tuple[str | None, str, float]:
        """(model, device, margin) for a test: the command line / ini, then its `flame` marker."""
        model, device, margin = self.options.model, self.options.device, self.options.margin
        marker = item.get_closest_marker("flame") if item is not None else None
        if marker is not None:
            model = marker.kwargs.get("model", model)
            device = marker.kwargs.get("device", device)
            margin = float(marker.kwargs.get("margin", margin))
        return model, device, margin

    def judge(self, model: str | None, device: str) -> Judge | FakeJudge:
        key = (model, device)
        if key in self._failed_loads:
            raise JudgeUnavailableError(self._failed_loads[key])
        if key not in self._judges:
            self._judges[key] = self._load(model, device)
        return self._judges[key]

    def _load(self, model: str | None, device: str) -> Judge | FakeJudge:
        from flame_judge.errors import FlameError

        if model == FAKE_MODEL:
            from flame_judge.testing import FakeJudge

            return FakeJudge()
        from flame_judge.judge import Judge

        cache: bool | str = False if self.options.no_cache else (self.options.cache or True)
        try:
            return Judge.load(model, device=device, cache=cache)
        except (FlameError, OSError, RuntimeError, MemoryError) as exc:
            reason = f"flame: the judge {model or 'default'!r} on {device!r} could not be loaded: {exc}"
            self._failed_loads[(model, device)] = reason
            raise JudgeUnavailableError(reason) from exc

    def record(self, judgment: Judgment) -> None:
        self.judgments.append(judgment)

    def close(self) -> None:
        for judge in self._judges.values():
            judge.close()
        self._judges.clear()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


SESSION_KEY = pytest.StashKey[FlameSession]()

_ACTIVE: list[FlameSession] = []


def activate(session: FlameSession) -> None:
    _ACTIVE.append(session)


def deactivate(session: FlameSession) -> None:
    if session in _ACTIVE:
        _ACTIVE.remove(session)


def current_session() -> FlameSession:
    if not _ACTIVE:
        raise RuntimeError(
            "pytest-flame is not active: judged assertions run inside a pytest session with the plugin "
            "loaded (it loads itself when installed; check that `-p no:flame` is not set)"
        )
    return _ACTIVE[-1]
