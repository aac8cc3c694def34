"""docs/accelerate_fsdp.yaml, exercised on this CPU: accelerate reads it as an FSDP config whose
layer class is the models' decoder layer, and sharding a tiny model as it says (torch FSDP2 over
gloo, two processes) leaves the fused loss and its gradients equal to one unsharded process's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
CONFIG = ROOT / "docs" / "accelerate_fsdp.yaml"


def test_the_fsdp_config_reads_as_fsdp2_wrapping_the_decoder_layers(tiny_model: Path):
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType
    from transformers import AutoConfig, AutoModelForCausalLM

    config = load_config_from_file(str(CONFIG))
    assert config.distributed_type == DistributedType.FSDP
    fsdp = getattr(config, "fsdp_config", None) or {}
    assert fsdp["fsdp_version"] == 2
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert fsdp["fsdp_state_dict_type"] == "FULL_STATE_DICT"  # save() gathers whole weights for a judge
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(tiny_model)))
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"] in {type(m).__name__ for m in model.modules()}
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"] in model._no_split_modules


@pytest.mark.slow
def test_the_fused_loss_under_fsdp_sharding_matches_one_process(tiny_model: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torchrun = Path(sys.executable).parent / "torchrun"
    script = ROOT / "tools" / "fsdp_cpu_check.py"
    command = [str(torchrun), "--nproc_per_node=2", f"--master_port={port}", str(script)]
    command += ["--model", str(tiny_model), "--config", str(CONFIG)]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "terminate called" not in done.stderr  # no process aborted at teardown
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    assert report["sharded_layers"] == 2
    assert report["dtensor_parameters"] == report["parameters"]  # every weight is sharded
    assert report["loss"] == pytest.approx(report["loss_one_process"], abs=1e-5)
    assert report["max_grad_diff"] < 1e-5
