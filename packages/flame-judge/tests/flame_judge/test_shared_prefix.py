"""Shared-prefix scoring (flame_judge.backends.prefix): a prefix run once with a KV cache, each row
continuing from it, gives the label log-probabilities of running every row whole."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from flame_data import templates
from flame_judge import Judge, PairwiseRequest
from flame_judge.backends.prefix import plan_group_batches, prefix_groups, sharing_works
from flame_judge.backends.transformers import TransformersEngine
from flame_judge.loading import load
from flame_judge.scoring import GenerativeBackend
from flame_judge.tiny_models import causal_lm, config, save

ARCHS = ["llama", "qwen2", "gemma2", "phi", "cohere"]


def _rows(seed: int = 0) -> list[list[int]]:
    """Pairs of rows sharing prefixes of different lengths, a row alone, and a duplicate."""
    rng = random.Random(seed)

    def words(n: int) -> list[int]:
        return [rng.randrange(100, 40000) for _ in range(n)]

    head = words(20)  # every row starts with it, like a task's instructions (too short to share alone)
    rows = []
    for shared, tails in ((40, (9, 15)), (75, (1, 30)), (33, (12, 12, 5))):
        prefix = head + words(shared)
        rows.extend(prefix + words(t) for t in tails)
    rows.append(head + words(50))
    rows.append(head + words(44))
    rows.append(list(rows[-1]))  # a duplicate shares all but its last token
    rng.shuffle(rows)
    return rows


def _reference(model, rows, labels):
    """One row at a time through the model's full forward."""
    with torch.inference_mode():
        out = []
        for row, ids in zip(rows, labels, strict=True):
            logits = model(input_ids=torch.tensor([row])).logits[0, -1].float()
            out.append(torch.log_softmax(logits, -1)[ids].tolist())
    return out


def test_rows_group_by_the_prefix_they_share_most():
    rows = _rows()
    groups, alone = prefix_groups(rows)
    members = sorted(i for g in groups for i in g.members)
    assert sorted(members + alone) == list(range(len(rows)))
    assert len(groups) == 4  # pair by pair, not all rows on the 20-token head they all share
    for g in groups:
        assert g.length >= 32
        assert all(rows[i][: g.length] == rows[g.members[0]][: g.length] for i in g.members)
        assert all(len(rows[i]) > g.length for i in g.members)  # the answer position runs after the cache
    assert len(alone) == 1


@given(
    rows=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=60), max_size=30),
    cap=st.integers(1, 8),
    budget=st.one_of(st.none(), st.integers(50, 400)),
)
def test_groups_and_their_batches_cover_every_row_once(rows, cap, budget):
    groups, alone = prefix_groups(rows, min_shared=4)
    batches = plan_group_batches(groups, rows, batch_tokens=budget, max_batch_size=cap)
    planned = [i for batch in batches for g in batch for i in g.members]
    assert sorted(planned + alone) == list(range(len(rows)))
    for batch in batches:
        assert sum(len(g.members) for g in batch) <= cap
        for g in batch:
            assert all(rows[i][: g.length] == rows[g.members[0]][: g.length] for i in g.members)
            assert all(len(rows[i]) > g.length >= 4 for i in g.members)


@pytest.mark.parametrize("arch", ARCHS)
def test_shared_prefix_scoring_matches_whole_rows(arch, tmp_path):
    folder = save(causal_lm(arch), tmp_path / arch)
    loaded = load(folder, device="cpu")
    rows = _rows()
    labels = [[330, 331] if i % 2 else [28, 29, 30] for i in range(len(rows))]
    shared = TransformersEngine(loaded)
    plain = TransformersEngine(loaded, share_prefixes=False)
    want = _reference(loaded.model, rows, labels)
    for got in (
        shared.label_logprobs(rows, labels),
        shared.label_logprobs(rows, labels, batch_size=1),
        shared.label_logprobs(rows, labels, batch_size=3),
        plain.label_logprobs(rows, labels),
    ):
        for g, w in zip(got, want, strict=True):
            assert g == pytest.approx(w, abs=2e-4)
    assert shared._sharing()  # the probe passed: the shared path is what ran
    a, b = shared.label_logprobs(rows, labels), plain.label_logprobs(rows, labels)
    assert max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True)) < 1e-4


class _NoCache(torch.nn.Module):
    """A decoder that takes no cache: its rows must run whole."""

    def forward(self, input_ids, attention_mask=None):
        return input_ids


def test_a_decoder_without_a_cache_runs_rows_whole():
    assert not sharing_works(_NoCache(), torch.device("cpu"))


def test_a_sliding_window_shorter_than_the_rows(tmp_path):
    """Gemma-2's sliding layers see the last 8 positions: prefix and continuation must agree on which."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config("gemma2", sliding_window=8), dtype=torch.float32).eval()
    loaded = load(save(model, tmp_path / "gemma2-window"), device="cpu")
    rows = _rows(1)
    labels = [[330, 331]] * len(rows)
    want = _reference(loaded.model, rows, labels)
    got = TransformersEngine(loaded).label_logprobs(rows, labels)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, abs=2e-4)


PAIRS = [
    PairwiseRequest("Is 17 prime? Answer and say why.", "Yes, 17 has no divisors other than 1 and itself.", "No."),
    PairwiseRequest("Name a primary colour.", "Red.", "Colours are a social construct. " * 6),
]


def test_the_default_judge_gives_the_same_verdicts_with_and_without_sharing(real_judge: Judge):
    loaded = real_judge.backend.loaded
    engine = real_judge.backend.engine
    assert isinstance(engine, TransformersEngine)
    assert engine.share_prefixes  # on by default
    shared = Judge(GenerativeBackend(loaded, engine=TransformersEngine(loaded)))
    plain = Judge(GenerativeBackend(loaded, engine=TransformersEngine(loaded, share_prefixes=False)))
    spec, backend = templates.pairwise_task(None), shared.backend
    rows = [
        backend.model_input(backend.prepare(spec, templates.pairwise_inputs(p.prompt, x, y)))
        for p in PAIRS
        for x, y in ((p.a, p.b), (p.b, p.a))
    ]
    assert [g.members for g in prefix_groups(rows)[0]] == [(0, 1), (2, 3)]  # each pair's orders share a prefix
    batched, alone = shared.pairwise_batch(PAIRS), shared.pairwise_batch(PAIRS[:1])
    for s, p in zip(batched, plain.pairwise_batch(PAIRS), strict=True):
        assert abs(s.prob_a_first - p.prob_a_first) < 1e-5
        assert abs(s.prob_a_second - p.prob_a_second) < 1e-5
    assert abs(alone[0].prob_a - batched[0].prob_a) < 1e-5


def test_reward_features_are_the_same_with_and_without_sharing(real_judge: Judge):
    """The default judge's reward head reads every layer's states over each response's positions:
    the context's states come from the shared pass, the response's from its own."""
    from flame_judge.reward import RewardBackend, RewardFeatures

    reward = real_judge.reward
    assert isinstance(reward, RewardBackend)
    spec = templates.pairwise_task(None)
    queries = [q for p in PAIRS for q in reward.prepare(spec, templates.pairwise_inputs(p.prompt, p.a, p.b))]
    shared = reward.features
    assert shared.share_prefixes  # on by default
    plain = RewardFeatures(shared.loaded, shared.config, max_input_tokens=shared.max_input_tokens, share_prefixes=False)
    want, got, one_by_one = plain(queries), shared(queries), shared(queries, batch_size=1)
    assert float((got - want).abs().max()) < 1e-4
    assert float((one_by_one - want).abs().max()) < 1e-4
    head = reward.head
    assert float((head(got) - head(want)).abs().max()) < 1e-4
    twice = shared([queries[0], *queries, queries[-1]])  # an input met twice is read once: equal exactly
    assert torch.equal(twice[0], twice[1])
    assert torch.equal(twice[-1], twice[-2])
    assert float((twice[1:-1] - got).abs().max()) < 1e-4
