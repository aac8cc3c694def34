from __future__ import annotations

import os

import torch

# Triton reads TRITON_INTERPRET when a kernel is decorated, so it must be set before any kernel
# module is imported; without a GPU the kernels run in the interpreter on CPU tensors.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from pathlib import Path

import pytest

from flame_data.mixture import BuildConfig, build, save


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random Llama with the default model's tokenizer: trains in seconds on a CPU."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from flame_judge.loading import resolve

    base = resolve(None).directory
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_mixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    out = tmp_path_factory.mktemp("mixture")
    config = BuildConfig(
        data_dir=Path(os.environ["FLAME_DATA_DIR"]),
        datasets=("q2", "pandalm_testset", "summeval"),
        cap=40,
        on_error="skip",
    )
    save(build(config, log=lambda s: None), out, config)
    return out
