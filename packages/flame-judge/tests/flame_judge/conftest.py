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
    from flame_judge.loading import load
    from flame_judge.scoring import GenerativeBackend
    from flame_judge.tiny_models import llama

    out = llama(tmp_path_factory.mktemp("tiny-llama"))
    return GenerativeBackend(load(out, device="cpu", eager=True), max_input_tokens=512)
