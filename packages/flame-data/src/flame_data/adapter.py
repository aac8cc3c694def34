"""The adapter contract: read a dataset's files into raw rows; convert each row (a pure function)
into FLAMe examples. Helpers here build well-formed examples so each adapter stays small."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from flame_data.errors import RowError
from flame_data.schema import Example, OutputField, TaskSpec

T = TypeVar("T")
LicenseClass = Literal["permissive", "share-alike", "non-commercial", "no-license"]

# SPDX id -> class. A dataset whose license is not listed here is refused at registration.
LICENSES: dict[str, LicenseClass] = {
    "MIT": "permissive",
    "Apache-2.0": "permissive",
    "BSD-3-Clause": "permissive",
    "CC-BY-4.0": "permissive",
    "CC-BY-SA-4.0": "share-alike",
    "CDLA-Sharing-1.0": "share-alike",
    "CC-BY-NC-4.0": "non-commercial",
    "CC-BY-NC-SA-4.0": "non-commercial",
    "CC-BY-NC-ND-4.0": "non-commercial",
    "none": "no-license",
}


@dataclass(frozen=True)
class Row:
    """One raw record and where it came from (`file:line` or `file[index]`).

    A grouped row (every rated response to one input) has a list as `data` and, in `members`, where
    each of its records is: a bad record is rejected at its own line and the others are kept.
    """

    where: str
    data: Any
    members: tuple[str, ...] = ()

    @property
    def lines(self) -> tuple[str, ...]:
        """Where each source record of this row is (one for an ungrouped row)."""
        return self.members or (self.where,)


@dataclass(frozen=True)
class Rejected:
    """A record of a grouped row (`member` = its index in the group) that cannot be used; the
    group's other records still make examples.

    `cause`: for a good record rejected because another record it only counts together with is bad
    (the index of that record), so the rejects file names the bad line beside it.
    """

    member: int
    error: RowError
    cause: int | None = None


@dataclass(frozen=True)
class Skip:
    """A row that carries no human label for `task` (expected, counted with its reason)."""

    task: str
    reason: str


class Adapter:
    """Base of every dataset adapter. Subclasses set the class attributes and the two methods."""

    name: ClassVar[str]  # folder name under the data dir
    title: ClassVar[str]
    homepage: ClassVar[str]  # the dataset's original public location
    license: ClassVar[str]  # an SPDX id from LICENSES, or "none"
    tasks: ClassVar[tuple[TaskSpec, ...]] = ()
    folder: ClassVar[str | None] = None  # the data folder when it differs from `name`

    @classmethod
    def directory(cls, root: Path) -> Path:
        return root / (cls.folder or cls.name)

    def read(self, directory: Path) -> Iterator[Row]:
        """Raw rows from the dataset's files in `directory`."""
        raise NotImplementedError

    def convert(self, row: Any) -> Iterator[Example | Skip | Rejected]:
        """Examples (or skips) for one raw row; raises RowError for a malformed row. For a grouped
        row it yields `Rejected` for each bad record instead, and examples from the others."""
        raise NotImplementedError

    @classmethod
    def description(cls) -> str:
        """The adapter's docstring, else its module's: what the data is, or why it yields nothing."""
        import sys

        return (cls.__doc__ or sys.modules[cls.__module__].__doc__ or "").strip()

    @classmethod
    def license_class(cls) -> LicenseClass:
        return LICENSES[cls.license]

    @classmethod
    def task(cls, name: str) -> TaskSpec:
        for spec in cls.tasks:
            if spec.name == name:
                return spec
        raise KeyError(name)


class NoTaskAdapter(Adapter):
    """A dataset that yields no tasks here; its module docstring says why (text missing, not judgments)."""

    def read(self, directory: Path) -> Iterator[Row]:
        return iter(())

    def convert(self, row: Any) -> Iterator[Example | Skip]:
        return iter(())


_ANY = object()  # the unit of a record whose unit cannot be read: it could belong to any of them


def parse_members(
    items: Any,
    parse: Callable[[Any], T],
    *,
    unit: Callable[[Any], Hashable] | None = None,
    unit_name: str = "unit",
) -> Generator[Rejected, None, list[T]]:
    """`parse` applied to each record of a grouped row: a record that raises RowError is yielded as
    `Rejected` at its index, and the parsed good records are returned (`yield from` gives them).

    `unit` gives the key of the records that only count together (the error rows one MQM score sums:
    dropping one would silently change the score). A unit with a bad record is rejected whole: each
    bad record with its own error, then each of its good records with `cause` = the first bad one. A
    record whose unit cannot be read (RowError from `unit`) could belong to any unit: the whole group
    goes. Every other unit is kept.
    """
    if not isinstance(items, list) or not items:
        raise RowError(f"a group must be a non-empty list of records, got {type(items).__name__}")
    parsed: dict[int, T] = {}
    errors: dict[int, RowError] = {}
    keys: list[Hashable] = []
    for index, item in enumerate(items):
        try:
            keys.append(unit(item) if unit is not None else index)
        except RowError as exc:
            keys.append(_ANY)
            errors[index] = exc
            continue
        try:
            parsed[index] = parse(item)
        except RowError as exc:
            errors[index] = exc
    causes: dict[Hashable, int] = {}
    for index in sorted(errors):
        causes.setdefault(keys[index], index)
        yield Rejected(index, errors[index])
    good = []
    for index, value in parsed.items():
        cause = causes.get(_ANY, causes.get(keys[index]))
        if cause is None:
            good.append(value)
            continue
        why = "its unit cannot be told" if keys[cause] is _ANY else f"another record of the same {unit_name} is bad"
        yield Rejected(index, RowError(f"not used: {why}, and the records of a {unit_name} only count together"), cause)
    return good


# -- field access with clear errors --------------------------------------------------------------


def get(row: Any, key: str, kind: type | tuple[type, ...] = str, *, optional: bool = False) -> Any:
    """row[key] checked for type; RowError names the field when it is missing or of the wrong type."""
    if not isinstance(row, Mapping):
        raise RowError(f"a row must be an object, got {type(row).__name__}")
    if key not in row or row[key] is None:
        if optional:
            return None
        raise RowError("missing", field=key)
    value = row[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise RowError(f"expected a number, got {value!r}", field=key)
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RowError(f"expected {names}, got {type(value).__name__}", field=key)
    return value


def text(row: Any, key: str) -> str:
    value = get(row, key, str)
    if not value.strip():
        raise RowError("empty text", field=key)
    return value


def number(value: Any, key: str, *, low: float, high: float) -> float:
    """A rating as a float within [low, high]; accepts numeric strings (CSV cells)."""
    if isinstance(value, bool):
        raise RowError(f"expected a number, got {value!r}", field=key)
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise RowError(f"expected a number, got {value!r}", field=key) from None
    if score != score or not low <= score <= high:
        raise RowError(f"{score} is outside the scale {low:g}-{high:g}", field=key)
    return score


# -- task declarations ---------------------------------------------------------------------------


def pairwise_spec(name: str, definition: str, instructions: str, *, tie: bool = False, **kw: Any) -> TaskSpec:
    labels = ("A", "B", "tie") if tie else ("A", "B")
    return TaskSpec(name, "pairwise", definition, (OutputField("answer", "", labels),), instructions, **kw)


def pointwise_spec(name: str, definition: str, instructions: str, *, scale: tuple[int, int], **kw: Any) -> TaskSpec:
    low, high = scale
    labels = tuple(str(v) for v in range(low, high + 1))
    out = OutputField("score", f"an integer from {low} to {high}", labels)
    return TaskSpec(name, "pointwise", definition, (out,), instructions, **kw)


def classification_spec(
    name: str,
    definition: str,
    instructions: str,
    *,
    labels: Sequence[str],
    explanation: bool = False,
    **kw: Any,
) -> TaskSpec:
    outputs = [OutputField("answer", "", tuple(labels))]
    if explanation:
        outputs.append(OutputField("explanation", "free text"))
    return TaskSpec(name, "classification", definition, tuple(outputs), instructions, **kw)


def open_ended_spec(
    name: str, definition: str, instructions: str, *, outputs: Sequence[OutputField], **kw: Any
) -> TaskSpec:
    return TaskSpec(name, "open_ended", definition, tuple(outputs), instructions, **kw)


# -- example builders ----------------------------------------------------------------------------


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12], 16)


def pairwise(
    task: str,
    context: Sequence[tuple[str, str]],
    first: str,
    second: str,
    winner: Literal["first", "second", "tie"],
    *,
    labels: tuple[str, str] = ("response A", "response B"),
    group: str | None = None,
    explanation: str | None = None,
    shuffle: bool = True,
    **meta: Any,
) -> Example:
    """A pairwise example with the two responses in a deterministic pseudo-random order.

    Sources often put the preferred response in one position; shuffling by a hash of the content
    makes position carry no signal while keeping builds reproducible. `shuffle=False` keeps the
    source order (for an explanation that names the responses by position).
    """
    if first == second:
        raise RowError("the two responses are identical")
    swap = shuffle and _digest(task, first, second) % 2 == 1
    a, b = (second, first) if swap else (first, second)
    answer = "tie" if winner == "tie" else "A" if (winner == "first") != swap else "B"
    target = [("answer", answer)]
    if explanation is not None:
        target.append(("explanation", explanation))
    key = group if group is not None else "\n".join(v for _, v in context)
    return Example(
        task=task,
        inputs=(*context, (labels[0], a), (labels[1], b)),
        target=tuple(target),
        metadata={"group": key, **meta},
    )


def pointwise(
    task: str,
    inputs: Sequence[tuple[str, str]],
    score: float,
    *,
    scale: tuple[int, int],
    group: str | None = None,
    **meta: Any,
) -> Example:
    """A pointwise example; the target is the rating rounded to the scale, the raw mean kept as metadata."""
    low, high = scale
    if not low <= score <= high:
        raise RowError(f"score {score} is outside the scale {low}-{high}")
    rounded = int(min(high, max(low, round(score))))
    key = group if group is not None else "\n".join(v for _, v in inputs[:-1]) or inputs[-1][1]
    return Example(
        task=task,
        inputs=tuple(inputs),
        target=(("score", str(rounded)),),
        metadata={"group": key, "human_score": float(score), **meta},
    )


def classification(
    task: str,
    inputs: Sequence[tuple[str, str]],
    label: str,
    *,
    group: str | None = None,
    explanation: str | None = None,
    **meta: Any,
) -> Example:
    target = [("answer", label)]
    if explanation is not None:
        target.append(("explanation", explanation))
    key = group if group is not None else "\n".join(v for _, v in inputs)
    return Example(task=task, inputs=tuple(inputs), target=tuple(target), metadata={"group": key, **meta})


def pairs_from_scores(
    task: str,
    context: Sequence[tuple[str, str]],
    scored: Iterable[tuple[str, float]],
    *,
    min_gap: float,
    labels: tuple[str, str] = ("response A", "response B"),
    group: str | None = None,
    **meta: Any,
) -> Iterator[Example]:
    """Pairwise examples from ratings of several responses to one input: every pair whose scores
    differ by at least `min_gap` (smaller gaps are too close to call and are left out)."""
    items = [(t, s) for t, s in scored if t.strip()]
    for (t1, s1), (t2, s2) in combinations(items, 2):
        if t1 == t2 or abs(s1 - s2) < min_gap:
            continue
        yield pairwise(
            task,
            context,
            t1,
            t2,
            "first" if s1 > s2 else "second",
            labels=labels,
            group=group,
            score_gap=abs(s1 - s2),
            **meta,
        )


def pairs_from_ranking(
    task: str,
    context: Sequence[tuple[str, str]],
    ranked: Sequence[str],
    *,
    labels: tuple[str, str] = ("response A", "response B"),
    group: str | None = None,
    **meta: Any,
) -> Iterator[Example]:
    """Pairwise examples from a best-to-worst ranking: each earlier item beats each later one."""
    for i, j in combinations(range(len(ranked)), 2):
        if ranked[i] != ranked[j]:
            yield pairwise(
                task,
                context,
                ranked[i],
                ranked[j],
                "first",
                labels=labels,
                group=group,
                rank_gap=j - i,
                **meta,
            )


@dataclass
class Vote:
    """Majority and agreement of several annotators' labels."""

    labels: Sequence[str]
    majority: str | None = field(init=False)
    agreement: float = field(init=False)

    def __post_init__(self) -> None:
        counts: dict[str, int] = {}
        for label in self.labels:
            counts[label] = counts.get(label, 0) + 1
        top = max(counts.values(), default=0)
        leaders = [k for k, v in counts.items() if v == top]
        self.majority = leaders[0] if len(leaders) == 1 else None
        self.agreement = top / len(self.labels) if self.labels else 0.0
