"""The judge's own task definitions: pairwise, pointwise and classification prompts for any request.

They render through `flame_data.format` like every collection task, so a judge trained on the
collection sees the same shape at inference time.
"""

from __future__ import annotations

from collections.abc import Sequence

from flame_data.errors import SchemaError
from flame_data.schema import OutputField, TaskSpec

PAIRWISE_LABELS = ("A", "B")


def _aspect(criteria: str | None, default: str) -> str:
    return criteria.strip() if criteria and criteria.strip() else default


def pairwise_task(criteria: str | None = None) -> TaskSpec:
    aspect = _aspect(criteria, "overall quality")
    return TaskSpec(
        name="judge/pairwise",
        task_type="pairwise",
        definition=f"Compare two responses to the same request and decide which one is better in {aspect}.",
        instructions=(
            f"Judge only {aspect}. Read the request, then both responses in full. "
            "Neither the order of the responses nor their length is a reason to prefer one."
        ),
        outputs=(OutputField("answer", "", PAIRWISE_LABELS),),
    )


def pairwise_inputs(prompt: str, first: str, second: str) -> tuple[tuple[str, str], ...]:
    return (("request", prompt), ("response A", first), ("response B", second))


def scale_labels(scale: tuple[int, int]) -> tuple[str, ...]:
    low, high = scale
    if not (isinstance(low, int) and isinstance(high, int)) or low >= high:
        raise SchemaError(f"scale {scale!r} must be two integers (low, high) with low < high, e.g. (1, 5)")
    return tuple(str(v) for v in range(low, high + 1))


def pointwise_task(criteria: str | None = None, scale: tuple[int, int] = (1, 5)) -> TaskSpec:
    aspect = _aspect(criteria, "overall quality")
    low, high = scale
    return TaskSpec(
        name="judge/pointwise",
        task_type="pointwise",
        definition=(
            f"Rate the {aspect} of the response to the request on a scale from {low} (worst) to {high} (best)."
        ),
        instructions=f"Judge only {aspect}. Use the whole scale.",
        outputs=(OutputField("score", f"an integer from {low} to {high}", scale_labels(scale)),),
    )


def pointwise_inputs(prompt: str, response: str) -> tuple[tuple[str, str], ...]:
    return (("request", prompt), ("response", response))


def classification_task(labels: Sequence[str], criteria: str | None = None) -> TaskSpec:
    labels = tuple(labels)
    if len(labels) < 2:
        raise SchemaError(f"classification needs at least two labels, got {list(labels)!r}")
    aspect = _aspect(criteria, "whether every claim in the response is supported by the context")
    return TaskSpec(
        name="judge/classification",
        task_type="classification",
        definition=f"Read the context and the response and decide {aspect}.",
        instructions="Answer with exactly one of the labels.",
        outputs=(OutputField("answer", "", labels),),
    )


def classification_inputs(context: str, response: str) -> tuple[tuple[str, str], ...]:
    return (("context", context), ("response", response))


def reward_task(pairwise: TaskSpec) -> TaskSpec:
    """A pairwise task seen one response at a time, for a reward-style judge (Bradley-Terry head).

    It keeps the pairwise task's definition as the aspect to rate and reads the judge's state at the
    pointwise answer position (`EVALUATION:\nscore:`), which a FLAMe-trained model already uses to rate.
    """
    if pairwise.task_type != "pairwise":
        raise SchemaError(f"task {pairwise.name!r}: a reward view needs a pairwise task, not {pairwise.task_type}")
    return TaskSpec(
        name=f"{pairwise.name}/reward",
        task_type="pointwise",
        definition=f"Rate one response on its own. The comparison this rating serves: {pairwise.definition.strip()}",
        instructions=pairwise.instructions,
        outputs=(OutputField("score", "an integer from 1 to 5", scale_labels((1, 5))),),
        category=pairwise.category,
    )


def reward_inputs(pairwise_fields: Sequence[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """Inputs for each of a pairwise example's two responses (its last two fields), context first."""
    if len(pairwise_fields) < 2:
        raise SchemaError("a pairwise example needs two response fields (its last two inputs)")
    context = tuple(pairwise_fields[:-2])
    return tuple((*context, ("response", value)) for _, value in pairwise_fields[-2:])
