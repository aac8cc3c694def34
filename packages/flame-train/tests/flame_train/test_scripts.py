"""The reproduction scripts under tools/ call flame with arguments its commands accept.

Each script runs with FLAME set to a stand-in that only parses its arguments with the real `flame`
parser and records them, so a renamed or misspelt option fails here instead of an hour into a run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
PARSE_ONLY = """
import json, sys
from flame_data.cli import build_parser
build_parser().parse_args(sys.argv[1:])  # argparse exits 2 on an unknown option or a missing value
with open({log!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
"""


def _calls(script: str, tmp_path: Path, *args: str) -> list[list[str]]:
    log = tmp_path / "calls.jsonl"
    stand_in = tmp_path / "parse_only.py"
    stand_in.write_text(PARSE_ONLY.format(log=str(log)))
    mix = tmp_path / "mix"
    mix.mkdir()
    (mix / "mixture.json").write_text("{}")  # a built mixture: the script skips `flame data build`
    env = {**os.environ, "FLAME": f"{sys.executable} {stand_in}", "MIX": str(mix), "OUT": str(tmp_path / "out")}
    command = ["bash", str(ROOT / "tools" / script), *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_fit_default_heads_calls_only_commands_flame_accepts(tmp_path: Path):
    calls = _calls("fit_default_heads.sh", tmp_path, "JUDGE", str(tmp_path / "out"))
    steps = [" ".join(c[:2]) for c in calls]
    assert steps.count("rater features") == 7
    assert steps.count("reward features") == 3
    assert steps.count("rater fit") == 3
    last = calls[-1]  # the judge to ship: rater head 4's pointwise fit, keeping the classification head
    assert last[:2] == ["rater", "fit"]
    assert {"--reward-prior", "--task-offsets", "--keep-others"} <= set(last)
    assert last[last.index("--out") + 1] == str(tmp_path / "out" / "judge")


@pytest.mark.parametrize("script", ["train_default_judge.sh", "train_reward_model.sh"])
def test_training_scripts_call_only_commands_flame_accepts(script: str, tmp_path: Path):
    assert _calls(script, tmp_path)


def test_the_gpu_reward_model_run_sets_only_options_the_trainer_has():
    """tools/gpu/reward_model.sh runs on a lent GPU, where a misspelt option costs the lease: every
    `--set KEY=` it passes is a RewardModelConfig field, and it exports the compact fp16 adapter."""
    import re

    from flame_train.reward_model import RewardModelConfig

    text = (ROOT / "tools" / "gpu" / "reward_model.sh").read_text()
    keys = set(re.findall(r"--set (\w+)=", text))
    assert {"device", "top_layers", "cache_lower", "encode_workers", "max_steps", "per_task"} <= keys
    assert keys <= set(RewardModelConfig.names())
    assert "--adapter --dtype float16" in text
    for n in (1, 2):
        assert f".gpu/{n}" in (ROOT / "tools" / "gpu" / "README.md").read_text()


def _tool(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "gpu" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_base_files_align_a_base_converted_by_another_transformers(tmp_path: Path):
    """The device's transformers writes its own version into config.json: same weights, other digest.
    align puts this machine's small files back; other weights are refused, nothing replaced."""
    tool = _tool("base_files")
    here, there, packed = tmp_path / "here", tmp_path / "there", tmp_path / "packed"
    for folder, version in ((here, "5.8.0"), (there, "5.17.0")):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"weights")
        (folder / "config.json").write_text(json.dumps({"transformers_version": version}))
        (folder / "tokenizer.json").write_text("{}")
    record = tool.pack(here, packed, hidden_states="abc")
    assert set(record["files"]) == {"config.json", "tokenizer.json"}
    (there / "special_tokens_map.json").write_text("{}")  # written there, not here
    assert tool.align(there, packed) == ["-special_tokens_map.json", "config.json"]
    assert not (there / "special_tokens_map.json").exists()
    assert (there / "config.json").read_bytes() == (here / "config.json").read_bytes()
    assert tool.align(there, packed) == []
    (there / "model.safetensors").write_bytes(b"other weights")
    (there / "config.json").write_text("changed")
    with pytest.raises(SystemExit, match="differ"):
        tool.align(there, packed)
    assert (there / "config.json").read_text() == "changed"
