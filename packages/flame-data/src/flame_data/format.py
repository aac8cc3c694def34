"""The FLAMe text-to-text format: the one place where prompts and targets are rendered.

INSTRUCTIONS:
Task: <definition>
Evaluation instructions: <instructions>
Output fields: answer (one of: A, B)

CONTEXT:
<label>: <value>            (one labelled input field per line)

EVALUATION:                 (the target)
answer: A

Values (requests, responses, criteria, explanations) are data, never structure. A line inside a
value that starts like a field header of its rendering (`EVALUATION:`, `answer:`, `response B:`,
...; any case, after any indentation) gets a backslash in front (`\\answer: A`), and a line that
already starts with backslashes before such a name gets one more, so the rendering is injective:
`parse_input` reads every value back. Text without such lines renders exactly as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Protocol

from flame_data.errors import InputTooLongError, SchemaError
from flame_data.schema import Example, OutputField, TaskSpec

TRUNCATION_MARKER = " [...]"
TARGET_HEADER = "EVALUATION:"
# Every header name the format itself writes; a rendering also reserves its field labels and outputs.
STRUCTURE = ("INSTRUCTIONS", "CONTEXT", "EVALUATION", "Task", "Evaluation instructions", "Output fields")
ESCAPE = "\\"
# What ends a line for a tokenizer or a reader: str.splitlines' separators.
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class Tokenizer(Protocol):
    """The two calls truncation needs; a Hugging Face tokenizer is wrapped to this by the judge."""

    def encode(self, text: str) -> Sequence[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


@cache
def _header_lines(names: frozenset[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(a line that could pass for a header, an escaped one): after a line break, indentation, then
    backslashes (at least one when escaped), a name in any case and a colon.
    """
    space = f"[^\\S{_BREAKS}]"
    alternatives = "|".join(
        f"{space}*".join(re.escape(word) for word in name.split())
        for name in sorted(names, key=len, reverse=True)
        if name.split()
    )
    header = rf"(?=\\*(?:{alternatives}){space}*:)"
    start = rf"(?<=[{_BREAKS}])({space}*)"
    return re.compile(start + header, re.IGNORECASE), re.compile(start + r"\\" + header, re.IGNORECASE)


def reserved_names(spec: TaskSpec | None, labels: Iterable[str]) -> frozenset[str]:
    """The header names a rendering writes: the format's own, the field labels and output names."""
    outputs = (o.name for o in spec.outputs) if spec is not None else ()
    return frozenset((*STRUCTURE, *labels, *outputs))


def escape_value(value: str, names: Iterable[str]) -> str:
    """`value` with one more backslash before each line that could pass for a header in `names`.

    Only lines after a line break count: a value's first line follows its own label.
    """
    return _header_lines(frozenset(names))[0].sub(lambda m: m.group(1) + ESCAPE, value)


def unescape_value(text: str, names: Iterable[str]) -> str:
    """The inverse of `escape_value` for the same names: one backslash less on each escaped line."""
    return _header_lines(frozenset(names))[1].sub(lambda m: m.group(1), text)


def _label_text(label: str) -> str:
    """A label as the output-fields line lists it; quoted (JSON) where it could blur the list."""
    plain = label and label == label.strip() and label.isprintable() and not any(c in label for c in ',()"\\')
    return label if plain else json.dumps(label)


def describe_output(out: OutputField) -> str:
    if out.description:
        return f"{out.name} ({out.description})"
    if out.labels:
        return f"{out.name} (one of: {', '.join(_label_text(label) for label in out.labels)})"
    return f"{out.name} (free text)"


def render_instructions(spec: TaskSpec, labels: Iterable[str] = ()) -> str:
    names = reserved_names(spec, labels)
    lines = ["INSTRUCTIONS:", f"Task: {escape_value(spec.definition.strip(), names)}"]
    if spec.instructions.strip():
        lines.append(f"Evaluation instructions: {escape_value(spec.instructions.strip(), names)}")
    outputs = ", ".join(describe_output(o) for o in spec.outputs)
    lines.append(f"Output fields: {escape_value(outputs, names)}")
    return "\n".join(lines)


def render_context(inputs: Sequence[tuple[str, str]], spec: TaskSpec | None = None) -> str:
    names = reserved_names(spec, (label for label, _ in inputs))
    return "\n".join(["CONTEXT:", *(f"{label}: {escape_value(value, names)}" for label, value in inputs)])


def render_input(spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> str:
    """The model input: the INSTRUCTIONS block, a blank line, the CONTEXT block (values escaped)."""
    return f"{render_instructions(spec, (label for label, _ in inputs))}\n\n{render_context(inputs, spec)}"


def parse_input(spec: TaskSpec, labels: Sequence[str], text: str) -> tuple[tuple[str, str], ...]:
    """The inputs `render_input(spec, inputs)` was made from, given their labels; the rendering's inverse.

    Raises `SchemaError` for text that no inputs with these labels render to.
    """
    head = f"{render_instructions(spec, labels)}\n\nCONTEXT:"
    if not text.startswith(head):
        raise SchemaError(f"task {spec.name!r}: the text does not start with this task's instructions")
    names = reserved_names(spec, labels)
    rest, values = text[len(head) :], []
    for n, label in enumerate(labels):
        start = f"\n{label}: "
        if not rest.startswith(start):
            raise SchemaError(f"task {spec.name!r}: expected the field {label!r} at {rest[:40]!r}")
        rest = rest[len(start) :]
        # Inside a value every line that starts with a label is escaped: the first bare one ends it.
        end = rest.find(f"\n{labels[n + 1]}: ") if n + 1 < len(labels) else len(rest)
        if end < 0:
            raise SchemaError(f"task {spec.name!r}: the field {labels[n + 1]!r} is missing")
        values.append((label, unescape_value(rest[:end], names)))
        rest = rest[end:]
    return tuple(values)


def render_target(target: Sequence[tuple[str, str]]) -> str:
    """The training target: `EVALUATION:` and one `name: value` line per output field (values escaped)."""
    names = reserved_names(None, (name for name, _ in target))
    return "\n".join([TARGET_HEADER, *(f"{name}: {escape_value(value, names)}" for name, value in target)])


def scoring_prefix(spec: TaskSpec, field: str | None = None) -> str:
    """The target text up to the label the judge scores (`EVALUATION:\\nanswer:`).

    Only the first output field can be scored from one forward pass; the label follows with a
    leading space, exactly as `render_target` writes it.
    """
    name = field or spec.outputs[0].name
    if spec.outputs[0].name != name:
        raise SchemaError(
            f"task {spec.name!r}: only the first output field ({spec.outputs[0].name!r}) can be scored, not {name!r}"
        )
    if not spec.outputs[0].labels:
        raise SchemaError(f"task {spec.name!r}: output field {name!r} declares no labels to score")
    return f"{TARGET_HEADER}\n{name}:"


def render_example(spec: TaskSpec, example: Example) -> tuple[str, str]:
    """(input, target) text of one example, after checking it against its task."""
    example.check_against(spec)
    return render_input(spec, example.inputs), render_target(example.target)


def fit_inputs(
    spec: TaskSpec,
    inputs: Sequence[tuple[str, str]],
    *,
    max_tokens: int,
    tokenizer: Tokenizer,
    min_field_tokens: int = 16,
) -> tuple[tuple[str, str], ...]:
    """Shorten input values so `render_input` fits `max_tokens`, keeping every field visible.

    The longest fields are cut first (water-filling: every value longer than a common cap is cut
    to that cap), each cut value ends with TRUNCATION_MARKER, and no field is dropped. Raises
    `InputTooLongError` when even `min_field_tokens` per field cannot fit.
    """
    fields = tuple(inputs)

    def size(values: Sequence[tuple[str, str]]) -> int:
        return len(tokenizer.encode(render_input(spec, values)))

    if size(fields) <= max_tokens:
        return fields
    overhead = size(tuple((label, "") for label, _ in fields))
    ids = [list(tokenizer.encode(value)) for _, value in fields]
    marker = len(tokenizer.encode(TRUNCATION_MARKER))
    floor = sum(min(len(i), min_field_tokens + marker) for i in ids)
    if overhead + floor > max_tokens:
        raise InputTooLongError(
            f"task {spec.name!r}: the input needs at least {overhead + floor} tokens "
            f"({overhead} for instructions and labels, {min_field_tokens} per field) but the budget is "
            f"{max_tokens}; raise the model's max input length or shorten the task instructions"
        )
    budget = max_tokens - overhead
    # Tokens merge differently across a cut than inside a field; retry with a tighter budget.
    for _ in range(8):
        cap = _water_level([len(i) for i in ids], budget)
        cut = tuple(
            (
                label,
                value
                if len(i) <= cap
                else tokenizer.decode(i[: max(cap - marker, min_field_tokens)]).rstrip() + TRUNCATION_MARKER,
            )
            for (label, value), i in zip(fields, ids, strict=True)
        )
        excess = size(cut) - max_tokens
        if excess <= 0:
            return cut
        budget -= max(excess, 1)
    raise InputTooLongError(f"task {spec.name!r}: could not cut the input to {max_tokens} tokens; raise the budget")


def _water_level(lengths: Sequence[int], budget: int) -> int:
    """Largest cap c with sum(min(length, c)) <= budget."""
    remaining, left = budget, len(lengths)
    for length in sorted(lengths):
        share = remaining // left
        if length > share:
            return share
        remaining -= length
        left -= 1
    return max(lengths, default=0)
