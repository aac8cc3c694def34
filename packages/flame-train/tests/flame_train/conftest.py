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
    from flame_judge.tiny_models import llama

    return llama(tmp_path_factory.mktemp("tiny-llama"))


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
