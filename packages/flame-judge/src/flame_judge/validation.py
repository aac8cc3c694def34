"""Checks on judge requests, shared by `Judge`, `FakeJudge` and `flame judge batch`.

Each check returns the value in the form the judge uses, or raises `InvalidRequestError` saying what
was passed and what to pass instead, so a bad request never reaches the tokenizer or the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from flame_judge.errors import InvalidRequestError


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_text(where: str, name: str, value: object) -> str:
    """A string that can be encoded as UTF-8 (no lone surrogate such as '\\ud800')."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{where}: {name} must be a string, got {type(value).__name__} {_shown(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{where}: {name} holds a lone surrogate {value[exc.start]!r} at character {exc.start}, which is not "
            "text (usually half of a broken emoji or a mis-decoded file); fix or drop that character"
        ) from None
    return value


def check_criteria(where: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{where}: criteria must be a string such as 'helpfulness' or None, got {type(value).__name__} "
            f"{_shown(value)}"
        )
    return check_text(where, "criteria", value)


def check_labels(where: str, labels: object) -> tuple[str, ...]:
    """At least two distinct, non-empty labels with no surrounding spaces and no line breaks."""
    if isinstance(labels, str):
        raise InvalidRequestError(
            f"{where}: labels must be a list of labels, got the single string {_shown(labels)}; "
            "pass a list such as ['yes', 'no']"
        )
    if not isinstance(labels, Sequence):
        raise InvalidRequestError(
            f"{where}: labels must be a list of strings such as ['yes', 'no'], got {type(labels).__name__}"
        )
    # Types first, so a list mixing a bad string and a non-string always names the type problem.
    for label in labels:
        if not isinstance(label, str):
            raise InvalidRequestError(
                f"{where}: every label must be a string, got {type(label).__name__} {_shown(label)} in {_shown(labels)}"
            )
    out = []
    for label in labels:
        check_text(where, "a label", label)
        if not label.strip():
            raise InvalidRequestError(f"{where}: labels must not be empty or blank, got {_shown(list(labels))}")
        if label != label.strip():
            raise InvalidRequestError(
                f"{where}: label {label!r} has leading or trailing spaces, which change how it is tokenized; "
                f"write {label.strip()!r}"
            )
        if "\n" in label or "\r" in label:
            raise InvalidRequestError(f"{where}: label {label!r} contains a line break; labels are one line")
        out.append(label)
    if len(out) < 2:
        raise InvalidRequestError(f"{where}: give at least two labels, got {_shown(list(labels))}")
    if len(set(out)) != len(out):
        raise InvalidRequestError(f"{where}: labels must be distinct, got {_shown(list(labels))}")
    return tuple(out)


def check_scale(where: str, scale: object) -> tuple[int, int]:
    """(low, high): two integers with low < high."""
    if (
        isinstance(scale, str)
        or not isinstance(scale, Sequence)
        or len(scale) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
        or scale[0] >= scale[1]
    ):
        raise InvalidRequestError(
            f"{where}: scale must be two integers (low, high) with low < high, e.g. (1, 5); got {_shown(scale)}"
        )
    return (scale[0], scale[1])


def request_where(mode: str, index: int, count: int) -> str:
    """How an error names a request: the mode, and its position when it came in a batch."""
    return mode if count == 1 else f"{mode} request {index}"
