"""The end-to-end Bradley-Terry reward model on a tiny random Llama: split forward, length-balanced
pool, exact resume, and an export that transformers reloads with identical rewards."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from flame_data import constructed
from flame_train.errors import CheckpointError
from flame_train.reward_model import (
    RewardModelConfig,
    RewardTrainer,
    SplitForward,
    export_reward_model,
    load_reward_model,
)
from flame_train.rm_data import PoolConfig, build_pool, pool_report

ROOT = Path(__file__).resolve().parents[4]


def _config(tiny_model: Path, tiny_mixture: Path, out: Path, **over: object) -> RewardModelConfig:
    base = RewardModelConfig(
        mixture=str(tiny_mixture),
        output_dir=str(out),
        base_model=str(tiny_model),
        max_input_tokens=256,
        top_layers=1,
        lora_r=4,
        lora_alpha=8,
        lr=5e-3,
        warmup_steps=1,
        batch_pairs=2,
        bf16=False,
        eval_every=1000,
        log_every=1,
        dev_per_suite=2,
        per_task=6,
        neighbour=2,
        distractor=2,
        safety_repeat=1,
        max_steps=4,
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


def test_split_forward_equals_the_models_own_forward(tiny_model: Path, tiny_mixture: Path, tmp_path: Path) -> None:
    model, _tokenizer = load_reward_model(_config(tiny_model, tiny_mixture, tmp_path))
    torch.nn.init.normal_(model.get_base_model().score.modules_to_save.default.weight)
    split = SplitForward(model, top_layers=1)
    ids = torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    ids[1, 3:] = model.config.pad_token_id
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).logits.squeeze(-1)
        got = split.top(split.lower(ids, mask), mask)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_split_forward_over_a_causal_lm_gives_its_hidden_states(tiny_model: Path) -> None:
    # What tools/probes/cached_reward_features.py reads from a run's cached lower states: the cut
    # layer's states and the last ones (final norm applied), as output_hidden_states gives them.
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    split = SplitForward(model, top_layers=1)
    ids = torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        lower = split.lower(ids, mask)
        top = split.top_states(lower, mask)
    real = mask.bool()
    torch.testing.assert_close(lower[real], states[split.cut][real], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(top[real], states[-1][real], rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match="sequence-classification"):
        split.top(lower, mask)


def test_pool_balances_length_per_task_and_labels_constructed_pairs(tiny_mixture: Path) -> None:
    rows = constructed.read_split(tiny_mixture, "train")
    pool = build_pool(rows, PoolConfig(per_task=10, neighbour=4, distractor=4))
    human = [p.pair for p in pool if p.pair.kind == "human"]
    for task in {p.task for p in human}:
        assert constructed.longer_wins([p for p in human if p.task == task]) == 0.5
    report = pool_report(pool)
    assert report["human"] + report["constructed"] == report["pairs"] == len(pool)
    assert report["by_kind"]["truncated"] == report["by_kind"].get("irrelevant_addition", 0) + report["by_kind"].get(
        "forged_evaluation", 0
    )
    assert all(p.pair.constructed == (p.pair.kind != "human") for p in pool)
    assert report["longer_wins_by_kind"]["truncated"] == 1.0


def test_resume_continues_exactly(tiny_model: Path, tiny_mixture: Path, tmp_path: Path) -> None:
    straight = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "a"), log=lambda s: None)
    straight.train()
    first = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "b"), log=lambda s: None)
    first.train(until=2)
    del first
    resumed = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "b"), log=lambda s: None)
    assert resumed.step == 2
    resumed.train()
    a = {n: p for n, p in straight.model.named_parameters() if p.requires_grad}
    b = {n: p for n, p in resumed.model.named_parameters() if p.requires_grad}
    assert a.keys() == b.keys()
    assert a
    for n in a:
        torch.testing.assert_close(a[n], b[n], rtol=0, atol=0, msg=n)
    rows = (tmp_path / "b" / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    with pytest.raises(CheckpointError, match="other settings"):
        RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "b", lora_r=8), log=lambda s: None)


def test_export_is_a_plain_hf_folder_with_identical_rewards(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForSequenceClassification

    trainer = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "run", eval_every=2), log=lambda s: None)
    result = trainer.train()
    assert 0 <= result["dev_accuracy"] <= 1
    assert result["dev_log_loss"] > 0
    out = export_reward_model(tmp_path / "run", tmp_path / "judge", name="tiny-rm")
    meta = json.loads((out / "flame.json").read_text())
    assert meta["kind"] == "reward"
    assert meta["reward_model"]["steps"] == 4
    reloaded = AutoModelForSequenceClassification.from_pretrained(str(out)).eval()
    assert reloaded.config.num_labels == 1
    assert reloaded.config.architectures == ["LlamaForSequenceClassification"]  # what vLLM's pooling runner reads
    assert reloaded.config.pad_token_id is not None
    assert not any("lora" in n for n, _ in reloaded.named_parameters())
    trainer.model.eval()
    for entry in trainer.pool[:3]:
        for ids in trainer.encoder.pool_pair(entry):
            x = torch.tensor([ids])
            with torch.no_grad():
                want = trainer.model(input_ids=x).logits
                got = reloaded(input_ids=x).logits
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    with pytest.raises(CheckpointError, match="already exists"):
        export_reward_model(tmp_path / "run", out, name="tiny-rm")


def _sizes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def test_adapter_export_is_compact_and_judges_like_the_merged_one(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    import shutil

    from flame_judge import Judge
    from flame_judge.loading import fingerprint_of

    trainer = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "run"), log=lambda s: None)
    trainer.train()
    merged = export_reward_model(tmp_path / "run", tmp_path / "merged", name="tiny-rm")
    small = export_reward_model(tmp_path / "run", tmp_path / "small", name="tiny-rm", adapter=True)
    meta = json.loads((small / "flame.json").read_text())
    assert (meta["format"], meta["kind"]) == ("lora", "reward")
    assert meta["fingerprint"] == fingerprint_of("tiny-rm", small)
    assert not list(small.glob("model*.safetensors"))  # the base's weights stay with the base
    assert _sizes(small) * 4 < _sizes(merged)
    pairs = [
        ("Name a prime number.", "7 is prime.", "Eight."),
        ("Summarize: the cat sat on the mat.", "A cat sat on a mat.", "Dogs bark at night, loudly and often."),
    ]
    plain, compact = Judge.load(merged, cache=False), Judge.load(small, cache=False)
    assert plain.kind == compact.kind == "reward"
    want = [plain.pairwise(p, a, b).prob_a for p, a, b in pairs]
    got = [compact.pairwise(p, a, b).prob_a for p, a, b in pairs]
    assert got == pytest.approx(want, abs=1e-5)
    half = export_reward_model(tmp_path / "run", tmp_path / "half", name="tiny-rm", adapter=True, dtype="float16")
    assert _sizes(half) < _sizes(small)
    halved = [Judge.load(half, cache=False).pairwise(p, a, b).prob_a for p, a, b in pairs]
    assert halved == pytest.approx(want, abs=2e-3)  # fp16 rounding of the LoRA and score weights
    assert len(set(want)) == 2
    assert all(0 < p < 1 for p in want)
    # The judge renders a response exactly as training did (flame's reward view, not a chat turn).
    entry = next(e for e in trainer.pool if not e.generic)
    spec, fields = constructed.spec_of(entry.pair.task, trainer.encoder.specs), entry.pair.fields(chosen_first=True)[0]
    trainer.model.eval()
    with torch.no_grad():
        chosen, rejected = (
            trainer.model(input_ids=torch.tensor([ids])).logits.item() for ids in trainer.encoder.encode(spec, fields)
        )
    assert compact.pair_scores([(spec, fields)])[0].prob_a_first == pytest.approx(
        torch.sigmoid(torch.tensor(chosen - rejected)).item(), abs=1e-5
    )

    # A judge folder that ships the reward model for its pairs: pairs by reward, the rest by labels.
    combo = tmp_path / "combo"
    shutil.copytree(tiny_model, combo)
    export_reward_model(tmp_path / "run", combo / "reward", name="tiny-rm", adapter=True)
    (combo / "flame.json").write_text(json.dumps({"name": "combo", "pairwise_judge": "reward"}))
    judge, labels_only = Judge.load(combo, cache=False), Judge.load(tiny_model, cache=False)
    assert (judge.kind, labels_only.kind) == ("reward", "generative")
    assert [judge.pairwise(p, a, b).prob_a for p, a, b in pairs] == pytest.approx(want, abs=1e-5)
    rating = judge.pointwise("Name a prime number.", "7 is prime.")
    alone = labels_only.pointwise("Name a prime number.", "7 is prime.")
    assert dict(rating.distribution) == pytest.approx(dict(alone.distribution), abs=1e-6)
    assert rating.kind == "generative"
    before = judge.fingerprint
    assert fingerprint_of("combo", combo) == before
    assert before != fingerprint_of("combo", tiny_model)  # the reward part is in the judge's identity
    (combo / "reward" / "adapter_model.safetensors").write_bytes(
        (combo / "reward" / "adapter_model.safetensors").read_bytes()[:-1] + b" "
    )
    assert fingerprint_of("combo", combo) != before


def test_a_pairwise_judge_that_is_not_a_reward_model_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    import shutil

    from flame_judge import Judge
    from flame_judge.errors import ModelNotFoundError, UnsupportedModelError

    combo = tmp_path / "combo"
    shutil.copytree(tiny_model, combo)
    shutil.copytree(tiny_model, combo / "labels")
    (combo / "flame.json").write_text(json.dumps({"pairwise_judge": "labels"}))
    with pytest.raises(UnsupportedModelError, match="pairwise_judge 'labels' is a generative model"):
        Judge.load(combo, cache=False)
    (combo / "flame.json").write_text(json.dumps({"pairwise_judge": "../elsewhere"}))
    with pytest.raises(ModelNotFoundError, match="must name a reward-model folder inside"):
        Judge.load(combo, cache=False)


def test_lower_cache_never_returns_states_of_other_token_ids(tmp_path: Path) -> None:
    from flame_train.reward_model import LowerCache

    cache = LowerCache(tmp_path)
    a, b = torch.randn(3, 4), torch.randn(2, 4)
    cache.put("000001", a, b, ([1, 2, 3], [4, 5]))
    hit = cache.get("000001", ([1, 2, 3], [4, 5]))
    assert hit is not None
    torch.testing.assert_close(hit[0], a.to(torch.bfloat16))
    assert cache.get("000001", ([1, 2, 9], [4, 5])) is None  # the rendering or the budget changed
    assert cache.get("000002", ([1, 2, 3], [4, 5])) is None


def test_a_reward_lora_merges_into_the_plain_folder_vllm_reads(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForSequenceClassification

    from flame_judge.loading import merged_dir, resolve

    monkeypatch.setenv("FLAME_CACHE_DIR", str(tmp_path / "cache"))
    RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "run"), log=lambda s: None).train()
    merged = export_reward_model(tmp_path / "run", tmp_path / "merged", name="tiny-rm")
    small = export_reward_model(tmp_path / "run", tmp_path / "small", name="tiny-rm", adapter=True)
    folder = merged_dir(resolve(small), json.loads((small / "flame.json").read_text())["fingerprint"])
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassification"]  # what vLLM's pooling runner reads
    assert config["pad_token_id"] is not None
    want = AutoModelForSequenceClassification.from_pretrained(str(merged)).eval()
    got = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    x = torch.tensor([[1, 5, 9, 200, 31, 7]])
    with torch.no_grad():
        torch.testing.assert_close(got(input_ids=x).logits, want(input_ids=x).logits, rtol=1e-5, atol=1e-5)


def test_a_reward_model_trained_over_a_lora_judge_starts_from_the_judges_weights(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from flame_judge.loading import base_reference

    torch.manual_seed(0)
    causal = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    lora = get_peft_model(causal, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "down_proj"]))
    for name, p in lora.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)  # a delta large enough to see
    folder = tmp_path / "judge"
    lora.save_pretrained(str(folder))
    (folder / "flame.json").write_text(
        json.dumps({"format": "lora", "name": "tiny-judge", "base": base_reference(str(tiny_model), folder)})
    )
    merged: Any = lora.merge_and_unload()  # peft types it loosely
    merged.eval()
    plain = AutoModelForCausalLM.from_pretrained(str(tiny_model)).eval()
    model, _ = load_reward_model(_config(tiny_model, tiny_mixture, tmp_path / "run", base_model=str(folder)))
    x = torch.tensor([[1, 5, 9, 200, 31, 7]])
    with torch.no_grad():
        got = model.get_base_model().model(input_ids=x).last_hidden_state
        want = merged.model(input_ids=x).last_hidden_state
        bare = plain.model(input_ids=x).last_hidden_state
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got, bare, atol=1e-3)  # the judge's adapter is in, not only its base

    # Shipped inside the judge it was trained over ("base": ".."), it judges the judge's pairs.
    from flame_judge import Judge

    RewardTrainer(
        _config(tiny_model, tiny_mixture, tmp_path / "rm", base_model=str(folder)), log=lambda s: None
    ).train()
    merged_rm = export_reward_model(tmp_path / "rm", tmp_path / "rm-merged", name="tiny-rm")
    inside = export_reward_model(tmp_path / "rm", folder / "reward", name="tiny-rm", adapter=True)
    assert json.loads((inside / "flame.json").read_text())["base"] == ".."
    meta = json.loads((folder / "flame.json").read_text())
    (folder / "flame.json").write_text(json.dumps({**meta, "pairwise_judge": "reward"}))
    pairs = [("Name a prime number.", "7 is prime.", "Eight."), ("Say hi.", "Hi!", "No.")]
    judge, alone = Judge.load(folder, cache=False), Judge.load(merged_rm, cache=False)
    want_p = [alone.pairwise(p, a, b).prob_a for p, a, b in pairs]
    assert [judge.pairwise(p, a, b).prob_a for p, a, b in pairs] == pytest.approx(want_p, abs=1e-5)
    by_itself = Judge.load(inside, cache=False)  # the folder alone: the judge's weights, then the reward LoRA
    assert [by_itself.pairwise(p, a, b).prob_a for p, a, b in pairs] == pytest.approx(want_p, abs=1e-5)

    # Deeper inside the judge, the base is the relative path back to it, and the judge loads it as well.
    deeper = export_reward_model(tmp_path / "rm", folder / "parts" / "rm", name="tiny-rm", adapter=True)
    assert json.loads((deeper / "flame.json").read_text())["base"] == os.path.join("..", "..")
    (folder / "flame.json").write_text(json.dumps({**meta, "pairwise_judge": "parts/rm"}))
    nested = Judge.load(folder, cache=False)
    assert [nested.pairwise(p, a, b).prob_a for p, a, b in pairs] == pytest.approx(want_p, abs=1e-5)


def test_a_run_over_a_judge_retrained_since_is_refused(tiny_model: Path, tiny_mixture: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM

    from flame_judge.loading import base_reference

    causal = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    lora = get_peft_model(causal, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"]))
    folder = tmp_path / "judge"
    lora.save_pretrained(str(folder))
    (folder / "flame.json").write_text(
        json.dumps({"format": "lora", "name": "tiny-judge", "base": base_reference(str(tiny_model), folder)})
    )
    config = _config(tiny_model, tiny_mixture, tmp_path / "rm", base_model=str(folder), max_steps=1)
    RewardTrainer(config, log=lambda s: None).train()
    weights = folder / "adapter_model.safetensors"
    save_file({k: v + 0.1 for k, v in load_file(str(weights)).items()}, str(weights))  # the judge retrained

    # The checkpoint and the cached lower states are the old judge's: neither resumed nor exported over the new.
    with pytest.raises(CheckpointError, match="retrained"):
        RewardTrainer(config, log=lambda s: None)
    with pytest.raises(CheckpointError, match="retrained"):
        export_reward_model(tmp_path / "rm", tmp_path / "out", name="tiny-rm", adapter=True)
    assert not (tmp_path / "out").exists()


def test_pool_encoded_up_front_in_processes_matches_the_lazy_encoder(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    from flame_train.reward_model import encode_pool

    trainer = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "run"), log=lambda s: None)
    ids = encode_pool(trainer.pool, str(tiny_model), 256, workers=2)
    assert sorted(ids) == list(range(len(trainer.pool)))
    for i, entry in enumerate(trainer.pool):
        assert ids[i] == trainer.encoder.pool_pair(entry)


def test_every_layer_trainable_without_a_cache_resumes_under_other_workers(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    """The GPU recipe (tools/gpu/reward_model.sh): LoRA on every layer, nothing cached, the pool encoded
    up front; here on the CPU, resumed with the pool encoded lazily, to the same weights."""
    layers = int(json.loads((tiny_model / "config.json").read_text())["num_hidden_layers"])
    gpu_like = {"top_layers": layers, "cache_lower": False, "device": "cpu"}
    straight = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "a", **gpu_like), log=lambda s: None)
    straight.train()
    assert not (tmp_path / "a" / "lower-cache").exists()
    first = RewardTrainer(
        _config(tiny_model, tiny_mixture, tmp_path / "b", encode_workers=2, **gpu_like), log=lambda s: None
    )
    first.train(until=2)
    del first
    resumed = RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "b", **gpu_like), log=lambda s: None)
    assert resumed.step == 2
    resumed.train()
    a = {n: p for n, p in straight.model.named_parameters() if p.requires_grad}
    b = {n: p for n, p in resumed.model.named_parameters() if p.requires_grad}
    assert any("layers.0." in n for n in a)  # the bottom layer is trained too
    for n in a:
        torch.testing.assert_close(a[n], b[n], rtol=0, atol=0, msg=n)


def test_a_device_that_is_not_there_is_a_config_error(tiny_model: Path, tiny_mixture: Path, tmp_path: Path) -> None:
    from flame_train.errors import ConfigError
    from flame_train.reward_model import resolve_device

    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="not a torch device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "run", device="cuda"), log=lambda s: None)


def _tiny_lora_judge(tiny_model: Path, folder: Path, seed: int) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from flame_judge.loading import base_reference

    torch.manual_seed(seed)
    lora = get_peft_model(
        AutoModelForCausalLM.from_pretrained(str(tiny_model)), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"])
    )
    for name, p in lora.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    lora.save_pretrained(str(folder))
    (folder / "flame.json").write_text(
        json.dumps({"format": "lora", "name": "tiny-judge", "base": base_reference(str(tiny_model), folder)})
    )


def test_place_reward_makes_an_exported_adapter_the_judges_pairwise_part(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    """tools/place_reward.py, as the GPU run's adapter comes back: exported outside the judge, in fp16,
    placed into a copy of the judge; refused by a judge whose hidden states changed since."""
    import importlib.util
    import shutil

    from flame_judge import Judge

    spec = importlib.util.spec_from_file_location("place_reward", ROOT / "tools" / "place_reward.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    judge = tmp_path / "judge"
    _tiny_lora_judge(tiny_model, judge, seed=0)
    RewardTrainer(_config(tiny_model, tiny_mixture, tmp_path / "rm", base_model=str(judge)), log=lambda s: None).train()
    reward = export_reward_model(tmp_path / "rm", tmp_path / "back", name="tiny-rm", adapter=True, dtype="float16")
    alone = Judge.load(reward, cache=False)
    cand = tmp_path / "cand"
    shutil.copytree(judge, cand)  # a sibling: its relative base still names the tiny model
    fingerprint = tool.place(cand, reward)
    placed = Judge.load(cand, cache=False)
    assert placed.kind == "reward"
    assert placed.fingerprint == fingerprint
    assert json.loads((cand / "reward" / "flame.json").read_text())["base"] == ".."
    pairs = [("Name a prime number.", "7 is prime.", "Eight."), ("Say hi.", "Hi!", "No.")]
    want = [alone.pairwise(p, a, b).prob_a for p, a, b in pairs]
    assert [placed.pairwise(p, a, b).prob_a for p, a, b in pairs] == pytest.approx(want, abs=1e-5)

    # a reward part that does not load leaves the judge as it was, and no work folder behind
    broken = tmp_path / "broken"
    shutil.copytree(reward, broken)
    (broken / "adapter_model.safetensors").write_bytes(b"not safetensors")
    before = {p.relative_to(cand): p.read_bytes() for p in cand.rglob("*") if p.is_file()}
    from flame_judge.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="cannot read the LoRA adapter"):
        tool.place(cand, broken)
    assert {p.relative_to(cand): p.read_bytes() for p in cand.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    retrained = tmp_path / "retrained"
    _tiny_lora_judge(tiny_model, retrained, seed=1)
    with pytest.raises(SystemExit):
        tool.place(retrained, reward)
    assert not (retrained / "reward").exists()


def test_pointwise_pairs_train_each_row_rendered_as_its_own_task(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    from flame_data import templates

    config = _config(
        tiny_model,
        tiny_mixture,
        tmp_path,
        per_task=0,
        neighbour=0,
        distractor=0,
        safety_repeat=0,
        pointwise_per_task=8,
        generic_share=0.5,
    )
    trainer = RewardTrainer(config, log=lambda s: None)
    assert {p.pair.kind for p in trainer.pool} == {"pointwise"}
    report = pool_report(trainer.pool)
    assert report["pairs"] == report["pointwise"] == len(trainer.pool) > 0
    assert report["human"] == report["constructed"] == 0
    assert report["longer_wins_overall"] == 0.5  # balanced per task, as the human pairwise pairs are
    decode = trainer.encoder.view.loaded.tokenizer.decode
    own = [p for p in trainer.pool if not p.generic]
    generic = [p for p in trainer.pool if p.generic]
    assert own
    assert generic
    for entry, shown in ((own[0], False), (generic[0], True)):
        spec = trainer.encoder.specs[entry.pair.task]
        chosen, rejected = (str(decode(ids)) for ids in trainer.encoder.pool_pair(entry))
        aspect, values = entry.pair.task.split("/")[-1], [int(v) for v in spec.outputs[0].labels]
        generic_spec = templates.pointwise_task(aspect, (values[0], values[-1]))
        definition = (generic_spec if shown else spec).definition.strip().splitlines()[0]
        for text, response in ((chosen, entry.pair.chosen), (rejected, entry.pair.rejected)):
            assert definition in text  # the task's own template, or the judge's `judge.pointwise` one
            assert response.strip()[:40] in text  # each row alone: its own response, not the other one
            assert text.rstrip().endswith("score:")  # read at the pointwise answer position
        assert entry.pair.rejected.strip()[:40] not in chosen
    trainer.train()
    assert trainer.step == config.max_steps


def test_a_run_started_before_a_setting_existed_resumes_with_its_default(
    tiny_model: Path, tiny_mixture: Path, tmp_path: Path
) -> None:
    config = _config(tiny_model, tiny_mixture, tmp_path, max_steps=2)
    RewardTrainer(config, log=lambda s: None).train()
    path = tmp_path / "config.json"
    saved = json.loads(path.read_text())
    del saved["pointwise_per_task"]  # as a run of an older release wrote it
    path.write_text(json.dumps(saved))
    assert RewardTrainer(dataclasses.replace(config, max_steps=3), log=lambda s: None).step == 2
    assert json.loads(path.read_text())["pointwise_per_task"] == 0  # the resume wrote it down
    path.write_text(json.dumps(saved))
    with pytest.raises(CheckpointError, match=r"pointwise_per_task unset \(default 0\)"):
        RewardTrainer(dataclasses.replace(config, pointwise_per_task=4), log=lambda s: None)
