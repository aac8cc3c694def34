from __future__ import annotations

import pytest

from flame_data import Example, OutputField, SchemaError, TaskSpec


def test_task_type_and_category_are_validated():
    out = (OutputField("answer", "", ("yes", "no")),)
    with pytest.raises(SchemaError, match="task_type 'ranking'"):
        TaskSpec(name="t", task_type="ranking", definition="d", outputs=out)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="category 'vibes'"):
        TaskSpec(name="t", task_type="classification", definition="d", outputs=out, category="vibes")  # type: ignore[arg-type]


def test_scored_task_types_need_labels_on_the_first_field():
    with pytest.raises(SchemaError, match="must declare its labels"):
        TaskSpec(name="t", task_type="pairwise", definition="d", outputs=(OutputField("answer", "free"),))
    TaskSpec(name="t", task_type="open_ended", definition="d", outputs=(OutputField("explanation", "free"),))


@pytest.mark.parametrize(
    ("name", "labels"), [("Answer", ("A",)), ("", ("A",)), ("answer", ("A", "A")), ("answer", (" A",))]
)
def test_output_field_rules(name, labels):
    with pytest.raises(SchemaError):
        OutputField(name, "", labels)


def test_example_values_must_be_text():
    with pytest.raises(SchemaError, match="input 'score' must be text, got int"):
        Example(task="t", inputs=(("score", 3),))  # type: ignore[arg-type]


def test_unknown_output_field_is_named():
    spec = TaskSpec(
        name="t", task_type="classification", definition="d", outputs=(OutputField("answer", "", ("y", "n")),)
    )
    with pytest.raises(SchemaError, match="no output field 'verdict'"):
        Example(task="t", inputs=(), target=(("verdict", "y"),)).check_against(spec)
