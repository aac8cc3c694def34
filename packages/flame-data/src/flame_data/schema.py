"""Typed, frozen schema of FLAMe tasks and examples, shared by the collection, the judge and training."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from flame_data.errors import SchemaError

TaskType = Literal["pairwise", "pointwise", "classification", "open_ended"]
Category = Literal["general", "factuality", "safety", "coding", "math", "instruction_following"]

TASK_TYPES: tuple[TaskType, ...] = get_args(TaskType)
CATEGORIES: tuple[Category, ...] = get_args(Category)


@dataclass(frozen=True)
class OutputField:
    """One labelled line of the `EVALUATION:` block.

    `labels` is the closed set a judge scores over (empty for free text such as an explanation).
    """

    name: str
    description: str
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise SchemaError(
                f"output field name {self.name!r} must be a non-empty lower-case word (letters, digits, _)"
            )
        if len(set(self.labels)) != len(self.labels):
            raise SchemaError(f"output field {self.name!r} repeats a label: {self.labels!r}")
        if any(not label or label != label.strip() for label in self.labels):
            raise SchemaError(f"output field {self.name!r} has an empty or space-padded label: {self.labels!r}")


@dataclass(frozen=True)
class TaskSpec:
    """What a task asks: its definition, evaluation instructions and output fields.

    `definition` is the one-sentence task (`Task: ...`); `instructions` the longer guidance the
    human annotators were given (may be empty). Provenance fields matter for the collection.
    """

    name: str
    task_type: TaskType
    definition: str
    outputs: tuple[OutputField, ...]
    instructions: str = ""
    category: Category = "general"
    license: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise SchemaError(f"task {self.name!r}: task_type {self.task_type!r} is not one of {TASK_TYPES}")
        if self.category not in CATEGORIES:
            raise SchemaError(f"task {self.name!r}: category {self.category!r} is not one of {CATEGORIES}")
        if not self.definition.strip():
            raise SchemaError(f"task {self.name!r}: the task definition is empty")
        if not self.outputs:
            raise SchemaError(f"task {self.name!r}: declare at least one output field")
        names = [o.name for o in self.outputs]
        if len(set(names)) != len(names):
            raise SchemaError(f"task {self.name!r}: output field names repeat: {names}")
        if self.task_type != "open_ended" and not self.outputs[0].labels:
            raise SchemaError(
                f"task {self.name!r}: a {self.task_type} task's first output field must declare its labels"
            )

    def output(self, name: str) -> OutputField:
        for out in self.outputs:
            if out.name == name:
                return out
        raise SchemaError(f"task {self.name!r} has no output field {name!r}; it has {[o.name for o in self.outputs]}")


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Example:
    """One rendered-ready example: ordered labelled inputs, ordered target fields, metadata."""

    task: str
    inputs: tuple[tuple[str, str], ...]
    target: tuple[tuple[str, str], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=lambda: _freeze(None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", _freeze(self.metadata))
        for label, value in self.inputs:
            if not isinstance(label, str) or not label.strip():
                raise SchemaError(f"example of task {self.task!r}: an input label is empty")
            if not isinstance(value, str):
                raise SchemaError(
                    f"example of task {self.task!r}: input {label!r} must be text, got {type(value).__name__}"
                )
        for name, value in self.target:
            if not isinstance(value, str):
                raise SchemaError(
                    f"example of task {self.task!r}: target {name!r} must be text, got {type(value).__name__}"
                )

    def check_against(self, spec: TaskSpec) -> None:
        """Raise `SchemaError` unless the target names and labels fit the task's output fields."""
        for name, value in self.target:
            out = spec.output(name)
            if out.labels and value not in out.labels:
                raise SchemaError(f"example of task {spec.name!r}: {name} {value!r} is not one of {list(out.labels)}")
