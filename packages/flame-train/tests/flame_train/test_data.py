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


def test_label_mask_keeps_the_loss_on_the_scored_label_only(tiny_model: Path, tiny_mixture: Path):
    from transformers import AutoTokenizer

    from flame_train.data import LabelMask

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    enc, mask = Encoder(tok, max_length=256), LabelMask(tok)
    per_task: dict[str, list[dict]] = {}
    for r in load_split(tiny_mixture, "train"):
        per_task.setdefault(r["task"], []).append(r)
    rows = [r for rs in per_task.values() for r in rs[:3]]  # every task of the mixture
    assert {r["task_type"] for r in rows} >= {"pairwise", "pointwise", "classification"}
    for row in rows:
        for swap in (False, True) if row["task_type"] == "pairwise" else (False,):
            full = enc.row(row, swap)
            masked = mask(row["task"], full)
            assert masked.ids == full.ids
            kept = [t for t in masked.labels if t != IGNORE]
            gold = json.loads(row["target_fields"])[0][1]
            if swap:
                gold = {"A": "B", "B": "A"}.get(gold, gold)
            assert tok.decode(kept) == f" {gold}", row["task"]
            # the kept tokens are the full target's tokens at the same positions
            at = [i for i, t in enumerate(masked.labels) if t != IGNORE]
            assert [full.labels[i] for i in at] == kept


def test_label_mask_names_the_task_when_a_target_lost_its_label(tiny_model: Path, tiny_mixture: Path):
    import pytest
    from transformers import AutoTokenizer

    from flame_train.data import Encoded, LabelMask
    from flame_train.errors import ConfigError

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    row = next(r for r in load_split(tiny_mixture, "train") if r["task_type"] == "pairwise")
    full = Encoder(tok, max_length=256).row(row)
    first = next(i for i, t in enumerate(full.labels) if t != IGNORE)
    cut = Encoded(full.ids[: first + 2], full.labels[: first + 2])
    with pytest.raises(ConfigError, match=row["task"]):
        LabelMask(tok)(row["task"], cut)


def test_label_mask_has_no_label_lines_for_open_ended_tasks(tiny_model: Path):
    """The trainer refuses loss_tokens = label over such a task (its whole target would outweigh the labels)."""
    from transformers import AutoTokenizer

    from flame_train.data import LabelMask

    mask = LabelMask(AutoTokenizer.from_pretrained(str(tiny_model)))
    assert mask.lines("shepherd_human_feedback/critique") == (0, ())
    start, lines = mask.lines("pandalm_testset/overall")
    assert start > 0
    assert len(lines) >= 2  # A, B (and tie)
