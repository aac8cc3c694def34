"""A toy run on a tiny random Llama: trains, evaluates, checkpoints, resumes to the same losses,
and the checkpoint loads in Judge.load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flame_train.config import TrainConfig
from flame_train.trainer import Trainer

pytestmark = pytest.mark.slow


def config(tiny_model: Path, tiny_mixture: Path, out: Path, **kw) -> TrainConfig:
    base: dict[str, Any] = dict(
        mixture=str(tiny_mixture),
        base_model=str(tiny_model),
        output_dir=str(out),
        max_steps=6,
        batch_size=3,
        max_length=256,
        lr=5e-3,
        warmup_steps=1,
        eval_every=3,
        save_every=3,
        eval_examples_per_task=2,
        log_every=1,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_resumed_run_matches_an_uninterrupted_one(tiny_model, tiny_mixture, tmp_path, finetune):
    whole = Trainer(config(tiny_model, tiny_mixture, tmp_path / "whole", finetune=finetune), log=lambda s: None).train()
    first = Trainer(config(tiny_model, tiny_mixture, tmp_path / "split", finetune=finetune), log=lambda s: None)
    first.train(until=3)  # as if the process had been killed after step 3
    second = Trainer(config(tiny_model, tiny_mixture, tmp_path / "split", finetune=finetune), log=lambda s: None)
    second.resume(tmp_path / "split" / "step-000003")
    rest = second.train()
    assert rest["losses"] == pytest.approx(whole["losses"][3:], rel=1e-5, abs=1e-6)
    assert whole["losses"][-1] < whole["losses"][0]  # it learns something


def test_checkpoint_loads_in_judge_and_metrics_are_logged(tiny_model, tiny_mixture, tmp_path):
    from flame_judge import Judge

    lines: list[str] = []
    result = Trainer(config(tiny_model, tiny_mixture, tmp_path / "run"), log=lines.append).train()
    # Evaluated at steps 3 and 6, saved at step 3 and once at the end: nothing twice.
    assert [line.split(":")[0] for line in lines if ": dev " in line] == ["step 3", "step 6"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.yaml",
        "final",
        "metrics.csv",
        "step-000003",
    ]
    judge = Judge.load(result["checkpoint"], cache=False)
    verdict = judge.pairwise("What is 2 + 2?", "4", "5")
    assert 0 < verdict.prob_a < 1
    assert judge.fingerprint.startswith("run-final@")
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,loss,lr,tokens,tokens_per_s,eval"
    assert "pairwise_accuracy" in rows[3]
    assert "pointwise_spearman" in rows[3]


def test_fused_and_plain_loss_agree(tiny_model, tiny_mixture, tmp_path):
    fused = Trainer(
        config(tiny_model, tiny_mixture, tmp_path / "a", max_steps=2, eval_every=0, save_every=0), log=lambda s: None
    ).train()
    plain = Trainer(
        config(tiny_model, tiny_mixture, tmp_path / "b", max_steps=2, eval_every=0, save_every=0, fused_loss=False),
        log=lambda s: None,
    ).train()
    assert fused["losses"] == pytest.approx(plain["losses"], rel=1e-4)


def test_training_from_an_encoded_file_matches_on_the_fly_encoding(tiny_model, tiny_mixture, tmp_path):
    from flame_train.encoded import encode_train

    cfg = config(tiny_model, tiny_mixture, tmp_path / "live", max_steps=4, eval_every=0, save_every=0)
    summary = encode_train(cfg, tmp_path / "train.tokens", workers=2, log=lambda s: None)
    assert summary["sequences"] > summary["rows"]  # swappable pairwise rows are stored in both orders
    live = Trainer(cfg, log=lambda s: None).train()
    stored = Trainer(
        config(
            tiny_model,
            tiny_mixture,
            tmp_path / "stored",
            max_steps=4,
            eval_every=0,
            save_every=0,
            encoded=str(tmp_path / "train.tokens"),
        ),
        log=lambda s: None,
    ).train()
    assert stored["losses"] == live["losses"]
    assert stored["tokens"] == live["tokens"]


def test_an_encoded_file_for_another_config_is_refused(tiny_model, tiny_mixture, tmp_path):
    from flame_train.encoded import encode_train
    from flame_train.errors import ConfigError

    encode_train(config(tiny_model, tiny_mixture, tmp_path, max_length=240), tmp_path / "t", workers=1, log=print)
    with pytest.raises(ConfigError, match=r"made with max_length 240, the config has 256; re-run `flame encode`"):
        Trainer(config(tiny_model, tiny_mixture, tmp_path / "run", encoded=str(tmp_path / "t")), log=lambda s: None)
    (tmp_path / "junk").write_text("not safetensors")
    with pytest.raises(ConfigError, match="cannot read it"):
        Trainer(config(tiny_model, tiny_mixture, tmp_path / "run", encoded=str(tmp_path / "junk")), log=lambda s: None)


def test_export_ships_the_adapter_alone_in_half_precision(tiny_model, tiny_mixture, tmp_path):
    from flame_judge import Judge
    from flame_train.export import export_checkpoint

    result = Trainer(
        config(tiny_model, tiny_mixture, tmp_path / "run", max_steps=2, eval_every=0), log=lambda s: None
    ).train()
    out = export_checkpoint(result["checkpoint"], tmp_path / "judge", name="tiny-judge")
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors", "flame.json"]
    full = Judge.load(result["checkpoint"], cache=False).pairwise("What is 2 + 2?", "4", "5")
    half = Judge.load(out, cache=False)
    assert half.fingerprint.startswith("tiny-judge@")
    assert half.pairwise("What is 2 + 2?", "4", "5").prob_a == pytest.approx(full.prob_a, abs=1e-3)


def test_an_encoded_file_from_another_build_of_the_mixture_is_refused(tiny_model, tiny_mixture, tmp_path):
    import shutil

    from flame_train.encoded import encode_train
    from flame_train.errors import ConfigError

    encode_train(config(tiny_model, tiny_mixture, tmp_path), tmp_path / "t", workers=1, log=lambda s: None)
    other = tmp_path / "other-build"
    shutil.copytree(tiny_mixture, other)
    (other / "mixture.json").write_text('{"rates": {"q2/consistency": 1.0}}')
    with pytest.raises(ConfigError, match=r"made with mixture\.json .* re-run `flame encode`"):
        Trainer(config(tiny_model, other, tmp_path / "run", encoded=str(tmp_path / "t")), log=lambda s: None)


def test_label_only_loss_trains_the_same_from_an_encoded_file(tiny_model, tiny_mixture, tmp_path):
    from flame_train.encoded import encode_train

    kw: dict[str, Any] = dict(max_steps=3, eval_every=0, save_every=0, loss_tokens="label")
    cfg = config(tiny_model, tiny_mixture, tmp_path / "live", **kw)
    encode_train(cfg, tmp_path / "train.tokens", workers=1, log=lambda s: None)
    live = Trainer(cfg, log=lambda s: None)
    stored = Trainer(config(tiny_model, tiny_mixture, tmp_path / "s", encoded=str(tmp_path / "train.tokens"), **kw))
    full = Trainer(config(tiny_model, tiny_mixture, tmp_path / "full", **{**kw, "loss_tokens": "target"}))
    batch = live.sampler.batch(0)
    ex = [live.example(i, s) for i, s in batch]
    assert ex == [stored.example(i, s) for i, s in batch]
    # about one label token per example instead of the whole target
    kept = sum(sum(t != -100 for t in e.labels) for e in ex)
    assert len(ex) <= kept < sum(sum(t != -100 for t in full.example(i, s).labels) for i, s in batch)
    a, b = live.train(), stored.train()
    assert a["losses"] == b["losses"]
