"""Tiny randomly initialised models of several architectures, built from configs (no download), for tests.

Each is saved with the default base's tokenizer (so the vocabulary matches) into a folder that
`Judge.load` and `loading.load` read like any Hugging Face model directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

VOCAB = 49152  # the default base's tokenizer
SMALL: dict[str, Any] = {
    "vocab_size": VOCAB,
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 512,
    "pad_token_id": 2,
    "bos_token_id": 1,
    "eos_token_id": 2,
}


def config(arch: str, **extra: Any) -> Any:
    from transformers import CohereConfig, Gemma2Config, LlamaConfig, PhiConfig, Qwen2Config

    if arch == "llama":
        return LlamaConfig(**{**SMALL, **extra}, tie_word_embeddings=True)
    if arch == "qwen2":
        return Qwen2Config(**SMALL, tie_word_embeddings=False, **extra)
    if arch == "gemma2":
        # A small cap so that capping changes the probabilities of the (scaled-up) random logits.
        return Gemma2Config(**SMALL, head_dim=8, final_logit_softcapping=2.0, query_pre_attn_scalar=8, **extra)
    if arch == "phi":
        return PhiConfig(**SMALL, **extra)
    if arch == "cohere":
        return CohereConfig(**SMALL, logit_scale=0.25, **extra)
    raise ValueError(arch)


def causal_lm(arch: str) -> Any:
    """A tiny causal LM with logits large enough that a dropped transform or bias shows."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config(arch), dtype=torch.float32)
    with torch.no_grad():
        head = model.get_output_embeddings()
        head.weight.mul_(400.0)  # random init gives logits near 0: softcap and scale would be invisible
        if head.bias is not None:
            head.bias.copy_(torch.randn_like(head.bias) * 3)
    return model.eval()


def reward_model(arch: str = "llama", *, hidden: int = 16) -> Any:
    """A tiny `*ForSequenceClassification` with one label, as TRL's RewardTrainer saves it.

    `hidden=64` gives 32-wide attention heads, the smallest vLLM's CPU attention runs.
    """
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(1)
    sizes = {"hidden_size": hidden, "intermediate_size": 2 * hidden}
    model = AutoModelForSequenceClassification.from_config(config(arch, num_labels=1, **sizes), dtype=torch.float32)
    with torch.no_grad():
        model.score.weight.mul_(50.0)
    return model.eval()


def llama(
    directory: Path,
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    tie: bool = True,
    seed: int = 0,
) -> Path:
    """A random Llama causal LM with the default base's full tokenizer, saved in `directory`: big
    enough to train and judge in seconds on a CPU, the same weights for the same arguments."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from flame_judge.loading import converted_base_dir

    tokenizer = AutoTokenizer.from_pretrained(str(converted_base_dir()))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=1024,
        tie_word_embeddings=tie,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(str(directory), safe_serialization=True)
    tokenizer.save_pretrained(str(directory))
    return directory


def save(model: Any, directory: Path) -> Path:
    from flame_judge.loading import converted_base_dir

    model.save_pretrained(directory, safe_serialization=True)
    base = converted_base_dir()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (base / name).is_file():
            shutil.copy(base / name, directory / name)
    return directory
