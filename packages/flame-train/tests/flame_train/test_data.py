from __future__ import annotations

import json
from pathlib import Path

from flame_data import TRUNCATION_MARKER
from flame_train.data import IGNORE, Encoder, MixtureSampler, load_rates, load_split, sample_rows, swap_pair


def test_swap_pair_moves_responses_and_flips_the_answer():
    fields = [["request", "q"], ["response A", "x"], ["response B", "y"]]
    swapped, target = swap_pair(fields, [["answer", "A"]])
    assert swapped == [["request", "q"], ["response A", "y"], ["response B", "x"]]
    assert target == [["answer", "B"]]
    assert swap_pair(fields, [["answer", "tie"]])[1] == [["answer", "tie"]]


def test_encoder_masks_the_prompt_and_fits_the_budget(tiny_model: Path, tiny_mixture: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    enc = Encoder(tok, max_length=192)
    rows = [r for r in load_split(tiny_mixture, "train") if r["task"].startswith("summeval/")][:5]
    for row in rows:
        e = enc.row(row)
        assert len(e.ids) <= 192
        assert len(e.ids) == len(e.labels)
        target = [t for t in e.labels if t != IGNORE]
        assert tok.decode(target).startswith("EVALUATION:\nscore:")
        assert e.labels[: len(e.labels) - len(target)] == [IGNORE] * (len(e.labels) - len(target))
        text = tok.decode(e.ids)
        assert "article:" in text
        assert "summary:" in text
        assert TRUNCATION_MARKER in text  # articles do not fit 192 tokens


def test_sampler_is_a_function_of_the_step_and_follows_the_rates(tiny_mixture: Path):
    rows = load_split(tiny_mixture, "train")
    rates = load_rates(tiny_mixture, None, sorted({r["task"] for r in rows}))
    a = MixtureSampler(sample_rows(rows), rates, batch_size=4, seed=1, both_orders=True, group_by_length=True)
    b = MixtureSampler(sample_rows(rows), rates, batch_size=4, seed=1, both_orders=True, group_by_length=True)
    assert [a.batch(s) for s in range(40)] == [b.batch(s) for s in reversed(range(40))][::-1]
    seen = [rows[i]["task"] for s in range(200) for i, _ in a.batch(s)]
    share = seen.count("q2/consistency") / len(seen)
    assert abs(share - rates["q2/consistency"]) < 0.05
    swaps = [swap for s in range(200) for i, swap in a.batch(s) if rows[i]["task_type"] == "pairwise"]
    assert 0.4 < sum(swaps) / len(swaps) < 0.6


def test_rates_file_overrides_the_mixture(tiny_mixture: Path, tmp_path: Path):
    path = tmp_path / "rm.json"
    path.write_text(json.dumps({"rates": {"pandalm_testset/overall": 1, "summeval/coherence_pairwise": 1}}))
    rates = load_rates(
        tiny_mixture, str(path), ["pandalm_testset/overall", "summeval/coherence_pairwise", "q2/consistency"]
    )
    assert rates == {"pandalm_testset/overall": 0.5, "summeval/coherence_pairwise": 0.5}
