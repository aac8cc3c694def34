"""The real default judge (Judge.load(): LoRA + reward head) gives the same verdicts whatever the
batching, uses the judge's token budget on the reward path, and names what it cut."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flame_data import templates
from flame_judge import ClassificationRequest, PairwiseRequest, PointwiseRequest
from flame_judge.judge import Judge
from flame_judge.reward import RewardBackend

# Mixed lengths, so a batch pads most of its rows.
SHORT, LONG = "Paris.", "The capital of France is Paris, on the Seine; it has been the capital since 987. " * 4
PAIRS = [
    PairwiseRequest("What is the capital of France?", SHORT, "Lyon."),
    PairwiseRequest("What is the capital of France? Answer in detail.", LONG, SHORT),
    PairwiseRequest("Name a primary colour.", "Red.", "Colours are a social construct. " * 6),
    PairwiseRequest("How many legs does a spider have?", "Eight.", "Six, like all insects."),
    PairwiseRequest("Is 17 prime?", "Yes, 17 has no divisors other than 1 and itself.", "No."),
    PairwiseRequest("Translate 'gracias'.", "Thank you.", "Please. " * 12),
    PairwiseRequest("Give me a synonym for happy.", "Joyful.", "Sad."),
    PairwiseRequest("Boil spaghetti for how long? " * 5, "About 9 to 11 minutes in salted water.", "Forever."),
]
ALONE = (0, 2, 7)


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    with Judge.load(cache=False) as judge:  # the real default judge, every call does model work
        yield judge


@pytest.mark.slow
def test_pairwise_verdicts_do_not_depend_on_the_batch(judge: Judge):
    assert judge.kind == "reward"
    batched = judge.pairwise_batch(PAIRS)
    for i in ALONE:
        alone = judge.pairwise_batch([PAIRS[i]])[0]
        assert abs(alone.prob_a - batched[i].prob_a) < 1e-5


@pytest.mark.slow
def test_pointwise_and_classification_verdicts_do_not_depend_on_the_batch(judge: Judge):
    points = [PointwiseRequest(p.prompt, p.a, "helpfulness") for p in PAIRS]
    labels = [ClassificationRequest(p.prompt, p.b, ("yes", "no"), "Is the response correct?") for p in PAIRS]
    batched_points, batched_labels = judge.pointwise_batch(points), judge.classify_batch(labels)
    for i in ALONE:
        assert abs(judge.pointwise_batch([points[i]])[0].score - batched_points[i].score) < 1e-5
        alone = judge.classify_batch([labels[i]])[0].probabilities
        assert max(abs(alone[k] - batched_labels[i].probabilities[k]) for k in alone) < 1e-5


@pytest.mark.slow
def test_batch_size_reaches_the_reward_path(judge: Judge):
    judge.pairwise_batch(PAIRS[2:3])  # the one-time shared-prefix probe runs outside the count
    body = judge.backend.loaded.model.get_decoder()
    rows: list[int] = []  # rows of each forward pass through the decoder

    def count(_module, args, kwargs, _out):
        x = kwargs.get("input_ids")
        x = kwargs.get("inputs_embeds") if x is None else x
        rows.append((args[0] if x is None else x).shape[0])

    handle = body.register_forward_hook(count, with_kwargs=True)
    try:
        judge.pairwise_batch(PAIRS[:2], batch_size=1)
        one_at_a_time = list(rows)
        rows.clear()
        judge.pairwise_batch(PAIRS[:2])
    finally:
        handle.remove()
    # Four responses: each pass holds one row at batch_size=1 (a shared context runs as its own pass).
    assert max(one_at_a_time) == 1
    assert len(one_at_a_time) >= 4
    assert max(rows) > 1
    assert len(rows) < len(one_at_a_time)


def answers_that_differ_late() -> tuple[str, str]:
    story = "The committee met on Tuesday and discussed the budget, the roads and the new library. " * 20
    return story + "So the answer is yes, the library opens in May.", story + "So the answer is no."


@pytest.mark.slow
def test_the_reward_budget_is_the_judges_and_its_cuts_are_named(judge: Judge):
    a, b = answers_that_differ_late()
    spec, fields = templates.pairwise_task(None), templates.pairwise_inputs("What did the committee decide?", a, b)
    assert isinstance(judge.reward, RewardBackend)
    assert judge.reward.max_input_tokens == judge.reward.config.max_input_tokens == 384  # fitted there
    qa, qb = judge.reward.prepare(spec, fields)
    assert qa.query.text == qb.query.text  # what differs lies past the budget
    cut = judge.pairwise("What did the committee decide?", a, b)
    assert cut.prob_a == 0.5  # the head reads no length feature: the same input is the same reward
    assert cut.truncated == ("response A", "response B")  # ... and the verdict says why
    with Judge.load(cache=False, max_input_tokens=1024) as wide:
        assert isinstance(wide.reward, RewardBackend)
        assert wide.reward.max_input_tokens == 1024
        wa, wb = wide.reward.prepare(spec, fields)
        assert wa.query.text != wb.query.text
        whole = wide.pairwise("What did the committee decide?", a, b)
    assert whole.truncated == ()
    assert whole.prob_a != cut.prob_a


def context_of(text: str) -> str:
    return text.rsplit("\nresponse: ", 1)[0]


@settings(max_examples=15, deadline=None)
@given(
    prompt=st.integers(min_value=0, max_value=400),
    a=st.integers(min_value=1, max_value=400),
    b=st.integers(min_value=1, max_value=400),
)
def test_both_responses_of_a_pair_see_the_same_context(judge: Judge, prompt: int, a: int, b: int):
    assert isinstance(judge.reward, RewardBackend)
    fields = templates.pairwise_inputs("Why? " + "Tell me more. " * prompt, "yes " * a, "no " * b)
    qa, qb = judge.reward.prepare(templates.pairwise_task(None), fields)
    assert context_of(qa.query.text) == context_of(qb.query.text)
    assert qa.context_cut == qb.context_cut
    for q in (qa, qb):
        assert len(judge.reward.features.view.model_input(q)) <= judge.reward.max_input_tokens


def test_the_cli_names_what_was_cut():
    from flame_judge.cli import describe
    from flame_judge.judge import Source, pairwise_verdict

    request = PairwiseRequest("q", "a", "b")
    verdict = pairwise_verdict(request, 0.5, 0.5, Source("j", "j@1", "reward"), False, truncated=("response A",))
    assert "truncated to fit the token budget: response A" in describe(verdict)
    assert "truncated" not in describe(pairwise_verdict(request, 0.5, 0.5, Source("j", "j@1", "reward"), False))


def test_the_cli_says_a_score_came_from_the_rater_head():
    from flame_judge.cli import describe
    from flame_judge.judge import Source, pointwise_verdict

    request = PointwiseRequest("q", "r", None, (1, 5))
    dist = {"1": 0.1, "2": 0.2, "3": 0.4, "4": 0.2, "5": 0.1}
    assert "rater head" in describe(pointwise_verdict(request, dist, Source("j", "j@1", "head"), False))
    assert "rater head" not in describe(pointwise_verdict(request, dist, Source("j", "j@1", "generative"), False))
