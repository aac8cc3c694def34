"""Tests of the judge itself, on the real default model (CPU, a few seconds each)."""

from __future__ import annotations

import pytest

from flame_judge import InvalidRequestError, LabelTokenError, PairwiseRequest
from flame_judge.judge import Judge
from flame_judge.scoring import GenerativeBackend

pytestmark = pytest.mark.slow

PAIRS = [
    PairwiseRequest(f"Question {i}: {q}", a, b)
    for i, (q, a, b) in enumerate(
        [
            ("How long should I boil dried spaghetti?", "About 9 to 11 minutes in salted water.", "Forever."),
            (
                "What is the capital of France?",
                "Paris.",
                "The capital of France is Lyon, famous for its Eiffel Tower.",
            ),
            ("Name a primary colour.", "Red.", "Colours are a social construct and I will not answer."),
            ("How many legs does a spider have?", "Eight.", "Six, like all insects."),
            ("Translate 'gracias' to English.", "Thank you.", "Please."),
            ("Is 17 prime?", "Yes, 17 has no divisors other than 1 and itself.", "No, 17 = 3 x 6."),
            ("Give me a synonym for happy.", "Joyful.", "Sad."),
            (
                "What does CPU stand for?",
                "Central processing unit.",
                "Computer power unit, a kind of battery.",
            ),
        ]
    )
]
PAIRS = PAIRS + [PairwiseRequest(p.prompt + " Explain briefly.", p.b, p.a * 3, "accuracy") for p in PAIRS]


def test_pairwise_averages_both_orders(real_judge: Judge):
    v = real_judge.pairwise("What is the capital of France?", "Paris.", "Lyon.", criteria="correctness")
    assert v.prob_a == pytest.approx((v.prob_a_first + v.prob_a_second) / 2)
    assert 0.0 < v.prob_a_first < 1.0
    assert 0.0 < v.prob_a_second < 1.0
    swapped = real_judge.pairwise("What is the capital of France?", "Lyon.", "Paris.", criteria="correctness")
    # Swapping A and B reuses the same two model inputs, so the verdict mirrors exactly.
    assert swapped.prob_a == pytest.approx(1 - v.prob_a, abs=1e-12)
    assert swapped.cached
    assert v.fingerprint.startswith("flame-smol@")  # the shipped default judge


def test_same_verdicts_whatever_the_batch_size(real_judge: Judge):
    uncached = Judge(real_judge.backend, cache=None)  # every call does model work
    one = uncached.pairwise_batch(PAIRS, batch_size=1)
    sixteen = uncached.pairwise_batch(PAIRS, batch_size=16)
    packed = uncached.pairwise_batch(PAIRS)  # token-budget batches, sorted by length
    assert len(one) == len(PAIRS)
    for x, y, z in zip(one, sixteen, packed, strict=True):
        assert abs(x.prob_a_first - y.prob_a_first) < 1e-5
        assert abs(x.prob_a_second - y.prob_a_second) < 1e-5
        assert abs(x.prob_a - z.prob_a) < 1e-5


def test_second_call_comes_from_the_cache(real_judge: Judge):
    first = real_judge.pairwise("Is water wet?", "Yes.", "No.", criteria="common sense")
    again = real_judge.pairwise("Is water wet?", "Yes.", "No.", criteria="common sense")
    assert not first.cached
    assert again.cached
    assert again.prob_a == first.prob_a


def test_pointwise_distribution_and_expectation(real_judge: Judge):
    v = real_judge.pointwise("What is 2 + 2?", "4", criteria="correctness", scale=(1, 5))
    assert list(v.distribution) == ["1", "2", "3", "4", "5"]
    assert sum(v.distribution.values()) == pytest.approx(1.0)
    assert v.score == pytest.approx(sum(int(k) * p for k, p in v.distribution.items()))
    assert 1 <= v.score <= 5
    assert 1 <= v.most_likely <= 5


def test_classify_returns_the_most_probable_label(real_judge: Judge):
    v = real_judge.classify("The meeting is on Tuesday.", "The meeting is on Friday.", labels=["yes", "no"])
    assert v.label == max(v.probabilities, key=v.probabilities.__getitem__)
    assert sum(v.probabilities.values()) == pytest.approx(1.0)


def test_long_inputs_are_truncated_not_dropped(real_judge: Judge):
    short = Judge(GenerativeBackend(real_judge.backend.loaded, max_input_tokens=256), cache=None)
    essay = "The history of pasta is long and varied. " * 200
    v = short.pairwise("Summarize.", essay, "Pasta is old.")
    assert 0 < v.prob_a < 1
    assert v.truncated == ("response A",)  # named after the request's fields in both orders
    query = short.backend.prepare(*_pairwise_spec_inputs("Summarize.", essay, "Pasta is old."))
    assert "[...]" in query.text
    assert "response B: Pasta is old." in query.text


def _pairwise_spec_inputs(prompt: str, a: str, b: str):
    from flame_data import templates

    return templates.pairwise_task(None), templates.pairwise_inputs(prompt, a, b)


def test_scales_the_tokenizer_cannot_split_are_a_clear_error(real_judge: Judge):
    with pytest.raises(LabelTokenError, match="differ in their first token"):
        real_judge.pointwise("q", "r", scale=(1, 12))


def test_non_text_arguments_are_caller_errors(real_judge: Judge):
    with pytest.raises(InvalidRequestError, match="a must be a string, got int"):
        real_judge.pairwise("q", 3, "b")  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [300, 301, 512])
def test_prepared_queries_never_exceed_the_token_limit(real_judge: Judge, limit: int):
    from flame_data import templates

    backend = GenerativeBackend(real_judge.backend.loaded, max_input_tokens=limit)
    essay = "Numbers 1 2 3 and words, many words; " * 300
    for spec, fields in (
        (templates.pointwise_task("clarity", (1, 5)), templates.pointwise_inputs(essay, essay)),
        (templates.pairwise_task(None), templates.pairwise_inputs("Summarize.", essay, essay[::-1])),
    ):
        query = backend.prepare(spec, fields)
        assert len(backend.model_input(query)) <= limit  # what one forward pass reads, shared label tokens too
