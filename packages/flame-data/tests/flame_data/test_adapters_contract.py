"""Every registered adapter on its real data: rows convert, every declared task yields examples that
fit their task and render, and rejected rows stay rare."""

from __future__ import annotations

from pathlib import Path

import pytest

from flame_data.adapter import Rejected, Skip
from flame_data.errors import RowError
from flame_data.format import render_example
from flame_data.registry import adapters

NAMES = sorted(adapters())


@pytest.mark.parametrize("name", NAMES)
def test_adapter_on_its_real_data(name: str, data_dir: Path):
    cls = adapters()[name]
    instance = cls()
    rows = list(instance.read(cls.directory(data_dir)))
    if not cls.tasks:
        assert rows == []
        return
    assert rows, f"{name} read no rows"
    per_task = dict.fromkeys((t.name for t in cls.tasks), 0)
    rejected = 0
    for row in rows:
        try:
            produced = list(instance.convert(row.data))
        except RowError:
            rejected += 1
            continue
        for item in produced:
            if isinstance(item, Skip):
                assert item.task in per_task
                assert item.reason
                continue
            if isinstance(item, Rejected):  # one bad member of a group: counted like a rejected row
                rejected += 1
                continue
            spec = cls.task(item.task)
            prompt, target = render_example(spec, item)
            assert prompt.startswith("INSTRUCTIONS:\nTask: ")
            assert "\n\nCONTEXT:\n" in prompt
            assert target.startswith("EVALUATION:\n")
            assert "group" in item.metadata
            per_task[item.task] += 1
    assert all(per_task.values()), f"tasks with no examples: {[t for t, n in per_task.items() if not n]}"
    assert rejected <= max(3, 0.01 * len(rows)) or name == "hh_rlhf", f"{rejected} of {len(rows)} rows rejected"


def test_pairwise_positions_carry_no_signal(data_dir: Path):
    # MT-Bench's source prefers model_b 1040 to 294; after per-example shuffling A and B are balanced.
    cls = adapters()["mt_bench_human_judgments_partial"]
    answers = [
        item.target[0][1]
        for row in cls().read(cls.directory(data_dir))
        for item in cls().convert(row.data)
        if not isinstance(item, Skip | Rejected)
    ]
    a, b = answers.count("A"), answers.count("B")
    assert abs(a - b) / (a + b) < 0.1


def test_cobbler_rank_direction_matches_the_model_averages(data_dir: Path):
    # SOURCE.md infers "higher = better" from model averages; LLaMA must lose most of its pairs.
    import json

    annots = [json.loads((data_dir / "cobbler_human_rankings" / f"annot_{k}.json").read_text()) for k in range(1, 7)]
    mean = {m: sum(a[i][m] for a in annots for i in range(50)) / 300 for m in annots[0][0]}
    assert mean["llama"] < mean["vicuna"]
    assert mean["redpajama"] < mean["chatgpt"]
