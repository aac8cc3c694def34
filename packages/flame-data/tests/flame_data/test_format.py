from __future__ import annotations

import pytest

from flame_data import (
    Example,
    OutputField,
    SchemaError,
    TaskSpec,
    render_example,
    render_input,
    scoring_prefix,
)
from flame_data.format import render_target
from flame_data.templates import pairwise_inputs, pairwise_task, pointwise_task, scale_labels


def spaghetti_task() -> TaskSpec:
    return TaskSpec(
        name="demo/helpful",
        task_type="pairwise",
        definition="Compare two responses to the same user request and decide which one is more helpful.",
        instructions="A helpful response answers the request directly.",
        outputs=(OutputField("answer", "", ("A", "B", "tie")),),
    )


def test_render_input_matches_the_format_by_example():
    text = render_input(spaghetti_task(), pairwise_inputs("How long?", "9 minutes.", "No idea."))
    assert text == (
        "INSTRUCTIONS:\n"
        "Task: Compare two responses to the same user request and decide which one is more helpful.\n"
        "Evaluation instructions: A helpful response answers the request directly.\n"
        "Output fields: answer (one of: A, B, tie)\n"
        "\n"
        "CONTEXT:\n"
        "request: How long?\n"
        "response A: 9 minutes.\n"
        "response B: No idea."
    )


def test_render_target_and_scoring_prefix_agree():
    spec = spaghetti_task()
    target = render_target((("answer", "A"), ("explanation", "It answers.")))
    assert target == "EVALUATION:\nanswer: A\nexplanation: It answers."
    assert target.startswith(scoring_prefix(spec) + " A")


def test_render_example_rejects_a_label_outside_the_declared_set():
    spec = spaghetti_task()
    bad = Example(task=spec.name, inputs=(("request", "x"),), target=(("answer", "C"),))
    with pytest.raises(SchemaError, match="'C' is not one of"):
        render_example(spec, bad)


def test_pointwise_template_declares_its_scale():
    spec = pointwise_task("coherence", (1, 5))
    assert spec.outputs[0].labels == ("1", "2", "3", "4", "5")
    assert "Output fields: score (an integer from 1 to 5)" in render_input(spec, (("response", "x"),))


@pytest.mark.parametrize("scale", [(5, 1), (3, 3), (1.0, 5)])
def test_bad_scales_are_rejected_with_the_value(scale):
    with pytest.raises(SchemaError, match="scale"):
        scale_labels(scale)


def test_criteria_is_woven_into_the_pairwise_definition():
    assert "better in helpfulness" in pairwise_task("helpfulness").definition
    assert "overall quality" in pairwise_task(None).definition


def test_example_metadata_is_read_only():
    ex = Example(task="t", inputs=(("a", "b"),), metadata={"agreement": 0.8})
    with pytest.raises(TypeError):
        ex.metadata["agreement"] = 1.0  # type: ignore[index]
