"""Truncation keeps every field visible and fits the budget; checked with a word tokenizer and hypothesis."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flame_data import TRUNCATION_MARKER, InputTooLongError, fit_inputs, render_input
from flame_data.templates import pairwise_inputs, pairwise_task


class Chars:
    """One token per character: exact and reversible, so budgets are easy to reason about."""

    def encode(self, text: str) -> Sequence[int]:
        return list(map(ord, text))

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(map(chr, ids))


TOK = Chars()
SPEC = pairwise_task("helpfulness")


def size(inputs) -> int:
    return len(TOK.encode(render_input(SPEC, inputs)))


def test_short_inputs_are_untouched():
    inputs = pairwise_inputs("q", "a", "b")
    assert fit_inputs(SPEC, inputs, max_tokens=10_000, tokenizer=TOK) == inputs


def test_longest_field_is_cut_first_and_marked():
    inputs = pairwise_inputs("short question", "x" * 2000, "y" * 300)
    budget = size(pairwise_inputs("short question", "", "")) + 800
    fitted = fit_inputs(SPEC, inputs, max_tokens=budget, tokenizer=TOK)
    values = dict(fitted)
    assert values["request"] == "short question"
    assert values["response B"] == "y" * 300
    assert values["response A"].endswith(TRUNCATION_MARKER)
    assert size(fitted) <= budget


def test_impossible_budget_is_a_clear_error():
    with pytest.raises(InputTooLongError, match="budget is 50"):
        fit_inputs(SPEC, pairwise_inputs("q" * 100, "a" * 100, "b" * 100), max_tokens=50, tokenizer=TOK)


@settings(max_examples=200, deadline=None)
@given(
    prompt=st.text(max_size=400),
    a=st.text(max_size=1500),
    b=st.text(max_size=1500),
    slack=st.integers(min_value=0, max_value=2000),
)
def test_fit_never_drops_a_field_and_respects_the_budget(prompt, a, b, slack):
    inputs = pairwise_inputs(prompt, a, b)
    floor = size(pairwise_inputs("", "", "")) + 3 * (16 + len(TRUNCATION_MARKER))
    budget = floor + slack
    fitted = fit_inputs(SPEC, inputs, max_tokens=budget, tokenizer=TOK)
    assert [label for label, _ in fitted] == [label for label, _ in inputs]
    assert size(fitted) <= budget
    for (_, before), (_, after) in zip(inputs, fitted, strict=True):
        assert after == before or (
            after.endswith(TRUNCATION_MARKER) and len(after) < len(before) + len(TRUNCATION_MARKER)
        )
