"""merge_lora: LoRA deltas are added, whole saved tensors (peft's modules_to_save) replace the base's,
and a tensor that fits no parameter is a clear error naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from flame_judge.errors import ModelLoadError
from flame_judge.lora import merge_lora


def _model() -> Any:  # a transformers model: its submodules are typed loosely
    from transformers import AutoModelForSequenceClassification

    from flame_judge.tiny_models import config

    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_config(config("llama", num_labels=1)).eval()


def _adapter(tmp_path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4}))
    save_file(tensors, str(tmp_path / "adapter_model.safetensors"))
    return tmp_path


def test_lora_deltas_add_and_saved_tensors_replace(tmp_path: Path) -> None:
    model = _model()
    q = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    a, b = torch.randn(2, q.shape[1]), torch.randn(q.shape[0], 2)
    score = torch.randn_like(model.score.weight)
    merged = merge_lora(
        model,
        _adapter(
            tmp_path,
            {
                "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": a,
                "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": b,
                "base_model.model.score.weight": score,
            },
        ),
    )
    assert merged == 1
    torch.testing.assert_close(model.model.layers[0].self_attn.q_proj.weight, q + 2.0 * (b @ a))
    torch.testing.assert_close(model.score.weight, score)


def test_a_saved_tensor_that_fits_no_parameter_is_named(tmp_path: Path) -> None:
    wrong = {"base_model.model.score.weight": torch.randn(3, 5)}
    with pytest.raises(ModelLoadError, match=r"base_model\.model\.score\.weight \(3, 5\) .* does not match"):
        merge_lora(_model(), _adapter(tmp_path, wrong))
    with pytest.raises(ModelLoadError, match=r"no head\.weight"):
        merge_lora(_model(), _adapter(tmp_path, {"base_model.model.head.weight": torch.randn(1, 16)}))
