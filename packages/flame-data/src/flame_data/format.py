"""The FLAMe text-to-text format: the one place where prompts and targets are rendered.

INSTRUCTIONS:
Task: <definition>
Evaluation instructions: <instructions>
Output fields: answer (one of: A, B)

CONTEXT:
<label>: <value>            (one labelled input field per line)

EVALUATION:                 (the target)
answer: A
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flame_data.errors import InputTooLongError, SchemaError
from flame_data.schema import Example, OutputField, TaskSpec

TRUNCATION_MARKER = " [...]"
TARGET_HEADER = "EVALUATION:"


class Tokenizer(Protocol):
    """The two calls truncation needs; a Hugging Face tokenizer is wrapped to this by the judge."""

    def encode(self, text: str) -> Sequence[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


def describe_output(out: OutputField) -> str:
    if out.description:
        return f"{out.name} ({out.description})"
    if out.labels:
        return f"{out.name} (one of: {', '.join(out.labels)})"
    return f"{out.name} (free text)"


def render_instructions(spec: TaskSpec) -> str:
    lines = ["INSTRUCTIONS:", f"Task: {spec.definition.strip()}"]
    if spec.instructions.strip():
        lines.append(f"Evaluation instructions: {spec.instructions.strip()}")
    lines.append("Output fields: " + ", ".join(describe_output(o) for o in spec.outputs))
    return "\n".join(lines)


def render_context(inputs: Sequence[tuple[str, str]]) -> str:
    return "\n".join(["CONTEXT:", *(f"{label}: {value}" for label, value in inputs)])


def render_input(spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> str:
    """The model input: the INSTRUCTIONS block, a blank line, the CONTEXT block."""
    return f"{render_instructions(spec)}\n\n{render_context(inputs)}"


def render_target(target: Sequence[tuple[str, str]]) -> str:
    """The training target: `EVALUATION:` and one `name: value` line per output field."""
    return "\n".join([TARGET_HEADER, *(f"{name}: {value}" for name, value in target)])


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
