"""The model to train: loaded through flame-judge's loader (so the GGUF default base works), with
LoRA adapters from peft or all weights trainable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flame_judge.loading import load
from flame_train.config import TrainConfig

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase


def build_model(config: TrainConfig) -> tuple[Any, PreTrainedTokenizerBase, str]:
    """(model, tokenizer, base spec for checkpoints). The weights load in fp32 on the CPU; the
    accelerator moves them and autocasts."""
    spec = config.init_checkpoint or config.base_model
    loaded = load(spec, device="cpu", eager=True)
    model = loaded.model
    model.float()
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if config.finetune == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=list(config.lora_targets),
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
        if config.gradient_checkpointing:
            model.enable_input_require_grads()
    return model, loaded.tokenizer, str(spec)


def body_and_head(model: Any) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The transformer stack (hidden states) and the LM head of a plain or peft-wrapped model."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_decoder(), base.get_output_embeddings()
