"""Bad arguments to the Python API are caller errors that say what was passed and what to do.

The checks run before the tokenizer or the model sees anything, so these tests load the default
judge lazily (tokenizer only) and never run a forward pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flame_judge import ClassificationRequest, InvalidRequestError, Judge, ModelLoadError, PointwiseRequest
from flame_judge.testing import FakeJudge

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NOT_TEXT = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.binary(max_size=8),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# Text that holds at least one lone surrogate (hypothesis' default alphabet never draws one).
SURROGATE_TEXT = st.tuples(
    st.text(max_size=10), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), st.text(max_size=10)
).map("".join)


@pytest.fixture(scope="module")
def judges() -> Iterator[tuple[Judge, FakeJudge]]:
    judge = Judge.load(cache=False)  # weights load lazily: none of these tests reaches them
    yield judge, FakeJudge()
    assert not judge.backend.loaded.is_loaded  # every bad call was refused before any model work
    judge.close()


@FAST
@given(criteria=NOT_TEXT)
def test_non_string_criteria_is_an_invalid_request(judges, criteria):
    match = f"criteria must be a string.*got {type(criteria).__name__}"
    for judge in judges:
        with pytest.raises(InvalidRequestError, match=match):
            judge.pairwise("q", "a", "b", criteria=criteria)
        with pytest.raises(InvalidRequestError, match=match):
            judge.pointwise("q", "r", criteria=criteria)
        with pytest.raises(InvalidRequestError, match=match):
            judge.classify("c", "r", criteria=criteria)


@FAST
@given(labels=st.lists(st.one_of(st.text(min_size=1, max_size=4), NOT_TEXT), min_size=2, max_size=4))
def test_non_string_labels_are_an_invalid_request(judges, labels):
    if all(isinstance(x, str) for x in labels):
        labels = [*labels, 7]
    for judge in judges:
        with pytest.raises(InvalidRequestError, match="every label must be a string"):
            judge.classify("c", "r", labels=labels)


def test_one_string_as_labels_is_refused_not_split_into_letters(judges):
    for judge in judges:
        with pytest.raises(InvalidRequestError, match=r"single string 'yes'; pass a list such as \['yes', 'no'\]"):
            judge.classify("c", "r", labels="yes")
        with pytest.raises(InvalidRequestError, match="single string"):
            judge.classify_batch([ClassificationRequest("c", "r", "yes")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "labels", [[" yes", "no"], ["yes ", "no"], ["yes", ""], ["yes", "yes"], ["yes"], ["a\nb", "c"]]
)
def test_labels_that_cannot_be_scored_as_written_are_refused(judges, labels):
    for judge in judges:
        with pytest.raises(InvalidRequestError, match="classify: "):
            judge.classify("c", "r", labels=labels)


@pytest.mark.parametrize("scale", [(), (1, 5, 9), (5, 1), (1.0, 5), ("1", "5"), (True, 5), 5, "15"])
def test_malformed_scales_are_an_invalid_request(judges, scale):
    for judge in judges:
        with pytest.raises(InvalidRequestError, match=r"scale must be two integers .*e\.g\. \(1, 5\)"):
            judge.pointwise("q", "r", scale=scale)


@FAST
@given(text=SURROGATE_TEXT, field=st.sampled_from(["prompt", "a", "b", "criteria"]))
def test_lone_surrogates_are_refused_naming_the_field(judges, text, field):
    args = {"prompt": "q", "a": "x", "b": "y", "criteria": None, field: text}
    for judge in judges:
        with pytest.raises(InvalidRequestError, match=f"{field} holds a lone surrogate"):
            judge.pairwise(args["prompt"], args["a"], args["b"], criteria=args["criteria"])


def test_a_batch_error_names_the_request(judges):
    good = PointwiseRequest("q", "r")
    for judge in judges:
        with pytest.raises(InvalidRequestError, match="pointwise request 1: response must be a string, got int"):
            judge.pointwise_batch([good, PointwiseRequest("q", 3)])  # type: ignore[arg-type]


@pytest.mark.parametrize("device", ["mps", "meta", "xpu", "tpu", "cuda:99", 0, None])
def test_unsupported_devices_are_a_model_load_error_saying_what_works(device):
    import torch

    if device == "cuda:99" and not torch.cuda.is_available():
        device = "cuda"  # without CUDA the same check reports that CUDA is missing
    with pytest.raises(ModelLoadError, match=r"'cpu'"):
        Judge.load(device=device, cache=False)  # type: ignore[arg-type]
