"""Checkpoints trained from checkpoints reload as the model that was trained: FLAMe -> FLAMe-RM and
FLAMe -> tail patch, LoRA on LoRA and full on LoRA; tail-patch ratings compare patch with checkpoint,
also from an encoded mixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from flame_train.config import TrainConfig
from flame_train.trainer import Trainer

pytestmark = pytest.mark.slow

OPTIONS: dict[str, Any] = dict(
    max_steps=2,
    batch_size=2,
    max_length=256,
    lr=5e-3,
    warmup_steps=1,
    eval_every=0,
    save_every=0,
    eval_examples_per_task=2,
)


def options(tiny_model: Path, tiny_mixture: Path, out: Path, **kw: Any) -> TrainConfig:
    return TrainConfig(
        **{**OPTIONS, "mixture": str(tiny_mixture), "base_model": str(tiny_model), "output_dir": str(out), **kw}
    )


@pytest.fixture(scope="module")
def flame(tiny_model: Path, tiny_mixture: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A LoRA FLAMe checkpoint: the start of every chain here."""
    out = tmp_path_factory.mktemp("flame")
    return Trainer(options(tiny_model, tiny_mixture, out), log=lambda s: None).train(final_eval=False)["checkpoint"]


def logits(model: Any) -> torch.Tensor:
    ids = torch.tensor([[1, 57, 803, 2045, 9, 310, 4400, 12, 77, 5]])
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.float()


def reload_difference(trainer: Trainer, checkpoint: str) -> float:
    from flame_judge.loading import load

    trained = logits(trainer.accelerator.unwrap_model(trainer.model))
    reloaded = logits(load(checkpoint, device="cpu", eager=True).model)
    return float((trained - reloaded).abs().max())


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_flame_rm_from_a_lora_flame_reloads_as_trained(tiny_model, tiny_mixture, tmp_path, flame, finetune):
    from flame_judge.loading import load

    rm = Trainer(options(tiny_model, tiny_mixture, tmp_path / "rm", init_checkpoint=flame, finetune=finetune))
    final = rm.train(final_eval=False)["checkpoint"]
    diff = reload_difference(rm, final)
    print(f"FLAMe -> FLAMe-RM, {finetune} on LoRA: max |logit(in memory) - logit(reloaded)| = {diff:.2e}")
    assert diff < 1e-4
    loaded = load(final, device="cpu")
    assert len(loaded.adapters) == (2 if finetune == "lora" else 0)
    assert loaded.fingerprint != load(flame, device="cpu").fingerprint


def test_tail_patch_reloads_as_trained_and_rates_against_the_checkpoint(tiny_model, tiny_mixture, tmp_path, flame):
    from flame_judge.loading import load
    from flame_judge.scoring import GenerativeBackend
    from flame_train.data import load_split
    from flame_train.dev import pair_probs
    from flame_train.tailpatch import patch_config

    base = options(tiny_model, tiny_mixture, tmp_path / "unused")
    patch = Trainer(patch_config(base, flame, "q2/consistency", str(tmp_path / "patch")), log=lambda s: None)
    final = patch.train(final_eval=False)["checkpoint"]
    diff = reload_difference(patch, final)
    print(f"FLAMe -> tail patch, LoRA on LoRA: max |logit(in memory) - logit(reloaded)| = {diff:.2e}")
    assert diff < 1e-4

    # A patch that barely moves (lr 1e-9) must score like its checkpoint: the rating compares them.
    still = Trainer(
        patch_config(
            options(tiny_model, tiny_mixture, tmp_path, lr=1e-9), flame, "q2/consistency", str(tmp_path / "still")
        )
    )
    rows = [r for r in load_split(tiny_mixture, "dev") if r["task_type"] == "pairwise"][:6]

    def probs(spec: str) -> list[float]:
        first, second, _ = pair_probs(
            GenerativeBackend(load(spec, device="cpu", eager=True), max_input_tokens=256), rows
        )
        return first + second

    at_checkpoint = probs(flame)
    assert probs(still.train(final_eval=False)["checkpoint"]) == pytest.approx(at_checkpoint, abs=1e-6)
    assert max(abs(a - b) for a, b in zip(probs(str(tiny_model)), at_checkpoint, strict=True)) > 1e-4  # sensitive


def test_tailpatch_runs_over_an_encoded_mixture(tiny_model, tiny_mixture, tmp_path, flame):
    from flame_train.encoded import encode_train
    from flame_train.tailpatch import run_tailpatch

    encoded = tmp_path / "train.tokens"
    encode_train(options(tiny_model, tiny_mixture, tmp_path), encoded, workers=1, log=lambda s: None)
    base = options(tiny_model, tiny_mixture, tmp_path, encoded=str(encoded), lr=1e-9, max_steps=1)
    report = run_tailpatch(flame, base, candidates=["pandalm_testset/overall"], log=lambda s: None)
    assert report.deltas["pandalm_testset/overall"] == dict.fromkeys(report.baseline, 0.0)  # the patch did nothing
    assert set(report.ratings["pandalm_testset/overall"].values()) == {0}
