"""`flame train` in two processes on this CPU (torchrun -> accelerate MULTI_CPU over gloo, DDP), the
fused loss on: the same global batch and seed give one process's losses, LR schedule and verdicts."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flame_train.config import TrainConfig
from flame_train.trainer import Trainer

pytestmark = pytest.mark.slow

# Both runs sum float32 losses in another order (two halves, then all-reduce); at these sizes that
# moves the fourth significant digit at most.
LOSS_TOLERANCE = 1e-4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(n: int, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "torchrun"), f"--nproc_per_node={n}", f"--master_port={free_port()}", *args]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=300, check=False)


def metrics(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_two_processes_match_one(tiny_model: Path, tiny_mixture: Path, tmp_path: Path):
    from flame_judge import Judge

    options: dict[str, Any] = dict(
        mixture=str(tiny_mixture),
        base_model=str(tiny_model),
        max_steps=3,
        batch_size=4,
        max_length=256,
        lr=5e-3,
        warmup_steps=1,
        eval_every=0,
        save_every=0,
        eval_examples_per_task=1,
        log_every=1,
        fused_loss=True,
    )
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({**options, "output_dir": str(tmp_path / "two")}))
    done = torchrun(2, str(Path(sys.executable).parent / "flame"), "train", "--config", str(tmp_path / "run.yaml"))
    assert done.returncode == 0, done.stderr[:6000]
    assert done.stdout.count('"steps": 3') == 1  # one summary, from the main process
    one = Trainer(TrainConfig(**options, output_dir=str(tmp_path / "one")), log=lambda s: None).train()

    two = metrics(tmp_path / "two")
    diff = max(abs(float(r["loss"]) - loss) for r, loss in zip(two, one["losses"], strict=True))
    print(f"max |loss(2 processes) - loss(1 process)| over {len(two)} steps: {diff:.2e}")
    assert diff < LOSS_TOLERANCE
    assert [r["lr"] for r in two] == [r["lr"] for r in metrics(tmp_path / "one")]  # one schedule step per step
    assert [int(r["tokens"]) for r in two] == [int(r["tokens"]) for r in metrics(tmp_path / "one")]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["config.yaml", "final", "metrics.csv"]
    assert len(json.loads((tmp_path / "two" / "final" / "rng.json").read_text())["ranks"]) == 2

    verdicts = []
    for run in ("one", "two"):
        judge = Judge.load(tmp_path / run / "final", cache=False)
        verdicts.append(
            [judge.pairwise("What is 2 + 2?", "4", "5").prob_a, judge.pairwise("Say hi.", "Hi!", "Bye.").prob_a]
        )
    assert verdicts[1] == pytest.approx(verdicts[0], abs=1e-4)
