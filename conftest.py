"""Workspace-wide test setup: the gpu marker skips without CUDA, and saying why."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    # The collection's tests read the real datasets beside the repository (never copied into it).
    os.environ.setdefault("FLAME_DATA_DIR", str(SHARED_DATA))
    # pytester runs give tests a fresh HOME; point them at the real model cache so the default
    # model is converted once per machine, not once per test.
    if importlib.util.find_spec("flame_judge") is not None and "FLAME_CACHE_DIR" not in os.environ:
        from flame_judge.paths import cache_dir

        os.environ["FLAME_CACHE_DIR"] = str(cache_dir())


def _cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("gpu") for item in items) and not _cuda():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; none is visible (torch.cuda.is_available() is False)")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(skip)
