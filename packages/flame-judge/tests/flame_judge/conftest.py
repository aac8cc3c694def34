from __future__ import annotations

import os

import torch

# Triton reads TRITON_INTERPRET when a kernel is decorated, so it must be set before any kernel
# module is imported; without a GPU the kernels run in the interpreter on CPU tensors.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from collections.abc import Iterator

import pytest

from flame_judge import Judge


@pytest.fixture(scope="session")
def real_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judge]:
    """The real default model with a private judgment cache (the converted weights are shared)."""
    judge = Judge.load(cache=tmp_path_factory.mktemp("judge-cache") / "judgments.sqlite")
    yield judge
    judge.close()


@pytest.fixture(scope="session")
def data_dir_env() -> str:
    return os.environ["FLAME_DATA_DIR"]


@pytest.fixture(scope="session")
def tiny_backend(tmp_path_factory: pytest.TempPathFactory):
    """A GenerativeBackend over a 2-layer random Llama with the default model's tokenizer (fast, CPU)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from flame_judge.loading import load, resolve
    from flame_judge.scoring import GenerativeBackend

    tokenizer = AutoTokenizer.from_pretrained(str(resolve("base").directory))
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
    )
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    return GenerativeBackend(load(out, device="cpu", eager=True), max_input_tokens=512)
