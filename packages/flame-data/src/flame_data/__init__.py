"""flame-data: the FLAMe prompt format, task schema and (later) the collection of human-judgment tasks."""

from flame_data.errors import FlameError, InputTooLongError, SchemaError
from flame_data.format import (
    TRUNCATION_MARKER,
    fit_inputs,
    render_example,
    render_input,
    render_target,
    scoring_prefix,
)
from flame_data.schema import CATEGORIES, TASK_TYPES, Category, Example, OutputField, TaskSpec, TaskType

__all__ = [
    "CATEGORIES",
    "TASK_TYPES",
    "TRUNCATION_MARKER",
    "Category",
    "Example",
    "FlameError",
    "InputTooLongError",
    "OutputField",
    "SchemaError",
    "TaskSpec",
    "TaskType",
    "fit_inputs",
    "render_example",
    "render_input",
    "render_target",
    "scoring_prefix",
]
