"""Run state of one pytest session: options, loaded judges, the judgment lock, and every judgment made.

Nothing here imports torch. A judge is loaded the first time a test needs one the lock cannot
answer; with `--flame-locked` no judge is ever opened.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from pytest_flame.lock import JudgeId, Lock, LockEntry, digest, short

if TYPE_CHECKING:
    from flame_judge.calibration import Calibration
    from flame_judge.judge import ClassificationRequest, Judge, PairwiseRequest, PointwiseRequest
    from flame_judge.testing import FakeJudge

FAKE_MODEL = "fake"  # `--flame-model fake`: the deterministic no-model judge, for wiring checks
DEFAULT_MODEL = "default"  # how the lock names the judge when --flame-model is not set
Mode = Literal["pairwise", "pointwise", "classify"]
LockMode = Literal["default", "record", "locked"]
Source = Literal["lock", "cache", "computed"]


class JudgeUnavailableError(Exception):
    """The judge could not run (model missing, out of memory, input too long): a test ERROR, not a FAIL."""


class LockMismatchError(JudgeUnavailableError):
    """`--flame-locked` and the lock has no entry for a judgment (or its input or judge changed)."""


class JudgedAssertionError(AssertionError):
    """A judged assertion that did not hold."""


@dataclass
class Judgment:
    """One judged assertion, as reported in the summary and the JSON/HTML report."""

    nodeid: str
    assertion: str
    passed: bool
    value: float  # P(candidate better), the score, P(faithful), or an aggregate's lower bound
    threshold: float
    criteria: str | None
    model: str
    cached: bool  # every verdict came from the lock or the cache
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "computed"  # lock, cache, computed, or mixed (an aggregate over many verdicts)
    new: int = 0  # verdicts not in the lock (default mode with a lock file)
    from_lock: int = 0  # verdicts answered from the lock

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
    lock: Path | None = None
    lock_mode: LockMode = "default"
    max_input_tokens: int | None = None  # None: what the judge was trained with
    calibration: Path | None = None


@dataclass(frozen=True)
class Answer:
    """A verdict, where it came from, and its lock entry (threshold and outcome filled by the assertion)."""

    verdict: Any
    source: Source
    new: bool
    entry: LockEntry


# -- what the judge reads -----------------------------------------------------------------------


def request_fields(mode: Mode, r: Any) -> dict[str, str]:
    """The request's fields in the assertion's words, as text (for review and change detection)."""
    if mode == "pairwise":
        return {"prompt": r.prompt, "candidate": r.a, "baseline": r.b, "criteria": r.criteria or ""}
    if mode == "pointwise":
        return {"prompt": r.prompt, "response": r.response, "criteria": r.criteria or "", "scale": str(list(r.scale))}
    return {"context": r.context, "response": r.response, "criteria": r.criteria or "", "labels": str(list(r.labels))}


def request_key(mode: Mode, r: Any) -> str:
    """sha256 of the judge's exact text input: the rendered FLAMe prompt and its labels."""
    from flame_data import templates
    from flame_data.format import render_input

    if mode == "pairwise":
        spec, inputs = templates.pairwise_task(r.criteria), templates.pairwise_inputs(r.prompt, r.a, r.b)
    elif mode == "pointwise":
        spec, inputs = templates.pointwise_task(r.criteria, r.scale), templates.pointwise_inputs(r.prompt, r.response)
    else:
        spec = templates.classification_task(r.labels, r.criteria)
        inputs = templates.classification_inputs(r.context, r.response)
    labels = [list(o.labels) for o in spec.outputs]
    return digest(json.dumps([mode, render_input(spec, inputs), labels], ensure_ascii=False))


def verdict_json(mode: Mode, v: Any) -> dict[str, Any]:
    base = {"name": v.model, "kind": v.kind}
    if mode == "pairwise":
        return {**base, "prob_a": v.prob_a, "prob_a_first": v.prob_a_first, "prob_a_second": v.prob_a_second}
    if mode == "pointwise":
        return {**base, "score": v.score, "distribution": dict(v.distribution)}
    return {**base, "label": v.label, "probabilities": dict(v.probabilities)}


def verdict_from_entry(mode: Mode, r: Any, entry: LockEntry) -> Any:
    from flame_judge.judge import Source as VerdictSource
    from flame_judge.judge import classification_verdict, pairwise_verdict, pointwise_verdict

    v = entry.verdict
    src = VerdictSource(v["name"], entry.judge.fingerprint or "", v.get("kind", "generative"))
    if mode == "pairwise":
        return pairwise_verdict(r, float(v["prob_a_first"]), float(v["prob_a_second"]), src, True)
    if mode == "pointwise":
        return pointwise_verdict(r, {k: float(p) for k, p in v["distribution"].items()}, src, True)
    return classification_verdict(r, {k: float(p) for k, p in v["probabilities"].items()}, src, True)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise JudgeUnavailableError(f"flame: cannot read the calibration file {path}: {exc}") from exc


class FlameSession:
    """Per-config state, kept in `config.stash[SESSION_KEY]`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.judgments: list[Judgment] = []
        self.current: pytest.Item | None = None
        self._judges: dict[tuple[str | None, str], Judge | FakeJudge] = {}
        self._failed_loads: dict[tuple[str | None, str], str] = {}
        self.lock: Lock | None = Lock.open(options.lock) if options.lock is not None else None
        self.lock_exists = options.lock is not None and options.lock.exists()
        self.recorded: list[LockEntry] = []  # every judgment of this run, for --flame-record
        self.touched: set[tuple[str, str]] = set()  # (test, key) asked for this run
        self.ran: set[str] = set()  # tests whose body ran
        self.collected: set[str] = set()  # every collected test id, deselected ones included
        self._positions: dict[str, int] = {}
        self.lock_written: tuple[int, int, int] | None = None  # entries, new, removed (--flame-record)
        self.calibration: Calibration | None = None
        self.calibration_lines: list[str] = []
        self._calibration_digest = None
        if options.calibration is not None:
            from flame_judge.calibration import Calibration

            self.calibration = Calibration.read(options.calibration)  # CalibrationError: a usage error
            self.calibration_lines = self.calibration.summary_lines()
            self._calibration_digest = _file_digest(options.calibration)

    def settings_for(self, item: pytest.Item | None) -> tuple[str | None, str, float]:
        """(model, device, margin) for a test: the command line / ini, then its `flame` marker."""
        model, device, margin = self.options.model, self.options.device, self.options.margin
        marker = item.get_closest_marker("flame") if item is not None else None
        if marker is not None:
            model = marker.kwargs.get("model", model)
            device = marker.kwargs.get("device", device)
            margin = float(marker.kwargs.get("margin", margin))
        return model, device, margin

    # -- judges ----------------------------------------------------------------------------

    def judge(self, model: str | None, device: str) -> Judge | FakeJudge:
        key = (model, device)
        if key in self._failed_loads:
            raise JudgeUnavailableError(self._failed_loads[key])
        if key not in self._judges:
            self._judges[key] = self._load(model, device)
        return self._judges[key]

    def _load(self, model: str | None, device: str) -> Judge | FakeJudge:
        from flame_judge.errors import FlameError

        calibration = self.calibration
        try:
            if model == FAKE_MODEL:
                from flame_judge.testing import FakeJudge

                judge: Judge | FakeJudge = FakeJudge(calibration=calibration)
            else:
                from flame_judge.judge import Judge

                cache: bool | str = False if self.options.no_cache else (self.options.cache or True)
                judge = Judge.load(
                    model,
                    device=device,
                    cache=cache,
                    max_input_tokens=self.options.max_input_tokens,
                    calibration=calibration,
                )
        except (FlameError, OSError, MemoryError) as exc:
            reason = f"flame: the judge {model or 'default'!r} on {device!r} could not be loaded: {exc}"
            self._failed_loads[(model, device)] = reason
            raise JudgeUnavailableError(reason) from exc
        return judge

    def judge_id(self, model: str | None, fingerprint: str | None) -> JudgeId:
        return JudgeId(
            model=model or DEFAULT_MODEL,
            fingerprint=fingerprint,
            max_input_tokens=self.options.max_input_tokens,
            calibration=self._calibration_digest,
        )

    # -- verdicts, through the lock ----------------------------------------------------------

    def verdicts(
        self,
        mode: Mode,
        requests: Sequence[PairwiseRequest | PointwiseRequest | ClassificationRequest],
        *,
        assertion: str,
    ) -> list[Answer]:
        """One verdict per request, in order: from the lock where it holds, else from the judge in one batch."""
        item = self.current
        test = item.nodeid if item is not None else ""
        model, device, _ = self.settings_for(item)
        start = self._positions.get(test, 0)
        self._positions[test] = start + len(requests)
        keys = [request_key(mode, r) for r in requests]
        fields = [request_fields(mode, r) for r in requests]
        self.touched.update((test, k) for k in keys)
        locked = self.options.lock_mode == "locked"
        if locked:
            judge_id = self.judge_id(model, None)
            answers = []
            for n, (r, key, f) in enumerate(zip(requests, keys, fields, strict=True)):
                entry = self._locked_entry(test, start + n, key, f, judge_id, assertion)
                answers.append(Answer(verdict_from_entry(mode, r, entry), "lock", False, entry))
            return answers
        judge = self.judge(model, device)
        judge_id = self.judge_id(model, judge.fingerprint)
        use_lock = self.options.lock_mode == "default" and self.lock is not None
        found: dict[int, LockEntry] = {}
        if use_lock and self.lock is not None:
            for n, key in enumerate(keys):
                entry = self.lock.find(test, key)
                if entry is not None and not entry.judge.differences(judge_id, with_fingerprint=True):
                    found[n] = entry
        todo = [n for n in range(len(requests)) if n not in found]
        computed = dict(zip(todo, self._judge_batch(judge, mode, [requests[n] for n in todo]), strict=True))
        answers = []
        for n, (r, key, f) in enumerate(zip(requests, keys, fields, strict=True)):
            if n in found:
                answers.append(Answer(verdict_from_entry(mode, r, found[n]), "lock", False, found[n]))
                continue
            v = computed[n]
            entry = LockEntry(
                test=test,
                position=start + n,
                assertion=assertion,
                mode=mode,
                key=key,
                judge=judge_id,
                inputs={k: short(t) for k, t in f.items()},
                input_hashes={k: digest(t)[:12] for k, t in f.items()},
                verdict=verdict_json(mode, v),
            )
            answers.append(Answer(v, "cache" if v.cached else "computed", self.lock_exists, entry))
        return answers

    def _judge_batch(self, judge: Judge | FakeJudge, mode: Mode, requests: Sequence[Any]) -> list[Any]:
        __tracebackhide__ = True
        if not requests:
            return []
        from flame_judge.errors import FlameError, InvalidRequestError

        method = {
            "pairwise": judge.pairwise_batch,
            "pointwise": judge.pointwise_batch,
            "classify": judge.classify_batch,
        }
        try:
            return list(method[mode](list(requests)))
        except InvalidRequestError:
            raise  # the test called the judge wrongly: its own failure
        except (FlameError, OSError, MemoryError) as exc:
            raise JudgeUnavailableError(f"flame: the judge could not run: {exc}") from exc

    def _locked_entry(
        self, test: str, position: int, key: str, fields: dict[str, str], judge_id: JudgeId, assertion: str
    ) -> LockEntry:
        fix = "run `pytest --flame-record` with the judge to re-record the lock"
        if self.lock is None or not self.lock_exists:
            where = self.options.lock
            raise LockMismatchError(f"flame: --flame-locked but there is no lock file {where}; {fix}")
        entry = self.lock.find(test, key)
        if entry is not None:
            changed = entry.judge.differences(judge_id, with_fingerprint=False)
            if changed:
                name, was, now = changed[0]
                raise LockMismatchError(
                    f"flame: {test}: the judge changed since the lock was recorded: {name} was {was!r}, "
                    f"now {now!r}; {fix}"
                )
            return entry
        old = self.lock.at(test, position)
        where = f"judgment {position + 1} of {test} ({assertion})"
        if old is None:
            raise LockMismatchError(f"flame: {where} is not in the lock {self.lock.path}; {fix}")
        hashes = {k: digest(t)[:12] for k, t in fields.items()}
        changed_fields = [k for k in hashes if old.input_hashes.get(k) != hashes[k]] or ["the rendered judge input"]
        name = changed_fields[0]
        detail = ""
        if name in fields:
            detail = f" (locked: {old.inputs.get(name, '')!r}, now: {short(fields[name])!r})"
        names = ", ".join(repr(c) for c in changed_fields)
        raise LockMismatchError(f"flame: {where} changed since the lock was recorded: field {names}{detail}; {fix}")

    # -- bookkeeping -----------------------------------------------------------------------

    def record(self, judgment: Judgment, entries: Sequence[LockEntry] = ()) -> None:
        self.judgments.append(judgment)
        self.recorded.extend(entries)

    def start_test(self, item: pytest.Item) -> None:
        self.current = item
        self._positions[item.nodeid] = 0

    def unused_entries(self) -> list[LockEntry]:
        """Lock entries no test used this run: their test ran and no longer asks for them, or is gone
        from a module that was collected. Entries of tests not run this time are kept."""
        if self.lock is None:
            return []
        modules = {c.split("::")[0] for c in self.collected}
        out = []
        for e in self.lock.entries:
            if (e.test, e.key) in self.touched:
                continue
            gone = e.test not in self.collected and e.test.split("::")[0] in modules
            if e.test in self.ran or gone:
                out.append(e)
        return out

    def entries_to_write(self) -> list[LockEntry]:
        """--flame-record: this run's judgments, plus the old entries of tests that did not run."""
        unused = {(e.test, e.key) for e in self.unused_entries()}
        fresh_tests = {e.test for e in self.recorded} | self.ran
        kept = [
            e
            for e in (self.lock.entries if self.lock is not None else [])
            if e.test not in fresh_tests and (e.test, e.key) not in unused
        ]
        return [*kept, *self.recorded]

    def cache_notes(self) -> list[str]:
        notes = []
        for judge in self._judges.values():
            cache = getattr(judge, "cache", None)
            if cache is not None and getattr(cache, "note", None):
                unstored = getattr(cache, "unstored", 0)
                notes.append(f"{cache.note} ({unstored} not stored this run)")
        return notes

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


def finish(entry: LockEntry, *, threshold: float | None, passed: bool | None) -> LockEntry:
    return replace(entry, threshold=threshold, passed=passed)


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
