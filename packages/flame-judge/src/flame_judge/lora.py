"""Merge a LoRA adapter (peft's on-disk format) into a loaded model, without needing peft.

A LoRA layer adds (alpha / r) * B @ A to a linear weight W; merging once at load time makes the
judge exactly as fast as its base model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from flame_judge.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def merge_lora(model: torch.nn.Module, adapter_dir: Path) -> int:
    """Add every LoRA delta in `adapter_dir` to `model`'s weights in place (and copy the whole tensors
    it saves, such as a reward model's score head); returns the LoRA layers merged."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        config = json.loads((adapter_dir / ADAPTER_CONFIG).read_text())
        tensors = load_file(str(adapter_dir / ADAPTER_WEIGHTS))
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelLoadError(f"cannot read the LoRA adapter in {adapter_dir}: {exc}") from exc
    r, alpha = int(config["r"]), float(config.get("lora_alpha", config["r"]))
    scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
    modules = dict(model.named_modules())
    params = dict(model.named_parameters())
    merged = 0
    with torch.no_grad():
        for key, a in tensors.items():
            if ".lora_" not in key:
                # A whole tensor (peft's `modules_to_save`, e.g. a reward model's score head) replaces the base's.
                name = key.removeprefix("base_model.model.")
                target = params.get(name)
                if target is None or target.shape != a.shape:
                    raise ModelLoadError(
                        f"tensor {key} {tuple(a.shape)} in {adapter_dir} does not match a parameter of the base "
                        f"model ({'no ' + name if target is None else tuple(target.shape)})"
                    )
                target.copy_(a.to(target.dtype))
                continue
            if ".lora_A." not in key:
                continue
            b = tensors.get(key.replace(".lora_A.", ".lora_B."))
            name = key.split(".lora_A.")[0].removeprefix("base_model.model.")
            module = modules.get(name)
            weight = getattr(module, "weight", None)
            if b is None or not isinstance(weight, torch.Tensor):
                raise ModelLoadError(f"LoRA tensor {key} in {adapter_dir} does not match a layer of the base model")
            weight += (b.to(torch.float32) @ a.to(torch.float32)).to(weight.dtype) * scale
            merged += 1
    if merged == 0:
        raise ModelLoadError(f"{adapter_dir / ADAPTER_WEIGHTS} holds no LoRA tensors")
    return merged
