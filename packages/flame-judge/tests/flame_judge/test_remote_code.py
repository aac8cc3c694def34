"""A model folder that ships its own Python (`auto_map`) is refused unless FLAME_TRUST_REMOTE_CODE=1.

Each load runs in a fresh interpreter with stdin closed: transformers, left to itself, would ask on
stdin whether to run the code, and an import of the folder's module would leave a marker file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flame_judge import ModelLoadError
from flame_judge.loading import TRUST_REMOTE_CODE_ENV, remote_code_allowed

_CONFIG_PY = """
import os
from pathlib import Path

from transformers import LlamaConfig

Path(os.environ["FLAME_TEST_MARKER"]).write_text("the folder's code ran")


class MarkedConfig(LlamaConfig):
    pass
"""

_MODEL_PY = """
from transformers import LlamaForCausalLM

from .configuration_marked import MarkedConfig


class MarkedForCausalLM(LlamaForCausalLM):
    config_class = MarkedConfig
"""

# Judge.load, then the weights: the entry point users call, and the load that imports model code.
_LOAD = """
import sys

from flame_judge import Judge, ModelLoadError

try:
    judge = Judge.load(sys.argv[1], device="cpu", cache=False)
    print("loaded", type(judge.backend.loaded.model).__name__)
except ModelLoadError as exc:
    print("refused:", exc)
    sys.exit(3)
"""


@pytest.fixture(scope="module")
def custom_code_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flame_judge.tiny_models import causal_lm, save

    folder = save(causal_lm("llama"), tmp_path_factory.mktemp("custom-code-model"))
    (folder / "configuration_marked.py").write_text(_CONFIG_PY)
    (folder / "modeling_marked.py").write_text(_MODEL_PY)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "configuration_marked.MarkedConfig",
        "AutoModelForCausalLM": "modeling_marked.MarkedForCausalLM",
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _load(folder: Path, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    marker = tmp_path / "marker"
    environ = {k: v for k, v in os.environ.items() if k != TRUST_REMOTE_CODE_ENV}
    environ |= {"FLAME_TEST_MARKER": str(marker), "HF_MODULES_CACHE": str(tmp_path / "modules"), **env}
    run = subprocess.run(
        [sys.executable, "-c", _LOAD, str(folder)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )
    return run, marker


def test_a_folder_with_its_own_code_is_refused_and_its_code_never_runs(custom_code_folder, tmp_path):
    run, marker = _load(custom_code_folder, tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    assert str(custom_code_folder) in run.stdout
    assert f"{TRUST_REMOTE_CODE_ENV}=1" in run.stdout
    assert "configuration_marked.MarkedConfig" in run.stdout  # says what code it would have run
    assert not marker.exists()
    assert "[y/N]" not in run.stdout + run.stderr  # transformers never got to ask


def test_the_opt_in_loads_the_folder_with_its_own_code(custom_code_folder, tmp_path):
    run, marker = _load(custom_code_folder, tmp_path, **{TRUST_REMOTE_CODE_ENV: "1"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "loaded MarkedForCausalLM" in run.stdout
    assert marker.read_text() == "the folder's code ran"


def test_a_tokenizer_with_its_own_code_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_REMOTE_CODE_ENV, raising=False)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}})
    )
    with pytest.raises(ModelLoadError, match=r"tokenizer_config\.json"):
        remote_code_allowed(tmp_path)
    monkeypatch.setenv(TRUST_REMOTE_CODE_ENV, "maybe")
    with pytest.raises(ModelLoadError, match="neither on"):
        remote_code_allowed(tmp_path)


def test_a_folder_without_code_loads_with_trust_remote_code_false(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_REMOTE_CODE_ENV, raising=False)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "auto_map": {}}))
    assert remote_code_allowed(tmp_path) is False


def test_a_folders_own_code_is_part_of_its_fingerprint(tmp_path):
    from flame_judge.loading import fingerprint_of

    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "modeling_x.py").write_text("A = 1\n")
    first = fingerprint_of("m", tmp_path)
    (tmp_path / "modeling_x.py").write_text("A = 2\n")
    assert fingerprint_of("m", tmp_path) != first
