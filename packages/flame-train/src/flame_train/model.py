"""The model to train: loaded through flame-judge's loader (so the GGUF default base works), with
LoRA adapters from peft or all weights trainable, and the fused loss inside the model's own forward.

The fused loss lives in `forward` (as Liger-Kernel patches a model's forward) so that DDP, FSDP and
peft wrappers see a normal forward call: DDP's gradient sync and FSDP's parameter gathering hang off
the wrapper's forward, and code that reaches past the wrapper to the inner decoder skips them.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from flame_judge.loading import load
from flame_train.config import TrainConfig
from flame_train.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

IGNORE = -100


def build_model(config: TrainConfig) -> tuple[Any, PreTrainedTokenizerBase, str]:
    """(model, tokenizer, base spec for checkpoints). The weights load in fp32 on the CPU; the
    accelerator moves them and autocasts."""
    spec = config.init_checkpoint or config.base_model
    loaded = load(spec, device="cpu", eager=True)
    model = loaded.model
    model.float()
    if config.fused_loss:
        use_fused_loss(model)
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


def use_fused_loss(model: Any) -> None:
    """Make `model` (a causal LM) compute its loss with `fused_linear_cross_entropy` when called
    with `labels`: hidden states of target positions times the LM head, never [tokens x vocab]
    logits. Without labels it is the model's own forward (logits, as scoring needs).

    `num_items_in_batch` (transformers' name) divides the loss sum instead of the local target
    count: with the global count, gradients averaged over processes equal one process's.
    """
    head = model.get_output_embeddings()
    weight = getattr(head, "weight", None)
    scaled = any(getattr(model.config, k, None) for k in ("final_logit_softcapping", "logit_scale"))
    if weight is None or getattr(head, "bias", None) is not None or scaled:
        raise ConfigError(
            f"fused_loss = true needs logits = hidden @ head.weight; {type(model).__name__} has a head bias, "
            "a logit scale or a softcap: set fused_loss: false"
        )
    original = model.forward

    def forward(
        self: Any,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        num_items_in_batch: torch.Tensor | int | None = None,
        **kwargs: Any,
    ) -> Any:
        if labels is None:
            return original(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        from transformers.modeling_outputs import CausalLMOutputWithPast

        from flame_train.kernels import fused_linear_cross_entropy

        kwargs = {k: v for k, v in kwargs.items() if v is not None}  # peft passes unset options as None
        out = self.get_decoder()(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        targets = labels[:, 1:]
        keep = targets != IGNORE
        picked = out.last_hidden_state[:, :-1][keep]
        loss = fused_linear_cross_entropy(picked, self.get_output_embeddings().weight, targets[keep])
        if num_items_in_batch is not None:
            loss = loss * keep.sum() / num_items_in_batch
        return CausalLMOutputWithPast(loss=loss)

    model.forward = types.MethodType(forward, model)
