from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flame_judge.scoring import plan_batches


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=600), max_size=80),
    budget=st.integers(min_value=600, max_value=5000),
    cap=st.integers(min_value=1, max_value=32),
)
def test_batches_cover_every_index_once_and_respect_the_budget(lengths, budget, cap):
    batches = plan_batches(lengths, batch_tokens=budget, max_batch_size=cap)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= cap
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= budget
