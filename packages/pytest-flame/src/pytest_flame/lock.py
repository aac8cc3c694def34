"""Judgment locks: every judgment of a recorded run, in a reviewable JSON file committed with the tests.

An entry is found by test id and the content hash of the judge's exact input (the rendered FLAMe
prompt and its labels), and belongs to one judge (model spec, fingerprint, input budget, calibration).
Entries are sorted by test and position, the JSON is indented with sorted keys, and texts are
shortened, so a pull request's diff shows exactly which verdicts changed and why. The file is written
to a temporary file beside it and renamed, so it is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LOCK_VERSION = 1
SHOWN = 160  # characters of each text kept for review
JUDGE_FIELDS = ("model", "max_input_tokens", "calibration")  # compared in --flame-locked (no model needed)


class LockFileError(Exception):
    """The lock file cannot be read (malformed JSON, wrong version): a usage error naming the file."""


def short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN else flat[: SHOWN - 6] + " [...]"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class JudgeId:
    """Which judge answered: the spec as configured, its fingerprint, and what changes its verdicts."""

    model: str
    fingerprint: str | None  # None in --flame-locked, where no judge is opened
    max_input_tokens: int | None
    calibration: str | None  # sha256 of the calibration file, if one is applied

    def differences(self, other: JudgeId, *, with_fingerprint: bool) -> list[tuple[str, object, object]]:
        names = (*JUDGE_FIELDS, "fingerprint") if with_fingerprint else JUDGE_FIELDS
        return [
            (f"judge.{n}", getattr(self, n), getattr(other, n)) for n in names if getattr(self, n) != getattr(other, n)
        ]


@dataclass(frozen=True)
class LockEntry:
    """One judgment: where it was made, what the judge read, who judged, what it said."""

    test: str
    position: int  # the n-th judgment of the test, from 0
    assertion: str
    mode: str  # pairwise, pointwise or classify
    key: str  # sha256 of the judge's exact input
    judge: JudgeId
    inputs: dict[str, str] = field(default_factory=dict)  # shortened texts, for review
    input_hashes: dict[str, str] = field(default_factory=dict)  # per field, to say which one changed
    verdict: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    passed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LockEntry:
        values = dict(data)
        values["judge"] = JudgeId(**values["judge"])
        return cls(**values)


def load_entries(path: Path) -> list[LockEntry]:
    """The entries of `path`; a missing file is an empty lock."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LockFileError(f"pytest-flame: cannot read the lock file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise LockFileError(
            f"pytest-flame: the lock file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); fix the merge or delete it and run `pytest --flame-record`"
        ) from None
    if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
        found = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise LockFileError(
            f"pytest-flame: the lock file {path} has version {found!r}, this plugin reads version {LOCK_VERSION}; "
            "run `pytest --flame-record` to rewrite it"
        )
    entries = []
    for number, row in enumerate(data.get("entries", [])):
        try:
            entries.append(LockEntry.from_json(row))
        except (TypeError, KeyError, AttributeError) as exc:
            raise LockFileError(
                f"pytest-flame: entry {number} of the lock file {path} is malformed ({exc}); "
                "run `pytest --flame-record` to rewrite it"
            ) from None
    return entries


def dumps(entries: Iterable[LockEntry]) -> str:
    rows = [e.to_json() for e in sorted(entries, key=lambda e: (e.test, e.position, e.key))]
    body = {
        "about": "pytest-flame judgment lock, written by `pytest --flame-record`; review its diff like code",
        "version": LOCK_VERSION,
        "entries": rows,
    }
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Lock:
    """The entries of a lock file, looked up by (test, key) and by (test, position)."""

    def __init__(self, path: Path, entries: list[LockEntry]) -> None:
        self.path = path
        self.entries = entries
        self._by_key = {(e.test, e.key): e for e in entries}
        self._by_position = {(e.test, e.position): e for e in entries}

    @classmethod
    def open(cls, path: Path) -> Lock:
        return cls(path, load_entries(path))

    def find(self, test: str, key: str) -> LockEntry | None:
        return self._by_key.get((test, key))

    def at(self, test: str, position: int) -> LockEntry | None:
        return self._by_position.get((test, position))

    def tests(self) -> set[str]:
        return {e.test for e in self.entries}
