"""Training state is read without running code: a crafted optimizer.pt is refused unread, and RNG
states round-trip through JSON."""

from __future__ import annotations

import json
import random

import pytest
import torch

from flame_train.errors import CheckpointError
from flame_train.state import RNG, load_rng, load_training_state, rng_state, save_training_state


class Payload:
    """What a malicious checkpoint pickles: unpickling it calls open(marker, "w")."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_payload_in_the_optimizer_state_is_refused_unrun(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"optimizer": Payload(str(marker)), "scheduler": {}}, tmp_path / "optimizer.pt")
    with pytest.raises(CheckpointError, match=r"optimizer\.pt holds objects other than tensors.*refusing to unpickle"):
        load_training_state(tmp_path)
    assert not marker.exists()


def test_optimizer_state_and_rng_round_trip(tmp_path):
    param = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.AdamW([param], lr=0.1)
    param.grad = torch.full((3,), 0.5)
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (step + 1))
    save_training_state(tmp_path, optimizer, scheduler)
    state = load_training_state(tmp_path)
    assert torch.equal(state["optimizer"]["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])

    (tmp_path / RNG).write_text(json.dumps({"ranks": [json.loads(rng_state())]}))
    expected = (random.random(), torch.rand(2))
    assert load_rng(tmp_path, 0, 1) is None
    again = (random.random(), torch.rand(2))
    assert again[0] == expected[0]
    assert torch.equal(again[1], expected[1])
    assert "saved by 1 processes, this run has 2" in (load_rng(tmp_path, 0, 2) or "")
